//! The AWS calls of a sync, one module per kind of data. Each returns SDK types or plain
//! facts; turning them into entities is the job of `map`.

pub(crate) mod authorization;
pub(crate) mod credential_report;
pub(crate) mod policies;
pub(crate) mod user_credentials;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

/// Formats an SDK timestamp as RFC 3339 in UTC, e.g. `2024-05-01T12:00:00Z`.
pub(crate) fn rfc3339(value: &DateTime) -> Option<String> {
    value.fmt(Format::DateTime).ok()
}
