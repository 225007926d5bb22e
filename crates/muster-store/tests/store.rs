//! Storage tests, each run on SQLite and on PostgreSQL against a fresh database.
//!
//! PostgreSQL is reached at `MUSTER_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); every test creates its own database there
//! and drops it afterwards.

use muster_domain::{
    App, AwsCredentials, Entity, EntityId, EntityKey, EntityType, ExtractionType, IntegrationDraft,
    IntegrationStatus, Inventory, Relation,
};
use muster_domain::integration::IntegrationFields;
use muster_store::{EntityFilter, SecretKey, SnapshotAnalysis, Store, StoreError, SyncRunState};
use serde_json::json;
use sqlx::Connection;

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A migrated store on a fresh database, removed when dropped.
struct TestDb {
    store: Store,
    cleanup: Option<(String, String)>,
    _dir: Option<TempDir>,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("muster-store-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("muster.db").display());
        let store = Store::connect(&url, SecretKey::generate()).await.unwrap();
        TestDb {
            store,
            cleanup: None,
            _dir: Some(TempDir(dir)),
        }
    }

    async fn postgres() -> TestDb {
        let admin_url = std::env::var("MUSTER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
        let name = format!("muster_test_{}", ulid::Ulid::new().to_string().to_lowercase());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        admin.close().await.unwrap();

        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        let store = Store::connect(&url, SecretKey::generate()).await.unwrap();
        TestDb {
            store,
            cleanup: Some((admin_url, name)),
            _dir: None,
        }
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.cleanup {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}

/// Declares one test per backend for an `async fn(&Store)`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::TestDb::postgres().await;
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    default_tenant_is_stable,
    integration_round_trip,
    duplicate_name_is_conflict,
    credentials_encrypted_at_rest,
    update_and_delete,
    snapshot_becomes_current,
    failed_run_keeps_snapshot,
    entity_listing_filters,
    entity_relations_both_ways,
    queued_runs_claimed_once,
    large_snapshot_in_batches,
    one_active_run_per_integration,
    expired_lease_fails_run,
    nul_in_lookups_is_not_found,
    analysis_stored_with_snapshot,
    current_inventory_round_trip,
);

fn draft(name: &str) -> IntegrationDraft {
    IntegrationDraft {
        app: App::Aws,
        name: name.into(),
        description: "test account".into(),
        primary_owner: "owner@example.com".into(),
        secondary_owners: vec!["second@example.com".into()],
        extraction_type: ExtractionType::Direct,
        credentials: AwsCredentials {
            access_key_id: Some("AKIAIOSFODNN7EXAMPLE".into()),
            secret_access_key: Some("wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY".into()),
            ..Default::default()
        },
    }
}

fn entity(entity_type: EntityType, source_type: &str, source_id: &str, name: &str) -> Entity {
    Entity {
        entity_type,
        source_id: source_id.into(),
        source_type: source_type.into(),
        name: name.into(),
        metadata: json!({"Metadata Version": "v1"}),
    }
}

fn relation(parent: (EntityType, &str), child: (EntityType, &str), privilege: &str) -> Relation {
    Relation {
        parent: EntityKey::new(parent.0, parent.1),
        child: EntityKey::new(child.0, child.1),
        project: "123456789012".into(),
        privilege_name: privilege.into(),
        privilege_value: true,
        connection_type: Some("group".into()),
        metadata: json!({"Metadata Version": "v1"}),
    }
}

fn small_inventory() -> Inventory {
    Inventory {
        project: Some("123456789012".into()),
        entities: vec![
            entity(EntityType::Identity, "user", "arn:aws:iam::123456789012:user/alice", "alice"),
            entity(EntityType::Identity, "user", "arn:aws:iam::123456789012:user/bob_100%", "bob_100%"),
            entity(EntityType::Connection, "group", "arn:aws:iam::123456789012:group/admins", "admins"),
            entity(EntityType::Resource, "account", "123456789012", "123456789012"),
        ],
        relations: vec![
            relation(
                (EntityType::Identity, "arn:aws:iam::123456789012:user/alice"),
                (EntityType::Connection, "arn:aws:iam::123456789012:group/admins"),
                "member",
            ),
            relation(
                (EntityType::Identity, "arn:aws:iam::123456789012:user/bob_100%"),
                (EntityType::Connection, "arn:aws:iam::123456789012:group/admins"),
                "member",
            ),
        ],
        warnings: vec!["one policy could not be fetched".into()],
    }
}

async fn default_tenant_is_stable(store: &Store) {
    let first = store.ensure_default_tenant().await.unwrap();
    let second = store.ensure_default_tenant().await.unwrap();
    assert_eq!(first, second);
}

async fn integration_round_trip(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let created = store.create_integration(&tenant, &draft("AWS prod")).await.unwrap();
    assert!(created.id.as_str().starts_with("aws/"));
    assert_eq!(created.status, IntegrationStatus::Pending);
    assert_eq!(created.secondary_owners, vec!["second@example.com".to_string()]);
    assert!(created.credentials.secret_access_key);
    assert!(!created.credentials.role_arn);

    let by_name = store.find_integration(&tenant, "aws PROD").await.unwrap();
    assert_eq!(by_name.id, created.id);
    let by_id = store.find_integration(&tenant, created.id.as_str()).await.unwrap();
    assert_eq!(by_id.name, "AWS prod");

    let listed = store.list_integrations(&tenant).await.unwrap();
    assert_eq!(listed.len(), 1);

    let credentials = store.integration_credentials(&tenant, &created.id).await.unwrap();
    assert_eq!(credentials.secret_access_key.as_deref(), Some("wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"));
}

async fn duplicate_name_is_conflict(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    store.create_integration(&tenant, &draft("Prod")).await.unwrap();
    let error = store.create_integration(&tenant, &draft("prod")).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { field: "name", .. }), "{error:?}");
}

