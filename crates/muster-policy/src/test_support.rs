//! Builders shared by unit tests: accounts from compact JSON.

use serde_json::{json, Value};

use crate::account::Account;
use crate::authorization_details::load_authorization_details;

pub const ACCOUNT: &str = "111122223333";

pub fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

pub fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

pub fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

/// Builds a user entry with inline policy documents (named `inline0`, `inline1`, …).
pub fn user(name: &str, inline: Vec<Value>) -> Value {
    json!({
        "UserName": name, "UserId": format!("AIDA{}", name.to_uppercase()), "Arn": user_arn(name),
        "UserPolicyList": named(inline), "GroupList": [], "AttachedManagedPolicies": []
    })
}

/// Builds a role entry with a trust policy and inline policy documents.
pub fn role(name: &str, trust: Value, inline: Vec<Value>) -> Value {
    json!({
        "RoleName": name, "RoleId": format!("AROA{}", name.to_uppercase()), "Arn": role_arn(name),
        "AssumeRolePolicyDocument": trust, "RolePolicyList": named(inline), "AttachedManagedPolicies": []
    })
}

pub fn group(name: &str, inline: Vec<Value>) -> Value {
    json!({
        "GroupName": name, "GroupId": format!("AGPA{}", name.to_uppercase()),
        "Arn": format!("arn:aws:iam::{ACCOUNT}:group/{name}"),
        "GroupPolicyList": named(inline), "AttachedManagedPolicies": []
    })
}

/// Builds a customer managed policy with one default version.
pub fn managed(name: &str, document: Value) -> Value {
    json!({
        "PolicyName": name, "Arn": policy_arn(name), "DefaultVersionId": "v1",
        "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": true}]
    })
}

fn named(documents: Vec<Value>) -> Vec<Value> {
    documents
        .into_iter()
        .enumerate()
        .map(|(index, document)| json!({"PolicyName": format!("inline{index}"), "PolicyDocument": document}))
        .collect()
}

/// Builds an identity policy document with one Allow statement.
pub fn allow(action: Value, resource: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}

/// Builds a trust policy letting `principal` (a `Principal` element) assume the role.
pub fn trust(principal: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})
}

/// Loads an account; panics on any load problem so fixtures stay valid.
pub fn account(
    users: Vec<Value>,
    groups: Vec<Value>,
    roles: Vec<Value>,
    policies: Vec<Value>,
) -> Account {
    let details = json!({
        "UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies
    });
    let loaded = load_authorization_details(&details.to_string()).unwrap();
    assert!(
        loaded.problems.is_empty(),
        "fixture problems: {:?}",
        loaded.problems
    );
    loaded.account
}
