//! Roles, token scopes, and the one table of who may do what.
//!
//! Every server function names its [`Operation`]; the service layer checks the caller against
//! [`Operation::required_role`] and [`Operation::required_scope`]. The dashboard reads the same
//! table to decide which actions to offer, so the UI never promises what the server refuses.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A user's role; each includes the powers of the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything that is not secret.
    Viewer,
    /// Also starts, stops and changes projects.
    Operator,
    /// Also manages users and settings.
    Admin,
    /// Created at first run; cannot be removed.
    Owner,
}

impl Role {
    /// All roles, lowest first.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Admin, Role::Owner];

    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                format!("unknown role `{s}` (expected viewer, operator, admin or owner)")
            })
    }

    /// The scopes a token owned by a user of this role may carry.
    pub fn grantable_scopes(self) -> &'static [Scope] {
        match self {
            Role::Viewer => &[Scope::Read],
            Role::Operator => &[Scope::Read, Scope::Write, Scope::Deploy],
            Role::Admin | Role::Owner => &Scope::ALL,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an API token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Scope {
    /// Read non-secret data.
    #[serde(rename = "read")]
    Read,
    /// Read secret values (environment secrets).
    #[serde(rename = "read:secrets")]
    ReadSecrets,
    /// Change things.
    #[serde(rename = "write")]
    Write,
    /// Deploy and roll back.
    #[serde(rename = "deploy")]
    Deploy,
    /// Manage users, tokens and settings.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 5] = [
        Scope::Read,
        Scope::ReadSecrets,
        Scope::Write,
        Scope::Deploy,
        Scope::Admin,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::ReadSecrets => "read:secrets",
            Scope::Write => "write",
            Scope::Deploy => "deploy",
            Scope::Admin => "admin",
        }
    }

    /// Whether a token holding this scope may do what `needed` allows: each scope allows itself,
    /// and `write` also allows `read` (a change answers with what it changed, as on GitHub).
    pub fn includes(self, needed: Scope) -> bool {
        self == needed || (self == Scope::Write && needed == Scope::Read)
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                format!("unknown scope `{s}` (expected read, read:secrets, write, deploy or admin)")
            })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every operation a caller can ask for. Public operations (setup, login, status) are not
/// listed: they need no identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// See who you are.
    ViewSelf,
    /// End your own session.
    Logout,
    /// Change your own password.
    ChangeOwnPassword,
    /// List your API tokens.
    ListTokens,
    /// Create an API token for yourself.
    CreateToken,
    /// Revoke one of your API tokens.
    RevokeToken,
    /// List users.
    ListUsers,
    /// Create a user.
    CreateUser,
    /// Change a user's role.
    ChangeUserRole,
    /// Delete a user.
    DeleteUser,
    /// Read the audit log.
    ReadAudit,
    /// Subscribe to live events.
    SubscribeEvents,
    /// List and read workspaces and projects.
    ReadCatalog,
    /// Add, remove and scan workspaces.
    ManageWorkspaces,
    /// Edit, tag, favorite, archive, add and remove catalog entries.
    EditProjects,
    /// See services, their runs, logs and ports.
    ReadRuntime,
    /// Start, stop and restart services.
    ControlServices,
    /// Add, change and remove service definitions.
    EditServices,
    /// See environments and non-secret variables.
    ReadEnvironments,
    /// Add, change and remove environments and variables (secrets included: write-only).
    EditEnvironments,
    /// Read secret values.
    RevealSecrets,
    /// See the notification centre and mark notifications read.
    ReadNotifications,
    /// See deliberations, personas, memories and the knowledge graph.
    ReadCouncil,
    /// Ask the council and record outcomes.
    Deliberate,
    /// Edit and add personas.
    EditPersonas,
    /// Edit, pin and forget memories.
    ManageMemories,
    /// See pipelines, their runs and logs.
    ReadPipelines,
    /// Add, change and remove pipeline definitions.
    EditPipelines,
    /// Start, cancel and rerun pipeline runs.
    RunPipelines,
    /// Approve or reject a pipeline's gate (the gate's own minimum role applies too).
    DecideGates,
    /// See deployments and releases.
    ReadDeployments,
    /// Deploy, roll back, pin releases.
    Deploy,
    /// See backup policies, snapshots, jobs and a snapshot's files.
    ReadBackups,
    /// Add, change and remove backup policies.
    EditBackups,
    /// Back up and verify now.
    RunBackups,
    /// Restore a snapshot to a new path.
    RestoreBackups,
    /// Read a backup repository's password (to open it with plain `restic`).
    RevealBackupPassword,
    /// See Optimus's backups of itself and back it up now.
    BackUpOptimus,
    /// See notification channels (without their secrets), rules, maintenance windows and the
    /// delivery log.
    ReadNotificationChannels,
    /// Add, change, remove and test notification channels and rules; resend dead deliveries.
    ManageNotificationChannels,
    /// Add and end maintenance windows that mute notifications.
    MuteNotifications,
    /// Set the GitHub token and API base URL.
    ConfigureGitHub,
}

