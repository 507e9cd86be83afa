//! SeaORM entities of backups: table rows, server-only, touched only by this feature's
//! repository. Wire types live in `crate::models::backups`.

pub mod job;
pub mod policy;
pub mod self_backup;
pub mod snapshot;
