//! Layers around every route: request ids, the request span, security headers, the body
//! of internal errors and the rejection of cross-site writes.

use crate::error::{ErrorBody, ErrorDetail, InternalError};
use crate::ui::{ErrorPage, Pages};
use std::sync::Arc;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, ORIGIN, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::extract::State;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::{Json, Router};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// Pages load scripts and styles only from this server; htmx is configured in the page
/// so that it needs neither inline styles nor `eval`.
const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Maximum length of a request id accepted from a client. A longer one is replaced.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Maximum size of a request body, 2 MiB (axum's default, set here so that error
/// messages can state it). Integration requests are a few kilobytes.
pub(crate) const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Wraps `router` in the layers, outermost first: request id, trace span, response
/// headers, internal-error bodies, cross-site check.
pub(crate) fn apply(router: Router, pages: Arc<Pages>) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<Body>| {
            let request_id = request
                .headers()
                .get(X_REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("");
            // The path only: query strings can carry search terms such as user names.
            tracing::info_span!(
                "request",
                request_id,
                method = %request.method(),
                path = %request.uri().path(),
            )
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));

    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(reject_cross_site_writes))
        .layer(from_fn_with_state(pages, write_error_bodies))
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(X_REQUEST_ID, UlidRequestId))
        .layer(from_fn(drop_unusable_request_ids))
}

/// Makes a ULID request id when the client sent none.
#[derive(Clone, Copy)]
struct UlidRequestId;

impl MakeRequestId for UlidRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&ulid::Ulid::new().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Removes a client-sent request id that is too long or has characters other than
/// letters, digits, `-`, `_` and `.`, so that logs and error bodies only ever quote a
/// short, plain token. A new id is made in its place.
async fn drop_unusable_request_ids(mut request: Request, next: Next) -> Response {
    let usable = request.headers().get(X_REQUEST_ID).map(|value| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_LEN
            && bytes
                .iter()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
    });
    if usable == Some(false) {
        request.headers_mut().remove(X_REQUEST_ID);
    }
    next.run(request).await
}

/// Writes the body of a response marked [`InternalError`] (JSON for the API, a page for
/// the UI, both quoting the request id and nothing of the cause) or [`ErrorPage`].
async fn write_error_bodies(State(pages): State<Arc<Pages>>, request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("unknown")
        .to_string();
    let is_api = is_api_path(request.uri().path());

    let response = next.run(request).await;
    if let Some(error_page) = response.extensions().get::<ErrorPage>() {
        let html = pages.render_error(error_page.status, &error_page.title, &error_page.message);
        return (error_page.status, Html(html)).into_response();
    }
    let Some(marker) = response.extensions().get::<InternalError>().cloned() else {
        return response;
    };
    let message = format!("internal error, request id {request_id}");
    if is_api {
        let body = ErrorBody {
            error: ErrorDetail {
                code: marker.code,
                message,
                fields: Vec::new(),
            },
        };
        (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
    } else {
        let html = pages.render_error(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", &message);
        (StatusCode::INTERNAL_SERVER_ERROR, Html(html)).into_response()
    }
}

/// Rejects requests that change data when a browser reports that they come from another
/// site.
///
/// Muster has no sign-in yet, so any web page open in the same browser could otherwise
/// post a form to it. Browsers send `Sec-Fetch-Site` and `Origin` on such requests, while
/// command-line clients send neither and pass.
///
/// NOTE: the `Host` header is not checked, so a page served from a DNS name that an
/// attacker rebinds to 127.0.0.1 counts as same-origin. Sign-in is the planned fix.
async fn reject_cross_site_writes(request: Request, next: Next) -> Response {
    if request.method().is_safe() || !is_cross_site(request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(method = %request.method(), "cross-site request rejected");
    let message = "requests that change data must come from Muster's own pages";
    if is_api_path(request.uri().path()) {
        crate::error::ApiError::new(StatusCode::FORBIDDEN, "request.cross_site", message).into_response()
    } else {
        (StatusCode::FORBIDDEN, [(CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response()
    }
}

fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        return !(site == "same-origin" || site == "none");
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    let host = headers.get(HOST).and_then(|value| value.to_str().ok());
    match (origin_host, host) {
        (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        _ => true,
    }
}

pub(crate) fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails at the first broken step")]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        map
    }

    #[test]
    fn cross_site_detection() {
        assert!(!is_cross_site(&headers(&[])));
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "none")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!is_cross_site(&headers(&[("origin", "http://127.0.0.1:8080"), ("host", "127.0.0.1:8080")])));
        assert!(is_cross_site(&headers(&[("origin", "http://127.0.0.1:9999"), ("host", "127.0.0.1:8080")])));
        assert!(is_cross_site(&headers(&[("origin", "null"), ("host", "127.0.0.1:8080")])));
    }
}
