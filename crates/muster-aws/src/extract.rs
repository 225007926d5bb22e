//! One sync of one account, phase by phase: credentials, caller identity, authorization
//! details, credential report, per-user credential calls, missing policies, mapping.
//!
//! Only the credentials, caller identity and authorization details phases can fail the
//! sync; the later ones degrade to warnings on the inventory.

use crate::client::{self, AwsClients};
use crate::error::{self, CallFailure, ErrorContext};
use crate::fetch::authorization::{fetch_authorization_details, fetch_role_listings};
use crate::fetch::credential_report::{fetch_credential_report, CredentialReport, ReportPolling};
use crate::fetch::policies::fetch_missing_policies;
use crate::fetch::user_credentials::{
    fetch_user_credentials, fetch_virtual_mfa_devices, UserCredentialRequest,
};
use crate::map::{self, AccountData};
use crate::retry::{send_with_retry, RetryPolicy};
use crate::{ConnectorOptions, Progress, SyncError};
use muster_domain::{AwsCredentials, IntegrationStatus, Inventory};
use std::collections::HashSet;

const DEFAULT_MAX_CONCURRENCY: usize = 8;

type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

fn report(progress: ProgressFn<'_>, phase: &str, done: u64, total: Option<u64>) {
    progress(Progress {
        phase: phase.to_string(),
        done,
        total,
    });
}

#[tracing::instrument(skip_all, fields(uses_role = credentials.role_arn.is_some()))]
pub(crate) async fn extract_account(
    credentials: &AwsCredentials,
    options: &ConnectorOptions,
    progress: ProgressFn<'_>,
) -> Result<Inventory, SyncError> {
    let credentials = credentials.clone().normalized();
    let retry = RetryPolicy::default();
    let region = client::resolve_region(options);
    let clients = client::connect(&credentials, options, &retry, progress).await?;
    let mut context = ErrorContext {
        endpoint: client::endpoint_label(options, "sts", &region),
        caller_arn: None,
        role_arn: credentials.role_arn.clone(),
        timeouts: client::Timeouts::from_options(options),
    };

    report(progress, "caller identity", 0, Some(1));
    let (account_id, caller_arn) = caller_identity(&clients, &retry, &context).await?;
    report(progress, "caller identity", 1, Some(1));
    tracing::info!(account_id, caller_arn, "signed in");
    context.caller_arn = Some(caller_arn.clone());
    context.endpoint = client::endpoint_label(options, "iam", &region);

    let mut warnings = Vec::new();
    let mut data = AccountData {
        partition: partition_of(&caller_arn),
        account_id,
        caller_arn: Some(caller_arn),
        ..Default::default()
    };

    // These reads do not depend on each other, so they run at the same time: the
    // credential report in particular may take seconds to generate.
    report(progress, "authorization details", 0, None);
    let on_page = |pages| report(progress, "authorization details", pages, None);
    let report_polling = ReportPolling::default();
    let (details, role_listings, credential_report, virtual_mfa) = tokio::join!(
        fetch_authorization_details(&clients.iam, &retry, &on_page),
        fetch_role_listings(&clients.iam, &retry),
        fetch_credential_report(&clients.iam, &retry, &report_polling),
        fetch_virtual_mfa_devices(&clients.iam, &retry),
    );

    data.details = details.map_err(|sdk_error| {
        let failure = CallFailure::from_sdk(&sdk_error);
        error::sync_error(error::GET_ACCOUNT_AUTHORIZATION_DETAILS, &failure, &context)
    })?;
    match role_listings {
        Ok(listings) => data.role_listings = Some(listings),
        Err(sdk_error) => warnings.push(format!(
            "iam:ListRoles failed with {}; role descriptions and maximum session durations are \
             missing",
            CallFailure::from_sdk(&sdk_error).summary()
        )),
    }
    match credential_report {
        Ok(credential_report) => data.credential_report = Some(credential_report),
        Err(unavailable) => warnings.push(format!(
            "{}; credential facts come from per-user calls only and console password facts \
             are unknown",
            unavailable.0
        )),
    }
    report(progress, "credential report", 1, Some(1));
    // Without the listing each user with MFA gets its own iam:ListMFADevices call.
    let virtual_mfa = match virtual_mfa {
        Ok(devices) => Some(devices),
        Err(problem) => {
            tracing::warn!(
                problem,
                "listing virtual MFA devices failed; listing them per user"
            );
            None
        }
    };

    let requests = user_credential_requests(&data);
    let total = requests.len() as u64;
    report(progress, "access keys and MFA", 0, Some(total));
    let on_user = |done| report(progress, "access keys and MFA", done, Some(total));
    let concurrency = options.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY);
    let user_results = fetch_user_credentials(
        &clients.iam,
        &retry,
        requests,
        virtual_mfa.as_ref(),
        concurrency,
        &on_user,
    )
    .await;
    data.user_credentials = user_results.by_user;
    warnings.extend(user_results.warnings);

    let missing = missing_policy_arns(&data);
    let total = missing.len() as u64;
    report(progress, "policies", 0, Some(total));
    let on_policy = |done| report(progress, "policies", done, Some(total));
    let fetched = fetch_missing_policies(&clients.iam, &retry, &missing, &on_policy).await;
    data.separately_fetched = fetched
        .policies
        .iter()
        .filter_map(|policy| policy.arn().map(str::to_string))
        .collect();
    data.details.policies.extend(fetched.policies);
    data.unavailable_policies = fetched.failed;

    let mut inventory = map::build_inventory(&data);
    warnings.append(&mut inventory.warnings);
    inventory.warnings = warnings;
    inventory.validate().map_err(|problem| SyncError {
        status: IntegrationStatus::SyncFailed,
        code: "aws.invalid_inventory".into(),
        message: format!("the account's data could not be turned into a valid snapshot: {problem}"),
    })?;
    tracing::info!(
        entities = inventory.entities.len(),
        relations = inventory.relations.len(),
        warnings = inventory.warnings.len(),
        "sync finished"
    );
    Ok(inventory)
}

