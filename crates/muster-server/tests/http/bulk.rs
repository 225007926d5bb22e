//! Bulk API tests: API keys, one-time upload URLs, background downloads, the employee and
//! identity listings, and tenant isolation, with keys issued by the service.

use crate::common::TestServer;
use muster_domain::{App, AwsCredentials, ExtractionType, IntegrationDraft, TenantId};
use serde_json::{json, Value};
use std::time::Duration;

const ENTITIES_HEADER: &str =
    "App,Name,Entity Type,Source System,Source ID,Source Type,Metadata Version,Metadata";
const RELATIONS_HEADER: &str =
    "App,Parent Entity Source ID,Parent Entity Type,Entity Source ID,Entity Type,Source System,Metadata Version,Metadata";

/// Entities as the export writes them (CRLF, lower-case entity types, compact metadata),
/// so that a download equals the upload byte for byte.
fn entities_csv() -> String {
    let rows = [
        ENTITIES_HEADER,
        r#"HR,admins,connection,hr,g-admins,group,v1,{}"#,
        r#"HR,alice,identity,hr,u-alice,user,v1,"{""email"":""alice@example.com""}""#,
        r#"HR,bob,identity,hr,u-bob,user,v1,"{""email"":""bob@example.com""}""#,
        r#"HR,payroll-bot,identity,hr,u-payroll-bot,service,v1,{}"#,
        r#"HR,payroll,resource,hr,r-payroll,application,v1,{}"#,
    ];
    rows.iter().map(|row| format!("{row}\r\n")).collect()
}

fn relations_csv() -> String {
    let rows = [
        RELATIONS_HEADER,
        "HR,u-alice,identity,g-admins,connection,hr,v1,{}",
        "HR,g-admins,connection,r-payroll,resource,hr,v1,{}",
    ];
    rows.iter().map(|row| format!("{row}\r\n")).collect()
}

const EMPLOYEES_CSV: &str =
    "Employee ID,Full Name,Work Email,Department,Title,Start Date,End Date\n\
    E1,Alice Example,alice@example.com,Finance,Analyst,01/15/2020,\n\
    E2,Bob Example,bob@example.com,IT,Engineer,2019-03-01,2020-06-30\n";

struct Key {
    id: String,
    secret: String,
}

async fn issue_key(server: &TestServer, tenant: &TenantId) -> Key {
    let issued = server
        .muster
        .create_api_key(tenant, "test program", None)
        .await
        .unwrap();
    Key {
        id: issued.key.id,
        secret: issued.secret,
    }
}

/// Adds a custom integration of `tenant` and returns its id.
async fn add_custom(
    server: &TestServer,
    tenant: &TenantId,
    name: &str,
    extraction_type: ExtractionType,
) -> String {
    let draft = IntegrationDraft {
        app: App::Custom,
        name: name.to_string(),
        description: String::new(),
        primary_owner: "owner@example.com".to_string(),
        secondary_owners: Vec::new(),
        extraction_type,
        credentials: AwsCredentials::default(),
    };
    server
        .muster
        .add_integration(tenant, draft)
        .await
        .unwrap()
        .id
        .to_string()
}

fn with_key(request: reqwest::RequestBuilder, key: &Key) -> reqwest::RequestBuilder {
    request
        .header("X-Api-Key-ID", &key.id)
        .header("X-Api-Key-Secret", &key.secret)
}

