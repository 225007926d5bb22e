//! Snapshots: the immutable result of a successful sync, written in one transaction.

use crate::analyses::{insert_analysis, SnapshotAnalysis};
use crate::rows::now_timestamp;
use crate::snapshot_tx::{execute_on, SnapshotTx};
use crate::sync_runs::{SyncRun, SyncRunState};
use crate::{Backend, Store, StoreError};
use muster_domain::{EntityId, Inventory, IntegrationId, IntegrationStatus, SnapshotId};
use serde::Serialize;
use sqlx::{Any, Transaction};

/// Rows per multi-row INSERT. Keeps each statement well under SQLite's 32,766 and
/// PostgreSQL's 65,535 bound-parameter limits.
pub(crate) const ROWS_PER_INSERT: usize = 500;

/// Warnings of a snapshot repeated on its sync run.
const RUN_WARNINGS_SHOWN: usize = 20;

/// Message shown on an integration after a successful sync.
pub const DATA_AVAILABLE: &str = "Data available";

/// Counts of what a snapshot holds.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SnapshotSummary {
    pub id: SnapshotId,
    pub integration_id: IntegrationId,
    pub project: Option<String>,
    pub entity_count: i64,
    pub relation_count: i64,
    pub warnings: Vec<String>,
}

impl Store {
    /// Writes `inventory` as a new snapshot, makes it the integration's current one, marks
    /// the run succeeded and the integration `Connected` — all in one transaction, so a
    /// failure at any step leaves the previous snapshot current.
    pub async fn complete_sync_run(&self, run: &SyncRun, inventory: &Inventory) -> Result<SnapshotSummary, StoreError> {
        self.complete_sync_run_with_analysis(run, inventory, None).await
    }

    /// Does what [`Store::complete_sync_run`] does and also stores `analysis` with the new
    /// snapshot, in the same transaction.
    pub async fn complete_sync_run_with_analysis(
        &self,
        run: &SyncRun,
        inventory: &Inventory,
        analysis: Option<&SnapshotAnalysis>,
    ) -> Result<SnapshotSummary, StoreError> {
        inventory.validate().map_err(StoreError::Corrupt)?;

        let snapshot_id = SnapshotId::generate();
        let now = now_timestamp();
        let entity_count = i64::try_from(inventory.entities.len()).unwrap_or(i64::MAX);
        let relation_count = i64::try_from(inventory.relations.len()).unwrap_or(i64::MAX);

        let mut tx = self.pool.begin().await?;
        insert_entities(&mut tx, self.backend, run, &snapshot_id, inventory).await?;
        insert_relations(&mut tx, self.backend, run, &snapshot_id, inventory).await?;
        if let Some(analysis) = analysis {
            insert_analysis(&mut tx, self.backend, run, &snapshot_id, analysis, &now).await?;
        }
        let summary = SnapshotSummary {
            id: snapshot_id,
            integration_id: run.integration_id.clone(),
            project: inventory.project.clone(),
            entity_count,
            relation_count,
            warnings: inventory.warnings.clone(),
        };
        let mut tx = SnapshotTx::Any(tx);
        record_snapshot(&mut tx, run, &summary, &now).await?;
        tx.commit().await?;
        Ok(summary)
    }
}

impl Store {
    /// Returns the number of entities in a snapshot, or `None` when it does not exist.
    pub async fn snapshot_entity_count(&self, snapshot: &SnapshotId) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT entity_count FROM snapshots WHERE id = $1")
            .bind(snapshot.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(count,)| count))
    }
}

