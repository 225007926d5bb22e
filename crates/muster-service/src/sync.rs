//! Sync execution: fetch from the connector, write the snapshot, record the outcome.
//!
//! The phases run in a fixed order (fetch → analyse policies → validate → write snapshot
//! and analysis and make them current in one transaction). A failure at any phase but
//! the analysis marks the run failed and leaves the previous snapshot current. A failed
//! analysis only adds a warning.

use crate::{Muster, Progress, ServiceError};
use muster_domain::{App, IntegrationStatus, TenantId};
use crate::analysis::analyze_inventory;
use muster_domain::Inventory;
use std::sync::Arc;
use muster_store::{SnapshotAnalysis, SnapshotSummary, SyncRun};
use tracing::Instrument;

/// Outcome of a sync run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SyncOutcome {
    pub run: SyncRun,
    /// The new current snapshot when the run succeeded.
    pub snapshot: Option<SnapshotSummary>,
}

impl SyncOutcome {
    pub fn succeeded(&self) -> bool {
        self.snapshot.is_some()
    }
}

impl Muster {
    /// Queues a sync for the background worker and returns the queued (or already active)
    /// run.
    pub async fn request_sync(&self, tenant: &TenantId, id_or_name: &str, trigger: &str) -> Result<SyncRun, ServiceError> {
        let integration = self.store.find_integration(tenant, id_or_name).await?;
        reject_file_integration(&integration)?;
        let run = self.store.queue_sync_run(tenant, &integration.id, trigger).await?;
        tracing::info!(integration_id = %integration.id, run_id = %run.id, trigger, "sync queued");
        Ok(run)
    }

