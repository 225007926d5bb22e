//! Imports that replace part of an integration's data and write a new snapshot:
//! entities, entity relations and flat entitlements.
//!
//! - **Entities** replace the integration's entities. Relations of the previous snapshot
//!   whose two ends still exist are kept, and the report counts those dropped.
//! - **Entity relations** replace the integration's relations. Both ends of each must be
//!   among the current snapshot's entities (upload entities first).
//! - **Entitlements** replace everything: each row gives an identity, its privilege and,
//!   optionally, the connection and resource that grant it.

use super::source::RowSource;
use super::{ImportOptions, ImportProgress, ImportReport, ImportRun};
use crate::{Muster, ServiceError};
use muster_csv::{EntitlementRow, EntityRow, FormatRow, RelationRow, RowError};
use muster_domain::{Entity, EntityId, EntityType, Integration, IntegrationId};
use muster_store::{NewRelation, SnapshotWriter};
use serde_json::{Map, Value};
use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::Path;

/// Metadata keys under which entity rows keep the `App` and `Source System` columns.
pub(crate) const APP_KEY: &str = "App";
pub(crate) const SOURCE_SYSTEM_KEY: &str = "Source System";
/// Relation metadata keys of the relation's own facts.
pub(crate) const PROJECT_KEY: &str = "project";
pub(crate) const PRIVILEGE_NAME_KEY: &str = "privilegeName";
pub(crate) const PRIVILEGE_VALUE_KEY: &str = "privilegeValue";
pub(crate) const CONNECTION_TYPE_KEY: &str = "connectionType";
/// Relation metadata keys of an entitlement row's resource reached through a connection.
pub(crate) const RESOURCE_KEY: &str = "resource";
pub(crate) const RESOURCE_TYPE_KEY: &str = "resourceType";
/// Source type of the resource that stands for a project when an entitlement row names
/// neither a connection nor a resource.
pub(crate) const PROJECT_SOURCE_TYPE: &str = "project";

/// Rows between two progress reports.
const PROGRESS_EVERY: u64 = 4_096;

