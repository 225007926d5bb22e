//! Syncs through `fault_proxy.py`, which adds to moto what moto 5.2.1 never does. It pages
//! list calls, throttles, leaves policies out of the GAAD policy list and answers chosen
//! calls with AccessDenied or an empty HTTP error. It also restores literal `+` in
//! documents and adds user permissions boundaries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use muster_domain::{EntityType, IntegrationStatus};
use serde_json::{json, Value};

fn count(stats: &Value, table: &str, action: &str) -> u64 {
    stats[table][action].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn gaad_pages_all_read() {
    let moto = Moto::start();
    let account = moto.build_account();
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &["--page-size", "GetAccountAuthorizationDetails=5"],
    );

    let (direct, _) = sync(&fake_access_key(), &options(&moto.endpoint)).await;
    let direct = direct.expect("the direct sync failed");
    let (paged, progress) = sync(&fake_access_key(), &options(&proxy.endpoint)).await;
    let paged = paged.expect("the paged sync failed");

    assert_fixture_inventory(&paged, &account);
    assert_eq!(entity_keys(&paged), entity_keys(&direct));
    assert_eq!(relation_keys(&paged), relation_keys(&direct));

    let stats = proxy.stats();
    let pages = count(&stats, "pages", "GetAccountAuthorizationDetails");
    // About 1,500 items (with moto's AWS managed policies) in pages of 5.
    assert!(pages > 250, "only {pages} pages were served");
    let markers = stats["markers"]["GetAccountAuthorizationDetails"]
        .as_array()
        .unwrap();
    assert_eq!(markers.len() as u64, pages);
    assert_eq!(
        markers[0],
        Value::Null,
        "the first request must carry no marker"
    );
    for (index, marker) in markers.iter().enumerate().skip(1) {
        assert_eq!(marker, &json!(format!("fault-proxy-offset-{}", index * 5)));
    }
    let last_page_report = progress
        .iter()
        .rev()
        .find(|report| report.phase == "authorization details")
        .unwrap();
    assert_eq!(last_page_report.done, pages);

    // The credential report spares the per-user calls for users without keys or MFA:
    // 6 users have keys (7 keys in all). Only bob's single key was ever used, so only it
    // needs GetAccessKeyLastUsed. The 2 users with MFA have virtual devices, found in one
    // account-wide listing.
    assert_eq!(count(&stats, "requests", "ListAccessKeys"), 6);
    assert_eq!(count(&stats, "requests", "GetAccessKeyLastUsed"), 1);
    assert_eq!(count(&stats, "requests", "ListVirtualMFADevices"), 1);
    assert_eq!(count(&stats, "requests", "ListMFADevices"), 0);
}