async fn post_with_key(
    server: &TestServer,
    key: &Key,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    with_key(server.client.post(server.url(path)), key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get_with_key(server: &TestServer, key: &Key, path: &str) -> reqwest::Response {
    with_key(server.client.get(server.url(path)), key)
        .send()
        .await
        .unwrap()
}

async fn put_file(
    server: &TestServer,
    url: &str,
    content: impl Into<reqwest::Body>,
) -> reqwest::Response {
    server
        .client
        .put(server.url(url))
        .header("content-type", "text/csv")
        .body(content)
        .send()
        .await
        .unwrap()
}

/// Requests an upload URL and checks the 201.
async fn upload_url(server: &TestServer, key: &Key, object: &str, body: &Value) -> Value {
    let response = post_with_key(server, key, &format!("/api/v1/{object}/upload-url"), body).await;
    assert_eq!(response.status(), 201, "upload URL for {object}");
    response.json().await.unwrap()
}

/// Uploads `content` as `object` and returns the status code and body of the PUT.
async fn upload(
    server: &TestServer,
    key: &Key,
    object: &str,
    body: &Value,
    content: String,
) -> (u16, Value) {
    let created = upload_url(server, key, object, body).await;
    let response = put_file(server, created["uploadUrl"].as_str().unwrap(), content).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// Polls a download with `HEAD` until it is no longer 404, for at most 5 seconds, and
/// returns the last status code.
async fn wait_until_ready(server: &TestServer, polling_url: &str) -> u16 {
    let mut status = 404;
    for _ in 0..100 {
        let response = server
            .client
            .head(server.url(polling_url))
            .send()
            .await
            .unwrap();
        status = response.status().as_u16();
        if status != 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    status
}

#[tokio::test]
async fn upload_entities_then_relations() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    let integration = add_custom(&server, &tenant, "HR accounts", ExtractionType::Upload).await;

    let created = upload_url(
        &server,
        &key,
        "entities",
        &json!({"integration": "HR accounts"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let upload_path = created["uploadUrl"].as_str().unwrap();
    assert_eq!(created["statusUrl"], format!("/api/v1/uploads/{id}"));
    assert!(
        upload_path.starts_with(&format!("/api/v1/uploads/{id}?token=")),
        "{upload_path}"
    );
    assert!(created["expiresAt"].as_str().unwrap().ends_with('Z'));

    let status = get_with_key(&server, &key, created["statusUrl"].as_str().unwrap()).await;
    let status: Value = status.json().await.unwrap();
    assert_eq!(status["state"], "waiting");

    let response = put_file(&server, upload_path, entities_csv()).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["state"], "accepted");
    assert_eq!(body["report"]["applied"], true);
    assert_eq!(body["report"]["rows_applied"], 5);
    assert_eq!(body["integrationId"], integration.as_str());

    let (status, body) = upload(
        &server,
        &key,
        "entity-relations",
        &json!({"integration": integration}),
        relations_csv(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["report"]["rows_applied"], 2);
    assert_eq!(body["report"]["snapshot"]["relation_count"], 2);

    let page: Value = server
        .get(&format!(
            "/api/v1/entities?integration={}&limit=50",
            integration.replace('/', "%2F")
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 5);
    let alice = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entity| entity["source_id"] == "u-alice")
        .expect("alice in the snapshot");
    let detail: Value = server
        .get(&format!(
            "/api/v1/entities/{}",
            alice["id"].as_str().unwrap().replace('/', "%2F")
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["children"].as_array().unwrap().len(), 1, "{detail}");
    assert_eq!(detail["children"][0]["source_id"], "g-admins");

    let status: Value = get_with_key(&server, &key, &format!("/api/v1/uploads/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "accepted");
    assert_eq!(status["report"]["rows_applied"], 5);
    assert!(status["finishedAt"].is_string());
}

#[tokio::test]
async fn rejected_file_applies_nothing() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    add_custom(&server, &tenant, "HR accounts", ExtractionType::Api).await;
    let target = json!({"integration": "hr accounts"});
    let (status, _) = upload(&server, &key, "entities", &target, entities_csv()).await;
    assert_eq!(status, 200);

    let invalid = format!(
        "{RELATIONS_HEADER}\r\nHR,u-alice,identity,g-admins,connection,hr,v1,{{}}\r\nHR,u-nobody,identity,g-admins,connection,hr,v1,{{}}\r\nHR,u-bob,person,g-admins,connection,hr,v1,{{}}\r\n"
    );
    let created = upload_url(&server, &key, "entity-relations", &target).await;
    let response = put_file(&server, created["uploadUrl"].as_str().unwrap(), invalid).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["state"], "rejected");
    assert_eq!(body["report"]["applied"], false);
    assert_eq!(body["report"]["rows_applied"], 0);
    let problems = body["report"]["problems"].as_array().unwrap();
    assert!(problems.len() >= 2, "{problems:?}");
    let missing_end = problems
        .iter()
        .find(|problem| problem["line"] == 3)
        .expect("a problem on line 3");
    assert_eq!(missing_end["column"], "Parent Entity Source ID");
    assert_eq!(missing_end["value"], "u-nobody");
    let bad_type = problems
        .iter()
        .find(|problem| problem["line"] == 4)
        .expect("a problem on line 4");
    assert_eq!(bad_type["column"], "Parent Entity Type");

    let status: Value = get_with_key(&server, &key, created["statusUrl"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "rejected");
    assert_eq!(
        status["report"]["problem_count"],
        body["report"]["problem_count"]
    );

    let page: Value = server
        .get("/api/v1/entities?search=alice")
        .await
        .json()
        .await
        .unwrap();
    let alice_id = page["items"][0]["id"].as_str().unwrap().replace('/', "%2F");
    let detail: Value = server
        .get(&format!("/api/v1/entities/{alice_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["children"],
        json!([]),
        "the rejected relations were not applied"
    );
}

#[tokio::test]
async fn skip_invalid_rows_applies_the_rest() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    add_custom(&server, &tenant, "HR accounts", ExtractionType::Upload).await;
    let content = format!("{ENTITIES_HEADER}\nHR,alice,identity,hr,u-alice,user,v1,{{}}\nHR,bad,person,hr,u-bad,user,v1,{{}}\n");
    let target = json!({"integration": "HR accounts", "skipInvalidRows": true});
    let created = upload_url(&server, &key, "entities", &target).await;
    assert!(created["uploadUrl"]
        .as_str()
        .unwrap()
        .contains("skipInvalidRows=true"));
    let response = put_file(&server, created["uploadUrl"].as_str().unwrap(), content).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["report"]["rows_applied"], 1);
    assert_eq!(body["report"]["rows_skipped"], 1);
}

#[tokio::test]
async fn upload_url_is_one_time() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    add_custom(&server, &tenant, "HR accounts", ExtractionType::Upload).await;
    let created = upload_url(
        &server,
        &key,
        "entities",
        &json!({"integration": "HR accounts"}),
    )
    .await;
    let url = created["uploadUrl"].as_str().unwrap();

    let empty = put_file(&server, url, "").await;
    assert_eq!(empty.status(), 400, "an empty body does not use the URL");
    assert_eq!(put_file(&server, url, entities_csv()).await.status(), 200);

    let again = put_file(&server, url, entities_csv()).await;
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.unwrap();
    assert_eq!(error_code(&body), "upload.used");

    let wrong_token = url.split("?token=").next().unwrap().to_string() + "?token=not-the-token";
    let response = put_file(&server, &wrong_token, entities_csv()).await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        error_code(&response.json().await.unwrap()),
        "upload.not_found"
    );
}

#[tokio::test]
async fn expired_upload_url_is_gone() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    let created = server
        .muster
        .store()
        .create_bulk_transfer(
            &tenant,
            &key.id,
            "upload",
            "employees",
            None,
            "2020-01-01T00:00:00.000000Z",
        )
        .await
        .unwrap();
    let url = format!(
        "/api/v1/uploads/{}?token={}",
        created.transfer.id, created.token
    );

    let response = put_file(&server, &url, EMPLOYEES_CSV).await;
    assert_eq!(response.status(), 410);
    assert_eq!(
        error_code(&response.json().await.unwrap()),
        "upload.expired"
    );

    let status: Value = get_with_key(
        &server,
        &key,
        &format!("/api/v1/uploads/{}", created.transfer.id),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(status["state"], "expired");
}

#[tokio::test]
async fn upload_url_checks_object_and_integration() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    server.create_integration("AWS production").await;

    let direct = post_with_key(
        &server,
        &key,
        "/api/v1/entities/upload-url",
        &json!({"integration": "AWS production"}),
    )
    .await;
    assert_eq!(direct.status(), 409);
    assert_eq!(
        error_code(&direct.json().await.unwrap()),
        "integration.receives_no_files"
    );

    let unknown = post_with_key(
        &server,
        &key,
        "/api/v1/entities/upload-url",
        &json!({"integration": "nope"}),
    )
    .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        error_code(&unknown.json().await.unwrap()),
        "integration.not_found"
    );

    let missing = post_with_key(&server, &key, "/api/v1/entitlements/upload-url", &json!({})).await;
    assert_eq!(missing.status(), 400);

    let object = post_with_key(&server, &key, "/api/v1/campaigns/upload-url", &json!({})).await;
    assert_eq!(object.status(), 404);
    assert_eq!(
        error_code(&object.json().await.unwrap()),
        "bulk.unknown_object"
    );

    let tenant_wide = post_with_key(
        &server,
        &key,
        "/api/v1/employees/upload-url",
        &json!({"integration": "AWS production"}),
    )
    .await;
    assert_eq!(tenant_wide.status(), 400, "employees belong to the tenant");

    let no_body = with_key(
        server
            .client
            .post(server.url("/api/v1/business-owners/upload-url")),
        &key,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(no_body.status(), 201, "the body may be left out");
}

#[tokio::test]
async fn upload_larger_than_body_limit() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    add_custom(&server, &tenant, "Big", ExtractionType::Upload).await;
    let mut content = format!("{ENTITIES_HEADER}\n");
    let mut rows = 0;
    while content.len() < 3 * 1024 * 1024 {
        rows += 1;
        content.push_str(&format!(
            "Big,user-{rows:06},identity,big,id-{rows:06},user,v1,\"{{\"\"email\"\":\"\"user-{rows:06}@example.com\"\"}}\"\n"
        ));
    }
    let (status, body) = upload(
        &server,
        &key,
        "entities",
        &json!({"integration": "Big"}),
        content,
    )
    .await;
    assert_eq!(
        status, 200,
        "a file above the 2 MiB JSON limit streams through"
    );
    assert_eq!(body["report"]["rows_applied"], rows);
}

#[tokio::test]
async fn download_round_trip() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    add_custom(&server, &tenant, "HR accounts", ExtractionType::Upload).await;
    let target = json!({"integration": "HR accounts"});
    let (status, _) = upload(&server, &key, "entities", &target, entities_csv()).await;
    assert_eq!(status, 200);

    let response = post_with_key(&server, &key, "/api/v1/entities/download-url", &target).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let polling_url = created["pollingUrl"].as_str().unwrap();
    let url = created["url"].as_str().unwrap();
    assert!(
        polling_url.starts_with(&format!("/api/v1/downloads/{id}?token=")),
        "{polling_url}"
    );
    assert!(
        url.starts_with(&format!("/api/v1/downloads/{id}/file?token=")),
        "{url}"
    );

    assert_eq!(wait_until_ready(&server, polling_url).await, 200);
    let status: Value = server.get(polling_url).await.json().await.unwrap();
    assert_eq!(status["state"], "ready");
    assert_eq!(status["rows"], 5);

    let file = server.get(url).await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        file.headers()["content-disposition"],
        "attachment; filename=\"entities.csv\""
    );
    let downloaded = file.text().await.unwrap();
    let mut expected: Vec<String> = entities_csv()
        .split_inclusive("\r\n")
        .map(str::to_string)
        .collect();
    let mut actual: Vec<String> = downloaded
        .split_inclusive("\r\n")
        .map(str::to_string)
        .collect();
    assert_eq!(actual[0], expected[0], "canonical header");
    expected.sort();
    actual.sort();
    assert_eq!(
        actual, expected,
        "the download has the uploaded rows, in export order"
    );

    let again = server.get(url).await;
    assert_eq!(again.status(), 200, "the file URL serves until it expires");
}

#[tokio::test]
async fn download_states() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    let store = server.muster.store();

    let preparing = store
        .create_bulk_transfer(
            &tenant,
            &key.id,
            "download",
            "employees",
            None,
            "2999-01-01T00:00:00.000000Z",
        )
        .await
        .unwrap();
    let polling_url = format!(
        "/api/v1/downloads/{}?token={}",
        preparing.transfer.id, preparing.token
    );
    let head = server
        .client
        .head(server.url(&polling_url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 404, "not ready");
    assert_eq!(head.headers()["retry-after"], "1");
    let file = server
        .get(&format!(
            "/api/v1/downloads/{}/file?token={}",
            preparing.transfer.id, preparing.token
        ))
        .await;
    assert_eq!(file.status(), 404);
    assert_eq!(
        error_code(&file.json().await.unwrap()),
        "download.not_ready"
    );

    store
        .finish_bulk_transfer(
            &preparing.transfer.id,
            "failed",
            &json!({"error": {"code": "export.failed", "message": "disk full"}}),
            None,
        )
        .await
        .unwrap();
    let head = server
        .client
        .head(server.url(&polling_url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 500, "a failed export ends the polling");
    let body: Value = server.get(&polling_url).await.json().await.unwrap();
    assert_eq!(error_code(&body), "export.failed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disk full"),
        "{body}"
    );

    let expired = store
        .create_bulk_transfer(
            &tenant,
            &key.id,
            "download",
            "employees",
            None,
            "2020-01-01T00:00:00.000000Z",
        )
        .await
        .unwrap();
    let polling_url = format!(
        "/api/v1/downloads/{}?token={}",
        expired.transfer.id, expired.token
    );
    let head = server
        .client
        .head(server.url(&polling_url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 410);

    let wrong = format!("/api/v1/downloads/{}?token=wrong", expired.transfer.id);
    let response = server.get(&wrong).await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        error_code(&response.json().await.unwrap()),
        "download.not_found"
    );
}

#[tokio::test]
async fn download_employees_without_body() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    let (status, _) = upload(
        &server,
        &key,
        "employees",
        &json!({}),
        EMPLOYEES_CSV.to_string(),
    )
    .await;
    assert_eq!(status, 200);

    let response = with_key(
        server
            .client
            .post(server.url("/api/v1/employees/download-url")),
        &key,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        wait_until_ready(&server, created["pollingUrl"].as_str().unwrap()).await,
        200
    );
    let csv = server
        .get(created["url"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("Employee ID,Full Name,"), "{csv}");
    assert!(csv.contains("alice@example.com"), "{csv}");
    assert!(csv.contains("bob@example.com"), "{csv}");

    let aws = post_with_key(
        &server,
        &key,
        "/api/v1/aws-authorization-details/download-url",
        &json!({}),
    )
    .await;
    assert_eq!(aws.status(), 404, "authorization details are upload-only");
}

#[tokio::test]
async fn keys_rejected_with_reason() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;

    let missing = server.get("/api/v1/employees").await;
    assert_eq!(missing.status(), 401);
    assert!(missing.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("ApiKey"));
    assert_eq!(
        error_code(&missing.json().await.unwrap()),
        "api_key.missing"
    );

    let wrong = Key {
        id: key.id.clone(),
        secret: "not-the-secret".to_string(),
    };
    let response = get_with_key(&server, &wrong, "/api/v1/employees").await;
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let body = response.text().await.unwrap();
    assert_eq!(
        error_code(&serde_json::from_str(&body).unwrap()),
        "api_key.invalid"
    );
    assert!(!body.contains("not-the-secret"));

    let swapped = Key {
        id: key.secret.clone(),
        secret: key.id.clone(),
    };
    let response = get_with_key(&server, &swapped, "/api/v1/employees").await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        error_code(&response.json().await.unwrap()),
        "api_key.invalid"
    );

    let revoked = issue_key(&server, &tenant).await;
    server
        .muster
        .revoke_api_key(&tenant, &revoked.id)
        .await
        .unwrap();
    let response = post_with_key(
        &server,
        &revoked,
        "/api/v1/employees/upload-url",
        &json!({}),
    )
    .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        error_code(&response.json().await.unwrap()),
        "api_key.revoked"
    );

    let issued = server
        .muster
        .store()
        .create_api_key(&tenant, "old", Some("2020-01-01T00:00:00.000000Z"))
        .await
        .unwrap();
    let expired = Key {
        id: issued.key.id,
        secret: issued.secret,
    };
    let response = get_with_key(&server, &expired, "/api/v1/identities").await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        error_code(&response.json().await.unwrap()),
        "api_key.expired"
    );

    assert_eq!(
        get_with_key(&server, &key, "/api/v1/employees")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn tenants_are_isolated() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    let integration = add_custom(&server, &tenant, "HR accounts", ExtractionType::Upload).await;
    let (status, _) = upload(
        &server,
        &key,
        "employees",
        &json!({}),
        EMPLOYEES_CSV.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let created = upload_url(
        &server,
        &key,
        "entities",
        &json!({"integration": integration}),
    )
    .await;

    let other_tenant = server.muster.store().ensure_tenant("other").await.unwrap();
    let other = issue_key(&server, &other_tenant).await;
    for reference in [integration.as_str(), "HR accounts"] {
        let response = post_with_key(
            &server,
            &other,
            "/api/v1/entities/upload-url",
            &json!({"integration": reference}),
        )
        .await;
        assert_eq!(response.status(), 404, "{reference}");
        let response = post_with_key(
            &server,
            &other,
            "/api/v1/entities/download-url",
            &json!({"integration": reference}),
        )
        .await;
        assert_eq!(response.status(), 404, "{reference}");
    }
    let status = get_with_key(&server, &other, created["statusUrl"].as_str().unwrap()).await;
    assert_eq!(status.status(), 404, "another tenant's upload");
    let employees: Value = get_with_key(&server, &other, "/api/v1/employees")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(employees, json!([]));
    let identities: Value = get_with_key(&server, &other, "/api/v1/identities")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(identities, json!([]));

    let employees: Value = get_with_key(&server, &key, "/api/v1/employees")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(employees.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn employees_map_identities() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    add_custom(&server, &tenant, "HR accounts", ExtractionType::Upload).await;
    let (status, body) = upload(
        &server,
        &key,
        "employees",
        &json!({}),
        EMPLOYEES_CSV.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["report"]["rows_applied"], 2);
    let (status, _) = upload(
        &server,
        &key,
        "entities",
        &json!({"integration": "HR accounts"}),
        entities_csv(),
    )
    .await;
    assert_eq!(status, 200);

    let employees: Value = get_with_key(&server, &key, "/api/v1/employees")
        .await
        .json()
        .await
        .unwrap();
    let alice = employees
        .as_array()
        .unwrap()
        .iter()
        .find(|employee| employee["work_email"] == "alice@example.com")
        .expect("alice");
    assert_eq!(alice["start_date"], "2020-01-15");
    assert_eq!(alice["department"], "Finance");

    let names = |identities: &Value| -> Vec<String> {
        let mut names: Vec<String> = identities
            .as_array()
            .unwrap()
            .iter()
            .map(|identity| identity["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    let all: Value = get_with_key(&server, &key, "/api/v1/identities")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&all), ["alice", "bob", "payroll-bot"]);
    let alice = all
        .as_array()
        .unwrap()
        .iter()
        .find(|identity| identity["name"] == "alice")
        .unwrap();
    assert_eq!(alice["employee"]["work_email"], "alice@example.com");
    assert_eq!(alice["origin"], "email");
    assert_eq!(alice["relation_type"], "IS");

    let unmapped: Value = get_with_key(&server, &key, "/api/v1/identities?filter=unmapped")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&unmapped), ["payroll-bot"]);
    let left: Value = get_with_key(&server, &key, "/api/v1/identities?filter=left")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(&left), ["bob"]);

    let invalid = get_with_key(&server, &key, "/api/v1/identities?filter=gone").await;
    assert_eq!(invalid.status(), 400);
}

#[tokio::test]
async fn revoking_key_closes_its_urls() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    let response = post_with_key(&server, &key, "/api/v1/employees/upload-url", &json!({})).await;
    assert_eq!(response.status(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    server.muster.revoke_api_key(&tenant, &key.id).await.unwrap();

    let employees = "Work Email,Start Date\nada@example.com,2020-01-01\n";
    let response = put_file(&server, created["uploadUrl"].as_str().unwrap(), employees).await;
    assert_eq!(response.status(), 404);
    assert!(server.muster.store().list_employees(&tenant).await.unwrap().is_empty());
}

#[tokio::test]
async fn multipart_upload_gets_hint() {
    let server = TestServer::start().await;
    let tenant = server.muster.default_tenant().clone();
    let key = issue_key(&server, &tenant).await;
    let response = post_with_key(&server, &key, "/api/v1/employees/upload-url", &json!({})).await;
    let created: serde_json::Value = response.json().await.unwrap();
    let url = server.url(created["uploadUrl"].as_str().unwrap());
    let response = reqwest::Client::new()
        .put(url)
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\n\r\nWork Email\r\n--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert!(response.text().await.unwrap().contains("raw request body"));
}
