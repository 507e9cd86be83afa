//! The pipelines feature's queries: the only code touching its entities. Definitions in
//! [`pipelines`], runs and their steps (numbering, the one-run-per-trigger rule, leases) in
//! [`runs`], the files runs kept in [`artifacts`], what triggers remember in [`triggers`].

pub mod artifacts;
pub mod pipelines;
pub mod runs;
pub mod triggers;

pub use pipelines::*;
