//! The application state every handler and server function sees: cheap, cloneable handles.

use super::bus::EventBus;
use super::metrics::Metrics;
use super::ratelimit::RateLimiter;
use super::redis::RedisHandle;
use super::settings::Settings;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Shared state of one Optimus instance.
#[derive(Clone)]
pub struct AppState {
    /// Validated configuration.
    pub settings: Arc<Settings>,
    /// The database pool.
    pub db: DatabaseConnection,
    /// Access-token signing keys.
    pub keys: Arc<super::accounts::jwt::JwtKeys>,
    /// Publishes and fans out events (in-process or over Redis).
    pub bus: EventBus,
    /// Counts requests per key (in-process or in Redis).
    pub limiter: RateLimiter,
    /// Redis, when configured.
    pub redis: Option<RedisHandle>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Leptos rendering options (site root, output name).
    pub leptos_options: LeptosOptions,
    /// The supervising tasks of the services this instance runs.
    pub runtime: super::runtime::Runtime,
    /// The pipeline runs this instance drives, and its step slots.
    pub pipelines: super::pipelines::Executor,
    /// Seals secrets at rest with the master key.
    pub crypto: super::crypto::SecretBox,
    /// Every background task of this instance, named and joined at shutdown.
    pub jobs: super::jobs::Jobs,
    /// The pages of the project list this instance has answered, by catalog version.
    pub project_pages: super::catalog::ProjectPages,
    /// Which instance this is (owner of the services it supervises and the scans it runs).
    pub instance: Arc<super::instances::Instance>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
