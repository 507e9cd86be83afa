//! What the pipelines API takes and answers.

use super::PipelineDefinition;
use serde::{Deserialize, Serialize};

/// A pipeline with where its definition came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PipelineInfo {
    /// Pipeline id.
    pub id: i64,
    /// Its name (the definition's).
    pub name: String,
    /// The project.
    pub project_id: i64,
    /// `descriptor` (from the project's `optimus.toml`, kept in step with it) or `user` (made
    /// or edited in Optimus; the file no longer changes it).
    pub origin: String,
    /// Its definition.
    pub definition: PipelineDefinition,
}

/// Asks for a project's pipelines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectPipelinesRequest {
    /// The project.
    pub project_id: i64,
}

/// Adds a pipeline to a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatePipelineRequest {
    /// The project.
    pub project_id: i64,
    /// The pipeline (another of that name in the project: 409).
    pub definition: PipelineDefinition,
}

/// Replaces a pipeline's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdatePipelineRequest {
    /// The pipeline.
    pub id: i64,
    /// Its new definition (renaming onto another pipeline's name: 409).
    pub definition: PipelineDefinition,
}

/// Acts on one pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PipelineRequest {
    /// The pipeline.
    pub id: i64,
}
