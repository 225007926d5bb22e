//! Request extractors whose rejections are [`ApiError`]s, so a malformed body or query
//! gets the same JSON error shape as every other failure instead of axum's plain text.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// A JSON request body. Deserialization errors name the field that failed, but never
/// repeat a value under `credentials`, since it may be a secret.
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request.unsupported_media_type",
                "the body must be JSON: send it with `Content-Type: application/json`",
            ));
        }
        let body = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::body_too_large()
            } else {
                ApiError::bad_request("request.unreadable_body", rejection.body_text())
            }
        })?;
        parse_json(&body).map(ApiJson)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON body into `T`, turning serde's error into a 400 that names the field.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "request.malformed_json",
            "the request body is empty: send a JSON object",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
    deserializer.end().map_err(|error| {
        ApiError::bad_request("request.malformed_json", format!("the body is not valid JSON: {error}"))
    })?;
    Ok(value)
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if !inner.is_data() {
        return ApiError::bad_request("request.malformed_json", format!("the body is not valid JSON: {inner}"));
    }
    // serde's data errors quote the offending value, e.g. `invalid type: integer `5``.
    let message = if path == "credentials" || path.starts_with("credentials.") {
        "invalid value or type (the value is not repeated because it may be a secret)".to_string()
    } else {
        inner.to_string()
    };
    if path == "." {
        return ApiError::bad_request("request.malformed_json", format!("the body does not match the expected shape: {message}"));
    }
    ApiError::bad_request("request.malformed_json", format!("`{path}`: {message}")).with_field(&path, message)
}

/// Query parameters; a parameter of the wrong type is a 400 with a JSON body.
pub(crate) struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::bad_request("request.invalid_query", rejection.body_text()))
    }
}

/// The integration a path names: an id (`aws/01J…`, either percent-encoded as one path
/// segment or as the two segments `{id}/{key}`) or an integration name.
pub(crate) struct IntegrationRef(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IntegrationRef {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::bad_request("request.invalid_path", rejection.body_text()))?;
        let segment = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        match (segment("id"), segment("key")) {
            (Some(app), Some(key)) => Ok(IntegrationRef(format!("{app}/{key}"))),
            (Some(id), None) => Ok(IntegrationRef(id.to_string())),
            _ => Err(ApiError::bad_request("request.invalid_path", "the path names no integration")),
        }
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails at the first broken step")]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        credentials: Option<Credentials>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Credentials {
        secret: String,
    }

    #[test]
    fn credential_type_errors_hide_value() {
        let error = parse_json::<Sample>(br#"{"name":"a","credentials":{"secret":1234567}}"#).unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(error.message().contains("credentials.secret"), "{}", error.message());
        assert!(!error.message().contains("1234567"), "{}", error.message());
    }

    #[test]
    fn other_type_errors_name_field() {
        let error = parse_json::<Sample>(br#"{"name":5}"#).unwrap_err();
        assert!(error.message().starts_with("`name`: invalid type"), "{}", error.message());
    }

    #[test]
    fn syntax_errors_and_empty_bodies() {
        let error = parse_json::<Sample>(br#"{"name":"#).unwrap_err();
        assert!(error.message().starts_with("the body is not valid JSON"), "{}", error.message());
        let error = parse_json::<Sample>(b"  ").unwrap_err();
        assert!(error.message().contains("empty"), "{}", error.message());
        let error = parse_json::<Sample>(br#"{"name":"a"} x"#).unwrap_err();
        assert!(error.message().contains("trailing"), "{}", error.message());
    }

    #[test]
    fn json_content_types() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        headers.insert(CONTENT_TYPE, "application/json; charset=utf-8".parse().unwrap());
        assert!(is_json(&headers));
        headers.insert(CONTENT_TYPE, "application/merge-patch+json".parse().unwrap());
        assert!(is_json(&headers));
        headers.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&headers));
    }
}
