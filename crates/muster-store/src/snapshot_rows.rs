//! Reading a snapshot's entities and relations back, whole or one row at a time. Exports
//! take them one at a time, so a large snapshot never sits in memory. The rows come in an
//! order that compares text byte by byte (the `C` collation on PostgreSQL, SQLite's
//! default `BINARY`), so the same data gives the same file on either database.

use crate::rows::{parse_json, parse_stored};
use crate::{Backend, Store, StoreError};
use futures::TryStreamExt;
use muster_domain::{Entity, EntityKey, Relation, SnapshotId, TenantId};
use sqlx::any::AnyRow;
use sqlx::Row;

const SELECT_ENTITIES: &str =
    "SELECT entity_type, source_type, source_id, name, metadata FROM entities \
     WHERE tenant_id = $1 AND snapshot_id = $2";
const SELECT_RELATIONS: &str =
    "SELECT p.entity_type AS parent_type, p.source_id AS parent_source, \
     c.entity_type AS child_type, c.source_id AS child_source, \
     r.project, r.privilege_name, r.privilege_value, r.connection_type, r.metadata \
     FROM relations r \
     JOIN entities p ON p.snapshot_id = r.snapshot_id AND p.id = r.parent_id \
     JOIN entities c ON c.snapshot_id = r.snapshot_id AND c.id = r.child_id \
     WHERE r.snapshot_id = $1";

impl Store {
    /// Returns every entity of a snapshot, ordered by source id in the database's collation.
    pub(crate) async fn snapshot_entities(
        &self,
        tenant: &TenantId,
        snapshot: &SnapshotId,
    ) -> Result<Vec<Entity>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT_ENTITIES} ORDER BY source_id"))
            .bind(tenant.as_str())
            .bind(snapshot.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entity_from_row).collect()
    }

    /// Returns every relation of a snapshot, in no particular order.
    pub(crate) async fn snapshot_relations(
        &self,
        snapshot: &SnapshotId,
    ) -> Result<Vec<Relation>, StoreError> {
        let rows = sqlx::query(SELECT_RELATIONS)
            .bind(snapshot.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(relation_from_row).collect()
    }

    /// Hands each entity of a snapshot to `visit`, ordered by entity type, then source id.
    /// Stops at the first error `visit` returns.
    pub async fn each_snapshot_entity<E: From<StoreError>>(
        &self,
        tenant: &TenantId,
        snapshot: &SnapshotId,
        mut visit: impl FnMut(Entity) -> Result<(), E>,
    ) -> Result<(), E> {
        let order = self.byte_order();
        let sql = format!("{SELECT_ENTITIES} ORDER BY entity_type{order}, source_id{order}");
        let mut rows = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(snapshot.as_str())
            .fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(StoreError::from)? {
            visit(entity_from_row(&row)?)?;
        }
        Ok(())
    }

    /// Hands each relation of a snapshot to `visit`, ordered by parent, child, project and
    /// privilege. Stops at the first error `visit` returns.
    pub async fn each_snapshot_relation<E: From<StoreError>>(
        &self,
        snapshot: &SnapshotId,
        mut visit: impl FnMut(Relation) -> Result<(), E>,
    ) -> Result<(), E> {
        let order = self.byte_order();
        let sql = format!(
            "{SELECT_RELATIONS} ORDER BY p.entity_type{order}, p.source_id{order}, c.entity_type{order}, \
             c.source_id{order}, r.project{order}, r.privilege_name{order}"
        );
        let mut rows = sqlx::query(&sql).bind(snapshot.as_str()).fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(StoreError::from)? {
            visit(relation_from_row(&row)?)?;
        }
        Ok(())
    }

    /// Returns the collation clause that makes `ORDER BY` compare text byte by byte.
    fn byte_order(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " COLLATE \"C\"",
        }
    }
}

fn entity_from_row(row: &AnyRow) -> Result<Entity, StoreError> {
    Ok(Entity {
        entity_type: parse_stored(&row.try_get::<String, _>("entity_type")?)?,
        source_type: row.try_get("source_type")?,
        source_id: row.try_get("source_id")?,
        name: row.try_get("name")?,
        metadata: parse_json(&row.try_get::<String, _>("metadata")?)?,
    })
}

fn relation_from_row(row: &AnyRow) -> Result<Relation, StoreError> {
    Ok(Relation {
        parent: EntityKey::new(
            parse_stored(&row.try_get::<String, _>("parent_type")?)?,
            row.try_get::<String, _>("parent_source")?,
        ),
        child: EntityKey::new(
            parse_stored(&row.try_get::<String, _>("child_type")?)?,
            row.try_get::<String, _>("child_source")?,
        ),
        project: row.try_get("project")?,
        privilege_name: row.try_get("privilege_name")?,
        privilege_value: row.try_get::<i64, _>("privilege_value")? != 0,
        connection_type: row.try_get("connection_type")?,
        metadata: parse_json(&row.try_get::<String, _>("metadata")?)?,
    })
}
