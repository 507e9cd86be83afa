//! The OpenAPI 3 document of every server function, generated from the same request and response
//! types the functions use and the same authorisation table the services check. The API guard
//! also reads each endpoint's request schema from here to refuse unknown or mistyped fields.

use app::models::access::Operation;
use app::models::audit::{AuditEntry, AuditQuery};
use app::models::auth::{
    ChangePasswordRequest, Credentials, LoginResponse, Me, RefreshRequest, SetupStatus,
};
use app::models::catalog::{
    ActivityEntry, ActivityQuery, AddWorkspaceRequest, CreateProjectRequest, DescriptorWritten,
    ImportReport, ImportRequest, ProjectDependencies, ProjectFacets, ProjectFlagRequest,
    ProjectInfo, ProjectQuery, SetDependenciesRequest, UpdateProjectRequest, WorkspaceInfo,
};
use app::models::council::{
    DeliberateRequest, DeliberationInfo, DeliberationRequest, DeliberationSummary,
    DeliberationsQuery, GraphNode, GraphRequest, GraphView, MemoriesQuery, MemoryInfo,
    MemoryRequest, OutcomeRequest, PathRequest, PersonaInfo, SavePersonaRequest,
    UpdateMemoryRequest,
};
use app::models::environments::{
    CreateEnvironmentRequest, DeleteVarRequest, DotenvExport, DotenvImported, EnvironmentInfo,
    EnvironmentRequest, EnvironmentsRequest, ImportDotenvRequest, SetVarRequest, SpecChange,
};
use app::models::notifications::{MarkReadRequest, NotificationList, NotificationsQuery};
use app::models::page::{Page, PageRequest};
use app::models::runtime::{
    CreateServiceRequest, HostMetricsQuery, HostSample, LogLine, LogQuery, MetricsQuery, PortEntry,
    ProjectServicesRequest, ResourceSample, RunInfo, RunsQuery, RuntimeLogs, RuntimeLogsRequest,
    RuntimeRequest, RuntimeStatus, RuntimeStatusRequest, ServiceInfo, ServiceRequest,
    UpdateServiceRequest,
};
use app::models::tokens::{CreateTokenRequest, CreatedToken, IdRequest, TokenInfo};
use app::models::users::{CreateUserRequest, UpdateRoleRequest, UserInfo};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, ObjectBuilder, OpenApi, OpenApiBuilder,
    PathsBuilder, Ref, RefOr, Required, SecurityRequirement,
};
use utoipa::ToSchema;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// Anyone (setup, login, refresh, status).
    Public,
    /// A caller allowed the operation.
    Op(Operation),
}

/// A body type: its schema name, schema and dependencies.
#[derive(Clone)]
pub struct Body {
    name: String,
    schema: RefOr<Schema>,
    deps: Vec<(String, RefOr<Schema>)>,
}

fn body<T: ToSchema>() -> Option<Body> {
    let mut deps = Vec::new();
    T::schemas(&mut deps);
    Some(Body {
        name: T::name().into_owned(),
        schema: T::schema(),
        deps,
    })
}

/// One server function.
#[derive(Clone)]
pub struct Endpoint {
    /// Path under `/api/v1/`.
    pub path: &'static str,
    /// One-line description.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    request: Option<Body>,
    response: Option<Body>,
}

fn ep(
    path: &'static str,
    summary: &'static str,
    access: Access,
    request: Option<Body>,
    response: Option<Body>,
) -> Endpoint {
    Endpoint {
        path,
        summary,
        access,
        request,
        response,
    }
}

