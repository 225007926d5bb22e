//! AWS SDK set-up for one sync: the HTTP client, region, endpoint and credentials,
//! including the `sts:AssumeRole` call when the integration names a role.

use crate::error::{self, CallFailure, ErrorContext};
use crate::retry::{send_with_retry, RetryPolicy};
use crate::{ConnectorOptions, StaticCredentials, SyncError};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use muster_domain::{AwsCredentials, IntegrationStatus};
use std::time::{Duration, SystemTime};

const DEFAULT_REGION: &str = "us-east-1";
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Longer than the read timeout, so that a large `GetAccountAuthorizationDetails` page
/// whose headers came in time still has time to arrive in full.
const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
const ROLE_SESSION_NAME: &str = "muster-sync";
/// Names where credentials came from in the SDK's debug output.
const PROVIDER_NAME: &str = "muster";

/// The clients every later call goes through, signed with the integration's credentials.
pub(crate) struct AwsClients {
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
}

/// The timeouts of every call, from [`ConnectorOptions`] or the defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub attempt: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: DEFAULT_CONNECT_TIMEOUT,
            read: DEFAULT_READ_TIMEOUT,
            attempt: DEFAULT_ATTEMPT_TIMEOUT,
        }
    }
}

impl Timeouts {
    pub(crate) fn from_options(options: &ConnectorOptions) -> Timeouts {
        let defaults = Timeouts::default();
        Timeouts {
            connect: options.connect_timeout.unwrap_or(defaults.connect),
            read: options.read_timeout.unwrap_or(defaults.read),
            attempt: options.attempt_timeout.unwrap_or(defaults.attempt),
        }
    }
}

/// Picks the region: the option, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else
/// us-east-1. The SDK's own region chain is not used, so no instance metadata is read.
pub(crate) fn resolve_region(options: &ConnectorOptions) -> String {
    let from_env = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    };
    options
        .region
        .clone()
        .filter(|region| !region.trim().is_empty())
        .or_else(|| from_env("AWS_REGION"))
        .or_else(|| from_env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| DEFAULT_REGION.to_string())
}

/// Describes where calls to `service` (`iam` or `sts`) go, for error messages.
pub(crate) fn endpoint_label(options: &ConnectorOptions, service: &str, region: &str) -> String {
    if let Some(url) = &options.endpoint_url {
        return url.clone();
    }
    let service_variable = format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase());
    for variable in [service_variable.as_str(), "AWS_ENDPOINT_URL"] {
        if let Ok(url) = std::env::var(variable) {
            if !url.trim().is_empty() {
                return url;
            }
        }
    }
    match service {
        "iam" => "https://iam.amazonaws.com".into(),
        _ => format!("https://{service}.{region}.amazonaws.com"),
    }
}

/// Loads the shared SDK configuration. `credentials` of `None` means the standard
/// credential chain of Muster's host.
async fn load_sdk_config(
    options: &ConnectorOptions,
    region: &str,
    credentials: Option<SharedCredentialsProvider>,
) -> SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let timeouts = Timeouts::from_options(options);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(timeouts.connect)
        .read_timeout(timeouts.read)
        .operation_attempt_timeout(timeouts.attempt)
        .build();

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .region(Region::new(region.to_string()))
        // Retries happen in `retry::send_with_retry`, which logs each one.
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts);
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(credentials) = credentials {
        loader = loader.credentials_provider(credentials);
    }
    loader.load().await
}

fn static_provider(
    access_key_id: &str,
    secret: &str,
    token: Option<&str>,
) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        access_key_id,
        secret,
        token.map(str::to_string),
        None,
        PROVIDER_NAME,
    ))
}

fn base_provider(base: &Option<StaticCredentials>) -> Option<SharedCredentialsProvider> {
    base.as_ref().map(|credentials| {
        static_provider(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            credentials.session_token.as_deref(),
        )
    })
}

fn clients_from(config: &SdkConfig, credentials: Option<SharedCredentialsProvider>) -> AwsClients {
    let mut iam = aws_sdk_iam::config::Builder::from(config);
    let mut sts = aws_sdk_sts::config::Builder::from(config);
    if let Some(credentials) = credentials {
        iam = iam.credentials_provider(credentials.clone());
        sts = sts.credentials_provider(credentials);
    }
    AwsClients {
        iam: aws_sdk_iam::Client::from_conf(iam.build()),
        sts: aws_sdk_sts::Client::from_conf(sts.build()),
    }
}

