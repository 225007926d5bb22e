//! Managed policies that a user, group or role references but that the
//! GetAccountAuthorizationDetails policy list left out (deprecated AWS managed policies,
//! policies used only as permissions boundaries): read one by one with `iam:GetPolicy`
//! and `iam:GetPolicyVersion`.

use crate::error::CallFailure;
use crate::retry::{send_with_retry, RetryPolicy};
use aws_sdk_iam::types::{ManagedPolicyDetail, PolicyVersion};

/// The result of the separate reads.
#[derive(Debug, Default)]
pub(crate) struct FetchedPolicies {
    /// Read in full, shaped like a GetAccountAuthorizationDetails entry with only the
    /// default version in its version list.
    pub policies: Vec<ManagedPolicyDetail>,
    /// ARN and reason of each policy that could not be read.
    pub failed: Vec<(String, String)>,
}

/// Reads each policy in turn. `on_policy_done` gets the number of policies handled.
pub(crate) async fn fetch_missing_policies(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
    arns: &[String],
    on_policy_done: &(dyn Fn(u64) + Send + Sync),
) -> FetchedPolicies {
    let mut fetched = FetchedPolicies::default();
    for (index, arn) in arns.iter().enumerate() {
        match fetch_policy(iam, retry, arn).await {
            Ok(policy) => fetched.policies.push(policy),
            Err(reason) => {
                tracing::warn!(
                    policy_arn = arn.as_str(),
                    reason,
                    "could not read managed policy"
                );
                fetched.failed.push((arn.clone(), reason));
            }
        }
        on_policy_done(index as u64 + 1);
    }
    fetched
}

async fn fetch_policy(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
    arn: &str,
) -> Result<ManagedPolicyDetail, String> {
    let output = send_with_retry("iam:GetPolicy", retry, || {
        iam.get_policy().policy_arn(arn).send()
    })
    .await
    .map_err(|error| {
        format!(
            "iam:GetPolicy failed with {}",
            CallFailure::from_sdk(&error).summary()
        )
    })?;
    let policy = output
        .policy()
        .ok_or_else(|| "iam:GetPolicy returned no policy".to_string())?;
    let default_version_id = policy
        .default_version_id()
        .ok_or_else(|| "iam:GetPolicy returned no default version id".to_string())?;

    let version = send_with_retry("iam:GetPolicyVersion", retry, || {
        iam.get_policy_version()
            .policy_arn(arn)
            .version_id(default_version_id)
            .send()
    })
    .await
    .map_err(|error| {
        format!(
            "iam:GetPolicyVersion failed with {}",
            CallFailure::from_sdk(&error).summary()
        )
    })?;
    let version = version.policy_version().cloned().unwrap_or_else(|| {
        PolicyVersion::builder()
            .version_id(default_version_id)
            .build()
    });

    Ok(ManagedPolicyDetail::builder()
        .set_policy_name(policy.policy_name().map(str::to_string))
        .set_policy_id(policy.policy_id().map(str::to_string))
        .arn(arn)
        .set_path(policy.path().map(str::to_string))
        .default_version_id(default_version_id)
        .set_attachment_count(policy.attachment_count())
        .set_permissions_boundary_usage_count(policy.permissions_boundary_usage_count())
        .is_attachable(policy.is_attachable())
        .set_description(policy.description().map(str::to_string))
        .set_create_date(policy.create_date().cloned())
        .set_update_date(policy.update_date().cloned())
        .policy_version_list(version)
        .build())
}