async fn caller_identity(
    clients: &AwsClients,
    retry: &RetryPolicy,
    context: &ErrorContext,
) -> Result<(String, String), SyncError> {
    const ACTION: &str = "sts:GetCallerIdentity";
    let identity = send_with_retry(ACTION, retry, || clients.sts.get_caller_identity().send())
        .await
        .map_err(|sdk_error| {
            error::sync_error(ACTION, &CallFailure::from_sdk(&sdk_error), context)
        })?;
    match (identity.account(), identity.arn()) {
        (Some(account), Some(arn)) => Ok((account.to_string(), arn.to_string())),
        _ => Err(SyncError {
            status: IntegrationStatus::SyncFailed,
            code: "aws.invalid_response".into(),
            message: format!("{ACTION} returned no account id or ARN"),
        }),
    }
}

/// Reads the partition (`aws`, `aws-cn`, `aws-us-gov`) from an ARN; `aws` if unreadable.
fn partition_of(arn: &str) -> String {
    arn.split(':')
        .nth(1)
        .filter(|partition| !partition.is_empty())
        .unwrap_or("aws")
        .to_string()
}

/// Picks the users whose keys or MFA devices need per-user calls: those the credential
/// report shows with keys or active MFA, those it does not list (it can be hours old),
/// and every user when there is no report.
fn user_credential_requests(data: &AccountData) -> Vec<UserCredentialRequest> {
    let report: Option<&CredentialReport> = data.credential_report.as_ref();
    data.details
        .users
        .iter()
        .filter_map(|user| {
            let (Some(user_name), Some(arn)) = (user.user_name(), user.arn()) else {
                return None;
            };
            let row = report.and_then(|report| report.users.get(arn));
            let (access_keys, access_key_last_used, mfa_devices) = match row {
                Some(row) => (
                    row.has_access_keys(),
                    row.any_access_key_used(),
                    row.has_mfa(),
                ),
                None => (true, true, true),
            };
            (access_keys || mfa_devices).then(|| UserCredentialRequest {
                user_name: user_name.to_string(),
                arn: arn.to_string(),
                access_keys,
                access_key_last_used,
                mfa_devices,
            })
        })
        .collect()
}

/// Referenced managed policies that GetAccountAuthorizationDetails did not list.
fn missing_policy_arns(data: &AccountData) -> Vec<String> {
    let listed: HashSet<&str> = data
        .details
        .policies
        .iter()
        .filter_map(|policy| policy.arn())
        .collect();
    map::referenced_policy_arns(&data.details)
        .into_iter()
        .filter(|arn| !listed.contains(arn.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_from_arn() {
        assert_eq!(
            partition_of("arn:aws-cn:iam::123456789012:user/a"),
            "aws-cn"
        );
        assert_eq!(partition_of("not an arn"), "aws");
    }
}
