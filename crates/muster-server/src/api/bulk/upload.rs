//! Uploads of the bulk API: the one-time URL, the `PUT` of the file, and its outcome.
//!
//! The body of the `PUT` streams to a temporary file, never whole into memory, and the
//! import reads that file. The URL is used up only when a complete file has arrived: a
//! body that is too large, empty or cut off leaves the URL usable. The import runs in its
//! own task, so a client that disconnects while waiting does not stop it. The outcome is
//! stored with the transfer either way.

use super::{
    create_transfer, is_expired, resolve_integration, unknown_object, ObjectSegment, OptionalJson,
    TransferError, OBJECTS,
};
use crate::api::api_key::ApiKeyAuth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_LENGTH, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use muster_domain::Integration;
use muster_service::{
    BulkTransfer, ImportFiles, ImportKind, ImportOptions, ImportProgress, Muster, ServiceError,
    UploadUrlRejection,
};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

/// Largest file an upload URL takes: 1 GiB.
const MAX_UPLOAD_BYTES: u64 = 1024 * 1024 * 1024;

/// Options of an upload. The body may be left out for the objects of the whole tenant.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UploadUrlRequest {
    /// Name or id of the integration that receives the file. Required for `entities`,
    /// `entity-relations`, `entitlements` and `aws-authorization-details`; must be left
    /// out for the other objects, which belong to the whole tenant.
    #[schema(example = "HR accounts")]
    integration: Option<String>,
    /// Apply the valid rows and report the invalid ones, instead of rejecting the whole
    /// file when any row is invalid. The upload URL carries this choice.
    #[serde(default, alias = "skip_invalid_rows")]
    skip_invalid_rows: bool,
}

/// A one-time upload URL.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UploadUrl {
    #[schema(example = "01JQ8Z5Y3KX7V2N4R6T8W0B1CD")]
    id: String,
    /// Path to `PUT` the file to, once, before `expiresAt`; relative to the server's
    /// address. Its `token` is the credential of the `PUT`, so keep the URL secret.
    #[schema(example = "/api/v1/uploads/01JQ8Z5Y3KX7V2N4R6T8W0B1CD?token=9Qx…")]
    upload_url: String,
    /// Path of the upload's state and report (needs the API key).
    #[schema(example = "/api/v1/uploads/01JQ8Z5Y3KX7V2N4R6T8W0B1CD")]
    status_url: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

/// An upload and, once processed, its report.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UploadStatus {
    id: String,
    /// The format, e.g. `entities`.
    object: String,
    integration_id: Option<String>,
    /// `waiting` (no file yet), `processing`, `accepted` (applied), `rejected` (nothing
    /// applied: see `report.problems`), `failed` (see `error`) or `expired` (the URL
    /// expired unused).
    #[schema(example = "accepted")]
    state: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: String,
    #[schema(format = DateTime)]
    finished_at: Option<String>,
    /// The import report, for `accepted` and `rejected`. It has `applied`, `rows_read`,
    /// `rows_applied`, `rows_skipped`, `blank_lines`, `problem_count` and `warnings`.
    /// `problems` lists the first 1,000 problems, each with `line`, `column`, `value` and
    /// `problem`. `file` describes the encoding, delimiter and ignored columns. `snapshot`
    /// (formats of an integration) or `changes` (formats of the tenant) says what changed.
    #[schema(value_type = Option<Object>)]
    report: Option<serde_json::Value>,
    /// The cause of a `failed` upload.
    error: Option<TransferError>,
}

impl From<BulkTransfer> for UploadStatus {
    fn from(transfer: BulkTransfer) -> Self {
        let expired = transfer.state == "waiting" && is_expired(&transfer.expires_at);
        let error = match transfer.state.as_str() {
            "failed" => TransferError::from_outcome(transfer.outcome.as_ref()),
            _ => None,
        };
        let report = match transfer.state.as_str() {
            "accepted" | "rejected" => transfer.outcome,
            _ => None,
        };
        UploadStatus {
            id: transfer.id,
            object: transfer.kind,
            integration_id: transfer.integration_id.map(|id| id.to_string()),
            state: if expired {
                "expired".to_string()
            } else {
                transfer.state
            },
            created_at: transfer.created_at,
            expires_at: transfer.expires_at,
            finished_at: transfer.finished_at,
            report,
            error,
        }
    }
}

