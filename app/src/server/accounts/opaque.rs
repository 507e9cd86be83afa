//! Opaque bearer secrets (API tokens, refresh tokens): random, shown once, stored as SHA-256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix that marks an API token.
pub const API_TOKEN_PREFIX: &str = "opt_";

/// A new random secret: 32 bytes, base64url.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API token (`opt_…`).
pub fn generate_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", generate())
}

/// The stored form of a secret: hex SHA-256. The secrets are high-entropy, so a fast hash is
/// enough and lets a token be looked up by its hash.
pub fn digest(secret: &str) -> String {
    let out = Sha256::digest(secret.as_bytes());
    out.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_prefixed() {
        let a = generate_api_token();
        let b = generate_api_token();
        assert_ne!(a, b);
        assert!(a.starts_with("opt_"));
        assert!(a.len() > 40);
    }

    #[test]
    fn the_digest_is_stable_hex_and_hides_the_secret() {
        let d = digest("opt_abc");
        assert_eq!(d, digest("opt_abc"));
        assert_eq!(d.len(), 64);
        assert!(!d.contains("abc"));
        assert_ne!(d, digest("opt_abd"));
    }
}
