//! The people pages: Employees (uploads of the tenant-wide formats and the employee
//! table) and Identities (every identity with the employee it maps to, filtered to orphan
//! candidates or leavers, and the form that maps one by hand).

use super::render::PageError;
use super::uploads::{UploadState, PEOPLE_FORMATS};
use crate::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use muster_domain::{Employee, MappingType};
use muster_service::{IdentityFilter, IdentityView, ServiceError};
use serde::{Deserialize, Serialize};

/// Today's date in UTC as `YYYY-MM-DD`, the form of stored employee dates.
fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

/// An employee as the table shows it.
#[derive(Serialize)]
struct EmployeeRow<'a> {
    #[serde(flatten)]
    employee: &'a Employee,
    name: String,
    /// The End Date has passed.
    left: bool,
}

pub(crate) async fn employees(State(state): State<AppState>) -> Result<Response, PageError> {
    let html = render_employees(&state, UploadState::default()).await?;
    Ok(Html(html).into_response())
}

/// Renders the Employees page with the upload form in `upload`'s state.
pub(crate) async fn render_employees(
    state: &AppState,
    upload: UploadState,
) -> Result<String, PageError> {
    let employees = state
        .muster
        .store()
        .list_employees(state.muster.default_tenant())
        .await
        .map_err(ServiceError::from)?;
    let today = today();
    let rows: Vec<EmployeeRow> = employees
        .iter()
        .map(|employee| EmployeeRow {
            employee,
            name: employee.display_name(),
            left: employee
                .end_date
                .as_deref()
                .is_some_and(|end| end < today.as_str()),
        })
        .collect();
    let left = rows.iter().filter(|row| row.left).count();
    Ok(state.pages.render(
        "employees.html",
        context! { nav => "employees", employees => rows, left, formats => PEOPLE_FORMATS, upload },
    )?)
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct IdentitiesQuery {
    /// `all`, `unmapped` or `left`.
    filter: String,
}

/// One filter tab of the Identities page.
#[derive(Serialize)]
struct FilterTab {
    key: &'static str,
    label: &'static str,
    count: usize,
    selected: bool,
}

pub(crate) async fn identities(
    State(state): State<AppState>,
    Query(query): Query<IdentitiesQuery>,
) -> Result<Response, PageError> {
    render_identities(&state, &query.filter, StatusCode::OK, None).await
}

/// Renders the Identities page, with `error` (about the mapping form) above the table.
async fn render_identities(
    state: &AppState,
    filter: &str,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PageError> {
    let selected = filter.parse::<IdentityFilter>().unwrap_or_default();
    let all = state
        .muster
        .identities(state.muster.default_tenant())
        .await?;
    let keep = |identity: &IdentityView, filter: IdentityFilter| match filter {
        IdentityFilter::All => true,
        IdentityFilter::Unmapped => identity.unmapped,
        IdentityFilter::Left => identity.employee_left,
    };
    let tabs: Vec<FilterTab> = [
        (IdentityFilter::All, "all", "All"),
        (IdentityFilter::Unmapped, "unmapped", "Unmapped"),
        (IdentityFilter::Left, "left", "Left"),
    ]
    .into_iter()
    .map(|(filter, key, label)| FilterTab {
        key,
        label,
        count: all.iter().filter(|identity| keep(identity, filter)).count(),
        selected: filter == selected,
    })
    .collect();
    let identities: Vec<&IdentityView> = all
        .iter()
        .filter(|identity| keep(identity, selected))
        .collect();
    let filter_key = tabs
        .iter()
        .find(|tab| tab.selected)
        .map_or("all", |tab| tab.key);
    let html = state.pages.render(
        "identities.html",
        context! { nav => "identities", tabs, filter => filter_key, identities, error },
    )?;
    Ok((status, Html(html)).into_response())
}

/// The per-row mapping form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct MappingForm {
    entity: String,
    employee_email: String,
    relation_type: String,
    /// `clear` removes the hand-set mapping; anything else sets it.
    action: String,
    /// The tab to return to.
    filter: String,
}

/// Sets or clears an identity's mapping by hand, then shows the tab it came from.
pub(crate) async fn set_mapping(
    State(state): State<AppState>,
    form: Result<Form<MappingForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form?;
    let filter = form
        .filter
        .parse::<IdentityFilter>()
        .map_or("all", |filter| match filter {
            IdentityFilter::All => "all",
            IdentityFilter::Unmapped => "unmapped",
            IdentityFilter::Left => "left",
        });
    let clear = form.action == "clear";
    let email = (!clear)
        .then(|| form.employee_email.trim())
        .filter(|email| !email.is_empty());
    if !clear && email.is_none() {
        let message = "enter the work email of the employee this identity belongs to".to_string();
        return render_identities(&state, filter, StatusCode::BAD_REQUEST, Some(message)).await;
    }
    let relation_type = if form.relation_type.trim().is_empty() {
        MappingType::Is
    } else {
        match form.relation_type.parse::<MappingType>() {
            Ok(relation_type) => relation_type,
            Err(message) => {
                return render_identities(&state, filter, StatusCode::BAD_REQUEST, Some(message))
                    .await
            }
        }
    };

    let result = state
        .muster
        .set_identity_mapping(
            state.muster.default_tenant(),
            form.entity.trim(),
            email,
            relation_type,
        )
        .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/identities?filter={filter}")).into_response()),
        Err(ServiceError::Validation(errors)) => {
            let message = errors
                .errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            render_identities(&state, filter, StatusCode::BAD_REQUEST, Some(message)).await
        }
        Err(other) => Err(other.into()),
    }
}
