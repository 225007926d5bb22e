//! Integrations and their encrypted credentials.

use crate::error::is_unique_violation;
use crate::rows::{now_timestamp, parse_stored};
use crate::{Store, StoreError};
use muster_domain::integration::IntegrationFields;
use muster_domain::{
    AwsCredentials, Integration, IntegrationDraft, IntegrationId, IntegrationStatus, ScimConnection,
    ScimCredentials, SnapshotId, TenantId,
};
use sqlx::any::AnyRow;
use sqlx::Row;

const INTEGRATION_COLUMNS: &str = "id, tenant_id, app, name, description, primary_owner, \
     secondary_owners, extraction_type, credentials_ciphertext, status, message, \
     current_snapshot_id, last_sync_at, created_at, updated_at, scim_base_url, scim_ciphertext";

impl Store {
    /// Saves a validated draft as a new integration in status `Pending`.
    pub async fn create_integration(
        &self,
        tenant: &TenantId,
        draft: &IntegrationDraft,
    ) -> Result<Integration, StoreError> {
        let id = IntegrationId::generate(draft.app);
        let now = now_timestamp();
        let sealed = self.seal_credentials(&draft.credentials)?;
        let owners = serde_json::to_string(&draft.secondary_owners)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;

        let result = sqlx::query(
            "INSERT INTO integrations (id, tenant_id, app, name, name_key, description, \
             primary_owner, secondary_owners, extraction_type, credentials_ciphertext, status, \
             message, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(draft.app.as_str())
        .bind(&draft.name)
        .bind(draft.name.to_lowercase())
        .bind(&draft.description)
        .bind(&draft.primary_owner)
        .bind(owners)
        .bind(draft.extraction_type.as_str())
        .bind(sealed)
        .bind(IntegrationStatus::Pending.as_str())
        .bind(if draft.extraction_type.receives_files() {
            "Awaiting data: upload files"
        } else {
            "Awaiting data: run a sync to read the account"
        })
        .bind(&now)
        .execute(&self.pool)
        .await;

        match result {
            Ok(_) => self.integration(tenant, &id).await,
            Err(error) if is_unique_violation(&error) => Err(name_taken(&draft.name)),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn list_integrations(&self, tenant: &TenantId) -> Result<Vec<Integration>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE tenant_id = $1 ORDER BY name_key"
        ))
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| self.integration_from_row(row)).collect()
    }

    pub async fn integration(&self, tenant: &TenantId, id: &IntegrationId) -> Result<Integration, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found("integration", id.as_str()))?;
        self.integration_from_row(&row)
    }

    /// Finds an integration by id, or else by name ignoring case.
    pub async fn find_integration(&self, tenant: &TenantId, id_or_name: &str) -> Result<Integration, StoreError> {
        // PostgreSQL rejects NUL in text parameters; no stored name or id contains one.
        if id_or_name.contains('\0') {
            return Err(StoreError::not_found("integration", id_or_name.replace('\0', "\\0")));
        }
        let row = sqlx::query(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations \
             WHERE tenant_id = $1 AND (id = $2 OR name_key = $3) \
             ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1"
        ))
        .bind(tenant.as_str())
        .bind(id_or_name)
        .bind(id_or_name.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found("integration", id_or_name))?;
        self.integration_from_row(&row)
    }

    /// Decrypts an integration's credentials for a connector. Never send the result to a
    /// client.
    pub async fn integration_credentials(
        &self,
        tenant: &TenantId,
        id: &IntegrationId,
    ) -> Result<AwsCredentials, StoreError> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT credentials_ciphertext FROM integrations WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let (sealed,) = row.ok_or_else(|| StoreError::not_found("integration", id.as_str()))?;
        match sealed {
            Some(sealed) => self.open_credentials(&sealed),
            None => Ok(AwsCredentials::default()),
        }
    }

    /// Replaces an integration's editable fields and credentials.
    pub async fn update_integration(
        &self,
        tenant: &TenantId,
        id: &IntegrationId,
        fields: &IntegrationFields,
        credentials: &AwsCredentials,
    ) -> Result<Integration, StoreError> {
        let sealed = self.seal_credentials(credentials)?;
        let owners = serde_json::to_string(&fields.secondary_owners)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let result = sqlx::query(
            "UPDATE integrations SET name = $1, name_key = $2, description = $3, \
             primary_owner = $4, secondary_owners = $5, credentials_ciphertext = $6, \
             updated_at = $7 WHERE tenant_id = $8 AND id = $9",
        )
        .bind(&fields.name)
        .bind(fields.name.to_lowercase())
        .bind(&fields.description)
        .bind(&fields.primary_owner)
        .bind(owners)
        .bind(sealed)
        .bind(now_timestamp())
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&self.pool)
        .await;

        match result {
            Ok(done) if done.rows_affected() == 0 => Err(StoreError::not_found("integration", id.as_str())),
            Ok(_) => self.integration(tenant, id).await,
            Err(error) if is_unique_violation(&error) => Err(name_taken(&fields.name)),
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes an integration with its runs, snapshots, entities, relations and analyses.
    /// Replaces the owners of several integrations in one transaction: each entry gives
    /// the integration, its new primary owner (`None` keeps the current one) and its
    /// secondary owners.
    pub async fn set_integration_owners(
        &self,
        tenant: &TenantId,
        owners: &[(IntegrationId, Option<String>, Vec<String>)],
    ) -> Result<(), StoreError> {
        let now = now_timestamp();
        let mut tx = self.pool.begin().await?;
        for (integration, primary, secondary) in owners {
            let secondary = serde_json::to_string(secondary).map_err(|error| StoreError::Corrupt(error.to_string()))?;
            let updated = sqlx::query(
                "UPDATE integrations SET primary_owner = COALESCE($1, primary_owner), secondary_owners = $2, updated_at = $3 \
                 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(primary.as_deref())
            .bind(secondary)
            .bind(&now)
            .bind(tenant.as_str())
            .bind(integration.as_str())
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Err(StoreError::not_found("integration", integration.as_str()));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_integration(&self, tenant: &TenantId, id: &IntegrationId) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let snapshot_filter = "snapshot_id IN (SELECT id FROM snapshots WHERE tenant_id = $1 AND integration_id = $2)";
        for table in ["entity_findings", "snapshot_analyses", "relations", "entities"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE {snapshot_filter}"))
                .bind(tenant.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        for table in ["snapshots", "sync_runs", "identity_mappings", "bulk_transfers"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1 AND integration_id = $2"))
                .bind(tenant.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let deleted = sqlx::query("DELETE FROM integrations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::not_found("integration", id.as_str()));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets the Status and Message columns without touching the current snapshot.
    pub async fn set_integration_status(
        &self,
        tenant: &TenantId,
        id: &IntegrationId,
        status: IntegrationStatus,
        message: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE integrations SET status = $1, message = $2 WHERE tenant_id = $3 AND id = $4")
            .bind(status.as_str())
            .bind(message)
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Returns the stored ciphertext as it is on disk, so tests can check that no secret
    /// is kept in clear.
    #[doc(hidden)]
    pub async fn raw_credentials_for_test(&self, id: &IntegrationId) -> Result<String, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT credentials_ciphertext FROM integrations WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(sealed,)| sealed).unwrap_or_default())
    }

    /// Saves a validated draft of a SCIM integration with its server, in status `Pending`.
    pub async fn create_scim_integration(
        &self,
        tenant: &TenantId,
        draft: &IntegrationDraft,
        connection: &ScimConnection,
    ) -> Result<Integration, StoreError> {
        let created = self.create_integration(tenant, draft).await?;
        if let Err(error) = self.set_scim_connection(tenant, &created.id, connection).await {
            // Never leave a SCIM integration without its server.
            self.delete_integration(tenant, &created.id).await?;
            return Err(error);
        }
        self.integration(tenant, &created.id).await
    }

    /// Stores the SCIM server of an integration: the URL in clear, the credentials sealed.
    pub async fn set_scim_connection(
        &self,
        tenant: &TenantId,
        id: &IntegrationId,
        connection: &ScimConnection,
    ) -> Result<(), StoreError> {
        let plaintext = serde_json::to_vec(&connection.credentials).map_err(|error| StoreError::Crypto(error.to_string()))?;
        let sealed = self.secret_key.seal(&plaintext).map_err(StoreError::Crypto)?;
        let updated = sqlx::query(
            "UPDATE integrations SET scim_base_url = $1, scim_ciphertext = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5",
        )
        .bind(connection.base_url.as_str())
        .bind(sealed)
        .bind(now_timestamp())
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::not_found("integration", id.as_str()));
        }
        Ok(())
    }

    /// Decrypts the SCIM server of an integration for the connector, or `None` when it
    /// has none. Never send the result to a client.
    pub async fn scim_connection(&self, tenant: &TenantId, id: &IntegrationId) -> Result<Option<ScimConnection>, StoreError> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT scim_base_url, scim_ciphertext FROM integrations WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let (base_url, sealed) = row.ok_or_else(|| StoreError::not_found("integration", id.as_str()))?;
        let (Some(base_url), Some(sealed)) = (base_url, sealed) else {
            return Ok(None);
        };
        Ok(Some(ScimConnection {
            base_url,
            credentials: self.open_scim_credentials(&sealed)?,
        }))
    }

    fn open_scim_credentials(&self, sealed: &str) -> Result<ScimCredentials, StoreError> {
        let plaintext = self.secret_key.open(sealed).map_err(StoreError::Crypto)?;
        serde_json::from_slice(&plaintext).map_err(|error| StoreError::Crypto(error.to_string()))
    }

    fn seal_credentials(&self, credentials: &AwsCredentials) -> Result<String, StoreError> {
        let plaintext = serde_json::to_vec(credentials).map_err(|error| StoreError::Crypto(error.to_string()))?;
        self.secret_key.seal(&plaintext).map_err(StoreError::Crypto)
    }

    fn open_credentials(&self, sealed: &str) -> Result<AwsCredentials, StoreError> {
        let plaintext = self.secret_key.open(sealed).map_err(StoreError::Crypto)?;
        serde_json::from_slice(&plaintext).map_err(|error| StoreError::Crypto(error.to_string()))
    }

    fn integration_from_row(&self, row: &AnyRow) -> Result<Integration, StoreError> {
        let sealed: Option<String> = row.try_get("credentials_ciphertext")?;
        // A key mismatch must not hide the integration: show it with no credentials set
        // and let the next sync report the decryption failure.
        let credentials = match sealed.as_deref() {
            Some(sealed) => self.open_credentials(sealed).unwrap_or_default(),
            None => AwsCredentials::default(),
        };
        let owners: String = row.try_get("secondary_owners")?;
        let app: String = row.try_get("app")?;
        let extraction_type: String = row.try_get("extraction_type")?;
        let status: String = row.try_get("status")?;
        let current_snapshot: Option<String> = row.try_get("current_snapshot_id")?;
        let scim_base_url: Option<String> = row.try_get("scim_base_url")?;
        let scim_sealed: Option<String> = row.try_get("scim_ciphertext")?;
        let scim = scim_base_url.map(|base_url| ScimConnection {
            base_url,
            credentials: scim_sealed
                .as_deref()
                .and_then(|sealed| self.open_scim_credentials(sealed).ok())
                .unwrap_or_default(),
        });

        Ok(Integration {
            id: IntegrationId::from_string(row.try_get::<String, _>("id")?),
            tenant_id: TenantId::from_string(row.try_get::<String, _>("tenant_id")?),
            app: parse_stored(&app)?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            primary_owner: row.try_get("primary_owner")?,
            secondary_owners: serde_json::from_str(&owners)
                .map_err(|error| StoreError::Corrupt(error.to_string()))?,
            extraction_type: parse_stored(&extraction_type)?,
            credentials: credentials.view(),
            status: parse_stored(&status)?,
            message: row.try_get("message")?,
            last_sync_at: row.try_get("last_sync_at")?,
            current_snapshot_id: current_snapshot.map(SnapshotId::from_string),
            scim: scim.map(|connection| connection.view()),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Conflict {
        field: "name",
        message: format!("an integration named `{name}` already exists: choose another name"),
    }
}
