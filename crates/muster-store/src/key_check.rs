//! A check value that shows whether the credential key matches the database.
//!
//! Without it, a lost key file would be replaced by a fresh key and every stored
//! credential would become unreadable, while new ones were sealed with the new key.

use crate::{Store, StoreError};

const KEY_CHECK_NAME: &str = "credential_key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"muster credential key check v1";

impl Store {
    /// Fails with [`StoreError::KeyMismatch`] unless the key opens what the database holds,
    /// and records the check value on first use.
    pub(crate) async fn verify_secret_key(&self) -> Result<(), StoreError> {
        if let Some(sealed) = self.stored_key_check().await? {
            return self.open_key_check(&sealed);
        }

        // A database without a check value is new, or older than the check. Any sealed
        // credentials it contains must open with this key.
        let sample: Option<(String,)> = sqlx::query_as(
            "SELECT credentials_ciphertext FROM integrations WHERE credentials_ciphertext IS NOT NULL LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        if let Some((sealed,)) = sample {
            self.secret_key.open(&sealed).map_err(|_| StoreError::KeyMismatch)?;
        }

        let check = self.secret_key.seal(KEY_CHECK_PLAINTEXT).map_err(StoreError::Crypto)?;
        sqlx::query("INSERT INTO store_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(KEY_CHECK_NAME)
            .bind(check)
            .execute(&self.pool)
            .await?;

        // Another process starting at the same time may have written its own check value.
        match self.stored_key_check().await? {
            Some(sealed) => self.open_key_check(&sealed),
            None => Err(StoreError::Corrupt("the credential key check was not saved".into())),
        }
    }

    async fn stored_key_check(&self) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM store_settings WHERE name = $1")
            .bind(KEY_CHECK_NAME)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(value,)| value))
    }

    fn open_key_check(&self, sealed: &str) -> Result<(), StoreError> {
        match self.secret_key.open(sealed) {
            Ok(plaintext) if plaintext == KEY_CHECK_PLAINTEXT => Ok(()),
            _ => Err(StoreError::KeyMismatch),
        }
    }
}
