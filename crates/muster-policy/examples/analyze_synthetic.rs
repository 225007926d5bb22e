//! Builds a synthetic account as `get-account-authorization-details` JSON, then loads and
//! analyses it, printing the time of each phase. No names or ids are real.
//!
//! Usage: `cargo run --release -p muster-policy --example analyze_synthetic -- [USERS] [ROLES]`
//! (defaults 15,000 users and 5,000 roles). `MUSTER_ADMIN_EVERY=N` gives one principal in N
//! the administrator policy (default 500). `MUSTER_WRITE_ACCOUNT=FILE` also writes the
//! generated JSON to FILE.

use std::time::Instant;

use muster_policy::{
    analyze_account, describe_findings, load_authorization_details, AnalysisOptions,
};
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";

fn policy(index: usize) -> Value {
    // A mix of the shapes seen in real accounts, most of them harmless.
    let statements = match index % 10 {
        0 => json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
        1 => {
            json!([{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}])
        }
        2 => {
            json!([{"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances", "lambda:*"], "Resource": "*"}])
        }
        3 => json!([{"Effect": "Allow", "Action": ["iam:CreateAccessKey", "iam:*LoginProfile"],
                     "Resource": format!("arn:aws:iam::{ACCOUNT}:user/team-{index}/*")}]),
        4 => {
            json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": format!("arn:aws:iam::{ACCOUNT}:role/app-{index}-*")}])
        }
        5 => json!([{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": [
                        format!("arn:aws:s3:::bucket-{index}"), format!("arn:aws:s3:::bucket-{index}/*")]},
                    {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]),
        6 => json!([{"Effect": "Allow", "Action": ["dynamodb:*", "kms:Decrypt"], "Resource": "*",
                     "Condition": {"StringEquals": {"aws:PrincipalTag/team": format!("team-{index}")}}}]),
        7 => {
            json!([{"Effect": "Allow", "Action": "iam:*", "Resource": format!("arn:aws:iam::{ACCOUNT}:policy/team-{index}-*")}])
        }
        8 => {
            json!([{"Effect": "Allow", "Action": ["ec2:Describe*", "cloudwatch:Get*", "logs:*"], "Resource": "*"}])
        }
        _ => json!([{"Effect": "Allow", "Action": ["s3:PutObject", "sqs:SendMessage"],
                     "Resource": format!("arn:aws:s3:::uploads/${{aws:username}}/*")}]),
    };
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn build(users: usize, roles: usize) -> Value {
    let policy_count = 300;
    let policies: Vec<Value> = (0..policy_count)
        .map(|index| {
            json!({"PolicyName": format!("policy-{index}"), "Arn": format!("arn:aws:iam::{ACCOUNT}:policy/policy-{index}"),
                   "DefaultVersionId": "v1", "PolicyVersionList": [
                       {"Document": policy(index), "VersionId": "v1", "IsDefaultVersion": true}]})
        })
        .collect();
    let attached = |index: usize| {
        // Administrator policies (index % 10 == 0) go to few principals only.
        let mut picked = vec![
            (index * 7 + 1) % policy_count,
            (index * 13 + 5) % policy_count,
        ];
        picked.retain(|policy| policy % 10 != 0);
        if index.is_multiple_of(admin_every()) {
            picked.push(0);
        }
        picked
            .into_iter()
            .map(|policy| json!({"PolicyName": format!("policy-{policy}"),
                                 "PolicyArn": format!("arn:aws:iam::{ACCOUNT}:policy/policy-{policy}")}))
            .collect::<Vec<_>>()
    };
    let groups: Vec<Value> = (0..50)
        .map(|index| {
            json!({"GroupName": format!("group-{index}"), "GroupId": format!("AGPA{index:016}"),
                   "Arn": format!("arn:aws:iam::{ACCOUNT}:group/group-{index}"),
                   "GroupPolicyList": [], "AttachedManagedPolicies": attached(index * 3 + 1)})
        })
        .collect();
    let users: Vec<Value> = (0..users)
        .map(|index| {
            let inline = if index % 4 == 0 {
                json!([{"PolicyName": "own", "PolicyDocument": policy(index % 9 + 1)}])
            } else {
                json!([])
            };
            json!({"UserName": format!("user-{index}"), "UserId": format!("AIDA{index:016}"),
                   "Arn": format!("arn:aws:iam::{ACCOUNT}:user/team-{}/user-{index}", index % 300),
                   "UserPolicyList": inline, "GroupList": [format!("group-{}", index % 50)],
                   "AttachedManagedPolicies": attached(index),
                   "Tags": [{"Key": "team", "Value": format!("team-{}", index % 300)}]})
        })
        .collect();
    let roles: Vec<Value> = (0..roles)
        .map(|index| {
            let principal = match index % 4 {
                0 => json!({"Service": "ec2.amazonaws.com"}),
                1 => json!({"Service": "lambda.amazonaws.com"}),
                2 => json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
                _ => json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:user/team-{}/user-{index}", index % 300)}),
            };
            json!({"RoleName": format!("app-{}-{index}", index % 300), "RoleId": format!("AROA{index:016}"),
                   "Arn": format!("arn:aws:iam::{ACCOUNT}:role/app-{}-{index}", index % 300),
                   "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                       {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]},
                   "RolePolicyList": [], "AttachedManagedPolicies": attached(index + 11)})
        })
        .collect();
    json!({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies})
}