/// Every server function. A test fails if one registered with the server is missing here.
pub fn endpoints() -> Vec<Endpoint> {
    use Access::{Op, Public};
    vec![
        ep(
            "auth/status",
            "Whether first-run setup is still open",
            Public,
            None,
            body::<SetupStatus>(),
        ),
        ep(
            "auth/setup",
            "Create the owner account (only while no user exists; 409 after)",
            Public,
            body::<Credentials>(),
            body::<LoginResponse>(),
        ),
        ep(
            "auth/login",
            "Sign in; returns an access token and sets session cookies",
            Public,
            body::<Credentials>(),
            body::<LoginResponse>(),
        ),
        ep(
            "auth/refresh",
            "Exchange a refresh token for a new pair (single use)",
            Public,
            body::<RefreshRequest>(),
            body::<LoginResponse>(),
        ),
        ep(
            "auth/logout",
            "End the current session",
            Op(Operation::Logout),
            None,
            None,
        ),
        ep(
            "auth/me",
            "The caller's identity, role and scopes",
            Op(Operation::ViewSelf),
            None,
            body::<Me>(),
        ),
        ep(
            "auth/change_password",
            "Change your password (ends all your sessions)",
            Op(Operation::ChangeOwnPassword),
            body::<ChangePasswordRequest>(),
            None,
        ),
        ep(
            "tokens/create",
            "Create an API token (the secret is returned once)",
            Op(Operation::CreateToken),
            body::<CreateTokenRequest>(),
            body::<CreatedToken>(),
        ),
        ep(
            "tokens/list",
            "List your API tokens, newest first",
            Op(Operation::ListTokens),
            body::<PageRequest>(),
            body::<Page<TokenInfo>>(),
        ),
        ep(
            "tokens/revoke",
            "Revoke one of your API tokens",
            Op(Operation::RevokeToken),
            body::<IdRequest>(),
            body::<TokenInfo>(),
        ),
        ep(
            "users/list",
            "List users",
            Op(Operation::ListUsers),
            body::<PageRequest>(),
            body::<Page<UserInfo>>(),
        ),
        ep(
            "users/create",
            "Create a user",
            Op(Operation::CreateUser),
            body::<CreateUserRequest>(),
            body::<UserInfo>(),
        ),
        ep(
            "users/update_role",
            "Change a user's role",
            Op(Operation::ChangeUserRole),
            body::<UpdateRoleRequest>(),
            body::<UserInfo>(),
        ),
        ep(
            "users/delete",
            "Delete a user",
            Op(Operation::DeleteUser),
            body::<IdRequest>(),
            None,
        ),
        ep(
            "audit/list",
            "Read the audit log, newest first",
            Op(Operation::ReadAudit),
            body::<AuditQuery>(),
            body::<Page<AuditEntry>>(),
        ),
        ep(
            "workspaces/add",
            "Add a folder to scan and start its first scan",
            Op(Operation::ManageWorkspaces),
            body::<AddWorkspaceRequest>(),
            body::<WorkspaceInfo>(),
        ),
        ep(
            "workspaces/list",
            "List workspaces with their scan state",
            Op(Operation::ReadCatalog),
            body::<PageRequest>(),
            body::<Page<WorkspaceInfo>>(),
        ),
        ep(
            "workspaces/get",
            "One workspace and its scan state",
            Op(Operation::ReadCatalog),
            body::<IdRequest>(),
            body::<WorkspaceInfo>(),
        ),
        ep(
            "workspaces/scan",
            "Start a rescan (409 while one runs)",
            Op(Operation::ManageWorkspaces),
            body::<IdRequest>(),
            body::<WorkspaceInfo>(),
        ),
        ep(
            "workspaces/remove",
            "Remove a workspace from the catalog (files are never touched)",
            Op(Operation::ManageWorkspaces),
            body::<IdRequest>(),
            None,
        ),
        ep(
            "projects/list",
            "List projects by name, filtered by search, stack and workspace",
            Op(Operation::ReadCatalog),
            body::<ProjectQuery>(),
            body::<Page<ProjectInfo>>(),
        ),
        ep(
            "projects/get",
            "One project with its detected facts",
            Op(Operation::ReadCatalog),
            body::<IdRequest>(),
            body::<ProjectInfo>(),
        ),
        ep(
            "projects/update",
            "Edit name, description, tags, owner, lifecycle, command overrides",
            Op(Operation::EditProjects),
            body::<UpdateProjectRequest>(),
            body::<ProjectInfo>(),
        ),
        ep(
            "projects/favorite",
            "Mark or unmark a favorite",
            Op(Operation::EditProjects),
            body::<ProjectFlagRequest>(),
            body::<ProjectInfo>(),
        ),
        ep(
            "projects/archive",
            "Archive or unarchive a project",
            Op(Operation::EditProjects),
            body::<ProjectFlagRequest>(),
            body::<ProjectInfo>(),
        ),
        ep(
            "projects/delete",
            "Remove a catalog entry (files are never touched)",
            Op(Operation::EditProjects),
            body::<IdRequest>(),
            None,
        ),
        ep(
            "projects/create",
            "Add one folder as a project",
            Op(Operation::EditProjects),
            body::<CreateProjectRequest>(),
            body::<ProjectInfo>(),
        ),
        ep(
            "projects/write_descriptor",
            "Write the project's facts to a new optimus.toml (never overwrites)",
            Op(Operation::EditProjects),
            body::<IdRequest>(),
            body::<DescriptorWritten>(),
        ),
        ep(
            "projects/import",
            "Import projects from a JSON export (existing folders only)",
            Op(Operation::EditProjects),
            body::<ImportRequest>(),
            body::<ImportReport>(),
        ),
        ep(
            "projects/activity",
            "A project's activity timeline, newest first",
            Op(Operation::ReadCatalog),
            body::<ActivityQuery>(),
            body::<Page<ActivityEntry>>(),
        ),
        ep(
            "projects/dependencies",
            "What a project depends on, and what depends on it",
            Op(Operation::ReadCatalog),
            body::<IdRequest>(),
            body::<ProjectDependencies>(),
        ),
        ep(
            "projects/set_dependencies",
            "Replace what a project depends on (no cycles)",
            Op(Operation::EditProjects),
            body::<SetDependenciesRequest>(),
            body::<ProjectDependencies>(),
        ),
        ep(
            "projects/facets",
            "Counts per stack, tag and state for the filter sidebar",
            Op(Operation::ReadCatalog),
            body::<ProjectQuery>(),
            body::<ProjectFacets>(),
        ),
        ep(
            "services/list",
            "A project's services with state, port and latest run",
            Op(Operation::ReadRuntime),
            body::<ProjectServicesRequest>(),
            body::<Vec<ServiceInfo>>(),
        ),
        ep(
            "services/get",
            "One service",
            Op(Operation::ReadRuntime),
            body::<ServiceRequest>(),
            body::<ServiceInfo>(),
        ),
        ep(
            "services/create",
            "Add a service to a project",
            Op(Operation::EditServices),
            body::<CreateServiceRequest>(),
            body::<ServiceInfo>(),
        ),
        ep(
            "services/update",
            "Replace a service's definition (applies on the next restart)",
            Op(Operation::EditServices),
            body::<UpdateServiceRequest>(),
            body::<ServiceInfo>(),
        ),
        ep(
            "services/delete",
            "Remove a stopped service",
            Op(Operation::EditServices),
            body::<ServiceRequest>(),
            None,
        ),
        ep(
            "services/import_detected",
            "Add the services detection proposes that the project lacks",
            Op(Operation::EditServices),
            body::<ProjectServicesRequest>(),
            body::<Vec<ServiceInfo>>(),
        ),
        ep(
            "services/start",
            "Start a service after its dependencies are ready (409 if running or its port is taken)",
            Op(Operation::ControlServices),
            body::<ServiceRequest>(),
            body::<ServiceInfo>(),
        ),
        ep(
            "services/stop",
            "Stop a service's whole process tree",
            Op(Operation::ControlServices),
            body::<ServiceRequest>(),
            body::<ServiceInfo>(),
        ),
        ep(
            "services/restart",
            "Stop and start a service",
            Op(Operation::ControlServices),
            body::<ServiceRequest>(),
            body::<ServiceInfo>(),
        ),
        ep(
            "services/start_project",
            "Start every service of a project in dependency order",
            Op(Operation::ControlServices),
            body::<ProjectServicesRequest>(),
            body::<Vec<ServiceInfo>>(),
        ),
        ep(
            "services/stop_project",
            "Stop every service of a project, dependents first",
            Op(Operation::ControlServices),
            body::<ProjectServicesRequest>(),
            body::<Vec<ServiceInfo>>(),
        ),
        ep(
            "services/restart_project",
            "Restart every service of a project",
            Op(Operation::ControlServices),
            body::<ProjectServicesRequest>(),
            body::<Vec<ServiceInfo>>(),
        ),
        ep(
            "services/runs",
            "A service's runs, newest first",
            Op(Operation::ReadRuntime),
            body::<RunsQuery>(),
            body::<Vec<RunInfo>>(),
        ),
        ep(
            "services/logs",
            "Log history of services, merged by time and filtered",
            Op(Operation::ReadRuntime),
            body::<LogQuery>(),
            body::<Vec<LogLine>>(),
        ),
        ep(
            "services/pending_changes",
            "What a restart would change for a running service (secret values masked)",
            Op(Operation::ReadRuntime),
            body::<ServiceRequest>(),
            body::<Vec<SpecChange>>(),
        ),
        ep(
            "environments/list",
            "A project's environments and variables (secrets masked unless revealed)",
            Op(Operation::ReadEnvironments),
            body::<EnvironmentsRequest>(),
            body::<Vec<EnvironmentInfo>>(),
        ),
        ep(
            "environments/create",
            "Add an environment",
            Op(Operation::EditEnvironments),
            body::<CreateEnvironmentRequest>(),
            body::<Vec<EnvironmentInfo>>(),
        ),
        ep(
            "environments/delete",
            "Remove an environment",
            Op(Operation::EditEnvironments),
            body::<EnvironmentRequest>(),
            None,
        ),
        ep(
            "environments/activate",
            "Make an environment the one services get",
            Op(Operation::EditEnvironments),
            body::<EnvironmentRequest>(),
            body::<Vec<EnvironmentInfo>>(),
        ),
        ep(
            "environments/set_var",
            "Set a variable (secret values encrypted)",
            Op(Operation::EditEnvironments),
            body::<SetVarRequest>(),
            body::<Vec<EnvironmentInfo>>(),
        ),
        ep(
            "environments/delete_var",
            "Remove a variable",
            Op(Operation::EditEnvironments),
            body::<DeleteVarRequest>(),
            body::<Vec<EnvironmentInfo>>(),
        ),
        ep(
            "environments/import_dotenv",
            "Import a .env file (read only) or text",
            Op(Operation::EditEnvironments),
            body::<ImportDotenvRequest>(),
            body::<DotenvImported>(),
        ),
        ep(
            "environments/export_dotenv",
            "The environment as .env text",
            Op(Operation::ReadEnvironments),
            body::<EnvironmentRequest>(),
            body::<DotenvExport>(),
        ),
        ep(
            "metrics/services",
            "Resource history of services over a range",
            Op(Operation::ReadRuntime),
            body::<MetricsQuery>(),
            body::<Vec<ResourceSample>>(),
        ),
        ep(
            "metrics/host",
            "The host's resource history over a range",
            Op(Operation::ReadRuntime),
            body::<HostMetricsQuery>(),
            body::<Vec<HostSample>>(),
        ),
        ep(
            "notifications/list",
            "Notifications, newest first, with the caller's unread count",
            Op(Operation::ReadNotifications),
            body::<NotificationsQuery>(),
            body::<NotificationList>(),
        ),
        ep(
            "notifications/mark_read",
            "Mark the caller's notifications read (up to an id, or all)",
            Op(Operation::ReadNotifications),
            body::<MarkReadRequest>(),
            body::<NotificationList>(),
        ),
        ep(
            "runtime/start",
            "Start a project's services, or one by name",
            Op(Operation::ControlServices),
            body::<RuntimeRequest>(),
            body::<RuntimeStatus>(),
        ),
        ep(
            "runtime/stop",
            "Stop a project's services, or one by name",
            Op(Operation::ControlServices),
            body::<RuntimeRequest>(),
            body::<RuntimeStatus>(),
        ),
        ep(
            "runtime/status",
            "A project's services: name, state, pid, port, restarts",
            Op(Operation::ReadRuntime),
            body::<RuntimeStatusRequest>(),
            body::<RuntimeStatus>(),
        ),
        ep(
            "runtime/logs",
            "The newest lines of one service",
            Op(Operation::ReadRuntime),
            body::<RuntimeLogsRequest>(),
            body::<RuntimeLogs>(),
        ),
        ep(
            "ports/list",
            "Every port held by a service",
            Op(Operation::ReadRuntime),
            None,
            body::<Vec<PortEntry>>(),
        ),
        ep(
            "council/deliberate",
            "Ask the council: evidence, each persona's position, the consensus",
            Op(Operation::Deliberate),
            body::<DeliberateRequest>(),
            body::<DeliberationInfo>(),
        ),
        ep(
            "council/get",
            "One deliberation with evidence, turns and consensus",
            Op(Operation::ReadCouncil),
            body::<DeliberationRequest>(),
            body::<DeliberationInfo>(),
        ),
        ep(
            "council/list",
            "Deliberations, newest first",
            Op(Operation::ReadCouncil),
            body::<DeliberationsQuery>(),
            body::<Vec<DeliberationSummary>>(),
        ),
        ep(
            "council/outcome",
            "Record which option turned out right",
            Op(Operation::Deliberate),
            body::<OutcomeRequest>(),
            body::<DeliberationInfo>(),
        ),
        ep(
            "council/personas",
            "Every persona with its track record",
            Op(Operation::ReadCouncil),
            None,
            body::<Vec<PersonaInfo>>(),
        ),
        ep(
            "council/graph",
            "A knowledge-graph neighbourhood around a project or decision (now or at a time)",
            Op(Operation::ReadCouncil),
            body::<GraphRequest>(),
            body::<GraphView>(),
        ),
        ep(
            "council/path",
            "The shortest path between two projects in the knowledge graph",
            Op(Operation::ReadCouncil),
            body::<PathRequest>(),
            body::<Vec<GraphNode>>(),
        ),
        ep(
            "council/memories",
            "Memories, searched by relevance, importance and recency, or newest first",
            Op(Operation::ReadCouncil),
            body::<MemoriesQuery>(),
            body::<Vec<MemoryInfo>>(),
        ),
        ep(
            "council/update_memory",
            "Edit, pin or unpin a memory",
            Op(Operation::ManageMemories),
            body::<UpdateMemoryRequest>(),
            body::<MemoryInfo>(),
        ),
        ep(
            "council/forget_memory",
            "Forget a memory (audited)",
            Op(Operation::ManageMemories),
            body::<MemoryRequest>(),
            None,
        ),
        ep(
            "council/save_persona",
            "Change a persona, or add one",
            Op(Operation::EditPersonas),
            body::<SavePersonaRequest>(),
            body::<Vec<PersonaInfo>>(),
        ),
    ]
}