impl Muster {
    pub(super) async fn import_entities(
        &self,
        integration: &Integration,
        path: &Path,
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, ServiceError> {
        let mut report = ImportReport::new("entities", Some(integration));
        let Some(mut source) = open_source::<EntityRow>(path, &mut report).await else {
            return Ok(report);
        };
        let run = self.start_import_run(integration, options).await?;
        let mut writer = self.begin_import_snapshot(&run).await?;

        let step = async {
            let mut seen: HashMap<(EntityType, String), u64> = HashMap::new();
            while let Some(row) = next_valid(&mut source, &mut report, progress).await {
                match seen.entry((row.entity_type, row.source_id.clone())) {
                    Entry::Occupied(first) => {
                        report.add_row_errors(vec![duplicate(row.line, "Source ID", &row.source_id, *first.get())]);
                        continue;
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(row.line);
                    }
                }
                if keeps_writing(&report, options) {
                    writer.add_entity(entity_from_row(row)).await?;
                }
                report.rows_applied += 1;
            }
            report.blank_lines = source.blank_lines;

            if let Some(previous) = &run.integration.current_snapshot_id {
                if keeps_writing(&report, options) {
                    let (_, dropped) = writer.copy_relations(previous).await?;
                    if dropped > 0 {
                        report.warnings.push(format!(
                            "{dropped} relation{} of the previous snapshot lost an end and {} dropped",
                            plural(dropped),
                            if dropped == 1 { "was" } else { "were" }
                        ));
                    }
                }
            }
            Ok::<(), ServiceError>(())
        }
        .await;
        self.settle(run, writer, step, report, options).await
    }

    pub(super) async fn import_relations(
        &self,
        integration: &Integration,
        path: &Path,
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, ServiceError> {
        let mut report = ImportReport::new("entity-relations", Some(integration));
        let Some(mut source) = open_source::<RelationRow>(path, &mut report).await else {
            return Ok(report);
        };
        let run = self.start_import_run(integration, options).await?;
        let Some(current) = run.integration.current_snapshot_id.clone() else {
            report.add_problem(super::ImportProblem {
                line: None,
                column: None,
                value: None,
                problem: format!(
                    "integration `{}` has no entities yet: upload its entities first, then the relations between them",
                    integration.name
                ),
            });
            self.reject_import_run(&run, &report).await?;
            return Ok(report);
        };
        let index = match self.store.snapshot_entity_index(&current).await {
            Ok(index) => index,
            Err(error) => return Err(self.fail_import_run(&run, error.into()).await),
        };
        let mut writer = self.begin_import_snapshot(&run).await?;

        let step = async {
            writer.copy_entities(&current).await?;
            let mut seen: HashMap<u64, u64> = HashMap::new();
            while let Some(row) = next_valid(&mut source, &mut report, progress).await {
                let mut row = row;
                let relation = match relation_from_row(&mut row, &index) {
                    Ok(relation) => relation,
                    Err(errors) => {
                        report.add_row_errors(errors);
                        continue;
                    }
                };
                let key = relation_key(&relation);
                if let Some(first) = seen.get(&key) {
                    let value = format!("{} → {}", row.parent_source_id, row.child_source_id);
                    report.add_row_errors(vec![duplicate(row.line, "Entity Source ID", &value, *first)]);
                    continue;
                }
                seen.insert(key, row.line);
                if keeps_writing(&report, options) {
                    writer.add_relation(relation).await?;
                }
                report.rows_applied += 1;
            }
            report.blank_lines = source.blank_lines;
            Ok::<(), ServiceError>(())
        }
        .await;
        self.settle(run, writer, step, report, options).await
    }

    pub(super) async fn import_entitlements(
        &self,
        integration: &Integration,
        path: &Path,
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, ServiceError> {
        let mut report = ImportReport::new("entitlements", Some(integration));
        let Some(mut source) = open_source::<EntitlementRow>(path, &mut report).await else {
            return Ok(report);
        };
        let run = self.start_import_run(integration, options).await?;
        let mut writer = self.begin_import_snapshot(&run).await?;

        let step = async {
            let mut graph = EntitlementGraph {
                integration: integration.id.clone(),
                entities: HashMap::new(),
                grants: HashMap::new(),
                connection_grants: HashSet::new(),
            };
            while let Some(row) = next_valid(&mut source, &mut report, progress).await {
                let additions = match graph.add_row(&row) {
                    Ok(additions) => additions,
                    Err(error) => {
                        report.add_row_errors(vec![error]);
                        continue;
                    }
                };
                if keeps_writing(&report, options) {
                    for entity in additions.entities {
                        writer.add_entity(entity).await?;
                    }
                    for relation in additions.relations {
                        writer.add_relation(relation).await?;
                    }
                }
                report.rows_applied += 1;
            }
            report.blank_lines = source.blank_lines;
            Ok::<(), ServiceError>(())
        }
        .await;
        self.settle(run, writer, step, report, options).await
    }

    /// Opens the new snapshot of an import's run, failing the run when it cannot.
    async fn begin_import_snapshot(&self, run: &ImportRun) -> Result<SnapshotWriter, ServiceError> {
        match self.store.begin_snapshot(&run.run).await {
            Ok(writer) => Ok(writer),
            Err(error) => Err(self.fail_import_run(run, error.into()).await),
        }
    }

    /// Ends a snapshot import: commits when the rows allow it, otherwise rolls back and
    /// records the rejection. A storage failure fails the run and is returned.
    pub(super) async fn settle(
        &self,
        run: ImportRun,
        writer: SnapshotWriter,
        step: Result<(), ServiceError>,
        mut report: ImportReport,
        options: &ImportOptions,
    ) -> Result<ImportReport, ServiceError> {
        if let Err(error) = step {
            drop(writer);
            return Err(self.fail_import_run(&run, error).await);
        }

        if report.rows_applied == 0 && report.problem_count == 0 {
            report.add_problem(super::ImportProblem {
                line: None,
                column: None,
                value: None,
                problem: "the file has a header but no rows: nothing was changed (an empty upload would remove all data)".into(),
            });
        }
        let rejected = report.rows_applied == 0 || !report.tolerates_problems(options);
        if rejected {
            drop(writer);
            report.rows_applied = 0;
            self.reject_import_run(&run, &report).await?;
            return Ok(report);
        }

        if report.rows_skipped > 0 {
            report.warnings.push(format!(
                "{} invalid row{} skipped as asked",
                report.rows_skipped,
                plural(report.rows_skipped)
            ));
        }
        let summary = match writer.finish(None, report.warnings.clone()).await {
            Ok(summary) => summary,
            Err(error) => return Err(self.fail_import_run(&run, error.into()).await),
        };
        tracing::info!(
            integration_id = %run.run.integration_id,
            run_id = %run.run.id,
            kind = %report.kind,
            rows = report.rows_applied,
            skipped = report.rows_skipped,
            "import applied"
        );
        report.snapshot = Some(summary);
        report.applied = true;
        Ok(report)
    }
}

/// Opens the file, filling the report's file description, or records why it cannot be
/// read.
pub(super) async fn open_source<T: FormatRow + Send + 'static>(
    path: &Path,
    report: &mut ImportReport,
) -> Option<RowSource<T>> {
    match RowSource::<T>::open(path).await {
        Ok(source) => {
            report.file = (&source.report).into();
            report.warnings.extend(source.report.warnings.iter().cloned());
            Some(source)
        }
        Err(error) => {
            report.add_problem(error.into());
            None
        }
    }
}

/// Reads rows until a valid one, counting every row and recording the problems of the
/// invalid ones; `None` after the last row, or when reading stopped early.
pub(super) async fn next_valid<T: FormatRow + Send + 'static>(
    source: &mut RowSource<T>,
    report: &mut ImportReport,
    progress: &(dyn Fn(ImportProgress) + Send + Sync),
) -> Option<T> {
    loop {
        let Some(row) = source.next().await else {
            if !source.complete {
                report.stop_reading();
            }
            return None;
        };
        report.rows_read += 1;
        report_progress(progress, source, report.rows_read);
        match row {
            Ok(row) => return Some(row),
            Err(errors) => report.add_row_errors(errors),
        }
    }
}

fn report_progress<T>(
    progress: &(dyn Fn(ImportProgress) + Send + Sync),
    source: &RowSource<T>,
    rows: u64,
) {
    if rows % PROGRESS_EVERY == 0 {
        progress(ImportProgress {
            bytes_read: source.bytes_read,
            total_bytes: source.total_bytes,
            rows,
        });
    }
}

/// Rows stop being written once the import is bound to be rejected.
fn keeps_writing(report: &ImportReport, options: &ImportOptions) -> bool {
    report.tolerates_problems(options)
}

pub(super) fn plural(count: u64) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

pub(super) fn duplicate(line: u64, column: &str, value: &str, first_line: u64) -> RowError {
    RowError::new(line, column, value, format!("duplicate of line {first_line}: each row must be unique"))
}

fn entity_from_row(row: EntityRow) -> Entity {
    let mut metadata = row.metadata;
    if let Some(app) = row.app {
        metadata.insert(APP_KEY.into(), Value::String(app));
    }
    metadata.insert(SOURCE_SYSTEM_KEY.into(), Value::String(row.source_system));
    Entity {
        entity_type: row.entity_type,
        source_id: row.source_id,
        source_type: row.source_type,
        name: row.name,
        metadata: Value::Object(metadata),
    }
}

fn relation_from_row(
    row: &mut RelationRow,
    index: &HashMap<EntityType, HashMap<String, EntityId>>,
) -> Result<NewRelation, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut end = |entity_type: EntityType, source_id: &str, column: &str| {
        let found = index.get(&entity_type).and_then(|ids| ids.get(source_id)).cloned();
        if found.is_none() {
            errors.push(RowError::new(
                row.line,
                column,
                source_id,
                format!("no {entity_type} with this source id among the integration's entities: upload it in the entities file first"),
            ));
        }
        found
    };
    let parent = end(row.parent_type, &row.parent_source_id, "Parent Entity Source ID");
    let child = end(row.child_type, &row.child_source_id, "Entity Source ID");
    let (Some(parent), Some(child)) = (parent, child) else {
        return Err(errors);
    };

