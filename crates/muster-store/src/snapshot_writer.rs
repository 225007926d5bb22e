//! Writing a snapshot row by row, for imports that stream a file instead of holding an
//! [`Inventory`](muster_domain::Inventory) in memory. Everything happens in one
//! transaction: dropping the writer without [`SnapshotWriter::finish`] rolls it back and
//! the previous snapshot stays current.
//!
//! Rows are buffered and written many at a time. On SQLite each batch is one `INSERT`
//! with one `?` per value. sqlx looks up the name of every numbered parameter (`$1`) at
//! each execution, and SQLite finds a name by scanning all of them, so numbered parameters
//! would make a large statement take quadratic time. On PostgreSQL each batch is one
//! `COPY … FROM STDIN` in the text format, the path PostgreSQL's own bulk loading takes.
//! Relations are sorted by parent first, so neighbouring rows land on the same pages of
//! the parent index.
//!
//! A full buffer is written by a task of its own, so the caller reads and checks the next
//! rows while the database stores the previous ones. The task owns the transaction while
//! it writes and hands it back when done; at most one write is in flight.

use crate::rows::now_timestamp;
use crate::snapshot_tx::{execute_on, fetch_one_on, SnapshotTx};
use crate::snapshots::{record_snapshot, SnapshotSummary};
use crate::sync_runs::SyncRun;
use crate::{Store, StoreError};
use muster_domain::{Entity, EntityId, EntityType, IntegrationId, SnapshotId, TenantId};
use sqlx::{Any, Postgres, Row, Transaction};
use std::collections::HashMap;
use tokio::task::JoinHandle;

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

/// Rows buffered before a write on SQLite; with 9 values a row this stays well below
/// SQLite's limit of 32,766 parameters a statement.
const SQLITE_ROWS_PER_INSERT: usize = 2_000;
/// SQLite settings while a snapshot is written. A page cache of 64 MiB instead of the
/// default 2 MiB, because the relation indexes take new entries at random places, so with
/// the small cache every insert would write out a dirty index page and read another back.
/// The statement journal of each multi-row insert is kept in memory instead of a temporary
/// file. Neither setting changes what is committed or when.
const SQLITE_IMPORT_SETTINGS: [&str; 2] =
    ["PRAGMA cache_size = -65536", "PRAGMA temp_store = MEMORY"];
/// SQLite's defaults, set back before the snapshot commits so the pooled connection does
/// not keep the import settings.
const SQLITE_DEFAULT_SETTINGS: [&str; 2] =
    ["PRAGMA cache_size = -2000", "PRAGMA temp_store = DEFAULT"];
/// Rows buffered before a `COPY` on PostgreSQL. Larger batches sort more relations
/// together; a full batch takes an estimated 20 MB of memory.
const POSTGRES_ROWS_PER_COPY: usize = 50_000;
/// Entities read per query when indexing a snapshot, so the rows never sit in memory all
/// at once.
const INDEX_PAGE: i64 = 10_000;

const ENTITY_COLUMNS: &str =
    "entities (snapshot_id, id, tenant_id, integration_id, entity_type, source_type, source_id, name, metadata)";
const RELATION_COLUMNS: &str =
    "relations (snapshot_id, parent_id, child_id, project, privilege_name, privilege_value, connection_type, metadata)";

/// A snapshot being written inside its own transaction.
pub struct SnapshotWriter {
    /// The transaction, while no write is in flight.
    tx: Option<SnapshotTx>,
    /// The write in flight, which gives the transaction back.
    writing: Option<Write>,
    target: Target,
    rows_per_batch: usize,
    run: SyncRun,
    entities: Vec<(EntityId, Entity)>,
    relations: Vec<NewRelation>,
    entity_count: i64,
    relation_count: i64,
}

/// A write in flight: it ends with the transaction and how the write went, which on success
/// is the number of entities it copied from another snapshot.
type Write = JoinHandle<(SnapshotTx, Result<u64, StoreError>)>;

/// Columns that every row of the snapshot shares, for the writing task.
#[derive(Clone)]
struct Target {
    snapshot: SnapshotId,
    tenant: TenantId,
    integration: IntegrationId,
}

/// Rows of one write.
enum Batch {
    Entities(Vec<(EntityId, Entity)>),
    Relations(Vec<NewRelation>),
    /// Every entity of an earlier snapshot.
    EntitiesOf(SnapshotId),
}

