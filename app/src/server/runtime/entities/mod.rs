//! SeaORM entities of services, their runs, and resource samples: table rows, server-only, touched only by this
//! feature's repository. Wire types live in `crate::models`.

pub mod host_sample;
pub mod resource_sample;
pub mod service;
pub mod service_run;