    let project = row.project().to_string();
    let privilege_name = row.privilege_name().to_string();
    let privilege_value = row.privilege_value();
    let connection_type = row.connection_type().map(str::to_string);
    // The row's metadata is not needed after this, so it is taken rather than copied.
    // The relation's facts have their own columns and the version its own export column,
    // so they are not stored twice (an export writes them back from the columns).
    let mut metadata = std::mem::take(&mut row.metadata);
    for key in ["Metadata Version", PROJECT_KEY, PRIVILEGE_NAME_KEY, PRIVILEGE_VALUE_KEY, CONNECTION_TYPE_KEY] {
        metadata.remove(key);
    }
    if let Some(app) = &row.app {
        metadata.insert(APP_KEY.into(), Value::String(app.clone()));
    }
    if let Some(system) = &row.source_system {
        metadata.insert(SOURCE_SYSTEM_KEY.into(), Value::String(system.clone()));
    }
    Ok(NewRelation {
        parent,
        child,
        project,
        privilege_name,
        privilege_value,
        connection_type,
        metadata: Value::Object(metadata).to_string(),
    })
}

fn relation_key(relation: &NewRelation) -> u64 {
    let mut hasher = DefaultHasher::new();
    relation.parent.hash(&mut hasher);
    relation.child.hash(&mut hasher);
    relation.project.hash(&mut hasher);
    relation.privilege_name.hash(&mut hasher);
    hasher.finish()
}

/// Entities and relations that one entitlement row adds to the snapshot.
#[derive(Default)]
struct Additions {
    entities: Vec<Entity>,
    relations: Vec<NewRelation>,
}

/// The entities and relations seen so far in an entitlements file, so each entity and
/// each connection-to-resource relation is written once.
struct EntitlementGraph {
    integration: IntegrationId,
    entities: HashMap<(EntityType, String), EntityId>,
    /// First line of each identity × privilege, to report duplicates.
    grants: HashMap<u64, u64>,
    connection_grants: HashSet<u64>,
}