fn schema_ref(b: &Body) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(b.name.clone()))
}

fn json_content(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn empty_object() -> RefOr<Schema> {
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .build(),
    ))
}

fn error_schema() -> RefOr<Schema> {
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .property("error", ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)))
            .required("error")
            .property("field", ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)))
            .property("message", ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)))
            .property("retry_after_secs", ObjectBuilder::new().schema_type(SchemaType::Type(Type::Integer)))
            .description(Some("An error: `error` is one of unauthorized, forbidden, not_found, validation, conflict, payload_too_large, rate_limited, unavailable, internal"))
            .build(),
    ))
}

/// Builds the document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut components = ComponentsBuilder::new()
        .schema("Error", error_schema())
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or opt_ API token")
                    .build(),
            ),
        );
    for e in endpoints() {
        let request = e
            .request
            .as_ref()
            .map(schema_ref)
            .unwrap_or_else(empty_object);
        let ok = match &e.response {
            Some(b) => ResponseBuilder::new()
                .description("Success")
                .content("application/json", json_content(schema_ref(b))),
            None => ResponseBuilder::new().description("Success (JSON `null`)"),
        };
        let err = |d: &str| {
            ResponseBuilder::new()
                .description(d)
                .content(
                    "application/json",
                    json_content(RefOr::Ref(Ref::from_schema_name("Error"))),
                )
                .build()
        };
        let (description, security) = match e.access {
            Access::Public => ("Public.".to_owned(), None),
            Access::Op(op) => (
                format!(
                    "Requires the `{}` role or higher; an API token needs the `{}` scope.",
                    op.required_role(),
                    op.required_scope()
                ),
                Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]),
            ),
        };
        let mut op = OperationBuilder::new()
            .operation_id(Some(e.path.replace('/', "_")))
            .summary(Some(e.summary))
            .description(Some(description))
            .tag(e.path.split('/').next().unwrap_or("api"))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", json_content(request))
                    .required(Some(Required::True))
                    .build(),
            ))
            .response("200", ok.build())
            .response(
                "400",
                err("Invalid input; `field` names the offending field"),
            )
            .response("413", err("Body too large"))
            .response("429", err("Rate limited; see the Retry-After header"))
            .response("500", err("Internal error (details are in the server log)"));
        if let Some(security) = security {
            op = op
                .securities(Some(security))
                .response("401", err("No valid credentials"))
                .response("403", err("Role or token scope insufficient"));
        }
        paths = paths.path(
            format!("/api/v1/{}", e.path),
            PathItem::new(HttpMethod::Post, op.build()),
        );
        for b in e.request.iter().chain(e.response.iter()) {
            components = components.schema(b.name.clone(), b.schema.clone());
            for (name, schema) in &b.deps {
                components = components.schema(name.clone(), schema.clone());
            }
        }
    }
    let export = OperationBuilder::new()
        .operation_id(Some("projects_export"))
        .summary(Some("Download the filtered project list as CSV or JSON"))
        .description(Some(
            "Query parameters: `format` (`csv`, default, or `json`), `search`, `stack`, `tag`, `favorite`, `archived`, `git`, `workspace_id` — the same filters as projects/list, all pages. Requires the `viewer` role; an API token needs the `read` scope.",
        ))
        .tag("projects")
        .securities(Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]))
        .response("200", ResponseBuilder::new().description("The file (Content-Disposition: attachment)").build())
        .response("400", ResponseBuilder::new().description("A bad query parameter").build())
        .response("401", ResponseBuilder::new().description("No valid credentials").build())
        .build();
    paths = paths.path(
        "/api/v1/projects/export",
        PathItem::new(HttpMethod::Get, export),
    );
    let download = OperationBuilder::new()
        .operation_id(Some("services_logs_download"))
        .summary(Some("Download one run's whole log as text"))
        .description(Some(
            "Query parameters: `service_id` (required) and `run_id` (default: the latest run). One line per output line: `<RFC 3339 time> <stdout|stderr> <text>`. Requires the `viewer` role; an API token needs the `read` scope.",
        ))
        .tag("services")
        .securities(Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]))
        .response("200", ResponseBuilder::new().description("The log (Content-Disposition: attachment)").build())
        .response("400", ResponseBuilder::new().description("A bad query parameter, or no such run").build())
        .response("401", ResponseBuilder::new().description("No valid credentials").build())
        .response("404", ResponseBuilder::new().description("No such service").build())
        .build();
    paths = paths.path(
        "/api/v1/services/logs/download",
        PathItem::new(HttpMethod::Get, download),
    );
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Optimus API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Every dashboard action as JSON over POST. Authenticate with `Authorization: Bearer <token>`."))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .build()
}

