use std::sync::Arc;

use serde_json::{json, Value};

use super::*;
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

fn decide(
    policies: &PrincipalPolicies,
    action: &str,
    resource: &str,
    context: &RequestContext,
) -> Decision {
    let request = Request {
        action,
        resource,
        context,
    };
    let decision = evaluate(policies, &request);
    assert_eq!(
        check(policies, &request),
        decision.verdict(),
        "check and evaluate disagree on {action} {resource}"
    );
    decision
}

fn verdict(policies: &PrincipalPolicies, action: &str, resource: &str) -> Verdict {
    decide(policies, action, resource, &RequestContext::complete()).verdict()
}

fn allow(action: Value, resource: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}

#[test]
fn explicit_deny_wins() {
    let policies = identity(vec![
        allow(json!("s3:*"), json!("*")),
        json!({"Statement": [{"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}]}),
    ]);
    assert_eq!(
        verdict(&policies, "s3:GetObject", "arn:aws:s3:::b/k"),
        Verdict::Allowed
    );
    let decision = decide(
        &policies,
        "s3:DeleteObject",
        "arn:aws:s3:::b/k",
        &RequestContext::complete(),
    );
    let Decision::Denied { statements } = decision else {
        panic!("expected a deny, got {decision:?}");
    };
    assert_eq!(
        statements[0].to_string(),
        "statement `NoDelete` of policy `p1`"
    );
}

#[test]
fn no_matching_allow_is_implicit_deny() {
    let policies = identity(vec![allow(
        json!("s3:GetObject"),
        json!("arn:aws:s3:::b/*"),
    )]);
    assert_eq!(
        verdict(&policies, "s3:PutObject", "arn:aws:s3:::b/k"),
        Verdict::NotAllowed
    );
    assert_eq!(
        verdict(&policies, "s3:GetObject", "arn:aws:s3:::c/k"),
        Verdict::NotAllowed
    );
    assert_eq!(
        decide(&policies, "s3:PutObject", "x", &RequestContext::complete()),
        Decision::NotAllowed {
            layer: Layer::Identity
        }
    );
}

#[test]
fn boundary_intersects() {
    let mut policies = identity(vec![allow(json!(["s3:*", "iam:*"]), json!("*"))]);
    policies.boundary = Some(sourced("boundary", allow(json!("s3:*"), json!("*"))));
    assert_eq!(
        verdict(&policies, "s3:GetObject", "arn:aws:s3:::b/k"),
        Verdict::Allowed
    );
    assert_eq!(
        decide(
            &policies,
            "iam:CreateUser",
            "arn:aws:iam::1:user/x",
            &RequestContext::complete()
        ),
        Decision::NotAllowed {
            layer: Layer::PermissionsBoundary
        }
    );
    // The boundary alone grants nothing.
    let only_boundary = PrincipalPolicies {
        boundary: Some(sourced("boundary", allow(json!("*"), json!("*")))),
        ..PrincipalPolicies::default()
    };
    assert_eq!(
        verdict(&only_boundary, "s3:GetObject", "x"),
        Verdict::NotAllowed
    );
}

#[test]
fn service_control_policies_limit_every_level() {
    let mut policies = identity(vec![allow(json!("*"), json!("*"))]);
    policies.service_control = vec![
        vec![sourced("FullAWSAccess", allow(json!("*"), json!("*")))],
        vec![sourced(
            "OnlyS3AndEc2",
            allow(json!(["s3:*", "ec2:*"]), json!("*")),
        )],
    ];
    assert_eq!(verdict(&policies, "s3:GetObject", "x"), Verdict::Allowed);
    assert_eq!(
        decide(
            &policies,
            "iam:CreateUser",
            "x",
            &RequestContext::complete()
        ),
        Decision::NotAllowed {
            layer: Layer::ServiceControl(1)
        }
    );
    policies.service_control[0].push(sourced(
        "DenyEc2Terminate",
        json!({"Statement": [{"Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*"}]}),
    ));
    assert_eq!(
        verdict(&policies, "ec2:TerminateInstances", "x"),
        Verdict::Denied
    );
    assert_eq!(
        verdict(&policies, "ec2:RunInstances", "x"),
        Verdict::Allowed
    );
}

#[test]
fn not_resource_and_not_action() {
    let policies = identity(vec![json!({"Statement": [
        {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}]})]);
    assert_eq!(
        verdict(&policies, "s3:GetObject", "arn:aws:s3:::public/k"),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&policies, "s3:GetObject", "arn:aws:s3:::secret/k"),
        Verdict::NotAllowed
    );
    assert_eq!(
        verdict(&policies, "iam:CreateUser", "arn:aws:iam::1:user/x"),
        Verdict::NotAllowed
    );
    let deny_outside = identity(vec![
        allow(json!("s3:*"), json!("*")),
        json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::mine", "arn:aws:s3:::mine/*"]}]}),
    ]);
    assert_eq!(
        verdict(&deny_outside, "s3:GetObject", "arn:aws:s3:::mine/k"),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(&deny_outside, "s3:GetObject", "arn:aws:s3:::other/k"),
        Verdict::Denied
    );
}

#[test]
fn wildcard_and_case_rules() {
    let policies = identity(vec![json!({"Statement": [
        {"Effect": "Allow", "Action": ["ec2:Describe*", "S3:Get?bject"], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::uploads/team-?/*/incoming"}]})]);
    assert_eq!(
        verdict(&policies, "EC2:describeinstances", "*"),
        Verdict::Allowed
    );
    assert_eq!(verdict(&policies, "s3:getobject", "x"), Verdict::Allowed);
    assert_eq!(
        verdict(&policies, "s3:GetObjectAcl", "x"),
        Verdict::NotAllowed
    );
    assert_eq!(
        verdict(
            &policies,
            "s3:PutObject",
            "arn:aws:s3:::uploads/team-a/x/y:z/incoming"
        ),
        Verdict::Allowed
    );
    assert_eq!(
        verdict(
            &policies,
            "s3:PutObject",
            "arn:aws:s3:::uploads/team-ab/x/incoming"
        ),
        Verdict::NotAllowed
    );
    assert_eq!(
        verdict(
            &policies,
            "s3:PutObject",
            "arn:aws:s3:::Uploads/team-a/x/incoming"
        ),
        Verdict::NotAllowed
    );
}

#[test]
fn conditions_decide_when_context_has_keys() {
    let policies = identity(vec![
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "ec2:*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
    ]);
    let mut with_mfa = RequestContext::new();
    with_mfa.insert("aws:MultiFactorAuthPresent", "true");
    let mut without_mfa = RequestContext::new();
    without_mfa.insert("aws:MultiFactorAuthPresent", "false");
    assert_eq!(
        decide(&policies, "ec2:RunInstances", "x", &with_mfa).verdict(),
        Verdict::Allowed
    );
    assert_eq!(
        decide(&policies, "ec2:RunInstances", "x", &without_mfa).verdict(),
        Verdict::NotAllowed
    );

    let decision = decide(&policies, "ec2:RunInstances", "x", &RequestContext::new());
    let Decision::Conditional {
        allowed_if,
        denied_if,
    } = decision
    else {
        panic!("expected a conditional decision, got {decision:?}");
    };
    assert!(denied_if.is_empty());
    assert_eq!(allowed_if.len(), 1);
    assert_eq!(
        allowed_if[0].conditions[0].to_string(),
        "Bool aws:MultiFactorAuthPresent `true`"
    );
}

#[test]
fn conditional_deny_keeps_its_condition() {
    let policies = identity(vec![json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["*"], "Resource": ["*"],
         "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2024-05-01T00:00:00Z"}}}]})]);
    let decision = decide(&policies, "iam:CreateUser", "x", &RequestContext::new());
    let Decision::Conditional {
        allowed_if,
        denied_if,
    } = decision
    else {
        panic!("expected a conditional decision, got {decision:?}");
    };
    assert!(allowed_if.is_empty(), "the allow itself is certain");
    assert_eq!(denied_if.len(), 1);
    assert_eq!(denied_if[0].conditions[0].key, "aws:TokenIssueTime");

    let mut old_token = RequestContext::new();
    old_token.insert("aws:TokenIssueTime", "2024-04-01T00:00:00Z");
    assert_eq!(
        decide(&policies, "iam:CreateUser", "x", &old_token).verdict(),
        Verdict::Denied
    );
    let mut new_token = RequestContext::new();
    new_token.insert("aws:TokenIssueTime", "2024-06-01T00:00:00Z");
    assert_eq!(
        decide(&policies, "iam:CreateUser", "x", &new_token).verdict(),
        Verdict::Allowed
    );
}

