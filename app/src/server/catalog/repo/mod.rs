//! The catalog feature's queries, the only code that touches its entities. Each function takes
//! `&impl ConnectionTrait`, so it works on the pool and inside a transaction alike.

pub mod activity;
mod columns;
pub mod dependencies;
pub mod projects;
pub mod workspaces;
