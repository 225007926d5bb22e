use serde_json::json;

use super::*;
use crate::test_support::*;

fn fixture() -> Account {
    account(
        vec![
            user("alice", vec![allow(json!("sts:AssumeRole"), json!("*"))]),
            user("bob", vec![]),
            user(
                "carol",
                vec![json!({"Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
                {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": role_arn("deploy")}]})],
            ),
        ],
        vec![],
        vec![
            role(
                "deploy",
                trust(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")})),
                vec![],
            ),
            role("named", trust(json!({"AWS": [user_arn("bob")]})), vec![]),
            role("bare-account", trust(json!({"AWS": ACCOUNT})), vec![]),
            role(
                "external",
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::444455556666:role/deployer",
                        "Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"],
                        "Federated": "arn:aws:iam::111122223333:saml-provider/corp-idp"},
                    "Action": ["sts:AssumeRole", "sts:AssumeRoleWithSAML"]}]}),
                vec![],
            ),
            role(
                "with-external-id",
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": "shared-secret"}}}]}),
                vec![],
            ),
            role("public", trust(json!("*")), vec![]),
        ],
        vec![],
    )
}

fn role_index(account: &Account, name: &str) -> usize {
    account
        .roles
        .iter()
        .position(|role| role.name == name)
        .unwrap()
}

fn assumers(account: &Account, name: &str) -> Vec<(String, Verdict, TrustGrant)> {
    who_can_assume(account, role_index(account, name))
        .principals
        .into_iter()
        .map(|assumer| {
            (
                account.principal_name(assumer.principal).to_string(),
                assumer.verdict,
                assumer.via,
            )
        })
        .collect()
}

#[test]
fn account_trust_needs_identity_allow() {
    let account = fixture();
    assert_eq!(
        assumers(&account, "deploy"),
        [("alice".to_string(), Verdict::Allowed, TrustGrant::Account)]
    );
    assert_eq!(
        assumers(&account, "bare-account"),
        [
            ("alice".to_string(), Verdict::Allowed, TrustGrant::Account),
            ("carol".to_string(), Verdict::Allowed, TrustGrant::Account),
        ]
    );
}

#[test]
fn named_trust_suffices_in_same_account() {
    let account = fixture();
    assert_eq!(
        assumers(&account, "named"),
        [("bob".to_string(), Verdict::Allowed, TrustGrant::Named)]
    );
}

#[test]
fn identity_deny_is_respected() {
    let account = fixture();
    let carol = account.principal_by_name("carol").unwrap();
    assert!(can_assume(&account, carol, role_index(&account, "deploy")).is_none());
}

#[test]
fn trust_conditions_make_it_conditional() {
    let account = fixture();
    let result = who_can_assume(&account, role_index(&account, "with-external-id"));
    let alice = &result.principals[0];
    assert_eq!(alice.verdict, Verdict::Conditional);
    assert_eq!(
        alice.conditions,
        ["StringEquals sts:ExternalId `shared-secret`"]
    );
}

#[test]
fn multi_key_principal_trusts_all() {
    let account = fixture();
    let result = who_can_assume(&account, role_index(&account, "external"));
    assert!(result.principals.is_empty());
    let external: Vec<(PrincipalKind, &str)> = result
        .external
        .iter()
        .map(|trust| (trust.principal.kind, trust.principal.value.as_str()))
        .collect();
    assert_eq!(external.len(), 4);
    assert!(external.contains(&(
        PrincipalKind::Aws,
        "arn:aws:iam::444455556666:role/deployer"
    )));
    assert!(external.contains(&(PrincipalKind::Service, "ec2.amazonaws.com")));
    assert!(external.contains(&(PrincipalKind::Service, "lambda.amazonaws.com")));
    assert!(external.contains(&(
        PrincipalKind::Federated,
        "arn:aws:iam::111122223333:saml-provider/corp-idp"
    )));
    assert!(trusts_service(
        &account,
        role_index(&account, "external"),
        "lambda.amazonaws.com"
    ));
    assert!(!trusts_service(
        &account,
        role_index(&account, "deploy"),
        "lambda.amazonaws.com"
    ));
}

#[test]
fn public_trust_is_flagged() {
    let account = fixture();
    let result = who_can_assume(&account, role_index(&account, "public"));
    assert!(result.external.iter().any(|trust| trust.public));
    // `*` names every principal, which suffices within the account: every user and role.
    assert_eq!(
        result.principals.len(),
        account.users.len() + account.roles.len()
    );
}
