//! SCIM 2.0 integrations: adding one with its server, testing the connection, and the
//! deprovisioning primitives that lifecycle management will call (remove a group member,
//! deactivate a user), each verified by reading the resource back.

use crate::{Muster, ServiceError};
use muster_domain::{App, ExtractionType, Integration, IntegrationDraft, ScimConnection, ScimCredentials, TenantId};
use muster_scim::{DeprovisionOutcome, ScimAuth, ScimEndpoint, ScimOptions, ServiceProviderSummary};

impl Muster {
    /// Validates and saves a SCIM integration with its server.
    pub async fn add_scim_integration(
        &self,
        tenant: &TenantId,
        draft: IntegrationDraft,
        connection: ScimConnection,
    ) -> Result<Integration, ServiceError> {
        let mut draft = draft.normalized();
        draft.app = App::Scim;
        draft.extraction_type = ExtractionType::Scim;
        let connection = connection.normalized();

        let mut errors = match draft.validate() {
            Ok(()) => muster_domain::ValidationErrors::default(),
            Err(errors) => errors,
        };
        connection.validate(&mut errors);
        errors.into_result()?;

        let integration = self.store.create_scim_integration(tenant, &draft, &connection).await?;
        tracing::info!(integration_id = %integration.id, name = %integration.name, "SCIM integration added");
        Ok(integration)
    }

    /// Changes the server URL or credentials of a SCIM integration.
    pub async fn update_scim_connection(
        &self,
        tenant: &TenantId,
        id_or_name: &str,
        base_url: Option<String>,
        credentials: Option<ScimCredentials>,
    ) -> Result<Integration, ServiceError> {
        let integration = self.store.find_integration(tenant, id_or_name).await?;
        let current = self.scim_connection_of(&integration).await?;
        let updated = current.apply_update(base_url, credentials);
        let mut errors = muster_domain::ValidationErrors::default();
        updated.validate(&mut errors);
        errors.into_result()?;
        self.store.set_scim_connection(tenant, &integration.id, &updated).await?;
        tracing::info!(integration_id = %integration.id, "SCIM connection updated");
        Ok(self.store.integration(tenant, &integration.id).await?)
    }

    /// Reads the server's `/ServiceProviderConfig`: authentication schemes, filter, patch
    /// and bulk support, and the page-size cap.
    pub async fn test_scim_connection(
        &self,
        tenant: &TenantId,
        id_or_name: &str,
    ) -> Result<ServiceProviderSummary, ServiceError> {
        let integration = self.store.find_integration(tenant, id_or_name).await?;
        let endpoint = self.scim_endpoint(&integration).await?;
        muster_scim::test_connection(&endpoint, &self.scim_options)
            .await
            .map_err(scim_error)
    }

    /// Removes one user from one group on the SCIM server and checks the group afterwards.
    pub async fn scim_remove_group_member(
        &self,
        tenant: &TenantId,
        id_or_name: &str,
        group_id: &str,
        user_id: &str,
    ) -> Result<DeprovisionOutcome, ServiceError> {
        let integration = self.store.find_integration(tenant, id_or_name).await?;
        let endpoint = self.scim_endpoint(&integration).await?;
        let outcome = muster_scim::remove_group_member(&endpoint, &self.scim_options, group_id, user_id)
            .await
            .map_err(scim_error)?;
        tracing::info!(integration_id = %integration.id, group_id, user_id, method = %outcome.method, verified = outcome.verified, "SCIM group member removed");
        Ok(outcome)
    }

    /// Deactivates a user on the SCIM server and checks it afterwards.
    pub async fn scim_deactivate_user(
        &self,
        tenant: &TenantId,
        id_or_name: &str,
        user_id: &str,
    ) -> Result<DeprovisionOutcome, ServiceError> {
        let integration = self.store.find_integration(tenant, id_or_name).await?;
        let endpoint = self.scim_endpoint(&integration).await?;
        let outcome = muster_scim::deactivate_user(&endpoint, &self.scim_options, user_id)
            .await
            .map_err(scim_error)?;
        tracing::info!(integration_id = %integration.id, user_id, method = %outcome.method, verified = outcome.verified, "SCIM user deactivated");
        Ok(outcome)
    }

    async fn scim_connection_of(&self, integration: &Integration) -> Result<ScimConnection, ServiceError> {
        if integration.app != App::Scim {
            return Err(ServiceError::Conflict {
                field: "integration",
                message: format!("integration `{}` is not a SCIM integration", integration.name),
            });
        }
        self.store
            .scim_connection(&integration.tenant_id, &integration.id)
            .await?
            .ok_or_else(|| ServiceError::Conflict {
                field: "integration",
                message: format!("integration `{}` has no SCIM server: set its base URL and credentials", integration.name),
            })
    }

    /// The connector's view of an integration's SCIM server.
    pub(crate) async fn scim_endpoint(&self, integration: &Integration) -> Result<ScimEndpoint, ServiceError> {
        Ok(endpoint_of(self.scim_connection_of(integration).await?))
    }
}

pub(crate) fn endpoint_of(connection: ScimConnection) -> ScimEndpoint {
    let credentials = connection.credentials;
    let auth = match credentials.bearer_token {
        Some(token) => ScimAuth::Bearer(token),
        None => ScimAuth::Basic {
            username: credentials.username.unwrap_or_default(),
            password: credentials.password.unwrap_or_default(),
        },
    };
    ScimEndpoint {
        base_url: connection.base_url,
        auth,
        extra_headers: credentials.extra_headers,
    }
}

fn scim_error(error: muster_scim::ScimError) -> ServiceError {
    ServiceError::Connector {
        code: error.code,
        message: error.message,
    }
}

/// Options of every SCIM call this process makes.
pub(crate) fn default_scim_options() -> ScimOptions {
    ScimOptions::default()
}
