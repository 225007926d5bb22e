//! Web UI tests: pages render with their key text, forms validate inline and never echo
//! secrets, htmx fragments poll while a sync is active.

use crate::common::{TestServer, ACCESS_KEY_ID, SECRET};
use serde_json::Value;

async fn page(server: &TestServer, path: &str) -> String {
    let response = server.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

fn valid_form(name: &str) -> Vec<(&str, &str)> {
    vec![
        ("app", "aws"),
        ("name", name),
        ("description", "Sandbox"),
        ("primary_owner", "owner@example.com"),
        ("secondary_owners", "a@example.com, b@example.com"),
        ("extraction_type", "direct"),
        ("auth_method", "access_key"),
        ("access_key_id", ACCESS_KEY_ID),
        ("secret_access_key", SECRET),
    ]
}

/// Creates an integration through the Add form and returns its page path.
async fn add_through_form(server: &TestServer, name: &str) -> String {
    let response = server.post_form("/integrations", &valid_form(name)).await;
    assert_eq!(response.status(), 303);
    response.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn empty_installation_explains_first_step() {
    let server = TestServer::start().await;
    let response = server.get("/").await;
    assert_eq!(response.status(), 303);
    let html = page(&server, "/integrations").await;
    assert!(html.contains("Connect your first AWS account"));
    assert!(html.contains("IAMReadOnlyAccess"));
    assert!(html.contains("sts:ExternalId"));
    assert!(html.contains(r#"href="/integrations/new""#));
}

#[tokio::test]
async fn add_form_offers_both_credential_kinds() {
    let server = TestServer::start().await;
    let html = page(&server, "/integrations/new").await;
    for text in [
        "Amazon Web Services",
        "Primary owner",
        "Assume an IAM role",
        "Access key of an IAM user",
        r#"name="session_duration_secs""#,
        r#"value="3600""#,
        r#"max="43200""#,
        r#"value="muster-"#,
    ] {
        assert!(html.contains(text), "`{text}` missing");
    }
}

#[tokio::test]
async fn empty_form_shows_inline_errors() {
    let server = TestServer::start().await;
    let response = server.post_form("/integrations", &[("app", "aws"), ("auth_method", "role")]).await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(html.contains("The integration was not saved"));
    for field in ["name", "primary_owner", "role_arn"] {
        assert!(html.contains(&format!(r#"id="{field}-error""#)), "no inline error for {field}");
        assert!(html.contains(&format!(r#"aria-describedby="{field}-error""#)), "{field} not linked to its error");
    }
    assert!(html.contains("is required"));
}

/// Returns the start tag of the element with `id`, e.g. `<textarea id="x" …>`.
fn start_tag<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("no element `{id}`"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

#[tokio::test]
async fn hinted_fields_name_error_and_hint_once() {
    let server = TestServer::start().await;
    let response = server
        .post_form(
            "/integrations",
            &[
                ("app", "aws"),
                ("name", "Hints"),
                ("primary_owner", "owner@example.com"),
                ("secondary_owners", "not-an-email"),
                ("auth_method", "role"),
                ("role_arn", "arn:aws:iam::123456789012:role/audit"),
                ("external_id", "x"),
                ("session_duration_secs", "60"),
            ],
        )
        .await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    for field in ["secondary_owners", "external_id", "session_duration_secs"] {
        let tag = start_tag(&html, field);
        assert_eq!(tag.matches("aria-describedby").count(), 1, "{tag}");
        assert!(tag.contains(&format!(r#"aria-describedby="{field}-error {field}-hint""#)), "{tag}");
        assert!(tag.contains(r#"aria-invalid="true""#), "{tag}");
        assert!(html.contains(&format!(r#"id="{field}-hint""#)), "the hint of {field} is missing");
    }

    let form = page(&server, "/integrations/new").await;
    let tag = start_tag(&form, "secondary_owners");
    assert!(tag.contains(r#"aria-describedby="secondary_owners-hint""#), "{tag}");
    assert!(!tag.contains("aria-invalid"), "{tag}");
}

#[tokio::test]
async fn rejected_form_keeps_values_but_not_secret() {
    let server = TestServer::start().await;
    let mut fields = valid_form("Keep me");
    fields.retain(|(key, _)| *key != "primary_owner");
    fields.push(("primary_owner", "not-an-email"));
    let response = server.post_form("/integrations", &fields).await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"value="Keep me""#));
    assert!(html.contains("`not-an-email` is not a valid email address"));
    assert!(!html.contains(SECRET), "the secret access key was sent back");
    assert!(html.contains("Enter the secret access key again"));
}

#[tokio::test]
async fn oversized_form_is_413_page() {
    let server = TestServer::start().await;
    let description = "x".repeat(3 * 1024 * 1024);
    let mut fields = valid_form("Large");
    fields.retain(|(key, _)| *key != "description");
    fields.push(("description", &description));
    let response = server.post_form("/integrations", &fields).await;
    assert_eq!(response.status(), 413);
    let html = response.text().await.unwrap();
    assert!(html.contains("larger than the limit of 2 MiB"), "{html}");
}

#[tokio::test]
async fn duplicate_name_shown_on_field() {
    let server = TestServer::start().await;
    add_through_form(&server, "Twice").await;
    let response = server.post_form("/integrations", &valid_form("twice")).await;
    assert_eq!(response.status(), 409);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"id="name-error""#));
    assert!(html.contains("already exists"));
}

#[tokio::test]
async fn integration_page_after_add() {
    let server = TestServer::start().await;
    let path = add_through_form(&server, "Sandbox account").await;
    assert!(path.starts_with("/integrations/aws/"), "{path}");

    let html = page(&server, &path).await;
    for text in ["Sandbox account", "owner@example.com", "a@example.com, b@example.com", "Pending", "Sync now", "No data yet"] {
        assert!(html.contains(text), "`{text}` missing");
    }
    assert!(html.contains("access key id set, secret access key set"));
    assert!(!html.contains(ACCESS_KEY_ID));
    assert!(!html.contains(SECRET));

    let list = page(&server, "/integrations").await;
    assert!(list.contains("Sandbox account"));
    assert!(list.contains(r#"class="badge badge-neutral">Pending<"#));
    assert!(list.contains("Sync now"));
}

#[tokio::test]
async fn sync_now_polls_until_the_run_ends() {
    let server = TestServer::start().await;
    let path = add_through_form(&server, "Polled").await;

    let plain = server.client.post(server.url(&format!("{path}/sync"))).send().await.unwrap();
    assert_eq!(plain.status(), 303, "a form post without htmx is redirected");

    let response = server
        .client
        .post(server.url(&format!("{path}/sync")))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let fragment = response.text().await.unwrap();
    assert!(fragment.contains(r#"id="sync-panel""#));
    assert!(fragment.contains(r#"hx-trigger="every 2s""#));
    assert!(fragment.contains(">Queued<"));
    assert!(!fragment.contains("<html"), "a fragment, not a page");

    let row = server
        .client
        .post(server.url(&format!("{path}/sync?view=row")))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.trim_start().starts_with("<tr"), "{row}");
    assert!(row.contains(&format!(r#"hx-get="{path}/row""#)), "{row}");

    let polling = server.get(&format!("{path}/sync-panel?poll=1")).await;
    assert!(polling.headers().get("hx-refresh").is_none(), "still queued");

    // A worker claims the run and stores a snapshot.
    let store = server.muster.store();
    let run = store.claim_next_sync_run("test-worker").await.unwrap().expect("a queued run");
    store.complete_sync_run(&run, &crate::common::sample_inventory()).await.unwrap();

    let done = server.get(&format!("{path}/sync-panel?poll=1")).await;
    assert_eq!(done.headers()["hx-refresh"], "true");
    let html = done.text().await.unwrap();
    assert!(html.contains("Connected"));
    assert!(html.contains("Data available"));
    assert!(!html.contains("hx-trigger"), "polling stops");
}

#[tokio::test]
async fn inventory_tabs_search_and_entity_page() {
    let server = TestServer::start().await;
    let path = add_through_form(&server, "With data").await;
    let id = path.trim_start_matches("/integrations/").to_string();
    server.store_sample_snapshot(&id).await;

    let html = page(&server, &path).await;
    assert!(html.contains("Identities <span class=\"count\">3</span>"), "identity count");
    assert!(html.contains("Connections <span class=\"count\">2</span>"));
    for user in ["alice", "bob", "carol"] {
        assert!(html.contains(&format!(">{user}</a>")), "{user} listed");
    }

    let searched = page(&server, &format!("{path}?tab=identity&search=ali")).await;
    assert!(searched.contains(">alice</a>"));
    assert!(!searched.contains(">bob</a>"));
    assert!(searched.contains("1–1 of 1"));

    let connections = page(&server, &format!("{path}?tab=connection")).await;
    assert!(connections.contains(">admins</a>"));

    // Past the last entity the page states it and links the first page (minijinja escapes
    // `/` and `&`).
    let past_end = page(&server, &format!("{path}?tab=identity&offset=1000")).await;
    assert!(!past_end.contains("has no identities"), "the snapshot has identities");
    assert!(past_end.contains("There are no identities at offset 1000 because the list has only 3."));
    assert!(past_end.contains(r#"?tab=identity#inventory">Show the first page</a>"#));

    let searched_past_end = page(&server, &format!("{path}?tab=identity&search=ali&offset=50")).await;
    assert!(searched_past_end.contains("at offset 50 because the list has only 1."));
    assert!(searched_past_end.contains(r#"?tab=identity&amp;search=ali#inventory">Show the first page</a>"#));

    let entities: Value = server.get("/api/v1/entities?search=alice").await.json().await.unwrap();
    let alice_id = entities["items"][0]["id"].as_str().unwrap();
    let entity = page(&server, &format!("/entities/{alice_id}")).await;
    for text in ["Credentials", "Console password", "Access keys", "AKIAEXAMPLEKEY1", "Who has access to this", "What this has access to", ">admins</a>"] {
        assert!(entity.contains(text), "`{text}` missing from the entity page");
    }

    let policies: Value = server.get("/api/v1/entities?source_type=policy").await.json().await.unwrap();
    let policy_id = policies["items"][0]["id"].as_str().unwrap();
    let policy = page(&server, &format!("/entities/{policy_id}")).await;
    assert!(policy.contains(r#"<pre class="document">"#));
    assert!(policy.contains("&quot;Statement&quot;: ["), "pretty-printed and escaped");
    assert!(policy.contains(">admins</a>"), "the group that has it attached");
    assert!(policy.contains(">123456789012</a>"), "the account it grants access to");

    let missing = server.get("/entities/0000").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("not found"));
}

#[tokio::test]
async fn edit_keeps_secrets_left_blank() {
    let server = TestServer::start().await;
    let path = add_through_form(&server, "Editable").await;

    let form = page(&server, &format!("{path}/edit")).await;
    assert!(form.contains(r#"value="Editable""#));
    assert!(form.contains("Stored: leave blank to keep"));
    assert!(!form.contains(ACCESS_KEY_ID));

    let response = server
        .post_form(
            &format!("{path}/edit"),
            &[
                ("app", "aws"),
                ("name", "Edited"),
                ("primary_owner", "new-owner@example.com"),
                ("auth_method", "access_key"),
                ("access_key_id", ""),
                ("secret_access_key", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let integration: Value = server.get(&format!("/api/v1/integrations/{}", path.trim_start_matches("/integrations/"))).await.json().await.unwrap();
    assert_eq!(integration["name"], "Edited");
    assert_eq!(integration["primary_owner"], "new-owner@example.com");
    assert_eq!(integration["credentials"]["secret_access_key"], true);

    let switch = server
        .post_form(&format!("{path}/edit"), &[("name", "Edited"), ("primary_owner", "new-owner@example.com"), ("auth_method", "role")])
        .await;
    assert_eq!(switch.status(), 400);
    assert!(switch.text().await.unwrap().contains("is required to switch to assuming a role"));

    let invalid = server
        .post_form(&format!("{path}/edit"), &[("name", ""), ("primary_owner", "x"), ("auth_method", "access_key"), ("secret_access_key", SECRET)])
        .await;
    assert_eq!(invalid.status(), 400);
    let html = invalid.text().await.unwrap();
    assert!(html.contains(r#"id="name-error""#));
    assert!(!html.contains(SECRET));
}

#[tokio::test]
async fn remove_asks_then_deletes() {
    let server = TestServer::start().await;
    let path = add_through_form(&server, "Doomed").await;
    let confirm = page(&server, &format!("{path}/remove")).await;
    assert!(confirm.contains("Remove Doomed?"));
    assert!(confirm.contains("cannot be undone"));

    let response = server.post_form(&format!("{path}/remove"), &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/integrations");
    let gone = server.get(&path).await;
    assert_eq!(gone.status(), 404);
    assert!(gone.text().await.unwrap().contains("Not Found"));
}

#[tokio::test]
async fn pages_escape_user_text() {
    let server = TestServer::start().await;
    let path = add_through_form(&server, r#""><img src=x onerror=alert(1)>"#).await;
    for html in [page(&server, &path).await, page(&server, "/integrations").await] {
        assert!(!html.contains("<img src=x"), "unescaped name");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    }
}

#[tokio::test]
async fn security_headers_and_assets() {
    let server = TestServer::start().await;
    let response = server.get("/integrations").await;
    let policy = response.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline scripts");

    let css = server.get("/assets/app.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    let htmx = server.get("/assets/vendor/htmx.min.js").await;
    assert_eq!(htmx.status(), 200);
    assert!(htmx.text().await.unwrap().contains("htmx"));

    let missing = server.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

#[tokio::test]
async fn cross_site_form_posts_rejected() {
    let server = TestServer::start().await;
    let response = server
        .client
        .post(server.url("/integrations"))
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}
