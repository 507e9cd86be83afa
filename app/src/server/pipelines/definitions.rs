//! Checks a pipeline definition field by field, naming the field at fault (`steps[2].cwd`,
//! `triggers.schedules[0].cron`): 400 for what the API document states, 422 for rules across
//! fields (a cycle, an unknown dependency, a default that does not fit its parameter, a cron
//! expression, time zone or glob that does not parse).

use crate::error::AppError;
use crate::models::names::is_slug;
use crate::models::pipelines::{
    check_value, levels, Parameter, ParameterKind, PipelineDefinition, Schedule, Step,
};
use std::path::{Component, Path};
use std::str::FromStr;

fn bad(field: impl AsRef<str>, message: impl Into<String>) -> AppError {
    AppError::validation(field.as_ref(), message)
}

fn refused(field: impl AsRef<str>, message: impl Into<String>) -> AppError {
    AppError::unprocessable(field.as_ref(), message)
}

/// A relative path inside the project: no root, no `..`.
fn inside(path: &str) -> bool {
    let p = Path::new(path);
    !p.is_absolute()
        && !p.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        })
}

/// Checks a whole definition on its own.
pub fn check_definition(d: &PipelineDefinition) -> Result<(), AppError> {
    if !is_slug(&d.name, 40) {
        return Err(bad(
            "name",
            "must be 1 to 40 of a-z 0-9 - _, starting with a letter or digit",
        ));
    }
    if d.description.chars().count() > 200 {
        return Err(bad("description", "must be at most 200 characters"));
    }
    if d.parameters.len() > 30 {
        return Err(bad("parameters", "at most 30 parameters"));
    }
    for (i, p) in d.parameters.iter().enumerate() {
        check_parameter(&format!("parameters[{i}]"), p)?;
        if d.parameters[..i].iter().any(|q| q.name == p.name) {
            return Err(refused(
                format!("parameters[{i}].name"),
                format!("another parameter is already named `{}`", p.name),
            ));
        }
    }
    if d.steps.is_empty() || d.steps.len() > 100 {
        return Err(bad("steps", "must have 1 to 100 steps"));
    }
    for (i, s) in d.steps.iter().enumerate() {
        check_step(&format!("steps[{i}]"), s)?;
    }
    levels(&d.steps).map_err(|e| refused(e.field(), e.to_string()))?;
    if d.triggers.schedules.len() > 10 {
        return Err(bad("triggers.schedules", "at most 10 schedules"));
    }
    for (i, s) in d.triggers.schedules.iter().enumerate() {
        check_schedule(&format!("triggers.schedules[{i}]"), s, &d.parameters)?;
    }
    if let Some(git) = &d.triggers.git {
        if !valid_branch(&git.branch) {
            return Err(refused(
                "triggers.git.branch",
                "must be a branch name (1 to 200 characters, no spaces, `..`, `~^:?*[\\`)",
            ));
        }
    }
    Ok(())
}

fn check_parameter(field: &str, p: &Parameter) -> Result<(), AppError> {
    let name_ok = p.name.len() <= 40
        && p.name.starts_with(|c: char| c.is_ascii_lowercase())
        && p.name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return Err(bad(
            format!("{field}.name"),
            "must be 1 to 40 of a-z 0-9 _, starting with a letter",
        ));
    }
    if p.description.chars().count() > 200 {
        return Err(bad(
            format!("{field}.description"),
            "must be at most 200 characters",
        ));
    }
    if p.choices.len() > 50 {
        return Err(bad(format!("{field}.choices"), "at most 50 choices"));
    }
    if p.choices
        .iter()
        .any(|c| c.is_empty() || c.chars().count() > 100)
    {
        return Err(refused(
            format!("{field}.choices"),
            "each choice must have 1 to 100 characters",
        ));
    }
    match (p.kind, p.choices.is_empty()) {
        (ParameterKind::Choice, true) => {
            return Err(refused(
                format!("{field}.choices"),
                "a choice parameter needs at least one choice",
            ))
        }
        (ParameterKind::Choice, false) | (_, true) => {}
        (kind, false) => {
            return Err(refused(
                format!("{field}.choices"),
                format!(
                    "only a choice parameter has choices, not a {}",
                    kind.as_str()
                ),
            ))
        }
    }
    if let Some(v) = &p.default {
        check_value(p, v).map_err(|m| refused(format!("{field}.default"), m))?;
    }
    Ok(())
}

