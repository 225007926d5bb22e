//! The bulk API: programs move whole CSV files in and out of Muster with an API key.
//!
//! Uploads take two steps. `POST /api/v1/{object}/upload-url` returns a one-time URL, and
//! the client `PUT`s the file there. The URL's token is the credential of that step, like
//! a presigned URL, so the `PUT` needs no key. Downloads are prepared in the background:
//! `POST /api/v1/{object}/download-url` returns a polling URL, which answers 404 until the
//! file is ready, and the URL of the file. Every transfer belongs to the tenant of the key
//! that created it, and its URLs expire after [`URL_LIFETIME`].
//!
//! The URLs in responses are paths (`/api/v1/uploads/…`), relative to the address the
//! client used: behind a proxy the server cannot know the scheme and host the client sees.

mod download;
mod upload;

// Glob imports, because `utoipa_axum::routes!` also needs the `__path_*` items that
// `#[utoipa::path]` generates next to each handler.
pub(crate) use download::*;
pub(crate) use upload::*;

use crate::error::ApiError;
use crate::extract::parse_json;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use muster_domain::{Integration, TenantId};
use muster_service::{ImportKind, Muster, ServiceError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

/// How long the URLs of a transfer stay usable.
const URL_LIFETIME: Duration = Duration::hours(1);

/// How long an expired transfer is kept (with its outcome, or its prepared file) before
/// the next new transfer deletes it.
const KEEP_EXPIRED: Duration = Duration::days(1);

/// The objects of upload and download URLs. `aws-authorization-details` can only be
/// uploaded.
const OBJECTS: [&str; 7] = [
    "entities",
    "entity-relations",
    "entitlements",
    "employees",
    "identity-mappings",
    "business-owners",
    "aws-authorization-details",
];

/// Registers `/api/v1/<object>/upload-url` and `…/download-url` for each object by name.
///
/// The documented `/api/v1/{object}/…` routes alone do not reach every object: the router
/// matches `/api/v1/entities/upload-url` to the route `/api/v1/entities/{id}` first, which
/// has no POST. Static routes win over both.
pub(crate) fn add_object_routes(router: Router<AppState>) -> Router<AppState> {
    OBJECTS.iter().fold(router, |router, object| {
        router
            .route(
                &format!("/api/v1/{object}/upload-url"),
                post(create_upload_url),
            )
            .route(
                &format!("/api/v1/{object}/download-url"),
                post(create_download_url),
            )
    })
}

/// The `{object}` segment of `/api/v1/{object}/…`, read from the URI so that the same
/// handler serves the documented route and the static ones.
pub(crate) struct ObjectSegment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ObjectSegment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .uri
            .path()
            .strip_prefix("/api/v1/")
            .and_then(|rest| rest.split('/').next())
            .map(|object| ObjectSegment(object.to_string()))
            .ok_or_else(|| {
                ApiError::bad_request("request.invalid_path", "the path names no object")
            })
    }
}

fn unknown_object(object: &str, known: &[&str]) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "bulk.unknown_object",
        format!(
            "unknown object `{object}`: expected one of {}",
            known.join(", ")
        ),
    )
}

/// A JSON body that may be left out: no body (or only whitespace) means `T::default()`.
pub(crate) struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                value
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::body_too_large()
                } else {
                    ApiError::bad_request("request.unreadable_body", rejection.body_text())
                }
            })?;

        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if content_type.as_deref() != Some("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request.unsupported_media_type",
                "the body must be JSON: send it with `Content-Type: application/json`, or send no body",
            ));
        }
        parse_json(&body).map(OptionalJson)
    }
}

/// Finds the integration a request names, checking that the format needs one.
async fn resolve_integration(
    muster: &Muster,
    tenant: &TenantId,
    kind: ImportKind,
    integration: Option<&str>,
) -> Result<Option<Integration>, ApiError> {
    let integration = integration.map(str::trim).filter(|value| !value.is_empty());
    match (kind.needs_integration(), integration) {
        (true, None) => Err(ApiError::invalid_field(
            "integration",
            format!(
                "the {} format belongs to one integration: give its name or id",
                kind.as_str()
            ),
        )),
        (false, Some(_)) => Err(ApiError::invalid_field(
            "integration",
            format!(
                "the {} format belongs to the whole tenant: leave out `integration`",
                kind.as_str()
            ),
        )),
        (true, Some(reference)) => Ok(Some(muster.find_integration(tenant, reference).await?)),
        (false, None) => Ok(None),
    }
}

/// Deletes transfers that expired long ago and returns the expiry of a transfer created now.
async fn new_transfer_expiry(muster: &Muster) -> String {
    let now = OffsetDateTime::now_utc();
    let cutoff = muster_domain::format_timestamp(now - KEEP_EXPIRED);
    match muster.store().delete_expired_bulk_transfers(&cutoff).await {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "expired bulk transfers deleted"),
        Err(error) => {
            tracing::warn!(%error, "deleting expired bulk transfers failed; the next new transfer retries it")
        }
    }
    muster_domain::format_timestamp(now + URL_LIFETIME)
}

/// Records a new upload or download of the format `kind` for the presenting key, with a
/// fresh expiry.
async fn create_transfer(
    muster: &Muster,
    key: &muster_service::ApiKey,
    direction: &str,
    kind: &str,
    integration: Option<&Integration>,
) -> Result<muster_service::NewBulkTransfer, ApiError> {
    let expires_at = new_transfer_expiry(muster).await;
    let created = muster
        .store()
        .create_bulk_transfer(
            &key.tenant_id,
            &key.id,
            direction,
            kind,
            integration.map(|integration| &integration.id),
            &expires_at,
        )
        .await
        .map_err(ServiceError::from)?;
    Ok(created)
}

fn is_expired(expires_at: &str) -> bool {
    expires_at <= muster_domain::format_timestamp(OffsetDateTime::now_utc()).as_str()
}

/// The token of a one-time or download URL.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TokenQuery {
    /// The token the URL was issued with.
    token: String,
}

/// An error of a transfer that failed for a reason other than the file's content.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct TransferError {
    /// Stable machine-readable code, e.g. `integration.not_found` or `export.failed`.
    pub code: String,
    pub message: String,
}

impl TransferError {
    /// Describes `error` for the transfer's record. An internal cause is logged with the
    /// transfer id, and the record only points to the log.
    fn from_service_error(error: &ServiceError, transfer_id: &str) -> TransferError {
        let internal = matches!(
            error,
            ServiceError::Settings(_) | ServiceError::Store(_) | ServiceError::Analysis { .. }
        );
        let message = if internal {
            tracing::error!(transfer_id, %error, "bulk transfer failed");
            format!("internal error while processing transfer {transfer_id}; the server log has the cause")
        } else {
            error.to_string()
        };
        TransferError {
            code: error.code(),
            message,
        }
    }

    fn to_outcome(&self) -> serde_json::Value {
        serde_json::json!({"error": {"code": self.code, "message": self.message}})
    }

    fn from_outcome(outcome: Option<&serde_json::Value>) -> Option<TransferError> {
        outcome
            .and_then(|outcome| outcome.get("error"))
            .and_then(|error| serde_json::from_value(error.clone()).ok())
    }
}
