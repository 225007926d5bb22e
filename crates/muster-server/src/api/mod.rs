//! The REST API under `/api/v1`, and its OpenAPI document.
//!
//! Every documented route is registered through [`OpenApiRouter::routes`], which adds the
//! route and its documentation together, so no documented route is missing and no
//! registered one undocumented. The only routes added outside it are the two-segment
//! aliases of the `{id}` routes (`/api/v1/integrations/aws/01J…`), which the `id`
//! parameter's description explains, and the bulk URLs of each object by name
//! (`/api/v1/entities/upload-url`), which [`bulk::add_object_routes`] explains.

mod api_key;
mod bulk;
mod integrations;
mod inventory;
pub(crate) mod model;
mod people;

use crate::AppState;
use api_key::SecuritySchemes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Muster API",
        description = "Identity governance: integrations, their sync runs and the inventory they produce. \
            The bulk routes (uploads, downloads, identities, employees) need an API key in the \
            `X-Api-Key-ID` and `X-Api-Key-Secret` headers and act on the key's tenant; the other routes have \
            no sign-in yet and act on the default tenant. \
            Errors have the body `{\"error\": {\"code\", \"message\", \"fields\"}}` with a stable `code`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "bulk", description = "Bulk API for programs: CSV uploads and downloads through one-time URLs, \
            employees and identities. Authenticated with an API key in `X-Api-Key-ID` and `X-Api-Key-Secret`; \
            the key's tenant scopes every request. Transfer bodies use camelCase field names."),
        (name = "integrations", description = "Connected applications, their credentials and sync requests"),
        (name = "inventory", description = "Entities of current snapshots and the record of sync runs"),
        (name = "server", description = "Health and the API description"),
    )
)]
struct ApiDoc;

fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(integrations::list_integrations, integrations::create_integration))
        .routes(routes!(
            integrations::get_integration,
            integrations::update_integration,
            integrations::delete_integration
        ))
        .routes(routes!(integrations::request_sync))
        .routes(routes!(integrations::test_connection))
        .routes(routes!(integrations::list_integration_sync_runs))
        .routes(routes!(inventory::list_entities))
        .routes(routes!(inventory::get_entity))
        .routes(routes!(inventory::list_sync_runs))
        .routes(routes!(inventory::health))
        .routes(routes!(openapi_json))
        .routes(routes!(bulk::create_upload_url))
        .routes(routes!(bulk::upload_file, bulk::upload_status))
        .routes(routes!(bulk::create_download_url))
        .routes(routes!(bulk::download_status, bulk::download_status_head))
        .routes(routes!(bulk::download_file))
        .routes(routes!(people::list_identities))
        .routes(routes!(people::list_employees))
}

/// Generates the OpenAPI document of the REST API.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    documented_routes().into_openapi()
}

pub(crate) fn router() -> Router<AppState> {
    let (documented, _) = documented_routes().split_for_parts();
    let integration = get(integrations::get_integration)
        .patch(integrations::update_integration)
        .delete(integrations::delete_integration);
    let documented = bulk::add_object_routes(documented);
    documented
        .route("/api/v1/integrations/{id}/{key}", integration)
        .route("/api/v1/integrations/{id}/{key}/sync", post(integrations::request_sync))
        .route("/api/v1/integrations/{id}/{key}/test-connection", post(integrations::test_connection))
        .route(
            "/api/v1/integrations/{id}/{key}/sync-runs",
            get(integrations::list_integration_sync_runs),
        )
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "server",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object))
)]
async fn openapi_json(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(state.openapi.as_ref().clone())
}
