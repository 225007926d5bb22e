//! Test harness: a moto server on a free 127.0.0.1 port, the fixture account builder and
//! the fault-injecting proxy. Each server is killed when its handle is dropped.
//!
//! Every request goes to 127.0.0.1. Child processes run with
//! `AWS_EC2_METADATA_DISABLED=true` and without AWS profile or key variables, and the
//! connector always gets an explicit endpoint and explicit credentials, so neither the
//! SDK nor boto3 can fall back to real AWS endpoints or instance metadata.
//!
//! Needs `moto_server` (moto 5.2.1 was used to write these tests) and `python3` with
//! boto3 on `PATH`: `pip install 'moto[server]' boto3`. Each moto logs to
//! `$CARGO_TARGET_TMPDIR/moto-<port>.log`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use muster_aws::{ConnectorOptions, Progress, StaticCredentials, SyncError};
use muster_domain::{AwsCredentials, Entity, EntityType, Inventory, Relation};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Emulator credentials for syncs while moto does not enforce IAM authorization.
pub const FAKE_ACCESS_KEY_ID: &str = "AKIAFAKEMUSTERTEST01";
pub const FAKE_SECRET: &str = "fake-secret-for-moto";

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

/// Builds a command whose environment cannot reach real AWS.
pub fn isolated_command(program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_DEFAULT_REGION", "us-east-1");
    for variable in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        command.env_remove(variable);
    }
    command
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("no free port on 127.0.0.1")
}

/// Sends one HTTP/1.0 request and returns the status code and body.
pub fn http(method: &str, url: &str, body: &str) -> std::io::Result<(u16, String)> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (authority, path) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// A child process killed when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A moto server with AWS managed policies loaded.
pub struct Moto {
    process: ChildGuard,
    pub endpoint: String,
}

impl Moto {
    /// Starts moto on a free port. The port is free when chosen but could be taken
    /// before moto binds it, so a moto that exits at start-up is retried on another port.
    pub fn start() -> Moto {
        const ATTEMPTS: usize = 3;
        let mut failures = Vec::new();
        for _ in 0..ATTEMPTS {
            match Self::start_on(free_port()) {
                Ok(moto) => return moto,
                Err(failure) => failures.push(failure),
            }
        }
        panic!("moto_server did not start: {}", failures.join("; "));
    }

