//! Turns failed AWS calls into [`SyncError`]s that name the call, the AWS error code and
//! what a person can do about it.
//!
//! The messages written here never include an access key id, a secret or a session
//! token. AWS's own error text is quoted only for codes without a written explanation,
//! and it may name the caller's ARN.

use crate::client::Timeouts;
use crate::SyncError;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use muster_domain::IntegrationStatus;
use std::error::Error as StdError;

/// The IAM call whose denial means the credentials cannot read the account at all.
pub(crate) const GET_ACCOUNT_AUTHORIZATION_DETAILS: &str = "iam:GetAccountAuthorizationDetails";
pub(crate) const ASSUME_ROLE: &str = "sts:AssumeRole";

/// The next step after a 5xx response that outlasted the retries.
const SERVER_ERROR_NEXT_STEP: &str =
    "retry the sync later, and check the AWS Health Dashboard if the error persists";

/// Facts known when a call fails, used to write the fix into the message.
#[derive(Clone, Debug, Default)]
pub(crate) struct ErrorContext {
    /// The URL the call went to, e.g. `https://iam.amazonaws.com` or the emulator's.
    pub endpoint: String,
    /// The principal making the call, from `sts:GetCallerIdentity`, once known.
    pub caller_arn: Option<String>,
    /// The role being assumed, for `sts:AssumeRole` failures.
    pub role_arn: Option<String>,
    /// The timeouts the calls were made with, to name the one that expired.
    pub timeouts: Timeouts,
}

/// The failure of one call, reduced to what the message needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CallFailure {
    /// AWS returned an error response. `code` is `None` when the response had no error
    /// code, e.g. an HTTP 500 with an empty body.
    Service {
        code: Option<String>,
        message: Option<String>,
        http_status: u16,
    },
    /// No AWS credentials could be found or loaded.
    MissingCredentials { cause: String },
    /// The connection failed.
    Unreachable { cause: String },
    /// One of the [`Timeouts`] expired.
    TimedOut { stage: TimeoutStage },
    /// The response could not be parsed.
    InvalidResponse { cause: String },
    /// The request could not be built or sent for another reason.
    Other { cause: String },
}

/// The part of a call that took too long, each with its own timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeoutStage {
    /// Opening the connection.
    Connect,
    /// Waiting for the response headers after sending the request.
    Response,
    /// The whole attempt, response body included.
    Attempt,
}

impl CallFailure {
    pub(crate) fn from_sdk<E>(error: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        match error {
            SdkError::ServiceError(context) => CallFailure::Service {
                code: service_error_code(context.err(), context.raw()),
                message: context
                    .err()
                    .message()
                    .map(str::to_string)
                    .or_else(|| raw_xml_field(context.raw(), "Message")),
                http_status: context.raw().status().as_u16(),
            },
            SdkError::TimeoutError(_) => CallFailure::TimedOut {
                stage: TimeoutStage::Attempt,
            },
            SdkError::DispatchFailure(failure) => {
                if let Some(credentials) = find_source::<CredentialsError>(error) {
                    CallFailure::MissingCredentials {
                        cause: innermost_cause(credentials),
                    }
                } else if failure.is_timeout() {
                    CallFailure::TimedOut {
                        stage: dispatch_timeout_stage(error),
                    }
                } else if failure.is_io() {
                    CallFailure::Unreachable {
                        cause: innermost_cause(error),
                    }
                } else {
                    CallFailure::Other {
                        cause: innermost_cause(error),
                    }
                }
            }
            SdkError::ResponseError(_) => CallFailure::InvalidResponse {
                cause: innermost_cause(error),
            },
            _ => CallFailure::Other {
                cause: innermost_cause(error),
            },
        }
    }

