//! Integration pages: the list, Add and Edit forms, the integration page with its sync
//! panel and inventory, and removal.

use super::form::{error_summary, field_errors, FormValues, IntegrationForm};
use super::inventory::{inventory, InventoryQuery};
use super::render::{page, PageError};
use crate::extract::IntegrationRef;
use crate::paths;
use crate::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use muster_domain::{Integration, IntegrationStatus, ValidationErrors};
use muster_service::{ServiceError, SyncRun, SyncRunState, MAX_PAGE_SIZE};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Sync runs shown in an integration's history.
const HISTORY_LENGTH: u32 = 20;

const HX_REQUEST: HeaderName = HeaderName::from_static("hx-request");
const HX_REFRESH: HeaderName = HeaderName::from_static("hx-refresh");

/// An integration as pages show it.
#[derive(Serialize)]
pub(crate) struct IntegrationView<'a> {
    #[serde(flatten)]
    integration: &'a Integration,
    app_name: &'static str,
    /// A run is queued or running, so the page polls until it ends.
    active: bool,
    /// The status badge: `Queued` while a run waits for a worker, else the status.
    badge: &'static str,
    /// Data arrives as files, so there is nothing to sync.
    receives_files: bool,
}

impl<'a> IntegrationView<'a> {
    pub fn new(integration: &'a Integration, active: bool) -> Self {
        let badge = if active && integration.status != IntegrationStatus::Syncing {
            "Queued"
        } else {
            integration.status.as_str()
        };
        IntegrationView {
            integration,
            app_name: integration.app.display_name(),
            active,
            badge,
            receives_files: integration.extraction_type.receives_files(),
        }
    }
}

fn is_active(run: &SyncRun) -> bool {
    matches!(run.state, SyncRunState::Queued | SyncRunState::Running)
}

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get(HX_REQUEST).is_some_and(|value| value == "true")
}

fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

pub(crate) async fn list(State(state): State<AppState>) -> Result<Response, PageError> {
    let tenant = state.muster.default_tenant();
    let integrations = state.muster.list_integrations(tenant).await?;
    // NOTE: only the newest MAX_PAGE_SIZE runs are checked, so a run queued behind that
    // many newer ones shows as not queued until the page is reloaded after it starts.
    let active: HashSet<String> = state
        .muster
        .list_sync_runs(tenant, None, MAX_PAGE_SIZE)
        .await?
        .iter()
        .filter(|run| is_active(run))
        .map(|run| run.integration_id.to_string())
        .collect();
    let rows: Vec<IntegrationView> = integrations
        .iter()
        .map(|integration| IntegrationView::new(integration, active.contains(integration.id.as_str())))
        .collect();
    page(&state.pages, "integrations.html", context! { nav => "integrations", integrations => rows })
}

pub(crate) async fn new_form(State(state): State<AppState>) -> Result<Response, PageError> {
    render_form(&state, StatusCode::OK, None, FormValues::new_integration(), BTreeMap::new())
}

pub(crate) async fn create(
    State(state): State<AppState>,
    form: Result<Form<IntegrationForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form?;
    let mut errors = ValidationErrors::default();
    let draft = form.to_draft(&mut errors);
    if !errors.is_empty() {
        // Report the other fields' problems in the same round trip.
        if let Err(more) = draft.normalized().validate() {
            errors.errors.extend(more.errors);
        }
        return form_errors(&state, StatusCode::BAD_REQUEST, None, &form, &errors);
    }

    let tenant = state.muster.default_tenant();
    let added = if draft.app == muster_domain::App::Scim {
        state.muster.add_scim_integration(tenant, draft, form.scim_connection()).await
    } else {
        state.muster.add_integration(tenant, draft).await
    };
    match added {
        Ok(integration) => Ok(see_other(&paths::integration_page(integration.id.as_str()))),
        Err(error) => form_service_error(&state, None, &form, error),
    }
}

