//! Employees and identity mappings of a tenant, and the identities of every current
//! snapshot that the Identities view matches against them.

use crate::rows::{now_timestamp, parse_json, parse_stored};
use crate::snapshots::{multi_row_insert, ROWS_PER_INSERT};
use crate::{Store, StoreError};
use muster_domain::{Employee, EntityId, IntegrationId, MappingType, TenantId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Counts of the changes an employees upload made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EmployeeChanges {
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
    pub unchanged: u64,
}

/// A mapping set by hand or by upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredMapping {
    pub entity_id: EntityId,
    pub integration_id: IntegrationId,
    /// Lower-cased work email of the employee.
    pub employee_email: String,
    pub relation_type: MappingType,
    /// `manual` or `upload`.
    pub origin: String,
    pub updated_at: String,
}

/// An identity entity of an integration's current snapshot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurrentIdentity {
    pub entity_id: EntityId,
    pub integration_id: IntegrationId,
    pub integration_name: String,
    pub integration_description: String,
    pub name: String,
    pub source_id: String,
    pub source_type: String,
    pub metadata: serde_json::Value,
}

const EMPLOYEE_COLUMNS: &str = "work_email, employee_id, full_name, first_name, last_name, department, title, \
     start_date, end_date, employment_type, manager, manager_work_email, source_employee_id, roles, metadata";

