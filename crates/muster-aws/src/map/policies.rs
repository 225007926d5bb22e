//! Managed policy entities: every customer managed policy, and the AWS managed policies
//! that something in the account attaches or uses as a permissions boundary.

use super::builder::InventoryBuilder;
use super::values::{date, document, fields, text};
use super::AccountData;
use crate::fetch::authorization::AuthorizationDetails;
use aws_sdk_iam::types::ManagedPolicyDetail;
use muster_domain::EntityType;
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub(super) const SOURCE_TYPE: &str = "policy";

/// AWS managed policies live under the reserved account `aws`.
pub(crate) fn is_aws_managed(arn: &str) -> bool {
    arn.contains(":iam::aws:policy/")
}

/// ARNs of the managed policies that users, groups and roles attach or use as
/// permissions boundaries, sorted.
pub(crate) fn referenced_policy_arns(details: &AuthorizationDetails) -> BTreeSet<String> {
    let mut arns = BTreeSet::new();
    let mut add = |arn: Option<&str>| {
        if let Some(arn) = arn {
            arns.insert(arn.to_string());
        }
    };
    for user in &details.users {
        for policy in user.attached_managed_policies() {
            add(policy.policy_arn());
        }
        add(user
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()));
    }
    for group in &details.groups {
        for policy in group.attached_managed_policies() {
            add(policy.policy_arn());
        }
    }
    for role in &details.roles {
        for policy in role.attached_managed_policies() {
            add(policy.policy_arn());
        }
        add(role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()));
    }
    arns
}

pub(super) fn add_managed_policies(inventory: &mut InventoryBuilder, data: &AccountData) {
    let referenced = referenced_policy_arns(&data.details);
    let mut warnings = Vec::new();

    for policy in &data.details.policies {
        let Some(arn) = policy.arn() else {
            continue;
        };
        if is_aws_managed(arn) && !referenced.contains(arn) {
            continue;
        }
        let separately = data.separately_fetched.contains(arn);
        let metadata = policy_metadata(policy, arn, separately, &mut warnings);
        let name = policy.policy_name().unwrap_or(arn);
        inventory.add_entity(
            EntityType::Connection,
            arn,
            SOURCE_TYPE,
            name,
            fields(metadata),
        );
    }

    for (arn, reason) in &data.unavailable_policies {
        let name = arn.rsplit('/').next().unwrap_or(arn);
        let metadata = json!({
            "Arn": arn,
            "PolicyName": name,
            "AwsManaged": is_aws_managed(arn),
            "DefaultVersionId": null,
            "DefaultVersionDocument": null,
            "Versions": [],
            "Unavailable": reason,
        });
        inventory.add_entity(
            EntityType::Connection,
            arn,
            SOURCE_TYPE,
            name,
            fields(metadata),
        );
        warnings.push(format!(
            "managed policy {arn} is referenced in the account but could not be read ({reason}); \
             its attachments are kept without its document"
        ));
    }

    for warning in warnings {
        inventory.warn(warning);
    }
}

fn policy_metadata(
    policy: &ManagedPolicyDetail,
    arn: &str,
    separately_fetched: bool,
    warnings: &mut Vec<String>,
) -> Value {
    let mut default_document = Value::Null;
    let mut versions = Vec::new();
    for version in policy.policy_version_list() {
        let version_id = version.version_id().unwrap_or_default();
        let decoded = document(
            version.document(),
            &format!("policy {arn} version {version_id}"),
            warnings,
        );
        if version.is_default_version() || policy.default_version_id() == Some(version_id) {
            default_document = decoded.clone();
        }
        versions.push(json!({
            "VersionId": version_id,
            "IsDefaultVersion": version.is_default_version(),
            "CreateDate": date(version.create_date()),
            "Document": decoded,
        }));
    }

    json!({
        "PolicyId": text(policy.policy_id()),
        "PolicyName": text(policy.policy_name()),
        "Arn": arn,
        "Path": text(policy.path()),
        "AwsManaged": is_aws_managed(arn),
        "Description": text(policy.description()),
        "DefaultVersionId": text(policy.default_version_id()),
        "DefaultVersionDocument": default_document,
        "Versions": versions,
        "AttachmentCount": policy.attachment_count(),
        "PermissionsBoundaryUsageCount": policy.permissions_boundary_usage_count(),
        "IsAttachable": policy.is_attachable(),
        "CreateDate": date(policy.create_date()),
        "UpdateDate": date(policy.update_date()),
        // Read with GetPolicy + GetPolicyVersion, so `Versions` contains the default only.
        "FetchedSeparately": separately_fetched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_managed_by_arn() {
        assert!(is_aws_managed("arn:aws:iam::aws:policy/ReadOnlyAccess"));
        assert!(is_aws_managed(
            "arn:aws-cn:iam::aws:policy/job-function/ViewOnlyAccess"
        ));
        assert!(!is_aws_managed("arn:aws:iam::123456789012:policy/aws"));
    }
}
