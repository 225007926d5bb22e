//! The web UI: pages rendered on the server from minijinja templates, enhanced with htmx.
//!
//! Templates are compiled into the binary and auto-escaped (every template name ends in
//! `.html`). Every page works without JavaScript; htmx only swaps fragments, polls a
//! running sync and keeps the inventory tabs from reloading the whole page.

mod api_keys;
mod entities;
mod form;
mod integration_type;
mod integrations;
mod inventory;
mod metadata;
mod people;
mod render;
mod scim;
mod uploads;

pub(crate) use render::{ErrorPage, Pages};

use crate::error::ApiError;
use crate::layers::is_api_path;
use crate::AppState;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

pub(crate) fn router() -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(|| async { Redirect::to("/integrations") }))
        .route(
            "/integrations",
            get(integrations::list).post(integrations::create),
        )
        .route("/integrations/new", get(integrations::new_form))
        .route("/entities/{entity}", get(entities::show))
        .route("/integrations/new/type", get(integration_type::choose))
        .route("/employees", get(people::employees))
        .route(
            "/employees/upload",
            post(uploads::upload_people).layer(DefaultBodyLimit::max(uploads::MAX_UPLOAD_BYTES)),
        )
        .route("/employees/export/{file}", get(uploads::export_people))
        .route("/identities", get(people::identities))
        .route("/identities/mapping", post(people::set_mapping))
        .route("/templates/{file}", get(uploads::template))
        .route("/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/api-keys/{id}/revoke", get(api_keys::revoke_form).post(api_keys::revoke));

    // An integration is addressed by its id as two segments (`/integrations/aws/01J…`),
    // which is how the pages link it, or by one segment: its name or its percent-encoded id.
    for base in ["/integrations/{id}", "/integrations/{id}/{key}"] {
        router = router
            .route(base, get(integrations::show))
            .route(
                &format!("{base}/edit"),
                get(integrations::edit_form).post(integrations::update),
            )
            .route(
                &format!("{base}/remove"),
                get(integrations::remove_form).post(integrations::remove),
            )
            .route(&format!("{base}/sync"), post(integrations::sync))
            .route(&format!("{base}/test-connection"), post(scim::test_connection))
            .route(&format!("{base}/sync-panel"), get(integrations::sync_panel))
            .route(&format!("{base}/row"), get(integrations::row))
            .route(
                &format!("{base}/upload"),
                post(uploads::upload_to_integration).layer(DefaultBodyLimit::max(uploads::MAX_UPLOAD_BYTES)),
            )
            .route(&format!("{base}/export/{{file}}"), get(uploads::export_integration));
    }
    router
}

/// Responds to a path no route matches: JSON under `/api`, a page elsewhere.
pub(crate) async fn not_found(request: Request) -> Response {
    let path = request.uri().path();
    if is_api_path(path) {
        ApiError::new(StatusCode::NOT_FOUND, "route.not_found", format!("no API route matches `{path}`"))
            .into_response()
    } else {
        ErrorPage::not_found("This page does not exist.").into_response()
    }
}

/// Responds to a known path requested with a method it does not support.
pub(crate) async fn method_not_allowed(request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path();
    if is_api_path(path) {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "route.method_not_allowed",
            format!("`{path}` does not support {method}"),
        )
        .into_response()
    } else {
        ErrorPage::new(StatusCode::METHOD_NOT_ALLOWED, "Not allowed", "This page does not accept that request.")
            .into_response()
    }
}