fn check_step(field: &str, s: &Step) -> Result<(), AppError> {
    if !is_slug(&s.name, 40) {
        return Err(bad(
            format!("{field}.name"),
            "must be 1 to 40 of a-z 0-9 - _, starting with a letter or digit",
        ));
    }
    match (&s.command, &s.approval) {
        (Some(c), None) => {
            if c.trim().is_empty() || c.chars().count() > 4000 {
                return Err(bad(
                    format!("{field}.command"),
                    "must have 1 to 4000 characters",
                ));
            }
        }
        (None, Some(a)) => {
            if a.timeout_secs.is_some_and(|t| !(1..=604_800).contains(&t)) {
                return Err(bad(
                    format!("{field}.approval.timeout_secs"),
                    "must be between 1 and 604800 (a week)",
                ));
            }
            if a.prompt.chars().count() > 500 {
                return Err(bad(
                    format!("{field}.approval.prompt"),
                    "must be at most 500 characters",
                ));
            }
            if a.min_role < crate::models::Role::Operator {
                return Err(refused(
                    format!("{field}.approval.min_role"),
                    "a viewer cannot approve: operator, admin or owner",
                ));
            }
            if !s.artifacts.is_empty() || s.test_report.is_some() {
                return Err(refused(
                    field,
                    "an approval step runs nothing: it has no artifacts or test report",
                ));
            }
        }
        (Some(_), Some(_)) => {
            return Err(refused(
                field,
                "a step has a command or an approval, not both",
            ))
        }
        (None, None) => return Err(refused(field, "a step needs a command or an approval")),
    }
    if s.cwd.chars().count() > 500 {
        return Err(bad(
            format!("{field}.cwd"),
            "must be at most 500 characters",
        ));
    }
    if !inside(&s.cwd) {
        return Err(refused(
            format!("{field}.cwd"),
            "must be a folder inside the project (relative, no ..)",
        ));
    }
    if s.env.len() > 200 {
        return Err(bad(format!("{field}.env"), "at most 200 variables"));
    }
    for (k, v) in &s.env {
        if !crate::server::environments::valid_key(k) {
            return Err(bad(
                format!("{field}.env"),
                format!("`{k}` is not a valid variable name"),
            ));
        }
        if !crate::server::environments::valid_value(v) {
            return Err(bad(
                format!("{field}.env"),
                format!("the value of `{k}` is too long or holds a NUL"),
            ));
        }
    }
    if s.depends_on.len() > 50 {
        return Err(bad(format!("{field}.depends_on"), "at most 50 steps"));
    }
    if s.timeout_secs.is_some_and(|t| !(1..=86_400).contains(&t)) {
        return Err(bad(
            format!("{field}.timeout_secs"),
            "must be between 1 and 86400 (a day)",
        ));
    }
    if s.retry.count > 10 || s.retry.on_exit_codes.len() > 50 {
        return Err(bad(
            format!("{field}.retry"),
            "count must be at most 10, with at most 50 exit codes",
        ));
    }
    if !s.retry.on_exit_codes.is_empty() && s.retry.count == 0 {
        return Err(refused(
            format!("{field}.retry.count"),
            "exit codes to retry on need a count of at least 1",
        ));
    }
    if s.when.branches.len() > 20 {
        return Err(bad(
            format!("{field}.when.branches"),
            "at most 20 branch names or patterns",
        ));
    }
    if let Some(b) = s.when.branches.iter().find(|b| !valid_pattern(b)) {
        return Err(refused(
            format!("{field}.when.branches"),
            format!("`{b}` is not a branch name or pattern (`main`, `release/*`)"),
        ));
    }
    if s.artifacts.len() > 20 {
        return Err(bad(format!("{field}.artifacts"), "at most 20 globs"));
    }
    for (j, glob) in s.artifacts.iter().enumerate() {
        let at = format!("{field}.artifacts[{j}]");
        if glob.is_empty() || glob.chars().count() > 500 || !inside(glob) {
            return Err(refused(
                at,
                "must be a relative glob inside the project (no leading /, no ..)",
            ));
        }
        globset::Glob::new(glob)
            .map_err(|e| refused(&at, format!("is not a valid glob: {}", e.kind())))?;
    }
    if let Some(report) = &s.test_report {
        if report.is_empty() || !inside(report) {
            return Err(refused(
                format!("{field}.test_report"),
                "must be a file inside the project (relative, no ..)",
            ));
        }
    }
    Ok(())
}

