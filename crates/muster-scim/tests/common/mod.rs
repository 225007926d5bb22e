//! Test harness: starts `scim2-server` on a free port, seeds it through its Bulk endpoint,
//! and puts the fault-injecting proxy of `proxy.rs` in front of it.

#![allow(dead_code)]

pub mod proxy;

use muster_domain::{EntityType, Inventory};
use muster_scim::{ScimAuth, ScimEndpoint, ScimOptions};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "test-token-4f9c2a";

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The user names with characters a filter must quote and escape.
pub const OBRIEN: &str = "O'Brien";
pub const PLUS_ADDRESS: &str = "a+b@x.com";
pub const AWKWARD: &str = "Zoë \"Z\" Back\\slash";

/// A running `scim2-server`, stopped when dropped.
pub struct ScimServer {
    child: Child,
    pub url: String,
}

impl ScimServer {
    pub async fn start() -> Self {
        let port = free_port();
        let child = Command::new("scim2-server")
            .args([
                "--hostname",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--bearer-token",
                TOKEN,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                "scim2-server is not installed: run `python3 -m pip install -r scripts/requirements-test.txt` \
                 (scripts/test.sh does it)"
            ),
            Err(error) => panic!("could not start scim2-server: {error}"),
        };
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = reqwest::Client::new();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("scim2-server exited at start with {status}");
            }
            let probe = http
                .get(format!("{}/ServiceProviderConfig", self.url))
                .bearer_auth(TOKEN)
                .send()
                .await;
            if probe.is_ok_and(|response| response.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "scim2-server did not answer on {} within 30 s",
                self.url
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn endpoint(&self) -> ScimEndpoint {
        endpoint(&self.url, TOKEN)
    }
}

impl Drop for ScimServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn endpoint(url: &str, token: &str) -> ScimEndpoint {
    ScimEndpoint {
        base_url: url.into(),
        auth: ScimAuth::Bearer(token.into()),
        extra_headers: Vec::new(),
    }
}

/// Options with short timeouts and quick retries for tests.
pub fn options() -> ScimOptions {
    ScimOptions {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(20),
        ..ScimOptions::default()
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// What the seed created, by index.
#[derive(Debug, Default)]
pub struct Seeded {
    /// User ids in creation order; user `i` is `user_names[i]`.
    pub user_ids: Vec<String>,
    pub user_names: Vec<String>,
    pub inactive: BTreeSet<String>,
    pub group_ids: Vec<String>,
    /// Group id → member user ids (the nested group is not in here).
    pub members: BTreeMap<String, Vec<String>>,
    /// `group_ids[1]`, a member of `group_ids[0]`.
    pub nested_inner: String,
    pub nested_outer: String,
}

impl Seeded {
    pub fn user_id_named(&self, name: &str) -> &str {
        let index = self
            .user_names
            .iter()
            .position(|user_name| user_name == name)
            .unwrap();
        &self.user_ids[index]
    }
}

/// Creates `users` users (every tenth inactive, three with awkward names) and `groups`
/// groups through `/Bulk`; user `i` is a member of group `i % groups`, and group 1 is a
/// member of group 0.
pub async fn seed(url: &str, users: usize, groups: usize) -> Seeded {
    let mut seeded = Seeded::default();
    let names: Vec<String> = (0..users)
        .map(|index| match index {
            1 => OBRIEN.to_string(),
            2 => PLUS_ADDRESS.to_string(),
            3 => AWKWARD.to_string(),
            _ => format!("user{index:05}@example.com"),
        })
        .collect();

    let user_operations: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            json!({
                "method": "POST",
                "path": "/Users",
                "bulkId": format!("u{index}"),
                "data": {
                    "schemas": [USER_SCHEMA, ENTERPRISE],
                    "userName": name,
                    "displayName": format!("User {index}"),
                    "externalId": format!("ext-{index}"),
                    "active": index % 10 != 0,
                    "name": {"givenName": "User", "familyName": format!("N{index}")},
                    "emails": [
                        {"value": format!("other{index}@example.org"), "type": "home"},
                        {"value": format!("work{index}@example.com"), "type": "work", "primary": true}
                    ],
                    ENTERPRISE: {"department": format!("D{}", index % 7), "employeeNumber": format!("{index}")},
                }
            })
        })
        .collect();
    for chunk in user_operations.chunks(1000) {
        let ids = bulk(url, chunk).await;
        seeded.user_ids.extend(ids);
    }
    seeded.user_names = names;
    for (index, id) in seeded.user_ids.iter().enumerate() {
        if index % 10 == 0 {
            seeded.inactive.insert(id.clone());
        }
    }

    let mut group_members: Vec<Vec<String>> = vec![Vec::new(); groups];
    for (index, id) in seeded.user_ids.iter().enumerate() {
        group_members[index % groups].push(id.clone());
    }
    let group_operations: Vec<Value> = group_members
        .iter()
        .enumerate()
        .map(|(index, members)| {
            let members: Vec<Value> = members.iter().map(|id| json!({"value": id, "type": "User"})).collect();
            json!({
                "method": "POST",
                "path": "/Groups",
                "bulkId": format!("g{index}"),
                "data": {"schemas": [GROUP_SCHEMA], "displayName": format!("group-{index:03}"), "members": members}
            })
        })
        .collect();
    seeded.group_ids = bulk(url, &group_operations).await;
    for (id, members) in seeded.group_ids.iter().zip(group_members) {
        seeded.members.insert(id.clone(), members);
    }

    seeded.nested_outer = seeded.group_ids[0].clone();
    seeded.nested_inner = seeded.group_ids[1].clone();
    let response = reqwest::Client::new()
        .patch(format!("{url}/Groups/{}", seeded.nested_outer))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": seeded.nested_inner, "type": "Group"}]}]
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "nesting group: HTTP {}",
        response.status()
    );
    seeded
}

