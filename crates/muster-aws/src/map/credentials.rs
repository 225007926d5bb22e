//! A user's credential facts (console password, MFA, access keys), joined from the
//! credential report and the per-user calls. `null` marks a fact that is unknown, as
//! opposed to `false` or an empty list.

use crate::fetch::credential_report::{CredentialReport, ReportAccessKey, ReportRow};
use crate::fetch::user_credentials::{AccessKeyFacts, MfaDeviceFacts, UserCredentialFacts};
use serde_json::{json, Map, Value};

/// Returns the `ConsolePassword`, `MFA` and `AccessKeys` metadata fields of one user.
pub(super) fn credential_fields(
    user_arn: &str,
    report: Option<&CredentialReport>,
    calls: Option<&UserCredentialFacts>,
) -> Map<String, Value> {
    let row = report.and_then(|report| report.users.get(user_arn));
    let mut fields = Map::new();
    fields.insert("ConsolePassword".into(), console_password(row));
    fields.insert(
        "MFA".into(),
        mfa(row, calls.and_then(|c| c.mfa_devices.as_deref())),
    );
    fields.insert(
        "AccessKeys".into(),
        access_keys(row, calls.and_then(|c| c.access_keys.as_deref())),
    );
    fields
}

fn console_password(row: Option<&ReportRow>) -> Value {
    match row {
        Some(row) => json!({
            "Enabled": row.password_enabled,
            "LastUsed": row.password_last_used,
            "LastChanged": row.password_last_changed,
        }),
        None => json!({ "Enabled": null, "LastUsed": null, "LastChanged": null }),
    }
}

fn mfa(row: Option<&ReportRow>, devices: Option<&[MfaDeviceFacts]>) -> Value {
    let devices_value = match devices {
        Some(devices) => Value::Array(
            devices
                .iter()
                .map(|device| {
                    json!({
                        "SerialNumber": device.serial_number,
                        "EnableDate": device.enable_date,
                    })
                })
                .collect(),
        ),
        // The report shows no active MFA, so no device was listed and none is enabled.
        None if row.is_some_and(|row| row.mfa_active == Some(false)) => json!([]),
        None => Value::Null,
    };
    let active = match (row.and_then(|row| row.mfa_active), devices) {
        (Some(active), _) => Value::from(active),
        (None, Some(devices)) => Value::from(!devices.is_empty()),
        (None, None) => Value::Null,
    };
    json!({ "Active": active, "Devices": devices_value })
}

fn access_keys(row: Option<&ReportRow>, keys: Option<&[AccessKeyFacts]>) -> Value {
    if let Some(keys) = keys {
        return Value::Array(
            keys.iter()
                .map(|key| {
                    json!({
                        "AccessKeyId": key.access_key_id,
                        "Status": key.status,
                        "CreateDate": key.create_date,
                        "LastUsedDate": key.last_used_date,
                        "LastUsedService": key.last_used_service,
                        "LastUsedRegion": key.last_used_region,
                    })
                })
                .collect(),
        );
    }
    // Without the per-user calls, the report's two key slots are all there is; they
    // carry no key id.
    match row {
        Some(row) => Value::Array(
            row.access_keys
                .iter()
                .filter(|slot| slot.exists())
                .map(report_key)
                .collect(),
        ),
        None => Value::Null,
    }
}

fn report_key(slot: &ReportAccessKey) -> Value {
    json!({
        "AccessKeyId": null,
        "Status": if slot.active { "Active" } else { "Inactive" },
        "CreateDate": slot.last_rotated,
        "LastUsedDate": slot.last_used_date,
        "LastUsedService": slot.last_used_service,
        "LastUsedRegion": slot.last_used_region,
    })
}

/// Facts about the account root from the report's `<root_account>` row.
pub(super) fn root_account_fields(row: &ReportRow) -> Value {
    json!({
        "MfaActive": row.mfa_active,
        "PasswordLastUsed": row.password_last_used,
        "AccessKeys": row.access_keys.iter().filter(|slot| slot.exists()).map(report_key).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:iam::123456789012:user/alice";

    fn report_with(row: ReportRow) -> CredentialReport {
        let mut report = CredentialReport::default();
        report.users.insert(ARN.into(), row);
        report
    }

    #[test]
    fn unknown_user_has_null_facts() {
        let fields = credential_fields(ARN, None, None);
        assert_eq!(fields["ConsolePassword"]["Enabled"], Value::Null);
        assert_eq!(fields["MFA"]["Active"], Value::Null);
        assert_eq!(fields["AccessKeys"], Value::Null);
    }

    #[test]
    fn report_without_keys_or_mfa_gives_empty_lists() {
        let report = report_with(ReportRow {
            arn: ARN.into(),
            password_enabled: Some(false),
            mfa_active: Some(false),
            ..Default::default()
        });
        let fields = credential_fields(ARN, Some(&report), None);
        assert_eq!(fields["ConsolePassword"]["Enabled"], false);
        assert_eq!(fields["MFA"]["Devices"], json!([]));
        assert_eq!(fields["AccessKeys"], json!([]));
    }

    #[test]
    fn report_slots_used_when_calls_failed() {
        let mut row = ReportRow {
            arn: ARN.into(),
            ..Default::default()
        };
        row.access_keys[1] = ReportAccessKey {
            active: false,
            last_rotated: Some("2024-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        let fields = credential_fields(ARN, Some(&report_with(row)), None);
        assert_eq!(fields["AccessKeys"][0]["Status"], "Inactive");
        assert_eq!(fields["AccessKeys"][0]["AccessKeyId"], Value::Null);
    }
}
