//! Authentication and authorisation: password hashing, access tokens, opaque tokens, cookies,
//! and the `Caller` every service checks against the operation table.

pub mod caller;
pub mod cookies;
pub mod jwt;
pub mod opaque;
pub mod password;

pub use caller::{authenticate, Caller, Credential};
