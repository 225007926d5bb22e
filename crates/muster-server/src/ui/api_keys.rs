//! The API keys page: create a key for the bulk API, list keys, revoke one.
//!
//! INVARIANT: a key's secret appears in exactly one response, the one that creates the
//! key, and that response is marked `Cache-Control: no-store`. Listing never has it.

use super::render::{page, PageError};
use crate::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use muster_service::{ApiKey, ServiceError};
use serde::{Deserialize, Serialize};

/// A key as the list shows it: no secret, which is not stored anyway.
#[derive(Serialize)]
struct KeyRow<'a> {
    #[serde(flatten)]
    key: &'a ApiKey,
    state: &'static str,
}

/// The key just created, shown once.
#[derive(Serialize)]
struct CreatedKey<'a> {
    id: &'a str,
    name: &'a str,
    expires_at: Option<&'a str>,
    secret: &'a str,
}

/// The create form. Fields are text so that validation reports every problem.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct CreateForm {
    name: String,
    /// `YYYY-MM-DD`, a number of days such as `90d`, or blank for no expiry.
    expires: String,
}

pub(crate) async fn list(State(state): State<AppState>) -> Result<Response, PageError> {
    let html = render_list(&state, None, &CreateForm::default(), None).await?;
    Ok(Html(html).into_response())
}

/// Renders the page, with the key just created or the create form's error.
async fn render_list(
    state: &AppState,
    created: Option<CreatedKey<'_>>,
    form: &CreateForm,
    error: Option<(&str, String)>,
) -> Result<String, PageError> {
    let keys = state
        .muster
        .list_api_keys(state.muster.default_tenant())
        .await?;
    let now = muster_domain::format_timestamp(time::OffsetDateTime::now_utc());
    let rows: Vec<KeyRow> = keys
        .iter()
        .map(|key| KeyRow {
            key,
            state: key.state(&now),
        })
        .collect();
    let (error_field, error_message) = match error {
        Some((field, message)) => (Some(field), Some(message)),
        None => (None, None),
    };
    Ok(state.pages.render(
        "api_keys.html",
        context! {
            nav => "api-keys",
            keys => rows,
            created,
            values => context! { name => form.name, expires => form.expires },
            error_field,
            error_message,
        },
    )?)
}

/// Creates a key and shows its secret, once.
pub(crate) async fn create(
    State(state): State<AppState>,
    form: Result<Form<CreateForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form?;
    let expires = Some(form.expires.trim()).filter(|value| !value.is_empty());
    let issued = match state
        .muster
        .create_api_key(state.muster.default_tenant(), &form.name, expires)
        .await
    {
        Ok(issued) => issued,
        Err(ServiceError::Validation(errors)) => {
            let field = errors.errors.first().map_or("name", |error| {
                if error.field == "expires" {
                    "expires"
                } else {
                    "name"
                }
            });
            let message = errors
                .errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            let html = render_list(&state, None, &form, Some((field, message))).await?;
            return Ok((StatusCode::BAD_REQUEST, Html(html)).into_response());
        }
        Err(other) => return Err(other.into()),
    };

    let created = CreatedKey {
        id: &issued.key.id,
        name: &issued.key.name,
        expires_at: issued.key.expires_at.as_deref(),
        secret: &issued.secret,
    };
    let html = render_list(&state, Some(created), &CreateForm::default(), None).await?;
    Ok((
        StatusCode::CREATED,
        [(CACHE_CONTROL, "no-store")],
        Html(html),
    )
        .into_response())
}

/// Asks to confirm a revocation.
pub(crate) async fn revoke_form(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let key = find_key(&state, &id).await?;
    page(
        &state.pages,
        "api_key_revoke.html",
        context! { nav => "api-keys", key },
    )
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let key = find_key(&state, &id).await?;
    state
        .muster
        .revoke_api_key(state.muster.default_tenant(), &key.id)
        .await?;
    Ok(Redirect::to("/api-keys").into_response())
}

async fn find_key(state: &AppState, id: &str) -> Result<ApiKey, PageError> {
    let keys = state
        .muster
        .list_api_keys(state.muster.default_tenant())
        .await?;
    keys.into_iter().find(|key| key.id == id).ok_or_else(|| {
        ServiceError::NotFound {
            what: "API key",
            id: id.to_string(),
        }
        .into()
    })
}
