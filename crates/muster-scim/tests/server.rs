//! Against a real SCIM server: `scim2-server` 0.8.3 seeded with 1,200 users (every tenth
//! inactive), 50 groups and a nested group.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::proxy::{FaultProxy, Faults};
use common::*;
use muster_domain::{EntityType, IntegrationStatus};
use muster_scim::{ScimAuth, ScimOptions};
use serde_json::{json, Value};
use std::sync::Mutex;

const USERS: usize = 1_200;
const GROUPS: usize = 50;

#[tokio::test(flavor = "multi_thread")]
async fn connection_summary_read() {
    let server = ScimServer::start().await;
    let summary = muster_scim::test_connection(&server.endpoint(), &options())
        .await
        .unwrap();
    assert_eq!(summary.authentication_schemes, vec!["oauthbearertoken"]);
    assert!(summary.filter_supported);
    assert!(summary.patch_supported);
    assert!(summary.bulk_supported);
    assert!(summary.sort_supported);
    assert_eq!(summary.filter_max_results, Some(1000));
    assert_eq!(summary.page_size_cap, Some(1000));
}

#[tokio::test(flavor = "multi_thread")]
async fn extract_reads_every_page() {
    let server = ScimServer::start().await;
    let seeded = seed(&server.url, USERS, GROUPS).await;
    let phases = Mutex::new(Vec::new());
    let progress = |step: muster_scim::Progress| phases.lock().unwrap().push(step);
    let small_pages = ScimOptions {
        page_size: 50,
        ..options()
    };

    let inventory = muster_scim::extract(&server.endpoint(), &small_pages, &progress)
        .await
        .unwrap();

    inventory.validate().unwrap();
    assert_eq!(inventory.project.as_deref(), Some("127.0.0.1"));
    assert!(!incomplete(&inventory), "{:?}", inventory.warnings);
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let identities: Vec<_> = inventory
        .entities
        .iter()
        .filter(|entity| entity.entity_type == EntityType::Identity)
        .collect();
    let groups: Vec<_> = inventory
        .entities
        .iter()
        .filter(|entity| entity.entity_type == EntityType::Connection)
        .collect();
    assert_eq!(identities.len(), USERS);
    assert_eq!(groups.len(), GROUPS);
    let user_relations = inventory
        .relations
        .iter()
        .filter(|relation| relation.parent.entity_type == EntityType::Identity)
        .count();
    assert_eq!(user_relations, USERS);

    let phases = phases.lock().unwrap();
    let last_users = phases.iter().rfind(|step| step.phase == "users").unwrap();
    assert_eq!(
        (last_users.done, last_users.total),
        (USERS as u64, Some(USERS as u64))
    );
    assert!(phases
        .iter()
        .any(|step| step.phase == "group members" && step.done == GROUPS as u64));

    let inactive: Vec<_> = identities
        .iter()
        .filter(|entity| entity.metadata["active"] == json!(false))
        .collect();
    assert_eq!(inactive.len(), seeded.inactive.len());
    assert!(inactive
        .iter()
        .all(|entity| seeded.inactive.contains(&entity.source_id)));
    assert!(inactive
        .iter()
        .all(|entity| entity.metadata["status"] == json!("inactive")));
}

#[tokio::test(flavor = "multi_thread")]
async fn identities_carry_metadata() {
    let server = ScimServer::start().await;
    let seeded = seed(&server.url, 40, 4).await;
    let inventory = muster_scim::extract(&server.endpoint(), &options(), &no_progress)
        .await
        .unwrap();

    let user = inventory
        .entities
        .iter()
        .find(|entity| entity.source_id == seeded.user_ids[5])
        .unwrap();
    assert_eq!(user.source_type, "user");
    assert_eq!(user.name, "User 5");
    let metadata = &user.metadata;
    assert_eq!(metadata["Metadata Version"], json!("v1"));
    assert_eq!(metadata["userName"], json!("user00005@example.com"));
    assert_eq!(metadata["email"], json!("work5@example.com"));
    assert_eq!(metadata["emails"].as_array().unwrap().len(), 2);
    assert_eq!(metadata["name"]["familyName"], json!("N5"));
    assert_eq!(metadata["active"], json!(true));
    assert_eq!(metadata["externalId"], json!("ext-5"));
    assert_eq!(metadata["department"], json!("D5"));
    assert_eq!(metadata["employeeNumber"], json!("5"));
    assert_eq!(
        muster_domain::identity_email(&user.name, &user.source_id, metadata).as_deref(),
        Some("work5@example.com")
    );

    let group = inventory
        .entities
        .iter()
        .find(|entity| entity.source_id == seeded.group_ids[2])
        .unwrap();
    assert_eq!(group.entity_type, EntityType::Connection);
    assert_eq!(group.source_type, "group");
    assert_eq!(group.name, "group-002");
    let relation = inventory
        .relations
        .iter()
        .find(|relation| relation.parent.source_id == seeded.user_ids[6])
        .unwrap();
    assert_eq!(relation.child.source_id, seeded.group_ids[2]);
    assert_eq!(relation.privilege_name, "member");
    assert!(relation.privilege_value);
    assert_eq!(relation.connection_type.as_deref(), Some("group"));
    assert_eq!(relation.project, "127.0.0.1");
}