impl EntitlementGraph {
    fn add_row(&mut self, row: &EntitlementRow) -> Result<Additions, RowError> {
        let mut additions = Additions::default();
        let identity_source = row
            .user_id
            .as_deref()
            .or(row.username.as_deref())
            .or(row.email.as_deref())
            .unwrap_or_default()
            .to_string();

        let identity = self.entity(&mut additions, EntityType::Identity, &identity_source, || {
            let mut metadata = Map::new();
            metadata.insert("Metadata Version".into(), Value::String("v1".into()));
            for (key, value) in [("email", &row.email), ("username", &row.username)] {
                if let Some(value) = value {
                    metadata.insert(key.into(), Value::String(value.clone()));
                }
            }
            // The User ID is the source id. It is kept in metadata only when it differs from
            // the username and email, so an export (whose User ID is the source id) reads
            // back to the same metadata.
            if let Some(user_id) = &row.user_id {
                if Some(user_id) != row.username.as_ref() && Some(user_id) != row.email.as_ref() {
                    metadata.insert("userId".into(), Value::String(user_id.clone()));
                }
            }
            let name = row
                .name
                .clone()
                .or_else(|| row.username.clone())
                .or_else(|| row.email.clone())
                .unwrap_or_else(|| identity_source.clone());
            (name, "user".to_string(), metadata)
        });

        let mut grant_metadata = Map::new();
        grant_metadata.insert("Metadata Version".into(), Value::String("v1".into()));
        let target = match (&row.connection, &row.resource) {
            (Some(connection), resource) => {
                let source_type = row.connection_type.clone().unwrap_or_else(|| "connection".into());
                let connection_id = self.entity(&mut additions, EntityType::Connection, connection, || {
                    (connection.clone(), source_type.clone(), v1_metadata())
                });
                if let (Some(resource), Some(resource_type)) = (resource, &row.resource_type) {
                    grant_metadata.insert(RESOURCE_KEY.into(), Value::String(resource.clone()));
                    grant_metadata.insert(RESOURCE_TYPE_KEY.into(), Value::String(resource_type.clone()));
                    let resource_id = self.entity(&mut additions, EntityType::Resource, resource, || {
                        (resource.clone(), resource_type.clone(), v1_metadata())
                    });
                    let reach = NewRelation {
                        parent: connection_id.clone(),
                        child: resource_id,
                        project: row.project.clone(),
                        privilege_name: row.privilege_name.clone(),
                        privilege_value: row.privilege_value,
                        connection_type: row.connection_type.clone(),
                        metadata: Value::Object(v1_metadata()).to_string(),
                    };
                    if self.connection_grants.insert(relation_key(&reach)) {
                        additions.relations.push(reach);
                    }
                }
                connection_id
            }
            (None, Some(resource)) => {
                let resource_type = row.resource_type.clone().unwrap_or_default();
                self.entity(&mut additions, EntityType::Resource, resource, || {
                    (resource.clone(), resource_type.clone(), v1_metadata())
                })
            }
            (None, None) => self.entity(&mut additions, EntityType::Resource, &row.project, || {
                (row.project.clone(), PROJECT_SOURCE_TYPE.to_string(), v1_metadata())
            }),
        };

        let grant = NewRelation {
            parent: identity,
            child: target,
            project: row.project.clone(),
            privilege_name: row.privilege_name.clone(),
            privilege_value: row.privilege_value,
            connection_type: row.connection_type.clone(),
            metadata: Value::Object(grant_metadata).to_string(),
        };
        let key = relation_key(&grant);
        if let Some(first) = self.grants.get(&key) {
            return Err(duplicate(row.line, "Privilege Name", &row.privilege_name, *first));
        }
        self.grants.insert(key, row.line);
        additions.relations.push(grant);
        Ok(additions)
    }

    /// Returns the id of an entity, adding it on first sight with what `describe` gives
    /// (name, source type, metadata).
    fn entity(
        &mut self,
        additions: &mut Additions,
        entity_type: EntityType,
        source_id: &str,
        describe: impl FnOnce() -> (String, String, Map<String, Value>),
    ) -> EntityId {
        if let Some(id) = self.entities.get(&(entity_type, source_id.to_string())) {
            return id.clone();
        }
        let (name, source_type, metadata) = describe();
        // The id the snapshot writer derives, computed here so relations can name it.
        let id = EntityId::derive(&self.integration, entity_type, source_id);
        self.entities.insert((entity_type, source_id.to_string()), id.clone());
        additions.entities.push(Entity {
            entity_type,
            source_id: source_id.to_string(),
            source_type,
            name,
            metadata: Value::Object(metadata),
        });
        id
    }
}

fn v1_metadata() -> Map<String, Value> {
    let mut metadata = Map::new();
    metadata.insert("Metadata Version".into(), Value::String("v1".into()));
    metadata
}
