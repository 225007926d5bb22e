//! SCIM 2.0 connector: reads a SCIM server's users and groups into Muster entities and
//! relations (RFC 7643 and 7644), and removes access through it.
//!
//! [`test_connection`] reads `/ServiceProviderConfig`. [`extract`] pages `/Users` and
//! `/Groups`, reads each group's members and maps them to an [`Inventory`].
//! [`remove_group_member`] and [`deactivate_user`] change one resource and read it back.
//! `client` sends the requests and retries the throttled ones, `list` pages, `map` builds
//! entities and relations, `deprovision` changes resources, and `error` writes the
//! messages.

// Tests may unwrap: a panic there is a failed test, not a crashed server.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod client;
mod config;
mod deprovision;
mod error;
mod extract;
mod filter;
mod list;
mod map;
mod retry;
mod values;

use muster_domain::{Entity, IntegrationStatus, Inventory};
use serde::Serialize;
use std::time::Duration;

pub use filter::equality_filter;
pub use list::INCOMPLETE_WARNING_PREFIX;

/// Address of a SCIM server and the credentials to sign in to it.
#[derive(Clone)]
pub struct ScimEndpoint {
    /// The URL the SCIM paths hang off, e.g. `https://example.com/scim/v2`.
    pub base_url: String,
    pub auth: ScimAuth,
    /// Headers sent with every request, e.g. a tenant or API-version header.
    pub extra_headers: Vec<(String, String)>,
}

impl std::fmt::Debug for ScimEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self
            .extra_headers
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        f.debug_struct("ScimEndpoint")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .field("extra_headers", &header_names)
            .finish()
    }
}

/// The credentials sent in the `Authorization` header.
#[derive(Clone)]
pub enum ScimAuth {
    Bearer(String),
    Basic { username: String, password: String },
}

impl std::fmt::Debug for ScimAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScimAuth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            ScimAuth::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
        }
    }
}

/// Limits of one run against a SCIM server.
#[derive(Clone, Debug)]
pub struct ScimOptions {
    /// Resources asked for per page (`count`). Servers may return fewer.
    pub page_size: u32,
    /// Maximum time to open a connection.
    pub connect_timeout: Duration,
    /// Maximum time for one request, response body included. Reading one group with its
    /// members gets four times as long.
    pub request_timeout: Duration,
    /// Retries of a request that was throttled (429, 503), failed with 500, 502 or 504, or
    /// timed out.
    pub max_retries: u32,
    /// Maximum pages read from one listing; a listing that reaches it is incomplete.
    pub max_pages: u32,
}

impl Default for ScimOptions {
    fn default() -> Self {
        Self {
            page_size: 100,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 5,
            max_pages: 10_000,
        }
    }
}

/// Error of a SCIM call, in a form the integration's Status and Message can show.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct ScimError {
    pub status: IntegrationStatus,
    /// Stable code, e.g. `scim.unauthorized`, `scim.forbidden`, `scim.unreachable`,
    /// `scim.invalid_response`.
    pub code: String,
    /// Names the request, the HTTP status, a short redacted excerpt of the body and the
    /// fix.
    pub message: String,
}

/// Capabilities the server announces in `/ServiceProviderConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServiceProviderSummary {
    /// The `type` (or else `name`) of each announced scheme, e.g. `oauthbearertoken`.
    pub authentication_schemes: Vec<String>,
    pub filter_supported: bool,
    /// `filter.maxResults`: the most resources one filtered or listed response holds.
    pub filter_max_results: Option<u64>,
    pub patch_supported: bool,
    pub bulk_supported: bool,
    pub sort_supported: bool,
    /// The page size the server caps listings at, when it announces one.
    pub page_size_cap: Option<u64>,
}

/// A step of a sync, reported while it runs so the CLI can draw a progress bar.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Short name of the phase: `users`, `groups` or `group members`.
    pub phase: String,
    pub done: u64,
    pub total: Option<u64>,
}

/// Result of a deprovisioning primitive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeprovisionOutcome {
    /// `PATCH` or `PUT`, the request that made the change; `none` when the resource was
    /// already in the wanted state and nothing was sent.
    pub method: String,
    /// Whether reading the resource back showed exactly the intended change.
    pub verified: bool,
    /// Description of the request sent and of the read-back.
    pub message: String,
}

/// Reads `/ServiceProviderConfig` and reports what the server supports, after reading
/// one user to check the credentials.
pub async fn test_connection(
    endpoint: &ScimEndpoint,
    options: &ScimOptions,
) -> Result<ServiceProviderSummary, ScimError> {
    let client = client::ScimClient::new(endpoint, options)?;
    let summary = config::read_summary(&client).await?;
    config::check_credentials(&client).await?;
    Ok(summary)
}

/// Reads every user and group of the server into an inventory.
///
/// Users become `identity` entities, groups `connection` entities, and memberships
/// `member` relations from the member to the group. A listing that may have missed
/// resources is reported in [`Inventory::warnings`] with a warning starting with
/// [`INCOMPLETE_WARNING_PREFIX`].
pub async fn extract(
    endpoint: &ScimEndpoint,
    options: &ScimOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Inventory, ScimError> {
    extract::extract(endpoint, options, progress).await
}

/// Finds the users whose `attribute` equals `value` with a SCIM filter, and maps them
/// to `identity` entities.
pub async fn find_users(
    endpoint: &ScimEndpoint,
    options: &ScimOptions,
    attribute: &str,
    value: &str,
) -> Result<Vec<Entity>, ScimError> {
    extract::find_users(endpoint, options, attribute, value).await
}

/// Removes one member from a group with a filtered PATCH `remove` (or a PUT of the whole
/// group where PATCH is unsupported), then reads the group back.
pub async fn remove_group_member(
    endpoint: &ScimEndpoint,
    options: &ScimOptions,
    group_id: &str,
    user_id: &str,
) -> Result<DeprovisionOutcome, ScimError> {
    let client = client::ScimClient::new(endpoint, options)?;
    deprovision::remove_group_member(&client, group_id, user_id).await
}

/// Sets a user's `active` to false with PATCH `replace` (or a PUT of the whole user where
/// PATCH is unsupported), then reads the user back.
pub async fn deactivate_user(
    endpoint: &ScimEndpoint,
    options: &ScimOptions,
    user_id: &str,
) -> Result<DeprovisionOutcome, ScimError> {
    let client = client::ScimClient::new(endpoint, options)?;
    deprovision::deactivate_user(&client, user_id).await
}