/// The document as JSON, built once.
pub fn document_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| document().to_json().unwrap_or_else(|_| "{}".into()))
}

/// The JSON type of a request field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRule {
    /// JSON types accepted (`string`, `integer`, `number`, `boolean`, `array`, `object`, `null`);
    /// empty means anything.
    pub types: Vec<&'static str>,
    /// Whether the field must be present.
    pub required: bool,
}

/// The fields each endpoint's body may contain, keyed by full path.
pub fn request_rules() -> &'static HashMap<String, BTreeMap<String, FieldRule>> {
    static RULES: OnceLock<HashMap<String, BTreeMap<String, FieldRule>>> = OnceLock::new();
    RULES.get_or_init(|| {
        endpoints()
            .into_iter()
            .map(|e| {
                let fields = e
                    .request
                    .as_ref()
                    .map(|b| fields_of(&b.schema))
                    .unwrap_or_default();
                (format!("/api/v1/{}", e.path), fields)
            })
            .collect()
    })
}

fn type_name(t: &Type) -> &'static str {
    match t {
        Type::String => "string",
        Type::Integer => "integer",
        Type::Number => "number",
        Type::Boolean => "boolean",
        Type::Array => "array",
        Type::Object => "object",
        Type::Null => "null",
    }
}

fn types_of(schema: &RefOr<Schema>) -> Vec<&'static str> {
    let st = match schema {
        RefOr::T(Schema::Object(o)) => &o.schema_type,
        RefOr::T(Schema::Array(_)) => return vec!["array"],
        _ => return Vec::new(),
    };
    match st {
        SchemaType::Type(t) => vec![type_name(t)],
        SchemaType::Array(ts) => ts.iter().map(type_name).collect(),
        SchemaType::AnyValue => Vec::new(),
    }
}

