//! Pipelines: a project's build, test and release steps run as a DAG, on triggers, exactly once
//! across instances. This folder is the feature's home: the checks a definition passes before
//! anything is saved ([`definitions`]) and the definitions themselves, in step with the
//! project's `optimus.toml` ([`defining`]), and the rules a run follows, decided without I/O
//! ([`plan`]: what starts, waits or is skipped, retries, cancelling, reruns, the outcome); runs as
//! the API and triggers see them ([`running`]: start, read, cancel, rerun, gates, logs), the
//! [`executor`] that claims and drives runs on an instance, and what steps leave behind
//! ([`reports`]: artifacts, JUnit counts); [`schedules`] (fire times and the missed-run policy,
//! without I/O) and the [`triggers`] that start runs by themselves (schedules, a followed git
//! branch, signed webhooks).

pub mod defining;
pub mod definitions;
pub mod entities;
pub mod executor;
pub mod outputs;
pub mod plan;
pub mod repo;
pub mod reports;
pub mod running;
pub mod schedules;
pub mod triggers;

pub use defining::{create, delete, get, list, update};
pub use definitions::check_definition;
pub use executor::{spawn as spawn_executor, Executor};
