//! `/api/v1/council/*`: the Council of Minds — deliberations, outcomes, personas.

use crate::models::council::{
    CalibrationInfo, DeliberateRequest, DeliberationInfo, DeliberationRequest, DeliberationSummary,
    DeliberationsQuery, GraphNode, GraphRequest, GraphView, MemoriesQuery, MemoryInfo,
    MemoryRequest, OutcomeRequest, PathRequest, PersonaInfo, SavePersonaRequest,
    UpdateMemoryRequest,
};

endpoint! {
    /// Ask the council: evidence, each persona's position, the consensus
    ///
    /// Asks the council a question; returns the finished deliberation.
    "council/deliberate", requires Deliberate, |state, caller|
    pub async fn deliberate(request: DeliberateRequest) -> DeliberationInfo {
        use crate::server::council;
        Ok(council::deliberate(&state, &caller, request).await?)
    }
}

endpoint! {
    /// One deliberation with evidence, turns and consensus
    "council/get", requires ReadCouncil, |state, caller|
    pub async fn get_deliberation(request: DeliberationRequest) -> DeliberationInfo {
        use crate::server::council;
        Ok(council::get(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Deliberations, newest first
    ///
    /// Deliberations, newest first (by project, by text in the question).
    "council/list", requires ReadCouncil, |state, caller|
    pub async fn list_deliberations(query: DeliberationsQuery) -> Vec<DeliberationSummary> {
        use crate::server::council;
        Ok(council::list(&state, &caller, query).await?)
    }
}

endpoint! {
    /// Record which option turned out right
    "council/outcome", requires Deliberate, |state, caller|
    pub async fn record_outcome(request: OutcomeRequest) -> DeliberationInfo {
        use crate::server::council;
        Ok(council::record_outcome(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Every persona with its track record
    "council/personas", requires ReadCouncil, |state, caller|
    pub async fn list_personas() -> Vec<PersonaInfo> {
        use crate::server::council;
        Ok(council::list_personas(&state, &caller).await?)
    }
}

endpoint! {
    /// The confidence calibration in use
    ///
    /// The weights that map the vote's own confidence to the one reported: those shipped
    /// (fitted on the labelled situations) and those in use (refitted from recorded outcomes).
    "council/calibration", requires ReadCouncil, |state, caller|
    pub async fn calibration() -> CalibrationInfo {
        use crate::server::council;
        Ok(council::calibration(&state, &caller).await?)
    }
}

endpoint! {
    /// Change a persona, or add one
    ///
    /// Changes a persona, or adds one (admins).
    "council/save_persona", requires EditPersonas, |state, caller|
    pub async fn save_persona(request: SavePersonaRequest) -> Vec<PersonaInfo> {
        use crate::server::council;
        Ok(council::save_persona(&state, &caller, request).await?)
    }
}

endpoint! {
    /// A knowledge-graph neighbourhood around a project or decision (now or at a time)
    ///
    /// A knowledge-graph neighbourhood around a project or a decision.
    "council/graph", requires ReadCouncil, |state, caller|
    pub async fn council_graph(request: GraphRequest) -> GraphView {
        use crate::server::council;
        Ok(council::graph_view(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Memories, searched by relevance, importance and recency, or newest first
    ///
    /// Memories: searched (ranked) or newest first.
    "council/memories", requires ReadCouncil, |state, caller|
    pub async fn list_memories(query: MemoriesQuery) -> Vec<MemoryInfo> {
        use crate::server::council;
        Ok(council::memories(&state, &caller, query).await?)
    }
}

endpoint! {
    /// Edit, pin or unpin a memory
    "council/update_memory", requires ManageMemories, |state, caller|
    pub async fn update_memory(request: UpdateMemoryRequest) -> MemoryInfo {
        use crate::server::council;
        Ok(council::update_memory(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Forget a memory (audited)
    "council/forget_memory", requires ManageMemories, |state, caller|
    pub async fn forget_memory(request: MemoryRequest) -> () {
        use crate::server::council;
        Ok(council::forget_memory(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// The shortest path between two projects in the knowledge graph
    ///
    /// The shortest path between two projects in the knowledge graph (empty when none within 6
    /// hops).
    "council/path", requires ReadCouncil, |state, caller|
    pub async fn council_path(request: PathRequest) -> Vec<GraphNode> {
        use crate::server::council;
        Ok(council::graph_path(&state, &caller, request).await?)
    }
}
