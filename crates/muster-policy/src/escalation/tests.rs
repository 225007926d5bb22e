use serde_json::{json, Value};

use super::*;
use crate::account::Account;
use crate::catalog::catalog;
use crate::test_support::*;

const SERVICES: [&str; 8] = [
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "cloudformation.amazonaws.com",
    "glue.amazonaws.com",
    "datapipeline.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "codebuild.amazonaws.com",
    "sagemaker.amazonaws.com",
];

fn everything() -> Value {
    allow(json!("*"), json!("*"))
}

/// Builds an account with administrator targets of every kind and a user `attacker` whose
/// only policy is `attacker_policy`.
fn fixture(attacker_policy: Value) -> Account {
    let mut attacker = user("attacker", vec![attacker_policy]);
    attacker["GroupList"] = json!(["devs"]);
    attacker["AttachedManagedPolicies"] =
        json!([{"PolicyName": "dev-policy", "PolicyArn": policy_arn("dev-policy")}]);
    let mut dev_policy = managed(
        "dev-policy",
        allow(json!("s3:ListAllMyBuckets"), json!("*")),
    );
    dev_policy["PolicyVersionList"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Document": everything(), "VersionId": "v2", "IsDefaultVersion": false}));

    let admin_trust = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Service": SERVICES}, "Action": "sts:AssumeRole"}]});
    account(
        vec![
            attacker,
            user("admin-user", vec![everything()]),
            user("bystander", vec![]),
        ],
        vec![group("devs", vec![]), group("admins", vec![everything()])],
        vec![
            role("admin-role", admin_trust, vec![everything()]),
            role("plain-role", trust(json!({"AWS": ACCOUNT})), vec![]),
        ],
        vec![dev_policy],
    )
}

fn analyse(account: &Account) -> (AccountModel<'_>, Escalations) {
    let model = AccountModel::new(account, catalog());
    let escalations = find_escalations(&model);
    (model, escalations)
}

fn attacker_uses(account: &Account) -> Vec<&'static str> {
    let (model, escalations) = analyse(account);
    let attacker = account.principal_by_name("attacker").unwrap();
    escalations.uses[model.index_of(attacker)]
        .iter()
        .map(|found| found.technique)
        .collect()
}

fn attacker_path(account: &Account) -> Option<EscalationPath> {
    let (model, escalations) = analyse(account);
    escalations.path_to_admin(&model, account.principal_by_name("attacker").unwrap())
}

#[test]
fn every_technique_leads_to_admin() {
    for technique in TECHNIQUES {
        let mut actions: Vec<&str> = technique.steps.iter().map(|step| step.action).collect();
        if technique.assume_target {
            actions.push("sts:AssumeRole");
        }
        let account = fixture(allow(json!(actions), json!("*")));
        let uses = attacker_uses(&account);
        assert!(
            uses.contains(&technique.id),
            "{} not found; found {uses:?}",
            technique.id
        );
        let path =
            attacker_path(&account).unwrap_or_else(|| panic!("{}: no path to admin", technique.id));
        assert!(!path.steps.is_empty(), "{}", technique.id);
    }
}

#[test]
fn path_names_statements_for_each_action() {
    let account = fixture(allow(
        json!(["iam:PassRole", "ec2:RunInstances"]),
        json!("*"),
    ));
    let path = attacker_path(&account).unwrap();
    let step = &path.steps[0];
    assert_eq!(step.technique, "pass-role-ec2");
    assert_eq!(step.target, role_arn("admin-role"));
    assert!(!path.conditional);
    let actions: Vec<&str> = step
        .grants
        .iter()
        .map(|grant| grant.action.as_str())
        .collect();
    assert_eq!(actions, ["iam:PassRole", "ec2:RunInstances"]);
    for grant in &step.grants {
        assert_eq!(grant.statements.len(), 1, "{}", grant.action);
        assert_eq!(
            grant.statements[0].to_string(),
            "statement 1 of inline policy `inline0`"
        );
    }
}

