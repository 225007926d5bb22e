//! Differential test against PMapper 1.1.5 (`principalmapper` on PyPI), run as an
//! external program on the moto fixture account: for each (action, resource) pair, the
//! principals PMapper reports as authorized must be the principals [`who_can`] allows.
//!
//! The comparison is of direct access only. `who_can` decides with each principal's own
//! policies, while `pmapper query` also reports principals that "CAN BECOME authorized"
//! through role assumption, other graph edges or their administrator rights. Those lines
//! are left out, and only the "IS authorized" lines are compared. Grants that Muster marks
//! conditional are left out too, because PMapper decides conditions against its own
//! default request context where Muster keeps them undecided.
//!
//! For `sts:AssumeRole` on a role, the role's trust policy goes to PMapper through
//! `--resource-policy-text`. PMapper's `--with-resource-policy` fails on IAM roles in
//! 1.1.5 (`AttributeError: 'dict' object has no attribute 'arn'`).

mod oracle;

use std::collections::BTreeSet;

use muster_policy::{who_can, PrincipalId, Verdict};
use oracle::{isolated_command, run, tools_present, Fixture, Tool, ACCOUNT_ID, BASE_TOOLS};

fn iam(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:{kind}/{name}")
}

/// Lists the (action, resource) pairs that both tools are queried about.
fn pairs() -> Vec<(&'static str, String)> {
    let regional =
        |service: &str, rest: &str| format!("arn:aws:{service}:us-east-1:{ACCOUNT_ID}:{rest}");
    let mut pairs = vec![
        (
            "s3:GetObject",
            "arn:aws:s3:::deploy-artifacts/build.zip".to_string(),
        ),
        (
            "s3:PutObject",
            "arn:aws:s3:::deploy-artifacts/build.zip".to_string(),
        ),
        ("s3:ListBucket", "arn:aws:s3:::ci-cache".to_string()),
        ("s3:PutObject", "arn:aws:s3:::ci-cache/key".to_string()),
        ("s3:DeleteBucket", "arn:aws:s3:::ci-cache".to_string()),
        (
            "s3:GetObject",
            "arn:aws:s3:::media/c++/notes+drafts/plan.txt".to_string(),
        ),
        ("sqs:SendMessage", regional("sqs", "jobs")),
        ("sqs:ReceiveMessage", regional("sqs", "jobs")),
        ("cloudtrail:LookupEvents", "*".to_string()),
        ("ec2:DescribeInstances", "*".to_string()),
        ("ec2:RunInstances", regional("ec2", "instance/*")),
        ("lambda:CreateFunction", regional("lambda", "function:job")),
        ("lambda:InvokeFunction", regional("lambda", "function:job")),
        (
            "secretsmanager:GetSecretValue",
            regional("secretsmanager", "secret:db-AbCdEf"),
        ),
        ("ssm:GetParameter", regional("ssm", "parameter/app/db")),
        (
            "kms:Decrypt",
            regional("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ),
        ("dynamodb:GetItem", regional("dynamodb", "table/orders")),
        ("organizations:ListAccounts", "*".to_string()),
        ("iam:ListUsers", "*".to_string()),
        ("iam:GetUser", iam("user", "bob.dev")),
        ("iam:CreateAccessKey", iam("user", "alice.admin")),
        ("iam:CreateAccessKey", iam("user", "bob.dev")),
        ("iam:UpdateLoginProfile", iam("user", "bob.dev")),
        ("iam:AttachUserPolicy", iam("user", "esc-attach-self")),
        ("iam:AttachUserPolicy", iam("user", "esc-bounded")),
        ("iam:PutUserPolicy", iam("user", "esc-put-self")),
        ("iam:PutGroupPolicy", iam("group", "esc-group")),
        ("iam:AddUserToGroup", iam("group", "admins")),
        ("iam:CreatePolicyVersion", iam("policy", "esc-shared")),
        ("iam:SetDefaultPolicyVersion", iam("policy", "app-deploy")),
        ("iam:UpdateAssumeRolePolicy", iam("role", "esc-admin-role")),
        ("iam:PassRole", iam("role", "esc-compute-admin-role")),
        ("iam:AttachRolePolicy", iam("role", "esc-chain-role")),
    ];
    for role in [
        "deploy-role",
        "bounded-role",
        "muster-audit-role",
        "no-access-role",
        "public-role",
        "federated-role",
        "esc-admin-role",
        "esc-chain-role",
    ] {
        pairs.push(("sts:AssumeRole", iam("role", role)));
    }
    pairs
}

/// Known differences: (action, resource, principal as PMapper names it, which tool
/// reports it, why). Empty: on this account both tools agree on every pair.
const KNOWN_DIFFERENCES: &[(&str, &str, &str, Side, &str)] = &[];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    OnlyPmapper,
    OnlyMuster,
}

/// Names a principal the way PMapper prints it: `user/NAME` or `role/NAME`, without path.
fn pmapper_name(account: &muster_policy::Account, principal: PrincipalId) -> String {
    let kind = match principal {
        PrincipalId::User(_) => "user",
        PrincipalId::Role(_) => "role",
    };
    format!("{kind}/{}", account.principal_name(principal))
}

/// Runs every query in one PMapper process and returns the directly authorized
/// principals of each.
fn pmapper_answers(fixture: &Fixture, queries: &[Vec<String>]) -> Vec<BTreeSet<String>> {
    let batch = fixture.home.path().join("queries.json");
    std::fs::write(&batch, serde_json::to_string(queries).unwrap()).unwrap();
    let output = run(
        isolated_command("python3", &fixture.moto.endpoint, fixture.home.path())
            .arg(oracle::fixture("run_pmapper.py"))
            .arg("--batch")
            .arg(&batch),
        "pmapper query",
    );
    let text = String::from_utf8(output).expect("PMapper printed invalid UTF-8");
    let mut answers: Vec<BTreeSet<String>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("=== ") {
            answers.push(BTreeSet::new());
        } else if line.starts_with(char::is_whitespace) {
            // An indented line is a step of a "CAN BECOME authorized" path.
            continue;
        } else if let Some((principal, _)) = line.split_once(" IS authorized to call action ") {
            answers
                .last_mut()
                .expect("PMapper output before the first query marker")
                .insert(principal.to_string());
        }
    }
    assert_eq!(answers.len(), queries.len(), "PMapper output: {text}");
    answers
}

