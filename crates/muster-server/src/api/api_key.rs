//! Authentication of the bulk API by API key: the `X-Api-Key-ID` and `X-Api-Key-Secret`
//! headers, checked on every request of a handler that takes [`ApiKeyAuth`]. The key's
//! tenant scopes everything the handler does.
//!
//! The secret is never logged. The service logs each use with the key id only, and an id
//! that does not have the shape of a key id is rejected here before it reaches any log,
//! in case a client swapped the two headers.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use muster_service::{ApiKey, ApiKeyRejection};
use utoipa::openapi::security::{ApiKey as ApiKeyScheme, ApiKeyValue, SecurityScheme};

pub(crate) const API_KEY_ID: HeaderName = HeaderName::from_static("x-api-key-id");
pub(crate) const API_KEY_SECRET: HeaderName = HeaderName::from_static("x-api-key-secret");

/// Names of the two security schemes in the OpenAPI document; an operation needs both.
/// The `security(...)` attributes of the bulk routes repeat them as literals.
const KEY_ID_SCHEME: &str = "api_key_id";
const KEY_SECRET_SCHEME: &str = "api_key_secret";

/// Sent with every 401, as HTTP requires.
const CHALLENGE: &str =
    "ApiKey realm=\"Muster bulk API\", headers=\"X-Api-Key-ID X-Api-Key-Secret\"";

/// Prefix of every key id; a ULID of 26 characters follows it.
const KEY_ID_PREFIX: &str = "mk_";
const ULID_LENGTH: usize = 26;

/// A request authenticated by a valid, unrevoked, unexpired API key.
pub(crate) struct ApiKeyAuth(pub ApiKey);

impl FromRequestParts<AppState> for ApiKeyAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let id = header_text(parts, &API_KEY_ID);
        let secret = header_text(parts, &API_KEY_SECRET);
        let (Some(id), Some(secret)) = (id, secret) else {
            return Err(unauthorized(
                "api_key.missing",
                "this route needs an API key: send its id in `X-Api-Key-ID` and its secret in `X-Api-Key-Secret`",
            ));
        };
        if !looks_like_key_id(&id) {
            return Err(unauthorized_for(ApiKeyRejection::Invalid));
        }

        match state.muster.authenticate_api_key(&id, &secret).await {
            Ok(Ok(key)) => Ok(ApiKeyAuth(key)),
            Ok(Err(rejection)) => Err(unauthorized_for(rejection)),
            Err(error) => Err(ApiError::from(error).into_response()),
        }
    }
}

/// Returns the trimmed text of a header, or `None` when it is absent, empty or not
/// visible ASCII.
fn header_text(parts: &Parts, name: &HeaderName) -> Option<String> {
    let value = parts.headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_string())
}

fn looks_like_key_id(id: &str) -> bool {
    id.strip_prefix(KEY_ID_PREFIX).is_some_and(|ulid| {
        ulid.len() == ULID_LENGTH && ulid.bytes().all(|byte| byte.is_ascii_alphanumeric())
    })
}

fn unauthorized_for(rejection: ApiKeyRejection) -> Response {
    match rejection {
        ApiKeyRejection::Invalid => unauthorized(
            "api_key.invalid",
            "unknown API key id or wrong secret: check both headers, or create a new key",
        ),
        ApiKeyRejection::Revoked => unauthorized(
            "api_key.revoked",
            "this API key was revoked: create a new key",
        ),
        ApiKeyRejection::Expired => unauthorized(
            "api_key.expired",
            "this API key has expired: create a new key",
        ),
    }
}

fn unauthorized(code: &str, message: &str) -> Response {
    let error = ApiError::new(StatusCode::UNAUTHORIZED, code, message);
    (
        [(WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE))],
        error,
    )
        .into_response()
}

/// Adds the two API-key headers to the OpenAPI document as security schemes.
pub(crate) struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            KEY_ID_SCHEME,
            SecurityScheme::ApiKey(ApiKeyScheme::Header(ApiKeyValue::with_description(
                "X-Api-Key-ID",
                "The id of an API key (`mk_…`), shown by `muster api-key list`",
            ))),
        );
        components.add_security_scheme(
            KEY_SECRET_SCHEME,
            SecurityScheme::ApiKey(ApiKeyScheme::Header(ApiKeyValue::with_description(
                "X-Api-Key-Secret",
                "The key's secret, shown once when the key is created",
            ))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_shape() {
        assert!(looks_like_key_id("mk_01JQ8Z5Y3KX7V2N4R6T8W0B1CD"));
        assert!(!looks_like_key_id("01JQ8Z5Y3KX7V2N4R6T8W0B1CD"));
        assert!(!looks_like_key_id("mk_01JQ8Z5Y3KX7V2N4R6T8W0B1C"));
        assert!(!looks_like_key_id("mk_01JQ8Z5Y3KX7V2N4R6T8W0B1C-"));
        assert!(!looks_like_key_id(
            "wJalrXUtnFEMI_K7MDENG-bPxRfiCYzzabcdefghijk"
        ));
    }
}
