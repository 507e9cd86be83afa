//! `/api/v1/council/*`: the Council of Minds — deliberations, outcomes, personas.

use crate::error::AppError;
use crate::models::council::{
    DeliberateRequest, DeliberationInfo, DeliberationRequest, DeliberationSummary,
    DeliberationsQuery, OutcomeRequest, PersonaInfo, SavePersonaRequest,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Asks the council a question; returns the finished deliberation.
#[server(prefix = "/api/v1", endpoint = "council/deliberate", input = Json, output = Json)]
pub async fn deliberate(
    #[server(flatten)] request: DeliberateRequest,
) -> Result<DeliberationInfo, AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::deliberate(&state, &caller, request).await?)
}

/// One deliberation with its evidence, turns and consensus.
#[server(prefix = "/api/v1", endpoint = "council/get", input = Json, output = Json)]
pub async fn get_deliberation(
    #[server(flatten)] request: DeliberationRequest,
) -> Result<DeliberationInfo, AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::get(&state, &caller, request.id).await?)
}

/// Deliberations, newest first (by project, by text in the question).
#[server(prefix = "/api/v1", endpoint = "council/list", input = Json, output = Json)]
pub async fn list_deliberations(
    #[server(flatten)] query: DeliberationsQuery,
) -> Result<Vec<DeliberationSummary>, AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::list(&state, &caller, query).await?)
}

/// Records which option turned out right.
#[server(prefix = "/api/v1", endpoint = "council/outcome", input = Json, output = Json)]
pub async fn record_outcome(
    #[server(flatten)] request: OutcomeRequest,
) -> Result<DeliberationInfo, AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::record_outcome(&state, &caller, request).await?)
}

/// Every persona with its track record.
#[server(prefix = "/api/v1", endpoint = "council/personas", input = Json, output = Json)]
pub async fn list_personas() -> Result<Vec<PersonaInfo>, AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::list_personas(&state, &caller).await?)
}

/// Changes a persona, or adds one (admins).
#[server(prefix = "/api/v1", endpoint = "council/save_persona", input = Json, output = Json)]
pub async fn save_persona(
    #[server(flatten)] request: SavePersonaRequest,
) -> Result<Vec<PersonaInfo>, AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::save_persona(&state, &caller, request).await?)
}

/// A knowledge-graph neighbourhood around a project or a decision.
#[server(prefix = "/api/v1", endpoint = "council/graph", input = Json, output = Json)]
pub async fn council_graph(
    #[server(flatten)] request: crate::models::council::GraphRequest,
) -> Result<crate::models::council::GraphView, AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::graph_view(&state, &caller, request).await?)
}

/// Memories: searched (ranked) or newest first.
#[server(prefix = "/api/v1", endpoint = "council/memories", input = Json, output = Json)]
pub async fn list_memories(
    #[server(flatten)] query: crate::models::council::MemoriesQuery,
) -> Result<Vec<crate::models::council::MemoryInfo>, AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::memories(&state, &caller, query).await?)
}

/// Edits, pins or unpins a memory.
#[server(prefix = "/api/v1", endpoint = "council/update_memory", input = Json, output = Json)]
pub async fn update_memory(
    #[server(flatten)] request: crate::models::council::UpdateMemoryRequest,
) -> Result<crate::models::council::MemoryInfo, AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::update_memory(&state, &caller, request).await?)
}

/// Forgets a memory (audited).
#[server(prefix = "/api/v1", endpoint = "council/forget_memory", input = Json, output = Json)]
pub async fn forget_memory(
    #[server(flatten)] request: crate::models::council::MemoryRequest,
) -> Result<(), AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::forget_memory(&state, &caller, request.id).await?)
}

/// The shortest path between two projects in the knowledge graph (empty when none within 6 hops).
#[server(prefix = "/api/v1", endpoint = "council/path", input = Json, output = Json)]
pub async fn council_path(
    #[server(flatten)] request: crate::models::council::PathRequest,
) -> Result<Vec<crate::models::council::GraphNode>, AppError> {
    use crate::server::{api_caller, council};
    let (state, _, caller) = api_caller().await?;
    Ok(council::graph_path(&state, &caller, request).await?)
}