impl Store {
    /// Writes `employees` in one transaction. With `remove_missing`, the list replaces the
    /// tenant's employees and people missing from it are removed; without, they are kept.
    /// Emails must be unique ignoring case (the caller checks).
    pub async fn replace_employees(
        &self,
        tenant: &TenantId,
        employees: &[Employee],
        remove_missing: bool,
    ) -> Result<EmployeeChanges, StoreError> {
        let before = self.list_employees(tenant).await?;
        let before: std::collections::HashMap<String, Employee> = before
            .into_iter()
            .map(|employee| (employee.work_email.to_lowercase(), employee))
            .collect();
        let mut changes = EmployeeChanges::default();
        for employee in employees {
            match before.get(&employee.work_email.to_lowercase()) {
                None => changes.added += 1,
                Some(old) if old == employee => changes.unchanged += 1,
                Some(_) => changes.updated += 1,
            }
        }
        let kept = changes.updated + changes.unchanged;
        if remove_missing {
            changes.removed = u64::try_from(before.len()).unwrap_or(0).saturating_sub(kept);
        }

        let now = now_timestamp();
        let mut tx = self.pool.begin().await?;
        if remove_missing {
            sqlx::query("DELETE FROM employees WHERE tenant_id = $1")
                .bind(tenant.as_str())
                .execute(&mut *tx)
                .await?;
        } else {
            for employee in employees {
                sqlx::query("DELETE FROM employees WHERE tenant_id = $1 AND email_key = $2")
                    .bind(tenant.as_str())
                    .bind(employee.work_email.to_lowercase())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for chunk in employees.chunks(ROWS_PER_INSERT / 2) {
            let sql = multi_row_insert(
                self.backend,
                &format!("INSERT INTO employees (tenant_id, email_key, {EMPLOYEE_COLUMNS}, updated_at) VALUES "),
                18,
                chunk.len(),
            );
            let mut query = sqlx::query(&sql);
            for employee in chunk {
                let roles = serde_json::to_string(&employee.roles).map_err(|error| StoreError::Corrupt(error.to_string()))?;
                query = query
                    .bind(tenant.as_str())
                    .bind(employee.work_email.to_lowercase())
                    .bind(employee.work_email.as_str())
                    .bind(employee.employee_id.as_deref())
                    .bind(employee.full_name.as_deref())
                    .bind(employee.first_name.as_deref())
                    .bind(employee.last_name.as_deref())
                    .bind(employee.department.as_deref())
                    .bind(employee.title.as_deref())
                    .bind(employee.start_date.as_str())
                    .bind(employee.end_date.as_deref())
                    .bind(employee.employment_type.as_deref())
                    .bind(employee.manager.as_deref())
                    .bind(employee.manager_work_email.as_deref())
                    .bind(employee.source_employee_id.as_deref())
                    .bind(roles)
                    .bind(employee.metadata.to_string())
                    .bind(now.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(changes)
    }

    /// Lists every employee of the tenant, by work email.
    pub async fn list_employees(&self, tenant: &TenantId) -> Result<Vec<Employee>, StoreError> {
        let sql = format!("SELECT {EMPLOYEE_COLUMNS} FROM employees WHERE tenant_id = $1 ORDER BY email_key");
        let rows = sqlx::query(&sql).bind(tenant.as_str()).fetch_all(&self.pool).await?;
        rows.iter().map(employee_from_row).collect()
    }

    /// Sets or replaces the mappings in `set` and removes those of the identities in
    /// `remove` (they are matched by email again), in one transaction.
    pub async fn apply_identity_mappings(
        &self,
        tenant: &TenantId,
        set: &[StoredMapping],
        remove: &[EntityId],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for mapping in set {
            sqlx::query(
                "INSERT INTO identity_mappings (tenant_id, entity_id, integration_id, employee_email_key, relation_type, origin, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (tenant_id, entity_id) DO UPDATE SET integration_id = excluded.integration_id, \
                 employee_email_key = excluded.employee_email_key, relation_type = excluded.relation_type, \
                 origin = excluded.origin, updated_at = excluded.updated_at",
            )
            .bind(tenant.as_str())
            .bind(mapping.entity_id.as_str())
            .bind(mapping.integration_id.as_str())
            .bind(mapping.employee_email.to_lowercase())
            .bind(mapping.relation_type.as_str())
            .bind(mapping.origin.as_str())
            .bind(mapping.updated_at.as_str())
            .execute(&mut *tx)
            .await?;
        }
        for entity in remove {
            sqlx::query("DELETE FROM identity_mappings WHERE tenant_id = $1 AND entity_id = $2")
                .bind(tenant.as_str())
                .bind(entity.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_identity_mappings(&self, tenant: &TenantId) -> Result<Vec<StoredMapping>, StoreError> {
        let rows = sqlx::query(
            "SELECT entity_id, integration_id, employee_email_key, relation_type, origin, updated_at \
             FROM identity_mappings WHERE tenant_id = $1 ORDER BY entity_id",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let relation_type: String = row.try_get("relation_type")?;
                Ok(StoredMapping {
                    entity_id: EntityId::from_string(row.try_get::<String, _>("entity_id")?),
                    integration_id: IntegrationId::from_string(row.try_get::<String, _>("integration_id")?),
                    employee_email: row.try_get("employee_email_key")?,
                    relation_type: parse_stored(&relation_type)?,
                    origin: row.try_get("origin")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// Lists the identity entities of every integration's current snapshot.
    pub async fn current_identities(&self, tenant: &TenantId) -> Result<Vec<CurrentIdentity>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.integration_id, i.name AS integration_name, i.description, e.name, e.source_id, \
             e.source_type, e.metadata \
             FROM integrations i JOIN entities e ON e.snapshot_id = i.current_snapshot_id \
             WHERE i.tenant_id = $1 AND e.entity_type = 'identity' \
             ORDER BY i.name_key, e.name, e.id",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let metadata: String = row.try_get("metadata")?;
                Ok(CurrentIdentity {
                    entity_id: EntityId::from_string(row.try_get::<String, _>("id")?),
                    integration_id: IntegrationId::from_string(row.try_get::<String, _>("integration_id")?),
                    integration_name: row.try_get("integration_name")?,
                    integration_description: row.try_get("description")?,
                    name: row.try_get("name")?,
                    source_id: row.try_get("source_id")?,
                    source_type: row.try_get("source_type")?,
                    metadata: parse_json(&metadata)?,
                })
            })
            .collect()
    }
}

fn employee_from_row(row: &AnyRow) -> Result<Employee, StoreError> {
    let roles: String = row.try_get("roles")?;
    let metadata: String = row.try_get("metadata")?;
    let roles: Vec<String> = serde_json::from_str(&roles)
        .map_err(|error| StoreError::Corrupt(format!("invalid stored roles: {error}")))?;
    Ok(Employee {
        work_email: row.try_get("work_email")?,
        employee_id: row.try_get("employee_id")?,
        full_name: row.try_get("full_name")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        department: row.try_get("department")?,
        title: row.try_get("title")?,
        start_date: row.try_get("start_date")?,
        end_date: row.try_get("end_date")?,
        employment_type: row.try_get("employment_type")?,
        manager: row.try_get("manager")?,
        manager_work_email: row.try_get("manager_work_email")?,
        source_employee_id: row.try_get("source_employee_id")?,
        roles,
        metadata: parse_json(&metadata)?,
    })
}
