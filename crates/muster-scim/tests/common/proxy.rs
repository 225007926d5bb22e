//! A fault-injecting HTTP proxy in front of `scim2-server`, with one switch per
//! misbehaviour of deployed SCIM servers. Tests change the switches while it runs and
//! read the log of the requests it saw.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use rand::Rng;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the proxy rewrites `totalResults` of list responses.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum TotalResults {
    #[default]
    Keep,
    Missing,
    /// The number of resources in this page.
    PageSize,
    /// At most this many.
    CappedAt(u64),
}

/// How the proxy rewrites error bodies (status 400 and above).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum ErrorBody {
    #[default]
    Keep,
    PlainText,
    Html,
    /// The SCIM error as a JSON string inside another object.
    NestedJsonString,
    /// Plain text that echoes the request's Authorization header.
    EchoAuthorization,
}

/// A response sent instead of forwarding the next request.
#[derive(Clone, Debug)]
pub struct Injected {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Injected {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
            body: String::new(),
        }
    }

    pub fn retry_after(status: u16, value: &str) -> Self {
        Self {
            status,
            retry_after: Some(value.into()),
            body: String::new(),
        }
    }
}

/// The switches. All off by default: the proxy forwards as it is.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Responses returned to the next requests, one each, before any is forwarded.
    pub inject: VecDeque<Injected>,
    /// Returns an empty list unless both `startIndex` and `count` are sent.
    pub strict_paging: bool,
    /// Echoes `startIndex: 0` in every list response.
    pub echo_start_index_zero: bool,
    /// Replaces the `count` sent by the client: smaller gives short pages, larger shows a
    /// server that ignores `count`.
    pub force_count: Option<u32>,
    pub total_results: TotalResults,
    /// Renames attributes to other cases (`resources`, `TotalResults`, `UserName`, ...).
    pub other_case: bool,
    /// Sends every boolean and number as a string (`"True"`, `"25"`).
    pub string_scalars: bool,
    pub error_body: ErrorBody,
    /// Returns 415 to requests that name `application/scim+json`.
    pub reject_scim_json: bool,
    /// Content-Type of every forwarded response; `Some("")` sends none.
    pub response_content_type: Option<&'static str>,
    /// Moves each page's `startIndex` by up to 3 either way, as a server without a stable
    /// order does.
    pub unstable_order: bool,
    /// Status returned to PATCH (405 or 501).
    pub patch_status: Option<u16>,
    /// Announces `patch.supported: false` in the ServiceProviderConfig.
    pub announce_no_patch: bool,
    /// Rewrites a filtered member removal into `path: "members"`, as a buggy server that
    /// drops the filter does.
    pub patch_drops_filter: bool,
    /// Returns 204 with no body and no Content-Type to a successful PATCH.
    pub patch_no_content: bool,
    /// Keeps at most this many members in each group read.
    pub cap_members: Option<usize>,
    /// Leaves `members` out of each group read.
    pub drop_members: bool,
    /// Delays the next N requests whose path and query contain the text (`""` for all).
    pub delay: Option<(Duration, u32, &'static str)>,
}

/// One request the proxy saw.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: Method,
    /// Path and query as sent, still percent-encoded.
    pub target: String,
    pub accept: String,
    pub content_type: String,
    pub body: String,
    pub at: Instant,
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    faults: Arc<Mutex<Faults>>,
    log: Arc<Mutex<Vec<Logged>>>,
    http: reqwest::Client,
}

