use serde_json::{json, Value};

use super::*;
use crate::test_support::*;

fn single_user(policies: Vec<Value>) -> Account {
    account(vec![user("subject", policies)], vec![], vec![], vec![])
}

fn findings_of(account: &Account, options: &AnalysisOptions) -> PrincipalFindings {
    let analysis = analyze_account(account, options);
    analysis
        .principals
        .into_iter()
        .find(|findings| findings.name == "subject")
        .unwrap()
}

fn category(findings: &PrincipalFindings, category: RiskCategory) -> Option<&RiskFinding> {
    findings.risks.iter().find(|risk| risk.category == category)
}

#[test]
fn action_star_on_star_is_admin() {
    let findings = findings_of(
        &single_user(vec![allow(json!("*"), json!("*"))]),
        &AnalysisOptions::default(),
    );
    let admin = findings.admin.as_ref().unwrap();
    assert!(!admin.conditional);
    assert!(admin.path.is_none());
    assert!(
        category(&findings, RiskCategory::DataExfiltration)
            .unwrap()
            .covered_by_admin
    );
}

#[test]
fn conditional_deny_gives_conditional_admin() {
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2024-05-01T00:00:00Z"}}}]});
    let findings = findings_of(&single_user(vec![policy]), &AnalysisOptions::default());
    assert!(findings.admin.as_ref().unwrap().conditional);
}

