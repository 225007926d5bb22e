//! The connection of a SCIM 2.0 integration: the server's base URL (shown) and how Muster
//! authenticates to it (stored encrypted, never shown back).

use crate::validation::ValidationErrors;
use serde::{Deserialize, Serialize};

/// Headers that describe the connection or the message itself: an extra header must not
/// replace them, or requests hang or go astray.
const RESERVED_HEADERS: [&str; 14] = [
    "host", "content-length", "content-type", "transfer-encoding", "connection", "keep-alive", "te",
    "trailer", "upgrade", "proxy-authorization", "proxy-connection", "accept", "accept-encoding", "expect",
];

/// Longest accepted bearer token or password, in bytes.
const MAX_SECRET_LENGTH: usize = 8_192;

/// Credentials Muster signs in to a SCIM server with: exactly one of a bearer token or a
/// user name and password.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimCredentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Extra request headers some servers need (name, value); values may be secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_headers: Vec<(String, String)>,
}

impl std::fmt::Debug for ScimCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimCredentials")
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "<redacted>"))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("extra_headers", &self.extra_headers.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .finish()
    }
}

/// A SCIM server as an integration reaches it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimConnection {
    pub base_url: String,
    pub credentials: ScimCredentials,
}

/// Public view of a SCIM connection for the API, CLI and UI: the URL and which secrets
/// are set.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimConnectionView {
    pub base_url: String,
    /// `bearer` or `basic`.
    pub auth_method: String,
    pub bearer_token: bool,
    pub username: Option<String>,
    pub password: bool,
    /// Names of the extra headers; their values are not shown.
    pub extra_header_names: Vec<String>,
}

impl ScimConnection {
    /// Trims the fields and drops blank ones; the base URL loses a trailing `/`.
    pub fn normalized(mut self) -> Self {
        self.base_url = self.base_url.trim().trim_end_matches('/').to_string();
        let clean = |value: Option<String>| value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        self.credentials.bearer_token = clean(self.credentials.bearer_token);
        self.credentials.username = clean(self.credentials.username);
        self.credentials.password = self.credentials.password.filter(|v| !v.is_empty());
        self.credentials.extra_headers = self
            .credentials
            .extra_headers
            .into_iter()
            .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
            .filter(|(name, _)| !name.is_empty())
            .collect();
        self
    }

