//! Reading the inventory: entities of current snapshots and their relations.

use crate::rows::{like_pattern, parse_json, parse_stored};
use crate::{Store, StoreError};
use muster_domain::{EntityId, EntityType, IntegrationId, SnapshotId, TenantId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// An entity as stored in a snapshot.
#[derive(Clone, Debug, Serialize)]
pub struct StoredEntity {
    pub id: EntityId,
    pub integration_id: IntegrationId,
    pub snapshot_id: SnapshotId,
    pub entity_type: EntityType,
    pub source_type: String,
    pub source_id: String,
    pub name: String,
    pub metadata: serde_json::Value,
}

/// Filter and page of an entity listing. Only current snapshots are searched.
#[derive(Clone, Debug, Default)]
pub struct EntityFilter {
    pub integration: Option<IntegrationId>,
    pub entity_type: Option<EntityType>,
    pub source_type: Option<String>,
    /// Case-insensitive substring of the name or source id.
    pub search: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// One page of entities and the total that matched.
#[derive(Clone, Debug, Serialize)]
pub struct EntityPage {
    pub items: Vec<StoredEntity>,
    pub total: i64,
    pub limit: u32,
    pub offset: u32,
}

/// The other end of a relation, with the relation's own fields.
#[derive(Clone, Debug, Serialize)]
pub struct RelatedEntity {
    pub id: EntityId,
    pub entity_type: EntityType,
    pub source_type: String,
    pub source_id: String,
    pub name: String,
    pub project: String,
    pub privilege_name: String,
    pub privilege_value: bool,
    pub connection_type: Option<String>,
    pub metadata: serde_json::Value,
}

/// An entity with its relations in both directions.
#[derive(Clone, Debug, Serialize)]
pub struct EntityDetail {
    #[serde(flatten)]
    pub entity: StoredEntity,
    /// Relations where this entity is the child: who has access to it.
    pub parents: Vec<RelatedEntity>,
    /// Relations where this entity is the parent: what it has access to.
    pub children: Vec<RelatedEntity>,
}

const ENTITY_COLUMNS: &str =
    "e.id, e.integration_id, e.snapshot_id, e.entity_type, e.source_type, e.source_id, e.name, e.metadata";

impl Store {
    pub async fn list_entities(&self, tenant: &TenantId, filter: &EntityFilter) -> Result<EntityPage, StoreError> {
        // PostgreSQL rejects NUL in text parameters, and no stored text contains one.
        let has_nul = |value: &Option<String>| value.as_deref().is_some_and(|text| text.contains('\0'));
        if has_nul(&filter.search) || has_nul(&filter.source_type) {
            return Ok(EntityPage {
                items: Vec::new(),
                total: 0,
                limit: filter.limit,
                offset: filter.offset,
            });
        }
        let mut conditions = vec![
            "e.tenant_id = $1".to_string(),
            "e.snapshot_id IN (SELECT current_snapshot_id FROM integrations WHERE tenant_id = $1 AND current_snapshot_id IS NOT NULL)".to_string(),
        ];
        let mut values: Vec<String> = vec![tenant.as_str().to_string()];
        if let Some(integration) = &filter.integration {
            values.push(integration.as_str().to_string());
            conditions.push(format!("e.integration_id = ${}", values.len()));
        }
        if let Some(entity_type) = filter.entity_type {
            values.push(entity_type.as_str().to_string());
            conditions.push(format!("e.entity_type = ${}", values.len()));
        }
        if let Some(source_type) = &filter.source_type {
            values.push(source_type.to_lowercase());
            conditions.push(format!("LOWER(e.source_type) = ${}", values.len()));
        }
        if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
            values.push(like_pattern(search.trim()));
            let n = values.len();
            conditions.push(format!(
                "(LOWER(e.name) LIKE ${n} ESCAPE '\\' OR LOWER(e.source_id) LIKE ${n} ESCAPE '\\')"
            ));
        }
        let where_clause = conditions.join(" AND ");

        let count_sql = format!("SELECT COUNT(*) FROM entities e WHERE {where_clause}");
        let mut count_query = sqlx::query_as::<_, (i64,)>(&count_sql);
        for value in &values {
            count_query = count_query.bind(value.as_str());
        }
        let (total,) = count_query.fetch_one(&self.pool).await?;

        let limit_index = values.len() + 1;
        let list_sql = format!(
            "SELECT {ENTITY_COLUMNS} FROM entities e WHERE {where_clause} \
             ORDER BY e.entity_type, e.source_type, LOWER(e.name), e.id LIMIT ${limit_index} OFFSET ${}",
            limit_index + 1
        );
        let mut list_query = sqlx::query(&list_sql);
        for value in &values {
            list_query = list_query.bind(value.as_str());
        }
        let rows = list_query
            .bind(i64::from(filter.limit))
            .bind(i64::from(filter.offset))
            .fetch_all(&self.pool)
            .await?;

        Ok(EntityPage {
            items: rows.iter().map(entity_from_row).collect::<Result<_, _>>()?,
            total,
            limit: filter.limit,
            offset: filter.offset,
        })
    }

    /// Returns an entity of its integration's current snapshot with its relations.
    pub async fn entity(&self, tenant: &TenantId, id: &EntityId) -> Result<EntityDetail, StoreError> {
        if id.as_str().contains('\0') {
            return Err(StoreError::not_found("entity", id.as_str().replace('\0', "\\0")));
        }
        let row = sqlx::query(&format!(
            "SELECT {ENTITY_COLUMNS} FROM entities e JOIN integrations i ON i.current_snapshot_id = e.snapshot_id \
             WHERE e.tenant_id = $1 AND e.id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found("entity", id.as_str()))?;
        let entity = entity_from_row(&row)?;

        let parents = self.related(&entity, "child_id", "parent_id").await?;
        let children = self.related(&entity, "parent_id", "child_id").await?;
        Ok(EntityDetail {
            entity,
            parents,
            children,
        })
    }

    async fn related(
        &self,
        entity: &StoredEntity,
        this_end: &str,
        other_end: &str,
    ) -> Result<Vec<RelatedEntity>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT o.id, o.entity_type, o.source_type, o.source_id, o.name, r.project, r.privilege_name, \
             r.privilege_value, r.connection_type, r.metadata \
             FROM relations r JOIN entities o ON o.snapshot_id = r.snapshot_id AND o.id = r.{other_end} \
             WHERE r.snapshot_id = $1 AND r.{this_end} = $2 \
             ORDER BY o.entity_type, o.source_type, LOWER(o.name), r.privilege_name"
        ))
        .bind(entity.snapshot_id.as_str())
        .bind(entity.id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(related_from_row).collect()
    }
}

fn entity_from_row(row: &AnyRow) -> Result<StoredEntity, StoreError> {
    let entity_type: String = row.try_get("entity_type")?;
    let metadata: String = row.try_get("metadata")?;
    Ok(StoredEntity {
        id: EntityId::from_string(row.try_get::<String, _>("id")?),
        integration_id: IntegrationId::from_string(row.try_get::<String, _>("integration_id")?),
        snapshot_id: SnapshotId::from_string(row.try_get::<String, _>("snapshot_id")?),
        entity_type: parse_stored(&entity_type)?,
        source_type: row.try_get("source_type")?,
        source_id: row.try_get("source_id")?,
        name: row.try_get("name")?,
        metadata: parse_json(&metadata)?,
    })
}

fn related_from_row(row: &AnyRow) -> Result<RelatedEntity, StoreError> {
    let entity_type: String = row.try_get("entity_type")?;
    let metadata: String = row.try_get("metadata")?;
    Ok(RelatedEntity {
        id: EntityId::from_string(row.try_get::<String, _>("id")?),
        entity_type: parse_stored(&entity_type)?,
        source_type: row.try_get("source_type")?,
        source_id: row.try_get("source_id")?,
        name: row.try_get("name")?,
        project: row.try_get("project")?,
        privilege_name: row.try_get("privilege_name")?,
        privilege_value: row.try_get::<i64, _>("privilege_value")? != 0,
        connection_type: row.try_get("connection_type")?,
        metadata: parse_json(&metadata)?,
    })
}
