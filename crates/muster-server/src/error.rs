//! The one error type at the HTTP edge.
//!
//! Service errors map to status codes and a JSON body with a stable code. Internal causes
//! (storage, settings) are logged inside the request span, which carries the request id,
//! and the response contains only "internal error, request id X". [`crate::layers`] writes
//! that body because the request id is known there.

use crate::layers::MAX_BODY_BYTES;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use muster_domain::ValidationErrors;
use muster_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error response: `{"error": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// Description of a failure, in a form a program can act on.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `integration.not_found`, `request.invalid`.
    #[schema(example = "integration.not_found")]
    pub code: String,
    pub message: String,
    /// The invalid fields, for validation errors and conflicts; otherwise empty.
    pub fields: Vec<FieldErrorBody>,
}

/// One invalid field of a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// The field's name in the request, e.g. `primary_owner` or `credentials.role_arn`.
    pub field: String,
    pub message: String,
}

/// Marks a response whose body [`crate::layers`] replaces with the request id, so that the
/// client can quote it and an operator can find the logged cause.
#[derive(Clone, Debug)]
pub(crate) struct InternalError {
    pub code: String,
}

/// Failure of an API request, with its status code.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    fields: Vec<FieldErrorBody>,
    /// The cause of a 500, for the log only.
    internal_cause: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            fields: Vec::new(),
            internal_cause: None,
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Builds the 413 for a body larger than [`MAX_BODY_BYTES`].
    pub fn body_too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request.too_large",
            format!(
                "the request body is larger than the limit of {} MiB ({MAX_BODY_BYTES} bytes); send a smaller body",
                MAX_BODY_BYTES / (1024 * 1024)
            ),
        )
    }

    /// Builds a 400 naming one invalid field, e.g. a query parameter.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut error = ApiError::bad_request("request.invalid", format!("`{field}` is invalid: {message}"));
        error.fields.push(FieldErrorBody {
            field: field.to_string(),
            message,
        });
        error
    }

    pub fn with_field(mut self, field: &str, message: impl Into<String>) -> Self {
        self.fields.push(FieldErrorBody {
            field: field.to_string(),
            message: message.into(),
        });
        self
    }

    pub fn internal(code: &str, cause: impl std::fmt::Display) -> Self {
        let mut error = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, "internal error");
        error.internal_cause = Some(cause.to_string());
        error
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let code = error.code();
        match error {
            ServiceError::Validation(errors) => validation_error(&code, errors),
            ServiceError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, &code, error.to_string()),
            ServiceError::Conflict { field, message } => {
                ApiError::new(StatusCode::CONFLICT, &code, message.clone()).with_field(field, message)
            }
            ServiceError::NotSynced { message } => ApiError::new(StatusCode::CONFLICT, &code, message),
            // The connected system failed, not Muster: the message names the cause.
            ServiceError::Connector { message, .. } => ApiError::new(StatusCode::BAD_GATEWAY, &code, message),
            ServiceError::Settings(_) | ServiceError::Store(_) | ServiceError::Analysis { .. } | ServiceError::Export { .. } => {
                ApiError::internal(&code, error)
            }
        }
    }
}

fn validation_error(code: &str, errors: ValidationErrors) -> ApiError {
    let count = errors.errors.len();
    let message = if count == 1 {
        "1 field is invalid".to_string()
    } else {
        format!("{count} fields are invalid")
    };
    let mut error = ApiError::bad_request(code, message);
    error.fields = errors
        .errors
        .into_iter()
        .map(|field| FieldErrorBody {
            field: field.field,
            message: field.message,
        })
        .collect();
    error
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.internal_cause {
            tracing::error!(code = %self.code, error = %cause, "request failed");
            let mut response = self.status.into_response();
            response.extensions_mut().insert(InternalError { code: self.code });
            return response;
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                fields: self.fields,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
