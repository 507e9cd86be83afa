//! `/api/v1/pipelines/*`: a project's pipelines.

use crate::models::pipelines::{
    CreatePipelineRequest, PipelineInfo, PipelineRequest, ProjectPipelinesRequest,
    UpdatePipelineRequest,
};

endpoint! {
    /// A project's pipelines (those its optimus.toml declares included)
    "pipelines/list", requires ReadPipelines, |state, caller|
    pub async fn list_pipelines(request: ProjectPipelinesRequest) -> Vec<PipelineInfo> {
        use crate::server::pipelines;
        Ok(pipelines::list(&state, &caller, request.project_id).await?)
    }
}

endpoint! {
    /// One pipeline
    "pipelines/get", requires ReadPipelines, |state, caller|
    pub async fn get_pipeline(request: PipelineRequest) -> PipelineInfo {
        use crate::server::pipelines;
        Ok(pipelines::get(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Add a pipeline to a project
    ///
    /// Adds a pipeline. Fields that break a rule are named (`steps[1].depends_on`); a cycle
    /// names the steps in it. Nothing is saved when the answer is not 200.
    "pipelines/create", requires EditPipelines, |state, caller|
    pub async fn create_pipeline(request: CreatePipelineRequest) -> PipelineInfo {
        use crate::server::pipelines;
        Ok(pipelines::create(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Replace a pipeline's definition
    ///
    /// Replaces a pipeline's definition; a pipeline from optimus.toml is no longer changed by
    /// the file afterwards.
    "pipelines/update", requires EditPipelines, |state, caller|
    pub async fn update_pipeline(request: UpdatePipelineRequest) -> PipelineInfo {
        use crate::server::pipelines;
        Ok(pipelines::update(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Remove a pipeline
    "pipelines/delete", requires EditPipelines, |state, caller|
    pub async fn delete_pipeline(request: PipelineRequest) -> () {
        use crate::server::pipelines;
        Ok(pipelines::delete(&state, &caller, request.id).await?)
    }
}
