//! The account, its users, groups and roles, their inline policies, and the `member`,
//! `attached` and `permissions-boundary` relations.

use super::builder::{InventoryBuilder, NewRelation};
use super::credentials::{credential_fields, root_account_fields};
use super::values::{date, document, fields, tags_object, text};
use super::{policies, AccountData};
use aws_sdk_iam::types::{AttachedPermissionsBoundary, AttachedPolicy, PolicyDetail};
use muster_domain::{EntityKey, EntityType};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub(super) const USER: &str = "user";
pub(super) const GROUP: &str = "group";
pub(super) const ROLE: &str = "role";
const INLINE_POLICY: &str = "inline-policy";

pub(super) fn add_account(inventory: &mut InventoryBuilder, data: &AccountData) {
    let report = data.credential_report.as_ref();
    let metadata = json!({
        "AccountId": data.account_id,
        "Partition": data.partition,
        "SyncPrincipalArn": data.caller_arn,
        "CredentialReportGeneratedAt": report.and_then(|r| r.generated_at.clone()),
        "RootAccount": report.and_then(|r| r.root.as_ref()).map(root_account_fields),
    });
    inventory.add_entity(
        EntityType::Resource,
        &data.account_id,
        "account",
        &data.account_id,
        fields(metadata),
    );
}

pub(super) fn add_groups(inventory: &mut InventoryBuilder, data: &AccountData) {
    let mut warnings = Vec::new();
    for group in &data.details.groups {
        let Some(arn) = group.arn() else { continue };
        let name = group.group_name().unwrap_or(arn);
        let metadata = json!({
            "GroupId": text(group.group_id()),
            "GroupName": name,
            "Arn": arn,
            "Path": text(group.path()),
            "CreateDate": date(group.create_date()),
        });
        let key = inventory.add_entity(EntityType::Connection, arn, GROUP, name, fields(metadata));
        add_attached(inventory, &key, group.attached_managed_policies());
        add_inline(
            inventory,
            &key,
            GROUP,
            group.group_policy_list(),
            &mut warnings,
        );
    }
    flush(inventory, warnings);
}

pub(super) fn add_users(inventory: &mut InventoryBuilder, data: &AccountData) {
    let group_arns: HashMap<&str, &str> = data
        .details
        .groups
        .iter()
        .filter_map(|group| Some((group.group_name()?, group.arn()?)))
        .collect();
    let mut warnings = Vec::new();

    for user in &data.details.users {
        let Some(arn) = user.arn() else { continue };
        let name = user.user_name().unwrap_or(arn);
        let mut metadata = fields(json!({
            "UserId": text(user.user_id()),
            "UserName": name,
            "Arn": arn,
            "Path": text(user.path()),
            "CreateDate": date(user.create_date()),
            "Tags": tags_object(user.tags.as_deref()),
            "PermissionsBoundary": boundary_arn(user.permissions_boundary()),
        }));
        metadata.extend(credential_fields(
            arn,
            data.credential_report.as_ref(),
            data.user_credentials.get(arn),
        ));
        let key = inventory.add_entity(EntityType::Identity, arn, USER, name, metadata);

        for group_name in user.group_list() {
            let Some(group_arn) = group_arns.get(group_name.as_str()) else {
                warnings.push(format!(
                    "user {arn} is a member of group `{group_name}`, which the account listing \
                     did not return"
                ));
                continue;
            };
            inventory.relate(NewRelation {
                parent: key.clone(),
                child: EntityKey::new(EntityType::Connection, *group_arn),
                privilege_name: "member",
                privilege_value: true,
                connection_type: GROUP,
                metadata: Map::new(),
            });
        }
        add_attached(inventory, &key, user.attached_managed_policies());
        add_boundary(inventory, &key, user.permissions_boundary());
        add_inline(
            inventory,
            &key,
            USER,
            user.user_policy_list(),
            &mut warnings,
        );
    }
    flush(inventory, warnings);
}