/// Inserts the snapshot's row, marks the run succeeded and makes the snapshot the
/// integration's current one with status `Connected`, inside the caller's transaction.
pub(crate) async fn record_snapshot(
    tx: &mut SnapshotTx,
    run: &SyncRun,
    summary: &SnapshotSummary,
    now: &str,
) -> Result<(), StoreError> {
    let warnings = serde_json::to_string(&summary.warnings).map_err(|error| StoreError::Corrupt(error.to_string()))?;
    execute_on!(
        tx,
        sqlx::query(
            "INSERT INTO snapshots (id, tenant_id, integration_id, sync_run_id, project, entity_count, relation_count, warnings, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(summary.id.as_str())
        .bind(run.tenant_id.as_str())
        .bind(run.integration_id.as_str())
        .bind(run.id.as_str())
        .bind(summary.project.as_deref())
        .bind(summary.entity_count)
        .bind(summary.relation_count)
        .bind(&warnings)
        .bind(now)
    );

    // The first warnings are kept on the run too, so the run history can show them.
    let stats = serde_json::json!({
        "entities": summary.entity_count,
        "relations": summary.relation_count,
        "warnings": summary.warnings.len(),
        "warning_messages": summary.warnings.iter().take(RUN_WARNINGS_SHOWN).collect::<Vec<_>>(),
    })
    .to_string();
    let message = format!("{} entities, {} relations", summary.entity_count, summary.relation_count);
    // A run whose lease expired may have been failed and followed by another: it must not
    // make its snapshot current over the newer one.
    let finished = execute_on!(
        tx,
        sqlx::query(
            "UPDATE sync_runs SET state = $1, finished_at = $2, snapshot_id = $3, message = $4, stats = $5 \
             WHERE tenant_id = $6 AND id = $7 AND state = $8",
        )
        .bind(SyncRunState::Succeeded.as_str())
        .bind(now)
        .bind(summary.id.as_str())
        .bind(&message)
        .bind(&stats)
        .bind(run.tenant_id.as_str())
        .bind(run.id.as_str())
        .bind(SyncRunState::Running.as_str())
    );
    if finished == 0 {
        return Err(StoreError::Conflict {
            field: "sync_run",
            message: format!(
                "run {} is no longer running (its lease expired, so another run may have replaced it): nothing was written; run it again",
                run.id
            ),
        });
    }

    let updated = execute_on!(
        tx,
        sqlx::query(
            "UPDATE integrations SET current_snapshot_id = $1, status = $2, message = $3, last_sync_at = $4 \
             WHERE tenant_id = $5 AND id = $6",
        )
        .bind(summary.id.as_str())
        .bind(IntegrationStatus::Connected.as_str())
        .bind(DATA_AVAILABLE)
        .bind(now)
        .bind(run.tenant_id.as_str())
        .bind(run.integration_id.as_str())
    );
    if updated == 0 {
        return Err(StoreError::not_found("integration", run.integration_id.as_str()));
    }
    Ok(())
}

async fn insert_entities(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    run: &SyncRun,
    snapshot_id: &SnapshotId,
    inventory: &Inventory,
) -> Result<(), StoreError> {
    const COLUMNS: usize = 9;
    for chunk in inventory.entities.chunks(ROWS_PER_INSERT) {
        let sql = multi_row_insert(
            backend,
            "INSERT INTO entities (snapshot_id, id, tenant_id, integration_id, entity_type, source_type, source_id, name, metadata) VALUES ",
            COLUMNS,
            chunk.len(),
        );
        let mut query = sqlx::query(&sql);
        for entity in chunk {
            let id = EntityId::derive(&run.integration_id, entity.entity_type, &entity.source_id);
            query = query
                .bind(snapshot_id.as_str())
                .bind(id.as_str().to_string())
                .bind(run.tenant_id.as_str())
                .bind(run.integration_id.as_str())
                .bind(entity.entity_type.as_str())
                .bind(entity.source_type.as_str())
                .bind(entity.source_id.as_str())
                .bind(entity.name.as_str())
                .bind(entity.metadata.to_string());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn insert_relations(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    run: &SyncRun,
    snapshot_id: &SnapshotId,
    inventory: &Inventory,
) -> Result<(), StoreError> {
    const COLUMNS: usize = 8;
    for chunk in inventory.relations.chunks(ROWS_PER_INSERT) {
        let sql = multi_row_insert(
            backend,
            "INSERT INTO relations (snapshot_id, parent_id, child_id, project, privilege_name, privilege_value, connection_type, metadata) VALUES ",
            COLUMNS,
            chunk.len(),
        );
        let mut query = sqlx::query(&sql);
        for relation in chunk {
            let parent = EntityId::derive(&run.integration_id, relation.parent.entity_type, &relation.parent.source_id);
            let child = EntityId::derive(&run.integration_id, relation.child.entity_type, &relation.child.source_id);
            query = query
                .bind(snapshot_id.as_str())
                .bind(parent.as_str().to_string())
                .bind(child.as_str().to_string())
                .bind(relation.project.as_str())
                .bind(relation.privilege_name.as_str())
                .bind(i64::from(relation.privilege_value))
                .bind(relation.connection_type.as_deref())
                .bind(relation.metadata.to_string());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Builds `prefix ($1, $2, …), (…)` for `rows` rows of `columns` placeholders each. On
/// SQLite the placeholders are `?`, because sqlx looks every `$N` name up in a list as
/// long as the statement's parameters, so a large batch would take quadratic time.
pub(crate) fn multi_row_insert(backend: Backend, prefix: &str, columns: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(prefix.len() + rows * columns * 5);
    sql.push_str(prefix);
    let mut next = 1;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&next.to_string());
                }
            }
            next += 1;
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_numbered_across_rows() {
        assert_eq!(multi_row_insert(Backend::Postgres, "V ", 2, 2), "V ($1, $2), ($3, $4)");
        assert_eq!(multi_row_insert(Backend::Sqlite, "V ", 2, 2), "V (?, ?), (?, ?)");
    }
}
