//! Accounts: users and roles, sign-in and sessions, API tokens, and the `Caller` every
//! operation is checked against.
//!
//! - [`auth`]: first-run setup, login, refresh, logout, change password;
//! - [`users`], [`tokens`]: managing users and API tokens;
//! - [`caller`]: who is calling (cookie, bearer access token or API token) and what they may do;
//! - [`password`], [`jwt`], [`opaque`], [`cookies`]: the credential primitives.

pub mod auth;
pub mod caller;
pub mod cookies;
pub mod entities;
pub mod jwt;
pub mod opaque;
pub mod password;
pub mod repo;
pub mod tokens;
pub mod users;

pub use crate::server::caller::{Caller, Credential};
pub use caller::{api_caller_for, authenticate};
