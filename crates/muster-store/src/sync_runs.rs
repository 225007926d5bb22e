//! Sync runs: the record of every extraction attempt, and the job queue that workers claim.

use crate::error::is_unique_violation;
use crate::rows::{now_timestamp, parse_json};
use crate::{Backend, Store, StoreError};
use muster_domain::{IntegrationId, IntegrationStatus, SnapshotId, SyncRunId, TenantId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::fmt;
use std::str::FromStr;

/// Lifecycle state of a sync run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncRunState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl SyncRunState {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncRunState::Queued => "queued",
            SyncRunState::Running => "running",
            SyncRunState::Succeeded => "succeeded",
            SyncRunState::Failed => "failed",
        }
    }
}

impl fmt::Display for SyncRunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SyncRunState {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "queued" => Ok(SyncRunState::Queued),
            "running" => Ok(SyncRunState::Running),
            "succeeded" => Ok(SyncRunState::Succeeded),
            "failed" => Ok(SyncRunState::Failed),
            other => Err(format!("unknown sync run state `{other}`")),
        }
    }
}

/// One extraction attempt.
#[derive(Clone, Debug, Serialize)]
pub struct SyncRun {
    pub id: SyncRunId,
    pub tenant_id: TenantId,
    pub integration_id: IntegrationId,
    pub state: SyncRunState,
    /// Origin of the request: `cli`, `api`, `ui`.
    pub trigger: String,
    /// The process that ran it, e.g. `host:pid`.
    pub worker: Option<String>,
    pub queued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub snapshot_id: Option<SnapshotId>,
    /// Stable error code, e.g. `aws.access_denied`, when the run failed.
    pub error_code: Option<String>,
    pub message: String,
    pub stats: serde_json::Value,
}

const RUN_COLUMNS: &str = "id, tenant_id, integration_id, state, trigger, worker, queued_at, \
     started_at, finished_at, snapshot_id, error_code, message, stats";

