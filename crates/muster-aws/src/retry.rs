//! Retries of AWS calls that failed for a passing reason: throttling, 5xx responses,
//! timeouts and dropped connections.
//!
//! The SDK's own retries are switched off (see `client`), so this loop is the only one
//! and every attempt is logged. Delays grow exponentially with full jitter: attempt `n`
//! waits a random time between zero and `min(max_delay, base_delay * 2^(n-1))`.

use crate::error::service_error_code;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use rand::Rng;
use std::future::Future;
use std::time::Duration;

/// AWS error codes that mean "slow down", across IAM, STS and the other query services.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
];

/// AWS error codes of a passing server-side failure.
const TRANSIENT_CODES: &[&str] = &["ServiceUnavailable", "InternalError", "InternalFailure"];

/// How often and how long to retry a failed call.
#[derive(Clone, Debug)]
pub(crate) struct RetryPolicy {
    /// Attempts in total, the first included, while AWS throttles.
    pub throttled_max_attempts: u32,
    /// Attempts in total for timeouts, dropped connections and 5xx responses.
    pub transient_max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            throttled_max_attempts: 10,
            transient_max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Returns the random delay before retry number `retry` (1 for the first retry).
    fn delay_before(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(30);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let fraction: f64 = rand::thread_rng().gen_range(0.0..=1.0);
        ceiling.mul_f64(fraction)
    }
}

/// The reason a failed call may succeed when sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryReason {
    Throttled,
    Transient,
}

/// Tells whether an AWS error code means the caller is being throttled.
pub(crate) fn retry_code_is_throttling(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// Classifies a failed call: throttled, passing, or final.
pub(crate) fn retry_reason<E: ProvideErrorMetadata>(
    error: &SdkError<E, HttpResponse>,
) -> Option<RetryReason> {
    match error {
        SdkError::ServiceError(context) => {
            let code = service_error_code(context.err(), context.raw()).unwrap_or_default();
            let code = code.as_str();
            let status = context.raw().status().as_u16();
            if retry_code_is_throttling(code) || status == 429 {
                Some(RetryReason::Throttled)
            } else if status == 503 {
                // A 503 from IAM or STS is usually load shedding, so it gets the long budget.
                Some(RetryReason::Throttled)
            } else if TRANSIENT_CODES.contains(&code) || matches!(status, 500 | 502 | 504) {
                Some(RetryReason::Transient)
            } else {
                None
            }
        }
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => Some(RetryReason::Transient),
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            Some(RetryReason::Transient)
        }
        _ => None,
    }
}

/// Sends a request, and sends it again while it fails with a retryable error and the
/// policy allows another attempt. `send` builds a fresh request each time.
pub(crate) async fn send_with_retry<T, E, F, Fut>(
    action: &'static str,
    policy: &RetryPolicy,
    mut send: F,
) -> Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let mut attempt: u32 = 1;
    loop {
        let error = match send().await {
            Ok(output) => return Ok(output),
            Err(error) => error,
        };
        let Some(reason) = retry_reason(&error) else {
            return Err(error);
        };
        let max_attempts = match reason {
            RetryReason::Throttled => policy.throttled_max_attempts,
            RetryReason::Transient => policy.transient_max_attempts,
        };
        let code = error.code().unwrap_or("no error code").to_string();
        if attempt >= max_attempts {
            tracing::warn!(
                action,
                attempt,
                ?reason,
                code,
                "AWS call failed, no retries left"
            );
            return Err(error);
        }
        let delay = policy.delay_before(attempt);
        tracing::warn!(
            action,
            attempt,
            ?reason,
            code,
            delay_ms = delay.as_millis() as u64,
            "AWS call failed, retrying"
        );
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::tests::sdk_error;

    #[test]
    fn throttling_codes_and_statuses_retried() {
        let cases = [
            (Some("Throttling"), 400, "", Some(RetryReason::Throttled)),
            (
                Some("ThrottlingException"),
                400,
                "",
                Some(RetryReason::Throttled),
            ),
            (
                Some("RequestLimitExceeded"),
                400,
                "",
                Some(RetryReason::Throttled),
            ),
            (
                None,
                400,
                "<Error><Code>Throttling</Code></Error>",
                Some(RetryReason::Throttled),
            ),
            (None, 429, "", Some(RetryReason::Throttled)),
            (None, 503, "", Some(RetryReason::Throttled)),
            (
                Some("InternalFailure"),
                500,
                "",
                Some(RetryReason::Transient),
            ),
            (None, 502, "", Some(RetryReason::Transient)),
            (Some("AccessDenied"), 403, "", None),
            (Some("ValidationError"), 400, "", None),
        ];
        for (code, status, body, expected) in cases {
            let error = sdk_error(code, status, body);
            assert_eq!(retry_reason(&error), expected, "{code:?} HTTP {status}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn throttled_call_retried_until_success() {
        let policy = RetryPolicy::default();
        let mut calls = 0;
        let result: Result<u32, _> = send_with_retry("iam:ListUsers", &policy, || {
            calls += 1;
            let outcome = if calls < 4 {
                Err(sdk_error(Some("Throttling"), 400, ""))
            } else {
                Ok(calls)
            };
            async move { outcome }
        })
        .await;
        assert_eq!(result.unwrap(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_at_max_attempts() {
        let policy = RetryPolicy::default();
        let mut calls = 0;
        let result: Result<(), _> = send_with_retry("iam:ListUsers", &policy, || {
            calls += 1;
            async { Err(sdk_error(Some("Throttling"), 400, "")) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls, policy.throttled_max_attempts);
    }

    #[tokio::test(start_paused = true)]
    async fn final_errors_not_retried() {
        let policy = RetryPolicy::default();
        let mut calls = 0;
        let result: Result<(), _> = send_with_retry("iam:ListUsers", &policy, || {
            calls += 1;
            async { Err(sdk_error(Some("AccessDenied"), 403, "")) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }

    #[test]
    fn delay_stays_under_exponential_ceiling() {
        let policy = RetryPolicy::default();
        for retry in 1..=12 {
            let ceiling = policy
                .base_delay
                .saturating_mul(1u32 << (retry - 1))
                .min(policy.max_delay);
            for _ in 0..50 {
                assert!(policy.delay_before(retry) <= ceiling, "retry {retry}");
            }
        }
    }

    #[test]
    fn delay_is_capped_for_large_retry_numbers() {
        let policy = RetryPolicy::default();
        assert!(policy.delay_before(u32::MAX) <= policy.max_delay);
    }
}
