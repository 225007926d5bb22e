//! Encryption of stored credentials with AES-256-GCM.
//!
//! The key comes from `MUSTER_SECRET_KEY` (32 bytes, base64 or hex) or, when that is
//! unset, from a key file generated once in the data directory with mode 0600. Several
//! processes sharing one PostgreSQL database must be given the same key.

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use std::path::Path;

/// Name of the key file in the data directory.
pub const KEY_FILE_NAME: &str = "secret.key";

const NONCE_LEN: usize = 12;

/// Error raised when the secret key cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error("MUSTER_SECRET_KEY must be 32 bytes written as base64 (44 characters) or hex (64 characters); generate one with `openssl rand -base64 32`")]
    InvalidEnv,
    #[error("key file `{path}` is invalid: {reason}")]
    InvalidFile { path: String, reason: String },
    #[error("cannot read or create key file `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A loaded key and, when the key file did not exist, the path of the file just created.
#[derive(Debug)]
pub struct LoadedSecretKey {
    pub key: SecretKey,
    pub created_file: Option<std::path::PathBuf>,
}

/// The 256-bit key for credential encryption. Its bytes never appear in Debug output.
#[derive(Clone)]
pub struct SecretKey {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// Parses a key given as base64 or hex text.
    pub fn from_text(text: &str) -> Option<SecretKey> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()?
        } else {
            BASE64.decode(text).ok()?
        };
        let key: [u8; 32] = bytes.try_into().ok()?;
        Some(SecretKey { key })
    }

    /// Generates a fresh random key, for tests and first start.
    pub fn generate() -> SecretKey {
        let key = Aes256Gcm::generate_key(OsRng);
        SecretKey { key: key.into() }
    }

    /// Loads the key from `env_value` when given, else from the key file in `data_dir`,
    /// creating that file (mode 0600) on first use.
    pub fn load(env_value: Option<&str>, data_dir: &Path) -> Result<SecretKey, SecretKeyError> {
        Ok(SecretKey::load_or_create(env_value, data_dir)?.key)
    }

    /// Like [`SecretKey::load`], and also reports whether the key file was just created, so
    /// the caller can remove it again if the database turns out to need another key.
    pub fn load_or_create(env_value: Option<&str>, data_dir: &Path) -> Result<LoadedSecretKey, SecretKeyError> {
        if let Some(text) = env_value.filter(|text| !text.trim().is_empty()) {
            let key = SecretKey::from_text(text).ok_or(SecretKeyError::InvalidEnv)?;
            return Ok(LoadedSecretKey { key, created_file: None });
        }

        let path = data_dir.join(KEY_FILE_NAME);
        let path_text = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key = SecretKey::from_text(&text).ok_or_else(|| SecretKeyError::InvalidFile {
                    path: path_text,
                    reason: "expected 32 bytes as base64".into(),
                })?;
                Ok(LoadedSecretKey { key, created_file: None })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = SecretKey::generate();
                write_private_file(&path, &BASE64.encode(key.key)).map_err(|source| SecretKeyError::Io {
                    path: path_text,
                    source,
                })?;
                Ok(LoadedSecretKey { key, created_file: Some(path) })
            }
            Err(source) => Err(SecretKeyError::Io {
                path: path_text,
                source,
            }),
        }
    }

    /// Encrypts `plaintext` and returns base64 of nonce followed by ciphertext.
    pub(crate) fn seal(&self, plaintext: &[u8]) -> Result<String, String> {
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.key));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(&nonce, plaintext)
            .map_err(|_| "encryption failed".to_string())?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(BASE64.encode(sealed))
    }

    /// Reverses [`SecretKey::seal`]. Fails when the key differs from the one that sealed.
    pub(crate) fn open(&self, sealed: &str) -> Result<Vec<u8>, String> {
        let bytes = BASE64
            .decode(sealed)
            .map_err(|_| "ciphertext is not base64".to_string())?;
        if bytes.len() < NONCE_LEN {
            return Err("ciphertext is too short".into());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.key));
        cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| {
                "authentication failed: the secret key differs from the one the credentials were saved with (check MUSTER_SECRET_KEY or the key file)".to_string()
            })
    }
}

#[cfg(unix)]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"secret access key").unwrap();
        assert!(!sealed.contains("secret"));
        assert_eq!(key.open(&sealed).unwrap(), b"secret access key");
    }

    #[test]
    fn other_key_cannot_open() {
        let sealed = SecretKey::generate().seal(b"x").unwrap();
        assert!(SecretKey::generate().open(&sealed).is_err());
    }

    #[test]
    fn key_text_forms() {
        let hex_key = "00".repeat(32);
        assert!(SecretKey::from_text(&hex_key).is_some());
        assert!(SecretKey::from_text(&BASE64.encode([7u8; 32])).is_some());
        assert!(SecretKey::from_text("short").is_none());
        assert!(SecretKey::from_text(&BASE64.encode([7u8; 31])).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn key_file_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;

        let dir = std::env::temp_dir().join(format!("muster-key-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = SecretKey::load(None, &dir).unwrap();
        let mode = std::fs::metadata(dir.join(KEY_FILE_NAME)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = SecretKey::load(None, &dir).unwrap();
        assert_eq!(first.key, second.key);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
