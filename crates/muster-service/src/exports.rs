//! Exports: every import format written back from the stored data, so export then import
//! gives the same data. Integration formats read the current snapshot; the tenant-wide
//! ones read the employee, mapping and integration tables.

use crate::identities::IdentityView;
use crate::imports::snapshot::{
    APP_KEY, CONNECTION_TYPE_KEY, PRIVILEGE_NAME_KEY, PRIVILEGE_VALUE_KEY, PROJECT_KEY, PROJECT_SOURCE_TYPE,
    RESOURCE_KEY, RESOURCE_TYPE_KEY, SOURCE_SYSTEM_KEY,
};
use crate::{Muster, ServiceError};
use muster_csv::{
    BusinessOwnerRow, CsvKind, EmployeeRow, EntitlementRow, EntityRow, ExportMode, FormatRow, IdentityMappingRow,
    OwnerType, RelationRow, Writer,
};
use muster_domain::{Entity, EntityKey, EntityType, Integration, Relation, TenantId};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::Write;

/// Counts of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ExportSummary {
    pub rows: u64,
}

impl Muster {
    /// Writes `kind` as CSV to `output`. Formats of an integration need `integration`.
    /// Entities and relations are written as they are read from the database, so an
    /// export of a large snapshot needs little memory beyond what `output` keeps.
    pub async fn export(
        &self,
        tenant: &TenantId,
        kind: CsvKind,
        integration: Option<&str>,
        mode: ExportMode,
        output: impl Write,
    ) -> Result<ExportSummary, ServiceError> {
        let mut writer = Writer::new(output, kind, mode).map_err(write_error)?;
        let mut rows = 0;
        let mut write = |record: Vec<String>| {
            rows += 1;
            writer.write_fields(&record).map_err(write_error)
        };
        self.export_rows(tenant, kind, integration, &mut write).await?;

        let mut output = writer.finish().map_err(write_error)?;
        output.flush().map_err(|error| write_error(error.into()))?;
        Ok(ExportSummary { rows })
    }