pub struct FaultProxy {
    pub url: String,
    pub faults: Arc<Mutex<Faults>>,
    pub log: Arc<Mutex<Vec<Logged>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    pub async fn start(upstream: &str, faults: Faults) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared {
            upstream: upstream.into(),
            faults: Arc::new(Mutex::new(faults)),
            log: Arc::new(Mutex::new(Vec::new())),
            http: reqwest::Client::new(),
        };
        let faults = shared.faults.clone();
        let log = shared.log.clone();
        let app = axum::Router::new().fallback(handle).with_state(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            faults,
            log,
            task,
        }
    }

    pub fn set(&self, change: impl FnOnce(&mut Faults)) {
        change(&mut self.faults.lock().unwrap());
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn handle(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 64 << 20).await.unwrap_or_default();
    let target = parts
        .uri
        .path_and_query()
        .map(|target| target.as_str().to_string())
        .unwrap_or_default();
    let accept = header(&parts.headers, "accept");
    let content_type = header(&parts.headers, "content-type");
    let authorization = header(&parts.headers, "authorization");
    shared.log.lock().unwrap().push(Logged {
        method: parts.method.clone(),
        target: target.clone(),
        accept: accept.clone(),
        content_type: content_type.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    });

    let (faults, injected, delay) = {
        let mut faults = shared.faults.lock().unwrap();
        let injected = faults.inject.pop_front();
        let delay = match &mut faults.delay {
            Some((duration, remaining, pattern)) if *remaining > 0 && target.contains(*pattern) => {
                *remaining -= 1;
                Some(*duration)
            }
            _ => None,
        };
        (faults.clone(), injected, delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(injected) = injected {
        let mut response = Response::builder().status(injected.status);
        if let Some(retry_after) = injected.retry_after {
            response = response.header("Retry-After", retry_after);
        }
        return response.body(Body::from(injected.body)).unwrap();
    }
    if faults.reject_scim_json
        && (accept.contains("scim+json") || content_type.contains("scim+json"))
    {
        return Response::builder()
            .status(415)
            .body(Body::from("Unsupported Media Type"))
            .unwrap();
    }

    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_string(), value.to_string())
        })
        .collect();
    let is_list =
        parts.method == Method::GET && (path.ends_with("/Users") || path.ends_with("/Groups"));
    let is_group_read = parts.method == Method::GET && path.contains("/Groups/");
    if is_list {
        let has = |name: &str| pairs.iter().any(|(key, _)| key == name);
        if faults.strict_paging && !(has("startIndex") && has("count")) {
            return json_response(
                200,
                &serde_json::json!({"schemas": [], "totalResults": 0, "Resources": []}),
                "application/scim+json",
            );
        }
        for (name, value) in &mut pairs {
            if name == "count" {
                if let Some(count) = faults.force_count {
                    *value = count.to_string();
                }
            }
            if name == "startIndex" && faults.unstable_order {
                let start: i64 = value.parse().unwrap_or(1);
                let shifted = (start + rand::thread_rng().gen_range(-3..=3)).max(1);
                *value = shifted.to_string();
            }
        }
    }
    if parts.method == Method::PATCH {
        if let Some(status) = faults.patch_status {
            return Response::builder()
                .status(status)
                .body(Body::from("PATCH is not implemented"))
                .unwrap();
        }
    }
    let mut body = body.to_vec();
    if parts.method == Method::PATCH && faults.patch_drops_filter {
        let text = String::from_utf8_lossy(&body).into_owned();
        let mut patch: Value = serde_json::from_str(&text).unwrap();
        for operation in patch["Operations"].as_array_mut().unwrap() {
            if operation["path"]
                .as_str()
                .is_some_and(|path| path.starts_with("members["))
            {
                operation["path"] = Value::from("members");
            }
        }
        body = patch.to_string().into_bytes();
    }

    let query: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let url = if query.is_empty() {
        format!("{}{path}", shared.upstream)
    } else {
        format!("{}{path}?{}", shared.upstream, query.join("&"))
    };
    let mut forward = shared.http.request(parts.method.clone(), url).body(body);
    for name in ["authorization", "accept", "content-type"] {
        if let Some(value) = parts.headers.get(name) {
            forward = forward.header(name, value);
        }
    }
    let upstream = forward.send().await.unwrap();
    let status = upstream.status().as_u16();
    let upstream_type = header(upstream.headers(), "content-type");
    let bytes = upstream.bytes().await.unwrap();

    if status >= 400 {
        return error_response(status, &bytes, faults.error_body, &authorization);
    }
    if parts.method == Method::PATCH && faults.patch_no_content {
        return Response::builder().status(204).body(Body::empty()).unwrap();
    }
    let content_type = faults
        .response_content_type
        .unwrap_or(if upstream_type.is_empty() {
            ""
        } else {
            "application/scim+json"
        });
    let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) else {
        let mut response = Response::builder().status(status);
        if !content_type.is_empty() {
            response = response.header("content-type", content_type);
        }
        return response.body(Body::from(bytes)).unwrap();
    };

    if path.ends_with("/ServiceProviderConfig") && faults.announce_no_patch {
        json["patch"]["supported"] = Value::from(false);
    }
    if is_list {
        let page = json["Resources"].as_array().map_or(0, Vec::len) as u64;
        let real = json["totalResults"].as_u64().unwrap_or(0);
        match faults.total_results {
            TotalResults::Keep => {}
            TotalResults::Missing => {
                json.as_object_mut().unwrap().remove("totalResults");
            }
            TotalResults::PageSize => json["totalResults"] = Value::from(page),
            TotalResults::CappedAt(cap) => json["totalResults"] = Value::from(real.min(cap)),
        }
        if faults.echo_start_index_zero {
            json["startIndex"] = Value::from(0);
        }
    }
    if is_group_read {
        if faults.drop_members {
            json.as_object_mut().unwrap().remove("members");
        } else if let Some(cap) = faults.cap_members {
            if let Some(members) = json["members"].as_array_mut() {
                members.truncate(cap);
            }
        }
    }
    if faults.string_scalars {
        json = stringify_scalars(json);
    }
    if faults.other_case {
        json = recase(json);
    }
    json_response(status, &json, content_type)
}

