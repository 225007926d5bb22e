//! Per-user credential calls: `iam:ListAccessKeys` with `iam:GetAccessKeyLastUsed` for
//! each key, and `iam:ListMFADevices`, run for several users at once. Virtual MFA devices
//! come from one account-wide `iam:ListVirtualMFADevices` listing instead.

use crate::error::CallFailure;
use crate::fetch::rfc3339;
use crate::retry::{send_with_retry, RetryPolicy};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashMap};

/// The per-user calls to make for one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UserCredentialRequest {
    pub user_name: String,
    pub arn: String,
    pub access_keys: bool,
    /// Whether to call `iam:GetAccessKeyLastUsed` per key. Skipped when the credential
    /// report shows that no key of the user was ever used, which is all that call would
    /// return.
    pub access_key_last_used: bool,
    pub mfa_devices: bool,
}

/// One access key and its last use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AccessKeyFacts {
    pub access_key_id: String,
    pub status: Option<String>,
    pub create_date: Option<String>,
    pub last_used_date: Option<String>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MfaDeviceFacts {
    pub serial_number: String,
    pub enable_date: Option<String>,
}

/// Results of the per-user calls. `None` means the call was not made or failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UserCredentialFacts {
    pub access_keys: Option<Vec<AccessKeyFacts>>,
    pub mfa_devices: Option<Vec<MfaDeviceFacts>>,
}

/// Results keyed by user ARN, plus one warning per kind of failure.
#[derive(Debug, Default)]
pub(crate) struct UserCredentialResults {
    pub by_user: HashMap<String, UserCredentialFacts>,
    pub warnings: Vec<String>,
}

/// A failed per-user call, counted per (action, failure) so a permission problem gives
/// one warning, not one per user.
type FailureKey = (&'static str, String);

/// Runs the calls with at most `concurrency` users in flight. `on_user_done` gets the
/// number of users finished so far.
/// `virtual_mfa` maps user ARNs to their assigned virtual MFA devices; a user found there
/// needs no `iam:ListMFADevices` call.
pub(crate) async fn fetch_user_credentials(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
    requests: Vec<UserCredentialRequest>,
    virtual_mfa: Option<&HashMap<String, Vec<MfaDeviceFacts>>>,
    concurrency: usize,
    on_user_done: &(dyn Fn(u64) + Send + Sync),
) -> UserCredentialResults {
    let mut results = UserCredentialResults::default();
    let mut failures: BTreeMap<FailureKey, Vec<String>> = BTreeMap::new();
    let mut finished = stream::iter(requests)
        .map(|request| async move {
            let known_devices = virtual_mfa.and_then(|devices| devices.get(&request.arn));
            let outcome = fetch_one_user(iam, retry, &request, known_devices).await;
            (request, outcome)
        })
        .buffer_unordered(concurrency.max(1));

    let mut done = 0;
    while let Some((request, (facts, user_failures))) = finished.next().await {
        done += 1;
        on_user_done(done);
        for key in user_failures {
            failures
                .entry(key)
                .or_default()
                .push(request.user_name.clone());
        }
        results.by_user.insert(request.arn, facts);
    }

    for ((action, failure), mut users) in failures {
        users.sort();
        tracing::warn!(
            action,
            failure,
            users = users.len(),
            "per-user credential call failed"
        );
        results.warnings.push(format!(
            "{action} failed with {failure} for {} user(s): {}; their access key or MFA facts \
             come from the credential report only",
            users.len(),
            users.join(", ")
        ));
    }
    results
}

async fn fetch_one_user(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
    request: &UserCredentialRequest,
    known_mfa_devices: Option<&Vec<MfaDeviceFacts>>,
) -> (UserCredentialFacts, Vec<FailureKey>) {
    let mut facts = UserCredentialFacts::default();
    let mut failures = Vec::new();

    if request.access_keys {
        match list_access_keys(iam, retry, &request.user_name, request.access_key_last_used).await {
            Ok((keys, last_used_failures)) => {
                facts.access_keys = Some(keys);
                failures.extend(last_used_failures);
            }
            Err(failure) => failures.push(failure),
        }
    }
    // NOTE: a user with a virtual device and also a hardware or FIDO device shows only the
    // virtual one here. The `Active` flag from the credential report is exact either way.
    if let (true, Some(devices)) = (request.mfa_devices, known_mfa_devices) {
        facts.mfa_devices = Some(devices.clone());
    } else if request.mfa_devices {
        match list_mfa_devices(iam, retry, &request.user_name).await {
            Ok(devices) => facts.mfa_devices = Some(devices),
            Err(failure) => failures.push(failure),
        }
    }
    (facts, failures)
}

async fn list_access_keys(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
    user_name: &str,
    with_last_used: bool,
) -> Result<(Vec<AccessKeyFacts>, Vec<FailureKey>), FailureKey> {
    const ACTION: &str = "iam:ListAccessKeys";
    let mut keys = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = send_with_retry(ACTION, retry, || {
            iam.list_access_keys()
                .user_name(user_name)
                .set_marker(marker.clone())
                .send()
        })
        .await
        .map_err(|error| (ACTION, CallFailure::from_sdk(&error).summary()))?;
        for key in page.access_key_metadata() {
            let Some(access_key_id) = key.access_key_id() else {
                continue;
            };
            keys.push(AccessKeyFacts {
                access_key_id: access_key_id.to_string(),
                status: key.status().map(|status| status.as_str().to_string()),
                create_date: key.create_date().and_then(rfc3339),
                ..Default::default()
            });
        }
        match page.marker() {
            Some(next) if page.is_truncated() && Some(next) != marker.as_deref() => {
                marker = Some(next.to_string());
            }
            _ => break,
        }
    }

    let mut failures = Vec::new();
    if !with_last_used {
        return Ok((keys, failures));
    }
    for key in &mut keys {
        if let Err(failure) = add_last_used(iam, retry, key).await {
            failures.push(failure);
        }
    }
    Ok((keys, failures))
}