#[test]
fn who_can_agrees_with_pmapper() {
    let wrapper = oracle::fixture("run_pmapper.py");
    let wrapper = wrapper.to_str().unwrap();
    let pmapper = Tool {
        name: "principalmapper",
        program: "python3",
        args: &[wrapper, "--help"],
    };
    if !tools_present(&[BASE_TOOLS.as_slice(), &[pmapper]].concat()) {
        return;
    }
    let fixture = Fixture::build();

    run(
        isolated_command("python3", &fixture.moto.endpoint, fixture.home.path()).args([
            wrapper,
            "graph",
            "create",
            "--localstack-endpoint",
            &fixture.moto.endpoint,
        ]),
        "pmapper graph create",
    );

    let pairs = pairs();
    let queries: Vec<Vec<String>> = pairs
        .iter()
        .map(|(action, resource)| {
            let mut arguments = vec![
                "--account".to_string(),
                ACCOUNT_ID.to_string(),
                "query".to_string(),
            ];
            if *action == "sts:AssumeRole" {
                let role = resource.rsplit('/').next().unwrap();
                arguments.extend([
                    "--resource-policy-text".to_string(),
                    fixture.trust_policy(role),
                    "--resource-owner".to_string(),
                    ACCOUNT_ID.to_string(),
                ]);
            }
            arguments.push(format!("who can do {action} with {resource}"));
            arguments
        })
        .collect();
    let answers = pmapper_answers(&fixture, &queries);

    let mut differences = BTreeSet::new();
    for ((action, resource), pmapper) in pairs.iter().zip(&answers) {
        let muster: BTreeSet<String> = who_can(&fixture.account, action, resource, &[])
            .into_iter()
            .filter(|grant| grant.verdict == Verdict::Allowed)
            .map(|grant| pmapper_name(&fixture.account, grant.principal))
            .collect();
        for principal in pmapper.difference(&muster) {
            differences.insert((
                action.to_string(),
                resource.clone(),
                principal.clone(),
                Side::OnlyPmapper,
            ));
        }
        for principal in muster.difference(pmapper) {
            differences.insert((
                action.to_string(),
                resource.clone(),
                principal.clone(),
                Side::OnlyMuster,
            ));
        }
    }

    let known: BTreeSet<(String, String, String, Side)> = KNOWN_DIFFERENCES
        .iter()
        .map(|(action, resource, principal, side, _)| {
            (
                action.to_string(),
                resource.to_string(),
                principal.to_string(),
                *side,
            )
        })
        .collect();
    let unexplained: Vec<_> = differences.difference(&known).collect();
    let resolved: Vec<_> = known.difference(&differences).collect();
    assert!(
        unexplained.is_empty(),
        "differences from PMapper without an explanation: {unexplained:#?}"
    );
    assert!(
        resolved.is_empty(),
        "explained differences that no longer occur, remove them: {resolved:#?}"
    );
    assert!(pairs.len() >= 30, "compare at least 30 pairs");
    let compared: usize = answers.iter().map(BTreeSet::len).sum();
    assert!(
        compared >= 100,
        "PMapper reported only {compared} grants; is its output parsed?"
    );
}