fn check_schedule(field: &str, s: &Schedule, parameters: &[Parameter]) -> Result<(), AppError> {
    if s.cron.chars().count() > 200 {
        return Err(bad(
            format!("{field}.cron"),
            "must be at most 200 characters",
        ));
    }
    cron(&s.cron).map_err(|m| refused(format!("{field}.cron"), m))?;
    timezone(&s.timezone).map_err(|m| refused(format!("{field}.timezone"), m))?;
    if s.missed_cap.is_some_and(|c| !(1..=100).contains(&c)) {
        return Err(bad(
            format!("{field}.missed_cap"),
            "must be between 1 and 100",
        ));
    }
    crate::models::pipelines::resolve(parameters, &s.parameters).map_err(|e| {
        refused(
            format!("{field}.{}", e.field),
            format!("{} (for this schedule's runs)", e.message),
        )
    })?;
    Ok(())
}

/// Parses a cron expression of 5 or 6 fields (seconds first when 6).
pub fn cron(expr: &str) -> Result<croner::Cron, String> {
    let fields = expr.split_whitespace().count();
    if !(5..=6).contains(&fields) {
        return Err(format!(
            "needs 5 fields (minute hour day month weekday) or 6 (seconds first), not {fields}"
        ));
    }
    croner::Cron::from_str(expr).map_err(|e| format!("is not a valid cron expression: {e}"))
}

/// Parses an IANA time zone name.
pub fn timezone(name: &str) -> Result<chrono_tz::Tz, String> {
    chrono_tz::Tz::from_str(name)
        .map_err(|_| format!("`{name}` is not an IANA time zone (such as UTC or Europe/Paris)"))
}

/// A git branch name as `git check-ref-format --branch` would take it (the common rules).
fn valid_branch(b: &str) -> bool {
    !b.is_empty()
        && b.len() <= 200
        && !b.starts_with(['-', '/', '.'])
        && !b.ends_with(['/', '.'])
        && !b.ends_with(".lock")
        && !b.contains("..")
        && !b.contains("//")
        && !b.contains("@{")
        && !b
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}

