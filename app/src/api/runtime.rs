//! `/api/v1/services/*` and `/api/v1/ports/*`: a project's services, their runs, logs and ports.

use crate::models::environments::SpecChange;
// By module: `runtime_status` and `runtime_logs` are also the names of the types their server
// functions generate.
use crate::models::runtime as runtime_model;
use crate::models::runtime::{
    CreateServiceRequest, HostMetricsQuery, HostSample, LogLine, LogQuery, MetricsQuery, PortEntry,
    ProjectRuntimeSummary, ProjectServicesRequest, ResourceSample, RunInfo, RunsQuery,
    RuntimeLogsRequest, RuntimeRequest, RuntimeStatusRequest, RuntimeSummaryQuery, ServiceInfo,
    ServiceRequest, UpdateServiceRequest,
};

endpoint! {
    /// A project's services with state, port and latest run
    "services/list", requires ReadRuntime, |state, caller|
    pub async fn list_services(request: ProjectServicesRequest) -> Vec<ServiceInfo> {
        use crate::server::runtime;
        Ok(runtime::list(&state, &caller, request.project_id).await?)
    }
}

endpoint! {
    /// One service
    "services/get", requires ReadRuntime, |state, caller|
    pub async fn get_service(request: ServiceRequest) -> ServiceInfo {
        use crate::server::runtime;
        Ok(runtime::get(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Add a service to a project
    "services/create", requires EditServices, |state, caller|
    pub async fn create_service(request: CreateServiceRequest) -> ServiceInfo {
        use crate::server::runtime;
        Ok(runtime::create(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Replace a service's definition (applies on the next restart)
    ///
    /// Replaces a service's definition (a running process keeps the old one until restarted).
    "services/update", requires EditServices, |state, caller|
    pub async fn update_service(request: UpdateServiceRequest) -> ServiceInfo {
        use crate::server::runtime;
        Ok(runtime::update(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Remove a stopped service
    "services/delete", requires EditServices, |state, caller|
    pub async fn delete_service(request: ServiceRequest) -> () {
        use crate::server::runtime;
        Ok(runtime::delete(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Add the services detection proposes that the project lacks
    ///
    /// Adds the services detection proposes (descriptor, Procfile or run command) that are missing.
    "services/import_detected", requires EditServices, |state, caller|
    pub async fn import_detected_services(request: ProjectServicesRequest) -> Vec<ServiceInfo> {
        use crate::server::runtime;
        Ok(runtime::import_detected(&state, &caller, request.project_id).await?)
    }
}

endpoint! {
    /// Start a service after its dependencies are ready (409 if running or its port is taken)
    "services/start", requires ControlServices, |state, caller|
    pub async fn start_service(request: ServiceRequest) -> ServiceInfo {
        use crate::server::runtime;
        Ok(runtime::start(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Stop a service's whole process tree
    ///
    /// Stops a service's whole process tree (SIGTERM, then SIGKILL after the grace period).
    "services/stop", requires ControlServices, |state, caller|
    pub async fn stop_service(request: ServiceRequest) -> ServiceInfo {
        use crate::server::runtime;
        Ok(runtime::stop(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Stop and start a service
    ///
    /// Stops and starts a service, applying a changed definition.
    "services/restart", requires ControlServices, |state, caller|
    pub async fn restart_service(request: ServiceRequest) -> ServiceInfo {
        use crate::server::runtime;
        Ok(runtime::restart(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Start every service of a project in dependency order
    "services/start_project", requires ControlServices, |state, caller|
    pub async fn start_project_services(request: ProjectServicesRequest) -> Vec<ServiceInfo> {
        use crate::server::runtime;
        Ok(runtime::start_project(&state, &caller, request.project_id).await?)
    }
}

endpoint! {
    /// Stop every service of a project, dependents first
    "services/stop_project", requires ControlServices, |state, caller|
    pub async fn stop_project_services(request: ProjectServicesRequest) -> Vec<ServiceInfo> {
        use crate::server::runtime;
        Ok(runtime::stop_project(&state, &caller, request.project_id).await?)
    }
}

endpoint! {
    /// Restart every service of a project
    "services/restart_project", requires ControlServices, |state, caller|
    pub async fn restart_project_services(request: ProjectServicesRequest) -> Vec<ServiceInfo> {
        use crate::server::runtime;
        Ok(runtime::restart_project(&state, &caller, request.project_id).await?)
    }
}

endpoint! {
    /// A service's runs, newest first
    ///
    /// A service's runs, newest first: pid, port, start, ready, end, exit status or signal, reason.
    "services/runs", requires ReadRuntime, |state, caller|
    pub async fn service_runs(request: RunsQuery) -> Vec<RunInfo> {
        use crate::server::runtime;
        Ok(runtime::runs(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Log history of services, merged by time and filtered
    ///
    /// Log history of one or more services, merged by time (newest last), filtered by stream and
    /// text or regex.
    "services/logs", requires ReadRuntime, |state, caller|
    pub async fn service_logs(request: LogQuery) -> Vec<LogLine> {
        use crate::server::runtime;
        Ok(runtime::log_history(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Every port held by a service
    ///
    /// Every port held by a service (fixed or allocated) and whether it is in use.
    "ports/list", requires ReadRuntime, |state, caller|
    pub async fn list_ports() -> Vec<PortEntry> {
        use crate::server::runtime;
        Ok(runtime::port_registry(&state, &caller).await?)
    }
}

endpoint! {
    /// What a restart would change for a running service (secret values masked)
    "services/pending_changes", requires ReadRuntime, |state, caller|
    pub async fn pending_service_changes(request: ServiceRequest) -> Vec<SpecChange> {
        use crate::server::runtime;
        Ok(runtime::pending_changes(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Resource history of services over a range
    ///
    /// Resource history of services (CPU, memory, threads, open files, disk I/O) over a range.
    "metrics/services", requires ReadRuntime, |state, caller|
    pub async fn service_metrics(request: MetricsQuery) -> Vec<ResourceSample> {
        use crate::server::runtime;
        Ok(runtime::service_metrics(&state, &caller, request).await?)
    }
}

endpoint! {
    /// The host's resource history over a range
    ///
    /// The host's history (CPU, memory, load, network) over a range.
    "metrics/host", requires ReadRuntime, |state, caller|
    pub async fn host_metrics(request: HostMetricsQuery) -> Vec<HostSample> {
        use crate::server::runtime;
        Ok(runtime::host_metrics(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Start a project's services, or one by name
    ///
    /// Starts a project's services, or one by name (`{"project_id", "service"?}`).
    "runtime/start", requires ControlServices, |state, caller|
    pub async fn runtime_start(request: RuntimeRequest) -> runtime_model::RuntimeStatus {
        use crate::server::runtime;
        Ok(runtime::contract_start(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Stop a project's services, or one by name
    "runtime/stop", requires ControlServices, |state, caller|
    pub async fn runtime_stop(request: RuntimeRequest) -> runtime_model::RuntimeStatus {
        use crate::server::runtime;
        Ok(runtime::contract_stop(&state, &caller, request).await?)
    }
}

endpoint! {
    /// A project's services: name, state, pid, port, restarts
    "runtime/status", requires ReadRuntime, |state, caller|
    pub async fn runtime_status(request: RuntimeStatusRequest) -> runtime_model::RuntimeStatus {
        use crate::server::runtime;
        Ok(runtime::contract_status(&state, &caller, request.project_id).await?)
    }
}

endpoint! {
    /// The newest lines of one service
    ///
    /// The newest lines of one service (`{"project_id", "service", "tail"?}`).
    "runtime/logs", requires ReadRuntime, |state, caller|
    pub async fn runtime_logs(request: RuntimeLogsRequest) -> runtime_model::RuntimeLogs {
        use crate::server::runtime;
        Ok(runtime::contract_logs(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Service counts per project: defined, running, crash-looping
    ///
    /// Per-project service counts (`{"project_ids"?}`: at most 1000 projects, absent for all);
    /// projects without services are left out.
    "services/summary", requires ReadRuntime, |state, caller|
    pub async fn project_runtime_summaries(
        request: RuntimeSummaryQuery,
    ) -> Vec<ProjectRuntimeSummary> {
        use crate::server::runtime;
        Ok(runtime::project_summaries(&state, &caller, request).await?)
    }
}
