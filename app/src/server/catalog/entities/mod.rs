//! SeaORM entities of workspaces, projects, their timeline and dependencies: table rows, server-only, touched only by this
//! feature's repository. Wire types live in `crate::models`.

pub mod project;
pub mod project_activity;
pub mod project_dependency;
pub mod workspace;
