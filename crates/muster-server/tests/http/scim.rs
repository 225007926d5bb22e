//! SCIM integrations over HTTP: creation through the API and the Add form, secrets never
//! returned, and a connection test against a server that is not there.

use crate::common::TestServer;
use serde_json::{json, Value};

/// A port on 127.0.0.1 where nothing listens.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn api_creates_scim_integration() {
    let server = TestServer::start().await;
    let port = closed_port().await;
    let body = json!({
        "app": "scim",
        "name": "Directory",
        "primary_owner": "owner@example.com",
        "scim": {"base_url": format!("http://127.0.0.1:{port}/scim/v2/"), "bearer_token": "tok-s3cret", "headers": {"X-Tenant": "acme"}},
    });
    let response = server.post_json("/api/v1/integrations", &body).await;
    assert_eq!(response.status(), 201);
    let text = response.text().await.unwrap();
    assert!(!text.contains("tok-s3cret"), "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["extraction_type"], "scim");
    assert_eq!(created["scim"]["base_url"], format!("http://127.0.0.1:{port}/scim/v2"));
    assert_eq!(created["scim"]["bearer_token"], true);
    assert_eq!(created["scim"]["extra_header_names"], json!(["X-Tenant"]));

    let id = created["id"].as_str().unwrap().replace('/', "%2F");
    let test = server.post_json(&format!("/api/v1/integrations/{id}/test-connection"), &json!({})).await;
    assert_eq!(test.status(), 502);
    let error: Value = test.json().await.unwrap();
    assert_eq!(error["error"]["code"], "scim.unreachable");

    let missing = json!({"app": "scim", "name": "No server", "primary_owner": "owner@example.com"});
    let response = server.post_json("/api/v1/integrations", &missing).await;
    assert_eq!(response.status(), 400);
    let both = json!({
        "app": "scim", "name": "Both", "primary_owner": "owner@example.com",
        "scim": {"base_url": "https://example.com/scim", "bearer_token": "t", "username": "u", "password": "p"},
    });
    let response = server.post_json("/api/v1/integrations", &both).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn form_adds_scim_and_page_tests_it() {
    let server = TestServer::start().await;
    let port = closed_port().await;
    let base_url = format!("http://127.0.0.1:{port}/scim/v2");
    let fields = [
        ("app", "scim"),
        ("extraction_type", "scim"),
        ("name", "Directory"),
        ("primary_owner", "owner@example.com"),
        ("base_url", base_url.as_str()),
        ("scim_auth", "basic"),
        ("scim_username", "muster"),
        ("scim_password", "pa55-s3cret"),
    ];
    let response = server.post_form("/integrations", &fields).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap_or_default());
    let location = response.headers()["location"].to_str().unwrap().to_string();

    let page = server.get(&location).await.text().await.unwrap();
    assert!(page.contains("Test connection"), "{page}");
    assert!(page.contains(&format!("127.0.0.1:{port}")), "{page}");
    assert!(!page.contains("pa55-s3cret"));

    let outcome = server.post_form(&format!("{location}/test-connection"), &[]).await.text().await.unwrap();
    assert!(outcome.contains("could not connect"), "{outcome}");

    let new_form = server.get("/integrations/new/type?app=scim").await.text().await.unwrap();
    assert!(new_form.contains("name=\"base_url\""), "{new_form}");
}

#[tokio::test]
async fn api_rotates_scim_token() {
    let server = TestServer::start().await;
    let body = json!({
        "app": "scim", "name": "Directory", "primary_owner": "owner@example.com",
        "scim": {"base_url": "https://idp.example.com/scim/v2", "username": "muster", "password": "old-pass"},
    });
    let created: Value = server.post_json("/api/v1/integrations", &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().replace('/', "%2F");

    let response = server
        .client
        .patch(server.url(&format!("/api/v1/integrations/{id}")))
        .json(&json!({"scim": {"password": "new-pass"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["scim"]["username"], "muster");
    assert_eq!(updated["scim"]["password"], true);

    let wrong_app = json!({
        "app": "aws", "name": "Mixed", "primary_owner": "owner@example.com",
        "scim": {"base_url": "https://idp.example.com/scim/v2", "bearer_token": "t"},
    });
    assert_eq!(server.post_json("/api/v1/integrations", &wrong_app).await.status(), 400);
}

#[tokio::test]
async fn run_warnings_shown_on_page() {
    let server = TestServer::start().await;
    let created = server.create_integration("Warned").await;
    let id = created["id"].as_str().unwrap();
    let store = server.muster.store();
    let tenant = server.muster.default_tenant();
    let run = store
        .start_sync_run(tenant, &muster_domain::IntegrationId::from_string(id), "test", "test-worker")
        .await
        .unwrap();
    let mut inventory = crate::common::sample_inventory();
    inventory.warnings = vec!["incomplete listing: /Users reported 10 but 9 were read".into()];
    store.complete_sync_run(&run, &inventory).await.unwrap();

    let page = server.get(&format!("/integrations/{id}")).await.text().await.unwrap();
    assert!(page.contains("Warnings of the last run (1)"), "{page}");
    assert!(page.contains("incomplete listing: &#x2f;Users") || page.contains("incomplete listing: /Users"), "{page}");
}

#[tokio::test]
async fn edit_form_rotates_scim_token() {
    let server = TestServer::start().await;
    let body = json!({
        "app": "scim", "name": "Directory", "primary_owner": "owner@example.com",
        "scim": {"base_url": "https://idp.example.com/scim/v2", "bearer_token": "old-token"},
    });
    let created: Value = server.post_json("/api/v1/integrations", &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();

    let form = server.get(&format!("/integrations/{id}/edit")).await.text().await.unwrap();
    assert!(form.contains("Leave the token and password blank"), "{form}");
    assert!(!form.contains("old-token"));

    let fields = [
        ("name", "Directory"),
        ("primary_owner", "owner@example.com"),
        ("base_url", "https://idp.example.com/scim/v2/"),
        ("scim_auth", "bearer"),
        ("bearer_token", "new-token"),
    ];
    let response = server.post_form(&format!("/integrations/{id}/edit"), &fields).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap_or_default());

    let tenant = server.muster.default_tenant();
    let connection = server
        .muster
        .store()
        .scim_connection(tenant, &muster_domain::IntegrationId::from_string(&id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(connection.credentials.bearer_token.as_deref(), Some("new-token"));
    assert_eq!(connection.base_url, "https://idp.example.com/scim/v2");
}
