//! AWS connector: reads one account's IAM inventory into Muster entities and relations.
//!
//! INTERFACE STUB: the public items below are the contract with `muster-service`; the
//! implementation fills them in.

use muster_domain::{AwsCredentials, IntegrationStatus, Inventory};

/// Where and how to reach AWS. Every field defaults to the standard AWS behaviour.
#[derive(Clone, Debug, Default)]
pub struct ConnectorOptions {
    /// Overrides the endpoint of every AWS service (tests point it at the emulator).
    /// When `None`, `AWS_ENDPOINT_URL` and the standard configuration apply.
    pub endpoint_url: Option<String>,
    /// Region for STS and signing; IAM is global. Defaults to `AWS_REGION`, else us-east-1.
    pub region: Option<String>,
    /// Credentials that assume the role, in place of the host's standard credential chain.
    pub base_credentials: Option<StaticCredentials>,
    /// Maximum concurrent per-user calls (access keys, MFA devices). Defaults to 8.
    pub max_concurrency: Option<usize>,
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

/// Why a sync failed, in a form the integration's Status and Message can show.
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
pub async fn extract_account(
    _credentials: &AwsCredentials,
    _options: &ConnectorOptions,
    _progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Inventory, SyncError> {
    Err(SyncError {
        status: IntegrationStatus::SyncFailed,
        code: "aws.not_implemented".into(),
        message: "AWS extraction is not implemented yet".into(),
    })
}
