//! The IAM credential report: generate it, wait until IAM has it ready, download and
//! parse the CSV (console password, MFA and access key facts per user).
//!
//! IAM reuses a report for up to four hours, so a report can miss the newest users.
//! Callers treat a user absent from the report as "unknown", not "no credentials".

use crate::error::CallFailure;
use crate::fetch::rfc3339;
use crate::retry::{send_with_retry, RetryPolicy};
use aws_sdk_iam::types::ReportStateType;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The account root's row in the report; it has no IAM user ARN of its own kind.
const ROOT_ACCOUNT_USER: &str = "<root_account>";

/// How long to wait for IAM to finish a report, and how often to ask.
#[derive(Clone, Debug)]
pub(crate) struct ReportPolling {
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub deadline: Duration,
}

impl Default for ReportPolling {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(5),
            deadline: Duration::from_secs(90),
        }
    }
}

/// One access key slot of a report row (`access_key_1_*` or `access_key_2_*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReportAccessKey {
    pub active: bool,
    pub last_rotated: Option<String>,
    pub last_used_date: Option<String>,
    pub last_used_region: Option<String>,
    pub last_used_service: Option<String>,
}

impl ReportAccessKey {
    /// Checks whether the slot contains a key. An inactive key still has a rotation date,
    /// an empty slot has none.
    pub(crate) fn exists(&self) -> bool {
        self.active || self.last_rotated.is_some()
    }
}

/// One row of the report. `None` stands for the report's `N/A`, `not_supported` and
/// `no_information` values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReportRow {
    pub user: String,
    pub arn: String,
    pub password_enabled: Option<bool>,
    pub password_last_used: Option<String>,
    pub password_last_changed: Option<String>,
    pub mfa_active: Option<bool>,
    pub access_keys: [ReportAccessKey; 2],
}

impl ReportRow {
    pub(crate) fn has_access_keys(&self) -> bool {
        self.access_keys.iter().any(ReportAccessKey::exists)
    }

    pub(crate) fn has_mfa(&self) -> bool {
        self.mfa_active == Some(true)
    }

    /// Checks whether the report records a use of either access key.
    pub(crate) fn any_access_key_used(&self) -> bool {
        self.access_keys
            .iter()
            .any(|slot| slot.exists() && slot.last_used_date.is_some())
    }
}

/// A parsed credential report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CredentialReport {
    pub generated_at: Option<String>,
    /// Rows of IAM users, keyed by user ARN.
    pub users: HashMap<String, ReportRow>,
    pub root: Option<ReportRow>,
}

/// The reason no report could be used. The sync goes on without it.
#[derive(Clone, Debug)]
pub(crate) struct ReportUnavailable(pub String);

/// Generates (or reuses) the report, waits for it and parses it.
pub(crate) async fn fetch_credential_report(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
    polling: &ReportPolling,
) -> Result<CredentialReport, ReportUnavailable> {
    let started = Instant::now();
    let mut delay = polling.first_delay;
    loop {
        let generated = send_with_retry("iam:GenerateCredentialReport", retry, || {
            iam.generate_credential_report().send()
        })
        .await
        .map_err(|error| {
            unavailable(
                "iam:GenerateCredentialReport",
                &CallFailure::from_sdk(&error),
            )
        })?;
        if generated.state() == Some(&ReportStateType::Complete) {
            break;
        }
        if started.elapsed() + delay > polling.deadline {
            return Err(ReportUnavailable(format!(
                "the credential report was not ready after {} seconds",
                polling.deadline.as_secs()
            )));
        }
        tracing::debug!(
            delay_ms = delay.as_millis() as u64,
            "credential report not ready yet"
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(polling.max_delay);
    }

    let report = send_with_retry("iam:GetCredentialReport", retry, || {
        iam.get_credential_report().send()
    })
    .await
    .map_err(|error| unavailable("iam:GetCredentialReport", &CallFailure::from_sdk(&error)))?;
    let content = report
        .content()
        .ok_or_else(|| ReportUnavailable("iam:GetCredentialReport returned no content".into()))?;
    let mut parsed = parse_credential_report(content.as_ref()).map_err(ReportUnavailable)?;
    parsed.generated_at = report.generated_time().and_then(rfc3339);
    tracing::info!(users = parsed.users.len(), "read credential report");
    Ok(parsed)
}

fn unavailable(action: &str, failure: &CallFailure) -> ReportUnavailable {
    ReportUnavailable(format!("{action} failed with {}", failure.summary()))
}

/// Parses the report's CSV, whose columns IAM documents by name (their order may change).
pub(crate) fn parse_credential_report(csv_text: &[u8]) -> Result<CredentialReport, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_text);
    let headers = reader
        .headers()
        .map_err(|error| format!("the credential report has no readable header: {error}"))?
        .clone();
    let column = |name: &str| headers.iter().position(|header| header == name);
    let required = |name: &str| {
        column(name).ok_or_else(|| format!("the credential report has no `{name}` column"))
    };
    let user_column = required("user")?;
    let arn_column = required("arn")?;

    let mut report = CredentialReport::default();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| {
            // The header is line 1, so without a position the record's line is its index + 2.
            let line = error
                .position()
                .map_or(index as u64 + 2, |position| position.line());
            format!("line {line} of the credential report is invalid: {error}")
        })?;
        let field = |name: &str| column(name).and_then(|position| record.get(position));
        let key = |slot: u8| ReportAccessKey {
            active: parse_flag(field(&format!("access_key_{slot}_active"))) == Some(true),
            last_rotated: parse_date(field(&format!("access_key_{slot}_last_rotated"))),
            last_used_date: parse_date(field(&format!("access_key_{slot}_last_used_date"))),
            last_used_region: parse_text(field(&format!("access_key_{slot}_last_used_region"))),
            last_used_service: parse_text(field(&format!("access_key_{slot}_last_used_service"))),
        };
        let row = ReportRow {
            user: record.get(user_column).unwrap_or_default().to_string(),
            arn: record.get(arn_column).unwrap_or_default().to_string(),
            password_enabled: parse_flag(field("password_enabled")),
            password_last_used: parse_date(field("password_last_used")),
            password_last_changed: parse_date(field("password_last_changed")),
            mfa_active: parse_flag(field("mfa_active")),
            access_keys: [key(1), key(2)],
        };
        if row.user == ROOT_ACCOUNT_USER {
            report.root = Some(row);
        } else {
            report.users.insert(row.arn.clone(), row);
        }
    }
    Ok(report)
}

