//! Integration endpoints: create, read, change, remove, and request a sync.

use super::model::{Integration, IntegrationChanges, NewIntegration, RunLimitQuery, SyncRun};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, IntegrationRef};
use crate::AppState;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
/// Default and fallback number of runs a listing returns.
pub(crate) const DEFAULT_RUN_LIMIT: u32 = 50;

#[utoipa::path(
    get,
    path = "/api/v1/integrations",
    tag = "integrations",
    responses(
        (status = 200, description = "Every integration, ordered by name", body = [Integration]),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
pub(crate) async fn list_integrations(State(state): State<AppState>) -> Result<Json<Vec<Integration>>, ApiError> {
    let integrations = state.muster.list_integrations(state.muster.default_tenant()).await?;
    Ok(Json(integrations.into_iter().map(Integration::from).collect()))
}

#[utoipa::path(
    post,
    path = "/api/v1/integrations",
    tag = "integrations",
    request_body = NewIntegration,
    responses(
        (status = 201, description = "The new integration, in status `Pending`", body = Integration,
            headers(("location" = String, description = "Path of the new integration"))),
        (status = 400, description = "Invalid fields (listed in `fields`) or malformed JSON", body = ErrorBody),
        (status = 403, description = "A browser sent the request from another site (`request.cross_site`)", body = ErrorBody),
        (status = 409, description = "An integration with this name exists (a field error on `name`)", body = ErrorBody),
        (status = 413, description = "The body is larger than 2 MiB (`request.too_large`)", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
    )
)]
pub(crate) async fn create_integration(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewIntegration>,
) -> Result<Response, ApiError> {
    let tenant = state.muster.default_tenant();
    let integration = match input.into_parts() {
        (draft, Some(_)) if draft.app != domain_app_scim() => {
            return Err(muster_service::ServiceError::validation(
                "scim",
                format!("a `scim` object goes only with app `scim`, not `{}`", draft.app.as_str()),
            )
            .into());
        }
        (draft, Some(connection)) => state.muster.add_scim_integration(tenant, draft, connection).await?,
        (draft, None) => state.muster.add_integration(tenant, draft).await?,
    };
    let location = HeaderValue::from_str(&crate::paths::api_integration(integration.id.as_str()))
        .map_err(|error| ApiError::internal("response.invalid_header", error))?;
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(Integration::from(integration))).into_response())
}

/// Checks that Muster reaches a SCIM integration's server.
#[utoipa::path(
    post,
    path = "/api/v1/integrations/{id}/test-connection",
    tag = "integrations",
    params(IntegrationPath),
    responses(
        (status = 200, description = "What the server's /ServiceProviderConfig reports", body = Object),
        (status = 404, description = "No integration has this id or name", body = ErrorBody),
        (status = 403, description = "A browser sent the request from another site (`request.cross_site`)", body = ErrorBody),
        (status = 409, description = "Not a SCIM integration", body = ErrorBody),
        (status = 502, description = "The SCIM server refused or failed; the message names the cause", body = ErrorBody),
    )
)]
pub(crate) async fn test_connection(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
) -> Result<Response, ApiError> {
    let summary = state
        .muster
        .test_scim_connection(state.muster.default_tenant(), &id)
        .await?;
    Ok(Json(summary).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/integrations/{id}",
    tag = "integrations",
    params(IntegrationPath),
    responses(
        (status = 200, description = "The integration", body = Integration),
        (status = 404, description = "No integration has this id or name", body = ErrorBody),
    )
)]
pub(crate) async fn get_integration(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
) -> Result<Json<Integration>, ApiError> {
    let integration = state.muster.find_integration(state.muster.default_tenant(), &id).await?;
    Ok(Json(integration.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/integrations/{id}",
    tag = "integrations",
    params(IntegrationPath),
    request_body = IntegrationChanges,
    responses(
        (status = 200, description = "The changed integration", body = Integration),
        (status = 400, description = "Invalid fields or malformed JSON", body = ErrorBody),
        (status = 403, description = "A browser sent the request from another site (`request.cross_site`)", body = ErrorBody),
        (status = 404, description = "No integration has this id or name", body = ErrorBody),
        (status = 409, description = "Another integration has this name", body = ErrorBody),
        (status = 413, description = "The body is larger than 2 MiB (`request.too_large`)", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
    )
)]
pub(crate) async fn update_integration(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
    ApiJson(mut changes): ApiJson<IntegrationChanges>,
) -> Result<Json<Integration>, ApiError> {
    let tenant = state.muster.default_tenant();
    let scim = changes.scim.take();
    let mut integration = state.muster.update_integration(tenant, &id, changes.into()).await?;
    if let Some(scim) = scim {
        let (base_url, credentials) = scim.into_parts();
        integration = state
            .muster
            .update_scim_connection(tenant, integration.id.as_str(), base_url, credentials)
            .await?;
    }
    Ok(Json(integration.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/integrations/{id}",
    tag = "integrations",
    params(IntegrationPath),
    responses(
        (status = 204, description = "Removed, with its snapshots and sync runs"),
        (status = 403, description = "A browser sent the request from another site (`request.cross_site`)", body = ErrorBody),
        (status = 404, description = "No integration has this id or name", body = ErrorBody),
    )
)]
pub(crate) async fn delete_integration(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
) -> Result<StatusCode, ApiError> {
    state.muster.remove_integration(state.muster.default_tenant(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/integrations/{id}/sync",
    tag = "integrations",
    params(IntegrationPath),
    responses(
        (status = 202, description = "The queued run, or the run already queued or running for this integration. \
            A background worker executes it; poll the integration or its sync runs.", body = SyncRun),
        (status = 403, description = "A browser sent the request from another site (`request.cross_site`)", body = ErrorBody),
        (status = 404, description = "No integration has this id or name", body = ErrorBody),
    )
)]
pub(crate) async fn request_sync(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
) -> Result<(StatusCode, Json<SyncRun>), ApiError> {
    let run = state.muster.request_sync(state.muster.default_tenant(), &id, "api").await?;
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/integrations/{id}/sync-runs",
    tag = "integrations",
    params(IntegrationPath, RunLimitQuery),
    responses(
        (status = 200, description = "The integration's sync runs, newest first", body = [SyncRun]),
        (status = 400, description = "Invalid query parameter", body = ErrorBody),
        (status = 404, description = "No integration has this id or name", body = ErrorBody),
    )
)]
pub(crate) async fn list_integration_sync_runs(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
    ApiQuery(query): ApiQuery<RunLimitQuery>,
) -> Result<Json<Vec<SyncRun>>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_RUN_LIMIT);
    let runs = state
        .muster
        .list_sync_runs(state.muster.default_tenant(), Some(&id), limit)
        .await?;
    Ok(Json(runs.into_iter().map(SyncRun::from).collect()))
}

/// The `{id}` path parameter, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(dead_code, reason = "never built: it only describes the path parameter to utoipa")]
pub(crate) struct IntegrationPath {
    /// Integration id or name. An id contains a slash: send it percent-encoded
    /// (`aws%2F01J…`) or as two path segments (`/api/v1/integrations/aws/01J…`).
    #[param(example = "aws%2F01JQ8Z5Y3KX7V2N4R6T8W0B1CD")]
    id: String,
}

fn domain_app_scim() -> muster_domain::App {
    muster_domain::App::Scim
}