/// Sends one Bulk request and returns the created ids in operation order.
async fn bulk(url: &str, operations: &[Value]) -> Vec<String> {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations});
    let response = reqwest::Client::new()
        .post(format!("{url}/Bulk"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(body.to_string())
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "bulk: HTTP {}",
        response.status()
    );
    let answer: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let results = answer["Operations"].as_array().unwrap();
    let by_bulk_id: BTreeMap<&str, &Value> = results
        .iter()
        .map(|result| (result["bulkId"].as_str().unwrap(), result))
        .collect();
    operations
        .iter()
        .map(|operation| {
            let result = by_bulk_id[operation["bulkId"].as_str().unwrap()];
            assert!(
                result["status"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with('2'),
                "bulk operation failed: {result}"
            );
            let location = result["location"].as_str().unwrap();
            location.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

/// The facts of an inventory that every faulty server must still yield: each identity's
/// name, status and email, and each relation.
#[derive(Debug, PartialEq)]
pub struct Digest {
    pub identities: BTreeMap<String, (String, Value, Value)>,
    pub groups: BTreeMap<String, String>,
    pub relations: BTreeSet<(String, String)>,
}

pub fn digest(inventory: &Inventory) -> Digest {
    let mut identities = BTreeMap::new();
    let mut groups = BTreeMap::new();
    for entity in &inventory.entities {
        match entity.entity_type {
            EntityType::Identity => {
                identities.insert(
                    entity.source_id.clone(),
                    (
                        entity.name.clone(),
                        entity.metadata["active"].clone(),
                        entity.metadata["email"].clone(),
                    ),
                );
            }
            _ => {
                groups.insert(entity.source_id.clone(), entity.name.clone());
            }
        }
    }
    let relations = inventory
        .relations
        .iter()
        .map(|relation| {
            (
                relation.parent.source_id.clone(),
                relation.child.source_id.clone(),
            )
        })
        .collect();
    Digest {
        identities,
        groups,
        relations,
    }
}

pub fn incomplete(inventory: &Inventory) -> bool {
    inventory
        .warnings
        .iter()
        .any(|warning| warning.starts_with(muster_scim::INCOMPLETE_WARNING_PREFIX))
}

pub fn no_progress(_: muster_scim::Progress) {}
