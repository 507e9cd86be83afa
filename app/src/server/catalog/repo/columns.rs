//! How a project's columns are stored, and read back: JSON text (portable across SQLite and
//! PostgreSQL) and ` rust node ` stacks. A column that cannot be read is an error naming the
//! project ([`Undecodable`]), never an empty default.

use crate::models::catalog::{
    CommandKind, Component, GitState, ProjectInfo, ProposedCommand, Stack,
};
use crate::server::catalog::entities::project;
use crate::server::stored::{self, Undecodable};

/// Stacks as stored: ` rust node ` (delimited on both sides for LIKE matching).
pub fn format_stacks(stacks: &[Stack]) -> String {
    let mut s = String::from(" ");
    for k in stacks {
        s.push_str(k.as_str());
        s.push(' ');
    }
    s
}

/// Stacks stored as by [`format_stacks`], or an error naming row `id` when one is unknown.
pub fn parse_stacks(id: i64, stored: &str) -> Result<Vec<Stack>, Undecodable> {
    stored::parse(TABLE, id, "stacks", stored, |text| {
        text.split_whitespace().map(Stack::parse).collect()
    })
}

/// Tags stored as JSON, or an error naming row `id`.
pub fn parse_tags(id: i64, stored: &str) -> Result<Vec<String>, Undecodable> {
    stored::decode(TABLE, id, "tags", stored)
}

/// The project's stacks.
pub fn stacks(m: &project::Model) -> Result<Vec<Stack>, Undecodable> {
    parse_stacks(m.id, &m.stacks)
}

/// The project's tags.
pub fn tags(m: &project::Model) -> Result<Vec<String>, Undecodable> {
    parse_tags(m.id, &m.tags)
}

/// The project's git state (none outside a repository).
pub fn git(m: &project::Model) -> Result<Option<GitState>, Undecodable> {
    stored::decode_optional(TABLE, m.id, "git", m.git.as_deref())
}

const TABLE: &str = "projects";

pub(super) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn decode<T: serde::de::DeserializeOwned>(
    m: &project::Model,
    column: &'static str,
    text: &str,
) -> Result<T, Undecodable> {
    stored::decode(TABLE, m.id, column, text)
}

/// What the user set by hand; rescans keep it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Overrides {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Commands by kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<(CommandKind, String)>,
    /// Of `tags`, `owner`, `lifecycle`: those a user set, which an `optimus.toml` no longer fills.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curated: Vec<String>,
}

impl Overrides {
    /// The project's overrides.
    pub fn of(m: &project::Model) -> Result<Self, Undecodable> {
        decode(m, "overrides", &m.overrides)
    }

    /// The detected commands with the user's replacing those of the same kind.
    pub fn apply_commands(&self, detected: Vec<ProposedCommand>) -> Vec<ProposedCommand> {
        let mut out: Vec<ProposedCommand> = detected
            .into_iter()
            .filter(|c| !self.commands.iter().any(|(k, _)| *k == c.kind))
            .collect();
        for (kind, command) in &self.commands {
            out.push(ProposedCommand {
                kind: *kind,
                command: command.clone(),
                cwd: ".".into(),
                source: "set by a user".into(),
            });
        }
        out.sort_by_key(|c| c.kind);
        out
    }

    fn fields(&self) -> Vec<String> {
        let mut f = Vec::new();
        if self.name.is_some() {
            f.push("name".to_owned());
        }
        if self.description.is_some() {
            f.push("description".to_owned());
        }
        if !self.commands.is_empty() {
            f.push("commands".to_owned());
        }
        f
    }
}

impl TryFrom<project::Model> for ProjectInfo {
    type Error = Undecodable;

    fn try_from(m: project::Model) -> Result<Self, Undecodable> {
        let overrides = Overrides::of(&m)?;
        let commands: Vec<ProposedCommand> = decode(&m, "commands", &m.commands)?;
        Ok(ProjectInfo {
            id: m.id,
            workspace_id: m.workspace_id,
            stacks: stacks(&m)?,
            frameworks: decode(&m, "frameworks", &m.frameworks)?,
            commands: overrides.apply_commands(commands),
            tags: tags(&m)?,
            owner: m.owner.clone(),
            lifecycle: m.lifecycle.clone(),
            favorite: m.favorite,
            archived: m.archived,
            overridden: overrides.fields(),
            services: decode(&m, "services", &m.services)?,
            port: m.port.and_then(|p| u16::try_from(p).ok()),
            components: decode::<Vec<Component>>(&m, "components", &m.components)?,
            git: git(&m)?,
            errors: decode(&m, "errors", &m.errors)?,
            name: m.name,
            path: m.path,
            description: m.description,
            status: m.status,
            scanned_at: m.scanned_at,
        })
    }
}

