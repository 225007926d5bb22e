//! IAM policy analyses stored with their snapshot: one document per snapshot and one
//! findings document per principal entity. The store keeps them as JSON text and does not
//! interpret them.

use crate::rows::parse_json;
use crate::snapshots::{multi_row_insert, ROWS_PER_INSERT};
use crate::sync_runs::SyncRun;
use crate::{Store, StoreError};
use muster_domain::{
    EntityId, EntityKey, IntegrationId, Inventory, SnapshotId, TenantId,
};
use sqlx::{Any, Row, Transaction};

/// An analysis to store with a new snapshot.
#[derive(Clone, Debug, Default)]
pub struct SnapshotAnalysis {
    /// The account-wide document (summary, catalog, load problems).
    pub document: serde_json::Value,
    /// Findings per principal, keyed by the entity the principal is in the inventory.
    pub principals: Vec<(EntityKey, serde_json::Value)>,
}

pub(crate) async fn insert_analysis(
    tx: &mut Transaction<'_, Any>,
    backend: crate::Backend,
    run: &SyncRun,
    snapshot_id: &SnapshotId,
    analysis: &SnapshotAnalysis,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO snapshot_analyses (snapshot_id, tenant_id, document, created_at) VALUES ($1, $2, $3, $4)")
        .bind(snapshot_id.as_str())
        .bind(run.tenant_id.as_str())
        .bind(analysis.document.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;

    const COLUMNS: usize = 4;
    for chunk in analysis.principals.chunks(ROWS_PER_INSERT) {
        let sql = multi_row_insert(
            backend,
            "INSERT INTO entity_findings (snapshot_id, entity_id, tenant_id, findings) VALUES ",
            COLUMNS,
            chunk.len(),
        );
        let mut query = sqlx::query(&sql);
        for (key, findings) in chunk {
            let id = EntityId::derive(&run.integration_id, key.entity_type, &key.source_id);
            query = query
                .bind(snapshot_id.as_str())
                .bind(id.as_str().to_string())
                .bind(run.tenant_id.as_str())
                .bind(findings.to_string());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Returns the analysis document of a snapshot, or `None` when none was stored.
    pub async fn snapshot_analysis(
        &self,
        tenant: &TenantId,
        snapshot: &SnapshotId,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let row = sqlx::query("SELECT document FROM snapshot_analyses WHERE tenant_id = $1 AND snapshot_id = $2")
            .bind(tenant.as_str())
            .bind(snapshot.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| parse_json(&row.try_get::<String, _>("document")?))
            .transpose()
    }

    /// Returns the stored findings of an entity in its integration's current snapshot, or
    /// `None` when the entity is no analysed principal.
    pub async fn entity_findings(
        &self,
        tenant: &TenantId,
        entity: &EntityId,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let row = sqlx::query(
            "SELECT f.findings FROM entity_findings f JOIN integrations i ON i.current_snapshot_id = f.snapshot_id \
             WHERE f.tenant_id = $1 AND f.entity_id = $2",
        )
        .bind(tenant.as_str())
        .bind(entity.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| parse_json(&row.try_get::<String, _>("findings")?))
            .transpose()
    }

    /// Reads the current snapshot of an integration back as an inventory, or `None` when
    /// it has never synced.
    pub async fn current_inventory(
        &self,
        tenant: &TenantId,
        integration: &IntegrationId,
    ) -> Result<Option<Inventory>, StoreError> {
        let current = self.integration(tenant, integration).await?.current_snapshot_id;
        let Some(snapshot) = current else {
            return Ok(None);
        };
        let entities = self.snapshot_entities(tenant, &snapshot).await?;
        let relations = self.snapshot_relations(&snapshot).await?;
        Ok(Some(Inventory {
            project: None,
            entities,
            relations,
            warnings: Vec::new(),
        }))
    }
}

