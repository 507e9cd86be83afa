//! The OpenAPI 3 document, built from the `endpoint!` declarations (`app/src/api/`) and the
//! plain GET routes' [`GetRoute`] constants: nothing here lists an endpoint by hand. The API
//! guard reads each endpoint's request fields from the same declarations to refuse unknown or
//! mistyped fields before a server function runs.

use app::api::endpoint::{declared, Access, BodySchema};
use app::models::access::Operation;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AdditionalProperties, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, ObjectBuilder, OpenApi, OpenApiBuilder,
    PathsBuilder, Ref, RefOr, Required, SecurityRequirement,
};

/// A plain GET route under `/api/v1` (a download a browser link or `curl -O` can fetch), declared
/// beside its handler and routed and documented from that one constant.
pub struct GetRoute {
    /// The full path.
    pub path: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Its query parameters and answer.
    pub description: &'static str,
    /// The operation the handler's service requires.
    pub operation: Operation,
    /// Each error status it answers besides 401, with what it means.
    pub errors: &'static [(&'static str, &'static str)],
    /// Its query parameters.
    pub params: &'static [QueryParam],
}

/// A query parameter of a [`GetRoute`]: a string (matching `pattern` when given) or an integer.
pub struct QueryParam {
    /// The name.
    pub name: &'static str,
    /// Whether it must be given.
    pub required: bool,
    /// Whether it is an integer (else a string).
    pub integer: bool,
    /// The pattern a string must match.
    pub pattern: Option<&'static str>,
    /// What it means.
    pub description: &'static str,
}

fn query_parameter(p: &QueryParam) -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    let schema = if p.integer {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Integer))
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
    } else {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .pattern(p.pattern)
    };
    ParameterBuilder::new()
        .name(p.name)
        .parameter_in(ParameterIn::Query)
        .required(if p.required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(p.description))
        .schema(Some(schema))
        .build()
}

/// The plain GET routes.
pub fn get_routes() -> [&'static GetRoute; 4] {
    [
        &crate::export::ROUTE,
        &crate::log_download::ROUTE,
        &crate::artifact_download::ROUTE,
        &crate::step_log_download::ROUTE,
    ]
}

fn requirement(op: Operation) -> String {
    let scope = match op.required_scope() {
        app::models::access::Scope::Read => "`read` scope (or `write`, which includes it)".into(),
        other => format!("`{other}` scope"),
    };
    format!(
        "Requires the `{}` role or higher; an API token needs the {scope}.",
        op.required_role(),
    )
}

fn schema_ref(b: &BodySchema) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(b.name.clone()))
}

fn json_content(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn empty_object() -> RefOr<Schema> {
    closed(RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .build(),
    )))
}

