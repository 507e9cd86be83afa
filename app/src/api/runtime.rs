//! `/api/v1/services/*` and `/api/v1/ports/*`: a project's services, their runs, logs and ports.

use crate::error::AppError;
use crate::models::runtime::{
    CreateServiceRequest, LogLine, LogQuery, PortEntry, ProjectServicesRequest, RunInfo, RunsQuery,
    ServiceInfo, ServiceRequest, UpdateServiceRequest,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// A project's services with their state, port and latest run.
#[server(prefix = "/api/v1", endpoint = "services/list", input = Json, output = Json)]
pub async fn list_services(
    #[server(flatten)] request: ProjectServicesRequest,
) -> Result<Vec<ServiceInfo>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::list(&state, &caller, request.project_id).await?)
}

/// One service.
#[server(prefix = "/api/v1", endpoint = "services/get", input = Json, output = Json)]
pub async fn get_service(
    #[server(flatten)] request: ServiceRequest,
) -> Result<ServiceInfo, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::get(&state, &caller, request.id).await?)
}

/// Adds a service to a project.
#[server(prefix = "/api/v1", endpoint = "services/create", input = Json, output = Json)]
pub async fn create_service(
    #[server(flatten)] request: CreateServiceRequest,
) -> Result<ServiceInfo, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::create(&state, &caller, request).await?)
}

/// Replaces a service's definition (a running process keeps the old one until restarted).
#[server(prefix = "/api/v1", endpoint = "services/update", input = Json, output = Json)]
pub async fn update_service(
    #[server(flatten)] request: UpdateServiceRequest,
) -> Result<ServiceInfo, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::update(&state, &caller, request).await?)
}

/// Removes a stopped service.
#[server(prefix = "/api/v1", endpoint = "services/delete", input = Json, output = Json)]
pub async fn delete_service(#[server(flatten)] request: ServiceRequest) -> Result<(), AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::delete(&state, &caller, request.id).await?)
}

/// Adds the services detection proposes (descriptor, Procfile or run command) that are missing.
#[server(prefix = "/api/v1", endpoint = "services/import_detected", input = Json, output = Json)]
pub async fn import_detected_services(
    #[server(flatten)] request: ProjectServicesRequest,
) -> Result<Vec<ServiceInfo>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::import_detected(&state, &caller, request.project_id).await?)
}

/// Starts a service once its dependencies are ready (409 if running or its port is taken).
#[server(prefix = "/api/v1", endpoint = "services/start", input = Json, output = Json)]
pub async fn start_service(
    #[server(flatten)] request: ServiceRequest,
) -> Result<ServiceInfo, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::start(&state, &caller, request.id).await?)
}

/// Stops a service's whole process tree (SIGTERM, then SIGKILL after the grace period).
#[server(prefix = "/api/v1", endpoint = "services/stop", input = Json, output = Json)]
pub async fn stop_service(
    #[server(flatten)] request: ServiceRequest,
) -> Result<ServiceInfo, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::stop(&state, &caller, request.id).await?)
}

/// Stops and starts a service, applying a changed definition.
#[server(prefix = "/api/v1", endpoint = "services/restart", input = Json, output = Json)]
pub async fn restart_service(
    #[server(flatten)] request: ServiceRequest,
) -> Result<ServiceInfo, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::restart(&state, &caller, request.id).await?)
}

/// Starts every service of a project in dependency order.
#[server(prefix = "/api/v1", endpoint = "services/start_project", input = Json, output = Json)]
pub async fn start_project_services(
    #[server(flatten)] request: ProjectServicesRequest,
) -> Result<Vec<ServiceInfo>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::start_project(&state, &caller, request.project_id).await?)
}

/// Stops every service of a project, dependents first.
#[server(prefix = "/api/v1", endpoint = "services/stop_project", input = Json, output = Json)]
pub async fn stop_project_services(
    #[server(flatten)] request: ProjectServicesRequest,
) -> Result<Vec<ServiceInfo>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::stop_project(&state, &caller, request.project_id).await?)
}

