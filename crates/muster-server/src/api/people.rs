//! Employees and identities for programs of the bulk API, in the tenant of the API key:
//! who works here, and which accounts belong to whom.

use crate::api::api_key::ApiKeyAuth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use muster_domain::{self as domain, MappingType};
use muster_service::{IdentityFilter, IdentityView, MappingOrigin, ServiceError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An employee, as uploaded in the employees format.
#[derive(Serialize, ToSchema)]
pub(crate) struct Employee {
    /// The key of an employee, matched ignoring case.
    pub work_email: String,
    /// Full name, else first and last name, else the work email.
    pub display_name: String,
    pub employee_id: Option<String>,
    pub full_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    #[schema(format = Date)]
    pub start_date: String,
    /// A past date means the person has left.
    #[schema(format = Date)]
    pub end_date: Option<String>,
    pub employment_type: Option<String>,
    pub manager: Option<String>,
    pub manager_work_email: Option<String>,
    pub source_employee_id: Option<String>,
    pub roles: Vec<String>,
    /// A JSON object with `"Metadata Version": "v1"`.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

impl From<domain::Employee> for Employee {
    fn from(employee: domain::Employee) -> Self {
        Employee {
            display_name: employee.display_name(),
            work_email: employee.work_email,
            employee_id: employee.employee_id,
            full_name: employee.full_name,
            first_name: employee.first_name,
            last_name: employee.last_name,
            department: employee.department,
            title: employee.title,
            start_date: employee.start_date,
            end_date: employee.end_date,
            employment_type: employee.employment_type,
            manager: employee.manager,
            manager_work_email: employee.manager_work_email,
            source_employee_id: employee.source_employee_id,
            roles: employee.roles,
            metadata: employee.metadata,
        }
    }
}

/// An identity of an integration's current data, with the employee it belongs to.
#[derive(Serialize, ToSchema)]
pub(crate) struct Identity {
    pub entity_id: String,
    pub integration_id: String,
    pub integration_name: String,
    pub name: String,
    pub username: String,
    pub source_id: String,
    pub source_type: String,
    pub email: Option<String>,
    pub employee: Option<IdentityEmployee>,
    /// The kind of mapping to the employee; absent when unmapped.
    pub relation_type: Option<MappingType>,
    /// The source of the mapping: `email` (matched by email, ignoring case), `manual`
    /// (set in the web UI) or `upload` (an identity-mappings upload); absent when unmapped.
    #[schema(example = "email")]
    pub origin: Option<String>,
    /// No employee: an orphan candidate.
    pub unmapped: bool,
    /// The employee's End Date has passed.
    pub employee_left: bool,
}

/// The employee an identity maps to.
#[derive(Serialize, ToSchema)]
pub(crate) struct IdentityEmployee {
    pub work_email: String,
    pub name: String,
    pub department: Option<String>,
    pub title: Option<String>,
    #[schema(format = Date)]
    pub end_date: Option<String>,
}

impl From<IdentityView> for Identity {
    fn from(view: IdentityView) -> Self {
        let origin = view.origin.map(|origin| {
            match origin {
                MappingOrigin::Email => "email",
                MappingOrigin::Manual => "manual",
                MappingOrigin::Upload => "upload",
            }
            .to_string()
        });
        Identity {
            entity_id: view.entity_id.to_string(),
            integration_id: view.integration_id.to_string(),
            integration_name: view.integration_name,
            name: view.name,
            username: view.username,
            source_id: view.source_id,
            source_type: view.source_type,
            email: view.email,
            employee: view.employee.map(|employee| IdentityEmployee {
                work_email: employee.work_email,
                name: employee.name,
                department: employee.department,
                title: employee.title,
                end_date: employee.end_date,
            }),
            relation_type: view.relation_type,
            origin,
            unmapped: view.unmapped,
            employee_left: view.employee_left,
        }
    }
}

/// The identities to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct IdentityQuery {
    /// `all` (the default), `unmapped` (no employee: orphan candidates) or `left`
    /// (identities of employees whose End Date has passed).
    #[param(example = "unmapped")]
    filter: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/identities",
    tag = "bulk",
    params(IdentityQuery),
    security(("api_key_id" = [], "api_key_secret" = [])),
    responses(
        (status = 200, description = "The identities of the key's tenant that the filter selects", body = [Identity]),
        (status = 400, description = "Unknown filter", body = ErrorBody),
        (status = 401, description = "API key missing, invalid, revoked or expired (`api_key.*`)", body = ErrorBody),
    )
)]
pub(crate) async fn list_identities(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    ApiQuery(query): ApiQuery<IdentityQuery>,
) -> Result<Json<Vec<Identity>>, ApiError> {
    let filter = query
        .filter
        .as_deref()
        .unwrap_or("all")
        .parse::<IdentityFilter>()
        .map_err(|message| ApiError::invalid_field("filter", message))?;
    let identities = state
        .muster
        .filtered_identities(&key.tenant_id, filter)
        .await?;
    Ok(Json(identities.into_iter().map(Identity::from).collect()))
}

#[utoipa::path(
    get,
    path = "/api/v1/employees",
    tag = "bulk",
    security(("api_key_id" = [], "api_key_secret" = [])),
    responses(
        (status = 200, description = "The employees of the key's tenant", body = [Employee]),
        (status = 401, description = "API key missing, invalid, revoked or expired (`api_key.*`)", body = ErrorBody),
    )
)]
pub(crate) async fn list_employees(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
) -> Result<Json<Vec<Employee>>, ApiError> {
    let employees = state
        .muster
        .store()
        .list_employees(&key.tenant_id)
        .await
        .map_err(ServiceError::from)?;
    Ok(Json(employees.into_iter().map(Employee::from).collect()))
}
