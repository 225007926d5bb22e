//! Harness of the oracle tests: a moto server on a free 127.0.0.1 port with the fixture
//! account built in it, the account's `get-account-authorization-details` output, and the
//! skip rule for missing tools.
//!
//! Every request goes to 127.0.0.1. Child processes run with explicit fake credentials,
//! `AWS_EC2_METADATA_DISABLED=true`, no AWS profile and a private `HOME`, so no tool can
//! reach real AWS endpoints, instance metadata or the caller's AWS configuration.
//!
//! Needs `moto_server`, `python3` with boto3 and `aws` (awscli) on `PATH`
//! (`pip install -r scripts/requirements-test.txt`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use muster_policy::{load_authorization_details, Account};
use serde_json::Value;

pub const ACCOUNT_ID: &str = "123456789012";

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn base_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../muster-aws/tests/fixtures/build_account.py")
}

/// A tool a test needs: its name for messages, and a command that succeeds when it is
/// installed.
#[derive(Clone, Copy)]
pub struct Tool<'a> {
    pub name: &'a str,
    pub program: &'a str,
    pub args: &'a [&'a str],
}

/// Returns whether the test should run. A missing tool skips the test with a message,
/// unless `CI` is set: there the test fails, because CI installs every tool.
pub fn tools_present(tools: &[Tool<'_>]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|tool| !runs(tool.program, tool.args))
        .map(|tool| tool.name)
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "missing test tools: {}; install them with `pip install -r scripts/requirements-test.txt`",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message} (CI is set, so the test must run)");
    }
    eprintln!("skipped: {message}");
    false
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Builds a command whose environment can reach only the given emulator: fake
/// credentials, no profile, no instance metadata, and `home` as `HOME`.
pub fn isolated_command(program: &str, endpoint: &str, home: &Path) -> Command {
    let mut command = Command::new(program);
    for variable in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        command.env_remove(variable);
    }
    command
        .env("HOME", home)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null());
    command
}

/// Runs the command and returns its standard output, or panics with its standard error.
pub fn run(command: &mut Command, what: &str) -> Vec<u8> {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot start {what}: {error}"));
    assert!(
        output.status.success(),
        "{what} failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A moto server, killed when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto with AWS managed policies loaded, on a free port. Logs go to
    /// `$CARGO_TARGET_TMPDIR/oracle-moto-<port>.log`.
    pub fn start(home: &Path) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("no free port on 127.0.0.1");
        let endpoint = format!("http://127.0.0.1:{port}");
        let log_path =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("oracle-moto-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("cannot create the moto log file");
        let child = isolated_command("moto_server", &endpoint, home)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(log.try_clone().expect("cannot share the moto log file"))
            .stderr(log)
            .spawn()
            .expect("cannot start moto_server");
        let mut moto = Moto { child, endpoint };

        let started = Instant::now();
        while !answers(port) {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!(
                    "moto_server exited with {status}; see {}",
                    log_path.display()
                );
            }
            assert!(
                started.elapsed() < STARTUP_TIMEOUT,
                "moto_server did not answer within {STARTUP_TIMEOUT:?}; see {}",
                log_path.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }
}

fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if std::io::Write::write_all(&mut stream, request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200")
}

/// The tools every oracle test needs: the emulator, boto3 for the builders, and awscli.
pub const BASE_TOOLS: [Tool<'static>; 3] = [
    Tool {
        name: "moto_server",
        program: "moto_server",
        args: &["--help"],
    },
    Tool {
        name: "boto3",
        program: "python3",
        args: &["-c", "import boto3"],
    },
    Tool {
        name: "awscli",
        program: "aws",
        args: &["--version"],
    },
];

/// The fixture account in a running moto, and its authorization details on disk.
pub struct Fixture {
    pub moto: Moto,
    /// Private `HOME` of every tool run against the fixture, and the scratch directory.
    pub home: tempfile::TempDir,
    pub details_path: PathBuf,
    pub details: Value,
    pub account: Account,
}

impl Fixture {
    /// Builds the account of `build_account.py` plus `build_escalation_account.py` and
    /// saves its `aws iam get-account-authorization-details` output as `gaad.json`.
    pub fn build() -> Fixture {
        let home = tempfile::tempdir().expect("cannot create a temporary directory");
        let moto = Moto::start(home.path());
        for script in [base_fixture(), fixture("build_escalation_account.py")] {
            run(
                isolated_command("python3", &moto.endpoint, home.path())
                    .arg(&script)
                    .arg(&moto.endpoint)
                    .stdout(Stdio::null()),
                &script.display().to_string(),
            );
        }

        let output = run(
            isolated_command("aws", &moto.endpoint, home.path()).args([
                "iam",
                "get-account-authorization-details",
                "--output",
                "json",
            ]),
            "aws iam get-account-authorization-details",
        );
        let mut details: Value =
            serde_json::from_slice(&output).expect("awscli printed invalid JSON");
        fill_policy_names(&mut details);
        let details_path = home.path().join("gaad.json");
        std::fs::write(&details_path, details.to_string()).expect("cannot write gaad.json");

        let loaded = load_authorization_details(&details.to_string())
            .expect("Muster cannot load the fixture's authorization details");
        assert!(
            loaded.problems.is_empty(),
            "loading the fixture reported problems: {:?}",
            loaded.problems
        );
        Fixture {
            moto,
            home,
            details_path,
            details,
            account: loaded.account,
        }
    }

    /// Lists the users in `group`, from the authorization details.
    pub fn group_members(&self, group: &str) -> Vec<String> {
        self.details["UserDetailList"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|user| {
                user["GroupList"]
                    .as_array()
                    .is_some_and(|groups| groups.iter().any(|name| name == group))
            })
            .map(|user| user["UserName"].as_str().unwrap().to_string())
            .collect()
    }

    /// Returns a role's trust policy as JSON text.
    pub fn trust_policy(&self, role: &str) -> String {
        self.details["RoleDetailList"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|detail| detail["RoleName"] == role)
            .map(|detail| detail["AssumeRolePolicyDocument"].to_string())
            .unwrap_or_else(|| panic!("the fixture has no role `{role}`"))
    }
}

/// Fills `PolicyName` and `PolicyId` of every managed policy from its ARN. moto 5.2.1
/// leaves both out of `GetAccountAuthorizationDetails`, and Cloudsplaining and PMapper
/// read them.
pub fn fill_policy_names(details: &mut Value) {
    let Some(policies) = details["Policies"].as_array_mut() else {
        return;
    };
    for policy in policies {
        let name = policy["Arn"]
            .as_str()
            .and_then(|arn| arn.rsplit('/').next())
            .unwrap_or_default()
            .to_string();
        let id = format!("ANPA{}", name.to_uppercase().replace(['-', '_', '.'], ""));
        let object = policy.as_object_mut().unwrap();
        object.entry("PolicyName").or_insert(Value::String(name));
        object.entry("PolicyId").or_insert(Value::String(id));
    }
}
