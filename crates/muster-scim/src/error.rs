//! Turns failed SCIM requests into [`ScimError`]s that name the request, the HTTP status,
//! a short excerpt of the body and what a person can do about it.
//!
//! Success is decided from the HTTP status alone. The body is read best-effort: the
//! `detail` of a SCIM error (also when it is nested, or a JSON string inside another
//! object), else the text with tags and extra whitespace removed. Excerpts are capped and
//! never contain the token or password.

use crate::client::{Response, ScimClient};
use crate::ScimError;
use muster_domain::IntegrationStatus;
use serde_json::Value;
use std::time::Duration;

/// Characters of the body kept in a message.
const EXCERPT_CHARS: usize = 200;

fn error(status: IntegrationStatus, code: &str, message: String) -> ScimError {
    ScimError {
        status,
        code: code.into(),
        message,
    }
}

pub(crate) fn invalid_base_url(base_url: &str, cause: &str) -> ScimError {
    error(
        IntegrationStatus::SyncFailed,
        "scim.invalid_base_url",
        format!("the SCIM base URL `{base_url}` is invalid: {cause}; enter the URL the SCIM paths hang off, e.g. https://example.com/scim/v2"),
    )
}

pub(crate) fn invalid_credentials_format() -> ScimError {
    error(
        IntegrationStatus::InvalidCredentials,
        "scim.invalid_credentials",
        "the SCIM token or username contains characters an HTTP header cannot carry; enter it again without line breaks".into(),
    )
}

pub(crate) fn invalid_header(name: &str) -> ScimError {
    error(
        IntegrationStatus::SyncFailed,
        "scim.invalid_header",
        format!(
            "the extra header `{name}` is not a valid HTTP header name or value; fix or remove it"
        ),
    )
}

pub(crate) fn client_setup(cause: &str) -> ScimError {
    error(
        IntegrationStatus::SyncFailed,
        "scim.request_failed",
        format!("could not set up the HTTP client for SCIM: {cause}"),
    )
}

/// Builds the error for a request that got no response.
pub(crate) fn transport(
    client: &ScimClient,
    action: &str,
    cause: &reqwest::Error,
    timeout: Duration,
) -> ScimError {
    let base_url = client.base_url();
    if cause.is_timeout() {
        let limit = if cause.is_connect() {
            client.options().connect_timeout
        } else {
            timeout
        };
        return error(
            IntegrationStatus::Unreachable,
            "scim.timed_out",
            format!(
                "{action} to {base_url} timed out after {limit:?}; check that the base URL is right and the server is up, \
                 and retry the sync later"
            ),
        );
    }
    let connect = cause.is_connect();
    let cause = client.redact(&innermost_cause(cause));
    if connect {
        return error(
            IntegrationStatus::Unreachable,
            "scim.unreachable",
            format!("could not connect to {base_url} for {action}: {cause}; check the base URL and that Muster's host can reach the server"),
        );
    }
    error(
        IntegrationStatus::Unreachable,
        "scim.unreachable",
        format!("{action} to {base_url} failed before a response arrived: {cause}; check the base URL and the network, and retry the sync later"),
    )
}

/// Returns the message of the deepest error in the chain: the one that names the cause.
fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// Builds the error for a response with a non-success status.
pub(crate) fn http_status(client: &ScimClient, action: &str, response: &Response) -> ScimError {
    let status = response.status;
    let excerpt = excerpt(client, response);
    let said = if excerpt.is_empty() {
        String::new()
    } else {
        format!(" (`{excerpt}`)")
    };
    let base_url = client.base_url();
    let (integration_status, code, fix) = match status {
        401 => (
            IntegrationStatus::InvalidCredentials,
            "scim.unauthorized",
            "the server rejected the credentials; check the bearer token (or username and password), that it has not expired, and that it belongs to this SCIM server".to_string(),
        ),
        403 => (
            IntegrationStatus::AccessDenied,
            "scim.forbidden",
            "the credentials are valid but lack a permission; grant them read access to Users and Groups (and write access for deprovisioning)".to_string(),
        ),
        404 => (
            IntegrationStatus::SyncFailed,
            "scim.not_found",
            format!("check that the base URL `{base_url}` is the SCIM root (it often ends in /scim/v2) and that the resource exists"),
        ),
        429 | 503 => (
            IntegrationStatus::SyncFailed,
            "scim.throttled",
            "the server kept throttling after every retry; retry the sync later".to_string(),
        ),
        500..=599 => (
            IntegrationStatus::SyncFailed,
            "scim.server_error",
            "the SCIM server failed; retry later and check its logs if the error persists".to_string(),
        ),
        _ => (
            IntegrationStatus::SyncFailed,
            "scim.request_rejected",
            "the server rejected the request; check that it implements SCIM 2.0 at this base URL".to_string(),
        ),
    };
    error(
        integration_status,
        code,
        format!("{action} returned HTTP {status}{said}: {fix}"),
    )
}

