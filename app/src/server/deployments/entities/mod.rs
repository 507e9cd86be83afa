//! SeaORM entities of deployments: table rows, server-only, touched only by this feature's
//! repository. Wire types live in `crate::models::deployments`.

pub mod deployment;
pub mod release;
