//! Downloads of the bulk API. The export runs in a background task and stores the CSV
//! with the transfer. The polling URL reports when it is ready, and the file URL serves
//! it as often as needed until the URLs expire.
//!
//! The polling URL answers `HEAD` and `GET` alike: 404 while the file is being prepared,
//! 200 when it is ready, 500 when the export failed (the `GET` body says why) and 410 once
//! the URLs have expired. A poller that only sends `HEAD` therefore stops on failure too.

use super::{
    create_transfer, is_expired, resolve_integration, unknown_object, ObjectSegment, OptionalJson,
    TokenQuery, TransferError,
};
use crate::api::api_key::ApiKeyAuth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use muster_csv::{CsvKind, ExportMode};
use muster_service::{BulkTransfer, ImportKind, Muster, ServiceError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Seconds a poller should wait before asking again while the file is prepared.
const RETRY_AFTER_SECONDS: &str = "1";

/// The data to download. The body may be left out for the objects of the whole tenant.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct DownloadUrlRequest {
    /// Name or id of the integration whose current snapshot to export. Required for
    /// `entities`, `entity-relations` and `entitlements`; must be left out for the others.
    #[schema(example = "HR accounts")]
    integration: Option<String>,
    /// `raw` (the default) writes values unchanged, so the file imports back unchanged.
    /// `safe` prefixes cells that start with `=`, `+`, `-`, `@`, tab or carriage return
    /// with `'`, so that spreadsheet programs do not run them as formulas.
    #[serde(default)]
    mode: DownloadMode,
}

/// The cell format of a download, see [`DownloadUrlRequest::mode`].
#[derive(Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DownloadMode {
    #[default]
    Raw,
    Safe,
}

/// The URLs of a download being prepared.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DownloadUrl {
    #[schema(example = "01JQ8Z5Y3KX7V2N4R6T8W0B1CD")]
    id: String,
    /// Path of the CSV, relative to the server's address; 404 until the file is ready.
    #[schema(example = "/api/v1/downloads/01JQ8Z5Y3KX7V2N4R6T8W0B1CD/file?token=9Qx…")]
    url: String,
    /// Path to poll with `HEAD` or `GET`: 404 until the file is ready, then 200.
    #[schema(example = "/api/v1/downloads/01JQ8Z5Y3KX7V2N4R6T8W0B1CD?token=9Qx…")]
    polling_url: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

/// A download that is ready.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DownloadStatus {
    id: String,
    /// The format, e.g. `entities`.
    object: String,
    integration_id: Option<String>,
    /// Always `ready`: the other states are error responses.
    state: String,
    /// Data rows in the file, not counting the header.
    rows: u64,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

/// The objects a download offers, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[expect(
    dead_code,
    reason = "never built: it only lists the path values to utoipa"
)]
pub(crate) enum DownloadObject {
    Entities,
    EntityRelations,
    Entitlements,
    Employees,
    IdentityMappings,
    BusinessOwners,
}

