//! The server core, compiled only with the `ssr` feature.
//!
//! The files here are the shared kernel: configuration ([`settings`]), state, errors, the
//! database and Redis handles, the event bus, secret sealing, metrics, the rate limiter, the
//! request context and paging, and which instance this is among those sharing the database
//! ([`instances`]). Each folder is one feature, with its public API at its root, its queries in
//! `repo` (the only code touching its `entities`) and submodules by concern: [`accounts`],
//! [`audit`], [`catalog`], [`runtime`], [`environments`], [`notifications`], [`council`],
//! [`pipelines`], [`deployments`], [`backups`], [`github`].
//! Server functions in `crate::api` are thin wrappers over these features.

pub mod accounts;
pub mod audit;
pub mod backups;
pub mod bus;
pub mod caller;
pub mod catalog;
pub mod context;
pub mod council;
pub mod crypto;
pub mod db;
pub mod deployments;
pub mod environments;
pub mod error;
pub mod github;
pub mod instances;
pub mod jobs;
pub mod metrics;
pub mod notifications;
pub mod paging;
pub mod pipelines;
pub mod ratelimit;
pub mod redis;
pub mod runtime;
pub mod secret;
pub mod settings;
pub mod state;
pub mod stored;

pub use caller::{Caller, Credential};
pub use context::{api_context, set_cookies, RequestCtx};
pub use error::ServerError;
pub use state::AppState;
