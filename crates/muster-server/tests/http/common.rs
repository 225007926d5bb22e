//! A test server: the real router on 127.0.0.1, a fresh SQLite store in a temporary
//! directory, and a client that does not follow redirects.

use muster_domain::{EntityKey, EntityType, Inventory, Relation};
use muster_service::{Muster, Settings};
use serde_json::{json, Value};
use tokio::sync::oneshot;

pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz-test-secret";
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub muster: Muster,
    shutdown: Option<oneshot::Sender<()>>,
    _data_dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let data_dir = tempfile::tempdir().expect("temporary directory");
        let muster = Muster::open(&Settings::new(data_dir.path())).await.expect("store opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("free port");
        let address = listener.local_addr().expect("bound address");
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(muster_server::serve(muster.clone(), listener, async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        TestServer {
            base: format!("http://{address}"),
            client,
            muster,
            shutdown: Some(shutdown),
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(body).send().await.expect("POST sent")
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body: Vec<String> = fields
            .iter()
            .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
            .collect();
        self.client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"))
            .send()
            .await
            .expect("form POST sent")
    }

    /// Creates an integration through the API and returns its JSON.
    pub async fn create_integration(&self, name: &str) -> Value {
        let response = self.post_json("/api/v1/integrations", &access_key_draft(name)).await;
        assert_eq!(response.status(), 201, "creating `{name}`");
        response.json().await.expect("JSON body")
    }

    /// Runs a sync without AWS: records a run and stores `sample_inventory()` as its
    /// snapshot.
    pub async fn store_sample_snapshot(&self, integration_id: &str) {
        let store = self.muster.store();
        let tenant = self.muster.default_tenant();
        let id = muster_domain::IntegrationId::from_string(integration_id);
        let run = store
            .start_sync_run(tenant, &id, "test", "test-worker")
            .await
            .expect("run starts");
        store
            .complete_sync_run(&run, &sample_inventory())
            .await
            .expect("snapshot stored");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

pub fn access_key_draft(name: &str) -> Value {
    json!({
        "app": "aws",
        "name": name,
        "description": "Production account",
        "primary_owner": "owner@example.com",
        "secondary_owners": ["second@example.com"],
        "extraction_type": "direct",
        "credentials": {"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET}
    })
}

fn metadata(fields: Value) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("Metadata Version".into(), json!("v1"));
    if let Value::Object(fields) = fields {
        object.extend(fields);
    }
    Value::Object(object)
}

fn entity(entity_type: EntityType, source_type: &str, source_id: &str, name: &str, fields: Value) -> muster_domain::Entity {
    muster_domain::Entity {
        entity_type,
        source_id: source_id.into(),
        source_type: source_type.into(),
        name: name.into(),
        metadata: metadata(fields),
    }
}

fn relation(parent: (EntityType, &str), child: (EntityType, &str), privilege: &str, connection_type: Option<&str>) -> Relation {
    Relation {
        parent: EntityKey::new(parent.0, parent.1),
        child: EntityKey::new(child.0, child.1),
        project: "123456789012".into(),
        privilege_name: privilege.into(),
        privilege_value: true,
        connection_type: connection_type.map(str::to_string),
        metadata: metadata(json!({})),
    }
}

pub const ALICE_ARN: &str = "arn:aws:iam::123456789012:user/alice";
pub const ADMINS_ARN: &str = "arn:aws:iam::123456789012:group/admins";
pub const POLICY_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// Three users, a group, a policy and the account, with alice → admins → policy → account.
pub fn sample_inventory() -> Inventory {
    use EntityType::{Connection, Identity, Resource};
    let user = |name: &str| {
        entity(
            Identity,
            "user",
            &format!("arn:aws:iam::123456789012:user/{name}"),
            name,
            json!({
                "arn": format!("arn:aws:iam::123456789012:user/{name}"),
                "console_password": {"enabled": true, "last_used": "2026-01-02T03:04:05Z"},
                "mfa": {"active": false, "devices": []},
                "access_keys": [{"access_key_id": "AKIAEXAMPLEKEY1", "status": "Active", "last_used": "2026-01-03T00:00:00Z"}],
                "tags": {"team": "platform"},
            }),
        )
    };
    Inventory {
        project: Some("123456789012".into()),
        entities: vec![
            user("alice"),
            user("bob"),
            user("carol"),
            entity(Connection, "group", ADMINS_ARN, "admins", json!({"path": "/"})),
            entity(
                Connection,
                "policy",
                POLICY_ARN,
                "AdministratorAccess",
                json!({"document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}),
            ),
            entity(Resource, "account", "123456789012", "123456789012", json!({})),
        ],
        relations: vec![
            relation((Identity, ALICE_ARN), (Connection, ADMINS_ARN), "member", Some("group")),
            relation((Connection, ADMINS_ARN), (Connection, POLICY_ARN), "attached", Some("policy")),
            relation((Connection, POLICY_ARN), (Resource, "123456789012"), "admin", Some("policy")),
        ],
        warnings: Vec::new(),
    }
}