    /// Returns the AWS error code, when AWS returned one.
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            CallFailure::Service { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn is_access_denied(&self) -> bool {
        self.code().is_some_and(is_access_denied_code)
    }

    /// Describes the failure in a few words for warnings: `AccessDenied (HTTP 403)` or
    /// the cause.
    pub(crate) fn summary(&self) -> String {
        match self {
            CallFailure::Service {
                code: Some(code),
                http_status,
                ..
            } => format!("{code} (HTTP {http_status})"),
            CallFailure::Service {
                code: None,
                http_status,
                ..
            } => format!("HTTP {http_status} with no error code"),
            CallFailure::TimedOut { stage } => match stage {
                TimeoutStage::Connect => "the connection timed out".into(),
                TimeoutStage::Response => "the response timed out".into(),
                TimeoutStage::Attempt => "the attempt timed out".into(),
            },
            CallFailure::MissingCredentials { cause }
            | CallFailure::Unreachable { cause }
            | CallFailure::InvalidResponse { cause }
            | CallFailure::Other { cause } => cause.clone(),
        }
    }
}

/// Tells which timeout of the HTTP client expired: the connect timeout or the read
/// timeout.
///
/// NOTE: aws-smithy-http-client 1.5 gives both the same error kind, so the stage is read
/// from its message, `HTTP connect timeout occurred after 5s`. Should that text change,
/// a connect timeout is reported as a response timeout.
fn dispatch_timeout_stage(error: &(dyn StdError + 'static)) -> TimeoutStage {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(error) = current {
        if error.to_string().starts_with("HTTP connect timeout") {
            return TimeoutStage::Connect;
        }
        current = error.source();
    }
    TimeoutStage::Response
}

/// Returns the AWS error code of a service error. When the SDK found none, the code is
/// read from the `x-amzn-ErrorType` header or the first `<Code>` element of the body:
/// moto 5.2.1 sends its signature and authorization errors as
/// `<ErrorResponse><Errors><Error>`, which the SDK's query-protocol parser does not read.
pub(crate) fn service_error_code<E: ProvideErrorMetadata>(
    error: &E,
    response: &HttpResponse,
) -> Option<String> {
    if let Some(code) = error.code() {
        return Some(code.to_string());
    }
    let header = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|value| value.split(':').next())
        .map(str::trim)
        .filter(|value| !value.is_empty() && *value != "UnknownError");
    header
        .map(str::to_string)
        .or_else(|| raw_xml_field(response, "Code"))
}

/// Reads the text of the first `<name>` element of a buffered XML response body.
fn raw_xml_field(response: &HttpResponse, name: &str) -> Option<String> {
    let body = std::str::from_utf8(response.body().bytes()?).ok()?;
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))? + start;
    let text = body[start..end].trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn is_access_denied_code(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
    )
}

/// Builds the error shown to a person when `action` (e.g. `iam:ListAccessKeys`) failed.
pub(crate) fn sync_error(action: &str, failure: &CallFailure, context: &ErrorContext) -> SyncError {
    match failure {
        CallFailure::Service {
            code: Some(code),
            message,
            http_status,
        } => service_error(action, code, message.as_deref(), *http_status, context),
        CallFailure::Service {
            code: None,
            http_status,
            ..
        } => no_error_code(action, *http_status, context),
        CallFailure::MissingCredentials { cause } => SyncError {
            status: IntegrationStatus::InvalidCredentials,
            code: "aws.missing_credentials".into(),
            message: format!(
                "no AWS credentials for {action}: {cause}; give Muster's host credentials \
                 through the standard AWS credential chain (environment variables, shared \
                 config files or an instance role)"
            ),
        },
        CallFailure::Unreachable { cause } => SyncError {
            status: IntegrationStatus::Unreachable,
            code: "aws.unreachable".into(),
            message: format!(
                "could not reach {} for {action}: {cause}; check the endpoint URL and that \
                 Muster's host can connect to it",
                context.endpoint
            ),
        },
        CallFailure::TimedOut { stage } => timed_out(action, *stage, context),
        CallFailure::InvalidResponse { cause } => SyncError {
            status: IntegrationStatus::SyncFailed,
            code: "aws.invalid_response".into(),
            message: format!(
                "{action} returned a response from {} that could not be read: {cause}",
                context.endpoint
            ),
        },
        CallFailure::Other { cause } => SyncError {
            status: IntegrationStatus::SyncFailed,
            code: "aws.request_failed".into(),
            message: format!("{action} failed before AWS responded: {cause}"),
        },
    }
}

/// Builds the error for a response that carried no AWS error code.
fn no_error_code(action: &str, http_status: u16, context: &ErrorContext) -> SyncError {
    let returned = format!(
        "{} returned HTTP {http_status} with no error code",
        context.endpoint
    );
    let (code, next_step) = if http_status >= 500 {
        ("aws.server_error", SERVER_ERROR_NEXT_STEP)
    } else {
        (
            "aws.unexpected_response",
            "check that the endpoint URL points at AWS or an AWS emulator",
        )
    };
    SyncError {
        status: IntegrationStatus::SyncFailed,
        code: code.into(),
        message: format!("{action} failed: {returned}; {next_step}"),
    }
}

