//! Sends SCIM requests: authentication, media types, timeouts, and retries of throttled
//! and transient failures.
//!
//! Every request asks for `application/scim+json, application/json`. A server that
//! answers 415 gets the request once more as plain `application/json`, and later requests
//! to the same base URL use plain JSON from the start, for the life of the process.

use crate::error;
use crate::retry::{self, RetryReason};
use crate::{ScimAuth, ScimEndpoint, ScimError, ScimOptions};
use base64::prelude::{Engine as _, BASE64_STANDARD};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER,
};
use reqwest::Method;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

const SCIM_ACCEPT: &str = "application/scim+json, application/json";
const SCIM_CONTENT_TYPE: &str = "application/scim+json";
const JSON: &str = "application/json";

/// Characters left as they are in a query value: RFC 3986 unreserved. Everything else,
/// `+` and space included, is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Base URLs whose server rejected `application/scim+json` with 415.
fn plain_json_servers() -> &'static Mutex<HashSet<String>> {
    static SERVERS: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    SERVERS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A configured connection to one SCIM server.
pub(crate) struct ScimClient {
    http: reqwest::Client,
    /// The base URL without a trailing slash.
    base_url: String,
    headers: HeaderMap,
    options: ScimOptions,
    /// Secrets that must never appear in a message: the token or password.
    secrets: Vec<String>,
    plain_json: AtomicBool,
}

/// One request: method, path below the base URL, query and body.
pub(crate) struct Request {
    pub method: Method,
    /// Starts with `/`, e.g. `/Users` or `/Groups/ID`.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    /// Overrides the options' request timeout, e.g. for a group with many members.
    pub timeout: Option<Duration>,
}

impl Request {
    pub(crate) fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            timeout: None,
        }
    }

    pub(crate) fn with_body(method: Method, path: impl Into<String>, body: Value) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
            timeout: None,
        }
    }

    /// Names the request in messages, e.g. `GET /Users`, without the query.
    pub(crate) fn action(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A response with its final HTTP status, after any retries.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    /// The body parsed as JSON, whatever its `Content-Type`; `None` when empty or not JSON.
    pub json: Option<Value>,
    /// The body as text, for error messages.
    pub text: String,
}

impl Response {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl ScimClient {
    pub(crate) fn new(endpoint: &ScimEndpoint, options: &ScimOptions) -> Result<Self, ScimError> {
        let base_url = endpoint.base_url.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base_url)
            .map_err(|cause| error::invalid_base_url(&base_url, &cause.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(error::invalid_base_url(
                &base_url,
                "it must be an http or https URL with a host",
            ));
        }

        let (authorization, secrets) = match &endpoint.auth {
            ScimAuth::Bearer(token) => (
                format!("Bearer {}", token.trim()),
                vec![token.trim().to_string()],
            ),
            ScimAuth::Basic { username, password } => {
                let pair = BASE64_STANDARD.encode(format!("{username}:{password}"));
                (format!("Basic {pair}"), vec![password.clone()])
            }
        };
        let mut headers = HeaderMap::new();
        let mut authorization = HeaderValue::from_str(&authorization)
            .map_err(|_| error::invalid_credentials_format())?;
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);
        for (name, value) in &endpoint.extra_headers {
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| error::invalid_header(name))?;
            let mut value = HeaderValue::from_str(value.trim())
                .map_err(|_| error::invalid_header(name.as_str()))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }

        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(concat!("muster-scim/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|cause| error::client_setup(&cause.to_string()))?;
        let plain_json = plain_json_servers()
            .lock()
            .map(|servers| servers.contains(&base_url))
            .unwrap_or(false);

        Ok(Self {
            http,
            base_url,
            headers,
            options: options.clone(),
            secrets: secrets
                .into_iter()
                .filter(|secret| !secret.is_empty())
                .collect(),
            plain_json: AtomicBool::new(plain_json),
        })
    }

    pub(crate) fn options(&self) -> &ScimOptions {
        &self.options
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Replaces every secret in `text` with `<redacted>`.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), "<redacted>")
        })
    }

    /// Returns the URL of `request`, each query value percent-encoded whole.
    fn url(&self, request: &Request) -> String {
        let mut url = format!("{}{}", self.base_url, request.path);
        for (index, (name, value)) in request.query.iter().enumerate() {
            url.push(if index == 0 { '?' } else { '&' });
            url.push_str(name);
            url.push('=');
            url.extend(utf8_percent_encode(value, QUERY_VALUE));
        }
        url
    }

    /// Sends `request`, retrying throttled and transient failures, and returns the final
    /// response whatever its status. Fails only when no response arrived.
    pub(crate) async fn send(&self, request: &Request) -> Result<Response, ScimError> {
        let url = self.url(request);
        let timeout = request.timeout.unwrap_or(self.options.request_timeout);
        let mut retries: u32 = 0;
        let mut tried_plain_json = false;

        loop {
            let plain = self.plain_json.load(Ordering::Relaxed);
            let outcome = self.attempt(request, &url, timeout, plain).await;
            let (reason, wait) = match outcome {
                Ok((response, retry_after)) => {
                    if response.status == 415 && !plain && !tried_plain_json {
                        tracing::warn!(action = %request.action(), "SCIM server rejected application/scim+json, retrying with application/json");
                        self.use_plain_json();
                        tried_plain_json = true;
                        continue;
                    }
                    match retry::reason_for_status(response.status) {
                        Some(reason) if retries < self.options.max_retries => (reason, retry_after),
                        _ => return Ok(response),
                    }
                }
                Err(cause) => {
                    let retryable = cause.is_timeout()
                        || cause.is_connect()
                        || cause.is_request()
                        || cause.is_body();
                    if !retryable || retries >= self.options.max_retries {
                        return Err(error::transport(self, &request.action(), &cause, timeout));
                    }
                    (RetryReason::Transient, None)
                }
            };

            retries += 1;
            let delay = wait.unwrap_or_else(|| retry::backoff(retries));
            tracing::warn!(
                action = %request.action(),
                retry = retries,
                ?reason,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "SCIM request failed, retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Sends one attempt and reads the whole body. Returns the response and the wait the
    /// server asked for in `Retry-After`.
    async fn attempt(
        &self,
        request: &Request,
        url: &str,
        timeout: Duration,
        plain_json: bool,
    ) -> Result<(Response, Option<Duration>), reqwest::Error> {
        let (accept, content_type) = if plain_json {
            (JSON, JSON)
        } else {
            (SCIM_ACCEPT, SCIM_CONTENT_TYPE)
        };
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .headers(self.headers.clone())
            .header(ACCEPT, accept)
            .timeout(timeout);
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, content_type)
                .body(body.to_string());
        }

        let response = builder.send().await?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| retry::parse_retry_after(value, SystemTime::now()));
        let bytes = response.bytes().await?;
        let json = serde_json::from_slice::<Value>(&bytes).ok();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Ok((Response { status, json, text }, retry_after))
    }

    fn use_plain_json(&self) {
        self.plain_json.store(true, Ordering::Relaxed);
        if let Ok(mut servers) = plain_json_servers().lock() {
            servers.insert(self.base_url.clone());
        }
    }

    /// Sends `request` and returns its JSON body, or the error its status means.
    pub(crate) async fn send_json(&self, request: &Request) -> Result<Value, ScimError> {
        let response = self.send(request).await?;
        if !response.is_success() {
            return Err(error::http_status(self, &request.action(), &response));
        }
        response.json.ok_or_else(|| {
            error::invalid_response(
                self,
                &request.action(),
                &response.text,
                "the body is not JSON",
            )
        })
    }
}
