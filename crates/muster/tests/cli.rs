//! Black-box tests of the `muster` binary: each runs the real executable against a fresh
//! data directory and checks its output and exit code.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SECRET: &str = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY";

struct DataDir(PathBuf);

impl DataDir {
    fn new() -> DataDir {
        let path = std::env::temp_dir().join(format!("muster-cli-{}", ulid::Ulid::new()));
        DataDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn muster(data_dir: &DataDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(args)
        .env_remove("MUSTER_DATABASE_URL")
        .env_remove("MUSTER_SECRET_KEY")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> Value {
    assert!(output.status.success(), "command failed: {}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| panic!("not JSON ({error}): {}", stdout(output)))
}

fn add_with_keys(data_dir: &DataDir, name: &str) -> Output {
    muster(
        data_dir,
        &[
            "integration", "add", "aws", "--name", name, "--owner", "owner@example.com",
            "--secondary-owner", "second@example.com", "--description", "test account",
            "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--secret-access-key", SECRET,
            "--output", "json",
        ],
    )
}

#[test]
fn add_list_show_remove() {
    let data_dir = DataDir::new();
    let added = json(&add_with_keys(&data_dir, "AWS prod"));
    let id = added["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("aws/"));
    assert_eq!(added["status"], "Pending");
    assert_eq!(added["extraction_type"], "direct");
    assert_eq!(added["credentials"]["secret_access_key"], true);
    assert_eq!(added["credentials"]["role_arn"], false);

    let listed = json(&muster(&data_dir, &["integration", "list", "--output", "json"]));
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let by_name = json(&muster(&data_dir, &["integration", "show", "aws prod", "--output", "json"]));
    assert_eq!(by_name["id"], id.as_str());
    let by_id = json(&muster(&data_dir, &["integration", "show", &id, "--output", "json"]));
    assert_eq!(by_id["name"], "AWS prod");

    let table = muster(&data_dir, &["integration", "list"]);
    assert!(stdout(&table).contains("AWS prod"));
    assert!(stdout(&table).contains("Pending"));

    let removed = muster(&data_dir, &["integration", "remove", "AWS prod"]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    let listed = json(&muster(&data_dir, &["integration", "list", "--output", "json"]));
    assert!(listed.as_array().unwrap().is_empty());
}

#[test]
fn secrets_never_printed() {
    let data_dir = DataDir::new();
    let added = add_with_keys(&data_dir, "Secretive");
    assert!(!stdout(&added).contains(SECRET));
    assert!(!stdout(&added).contains("AKIAIOSFODNN7EXAMPLE"));
    for args in [
        vec!["integration", "show", "Secretive"],
        vec!["integration", "show", "Secretive", "--output", "json"],
        vec!["integration", "list", "--output", "json"],
    ] {
        let output = muster(&data_dir, &args);
        assert!(!stdout(&output).contains(SECRET), "{args:?} printed the secret");
        assert!(!stderr(&output).contains(SECRET), "{args:?} logged the secret");
    }

    let database = std::fs::read(data_dir.path().join("muster.db")).unwrap();
    let database = String::from_utf8_lossy(&database);
    assert!(!database.contains(SECRET), "secret stored in clear");
}

#[cfg(unix)]
#[test]
fn key_file_is_private() {
    use std::os::unix::fs::PermissionsExt;

    let data_dir = DataDir::new();
    json(&muster(&data_dir, &["integration", "list", "--output", "json"]));
    let mode = std::fs::metadata(data_dir.path().join("secret.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn invalid_input_lists_every_field() {
    let data_dir = DataDir::new();
    let output = muster(
        &data_dir,
        &[
            "integration", "add", "aws", "--name", "Bad", "--owner", "not-an-email",
            "--role-arn", "arn:aws:iam::12:user/x", "--session-duration", "50000",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("--owner:"), "{message}");
    assert!(message.contains("not-an-email"), "{message}");
    assert!(message.contains("--role-arn"), "{message}");
    assert!(message.contains("--session-duration:"), "{message}");
    assert!(message.contains("43200"), "{message}");

    let missing_credentials = muster(&data_dir, &["integration", "add", "aws", "--name", "None", "--owner", "a@example.com"]);
    assert_eq!(missing_credentials.status.code(), Some(1));
    assert!(stderr(&missing_credentials).contains("role ARN"), "{}", stderr(&missing_credentials));
}

#[test]
fn duplicate_name_rejected() {
    let data_dir = DataDir::new();
    json(&add_with_keys(&data_dir, "Twice"));
    let output = add_with_keys(&data_dir, "twice");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("already exists"), "{}", stderr(&output));
}

#[test]
fn update_switches_to_role() {
    let data_dir = DataDir::new();
    json(&add_with_keys(&data_dir, "Switch"));
    let updated = json(&muster(
        &data_dir,
        &[
            "integration", "update", "Switch", "--role-arn", "arn:aws:iam::123456789012:role/MusterReadOnly",
            "--external-id", "ext-123", "--session-duration", "43200", "--name", "Switched",
            "--output", "json",
        ],
    ));
    assert_eq!(updated["name"], "Switched");
    assert_eq!(updated["credentials"]["auth_method"], "assume-role");
    assert_eq!(updated["credentials"]["external_id"], true);
    assert_eq!(updated["credentials"]["session_duration_secs"], 43200);
    assert_eq!(updated["credentials"]["secret_access_key"], false);

    let renamed_owner = json(&muster(
        &data_dir,
        &["integration", "update", "Switched", "--owner", "new@example.com", "--clear-secondary-owners", "--output", "json"],
    ));
    assert_eq!(renamed_owner["primary_owner"], "new@example.com");
    assert_eq!(renamed_owner["secondary_owners"], serde_json::json!([]));
    assert_eq!(renamed_owner["credentials"]["role_arn"], true, "credentials kept");
}

#[test]
fn unknown_integration_is_not_found() {
    let data_dir = DataDir::new();
    for args in [
        vec!["integration", "show", "nope"],
        vec!["integration", "remove", "nope"],
        vec!["sync", "nope"],
        vec!["entities", "list", "--integration", "nope"],
        vec!["entities", "show", "nope"],
    ] {
        let output = muster(&data_dir, &args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(stderr(&output).contains("not found"), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn empty_inventory_lists() {
    let data_dir = DataDir::new();
    let page = json(&muster(&data_dir, &["entities", "list", "--output", "json"]));
    assert_eq!(page["total"], 0);
    let runs = json(&muster(&data_dir, &["sync-runs", "list", "--output", "json"]));
    assert!(runs.as_array().unwrap().is_empty());
    let text = muster(&data_dir, &["integration", "list"]);
    assert!(stdout(&text).contains("No integrations yet"));
}

#[test]
fn failed_sync_exits_two() {
    let data_dir = DataDir::new();
    json(&add_with_keys(&data_dir, "Unreachable"));
    // Nothing listens on port 9 of the loopback interface, so the sync fails fast.
    let output = Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["sync", "Unreachable"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("MUSTER_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(!stderr(&output).contains(SECRET));

    let shown = json(&muster(&data_dir, &["integration", "show", "Unreachable", "--output", "json"]));
    assert_ne!(shown["status"], "Connected");
    assert_ne!(shown["status"], "Pending");
    let runs = json(&muster(&data_dir, &["sync-runs", "list", "--output", "json"]));
    assert_eq!(runs[0]["state"], "failed");
    assert!(runs[0]["error_code"].as_str().unwrap().starts_with("aws."));
}

#[test]
fn postgres_backend_round_trip() {
    let admin_url = std::env::var("MUSTER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("muster_cli_{}", ulid::Ulid::new().to_string().to_lowercase());
    let psql = |sql: &str| {
        let status = Command::new("psql")
            .args([admin_url.as_str(), "-q", "-c", sql])
            .status()
            .unwrap();
        assert!(status.success(), "psql failed: {sql}");
    };
    psql(&format!("CREATE DATABASE {name}"));

    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let database_url = format!("{base}/{name}");
    let data_dir = DataDir::new();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_muster"))
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(args)
            .env("MUSTER_DATABASE_URL", &database_url)
            .env("MUSTER_SECRET_KEY", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
            .output()
            .unwrap()
    };

    let added = run(&[
        "integration", "add", "aws", "--name", "On Postgres", "--owner", "owner@example.com",
        "--role-arn", "arn:aws:iam::123456789012:role/MusterReadOnly", "--output", "json",
    ]);
    let added = json(&added);
    assert_eq!(added["credentials"]["auth_method"], "assume-role");
    let listed = json(&run(&["integration", "list", "--output", "json"]));
    assert_eq!(listed[0]["name"], "On Postgres");
    assert!(!data_dir.path().join("muster.db").exists(), "no SQLite file when PostgreSQL is used");
    assert!(!data_dir.path().join("secret.key").exists(), "MUSTER_SECRET_KEY replaces the key file");

    psql(&format!("DROP DATABASE {name} WITH (FORCE)"));
}

#[test]
fn lost_key_file_not_replaced() {
    let data_dir = DataDir::new();
    json(&add_with_keys(&data_dir, "Sealed"));
    let key_file = data_dir.path().join("secret.key");
    std::fs::remove_file(&key_file).unwrap();

    let output = muster(&data_dir, &["integration", "list"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("credential key is missing"), "{}", stderr(&output));
    assert!(!key_file.exists(), "a new key file must not replace the lost one");

    let wrong_key = Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["integration", "list"])
        .env("MUSTER_SECRET_KEY", "00".repeat(32))
        .env_remove("MUSTER_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(wrong_key.status.code(), Some(1));
    assert!(stderr(&wrong_key).contains("does not match"), "{}", stderr(&wrong_key));
}

#[test]
fn sync_refused_while_running() {
    let data_dir = DataDir::new();
    json(&add_with_keys(&data_dir, "Busy"));
    // Nothing listens on this port, so the sync fails fast. Then a second sync can start.
    let sync = || {
        Command::new(env!("CARGO_BIN_EXE_muster"))
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["sync", "Busy", "--output", "json"])
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("MUSTER_DATABASE_URL")
            .output()
            .unwrap()
    };
    assert_eq!(sync().status.code(), Some(2));
    assert_eq!(sync().status.code(), Some(2), "a finished run does not block the next");
    let runs = json(&muster(&data_dir, &["sync-runs", "list", "--output", "json"]));
    assert_eq!(runs.as_array().unwrap().len(), 2);
}

#[test]
fn import_reports_rows_then_export_round_trips() {
    let data_dir = DataDir::new();
    let added = json(&muster(
        &data_dir,
        &["integration", "add", "custom", "--name", "Payroll", "--owner", "owner@example.com", "--output", "json"],
    ));
    assert_eq!(added["extraction_type"], "upload");
    std::fs::create_dir_all(data_dir.path()).unwrap();
    let file = data_dir.path().join("entities.csv");
    std::fs::write(
        &file,
        "Name;Entity Type;Source System;Source ID;Source Type\nAda;identity;payroll;00123;user\n;identity;payroll;u2;user\n",
    )
    .unwrap();

    let rejected = muster(&data_dir, &["import", "entities", file.to_str().unwrap(), "--integration", "Payroll"]);
    assert_eq!(rejected.status.code(), Some(2), "{}", stderr(&rejected));
    assert!(stdout(&rejected).contains("3     Name"), "{}", stdout(&rejected));
    assert!(stderr(&rejected).contains("Nothing was imported"), "{}", stderr(&rejected));

    let report = json(&muster(
        &data_dir,
        &["import", "entities", file.to_str().unwrap(), "--integration", "Payroll", "--skip-invalid-rows", "--output", "json"],
    ));
    assert_eq!(report["applied"], true);
    assert_eq!(report["file"]["delimiter"], ";");
    assert_eq!(report["rows_skipped"], 1);

    let out = data_dir.path().join("export.csv");
    let exported = muster(&data_dir, &["export", "entities", "--integration", "Payroll", "--output", out.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains(",Ada,identity,payroll,00123,user,"), "{text}");

    let format_as_file = muster(&data_dir, &["export", "entities", "--integration", "Payroll", "--output", "json"]);
    assert_eq!(format_as_file.status.code(), Some(1));
    assert!(stderr(&format_as_file).contains("names the file"), "{}", stderr(&format_as_file));

    let sync = muster(&data_dir, &["sync", "Payroll"]);
    assert!(!sync.status.success());
    assert!(stderr(&sync).contains("muster import"), "{}", stderr(&sync));
}

#[test]
fn api_key_secret_shown_once() {
    let data_dir = DataDir::new();
    let created = json(&muster(&data_dir, &["api-key", "create", "--name", "nightly push", "--expires", "30d", "--output", "json"]));
    let secret = created["secret"].as_str().unwrap().to_string();
    let id = created["key"]["id"].as_str().unwrap().to_string();
    assert!(secret.len() >= 40);

    let listed = muster(&data_dir, &["api-key", "list", "--output", "json"]);
    assert!(!stdout(&listed).contains(&secret));
    assert_eq!(json(&listed)[0]["id"], id.as_str());

    let revoked = json(&muster(&data_dir, &["api-key", "revoke", &id, "--output", "json"]));
    assert!(revoked["revoked_at"].is_string());
    let bad_expiry = muster(&data_dir, &["api-key", "create", "--name", "x", "--expires", "yesterday"]);
    assert!(!bad_expiry.status.success());
    assert!(stderr(&bad_expiry).contains("--expires"), "{}", stderr(&bad_expiry));
}