#[utoipa::path(
    post,
    path = "/api/v1/{object}/download-url",
    tag = "bulk",
    params(("object" = DownloadObject, Path, description = "The format of the file")),
    request_body(content = DownloadUrlRequest, description = "Which integration to export and how; \
        may be left out for `employees`, `identity-mappings` and `business-owners`"),
    security(("api_key_id" = [], "api_key_secret" = [])),
    responses(
        (status = 201, description = "The export has started; poll `pollingUrl`, then fetch `url`. Both expire in an hour.", body = DownloadUrl),
        (status = 400, description = "`integration` missing for a format of an integration, or given for a format of the tenant", body = ErrorBody),
        (status = 401, description = "API key missing, invalid, revoked or expired (`api_key.*`)", body = ErrorBody),
        (status = 404, description = "Unknown object (`bulk.unknown_object`) or no integration of the key's tenant has this name or id", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
    )
)]
pub(crate) async fn create_download_url(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    ObjectSegment(object): ObjectSegment,
    OptionalJson(request): OptionalJson<DownloadUrlRequest>,
) -> Result<(StatusCode, Json<DownloadUrl>), ApiError> {
    let kind = download_kind(&object)?;
    let integration = resolve_integration(
        &state.muster,
        &key.tenant_id,
        ImportKind::Csv(kind),
        request.integration.as_deref(),
    )
    .await?;

    let created = create_transfer(
        &state.muster,
        &key,
        "download",
        kind.as_str(),
        integration.as_ref(),
    )
    .await?;
    let transfer = created.transfer;
    tracing::info!(transfer_id = %transfer.id, api_key_id = %key.id, object = kind.as_str(), "download requested");

    let mode = match request.mode {
        DownloadMode::Raw => ExportMode::Raw,
        DownloadMode::Safe => ExportMode::Safe,
    };
    tokio::spawn(prepare_download(
        state.muster.clone(),
        transfer.clone(),
        kind,
        mode,
    ));

    let polling_url = format!("/api/v1/downloads/{}?token={}", transfer.id, created.token);
    let url = format!(
        "/api/v1/downloads/{}/file?token={}",
        transfer.id, created.token
    );
    let body = DownloadUrl {
        id: transfer.id,
        url,
        polling_url,
        expires_at: transfer.expires_at,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

fn download_kind(object: &str) -> Result<CsvKind, ApiError> {
    let known: Vec<&str> = CsvKind::ALL.iter().map(|kind| kind.as_str()).collect();
    CsvKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == object)
        .ok_or_else(|| unknown_object(object, &known))
}

/// Runs the export and stores the file, or why it failed, with the transfer.
async fn prepare_download(muster: Muster, transfer: BulkTransfer, kind: CsvKind, mode: ExportMode) {
    let integration = transfer
        .integration_id
        .as_ref()
        .map(|id| id.as_str().to_string());
    let mut csv = Vec::new();
    let exported = muster
        .export(
            &transfer.tenant_id,
            kind,
            integration.as_deref(),
            mode,
            &mut csv,
        )
        .await
        .and_then(|summary| {
            String::from_utf8(csv)
                .map(|text| (summary, text))
                .map_err(|error| ServiceError::Export {
                    message: format!("the export is not UTF-8: {error}"),
                })
        });

    let stored = match &exported {
        Ok((summary, text)) => {
            let outcome = serde_json::json!({"rows": summary.rows});
            muster
                .store()
                .finish_bulk_transfer(&transfer.id, "ready", &outcome, Some(text))
                .await
        }
        Err(error) => {
            let outcome = TransferError::from_service_error(error, &transfer.id).to_outcome();
            muster
                .store()
                .finish_bulk_transfer(&transfer.id, "failed", &outcome, None)
                .await
        }
    };
    match (stored, exported) {
        (Err(error), _) => {
            tracing::error!(transfer_id = %transfer.id, %error, "cannot store the prepared download")
        }
        (Ok(()), Ok((summary, _))) => {
            tracing::info!(transfer_id = %transfer.id, rows = summary.rows, "download ready")
        }
        (Ok(()), Err(error)) => {
            tracing::warn!(transfer_id = %transfer.id, %error, "download failed")
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/downloads/{id}",
    tag = "bulk",
    params(("id" = String, Path, description = "The transfer id returned with its URLs"), TokenQuery),
    responses(
        (status = 200, description = "The file is ready at `url`", body = DownloadStatus),
        (status = 404, description = "Not ready yet (`download.not_ready`, with `Retry-After`), or unknown download or wrong token (`download.not_found`)", body = ErrorBody),
        (status = 410, description = "The download's URLs expired (`download.expired`)", body = ErrorBody),
        (status = 500, description = "The export failed (`export.failed`); the message gives the cause", body = ErrorBody),
    )
)]
pub(crate) async fn download_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<Json<DownloadStatus>, Response> {
    let transfer = ready_download(&state.muster, &id, &query.token).await?;
    let rows = transfer
        .outcome
        .as_ref()
        .and_then(|outcome| outcome.get("rows"))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    Ok(Json(DownloadStatus {
        id: transfer.id,
        object: transfer.kind,
        integration_id: transfer.integration_id.map(|id| id.to_string()),
        state: transfer.state,
        rows,
        created_at: transfer.created_at,
        expires_at: transfer.expires_at,
    }))
}

#[utoipa::path(
    head,
    path = "/api/v1/downloads/{id}",
    tag = "bulk",
    params(("id" = String, Path, description = "The transfer id returned with its URLs"), TokenQuery),
    responses(
        (status = 200, description = "The file is ready at `url`"),
        (status = 404, description = "Not ready yet (with `Retry-After`), or unknown download or wrong token"),
        (status = 410, description = "The download's URLs expired"),
        (status = 500, description = "The export failed; `GET` on this URL returns the cause"),
    )
)]
pub(crate) async fn download_status_head(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<StatusCode, Response> {
    ready_download(&state.muster, &id, &query.token).await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(
    get,
    path = "/api/v1/downloads/{id}/file",
    tag = "bulk",
    params(("id" = String, Path, description = "The transfer id returned with its URLs"), TokenQuery),
    responses(
        (status = 200, description = "The CSV: UTF-8 without BOM, CRLF line ends, the canonical header", content_type = "text/csv", body = String,
            headers(("content-disposition" = String, description = "`attachment; filename=\"<object>.csv\"`"))),
        (status = 404, description = "Not ready yet (`download.not_ready`), or unknown download or wrong token (`download.not_found`)", body = ErrorBody),
        (status = 410, description = "The download's URLs expired (`download.expired`)", body = ErrorBody),
        (status = 500, description = "The export failed (`export.failed`); the message gives the cause", body = ErrorBody),
    )
)]
pub(crate) async fn download_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<Response, Response> {
    let transfer = ready_download(&state.muster, &id, &query.token).await?;
    let content = state
        .muster
        .store()
        .bulk_download_content(&transfer.id)
        .await
        .map_err(|error| ApiError::from(ServiceError::from(error)).into_response())?
        .ok_or_else(|| not_found().into_response())?;
    let disposition = format!("attachment; filename=\"{}.csv\"", transfer.kind);
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        content,
    )
        .into_response())
}

