//! Black-box tests of the offline commands `muster analyze` and `muster who-can --file` on
//! the example account shipped in `examples/aws`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/aws/example-account.json")
}

/// Runs `muster` with a data directory that must never be created: the offline commands
/// open no database.
fn muster(args: &[&str]) -> (Output, PathBuf) {
    let data_dir = std::env::temp_dir().join(format!("muster-offline-{}", ulid::Ulid::new()));
    let output = Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--data-dir")
        .arg(&data_dir)
        .args(args)
        .env_remove("MUSTER_DATABASE_URL")
        .env_remove("MUSTER_SECRET_KEY")
        .output()
        .unwrap();
    (output, data_dir)
}

fn success(args: &[&str]) -> String {
    let (output, data_dir) = muster(args);
    assert!(
        output.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!data_dir.exists(), "an offline command created the data directory");
    String::from_utf8(output.stdout).unwrap()
}

fn principal<'a>(analysis: &'a Value, name: &str) -> &'a Value {
    analysis["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|principal| principal["name"] == name)
        .unwrap_or_else(|| panic!("no principal `{name}` in {analysis}"))
}

#[test]
fn analyze_json_lists_findings() {
    let example = example_file();
    let text = success(&["analyze", example.to_str().unwrap(), "--output", "json"]);
    let analysis: Value = serde_json::from_str(&text).unwrap();

    assert_eq!(analysis["account_id"], "111122223333");
    assert_eq!(
        analysis["public_roles"][0],
        "arn:aws:iam::111122223333:role/partner-audit"
    );
    assert_eq!(analysis["load_problems"].as_array().unwrap().len(), 0);
    assert!(principal(&analysis, "alice")["admin"].is_object());
    let bob = principal(&analysis, "bob");
    assert!(
        bob["admin"]["path"].is_object(),
        "bob reaches admin through a path: {bob}"
    );
    assert!(bob["escalations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|used| used["technique"] == "create-policy-version"));
    assert!(principal(&analysis, "carol")["admin"].is_null());
}

#[test]
fn analyze_html_is_self_contained() {
    let example = example_file();
    let html = success(&["analyze", example.to_str().unwrap(), "--output", "html"]);

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>"));
    assert!(!html.contains("<script"), "the report needs no scripts");
    assert!(!html.contains("src="), "the report loads no external assets");
    assert!(!html.contains("href="), "the report links no external assets");
    assert!(html.contains("can make itself administrator through iam:CreatePolicyVersion"));
    assert!(html.contains("Statement <code>MaintainOwnPolicy</code> of managed policy"));
    assert!(html.contains("arn:aws:iam::111122223333:role/partner-audit"));
    assert_eq!(html.matches("<section class=\"principal\">").count(), 5);
}

#[test]
fn analyze_html_escapes_names() {
    let dir = std::env::temp_dir().join(format!("muster-escape-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("account.json");
    std::fs::write(
        &file,
        r#"{"UserDetailList": [{"UserName": "<b>mallory</b>", "Arn": "arn:aws:iam::111122223333:user/x",
            "UserPolicyList": [{"PolicyName": "p\"<i>", "PolicyDocument":
              {"Version": "2012-10-17", "Statement": {"Sid": "S<script>", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}}]}]}"#,
    )
    .unwrap();
    let html = success(&["analyze", file.to_str().unwrap(), "--output", "html"]);
    let _ = std::fs::remove_dir_all(&dir);

    assert!(html.contains("&lt;b&gt;mallory&lt;/b&gt;"));
    assert!(!html.contains("<b>mallory"));
    assert!(!html.contains("<script>"));
    assert!(!html.contains("<i>"));
}

#[test]
fn analyze_exclusions_remove_findings() {
    let example = example_file();
    let text = success(&[
        "analyze",
        example.to_str().unwrap(),
        "--output",
        "json",
        "--exclude-principal",
        "alice",
        "--exclude-policy",
        "developer-tools",
    ]);
    let analysis: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = analysis["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|principal| principal["name"].as_str().unwrap())
        .collect();

    assert!(!names.contains(&"alice"), "{names:?}");
    assert!(
        principal(&analysis, "bob")["admin"].is_null(),
        "bob's only route to admin is the excluded policy"
    );
}

#[test]
fn analyze_writes_out_file() {
    let out = std::env::temp_dir().join(format!("muster-report-{}.html", ulid::Ulid::new()));
    let example = example_file();
    let printed = success(&[
        "analyze",
        example.to_str().unwrap(),
        "--output",
        "html",
        "--out",
        out.to_str().unwrap(),
    ]);
    let written = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);

    assert!(printed.is_empty());
    assert!(written.contains("Privilege-escalation techniques"));
}

#[test]
fn analyze_table_summarises() {
    let example = example_file();
    let text = success(&["analyze", example.to_str().unwrap()]);

    assert!(text.contains("Administrators: alice, bob"), "{text}");
    assert!(text.contains("Roles anyone can assume: arn:aws:iam::111122223333:role/partner-audit"));
    assert!(text.contains("user bob (arn:aws:iam::111122223333:user/bob) [admin, escalation]"));
}

#[test]
fn analyze_missing_file_fails_clearly() {
    let (output, _) = muster(&["analyze", "/nonexistent/account.json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("cannot read `/nonexistent/account.json`"), "{stderr}");
    assert!(stderr.contains("aws iam get-account-authorization-details"), "{stderr}");
}

#[test]
fn analyze_invalid_file_names_path() {
    let file = std::env::temp_dir().join(format!("muster-invalid-{}.json", ulid::Ulid::new()));
    std::fs::write(&file, r#"{"UserDetailList": [{"UserName": 5}]}"#).unwrap();
    let (output, _) = muster(&["analyze", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("is not the output of `aws iam get-account-authorization-details`"),
        "{stderr}"
    );
    assert!(stderr.contains("UserDetailList[0].UserName"), "{stderr}");
}

#[test]
fn html_rejected_for_other_commands() {
    let (output, _) = muster(&["integration", "list", "--output", "html"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("only available for `muster analyze`"));
}

#[test]
fn who_can_file_lists_grants() {
    let example = example_file();
    let text = success(&[
        "who-can",
        "iam:CreatePolicyVersion",
        "arn:aws:iam::111122223333:policy/developer-tools",
        "--file",
        example.to_str().unwrap(),
        "--output",
        "json",
    ]);
    let answer: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = answer["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|grant| grant["name"].as_str().unwrap())
        .collect();

    assert_eq!(names, ["alice", "bob"]);
    let bob = &answer["grants"][1];
    assert_eq!(bob["verdict"], "allowed");
    assert_eq!(bob["statements"][0]["sid"], "MaintainOwnPolicy");
    assert_eq!(bob["statements"][0]["source"]["group_managed"]["group"], "developers");
}

#[test]
fn who_can_conditional_deny_and_context() {
    let example = example_file();
    let args = |context: &[&str]| {
        let mut args = vec![
            "who-can",
            "s3:GetObject",
            "arn:aws:s3:::example-reports/q1.csv",
            "--file",
            example.to_str().unwrap(),
            "--output",
            "json",
        ];
        args.extend_from_slice(context);
        let answer: Value = serde_json::from_str(&success(&args)).unwrap();
        answer["grants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|grant| grant["name"] == "carol")
            .cloned()
    };

    let unknown = args(&[]).unwrap();
    assert_eq!(unknown["verdict"], "conditional");
    assert!(unknown["conditions"][0]
        .as_str()
        .unwrap()
        .contains("aws:MultiFactorAuthPresent"));

    let with_mfa = args(&["--context", "aws:MultiFactorAuthPresent=true"]).unwrap();
    assert_eq!(with_mfa["verdict"], "allowed");

    assert!(
        args(&["--context", "aws:MultiFactorAuthPresent=false"]).is_none(),
        "the deny applies without MFA"
    );
}

#[test]
fn who_can_table_names_statements() {
    let example = example_file();
    let text = success(&[
        "who-can",
        "s3:GetObject",
        "arn:aws:s3:::example-reports/q1.csv",
        "--file",
        example.to_str().unwrap(),
    ]);
    assert!(text.contains("arn:aws:iam::111122223333:user/carol  conditional  statement `ReadReports` of inline policy `read-reports`"), "{text}");
}

#[test]
fn who_can_needs_a_source() {
    let (output, _) = muster(&["who-can", "s3:GetObject", "*"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--file"));
}

#[test]
fn who_can_rejects_bad_context() {
    let example = example_file();
    let (output, _) = muster(&[
        "who-can",
        "s3:GetObject",
        "*",
        "--file",
        example.to_str().unwrap(),
        "--context",
        "novalue",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("expected KEY=VALUE"));
}
