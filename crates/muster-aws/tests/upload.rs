//! The upload path against a direct sync: the fixture account is built in moto, synced
//! directly and also exported with awscli, and both inventories are compared.
//!
//! Needs `aws` (awscli) on `PATH` besides moto and boto3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use muster_aws::inventory_from_authorization_details;
use muster_domain::{Entity, EntityKey, EntityType, Inventory, Relation};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};

/// Runs awscli against moto with fake keys and returns its standard output. `pipe` is
/// appended to the command line, which runs in `sh`.
fn awscli(endpoint: &str, arguments: &str, pipe: &str) -> Vec<u8> {
    let mut command: Command = isolated_command("sh");
    let output = command
        .arg("-c")
        .arg(format!("aws --endpoint-url {endpoint} {arguments} {pipe}"))
        .env("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run sh");
    assert!(
        output.status.success(),
        "`aws {arguments}` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Exports the account as a user of the upload would: the authorization details and the
/// decoded credential report.
fn export_account(endpoint: &str) -> (Vec<u8>, Vec<u8>) {
    let details = awscli(
        endpoint,
        "iam get-account-authorization-details --output json",
        "",
    );
    for _ in 0..50 {
        let state = awscli(
            endpoint,
            "iam generate-credential-report --query State --output text",
            "",
        );
        if String::from_utf8_lossy(&state).trim() == "COMPLETE" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let report = awscli(
        endpoint,
        "iam get-credential-report --query Content --output text",
        "| base64 -d",
    );
    (details, report)
}

fn entities_by_key(inventory: &Inventory) -> BTreeMap<EntityKey, Entity> {
    inventory
        .entities
        .iter()
        .map(|entity| (entity.key(), entity.clone()))
        .collect()
}

fn sorted_relations(inventory: &Inventory) -> Vec<Relation> {
    let mut relations = inventory.relations.clone();
    relations.sort_by_key(|relation| {
        (
            relation.privilege_name.clone(),
            relation.parent.clone(),
            relation.child.clone(),
            relation.privilege_value,
        )
    });
    relations
}

/// Cuts an RFC 3339 date to whole seconds: the credential report has no fractions.
fn to_second(value: &Value) -> Option<String> {
    value.as_str().map(|text| text.chars().take(19).collect())
}

/// Replaces the metadata fields that differ between a direct sync and an upload by
/// design, after the caller has checked them.
fn without_documented_differences(mut entity: Entity) -> Entity {
    let metadata = entity.metadata.as_object_mut().unwrap();
    match entity.source_type.as_str() {
        "account" => {
            metadata.remove("SyncPrincipalArn");
            metadata.remove("CredentialReportGeneratedAt");
        }
        "role" => {
            metadata.remove("MaxSessionDuration");
            metadata.remove("Description");
        }
        "user" => {
            metadata.remove("AccessKeys");
            if let Some(mfa) = metadata.get_mut("MFA") {
                mfa.as_object_mut().unwrap().remove("Devices");
            }
        }
        _ => {}
    }
    entity
}

/// Checks a user's access keys and MFA devices: the upload has the credential report's
/// view of them, without key ids or device serial numbers.
fn assert_user_credentials(direct: &Value, uploaded: &Value, user: &str) {
    let direct_keys = direct["AccessKeys"].as_array().unwrap();
    let uploaded_keys = uploaded["AccessKeys"].as_array().unwrap();
    assert_eq!(uploaded_keys.len(), direct_keys.len(), "keys of {user}");
    let facts = |keys: &[Value]| {
        let mut facts: Vec<(Value, Option<String>, Option<String>)> = keys
            .iter()
            .map(|key| {
                (
                    key["Status"].clone(),
                    to_second(&key["CreateDate"]),
                    to_second(&key["LastUsedDate"]),
                )
            })
            .collect();
        facts.sort_by_key(|fact| format!("{fact:?}"));
        facts
    };
    assert_eq!(facts(uploaded_keys), facts(direct_keys), "keys of {user}");
    for key in uploaded_keys {
        assert_eq!(key["AccessKeyId"], Value::Null, "key id of {user}");
        // moto 5.2.1 writes `not_supported` as service and region in its report.
        assert_eq!(key["LastUsedService"], Value::Null, "key service of {user}");
        assert_eq!(key["LastUsedRegion"], Value::Null, "key region of {user}");
    }

    assert_eq!(
        uploaded["MFA"]["Active"], direct["MFA"]["Active"],
        "MFA of {user}"
    );
    if direct["MFA"]["Active"] == true {
        assert_eq!(
            uploaded["MFA"]["Devices"],
            Value::Null,
            "MFA devices of {user}"
        );
    } else {
        assert_eq!(
            uploaded["MFA"]["Devices"],
            json!([]),
            "MFA devices of {user}"
        );
    }
}

#[tokio::test]
async fn upload_matches_direct_sync() {
    let moto = Moto::start();
    let account = moto.build_account();
    let (result, _) = sync(&fake_access_key(), &options(&moto.endpoint)).await;
    let direct = result.expect("the direct sync failed");
    let (details, report) = export_account(&moto.endpoint);

    let uploaded =
        inventory_from_authorization_details(&details, Some(&report)).expect("the upload failed");

    assert_fixture_inventory(&uploaded, &account);
    assert_eq!(uploaded.project, direct.project);
    assert_eq!(sorted_relations(&uploaded), sorted_relations(&direct));

    let direct_entities = entities_by_key(&direct);
    let uploaded_entities = entities_by_key(&uploaded);
    assert_eq!(
        uploaded_entities.keys().collect::<Vec<_>>(),
        direct_entities.keys().collect::<Vec<_>>()
    );
    for (key, direct_entity) in &direct_entities {
        let uploaded_entity = &uploaded_entities[key];
        let (direct_metadata, uploaded_metadata) =
            (&direct_entity.metadata, &uploaded_entity.metadata);
        match direct_entity.source_type.as_str() {
            "account" => {
                assert!(direct_metadata["SyncPrincipalArn"].is_string());
                assert_eq!(uploaded_metadata["SyncPrincipalArn"], Value::Null);
                assert!(direct_metadata["CredentialReportGeneratedAt"].is_string());
                assert_eq!(
                    uploaded_metadata["CredentialReportGeneratedAt"],
                    Value::Null
                );
            }
            "role" => {
                assert!(direct_metadata["MaxSessionDuration"].is_number(), "{key:?}");
                assert_eq!(uploaded_metadata["MaxSessionDuration"], Value::Null);
                assert_eq!(uploaded_metadata["Description"], Value::Null);
            }
            "user" => assert_user_credentials(direct_metadata, uploaded_metadata, &key.source_id),
            _ => {}
        }
        assert_eq!(
            without_documented_differences(uploaded_entity.clone()),
            without_documented_differences(direct_entity.clone()),
        );
    }

    assert_eq!(direct.warnings, Vec::<String>::new());
    assert_eq!(
        uploaded.warnings,
        vec![
            "the upload has no iam:ListRoles data, so role descriptions and maximum session \
             durations are unknown"
                .to_string(),
            "the upload has no iam:ListAccessKeys or iam:ListMFADevices data, so access key ids \
             and MFA device serial numbers are unknown; key status, rotation and last use come \
             from the credential report"
                .to_string(),
        ]
    );
}

#[tokio::test]
async fn upload_without_report_or_policy_names() {
    let moto = Moto::start();
    let account = moto.build_account();
    let (details, _) = export_account(&moto.endpoint);

    // moto 5.2.1 leaves PolicyName and PolicyId out of the policy list; real IAM fills
    // them, as here.
    let mut document: Value = serde_json::from_slice(&details).unwrap();
    for policy in document["Policies"].as_array_mut().unwrap() {
        let name = policy["Arn"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        policy["PolicyId"] = json!(format!("ANPA{}", name.to_uppercase()));
        policy["PolicyName"] = json!(name);
    }
    let details = serde_json::to_vec(&document).unwrap();
    let inventory = inventory_from_authorization_details(&details, None).unwrap();

    assert_fixture_inventory(&inventory, &account);
    let policy = entity(
        &inventory,
        EntityType::Connection,
        "arn:aws:iam::aws:policy/AdministratorAccess",
    );
    assert_eq!(policy.name, "AdministratorAccess");
    assert_eq!(policy.metadata["PolicyId"], "ANPAADMINISTRATORACCESS");

    let alice = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "alice.admin"),
    )
    .metadata;
    assert_eq!(alice["ConsolePassword"]["Enabled"], Value::Null);
    assert_eq!(alice["MFA"]["Active"], Value::Null);
    assert_eq!(alice["AccessKeys"], Value::Null);
    assert!(
        inventory
            .warnings
            .iter()
            .any(|warning| warning.starts_with("no credential report was uploaded")),
        "{:?}",
        inventory.warnings
    );
}