/// Builds the error for a call whose last attempt ran out of time at `stage`.
fn timed_out(action: &str, stage: TimeoutStage, context: &ErrorContext) -> SyncError {
    let endpoint = &context.endpoint;
    let timeouts = &context.timeouts;
    let (what, next_step) = match stage {
        TimeoutStage::Connect => (
            format!(
                "could not connect to {endpoint} within {:?}",
                timeouts.connect
            ),
            "check the endpoint URL and that no firewall drops connections from Muster's host",
        ),
        TimeoutStage::Response => (
            format!(
                "{endpoint} accepted the connection but sent no response within {:?}",
                timeouts.read
            ),
            "check that the endpoint URL points at AWS or a running AWS emulator",
        ),
        TimeoutStage::Attempt => (
            format!(
                "{endpoint} did not send the whole response within {:?}",
                timeouts.attempt
            ),
            "check the network between Muster's host and the endpoint, and retry the sync later",
        ),
    };
    SyncError {
        status: IntegrationStatus::Unreachable,
        code: "aws.timed_out".into(),
        message: format!("{action} timed out: {what}; {next_step}"),
    }
}

fn service_error(
    action: &str,
    code: &str,
    aws_message: Option<&str>,
    http_status: u16,
    context: &ErrorContext,
) -> SyncError {
    let caller = context
        .caller_arn
        .as_deref()
        .map(describe_principal)
        .unwrap_or_else(|| "the principal Muster signs in as".into());

    if is_access_denied_code(code) {
        let fix = if action == ASSUME_ROLE {
            let role = context.role_arn.as_deref().unwrap_or("the role");
            return SyncError {
                status: IntegrationStatus::AccessDenied,
                code: "aws.access_denied".into(),
                message: format!(
                    "{code} on {ASSUME_ROLE} for {role}: check that the role's trust policy \
                     allows {caller} and that the external ID matches"
                ),
            };
        } else if action.starts_with("iam:") {
            format!("attach the AWS managed policy IAMReadOnlyAccess to {caller}")
        } else {
            format!("allow {action} for {caller}")
        };
        return SyncError {
            status: IntegrationStatus::AccessDenied,
            code: "aws.access_denied".into(),
            message: format!("{code} on {action}: {fix}"),
        };
    }

    let (status, stable_code, explanation) = match code {
        "InvalidClientTokenId" | "UnrecognizedClientException" => (
            IntegrationStatus::InvalidCredentials,
            "aws.invalid_credentials",
            "the access key id is not recognised; check that the key exists, is active and \
             belongs to the account"
                .to_string(),
        ),
        "SignatureDoesNotMatch" => (
            IntegrationStatus::InvalidCredentials,
            "aws.invalid_credentials",
            "the secret access key is wrong; enter the secret that belongs to this access key id"
                .to_string(),
        ),
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => (
            IntegrationStatus::InvalidCredentials,
            "aws.expired_credentials",
            "the session token has expired; refresh the credentials of Muster's host".to_string(),
        ),
        "InvalidToken" | "IncompleteSignature" | "MissingAuthenticationToken" => (
            IntegrationStatus::InvalidCredentials,
            "aws.invalid_credentials",
            "the request's credentials are incomplete or malformed".to_string(),
        ),
        "RegionDisabledException" | "OptInRequired" => (
            IntegrationStatus::SyncFailed,
            "aws.region_disabled",
            "STS is not activated in the configured region; activate it in the account or \
             choose another region"
                .to_string(),
        ),
        "ValidationError" if action == ASSUME_ROLE => (
            IntegrationStatus::SyncFailed,
            "aws.invalid_request",
            format!(
                "AWS rejected the request ({}); the session duration may exceed the role's \
                 maximum session duration",
                aws_message.unwrap_or("no details")
            ),
        ),
        code if crate::retry::retry_code_is_throttling(code) => (
            IntegrationStatus::SyncFailed,
            "aws.throttled",
            "AWS kept throttling the call after every retry; run the sync again later".to_string(),
        ),
        _ => {
            let returned = match aws_message {
                Some(text) => format!("AWS returned HTTP {http_status}: {text}"),
                None => format!("AWS returned HTTP {http_status} with no message"),
            };
            if http_status >= 500 {
                (
                    IntegrationStatus::SyncFailed,
                    "aws.server_error",
                    format!("{returned}; {SERVER_ERROR_NEXT_STEP}"),
                )
            } else {
                (IntegrationStatus::SyncFailed, "aws.error", returned)
            }
        }
    };
    SyncError {
        status,
        code: stable_code.into(),
        message: format!("{code} on {action}: {explanation}"),
    }
}

