//! Transfers of the bulk API: one-time upload URLs with their outcome, and downloads
//! whose CSV is prepared in the background and kept until the URL expires.

use crate::api_keys::{random_token, same_hash, token_hash};
use crate::rows::{now_timestamp, parse_json};
use crate::{Store, StoreError};
use muster_domain::{IntegrationId, TenantId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// One upload or download of the bulk API.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BulkTransfer {
    pub id: String,
    pub tenant_id: TenantId,
    pub api_key_id: String,
    /// `upload` or `download`.
    pub direction: String,
    /// The CSV format, e.g. `entities`.
    pub kind: String,
    pub integration_id: Option<IntegrationId>,
    /// upload: `waiting`, `processing`, `accepted`, `rejected`;
    /// download: `preparing`, `ready`, `failed`.
    pub state: String,
    pub created_at: String,
    pub expires_at: String,
    pub finished_at: Option<String>,
    pub outcome: Option<serde_json::Value>,
}

/// A transfer just created, with the token its URLs carry.
#[derive(Clone, Debug)]
pub struct NewBulkTransfer {
    pub transfer: BulkTransfer,
    pub token: String,
}

/// Reason a one-time upload URL cannot take a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UploadUrlRejection {
    #[error("this upload URL is not valid")]
    Unknown,
    #[error("this upload URL was already used: request a new one")]
    Used,
    #[error("this upload URL has expired: request a new one")]
    Expired,
}

const TRANSFER_COLUMNS: &str = "id, tenant_id, api_key_id, direction, kind, integration_id, state, \
     created_at, expires_at, finished_at, outcome";

impl Store {
    /// Records a new transfer that stays usable until `expires_at`.
    pub async fn create_bulk_transfer(
        &self,
        tenant: &TenantId,
        api_key_id: &str,
        direction: &str,
        kind: &str,
        integration: Option<&IntegrationId>,
        expires_at: &str,
    ) -> Result<NewBulkTransfer, StoreError> {
        let id = ulid::Ulid::new().to_string();
        let token = random_token();
        let state = if direction == "upload" { "waiting" } else { "preparing" };
        sqlx::query(
            "INSERT INTO bulk_transfers (id, tenant_id, api_key_id, direction, kind, integration_id, token_hash, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(tenant.as_str())
        .bind(api_key_id)
        .bind(direction)
        .bind(kind)
        .bind(integration.map(|i| i.as_str().to_string()))
        .bind(token_hash(&token))
        .bind(state)
        .bind(now_timestamp())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        let transfer = self.bulk_transfer(tenant, &id).await?;
        Ok(NewBulkTransfer { transfer, token })
    }

    pub async fn bulk_transfer(&self, tenant: &TenantId, id: &str) -> Result<BulkTransfer, StoreError> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM bulk_transfers WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("transfer", id))?;
        transfer_from_row(&row)
    }

    /// Finds a transfer by id and URL token, for any caller, because the token is the
    /// credential of a one-time URL. A URL issued by a key that has since been revoked or
    /// has expired is not found, so revoking a key also closes its open URLs.
    pub async fn bulk_transfer_by_token(&self, id: &str, token: &str) -> Result<Option<BulkTransfer>, StoreError> {
        let sql = format!("SELECT {TRANSFER_COLUMNS}, token_hash FROM bulk_transfers WHERE id = $1");
        let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let stored: String = row.try_get("token_hash")?;
        if !same_hash(&stored, &token_hash(token)) {
            return Ok(None);
        }
        let transfer = transfer_from_row(&row)?;

        let key = self.api_key(&transfer.tenant_id, &transfer.api_key_id).await;
        let key_active = match key {
            Ok(key) => key.state(&now_timestamp()) == "active",
            Err(StoreError::NotFound { .. }) => false,
            Err(error) => return Err(error),
        };
        if !key_active {
            tracing::info!(transfer_id = %transfer.id, api_key_id = %transfer.api_key_id, "rejected a URL issued by a revoked or expired API key");
            return Ok(None);
        }
        Ok(Some(transfer))
    }

    /// Moves a waiting upload to processing. The conditional update lets only one caller
    /// take it.
    pub async fn begin_bulk_upload(
        &self,
        id: &str,
        token: &str,
    ) -> Result<Result<BulkTransfer, UploadUrlRejection>, StoreError> {
        let Some(transfer) = self.bulk_transfer_by_token(id, token).await? else {
            return Ok(Err(UploadUrlRejection::Unknown));
        };
        if transfer.direction != "upload" {
            return Ok(Err(UploadUrlRejection::Unknown));
        }
        let now = now_timestamp();
        if transfer.expires_at <= now && transfer.state == "waiting" {
            return Ok(Err(UploadUrlRejection::Expired));
        }
        let taken = sqlx::query("UPDATE bulk_transfers SET state = 'processing' WHERE id = $1 AND state = 'waiting'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if taken.rows_affected() == 0 {
            return Ok(Err(UploadUrlRejection::Used));
        }
        Ok(Ok(BulkTransfer {
            state: "processing".into(),
            ..transfer
        }))
    }

    /// Records the end of a transfer: its final state, the outcome document and, for a
    /// download, the prepared file.
    pub async fn finish_bulk_transfer(
        &self,
        id: &str,
        state: &str,
        outcome: &serde_json::Value,
        content: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE bulk_transfers SET state = $1, outcome = $2, content = $3, finished_at = $4 WHERE id = $5")
            .bind(state)
            .bind(outcome.to_string())
            .bind(content)
            .bind(now_timestamp())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Returns the prepared CSV of a ready download.
    pub async fn bulk_download_content(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT content FROM bulk_transfers WHERE id = $1 AND state = 'ready'")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(content,)| content))
    }

    /// Deletes transfers that expired before `cutoff`, freeing prepared files.
    pub async fn delete_expired_bulk_transfers(&self, cutoff: &str) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM bulk_transfers WHERE expires_at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected())
    }
}

fn transfer_from_row(row: &AnyRow) -> Result<BulkTransfer, StoreError> {
    let outcome: Option<String> = row.try_get("outcome")?;
    let integration: Option<String> = row.try_get("integration_id")?;
    Ok(BulkTransfer {
        id: row.try_get("id")?,
        tenant_id: TenantId::from_string(row.try_get::<String, _>("tenant_id")?),
        api_key_id: row.try_get("api_key_id")?,
        direction: row.try_get("direction")?,
        kind: row.try_get("kind")?,
        integration_id: integration.map(IntegrationId::from_string),
        state: row.try_get("state")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        finished_at: row.try_get("finished_at")?,
        outcome: outcome.as_deref().map(parse_json).transpose()?,
    })
}