fn fields_of(schema: &RefOr<Schema>) -> BTreeMap<String, FieldRule> {
    let RefOr::T(Schema::Object(obj)) = schema else {
        return BTreeMap::new();
    };
    obj.properties
        .iter()
        .map(|(name, prop)| {
            let mut types = types_of(prop);
            if types.contains(&"number") && !types.contains(&"integer") {
                types.push("integer");
            }
            (
                name.clone(),
                FieldRule {
                    types,
                    required: obj.required.contains(name),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_accepts_exactly_username_and_password() {
        let rules = request_rules();
        let login = rules.get("/api/v1/auth/login").cloned().unwrap_or_default();
        assert_eq!(
            login.keys().cloned().collect::<Vec<_>>(),
            vec!["password", "username"]
        );
        assert!(login
            .values()
            .all(|r| r.required && r.types == vec!["string"]));
    }

    #[test]
    fn optional_fields_are_not_required() {
        let rules = request_rules();
        let list = rules.get("/api/v1/users/list").cloned().unwrap_or_default();
        assert!(list.values().all(|r| !r.required));
    }

    #[test]
    fn every_endpoint_appears_in_the_document() {
        let doc: serde_json::Value = serde_json::from_str(document_json()).unwrap_or_default();
        for e in endpoints() {
            assert!(
                doc["paths"][format!("/api/v1/{}", e.path)]["post"].is_object(),
                "{}",
                e.path
            );
        }
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with('3')),
            Some(true)
        );
    }
}