#[tokio::test(flavor = "multi_thread")]
async fn nested_group_becomes_relation() {
    let server = ScimServer::start().await;
    let seeded = seed(&server.url, 30, 3).await;
    let inventory = muster_scim::extract(&server.endpoint(), &options(), &no_progress)
        .await
        .unwrap();

    let nested: Vec<_> = inventory
        .relations
        .iter()
        .filter(|relation| relation.parent.entity_type == EntityType::Connection)
        .collect();
    assert_eq!(nested.len(), 1);
    assert_eq!(nested[0].parent.source_id, seeded.nested_inner);
    assert_eq!(nested[0].child.source_id, seeded.nested_outer);
    assert_eq!(nested[0].privilege_name, "member");
    assert_eq!(nested[0].connection_type.as_deref(), Some("group"));
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_quote_awkward_values() {
    let server = ScimServer::start().await;
    let seeded = seed(&server.url, 20, 2).await;
    for name in [OBRIEN, PLUS_ADDRESS, AWKWARD] {
        let found = muster_scim::find_users(&server.endpoint(), &options(), "userName", name)
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(found[0].source_id, seeded.user_id_named(name), "{name}");
    }
    let none = muster_scim::find_users(&server.endpoint(), &options(), "userName", "a b@x.com")
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_token_names_cause() {
    let server = ScimServer::start().await;
    let wrong = endpoint(&server.url, "not-the-token");

    let error = muster_scim::test_connection(&wrong, &options())
        .await
        .unwrap_err();
    assert_eq!(error.status, IntegrationStatus::InvalidCredentials);
    assert_eq!(error.code, "scim.unauthorized");
    assert!(error.message.contains("GET /Users"), "{}", error.message);
    assert!(error.message.contains("HTTP 401"), "{}", error.message);
    assert!(error.message.contains("bearer token"), "{}", error.message);
    assert!(
        !error.message.contains("not-the-token"),
        "{}",
        error.message
    );

    let error = muster_scim::extract(&wrong, &options(), &no_progress)
        .await
        .unwrap_err();
    assert_eq!(error.status, IntegrationStatus::InvalidCredentials);

    let mut basic = server.endpoint();
    basic.auth = ScimAuth::Basic {
        username: "admin".into(),
        password: "secret-password".into(),
    };
    let error = muster_scim::extract(&basic, &options(), &no_progress)
        .await
        .unwrap_err();
    assert_eq!(error.code, "scim.unauthorized");
    assert!(!error.message.contains("secret-password"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_server_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = ScimOptions {
        max_retries: 1,
        ..options()
    };
    let error = muster_scim::extract(
        &endpoint(&format!("http://127.0.0.1:{port}/scim/v2"), TOKEN),
        &options,
        &no_progress,
    )
    .await
    .unwrap_err();
    assert_eq!(error.status, IntegrationStatus::Unreachable);
    assert_eq!(error.code, "scim.unreachable");
    assert!(
        error.message.contains("could not connect"),
        "{}",
        error.message
    );
}

async fn group_members(url: &str, group_id: &str) -> Vec<String> {
    let group: Value = reqwest::Client::new()
        .get(format!("{url}/Groups/{group_id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .map(|member| member["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

async fn user_active(url: &str, user_id: &str) -> Value {
    let user: Value = reqwest::Client::new()
        .get(format!("{url}/Users/{user_id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    user["active"].clone()
}

/// Removes one member through `url` and checks that exactly that member left.
async fn remove_and_check(
    server: &ScimServer,
    url: &str,
    seeded: &Seeded,
    group_index: usize,
    expected_method: &str,
) {
    let group_id = &seeded.group_ids[group_index];
    let mut before = group_members(&server.url, group_id).await;
    let removed = seeded.members[group_id][1].clone();

    let outcome =
        muster_scim::remove_group_member(&endpoint(url, TOKEN), &options(), group_id, &removed)
            .await
            .unwrap();

    assert_eq!(outcome.method, expected_method, "{}", outcome.message);
    assert!(outcome.verified, "{}", outcome.message);
    before.retain(|id| *id != removed);
    assert_eq!(group_members(&server.url, group_id).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn member_removed_with_patch() {
    let server = ScimServer::start().await;
    let seeded = seed(&server.url, 60, 3).await;
    let proxy = FaultProxy::start(&server.url, Faults::default()).await;

    remove_and_check(&server, &proxy.url, &seeded, 2, "PATCH").await;

    let patches: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|request| request.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1);
    let body: Value = serde_json::from_str(&patches[0].body).unwrap();
    let path = body["Operations"][0]["path"].as_str().unwrap();
    assert!(path.starts_with("members[value eq \""), "{path}");
    assert_eq!(body["Operations"][0]["op"], json!("remove"));

    let again = muster_scim::remove_group_member(
        &server.endpoint(),
        &options(),
        &seeded.group_ids[2],
        &seeded.members[&seeded.group_ids[2]][1],
    )
    .await
    .unwrap();
    assert_eq!(again.method, "none");
    assert!(again.verified);
}

#[tokio::test(flavor = "multi_thread")]
async fn member_removed_with_put_fallback() {
    let server = ScimServer::start().await;
    let seeded = seed(&server.url, 60, 3).await;

    let not_announced = FaultProxy::start(
        &server.url,
        Faults {
            announce_no_patch: true,
            ..Faults::default()
        },
    )
    .await;
    remove_and_check(&server, &not_announced.url, &seeded, 1, "PUT").await;
    assert!(not_announced
        .requests()
        .iter()
        .all(|request| request.method != "PATCH"));

    for status in [501, 405] {
        let rejected = FaultProxy::start(
            &server.url,
            Faults {
                patch_status: Some(status),
                ..Faults::default()
            },
        )
        .await;
        let group_index = if status == 501 { 2 } else { 0 };
        remove_and_check(&server, &rejected.url, &seeded, group_index, "PUT").await;
        let methods: Vec<String> = rejected
            .requests()
            .iter()
            .map(|request| request.method.to_string())
            .collect();
        let patch_at = methods.iter().position(|method| method == "PATCH").unwrap();
        assert_eq!(methods[patch_at + 1], "PUT", "{methods:?}");
    }
    // The nested group survives a PUT of group 0.
    assert!(group_members(&server.url, &seeded.group_ids[0])
        .await
        .contains(&seeded.nested_inner));
}

#[tokio::test(flavor = "multi_thread")]
async fn user_deactivated_with_patch_and_put() {
    let server = ScimServer::start().await;
    let seeded = seed(&server.url, 30, 2).await;

    let target = &seeded.user_ids[1];
    assert_eq!(user_active(&server.url, target).await, json!(true));
    let outcome = muster_scim::deactivate_user(&server.endpoint(), &options(), target)
        .await
        .unwrap();
    assert_eq!(outcome.method, "PATCH");
    assert!(outcome.verified, "{}", outcome.message);
    assert_eq!(user_active(&server.url, target).await, json!(false));

    let again = muster_scim::deactivate_user(&server.endpoint(), &options(), target)
        .await
        .unwrap();
    assert_eq!(again.method, "none");

    let proxy = FaultProxy::start(
        &server.url,
        Faults {
            patch_status: Some(501),
            ..Faults::default()
        },
    )
    .await;
    let target = &seeded.user_ids[2];
    let outcome = muster_scim::deactivate_user(&endpoint(&proxy.url, TOKEN), &options(), target)
        .await
        .unwrap();
    assert_eq!(outcome.method, "PUT");
    assert!(outcome.verified, "{}", outcome.message);
    assert_eq!(user_active(&server.url, target).await, json!(false));
    assert_eq!(
        user_active(&server.url, &seeded.user_ids[3]).await,
        json!(true)
    );
}
