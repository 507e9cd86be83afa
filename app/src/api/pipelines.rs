//! `/api/v1/pipelines/*`: a project's pipelines.

use crate::models::pipelines::{
    CreatePipelineRequest, DecideRequest, PauseScheduleRequest, PipelineInfo, PipelineRequest,
    PipelineRunInfo, ProjectPipelinesRequest, RerunRequest, RunPipelineRequest, RunRequest,
    RunsRequest, ScheduleInfo, SchedulesRequest, StepLog, StepLogRequest, UpdatePipelineRequest,
    WebhookInfo, WebhookRequest,
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

endpoint! {
    /// Start a run
    ///
    /// Queues a run of the pipeline's current definition with `params` (defaults fill the rest;
    /// a wrong value names `params.<name>`). Under concurrency `skip`, a run in progress answers
    /// 409; under `cancel`, it is cancelled first.
    "pipelines/run", requires RunPipelines, |state, caller|
    pub async fn run_pipeline(request: RunPipelineRequest) -> PipelineRunInfo {
        use crate::server::pipelines::running;
        Ok(running::start(&state, &caller, request).await?)
    }
}

endpoint! {
    /// One run with its steps
    "pipelines/get_run", requires ReadPipelines, |state, caller|
    pub async fn get_run(request: RunRequest) -> PipelineRunInfo {
        use crate::server::pipelines::running;
        Ok(running::get(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Runs, newest first
    ///
    /// Of one pipeline (`pipeline_id`), one project (`project_id`), or of every project.
    "pipelines/runs", requires ReadPipelines, |state, caller|
    pub async fn list_runs(request: RunsRequest) -> Vec<PipelineRunInfo> {
        use crate::server::pipelines::running;
        Ok(running::list(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Cancel a run
    ///
    /// Stops the whole process tree of every running step; steps not started are cancelled.
    "pipelines/cancel", requires RunPipelines, |state, caller|
    pub async fn cancel_run(request: RunRequest) -> PipelineRunInfo {
        use crate::server::pipelines::running;
        Ok(running::cancel(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Run a finished run again
    ///
    /// Same definition and parameters; with `from_failed`, the steps that succeeded (and all
    /// they depend on) are kept and the rest run again.
    "pipelines/rerun", requires RunPipelines, |state, caller|
    pub async fn rerun(request: RerunRequest) -> PipelineRunInfo {
        use crate::server::pipelines::running;
        Ok(running::rerun(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Approve or reject a gate
    ///
    /// The gate's `min_role` applies, and with `not_triggerer` the person who started the run
    /// may not decide (403). Who decided, when, and the comment are kept.
    "pipelines/decide", requires DecideGates, |state, caller|
    pub async fn decide_gate(request: DecideRequest) -> PipelineRunInfo {
        use crate::server::pipelines::running;
        Ok(running::decide(&state, &caller, request).await?)
    }
}

endpoint! {
    /// A step's output
    ///
    /// Every kept line of the step's latest attempt (or `attempt`), or its last `tail` lines,
    /// with secrets of the project's environment masked.
    "pipelines/step_log", requires ReadPipelines, |state, caller|
    pub async fn read_step_log(request: StepLogRequest) -> StepLog {
        use crate::server::pipelines::running;
        Ok(running::step_log(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Every schedule with its next fire times
    "pipelines/schedules", requires ReadPipelines, |state, caller|
    pub async fn list_schedules(request: SchedulesRequest) -> Vec<ScheduleInfo> {
        use crate::server::pipelines::triggers;
        Ok(triggers::list(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Pause or resume a schedule
    ///
    /// Either way the schedule's window starts now: fire times while it was paused are not
    /// started as missed runs.
    "pipelines/pause_schedule", requires RunPipelines, |state, caller|
    pub async fn pause_schedule(request: PauseScheduleRequest) -> ScheduleInfo {
        use crate::server::pipelines::triggers;
        Ok(triggers::pause(&state, &caller, request).await?)
    }
}

endpoint! {
    /// A pipeline's webhook address and secret
    ///
    /// Made on first ask; `rotate` makes a new secret and the old one stops working.
    "pipelines/webhook", requires EditPipelines, |state, caller|
    pub async fn pipeline_webhook(request: WebhookRequest) -> WebhookInfo {
        use crate::server::pipelines::triggers;
        Ok(triggers::webhook(&state, &caller, request.pipeline_id, request.rotate).await?)
    }
}
