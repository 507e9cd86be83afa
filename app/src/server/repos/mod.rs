//! Per-aggregate data access. Each function takes `&impl ConnectionTrait`, so it works on the
//! pool and inside a transaction alike. No SQL dialect appears here.

pub mod activity;
pub mod api_tokens;
pub mod audit;
pub mod dependencies;
pub mod environments;
pub mod notifications;
pub mod projects;
pub mod samples;
pub mod services;
pub mod sessions;
pub mod users;
pub mod workspaces;