fn main() {
    let mut args = std::env::args().skip(1);
    let users = args
        .next()
        .and_then(|text| text.parse().ok())
        .unwrap_or(15_000);
    let roles = args
        .next()
        .and_then(|text| text.parse().ok())
        .unwrap_or(5_000);

    let text = build(users, roles).to_string();
    if let Ok(path) = std::env::var("MUSTER_WRITE_ACCOUNT") {
        if let Err(error) = std::fs::write(&path, &text) {
            eprintln!("cannot write {path}: {error}");
        }
    }

    println!("peak memory after generating: {}", peak_memory());
    let started = Instant::now();
    let _ = muster_policy::catalog().len();
    println!("catalog loaded in {:?}", started.elapsed());

    let started = Instant::now();
    let loaded = match load_authorization_details(&text) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    println!(
        "{} bytes loaded in {:?} ({} problems)",
        text.len(),
        started.elapsed(),
        loaded.problems.len()
    );
    println!("peak memory after loading: {}", peak_memory());

    let started = Instant::now();
    let analysis = analyze_account(&loaded.account, &AnalysisOptions::default());
    let elapsed = started.elapsed();
    let admins = analysis
        .principals
        .iter()
        .filter(|findings| findings.admin.is_some())
        .count();
    let escalating = analysis
        .principals
        .iter()
        .filter(|findings| !findings.escalations.is_empty())
        .count();
    println!(
        "{} principals analysed in {elapsed:?}: {admins} administrators (direct or by escalation), {escalating} with escalation techniques",
        analysis.principals.len()
    );
    println!("peak memory after analysing: {}", peak_memory());

    let escalating_admin = analysis.principals.iter().find(|findings| {
        findings
            .admin
            .as_ref()
            .is_some_and(|admin| admin.path.is_some())
    });
    if let Some(findings) = escalating_admin {
        println!("example: {}", findings.arn);
        for line in describe_findings(findings) {
            println!("  {}", line.text);
        }
    }
}

/// Reads the process's peak resident set size (`VmHWM` in `/proc/self/status`, Linux
/// only), or returns `unknown`.
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line[6..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Reads how often a principal gets the administrator policy: one in `MUSTER_ADMIN_EVERY`,
/// 500 by default.
fn admin_every() -> usize {
    std::env::var("MUSTER_ADMIN_EVERY")
        .ok()
        .and_then(|text| text.parse().ok())
        .filter(|every| *every > 0)
        .unwrap_or(500)
}