/// Returns the download the URL names when its file is ready, and otherwise the error
/// response for its state.
async fn ready_download(muster: &Muster, id: &str, token: &str) -> Result<BulkTransfer, Response> {
    let transfer = muster
        .store()
        .bulk_transfer_by_token(id, token)
        .await
        .map_err(|error| ApiError::from(ServiceError::from(error)).into_response())?;
    let Some(transfer) = transfer.filter(|transfer| transfer.direction == "download") else {
        return Err(not_found().into_response());
    };
    if is_expired(&transfer.expires_at) {
        return Err(ApiError::new(
            StatusCode::GONE,
            "download.expired",
            "this download has expired: request a new download URL",
        )
        .into_response());
    }

    match transfer.state.as_str() {
        "ready" => Ok(transfer),
        "failed" => {
            let message = TransferError::from_outcome(transfer.outcome.as_ref()).map_or_else(
                || "the export failed".to_string(),
                |error| format!("the export failed: {}", error.message),
            );
            Err(
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "export.failed", message)
                    .into_response(),
            )
        }
        _ => {
            let error = ApiError::new(
                StatusCode::NOT_FOUND,
                "download.not_ready",
                "the file is being prepared: ask again in a moment",
            );
            Err(([(RETRY_AFTER, RETRY_AFTER_SECONDS)], error).into_response())
        }
    }
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "download.not_found",
        "this download URL is not valid: check the id and token, or request a new download URL",
    )
}
