//! The optional `optimus.toml` a project may carry: it overrides detection (name, description,
//! commands), declares services, and fills tags, owner and lifecycle unless a user set them.
//! The format is documented in `docs/descriptor.md`.

use super::detect::Detection;
use crate::models::catalog::{CommandKind, ProjectInfo, ProposedCommand, ServiceSpec, LIFECYCLES};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// The file name.
pub const FILE: &str = "optimus.toml";

/// Commands by purpose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    /// Fetch dependencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<String>,
    /// Build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// Test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// Run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptor {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// One-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Lifecycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
    /// Commands.
    #[serde(default, skip_serializing_if = "is_default")]
    pub commands: Commands,
    /// Services.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceSpec>,
    /// Pipelines (`[[pipelines]]`, the API's definition shape); the pipelines feature checks
    /// each in full when it takes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipelines: Vec<crate::models::pipelines::PipelineDefinition>,
}

fn is_default(c: &Commands) -> bool {
    *c == Commands::default()
}

impl Descriptor {
    /// Parses and checks the file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let d: Descriptor = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        if let Some(l) = &d.lifecycle {
            if !LIFECYCLES.contains(&l.as_str()) {
                return Err(format!(
                    "lifecycle `{l}` must be one of {}",
                    LIFECYCLES.join(", ")
                ));
            }
        }
        let mut names = BTreeSet::new();
        for s in &d.services {
            if s.name.trim().is_empty() || s.command.trim().is_empty() {
                return Err("every service needs a name and a command".into());
            }
            if !names.insert(s.name.as_str()) {
                return Err(format!("service `{}` is declared twice", s.name));
            }
        }
        for s in &d.services {
            if let Some(crate::models::catalog::PortSpec::Keyword(k)) = &s.port {
                if k != "auto" {
                    return Err(format!(
                        "service `{}`: port must be a number or \"auto\" (got \"{k}\")",
                        s.name
                    ));
                }
            }
            for (which, p) in [
                ("startup", &s.startup),
                ("readiness", &s.readiness),
                ("liveness", &s.liveness),
            ] {
                if p.as_ref().is_some_and(|p| p.kinds() != 1) {
                    return Err(format!(
                        "service `{}`: {which} needs exactly one of http, tcp, exec or log",
                        s.name
                    ));
                }
            }
            if let Some(r) = &s.restart {
                if !["never", "on-failure", "always"].contains(&r.as_str()) {
                    return Err(format!(
                        "service `{}`: restart must be never, on-failure or always",
                        s.name
                    ));
                }
            }
            if let Some(dep) = s.depends_on.iter().find(|d| !names.contains(d.as_str())) {
                return Err(format!(
                    "service `{}` depends on unknown service `{dep}`",
                    s.name
                ));
            }
        }
        let mut pipelines = BTreeSet::new();
        for p in &d.pipelines {
            if !pipelines.insert(p.name.as_str()) {
                return Err(format!("pipeline `{}` is declared twice", p.name));
            }
        }
        Ok(d)
    }

    /// Applies the file over what detection found.
    pub fn apply(&self, d: &mut Detection) {
        if let Some(n) = self.name.clone().filter(|n| !n.trim().is_empty()) {
            d.name = Some(n);
        }
        if let Some(desc) = self.description.clone() {
            d.description = Some(desc);
        }
        for (kind, cmd) in [
            (CommandKind::Install, &self.commands.install),
            (CommandKind::Build, &self.commands.build),
            (CommandKind::Test, &self.commands.test),
            (CommandKind::Run, &self.commands.run),
        ] {
            if let Some(cmd) = cmd {
                d.commands.retain(|c| c.kind != kind);
                d.commands.push(ProposedCommand {
                    kind,
                    command: cmd.clone(),
                    cwd: ".".into(),
                    source: FILE.into(),
                });
            }
        }
        if let Some(port) = self.services.iter().find_map(|s| s.fixed_port()) {
            d.port = Some(port);
        }
    }

    /// The file for a cataloged project, as a user would want it exported.
    pub fn from_project(p: &ProjectInfo) -> Self {
        let first = |kind: CommandKind| {
            p.commands
                .iter()
                .find(|c| c.kind == kind)
                .map(|c| c.command.clone())
        };
        Descriptor {
            name: Some(p.name.clone()),
            description: p.description.clone(),
            tags: p.tags.clone(),
            owner: p.owner.clone(),
            lifecycle: p.lifecycle.clone(),
            commands: Commands {
                install: first(CommandKind::Install),
                build: first(CommandKind::Build),
                test: first(CommandKind::Test),
                run: first(CommandKind::Run),
            },
            services: p.services.clone(),
            pipelines: Vec::new(),
        }
    }

    /// TOML text.
    pub fn render(&self) -> String {
        let body = toml::to_string_pretty(self).unwrap_or_default();
        format!("# Optimus project descriptor; see docs/descriptor.md.\n{body}")
    }
}