impl Store {
    /// Opens a transaction for a new snapshot of the run's integration.
    pub async fn begin_snapshot(&self, run: &SyncRun) -> Result<SnapshotWriter, StoreError> {
        let mut tx = self.begin_snapshot_tx().await?;
        let rows_per_batch = match &mut tx {
            SnapshotTx::Any(tx) => {
                for setting in SQLITE_IMPORT_SETTINGS {
                    sqlx::query(setting).execute(&mut **tx).await?;
                }
                SQLITE_ROWS_PER_INSERT
            }
            SnapshotTx::Postgres(_) => POSTGRES_ROWS_PER_COPY,
        };
        Ok(SnapshotWriter {
            tx: Some(tx),
            writing: None,
            target: Target {
                snapshot: SnapshotId::generate(),
                tenant: run.tenant_id.clone(),
                integration: run.integration_id.clone(),
            },
            rows_per_batch,
            run: run.clone(),
            entities: Vec::new(),
            relations: Vec::new(),
            entity_count: 0,
            relation_count: 0,
        })
    }

    /// Returns the entity ids of a snapshot by type, then by source id, to check relation
    /// rows of an upload against. The map is nested so a lookup needs no owned key.
    pub async fn snapshot_entity_index(
        &self,
        snapshot: &SnapshotId,
    ) -> Result<HashMap<EntityType, HashMap<String, EntityId>>, StoreError> {
        let mut index: HashMap<EntityType, HashMap<String, EntityId>> = HashMap::new();
        let mut after = String::new();
        loop {
            let rows = sqlx::query(
                "SELECT id, entity_type, source_id FROM entities WHERE snapshot_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(snapshot.as_str())
            .bind(after.as_str())
            .bind(INDEX_PAGE)
            .fetch_all(&self.pool)
            .await?;
            let full = rows.len() == usize::try_from(INDEX_PAGE).unwrap_or(usize::MAX);
            for row in rows {
                let entity_type: String = row.try_get("entity_type")?;
                let entity_type = crate::rows::parse_stored(&entity_type)?;
                let id: String = row.try_get("id")?;
                after.clone_from(&id);
                index.entry(entity_type).or_default().insert(
                    row.try_get::<String, _>("source_id")?,
                    EntityId::from_string(id),
                );
            }
            if !full {
                return Ok(index);
            }
        }
    }
}

impl SnapshotWriter {
    pub fn id(&self) -> &SnapshotId {
        &self.target.snapshot
    }

    /// Adds an entity and returns its id.
    pub async fn add_entity(&mut self, entity: Entity) -> Result<EntityId, StoreError> {
        let id = EntityId::derive(
            &self.run.integration_id,
            entity.entity_type,
            &entity.source_id,
        );
        self.entities.push((id.clone(), entity));
        self.entity_count += 1;
        if self.entities.len() >= self.rows_per_batch {
            let batch = std::mem::take(&mut self.entities);
            self.start_write(Batch::Entities(batch)).await?;
        }
        Ok(id)
    }

    pub async fn add_relation(&mut self, relation: NewRelation) -> Result<(), StoreError> {
        self.relations.push(relation);
        self.relation_count += 1;
        if self.relations.len() >= self.rows_per_batch {
            let batch = std::mem::take(&mut self.relations);
            self.start_write(Batch::Relations(batch)).await?;
        }
        Ok(())
    }

    /// Copies every entity of `previous` into this snapshot. The copy runs while the
    /// caller goes on adding rows, and its count reaches the summary when it is done.
    pub async fn copy_entities(&mut self, previous: &SnapshotId) -> Result<(), StoreError> {
        self.flush_entities().await?;
        self.start_write(Batch::EntitiesOf(previous.clone())).await
    }

