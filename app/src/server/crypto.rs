//! Encryption of secrets at rest: XChaCha20-Poly1305 with a key derived from the master key.
//! Each value is bound to where it is stored (associated data), so a ciphertext copied to another
//! variable does not decrypt.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "v1:";

/// Seals and opens secret values.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// A box keyed by SHA-256 of the master key.
    pub fn new(master_key: &[u8]) -> Self {
        let key = Sha256::digest(master_key);
        Self {
            cipher: XChaCha20Poly1305::new(&key),
        }
    }

    /// Encrypts `plain` for the slot named `context`.
    pub fn seal(&self, context: &str, plain: &str) -> Result<String, String> {
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| "encryption failed".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Decrypts what [`SecretBox::seal`] produced for the same `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<String, String> {
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|r| r.len() > 24)
            .ok_or_else(|| "not a sealed value".to_owned())?;
        let (nonce, body) = raw.split_at(24);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| "cannot decrypt (wrong master key or tampered value)".to_owned())?;
        String::from_utf8(plain).map_err(|_| "decrypted value is not UTF-8".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_are_bound_to_their_slot_and_key() {
        let b = SecretBox::new(b"a master key of enough length...");
        let sealed = b.seal("env:1:TOKEN", "hunter2").unwrap_or_default();
        assert!(!sealed.contains("hunter2"));
        assert_eq!(b.open("env:1:TOKEN", &sealed), Ok("hunter2".to_owned()));
        assert!(
            b.open("env:2:TOKEN", &sealed).is_err(),
            "moved to another slot"
        );
        let other = SecretBox::new(b"another master key of enough len");
        assert!(other.open("env:1:TOKEN", &sealed).is_err());
        assert_ne!(
            b.seal("x", "same").ok(),
            b.seal("x", "same").ok(),
            "fresh nonce each time"
        );
    }
}