impl Store {
    /// Queues a sync for a worker to claim. When one is already queued or running for the
    /// integration, that run is returned instead of queuing a second.
    pub async fn queue_sync_run(
        &self,
        tenant: &TenantId,
        integration: &IntegrationId,
        trigger: &str,
    ) -> Result<SyncRun, StoreError> {
        self.integration(tenant, integration).await?;
        self.fail_expired_sync_runs().await?;
        if let Some(active) = self.active_sync_run(tenant, integration).await? {
            return Ok(active);
        }

        let id = SyncRunId::generate();
        let inserted = sqlx::query(
            "INSERT INTO sync_runs (id, tenant_id, integration_id, state, trigger, queued_at, message, stats) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(integration.as_str())
        .bind(SyncRunState::Queued.as_str())
        .bind(trigger)
        .bind(now_timestamp())
        .bind("Waiting for a worker")
        .bind("{}")
        .execute(&self.pool)
        .await;

        match inserted {
            Ok(_) => self.sync_run(tenant, &id).await,
            // Another process queued one between the check and the insert.
            Err(error) if is_unique_violation(&error) => self
                .active_sync_run(tenant, integration)
                .await?
                .ok_or_else(|| StoreError::Corrupt("an active sync run vanished".into())),
            Err(error) => Err(error.into()),
        }
    }

    /// Records a run that starts at once in this process, as `muster sync` does. A queued
    /// run of the integration is taken over; a running one is a conflict.
    pub async fn start_sync_run(
        &self,
        tenant: &TenantId,
        integration: &IntegrationId,
        trigger: &str,
        worker: &str,
    ) -> Result<SyncRun, StoreError> {
        self.integration(tenant, integration).await?;
        self.fail_expired_sync_runs().await?;
        let now = now_timestamp();

        if let Some(active) = self.active_sync_run(tenant, integration).await? {
            if active.state == SyncRunState::Running {
                return Err(already_running(&active));
            }
            let claimed = sqlx::query(
                "UPDATE sync_runs SET state = $1, worker = $2, started_at = $3, heartbeat_at = $3, message = $4 \
                 WHERE id = $5 AND state = $6",
            )
            .bind(SyncRunState::Running.as_str())
            .bind(worker)
            .bind(&now)
            .bind("Running")
            .bind(active.id.as_str())
            .bind(SyncRunState::Queued.as_str())
            .execute(&self.pool)
            .await?;
            if claimed.rows_affected() == 0 {
                let current = self.sync_run(tenant, &active.id).await?;
                return Err(already_running(&current));
            }
            self.mark_syncing(tenant, integration).await?;
            return self.sync_run(tenant, &active.id).await;
        }

        let id = SyncRunId::generate();
        let inserted = sqlx::query(
            "INSERT INTO sync_runs (id, tenant_id, integration_id, state, trigger, worker, queued_at, started_at, heartbeat_at, message, stats) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8, $9)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(integration.as_str())
        .bind(SyncRunState::Running.as_str())
        .bind(trigger)
        .bind(worker)
        .bind(&now)
        .bind("Running")
        .bind("{}")
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => {}
            Err(error) if is_unique_violation(&error) => {
                return match self.active_sync_run(tenant, integration).await? {
                    Some(active) => Err(already_running(&active)),
                    None => Err(StoreError::Corrupt("an active sync run vanished".into())),
                };
            }
            Err(error) => return Err(error.into()),
        }
        self.mark_syncing(tenant, integration).await?;
        self.sync_run(tenant, &id).await
    }

    /// Renews the lease of a running run. Returns `false` when the run is no longer
    /// running, e.g. because another process expired it.
    pub async fn heartbeat_sync_run(&self, run: &SyncRun) -> Result<bool, StoreError> {
        let renewed = sqlx::query("UPDATE sync_runs SET heartbeat_at = $1 WHERE id = $2 AND state = $3")
            .bind(now_timestamp())
            .bind(run.id.as_str())
            .bind(SyncRunState::Running.as_str())
            .execute(&self.pool)
            .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Claims the oldest queued run for `worker`, or returns `None` when the queue is empty.
    ///
    /// On PostgreSQL several `muster serve` processes may poll at once: `FOR UPDATE SKIP
    /// LOCKED` hands each queued row to exactly one of them. SQLite serialises writers, so
    /// the plain statement is already exclusive there.
    pub async fn claim_next_sync_run(&self, worker: &str) -> Result<Option<SyncRun>, StoreError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE sync_runs SET state = $1, worker = $2, started_at = $3, heartbeat_at = $3, message = $4 \
             WHERE id = (SELECT id FROM sync_runs WHERE state = $5 ORDER BY queued_at, id LIMIT 1{lock}) \
             AND state = $5 RETURNING {RUN_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(SyncRunState::Running.as_str())
            .bind(worker)
            .bind(now_timestamp())
            .bind("Running")
            .bind(SyncRunState::Queued.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let run = run_from_row(&row)?;
        self.mark_syncing(&run.tenant_id, &run.integration_id).await?;
        Ok(Some(run))
    }

    /// Marks a failed run and puts the error on the integration. The current snapshot is
    /// left as it was. A run that has already ended (its lease expired, say, and a newer
    /// run may have finished since) is left alone, and so is its integration.
    pub async fn fail_sync_run(
        &self,
        run: &SyncRun,
        status: IntegrationStatus,
        error_code: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let now = now_timestamp();
        let mut tx = self.pool.begin().await?;
        let failed = sqlx::query(
            "UPDATE sync_runs SET state = $1, finished_at = $2, error_code = $3, message = $4 \
             WHERE tenant_id = $5 AND id = $6 AND state IN ($7, $8)",
        )
        .bind(SyncRunState::Failed.as_str())
        .bind(&now)
        .bind(error_code)
        .bind(message)
        .bind(run.tenant_id.as_str())
        .bind(run.id.as_str())
        .bind(SyncRunState::Queued.as_str())
        .bind(SyncRunState::Running.as_str())
        .execute(&mut *tx)
        .await?;
        if failed.rows_affected() == 0 {
            tracing::warn!(run_id = %run.id, %message, "the run had already ended; its failure is not recorded over what followed");
            return Ok(());
        }
        sqlx::query(
            "UPDATE integrations SET status = $1, message = $2, last_sync_at = $3 WHERE tenant_id = $4 AND id = $5",
        )
        .bind(status.as_str())
        .bind(message)
        .bind(&now)
        .bind(run.tenant_id.as_str())
        .bind(run.integration_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks runs whose lease expired as failed: the process running them stopped
    /// without finishing. Their integrations show the failure; snapshots are untouched.
    pub async fn fail_expired_sync_runs(&self) -> Result<u64, StoreError> {
        let cutoff = time::OffsetDateTime::now_utc() - self.sync_run_lease;
        let cutoff = muster_domain::format_timestamp(cutoff);
        let message = "The process running this sync stopped before it finished";
        let now = now_timestamp();

        let mut tx = self.pool.begin().await?;
        let expired: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, tenant_id, integration_id FROM sync_runs \
             WHERE state = $1 AND COALESCE(heartbeat_at, started_at, queued_at) < $2",
        )
        .bind(SyncRunState::Running.as_str())
        .bind(&cutoff)
        .fetch_all(&mut *tx)
        .await?;
        for (id, tenant_id, integration_id) in &expired {
            sqlx::query(
                "UPDATE sync_runs SET state = $1, finished_at = $2, error_code = $3, message = $4 \
                 WHERE id = $5 AND state = $6",
            )
            .bind(SyncRunState::Failed.as_str())
            .bind(&now)
            .bind("sync.abandoned")
            .bind(message)
            .bind(id)
            .bind(SyncRunState::Running.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE integrations SET status = $1, message = $2 WHERE tenant_id = $3 AND id = $4 AND status = $5",
            )
            .bind(IntegrationStatus::SyncFailed.as_str())
            .bind(message)
            .bind(tenant_id)
            .bind(integration_id)
            .bind(IntegrationStatus::Syncing.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;

        if !expired.is_empty() {
            tracing::warn!(count = expired.len(), "marked sync runs of stopped processes as failed");
        }
        Ok(expired.len() as u64)
    }

    pub async fn sync_run(&self, tenant: &TenantId, id: &SyncRunId) -> Result<SyncRun, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found("sync run", id.as_str()))?;
        run_from_row(&row)
    }

    /// Lists runs newest first, for one integration or all of a tenant's.
    pub async fn list_sync_runs(
        &self,
        tenant: &TenantId,
        integration: Option<&IntegrationId>,
        limit: u32,
    ) -> Result<Vec<SyncRun>, StoreError> {
        let rows = match integration {
            Some(integration) => {
                sqlx::query(&format!(
                    "SELECT {RUN_COLUMNS} FROM sync_runs WHERE tenant_id = $1 AND integration_id = $2 \
                     ORDER BY queued_at DESC, id DESC LIMIT $3"
                ))
                .bind(tenant.as_str())
                .bind(integration.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {RUN_COLUMNS} FROM sync_runs WHERE tenant_id = $1 \
                     ORDER BY queued_at DESC, id DESC LIMIT $2"
                ))
                .bind(tenant.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(run_from_row).collect()
    }

    async fn active_sync_run(
        &self,
        tenant: &TenantId,
        integration: &IntegrationId,
    ) -> Result<Option<SyncRun>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE tenant_id = $1 AND integration_id = $2 \
             AND state IN ($3, $4) ORDER BY queued_at LIMIT 1"
        ))
        .bind(tenant.as_str())
        .bind(integration.as_str())
        .bind(SyncRunState::Queued.as_str())
        .bind(SyncRunState::Running.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    async fn mark_syncing(&self, tenant: &TenantId, integration: &IntegrationId) -> Result<(), StoreError> {
        self.set_integration_status(tenant, integration, IntegrationStatus::Syncing, "Sync in progress")
            .await
    }
}

pub(crate) fn already_running(active: &SyncRun) -> StoreError {
    StoreError::Conflict {
        field: "integration",
        message: format!(
            "a sync of this integration is already running (run {}, started {} by {}): wait for it to finish; \
             if that process has stopped, the run expires {} s after its last sign of life",
            active.id,
            active.started_at.as_deref().unwrap_or("just now"),
            active.worker.as_deref().unwrap_or("another process"),
            crate::SYNC_RUN_LEASE.as_secs(),
        ),
    }
}

pub(crate) fn run_from_row(row: &AnyRow) -> Result<SyncRun, StoreError> {
    let state: String = row.try_get("state")?;
    let stats: String = row.try_get("stats")?;
    let snapshot: Option<String> = row.try_get("snapshot_id")?;
    Ok(SyncRun {
        id: SyncRunId::from_string(row.try_get::<String, _>("id")?),
        tenant_id: TenantId::from_string(row.try_get::<String, _>("tenant_id")?),
        integration_id: IntegrationId::from_string(row.try_get::<String, _>("integration_id")?),
        state: crate::rows::parse_stored(&state)?,
        trigger: row.try_get("trigger")?,
        worker: row.try_get("worker")?,
        queued_at: row.try_get("queued_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        snapshot_id: snapshot.map(SnapshotId::from_string),
        error_code: row.try_get("error_code")?,
        message: row.try_get("message")?,
        stats: parse_json(&stats)?,
    })
}