/// The objects an upload accepts, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[expect(
    dead_code,
    reason = "never built: it only lists the path values to utoipa"
)]
pub(crate) enum UploadObject {
    Entities,
    EntityRelations,
    Entitlements,
    Employees,
    IdentityMappings,
    BusinessOwners,
    AwsAuthorizationDetails,
}

#[utoipa::path(
    post,
    path = "/api/v1/{object}/upload-url",
    tag = "bulk",
    params(("object" = UploadObject, Path, description = "The format of the file")),
    request_body(content = Option<UploadUrlRequest>, description = "Which integration receives the file; \
        may be left out for `employees`, `identity-mappings` and `business-owners`"),
    security(("api_key_id" = [], "api_key_secret" = [])),
    responses(
        (status = 201, description = "A one-time upload URL, valid for an hour", body = UploadUrl,
            headers(("location" = String, description = "The status URL"))),
        (status = 400, description = "`integration` missing for a format of an integration, or given for a format of the tenant", body = ErrorBody),
        (status = 401, description = "API key missing (`api_key.missing`), unknown or with a wrong secret (`api_key.invalid`), \
            revoked (`api_key.revoked`) or expired (`api_key.expired`)", body = ErrorBody),
        (status = 404, description = "Unknown object (`bulk.unknown_object`) or no integration of the key's tenant has this name or id", body = ErrorBody),
        (status = 409, description = "The integration reads its data directly and takes no files (`integration.receives_no_files`)", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
    )
)]
pub(crate) async fn create_upload_url(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    ObjectSegment(object): ObjectSegment,
    OptionalJson(request): OptionalJson<UploadUrlRequest>,
) -> Result<Response, ApiError> {
    let kind = upload_kind(&object)?;
    let integration = resolve_integration(
        &state.muster,
        &key.tenant_id,
        kind,
        request.integration.as_deref(),
    )
    .await?;
    if let Some(integration) = &integration {
        check_receives_files(integration, kind)?;
    }

    let created = create_transfer(
        &state.muster,
        &key,
        "upload",
        kind.as_str(),
        integration.as_ref(),
    )
    .await?;
    let transfer = created.transfer;
    tracing::info!(transfer_id = %transfer.id, api_key_id = %key.id, object = kind.as_str(), "upload URL issued");

    let status_url = format!("/api/v1/uploads/{}", transfer.id);
    let mut upload_url = format!("{status_url}?token={}", created.token);
    if request.skip_invalid_rows {
        upload_url.push_str("&skipInvalidRows=true");
    }
    let body = UploadUrl {
        id: transfer.id,
        upload_url,
        status_url: status_url.clone(),
        expires_at: transfer.expires_at,
    };
    Ok((StatusCode::CREATED, [(LOCATION, status_url)], Json(body)).into_response())
}

fn upload_kind(object: &str) -> Result<ImportKind, ApiError> {
    if !OBJECTS.contains(&object) {
        return Err(unknown_object(object, &OBJECTS));
    }
    object
        .parse::<ImportKind>()
        .map_err(|_| unknown_object(object, &OBJECTS))
}

/// Applies the service's rules on which integration takes which files, with the bulk
/// API's own error code.
fn check_receives_files(integration: &Integration, kind: ImportKind) -> Result<(), ApiError> {
    muster_service::imports::check_receives_files(integration, kind).map_err(|error| {
        ApiError::new(
            StatusCode::CONFLICT,
            "integration.receives_no_files",
            error.to_string(),
        )
    })
}

/// The query of an upload URL.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadQuery {
    /// The token the URL was issued with.
    token: String,
    /// Set by `upload-url` when the request asked to skip invalid rows.
    #[serde(default, rename = "skipInvalidRows")]
    skip_invalid_rows: bool,
}

