//! Wire types shared by the browser and the server: plain serde DTOs and parse()-newtypes.

pub mod access;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod catalog;
pub mod council;
pub mod deployments;
pub mod environments;
pub mod events;
pub mod github;
pub mod names;
pub mod notifications;
pub mod page;
pub mod pipelines;
pub mod runtime;
pub mod service_form;
pub mod tokens;
pub mod users;
#[cfg(feature = "ssr")]
pub mod wire;

pub use access::{Operation, Role, Scope};
pub use names::{Password, TokenName, Username};
pub use page::{Page, PageRequest};