#[test]
fn resource_variables_resolve_or_stay_conditional() {
    let policies = identity(vec![
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}),
    ]);
    let mut alice = RequestContext::new();
    alice.insert("aws:username", "alice");
    assert_eq!(
        decide(
            &policies,
            "s3:GetObject",
            "arn:aws:s3:::home/alice/x",
            &alice
        )
        .verdict(),
        Verdict::Allowed
    );
    assert_eq!(
        decide(&policies, "s3:GetObject", "arn:aws:s3:::home/bob/x", &alice).verdict(),
        Verdict::NotAllowed
    );
    let decision = decide(
        &policies,
        "s3:GetObject",
        "arn:aws:s3:::home/bob/x",
        &RequestContext::new(),
    );
    let Decision::Conditional { allowed_if, .. } = decision else {
        panic!("expected a conditional decision, got {decision:?}");
    };
    assert_eq!(allowed_if[0].unresolved_variables, ["aws:username"]);
}

#[test]
fn allowed_lists_identity_statements() {
    let policies = identity(vec![
        allow(json!("s3:GetObject"), json!("*")),
        allow(json!("s3:Get*"), json!("*")),
    ]);
    let Decision::Allowed { statements } =
        decide(&policies, "s3:GetObject", "x", &RequestContext::complete())
    else {
        panic!("expected an allow");
    };
    assert_eq!(statements.len(), 2);
}