/// Reads `optimus.toml` in `dir`: `None` when absent, `Err` with the reason when unusable.
pub fn read(dir: &Path) -> Option<Result<Descriptor, String>> {
    let text = std::fs::read_to_string(dir.join(FILE)).ok()?;
    Some(Descriptor::parse(&text).map_err(|e| format!("{FILE}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
name = "Billing API"
description = "Invoices and payments"
tags = ["backend", "payments"]
owner = "team-billing"
lifecycle = "active"

[commands]
run = "cargo run --bin api"

[[services]]
name = "db"
command = "postgres -D data"
port = 5433

[[services]]
name = "api"
command = "cargo run --bin api"
port = 8080
env = { RUST_LOG = "info" }
depends_on = ["db"]
"#;

    #[test]
    fn the_example_in_the_docs_parses_and_its_deploy_settings_pass() {
        let docs = include_str!("../../../../docs/descriptor.md");
        let example = docs
            .split("```toml\n")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .unwrap_or_default();
        let parsed = Descriptor::parse(example);
        assert!(parsed.is_ok(), "{parsed:?}");
        let services = parsed.map(|d| d.services).unwrap_or_default();
        for s in &services {
            assert_eq!(s.deploy.check(), Ok(()), "{}", s.name);
            assert_eq!(s.deploy.check_rules(), Ok(()), "{}", s.name);
        }
        let web = services.iter().find(|s| s.name == "web");
        assert!(web.is_some_and(|w| w.deploy.pre_deploy.is_some()));
        let admin = services.iter().find(|s| s.name == "admin");
        assert!(admin
            .is_some_and(|a| a.deploy.target == crate::models::deployments::DeployTarget::Docker));
    }

    #[test]
    fn a_descriptor_overrides_detection() {
        let desc = Descriptor::parse(SAMPLE).unwrap_or_default();
        let mut d = Detection {
            name: Some("billing".into()),
            ..Detection::default()
        };
        d.commands.push(ProposedCommand {
            kind: CommandKind::Run,
            command: "cargo run".into(),
            cwd: ".".into(),
            source: "Cargo.toml".into(),
        });
        desc.apply(&mut d);
        assert_eq!(d.name.as_deref(), Some("Billing API"));
        let run: Vec<_> = d
            .commands
            .iter()
            .filter(|c| c.kind == CommandKind::Run)
            .collect();
        assert_eq!(run.len(), 1);
        assert_eq!(run[0].source, "optimus.toml");
        assert_eq!(desc.services.len(), 2);
        assert_eq!(
            desc.services[1].env.get("RUST_LOG").map(String::as_str),
            Some("info")
        );
    }

    #[test]
    fn pipelines_are_declared_with_their_steps_and_triggers() {
        let text = r#"
[[pipelines]]
name = "ci"
[[pipelines.parameters]]
name = "target"
type = "choice"
choices = ["staging", "production"]
default = "staging"
[[pipelines.steps]]
name = "test"
command = "cargo test"
test_report = "target/junit.xml"
[[pipelines.steps]]
name = "approve"
depends_on = ["test"]
approval = { min_role = "admin" }
[[pipelines.triggers.schedules]]
cron = "0 0 3 * * *"
timezone = "Europe/Paris"
"#;
        let d = Descriptor::parse(text);
        assert!(d.is_ok(), "{d:?}");
        let d = d.unwrap_or_default();
        assert_eq!(d.pipelines.len(), 1);
        assert_eq!(d.pipelines[0].steps.len(), 2);
        assert_eq!(
            d.pipelines[0].triggers.schedules[0].timezone,
            "Europe/Paris"
        );
        let twice =
            "[[pipelines]]\nname = \"ci\"\nsteps = []\n[[pipelines]]\nname = \"ci\"\nsteps = []\n";
        assert!(Descriptor::parse(twice).is_err_and(|e| e.contains("declared twice")));
        let typo = "[[pipelines]]\nname = \"ci\"\nsteps = []\nstpes = []\n";
        assert!(Descriptor::parse(typo).is_err_and(|e| e.contains("stpes")));
    }

    #[test]
    fn mistakes_are_reported_with_the_reason() {
        assert!(Descriptor::parse("nmae = \"x\"").is_err_and(|e| e.contains("nmae")));
        assert!(
            Descriptor::parse("lifecycle = \"forever\"").is_err_and(|e| e.contains("lifecycle"))
        );
        let dangling = "[[services]]\nname = \"a\"\ncommand = \"x\"\ndepends_on = [\"b\"]\n";
        assert!(Descriptor::parse(dangling).is_err_and(|e| e.contains("unknown service `b`")));
    }

    #[test]
    fn an_exported_descriptor_parses_back() {
        let desc = Descriptor::parse(SAMPLE).unwrap_or_default();
        assert_eq!(Descriptor::parse(&desc.render()), Ok(desc));
    }
}
