//! `assume` relations from role trust policies.
//!
//! Each principal of each trust statement whose actions include an `sts:AssumeRole*`
//! action becomes a relation principal → role. Allow statements give
//! `privilege_value = true`, Deny statements `false`. The statement's actions and its
//! `Condition` (e.g. `sts:ExternalId`) are copied into the relation verbatim, so a
//! conditional trust is never shown as unconditional.
//!
//! Principals that are users or roles of the account point to those entities. Every
//! other principal becomes an identity of its own: `aws-service`, `federated`,
//! `aws-account` (account roots, other accounts' principals), `canonical-user` (an
//! account's S3 canonical user id, which does not show the account id) or `public`
//! (`*`). An account root written as `arn:aws:iam::ID:root` or as the bare `ID` maps to
//! one identity, `arn:<partition>:iam::ID:root`.

use super::builder::{InventoryBuilder, NewRelation};
use super::principals::ROLE;
use super::values::{fields, string_list};
use super::AccountData;
use muster_domain::policy_document::decode_policy_document;
use muster_domain::{EntityKey, EntityType};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

const ASSUME_ROLE_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
];

/// The key under `Principal` a value was written under, or `*` for `"Principal": "*"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PrincipalKind {
    Aws,
    Service,
    Federated,
    CanonicalUser,
    Public,
}

impl PrincipalKind {
    fn from_key(key: &str) -> Option<Self> {
        match key {
            "AWS" => Some(PrincipalKind::Aws),
            "Service" => Some(PrincipalKind::Service),
            "Federated" => Some(PrincipalKind::Federated),
            "CanonicalUser" => Some(PrincipalKind::CanonicalUser),
            _ => None,
        }
    }

    fn key(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
            PrincipalKind::Public => "*",
        }
    }
}

/// Users and roles of the account, to tell own principals from outside ones.
struct PrincipalResolver<'a> {
    account_id: &'a str,
    partition: &'a str,
    users: HashSet<&'a str>,
    roles: HashSet<&'a str>,
}

/// An identity for a principal outside the account's users and roles.
struct ExternalPrincipal {
    source_id: String,
    source_type: &'static str,
    name: String,
    account_id: Option<String>,
}

impl PrincipalResolver<'_> {
    /// Returns the entity a principal value points to, adding an identity for it when
    /// it is not a user or role of the account.
    fn resolve(
        &self,
        inventory: &mut InventoryBuilder,
        kind: PrincipalKind,
        value: &str,
    ) -> EntityKey {
        if kind == PrincipalKind::Aws {
            if self.users.contains(value) {
                return EntityKey::new(EntityType::Identity, value);
            }
            if self.roles.contains(value) {
                return EntityKey::new(EntityType::Connection, value);
            }
        }
        let external = self.external(kind, value);
        let metadata = json!({
            "Principal": value,
            "PrincipalType": kind.key(),
            "AccountId": external.account_id,
            "ThisAccount": external.account_id.as_deref() == Some(self.account_id),
        });
        inventory.add_entity(
            EntityType::Identity,
            &external.source_id,
            external.source_type,
            &external.name,
            fields(metadata),
        )
    }

    fn external(&self, kind: PrincipalKind, value: &str) -> ExternalPrincipal {
        let outside = |source_type: &'static str| ExternalPrincipal {
            source_id: value.to_string(),
            source_type,
            name: value.to_string(),
            account_id: None,
        };
        match kind {
            PrincipalKind::Public => outside("public"),
            PrincipalKind::Aws if value == "*" => outside("public"),
            PrincipalKind::Service => outside("aws-service"),
            PrincipalKind::Federated => outside("federated"),
            PrincipalKind::CanonicalUser => outside("canonical-user"),
            PrincipalKind::Aws => self.aws_principal(value),
        }
    }

    fn aws_principal(&self, value: &str) -> ExternalPrincipal {
        if is_account_id(value) {
            return self.account_root(self.partition, value);
        }
        if let Some((partition, account, resource)) = split_iam_arn(value) {
            if resource == "root" {
                return self.account_root(partition, account);
            }
            return ExternalPrincipal {
                source_id: value.to_string(),
                source_type: "aws-account",
                name: value.to_string(),
                account_id: Some(account.to_string()),
            };
        }
        // A unique id (AIDA…, AROA…) stands for a principal that was deleted.
        ExternalPrincipal {
            source_id: value.to_string(),
            source_type: "aws-account",
            name: value.to_string(),
            account_id: None,
        }
    }

    fn account_root(&self, partition: &str, account: &str) -> ExternalPrincipal {
        ExternalPrincipal {
            source_id: format!("arn:{partition}:iam::{account}:root"),
            source_type: "aws-account",
            name: account.to_string(),
            account_id: Some(account.to_string()),
        }
    }
}

fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|byte| byte.is_ascii_digit())
}

/// Splits `arn:<partition>:iam::<account>:<resource>` (also `sts` ARNs).
fn split_iam_arn(value: &str) -> Option<(&str, &str, &str)> {
    let mut parts = value.splitn(6, ':');
    let (
        Some("arn"),
        Some(partition),
        Some("iam" | "sts"),
        Some(_region),
        Some(account),
        Some(resource),
    ) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    )
    else {
        return None;
    };
    Some((partition, account, resource))
}

pub(super) fn add_trust_relations(inventory: &mut InventoryBuilder, data: &AccountData) {
    let resolver = PrincipalResolver {
        account_id: &data.account_id,
        partition: &data.partition,
        users: data
            .details
            .users
            .iter()
            .filter_map(|user| user.arn())
            .collect(),
        roles: data
            .details
            .roles
            .iter()
            .filter_map(|role| role.arn())
            .collect(),
    };
    for role in &data.details.roles {
        let (Some(role_arn), Some(raw)) = (role.arn(), role.assume_role_policy_document()) else {
            continue;
        };
        // An undecodable trust policy was already reported when the role was added.
        let Ok(trust_policy) = decode_policy_document(raw) else {
            continue;
        };
        let role_key = EntityKey::new(EntityType::Connection, role_arn);
        for statement in statements(&trust_policy) {
            add_statement(inventory, &resolver, &role_key, statement);
        }
    }
}