pub(super) fn add_roles(inventory: &mut InventoryBuilder, data: &AccountData) {
    let mut warnings = Vec::new();
    for role in &data.details.roles {
        let Some(arn) = role.arn() else { continue };
        let name = role.role_name().unwrap_or(arn);
        let listing = data
            .role_listings
            .as_ref()
            .and_then(|listings| listings.get(arn));
        let last_used = role
            .role_last_used()
            .filter(|used| used.last_used_date().is_some() || used.region().is_some())
            .map(|used| json!({ "Date": date(used.last_used_date()), "Region": text(used.region()) }));
        let instance_profiles: Vec<Value> = role
            .instance_profile_list()
            .iter()
            .map(|profile| {
                json!({
                    "InstanceProfileName": profile.instance_profile_name(),
                    "InstanceProfileId": profile.instance_profile_id(),
                    "Arn": profile.arn(),
                })
            })
            .collect();
        let trust_policy = document(
            role.assume_role_policy_document(),
            &format!("the trust policy of role {arn}"),
            &mut warnings,
        );
        let metadata = json!({
            "RoleId": text(role.role_id()),
            "RoleName": name,
            "Arn": arn,
            "Path": text(role.path()),
            "CreateDate": date(role.create_date()),
            "Description": listing.and_then(|l| l.description.clone()),
            "TrustPolicy": trust_policy,
            "MaxSessionDuration": listing.and_then(|l| l.max_session_duration),
            "LastUsed": last_used,
            "InstanceProfiles": instance_profiles,
            "Tags": tags_object(role.tags.as_deref()),
            "PermissionsBoundary": boundary_arn(role.permissions_boundary()),
        });
        let key = inventory.add_entity(EntityType::Connection, arn, ROLE, name, fields(metadata));
        add_attached(inventory, &key, role.attached_managed_policies());
        add_boundary(inventory, &key, role.permissions_boundary());
        add_inline(
            inventory,
            &key,
            ROLE,
            role.role_policy_list(),
            &mut warnings,
        );
    }
    flush(inventory, warnings);
}

fn boundary_arn(boundary: Option<&AttachedPermissionsBoundary>) -> Value {
    text(boundary.and_then(|b| b.permissions_boundary_arn()))
}

fn add_attached(inventory: &mut InventoryBuilder, owner: &EntityKey, attached: &[AttachedPolicy]) {
    for policy in attached {
        let Some(policy_arn) = policy.policy_arn() else {
            continue;
        };
        inventory.relate(NewRelation {
            parent: owner.clone(),
            child: EntityKey::new(EntityType::Connection, policy_arn),
            privilege_name: "attached",
            privilege_value: true,
            connection_type: policies::SOURCE_TYPE,
            metadata: fields(json!({ "inline": false })),
        });
    }
}

fn add_boundary(
    inventory: &mut InventoryBuilder,
    owner: &EntityKey,
    boundary: Option<&AttachedPermissionsBoundary>,
) {
    let Some(policy_arn) = boundary.and_then(|b| b.permissions_boundary_arn()) else {
        return;
    };
    inventory.relate(NewRelation {
        parent: owner.clone(),
        child: EntityKey::new(EntityType::Connection, policy_arn),
        privilege_name: "permissions-boundary",
        privilege_value: true,
        connection_type: policies::SOURCE_TYPE,
        metadata: Map::new(),
    });
}

/// Adds one entity per inline policy, with source id `<owner ARN>#inline/<PolicyName>`.
fn add_inline(
    inventory: &mut InventoryBuilder,
    owner: &EntityKey,
    owner_type: &str,
    inline: &[PolicyDetail],
    warnings: &mut Vec<String>,
) {
    for policy in inline {
        let Some(policy_name) = policy.policy_name() else {
            continue;
        };
        let source_id = format!("{}#inline/{policy_name}", owner.source_id);
        let decoded = document(
            policy.policy_document(),
            &format!("inline policy {source_id}"),
            warnings,
        );
        let metadata = json!({
            "PolicyName": policy_name,
            "Owner": owner.source_id,
            "OwnerType": owner_type,
            "Document": decoded,
        });
        let key = inventory.add_entity(
            EntityType::Connection,
            &source_id,
            INLINE_POLICY,
            policy_name,
            fields(metadata),
        );
        inventory.relate(NewRelation {
            parent: owner.clone(),
            child: key,
            privilege_name: "attached",
            privilege_value: true,
            connection_type: policies::SOURCE_TYPE,
            metadata: fields(json!({ "inline": true })),
        });
    }
}

fn flush(inventory: &mut InventoryBuilder, warnings: Vec<String>) {
    for warning in warnings {
        inventory.warn(warning);
    }
}
