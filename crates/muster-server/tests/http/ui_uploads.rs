//! Web UI tests of uploads, downloads, the people pages and API keys: multipart uploads
//! with their summary or error table, template and export downloads, the Identities
//! filters and hand-set mappings, and API keys whose secret is shown once.

use crate::common::TestServer;

const ENTITIES: &str = "App,Name,Entity Type,Source System,Source ID,Source Type,Metadata Version,Metadata\r\n\
payroll,Ada Lovelace,identity,payroll,u-1,user,v1,\"{\"\"email\"\": \"\"ada@example.com\"\"}\"\r\n\
payroll,Grace Hopper,identity,payroll,u-2,user,v1,\"{\"\"email\"\": \"\"grace@example.com\"\"}\"\r\n\
payroll,svc-batch,identity,payroll,u-3,service,v1,\r\n\
payroll,=SUM(1+2),connection,payroll,g-1,group,v1,\r\n";

const EMPLOYEES: &str = "Employee ID,Full Name,Work Email,Department,Title,Start Date,End Date\n\
E1,Ada Lovelace,ada@example.com,Engineering,Analyst,01/15/2020,\n\
E2,Grace Hopper,grace@example.com,Engineering,Admiral,2019-03-01,06/30/2021\n\
E3,Alan Turing,alan@example.com,Research,Scientist,2021-01-01,\n";

/// One part of a multipart form: name, file name for a file part, content.
type Part<'a> = (&'a str, Option<&'a str>, &'a str);

const BOUNDARY: &str = "muster-test-boundary-7MA4YWxkTrZu0gW";