async fn add_last_used(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
    key: &mut AccessKeyFacts,
) -> Result<(), FailureKey> {
    const ACTION: &str = "iam:GetAccessKeyLastUsed";
    let output = send_with_retry(ACTION, retry, || {
        iam.get_access_key_last_used()
            .access_key_id(key.access_key_id.clone())
            .send()
    })
    .await
    .map_err(|error| (ACTION, CallFailure::from_sdk(&error).summary()))?;
    if let Some(last_used) = output.access_key_last_used() {
        key.last_used_date = last_used.last_used_date().and_then(rfc3339);
        key.last_used_service = known_value(last_used.service_name());
        key.last_used_region = known_value(last_used.region());
    }
    Ok(())
}

/// IAM writes `N/A` for a key that was never used.
fn known_value(value: &str) -> Option<String> {
    match value.trim() {
        "" | "N/A" => None,
        other => Some(other.to_string()),
    }
}

/// Lists every assigned virtual MFA device of the account, keyed by its user's ARN.
pub(crate) async fn fetch_virtual_mfa_devices(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
) -> Result<HashMap<String, Vec<MfaDeviceFacts>>, String> {
    const ACTION: &str = "iam:ListVirtualMFADevices";
    let mut devices: HashMap<String, Vec<MfaDeviceFacts>> = HashMap::new();
    let mut marker: Option<String> = None;
    loop {
        let page = send_with_retry(ACTION, retry, || {
            iam.list_virtual_mfa_devices()
                .assignment_status(aws_sdk_iam::types::AssignmentStatusType::Assigned)
                .set_marker(marker.clone())
                .send()
        })
        .await
        .map_err(|error| format!("{ACTION} failed with {}", CallFailure::from_sdk(&error).summary()))?;
        for device in page.virtual_mfa_devices() {
            let Some(user) = device.user() else {
                continue;
            };
            devices.entry(user.arn().to_string()).or_default().push(MfaDeviceFacts {
                serial_number: device.serial_number().to_string(),
                enable_date: device.enable_date().and_then(rfc3339),
            });
        }
        match page.marker() {
            Some(next) if page.is_truncated() && Some(next) != marker.as_deref() => {
                marker = Some(next.to_string());
            }
            _ => break,
        }
    }
    Ok(devices)
}

async fn list_mfa_devices(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
    user_name: &str,
) -> Result<Vec<MfaDeviceFacts>, FailureKey> {
    const ACTION: &str = "iam:ListMFADevices";
    let mut devices = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = send_with_retry(ACTION, retry, || {
            iam.list_mfa_devices()
                .user_name(user_name)
                .set_marker(marker.clone())
                .send()
        })
        .await
        .map_err(|error| (ACTION, CallFailure::from_sdk(&error).summary()))?;
        for device in page.mfa_devices() {
            devices.push(MfaDeviceFacts {
                serial_number: device.serial_number().to_string(),
                enable_date: rfc3339(device.enable_date()),
            });
        }
        match page.marker() {
            Some(next) if page.is_truncated() && Some(next) != marker.as_deref() => {
                marker = Some(next.to_string());
            }
            _ => break,
        }
    }
    Ok(devices)
}