/// A branch name, or a pattern with `*` in place of some characters.
fn valid_pattern(p: &str) -> bool {
    valid_branch(&p.replace('*', "x"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::pipelines::{Approval, ParameterValue, Triggers};

    fn pipeline(steps: Vec<Step>) -> PipelineDefinition {
        PipelineDefinition {
            name: "ci".into(),
            description: String::new(),
            parameters: Vec::new(),
            steps,
            triggers: Triggers::default(),
            concurrency: Default::default(),
            on_interrupt: Default::default(),
        }
    }

    /// The field and status an invalid definition is refused with.
    fn refusal(d: &PipelineDefinition) -> Option<(String, u16)> {
        match check_definition(d) {
            Err(AppError::Validation { field, .. }) => Some((field, 400)),
            Err(AppError::Unprocessable { field, .. }) => Some((field, 422)),
            _ => None,
        }
    }

    #[test]
    fn a_sound_definition_passes() {
        let mut ship = Step::command("ship", "make ship");
        ship.depends_on = vec!["test".into()];
        let mut d = pipeline(vec![Step::command("test", "make test"), ship]);
        d.triggers.schedules.push(Schedule {
            cron: "*/2 * * * * *".into(),
            timezone: "Europe/Paris".into(),
            missed: Default::default(),
            missed_cap: None,
            parameters: Default::default(),
        });
        assert!(check_definition(&d).is_ok(), "{:?}", check_definition(&d));
    }

    #[test]
    fn each_fault_names_its_field() {
        let mut cyclic_a = Step::command("a", "true");
        cyclic_a.depends_on = vec!["b".into()];
        let mut cyclic_b = Step::command("b", "true");
        cyclic_b.depends_on = vec!["a".into()];
        assert_eq!(
            refusal(&pipeline(vec![cyclic_a, cyclic_b])),
            Some(("steps".into(), 422))
        );

        let mut glob = Step::command("build", "make");
        glob.artifacts = vec!["dist/[".into()];
        assert_eq!(
            refusal(&pipeline(vec![glob])),
            Some(("steps[0].artifacts[0]".into(), 422))
        );

        let mut outside = Step::command("build", "make");
        outside.cwd = "../elsewhere".into();
        assert_eq!(
            refusal(&pipeline(vec![outside])),
            Some(("steps[0].cwd".into(), 422))
        );

        let mut both = Step::command("gate", "true");
        both.approval = Some(Approval {
            min_role: crate::models::Role::Admin,
            not_triggerer: true,
            timeout_secs: None,
            prompt: String::new(),
        });
        assert_eq!(
            refusal(&pipeline(vec![both])),
            Some(("steps[0]".into(), 422))
        );

        let mut scheduled = pipeline(vec![Step::command("a", "true")]);
        scheduled.triggers.schedules.push(Schedule {
            cron: "61 * * * *".into(),
            timezone: "UTC".into(),
            missed: Default::default(),
            missed_cap: None,
            parameters: Default::default(),
        });
        assert_eq!(
            refusal(&scheduled),
            Some(("triggers.schedules[0].cron".into(), 422))
        );
        scheduled.triggers.schedules[0].cron = "0 3 * * *".into();
        scheduled.triggers.schedules[0].timezone = "Mars/Olympus".into();
        assert_eq!(
            refusal(&scheduled),
            Some(("triggers.schedules[0].timezone".into(), 422))
        );

        let mut typed = pipeline(vec![Step::command("a", "true")]);
        typed.parameters.push(Parameter {
            name: "replicas".into(),
            kind: ParameterKind::Number,
            choices: Vec::new(),
            default: Some(ParameterValue::Text("three".into())),
            required: false,
            description: String::new(),
        });
        assert_eq!(refusal(&typed), Some(("parameters[0].default".into(), 422)));
    }

    #[test]
    fn the_example_in_the_descriptor_docs_passes() {
        #[derive(Debug, serde::Deserialize)]
        struct File {
            pipelines: Vec<PipelineDefinition>,
        }
        let docs = include_str!("../../../../docs/descriptor.md");
        let example = docs
            .split("## Pipelines")
            .nth(1)
            .and_then(|s| s.split("```toml\n").nth(1))
            .and_then(|s| s.split("```").next())
            .unwrap_or_default();
        let file: Result<File, _> = toml::from_str(example);
        assert!(file.is_ok(), "{file:?}");
        let pipelines = file.map(|f| f.pipelines).unwrap_or_default();
        assert_eq!(pipelines.len(), 1);
        for p in &pipelines {
            assert!(check_definition(p).is_ok(), "{:?}", check_definition(p));
        }
    }

    #[test]
    fn cron_takes_five_or_six_fields_and_branches_follow_git_rules() {
        assert!(cron("0 30 2 * * *").is_ok());
        assert!(cron("30 2 * * 1-5").is_ok());
        assert!(cron("* * * *").is_err());
        assert!(valid_branch("release/1.2"));
        assert!(!valid_branch("bad..name"));
        assert!(!valid_branch("with space"));
        assert!(valid_pattern("release/*"));
    }

    /// Every rule on a step, a parameter and the pipeline itself, each broken alone: the field
    /// named, 400 for what the API document states, 422 for what it cannot.
    #[test]
    fn every_rule_names_its_field_and_status() {
        use crate::models::pipelines::{GitTrigger, Missed, Parameter, ParameterValue};
        let gate = || Approval {
            min_role: crate::models::Role::Operator,
            not_triggerer: false,
            timeout_secs: None,
            prompt: String::new(),
        };
        type Change = Box<dyn Fn(&mut Step)>;
        let step_cases: Vec<(Change, &str, u16)> = vec![
            (
                Box::new(|s| s.name = "Not A Slug".into()),
                "steps[0].name",
                400,
            ),
            (
                Box::new(|s| s.command = Some("  ".into())),
                "steps[0].command",
                400,
            ),
            (Box::new(|s| s.command = None), "steps[0]", 422),
            (
                Box::new(move |s| {
                    s.command = None;
                    s.approval = Some(Approval {
                        timeout_secs: Some(0),
                        ..gate()
                    });
                }),
                "steps[0].approval.timeout_secs",
                400,
            ),
            (
                Box::new(move |s| {
                    s.command = None;
                    s.approval = Some(Approval {
                        prompt: "x".repeat(501),
                        ..gate()
                    });
                }),
                "steps[0].approval.prompt",
                400,
            ),
            (
                Box::new(move |s| {
                    s.command = None;
                    s.approval = Some(Approval {
                        min_role: crate::models::Role::Viewer,
                        ..gate()
                    });
                }),
                "steps[0].approval.min_role",
                422,
            ),
            (
                Box::new(move |s| {
                    s.command = None;
                    s.approval = Some(gate());
                    s.test_report = Some("r.xml".into());
                }),
                "steps[0]",
                422,
            ),
            (Box::new(|s| s.cwd = "x".repeat(501)), "steps[0].cwd", 400),
            (
                Box::new(|s| {
                    s.env.insert("1BAD".into(), "v".into());
                }),
                "steps[0].env",
                400,
            ),
            (
                Box::new(|s| {
                    s.env.insert("GOOD".into(), "a\0b".into());
                }),
                "steps[0].env",
                400,
            ),
            (
                Box::new(|s| s.depends_on = (0..51).map(|i| format!("d{i}")).collect()),
                "steps[0].depends_on",
                400,
            ),
            (
                Box::new(|s| s.timeout_secs = Some(0)),
                "steps[0].timeout_secs",
                400,
            ),
            (Box::new(|s| s.retry.count = 11), "steps[0].retry", 400),
            (
                Box::new(|s| s.retry.on_exit_codes = vec![3]),
                "steps[0].retry.count",
                422,
            ),
            (
                Box::new(|s| s.when.branches = (0..21).map(|i| format!("b{i}")).collect()),
                "steps[0].when.branches",
                400,
            ),
            (
                Box::new(|s| s.when.branches = vec!["has space".into()]),
                "steps[0].when.branches",
                422,
            ),
            (
                Box::new(|s| s.artifacts = (0..21).map(|i| format!("a{i}")).collect()),
                "steps[0].artifacts",
                400,
            ),
            (
                Box::new(|s| s.artifacts = vec!["/etc/passwd".into()]),
                "steps[0].artifacts[0]",
                422,
            ),
            (
                Box::new(|s| s.test_report = Some("../report.xml".into())),
                "steps[0].test_report",
                422,
            ),
        ];
        for (change, field, status) in step_cases {
            let mut step = Step::command("build", "make");
            change(&mut step);
            assert_eq!(
                refusal(&pipeline(vec![step])),
                Some((field.to_owned(), status)),
                "{field}"
            );
        }

        let param = |name: &str, kind: ParameterKind| Parameter {
            name: name.into(),
            kind,
            choices: Vec::new(),
            default: None,
            required: false,
            description: String::new(),
        };
        type Params = Box<dyn Fn() -> Vec<Parameter>>;
        let param_cases: Vec<(Params, &str, u16)> = vec![
            (
                Box::new(move || vec![param("Bad", ParameterKind::String)]),
                "parameters[0].name",
                400,
            ),
            (
                Box::new(move || {
                    vec![Parameter {
                        description: "x".repeat(201),
                        ..param("p", ParameterKind::String)
                    }]
                }),
                "parameters[0].description",
                400,
            ),
            (
                Box::new(move || {
                    vec![Parameter {
                        choices: (0..51).map(|i| i.to_string()).collect(),
                        ..param("p", ParameterKind::Choice)
                    }]
                }),
                "parameters[0].choices",
                400,
            ),
            (
                Box::new(move || {
                    vec![Parameter {
                        choices: vec![String::new()],
                        ..param("p", ParameterKind::Choice)
                    }]
                }),
                "parameters[0].choices",
                422,
            ),
            (
                Box::new(move || vec![param("p", ParameterKind::Choice)]),
                "parameters[0].choices",
                422,
            ),
            (
                Box::new(move || {
                    vec![Parameter {
                        choices: vec!["a".into()],
                        ..param("p", ParameterKind::String)
                    }]
                }),
                "parameters[0].choices",
                422,
            ),
            (
                Box::new(move || {
                    vec![Parameter {
                        default: Some(ParameterValue::Text("x".into())),
                        ..param("p", ParameterKind::Number)
                    }]
                }),
                "parameters[0].default",
                422,
            ),
            (
                Box::new(move || {
                    vec![
                        param("p", ParameterKind::String),
                        param("p", ParameterKind::Boolean),
                    ]
                }),
                "parameters[1].name",
                422,
            ),
            (
                Box::new(move || {
                    (0..31)
                        .map(|i| param(&format!("p{i}"), ParameterKind::String))
                        .collect()
                }),
                "parameters",
                400,
            ),
        ];
        for (params, field, status) in param_cases {
            let mut d = pipeline(vec![Step::command("a", "true")]);
            d.parameters = params();
            assert_eq!(refusal(&d), Some((field.to_owned(), status)), "{field}");
        }

        let schedule = |cron: &str, zone: &str| Schedule {
            cron: cron.into(),
            timezone: zone.into(),
            missed: Missed::All,
            missed_cap: None,
            parameters: Default::default(),
        };
        type Whole = Box<dyn Fn(&mut PipelineDefinition)>;
        let whole_cases: Vec<(Whole, &str, u16)> = vec![
            (Box::new(|d| d.name = "Nope!".into()), "name", 400),
            (
                Box::new(|d| d.description = "x".repeat(201)),
                "description",
                400,
            ),
            (Box::new(|d| d.steps.clear()), "steps", 400),
            (
                Box::new(move |d| {
                    d.triggers.schedules = (0..11).map(|_| schedule("* * * * *", "UTC")).collect()
                }),
                "triggers.schedules",
                400,
            ),
            (
                Box::new(move |d| d.triggers.schedules = vec![schedule(&"1 ".repeat(101), "UTC")]),
                "triggers.schedules[0].cron",
                400,
            ),
            (
                Box::new(move |d| {
                    d.triggers.schedules = vec![schedule("* * * * *", "Mars/Olympus")]
                }),
                "triggers.schedules[0].timezone",
                422,
            ),
            (
                Box::new(move |d| {
                    d.triggers.schedules = vec![Schedule {
                        missed_cap: Some(0),
                        ..schedule("* * * * *", "UTC")
                    }]
                }),
                "triggers.schedules[0].missed_cap",
                400,
            ),
            (
                Box::new(move |d| {
                    let mut s = schedule("* * * * *", "UTC");
                    s.parameters
                        .insert("nope".into(), ParameterValue::Boolean(true));
                    d.triggers.schedules = vec![s];
                }),
                "triggers.schedules[0].parameters.nope",
                422,
            ),
            (
                Box::new(|d| {
                    d.triggers.git = Some(GitTrigger {
                        branch: "a..b".into(),
                    })
                }),
                "triggers.git.branch",
                422,
            ),
        ];
        for (change, field, status) in whole_cases {
            let mut d = pipeline(vec![Step::command("a", "true")]);
            change(&mut d);
            assert_eq!(refusal(&d), Some((field.to_owned(), status)), "{field}");
        }
    }
}
