//! Variants of each kind of policy shape that has broken public IAM tools. Every variant
//! must get the same result as the basic form.

#![cfg(test)]

use std::sync::Arc;

use muster_policy::account::{Account, NamedPolicy, User};
use muster_policy::document::PrincipalKind;
use muster_policy::{
    analyze_account, check, parse_policy, parse_policy_text, AnalysisOptions, PolicySource,
    PrincipalPolicies, Request, RequestContext, SourcedPolicy, Verdict,
};
use serde_json::{json, Value};

fn identity(document: Value) -> PrincipalPolicies {
    PrincipalPolicies {
        identity: vec![SourcedPolicy {
            source: PolicySource::Other {
                name: "variant".into(),
            },
            document: Arc::new(parse_policy(&document).unwrap()),
        }],
        ..PrincipalPolicies::default()
    }
}

fn verdict_in(document: &Value, action: &str, resource: &str, context: &RequestContext) -> Verdict {
    check(
        &identity(document.clone()),
        &Request {
            action,
            resource,
            context,
        },
    )
}

fn verdict(document: &Value, action: &str, resource: &str) -> Verdict {
    verdict_in(document, action, resource, &RequestContext::new())
}

/// Analyses a single user holding `document` and returns its administrator finding:
/// `Some(conditional)` when reported as administrator, `None` otherwise.
fn admin(document: Value) -> Option<bool> {
    let user = User {
        name: "subject".into(),
        arn: "arn:aws:iam::111122223333:user/subject".into(),
        inline_policies: vec![NamedPolicy {
            name: "variant".into(),
            document: Arc::new(parse_policy(&document).unwrap()),
        }],
        ..User::default()
    };
    let account = Account::new(None, vec![user], vec![], vec![], vec![]);
    let analysis = analyze_account(&account, &AnalysisOptions::default());
    analysis.principals[0]
        .admin
        .as_ref()
        .map(|admin| admin.conditional)
}

#[test]
fn single_statement_object_variants() {
    let deny = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        "Version": "2012-10-17"});
    assert_eq!(
        verdict(&deny, "s3:GetObject", "arn:aws:s3:::b/k"),
        Verdict::Allowed
    );
    let object_deny = json!({"Version": "2008-10-17",
        "Statement": {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}});
    assert_eq!(verdict(&object_deny, "s3:PutObject", "x"), Verdict::Denied);
    let object_with_condition = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
        "Action": "ec2:StartInstances", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": true}}}});
    assert_eq!(
        verdict(&object_with_condition, "ec2:StartInstances", "x"),
        Verdict::Conditional
    );
}