#[test]
fn not_action_power_user_is_not_admin() {
    let findings = findings_of(
        &single_user(vec![
            json!({"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}]}),
        ]),
        &AnalysisOptions::default(),
    );
    assert!(findings.admin.is_none());

    let infrastructure = category(&findings, RiskCategory::InfrastructureModification).unwrap();
    assert!(infrastructure
        .services
        .iter()
        .any(|count| count.service == "ec2" && count.actions > 100));
    assert!(!infrastructure
        .services
        .iter()
        .any(|count| count.service == "iam"));

    let data = category(&findings, RiskCategory::DataExfiltration).unwrap();
    assert!(data
        .actions
        .iter()
        .any(|risk| risk.action == "s3:GetObject" && risk.reach == Reach::AllResources));

    let credentials = category(&findings, RiskCategory::CredentialsExposure).unwrap();
    assert!(!credentials
        .actions
        .iter()
        .any(|risk| risk.action.starts_with("iam:")));

    let exposure = category(&findings, RiskCategory::ResourceExposure).unwrap();
    assert!(exposure.actions.is_empty(), "too many to list by name");
    assert!(exposure.services.iter().any(|count| count.service == "s3"));
    assert!(infrastructure.actions.is_empty());
}

#[test]
fn self_escalation_is_admin_with_path() {
    let findings = findings_of(
        &single_user(vec![allow(
            json!("iam:PutUserPolicy"),
            json!(user_arn("subject")),
        )]),
        &AnalysisOptions::default(),
    );
    let path = findings.admin.as_ref().unwrap().path.as_ref().unwrap();
    assert_eq!(path.steps[0].technique, "put-user-policy");
    assert_eq!(findings.escalations[0].technique, "put-user-policy");
    let escalation = category(&findings, RiskCategory::PrivilegeEscalation).unwrap();
    assert_eq!(escalation.actions[0].action, "iam:PutUserPolicy");
    assert_eq!(escalation.actions[0].reach, Reach::SomeResources);
}

#[test]
fn scoped_reads_are_some_resources() {
    let findings = findings_of(
        &single_user(vec![allow(
            json!(["s3:GetObject", "kms:Decrypt"]),
            json!("arn:aws:s3:::reports/*"),
        )]),
        &AnalysisOptions::default(),
    );
    let data = category(&findings, RiskCategory::DataExfiltration).unwrap();
    assert_eq!(data.actions.len(), 2);
    assert!(data
        .actions
        .iter()
        .all(|risk| risk.reach == Reach::SomeResources));
    assert!(category(&findings, RiskCategory::InfrastructureModification).is_none());
}

#[test]
fn permissions_management_is_resource_exposure() {
    let findings = findings_of(
        &single_user(vec![allow(json!("s3:PutBucketPolicy"), json!("*"))]),
        &AnalysisOptions::default(),
    );
    let exposure = category(&findings, RiskCategory::ResourceExposure).unwrap();
    assert_eq!(exposure.actions[0].action, "s3:PutBucketPolicy");
}

#[test]
fn exclusions_remove_principals_policies_and_actions() {
    let account = single_user(vec![allow(json!("*"), json!("*"))]);
    let by_principal = AnalysisOptions {
        exclusions: Exclusions {
            principals: vec!["subj*".into()],
            ..Exclusions::default()
        },
    };
    assert!(analyze_account(&account, &by_principal)
        .principals
        .is_empty());

    let by_policy = AnalysisOptions {
        exclusions: Exclusions {
            policies: vec!["inline0".into()],
            ..Exclusions::default()
        },
    };
    let findings = findings_of(&account, &by_policy);
    assert!(findings.admin.is_none());
    assert!(findings.risks.is_empty());

    let by_action = AnalysisOptions {
        exclusions: Exclusions {
            actions: vec!["S3:GET*".into()],
            ..Exclusions::default()
        },
    };
    let scoped = single_user(vec![allow(
        json!(["s3:GetObject", "secretsmanager:GetSecretValue"]),
        json!("*"),
    )]);
    let data = findings_of(&scoped, &by_action);
    let actions: Vec<&str> = category(&data, RiskCategory::DataExfiltration)
        .unwrap()
        .actions
        .iter()
        .map(|risk| risk.action)
        .collect();
    assert_eq!(actions, ["secretsmanager:GetSecretValue"]);
}

#[test]
fn exclusions_parse_from_json_and_reject_unknown_keys() {
    let options: AnalysisOptions = serde_json::from_value(
        json!({"exclusions": {"principals": ["ci-*"], "actions": ["s3:*"]}}),
    )
    .unwrap();
    assert_eq!(options.exclusions.principals, ["ci-*"]);
    assert!(
        serde_json::from_value::<AnalysisOptions>(json!({"exclusions": {"roles": []}})).is_err()
    );
}

#[test]
fn unknown_actions_are_reported() {
    let findings = findings_of(
        &single_user(vec![allow(
            json!(["s3:GetObject", "s3:GetObjekt", "madeup:*"]),
            json!("*"),
        )]),
        &AnalysisOptions::default(),
    );
    let unknown: Vec<&str> = findings
        .unknown_actions
        .iter()
        .map(|entry| entry.action.as_str())
        .collect();
    assert_eq!(unknown, ["s3:GetObjekt", "madeup:*"]);
    assert_eq!(
        findings.unknown_actions[0].policy,
        PolicySource::Inline {
            name: "inline0".into()
        }
    );
}

#[test]
fn public_trust_is_reported() {
    let account = account(
        vec![],
        vec![],
        vec![role("open", trust(json!("*")), vec![])],
        vec![],
    );
    assert_eq!(
        analyze_account(&account, &AnalysisOptions::default()).public_roles,
        [role_arn("open")]
    );
}

#[test]
fn analysis_serializes_to_json() {
    let account = single_user(vec![allow(
        json!("iam:PutUserPolicy"),
        json!(user_arn("subject")),
    )]);
    let value =
        serde_json::to_value(analyze_account(&account, &AnalysisOptions::default())).unwrap();
    let step = &value["principals"][0]["admin"]["path"]["steps"][0];
    assert_eq!(step["technique"], "put-user-policy");
    assert_eq!(
        step["grants"][0]["statements"][0]["source"]["inline"]["name"],
        "inline0"
    );
    assert_eq!(
        step["grants"][0]["statements"][0]["statement"]["effect"],
        "Allow"
    );
}
