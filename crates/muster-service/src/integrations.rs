//! Integration management and inventory reads, with validation in front of storage.

use crate::{Muster, ServiceError, MAX_PAGE_SIZE};
use muster_domain::{EntityId, Integration, IntegrationDraft, IntegrationUpdate, TenantId};
use muster_store::{EntityDetail, EntityFilter, EntityPage, SyncRun};

impl Muster {
    /// Validates and saves a new integration.
    pub async fn add_integration(
        &self,
        tenant: &TenantId,
        draft: IntegrationDraft,
    ) -> Result<Integration, ServiceError> {
        let draft = draft.normalized();
        draft.validate()?;
        if draft.app == muster_domain::App::Scim {
            return Err(ServiceError::validation(
                "base_url",
                "a SCIM integration needs its server's base URL and credentials: add it as a SCIM integration",
            ));
        }
        let integration = self.store.create_integration(tenant, &draft).await?;
        tracing::info!(integration_id = %integration.id, name = %integration.name, "integration added");
        Ok(integration)
    }

    pub async fn list_integrations(&self, tenant: &TenantId) -> Result<Vec<Integration>, ServiceError> {
        Ok(self.store.list_integrations(tenant).await?)
    }

    /// Finds an integration by id, or else by name ignoring case.
    pub async fn find_integration(&self, tenant: &TenantId, id_or_name: &str) -> Result<Integration, ServiceError> {
        Ok(self.store.find_integration(tenant, id_or_name).await?)
    }

    /// Applies a partial update; credentials are merged as [`muster_domain::AwsCredentials::apply_update`] describes.
    pub async fn update_integration(
        &self,
        tenant: &TenantId,
        id_or_name: &str,
        update: IntegrationUpdate,
    ) -> Result<Integration, ServiceError> {
        let current = self.store.find_integration(tenant, id_or_name).await?;
        let credentials = self.store.integration_credentials(tenant, &current.id).await?;
        let (fields, credentials) = update.apply(&current, &credentials)?;
        let updated = self
            .store
            .update_integration(tenant, &current.id, &fields, &credentials)
            .await?;
        tracing::info!(integration_id = %updated.id, "integration updated");
        Ok(updated)
    }

    /// Deletes an integration and all its snapshots and runs.
    pub async fn remove_integration(&self, tenant: &TenantId, id_or_name: &str) -> Result<Integration, ServiceError> {
        let integration = self.store.find_integration(tenant, id_or_name).await?;
        self.store.delete_integration(tenant, &integration.id).await?;
        tracing::info!(integration_id = %integration.id, "integration removed");
        Ok(integration)
    }

    /// Lists entities of current snapshots. The page size is capped at [`MAX_PAGE_SIZE`].
    pub async fn list_entities(&self, tenant: &TenantId, mut filter: EntityFilter) -> Result<EntityPage, ServiceError> {
        if filter.limit == 0 {
            filter.limit = 50;
        }
        filter.limit = filter.limit.min(MAX_PAGE_SIZE);
        Ok(self.store.list_entities(tenant, &filter).await?)
    }

    pub async fn entity(&self, tenant: &TenantId, id: &str) -> Result<EntityDetail, ServiceError> {
        Ok(self.store.entity(tenant, &EntityId::from_string(id)).await?)
    }

    /// Lists sync runs newest first, optionally of one integration (by id or name).
    pub async fn list_sync_runs(
        &self,
        tenant: &TenantId,
        integration: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SyncRun>, ServiceError> {
        let integration = match integration {
            Some(id_or_name) => Some(self.store.find_integration(tenant, id_or_name).await?.id),
            None => None,
        };
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        Ok(self.store.list_sync_runs(tenant, integration.as_ref(), limit).await?)
    }
}
