//! Deployments: a project's numbered releases and the deployments that put them in service
//! behind `optimus-proxy` (health-gated blue-green cutover or recreate, a watch window with
//! automatic rollback, manual rollback to any kept release).
//!
//! - [`deploying`]: the public API (deploy, roll back, read, pin, compare); [`history`]: the
//!   finished deployments as other features read them;
//! - [`releases`]: making releases under the data dir, retention, diffs;
//! - [`worker`]: claiming queued deployments (one at a time per project, the database decides)
//!   and keeping their leases; [`driver`]: one deployment's steps;
//! - [`proxy`]: starting `optimus-proxy` and switching its routes;
//! - [`repo`] alone touches the feature's tables.
//!
//! - [`targets`]: where a release's services run: the runtime's "slots"
//!   ([`crate::server::runtime::slots`], supervised like any service in the release's folder)
//!   or containers on the Docker Engine.

pub mod deploying;
mod driver;
pub mod entities;
pub mod history;
pub mod proxy;
pub mod releases;
pub mod repo;
pub mod targets;
pub mod worker;

pub use deploying::{deploy, diff, get, list, list_releases, pin, recent, rollback};
pub use worker::spawn as spawn_worker;

use serde::{Deserialize, Serialize};

/// A service instance serving while a deployment is current (kept as JSON on the deployment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Serving {
    /// The service's name.
    pub service: String,
    /// Its instance (a runtime slot or a container).
    pub instance: targets::Handle,
    /// The instance's port.
    pub port: Option<u16>,
    /// The public port the proxy serves it on.
    pub public_port: Option<u16>,
    /// The host names that port answers for.
    #[serde(default)]
    pub hosts: Vec<String>,
}