impl Operation {
    /// Every operation, for tables and tests.
    pub const ALL: [Operation; 42] = [
        Operation::ViewSelf,
        Operation::Logout,
        Operation::ChangeOwnPassword,
        Operation::ListTokens,
        Operation::CreateToken,
        Operation::RevokeToken,
        Operation::ListUsers,
        Operation::CreateUser,
        Operation::ChangeUserRole,
        Operation::DeleteUser,
        Operation::ReadAudit,
        Operation::SubscribeEvents,
        Operation::ReadCatalog,
        Operation::ManageWorkspaces,
        Operation::EditProjects,
        Operation::ReadRuntime,
        Operation::ControlServices,
        Operation::EditServices,
        Operation::ReadEnvironments,
        Operation::EditEnvironments,
        Operation::RevealSecrets,
        Operation::ReadNotifications,
        Operation::ReadCouncil,
        Operation::Deliberate,
        Operation::EditPersonas,
        Operation::ManageMemories,
        Operation::ReadPipelines,
        Operation::EditPipelines,
        Operation::RunPipelines,
        Operation::DecideGates,
        Operation::ReadDeployments,
        Operation::Deploy,
        Operation::ReadBackups,
        Operation::EditBackups,
        Operation::RunBackups,
        Operation::RestoreBackups,
        Operation::RevealBackupPassword,
        Operation::BackUpOptimus,
        Operation::ReadNotificationChannels,
        Operation::ManageNotificationChannels,
        Operation::MuteNotifications,
        Operation::ConfigureGitHub,
    ];

    /// The table: the lowest role, and the token scope, each operation needs.
    /// Managing tokens through a token needs `admin` so a narrow token cannot mint a wider one.
    pub fn requirement(self) -> (Role, Scope) {
        use Operation::*;
        match self {
            ViewSelf | Logout | SubscribeEvents | ReadCatalog | ReadRuntime | ReadEnvironments
            | ReadNotifications | ReadCouncil | ReadPipelines | ReadDeployments | ReadBackups => {
                (Role::Viewer, Scope::Read)
            }
            Deploy => (Role::Operator, Scope::Deploy),
            ManageWorkspaces | EditProjects | ControlServices | EditServices | EditEnvironments
            | Deliberate | ManageMemories | EditPipelines | RunPipelines | DecideGates
            | EditBackups | RunBackups | RestoreBackups | MuteNotifications => {
                (Role::Operator, Scope::Write)
            }
            ReadNotificationChannels => (Role::Operator, Scope::Read),
            ListTokens => (Role::Viewer, Scope::Read),
            ChangeOwnPassword | CreateToken | RevokeToken => (Role::Viewer, Scope::Admin),
            ListUsers | ReadAudit => (Role::Admin, Scope::Read),
            RevealSecrets | RevealBackupPassword => (Role::Admin, Scope::ReadSecrets),
            EditPersonas | BackUpOptimus | ManageNotificationChannels | ConfigureGitHub => {
                (Role::Admin, Scope::Write)
            }
            CreateUser | ChangeUserRole | DeleteUser => (Role::Admin, Scope::Admin),
        }
    }