    /// Copies the relations of `previous` whose two ends are entities of this snapshot;
    /// call it after the last entity. Returns how many were kept and how many dropped.
    pub async fn copy_relations(
        &mut self,
        previous: &SnapshotId,
    ) -> Result<(u64, u64), StoreError> {
        self.flush_entities().await?;
        let snapshot = self.target.snapshot.clone();
        let tx = self.transaction().await?;
        let sql = format!(
            "INSERT INTO {RELATION_COLUMNS} \
             SELECT $1, r.parent_id, r.child_id, r.project, r.privilege_name, r.privilege_value, r.connection_type, r.metadata \
             FROM relations r WHERE r.snapshot_id = $2 \
             AND EXISTS (SELECT 1 FROM entities e WHERE e.snapshot_id = $1 AND e.id = r.parent_id) \
             AND EXISTS (SELECT 1 FROM entities e WHERE e.snapshot_id = $1 AND e.id = r.child_id)"
        );
        let kept = execute_on!(
            tx,
            sqlx::query(&sql)
                .bind(snapshot.as_str())
                .bind(previous.as_str())
        );
        let (total,): (i64,) = fetch_one_on!(
            tx,
            sqlx::query_as("SELECT COUNT(*) FROM relations WHERE snapshot_id = $1")
                .bind(previous.as_str())
        );
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
        let relations = std::mem::take(&mut self.relations);
        if !relations.is_empty() {
            self.start_write(Batch::Relations(relations)).await?;
        }
        let mut tx = self.wait_for_write().await?;

        let summary = SnapshotSummary {
            id: self.target.snapshot.clone(),
            integration_id: self.run.integration_id.clone(),
            project,
            entity_count: self.entity_count,
            relation_count: self.relation_count,
            warnings,
        };
        record_snapshot(&mut tx, &self.run, &summary, &now_timestamp()).await?;
        if let SnapshotTx::Any(tx) = &mut tx {
            for setting in SQLITE_DEFAULT_SETTINGS {
                sqlx::query(setting).execute(&mut **tx).await?;
            }
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// Writes the buffered entities and waits until they are written.
    async fn flush_entities(&mut self) -> Result<(), StoreError> {
        let entities = std::mem::take(&mut self.entities);
        if !entities.is_empty() {
            self.start_write(Batch::Entities(entities)).await?;
        }
        self.transaction().await?;
        Ok(())
    }

    /// Returns the transaction once the write in flight is done.
    async fn transaction(&mut self) -> Result<&mut SnapshotTx, StoreError> {
        let tx = self.wait_for_write().await?;
        Ok(self.tx.insert(tx))
    }

    /// Waits for the write in flight and takes the transaction back.
    async fn wait_for_write(&mut self) -> Result<SnapshotTx, StoreError> {
        if let Some(writing) = self.writing.take() {
            let (tx, result) = writing.await.map_err(|error| {
                StoreError::Corrupt(format!("the snapshot writer stopped: {error}"))
            })?;
            self.tx = Some(tx);
            let copied = result?;
            self.entity_count += i64::try_from(copied).unwrap_or(i64::MAX);
        }
        self.tx.take().ok_or_else(|| {
            StoreError::Corrupt("the snapshot transaction was lost after a failed write".into())
        })
    }

    /// Hands `batch` to a task of its own once the previous write is done.
    async fn start_write(&mut self, batch: Batch) -> Result<(), StoreError> {
        let mut tx = self.wait_for_write().await?;
        let target = self.target.clone();
        self.writing = Some(tokio::spawn(async move {
            let result = write_batch(&mut tx, &target, batch).await;
            (tx, result)
        }));
        Ok(())
    }
}

/// Writes one batch and returns how many entities it copied from another snapshot.
async fn write_batch(
    tx: &mut SnapshotTx,
    target: &Target,
    batch: Batch,
) -> Result<u64, StoreError> {
    match (tx, batch) {
        (tx, Batch::EntitiesOf(previous)) => {
            let sql = format!(
                "INSERT INTO {ENTITY_COLUMNS} \
                 SELECT $1, id, tenant_id, integration_id, entity_type, source_type, source_id, name, metadata \
                 FROM entities WHERE snapshot_id = $2"
            );
            let copied = execute_on!(
                tx,
                sqlx::query(&sql)
                    .bind(target.snapshot.as_str())
                    .bind(previous.as_str())
            );
            return Ok(copied);
        }
        (SnapshotTx::Any(tx), Batch::Entities(entities)) => {
            insert_entities(tx, target, entities).await?
        }
        (SnapshotTx::Any(tx), Batch::Relations(relations)) => {
            insert_relations(tx, target, relations).await?
        }
        (SnapshotTx::Postgres(tx), Batch::Entities(entities)) => {
            let mut rows = CopyText::default();
            for (id, entity) in &entities {
                rows.field(Some(target.snapshot.as_str()));
                rows.field(Some(id.as_str()));
                rows.field(Some(target.tenant.as_str()));
                rows.field(Some(target.integration.as_str()));
                rows.field(Some(entity.entity_type.as_str()));
                rows.field(Some(&entity.source_type));
                rows.field(Some(&entity.source_id));
                rows.field(Some(&entity.name));
                rows.field(Some(&entity.metadata.to_string()));
                rows.end_row();
            }
            copy_in(tx, ENTITY_COLUMNS, rows).await?;
        }
        (SnapshotTx::Postgres(tx), Batch::Relations(mut relations)) => {
            relations.sort_unstable_by(|a, b| a.parent.as_str().cmp(b.parent.as_str()));
            let mut rows = CopyText::default();
            for relation in &relations {
                rows.field(Some(target.snapshot.as_str()));
                rows.field(Some(relation.parent.as_str()));
                rows.field(Some(relation.child.as_str()));
                rows.field(Some(&relation.project));
                rows.field(Some(&relation.privilege_name));
                rows.field(Some(if relation.privilege_value { "1" } else { "0" }));
                rows.field(relation.connection_type.as_deref());
                rows.field(Some(&relation.metadata));
                rows.end_row();
            }
            copy_in(tx, RELATION_COLUMNS, rows).await?;
        }
    }
    Ok(0)
}

/// Inserts entities with one multi-row `INSERT` on SQLite.
async fn insert_entities(
    tx: &mut Transaction<'static, Any>,
    target: &Target,
    entities: Vec<(EntityId, Entity)>,
) -> Result<(), StoreError> {
    let sql = sqlite_insert(ENTITY_COLUMNS, 9, entities.len());
    let mut query = sqlx::query(&sql);
    for (id, entity) in entities {
        query = query
            .bind(target.snapshot.as_str().to_string())
            .bind(id.as_str().to_string())
            .bind(target.tenant.as_str().to_string())
            .bind(target.integration.as_str().to_string())
            .bind(entity.entity_type.as_str())
            .bind(entity.source_type)
            .bind(entity.source_id)
            .bind(entity.name)
            .bind(entity.metadata.to_string());
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Inserts relations with one multi-row `INSERT` on SQLite.
async fn insert_relations(
    tx: &mut Transaction<'static, Any>,
    target: &Target,
    relations: Vec<NewRelation>,
) -> Result<(), StoreError> {
    let sql = sqlite_insert(RELATION_COLUMNS, 8, relations.len());
    let mut query = sqlx::query(&sql);
    for relation in relations {
        query = query
            .bind(target.snapshot.as_str().to_string())
            .bind(relation.parent.as_str().to_string())
            .bind(relation.child.as_str().to_string())
            .bind(relation.project)
            .bind(relation.privilege_name)
            .bind(i64::from(relation.privilege_value))
            .bind(relation.connection_type)
            .bind(relation.metadata);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Streams `rows` into `table` with `COPY … FROM STDIN`.
async fn copy_in(
    tx: &mut Transaction<'static, Postgres>,
    table: &str,
    rows: CopyText,
) -> Result<(), StoreError> {
    let mut copy = tx.copy_in_raw(&format!("COPY {table} FROM STDIN")).await?;
    if let Err(error) = copy.send(rows.text.into_bytes()).await {
        // The send failed on the connection, so the abort can only fail too. The send's
        // error is the one to report.
        let _ = copy
            .abort("the snapshot writer could not send its rows")
            .await;
        return Err(error.into());
    }
    copy.finish().await?;
    Ok(())
}

/// Builds `INSERT INTO columns VALUES (?, ?, …), (…)` for `rows` rows of `columns` values each.
fn sqlite_insert(table: &str, columns: usize, rows: usize) -> String {
    let mut row = String::with_capacity(2 + 3 * columns);
    row.push('(');
    for column in 0..columns {
        if column > 0 {
            row.push_str(", ");
        }
        row.push('?');
    }
    row.push(')');

    let mut sql = String::with_capacity(table.len() + 20 + rows * (row.len() + 2));
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" VALUES ");
    for index in 0..rows {
        if index > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&row);
    }
    sql
}

/// Rows in the text format of `COPY`: values separated by tabs, one row a line, `\N` for
/// NULL, and backslash escapes for backslashes, tabs and line breaks inside values.
#[derive(Default)]
struct CopyText {
    text: String,
    /// Whether the current row already has a value, so the next one follows a tab.
    in_row: bool,
}

impl CopyText {
    fn field(&mut self, value: Option<&str>) {
        if self.in_row {
            self.text.push('\t');
        }
        self.in_row = true;
        let Some(value) = value else {
            self.text.push_str("\\N");
            return;
        };
        let mut rest = value;
        while let Some(at) = rest.find(['\\', '\t', '\n', '\r']) {
            // The four characters are one byte long.
            self.text.push_str(&rest[..at]);
            self.text.push_str(match rest.as_bytes()[at] {
                b'\t' => "\\t",
                b'\n' => "\\n",
                b'\r' => "\\r",
                _ => "\\\\",
            });
            rest = &rest[at + 1..];
        }
        self.text.push_str(rest);
    }

    fn end_row(&mut self) {
        self.text.push('\n');
        self.in_row = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_insert_has_one_anonymous_parameter_per_value() {
        assert_eq!(
            sqlite_insert("t (a, b)", 2, 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }

    #[test]
    fn copy_text_escapes_separators_and_marks_null() {
        let mut rows = CopyText::default();
        rows.field(Some("plain"));
        rows.field(None);
        rows.field(Some("tab\there\\ and\r\nnext"));
        rows.end_row();
        rows.field(Some(""));
        rows.end_row();
        assert_eq!(rows.text, "plain\t\\N\ttab\\there\\\\ and\\r\\nnext\n\n");
    }
}