/// An object schema that allows no properties besides its own.
fn closed(schema: RefOr<Schema>) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::Object(mut o)) => {
            o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            RefOr::T(Schema::Object(o))
        }
        other => other,
    }
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
            .description(Some("An error: `error` is one of unauthorized, forbidden, not_found, validation, unprocessable, conflict, payload_too_large, rate_limited, unavailable, internal"))
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
    let err = |d: &str| {
        ResponseBuilder::new()
            .description(d)
            .content(
                "application/json",
                json_content(RefOr::Ref(Ref::from_schema_name("Error"))),
            )
            .build()
    };
    let bearer = || vec![SecurityRequirement::new("bearer", Vec::<String>::new())];
    let mut schemas = BTreeMap::new();
    let mut requests = BTreeSet::new();
    for e in declared() {
        let request = e.request.map(|f| f());
        let response = e.response.map(|f| f());
        let has_required = request
            .as_ref()
            .is_some_and(|b| fields_of(&b.schema).values().any(|r| r.required));
        let ok = match &response {
            Some(b) => ResponseBuilder::new()
                .description("Success")
                .content("application/json", json_content(schema_ref(b))),
            None => ResponseBuilder::new().description("Success (JSON `null`)"),
        };
        let who = match e.access {
            Access::Public => "Public.".to_owned(),
            Access::Op(op) => requirement(op),
        };
        let description = match e.description() {
            d if d.is_empty() => who,
            d => format!("{d}\n\n{who}"),
        };
        let mut op = OperationBuilder::new()
            .operation_id(Some(e.path.replace('/', "_")))
            .summary(Some(e.summary()))
            .description(Some(description))
            .tag(e.path.split('/').next().unwrap_or("api"))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        json_content(
                            request
                                .as_ref()
                                .map(schema_ref)
                                .unwrap_or_else(empty_object),
                        ),
                    )
                    // An empty body counts as `{}`: only a body with required fields must be sent.
                    .required(Some(if has_required { Required::True } else { Required::False }))
                    .build(),
            ))
            .response("200", ok.build())
            .response(
                "400",
                err("Invalid input; `field` names the offending field"),
            )
            .response("404", err("Something the body names does not exist"))
            .response("409", err("The current state does not allow it"))
            .response("413", err("Body too large"))
            .response(
                "422",
                err("Well-formed, but a rule across fields or stored data refuses it; `field` names the field"),
            )
            .response("429", err("Rate limited; see the Retry-After header"))
            .response("500", err("Internal error (details are in the server log)"))
            .response("503", err("The database is unreachable; retry later"));
        op = op.response("401", err("No valid credentials"));
        if matches!(e.access, Access::Op(_)) {
            op = op
                .securities(Some(bearer()))
                .response("403", err("Role or token scope insufficient"));
        }
        paths = paths.path(
            format!("/api/v1/{}", e.path),
            PathItem::new(HttpMethod::Post, op.build()),
        );
        if let Some(b) = &request {
            requests.insert(b.name.clone());
        }
        for b in request.iter().chain(response.iter()) {
            schemas.insert(b.name.clone(), b.schema.clone());
            for (name, schema) in &b.deps {
                schemas.insert(name.clone(), schema.clone());
            }
        }
    }
    for (name, schema) in schemas {
        // The guard refuses unknown top-level fields, so the document says so.
        let schema = if requests.contains(&name) {
            closed(schema)
        } else {
            schema
        };
        components = components.schema(name, schema);
    }
    for route in get_routes() {
        let mut op = OperationBuilder::new()
            .operation_id(Some(
                route.path.trim_start_matches("/api/v1/").replace('/', "_"),
            ))
            .summary(Some(route.summary))
            .description(Some(format!(
                "{}\n\n{}",
                route.description,
                requirement(route.operation)
            )))
            .tag(
                route
                    .path
                    .trim_start_matches("/api/v1/")
                    .split('/')
                    .next()
                    .unwrap_or("api"),
            )
            .securities(Some(bearer()))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The file (Content-Disposition: attachment)")
                    .build(),
            )
            .response("401", err("No valid credentials"))
            .response("403", err("Role or token scope insufficient"));
        for (status, meaning) in route.errors {
            op = op.response(*status, err(meaning));
        }
        for p in route.params {
            op = op.parameter(query_parameter(p));
        }
        paths = paths.path(route.path, PathItem::new(HttpMethod::Get, op.build()));
    }
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
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(document()).unwrap_or_default();
        bound_integers(&mut doc);
        serde_json::to_string(&doc).unwrap_or_else(|_| "{}".into())
    })
}

/// States each integer's range where its Rust type bounds it and the schema does not say:
/// `format: int32`/`int64` (and `minimum: 0` for unsigned ones) name the type, not the range, so a
/// client could send 2^40 for a `u32` and be refused for a reason the document never gave.
fn bound_integers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            let integer = m.get("type").is_some_and(|t| {
                t == "integer"
                    || t.as_array()
                        .is_some_and(|a| a.iter().any(|x| x == "integer"))
            });
            if integer {
                let unsigned = m.get("minimum").and_then(|x| x.as_f64()) == Some(0.0);
                let (min, max): (i64, i64) =
                    match (m.get("format").and_then(|f| f.as_str()), unsigned) {
                        (Some("int32"), true) => (0, i64::from(u32::MAX)),
                        (Some("int32"), false) => (i64::from(i32::MIN), i64::from(i32::MAX)),
                        (_, true) => (0, i64::MAX),
                        _ => (i64::MIN, i64::MAX),
                    };
                m.entry("minimum").or_insert(min.into());
                m.entry("maximum").or_insert(max.into());
            }
            m.values_mut().for_each(bound_integers);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// Whether the endpoint at `path` (`/api/v1/auth/login`) needs no identity.
