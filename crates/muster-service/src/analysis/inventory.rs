//! Rebuilds an account for the policy engine from an AWS snapshot.
//!
//! The AWS connector keeps every fact the engine needs in the inventory: decoded policy
//! documents in the metadata of `policy` and `inline-policy` entities, role trust policies
//! in role metadata, and `member`, `attached` and `permissions-boundary` relations. This
//! module writes them back into the shape of `aws iam get-account-authorization-details`
//! and loads that with the same loader as `muster analyze`, so both paths report the same
//! load problems.

use muster_domain::{EntityKey, Inventory};
use muster_policy::{load_authorization_details, LoadedAccount};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Builds the policy engine's account from an AWS inventory.
pub fn account_from_inventory(inventory: &Inventory) -> Result<LoadedAccount, muster_policy::LoadError> {
    let details = authorization_details(inventory);
    load_authorization_details(&details.to_string())
}

/// Relations of one principal, sorted by kind.
#[derive(Default)]
struct Links<'a> {
    groups: Vec<&'a str>,
    managed: Vec<&'a str>,
    inline: Vec<Value>,
    boundary: Option<&'a str>,
}

fn authorization_details(inventory: &Inventory) -> Value {
    let entities: HashMap<EntityKey, &muster_domain::Entity> =
        inventory.entities.iter().map(|entity| (entity.key(), entity)).collect();

    let mut links: HashMap<&EntityKey, Links<'_>> = HashMap::new();
    for relation in &inventory.relations {
        let Some(child) = entities.get(&relation.child) else {
            continue;
        };
        let entry = links.entry(&relation.parent).or_default();
        match (relation.privilege_name.as_str(), child.source_type.as_str()) {
            ("member", "group") => entry.groups.push(child.name.as_str()),
            ("attached", "policy") => entry.managed.push(child.source_id.as_str()),
            ("attached", "inline-policy") => entry.inline.push(json!({
                "PolicyName": child.name,
                "PolicyDocument": child.metadata.get("Document").cloned().unwrap_or(Value::Null),
            })),
            ("permissions-boundary", _) => entry.boundary = Some(child.source_id.as_str()),
            _ => {}
        }
    }

    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut roles = Vec::new();
    let mut policies = Vec::new();
    for entity in &inventory.entities {
        let metadata = &entity.metadata;
        let key = entity.key();
        let own = links.remove(&key).unwrap_or_default();
        let attached: Vec<Value> = own.managed.iter().map(|arn| json!({ "PolicyArn": arn })).collect();
        let boundary = own.boundary.map(|arn| json!({ "PermissionsBoundaryArn": arn }));
        match entity.source_type.as_str() {
            "user" => users.push(json!({
                "UserName": entity.name,
                "UserId": metadata.get("UserId"),
                "Arn": entity.source_id,
                "GroupList": own.groups,
                "UserPolicyList": own.inline,
                "AttachedManagedPolicies": attached,
                "PermissionsBoundary": boundary,
                "Tags": tag_list(metadata.get("Tags")),
            })),
            "group" => groups.push(json!({
                "GroupName": entity.name,
                "GroupId": metadata.get("GroupId"),
                "Arn": entity.source_id,
                "GroupPolicyList": own.inline,
                "AttachedManagedPolicies": attached,
            })),
            "role" => roles.push(json!({
                "RoleName": entity.name,
                "RoleId": metadata.get("RoleId"),
                "Arn": entity.source_id,
                "AssumeRolePolicyDocument": metadata.get("TrustPolicy"),
                "RolePolicyList": own.inline,
                "AttachedManagedPolicies": attached,
                "PermissionsBoundary": boundary,
                "Tags": tag_list(metadata.get("Tags")),
            })),
            "policy" => policies.push(json!({
                "PolicyName": entity.name,
                "Arn": entity.source_id,
                "DefaultVersionId": metadata.get("DefaultVersionId"),
                "PolicyVersionList": metadata.get("Versions"),
            })),
            _ => {}
        }
    }

    json!({
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
    })
}

/// Turns the connector's `{"key": "value"}` tags back into IAM's `[{Key, Value}]` list.
fn tag_list(tags: Option<&Value>) -> Vec<Value> {
    tags.and_then(Value::as_object)
        .map(|object: &Map<String, Value>| {
            object
                .iter()
                .map(|(key, value)| json!({ "Key": key, "Value": value }))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_domain::inventory::metadata_v1;
    use muster_domain::{Entity, EntityType, Relation};

    fn entity(entity_type: EntityType, source_type: &str, arn: &str, name: &str, fields: Value) -> Entity {
        let map = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Entity {
            entity_type,
            source_id: arn.into(),
            source_type: source_type.into(),
            name: name.into(),
            metadata: metadata_v1(map),
        }
    }

    fn relation(parent: &Entity, child: &Entity, privilege: &str) -> Relation {
        Relation {
            parent: parent.key(),
            child: child.key(),
            project: "111122223333".into(),
            privilege_name: privilege.into(),
            privilege_value: true,
            connection_type: None,
            metadata: json!({}),
        }
    }

    #[test]
    fn inventory_rebuilds_groups_policies_and_trust() {
        let document =
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let user = entity(
            EntityType::Identity,
            "user",
            "arn:aws:iam::111122223333:user/ana",
            "ana",
            json!({"UserId": "AIDAEXAMPLE", "Tags": {"team": "data"}}),
        );
        let group = entity(
            EntityType::Connection,
            "group",
            "arn:aws:iam::111122223333:group/admins",
            "admins",
            json!({}),
        );
        let policy = entity(
            EntityType::Connection,
            "policy",
            "arn:aws:iam::111122223333:policy/all",
            "all",
            json!({"DefaultVersionId": "v1", "Versions": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": document}]}),
        );
        let role = entity(
            EntityType::Connection,
            "role",
            "arn:aws:iam::111122223333:role/ci",
            "ci",
            json!({"TrustPolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}),
        );
        let inline = entity(
            EntityType::Connection,
            "inline-policy",
            "arn:aws:iam::111122223333:role/ci#inline/read",
            "read",
            json!({"Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}),
        );
        let inventory = Inventory {
            project: Some("111122223333".into()),
            relations: vec![
                relation(&user, &group, "member"),
                relation(&group, &policy, "attached"),
                relation(&role, &inline, "attached"),
            ],
            entities: vec![user, group, policy, role, inline],
            warnings: Vec::new(),
        };

        let loaded = account_from_inventory(&inventory).unwrap();
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let account = loaded.account;
        assert_eq!(account.users[0].groups, vec!["admins".to_string()]);
        assert_eq!(account.users[0].tags, vec![("team".to_string(), "data".to_string())]);
        assert_eq!(
            account.groups[0].managed_policy_arns,
            vec!["arn:aws:iam::111122223333:policy/all".to_string()]
        );
        assert!(account.roles[0].trust_policy.is_some());
        assert_eq!(account.roles[0].inline_policies[0].name, "read");
        assert_eq!(account.managed_policies.len(), 1);
    }
}
