//! SeaORM entities of users, sessions, API tokens and the first-run claim: table rows, server-only, touched only by this
//! feature's repository. Wire types live in `crate::models`.

pub mod api_token;
pub mod app_meta;
pub mod session;
pub mod user;