    /// Runs a sync in this process and waits for it, reporting progress as it goes.
    pub async fn sync_now(
        &self,
        tenant: &TenantId,
        id_or_name: &str,
        trigger: &str,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<SyncOutcome, ServiceError> {
        let integration = self.store.find_integration(tenant, id_or_name).await?;
        reject_file_integration(&integration)?;
        let run = self
            .store
            .start_sync_run(tenant, &integration.id, trigger, &worker_name())
            .await?;
        self.execute_sync_run(run, progress).await
    }

    /// Executes a run already marked `running`, recording success or failure on it. The
    /// run's lease is renewed while it executes, so other processes do not take it for
    /// abandoned.
    pub async fn execute_sync_run(
        &self,
        run: SyncRun,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<SyncOutcome, ServiceError> {
        let span = tracing::info_span!("sync", integration_id = %run.integration_id, run_id = %run.id);
        let heartbeat = tokio::spawn(renew_lease(self.store.clone(), run.clone()).instrument(span.clone()));
        let outcome = self.execute_in_span(run, progress).instrument(span).await;
        heartbeat.abort();
        outcome
    }

    async fn execute_in_span(
        &self,
        run: SyncRun,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<SyncOutcome, ServiceError> {
        tracing::info!("sync started");
        let tenant = run.tenant_id.clone();
        let integration = self.store.integration(&tenant, &run.integration_id).await?;

        let credentials = match self.store.integration_credentials(&tenant, &integration.id).await {
            Ok(credentials) => credentials,
            Err(error) => {
                let message = format!("Cannot read the stored credentials: {error}");
                return self
                    .record_failure(run, IntegrationStatus::SyncFailed, "sync.credentials_unreadable", &message)
                    .await;
            }
        };

        if integration.extraction_type.receives_files() {
            let message = format!(
                "{} receives its data as files (extraction type `{}`): import them instead of syncing",
                integration.name,
                integration.extraction_type.as_str()
            );
            return self
                .record_failure(run, IntegrationStatus::SyncFailed, "sync.not_supported", &message)
                .await;
        }
        let extracted = match integration.app {
            App::Aws => muster_aws::extract_account(&credentials, &self.connector, progress)
                .await
                .map_err(|error| (error.status, error.code, error.message)),
            App::Scim => match self.scim_endpoint(&integration).await {
                Ok(endpoint) => {
                    let scim_progress = |step: muster_scim::Progress| {
                        progress(Progress {
                            phase: step.phase,
                            done: step.done,
                            total: step.total,
                        })
                    };
                    muster_scim::extract(&endpoint, &self.scim_options, &scim_progress)
                        .await
                        .map_err(|error| (error.status, error.code, error.message))
                }
                Err(error) => Err((IntegrationStatus::SyncFailed, error.code(), error.to_string())),
            },
            App::Custom => Err((
                IntegrationStatus::SyncFailed,
                "sync.not_supported".to_string(),
                format!("{} receives its data as files: import them instead of syncing", integration.name),
            )),
        };
        let mut inventory = match extracted {
            Ok(inventory) => inventory,
            Err((status, code, message)) => {
                return self.record_failure(run, status, &code, &message).await;
            }
        };

        // An empty read after a full one is more often a server or scope problem than a
        // system that lost every account, so the snapshot gets a warning.
        if inventory.entities.is_empty() {
            if let Some(previous) = &integration.current_snapshot_id {
                let count = self.store.snapshot_entity_count(previous).await?.unwrap_or(0);
                if count > 0 {
                    inventory.warnings.push(format!(
                        "the sync read nothing, while the previous snapshot had {count} entities: check the server and what the credentials may read before trusting this snapshot"
                    ));
                }
            }
        }

        if integration.app != App::Aws {
            return self.finish_sync(run, &inventory, None).await;
        }
        let (inventory, analysis) = analyze_in_background(inventory).await;
        self.finish_sync(run, &inventory, analysis.as_ref()).await
    }

    /// Writes the snapshot (and analysis) and records the run's outcome.
    async fn finish_sync(
        &self,
        run: SyncRun,
        inventory: &Inventory,
        analysis: Option<&SnapshotAnalysis>,
    ) -> Result<SyncOutcome, ServiceError> {
        let tenant = run.tenant_id.clone();
        match self.store.complete_sync_run_with_analysis(&run, inventory, analysis).await {
            Ok(snapshot) => {
                tracing::info!(
                    snapshot_id = %snapshot.id,
                    entities = snapshot.entity_count,
                    relations = snapshot.relation_count,
                    warnings = snapshot.warnings.len(),
                    "sync succeeded"
                );
                let run = self.store.sync_run(&tenant, &run.id).await?;
                Ok(SyncOutcome {
                    run,
                    snapshot: Some(snapshot),
                })
            }
            Err(error) => {
                let message = format!("Saving the snapshot failed: {error}");
                self.record_failure(run, IntegrationStatus::SyncFailed, "sync.store_failed", &message)
                    .await
            }
        }
    }

    async fn record_failure(
        &self,
        run: SyncRun,
        status: IntegrationStatus,
        code: &str,
        message: &str,
    ) -> Result<SyncOutcome, ServiceError> {
        tracing::warn!(code, message, "sync failed; the previous snapshot stays current");
        self.store.fail_sync_run(&run, status, code, message).await?;
        let run = self.store.sync_run(&run.tenant_id, &run.id).await?;
        Ok(SyncOutcome { run, snapshot: None })
    }
}

/// Analyses the inventory off the async threads. A failed analysis becomes a warning on
/// the snapshot, so the sync still succeeds without stored findings.
pub(crate) async fn analyze_in_background(inventory: Inventory) -> (Inventory, Option<SnapshotAnalysis>) {
    let shared = Arc::new(inventory);
    let task_input = Arc::clone(&shared);
    let outcome = tokio::task::spawn_blocking(move || analyze_inventory(&task_input)).await;
    let mut inventory = Arc::try_unwrap(shared).unwrap_or_else(|shared| (*shared).clone());
    let message = match outcome {
        Ok(Ok(analysis)) => return (inventory, Some(analysis)),
        Ok(Err(message)) => message,
        Err(error) => format!("the analysis task stopped: {error}"),
    };
    tracing::warn!(%message, "policy analysis failed; the snapshot is stored without findings");
    inventory.warnings.push(format!("the policy analysis failed: {message}"));
    (inventory, None)
}

/// Renews a running sync's lease until aborted.
pub(crate) async fn renew_lease(store: muster_store::Store, run: SyncRun) {
    let mut interval = tokio::time::interval(muster_store::SYNC_RUN_HEARTBEAT);
    interval.tick().await;
    loop {
        interval.tick().await;
        match store.heartbeat_sync_run(&run).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("the sync run is no longer running in the database; its lease is not renewed");
                return;
            }
            Err(error) => tracing::warn!(%error, "renewing the sync run lease failed; retrying"),
        }
    }
}

/// Names this process in run records: `host:pid`.
/// Integrations that receive files have nothing to sync.
fn reject_file_integration(integration: &muster_domain::Integration) -> Result<(), ServiceError> {
    if integration.extraction_type.receives_files() {
        return Err(ServiceError::Conflict {
            field: "integration",
            message: format!(
                "integration `{}` receives its data as files (extraction type `{}`): use `muster import` or the upload form instead of a sync",
                integration.name,
                integration.extraction_type.as_str()
            ),
        });
    }
    Ok(())
}

pub(crate) fn worker_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|name| name.trim().to_string()))
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_domain::inventory::metadata_v1;
    use muster_domain::{Entity, EntityType};

    #[tokio::test]
    async fn failed_analysis_becomes_warning() {
        let mut fields = serde_json::Map::new();
        fields.insert("Versions".into(), serde_json::Value::from("not a list"));
        let inventory = Inventory {
            entities: vec![Entity {
                entity_type: EntityType::Connection,
                source_id: "arn:aws:iam::111122223333:policy/p".into(),
                source_type: "policy".into(),
                name: "p".into(),
                metadata: metadata_v1(fields),
            }],
            ..Inventory::default()
        };

        let (kept, analysis) = analyze_in_background(inventory).await;
        assert!(analysis.is_none());
        assert_eq!(kept.entities.len(), 1, "the inventory is stored unchanged");
        assert_eq!(kept.warnings.len(), 1);
        assert!(kept.warnings[0].starts_with("the policy analysis failed:"), "{:?}", kept.warnings);
    }
}
