//! Each endpoint's request body checked against the schema the OpenAPI document publishes for it,
//! so whatever the document forbids (a length, a range, a pattern, an enum, an unknown field) is
//! refused with a 400 naming the field before a server function runs, and the document cannot
//! promise less than the API enforces. Rules no schema can state (a cycle, a file outside the
//! project) are the services' own, answered 422.

use crate::openapi::document_json;
use app::AppError;
use jsonschema::error::ValidationErrorKind;
use jsonschema::Validator;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The validators, keyed by full path (`/api/v1/auth/login`); built once from the document.
fn validators() -> &'static HashMap<String, Validator> {
    static VALIDATORS: OnceLock<HashMap<String, Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let doc: Value = serde_json::from_str(document_json()).unwrap_or_default();
        let components = doc["components"].clone();
        let mut out = HashMap::new();
        let Some(paths) = doc["paths"].as_object() else {
            return out;
        };
        for (path, item) in paths {
            let schema = &item["post"]["requestBody"]["content"]["application/json"]["schema"];
            if schema.is_null() {
                continue;
            }
            let mut root = match schema {
                Value::Object(m) => m.clone(),
                _ => Map::new(),
            };
            root.insert("components".into(), components.clone());
            match jsonschema::options()
                .should_validate_formats(true)
                .build(&Value::Object(root))
            {
                Ok(v) => {
                    out.insert(path.clone(), v);
                }
                // A document the validator cannot read is a bug the unit test below reports.
                Err(e) => tracing::error!(%path, error = %e, "request schema does not compile"),
            }
        }
        out
    })
}

/// Rewrites whole numbers sent as floats (`4.0`) as integers: JSON Schema counts them as
/// integers, and clients (and fuzzers) send them so.
pub fn normalise_numbers(value: &mut Value) {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64() {
                // Every f64 in this range with no fraction is exactly an i64.
                if f.fract() == 0.0
                    && (-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(&f)
                {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise_numbers),
        Value::Object(map) => map.values_mut().for_each(normalise_numbers),
        _ => {}
    }
}

/// The dotted field name of a JSON pointer (`/definition/env/PORT` → `definition.env.PORT`).
fn field_of(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// What a schema error says, without echoing the value (it may be a password).
fn message(kind: &ValidationErrorKind) -> String {
    use ValidationErrorKind as K;
    match kind {
        K::MinLength { limit } => format!("must be at least {limit} characters"),
        K::MaxLength { limit } => format!("must be at most {limit} characters"),
        K::Pattern { pattern } => format!("must match {pattern}"),
        K::Minimum { limit } => format!("must be at least {limit}"),
        K::Maximum { limit } => format!("must be at most {limit}"),
        K::ExclusiveMinimum { limit } => format!("must be more than {limit}"),
        K::ExclusiveMaximum { limit } => format!("must be less than {limit}"),
        K::MinItems { limit } => format!("must have at least {limit} items"),
        K::MaxItems { limit } => format!("must have at most {limit} items"),
        K::MaxProperties { limit } => format!("must have at most {limit} entries"),
        K::UniqueItems => "must not repeat an item".into(),
        K::Enum { options } => format!("must be one of {options}"),
        K::Constant { expected_value } => format!("must be {expected_value}"),
        K::Format { format } => format!("must be a valid {format}"),
        K::Type { .. } => "has the wrong type".into(),
        K::Required { .. } => "is required".into(),
        K::AdditionalProperties { .. } | K::UnevaluatedProperties { .. } => "unknown field".into(),
        K::PropertyNames { .. } => "has a key that is not allowed".into(),
        _ => "does not match the documented schema".into(),
    }
}

/// Checks `body` against the endpoint's published schema; the first failure names its field.
pub fn check(path: &str, body: &Value) -> Result<(), AppError> {
    let Some(validator) = validators().get(path) else {
        return Ok(());
    };
    let Some(error) = validator.iter_errors(body).next() else {
        return Ok(());
    };
    let mut at = field_of(error.instance_path().as_str());
    // An item of a list is named by its list, the position in the message (`tags`: "item 2: …").
    let (list, last) = at.rsplit_once('.').unwrap_or(("", at.as_str()));
    let item = last.parse::<usize>().ok().map(|i| i + 1);
    if item.is_some() {
        at = list.to_owned();
    }
    let field = match error.kind() {
        ValidationErrorKind::Required { property } => {
            join(&at, property.as_str().unwrap_or_default())
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => join(
            &at,
            unexpected.first().map(String::as_str).unwrap_or_default(),
        ),
        _ if at.is_empty() => "body".to_owned(),
        _ => at,
    };
    let message = match item {
        Some(n) => format!("item {n}: {}", message(error.kind())),
        None => message(error.kind()),
    };
    Err(AppError::validation(field, message))
}

#[cfg(test)]
#[expect(clippy::panic, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use app::api::endpoint::declared;

    #[test]
    fn every_request_schema_compiles() {
        assert_eq!(validators().len(), declared().len());
    }

    #[test]
    fn an_item_is_named_by_its_list() {
        let r = check(
            "/api/v1/tokens/create",
            &serde_json::json!({"name": "t", "scopes": ["read", "root"], "expires_in_days": 1}),
        );
        match r {
            Err(AppError::Validation { field, message }) => {
                assert_eq!(field, "scopes");
                assert!(message.starts_with("item 2: "), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_whole_float_is_an_integer() {
        let mut v = serde_json::json!({"id": 4.0, "x": [1.5, 2.0], "big": 1e300});
        normalise_numbers(&mut v);
        assert_eq!(v, serde_json::json!({"id": 4, "x": [1.5, 2], "big": 1e300}));
    }

    #[test]
    fn failures_name_the_nested_field_without_the_value() {
        let r = check(
            "/api/v1/auth/login",
            &serde_json::json!({"username": "owner", "password": "x".repeat(500)}),
        );
        match r {
            Err(AppError::Validation { field, message }) => {
                assert_eq!(field, "password");
                assert!(!message.contains("xxx"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
