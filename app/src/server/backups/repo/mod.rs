//! The backups feature's queries: the only code touching its entities.

pub mod jobs;
pub mod policies;
pub mod self_backups;
pub mod snapshots;
