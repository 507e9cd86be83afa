//! SeaORM entities of notifications and per-user read markers: table rows, server-only, touched only by this
//! feature's repository. Wire types live in `crate::models`.

pub mod notification;
pub mod notification_read;
