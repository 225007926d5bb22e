//! REST API tests.

use crate::common::{access_key_draft, TestServer, ACCESS_KEY_ID, ALICE_ARN, SECRET};
use serde_json::{json, Value};

/// Percent-encodes the slash of an integration id, as a client puts it in one segment.
fn encoded(id: &str) -> String {
    id.replace('/', "%2F")
}

fn field_names(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .expect("fields array")
        .iter()
        .map(|field| field["field"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn integration_crud() {
    let server = TestServer::start().await;

    let response = server.post_json("/api/v1/integrations", &access_key_draft("AWS production")).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("aws/"), "{id}");
    assert_eq!(location, format!("/api/v1/integrations/{}", encoded(&id)));
    assert_eq!(created["status"], "Pending");
    assert_eq!(created["tenant_id"], server.muster.default_tenant().as_str());
    assert_eq!(created["primary_owner"], "owner@example.com");
    assert_eq!(created["secondary_owners"], json!(["second@example.com"]));
    assert_eq!(created["credentials"]["auth_method"], "access-key");
    assert_eq!(created["credentials"]["secret_access_key"], true);

    let fetched: Value = server.get(&location).await.json().await.unwrap();
    assert_eq!(fetched["id"], created["id"]);
    let by_name = server.get("/api/v1/integrations/aws%20production").await;
    assert_eq!(by_name.status(), 200, "names match ignoring case");

    let listed: Value = server.get("/api/v1/integrations").await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let response = server
        .client
        .patch(server.url(&location))
        .json(&json!({"name": "AWS prod", "secondary_owners": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["name"], "AWS prod");
    assert_eq!(changed["secondary_owners"], json!([]));
    assert_eq!(changed["credentials"]["secret_access_key"], true, "credentials kept");

    let response = server.client.delete(server.url(&location)).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let response = server.get(&location).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn validation_errors_list_fields() {
    let server = TestServer::start().await;
    let response = server
        .post_json(
            "/api/v1/integrations",
            &json!({"app": "aws", "primary_owner": "not-an-email", "credentials": {"session_duration_secs": 50000}}),
        )
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request.invalid");
    let fields = field_names(&body);
    for expected in ["name", "primary_owner", "session_duration_secs", "credentials"] {
        assert!(fields.iter().any(|field| field == expected), "{expected} missing from {fields:?}");
    }
}

#[tokio::test]
async fn duplicate_name_conflicts() {
    let server = TestServer::start().await;
    server.create_integration("Shared").await;
    let response = server.post_json("/api/v1/integrations", &access_key_draft("shared")).await;
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(field_names(&body), ["name"]);
    assert!(body["error"]["message"].as_str().unwrap().contains("already exists"));
}

#[tokio::test]
async fn credentials_never_in_responses() {
    let server = TestServer::start().await;
    let role_arn = "arn:aws:iam::123456789012:role/MusterReadOnly";
    let external_id = "ext-id-never-shown";
    let mut draft = access_key_draft("Secretive");
    draft["credentials"]["role_arn"] = json!(role_arn);
    draft["credentials"]["external_id"] = json!(external_id);

    let created = server.post_json("/api/v1/integrations", &draft).await;
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let mut bodies = vec![created.text().await.unwrap()];
    bodies.push(server.get(&location).await.text().await.unwrap());
    bodies.push(server.get("/api/v1/integrations").await.text().await.unwrap());
    let patched = server
        .client
        .patch(server.url(&location))
        .json(&json!({"credentials": {"secret_access_key": SECRET}}))
        .send()
        .await
        .unwrap();
    bodies.push(patched.text().await.unwrap());
    // An invalid request that carries a secret, and one with a secret of the wrong type.
    let mut invalid = access_key_draft("");
    invalid["credentials"]["secret_access_key"] = json!(SECRET);
    bodies.push(server.post_json("/api/v1/integrations", &invalid).await.text().await.unwrap());
    let wrong_type = json!({"app": "aws", "name": "x", "credentials": {"secret_access_key": 987654321}});
    bodies.push(server.post_json("/api/v1/integrations", &wrong_type).await.text().await.unwrap());

    for body in &bodies {
        for secret in [SECRET, ACCESS_KEY_ID, role_arn, external_id, "987654321"] {
            assert!(!body.contains(secret), "`{secret}` appears in {body}");
        }
    }
}

#[tokio::test]
async fn slash_ids_in_both_forms() {
    let server = TestServer::start().await;
    let created = server.create_integration("Slashes").await;
    let id = created["id"].as_str().unwrap();

    for path in [format!("/api/v1/integrations/{}", encoded(id)), format!("/api/v1/integrations/{id}")] {
        let response = server.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        let runs = server.get(&format!("{path}/sync-runs")).await;
        assert_eq!(runs.status(), 200, "{path}/sync-runs");
        let sync = server.client.post(server.url(&format!("{path}/sync"))).send().await.unwrap();
        assert_eq!(sync.status(), 202, "{path}/sync");
    }
    let response = server.client.delete(server.url(&format!("/api/v1/integrations/{id}"))).send().await.unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn sync_request_queues_one_run() {
    let server = TestServer::start().await;
    let created = server.create_integration("To sync").await;
    let path = format!("/api/v1/integrations/{}", encoded(created["id"].as_str().unwrap()));

    let response = server.client.post(server.url(&format!("{path}/sync"))).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let run: Value = response.json().await.unwrap();
    assert_eq!(run["state"], "queued");
    assert_eq!(run["trigger"], "api");
    assert_eq!(run["integration_id"], created["id"]);

    let again: Value = server
        .client
        .post(server.url(&format!("{path}/sync")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], run["id"], "an active run is reused");

    let runs: Value = server.get(&format!("{path}/sync-runs")).await.json().await.unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1);
    let all: Value = server.get("/api/v1/sync-runs?integration=to%20sync&limit=5").await.json().await.unwrap();
    assert_eq!(all[0]["id"], run["id"]);
    let missing = server.get("/api/v1/sync-runs?integration=nope").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn entities_empty_then_paged() {
    let server = TestServer::start().await;
    let empty: Value = server.get("/api/v1/entities").await.json().await.unwrap();
    assert_eq!(empty["total"], 0);
    assert_eq!(empty["items"], json!([]));
    assert_eq!(empty["limit"], 50);

    let created = server.create_integration("Inventory").await;
    server.store_sample_snapshot(created["id"].as_str().unwrap()).await;

    let page: Value = server.get("/api/v1/entities?integration=Inventory&type=identity&limit=2").await.json().await.unwrap();
    assert_eq!(page["total"], 3);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let rest: Value = server.get("/api/v1/entities?type=identity&limit=2&offset=2").await.json().await.unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["offset"], 2);

    let found: Value = server.get("/api/v1/entities?search=ALI&source_type=user").await.json().await.unwrap();
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["source_id"], ALICE_ARN);
    let everything: Value = server.get("/api/v1/entities?type=&search=").await.json().await.unwrap();
    assert_eq!(everything["total"], 6, "empty filters are ignored");

    let bad_type = server.get("/api/v1/entities?type=person").await;
    assert_eq!(bad_type.status(), 400);
    let body: Value = bad_type.json().await.unwrap();
    assert_eq!(field_names(&body), ["type"]);
    let bad_limit = server.get("/api/v1/entities?limit=many").await;
    assert_eq!(bad_limit.status(), 400);
    let body: Value = bad_limit.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request.invalid_query");
}

#[tokio::test]
async fn entity_detail_has_relations_both_ways() {
    let server = TestServer::start().await;
    let created = server.create_integration("Relations").await;
    server.store_sample_snapshot(created["id"].as_str().unwrap()).await;

    let groups: Value = server.get("/api/v1/entities?source_type=group").await.json().await.unwrap();
    let group_id = groups["items"][0]["id"].as_str().unwrap();
    let detail: Value = server.get(&format!("/api/v1/entities/{group_id}")).await.json().await.unwrap();
    assert_eq!(detail["name"], "admins");
    assert_eq!(detail["parents"][0]["name"], "alice");
    assert_eq!(detail["parents"][0]["privilege_name"], "member");
    assert_eq!(detail["children"][0]["name"], "AdministratorAccess");
    assert_eq!(detail["children"][0]["connection_type"], "policy");
}

#[tokio::test]
async fn unknown_things_are_404_json() {
    let server = TestServer::start().await;
    for (path, code) in [
        ("/api/v1/integrations/aws%2F01JNOTHERE", "integration.not_found"),
        ("/api/v1/integrations/aws/01JNOTHERE/sync-runs", "integration.not_found"),
        ("/api/v1/entities/0123456789abcdef", "entity.not_found"),
        ("/api/v1/nothing-here", "route.not_found"),
    ] {
        let response = server.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{path}");
    }
    let response = server.client.put(server.url("/api/v1/integrations")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "route.method_not_allowed");
}

#[tokio::test]
async fn malformed_requests_get_json_errors() {
    let server = TestServer::start().await;
    let send = |body: &'static str, content_type: &'static str| {
        server
            .client
            .post(server.url("/api/v1/integrations"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let response = send(r#"{"app": "aws", "name": "#, "application/json").await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request.malformed_json");
    assert!(body["error"]["message"].as_str().unwrap().contains("not valid JSON"));

    let response = send(r#"{"app": "gcp"}"#, "application/json").await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(field_names(&body), ["app"]);

    let response = send(r#"{"app": "aws", "nmae": "typo"}"#, "application/json").await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("nmae"), "{body}");

    let response = send("", "application/json").await.unwrap();
    assert_eq!(response.status(), 400);

    let response = send(r#"{"app": "aws"}"#, "text/plain").await.unwrap();
    assert_eq!(response.status(), 415);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request.unsupported_media_type");
}

#[tokio::test]
async fn request_ids_on_every_response() {
    let server = TestServer::start().await;
    let response = server.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let generated = response.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(generated.len(), 26, "a ULID: {generated}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    let response = server.client.get(server.url("/healthz")).header("x-request-id", "trace-123").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-123");

    let response = server
        .client
        .get(server.url("/healthz"))
        .header("x-request-id", "has spaces and <brackets>")
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["x-request-id"], "has spaces and <brackets>");
}

#[tokio::test]
async fn oversized_body_is_413() {
    let server = TestServer::start().await;
    let mut draft = access_key_draft("Large");
    draft["description"] = json!("x".repeat(3 * 1024 * 1024));
    let response = server.post_json("/api/v1/integrations", &draft).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request.too_large");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("2 MiB (2097152 bytes)"), "{message}");
    let listed: Value = server.get("/api/v1/integrations").await.json().await.unwrap();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn cross_site_writes_rejected() {
    let server = TestServer::start().await;
    let response = server
        .client
        .post(server.url("/api/v1/integrations"))
        .header("origin", "http://evil.example")
        .json(&access_key_draft("Forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request.cross_site");
    let listed: Value = server.get("/api/v1/integrations").await.json().await.unwrap();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn storage_failure_is_500_with_request_id() {
    let server = TestServer::start().await;
    server.muster.store().close().await;

    let response = server.get("/api/v1/integrations").await;
    assert_eq!(response.status(), 500);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["message"], format!("internal error, request id {request_id}"));
    assert_eq!(body["error"]["code"], "storage.error");

    let page = server.get("/integrations").await;
    assert_eq!(page.status(), 500);
    let request_id = page.headers()["x-request-id"].to_str().unwrap().to_string();
    let html = page.text().await.unwrap();
    assert!(html.contains(&request_id), "{html}");
    assert!(!html.to_lowercase().contains("pool"), "{html}");

    let health = server.get("/healthz").await;
    assert_eq!(health.status(), 503);
}