#[utoipa::path(
    put,
    path = "/api/v1/uploads/{id}",
    tag = "bulk",
    params(("id" = String, Path, description = "The transfer id returned with its URLs"), UploadQuery),
    request_body(content = String, content_type = "text/csv",
        description = "The file: CSV in the object's format, or the JSON of `aws iam get-account-authorization-details`. At most 1 GiB."),
    responses(
        (status = 200, description = "The file was applied (`state` is `accepted`)", body = UploadStatus),
        (status = 400, description = "Empty body (`upload.empty`), a body cut off (`upload.interrupted`) or no `token`", body = ErrorBody),
        (status = 404, description = "Unknown upload or wrong token (`upload.not_found`), or the integration was removed since", body = ErrorBody),
        (status = 409, description = "The URL was already used (`upload.used`)", body = ErrorBody),
        (status = 410, description = "The URL expired (`upload.expired`)", body = ErrorBody),
        (status = 413, description = "The body is larger than 1 GiB (`upload.too_large`)", body = ErrorBody),
        (status = 422, description = "The file was rejected and nothing was applied (`state` is `rejected`): \
            `report.problems` lists each problem with its line, column and value", body = UploadStatus),
    )
)]
pub(crate) async fn upload_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_upload_url(&state.muster, &id, &query.token).await?;
    let multipart = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().starts_with("multipart/"));
    if multipart {
        // A form upload would be read as CSV text with its part headers; the URL stays unused.
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "upload.multipart",
            "send the file as the raw request body (e.g. curl -T FILE URL or --data-binary @FILE), not as a multipart form",
        ));
    }
    let declared_length = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > MAX_UPLOAD_BYTES) {
        return Err(too_large());
    }
    let file = receive_file(body).await?;

    let transfer = match state
        .muster
        .store()
        .begin_bulk_upload(&id, &query.token)
        .await
    {
        Ok(Ok(transfer)) => transfer,
        Ok(Err(rejection)) => return Err(upload_url_error(rejection)),
        Err(error) => return Err(ServiceError::from(error).into()),
    };
    let options = ImportOptions {
        skip_invalid_rows: query.skip_invalid_rows,
        trigger: "api".to_string(),
    };
    let muster = state.muster.clone();
    let finished = tokio::spawn(run_import(muster, transfer, file, options))
        .await
        .map_err(|error| ApiError::internal("upload.task_failed", error))??;

    let status = if finished.state == "accepted" {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(UploadStatus::from(finished))).into_response())
}

/// Rejects a PUT early, before its body is read, when the URL cannot take a file.
/// [`muster_service::Store::begin_bulk_upload`] checks again when the file is complete.
async fn check_upload_url(muster: &Muster, id: &str, token: &str) -> Result<(), ApiError> {
    let transfer = muster
        .store()
        .bulk_transfer_by_token(id, token)
        .await
        .map_err(ServiceError::from)?;
    match transfer {
        Some(transfer) if transfer.direction == "upload" => {
            if transfer.state != "waiting" {
                Err(upload_url_error(UploadUrlRejection::Used))
            } else if is_expired(&transfer.expires_at) {
                Err(upload_url_error(UploadUrlRejection::Expired))
            } else {
                Ok(())
            }
        }
        _ => Err(upload_url_error(UploadUrlRejection::Unknown)),
    }
}

fn upload_url_error(rejection: UploadUrlRejection) -> ApiError {
    let (status, code) = match rejection {
        UploadUrlRejection::Unknown => (StatusCode::NOT_FOUND, "upload.not_found"),
        UploadUrlRejection::Used => (StatusCode::CONFLICT, "upload.used"),
        UploadUrlRejection::Expired => (StatusCode::GONE, "upload.expired"),
    };
    ApiError::new(status, code, rejection.to_string())
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload.too_large",
        format!("the file is larger than the limit of 1 GiB ({MAX_UPLOAD_BYTES} bytes): split it, or skip columns Muster does not need"),
    )
}

