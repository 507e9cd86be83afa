//! The GitHub feature's tables.

pub mod config;
pub mod response;
pub mod snapshot;
