//! Contract drift check: the generated OpenAPI document must equal the checked-in
//! `openapi.json`. Run with `UPDATE_OPENAPI=1` to rewrite the file after an intended
//! change to the API, then review and commit the diff.

use crate::common::TestServer;
use serde_json::Value;
use std::path::PathBuf;

fn checked_in_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

#[test]
fn openapi_matches_checked_in_copy() {
    let generated = muster_server::openapi_document().to_pretty_json().expect("document serializes") + "\n";
    let path = checked_in_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some_and(|value| value == "1") {
        std::fs::write(&path, &generated).expect("openapi.json written");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == checked_in,
        "the API contract changed: {} differs from the generated document. \
         If the change is intended, run `UPDATE_OPENAPI=1 cargo test -p muster-server --test http openapi` \
         and commit the new file.",
        path.display()
    );
}

#[test]
fn every_operation_documents_its_responses() {
    let document: Value = serde_json::from_str(&muster_server::openapi_document().to_json().unwrap()).unwrap();
    let paths = document["paths"].as_object().expect("paths");
    let expected = [
        ("/api/v1/integrations", "get"),
        ("/api/v1/integrations", "post"),
        ("/api/v1/integrations/{id}", "get"),
        ("/api/v1/integrations/{id}", "patch"),
        ("/api/v1/integrations/{id}", "delete"),
        ("/api/v1/integrations/{id}/sync", "post"),
        ("/api/v1/integrations/{id}/test-connection", "post"),
        ("/api/v1/integrations/{id}/sync-runs", "get"),
        ("/api/v1/sync-runs", "get"),
        ("/api/v1/entities", "get"),
        ("/api/v1/entities/{id}", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/healthz", "get"),
        ("/api/v1/{object}/upload-url", "post"),
        ("/api/v1/uploads/{id}", "put"),
        ("/api/v1/uploads/{id}", "get"),
        ("/api/v1/{object}/download-url", "post"),
        ("/api/v1/downloads/{id}", "get"),
        ("/api/v1/downloads/{id}", "head"),
        ("/api/v1/downloads/{id}/file", "get"),
        ("/api/v1/identities", "get"),
        ("/api/v1/employees", "get"),
    ];
    for (path, method) in expected {
        let operation = &paths[path][method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path} documents no success response"
        );
    }
    let operations: usize = paths.values().map(|item| item.as_object().map_or(0, |item| item.len())).sum();
    assert_eq!(operations, expected.len(), "the document has operations this test does not list: add them above");
}

fn generated_document() -> Value {
    serde_json::from_str(&muster_server::openapi_document().to_json().unwrap()).unwrap()
}

#[test]
fn new_integration_marks_required_fields() {
    let document = generated_document();
    let required = &document["components"]["schemas"]["NewIntegration"]["required"];
    // Credentials are not required: only AWS direct integrations take them.
    for field in ["app", "name", "primary_owner"] {
        assert!(required.as_array().unwrap().contains(&Value::from(field)), "{field} not in {required}");
    }
}

#[test]
fn write_routes_document_cross_site_403() {
    let document = generated_document();
    let writes = [
        ("/api/v1/integrations", "post"),
        ("/api/v1/integrations/{id}", "patch"),
        ("/api/v1/integrations/{id}", "delete"),
        ("/api/v1/integrations/{id}/sync", "post"),
        ("/api/v1/integrations/{id}/test-connection", "post"),
    ];
    for (path, method) in writes {
        let forbidden = &document["paths"][path][method]["responses"]["403"];
        assert!(forbidden.is_object(), "{method} {path} does not document 403");
        let description = forbidden["description"].as_str().unwrap_or_default();
        assert!(description.contains("request.cross_site"), "{method} {path}: {description}");
    }
}

#[test]
fn integration_schema_has_tenant_id() {
    let document = generated_document();
    let integration = &document["components"]["schemas"]["Integration"];
    assert!(integration["properties"]["tenant_id"].is_object());
    assert!(integration["required"].as_array().unwrap().contains(&Value::from("tenant_id")));
}

#[tokio::test]
async fn served_document_is_generated_one() {
    let server = TestServer::start().await;
    let served: Value = server.get("/api/v1/openapi.json").await.json().await.unwrap();
    let generated: Value = serde_json::from_str(&muster_server::openapi_document().to_json().unwrap()).unwrap();
    assert_eq!(served, generated);
}
