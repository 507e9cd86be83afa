//! SeaORM entities of the audit log: table rows, server-only, touched only by this
//! feature's repository. Wire types live in `crate::models`.

pub mod audit_event;