pub fn is_public(path: &str) -> bool {
    static PUBLIC: OnceLock<BTreeSet<String>> = OnceLock::new();
    PUBLIC
        .get_or_init(|| {
            declared()
                .into_iter()
                .filter(|e| e.access == Access::Public)
                .map(|e| format!("/api/v1/{}", e.path))
                .collect()
        })
        .contains(path)
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
        declared()
            .into_iter()
            .map(|e| {
                let fields = e
                    .request
                    .map(|f| fields_of(&f().schema))
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
        // An optional list is `[array, null]`.
        RefOr::T(Schema::Array(a)) => match &a.schema_type {
            SchemaType::Array(ts) => return ts.iter().map(type_name).collect(),
            _ => return vec!["array"],
        },
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
        for e in declared() {
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

    #[test]
    fn the_declarations_the_server_functions_and_the_guard_list_the_same_paths() {
        let declared_paths: Vec<String> = declared()
            .iter()
            .map(|e| format!("/api/v1/{}", e.path))
            .collect();
        let mut registered: Vec<String> = server_fn::axum::server_fn_paths()
            .map(|(p, _)| p.to_owned())
            .collect();
        registered.sort();
        registered.dedup();
        assert_eq!(
            declared_paths, registered,
            "a server function without an endpoint! declaration, or the reverse"
        );
        let mut unique = declared_paths.clone();
        unique.dedup();
        assert_eq!(unique.len(), declared_paths.len(), "a path declared twice");
        let mut guarded: Vec<String> = request_rules().keys().cloned().collect();
        guarded.sort();
        assert_eq!(guarded, declared_paths);
        for e in declared() {
            assert!(!e.summary().is_empty(), "{} has no summary", e.path);
        }
    }

    /// Two types never share a component name (utoipa calls every `Page<T>` `Page`).
    #[test]
    fn each_component_name_stands_for_one_schema() {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for e in declared() {
            for b in e.request.iter().chain(e.response.iter()).map(|f| f()) {
                let json = serde_json::to_string(&b.schema).unwrap_or_default();
                let earlier = seen.entry(b.name.clone()).or_insert_with(|| json.clone());
                assert_eq!(*earlier, json, "{} names two schemas", b.name);
            }
        }
        assert_eq!(
            app::api::endpoint::component_name("a::Page<b::c::UserInfo>"),
            "Page_UserInfo"
        );
        assert_eq!(
            app::api::endpoint::component_name("alloc::vec::Vec<x::Persona>"),
            "Vec_Persona"
        );
    }

    /// Every `$ref` points at a schema the document defines (a client generator, and the fuzzer,
    /// would otherwise skip or reject the body).
    #[test]
    fn every_reference_in_the_document_resolves() {
        fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                        out.push(r);
                    }
                    m.values().for_each(|x| refs(x, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
                _ => {}
            }
        }
        let doc: serde_json::Value = serde_json::from_str(document_json()).unwrap_or_default();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 50, "only {} references", found.len());
        let dangling: Vec<&str> = found
            .into_iter()
            .filter(|r| {
                let name = r.trim_start_matches("#/components/schemas/");
                doc["components"]["schemas"][name].is_null()
            })
            .collect();
        assert!(dangling.is_empty(), "dangling references: {dangling:?}");
    }

    #[test]
    fn each_declared_operation_is_stated_in_the_document() {
        let doc: serde_json::Value = serde_json::from_str(document_json()).unwrap_or_default();
        for e in declared() {
            let op = &doc["paths"][format!("/api/v1/{}", e.path)]["post"];
            let text = op["description"].as_str().unwrap_or_default();
            match e.access {
                Access::Public => {
                    assert!(text.ends_with("Public."), "{}: {text}", e.path);
                    assert!(op["security"].is_null(), "{}", e.path);
                }
                Access::Op(o) => {
                    assert!(text.ends_with(&requirement(o)), "{}: {text}", e.path);
                    assert!(op["responses"]["403"].is_object(), "{}", e.path);
                }
            }
        }
        for route in get_routes() {
            assert!(
                doc["paths"][route.path]["get"].is_object(),
                "{}",
                route.path
            );
        }
    }
}