/// Restarts every service of a project.
#[server(prefix = "/api/v1", endpoint = "services/restart_project", input = Json, output = Json)]
pub async fn restart_project_services(
    #[server(flatten)] request: ProjectServicesRequest,
) -> Result<Vec<ServiceInfo>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::restart_project(&state, &caller, request.project_id).await?)
}

/// A service's runs, newest first: pid, port, start, ready, end, exit status or signal, reason.
#[server(prefix = "/api/v1", endpoint = "services/runs", input = Json, output = Json)]
pub async fn service_runs(#[server(flatten)] request: RunsQuery) -> Result<Vec<RunInfo>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::runs(&state, &caller, request).await?)
}

/// Log history of one or more services, merged by time (newest last), filtered by stream and
/// text or regex.
#[server(prefix = "/api/v1", endpoint = "services/logs", input = Json, output = Json)]
pub async fn service_logs(#[server(flatten)] request: LogQuery) -> Result<Vec<LogLine>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::log_history(&state, &caller, request).await?)
}

/// Every port held by a service (fixed or allocated) and whether it is in use.
#[server(prefix = "/api/v1", endpoint = "ports/list", input = Json, output = Json)]
pub async fn list_ports() -> Result<Vec<PortEntry>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::port_registry(&state, &caller).await?)
}

/// What a restart would change for a running service (secret values masked).
#[server(prefix = "/api/v1", endpoint = "services/pending_changes", input = Json, output = Json)]
pub async fn pending_service_changes(
    #[server(flatten)] request: ServiceRequest,
) -> Result<Vec<crate::models::environments::SpecChange>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::pending_changes(&state, &caller, request.id).await?)
}

/// Resource history of services (CPU, memory, threads, open files, disk I/O) over a range.
#[server(prefix = "/api/v1", endpoint = "metrics/services", input = Json, output = Json)]
pub async fn service_metrics(
    #[server(flatten)] request: crate::models::runtime::MetricsQuery,
) -> Result<Vec<crate::models::runtime::ResourceSample>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::service_metrics(&state, &caller, request).await?)
}

/// The host's history (CPU, memory, load, network) over a range.
#[server(prefix = "/api/v1", endpoint = "metrics/host", input = Json, output = Json)]
pub async fn host_metrics(
    #[server(flatten)] request: crate::models::runtime::HostMetricsQuery,
) -> Result<Vec<crate::models::runtime::HostSample>, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::host_metrics(&state, &caller, request).await?)
}

/// Starts a project's services, or one by name (`{"project_id", "service"?}`).
#[server(prefix = "/api/v1", endpoint = "runtime/start", input = Json, output = Json)]
pub async fn runtime_start(
    #[server(flatten)] request: crate::models::runtime::RuntimeRequest,
) -> Result<crate::models::runtime::RuntimeStatus, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::contract_start(&state, &caller, request).await?)
}

/// Stops a project's services, or one by name.
#[server(prefix = "/api/v1", endpoint = "runtime/stop", input = Json, output = Json)]
pub async fn runtime_stop(
    #[server(flatten)] request: crate::models::runtime::RuntimeRequest,
) -> Result<crate::models::runtime::RuntimeStatus, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::contract_stop(&state, &caller, request).await?)
}

/// A project's services: name, state, pid, port, restarts.
#[server(prefix = "/api/v1", endpoint = "runtime/status", input = Json, output = Json)]
pub async fn runtime_status(
    #[server(flatten)] request: crate::models::runtime::RuntimeStatusRequest,
) -> Result<crate::models::runtime::RuntimeStatus, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::contract_status(&state, &caller, request.project_id).await?)
}

/// The newest lines of one service (`{"project_id", "service", "tail"?}`).
#[server(prefix = "/api/v1", endpoint = "runtime/logs", input = Json, output = Json)]
pub async fn runtime_logs(
    #[server(flatten)] request: crate::models::runtime::RuntimeLogsRequest,
) -> Result<crate::models::runtime::RuntimeLogs, AppError> {
    use crate::server::{api_caller, runtime};
    let (state, _, caller) = api_caller().await?;
    Ok(runtime::contract_logs(&state, &caller, request).await?)
}