/// Names a principal the way its owner knows it: an assumed-role session is named by its
/// role. The role's ARN is not rebuilt because the session ARN omits the role's path.
pub(crate) fn describe_principal(arn: &str) -> String {
    // arn:aws:sts::123456789012:assumed-role/RoleName/session
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    match resource.split('/').collect::<Vec<_>>().as_slice() {
        ["assumed-role", role, ..] if arn.starts_with("arn:") => {
            format!("the role `{role}` ({arn})")
        }
        _ => arn.to_string(),
    }
}

fn find_source<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// Returns the deepest error in the chain, which names the concrete cause
/// (e.g. `Connection refused (os error 111)`).
fn innermost_cause(error: &(dyn StdError + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use aws_sdk_iam::operation::list_users::ListUsersError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    /// Builds the SDK error of a response with `status` and `body`, with the code the SDK
    /// parser found (`None` when it found none).
    pub(crate) fn sdk_error(
        parsed_code: Option<&str>,
        status: u16,
        body: &'static str,
    ) -> SdkError<ListUsersError, HttpResponse> {
        let mut metadata = ErrorMetadata::builder();
        if let Some(code) = parsed_code {
            metadata = metadata.code(code);
        }
        let response =
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
        SdkError::service_error(ListUsersError::generic(metadata.build()), response)
    }

    #[test]
    fn code_read_from_wrapped_error_body() {
        let error = sdk_error(
            None,
            403,
            "<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code>\
             <Message>signature mismatch</Message></Error></Errors></ErrorResponse>",
        );
        assert_eq!(
            CallFailure::from_sdk(&error),
            CallFailure::Service {
                code: Some("SignatureDoesNotMatch".into()),
                message: Some("signature mismatch".into()),
                http_status: 403,
            }
        );
    }

    #[test]
    fn parsed_code_wins_over_body() {
        let error = sdk_error(Some("AccessDenied"), 403, "<Code>Other</Code>");
        assert_eq!(CallFailure::from_sdk(&error).code(), Some("AccessDenied"));
    }

    #[test]
    fn empty_body_gives_no_code() {
        let error = sdk_error(None, 500, "");
        assert_eq!(
            CallFailure::from_sdk(&error),
            CallFailure::Service {
                code: None,
                message: None,
                http_status: 500,
            }
        );
    }

    fn service(code: &str) -> CallFailure {
        CallFailure::Service {
            code: Some(code.into()),
            message: Some("details".into()),
            http_status: 403,
        }
    }

    fn context() -> ErrorContext {
        ErrorContext {
            endpoint: "http://127.0.0.1:5000".into(),
            caller_arn: Some("arn:aws:iam::123456789012:user/reader".into()),
            role_arn: Some("arn:aws:iam::123456789012:role/audit".into()),
            timeouts: Timeouts::default(),
        }
    }

    #[test]
    fn access_denied_on_gaad_names_fix() {
        let error = sync_error(
            GET_ACCOUNT_AUTHORIZATION_DETAILS,
            &service("AccessDenied"),
            &context(),
        );
        assert_eq!(error.status, IntegrationStatus::AccessDenied);
        assert_eq!(error.code, "aws.access_denied");
        assert_eq!(
            error.message,
            "AccessDenied on iam:GetAccountAuthorizationDetails: attach the AWS managed policy \
             IAMReadOnlyAccess to arn:aws:iam::123456789012:user/reader"
        );
    }

    #[test]
    fn access_denied_on_assume_role_names_role() {
        let error = sync_error(ASSUME_ROLE, &service("AccessDenied"), &context());
        assert_eq!(error.status, IntegrationStatus::AccessDenied);
        assert!(error.message.starts_with(
            "AccessDenied on sts:AssumeRole for arn:aws:iam::123456789012:role/audit: check \
             that the role's trust policy allows arn:aws:iam::123456789012:user/reader"
        ));
        assert!(error.message.ends_with("the external ID matches"));
    }

    #[test]
    fn credential_codes_are_invalid_credentials() {
        for (code, phrase) in [
            ("InvalidClientTokenId", "access key id is not recognised"),
            ("SignatureDoesNotMatch", "secret access key is wrong"),
        ] {
            let error = sync_error("sts:GetCallerIdentity", &service(code), &context());
            assert_eq!(
                error.status,
                IntegrationStatus::InvalidCredentials,
                "{code}"
            );
            assert!(error
                .message
                .starts_with(&format!("{code} on sts:GetCallerIdentity: ")));
            assert!(error.message.contains(phrase), "{}", error.message);
        }
    }

    #[test]
    fn unreachable_names_endpoint() {
        let failure = CallFailure::Unreachable {
            cause: "Connection refused (os error 111)".into(),
        };
        let error = sync_error("sts:GetCallerIdentity", &failure, &context());
        assert_eq!(error.status, IntegrationStatus::Unreachable);
        assert!(error.message.contains("http://127.0.0.1:5000"));
        assert!(error.message.contains("Connection refused"));
    }

    #[test]
    fn codeless_server_error_names_status() {
        let failure = CallFailure::Service {
            code: None,
            message: None,
            http_status: 500,
        };
        let error = sync_error(GET_ACCOUNT_AUTHORIZATION_DETAILS, &failure, &context());
        assert_eq!(error.status, IntegrationStatus::SyncFailed);
        assert_eq!(error.code, "aws.server_error");
        assert_eq!(
            error.message,
            "iam:GetAccountAuthorizationDetails failed: http://127.0.0.1:5000 returned HTTP 500 \
             with no error code; retry the sync later, and check the AWS Health Dashboard if \
             the error persists"
        );
    }

    #[test]
    fn client_error_without_code_points_at_endpoint() {
        let failure = CallFailure::Service {
            code: None,
            message: None,
            http_status: 404,
        };
        let error = sync_error("sts:GetCallerIdentity", &failure, &context());
        assert_eq!(error.code, "aws.unexpected_response");
        assert!(error.message.contains("HTTP 404"), "{}", error.message);
        assert!(error.message.contains("endpoint URL"), "{}", error.message);
    }

    #[test]
    fn unknown_code_quotes_status_and_message() {
        let server = CallFailure::Service {
            code: Some("InternalFailure".into()),
            message: None,
            http_status: 500,
        };
        let error = sync_error("iam:ListRoles", &server, &context());
        assert_eq!(error.code, "aws.server_error");
        assert!(
            error.message.starts_with(
                "InternalFailure on iam:ListRoles: AWS returned HTTP 500 with no message; retry"
            ),
            "{}",
            error.message
        );

        let client = CallFailure::Service {
            code: Some("NoSuchEntity".into()),
            message: Some("The role cannot be found.".into()),
            http_status: 404,
        };
        let error = sync_error("iam:GetRole", &client, &context());
        assert_eq!(error.code, "aws.error");
        assert_eq!(
            error.message,
            "NoSuchEntity on iam:GetRole: AWS returned HTTP 404: The role cannot be found."
        );
    }

    #[test]
    fn timeouts_name_stage_and_duration() {
        let cases = [
            (
                TimeoutStage::Connect,
                "sts:GetCallerIdentity timed out: could not connect to http://127.0.0.1:5000 \
                 within 5s",
            ),
            (
                TimeoutStage::Response,
                "sts:GetCallerIdentity timed out: http://127.0.0.1:5000 accepted the connection \
                 but sent no response within 30s",
            ),
            (
                TimeoutStage::Attempt,
                "sts:GetCallerIdentity timed out: http://127.0.0.1:5000 did not send the whole \
                 response within 60s",
            ),
        ];
        for (stage, start) in cases {
            let failure = CallFailure::TimedOut { stage };
            let error = sync_error("sts:GetCallerIdentity", &failure, &context());
            assert_eq!(error.status, IntegrationStatus::Unreachable, "{stage:?}");
            assert_eq!(error.code, "aws.timed_out", "{stage:?}");
            assert!(error.message.starts_with(start), "{}", error.message);
        }
    }

    #[test]
    fn assumed_role_session_named_by_role() {
        assert_eq!(
            describe_principal("arn:aws:sts::123456789012:assumed-role/audit/muster-sync"),
            "the role `audit` (arn:aws:sts::123456789012:assumed-role/audit/muster-sync)"
        );
        assert_eq!(
            describe_principal("arn:aws:iam::123456789012:user/reader"),
            "arn:aws:iam::123456789012:user/reader"
        );
    }
}
