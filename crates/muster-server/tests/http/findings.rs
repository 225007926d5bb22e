//! Policy findings stored with a snapshot: the entity API's `findings` field and the
//! plain-language lines on the entity page.

use crate::common::TestServer;
use muster_domain::inventory::metadata_v1;
use muster_domain::{Entity, EntityType, IntegrationId, Inventory, Relation};
use muster_service::analysis::analyze_inventory;
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
const DEV_ARN: &str = "arn:aws:iam::111122223333:user/dev";
const POLICY_ARN: &str = "arn:aws:iam::111122223333:policy/dev-tools";

fn entity(entity_type: EntityType, source_type: &str, arn: &str, name: &str, fields: Value) -> Entity {
    let Value::Object(fields) = fields else {
        panic!("fields must be an object")
    };
    Entity {
        entity_type,
        source_id: arn.into(),
        source_type: source_type.into(),
        name: name.into(),
        metadata: metadata_v1(fields),
    }
}

/// An account as the AWS connector maps it: a user whose attached policy lets it write a
/// new version of that same policy and read every S3 object.
fn account_inventory() -> Inventory {
    let policy_document = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "OwnPolicy", "Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": POLICY_ARN},
        {"Sid": "ReadAll", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    ]});
    let dev = entity(
        EntityType::Identity,
        "user",
        DEV_ARN,
        "dev",
        json!({"UserId": "AIDAEXAMPLEDEV", "Tags": {}}),
    );
    let policy = entity(
        EntityType::Connection,
        "policy",
        POLICY_ARN,
        "dev-tools",
        json!({
            "DefaultVersionId": "v1",
            "Versions": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": policy_document}],
        }),
    );
    let account = entity(EntityType::Resource, "account", ACCOUNT, ACCOUNT, json!({}));
    Inventory {
        project: Some(ACCOUNT.into()),
        relations: vec![Relation {
            parent: dev.key(),
            child: policy.key(),
            project: ACCOUNT.into(),
            privilege_name: "attached".into(),
            privilege_value: true,
            connection_type: Some("policy".into()),
            metadata: json!({"Metadata Version": "v1", "inline": false}),
        }],
        entities: vec![dev, policy, account],
        warnings: Vec::new(),
    }
}

async fn store_analysed_snapshot(server: &TestServer, integration_id: &str) {
    let store = server.muster.store();
    let tenant = server.muster.default_tenant();
    let id = IntegrationId::from_string(integration_id);
    let inventory = account_inventory();
    let analysis = analyze_inventory(&inventory).unwrap();
    let run = store.start_sync_run(tenant, &id, "test", "test-worker").await.unwrap();
    store
        .complete_sync_run_with_analysis(&run, &inventory, Some(&analysis))
        .await
        .unwrap();
}

fn entity_id(integration_id: &str, entity_type: EntityType, arn: &str) -> String {
    muster_domain::EntityId::derive(&IntegrationId::from_string(integration_id), entity_type, arn).to_string()
}

#[tokio::test]
async fn entity_api_has_findings() {
    let server = TestServer::start().await;
    let integration = server.create_integration("Analysed").await;
    let integration_id = integration["id"].as_str().unwrap();
    store_analysed_snapshot(&server, integration_id).await;

    let dev_id = entity_id(integration_id, EntityType::Identity, DEV_ARN);
    let response = server.get(&format!("/api/v1/entities/{}", encode(&dev_id))).await;
    assert_eq!(response.status(), 200);
    let detail: Value = response.json().await.unwrap();
    let findings = &detail["findings"];
    assert_eq!(findings["admin"], true);
    assert!(findings["escalations"].as_u64().unwrap() >= 1);
    assert!(findings["risks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|risk| risk == "data_exfiltration"));

    let first = &findings["findings"][0];
    assert_eq!(
        first["text"],
        format!("can make itself administrator through iam:CreatePolicyVersion on `{POLICY_ARN}`")
    );
    assert_eq!(first["statements"][0]["sid"], "OwnPolicy");
    assert_eq!(
        first["statements"][0]["policy"],
        format!("managed policy `{POLICY_ARN}`")
    );
    assert_eq!(
        first["statements"][0]["text"],
        format!("Allow iam:CreatePolicyVersion on {POLICY_ARN}")
    );
    assert!(findings["access"]
        .as_array()
        .unwrap()
        .iter()
        .any(|line| line["text"].as_str().unwrap().contains("Amazon S3")));

    let policy_id = entity_id(integration_id, EntityType::Connection, POLICY_ARN);
    let policy: Value = server
        .get(&format!("/api/v1/entities/{}", encode(&policy_id)))
        .await
        .json()
        .await
        .unwrap();
    assert!(policy["findings"].is_null(), "a policy is no principal");
}

#[tokio::test]
async fn entity_page_shows_findings() {
    let server = TestServer::start().await;
    let integration = server.create_integration("Analysed page").await;
    let integration_id = integration["id"].as_str().unwrap();
    store_analysed_snapshot(&server, integration_id).await;

    let dev_id = entity_id(integration_id, EntityType::Identity, DEV_ARN);
    let response = server.get(&format!("/entities/{}", encode(&dev_id))).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();

    assert!(html.contains("What it can do"));
    assert!(html.contains(r#"<span class="badge badge-error">admin</span>"#));
    assert!(html.contains(r#"<span class="badge badge-error">escalation</span>"#));
    assert!(html.contains("data exfiltration"));
    assert!(html.contains("can make itself administrator through iam:CreatePolicyVersion on <code>arn:aws:iam::111122223333:policy/dev-tools</code>"), "{html}");
    assert!(html.contains(r#"<details class="statements">"#));
    assert!(html.contains("Statement <code>OwnPolicy</code> of managed policy <code>arn:aws:iam::111122223333:policy/dev-tools</code>: "));
    assert!(html.contains("can read"), "access lines are listed");
}

#[tokio::test]
async fn entity_page_without_analysis() {
    let server = TestServer::start().await;
    let integration = server.create_integration("Not analysed").await;
    let integration_id = integration["id"].as_str().unwrap();
    server.store_sample_snapshot(integration_id).await;

    let entities: Value = server.get("/api/v1/entities?search=alice").await.json().await.unwrap();
    let alice_id = entities["items"][0]["id"].as_str().unwrap();
    let detail: Value = server
        .get(&format!("/api/v1/entities/{}", encode(alice_id)))
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["findings"].is_null());
    let html = server
        .get(&format!("/entities/{}", encode(alice_id)))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("What it can do"));
}

fn encode(text: &str) -> String {
    text.replace('/', "%2F")
}
