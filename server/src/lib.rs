#![recursion_limit = "512"]
//! The Optimus server: HTTP routing, operations endpoints, the event WebSocket, the OpenAPI
//! document, and the command line.

pub mod api_guard;
pub mod artifact_download;
pub mod cli;
pub mod deploy_cli;
pub mod events;
pub mod export;
pub mod hooks;
pub mod log_download;
pub mod mcp;
pub mod openapi;
pub mod ops;
pub mod request_schema;
pub mod startup;
pub mod step_log_download;
pub mod telemetry;
