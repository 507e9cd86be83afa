//! Server functions: the `/api/v1/<area>/<action>` JSON API used by the dashboard and by scripts.
//! Each is declared once with `endpoint!` (path, who may call it, request, response) and is thin:
//! the declaration authenticates and authorises the caller, the body calls one service.

#[macro_use]
pub mod endpoint;

pub mod audit;
pub mod auth;
pub mod backups;
pub mod catalog;
pub mod council;
pub mod deployments;
pub mod environments;
pub mod github;
pub mod notifications;
pub mod pipelines;
pub mod runtime;
pub mod tokens;
pub mod users;

/// The prefix every server function is served under.
pub const PREFIX: &str = "/api/v1";