/// Builds clients signed with the integration's credentials. A role ARN wins over an
/// access key: the role is assumed with the base credentials (the option, else the
/// host's standard chain) and the temporary credentials sign every later call.
pub(crate) async fn connect(
    credentials: &AwsCredentials,
    options: &ConnectorOptions,
    retry: &RetryPolicy,
    progress: &(dyn Fn(crate::Progress) + Send + Sync),
) -> Result<AwsClients, SyncError> {
    let region = resolve_region(options);

    if let Some(role_arn) = &credentials.role_arn {
        progress(crate::Progress {
            phase: "assume role".into(),
            done: 0,
            total: Some(1),
        });
        let base_config =
            load_sdk_config(options, &region, base_provider(&options.base_credentials)).await;
        let base_sts = aws_sdk_sts::Client::new(&base_config);
        let temporary =
            assume_role(&base_sts, role_arn, credentials, options, &region, retry).await?;
        progress(crate::Progress {
            phase: "assume role".into(),
            done: 1,
            total: Some(1),
        });
        return Ok(clients_from(&base_config, Some(temporary)));
    }

    let (Some(access_key_id), Some(secret)) =
        (&credentials.access_key_id, &credentials.secret_access_key)
    else {
        return Err(SyncError {
            status: IntegrationStatus::InvalidCredentials,
            code: "aws.missing_credentials".into(),
            message: "the integration has no usable credentials: give an IAM role ARN, or an \
                      access key id together with its secret access key"
                .into(),
        });
    };
    let provider = static_provider(access_key_id, secret, None);
    let config = load_sdk_config(options, &region, Some(provider)).await;
    Ok(clients_from(&config, None))
}

async fn assume_role(
    sts: &aws_sdk_sts::Client,
    role_arn: &str,
    credentials: &AwsCredentials,
    options: &ConnectorOptions,
    region: &str,
    retry: &RetryPolicy,
) -> Result<SharedCredentialsProvider, SyncError> {
    let duration = i32::try_from(credentials.session_duration()).unwrap_or(i32::MAX);
    tracing::info!(role_arn, duration_secs = duration, "assuming role");

    let result = send_with_retry(error::ASSUME_ROLE, retry, || {
        sts.assume_role()
            .role_arn(role_arn)
            .role_session_name(ROLE_SESSION_NAME)
            .duration_seconds(duration)
            .set_external_id(credentials.external_id.clone())
            .send()
    })
    .await;

    let output = match result {
        Ok(output) => output,
        Err(sdk_error) => {
            let failure = CallFailure::from_sdk(&sdk_error);
            tracing::warn!(
                role_arn,
                failure = failure.summary(),
                "sts:AssumeRole failed"
            );
            let caller_arn = if failure.is_access_denied() {
                base_caller_arn(sts, retry).await
            } else {
                None
            };
            let context = ErrorContext {
                endpoint: endpoint_label(options, "sts", region),
                caller_arn,
                role_arn: Some(role_arn.to_string()),
                timeouts: Timeouts::from_options(options),
            };
            return Err(error::sync_error(error::ASSUME_ROLE, &failure, &context));
        }
    };

    let Some(temporary) = output.credentials() else {
        return Err(SyncError {
            status: IntegrationStatus::SyncFailed,
            code: "aws.invalid_response".into(),
            message: format!("sts:AssumeRole for {role_arn} returned no credentials"),
        });
    };
    let expiry = SystemTime::try_from(*temporary.expiration()).ok();
    Ok(SharedCredentialsProvider::new(Credentials::new(
        temporary.access_key_id(),
        temporary.secret_access_key(),
        Some(temporary.session_token().to_string()),
        expiry,
        PROVIDER_NAME,
    )))
}

/// Asks who the base credentials belong to, so an AssumeRole denial can name them.
async fn base_caller_arn(sts: &aws_sdk_sts::Client, retry: &RetryPolicy) -> Option<String> {
    send_with_retry("sts:GetCallerIdentity", retry, || {
        sts.get_caller_identity().send()
    })
    .await
    .ok()
    .and_then(|identity| identity.arn().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_option_wins() {
        let options = ConnectorOptions {
            region: Some("eu-west-3".into()),
            ..Default::default()
        };
        assert_eq!(resolve_region(&options), "eu-west-3");
    }

    #[test]
    fn timeout_options_override_defaults() {
        let options = ConnectorOptions {
            read_timeout: Some(Duration::from_millis(500)),
            ..Default::default()
        };
        let timeouts = Timeouts::from_options(&options);
        assert_eq!(timeouts.read, Duration::from_millis(500));
        assert_eq!(timeouts.connect, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(timeouts.attempt, DEFAULT_ATTEMPT_TIMEOUT);
    }

    #[test]
    fn endpoint_option_is_named() {
        let options = ConnectorOptions {
            endpoint_url: Some("http://127.0.0.1:4566".into()),
            ..Default::default()
        };
        assert_eq!(
            endpoint_label(&options, "sts", "us-east-1"),
            "http://127.0.0.1:4566"
        );
    }
}
