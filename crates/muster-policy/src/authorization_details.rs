//! Loading an [`Account`] from the JSON that `aws iam get-account-authorization-details`
//! prints (`UserDetailList`, `GroupDetailList`, `RoleDetailList`, `Policies`).
//!
//! Policy documents may be JSON objects (as the AWS CLI prints them) or percent-encoded
//! strings (as the IAM API returns them). A document that does not parse, or a managed
//! policy ARN that the file does not define, does not stop the load: it is reported in
//! [`LoadedAccount::problems`] so that nothing is dropped silently.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::account::{Account, Group, ManagedPolicy, NamedPolicy, Role, User};
use crate::catalog::catalog;
use crate::document::{share_catalog_actions, Policy};
use crate::parse::{parse_policy, parse_policy_text, PolicyError};

/// A file that is not authorization details at all.
#[derive(Debug, thiserror::Error)]
#[error("invalid authorization details at `{path}`: {message}")]
pub struct LoadError {
    pub path: String,
    pub message: String,
}

/// Something in the file that was skipped, and why.
#[derive(Debug, thiserror::Error)]
pub enum LoadProblem {
    #[error("{owner}: {error}")]
    InvalidPolicy { owner: String, error: PolicyError },
    #[error("{owner}: managed policy `{arn}` is not in the file's `Policies` list")]
    MissingManagedPolicy { owner: String, arn: String },
    #[error("{owner}: group `{group}` is not in the file's `GroupDetailList`")]
    MissingGroup { owner: String, group: String },
    #[error("managed policy `{arn}` has no readable default version, so it is left out")]
    NoDefaultVersion { arn: String },
}

