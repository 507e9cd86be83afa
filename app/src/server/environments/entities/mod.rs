//! SeaORM entities of environments and their variables: table rows, server-only, touched only by this
//! feature's repository. Wire types live in `crate::models`.

pub mod env_var;
pub mod environment;
