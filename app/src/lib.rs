#![recursion_limit = "512"]
//! Optimus shared crate: wire models and server functions used by both the browser and the
//! server, the Leptos UI, and (behind the `ssr` feature) the server core.

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod models;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

pub use app::{shell, App};
pub use error::AppError;
