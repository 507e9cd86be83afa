//! The server core, compiled only with the `ssr` feature: configuration, state, authentication,
//! repositories, services and background workers. Server functions in `crate::api` are thin
//! wrappers over the services here.

pub mod auth;
pub mod bus;
pub mod catalog;
pub mod context;
pub mod council;
pub mod crypto;
pub mod db;
pub mod entities;
pub mod error;
pub mod metrics;
pub mod ratelimit;
pub mod redis;
pub mod repos;
pub mod runtime;
pub mod secret;
pub mod services;
pub mod settings;
pub mod state;

pub use context::{api_caller, api_context, set_cookies, RequestCtx};
pub use error::ServerError;
pub use state::AppState;
