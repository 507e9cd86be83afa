//! Pages: each owns its resources and actions.

pub mod audit;
pub mod backups;
pub mod council;
pub mod deployments;
pub mod error;
pub mod home;
pub mod login;
pub mod not_found;
pub mod notifications;
pub mod pipelines;
pub mod project;
pub mod projects;
pub mod setup;
pub mod shell;
pub mod tokens;
pub mod users;
