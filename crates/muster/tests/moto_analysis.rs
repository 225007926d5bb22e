//! End to end on the moto AWS emulator: `muster sync` stores the policy analysis with the
//! snapshot, `muster who-can --integration` reads the snapshot, and the entity API of
//! `muster serve` returns the stored findings.
//!
//! Needs `moto_server` and `python3` with boto3 on `PATH`
//! (`pip install 'moto[server]' boto3`). The fixture account comes from
//! `crates/muster-aws/tests/fixtures/build_account.py`.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Kills and reaps a child process when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct DataDir(PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Sends a GET over HTTP/1.0 and returns the status code and body.
fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn wait_for(port: u16, path: &str, process: &mut ChildGuard, program: &str) {
    let started = Instant::now();
    loop {
        if let Ok((200, _)) = http_get(port, path) {
            return;
        }
        if let Ok(Some(status)) = process.0.try_wait() {
            panic!("{program} exited with {status}");
        }
        assert!(
            started.elapsed() < STARTUP_TIMEOUT,
            "{program} did not respond within {STARTUP_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Builds a command whose environment cannot reach real AWS.
fn isolated(program: &Path) -> Command {
    let mut command = Command::new(program);
    for variable in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "MUSTER_DATABASE_URL",
        "MUSTER_SECRET_KEY",
    ] {
        command.env_remove(variable);
    }
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    command
}

fn start_moto() -> (ChildGuard, u16) {
    let port = free_port();
    let log =
        std::fs::File::create(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("moto-cli-{port}.log"))).unwrap();
    let child = isolated(Path::new("moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("cannot start moto_server: install it with `pip install 'moto[server]'`");
    let mut moto = ChildGuard(child);
    wait_for(port, "/moto-api/", &mut moto, "moto_server");
    (moto, port)
}

fn muster(data_dir: &DataDir, endpoint: &str, args: &[&str]) -> Output {
    isolated(Path::new(env!("CARGO_BIN_EXE_muster")))
        .arg("--data-dir")
        .arg(&data_dir.0)
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .output()
        .unwrap()
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn grant_names(answer: &Value) -> Vec<String> {
    answer["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|grant| grant["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sync_then_who_can_and_findings() {
    let (_moto, moto_port) = start_moto();
    let endpoint = format!("http://127.0.0.1:{moto_port}");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../muster-aws/tests/fixtures/build_account.py");
    let built = isolated(Path::new("python3"))
        .arg(&fixture)
        .arg(&endpoint)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "build_account.py failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let account: Value = serde_json::from_slice(&built.stdout).unwrap();
    let alice_arn = account["users"]["alice.admin"].as_str().unwrap().to_string();

    let data_dir = DataDir(std::env::temp_dir().join(format!("muster-moto-cli-{}", ulid::Ulid::new())));
    json(&muster(
        &data_dir,
        &endpoint,
        &[
            "integration",
            "add",
            "aws",
            "--name",
            "moto",
            "--owner",
            "owner@example.com",
            "--access-key-id",
            "AKIAFAKEMUSTERTEST01",
            "--secret-access-key",
            "fake-secret-for-moto",
            "--output",
            "json",
        ],
    ));
    let synced = json(&muster(&data_dir, &endpoint, &["sync", "moto", "--output", "json"]));
    assert!(synced["snapshot"].is_object(), "sync failed: {synced}");
    let warnings = synced["snapshot"]["warnings"].as_array().unwrap();
    assert!(
        !warnings
            .iter()
            .any(|warning| warning.as_str().unwrap().contains("policy analysis failed")),
        "{warnings:?}"
    );

    // bob.dev gets s3:PutObject through the default version of app-deploy, and alice.admin
    // through AdministratorAccess in the admins group.
    let answer = json(&muster(
        &data_dir,
        &endpoint,
        &[
            "who-can",
            "s3:PutObject",
            "arn:aws:s3:::deploy-artifacts/build.zip",
            "--integration",
            "moto",
            "--output",
            "json",
        ],
    ));
    let names = grant_names(&answer);
    assert!(names.contains(&"alice.admin".to_string()), "{names:?}");
    assert!(names.contains(&"bob.dev".to_string()), "{names:?}");
    assert!(
        !names.contains(&"carol.audit".to_string()),
        "ReadOnlyAccess allows no PutObject: {names:?}"
    );
    let bob = answer["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|grant| grant["name"] == "bob.dev")
        .unwrap();
    assert_eq!(bob["verdict"], "allowed");
    assert!(
        bob["statements"][0]["source"].to_string().contains("app-deploy"),
        "{bob}"
    );

    // The entity API of a server on the same data directory returns the stored findings.
    let entities = json(&muster(
        &data_dir,
        &endpoint,
        &["entities", "list", "--search", "alice.admin", "--output", "json"],
    ));
    let alice = entities["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entity| entity["source_id"] == alice_arn.as_str())
        .unwrap();
    let alice_id = alice["id"].as_str().unwrap().to_string();
    let shown = json(&muster(
        &data_dir,
        &endpoint,
        &["entities", "show", &alice_id, "--output", "json"],
    ));
    assert_eq!(shown["findings"]["admin"], true, "{shown}");
    assert_eq!(shown["source_id"], alice_arn.as_str());
    let text = muster(&data_dir, &endpoint, &["entities", "show", &alice_id]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("What it can do:\n  - is administrator"));

    let port = free_port();
    let server = isolated(Path::new(env!("CARGO_BIN_EXE_muster")))
        .arg("--data-dir")
        .arg(&data_dir.0)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--workers", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = ChildGuard(server);
    wait_for(port, "/healthz", &mut server, "muster serve");
    let (status, body) = http_get(port, &format!("/api/v1/entities/{alice_id}")).unwrap();
    assert_eq!(status, 200, "{body}");
    let detail: Value = serde_json::from_str(&body).unwrap();
    let findings = &detail["findings"];
    assert_eq!(findings["admin"], true, "{findings}");
    assert!(
        findings["findings"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("is administrator"),
        "{findings}"
    );
    assert!(!findings["access"].as_array().unwrap().is_empty());
}