    fn start_on(port: u16) -> Result<Moto, String> {
        let log_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("moto-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("cannot create the moto log file");
        let log_err = log.try_clone().expect("cannot share the moto log file");
        let child = isolated_command("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .expect("cannot start moto_server: install it with `pip install 'moto[server]'`");
        let mut process = ChildGuard(child);
        let endpoint = format!("http://127.0.0.1:{port}");

        let started = Instant::now();
        loop {
            if let Ok((200, _)) = http("GET", &format!("{endpoint}/moto-api/"), "") {
                return Ok(Moto { process, endpoint });
            }
            if let Ok(Some(status)) = process.0.try_wait() {
                return Err(format!(
                    "moto_server exited with {status}; see {}",
                    log_path.display()
                ));
            }
            assert!(
                started.elapsed() < STARTUP_TIMEOUT,
                "moto_server did not respond within {STARTUP_TIMEOUT:?}; see {}",
                log_path.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Builds the fixture account and returns the builder's JSON summary.
    pub fn build_account(&self) -> Account {
        let output = isolated_command("python3")
            .arg(fixture("build_account.py"))
            .arg(&self.endpoint)
            .stdin(Stdio::null())
            .output()
            .expect("cannot run python3");
        assert!(
            output.status.success(),
            "build_account.py failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Account(
            serde_json::from_slice(&output.stdout).expect("build_account.py printed invalid JSON"),
        )
    }

    /// Makes moto check signatures and IAM policies on every later request.
    ///
    /// moto 5.2.1 reads the new request budget from the raw body of
    /// `POST /moto-api/reset-auth`; a form-encoded body reaches it empty and fails.
    pub fn enforce_auth(&self) {
        let (status, body) = http(
            "POST",
            &format!("{}/moto-api/reset-auth", self.endpoint),
            "0",
        )
        .expect("reset-auth request failed");
        assert_eq!(status, 200, "reset-auth failed: {body}");
    }
}

/// The summary `build_account.py` prints.
pub struct Account(pub Value);

impl Account {
    pub fn account_id(&self) -> &str {
        self.0["account_id"].as_str().unwrap()
    }

    pub fn external_id(&self) -> &str {
        self.0["external_id"].as_str().unwrap()
    }

    pub fn arn(&self, kind: &str, name: &str) -> String {
        self.0[kind][name]
            .as_str()
            .unwrap_or_else(|| panic!("the fixture has no {kind} `{name}`"))
            .to_string()
    }

    /// Returns the user's first access key as connector credentials.
    pub fn user_key(&self, user: &str) -> StaticCredentials {
        let key = &self.0["access_keys"][user][0];
        StaticCredentials {
            access_key_id: key["access_key_id"].as_str().unwrap().to_string(),
            secret_access_key: key["secret_access_key"].as_str().unwrap().to_string(),
            session_token: None,
        }
    }
}

/// The fault-injecting proxy in front of a moto server.
pub struct FaultProxy {
    process: ChildGuard,
    pub endpoint: String,
}

impl FaultProxy {
    pub fn start(upstream: &str, switches: &[&str]) -> FaultProxy {
        let mut child = isolated_command("python3")
            .arg(fixture("fault_proxy.py"))
            .args(["--upstream", upstream])
            .args(switches)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot run python3");
        let stdout = child.stdout.take().expect("proxy stdout is piped");
        let process = ChildGuard(child);
        let mut first_line = String::new();
        BufReader::new(stdout)
            .read_line(&mut first_line)
            .expect("cannot read the proxy's port");
        let port: u16 = first_line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the proxy printed `{first_line}` instead of its port"));
        FaultProxy {
            process,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Fetches the proxy's counters: requests and injected errors per action, GAAD pages
    /// served.
    pub fn stats(&self) -> Value {
        let (status, body) = http("GET", &format!("{}/_fault_proxy/stats", self.endpoint), "")
            .expect("stats request failed");
        assert_eq!(status, 200);
        serde_json::from_str(&body).expect("stats are not JSON")
    }
}

/// Options that point every call at `endpoint`.
pub fn options(endpoint: &str) -> ConnectorOptions {
    ConnectorOptions {
        endpoint_url: Some(endpoint.to_string()),
        region: Some("us-east-1".into()),
        base_credentials: None,
        max_concurrency: Some(4),
        ..Default::default()
    }
}

pub fn access_key(key: &StaticCredentials) -> AwsCredentials {
    AwsCredentials {
        access_key_id: Some(key.access_key_id.clone()),
        secret_access_key: Some(key.secret_access_key.clone()),
        ..Default::default()
    }
}

pub fn fake_access_key() -> AwsCredentials {
    AwsCredentials {
        access_key_id: Some(FAKE_ACCESS_KEY_ID.into()),
        secret_access_key: Some(FAKE_SECRET.into()),
        ..Default::default()
    }
}

/// Runs one sync and returns its result with every progress report.
pub async fn sync(
    credentials: &AwsCredentials,
    options: &ConnectorOptions,
) -> (Result<Inventory, SyncError>, Vec<Progress>) {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let progress = move |report: Progress| sink.lock().unwrap().push(report);
    let result = muster_aws::extract_account(credentials, options, &progress).await;
    let reports = reports.lock().unwrap().clone();
    (result, reports)
}

pub fn entity<'a>(
    inventory: &'a Inventory,
    entity_type: EntityType,
    source_id: &str,
) -> &'a Entity {
    inventory
        .entities
        .iter()
        .find(|entity| entity.entity_type == entity_type && entity.source_id == source_id)
        .unwrap_or_else(|| panic!("no {entity_type} entity `{source_id}`"))
}

pub fn relations<'a>(inventory: &'a Inventory, privilege: &str) -> Vec<&'a Relation> {
    inventory
        .relations
        .iter()
        .filter(|relation| relation.privilege_name == privilege)
        .collect()
}

pub fn find_relation<'a>(
    inventory: &'a Inventory,
    privilege: &str,
    parent: &str,
    child: &str,
) -> Option<&'a Relation> {
    inventory.relations.iter().find(|relation| {
        relation.privilege_name == privilege
            && relation.parent.source_id == parent
            && relation.child.source_id == child
    })
}

/// Entity counts keyed by `type/source_type`.
pub fn entity_counts(inventory: &Inventory) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for entity in &inventory.entities {
        *counts
            .entry(format!("{}/{}", entity.entity_type, entity.source_type))
            .or_insert(0) += 1;
    }
    counts
}

