use std::sync::Arc;

use serde_json::{json, Value};

use super::*;
use crate::account::PolicySource;
use crate::catalog::catalog;
use crate::parse::parse_policy;

fn sourced(name: &str, document: Value) -> SourcedPolicy {
    SourcedPolicy {
        source: PolicySource::Other { name: name.into() },
        document: Arc::new(parse_policy(&document).unwrap()),
    }
}

fn identity(documents: Vec<Value>) -> PrincipalPolicies {
    PrincipalPolicies {
        identity: documents
            .into_iter()
            .enumerate()
            .map(|(index, document)| sourced(&format!("p{index}"), document))
            .collect(),
        ..PrincipalPolicies::default()
    }
}

fn open() -> RequestContext {
    RequestContext::new()
}

#[test]
fn action_star_is_admin() {
    let policies = identity(vec![
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    ]);
    let bits = access_bits(&policies, &open(), catalog());
    assert!(bits.is_admin(catalog()));
    let access = effective_access(&policies, &open(), catalog());
    assert_eq!(access.action_count(), catalog().len());
    let create_user = access.action("iam:CreateUser").unwrap();
    assert_eq!(create_user.resources, ResourceScope::All);
    assert!(!create_user.conditional);
}

#[test]
fn action_star_on_specific_resource_is_not_admin() {
    let policies = identity(vec![
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}]}),
    ]);
    let bits = access_bits(&policies, &open(), catalog());
    assert!(!bits.is_admin(catalog()));
    assert_eq!(bits.any.len(), catalog().len());
    let access = effective_access(&policies, &open(), catalog());
    assert_eq!(
        access.action("s3:GetObject").unwrap().resources,
        ResourceScope::Specific(vec!["arn:aws:s3:::b/*".into()])
    );
}

#[test]
fn not_action_allows_everything_else() {
    let policies = identity(vec![
        json!({"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}]}),
    ]);
    let access = effective_access(&policies, &open(), catalog());
    assert!(access.action("s3:GetObject").is_some());
    assert!(access.action("ec2:RunInstances").is_some());
    assert!(access.action("iam:CreateUser").is_none());
    assert!(access.action("organizations:LeaveOrganization").is_none());
    assert!(!access_bits(&policies, &open(), catalog()).is_admin(catalog()));
}

#[test]
fn conditional_deny_makes_admin_conditional() {
    let policies = identity(vec![json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2024-05-01T00:00:00Z"}}}]})]);
    let bits = access_bits(&policies, &open(), catalog());
    assert!(!bits.is_admin(catalog()));
    assert!(bits.is_possibly_admin(catalog()));
    let access = effective_access(&policies, &open(), catalog());
    let create_user = access.action("iam:CreateUser").unwrap();
    assert!(
        create_user.conditional,
        "a denied action must not be listed as plainly allowed"
    );
    assert_eq!(
        create_user.conditions,
        ["unless DateLessThan aws:TokenIssueTime `2024-05-01T00:00:00Z`"]
    );
}

#[test]
fn unconditional_deny_removes_actions() {
    let policies = identity(vec![json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::audit/*"}]})]);
    let access = effective_access(&policies, &open(), catalog());
    assert!(access.action("s3:DeleteBucket").is_none());
    let delete_object = access.action("s3:DeleteObject").unwrap();
    assert_eq!(delete_object.denied_on, ["arn:aws:s3:::audit/*"]);
    assert!(!access_bits(&policies, &open(), catalog())
        .all_resources
        .contains(catalog().find("s3:DeleteObject").unwrap()));
}

#[test]
fn boundary_narrows_actions_and_resources() {
    let mut policies = identity(vec![
        json!({"Statement": [{"Effect": "Allow", "Action": ["s3:*", "iam:*"], "Resource": "*"}]}),
    ]);
    policies.boundary = Some(sourced(
        "boundary",
        json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::team/*"}]}),
    ));
    let access = effective_access(&policies, &open(), catalog());
    assert!(access.action("iam:CreateUser").is_none());
    assert_eq!(
        access.action("s3:GetObject").unwrap().resources,
        ResourceScope::Specific(vec!["arn:aws:s3:::team/*".into()])
    );
}

#[test]
fn conditions_decided_by_principal_context() {
    let policies = identity(vec![json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "data"}}}]})]);
    let mut tagged = RequestContext::new();
    tagged.insert("aws:PrincipalTag/team", "data");
    assert!(
        !effective_access(&policies, &tagged, catalog())
            .action("s3:GetObject")
            .unwrap()
            .conditional
    );
    let mut untagged = RequestContext::new();
    untagged.mark_prefix_complete("aws:PrincipalTag/");
    assert!(effective_access(&policies, &untagged, catalog())
        .action("s3:GetObject")
        .is_none());
    let unknown = effective_access(&policies, &open(), catalog());
    assert!(unknown.action("s3:GetObject").unwrap().conditional);
}

#[test]
fn grouped_by_service_and_level() {
    let policies = identity(vec![
        json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "s3:PutObject", "ec2:DescribeInstances"], "Resource": "*"}]}),
    ]);
    let access = effective_access(&policies, &open(), catalog());
    let prefixes: Vec<&str> = access
        .services
        .iter()
        .map(|service| service.prefix.as_str())
        .collect();
    assert_eq!(prefixes, ["ec2", "s3"]);
    let s3_levels: Vec<AccessLevel> = access.services[1]
        .levels
        .iter()
        .map(|level| level.level)
        .collect();
    assert_eq!(
        s3_levels,
        [AccessLevel::List, AccessLevel::Read, AccessLevel::Write]
    );
    assert_eq!(
        access.action("s3:PutObject").unwrap().granted_by[0].to_string(),
        "statement 1 of policy `p0`"
    );
}

#[test]
fn not_resource_scope_is_all_except() {
    let policies = identity(vec![json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::vault/*"}]})]);
    let access = effective_access(&policies, &open(), catalog());
    assert_eq!(
        access.action("s3:GetObject").unwrap().resources,
        ResourceScope::AllExcept(vec!["arn:aws:s3:::vault/*".into()])
    );
    assert!(!access_bits(&policies, &open(), catalog()).is_possibly_admin(catalog()));
}

#[test]
fn service_control_policies_cap_effective_access() {
    let mut policies = identity(vec![
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    ]);
    policies.service_control = vec![vec![sourced(
        "deny-leaving",
        json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}),
    )]];
    let bits = access_bits(&policies, &open(), catalog());
    assert!(!bits.is_admin(catalog()));
    let access = effective_access(&policies, &open(), catalog());
    assert!(access.action("organizations:LeaveOrganization").is_none());
    assert!(access.action("iam:CreateUser").is_some());
}