/// The loaded account and the problems found while loading it.
#[derive(Debug)]
pub struct LoadedAccount {
    pub account: Account,
    pub problems: Vec<LoadProblem>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct Details<'a> {
    #[serde(deserialize_with = "nullable")]
    #[serde(borrow)]
    user_detail_list: Vec<UserDetail<'a>>,
    #[serde(deserialize_with = "nullable")]
    #[serde(borrow)]
    group_detail_list: Vec<GroupDetail<'a>>,
    #[serde(deserialize_with = "nullable")]
    #[serde(borrow)]
    role_detail_list: Vec<RoleDetail<'a>>,
    #[serde(deserialize_with = "nullable")]
    #[serde(borrow)]
    policies: Vec<PolicyDetail<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct UserDetail<'a> {
    #[serde(deserialize_with = "nullable")]
    user_name: String,
    #[serde(deserialize_with = "nullable")]
    user_id: String,
    #[serde(deserialize_with = "nullable")]
    arn: String,
    #[serde(deserialize_with = "nullable")]
    #[serde(borrow)]
    user_policy_list: Vec<InlinePolicy<'a>>,
    #[serde(deserialize_with = "nullable")]
    group_list: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    attached_managed_policies: Vec<AttachedPolicy>,
    permissions_boundary: Option<Boundary>,
    #[serde(deserialize_with = "nullable")]
    tags: Vec<Tag>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct GroupDetail<'a> {
    #[serde(deserialize_with = "nullable")]
    group_name: String,
    #[serde(deserialize_with = "nullable")]
    group_id: String,
    #[serde(deserialize_with = "nullable")]
    arn: String,
    #[serde(deserialize_with = "nullable")]
    #[serde(borrow)]
    group_policy_list: Vec<InlinePolicy<'a>>,
    #[serde(deserialize_with = "nullable")]
    attached_managed_policies: Vec<AttachedPolicy>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct RoleDetail<'a> {
    #[serde(deserialize_with = "nullable")]
    role_name: String,
    #[serde(deserialize_with = "nullable")]
    role_id: String,
    #[serde(deserialize_with = "nullable")]
    arn: String,
    #[serde(borrow)]
    assume_role_policy_document: Option<&'a RawValue>,
    #[serde(deserialize_with = "nullable")]
    #[serde(borrow)]
    role_policy_list: Vec<InlinePolicy<'a>>,
    #[serde(deserialize_with = "nullable")]
    attached_managed_policies: Vec<AttachedPolicy>,
    permissions_boundary: Option<Boundary>,
    #[serde(deserialize_with = "nullable")]
    tags: Vec<Tag>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct PolicyDetail<'a> {
    #[serde(deserialize_with = "nullable")]
    policy_name: String,
    #[serde(deserialize_with = "nullable")]
    arn: String,
    default_version_id: Option<String>,
    #[serde(deserialize_with = "nullable")]
    #[serde(borrow)]
    policy_version_list: Vec<PolicyVersionDetail<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct PolicyVersionDetail<'a> {
    #[serde(borrow)]
    document: Option<&'a RawValue>,
    #[serde(deserialize_with = "nullable")]
    version_id: String,
    #[serde(deserialize_with = "nullable")]
    is_default_version: bool,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct InlinePolicy<'a> {
    #[serde(deserialize_with = "nullable")]
    policy_name: String,
    #[serde(borrow)]
    policy_document: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct AttachedPolicy {
    #[serde(deserialize_with = "nullable")]
    policy_arn: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct Boundary {
    #[serde(deserialize_with = "nullable")]
    permissions_boundary_arn: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct Tag {
    #[serde(deserialize_with = "nullable")]
    key: String,
    #[serde(deserialize_with = "nullable")]
    value: String,
}

/// Reads a value that may be `null`, as some tools write for empty lists.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Loads an account from authorization-details JSON text.
pub fn load_authorization_details(text: &str) -> Result<LoadedAccount, LoadError> {
    // The analysis that usually follows needs the action catalog: read it on another
    // thread while this one reads the file.
    rayon::spawn(|| {
        catalog();
    });

    let mut deserializer = serde_json::Deserializer::from_str(text);
    let details = Details::deserialize(&mut deserializer).map_err(|_| located_error(text))?;
    let documents = Documents::parse(&details);
    Ok(build(details, &documents))
}

/// Reads `text` again, tracking the JSON path, to say where it is not authorization
/// details. Tracking the path costs time on every value, so it is done only for errors.
fn located_error(text: &str) -> LoadError {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, Details>(&mut deserializer) {
        Err(error) => LoadError {
            path: error.path().to_string(),
            message: error.inner().to_string(),
        },
        // Both passes read the same text the same way, so this arm is not reached.
        Ok(_) => LoadError {
            path: String::new(),
            message: "failed to load, but a second read found no error".to_string(),
        },
    }
}

/// The policy documents of a file, parsed in parallel and once per distinct text: many
/// principals often carry the same inline policy.
struct Documents<'a> {
    index: HashMap<&'a str, usize>,
    parsed: Vec<Result<Arc<Policy>, PolicyError>>,
}

impl<'a> Documents<'a> {
    fn parse(details: &Details<'a>) -> Documents<'a> {
        let mut raw: Vec<&'a RawValue> = Vec::new();
        for policy in &details.policies {
            raw.extend(
                policy
                    .policy_version_list
                    .iter()
                    .filter_map(|version| version.document),
            );
        }
        let inline = |list: &[InlinePolicy<'a>], raw: &mut Vec<&'a RawValue>| {
            raw.extend(list.iter().filter_map(|policy| policy.policy_document));
        };
        for group in &details.group_detail_list {
            inline(&group.group_policy_list, &mut raw);
        }
        for user in &details.user_detail_list {
            inline(&user.user_policy_list, &mut raw);
        }
        for role in &details.role_detail_list {
            raw.extend(role.assume_role_policy_document);
            inline(&role.role_policy_list, &mut raw);
        }

        let mut index = HashMap::with_capacity(raw.len());
        let mut texts: Vec<&str> = Vec::new();
        for document in raw {
            index.entry(document.get()).or_insert_with(|| {
                texts.push(document.get());
                texts.len() - 1
            });
        }
        let mut parsed: Vec<Result<Policy, PolicyError>> =
            texts.par_iter().map(|text| parse_raw(text)).collect();
        let mut policies: Vec<&mut Policy> = parsed
            .iter_mut()
            .filter_map(|policy| policy.as_mut().ok())
            .collect();
        share_catalog_actions(&mut policies);
        let parsed = parsed
            .into_iter()
            .map(|policy| policy.map(Arc::new))
            .collect();
        Documents { index, parsed }
    }

    /// Returns the parsed document. Errors are not kept, so a failed document is parsed
    /// again for its error.
    fn get(&self, document: &RawValue) -> Result<Arc<Policy>, PolicyError> {
        let parsed = self
            .index
            .get(document.get())
            .and_then(|index| self.parsed.get(*index));
        match parsed {
            Some(Ok(policy)) => Ok(policy.clone()),
            _ => parse_raw(document.get()).map(Arc::new),
        }
    }
}

/// Parses a document given as a JSON object or as a string holding the percent-encoded
/// JSON.
fn parse_raw(text: &str) -> Result<Policy, PolicyError> {
    // The text is one JSON value cut from a file that parsed, so it parses again. `null`
    // (reported as the wrong type) is used only for that impossible failure.
    let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    match &value {
        Value::String(text) => parse_policy_text(text),
        other => parse_policy(other),
    }
}

fn build(details: Details, documents: &Documents) -> LoadedAccount {
    let mut problems = Vec::new();

    let managed_policies: Vec<ManagedPolicy> = details
        .policies
        .into_iter()
        .filter_map(|detail| managed_policy(detail, documents, &mut problems))
        .collect();

    let groups: Vec<Group> = details
        .group_detail_list
        .into_iter()
        .map(|detail| {
            let owner = format!("group `{}`", detail.group_name);
            Group {
                inline_policies: inline_policies(
                    detail.group_policy_list,
                    &owner,
                    documents,
                    &mut problems,
                ),
                managed_policy_arns: arns(detail.attached_managed_policies),
                name: detail.group_name,
                id: detail.group_id,
                arn: detail.arn,
            }
        })
        .collect();

    let users: Vec<User> = details
        .user_detail_list
        .into_iter()
        .map(|detail| {
            let owner = format!("user `{}`", detail.user_name);
            User {
                inline_policies: inline_policies(
                    detail.user_policy_list,
                    &owner,
                    documents,
                    &mut problems,
                ),
                managed_policy_arns: arns(detail.attached_managed_policies),
                groups: detail.group_list,
                permissions_boundary: boundary_arn(detail.permissions_boundary),
                tags: tags(detail.tags),
                name: detail.user_name,
                id: detail.user_id,
                arn: detail.arn,
            }
        })
        .collect();

    let roles: Vec<Role> = details
        .role_detail_list
        .into_iter()
        .map(|detail| {
            let owner = format!("role `{}`", detail.role_name);
            let trust_policy = detail.assume_role_policy_document.and_then(|document| {
                document_or_problem(
                    document,
                    &format!("trust policy of {owner}"),
                    documents,
                    &mut problems,
                )
            });
            Role {
                inline_policies: inline_policies(
                    detail.role_policy_list,
                    &owner,
                    documents,
                    &mut problems,
                ),
                managed_policy_arns: arns(detail.attached_managed_policies),
                permissions_boundary: boundary_arn(detail.permissions_boundary),
                trust_policy,
                tags: tags(detail.tags),
                name: detail.role_name,
                id: detail.role_id,
                arn: detail.arn,
            }
        })
        .collect();

    let account = Account::new(None, users, groups, roles, managed_policies);
    report_dangling_references(&account, &mut problems);
    LoadedAccount { account, problems }
}

fn report_dangling_references(account: &Account, problems: &mut Vec<LoadProblem>) {
    let mut check_policy = |owner: &str, arn: &str| {
        if account.managed_policy(arn).is_none() {
            problems.push(LoadProblem::MissingManagedPolicy {
                owner: owner.to_string(),
                arn: arn.to_string(),
            });
        }
    };
    for user in &account.users {
        let owner = format!("user `{}`", user.name);
        user.managed_policy_arns
            .iter()
            .for_each(|arn| check_policy(&owner, arn));
        if let Some(arn) = &user.permissions_boundary {
            check_policy(&owner, arn);
        }
    }
    for role in &account.roles {
        let owner = format!("role `{}`", role.name);
        role.managed_policy_arns
            .iter()
            .for_each(|arn| check_policy(&owner, arn));
        if let Some(arn) = &role.permissions_boundary {
            check_policy(&owner, arn);
        }
    }
    for group in &account.groups {
        let owner = format!("group `{}`", group.name);
        group
            .managed_policy_arns
            .iter()
            .for_each(|arn| check_policy(&owner, arn));
    }
    for user in &account.users {
        for group in &user.groups {
            if account.group(group).is_none() {
                problems.push(LoadProblem::MissingGroup {
                    owner: format!("user `{}`", user.name),
                    group: group.clone(),
                });
            }
        }
    }
}

fn managed_policy(
    detail: PolicyDetail,
    documents: &Documents,
    problems: &mut Vec<LoadProblem>,
) -> Option<ManagedPolicy> {
    let owner = format!("managed policy `{}`", detail.arn);
    let mut default = None;
    let mut other_versions = Vec::new();
    for version in detail.policy_version_list {
        let is_default = version.is_default_version
            || detail.default_version_id.as_deref() == Some(&version.version_id);
        let Some(document) = version.document else {
            continue;
        };
        let owner = format!("{owner} version `{}`", version.version_id);
        let Some(document) = document_or_problem(document, &owner, documents, problems) else {
            continue;
        };
        if is_default {
            default = Some(document);
        } else {
            other_versions.push((version.version_id, document));
        }
    }
    let name = if detail.policy_name.is_empty() {
        detail
            .arn
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        detail.policy_name
    };
    let Some(document) = default else {
        problems.push(LoadProblem::NoDefaultVersion { arn: detail.arn });
        return None;
    };
    Some(ManagedPolicy {
        document,
        arn: detail.arn,
        name,
        default_version_id: detail.default_version_id,
        other_versions,
    })
}

fn inline_policies(
    list: Vec<InlinePolicy>,
    owner: &str,
    documents: &Documents,
    problems: &mut Vec<LoadProblem>,
) -> Vec<NamedPolicy> {
    list.into_iter()
        .filter_map(|policy| {
            let document = policy.policy_document?;
            let owner = format!("inline policy `{}` of {owner}", policy.policy_name);
            let document = document_or_problem(document, &owner, documents, problems)?;
            Some(NamedPolicy {
                name: policy.policy_name,
                document,
            })
        })
        .collect()
}

fn document_or_problem(
    document: &RawValue,
    owner: &str,
    documents: &Documents,
    problems: &mut Vec<LoadProblem>,
) -> Option<Arc<Policy>> {
    match documents.get(document) {
        Ok(policy) => Some(policy),
        Err(error) => {
            problems.push(LoadProblem::InvalidPolicy {
                owner: owner.to_string(),
                error,
            });
            None
        }
    }
}

fn arns(list: Vec<AttachedPolicy>) -> Vec<String> {
    list.into_iter().map(|policy| policy.policy_arn).collect()
}

fn boundary_arn(boundary: Option<Boundary>) -> Option<String> {
    boundary
        .map(|boundary| boundary.permissions_boundary_arn)
        .filter(|arn| !arn.is_empty())
}

fn tags(list: Vec<Tag>) -> Vec<(String, String)> {
    list.into_iter().map(|tag| (tag.key, tag.value)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn documents_may_be_objects_or_percent_encoded() {
        let details = json!({
            "UserDetailList": [{"UserName": "alice", "UserId": "AIDAALICE", "Arn": "arn:aws:iam::111122223333:user/alice",
                "UserPolicyList": [{"PolicyName": "encoded", "PolicyDocument":
                    "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Aa%2Bb+c%2F%2A%22%7D%7D"}],
                "GroupList": ["devs"], "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::111122223333:policy/team"}],
                "Tags": [{"Key": "team", "Value": "data"}]}],
            "GroupDetailList": [{"GroupName": "devs", "Arn": "arn:aws:iam::111122223333:group/devs",
                "GroupPolicyList": [{"PolicyName": "object", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}}]}],
            "RoleDetailList": [{"RoleName": "ci", "Arn": "arn:aws:iam::111122223333:role/ci",
                "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}],
            "Policies": [{"Arn": "arn:aws:iam::111122223333:policy/team", "DefaultVersionId": "v2", "PolicyVersionList": [
                {"Document": {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}, "VersionId": "v1", "IsDefaultVersion": false},
                {"Document": {"Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}, "VersionId": "v2", "IsDefaultVersion": true}]}]
        });

        let loaded = load_authorization_details(&details.to_string()).unwrap();
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let account = &loaded.account;
        assert_eq!(account.account_id.as_deref(), Some("111122223333"));

        let alice = &account.users[0];
        assert_eq!(
            alice.inline_policies[0].document.statements[0].resource_patterns()[0].as_str(),
            "arn:aws:s3:::a+b+c/*"
        );
        assert_eq!(alice.tags, [("team".to_string(), "data".to_string())]);

        let team = account
            .managed_policy("arn:aws:iam::111122223333:policy/team")
            .unwrap();
        assert_eq!(
            team.name, "team",
            "filled from the ARN when PolicyName is missing"
        );
        assert!(team.document.statements[0].matches_action("s3:ListBucket"));
        assert!(!team.document.statements[0].matches_action("s3:GetObject"));
        assert_eq!(team.other_versions.len(), 1);
        assert!(account.roles[0].trust_policy.is_some());

        let alice_policies = account.policies_of(account.principal_by_name("alice").unwrap());
        assert_eq!(
            alice_policies.identity.len(),
            3,
            "inline, managed and the group's inline policy"
        );
    }

    #[test]
    fn problems_are_reported_not_dropped() {
        let details = json!({
            "UserDetailList": [{"UserName": "bob", "Arn": "arn:aws:iam::111122223333:user/bob",
                "UserPolicyList": [{"PolicyName": "broken", "PolicyDocument": {"Statement": [{"Effect": "Permit", "Action": "*"}]}}],
                "GroupList": ["ghosts"], "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::aws:policy/Deprecated"}],
                "PermissionsBoundary": {"PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/boundary"}}],
            "Policies": [{"Arn": "arn:aws:iam::111122223333:policy/empty", "PolicyVersionList": []}]
        });
        let loaded = load_authorization_details(&details.to_string()).unwrap();
        let messages: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert_eq!(messages, [
            "managed policy `arn:aws:iam::111122223333:policy/empty` has no readable default version, so it is left out",
            "inline policy `broken` of user `bob`: invalid policy at `Statement[0].Effect`: effect `Permit` is neither `Allow` nor `Deny`",
            "user `bob`: managed policy `arn:aws:iam::aws:policy/Deprecated` is not in the file's `Policies` list",
            "user `bob`: managed policy `arn:aws:iam::111122223333:policy/boundary` is not in the file's `Policies` list",
            "user `bob`: group `ghosts` is not in the file's `GroupDetailList`",
        ]);
    }

    #[test]
    fn nulls_read_as_empty() {
        let details = r#"{"UserDetailList": [{"UserName": "carol", "Arn": "arn:aws:iam::111122223333:user/carol",
            "UserPolicyList": null, "GroupList": null, "AttachedManagedPolicies": null, "Tags": null,
            "PermissionsBoundary": null}], "GroupDetailList": null, "RoleDetailList": null, "Policies": null}"#;
        let loaded = load_authorization_details(details).unwrap();
        assert!(loaded.problems.is_empty());
        assert_eq!(loaded.account.users[0].name, "carol");
        assert!(loaded.account.users[0].groups.is_empty());
    }

    #[test]
    fn wrong_shapes_name_the_path() {
        let error =
            load_authorization_details(r#"{"UserDetailList": [{"UserName": 5}]}"#).unwrap_err();
        assert_eq!(error.path, "UserDetailList[0].UserName");
        assert!(load_authorization_details("not json").is_err());
    }
}