    /// The lowest role allowed.
    pub fn required_role(self) -> Role {
        self.requirement().0
    }

    /// The scope an API token needs.
    pub fn required_scope(self) -> Scope {
        self.requirement().1
    }

    /// Whether a user with `role` may perform this (ignoring token scopes).
    pub fn allowed_for(self, role: Role) -> bool {
        role >= self.required_role()
    }

    /// A short name used in audit entries and error messages.
    pub fn name(self) -> &'static str {
        use Operation::*;
        match self {
            ViewSelf => "auth.me",
            Logout => "auth.logout",
            ChangeOwnPassword => "auth.change_password",
            ListTokens => "tokens.list",
            CreateToken => "tokens.create",
            RevokeToken => "tokens.revoke",
            ListUsers => "users.list",
            CreateUser => "users.create",
            ChangeUserRole => "users.update_role",
            DeleteUser => "users.delete",
            ReadAudit => "audit.list",
            SubscribeEvents => "events.subscribe",
            ReadCatalog => "catalog.read",
            ManageWorkspaces => "workspaces.manage",
            EditProjects => "projects.edit",
            ReadRuntime => "runtime.read",
            ControlServices => "services.control",
            EditServices => "services.edit",
            ReadEnvironments => "environments.read",
            EditEnvironments => "environments.edit",
            RevealSecrets => "secrets.read",
            ReadNotifications => "notifications.read",
            ReadCouncil => "council.read",
            Deliberate => "council.deliberate",
            EditPersonas => "council.personas",
            ManageMemories => "council.memories",
            ReadPipelines => "pipelines.read",
            EditPipelines => "pipelines.edit",
            RunPipelines => "pipelines.run",
            DecideGates => "pipelines.decide",
            ReadDeployments => "deployments.read",
            Deploy => "deployments.deploy",
            ReadBackups => "backups.read",
            EditBackups => "backups.edit",
            RunBackups => "backups.run",
            RestoreBackups => "backups.restore",
            RevealBackupPassword => "backups.password",
            BackUpOptimus => "backups.self",
            ReadNotificationChannels => "notifications.channels.read",
            ManageNotificationChannels => "notifications.channels.manage",
            MuteNotifications => "notifications.mute",
            ConfigureGitHub => "github.configure",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_viewer_to_owner() {
        assert!(Role::Viewer < Role::Operator);
        assert!(Role::Operator < Role::Admin);
        assert!(Role::Admin < Role::Owner);
    }

    #[test]
    fn a_viewer_may_read_but_not_manage_users() {
        assert!(Operation::ViewSelf.allowed_for(Role::Viewer));
        assert!(!Operation::ListUsers.allowed_for(Role::Viewer));
        assert!(!Operation::CreateUser.allowed_for(Role::Operator));
        assert!(Operation::CreateUser.allowed_for(Role::Admin));
        assert!(Operation::DeleteUser.allowed_for(Role::Owner));
    }

    #[test]
    fn token_management_through_a_token_needs_the_admin_scope() {
        assert_eq!(Operation::CreateToken.required_scope(), Scope::Admin);
        assert_eq!(Operation::RevokeToken.required_scope(), Scope::Admin);
    }

    #[test]
    fn scopes_round_trip_through_their_wire_names() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Ok(s));
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert!(Scope::parse("root").is_err());
    }

    #[test]
    fn write_includes_read_and_nothing_else_includes_another() {
        for held in Scope::ALL {
            for needed in Scope::ALL {
                let expected = held == needed || (held == Scope::Write && needed == Scope::Read);
                assert_eq!(held.includes(needed), expected, "{held} → {needed}");
            }
        }
    }

    #[test]
    fn viewers_may_only_grant_read() {
        assert_eq!(Role::Viewer.grantable_scopes(), &[Scope::Read]);
        assert!(!Role::Operator.grantable_scopes().contains(&Scope::Admin));
        assert!(Role::Owner.grantable_scopes().contains(&Scope::ReadSecrets));
    }

    #[test]
    fn every_operation_has_a_distinct_name() {
        let mut names: Vec<_> = Operation::ALL.iter().map(|o| o.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Operation::ALL.len());
    }
}