#[test]
fn not_action_variants() {
    let scoped = json!({"Statement": [{"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"}]});
    assert_eq!(
        verdict(&scoped, "s3:PutObject", "arn:aws:s3:::b/k"),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&scoped, "s3:DeleteObject", "arn:aws:s3:::b/k"),
        Verdict::NotAllowed
    );
    assert_eq!(
        verdict(&scoped, "s3:PutObject", "arn:aws:s3:::c/k"),
        Verdict::NotAllowed
    );

    let deny_all_but = json!({"Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": ["iam:ChangePassword", "sts:GetSessionToken"], "Resource": "*"}]});
    assert_eq!(
        verdict(&deny_all_but, "iam:ChangePassword", "x"),
        Verdict::Allowed
    );
    assert_eq!(verdict(&deny_all_but, "s3:GetObject", "x"), Verdict::Denied);

    let both_negated = json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::vault/*"}]});
    assert_eq!(
        verdict(&both_negated, "s3:GetObject", "arn:aws:s3:::open/k"),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&both_negated, "s3:GetObject", "arn:aws:s3:::vault/k"),
        Verdict::NotAllowed
    );
    assert_eq!(admin(both_negated), None);
}

#[test]
fn multi_key_principal_variants() {
    let document = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
        "AWS": ["111122223333", "arn:aws:iam::444455556666:root", "arn:aws:iam::111122223333:user/bob"],
        "Service": "ecs-tasks.amazonaws.com",
        "CanonicalUser": ["79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"]}}]});
    let policy = parse_policy(&document).unwrap();
    let entries = policy.statements[0].principal.as_ref().unwrap().entries();
    let count = |kind: PrincipalKind| entries.iter().filter(|entry| entry.kind == kind).count();
    assert_eq!(count(PrincipalKind::Aws), 3);
    assert_eq!(count(PrincipalKind::Service), 1);
    assert_eq!(count(PrincipalKind::CanonicalUser), 1);
    assert!(entries
        .iter()
        .any(|entry| entry.is_account_root() && entry.account() == Some("111122223333")));
    assert!(!policy.is_public());
}

#[test]
fn public_principal_variants() {
    for principal in [
        json!("*"),
        json!({"AWS": "*"}),
        json!({"AWS": ["*"]}),
        json!({"AWS": ["111122223333", "*"]}),
    ] {
        let document = json!({"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}]});
        assert!(parse_policy(&document).unwrap().is_public(), "{principal}");
    }
    let denied_to_all = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]});
    assert!(!parse_policy(&denied_to_all).unwrap().is_public());
    let service_only = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "*"}, "Action": "s3:*", "Resource": "*"}]});
    assert!(!parse_policy(&service_only).unwrap().is_public());
}

#[test]
fn wildcard_variants() {
    let document = json!({"Statement": [
        {"Effect": "Allow", "Action": "*:Describe*", "Resource": "arn:aws:ec2:*:*:instance/*"},
        {"Effect": "Allow", "Action": "s3:???Object", "Resource": "arn:aws:s3:::*/logs/????/*"}]});
    assert_eq!(
        verdict(
            &document,
            "ec2:DescribeInstances",
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-1"
        ),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(
            &document,
            "EC2:DESCRIBEINSTANCES",
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-1"
        ),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(
            &document,
            "ec2:DescribeInstances",
            "arn:aws:ec2:eu-west-1:111122223333:volume/v-1"
        ),
        Verdict::NotAllowed
    );
    assert_eq!(
        verdict(&document, "s3:GetObject", "arn:aws:s3:::b/logs/2024/x"),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&document, "s3:PutObject", "arn:aws:s3:::b/c/logs/2024/x/y"),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&document, "s3:GetObject", "arn:aws:s3:::b/logs/24/x"),
        Verdict::NotAllowed
    );
    assert_eq!(
        verdict(&document, "s3:DeleteObject", "arn:aws:s3:::b/logs/2024/x"),
        Verdict::NotAllowed
    );
    assert_eq!(
        verdict(&document, "s3:GetObject", "arn:aws:s3:::b/LOGS/2024/x"),
        Verdict::NotAllowed
    );
}

#[test]
fn action_star_variants() {
    assert_eq!(
        admin(json!({"Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]})),
        Some(false)
    );
    assert_eq!(
        admin(json!({"Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]})),
        Some(false)
    );
    assert_eq!(
        admin(
            json!({"Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["arn:aws:s3:::b", "*"]}})
        ),
        Some(false)
    );
    assert_eq!(
        admin(
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}]})
        ),
        None
    );
}

#[test]
fn conditional_deny_variants() {
    let mfa_deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]});
    assert_eq!(admin(mfa_deny.clone()), Some(true));
    assert_eq!(
        verdict(&mfa_deny, "iam:CreateUser", "x"),
        Verdict::Conditional
    );
    let mut with_mfa = RequestContext::new();
    with_mfa.insert("aws:MultiFactorAuthPresent", "true");
    assert_eq!(
        verdict_in(&mfa_deny, "iam:CreateUser", "x", &with_mfa),
        Verdict::Allowed
    );
    let mut without_mfa = RequestContext::new();
    without_mfa.insert("aws:MultiFactorAuthPresent", "false");
    assert_eq!(
        verdict_in(&mfa_deny, "iam:CreateUser", "x", &without_mfa),
        Verdict::Denied
    );

    let partial = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}]});
    assert_eq!(admin(partial.clone()), Some(true));
    assert_eq!(verdict(&partial, "s3:GetObject", "x"), Verdict::Allowed);
}

#[test]
fn url_encoded_variants() {
    let already_json = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a+b/%2B/*"}}"#;
    let policy = parse_policy_text(already_json).unwrap();
    assert_eq!(
        policy.statements[0].resource_patterns()[0].as_str(),
        "arn:aws:s3:::a+b/%2B/*"
    );

    let encoded_plus = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C\
                        %22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Aa%2Bb%2Fc+d%2F%2520%22%7D%7D";
    let policy = parse_policy_text(encoded_plus).unwrap();
    assert_eq!(
        policy.statements[0].resource_patterns()[0].as_str(),
        "arn:aws:s3:::a+b/c+d/%20"
    );
}
