//! Imports of the tenant-wide formats: employees (the whole HR list, replaced), identity
//! mappings (set or cleared per identity) and business owners (per application).

use super::snapshot::{duplicate, next_valid, open_source, plural};
use super::{ImportOptions, ImportProblem, ImportProgress, ImportReport};
use crate::{Muster, ServiceError};
use muster_csv::{BusinessOwnerRow, EmployeeRow, IdentityMappingRow, OwnerType, RowError};
use muster_domain::{Employee, EntityId, IntegrationId, TenantId};
use muster_store::StoredMapping;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

impl Muster {
    pub(super) async fn import_employees(
        &self,
        tenant: &TenantId,
        path: &Path,
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, ServiceError> {
        let mut report = ImportReport::new("employees", None);
        let Some(mut source) = open_source::<EmployeeRow>(path, &mut report).await else {
            return Ok(report);
        };

        let mut employees = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        while let Some(row) = next_valid(&mut source, &mut report, progress).await {
            let key = row.work_email.to_lowercase();
            if let Some(first) = seen.get(&key) {
                report.add_row_errors(vec![duplicate(row.line, "Work Email", &row.work_email, *first)]);
                continue;
            }
            seen.insert(key, row.line);
            employees.push(employee_from_row(row));
        }
        report.blank_lines = source.blank_lines;
        report.rows_applied = employees.len() as u64;

        if !accept(&mut report, options) {
            return Ok(report);
        }
        // A skipped row may be a person with a typo: removing everyone missing from the
        // file would then make their accounts look orphaned, so no one is removed.
        let remove_missing = report.rows_skipped == 0;
        if !remove_missing {
            report.warnings.push(format!(
                "{} invalid row{} skipped: employees missing from the file were kept, since a skipped row may be one of them",
                report.rows_skipped,
                plural(report.rows_skipped)
            ));
        }
        let changes = self.store.replace_employees(tenant, &employees, remove_missing).await?;
        tracing::info!(tenant = %tenant, added = changes.added, updated = changes.updated, removed = changes.removed, "employees imported");
        report.changes = serde_json::to_value(changes).ok();
        report.applied = true;
        Ok(report)
    }

    pub(super) async fn import_identity_mappings(
        &self,
        tenant: &TenantId,
        path: &Path,
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, ServiceError> {
        let mut report = ImportReport::new("identity-mappings", None);
        let Some(mut source) = open_source::<IdentityMappingRow>(path, &mut report).await else {
            return Ok(report);
        };

        // Each identity with the email it is matched by automatically, if any.
        let identities: HashMap<(String, String), (EntityId, Option<String>)> = self
            .store
            .current_identities(tenant)
            .await?
            .into_iter()
            .map(|identity| {
                let email = muster_domain::identity_email(&identity.name, &identity.source_id, &identity.metadata);
                (
                    (identity.integration_id.to_string(), identity.source_id),
                    (identity.entity_id, email.map(|email| email.to_lowercase())),
                )
            })
            .collect();
        let employees: HashMap<String, ()> = self
            .store
            .list_employees(tenant)
            .await?
            .into_iter()
            .map(|employee| (employee.work_email.to_lowercase(), ()))
            .collect();

        let now = muster_domain::format_timestamp(time::OffsetDateTime::now_utc());
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut seen: HashMap<EntityId, u64> = HashMap::new();
        while let Some(row) = next_valid(&mut source, &mut report, progress).await {

            let mut errors = Vec::new();
            let identity = identities.get(&(row.app_id.clone(), row.identity_id.clone()));
            if identity.is_none() {
                errors.push(RowError::new(
                    row.line,
                    "Identity ID",
                    &row.identity_id,
                    format!("no identity with this id in the current data of integration `{}`: expected the id of an identity the integration holds", row.app_id),
                ));
            }
            if let Some(email) = &row.employee_email {
                if !employees.contains_key(&email.to_lowercase()) {
                    errors.push(RowError::new(
                        row.line,
                        "Employee email",
                        email,
                        "no employee with this work email: upload employees first, or leave it empty to clear the mapping",
                    ));
                }
            }
            let Some((identity, automatic_email)) = identity.filter(|_| errors.is_empty()) else {
                report.add_row_errors(errors);
                continue;
            };
            if let Some(first) = seen.insert(identity.clone(), row.line) {
                report.add_row_errors(vec![duplicate(row.line, "Identity ID", &row.identity_id, first)]);
                continue;
            }

            // A row that states what the email match gives anyway leaves the identity to
            // the match, so an export of the view imports back unchanged.
            let matched_anyway = row.relation_type == muster_csv::MappingType::Is
                && row.employee_email.as_ref().map(|email| email.to_lowercase()) == *automatic_email;
            match &row.employee_email {
                Some(_) if matched_anyway => remove.push(identity.clone()),
                Some(email) => set.push(StoredMapping {
                    entity_id: identity.clone(),
                    integration_id: IntegrationId::from_string(row.app_id.clone()),
                    employee_email: email.to_lowercase(),
                    relation_type: row.relation_type,
                    origin: "upload".into(),
                    updated_at: now.clone(),
                }),
                None => remove.push(identity.clone()),
            }
            report.rows_applied += 1;
        }
        report.blank_lines = source.blank_lines;

        if !accept(&mut report, options) {
            return Ok(report);
        }
        self.store.apply_identity_mappings(tenant, &set, &remove).await?;
        report.changes = Some(serde_json::json!({ "mapped": set.len(), "cleared": remove.len() }));
        report.applied = true;
        Ok(report)
    }

    pub(super) async fn import_business_owners(
        &self,
        tenant: &TenantId,
        path: &Path,
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, ServiceError> {
        let mut report = ImportReport::new("business-owners", None);
        let Some(mut source) = open_source::<BusinessOwnerRow>(path, &mut report).await else {
            return Ok(report);
        };
        let integrations: HashMap<String, muster_domain::Integration> = self
            .store
            .list_integrations(tenant)
            .await?
            .into_iter()
            .map(|integration| (integration.id.to_string(), integration))
            .collect();

        // Per integration: the primary owner with its line, and the secondary owners.
        let mut owners: HashMap<String, (Option<(String, u64)>, Vec<String>)> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        while let Some(row) = next_valid(&mut source, &mut report, progress).await {
            // The App ID column takes an integration id, or its name as a convenience.
            let app_id = if integrations.contains_key(&row.app_id) {
                Some(row.app_id.clone())
            } else {
                integrations
                    .values()
                    .find(|integration| integration.name.eq_ignore_ascii_case(&row.app_id))
                    .map(|integration| integration.id.to_string())
            };
            let Some(app_id) = app_id else {
                report.add_row_errors(vec![RowError::new(
                    row.line,
                    "App ID",
                    &row.app_id,
                    "no integration with this id or name: expected an id such as custom/01J… as `muster integration list` shows it",
                )]);
                continue;
            };
            if !owners.contains_key(&app_id) {
                order.push(app_id.clone());
            }
            let entry = owners.entry(app_id).or_default();
            match row.owner_type {
                OwnerType::Primary => {
                    if let Some((_, first)) = &entry.0 {
                        report.add_row_errors(vec![RowError::new(
                            row.line,
                            "Owner Type",
                            "primary",
                            format!("a second primary owner for this application (the first is on line {first}): an application has exactly one"),
                        )]);
                        continue;
                    }
                    entry.0 = Some((row.owner_email.clone(), row.line));
                }
                OwnerType::Secondary => {
                    if !entry.1.iter().any(|owner| owner.eq_ignore_ascii_case(&row.owner_email)) {
                        entry.1.push(row.owner_email.clone());
                    }
                }
            }
            report.rows_applied += 1;
        }
        report.blank_lines = source.blank_lines;

        if !accept(&mut report, options) {
            return Ok(report);
        }
        let updates: Vec<(IntegrationId, Option<String>, Vec<String>)> = order
            .into_iter()
            .filter_map(|id| {
                let (primary, secondary) = owners.remove(&id)?;
                let primary = primary.map(|(email, _)| email);
                let secondary = secondary
                    .into_iter()
                    .filter(|owner| primary.as_deref().is_none_or(|p| !p.eq_ignore_ascii_case(owner)))
                    .collect();
                Some((IntegrationId::from_string(id), primary, secondary))
            })
            .collect();
        self.store.set_integration_owners(tenant, &updates).await?;
        report.changes = Some(serde_json::json!({ "applications": updates.len() }));
        report.applied = true;
        Ok(report)
    }
}

/// Decides whether a tenant-wide import may be applied, recording why not.
fn accept(report: &mut ImportReport, options: &ImportOptions) -> bool {
    if report.rows_applied == 0 && report.problem_count == 0 {
        report.add_problem(ImportProblem {
            line: None,
            column: None,
            value: None,
            problem: "the file has a header but no rows: nothing was changed".into(),
        });
    }
    let accepted = report.rows_applied > 0 && report.tolerates_problems(options);
    if !accepted {
        report.rows_applied = 0;
    }
    accepted
}

fn employee_from_row(row: EmployeeRow) -> Employee {
    let mut metadata = row.metadata;
    metadata.insert("Metadata Version".into(), Value::String("v1".into()));
    Employee {
        work_email: row.work_email,
        employee_id: row.employee_id,
        full_name: row.full_name,
        first_name: row.first_name,
        last_name: row.last_name,
        department: row.department,
        title: row.title,
        start_date: format_iso_date(row.start_date),
        end_date: row.end_date.map(format_iso_date),
        employment_type: row.employment_type,
        manager: row.manager,
        manager_work_email: row.manager_work_email,
        source_employee_id: row.source_employee_id,
        roles: row.roles,
        metadata: Value::Object(metadata),
    }
}

/// `YYYY-MM-DD`, the stored form of a date.
pub(crate) fn format_iso_date(date: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}
