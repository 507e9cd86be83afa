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
    /// Keys [`SecretBox::digest`]: derived from the master key apart from the cipher's.
    mac_key: [u8; 32],
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
        let mut mac = Sha256::new();
        mac.update(b"optimus digest v1\0");
        mac.update(master_key);
        Self {
            cipher: XChaCha20Poly1305::new(&key),
            mac_key: mac.finalize().into(),
        }
    }

    /// A keyed hash (HMAC-SHA256, hex) of `value` in `context`: equal values give equal
    /// digests, and without the master key a digest tells nothing about the value (not even
    /// by trying likely values).
    pub fn digest(&self, context: &str, value: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key) else {
            return String::new();
        };
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
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

    #[test]
    fn digests_are_stable_per_key_and_context_and_hide_the_value() {
        let b = SecretBox::new(b"a master key of enough length...");
        let d = b.digest("env", b"KEY=hunter2");
        assert_eq!(d.len(), 64);
        assert_eq!(d, b.digest("env", b"KEY=hunter2"));
        assert_ne!(d, b.digest("env", b"KEY=hunter3"));
        assert_ne!(d, b.digest("other", b"KEY=hunter2"));
        let other = SecretBox::new(b"another master key of enough len");
        assert_ne!(d, other.digest("env", b"KEY=hunter2"));
        // Not the plain SHA-256 of the value (which anyone could compute).
        let plain: String = Sha256::digest(b"KEY=hunter2")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(d, plain);
    }
}
