//! Settings for Muster's data directory, database and credential key.
//!
//! Each setting comes from a command-line flag, else a `MUSTER_` environment variable
//! (the binary's clap definitions read both), else the default below.

use muster_store::{LoadedSecretKey, SecretKey, SecretKeyError};
use std::path::PathBuf;

/// Data directory used when none is given.
pub const DEFAULT_DATA_DIR: &str = "./muster-data";
/// SQLite file name inside the data directory.
pub const SQLITE_FILE_NAME: &str = "muster.db";

/// Error raised when settings cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot create data directory `{path}`: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    SecretKey(#[from] SecretKeyError),
    #[error("the credential key is missing: the database holds credentials saved with a key that is neither in MUSTER_SECRET_KEY nor in `{data_dir}/secret.key`. Restore that key file, or set MUSTER_SECRET_KEY to the original key")]
    MissingKey { data_dir: String },
}

/// Resolved settings for one process.
#[derive(Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; when `None`, SQLite in the data directory.
    pub database_url: Option<String>,
    /// Credential encryption key (base64 or hex); when `None`, the key file in the data
    /// directory.
    pub secret_key: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(muster_store::redact_url),
            )
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl Settings {
    pub fn new(data_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            data_dir: data_dir.into(),
            database_url: None,
            secret_key: None,
        }
    }

    /// Returns the database URL, defaulting to an SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join(SQLITE_FILE_NAME).display()
            ),
        }
    }

    /// Creates the data directory if needed and loads the credential key, creating the key
    /// file when there is neither a key file nor `MUSTER_SECRET_KEY`.
    pub fn secret_key(&self) -> Result<LoadedSecretKey, SettingsError> {
        std::fs::create_dir_all(&self.data_dir).map_err(|source| SettingsError::DataDir {
            path: self.data_dir.display().to_string(),
            source,
        })?;
        Ok(SecretKey::load_or_create(self.secret_key.as_deref(), &self.data_dir)?)
    }
}
