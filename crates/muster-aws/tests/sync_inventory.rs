//! One sync of the fixture account against moto: the exact entities, relations and
//! metadata it produces.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use muster_aws::ConnectorOptions;
use muster_domain::{EntityType, IntegrationStatus};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn is_rfc3339(value: &Value) -> bool {
    value.as_str().is_some_and(|text| {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
    })
}

#[tokio::test]
async fn fixture_account_full_inventory() {
    let moto = Moto::start();
    let account = moto.build_account();
    let (result, progress) = sync(&fake_access_key(), &options(&moto.endpoint)).await;
    let inventory = result.expect("the sync failed");

    assert_fixture_inventory(&inventory, &account);
    assert_eq!(inventory.warnings, Vec::<String>::new());

    let phases: Vec<&str> = progress
        .iter()
        .map(|report| report.phase.as_str())
        .collect();
    for phase in [
        "caller identity",
        "authorization details",
        "credential report",
        "access keys and MFA",
        "policies",
    ] {
        assert!(
            phases.contains(&phase),
            "no `{phase}` progress in {phases:?}"
        );
    }
    let last_user_report = progress
        .iter()
        .rev()
        .find(|report| report.phase == "access keys and MFA")
        .unwrap();
    // carol.audit has no key and no MFA, so the report spares her the per-user calls.
    assert_eq!(last_user_report.total, Some(7));
    assert_eq!(last_user_report.done, 7);
}

#[tokio::test]
async fn user_credential_facts() {
    let moto = Moto::start();
    let account = moto.build_account();
    let (result, _) = sync(&fake_access_key(), &options(&moto.endpoint)).await;
    let inventory = result.expect("the sync failed");

    let alice = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "alice.admin"),
    )
    .metadata;
    assert_eq!(alice["UserName"], "alice.admin");
    assert_eq!(
        alice["Tags"],
        json!({"team": "platform", "owner": "alice@example.com"})
    );
    assert!(is_rfc3339(&alice["CreateDate"]), "{}", alice["CreateDate"]);
    assert_eq!(alice["ConsolePassword"]["Enabled"], true);
    assert!(is_rfc3339(&alice["ConsolePassword"]["LastChanged"]));
    assert_eq!(alice["MFA"]["Active"], true);
    assert_eq!(alice["MFA"]["Devices"].as_array().unwrap().len(), 1);
    assert_eq!(
        alice["MFA"]["Devices"][0]["SerialNumber"],
        account.0["mfa_serials"]["alice.admin"]
    );
    assert!(is_rfc3339(&alice["MFA"]["Devices"][0]["EnableDate"]));
    let mut statuses: Vec<&str> = alice["AccessKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["Status"].as_str().unwrap())
        .collect();
    statuses.sort();
    assert_eq!(statuses, vec!["Active", "Inactive"]);
    for key in alice["AccessKeys"].as_array().unwrap() {
        assert!(key["AccessKeyId"].as_str().unwrap().starts_with("AKIA"));
        assert!(is_rfc3339(&key["CreateDate"]));
        assert_eq!(key["LastUsedDate"], Value::Null);
    }

    let bob = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "bob.dev"),
    )
    .metadata;
    assert_eq!(bob["ConsolePassword"]["Enabled"], true);
    assert_eq!(bob["MFA"]["Active"], false);
    assert_eq!(bob["MFA"]["Devices"], json!([]));
    assert_eq!(bob["AccessKeys"].as_array().unwrap().len(), 1);
    // The fixture signs one request with bob's key, which moto records as its last use.
    assert!(is_rfc3339(&bob["AccessKeys"][0]["LastUsedDate"]));
    assert_eq!(bob["AccessKeys"][0]["LastUsedService"], "sts");

    let carol = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "carol.audit"),
    )
    .metadata;
    assert_eq!(carol["ConsolePassword"]["Enabled"], false);
    assert_eq!(carol["ConsolePassword"]["LastUsed"], Value::Null);
    assert_eq!(carol["MFA"]["Active"], false);
    assert_eq!(carol["AccessKeys"], json!([]));

    let erin = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "erin.ops"),
    )
    .metadata;
    assert_eq!(erin["MFA"]["Active"], true);
    assert_eq!(
        erin["MFA"]["Devices"][0]["SerialNumber"],
        account.0["mfa_serials"]["erin.ops"]
    );
    assert_eq!(erin["AccessKeys"], json!([]));

    let dave = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "dave.ci"),
    )
    .metadata;
    assert_eq!(dave["ConsolePassword"]["Enabled"], false);
    assert_eq!(dave["Tags"], json!({"kind": "service"}));
    assert_eq!(dave["AccessKeys"][0]["Status"], "Active");
    assert_eq!(dave["PermissionsBoundary"], Value::Null);

    let account_entity = entity(&inventory, EntityType::Resource, account.account_id());
    assert_eq!(account_entity.source_type, "account");
    assert_eq!(account_entity.metadata["AccountId"], account.account_id());
    assert!(is_rfc3339(
        &account_entity.metadata["CredentialReportGeneratedAt"]
    ));
    // moto 5.2.1 writes no `<root_account>` row into the credential report.
    assert_eq!(account_entity.metadata["RootAccount"], Value::Null);
}