/// Maps the report's placeholders for "no value" to `None`.
fn parse_text(value: Option<&str>) -> Option<String> {
    let value = value?.trim();
    match value {
        "" | "N/A" | "not_supported" | "no_information" => None,
        other => Some(other.to_string()),
    }
}

fn parse_flag(value: Option<&str>) -> Option<bool> {
    match parse_text(value)?.as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Normalises a report date (ISO 8601 with an offset) to RFC 3339 in UTC. A date that
/// does not parse is kept as written rather than dropped.
fn parse_date(value: Option<&str>) -> Option<String> {
    let text = parse_text(value)?;
    match time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339) {
        Ok(parsed) => Some(muster_domain::format_timestamp(parsed)),
        Err(_) => Some(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,\
password_last_changed,password_next_rotation,mfa_active,access_key_1_active,\
access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,\
cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn report(rows: &[&str]) -> CredentialReport {
        let text = format!("{HEADER}\n{}\n", rows.join("\n"));
        parse_credential_report(text.as_bytes()).unwrap()
    }

    #[test]
    fn user_with_password_mfa_and_keys() {
        let parsed = report(&[
            "alice,arn:aws:iam::123456789012:user/alice,2024-01-02T03:04:05+00:00,true,\
2024-03-01T10:00:00+02:00,2024-01-02T03:04:05+00:00,N/A,true,true,2024-01-02T03:04:06+00:00,\
2024-03-02T00:00:00+00:00,eu-west-1,s3,false,2024-01-05T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A",
        ]);
        let row = &parsed.users["arn:aws:iam::123456789012:user/alice"];
        assert_eq!(row.password_enabled, Some(true));
        assert_eq!(
            row.password_last_used.as_deref(),
            Some("2024-03-01T08:00:00.000000Z")
        );
        assert_eq!(row.mfa_active, Some(true));
        assert!(row.access_keys[0].active);
        assert_eq!(row.access_keys[0].last_used_service.as_deref(), Some("s3"));
        assert!(!row.access_keys[1].active);
        assert!(row.access_keys[1].exists(), "an inactive key still exists");
        assert!(row.has_access_keys());
    }

    #[test]
    fn placeholders_become_none() {
        let parsed = report(&[
            "<root_account>,arn:aws:iam::123456789012:root,2024-01-01T00:00:00+00:00,not_supported,\
no_information,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,\
false,N/A,false,N/A",
            "bob,arn:aws:iam::123456789012:user/bob,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,\
false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        ]);
        let root = parsed.root.as_ref().unwrap();
        assert_eq!(root.password_enabled, None);
        assert_eq!(root.password_last_used, None);
        let bob = &parsed.users["arn:aws:iam::123456789012:user/bob"];
        assert_eq!(bob.password_enabled, Some(false));
        assert!(!bob.has_access_keys());
        assert!(!bob.has_mfa());
        assert_eq!(parsed.users.len(), 1, "the root row is kept apart");
    }

    #[test]
    fn missing_arn_column_is_an_error() {
        let error = parse_credential_report(b"user,password_enabled\nalice,true\n").unwrap_err();
        assert!(error.contains("`arn`"), "{error}");
    }
}
