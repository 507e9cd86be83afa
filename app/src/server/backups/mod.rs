//! Backups: per-project policies (what of a project's folder and which databases, when, what
//! is kept) backed up into restic repositories (encrypted, deduplicated, in an open format
//! plain `restic` reads), verified, and restored to a new path or database with what was
//! written read back and checked.
//!
//! - [`policies`]: create, change, remove, list; the repository's password for an admin;
//! - [`jobs`]: back up now, verify, restore: queued here, carried out by the [`worker`] (one job
//!   at a time per policy, claimed and leased through the database);
//! - [`schedules`]: a policy's schedule queues one backup per fire time across instances;
//! - [`snapshots`]: a policy's backups, good and failed, and a snapshot's files;
//! - [`self_backup`]: Optimus's backups of its own database, and `optimus restore-self`;
//! - [`databases`]: the databases a policy dumps (PostgreSQL, SQLite) and their restores;
//! - [`restic`]: the only code speaking to repositories (through `rustic_core`);
//! - [`repo`] alone touches the feature's tables.

pub mod databases;
pub mod entities;
pub mod jobs;
pub mod policies;
pub mod repo;
pub mod restic;
pub mod schedules;
pub mod self_backup;
pub mod snapshots;
pub mod worker;

pub use worker::spawn as spawn_worker;