#[tokio::test]
async fn policies_and_documents() {
    let moto = Moto::start();
    let account = moto.build_account();
    let (result, _) = sync(&fake_access_key(), &options(&moto.endpoint)).await;
    let inventory = result.expect("the sync failed");

    let app_deploy = &entity(
        &inventory,
        EntityType::Connection,
        &account.arn("policies", "app-deploy"),
    )
    .metadata;
    assert_eq!(app_deploy["AwsManaged"], false);
    assert_eq!(app_deploy["DefaultVersionId"], "v2");
    assert_eq!(app_deploy["Versions"].as_array().unwrap().len(), 2);
    assert_eq!(
        app_deploy["DefaultVersionDocument"]["Statement"][0]["Action"],
        json!(["s3:GetObject", "s3:PutObject"])
    );
    let v1 = app_deploy["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|version| version["VersionId"] == "v1")
        .unwrap();
    assert_eq!(v1["IsDefaultVersion"], false);
    assert_eq!(v1["Document"]["Statement"][0]["Action"], "s3:GetObject");
    assert!(is_rfc3339(&v1["CreateDate"]));

    // The default version of ci-artifacts is v1 although v2 is newer; its Statement is
    // one object, not a list.
    let ci = &entity(
        &inventory,
        EntityType::Connection,
        &account.arn("policies", "ci-artifacts"),
    )
    .metadata;
    assert_eq!(ci["DefaultVersionId"], "v1");
    assert_eq!(ci["Path"], "/ci/");
    assert_eq!(
        ci["DefaultVersionDocument"]["Statement"]["Action"],
        "s3:ListBucket"
    );

    let unattached = &entity(
        &inventory,
        EntityType::Connection,
        &account.arn("policies", "unattached"),
    )
    .metadata;
    assert_eq!(unattached["AwsManaged"], false);

    let read_only = &entity(
        &inventory,
        EntityType::Connection,
        "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    )
    .metadata;
    assert_eq!(read_only["AwsManaged"], true);
    assert!(read_only["DefaultVersionDocument"]["Statement"].is_array());
    assert_eq!(read_only["FetchedSeparately"], false);
    let unreferenced = inventory
        .entities
        .iter()
        .any(|entity| entity.source_id == "arn:aws:iam::aws:policy/PowerUserAccess");
    assert!(
        !unreferenced,
        "an AWS managed policy nothing uses must be left out"
    );

    let alice_arn = account.arn("users", "alice.admin");
    let inline_id = format!("{alice_arn}#inline/alice-notes");
    let inline = entity(&inventory, EntityType::Connection, &inline_id);
    assert_eq!(inline.source_type, "inline-policy");
    assert_eq!(inline.name, "alice-notes");
    assert_eq!(inline.metadata["Owner"], alice_arn);
    assert_eq!(
        inline.metadata["Document"]["Statement"]["Resource"],
        "arn:aws:s3:::media/c++/notes+drafts/*"
    );
    let attached = find_relation(&inventory, "attached", &alice_arn, &inline_id).unwrap();
    assert_eq!(attached.metadata["inline"], true);
    assert_eq!(attached.connection_type.as_deref(), Some("policy"));

    let group_inline = format!(
        "{}#inline/auditors-extra",
        account.arn("groups", "auditors")
    );
    assert_eq!(
        entity(&inventory, EntityType::Connection, &group_inline).metadata["OwnerType"],
        "group"
    );
    let role_inline = format!(
        "{}#inline/ec2-app-queue",
        account.arn("roles", "ec2-app-role")
    );
    assert_eq!(
        entity(&inventory, EntityType::Connection, &role_inline).metadata["OwnerType"],
        "role"
    );
}

#[tokio::test]
async fn memberships_attachments_and_boundaries() {
    let moto = Moto::start();
    let account = moto.build_account();
    let (result, _) = sync(&fake_access_key(), &options(&moto.endpoint)).await;
    let inventory = result.expect("the sync failed");

    let mut members: Vec<(String, String)> = relations(&inventory, "member")
        .iter()
        .map(|relation| {
            (
                relation.parent.source_id.clone(),
                relation.child.source_id.clone(),
            )
        })
        .collect();
    members.sort();
    let mut expected = vec![
        (
            account.arn("users", "alice.admin"),
            account.arn("groups", "admins"),
        ),
        (
            account.arn("users", "bob.dev"),
            account.arn("groups", "developers"),
        ),
        (
            account.arn("users", "carol.audit"),
            account.arn("groups", "auditors"),
        ),
        (
            account.arn("users", "erin.ops"),
            account.arn("groups", "admins"),
        ),
        (
            account.arn("users", "erin.ops"),
            account.arn("groups", "developers"),
        ),
    ];
    expected.sort();
    assert_eq!(members, expected);
    for relation in relations(&inventory, "member") {
        assert_eq!(relation.connection_type.as_deref(), Some("group"));
        assert_eq!(relation.parent.entity_type, EntityType::Identity);
        assert_eq!(relation.child.entity_type, EntityType::Connection);
    }

    let admins_policy = find_relation(
        &inventory,
        "attached",
        &account.arn("groups", "admins"),
        "arn:aws:iam::aws:policy/AdministratorAccess",
    )
    .expect("admins → AdministratorAccess");
    assert_eq!(admins_policy.metadata["inline"], false);
    assert!(admins_policy.privilege_value);
    assert!(find_relation(
        &inventory,
        "attached",
        &account.arn("roles", "muster-audit-role"),
        "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    )
    .is_some());

    let bounded = account.arn("roles", "bounded-role");
    let boundary = find_relation(
        &inventory,
        "permissions-boundary",
        &bounded,
        &account.arn("policies", "boundary-only"),
    )
    .expect("bounded-role → boundary-only");
    assert_eq!(boundary.connection_type.as_deref(), Some("policy"));
    let role = &entity(&inventory, EntityType::Connection, &bounded).metadata;
    assert_eq!(
        role["PermissionsBoundary"],
        account.arn("policies", "boundary-only")
    );
}

#[tokio::test]
async fn roles_and_trust_relations() {
    let moto = Moto::start();
    let account = moto.build_account();
    let (result, _) = sync(&fake_access_key(), &options(&moto.endpoint)).await;
    let inventory = result.expect("the sync failed");
    let own_root = format!("arn:aws:iam::{}:root", account.account_id());

    let audit_arn = account.arn("roles", "muster-audit-role");
    let audit = &entity(&inventory, EntityType::Connection, &audit_arn).metadata;
    assert_eq!(audit["MaxSessionDuration"], 43200);
    assert_eq!(audit["Description"], "Read-only role that Muster assumes");
    assert_eq!(audit["TrustPolicy"]["Statement"][0]["Effect"], "Allow");
    assert!(audit["RoleId"].as_str().unwrap().starts_with("AROA"));
    let assumer = account.arn("users", "role-assumer");
    let trust = find_relation(&inventory, "assume", &assumer, &audit_arn)
        .expect("role-assumer → audit role");
    assert!(trust.privilege_value);
    assert_eq!(trust.connection_type.as_deref(), Some("role"));
    assert_eq!(trust.metadata["Actions"], json!(["sts:AssumeRole"]));
    assert_eq!(
        trust.metadata["Condition"],
        json!({"StringEquals": {"sts:ExternalId": account.external_id()}})
    );

    let deploy = account.arn("roles", "deploy-role");
    assert!(find_relation(
        &inventory,
        "assume",
        &account.arn("users", "bob.dev"),
        &deploy
    )
    .is_some());
    let deploy_meta = &entity(&inventory, EntityType::Connection, &deploy).metadata;
    assert_eq!(deploy_meta["Tags"], json!({"env": "prod"}));
    assert_eq!(deploy_meta["MaxSessionDuration"], 3600);

    let ec2_role = account.arn("roles", "ec2-app-role");
    let ec2_meta = &entity(&inventory, EntityType::Connection, &ec2_role).metadata;
    assert_eq!(ec2_meta["Path"], "/service-role/");
    assert_eq!(
        ec2_meta["InstanceProfiles"][0]["InstanceProfileName"],
        "ec2-app-profile"
    );
    assert!(find_relation(&inventory, "assume", "ec2.amazonaws.com", &ec2_role).is_some());
    assert_eq!(
        entity(&inventory, EntityType::Identity, "ec2.amazonaws.com").source_type,
        "aws-service"
    );

    // The own account's root, written as an ARN, and another account written as a bare id.
    let bounded = account.arn("roles", "bounded-role");
    let own =
        find_relation(&inventory, "assume", &own_root, &bounded).expect("own root → bounded-role");
    assert_eq!(
        own.metadata["Actions"],
        json!(["sts:AssumeRole", "sts:TagSession"])
    );
    assert_eq!(
        entity(&inventory, EntityType::Identity, &own_root).metadata["ThisAccount"],
        true
    );
    assert!(find_relation(
        &inventory,
        "assume",
        "arn:aws:iam::111122223333:root",
        &bounded
    )
    .is_some());

    // Every key of a multi-key principal, and the Deny statement as privilege_value false.
    let federated = account.arn("roles", "federated-role");
    let mut trusted: Vec<(String, bool)> = relations(&inventory, "assume")
        .iter()
        .filter(|relation| relation.child.source_id == federated)
        .map(|relation| (relation.parent.source_id.clone(), relation.privilege_value))
        .collect();
    trusted.sort();
    assert_eq!(
        trusted,
        vec![
            (
                "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be".to_string(),
                true
            ),
            (
                account.0["saml_provider_arn"].as_str().unwrap().to_string(),
                true
            ),
            ("arn:aws:iam::444455556666:root".to_string(), true),
            ("arn:aws:iam::555566667777:root".to_string(), false),
            ("arn:aws:iam::555566667777:root".to_string(), true),
            ("lambda.amazonaws.com".to_string(), true),
        ]
    );
    let canonical_user = entity(
        &inventory,
        EntityType::Identity,
        "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
    );
    assert_eq!(canonical_user.source_type, "canonical-user");
    assert_eq!(canonical_user.metadata["PrincipalType"], "CanonicalUser");
    assert_eq!(canonical_user.metadata["AccountId"], Value::Null);
    let saml = account.0["saml_provider_arn"].as_str().unwrap();
    assert_eq!(
        entity(&inventory, EntityType::Identity, saml).source_type,
        "federated"
    );
    let deny = relations(&inventory, "assume")
        .into_iter()
        .find(|relation| relation.child.source_id == federated && !relation.privilege_value)
        .unwrap();
    assert_eq!(deny.metadata["Sid"], "NotThatAccount");
    assert_eq!(deny.metadata["Effect"], "Deny");

    // `"Principal": "*"` in a single Statement object, with its condition kept.
    let public_role = account.arn("roles", "public-role");
    let public = find_relation(&inventory, "assume", "*", &public_role).expect("* → public-role");
    assert_eq!(
        entity(&inventory, EntityType::Identity, "*").source_type,
        "public"
    );
    assert_eq!(
        public.metadata["Condition"],
        json!({"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg"}})
    );
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let (result, _) = sync(&fake_access_key(), &options(&endpoint)).await;
    let error = result.expect_err("nothing listens on the port");

    assert_eq!(error.status, IntegrationStatus::Unreachable);
    assert_eq!(error.code, "aws.unreachable");
    assert!(error.message.contains(&endpoint), "{}", error.message);
    assert!(
        error.message.contains("sts:GetCallerIdentity"),
        "{}",
        error.message
    );
}

/// Options with timeouts short enough for a test to wait out every attempt.
fn short_timeouts(endpoint: &str) -> ConnectorOptions {
    ConnectorOptions {
        connect_timeout: Some(Duration::from_millis(500)),
        read_timeout: Some(Duration::from_millis(500)),
        attempt_timeout: Some(Duration::from_secs(2)),
        ..options(endpoint)
    }
}

#[tokio::test]
async fn silent_endpoint_times_out() {
    // Accepts every connection and never writes a byte.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let silent = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });

    let started = Instant::now();
    let (result, _) = sync(&fake_access_key(), &short_timeouts(&endpoint)).await;
    let elapsed = started.elapsed();
    silent.abort();
    let error = result.expect_err("the endpoint never responds");

    assert_eq!(error.status, IntegrationStatus::Unreachable);
    assert_eq!(error.code, "aws.timed_out");
    assert!(
        error.message.starts_with(&format!(
            "sts:GetCallerIdentity timed out: {endpoint} accepted the connection but sent no \
             response within 500ms"
        )),
        "{}",
        error.message
    );
    // Three attempts of 500 ms and two retry delays of at most 400 ms.
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[tokio::test]
async fn full_accept_queue_times_out_connecting() {
    // A listener with a backlog of 0 that never accepts: once one connection waits in
    // its queue, Linux drops further SYNs, so later connections hang.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let address = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    loop {
        match std::net::TcpStream::connect_timeout(&address, Duration::from_millis(300)) {
            Ok(stream) => queued.push(stream),
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => break,
            Err(error) => panic!("cannot fill the accept queue: {error}"),
        }
        assert!(queued.len() < 64, "the accept queue never filled up");
    }
    let endpoint = format!("http://{address}");

    let (result, _) = sync(&fake_access_key(), &short_timeouts(&endpoint)).await;
    let error = result.expect_err("no connection can be opened");

    assert_eq!(error.status, IntegrationStatus::Unreachable);
    assert_eq!(error.code, "aws.timed_out");
    // Under load the kernel sometimes completes the handshake after all, so the wait
    // ends as a response timeout instead of a connect timeout: both name the endpoint.
    let connect = format!("sts:GetCallerIdentity timed out: could not connect to {endpoint} within 500ms");
    let response = format!("sts:GetCallerIdentity timed out: {endpoint} accepted the connection");
    assert!(
        error.message.starts_with(&connect) || error.message.starts_with(&response),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn missing_credentials_rejected() {
    let (result, _) = sync(&Default::default(), &options("http://127.0.0.1:9")).await;
    let error = result.expect_err("no credentials were given");
    assert_eq!(error.status, IntegrationStatus::InvalidCredentials);
    assert_eq!(error.code, "aws.missing_credentials");
}