fn multipart_body(parts: &[Part]) -> String {
    let mut body = String::new();
    for (name, file_name, content) in parts {
        body.push_str(&format!("--{BOUNDARY}\r\n"));
        match file_name {
            Some(file_name) => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
            )),
            None => body.push_str(&format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")),
        }
        body.push_str(content);
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

async fn post_multipart(
    server: &TestServer,
    path: &str,
    parts: &[Part<'_>],
    htmx: bool,
) -> reqwest::Response {
    let mut request = server
        .client
        .post(server.url(path))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart_body(parts));
    if htmx {
        request = request.header("hx-request", "true");
    }
    request.send().await.unwrap()
}

async fn upload(server: &TestServer, path: &str, format: &str, content: &str) -> reqwest::Response {
    post_multipart(
        server,
        path,
        &[
            ("format", None, format),
            ("file", Some("data.csv"), content),
        ],
        false,
    )
    .await
}

async fn page(server: &TestServer, path: &str) -> String {
    let response = server.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

/// Adds an integration through the Add form and returns its page path.
async fn add_integration(
    server: &TestServer,
    app: &str,
    extraction_type: &str,
    name: &str,
) -> String {
    let response = server
        .post_form(
            "/integrations",
            &[
                ("app", app),
                ("extraction_type", extraction_type),
                ("name", name),
                ("primary_owner", "owner@example.com"),
                // Filled in by the Add form in advance; ignored without direct extraction.
                ("auth_method", "role"),
                ("external_id", "muster-prefilled"),
                ("session_duration_secs", "3600"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    response.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn add_form_offers_custom_applications_without_credentials() {
    let server = TestServer::start().await;
    let html = page(&server, "/integrations/new").await;
    assert!(html.contains("Custom application"));
    assert!(
        html.contains("Assume an IAM role"),
        "AWS direct asks for credentials"
    );

    let html = page(
        &server,
        "/integrations/new/type?app=custom&extraction_type=direct&name=HR",
    )
    .await;
    assert!(
        html.contains(r#"<option value="custom" selected>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="upload" selected>"#),
        "custom falls back to upload"
    );
    assert!(html.contains(r#"<option value="api""#));
    assert!(
        !html.contains("Assume an IAM role"),
        "no credentials for an upload integration"
    );
    assert!(html.contains(r#"value="HR""#), "typed fields are kept");

    let path = add_integration(&server, "custom", "upload", "HR system").await;
    let html = page(&server, &path).await;
    assert!(html.contains(r#"id="upload-panel""#));
    assert!(html.contains(r#"<option value="entities""#));
    assert!(!html.contains("aws-authorization-details"));
    assert!(html.contains("/templates/entity-relations.csv"));
    assert!(html.contains(&format!("{path}/export/entitlements.csv?mode=raw")));
    assert!(html.contains("raw (for programs)"));

    let aws = add_integration(&server, "aws", "upload", "Offline account").await;
    let html = page(&server, &aws).await;
    assert!(html.contains(r#"<option value="aws-authorization-details""#));
    assert!(html.contains(r#"name="credential_report""#));
}

#[tokio::test]
async fn upload_applies_a_file_and_shows_the_summary() {
    let server = TestServer::start().await;
    let path = add_integration(&server, "custom", "upload", "Payroll").await;

    let response = upload(&server, &format!("{path}/upload"), "entities", ENTITIES).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Imported"), "{html}");
    assert!(html.contains("4 rows applied"), "{html}");
    assert!(html.contains("is now current: 4 entities"), "{html}");
    assert!(html.contains("<dt>Encoding</dt>"));
    assert!(
        html.contains("<dt>Delimiter</dt><dd><code>,</code>"),
        "{html}"
    );
    assert!(!html.contains(r#"id="upload-errors""#));

    let html = page(&server, &path).await;
    assert!(
        html.contains("Ada Lovelace"),
        "the inventory shows the uploaded entities"
    );
}

#[tokio::test]
async fn rejected_upload_shows_the_error_table() {
    let server = TestServer::start().await;
    let path = add_integration(&server, "custom", "upload", "Payroll").await;
    let bad = "Name,Entity Type,Source System,Source ID,Source Type\n\
               Ada,identity,payroll,u-1,user\n\
               ,identity,payroll,u-2,user\n\
               Bob,robot,payroll,u-3,user\n";

    let response = upload(&server, &format!("{path}/upload"), "entities", bad).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("was rejected; nothing was changed"), "{html}");
    assert!(html.contains(r#"id="upload-errors""#));
    assert!(
        html.contains(r#"<td class="number">3</td>"#),
        "line 3 is listed: {html}"
    );
    assert!(html.contains("<td>Name</td>"), "the column is named");
    assert!(html.contains(r#"<td class="number">4</td>"#));
    assert!(html.contains("<code>robot</code>"), "the value is quoted");
    assert!(html.contains("2 problems found"), "{html}");

    // htmx swaps only successful responses, so it gets the same table with 200.
    let response = post_multipart(
        &server,
        &format!("{path}/upload"),
        &[("format", None, "entities"), ("file", Some("bad.csv"), bad)],
        true,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains(r#"id="upload-errors""#));

    // Skipping invalid rows applies the valid one and lists the others.
    let response = post_multipart(
        &server,
        &format!("{path}/upload"),
        &[
            ("format", None, "entities"),
            ("skip_invalid_rows", None, "1"),
            ("file", Some("bad.csv"), bad),
        ],
        false,
    )
    .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("1 row applied, 2 skipped"), "{html}");
    assert!(html.contains("Skipped rows"));
}

#[tokio::test]
async fn upload_form_mistakes_are_explained() {
    let server = TestServer::start().await;
    let path = add_integration(&server, "custom", "upload", "Payroll").await;
    let upload_path = format!("{path}/upload");

    let response = post_multipart(
        &server,
        &upload_path,
        &[("format", None, "entities"), ("file", Some(""), "")],
        false,
    )
    .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("choose a file"));

    let response = upload(&server, &upload_path, "employees", EMPLOYEES).await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("choose one of the formats listed"));

    let response = server
        .post_form(&upload_path, &[("format", "entities")])
        .await;
    assert_eq!(response.status(), 400);

    let direct = server.create_integration("Direct account").await;
    let direct_path = format!("/integrations/{}/upload", direct["id"].as_str().unwrap());
    let response = upload(&server, &direct_path, "entities", ENTITIES).await;
    assert_eq!(response.status(), 409);
}

#[tokio::test]
async fn template_download_is_the_header_line() {
    let server = TestServer::start().await;
    let response = server.get("/templates/entities.csv").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        disposition,
        r#"attachment; filename="entities-template.csv""#
    );
    assert_eq!(
        response.text().await.unwrap(),
        "App,Name,Entity Type,Source System,Source ID,Source Type,Metadata Version,Metadata\r\n"
    );

    let employees = server
        .get("/templates/employees.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(employees.starts_with("Employee ID,Full Name,First Name,Last Name,Work Email"));
    assert_eq!(server.get("/templates/payroll.csv").await.status(), 404);
}

#[tokio::test]
async fn export_download_protects_spreadsheets() {
    let server = TestServer::start().await;
    let path = add_integration(&server, "custom", "upload", "Payroll").await;
    assert_eq!(
        upload(&server, &format!("{path}/upload"), "entities", ENTITIES)
            .await
            .status(),
        200
    );

    let response = server.get(&format!("{path}/export/entities.csv")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-disposition"],
        r#"attachment; filename="payroll-entities.csv""#
    );
    let safe = response.text().await.unwrap();
    assert!(
        safe.contains("'=SUM(1+2)"),
        "the formula is defused: {safe}"
    );
    assert!(safe.contains("Ada Lovelace"));

    let response = server
        .get(&format!("{path}/export/entities.csv?mode=raw"))
        .await;
    assert_eq!(
        response.headers()["content-disposition"],
        r#"attachment; filename="payroll-entities-raw.csv""#
    );
    let raw = response.text().await.unwrap();
    assert!(raw.contains(",=SUM(1+2),"), "raw keeps the value: {raw}");
    assert!(!raw.contains("'=SUM"));

    // The export loads back unchanged.
    let response = upload(&server, &format!("{path}/upload"), "entities", &raw).await;
    assert_eq!(response.status(), 200);

    assert_eq!(
        server
            .get(&format!("{path}/export/employees.csv"))
            .await
            .status(),
        404
    );
    assert_eq!(
        server.get("/employees/export/entities.csv").await.status(),
        404
    );
}

/// Uploads three identities and the employees file: Ada maps by email,
/// Grace has left, svc-batch is unmapped.
async fn people_setup(server: &TestServer) {
    let path = add_integration(server, "custom", "upload", "Payroll").await;
    assert_eq!(
        upload(server, &format!("{path}/upload"), "entities", ENTITIES)
            .await
            .status(),
        200
    );
    let response = upload(server, "/employees/upload", "employees", EMPLOYEES).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("3 rows applied"), "{html}");
}

#[tokio::test]
async fn employees_page_uploads_and_highlights_leavers() {
    let server = TestServer::start().await;
    let html = page(&server, "/employees").await;
    assert!(html.contains("No employees yet"));
    assert!(html.contains(r#"<option value="identity-mappings""#));
    assert!(html.contains("/employees/export/business-owners.csv?mode=raw"));
    assert!(html.contains(r#"href="/employees" aria-current="page""#));

    people_setup(&server).await;
    let html = page(&server, "/employees").await;
    let grace = html.find("grace@example.com").unwrap();
    let row_start = html[..grace].rfind("<tr").unwrap();
    assert!(
        html[row_start..grace].contains(r#"class="left""#),
        "Grace's row is highlighted"
    );
    assert!(html.contains(r#"<span class="badge badge-error">Left</span>"#));

    let export = server
        .get("/employees/export/employees.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(export.contains("alan@example.com"));

    let bad = EMPLOYEES.replace("2021-01-01", "someday");
    let response = upload(&server, "/employees/upload", "employees", &bad).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("<td>Start Date</td>"), "{html}");
    assert!(html.contains("<code>someday</code>"));
}

#[tokio::test]
async fn identities_filters_and_manual_mapping() {
    let server = TestServer::start().await;
    people_setup(&server).await;

    let all = page(&server, "/identities").await;
    for name in ["Ada Lovelace", "Grace Hopper", "svc-batch"] {
        assert!(all.contains(name), "{name} missing");
    }
    assert!(all.contains(">email<"), "Ada is mapped by email");

    let unmapped = page(&server, "/identities?filter=unmapped").await;
    assert!(unmapped.contains("svc-batch"));
    assert!(!unmapped.contains("Ada Lovelace"));
    assert!(unmapped.contains(r#"href="/identities?filter=unmapped" aria-current="page""#));

    let left = page(&server, "/identities?filter=left").await;
    assert!(left.contains("Grace Hopper"));
    assert!(left.contains("Left 2021-06-30"), "{left}");
    assert!(!left.contains("svc-batch"));

    // Map the service account to Alan by hand.
    let identities = server
        .muster
        .identities(server.muster.default_tenant())
        .await
        .unwrap();
    let service = identities
        .iter()
        .find(|identity| identity.source_id == "u-3")
        .unwrap();
    let entity = service.entity_id.to_string();
    let response = server
        .post_form(
            "/identities/mapping",
            &[
                ("entity", &entity),
                ("employee_email", "Alan@Example.com"),
                ("relation_type", "OWNS"),
                ("filter", "unmapped"),
                ("action", "set"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/identities?filter=unmapped"
    );
    assert!(!page(&server, "/identities?filter=unmapped")
        .await
        .contains("svc-batch"));
    let all = page(&server, "/identities").await;
    let row = &all[all.find("svc-batch").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("Alan Turing") && row.contains("OWNS") && row.contains(">manual<"),
        "{row}"
    );
    assert!(
        row.contains(r#"value="clear""#),
        "a hand-set mapping can be cleared"
    );

    // An unknown employee is refused with the reason.
    let response = server
        .post_form(
            "/identities/mapping",
            &[
                ("entity", &entity),
                ("employee_email", "nobody@example.com"),
                ("relation_type", "IS"),
            ],
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("no employee with work email"));

    // Clearing returns the identity to the unmapped tab.
    let response = server
        .post_form(
            "/identities/mapping",
            &[("entity", &entity), ("action", "clear"), ("filter", "all")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert!(page(&server, "/identities?filter=unmapped")
        .await
        .contains("svc-batch"));
}

/// Returns the text between `start` and the next `<` after it.
fn text_after<'a>(html: &'a str, start: &str) -> &'a str {
    let at = html.find(start).expect("the marker is on the page") + start.len();
    let end = at + html[at..].find('<').unwrap();
    &html[at..end]
}

#[tokio::test]
async fn api_key_secret_is_shown_once() {
    let server = TestServer::start().await;
    let html = page(&server, "/api-keys").await;
    assert!(html.contains("No keys yet"));
    assert!(html.contains(r#"href="/api-keys" aria-current="page""#));

    let response = server
        .post_form("/api-keys", &[("name", "HR export"), ("expires", "90d")])
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("it will not be shown again"));
    assert!(html.contains("X-Api-Key-ID"));
    assert!(html.contains("X-Api-Key-Secret"));
    let id = text_after(&html, r#"<code id="created-key-id">"#).to_string();
    let secret = text_after(&html, r#"<code id="created-key-secret">"#).to_string();
    assert!(secret.len() >= 20, "{secret}");
    let key = server
        .muster
        .authenticate_api_key(&id, &secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.name, "HR export");

    let list = page(&server, "/api-keys").await;
    assert!(list.contains("HR export"));
    assert!(list.contains(&id));
    assert!(!list.contains(&secret), "the list never shows a secret");
    assert!(list.contains(r#"<span class="badge badge-ok">active</span>"#));

    let response = server
        .post_form("/api-keys", &[("name", "Later"), ("expires", "yesterday")])
        .await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(html.contains("is not an expiry"));
    assert!(html.contains(r#"value="Later""#));

    // Revoking needs a confirmation, then the key stops working.
    let confirm = page(&server, &format!("/api-keys/{id}/revoke")).await;
    assert!(confirm.contains("Revoke the key"));
    assert!(confirm.contains(r#"method="post""#));
    assert!(!confirm.contains(&secret));
    let response = server
        .post_form(&format!("/api-keys/{id}/revoke"), &[])
        .await;
    assert_eq!(response.status(), 303);
    let list = page(&server, "/api-keys").await;
    assert!(list.contains(r#"<span class="badge badge-error">revoked</span>"#));
    assert!(server
        .muster
        .authenticate_api_key(&id, &secret)
        .await
        .unwrap()
        .is_err());
    assert_eq!(server.get("/api-keys/unknown/revoke").await.status(), 404);
}

#[tokio::test]
async fn cross_site_uploads_are_refused() {
    let server = TestServer::start().await;
    let response = server
        .client
        .post(server.url("/employees/upload"))
        .header("sec-fetch-site", "cross-site")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart_body(&[
            ("format", None, "employees"),
            ("file", Some("hr.csv"), EMPLOYEES),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let employees = server
        .muster
        .store()
        .list_employees(server.muster.default_tenant())
        .await
        .unwrap();
    assert!(employees.is_empty());
}