    /// Hands the cells of every row of an export, in header order, to `write`.
    async fn export_rows(
        &self,
        tenant: &TenantId,
        kind: CsvKind,
        integration: Option<&str>,
        write: &mut impl FnMut(Vec<String>) -> Result<(), ServiceError>,
    ) -> Result<(), ServiceError> {
        match kind {
            CsvKind::Employees => {
                for employee in self.store.list_employees(tenant).await? {
                    write(employee_row(&employee).to_record())?;
                }
            }
            CsvKind::IdentityMappings => {
                for identity in self.identities(tenant).await? {
                    write(mapping_row(&identity).to_record())?;
                }
            }
            CsvKind::BusinessOwners => {
                for integration in self.store.list_integrations(tenant).await? {
                    for row in owner_rows(&integration) {
                        write(row.to_record())?;
                    }
                }
            }
            CsvKind::Entities | CsvKind::EntityRelations | CsvKind::Entitlements => {
                let Some(reference) = integration else {
                    return Err(ServiceError::validation(
                        "integration",
                        format!("the {kind} format belongs to one integration: name it"),
                    ));
                };
                let integration = self.store.find_integration(tenant, reference).await?;
                let Some(snapshot) = integration.current_snapshot_id.clone() else {
                    return Ok(());
                };
                match kind {
                    CsvKind::Entities => {
                        self.store
                            .each_snapshot_entity(tenant, &snapshot, |entity| write(entity_record(&integration, &entity)))
                            .await?;
                    }
                    CsvKind::EntityRelations => {
                        self.store
                            .each_snapshot_relation(&snapshot, |relation| {
                                write(relation_record(&integration, &relation))
                            })
                            .await?;
                    }
                    _ => {
                        let mut entities = HashMap::new();
                        self.store
                            .each_snapshot_entity(tenant, &snapshot, |entity| {
                                entities.insert(entity.key(), entity);
                                Ok::<(), ServiceError>(())
                            })
                            .await?;
                        self.store
                            .each_snapshot_relation(&snapshot, |relation| {
                                match entitlement_record(&entities, &relation) {
                                    Some(record) => write(record),
                                    None => Ok(()),
                                }
                            })
                            .await?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn write_error(error: csv::Error) -> ServiceError {
    ServiceError::Export {
        message: format!("cannot write the export: {error}"),
    }
}

/// Splits the keys an import keeps in metadata (`App`, `Source System`) back out, and
/// drops the version key that has its own column.
fn take_columns(metadata: &Value) -> (Option<String>, Option<String>, Map<String, Value>) {
    let mut map = metadata.as_object().cloned().unwrap_or_default();
    let text = |value: Option<Value>| value.and_then(|v| v.as_str().map(str::to_string));
    let app = text(map.remove(APP_KEY));
    let system = text(map.remove(SOURCE_SYSTEM_KEY));
    // The `Metadata Version` column carries it.
    map.remove("Metadata Version");
    (app, system, map)
}

fn entity_record(integration: &Integration, entity: &Entity) -> Vec<String> {
    let (app, system, metadata) = take_columns(&entity.metadata);
    EntityRow {
        line: 0,
        app,
        name: entity.name.clone(),
        entity_type: entity.entity_type,
        source_system: system.unwrap_or_else(|| integration.app.as_str().to_string()),
        source_id: entity.source_id.clone(),
        source_type: entity.source_type.clone(),
        metadata,
    }
    .to_record()
}

fn relation_record(integration: &Integration, relation: &Relation) -> Vec<String> {
    let (app, system, mut metadata) = take_columns(&relation.metadata);
    let mut put = |key: &str, value: Value, is_default: bool| {
        if !is_default || metadata.contains_key(key) {
            metadata.insert(key.to_string(), value);
        }
    };
    put(PROJECT_KEY, Value::String(relation.project.clone()), relation.project == "default");
    put(
        PRIVILEGE_NAME_KEY,
        Value::String(relation.privilege_name.clone()),
        relation.privilege_name == "member",
    );
    put(PRIVILEGE_VALUE_KEY, Value::Bool(relation.privilege_value), relation.privilege_value);
    if let Some(connection_type) = &relation.connection_type {
        put(CONNECTION_TYPE_KEY, Value::String(connection_type.clone()), false);
    }
    RelationRow {
        line: 0,
        app,
        parent_source_id: relation.parent.source_id.clone(),
        parent_type: relation.parent.entity_type,
        child_source_id: relation.child.source_id.clone(),
        child_type: relation.child.entity_type,
        source_system: system.or_else(|| Some(integration.app.as_str().to_string())),
        metadata,
    }
    .to_record()
}

/// Builds the row of a relation from an identity, the flat form of what it grants. Returns
/// `None` for other relations.
fn entitlement_record(entities: &HashMap<EntityKey, Entity>, relation: &Relation) -> Option<Vec<String>> {
    if relation.parent.entity_type != EntityType::Identity {
        return None;
    }
    let (Some(identity), Some(target)) = (entities.get(&relation.parent), entities.get(&relation.child)) else {
        return None;
    };
    let meta_text = |value: &Value, key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let email = meta_text(&identity.metadata, "email");
    let username = meta_text(&identity.metadata, "username");
    // The source id is what an import keys the identity by, so it always goes out as
    // the User ID and the identity keeps its id through a round trip.
    let user_id = Some(identity.source_id.clone());

    let (connection, resource, resource_type) = match target.entity_type {
        EntityType::Connection => (
            Some(target.source_id.clone()),
            meta_text(&relation.metadata, RESOURCE_KEY),
            meta_text(&relation.metadata, RESOURCE_TYPE_KEY),
        ),
        EntityType::Resource if target.source_type == PROJECT_SOURCE_TYPE && target.source_id == relation.project => {
            (None, None, None)
        }
        _ => (None, Some(target.source_id.clone()), Some(target.source_type.clone())),
    };
    let connection_type = match target.entity_type {
        EntityType::Connection => relation.connection_type.clone().or_else(|| Some(target.source_type.clone())),
        _ => relation.connection_type.clone(),
    };
    Some(
        EntitlementRow {
            line: 0,
            project: relation.project.clone(),
            privilege_name: relation.privilege_name.clone(),
            privilege_value: relation.privilege_value,
            email,
            user_id,
            username,
            name: Some(identity.name.clone()),
            connection,
            connection_type,
            resource,
            resource_type,
        }
        .to_record(),
    )
}

fn employee_row(employee: &muster_domain::Employee) -> EmployeeRow {
    let date = |text: &str| muster_csv::parse_date(text);
    let mut metadata = employee.metadata.as_object().cloned().unwrap_or_default();
    metadata.remove("Metadata Version");
    EmployeeRow {
        line: 0,
        employee_id: employee.employee_id.clone(),
        full_name: employee.full_name.clone(),
        first_name: employee.first_name.clone(),
        last_name: employee.last_name.clone(),
        work_email: employee.work_email.clone(),
        department: employee.department.clone(),
        title: employee.title.clone(),
        start_date: date(&employee.start_date).unwrap_or(time::Date::MIN),
        end_date: employee.end_date.as_deref().and_then(date),
        employment_type: employee.employment_type.clone(),
        manager: employee.manager.clone(),
        manager_work_email: employee.manager_work_email.clone(),
        source_employee_id: employee.source_employee_id.clone(),
        roles: employee.roles.clone(),
        metadata,
    }
}

fn mapping_row(identity: &IdentityView) -> IdentityMappingRow {
    let employee = identity.employee.as_ref();
    IdentityMappingRow {
        line: 0,
        identity_id: identity.source_id.clone(),
        username: identity.username.clone(),
        identity_email: identity.email.clone(),
        identity_name: identity.name.clone(),
        app_id: identity.integration_id.to_string(),
        app_name: identity.integration_name.clone(),
        app_description: Some(identity.integration_description.clone()).filter(|d| !d.is_empty()),
        relation_type: identity.relation_type.unwrap_or(muster_domain::MappingType::Is),
        employee_email: employee.map(|e| e.work_email.clone()),
        employee_name: employee.map(|e| e.name.clone()),
        employee_department: employee.and_then(|e| e.department.clone()),
        employee_job_title: employee.and_then(|e| e.title.clone()),
    }
}

fn owner_rows(integration: &Integration) -> Vec<BusinessOwnerRow> {
    let row = |email: &str, owner_type: OwnerType| BusinessOwnerRow {
        line: 0,
        app_id: integration.id.to_string(),
        app_name: Some(integration.name.clone()),
        owner_email: email.to_string(),
        owner_type,
    };
    let mut rows = vec![row(&integration.primary_owner, OwnerType::Primary)];
    rows.extend(
        integration
            .secondary_owners
            .iter()
            .map(|owner| row(owner, OwnerType::Secondary)),
    );
    rows
}
