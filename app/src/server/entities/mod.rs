//! SeaORM entities: table rows, server-only. Wire types live in `crate::models`.

pub mod api_token;
pub mod app_meta;
pub mod audit_event;
pub mod council_deliberation;
pub mod council_memory;
pub mod council_persona;
pub mod council_turn;
pub mod env_var;
pub mod environment;
pub mod host_sample;
pub mod kg_edge;
pub mod kg_node;
pub mod notification;
pub mod notification_read;
pub mod project;
pub mod project_activity;
pub mod project_dependency;
pub mod resource_sample;
pub mod service;
pub mod service_run;
pub mod session;
pub mod user;
pub mod workspace;