    /// Checks the URL and that exactly one way of signing in is given.
    pub fn validate(&self, errors: &mut ValidationErrors) {
        let url = self.base_url.as_str();
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        let authority = rest.split('/').next().unwrap_or("");
        if url.is_empty() {
            errors.push("base_url", "is required: the SCIM server's base URL, e.g. https://example.com/scim/v2");
        } else if !scheme_ok || authority.is_empty() || url.chars().any(char::is_whitespace) {
            errors.push(
                "base_url",
                format!("`{url}` is not a SCIM base URL: expected https://HOST/PATH, e.g. https://example.com/scim/v2"),
            );
        } else if url.contains(['?', '#']) {
            errors.push(
                "base_url",
                "must not contain a query (`?`) or fragment (`#`): resource paths such as /Users are added to its end",
            );
        } else if authority.contains('@') {
            errors.push(
                "base_url",
                "must not contain a user name or password: give them with the basic authentication options, which are stored encrypted",
            );
        }

        let credentials = &self.credentials;
        let basic = credentials.username.is_some() || credentials.password.is_some();
        match (&credentials.bearer_token, basic) {
            (Some(_), true) => errors.push(
                "scim_credentials",
                "give either a bearer token or a user name and password, not both",
            ),
            (None, false) => errors.push(
                "scim_credentials",
                "a SCIM server needs a bearer token, or a user name and password",
            ),
            (None, true) if credentials.username.is_none() || credentials.password.is_none() => errors.push(
                "scim_credentials",
                "basic authentication needs both a user name and a password",
            ),
            _ => {}
        }
        for secret in [&credentials.bearer_token, &credentials.password].into_iter().flatten() {
            if secret.len() > MAX_SECRET_LENGTH || secret.chars().any(char::is_control) {
                errors.push("scim_credentials", "a token or password must be at most 8 KiB with no control characters");
            }
        }
        for (name, value) in &credentials.extra_headers {
            if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                errors.push("headers", format!("`{name}` is set by Muster itself and cannot be an extra header"));
                continue;
            }
            let valid_name = name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
            if !valid_name || value.chars().any(char::is_control) {
                errors.push("headers", format!("`{name}` is not a valid header: expected NAME: VALUE"));
            }
            if name.eq_ignore_ascii_case("authorization") {
                errors.push("headers", "set authentication with the bearer token or user name options, not a header");
            }
        }
    }

    /// Applies a change. A new base URL replaces the old one, and a bearer token replaces
    /// whatever was stored. A user name or password switches to basic authentication and
    /// keeps the stored half. Extra headers, when given, replace the old ones.
    pub fn apply_update(&self, base_url: Option<String>, credentials: Option<ScimCredentials>) -> ScimConnection {
        let mut merged = self.clone();
        if let Some(url) = base_url {
            merged.base_url = url;
        }
        if let Some(update) = credentials {
            if update.bearer_token.is_some() {
                merged.credentials.bearer_token = update.bearer_token;
                merged.credentials.username = None;
                merged.credentials.password = None;
            } else if update.username.is_some() || update.password.is_some() {
                // A new password alone keeps the stored user name, and the other way round.
                merged.credentials.bearer_token = None;
                merged.credentials.username = update.username.or(merged.credentials.username);
                merged.credentials.password = update.password.or(merged.credentials.password);
            }
            if !update.extra_headers.is_empty() {
                merged.credentials.extra_headers = update.extra_headers;
            }
        }
        merged.normalized()
    }

    pub fn view(&self) -> ScimConnectionView {
        let credentials = &self.credentials;
        ScimConnectionView {
            base_url: self.base_url.clone(),
            auth_method: if credentials.bearer_token.is_some() { "bearer" } else { "basic" }.to_string(),
            bearer_token: credentials.bearer_token.is_some(),
            username: credentials.username.clone(),
            password: credentials.password.is_some(),
            extra_header_names: credentials.extra_headers.iter().map(|(name, _)| name.clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(token: Option<&str>, user: Option<&str>, password: Option<&str>) -> ScimConnection {
        ScimConnection {
            base_url: " https://idp.example.com/scim/v2/ ".into(),
            credentials: ScimCredentials {
                bearer_token: token.map(Into::into),
                username: user.map(Into::into),
                password: password.map(Into::into),
                extra_headers: vec![],
            },
        }
        .normalized()
    }

    fn problems(connection: &ScimConnection) -> Vec<String> {
        let mut errors = ValidationErrors::default();
        connection.validate(&mut errors);
        errors.errors.into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn one_way_of_signing_in() {
        assert_eq!(connection(Some("t"), None, None).base_url, "https://idp.example.com/scim/v2");
        assert!(problems(&connection(Some("t"), None, None)).is_empty());
        assert!(problems(&connection(None, Some("u"), Some("p"))).is_empty());
        assert_eq!(problems(&connection(None, None, None)).len(), 1);
        assert_eq!(problems(&connection(Some("t"), Some("u"), Some("p"))).len(), 1);
        assert_eq!(problems(&connection(None, Some("u"), None)).len(), 1);
    }

    #[test]
    fn url_without_query_or_password() {
        let mut with_query = connection(Some("t"), None, None);
        with_query.base_url = "https://idp.example.com/scim?token=x".into();
        assert_eq!(problems(&with_query).len(), 1);
        let mut with_password = connection(Some("t"), None, None);
        with_password.base_url = "https://user:pw@idp.example.com/scim".into();
        assert_eq!(problems(&with_password).len(), 1);
        let mut empty = connection(Some("t"), None, None);
        empty.base_url = String::new();
        assert!(problems(&empty)[0].contains("required"));
        let mut framing = connection(Some("t"), None, None);
        framing.credentials.extra_headers = vec![("Content-Length".into(), "5".into())];
        assert_eq!(problems(&framing).len(), 1);
    }

    #[test]
    fn secrets_not_in_debug() {
        let text = format!("{:?}", connection(Some("s3cret-token"), None, None));
        assert!(!text.contains("s3cret"));
    }

    #[test]
    fn update_replaces_auth_whole() {
        let current = connection(Some("old"), None, None);
        let basic = ScimCredentials {
            username: Some("u".into()),
            password: Some("p".into()),
            ..ScimCredentials::default()
        };
        let updated = current.apply_update(None, Some(basic));
        assert_eq!(updated.credentials.bearer_token, None);
        assert_eq!(updated.view().auth_method, "basic");
    }
}