/// `Statement` as a list, whether it was written as one object or as a list.
fn statements(policy: &Value) -> Vec<&Map<String, Value>> {
    match policy.get("Statement") {
        Some(Value::Object(statement)) => vec![statement],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

fn add_statement(
    inventory: &mut InventoryBuilder,
    resolver: &PrincipalResolver<'_>,
    role_key: &EntityKey,
    statement: &Map<String, Value>,
) {
    let Some(actions) = assume_role_actions(statement) else {
        return;
    };
    let allow = match statement.get("Effect").and_then(Value::as_str) {
        Some("Allow") => true,
        Some("Deny") => false,
        _ => return,
    };

    let mut relation_fields = Map::new();
    relation_fields.insert(
        "Effect".into(),
        Value::from(if allow { "Allow" } else { "Deny" }),
    );
    if let Some(sid) = statement.get("Sid") {
        relation_fields.insert("Sid".into(), sid.clone());
    }
    relation_fields.insert(actions.0.into(), json!(actions.1));
    if let Some(condition) = statement.get("Condition") {
        relation_fields.insert("Condition".into(), condition.clone());
    }
    if let Some(not_principal) = statement.get("NotPrincipal") {
        // Everyone except the listed principals: modelled as `public` with the exception kept.
        relation_fields.insert("NotPrincipal".into(), not_principal.clone());
    }

    let mut seen = HashSet::new();
    for (kind, value) in principals(statement) {
        let parent = resolver.resolve(inventory, kind, &value);
        if !seen.insert(parent.clone()) {
            continue;
        }
        let mut metadata = relation_fields.clone();
        metadata.insert("PrincipalType".into(), Value::from(kind.key()));
        metadata.insert("Principal".into(), Value::from(value));
        inventory.relate(NewRelation {
            parent,
            child: role_key.clone(),
            privilege_name: "assume",
            privilege_value: allow,
            connection_type: ROLE,
            metadata,
        });
    }
}

/// Returns `("Actions", list)` or `("NotActions", list)` as written when the statement
/// covers at least one `sts:AssumeRole*` action, else `None`.
fn assume_role_actions(statement: &Map<String, Value>) -> Option<(&'static str, Vec<String>)> {
    if let Some(patterns) = statement.get("Action") {
        let patterns = string_list(Some(patterns));
        let covers = ASSUME_ROLE_ACTIONS.iter().any(|action| {
            patterns
                .iter()
                .any(|pattern| action_matches(pattern, action))
        });
        return covers.then_some(("Actions", patterns));
    }
    if let Some(patterns) = statement.get("NotAction") {
        let patterns = string_list(Some(patterns));
        let covers = ASSUME_ROLE_ACTIONS.iter().any(|action| {
            !patterns
                .iter()
                .any(|pattern| action_matches(pattern, action))
        });
        return covers.then_some(("NotActions", patterns));
    }
    None
}

/// Matches an IAM action pattern: case-insensitive, `*` for any run, `?` for one character.
fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let action: Vec<char> = action.to_ascii_lowercase().chars().collect();
    let (mut p, mut a) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while a < action.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == action[a]) {
            p += 1;
            a += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, a));
            p += 1;
        } else if let Some((star_p, star_a)) = star {
            p = star_p + 1;
            a = star_a + 1;
            star = Some((star_p, star_a + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Collects every principal of a statement, in the order written. `"Principal": "*"`
/// is the same as `{"AWS": "*"}`. A `NotPrincipal` statement applies to everyone else,
/// so its principal is `*`.
fn principals(statement: &Map<String, Value>) -> Vec<(PrincipalKind, String)> {
    match statement.get("Principal") {
        Some(Value::String(text)) if text == "*" => vec![(PrincipalKind::Public, "*".into())],
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(key, value)| Some((PrincipalKind::from_key(key)?, value)))
            .flat_map(|(kind, value)| {
                string_list(Some(value)).into_iter().map(move |text| {
                    if text == "*" {
                        (PrincipalKind::Public, text)
                    } else {
                        (kind, text)
                    }
                })
            })
            .collect(),
        None if statement.contains_key("NotPrincipal") => {
            vec![(PrincipalKind::Public, "*".into())]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::authorization::AuthorizationDetails;
    use aws_sdk_iam::types::{RoleDetail, UserDetail};

    const ACCOUNT: &str = "123456789012";
    const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/target";
    const USER_ARN: &str = "arn:aws:iam::123456789012:user/alice";

    fn inventory_for(trust_policy: &str) -> muster_domain::Inventory {
        let data = AccountData {
            account_id: ACCOUNT.into(),
            partition: "aws".into(),
            details: AuthorizationDetails {
                users: vec![UserDetail::builder()
                    .arn(USER_ARN)
                    .user_name("alice")
                    .build()],
                roles: vec![RoleDetail::builder()
                    .arn(ROLE_ARN)
                    .role_name("target")
                    .assume_role_policy_document(trust_policy)
                    .build()],
                ..Default::default()
            },
            ..Default::default()
        };
        let inventory = super::super::build_inventory(&data);
        inventory.validate().unwrap();
        inventory
    }

    fn assume_parents(inventory: &muster_domain::Inventory) -> Vec<(String, bool)> {
        let mut parents: Vec<(String, bool)> = inventory
            .relations
            .iter()
            .filter(|relation| relation.privilege_name == "assume")
            .map(|relation| (relation.parent.source_id.clone(), relation.privilege_value))
            .collect();
        parents.sort();
        parents
    }

    fn source_type(inventory: &muster_domain::Inventory, source_id: &str) -> String {
        inventory
            .entities
            .iter()
            .find(|entity| entity.source_id == source_id)
            .map(|entity| entity.source_type.clone())
            .unwrap_or_default()
    }

    #[test]
    fn principal_star_string_is_public() {
        let inventory = inventory_for(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#,
        );
        assert_eq!(assume_parents(&inventory), vec![("*".to_string(), true)]);
        assert_eq!(source_type(&inventory, "*"), "public");
    }

    #[test]
    fn aws_star_same_as_star() {
        let inventory = inventory_for(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"sts:AssumeRole"}]}"#,
        );
        assert_eq!(assume_parents(&inventory), vec![("*".to_string(), true)]);
    }

    #[test]
    fn multi_key_principal_yields_every_principal() {
        let inventory = inventory_for(
            r#"{"Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:AssumeRoleWithSAML"],
               "Principal":{"AWS":["arn:aws:iam::123456789012:user/alice","444455556666"],
                            "Service":"ec2.amazonaws.com",
                            "Federated":["arn:aws:iam::123456789012:saml-provider/idp"],
                            "CanonicalUser":"79a59df900b949e5"}}]}"#,
        );
        let parents: Vec<String> = assume_parents(&inventory)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(
            parents,
            vec![
                "79a59df900b949e5",
                "arn:aws:iam::123456789012:saml-provider/idp",
                USER_ARN,
                "arn:aws:iam::444455556666:root",
                "ec2.amazonaws.com",
            ]
        );
        assert_eq!(source_type(&inventory, "ec2.amazonaws.com"), "aws-service");
        assert_eq!(
            source_type(&inventory, "arn:aws:iam::123456789012:saml-provider/idp"),
            "federated"
        );
        assert_eq!(
            source_type(&inventory, "arn:aws:iam::444455556666:root"),
            "aws-account"
        );
        assert_eq!(
            source_type(&inventory, "79a59df900b949e5"),
            "canonical-user"
        );
        assert_eq!(source_type(&inventory, USER_ARN), "user");
    }

    #[test]
    fn root_arn_and_bare_id_are_one_identity() {
        let inventory = inventory_for(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
               "Principal":{"AWS":["arn:aws:iam::123456789012:root","123456789012"]}}]}"#,
        );
        assert_eq!(
            assume_parents(&inventory),
            vec![("arn:aws:iam::123456789012:root".to_string(), true)]
        );
        let root = inventory
            .entities
            .iter()
            .find(|entity| entity.source_id == "arn:aws:iam::123456789012:root")
            .unwrap();
        assert_eq!(root.metadata["ThisAccount"], true);
    }

    #[test]
    fn own_role_principal_points_to_role() {
        let inventory = inventory_for(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
               "Principal":{"AWS":"arn:aws:iam::123456789012:role/target"}}]}"#,
        );
        let relation = inventory
            .relations
            .iter()
            .find(|relation| relation.privilege_name == "assume")
            .unwrap();
        assert_eq!(
            relation.parent,
            EntityKey::new(EntityType::Connection, ROLE_ARN)
        );
        assert_eq!(
            relation.child,
            EntityKey::new(EntityType::Connection, ROLE_ARN)
        );
    }

    #[test]
    fn other_account_role_is_aws_account_identity() {
        let inventory = inventory_for(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
               "Principal":{"AWS":"arn:aws:iam::999988887777:role/ci"}}]}"#,
        );
        let principal = inventory
            .entities
            .iter()
            .find(|entity| entity.source_id == "arn:aws:iam::999988887777:role/ci")
            .unwrap();
        assert_eq!(principal.entity_type, EntityType::Identity);
        assert_eq!(principal.source_type, "aws-account");
        assert_eq!(principal.metadata["AccountId"], "999988887777");
        assert_eq!(principal.metadata["ThisAccount"], false);
    }

    #[test]
    fn deny_statement_gives_false_privilege() {
        let inventory = inventory_for(
            r#"{"Statement":[{"Effect":"Deny","Action":"sts:*","Principal":{"AWS":"111122223333"}}]}"#,
        );
        assert_eq!(
            assume_parents(&inventory),
            vec![("arn:aws:iam::111122223333:root".to_string(), false)]
        );
    }

    #[test]
    fn condition_is_kept_verbatim() {
        let inventory = inventory_for(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
               "Principal":{"AWS":"111122223333"},
               "Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}"#,
        );
        let relation = inventory
            .relations
            .iter()
            .find(|relation| relation.privilege_name == "assume")
            .unwrap();
        assert_eq!(
            relation.metadata["Condition"],
            json!({"StringEquals": {"sts:ExternalId": "ext-1"}})
        );
        assert_eq!(relation.metadata["Actions"], json!(["sts:AssumeRole"]));
    }

    #[test]
    fn statements_without_assume_role_are_skipped() {
        let inventory = inventory_for(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:TagSession","Principal":{"AWS":"111122223333"}},
               {"Effect":"Allow","NotAction":"sts:AssumeRole*","Principal":{"AWS":"444455556666"}}]}"#,
        );
        assert!(assume_parents(&inventory).is_empty());
    }

    #[test]
    fn url_encoded_trust_policy_is_decoded() {
        let inventory = inventory_for(
            "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%7D",
        );
        assert_eq!(
            assume_parents(&inventory),
            vec![("lambda.amazonaws.com".to_string(), true)]
        );
    }

    #[test]
    fn action_wildcards() {
        assert!(action_matches("sts:AssumeRole*", "sts:AssumeRoleWithSAML"));
        assert!(action_matches("STS:assumerole", "sts:AssumeRole"));
        assert!(action_matches("*", "sts:AssumeRole"));
        assert!(action_matches("sts:Assume?ole", "sts:AssumeRole"));
        assert!(!action_matches("sts:Assume?ole", "sts:AssumeRRole"));
        assert!(!action_matches("sts:TagSession", "sts:AssumeRole"));
        assert!(!action_matches("iam:*", "sts:AssumeRole"));
    }
}
