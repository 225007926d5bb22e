//! The Identities view: every identity of every integration's current data, tied to the
//! employee it belongs to. A mapping set by hand or by upload wins; otherwise an identity
//! is matched by email, ignoring case, across all integrations. Identities with no
//! employee are orphan candidates; those of employees whose End Date has passed are
//! flagged too.

use crate::{Muster, ServiceError};
use muster_domain::{identity_email, Employee, EntityId, IntegrationId, MappingType, TenantId};
use muster_store::StoredMapping;
use serde::Serialize;
use std::collections::HashMap;

/// Origin of the tie between an identity and its employee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MappingOrigin {
    /// Matched by email.
    Email,
    /// Set by hand in the web UI.
    Manual,
    /// Set by an identity-mappings upload.
    Upload,
}

/// The employee an identity maps to, as the view shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MappedEmployee {
    pub work_email: String,
    pub name: String,
    pub department: Option<String>,
    pub title: Option<String>,
    pub end_date: Option<String>,
}

/// One identity with its mapping.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IdentityView {
    pub entity_id: EntityId,
    pub integration_id: IntegrationId,
    pub integration_name: String,
    pub integration_description: String,
    pub name: String,
    pub username: String,
    pub source_id: String,
    pub source_type: String,
    pub email: Option<String>,
    pub employee: Option<MappedEmployee>,
    pub relation_type: Option<MappingType>,
    pub origin: Option<MappingOrigin>,
    /// No employee: an orphan candidate.
    pub unmapped: bool,
    /// The employee's End Date has passed.
    pub employee_left: bool,
}

/// Selection of identities the view lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdentityFilter {
    #[default]
    All,
    /// Orphan candidates.
    Unmapped,
    /// Identities of employees who have left.
    Left,
}

impl std::str::FromStr for IdentityFilter {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "all" => Ok(IdentityFilter::All),
            "unmapped" => Ok(IdentityFilter::Unmapped),
            "left" => Ok(IdentityFilter::Left),
            other => Err(format!("unknown filter `{other}`: expected all, unmapped or left")),
        }
    }
}

impl Muster {
    /// Lists every identity of the tenant with its employee.
    pub async fn identities(&self, tenant: &TenantId) -> Result<Vec<IdentityView>, ServiceError> {
        let identities = self.store.current_identities(tenant).await?;
        let employees: HashMap<String, Employee> = self
            .store
            .list_employees(tenant)
            .await?
            .into_iter()
            .map(|employee| (employee.work_email.to_lowercase(), employee))
            .collect();
        let mappings: HashMap<EntityId, StoredMapping> = self
            .store
            .list_identity_mappings(tenant)
            .await?
            .into_iter()
            .map(|mapping| (mapping.entity_id.clone(), mapping))
            .collect();
        let today = today();

        Ok(identities
            .into_iter()
            .map(|identity| {
                let email = identity_email(&identity.name, &identity.source_id, &identity.metadata);
                let (employee, relation_type, origin) = match mappings.get(&identity.entity_id) {
                    Some(mapping) => (
                        employees.get(&mapping.employee_email),
                        Some(mapping.relation_type),
                        Some(if mapping.origin == "manual" {
                            MappingOrigin::Manual
                        } else {
                            MappingOrigin::Upload
                        }),
                    ),
                    None => match email.as_ref().and_then(|email| employees.get(&email.to_lowercase())) {
                        Some(employee) => (Some(employee), Some(MappingType::Is), Some(MappingOrigin::Email)),
                        None => (None, None, None),
                    },
                };
                let username = identity
                    .metadata
                    .get("username")
                    .and_then(|value| value.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| identity.name.clone());
                IdentityView {
                    unmapped: employee.is_none(),
                    employee_left: employee.is_some_and(|e| e.has_left(&today)),
                    employee: employee.map(|e| MappedEmployee {
                        work_email: e.work_email.clone(),
                        name: e.display_name(),
                        department: e.department.clone(),
                        title: e.title.clone(),
                        end_date: e.end_date.clone(),
                    }),
                    relation_type: employee.and(relation_type),
                    origin: employee.and(origin),
                    entity_id: identity.entity_id,
                    integration_id: identity.integration_id,
                    integration_name: identity.integration_name,
                    integration_description: identity.integration_description,
                    name: identity.name,
                    username,
                    source_id: identity.source_id,
                    source_type: identity.source_type,
                    email,
                }
            })
            .collect())
    }

    /// Lists the identities that `filter` selects.
    pub async fn filtered_identities(
        &self,
        tenant: &TenantId,
        filter: IdentityFilter,
    ) -> Result<Vec<IdentityView>, ServiceError> {
        let identities = self.identities(tenant).await?;
        Ok(identities
            .into_iter()
            .filter(|identity| match filter {
                IdentityFilter::All => true,
                IdentityFilter::Unmapped => identity.unmapped,
                IdentityFilter::Left => identity.employee_left,
            })
            .collect())
    }

    /// Maps an identity to an employee by hand, or clears the hand-set mapping when
    /// `employee_email` is `None` (the identity is matched by email again).
    pub async fn set_identity_mapping(
        &self,
        tenant: &TenantId,
        entity: &str,
        employee_email: Option<&str>,
        relation_type: MappingType,
    ) -> Result<IdentityView, ServiceError> {
        let identities = self.identities(tenant).await?;
        let Some(identity) = identities.iter().find(|identity| identity.entity_id.as_str() == entity) else {
            return Err(ServiceError::NotFound {
                what: "identity",
                id: entity.to_string(),
            });
        };

        match employee_email.map(str::trim).filter(|email| !email.is_empty()) {
            Some(email) => {
                let known = self
                    .store
                    .list_employees(tenant)
                    .await?
                    .iter()
                    .any(|employee| employee.work_email.eq_ignore_ascii_case(email));
                if !known {
                    return Err(ServiceError::validation(
                        "employee_email",
                        format!("no employee with work email `{email}`: upload employees first"),
                    ));
                }
                let mapping = StoredMapping {
                    entity_id: identity.entity_id.clone(),
                    integration_id: identity.integration_id.clone(),
                    employee_email: email.to_lowercase(),
                    relation_type,
                    origin: "manual".into(),
                    updated_at: muster_domain::format_timestamp(time::OffsetDateTime::now_utc()),
                };
                self.store.apply_identity_mappings(tenant, &[mapping], &[]).await?;
            }
            None => {
                self.store
                    .apply_identity_mappings(tenant, &[], &[identity.entity_id.clone()])
                    .await?;
            }
        }

        let updated = self.identities(tenant).await?;
        updated
            .into_iter()
            .find(|identity| identity.entity_id.as_str() == entity)
            .ok_or_else(|| ServiceError::NotFound {
                what: "identity",
                id: entity.to_string(),
            })
    }
}

/// Today's date in UTC as `YYYY-MM-DD`.
fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day())
}
