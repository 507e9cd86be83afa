//! A run's parameter values: checked against the pipeline's parameters, defaults filled in.

use super::{Parameter, ParameterKind, ParameterValue};
use std::collections::BTreeMap;

/// The longest text a `string` parameter takes.
pub const MAX_TEXT: usize = 1000;

/// A value that does not fit, naming the parameter (`parameters.<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterError {
    /// `parameters.<name>`.
    pub field: String,
    /// Why.
    pub message: String,
}

/// Whether `value` fits `p`'s type (and, for a choice, is one of its choices).
pub fn check_value(p: &Parameter, value: &ParameterValue) -> Result<(), String> {
    match (p.kind, value) {
        (ParameterKind::String, ParameterValue::Text(s)) => {
            if s.chars().count() > MAX_TEXT || s.contains('\0') {
                Err(format!(
                    "must be at most {MAX_TEXT} characters, without NUL"
                ))
            } else {
                Ok(())
            }
        }
        (ParameterKind::Choice, ParameterValue::Text(s)) => {
            if p.choices.iter().any(|c| c == s) {
                Ok(())
            } else {
                Err(format!("must be one of {}", p.choices.join(", ")))
            }
        }
        (ParameterKind::Boolean, ParameterValue::Boolean(_)) => Ok(()),
        (ParameterKind::Number, ParameterValue::Number(n)) if n.is_finite() => Ok(()),
        (kind, _) => Err(format!("must be a {}", describe(kind))),
    }
}

fn describe(kind: ParameterKind) -> &'static str {
    match kind {
        ParameterKind::String => "text",
        ParameterKind::Choice => "text (one of the choices)",
        ParameterKind::Boolean => "boolean (true or false)",
        ParameterKind::Number => "number",
    }
}

/// The values a run uses: `given` checked against `parameters`, defaults for the rest. A name
/// the pipeline lacks, a value of the wrong type or a missing required value is refused.
pub fn resolve(
    parameters: &[Parameter],
    given: &BTreeMap<String, ParameterValue>,
) -> Result<BTreeMap<String, ParameterValue>, ParameterError> {
    let refuse = |name: &str, message: String| ParameterError {
        field: format!("parameters.{name}"),
        message,
    };
    if let Some(name) = given
        .keys()
        .find(|k| !parameters.iter().any(|p| &p.name == *k))
    {
        return Err(refuse(name, "the pipeline has no such parameter".into()));
    }
    let mut out = BTreeMap::new();
    for p in parameters {
        match given.get(&p.name).or(p.default.as_ref()) {
            Some(v) => {
                check_value(p, v).map_err(|m| refuse(&p.name, m))?;
                out.insert(p.name.clone(), v.clone());
            }
            None if p.required => return Err(refuse(&p.name, "a value is required".into())),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, kind: ParameterKind) -> Parameter {
        Parameter {
            name: name.into(),
            kind,
            choices: Vec::new(),
            default: None,
            required: false,
            description: String::new(),
        }
    }

    #[test]
    fn values_must_fit_their_type_and_defaults_fill_the_rest() {
        let mut target = param("target", ParameterKind::Choice);
        target.choices = vec!["staging".into(), "production".into()];
        target.default = Some(ParameterValue::Text("staging".into()));
        let mut dry = param("dry_run", ParameterKind::Boolean);
        dry.required = true;
        let params = [target, dry, param("note", ParameterKind::String)];

        let given = BTreeMap::from([("dry_run".to_owned(), ParameterValue::Boolean(true))]);
        let values = resolve(&params, &given);
        assert_eq!(
            values,
            Ok(BTreeMap::from([
                ("dry_run".to_owned(), ParameterValue::Boolean(true)),
                ("target".to_owned(), ParameterValue::Text("staging".into())),
            ]))
        );

        let wrong = BTreeMap::from([("dry_run".to_owned(), ParameterValue::Text("yes".into()))]);
        let err = resolve(&params, &wrong).err();
        assert_eq!(
            err.as_ref().map(|e| e.field.as_str()),
            Some("parameters.dry_run")
        );
        assert_eq!(
            err.map(|e| e.message).as_deref(),
            Some("must be a boolean (true or false)")
        );

        let missing = resolve(&params, &BTreeMap::new()).err();
        assert_eq!(
            missing.map(|e| (e.field, e.message)),
            Some(("parameters.dry_run".into(), "a value is required".into()))
        );

        let unknown = BTreeMap::from([
            ("dry_run".to_owned(), ParameterValue::Boolean(false)),
            ("colour".to_owned(), ParameterValue::Text("red".into())),
        ]);
        assert_eq!(
            resolve(&params, &unknown).err().map(|e| e.field),
            Some("parameters.colour".into())
        );

        let off_list = BTreeMap::from([
            ("dry_run".to_owned(), ParameterValue::Boolean(false)),
            ("target".to_owned(), ParameterValue::Text("moon".into())),
        ]);
        assert_eq!(
            resolve(&params, &off_list).err().map(|e| e.message),
            Some("must be one of staging, production".into())
        );
    }

    #[test]
    fn numbers_must_be_finite_and_reach_the_environment_plainly() {
        let n = param("replicas", ParameterKind::Number);
        assert!(check_value(&n, &ParameterValue::Number(3.0)).is_ok());
        assert!(check_value(&n, &ParameterValue::Number(f64::NAN)).is_err());
        assert_eq!(ParameterValue::Number(3.0).to_env(), "3");
        assert_eq!(ParameterValue::Number(2.5).to_env(), "2.5");
        assert_eq!(ParameterValue::Boolean(true).to_env(), "true");
    }
}
