//! Checks every IAM policy case of the shared case directory (`../shared/cases/iam` from
//! the repository root), each with its expected result. Variants of each kind are tested
//! inline in `policy_kinds.rs`.

#![cfg(test)]

use std::path::PathBuf;

use muster_policy::access::ResourceScope;
use muster_policy::account::{Account, NamedPolicy, Role, User};
use muster_policy::document::PrincipalKind;
use muster_policy::{
    analyze_account, catalog, check, effective_access, parse_policy_text, who_can_assume,
    AnalysisOptions, Policy, PolicySource, PrincipalPolicies, Request, RequestContext,
    SourcedPolicy, Verdict,
};
use std::sync::Arc;

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cases/iam")
}

fn read_case(name: &str) -> String {
    let path = cases_dir().join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn policies(policy: &Arc<Policy>) -> PrincipalPolicies {
    PrincipalPolicies {
        identity: vec![SourcedPolicy {
            source: PolicySource::Other {
                name: "case".into(),
            },
            document: policy.clone(),
        }],
        ..PrincipalPolicies::default()
    }
}

fn verdict(policies: &PrincipalPolicies, action: &str, resource: &str) -> Verdict {
    let context = RequestContext::new();
    check(
        policies,
        &Request {
            action,
            resource,
            context: &context,
        },
    )
}

fn single_user_account(policy: Arc<Policy>) -> Account {
    let user = User {
        name: "subject".into(),
        id: "AIDASUBJECT".into(),
        arn: "arn:aws:iam::111122223333:user/subject".into(),
        inline_policies: vec![NamedPolicy {
            name: "case".into(),
            document: policy,
        }],
        ..User::default()
    };
    Account::new(None, vec![user], vec![], vec![], vec![])
}

#[test]
fn every_shared_case() {
    let mut names: Vec<String> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") || name.ends_with(".txt"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 8, "new cases need a check here: {names:?}");

    for name in &names {
        let policy = Arc::new(
            parse_policy_text(&read_case(name)).unwrap_or_else(|error| panic!("{name}: {error}")),
        );
        let identity = policies(&policy);
        match name.as_str() {
            "single-statement-object.json" => {
                assert_eq!(policy.statements.len(), 1);
                assert_eq!(
                    verdict(
                        &identity,
                        "s3:GetObject",
                        "arn:aws:s3:::reports-bucket/q1.csv"
                    ),
                    Verdict::Allowed
                );
                assert_eq!(
                    verdict(&identity, "s3:GetObject", "arn:aws:s3:::other/q1.csv"),
                    Verdict::NotAllowed
                );
            }
            "notaction-only.json" => {
                assert_eq!(
                    verdict(&identity, "s3:DeleteBucket", "arn:aws:s3:::b"),
                    Verdict::Allowed
                );
                assert_eq!(
                    verdict(&identity, "iam:CreateUser", "arn:aws:iam::1:user/x"),
                    Verdict::NotAllowed
                );
                assert_eq!(
                    verdict(&identity, "organizations:LeaveOrganization", "*"),
                    Verdict::NotAllowed
                );
                let access = effective_access(&identity, &RequestContext::new(), catalog());
                assert!(access.action("ec2:RunInstances").is_some());
                assert!(access.action("iam:PassRole").is_none());
            }
            "principal-multi-key.json" => {
                let mut target = Role {
                    name: "target".into(),
                    arn: "arn:aws:iam::111122223333:role/target".into(),
                    trust_policy: Some(policy.clone()),
                    ..Role::default()
                };
                target.id = "AROATARGET".into();
                let deployer = Role {
                    name: "deployer".into(),
                    arn: "arn:aws:iam::111122223333:role/deployer".into(),
                    ..Role::default()
                };
                let account = Account::new(None, vec![], vec![], vec![target, deployer], vec![]);
                let result = who_can_assume(&account, 0);
                let internal: Vec<&str> = result
                    .principals
                    .iter()
                    .map(|assumer| assumer.arn.as_str())
                    .collect();
                assert_eq!(internal, ["arn:aws:iam::111122223333:role/deployer"]);
                let mut external: Vec<(&str, PrincipalKind)> = result
                    .external
                    .iter()
                    .map(|trust| (trust.principal.value.as_str(), trust.principal.kind))
                    .collect();
                external.sort_by_key(|(value, _)| *value);
                assert_eq!(
                    external,
                    [
                        (
                            "arn:aws:iam::111122223333:saml-provider/corp-idp",
                            PrincipalKind::Federated
                        ),
                        ("ec2.amazonaws.com", PrincipalKind::Service),
                        ("lambda.amazonaws.com", PrincipalKind::Service),
                    ]
                );
            }
            "principal-star-string.json" => {
                assert!(policy.is_public());
                let entries = policy.statements[0].principal.as_ref().unwrap().entries();
                assert_eq!(entries.len(), 1);
                assert_eq!(
                    (entries[0].kind, entries[0].value.as_str()),
                    (PrincipalKind::Aws, "*")
                );
            }
            "wildcards.json" => {
                assert_eq!(
                    verdict(&identity, "ec2:DescribeVpcs", "*"),
                    Verdict::Allowed
                );
                assert_eq!(verdict(&identity, "s3:GetObject", "*"), Verdict::Allowed);
                assert_eq!(
                    verdict(&identity, "s3:GetObjectAcl", "*"),
                    Verdict::NotAllowed
                );
                let upload = "arn:aws:s3:::uploads/team-a/2024/05:01/incoming";
                assert_eq!(verdict(&identity, "s3:PutObject", upload), Verdict::Allowed);
                assert_eq!(
                    verdict(
                        &identity,
                        "s3:PutObject",
                        "arn:aws:s3:::uploads/team-ab/x/incoming"
                    ),
                    Verdict::NotAllowed
                );
                assert_eq!(
                    verdict(
                        &identity,
                        "s3:PutObject",
                        "arn:aws:s3:::UPLOADS/team-a/x/incoming"
                    ),
                    Verdict::NotAllowed
                );
                let database = "arn:aws:rds:us-west-2:111122223333:db:orders";
                assert_eq!(
                    verdict(&identity, "RDS:connect", database),
                    Verdict::Allowed
                );
                assert_eq!(
                    verdict(
                        &identity,
                        "rds:Connect",
                        "arn:aws:rds:us-west-10:111122223333:db:orders"
                    ),
                    Verdict::NotAllowed
                );
            }
            "action-star.json" => {
                let analysis = analyze_account(
                    &single_user_account(policy.clone()),
                    &AnalysisOptions::default(),
                );
                let admin = analysis.principals[0].admin.as_ref().unwrap();
                assert!(!admin.conditional);
                let access = effective_access(&identity, &RequestContext::new(), catalog());
                assert_eq!(access.action_count(), catalog().len());
            }
            "conditional-deny.json" => {
                let analysis = analyze_account(
                    &single_user_account(policy.clone()),
                    &AnalysisOptions::default(),
                );
                assert!(analysis.principals[0].admin.as_ref().unwrap().conditional);
                assert_eq!(
                    verdict(&identity, "iam:CreateUser", "*"),
                    Verdict::Conditional
                );
                let access = effective_access(&identity, &RequestContext::new(), catalog());
                let create_user = access.action("iam:CreateUser").unwrap();
                assert!(create_user.conditional);
                assert_eq!(create_user.resources, ResourceScope::All);
                assert_eq!(
                    create_user.conditions,
                    ["unless DateLessThan aws:TokenIssueTime `2024-05-01T00:00:00Z`"]
                );
                let mut after = RequestContext::new();
                after.insert("aws:TokenIssueTime", "2024-06-01T00:00:00Z");
                let request = Request {
                    action: "iam:CreateUser",
                    resource: "*",
                    context: &after,
                };
                assert_eq!(check(&identity, &request), Verdict::Allowed);
            }
            "url-encoded-document.txt" => {
                let resource = policy.statements[0].resource_patterns()[0].as_str();
                assert_eq!(resource, "arn:aws:s3:::media/c++/notes+drafts/*");
                assert_eq!(
                    verdict(
                        &identity,
                        "s3:GetObject",
                        "arn:aws:s3:::media/c++/notes+drafts/a"
                    ),
                    Verdict::Allowed
                );
                assert_eq!(
                    verdict(
                        &identity,
                        "s3:GetObject",
                        "arn:aws:s3:::media/c  /notes drafts/a"
                    ),
                    Verdict::NotAllowed
                );
            }
            other => panic!("no expectation for case `{other}`"),
        }
    }
}
