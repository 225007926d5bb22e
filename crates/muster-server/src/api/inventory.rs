//! Inventory endpoints: entities of current snapshots, and sync runs across integrations.

use super::integrations::DEFAULT_RUN_LIMIT;
use super::model::{EntityDetail, EntityPage, EntityQuery, Health, SyncRun, SyncRunQuery};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use muster_domain::EntityType;
use muster_service::EntityFilter;

#[utoipa::path(
    get,
    path = "/api/v1/entities",
    tag = "inventory",
    params(EntityQuery),
    responses(
        (status = 200, description = "One page of entities of current snapshots, ordered by type, source type and name", body = EntityPage),
        (status = 400, description = "Invalid query parameter", body = ErrorBody),
        (status = 404, description = "The `integration` filter names no integration", body = ErrorBody),
    )
)]
pub(crate) async fn list_entities(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EntityQuery>,
) -> Result<Json<EntityPage>, ApiError> {
    let tenant = state.muster.default_tenant();
    let integration = match non_empty(query.integration) {
        Some(id_or_name) => Some(state.muster.find_integration(tenant, &id_or_name).await?.id),
        None => None,
    };
    let entity_type = match non_empty(query.entity_type) {
        Some(text) => Some(
            text.parse::<EntityType>()
                .map_err(|message| ApiError::invalid_field("type", message))?,
        ),
        None => None,
    };
    let filter = EntityFilter {
        integration,
        entity_type,
        source_type: non_empty(query.source_type),
        search: non_empty(query.search),
        limit: query.limit.unwrap_or(0),
        offset: query.offset.unwrap_or(0),
    };
    let page = state.muster.list_entities(tenant, filter).await?;
    Ok(Json(page.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/entities/{id}",
    tag = "inventory",
    params(("id" = String, Path, description = "Entity id")),
    responses(
        (status = 200, description = "The entity with its relations in both directions and, for an AWS user or role, its policy findings", body = EntityDetail),
        (status = 404, description = "No entity of a current snapshot has this id", body = ErrorBody),
    )
)]
pub(crate) async fn get_entity(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<EntityDetail>, ApiError> {
    let tenant = state.muster.default_tenant();
    let detail = state.muster.entity(tenant, &id).await?;
    let findings = state.muster.entity_findings(tenant, &detail.entity.id).await?;
    Ok(Json(EntityDetail::new(detail, findings)))
}

#[utoipa::path(
    get,
    path = "/api/v1/sync-runs",
    tag = "inventory",
    params(SyncRunQuery),
    responses(
        (status = 200, description = "Sync runs, newest first", body = [SyncRun]),
        (status = 400, description = "Invalid query parameter", body = ErrorBody),
        (status = 404, description = "The `integration` filter names no integration", body = ErrorBody),
    )
)]
pub(crate) async fn list_sync_runs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SyncRunQuery>,
) -> Result<Json<Vec<SyncRun>>, ApiError> {
    let integration = non_empty(query.integration);
    let runs = state
        .muster
        .list_sync_runs(
            state.muster.default_tenant(),
            integration.as_deref(),
            query.limit.unwrap_or(DEFAULT_RUN_LIMIT),
        )
        .await?;
    Ok(Json(runs.into_iter().map(SyncRun::from).collect()))
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "server",
    responses(
        (status = 200, description = "The server and its database respond", body = Health),
        (status = 503, description = "The database does not respond", body = Health),
    )
)]
pub(crate) async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.muster.store().ping().await {
        Ok(()) => (StatusCode::OK, Json(Health { status: "ok".into() })),
        Err(error) => {
            tracing::error!(%error, "health check failed: the database does not respond");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable".into(),
                }),
            )
        }
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.trim().is_empty())
}