#[test]
fn chained_path_through_another_user() {
    // attacker -> creates a key for `middle` -> middle can attach a policy to itself.
    let mut middle = user(
        "middle",
        vec![allow(
            json!("iam:AttachUserPolicy"),
            json!(user_arn("middle")),
        )],
    );
    middle["GroupList"] = json!([]);
    let account = account(
        vec![
            user(
                "attacker",
                vec![allow(
                    json!("iam:CreateAccessKey"),
                    json!(user_arn("middle")),
                )],
            ),
            middle,
        ],
        vec![],
        vec![],
        vec![],
    );
    let path = attacker_path(&account).unwrap();
    let techniques: Vec<&str> = path.steps.iter().map(|step| step.technique).collect();
    assert_eq!(techniques, ["create-access-key", "attach-user-policy"]);
    assert_eq!(path.steps[1].principal, user_arn("middle"));
}

#[test]
fn role_can_write_its_own_policy() {
    let account = account(
        vec![],
        vec![],
        vec![role(
            "builder",
            trust(json!({"Service": "codebuild.amazonaws.com"})),
            vec![allow(
                json!("iam:PutRolePolicy"),
                json!(role_arn("builder")),
            )],
        )],
        vec![],
    );
    let (model, escalations) = analyse(&account);
    let builder = account.principal_by_name("builder").unwrap();
    let path = escalations.path_to_admin(&model, builder).unwrap();
    assert_eq!(path.steps[0].technique, "put-role-policy");
}

#[test]
fn missing_step_action_blocks_technique() {
    let account = fixture(allow(json!("iam:PassRole"), json!("*")));
    assert!(!attacker_uses(&account)
        .iter()
        .any(|id| id.starts_with("pass-role")));
    assert!(attacker_path(&account).is_none());
}

#[test]
fn role_must_trust_the_service() {
    let account = fixture(allow(
        json!(["iam:PassRole", "ec2:RunInstances"]),
        json!(role_arn("plain-role")),
    ));
    assert!(!attacker_uses(&account).contains(&"pass-role-ec2"));
}