/// Relation counts keyed by privilege name.
pub fn relation_counts(inventory: &Inventory) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for relation in &inventory.relations {
        *counts.entry(relation.privilege_name.clone()).or_insert(0) += 1;
    }
    counts
}

/// The entity counts one sync of the fixture account gives.
pub fn expected_entity_counts() -> BTreeMap<String, usize> {
    [
        ("resource/account", 1),
        ("identity/user", 8),
        ("connection/group", 3),
        ("connection/role", 7),
        // 4 customer managed + AdministratorAccess, ReadOnlyAccess, IAMReadOnlyAccess.
        ("connection/policy", 7),
        // alice-notes, assume-any-role (users), auditors-extra (group), ec2-app-queue (role).
        ("connection/inline-policy", 4),
        ("identity/aws-service", 2),
        ("identity/federated", 1),
        // This account's root, 111122223333, 444455556666, 555566667777.
        ("identity/aws-account", 4),
        ("identity/canonical-user", 1),
        ("identity/public", 1),
    ]
    .into_iter()
    .map(|(key, count)| (key.to_string(), count))
    .collect()
}

pub fn expected_relation_counts() -> BTreeMap<String, usize> {
    [
        ("member", 5),
        // 10 managed policy attachments + 4 inline policies.
        ("attached", 14),
        ("permissions-boundary", 1),
        // deploy 1, muster-audit 1, no-access 1, ec2-app 1, bounded 2,
        // federated 5 allow + 1 deny, public 1.
        ("assume", 13),
    ]
    .into_iter()
    .map(|(key, count)| (key.to_string(), count))
    .collect()
}

/// Checks the shape every full sync of the fixture account must have.
pub fn assert_fixture_inventory(inventory: &Inventory, account: &Account) {
    inventory.validate().expect("the inventory is invalid");
    assert_eq!(inventory.project.as_deref(), Some(account.account_id()));
    assert_eq!(entity_counts(inventory), expected_entity_counts());
    assert_eq!(relation_counts(inventory), expected_relation_counts());
    for relation in &inventory.relations {
        assert_eq!(relation.project, account.account_id(), "{relation:?}");
    }
    for entity in &inventory.entities {
        assert_eq!(
            entity.metadata["Metadata Version"], "v1",
            "{}",
            entity.source_id
        );
    }
}

/// Sorted (type, source id) pairs, to compare two syncs.
pub fn entity_keys(inventory: &Inventory) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = inventory
        .entities
        .iter()
        .map(|entity| (entity.entity_type.to_string(), entity.source_id.clone()))
        .collect();
    keys.sort();
    keys
}

/// Sorted (privilege, parent, child) triples, to compare two syncs.
pub fn relation_keys(inventory: &Inventory) -> Vec<(String, String, String, bool)> {
    let mut keys: Vec<(String, String, String, bool)> = inventory
        .relations
        .iter()
        .map(|relation| {
            (
                relation.privilege_name.clone(),
                relation.parent.source_id.clone(),
                relation.child.source_id.clone(),
                relation.privilege_value,
            )
        })
        .collect();
    keys.sort();
    keys
}
