//! API keys of the bulk API: issue, list, revoke and check. Only a SHA-256 of each secret
//! is stored; the secret itself is returned once, at creation.

use crate::rows::now_timestamp;
use crate::{Store, StoreError};
use base64::Engine;
use muster_domain::TenantId;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

/// An API key as listed: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub tenant_id: TenantId,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl ApiKey {
    /// `active`, `revoked` or `expired`, as of `now` (a stored timestamp).
    pub fn state(&self, now: &str) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at.as_deref().is_some_and(|expiry| expiry <= now) {
            "expired"
        } else {
            "active"
        }
    }
}

/// A key just created, with the secret that is shown this once.
#[derive(Clone, Debug)]
pub struct IssuedApiKey {
    pub key: ApiKey,
    pub secret: String,
}

/// Why a presented key was refused. Each maps to a 401 with its own message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyRejection {
    #[error("unknown API key id or wrong secret")]
    Invalid,
    #[error("this API key was revoked")]
    Revoked,
    #[error("this API key has expired")]
    Expired,
}

const KEY_COLUMNS: &str = "id, tenant_id, name, created_at, expires_at, revoked_at, last_used_at";

/// Hex SHA-256 of a secret or one-time token, the only form in which they are stored.
pub(crate) fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// 32 random bytes, URL-safe base64 without padding.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares two hashes in time independent of where they differ.
pub(crate) fn same_hash(left: &str, right: &str) -> bool {
    left.len() == right.len()
        && left
            .bytes()
            .zip(right.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

impl Store {
    /// Issues a key for `tenant`. `expires_at` is a stored timestamp or `None`.
    pub async fn create_api_key(
        &self,
        tenant: &TenantId,
        name: &str,
        expires_at: Option<&str>,
    ) -> Result<IssuedApiKey, StoreError> {
        let id = format!("mk_{}", ulid::Ulid::new());
        let secret = random_token();
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, secret_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(tenant.as_str())
        .bind(name)
        .bind(token_hash(&secret))
        .bind(now_timestamp())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;

        let key = self.api_key(tenant, &id).await?;
        Ok(IssuedApiKey { key, secret })
    }

    pub async fn api_key(&self, tenant: &TenantId, id: &str) -> Result<ApiKey, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("API key", id))?;
        api_key_from_row(&row)
    }

    pub async fn list_api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at");
        let rows = sqlx::query(&sql).bind(tenant.as_str()).fetch_all(&self.pool).await?;
        rows.iter().map(api_key_from_row).collect()
    }

    /// Revokes a key. Revoking a revoked key keeps its first revocation time.
    pub async fn revoke_api_key(&self, tenant: &TenantId, id: &str) -> Result<ApiKey, StoreError> {
        sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE tenant_id = $2 AND id = $3",
        )
        .bind(now_timestamp())
        .bind(tenant.as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        self.api_key(tenant, id).await
    }

    /// Checks a presented key id and secret and records the use. Returns the key (and so
    /// its tenant) or why it was refused.
    pub async fn authenticate_api_key(
        &self,
        id: &str,
        secret: &str,
    ) -> Result<Result<ApiKey, ApiKeyRejection>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS}, secret_hash FROM api_keys WHERE id = $1");
        let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await? else {
            return Ok(Err(ApiKeyRejection::Invalid));
        };
        let stored_hash: String = row.try_get("secret_hash")?;
        if !same_hash(&stored_hash, &token_hash(secret)) {
            return Ok(Err(ApiKeyRejection::Invalid));
        }

        let key = api_key_from_row(&row)?;
        let now = now_timestamp();
        match key.state(&now) {
            "revoked" => return Ok(Err(ApiKeyRejection::Revoked)),
            "expired" => return Ok(Err(ApiKeyRejection::Expired)),
            _ => {}
        }

        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(&now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(Ok(ApiKey {
            last_used_at: Some(now),
            ..key
        }))
    }
}

fn api_key_from_row(row: &AnyRow) -> Result<ApiKey, StoreError> {
    let tenant: String = row.try_get("tenant_id")?;
    Ok(ApiKey {
        id: row.try_get("id")?,
        tenant_id: TenantId::from_string(tenant),
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_compare_whole() {
        let hash = token_hash("secret");
        assert!(same_hash(&hash, &token_hash("secret")));
        assert!(!same_hash(&hash, &token_hash("secreT")));
        assert!(!same_hash(&hash, "short"));
        assert_eq!(random_token().len(), 43);
    }
}
