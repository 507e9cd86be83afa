//! Pipelines: a project's build, test and release steps run as a DAG, on triggers, exactly once
//! across instances. This folder is the feature's home: the checks a definition passes before
//! anything is saved ([`definitions`]) and the definitions themselves, in step with the
//! project's `optimus.toml` ([`defining`]), and the rules a run follows, decided without I/O
//! ([`plan`]: what starts, waits or is skipped, retries, cancelling, reruns, the outcome). Runs,
//! the executor that applies the plan, schedules and triggers join it here.

pub mod defining;
pub mod definitions;
pub mod entities;
pub mod plan;
pub mod repo;

pub use defining::{create, delete, get, list, update};
pub use definitions::check_definition;
