//! Pipelines: a project's build, test and release steps run as a DAG, on triggers, exactly once
//! across instances. This folder is the feature's home; so far it holds the checks a definition
//! passes before anything is saved ([`definitions`]). Runs, the executor, schedules and
//! triggers join it here.

pub mod definitions;

pub use definitions::check_definition;
