//! Writing a snapshot row by row, for imports that stream a file instead of holding an
//! [`Inventory`](muster_domain::Inventory) in memory. Everything happens in one
//! transaction: dropping the writer without [`SnapshotWriter::finish`] rolls it back and
//! the previous snapshot stays current.

use crate::rows::now_timestamp;
use crate::snapshots::{multi_row_insert, record_snapshot, SnapshotSummary, ROWS_PER_INSERT};
use crate::sync_runs::SyncRun;
use crate::{Store, StoreError};
use muster_domain::{Entity, EntityId, EntityType, SnapshotId};
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

/// A relation to write, between two entities of the snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRelation {
    pub parent: EntityId,
    pub child: EntityId,
    pub project: String,
    pub privilege_name: String,
    pub privilege_value: bool,
    pub connection_type: Option<String>,
    /// A JSON object, as text.
    pub metadata: String,
}

/// A snapshot being written inside its own transaction.
pub struct SnapshotWriter {
    tx: Transaction<'static, Any>,
    run: SyncRun,
    id: SnapshotId,
    entities: Vec<(EntityId, Entity)>,
    relations: Vec<NewRelation>,
    entity_count: i64,
    relation_count: i64,
}

impl Store {
    /// Opens a transaction for a new snapshot of the run's integration.
    pub async fn begin_snapshot(&self, run: &SyncRun) -> Result<SnapshotWriter, StoreError> {
        let tx = self.pool.begin().await?;
        Ok(SnapshotWriter {
            tx,
            run: run.clone(),
            id: SnapshotId::generate(),
            entities: Vec::with_capacity(ROWS_PER_INSERT),
            relations: Vec::with_capacity(ROWS_PER_INSERT),
            entity_count: 0,
            relation_count: 0,
        })
    }

    /// The entity ids of a snapshot, by type and source id: what relation rows of an
    /// upload are checked against.
    pub async fn snapshot_entity_index(
        &self,
        snapshot: &SnapshotId,
    ) -> Result<HashMap<(EntityType, String), EntityId>, StoreError> {
        let rows = sqlx::query("SELECT id, entity_type, source_id FROM entities WHERE snapshot_id = $1")
            .bind(snapshot.as_str())
            .fetch_all(&self.pool)
            .await?;
        let mut index = HashMap::with_capacity(rows.len());
        for row in rows {
            let entity_type: String = row.try_get("entity_type")?;
            let entity_type = crate::rows::parse_stored(&entity_type)?;
            index.insert(
                (entity_type, row.try_get::<String, _>("source_id")?),
                EntityId::from_string(row.try_get::<String, _>("id")?),
            );
        }
        Ok(index)
    }
}

impl SnapshotWriter {
    pub fn id(&self) -> &SnapshotId {
        &self.id
    }

    /// Adds an entity and returns its id.
    pub async fn add_entity(&mut self, entity: Entity) -> Result<EntityId, StoreError> {
        let id = EntityId::derive(&self.run.integration_id, entity.entity_type, &entity.source_id);
        self.entities.push((id.clone(), entity));
        self.entity_count += 1;
        if self.entities.len() >= ROWS_PER_INSERT {
            self.flush_entities().await?;
        }
        Ok(id)
    }

    pub async fn add_relation(&mut self, relation: NewRelation) -> Result<(), StoreError> {
        self.relations.push(relation);
        self.relation_count += 1;
        if self.relations.len() >= ROWS_PER_INSERT {
            self.flush_relations().await?;
        }
        Ok(())
    }

    /// Copies every entity of `previous` into this snapshot. Returns how many.
    pub async fn copy_entities(&mut self, previous: &SnapshotId) -> Result<u64, StoreError> {
        self.flush_entities().await?;
        let copied = sqlx::query(
            "INSERT INTO entities (snapshot_id, id, tenant_id, integration_id, entity_type, source_type, source_id, name, metadata) \
             SELECT $1, id, tenant_id, integration_id, entity_type, source_type, source_id, name, metadata \
             FROM entities WHERE snapshot_id = $2",
        )
        .bind(self.id.as_str())
        .bind(previous.as_str())
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        self.entity_count += i64::try_from(copied).unwrap_or(i64::MAX);
        Ok(copied)
    }