fn json_response(status: u16, json: &Value, content_type: &str) -> Response {
    let mut response = Response::builder().status(StatusCode::from_u16(status).unwrap());
    if !content_type.is_empty() {
        response = response.header("content-type", content_type);
    }
    response.body(Body::from(json.to_string())).unwrap()
}

fn error_response(status: u16, bytes: &[u8], kind: ErrorBody, authorization: &str) -> Response {
    let original = String::from_utf8_lossy(bytes).into_owned();
    let (content_type, body) = match kind {
        ErrorBody::Keep => ("application/scim+json", original),
        ErrorBody::PlainText => ("text/plain", format!("Error {status}: request denied by gateway")),
        ErrorBody::Html => (
            "text/html",
            format!("<html><head><title>{status}</title></head><body><h1>Gateway says no</h1>\n<p>status {status}</p></body></html>"),
        ),
        ErrorBody::NestedJsonString => ("application/json", serde_json::json!({"error": {"code": status, "body": original}}).to_string()),
        ErrorBody::EchoAuthorization => ("text/plain", format!("rejected header Authorization: {authorization}")),
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap()
}

fn stringify_scalars(value: Value) -> Value {
    match value {
        Value::Bool(true) => Value::from("True"),
        Value::Bool(false) => Value::from("False"),
        Value::Number(number) => Value::from(number.to_string()),
        Value::Array(items) => Value::Array(items.into_iter().map(stringify_scalars).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key, stringify_scalars(value)))
                .collect(),
        ),
        other => other,
    }
}

fn recase(value: Value) -> Value {
    const NAMES: [(&str, &str); 12] = [
        ("Resources", "resources"),
        ("totalResults", "TotalResults"),
        ("userName", "UserName"),
        ("displayName", "DISPLAYNAME"),
        ("active", "Active"),
        ("members", "Members"),
        ("value", "Value"),
        ("type", "Type"),
        ("emails", "Emails"),
        ("id", "Id"),
        ("primary", "Primary"),
        ("department", "Department"),
    ];
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(recase).collect()),
        Value::Object(map) => {
            let mut renamed = Map::new();
            for (key, value) in map {
                let key = NAMES
                    .iter()
                    .find(|(from, _)| *from == key)
                    .map_or(key, |(_, to)| to.to_string());
                renamed.insert(key, recase(value));
            }
            Value::Object(renamed)
        }
        other => other,
    }
}