#[tokio::test]
async fn list_call_pages_all_read() {
    let moto = Moto::start();
    let account = moto.build_account();
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &[
            "--page-size",
            "ListRoles=2",
            "--page-size",
            "ListAccessKeys=1",
            "--page-size",
            "ListMFADevices=1",
            "--page-size",
            "ListVirtualMFADevices=1",
        ],
    );

    let (result, _) = sync(&fake_access_key(), &options(&proxy.endpoint)).await;
    let inventory = result.expect("the sync failed");

    assert_fixture_inventory(&inventory, &account);
    let stats = proxy.stats();
    // Seven roles in pages of two; alice's two keys in pages of one.
    assert_eq!(count(&stats, "pages", "ListRoles"), 4);
    assert_eq!(count(&stats, "pages", "ListAccessKeys"), 7);
    assert_eq!(count(&stats, "pages", "ListVirtualMFADevices"), 2);
    for role in [
        "deploy-role",
        "muster-audit-role",
        "no-access-role",
        "ec2-app-role",
        "bounded-role",
        "federated-role",
        "public-role",
    ] {
        let metadata = &entity(
            &inventory,
            EntityType::Connection,
            &account.arn("roles", role),
        )
        .metadata;
        assert!(
            metadata["MaxSessionDuration"].is_u64(),
            "{role} has no MaxSessionDuration"
        );
    }
    let alice = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "alice.admin"),
    )
    .metadata;
    assert_eq!(alice["AccessKeys"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn throttled_calls_retried_to_completion() {
    let moto = Moto::start();
    let account = moto.build_account();
    let throttles = [
        ("GetCallerIdentity", "2,TooManyRequestsException,429"),
        ("GetAccountAuthorizationDetails", "3"),
        ("ListRoles", "2"),
        ("GenerateCredentialReport", "2,ThrottlingException,400"),
        ("ListAccessKeys", "3,RequestLimitExceeded,400"),
        ("ListVirtualMFADevices", "2,ServiceUnavailable,503"),
    ];
    let switches: Vec<String> = throttles
        .iter()
        .flat_map(|(action, spec)| ["--throttle".to_string(), format!("{action}={spec}")])
        .collect();
    let switches: Vec<&str> = switches.iter().map(String::as_str).collect();
    let proxy = FaultProxy::start(&moto.endpoint, &switches);

    let (result, _) = sync(&fake_access_key(), &options(&proxy.endpoint)).await;
    let inventory = result.expect("throttled calls must be retried until they succeed");

    assert_fixture_inventory(&inventory, &account);
    assert_eq!(inventory.warnings, Vec::<String>::new());
    let stats = proxy.stats();
    for (action, spec) in throttles {
        let injected: u64 = spec.split(',').next().unwrap().parse().unwrap();
        assert_eq!(
            count(&stats, "injected_errors", action),
            injected,
            "{action}"
        );
    }
    // One page, after three throttled attempts.
    assert_eq!(
        count(&stats, "requests", "GetAccountAuthorizationDetails"),
        4
    );
    let alice = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "alice.admin"),
    )
    .metadata;
    assert_eq!(alice["AccessKeys"].as_array().unwrap().len(), 2);
    assert_eq!(alice["MFA"]["Devices"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn policy_missing_from_gaad_fetched() {
    let moto = Moto::start();
    let account = moto.build_account();
    let boundary_only = account.arn("policies", "boundary-only");
    let read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &["--drop-policy", &boundary_only, "--drop-policy", read_only],
    );

    let (result, progress) = sync(&fake_access_key(), &options(&proxy.endpoint)).await;
    let inventory = result.expect("a policy left out of GAAD must not fail the sync");

    assert_fixture_inventory(&inventory, &account);
    assert_eq!(inventory.warnings, Vec::<String>::new());
    let stats = proxy.stats();
    assert_eq!(count(&stats, "requests", "GetPolicy"), 2);
    assert_eq!(count(&stats, "requests", "GetPolicyVersion"), 2);
    let last_policy_report = progress
        .iter()
        .rev()
        .find(|report| report.phase == "policies")
        .unwrap();
    assert_eq!(
        (last_policy_report.done, last_policy_report.total),
        (2, Some(2))
    );

    let boundary = &entity(&inventory, EntityType::Connection, &boundary_only).metadata;
    assert_eq!(boundary["FetchedSeparately"], true);
    assert_eq!(boundary["AwsManaged"], false);
    assert_eq!(boundary["DefaultVersionId"], "v1");
    assert_eq!(boundary["Versions"].as_array().unwrap().len(), 1);
    assert_eq!(
        boundary["DefaultVersionDocument"]["Statement"][0]["Action"],
        json!(["s3:*", "sqs:*"])
    );
    assert!(find_relation(
        &inventory,
        "permissions-boundary",
        &account.arn("roles", "bounded-role"),
        &boundary_only
    )
    .is_some());

    let aws_managed = &entity(&inventory, EntityType::Connection, read_only).metadata;
    assert_eq!(aws_managed["FetchedSeparately"], true);
    assert_eq!(aws_managed["AwsManaged"], true);
    assert!(aws_managed["DefaultVersionDocument"]["Statement"].is_array());
    assert!(find_relation(
        &inventory,
        "attached",
        &account.arn("users", "carol.audit"),
        read_only
    )
    .is_some());
}

#[tokio::test]
async fn unreadable_policy_kept_with_warning() {
    let moto = Moto::start();
    let account = moto.build_account();
    let boundary_only = account.arn("policies", "boundary-only");
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &["--drop-policy", &boundary_only, "--deny", "GetPolicy"],
    );

    let (result, _) = sync(&fake_access_key(), &options(&proxy.endpoint)).await;
    let inventory = result.expect("an unreadable policy must not fail the sync");

    assert_fixture_inventory(&inventory, &account);
    assert_eq!(inventory.warnings.len(), 1, "{:?}", inventory.warnings);
    assert!(
        inventory.warnings[0].contains(&boundary_only),
        "{}",
        inventory.warnings[0]
    );
    assert!(
        inventory.warnings[0].contains("AccessDenied"),
        "{}",
        inventory.warnings[0]
    );
    let placeholder = &entity(&inventory, EntityType::Connection, &boundary_only).metadata;
    assert_eq!(placeholder["DefaultVersionDocument"], Value::Null);
    assert!(placeholder["Unavailable"]
        .as_str()
        .unwrap()
        .contains("iam:GetPolicy"));
    assert!(find_relation(
        &inventory,
        "permissions-boundary",
        &account.arn("roles", "bounded-role"),
        &boundary_only
    )
    .is_some());
}

#[tokio::test]
async fn literal_plus_and_user_boundary() {
    let moto = Moto::start();
    let account = moto.build_account();
    let power_user = "arn:aws:iam::aws:policy/PowerUserAccess";
    let boundary_switch = format!("dave.ci={power_user}");
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &["--literal-plus", "--user-boundary", &boundary_switch],
    );

    let (result, _) = sync(&fake_access_key(), &options(&proxy.endpoint)).await;
    let inventory = result.expect("the sync failed");
    inventory.validate().unwrap();

    // IAM leaves `+` unescaped in percent-encoded documents; it must stay a plus.
    let inline_id = format!("{}#inline/alice-notes", account.arn("users", "alice.admin"));
    let inline = &entity(&inventory, EntityType::Connection, &inline_id).metadata;
    assert_eq!(
        inline["Document"]["Statement"]["Resource"],
        "arn:aws:s3:::media/c++/notes+drafts/*"
    );

    // An AWS managed policy used only as a user's boundary is referenced, so included.
    let dave = account.arn("users", "dave.ci");
    assert!(find_relation(&inventory, "permissions-boundary", &dave, power_user).is_some());
    assert_eq!(
        entity(&inventory, EntityType::Identity, &dave).metadata["PermissionsBoundary"],
        power_user
    );
    assert_eq!(
        entity(&inventory, EntityType::Connection, power_user).metadata["AwsManaged"],
        true
    );
    assert_eq!(entity_counts(&inventory)["connection/policy"], 8);
    assert_eq!(relation_counts(&inventory)["permissions-boundary"], 2);
}

