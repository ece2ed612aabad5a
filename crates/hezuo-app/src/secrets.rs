//! Secrets at rest (platform feeds' app secrets and access tokens): sealed with AES-256-GCM
//! under the deployment's key, each with a fresh random nonce and bound to what it belongs to
//! (the associated data names the feed and the field, so a sealed value copied to another row
//! does not open). The key comes from `HEZUO_SECRET_KEY` (32 bytes, base64 or hex), or on
//! SQLite from a key file created beside the database with mode 0600 on first start. Without
//! a key, no secret is stored (422 `secret_key_missing`).

use crate::AppError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::path::Path;

/// Marks the format of a sealed value: `v1:` + base64(nonce ‖ ciphertext ‖ tag).
const SEALED_PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 12;

/// The deployment's 32-byte key. Never printed.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    /// A new random key.
    pub fn generate() -> SecretKey {
        SecretKey(rand::random())
    }

    /// Reads a key given as 44 characters of base64 or 64 hex digits.
    pub fn parse(text: &str) -> Result<SecretKey, String> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).map_err(|_| "not hex".to_owned())?
        } else {
            STANDARD.decode(t).map_err(|_| "HEZUO_SECRET_KEY must be 32 bytes as base64 or 64 hex digits".to_owned())?
        };
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| "HEZUO_SECRET_KEY must be 32 bytes as base64 or 64 hex digits".to_owned())?;
        Ok(SecretKey(key))
    }

    /// The key in `path`, or a new one written there (mode 0600, the file created exclusively,
    /// then synced) when there is none.
    pub fn load_or_create(path: &Path) -> std::io::Result<SecretKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => SecretKey::parse(&text).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use std::io::Write;
                let key = SecretKey::generate();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = match options.open(path) {
                    Ok(f) => f,
                    // Another process made it first: use its key.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return SecretKey::load_or_create(path),
                    Err(e) => return Err(e),
                };
                file.write_all(STANDARD.encode(key.0).as_bytes())?;
                file.write_all(b"\n")?;
                file.sync_all()?;
                Ok(key)
            }
            Err(e) => Err(e),
        }
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.0.into())
    }

    /// Seals `plain` for `context` (e.g. `feed:12:app_secret`).
    pub fn seal(&self, plain: &str, context: &str) -> Result<String, AppError> {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = self
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| AppError::Internal("sealing a secret failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens what [`SecretKey::seal`] sealed for the same `context`. The error says which
    /// context failed (another key, or a value moved between rows), never the value.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, AppError> {
        let fail = || AppError::Internal(format!("the stored secret {context} does not open with this key"));
        let bytes = sealed.strip_prefix(SEALED_PREFIX).and_then(|b| STANDARD.decode(b).ok()).ok_or_else(fail)?;
        if bytes.len() < NONCE_BYTES {
            return Err(fail());
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: context.as_bytes() })
            .map_err(|_| fail())?;
        String::from_utf8(plain).map_err(|_| fail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_context() {
        let key = SecretKey::generate();
        let sealed = key.seal("the-app-secret", "feed:1:app_secret").unwrap();
        assert!(sealed.starts_with("v1:") && !sealed.contains("the-app-secret"));
        assert_ne!(sealed, key.seal("the-app-secret", "feed:1:app_secret").unwrap(), "a fresh nonce each time");
        assert_eq!(key.open(&sealed, "feed:1:app_secret").unwrap(), "the-app-secret");
        assert!(key.open(&sealed, "feed:2:app_secret").is_err(), "moved to another row");
        assert!(SecretKey::generate().open(&sealed, "feed:1:app_secret").is_err(), "another key");
        let e = key.open("v1:AAAA", "feed:1:app_secret").unwrap_err().to_string();
        assert!(e.contains("feed:1:app_secret"), "{e}");
        assert!(!format!("{key:?}").contains(&STANDARD.encode(key.0)));
    }

    #[test]
    fn keys_are_read_as_base64_or_hex_and_files_are_private() {
        let hex_key = "00".repeat(31) + "ff";
        assert_eq!(SecretKey::parse(&hex_key).unwrap().0[31], 0xff);
        let b64 = STANDARD.encode([7u8; 32]);
        assert_eq!(SecretKey::parse(&b64).unwrap().0, [7u8; 32]);
        assert!(SecretKey::parse("short").is_err());
        assert!(SecretKey::parse(&STANDARD.encode([7u8; 31])).is_err());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hezuo.db.key");
        let first = SecretKey::load_or_create(&path).unwrap();
        assert_eq!(SecretKey::load_or_create(&path).unwrap().0, first.0, "the same key on the next start");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
