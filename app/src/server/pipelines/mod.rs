//! Pipelines: a project's build, test and release steps run as a DAG, on triggers, exactly once
//! across instances. This folder is the feature's home: the checks a definition passes before
//! anything is saved ([`definitions`]) and the definitions themselves, in step with the
//! project's `optimus.toml` ([`defining`]). Runs, the executor, schedules and triggers join it
//! here.

pub mod defining;
pub mod definitions;
pub mod entities;
mod repo;

pub use defining::{create, delete, get, list, update};
pub use definitions::check_definition;