#[test]
fn explicit_deny_blocks_technique() {
    let account = fixture(json!({"Statement": [
        {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": user_arn("admin-user")}]}));
    let (model, escalations) = analyse(&account);
    let attacker = model.index_of(account.principal_by_name("attacker").unwrap());
    let create_key = escalations.uses[attacker]
        .iter()
        .find(|found| found.technique == "create-access-key")
        .unwrap();
    assert_eq!(create_key.targets, [user_arn("bystander")]);
    assert!(escalations
        .path_to_admin(&model, account.principal_by_name("attacker").unwrap())
        .is_none());
}

#[test]
fn aws_managed_policies_are_not_version_targets() {
    let mut attacker = user(
        "attacker",
        vec![allow(json!("iam:CreatePolicyVersion"), json!("*"))],
    );
    attacker["AttachedManagedPolicies"] = json!([{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]);
    let read_only = json!({"PolicyName": "ReadOnlyAccess", "Arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "DefaultVersionId": "v1", "PolicyVersionList": [{"Document": allow(json!("s3:Get*"), json!("*")),
        "VersionId": "v1", "IsDefaultVersion": true}]});
    let account = account(vec![attacker], vec![], vec![], vec![read_only]);
    assert!(attacker_uses(&account).is_empty());
}

#[test]
fn conditional_steps_make_the_path_conditional() {
    let account = fixture(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "iam:PutUserPolicy", "Resource": "*",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
    );
    let path = attacker_path(&account).unwrap();
    assert!(path.conditional);
    assert!(path.steps[0].conditional);
}

#[test]
fn direct_admins_need_no_path() {
    let account = fixture(everything());
    let (model, escalations) = analyse(&account);
    let attacker = account.principal_by_name("attacker").unwrap();
    assert_eq!(escalations.admin(&model, attacker), Some(false));
    assert!(escalations.is_direct_admin(&model, attacker));
    assert!(escalations.path_to_admin(&model, attacker).is_none());
    let bystander = account.principal_by_name("bystander").unwrap();
    assert_eq!(escalations.admin(&model, bystander), None);
}

#[test]
fn target_counts_skip_self_and_own_groups() {
    let account = fixture(everything());
    let (model, escalations) = analyse(&account);
    let count_of = |name: &str, technique: &str| {
        let index = model.index_of(account.principal_by_name(name).unwrap());
        escalations.uses[index]
            .iter()
            .find(|found| found.technique == technique)
            .map(|found| found.target_count)
    };

    assert_eq!(count_of("attacker", "create-access-key"), Some(2));
    assert_eq!(count_of("attacker", "add-user-to-group"), Some(1));
    assert_eq!(count_of("attacker", "assume-role"), Some(2));
    assert_eq!(count_of("attacker", "pass-role-ec2"), Some(1));
    assert_eq!(count_of("attacker", "attach-role-policy"), Some(2));

    // The administrator role is the only role trusting EC2, and passing itself gains
    // nothing.
    assert_eq!(count_of("admin-role", "pass-role-ec2"), None);
    assert_eq!(count_of("admin-role", "create-access-key"), Some(3));
    assert_eq!(count_of("admin-role", "assume-role"), Some(1));
}

#[test]
fn joining_a_group_then_escalating_is_a_path() {
    let account = account(
        vec![user(
            "attacker",
            vec![allow(
                json!("iam:AddUserToGroup"),
                json!(format!("arn:aws:iam::{ACCOUNT}:group/helpdesk")),
            )],
        )],
        vec![group(
            "helpdesk",
            vec![allow(json!("iam:PutUserPolicy"), json!("*"))],
        )],
        vec![],
        vec![],
    );
    let path = attacker_path(&account).unwrap();
    let techniques: Vec<&str> = path.steps.iter().map(|step| step.technique).collect();
    assert_eq!(techniques, ["add-user-to-group", "put-user-policy"]);
    assert_eq!(path.steps[1].target, user_arn("attacker"));
    assert_eq!(
        path.steps[1].grants[0].statements[0].to_string(),
        "statement 1 of inline policy `inline0` of group `helpdesk`"
    );
}

fn with_boundary(mut entry: Value, boundary: &str) -> Value {
    entry["PermissionsBoundary"] = json!({"PermissionsBoundaryArn": policy_arn(boundary)});
    entry
}

#[test]
fn boundary_caps_self_escalation() {
    let limited = account(
        vec![with_boundary(
            user(
                "attacker",
                vec![allow(json!(["iam:PutUserPolicy", "s3:*"]), json!("*"))],
            ),
            "s3-only",
        )],
        vec![],
        vec![],
        vec![managed("s3-only", allow(json!("s3:*"), json!("*")))],
    );
    assert!(attacker_path(&limited).is_none());
    assert!(
        attacker_uses(&limited).is_empty(),
        "the boundary does not allow iam:PutUserPolicy"
    );

    let wide = account(
        vec![with_boundary(
            user(
                "attacker",
                vec![allow(json!("iam:PutUserPolicy"), json!("*"))],
            ),
            "open",
        )],
        vec![],
        vec![],
        vec![managed("open", everything())],
    );
    assert_eq!(
        attacker_path(&wide).unwrap().steps[0].technique,
        "put-user-policy"
    );

    let boundary_allows_iam = account(
        vec![with_boundary(
            user(
                "attacker",
                vec![allow(json!("iam:PutUserPolicy"), json!("*"))],
            ),
            "iam-only",
        )],
        vec![],
        vec![],
        vec![managed("iam-only", allow(json!("iam:*"), json!("*")))],
    );
    assert!(attacker_path(&boundary_allows_iam).is_none());
    assert!(attacker_uses(&boundary_allows_iam).contains(&"put-user-policy"));
}

#[test]
fn target_role_boundary_caps_role_policy_writes() {
    let capped_role = with_boundary(
        role("capped", trust(json!({"AWS": ACCOUNT})), vec![]),
        "s3-only",
    );
    let account = account(
        vec![user(
            "attacker",
            vec![allow(
                json!(["iam:AttachRolePolicy", "sts:AssumeRole"]),
                json!("*"),
            )],
        )],
        vec![],
        vec![capped_role],
        vec![managed("s3-only", allow(json!("s3:*"), json!("*")))],
    );
    assert!(attacker_uses(&account).contains(&"attach-role-policy"));
    assert!(attacker_path(&account).is_none());
}