#[tokio::test]
async fn per_user_call_denied_becomes_warning() {
    let moto = Moto::start();
    let account = moto.build_account();
    // Without the account-wide virtual device listing, each user with MFA needs its own
    // ListMFADevices call, which is then denied.
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &["--deny", "ListVirtualMFADevices", "--deny", "ListMFADevices"],
    );

    let (result, _) = sync(&fake_access_key(), &options(&proxy.endpoint)).await;
    let inventory = result.expect("a denied per-user call must not fail the sync");

    assert_fixture_inventory(&inventory, &account);
    assert_eq!(inventory.warnings.len(), 1, "{:?}", inventory.warnings);
    let warning = &inventory.warnings[0];
    assert!(
        warning.starts_with("iam:ListMFADevices failed with AccessDenied"),
        "{warning}"
    );
    assert!(warning.contains("alice.admin, erin.ops"), "{warning}");
    let alice = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "alice.admin"),
    )
    .metadata;
    // The report still shows MFA as active; only the device list is unknown.
    assert_eq!(alice["MFA"]["Active"], true);
    assert_eq!(alice["MFA"]["Devices"], Value::Null);
}

#[tokio::test]
async fn credential_report_unavailable_falls_back() {
    let moto = Moto::start();
    let account = moto.build_account();
    let proxy = FaultProxy::start(&moto.endpoint, &["--deny", "GenerateCredentialReport"]);

    let (result, _) = sync(&fake_access_key(), &options(&proxy.endpoint)).await;
    let inventory = result.expect("a missing credential report must not fail the sync");

    assert_fixture_inventory(&inventory, &account);
    assert_eq!(inventory.warnings.len(), 1, "{:?}", inventory.warnings);
    assert!(
        inventory.warnings[0].starts_with("iam:GenerateCredentialReport failed with AccessDenied"),
        "{}",
        inventory.warnings[0]
    );
    // Without the report, every user gets the per-user calls, except MFA listings for
    // the 2 users whose virtual devices the account-wide listing found.
    let stats = proxy.stats();
    assert_eq!(count(&stats, "requests", "ListAccessKeys"), 8);
    assert_eq!(count(&stats, "requests", "GetAccessKeyLastUsed"), 7);
    assert_eq!(count(&stats, "requests", "ListMFADevices"), 6);

    let alice = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "alice.admin"),
    )
    .metadata;
    assert_eq!(alice["ConsolePassword"]["Enabled"], Value::Null);
    assert_eq!(alice["MFA"]["Active"], true);
    assert_eq!(alice["AccessKeys"].as_array().unwrap().len(), 2);
    let carol = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "carol.audit"),
    )
    .metadata;
    assert_eq!(carol["MFA"]["Active"], false);
    assert_eq!(carol["AccessKeys"], json!([]));
}

#[tokio::test]
async fn empty_server_error_names_status() {
    let moto = Moto::start();
    moto.build_account();
    let proxy = FaultProxy::start(
        &moto.endpoint,
        &["--empty-error", "GetAccountAuthorizationDetails=500"],
    );

    let (result, _) = sync(&fake_access_key(), &options(&proxy.endpoint)).await;
    let error = result.expect_err("every GAAD call fails");

    assert_eq!(error.status, IntegrationStatus::SyncFailed);
    assert_eq!(error.code, "aws.server_error");
    assert_eq!(
        error.message,
        format!(
            "iam:GetAccountAuthorizationDetails failed: {} returned HTTP 500 with no error \
             code; retry the sync later, and check the AWS Health Dashboard if the error \
             persists",
            proxy.endpoint
        )
    );
    // A 500 is retried before the sync gives up.
    let stats = proxy.stats();
    assert_eq!(
        count(&stats, "injected_errors", "GetAccountAuthorizationDetails"),
        3
    );
}