/// The value of a column a scan keeps, or None when it cannot be read: then the column is noted
/// in `reset` and the error in the project's `errors`.
pub(super) fn kept_or_reset<T>(
    read: Result<T, Undecodable>,
    errors: &mut Vec<String>,
    reset: &mut Vec<&'static str>,
) -> Option<T> {
    match read {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(format!("{e}; reset by this scan"));
            reset.push(e.column);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    /// A project as a scan stores it: rust and node, one tag, inside git.
    fn stored() -> project::Model {
        let git = GitState {
            branch: Some("main".into()),
            detached: false,
            dirty: false,
            staged: 0,
            modified: 0,
            untracked: 0,
            ahead: 2,
            behind: 0,
            upstream: None,
            last_commit: None,
            remote_url: None,
        };
        let service: crate::models::catalog::ServiceSpec = toml::from_str(
            r#"
            name = "web"
            command = "npm start"
            port = "auto"
            readiness = { http = "/health", status = 200 }
            limits = { memory_mb = 256 }
            alerts = [{ metric = "cpu", above = 90.0, for_secs = 30 }]
            "#,
        )
        .unwrap_or_else(|e| panic!("a service spec: {e}"));
        project::Model {
            id: 5,
            workspace_id: Some(1),
            name: "shop".into(),
            path: "/srv/shop".into(),
            description: None,
            stacks: format_stacks(&[Stack::Rust, Stack::Node]),
            frameworks: json(&vec!["axum".to_owned()]),
            commands: json(&vec![ProposedCommand {
                kind: CommandKind::Build,
                command: "cargo build".into(),
                cwd: ".".into(),
                source: "Cargo.toml".into(),
            }]),
            port: Some(3000),
            components: json(&vec![Component {
                name: "ui".into(),
                path: "ui".into(),
                stacks: vec![Stack::Node],
            }]),
            git: Some(json(&git)),
            status: "present".into(),
            errors: json(&Vec::<String>::new()),
            fingerprint: "f".into(),
            search_text: "shop".into(),
            scanned_at: Utc::now(),
            created_at: Utc::now(),
            tags: json(&vec!["backend".to_owned()]),
            owner: None,
            lifecycle: None,
            favorite: false,
            archived: false,
            overrides: json(&Overrides {
                commands: vec![(CommandKind::Run, "cargo run".into())],
                ..Default::default()
            }),
            git_dirty: Some(false),
            git_ahead: Some(2),
            git_behind: Some(0),
            last_commit_at: None,
            services: json(&vec![service]),
        }
    }

    fn error(m: project::Model) -> String {
        ProjectInfo::try_from(m)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn a_stored_project_reads_back_as_it_was_written() {
        let info = ProjectInfo::try_from(stored()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(info.stacks, vec![Stack::Rust, Stack::Node]);
        assert_eq!(info.tags, vec!["backend".to_owned()]);
        assert_eq!(info.frameworks, vec!["axum".to_owned()]);
        assert_eq!(info.git.as_ref().map(|g| g.ahead), Some(2));
        assert_eq!(info.components.len(), 1);
        assert_eq!(info.services.len(), 1);
        assert_eq!(info.services[0].limits.memory_mb, Some(256));
        assert_eq!(info.overridden, vec!["commands".to_owned()]);
        let kinds: Vec<CommandKind> = info.commands.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, vec![CommandKind::Build, CommandKind::Run]);
    }

    #[test]
    fn an_unreadable_stacks_column_names_the_project() {
        let mut m = stored();
        m.stacks = " rust zig ".into();
        let err = error(m);
        assert!(
            err.starts_with("projects row 5: column `stacks` cannot be read")
                && err.contains("zig"),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_tags_column_names_the_project() {
        let mut m = stored();
        m.tags = r#"{"backend": true}"#.into();
        assert!(
            error(m).starts_with("projects row 5: column `tags` cannot be read"),
            "tags"
        );
        assert!(parse_tags(8, "[").is_err_and(|e| e.id == 8 && e.column == "tags"));
    }

    #[test]
    fn an_unreadable_git_column_names_the_project_and_none_is_outside_git() {
        let mut m = stored();
        m.git = Some(r#"{"branch": 3}"#.into());
        assert!(
            error(m.clone()).starts_with("projects row 5: column `git` cannot be read"),
            "git"
        );
        m.git = None;
        assert_eq!(git(&m), Ok(None));
    }

    #[test]
    fn every_other_unreadable_json_column_names_the_project() {
        for column in [
            "frameworks",
            "commands",
            "components",
            "errors",
            "services",
            "overrides",
        ] {
            let mut m = stored();
            let text = "not json".to_owned();
            match column {
                "frameworks" => m.frameworks = text,
                "commands" => m.commands = text,
                "components" => m.components = text,
                "errors" => m.errors = text,
                "services" => m.services = text,
                _ => m.overrides = text,
            }
            let err = error(m);
            assert!(
                err.starts_with(&format!("projects row 5: column `{column}` cannot be read")),
                "{column}: {err}"
            );
        }
    }

    #[test]
    fn a_scan_resets_an_unreadable_kept_column_and_says_so() {
        let (mut errors, mut reset) = (Vec::new(), Vec::new());
        let mut m = stored();
        m.tags = "[".into();
        assert_eq!(kept_or_reset(tags(&m), &mut errors, &mut reset), None);
        assert_eq!(reset, vec!["tags"]);
        assert!(
            errors.len() == 1
                && errors[0].starts_with("projects row 5: column `tags`")
                && errors[0].ends_with("reset by this scan"),
            "{errors:?}"
        );
        let kept = kept_or_reset(Overrides::of(&stored()), &mut errors, &mut reset);
        assert!(kept.is_some_and(|o| o.commands.len() == 1));
        assert_eq!(reset, vec!["tags"], "a readable column is kept as it is");
    }
}
