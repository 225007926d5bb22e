//! When to send a failed request again, and how long to wait first: the server's
//! `Retry-After` when it gives one, else exponential backoff with full jitter.

use rand::Rng;
use std::time::{Duration, SystemTime};

/// The first backoff ceiling; each retry doubles it up to [`MAX_DELAY`].
const BASE_DELAY: Duration = Duration::from_millis(250);

/// Longest wait before one retry, even when the server's `Retry-After` is longer.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(60);

/// Reason a request is worth sending again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// 429 or 503: the server tells the client to slow down.
    Throttled,
    /// 500, 502, 504, a timeout or a dropped connection.
    Transient,
}

/// Classifies an HTTP status: throttled, transient, or final (`None`).
pub(crate) fn reason_for_status(status: u16) -> Option<RetryReason> {
    match status {
        429 | 503 => Some(RetryReason::Throttled),
        500 | 502 | 504 => Some(RetryReason::Transient),
        _ => None,
    }
}

/// Reads a `Retry-After` value in seconds or as an HTTP date. `Some(0)` seconds and a
/// date in the past give `None`, so the caller backs off on its own instead of retrying
/// at once.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let date = httpdate::parse_http_date(value).ok()?;
        date.duration_since(now).ok()?
    };
    (!delay.is_zero()).then(|| delay.min(MAX_DELAY))
}

/// Returns a random wait before retry number `retry` (from 1): uniform between zero and
/// `BASE_DELAY * 2^(retry-1)`, capped at [`MAX_DELAY`].
pub(crate) fn backoff(retry: u32) -> Duration {
    let exponent = retry.saturating_sub(1).min(16);
    let ceiling = BASE_DELAY.saturating_mul(1u32 << exponent).min(MAX_DELAY);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("100000", now), Some(MAX_DELAY));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(3));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(3)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(3));
        assert_eq!(parse_retry_after(&earlier, now), None);
    }

    #[test]
    fn backoff_stays_under_ceiling() {
        for retry in 1..=20 {
            let ceiling = BASE_DELAY
                .saturating_mul(1u32 << (retry - 1).min(16))
                .min(MAX_DELAY);
            for _ in 0..20 {
                assert!(backoff(retry) <= ceiling, "retry {retry}");
            }
        }
        assert!(backoff(u32::MAX) <= MAX_DELAY);
    }

    #[test]
    fn statuses_classified() {
        assert_eq!(reason_for_status(429), Some(RetryReason::Throttled));
        assert_eq!(reason_for_status(503), Some(RetryReason::Throttled));
        assert_eq!(reason_for_status(502), Some(RetryReason::Transient));
        assert_eq!(reason_for_status(401), None);
        assert_eq!(reason_for_status(404), None);
    }
}