async fn credentials_encrypted_at_rest(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let created = store.create_integration(&tenant, &draft("Secret check")).await.unwrap();
    let raw = store.raw_credentials_for_test(&created.id).await.unwrap();
    assert!(!raw.contains("wJalr"), "secret stored in clear: {raw}");
    assert!(!raw.contains("AKIA"), "key id stored in clear: {raw}");
}

async fn update_and_delete(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let created = store.create_integration(&tenant, &draft("Before")).await.unwrap();
    let other = store.create_integration(&tenant, &draft("Other")).await.unwrap();
    let fields = IntegrationFields {
        name: "After".into(),
        description: "renamed".into(),
        primary_owner: "new@example.com".into(),
        secondary_owners: vec![],
    };
    let credentials = AwsCredentials {
        role_arn: Some("arn:aws:iam::123456789012:role/Muster".into()),
        ..Default::default()
    };
    let updated = store.update_integration(&tenant, &created.id, &fields, &credentials).await.unwrap();
    assert_eq!(updated.name, "After");
    assert!(updated.credentials.role_arn);
    assert!(!updated.credentials.secret_access_key);

    let renamed_onto_other = IntegrationFields { name: "other".into(), ..fields.clone() };
    let error = store
        .update_integration(&tenant, &created.id, &renamed_onto_other, &credentials)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }));

    let run = store.start_sync_run(&tenant, &created.id, "test", "tester").await.unwrap();
    store.complete_sync_run(&run, &small_inventory()).await.unwrap();
    store.delete_integration(&tenant, &created.id).await.unwrap();
    assert!(matches!(
        store.integration(&tenant, &created.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let page = store.list_entities(&tenant, &EntityFilter { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(page.total, 0);
    assert!(store.integration(&tenant, &other.id).await.is_ok());
}

async fn snapshot_becomes_current(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let integration = store.create_integration(&tenant, &draft("Snap")).await.unwrap();
    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    assert_eq!(
        store.integration(&tenant, &integration.id).await.unwrap().status,
        IntegrationStatus::Syncing
    );

    let summary = store.complete_sync_run(&run, &small_inventory()).await.unwrap();
    assert_eq!(summary.entity_count, 4);
    assert_eq!(summary.relation_count, 2);

    let after = store.integration(&tenant, &integration.id).await.unwrap();
    assert_eq!(after.status, IntegrationStatus::Connected);
    assert_eq!(after.message, "Data available");
    assert_eq!(after.current_snapshot_id.as_ref(), Some(&summary.id));
    assert!(after.last_sync_at.is_some());

    let run = store.sync_run(&tenant, &run.id).await.unwrap();
    assert_eq!(run.state, SyncRunState::Succeeded);
    assert_eq!(run.snapshot_id.as_ref(), Some(&summary.id));
    assert_eq!(run.stats["entities"], 4);
}

async fn failed_run_keeps_snapshot(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let integration = store.create_integration(&tenant, &draft("Keep")).await.unwrap();
    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    let good = store.complete_sync_run(&run, &small_inventory()).await.unwrap();

    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    store
        .fail_sync_run(&run, IntegrationStatus::AccessDenied, "aws.access_denied", "AccessDenied on iam:GetAccountAuthorizationDetails")
        .await
        .unwrap();

    let after = store.integration(&tenant, &integration.id).await.unwrap();
    assert_eq!(after.status, IntegrationStatus::AccessDenied);
    assert!(after.message.contains("GetAccountAuthorizationDetails"));
    assert_eq!(after.current_snapshot_id.as_ref(), Some(&good.id));
    let failed = store.sync_run(&tenant, &run.id).await.unwrap();
    assert_eq!(failed.state, SyncRunState::Failed);
    assert_eq!(failed.error_code.as_deref(), Some("aws.access_denied"));

    let page = store
        .list_entities(&tenant, &EntityFilter { integration: Some(integration.id.clone()), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(page.total, 4);

    // An inventory with a dangling relation is rejected before anything is written.
    let mut broken = small_inventory();
    broken.relations[0].child = EntityKey::new(EntityType::Connection, "missing");
    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    assert!(store.complete_sync_run(&run, &broken).await.is_err());
    let after = store.integration(&tenant, &integration.id).await.unwrap();
    assert_eq!(after.current_snapshot_id.as_ref(), Some(&good.id));
}

async fn entity_listing_filters(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let integration = store.create_integration(&tenant, &draft("List")).await.unwrap();
    let filter = |f: EntityFilter| EntityFilter { limit: 100, ..f };

    let before = store.list_entities(&tenant, &filter(EntityFilter::default())).await.unwrap();
    assert_eq!(before.total, 0);

    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    store.complete_sync_run(&run, &small_inventory()).await.unwrap();

    let identities = store
        .list_entities(&tenant, &filter(EntityFilter { entity_type: Some(EntityType::Identity), ..Default::default() }))
        .await
        .unwrap();
    assert_eq!(identities.total, 2);

    let groups = store
        .list_entities(&tenant, &filter(EntityFilter { source_type: Some("GROUP".into()), ..Default::default() }))
        .await
        .unwrap();
    assert_eq!(groups.total, 1);

    let search = store
        .list_entities(&tenant, &filter(EntityFilter { search: Some("ALICE".into()), ..Default::default() }))
        .await
        .unwrap();
    assert_eq!(search.total, 1);
    assert_eq!(search.items[0].name, "alice");

    // `%` and `_` are matched literally, not as LIKE wildcards.
    let literal = store
        .list_entities(&tenant, &filter(EntityFilter { search: Some("_100%".into()), ..Default::default() }))
        .await
        .unwrap();
    assert_eq!(literal.total, 1);
    let wildcard = store
        .list_entities(&tenant, &filter(EntityFilter { search: Some("a%e".into()), ..Default::default() }))
        .await
        .unwrap();
    assert_eq!(wildcard.total, 0);

    let paged = store
        .list_entities(&tenant, &EntityFilter { limit: 3, offset: 3, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(paged.total, 4);
    assert_eq!(paged.items.len(), 1);
}

async fn entity_relations_both_ways(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let integration = store.create_integration(&tenant, &draft("Relations")).await.unwrap();
    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    store.complete_sync_run(&run, &small_inventory()).await.unwrap();

    let group_id = EntityId::derive(&integration.id, EntityType::Connection, "arn:aws:iam::123456789012:group/admins");
    let group = store.entity(&tenant, &group_id).await.unwrap();
    assert_eq!(group.entity.name, "admins");
    assert_eq!(group.parents.len(), 2);
    assert!(group.children.is_empty());
    assert!(group.parents.iter().all(|p| p.privilege_name == "member" && p.privilege_value));

    let alice_id = EntityId::derive(&integration.id, EntityType::Identity, "arn:aws:iam::123456789012:user/alice");
    let alice = store.entity(&tenant, &alice_id).await.unwrap();
    assert_eq!(alice.children.len(), 1);
    assert_eq!(alice.children[0].name, "admins");
    assert_eq!(alice.children[0].project, "123456789012");

    // The id is stable: after a second sync the same entity is found in the new snapshot.
    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    let second = store.complete_sync_run(&run, &small_inventory()).await.unwrap();
    let alice = store.entity(&tenant, &alice_id).await.unwrap();
    assert_eq!(alice.entity.snapshot_id, second.id);

    assert!(matches!(
        store.entity(&tenant, &EntityId::from_string("nope")).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn analysis_stored_with_snapshot(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let integration = store.create_integration(&tenant, &draft("Analysed")).await.unwrap();
    let alice_key = EntityKey::new(EntityType::Identity, "arn:aws:iam::123456789012:user/alice");
    let analysis = SnapshotAnalysis {
        document: json!({"summary": {"admins": ["alice"]}}),
        principals: vec![(alice_key, json!({"name": "alice", "admin": true}))],
    };
    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    let first = store
        .complete_sync_run_with_analysis(&run, &small_inventory(), Some(&analysis))
        .await
        .unwrap();

    let stored = store.snapshot_analysis(&tenant, &first.id).await.unwrap().unwrap();
    assert_eq!(stored["summary"]["admins"][0], "alice");
    let alice_id = EntityId::derive(&integration.id, EntityType::Identity, "arn:aws:iam::123456789012:user/alice");
    let findings = store.entity_findings(&tenant, &alice_id).await.unwrap().unwrap();
    assert_eq!(findings["admin"], true);
    let group_id = EntityId::derive(&integration.id, EntityType::Connection, "arn:aws:iam::123456789012:group/admins");
    assert!(store.entity_findings(&tenant, &group_id).await.unwrap().is_none());

    // A newer snapshot without an analysis hides the old findings.
    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    let second = store.complete_sync_run(&run, &small_inventory()).await.unwrap();
    assert!(store.snapshot_analysis(&tenant, &second.id).await.unwrap().is_none());
    assert!(store.entity_findings(&tenant, &alice_id).await.unwrap().is_none());

    store.delete_integration(&tenant, &integration.id).await.unwrap();
    assert!(store.snapshot_analysis(&tenant, &first.id).await.unwrap().is_none());
}

async fn current_inventory_round_trip(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let integration = store.create_integration(&tenant, &draft("Reread")).await.unwrap();
    assert!(store.current_inventory(&tenant, &integration.id).await.unwrap().is_none());

    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    let written = small_inventory();
    store.complete_sync_run(&run, &written).await.unwrap();
    let read = store.current_inventory(&tenant, &integration.id).await.unwrap().unwrap();

    let mut expected_entities = written.entities.clone();
    expected_entities.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    assert_eq!(read.entities, expected_entities);
    assert_eq!(read.relations.len(), written.relations.len());
    for relation in &written.relations {
        assert!(read.relations.contains(relation), "missing {relation:?}");
    }
}

async fn queued_runs_claimed_once(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let first = store.create_integration(&tenant, &draft("Queue one")).await.unwrap();
    let second = store.create_integration(&tenant, &draft("Queue two")).await.unwrap();

    let queued = store.queue_sync_run(&tenant, &first.id, "api").await.unwrap();
    assert_eq!(queued.state, SyncRunState::Queued);
    let again = store.queue_sync_run(&tenant, &first.id, "api").await.unwrap();
    assert_eq!(again.id, queued.id, "a second request joins the queued run");
    store.queue_sync_run(&tenant, &second.id, "api").await.unwrap();

    let mut claims = Vec::new();
    for worker in ["w1", "w2", "w3"] {
        let store = store.clone();
        claims.push(tokio::spawn(async move { store.claim_next_sync_run(worker).await.unwrap() }));
    }
    let mut claimed = Vec::new();
    for claim in claims {
        if let Some(run) = claim.await.unwrap() {
            claimed.push(run);
        }
    }
    assert_eq!(claimed.len(), 2, "two queued runs, each claimed exactly once");
    assert_ne!(claimed[0].id, claimed[1].id);
    assert!(claimed.iter().all(|run| run.state == SyncRunState::Running));
    assert!(store.claim_next_sync_run("w4").await.unwrap().is_none());

    let runs = store.list_sync_runs(&tenant, Some(&first.id), 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    let all = store.list_sync_runs(&tenant, None, 10).await.unwrap();
    assert_eq!(all.len(), 2);
}

async fn large_snapshot_in_batches(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let integration = store.create_integration(&tenant, &draft("Large")).await.unwrap();
    let mut inventory = Inventory { project: Some("123456789012".into()), ..Default::default() };
    inventory.entities.push(entity(EntityType::Connection, "group", "group-all", "all"));
    for index in 0..1_234 {
        let source_id = format!("arn:aws:iam::123456789012:user/u{index}");
        inventory.entities.push(entity(EntityType::Identity, "user", &source_id, &format!("u{index}")));
        inventory.relations.push(relation(
            (EntityType::Identity, &source_id),
            (EntityType::Connection, "group-all"),
            "member",
        ));
    }
    let run = store.start_sync_run(&tenant, &integration.id, "test", "tester").await.unwrap();
    let summary = store.complete_sync_run(&run, &inventory).await.unwrap();
    assert_eq!(summary.entity_count, 1_235);
    assert_eq!(summary.relation_count, 1_234);
    let group = store
        .entity(&tenant, &EntityId::derive(&integration.id, EntityType::Connection, "group-all"))
        .await
        .unwrap();
    assert_eq!(group.parents.len(), 1_234);
}

async fn one_active_run_per_integration(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let integration = store.create_integration(&tenant, &draft("Single")).await.unwrap();

    let queued = store.queue_sync_run(&tenant, &integration.id, "api").await.unwrap();
    let started = store.start_sync_run(&tenant, &integration.id, "cli", "cli-worker").await.unwrap();
    assert_eq!(started.id, queued.id, "the CLI takes over the queued run");
    assert_eq!(started.state, SyncRunState::Running);
    assert_eq!(started.worker.as_deref(), Some("cli-worker"));

    let error = store.start_sync_run(&tenant, &integration.id, "cli", "other").await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");
    assert!(error.to_string().contains("already running"), "{error}");
    let joined = store.queue_sync_run(&tenant, &integration.id, "api").await.unwrap();
    assert_eq!(joined.id, started.id, "a queue request joins the running run");

    store
        .fail_sync_run(&started, IntegrationStatus::Unreachable, "aws.unreachable", "down")
        .await
        .unwrap();
    let next = store.start_sync_run(&tenant, &integration.id, "cli", "cli-worker").await.unwrap();
    assert_ne!(next.id, started.id);
}

async fn expired_lease_fails_run(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    let integration = store.create_integration(&tenant, &draft("Crashed")).await.unwrap();
    let run = store.start_sync_run(&tenant, &integration.id, "cli", "dead-process").await.unwrap();
    assert!(store.heartbeat_sync_run(&run).await.unwrap());

    // With the default lease a fresh run is not expired.
    assert_eq!(store.fail_expired_sync_runs().await.unwrap(), 0);

    let impatient = store.with_sync_run_lease(std::time::Duration::ZERO);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(impatient.fail_expired_sync_runs().await.unwrap(), 1);
    let failed = store.sync_run(&tenant, &run.id).await.unwrap();
    assert_eq!(failed.state, SyncRunState::Failed);
    assert_eq!(failed.error_code.as_deref(), Some("sync.abandoned"));
    let after = store.integration(&tenant, &integration.id).await.unwrap();
    assert_eq!(after.status, IntegrationStatus::SyncFailed);
    assert!(!store.heartbeat_sync_run(&run).await.unwrap(), "a failed run's lease cannot be renewed");

    let next = store.start_sync_run(&tenant, &integration.id, "cli", "alive").await.unwrap();
    assert_eq!(next.state, SyncRunState::Running);

    // The expired run's process may still be alive: it must not make its snapshot current.
    let late = store.complete_sync_run(&run, &Inventory::default()).await.unwrap_err();
    assert!(late.to_string().contains("no longer running"), "{late}");
    let after = store.integration(&tenant, &integration.id).await.unwrap();
    assert_eq!(after.current_snapshot_id, None);
    assert_eq!(store.sync_run(&tenant, &run.id).await.unwrap().state, SyncRunState::Failed);

    // Nor may its failure overwrite what the newer run recorded.
    store.complete_sync_run(&next, &Inventory::default()).await.unwrap();
    store
        .fail_sync_run(&run, IntegrationStatus::SyncFailed, "upload.failed", "too late")
        .await
        .unwrap();
    let after = store.integration(&tenant, &integration.id).await.unwrap();
    assert_eq!(after.status, IntegrationStatus::Connected);
    assert_eq!(store.sync_run(&tenant, &run.id).await.unwrap().error_code.as_deref(), Some("sync.abandoned"));
}

async fn nul_in_lookups_is_not_found(store: &Store) {
    let tenant = store.ensure_default_tenant().await.unwrap();
    store.create_integration(&tenant, &draft("Nul")).await.unwrap();
    assert!(matches!(
        store.find_integration(&tenant, "a\0b").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.entity(&tenant, &EntityId::from_string("a\0b")).await,
        Err(StoreError::NotFound { .. })
    ));
    let page = store
        .list_entities(&tenant, &EntityFilter { search: Some("a\0b".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(page.total, 0);
}

#[tokio::test]
async fn other_key_rejected_on_connect() {
    let dir = std::env::temp_dir().join(format!("muster-store-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = TempDir(dir.clone());
    let url = format!("sqlite://{}?mode=rwc", dir.join("muster.db").display());
    let key = SecretKey::generate();

    let store = Store::connect(&url, key.clone()).await.unwrap();
    store.close().await;
    let again = Store::connect(&url, key).await.unwrap();
    again.close().await;

    let error = Store::connect(&url, SecretKey::generate()).await.unwrap_err();
    assert!(matches!(error, StoreError::KeyMismatch), "{error:?}");
}
