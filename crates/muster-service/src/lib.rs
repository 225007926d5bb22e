//! Muster's application services, shared by the CLI and the HTTP server: settings,
//! integration management, sync runs, the background worker that executes them, and the
//! IAM policy analysis stored with each AWS snapshot.

pub mod analysis;
mod api_keys;
mod error;
mod exports;
pub mod identities;
pub mod imports;
mod integrations;
mod scim;
pub mod settings;
pub(crate) mod sync;
mod worker;

pub use error::ServiceError;
pub use exports::ExportSummary;
pub use identities::{IdentityFilter, IdentityView, MappedEmployee, MappingOrigin};
pub use imports::{ImportFiles, ImportKind, ImportOptions, ImportProblem, ImportProgress, ImportReport};
pub use settings::{Settings, SettingsError};
pub use sync::SyncOutcome;
pub use worker::{spawn_workers, WorkerHandle};

pub use muster_aws::{ConnectorOptions, Progress, StaticCredentials};
pub use muster_scim::{DeprovisionOutcome, ScimOptions, ServiceProviderSummary};
pub use muster_store::{
    ApiKey, ApiKeyRejection, BulkTransfer, IssuedApiKey, NewBulkTransfer, UploadUrlRejection,
    EntityDetail, EntityFilter, EntityPage, RelatedEntity, SnapshotSummary, Store, StoredEntity,
    SyncRun, SyncRunState,
};

use muster_domain::TenantId;
use muster_store::StoreError;

/// Maximum page size for entity and run listings.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The application: storage plus how to reach connected systems.
#[derive(Clone, Debug)]
pub struct Muster {
    store: Store,
    connector: ConnectorOptions,
    scim_options: muster_scim::ScimOptions,
    default_tenant: TenantId,
}

impl Muster {
    /// Opens the store described by `settings`, applying migrations.
    ///
    /// A key file created just now is removed again when the database turns out to hold
    /// credentials sealed with another key, so a lost key file is reported, not replaced.
    pub async fn open(settings: &Settings) -> Result<Muster, ServiceError> {
        let loaded = settings.secret_key()?;
        match Store::connect(&settings.database_url(), loaded.key).await {
            Ok(store) => Muster::with_store(store, ConnectorOptions::default()).await,
            Err(StoreError::KeyMismatch) if loaded.created_file.is_some() => {
                if let Some(path) = &loaded.created_file {
                    if let Err(error) = std::fs::remove_file(path) {
                        tracing::warn!(path = %path.display(), %error, "cannot remove the key file created for a database that needs another key");
                    }
                }
                Err(ServiceError::Settings(SettingsError::MissingKey {
                    data_dir: settings.data_dir.display().to_string(),
                }))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Wraps an already connected store, e.g. in tests.
    pub async fn with_store(store: Store, connector: ConnectorOptions) -> Result<Muster, ServiceError> {
        let default_tenant = store.ensure_default_tenant().await?;
        Ok(Muster {
            store,
            connector,
            scim_options: scim::default_scim_options(),
            default_tenant,
        })
    }

    /// Replaces the timeouts, retries and page size of SCIM calls.
    pub fn set_scim_options(&mut self, options: muster_scim::ScimOptions) {
        self.scim_options = options;
    }

    /// Replaces how connectors reach AWS (endpoint, region, base credentials).
    pub fn set_connector_options(&mut self, connector: ConnectorOptions) {
        self.connector = connector;
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Returns the tenant every request uses until sign-in and multi-tenancy arrive.
    pub fn default_tenant(&self) -> &TenantId {
        &self.default_tenant
    }
}