/// Streams `body` to a new temporary file, which is deleted when dropped.
async fn receive_file(body: Body) -> Result<tempfile::NamedTempFile, ApiError> {
    let file = tempfile::NamedTempFile::new()
        .map_err(|error| ApiError::internal("upload.temp_file", error))?;
    let handle = file
        .as_file()
        .try_clone()
        .map_err(|error| ApiError::internal("upload.temp_file", error))?;
    let mut writer = tokio::io::BufWriter::new(tokio::fs::File::from_std(handle));

    let mut stream = body.into_data_stream();
    let mut size: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            ApiError::bad_request(
                "upload.interrupted",
                format!("the file did not arrive completely: {error}; send it again"),
            )
        })?;
        size += chunk.len() as u64;
        if size > MAX_UPLOAD_BYTES {
            return Err(too_large());
        }
        writer
            .write_all(&chunk)
            .await
            .map_err(|error| ApiError::internal("upload.temp_file", error))?;
    }
    writer
        .flush()
        .await
        .map_err(|error| ApiError::internal("upload.temp_file", error))?;

    if size == 0 {
        return Err(ApiError::bad_request(
            "upload.empty",
            "the body is empty: send the file as the body of the PUT",
        ));
    }
    Ok(file)
}

/// Imports the received file and stores the outcome with the transfer.
async fn run_import(
    muster: Muster,
    transfer: BulkTransfer,
    file: tempfile::NamedTempFile,
    options: ImportOptions,
) -> Result<BulkTransfer, ApiError> {
    let kind = transfer
        .kind
        .parse::<ImportKind>()
        .map_err(|error| ApiError::internal("upload.unknown_kind", error))?;
    let integration = transfer
        .integration_id
        .as_ref()
        .map(|id| id.as_str().to_string());
    let files = ImportFiles {
        main: file.path(),
        credential_report: None,
    };
    let no_progress = |_: ImportProgress| {};
    let imported = muster
        .import(
            &transfer.tenant_id,
            kind,
            integration.as_deref(),
            files,
            &options,
            &no_progress,
        )
        .await;
    drop(file);

    let (state, outcome) = match &imported {
        Ok(report) if report.applied => ("accepted", serde_json::to_value(report)),
        Ok(report) => ("rejected", serde_json::to_value(report)),
        Err(error) => (
            "failed",
            Ok(TransferError::from_service_error(error, &transfer.id).to_outcome()),
        ),
    };
    let outcome = outcome.map_err(|error| ApiError::internal("upload.report", error))?;
    muster
        .store()
        .finish_bulk_transfer(&transfer.id, state, &outcome, None)
        .await
        .map_err(ServiceError::from)?;
    tracing::info!(transfer_id = %transfer.id, object = %transfer.kind, state, "upload processed");

    imported?;
    let finished = muster
        .store()
        .bulk_transfer(&transfer.tenant_id, &transfer.id)
        .await
        .map_err(ServiceError::from)?;
    Ok(finished)
}

#[utoipa::path(
    get,
    path = "/api/v1/uploads/{id}",
    tag = "bulk",
    params(("id" = String, Path, description = "The transfer id returned with its URLs")),
    security(("api_key_id" = [], "api_key_secret" = [])),
    responses(
        (status = 200, description = "The upload's state and, once processed, its report", body = UploadStatus),
        (status = 401, description = "API key missing, invalid, revoked or expired (`api_key.*`)", body = ErrorBody),
        (status = 404, description = "No upload of the key's tenant has this id (`transfer.not_found`)", body = ErrorBody),
    )
)]
pub(crate) async fn upload_status(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(id): Path<String>,
) -> Result<Json<UploadStatus>, ApiError> {
    let transfer = state
        .muster
        .store()
        .bulk_transfer(&key.tenant_id, &id)
        .await
        .map_err(ServiceError::from)?;
    if transfer.direction != "upload" {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "transfer.not_found",
            format!("upload `{id}` not found"),
        ));
    }
    Ok(Json(UploadStatus::from(transfer)))
}
