//! AWS connector: reads one account's IAM inventory into Muster entities and relations.
//!
//! [`extract_account`] signs in (assuming a role when the integration names one), reads
//! `sts:GetCallerIdentity`, every page of `iam:GetAccountAuthorizationDetails`, the
//! credential report and the per-user access key and MFA facts, and maps them to an
//! [`Inventory`]. [`inventory_from_authorization_details`] builds the same inventory
//! offline from the output of `aws iam get-account-authorization-details` and the
//! credential report. `client` sets up the SDK, `fetch` makes the calls, `retry` retries the
//! throttled ones, `map` builds entities and relations, and `error` writes the messages.

// Tests may unwrap: a panic there is a failed test, not a crashed server.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod client;
mod error;
mod extract;
mod fetch;
mod map;
mod retry;
mod upload;

use muster_domain::{AwsCredentials, IntegrationStatus, Inventory};
use std::time::Duration;

/// Connection settings for AWS. Every field defaults to the standard AWS behaviour.
#[derive(Clone, Debug, Default)]
pub struct ConnectorOptions {
    /// Overrides the endpoint of every AWS service (tests point it at the emulator).
    /// When `None`, `AWS_ENDPOINT_URL` and the standard configuration apply.
    pub endpoint_url: Option<String>,
    /// Region for STS and signing; IAM is global. Defaults to `AWS_REGION`, then
    /// `AWS_DEFAULT_REGION`, else us-east-1.
    pub region: Option<String>,
    /// Credentials that assume the role, in place of the host's standard credential chain.
    pub base_credentials: Option<StaticCredentials>,
    /// Maximum concurrent per-user calls (access keys, MFA devices). Defaults to 8.
    pub max_concurrency: Option<usize>,
    /// Maximum time to open a connection to an endpoint. Defaults to 5 seconds.
    pub connect_timeout: Option<Duration>,
    /// Maximum time from sending a request to receiving the response headers. Defaults to
    /// 30 seconds, so an endpoint that accepts connections but never responds fails the
    /// call after its three attempts (about 90 seconds).
    pub read_timeout: Option<Duration>,
    /// Maximum time for one attempt of a call, including the connection and reading the
    /// whole response body. Defaults to 60 seconds.
    pub attempt_timeout: Option<Duration>,
}

/// An access key pair given directly, e.g. by a test harness.
#[derive(Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticCredentials(<redacted>)")
    }
}

/// A step of a sync, reported while it runs so the CLI can draw a progress bar.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Short name of the phase, e.g. `authorization details`, `credential report`.
    pub phase: String,
    pub done: u64,
    pub total: Option<u64>,
}

/// Error of a sync, in a form the integration's Status and Message can show.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct SyncError {
    pub status: IntegrationStatus,
    /// Stable code, e.g. `aws.access_denied`, `aws.invalid_credentials`.
    pub code: String,
    /// Names the failed call, the AWS error code and the fix.
    pub message: String,
}

/// Reads the account the credentials lead to.
///
/// A failure to sign in, to identify the caller or to read the authorization details
/// ends the sync with a [`SyncError`]. Later problems (no credential report, a policy
/// that cannot be read, a per-user call that fails) are listed in
/// [`Inventory::warnings`] and the sync completes.
pub async fn extract_account(
    credentials: &AwsCredentials,
    options: &ConnectorOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Inventory, SyncError> {
    extract::extract_account(credentials, options, progress).await
}

/// The uploaded file an [`UploadError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadedFile {
    /// The JSON of `aws iam get-account-authorization-details`.
    AuthorizationDetails,
    /// The CSV of `aws iam get-credential-report`, decoded from base64.
    CredentialReport,
}

impl std::fmt::Display for UploadedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AuthorizationDetails => "authorization details",
            Self::CredentialReport => "credential report",
        })
    }
}

/// Error of an upload: the file and the place in it that is invalid.
#[derive(Clone, Debug, thiserror::Error)]
#[error("invalid {file}: {message}")]
pub struct UploadError {
    pub file: UploadedFile,
    /// Stable code, e.g. `aws_upload.invalid_authorization_details`,
    /// `aws_upload.mixed_accounts`.
    pub code: String,
    /// Names the JSON path (`UserDetailList[3].Arn: missing`), or the line or user of
    /// the report.
    pub message: String,
}

/// Builds an account's inventory from uploaded files instead of AWS calls.
///
/// `details_json` is what `aws iam get-account-authorization-details --output json`
/// prints (one document, all pages joined, as awscli does by default).
/// `credential_report_csv` is the decoded credential report. The account id and
/// partition come from the ARNs in the file. Facts that only other AWS calls return
/// (access key ids, MFA device serial numbers, role maximum session durations, policies
/// missing from the file) stay `null`, and [`Inventory::warnings`] names the ones that are
/// unknown.
pub fn inventory_from_authorization_details(
    details_json: &[u8],
    credential_report_csv: Option<&[u8]>,
) -> Result<Inventory, UploadError> {
    upload::inventory_from_authorization_details(details_json, credential_report_csv)
}