pub(crate) async fn show(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
    query: Result<Query<InventoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let tenant = state.muster.default_tenant();
    let integration = state.muster.find_integration(tenant, &id).await?;
    let runs = state
        .muster
        .list_sync_runs(tenant, Some(integration.id.as_str()), HISTORY_LENGTH)
        .await?;
    let active = runs.iter().any(is_active);
    let inventory = inventory(&state.muster, &integration, &query).await?;
    page(
        &state.pages,
        "integration.html",
        context! {
            nav => "integrations",
            integration => IntegrationView::new(&integration, active),
            runs,
            inventory,
        },
    )
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct FragmentQuery {
    /// `1` when htmx polls while a run is active.
    poll: String,
    /// `row` when the list page asked, else the integration page's sync panel.
    view: String,
}

/// Renders the sync panel of the integration page. A poll that finds no active run any
/// more sets `HX-Refresh`, so htmx reloads the page with the new status and inventory.
pub(crate) async fn sync_panel(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
    Query(query): Query<FragmentQuery>,
) -> Result<Response, PageError> {
    let (html, active) = render_sync_panel(&state, &id).await?;
    let mut response = Html(html).into_response();
    if query.poll == "1" && !active {
        response.headers_mut().insert(HX_REFRESH, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Renders one row of the list page, which polls it while its run is active.
pub(crate) async fn row(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
) -> Result<Response, PageError> {
    Ok(Html(render_row(&state, &id).await?).into_response())
}

/// Queues a sync. htmx gets the updated fragment; a plain form post is redirected.
pub(crate) async fn sync(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
    Query(query): Query<FragmentQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let run = state
        .muster
        .request_sync(state.muster.default_tenant(), &id, "ui")
        .await?;
    let id = run.integration_id.to_string();
    let from_list = query.view == "row";
    if !is_htmx(&headers) {
        let target = if from_list { "/integrations".to_string() } else { paths::integration_page(&id) };
        return Ok(see_other(&target));
    }
    let html = if from_list {
        render_row(&state, &id).await?
    } else {
        render_sync_panel(&state, &id).await?.0
    };
    Ok(Html(html).into_response())
}

async fn render_sync_panel(state: &AppState, id: &str) -> Result<(String, bool), PageError> {
    let tenant = state.muster.default_tenant();
    let integration = state.muster.find_integration(tenant, id).await?;
    let runs = state
        .muster
        .list_sync_runs(tenant, Some(integration.id.as_str()), HISTORY_LENGTH)
        .await?;
    let active = runs.iter().any(is_active);
    let html = state.pages.render(
        "sync_panel.html",
        context! { integration => IntegrationView::new(&integration, active), runs },
    )?;
    Ok((html, active))
}

async fn render_row(state: &AppState, id: &str) -> Result<String, PageError> {
    let tenant = state.muster.default_tenant();
    let integration = state.muster.find_integration(tenant, id).await?;
    let runs = state
        .muster
        .list_sync_runs(tenant, Some(integration.id.as_str()), 1)
        .await?;
    let active = runs.iter().any(is_active);
    Ok(state.pages.render(
        "integration_row.html",
        context! { integration => IntegrationView::new(&integration, active) },
    )?)
}

pub(crate) async fn edit_form(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
) -> Result<Response, PageError> {
    let integration = state.muster.find_integration(state.muster.default_tenant(), &id).await?;
    let values = FormValues::existing(&integration);
    render_form(&state, StatusCode::OK, Some(&integration), values, BTreeMap::new())
}

pub(crate) async fn update(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
    form: Result<Form<IntegrationForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form?;
    let tenant = state.muster.default_tenant();
    let integration = state.muster.find_integration(tenant, &id).await?;
    let mut errors = ValidationErrors::default();
    let update = form.to_update(&integration, &mut errors);
    if !errors.is_empty() {
        return form_errors(&state, StatusCode::BAD_REQUEST, Some(&integration), &form, &errors);
    }

    let updated = match state.muster.update_integration(tenant, integration.id.as_str(), update).await {
        Ok(updated) => updated,
        Err(error) => return form_service_error(&state, Some(&integration), &form, error),
    };
    if integration.app == muster_domain::App::Scim {
        let (base_url, credentials) = form.scim_update(&integration);
        if base_url.is_some() || credentials.is_some() {
            if let Err(error) = state
                .muster
                .update_scim_connection(tenant, integration.id.as_str(), base_url, credentials)
                .await
            {
                return form_service_error(&state, Some(&updated), &form, error);
            }
        }
    }
    Ok(see_other(&paths::integration_page(updated.id.as_str())))
}

pub(crate) async fn remove_form(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
) -> Result<Response, PageError> {
    let integration = state.muster.find_integration(state.muster.default_tenant(), &id).await?;
    page(
        &state.pages,
        "remove.html",
        context! { nav => "integrations", integration => IntegrationView::new(&integration, false) },
    )
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
) -> Result<Response, PageError> {
    state
        .muster
        .remove_integration(state.muster.default_tenant(), &id)
        .await?;
    Ok(see_other("/integrations"))
}

/// Shows the form again with the service's validation errors or name conflict.
fn form_service_error(
    state: &AppState,
    integration: Option<&Integration>,
    form: &IntegrationForm,
    error: ServiceError,
) -> Result<Response, PageError> {
    match error {
        ServiceError::Validation(errors) => form_errors(state, StatusCode::BAD_REQUEST, integration, form, &errors),
        ServiceError::Conflict { field, message } => {
            let mut errors = ValidationErrors::default();
            errors.push(field, message);
            form_errors(state, StatusCode::CONFLICT, integration, form, &errors)
        }
        other => Err(other.into()),
    }
}

fn form_errors(
    state: &AppState,
    status: StatusCode,
    integration: Option<&Integration>,
    form: &IntegrationForm,
    errors: &ValidationErrors,
) -> Result<Response, PageError> {
    let values = form.values();
    let by_field = field_errors(errors, values.auth_method());
    render_form(state, status, integration, values, by_field)
}

/// Renders the Add form (no `integration`) or the Edit form of `integration`.
fn render_form(
    state: &AppState,
    status: StatusCode,
    integration: Option<&Integration>,
    values: FormValues,
    errors: BTreeMap<String, String>,
) -> Result<Response, PageError> {
    let (action, view) = match integration {
        Some(integration) => (
            format!("{}/edit", paths::integration_page(integration.id.as_str())),
            Some(IntegrationView::new(integration, false)),
        ),
        None => ("/integrations".to_string(), None),
    };
    let error_list = error_summary(&errors);
    let html = state.pages.render(
        "integration_form.html",
        context! { nav => "integrations", action, integration => view, values, errors, error_list },
    )?;
    Ok((status, Html(html)).into_response())
}