    /// Copies the relations of `previous` whose two ends are entities of this snapshot;
    /// call it after the last entity. Returns how many were kept and how many dropped.
    pub async fn copy_relations(&mut self, previous: &SnapshotId) -> Result<(u64, u64), StoreError> {
        self.flush_entities().await?;
        let kept = sqlx::query(
            "INSERT INTO relations (snapshot_id, parent_id, child_id, project, privilege_name, privilege_value, connection_type, metadata) \
             SELECT $1, r.parent_id, r.child_id, r.project, r.privilege_name, r.privilege_value, r.connection_type, r.metadata \
             FROM relations r WHERE r.snapshot_id = $2 \
             AND EXISTS (SELECT 1 FROM entities e WHERE e.snapshot_id = $1 AND e.id = r.parent_id) \
             AND EXISTS (SELECT 1 FROM entities e WHERE e.snapshot_id = $1 AND e.id = r.child_id)",
        )
        .bind(self.id.as_str())
        .bind(previous.as_str())
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM relations WHERE snapshot_id = $1")
            .bind(previous.as_str())
            .fetch_one(&mut *self.tx)
            .await?;
        self.relation_count += i64::try_from(kept).unwrap_or(i64::MAX);
        let dropped = u64::try_from(total).unwrap_or(0).saturating_sub(kept);
        Ok((kept, dropped))
    }

    /// Writes what is buffered, records the snapshot, makes it current and commits.
    pub async fn finish(
        mut self,
        project: Option<String>,
        warnings: Vec<String>,
    ) -> Result<SnapshotSummary, StoreError> {
        self.flush_entities().await?;
        self.flush_relations().await?;

        let summary = SnapshotSummary {
            id: self.id.clone(),
            integration_id: self.run.integration_id.clone(),
            project,
            entity_count: self.entity_count,
            relation_count: self.relation_count,
            warnings,
        };
        record_snapshot(&mut self.tx, &self.run, &summary, &now_timestamp()).await?;
        self.tx.commit().await?;
        Ok(summary)
    }

    async fn flush_entities(&mut self) -> Result<(), StoreError> {
        if self.entities.is_empty() {
            return Ok(());
        }
        let sql = multi_row_insert(
            "INSERT INTO entities (snapshot_id, id, tenant_id, integration_id, entity_type, source_type, source_id, name, metadata) VALUES ",
            9,
            self.entities.len(),
        );
        let mut query = sqlx::query(&sql);
        for (id, entity) in self.entities.drain(..) {
            query = query
                .bind(self.id.as_str().to_string())
                .bind(id.as_str().to_string())
                .bind(self.run.tenant_id.as_str().to_string())
                .bind(self.run.integration_id.as_str().to_string())
                .bind(entity.entity_type.as_str())
                .bind(entity.source_type)
                .bind(entity.source_id)
                .bind(entity.name)
                .bind(entity.metadata.to_string());
        }
        query.execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn flush_relations(&mut self) -> Result<(), StoreError> {
        if self.relations.is_empty() {
            return Ok(());
        }
        let sql = multi_row_insert(
            "INSERT INTO relations (snapshot_id, parent_id, child_id, project, privilege_name, privilege_value, connection_type, metadata) VALUES ",
            8,
            self.relations.len(),
        );
        let mut query = sqlx::query(&sql);
        for relation in self.relations.drain(..) {
            query = query
                .bind(self.id.as_str().to_string())
                .bind(relation.parent.as_str().to_string())
                .bind(relation.child.as_str().to_string())
                .bind(relation.project)
                .bind(relation.privilege_name)
                .bind(i64::from(relation.privilege_value))
                .bind(relation.connection_type)
                .bind(relation.metadata);
        }
        query.execute(&mut *self.tx).await?;
        Ok(())
    }
}