/// Builds the error for a successful response whose body is not what SCIM promises.
pub(crate) fn invalid_response(
    client: &ScimClient,
    action: &str,
    body: &str,
    what: &str,
) -> ScimError {
    let excerpt = clip(&client.redact(&plain_text(body)));
    let said = if excerpt.is_empty() {
        String::new()
    } else {
        format!(" (`{excerpt}`)")
    };
    error(
        IntegrationStatus::SyncFailed,
        "scim.invalid_response",
        format!(
            "{action} returned a response that could not be read{said}: {what}; check that the base URL `{}` points at a SCIM 2.0 server",
            client.base_url()
        ),
    )
}

/// Returns a short redacted excerpt of an error body.
fn excerpt(client: &ScimClient, response: &Response) -> String {
    let text = response
        .json
        .as_ref()
        .and_then(scim_detail)
        .unwrap_or_else(|| plain_text(&response.text));
    clip(&client.redact(&text))
}

/// Finds the `detail` (or `message`, `error_description`) of an error body, looking into
/// nested objects and into strings that hold JSON.
pub(crate) fn scim_detail(value: &Value) -> Option<String> {
    scim_detail_at(value, 0)
}

fn scim_detail_at(value: &Value, depth: usize) -> Option<String> {
    if depth > 4 {
        return None;
    }
    match value {
        Value::Object(map) => {
            for key in ["detail", "message", "error_description", "error"] {
                let found = map.iter().find(|(name, _)| name.eq_ignore_ascii_case(key));
                if let Some((_, Value::String(text))) = found {
                    if let Ok(inner) = serde_json::from_str::<Value>(text) {
                        if let Some(detail) = scim_detail_at(&inner, depth + 1) {
                            return Some(detail);
                        }
                    }
                    return Some(text.clone());
                }
            }
            map.values()
                .find_map(|inner| scim_detail_at(inner, depth + 1))
        }
        Value::String(text) => serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|inner| scim_detail_at(&inner, depth + 1)),
        Value::Array(items) => items
            .iter()
            .find_map(|inner| scim_detail_at(inner, depth + 1)),
        _ => None,
    }
}

/// Removes markup tags and collapses whitespace.
fn plain_text(body: &str) -> String {
    let mut text = String::with_capacity(body.len().min(4096));
    let mut in_tag = false;
    for character in body.chars().take(4096) {
        match character {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if in_tag => {}
            _ => text.push(character),
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clip(text: &str) -> String {
    let mut clipped: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().count() > EXCERPT_CHARS {
        clipped.push('…');
    }
    clipped.replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detail_found_in_nested_string() {
        let body = json!({"error": {"body": "{\"schemas\":[],\"detail\":\"no such user\",\"status\":\"404\"}"}});
        assert_eq!(scim_detail(&body).as_deref(), Some("no such user"));
        assert_eq!(
            scim_detail(&json!({"detail": "bad filter"})).as_deref(),
            Some("bad filter")
        );
        assert_eq!(scim_detail(&json!([1, 2])), None);
    }

    #[test]
    fn plain_text_strips_html() {
        assert_eq!(
            plain_text("<html><body><h1>502 Bad\n Gateway</h1></body></html>"),
            "502 Bad Gateway"
        );
    }

    #[test]
    fn clip_caps_length() {
        let long = "x".repeat(500);
        assert_eq!(clip(&long).chars().count(), EXCERPT_CHARS + 1);
    }
}
