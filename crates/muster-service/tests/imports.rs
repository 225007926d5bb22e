//! Imports and exports through the service, each test run on SQLite and on PostgreSQL
//! (`MUSTER_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).

#![recursion_limit = "256"]

use muster_csv::{CsvKind, ExportMode};
use muster_domain::{App, AwsCredentials, ExtractionType, IntegrationDraft, Inventory, MappingType, TenantId};
use muster_service::{ConnectorOptions, IdentityFilter, ImportFiles, ImportKind, ImportOptions, ImportReport, Muster, ServiceError};
use muster_store::{SecretKey, Store};
use sqlx::Connection;
use std::path::{Path, PathBuf};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A service on a fresh database and a scratch directory, removed when finished.
struct Harness {
    muster: Muster,
    dir: PathBuf,
    url: String,
    postgres: Option<(String, String)>,
}

impl Harness {
    async fn new(postgres: bool) -> Harness {
        let dir = std::env::temp_dir().join(format!("muster-imports-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let (url, cleanup) = if postgres {
            let admin = std::env::var("MUSTER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
            let name = format!("muster_test_{}", ulid::Ulid::new().to_string().to_lowercase());
            let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut connection).await.unwrap();
            connection.close().await.unwrap();
            let (base, _) = admin.rsplit_once('/').unwrap();
            (format!("{base}/{name}"), Some((admin, name)))
        } else {
            (format!("sqlite://{}?mode=rwc", dir.join("muster.db").display()), None)
        };
        let store = Store::connect(&url, SecretKey::generate()).await.unwrap();
        let muster = Muster::with_store(store, ConnectorOptions::default()).await.unwrap();
        Harness { muster, dir, url, postgres: cleanup }
    }

    async fn finish(self) {
        self.muster.store().close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin, name)) = self.postgres {
            let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut connection)
                .await
                .unwrap();
        }
    }

    /// Runs SQL on the test database over a connection of its own.
    async fn execute_sql(&self, sql: &str) {
        let mut connection = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut connection).await.unwrap();
        connection.close().await.unwrap();
    }

    fn tenant(&self) -> TenantId {
        self.muster.default_tenant().clone()
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    async fn add(&self, name: &str, app: App, extraction_type: ExtractionType) {
        let draft = IntegrationDraft {
            app,
            name: name.into(),
            description: format!("{name} for tests"),
            primary_owner: "owner@example.com".into(),
            secondary_owners: vec![],
            extraction_type,
            credentials: AwsCredentials::default(),
        };
        self.muster.add_integration(&self.tenant(), draft).await.unwrap();
    }

    async fn import(&self, kind: &str, integration: Option<&str>, path: &Path, skip: bool) -> Result<ImportReport, ServiceError> {
        let kind: ImportKind = kind.parse().unwrap();
        let options = ImportOptions {
            skip_invalid_rows: skip,
            trigger: "cli".into(),
        };
        let files = ImportFiles {
            main: path,
            credential_report: None,
        };
        self.muster
            .import(&self.tenant(), kind, integration, files, &options, &|_| {})
            .await
    }

    async fn export(&self, kind: CsvKind, integration: Option<&str>, mode: ExportMode) -> String {
        let mut out = Vec::new();
        self.muster
            .export(&self.tenant(), kind, integration, mode, &mut out)
            .await
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    async fn inventory(&self, integration: &str) -> Inventory {
        let found = self.muster.find_integration(&self.tenant(), integration).await.unwrap();
        let mut inventory = self
            .muster
            .store()
            .current_inventory(&self.tenant(), &found.id)
            .await
            .unwrap()
            .unwrap_or_default();
        inventory.entities.sort_by(|a, b| a.key().cmp(&b.key()));
        inventory.relations.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        inventory.warnings.clear();
        inventory
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let harness = super::Harness::new(false).await;
                    super::$name(&harness).await;
                    harness.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let harness = super::Harness::new(true).await;
                    super::$name(&harness).await;
                    harness.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    entities_then_relations_make_snapshots,
    bad_rows_apply_nothing,
    skip_invalid_rows_applies_the_rest,
    same_file_twice_is_idempotent,
    entity_round_trip,
    entitlements_round_trip,
    employees_and_identity_mapping,
    business_owners_round_trip,
    direct_integration_refuses_files,
    upload_integration_edits_without_credentials,
    aws_authorization_details_upload,
    large_relations_file_streams,
    stored_values_keep_every_character,
    storage_failure_fails_the_run_at_once,
    exports_come_in_a_fixed_order,
    unclosed_quote_rejects_skipping_import,
);

const ENTITIES: &str = "App,Name,Entity Type,Source System,Source ID,Source Type,Metadata Version,Metadata\r\n\
payroll,Ada Lovelace,identity,payroll,00123,user,v1,\"{\"\"email\"\": \"\"ada@example.com\"\"}\"\r\n\
payroll,Grace Hopper,identity,payroll,u-2,user,v1,\"{\"\"email\"\": \"\"grace@example.com\"\"}\"\r\n\
payroll,svc-batch,identity,payroll,u-3,service,v1,\r\n\
payroll,Admins,connection,payroll,g-1,group,v1,\r\n\
payroll,Ledger,resource,payroll,r-1,database,v1,\r\n";

const RELATIONS: &str = "Parent Entity Source ID,Parent Entity Type,Entity Source ID,Entity Type,Metadata\n\
00123,identity,g-1,connection,\n\
u-2,identity,g-1,connection,\"{\"\"privilegeName\"\": \"\"owner\"\"}\"\n\
g-1,connection,r-1,resource,\"{\"\"project\"\": \"\"fin\"\", \"\"privilegeName\"\": \"\"write\"\", \"\"connectionType\"\": \"\"group\"\"}\"\n";

async fn load_payroll(harness: &Harness) {
    harness.add("Payroll", App::Custom, ExtractionType::Upload).await;
    let entities = harness.write("entities.csv", ENTITIES);
    let report = harness.import("entities", Some("Payroll"), &entities, false).await.unwrap();
    assert!(report.applied, "{report:?}");
    let relations = harness.write("relations.csv", RELATIONS);
    let report = harness.import("entity-relations", Some("Payroll"), &relations, false).await.unwrap();
    assert!(report.applied, "{report:?}");
}

async fn entities_then_relations_make_snapshots(harness: &Harness) {
    load_payroll(harness).await;

    let inventory = harness.inventory("Payroll").await;
    assert_eq!(inventory.entities.len(), 5);
    assert_eq!(inventory.relations.len(), 3);
    let write = inventory.relations.iter().find(|r| r.privilege_name == "write").unwrap();
    assert_eq!(write.project, "fin");
    assert_eq!(write.connection_type.as_deref(), Some("group"));
    let leading_zero = inventory.entities.iter().find(|e| e.name == "Ada Lovelace").unwrap();
    assert_eq!(leading_zero.source_id, "00123");

    let integration = harness.muster.find_integration(&harness.tenant(), "Payroll").await.unwrap();
    assert_eq!(integration.status.as_str(), "Connected");

    // New entities keep the relations whose ends survive.
    let fewer = ENTITIES.replace("payroll,Ledger,resource,payroll,r-1,database,v1,\r\n", "");
    let report = harness
        .import("entities", Some("Payroll"), &harness.write("fewer.csv", &fewer), false)
        .await
        .unwrap();
    assert!(report.applied);
    assert!(report.warnings.iter().any(|w| w.contains("1 relation")), "{:?}", report.warnings);
    assert_eq!(harness.inventory("Payroll").await.relations.len(), 2);
}

async fn bad_rows_apply_nothing(harness: &Harness) {
    load_payroll(harness).await;
    let before = harness.inventory("Payroll").await;

    let bad = "Parent Entity Source ID,Parent Entity Type,Entity Source ID,Entity Type\n\
               00123,identity,g-1,connection\n\
               nobody,identity,g-1,connection\n\
               u-2,person,g-1,connection\n";
    let report = harness
        .import("entity-relations", Some("Payroll"), &harness.write("bad.csv", bad), false)
        .await
        .unwrap();
    assert!(!report.applied);
    assert_eq!(report.problem_count, 2, "{:?}", report.problems);
    assert_eq!(report.problems[0].line, Some(3));
    assert_eq!(report.problems[0].column.as_deref(), Some("Parent Entity Source ID"));
    assert_eq!(report.problems[0].value.as_deref(), Some("nobody"));
    assert_eq!(report.problems[1].line, Some(4));
    assert_eq!(report.problems[1].column.as_deref(), Some("Parent Entity Type"));
    assert_eq!(harness.inventory("Payroll").await, before);

    let integration = harness.muster.find_integration(&harness.tenant(), "Payroll").await.unwrap();
    assert_eq!(integration.status.as_str(), "Sync failed");
    assert!(integration.message.contains("line 3"), "{}", integration.message);

    let header_only = harness.write("empty.csv", "Parent Entity Source ID,Parent Entity Type,Entity Source ID,Entity Type\n");
    let report = harness.import("entity-relations", Some("Payroll"), &header_only, false).await.unwrap();
    assert!(!report.applied);
    assert_eq!(harness.inventory("Payroll").await, before);
}

async fn skip_invalid_rows_applies_the_rest(harness: &Harness) {
    harness.add("Payroll", App::Custom, ExtractionType::Upload).await;
    let mixed = format!("{ENTITIES}payroll,,identity,payroll,u-9,user,v1,\r\npayroll,Dup,identity,payroll,u-2,user,v1,\r\n");
    let report = harness
        .import("entities", Some("Payroll"), &harness.write("mixed.csv", &mixed), true)
        .await
        .unwrap();
    assert!(report.applied);
    assert_eq!(report.rows_applied, 5);
    assert_eq!(report.rows_skipped, 2);
    assert!(report.problems.iter().any(|p| p.problem.contains("duplicate of line 3")), "{:?}", report.problems);
    assert_eq!(harness.inventory("Payroll").await.entities.len(), 5);
}

async fn same_file_twice_is_idempotent(harness: &Harness) {
    load_payroll(harness).await;
    let first = harness.inventory("Payroll").await;
    let relations = harness.write("again.csv", RELATIONS);
    let report = harness.import("entity-relations", Some("Payroll"), &relations, false).await.unwrap();
    assert!(report.applied);
    assert_eq!(harness.inventory("Payroll").await, first);
}

async fn entity_round_trip(harness: &Harness) {
    load_payroll(harness).await;
    let original = harness.inventory("Payroll").await;

    for mode in [ExportMode::Safe, ExportMode::Raw] {
        let entities = harness.export(CsvKind::Entities, Some("Payroll"), mode).await;
        let relations = harness.export(CsvKind::EntityRelations, Some("Payroll"), mode).await;
        harness.add(&format!("Copy {mode:?}"), App::Custom, ExtractionType::Api).await;
        let copy = format!("Copy {mode:?}");
        let report = harness
            .import("entities", Some(&copy), &harness.write("e.csv", &entities), false)
            .await
            .unwrap();
        assert!(report.applied, "{report:?}");
        let report = harness
            .import("entity-relations", Some(&copy), &harness.write("r.csv", &relations), false)
            .await
            .unwrap();
        assert!(report.applied, "{report:?}");
        let copied = harness.inventory(&copy).await;
        assert_eq!(copied.entities, original.entities);
        let facts = |inventory: &Inventory| {
            let mut facts: Vec<_> = inventory
                .relations
                .iter()
                .map(|r| (r.parent.clone(), r.child.clone(), r.project.clone(), r.privilege_name.clone(), r.privilege_value, r.connection_type.clone()))
                .collect();
            facts.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            facts
        };
        assert_eq!(facts(&copied), facts(&original));
    }
}

async fn entitlements_round_trip(harness: &Harness) {
    harness.add("Wiki", App::Custom, ExtractionType::Upload).await;
    let rows = "Project,Privilege Name,Privilege Value,Email,User ID,Username,Name,Connection,Connection Type,Resource,Resource Type\n\
                ,admin,true,ada@example.com,,,Ada,,,,\n\
                eng,member,true,,u-2,grace,Grace,Editors,group,space-1,space\n\
                eng,member,true,,u-3,=cmd,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",Editors,group,space-1,space\n\
                eng,read,false,,u-2,grace,Grace,,,page-9,page\n";
    let report = harness
        .import("entitlements", Some("Wiki"), &harness.write("ent.csv", rows), false)
        .await
        .unwrap();
    assert!(report.applied, "{report:?}");
    let original = harness.inventory("Wiki").await;

    let exported = harness.export(CsvKind::Entitlements, Some("Wiki"), ExportMode::Safe).await;
    assert!(exported.contains("'=HYPERLINK"), "{exported}");
    harness.add("Wiki copy", App::Custom, ExtractionType::Upload).await;
    let report = harness
        .import("entitlements", Some("Wiki copy"), &harness.write("back.csv", &exported), false)
        .await
        .unwrap();
    assert!(report.applied, "{report:?}");
    let copied = harness.inventory("Wiki copy").await;
    assert_eq!(copied.entities, original.entities);
    assert_eq!(copied.relations, original.relations);
}

async fn employees_and_identity_mapping(harness: &Harness) {
    load_payroll(harness).await;
    let employees = "Employee ID,Full Name,Work Email,Department,Title,Start Date,End Date\n\
                     E1,Ada Lovelace,ADA@example.com,Engineering,Analyst,01/15/2020,\n\
                     E2,Grace Hopper,grace@example.com,Engineering,Admiral,2019-03-01,06/30/2021\n\
                     E3,Alan Turing,alan@example.com,Research,Scientist,2021-01-01,\n";
    let report = harness
        .import("employees", None, &harness.write("hr.csv", employees), false)
        .await
        .unwrap();
    assert!(report.applied, "{report:?}");

    // Matched by email ignoring case; the service account is an orphan candidate.
    let identities = harness.muster.identities(&harness.tenant()).await.unwrap();
    let ada = identities.iter().find(|i| i.source_id == "00123").unwrap();
    assert_eq!(ada.employee.as_ref().unwrap().work_email, "ADA@example.com");
    let left = harness.muster.filtered_identities(&harness.tenant(), IdentityFilter::Left).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].source_id, "u-2");
    let unmapped = harness.muster.filtered_identities(&harness.tenant(), IdentityFilter::Unmapped).await.unwrap();
    assert_eq!(unmapped.iter().map(|i| i.source_id.as_str()).collect::<Vec<_>>(), ["u-3"]);

    // Upload an OWNS mapping for the service account, then a mapping with an unknown employee.
    let integration = harness.muster.find_integration(&harness.tenant(), "Payroll").await.unwrap();
    let mapping = format!(
        "Identity ID,Username,Identity name,App ID,App Name,Relation type,Employee email\n\
         u-3,svc-batch,svc-batch,{id},Payroll,owns,alan@example.com\n",
        id = integration.id
    );
    let report = harness
        .import("identity-mappings", None, &harness.write("map.csv", &mapping), false)
        .await
        .unwrap();
    assert!(report.applied, "{report:?}");
    let identities = harness.muster.identities(&harness.tenant()).await.unwrap();
    let service = identities.iter().find(|i| i.source_id == "u-3").unwrap();
    assert_eq!(service.relation_type, Some(MappingType::Owns));
    assert_eq!(service.employee.as_ref().unwrap().work_email, "alan@example.com");

    let bad = mapping.replace("alan@example.com", "nobody@example.com");
    let report = harness
        .import("identity-mappings", None, &harness.write("bad.csv", &bad), false)
        .await
        .unwrap();
    assert!(!report.applied);
    assert_eq!(report.problems[0].column.as_deref(), Some("Employee email"));

    // Export then import of mappings and employees gives the same view.
    let before = harness.muster.identities(&harness.tenant()).await.unwrap();
    let exported = harness.export(CsvKind::IdentityMappings, None, ExportMode::Safe).await;
    let report = harness
        .import("identity-mappings", None, &harness.write("again.csv", &exported), false)
        .await
        .unwrap();
    assert!(report.applied, "{report:?}");
    let after = harness.muster.identities(&harness.tenant()).await.unwrap();
    let employees_of = |views: &[muster_service::IdentityView]| {
        views
            .iter()
            .map(|v| (v.source_id.clone(), v.employee.as_ref().map(|e| e.work_email.to_lowercase()), v.relation_type, v.origin))
            .collect::<Vec<_>>()
    };
    assert_eq!(employees_of(&after), employees_of(&before));

    // Skipping a row with a typo keeps that person instead of removing them.
    let typo = employees.replace("01/15/2020", "01/15/20200");
    let report = harness
        .import("employees", None, &harness.write("typo.csv", &typo), true)
        .await
        .unwrap();
    assert!(report.applied);
    assert_eq!(report.changes.as_ref().unwrap()["removed"], 0, "{report:?}");
    assert_eq!(harness.muster.store().list_employees(&harness.tenant()).await.unwrap().len(), 3);

    let hr = harness.export(CsvKind::Employees, None, ExportMode::Safe).await;
    let report = harness
        .import("employees", None, &harness.write("hr2.csv", &hr), false)
        .await
        .unwrap();
    assert!(report.applied);
    assert_eq!(report.changes.as_ref().unwrap()["unchanged"], 3, "{report:?}");
}

async fn business_owners_round_trip(harness: &Harness) {
    load_payroll(harness).await;
    let integration = harness.muster.find_integration(&harness.tenant(), "Payroll").await.unwrap();
    let owners = format!(
        "App ID,App Name,Owner Email,Owner Type\n\
         {id},Payroll,lead@example.com,Primary\n\
         {id},Payroll,deputy@example.com,\n",
        id = integration.id
    );
    let report = harness
        .import("business-owners", None, &harness.write("owners.csv", &owners), false)
        .await
        .unwrap();
    assert!(report.applied, "{report:?}");
    let updated = harness.muster.find_integration(&harness.tenant(), "Payroll").await.unwrap();
    assert_eq!(updated.primary_owner, "lead@example.com");
    assert_eq!(updated.secondary_owners, ["deputy@example.com"]);

    let exported = harness.export(CsvKind::BusinessOwners, None, ExportMode::Safe).await;
    let report = harness
        .import("business-owners", None, &harness.write("back.csv", &exported), false)
        .await
        .unwrap();
    assert!(report.applied);
    let again = harness.muster.find_integration(&harness.tenant(), "Payroll").await.unwrap();
    assert_eq!((again.primary_owner, again.secondary_owners), (updated.primary_owner, updated.secondary_owners));

    let two_primaries = owners.replace(",\n", ",primary\n");
    let report = harness
        .import("business-owners", None, &harness.write("two.csv", &two_primaries), false)
        .await
        .unwrap();
    assert!(!report.applied);
    assert_eq!(report.problems[0].column.as_deref(), Some("Owner Type"));
}

async fn direct_integration_refuses_files(harness: &Harness) {
    let draft = IntegrationDraft {
        app: App::Aws,
        name: "Prod".into(),
        description: String::new(),
        primary_owner: "owner@example.com".into(),
        secondary_owners: vec![],
        extraction_type: ExtractionType::Direct,
        credentials: AwsCredentials {
            role_arn: Some("arn:aws:iam::123456789012:role/Muster".into()),
            ..AwsCredentials::default()
        },
    };
    harness.muster.add_integration(&harness.tenant(), draft).await.unwrap();
    let entities = harness.write("entities.csv", ENTITIES);
    let error = harness.import("entities", Some("Prod"), &entities, false).await.unwrap_err();
    assert!(matches!(error, ServiceError::Conflict { .. }), "{error:?}");
    assert!(error.to_string().contains("extraction type"), "{error}");

    // An AWS account uploaded as files takes only its authorization details.
    harness.add("Audit", App::Aws, ExtractionType::Upload).await;
    let error = harness.import("entities", Some("Audit"), &entities, false).await.unwrap_err();
    assert!(error.to_string().contains("aws-authorization-details"), "{error}");

    harness.add("Files", App::Custom, ExtractionType::Upload).await;
    let error = harness.muster.sync_now(&harness.tenant(), "Files", "cli", &|_| {}).await.unwrap_err();
    assert!(error.to_string().contains("muster import"), "{error}");
}

async fn upload_integration_edits_without_credentials(harness: &Harness) {
    harness.add("Payroll", App::Custom, ExtractionType::Upload).await;
    let update = muster_domain::IntegrationUpdate {
        description: Some("HR payroll".into()),
        ..muster_domain::IntegrationUpdate::default()
    };
    let updated = harness.muster.update_integration(&harness.tenant(), "Payroll", update).await.unwrap();
    assert_eq!(updated.description, "HR payroll");

    let keys = muster_domain::IntegrationUpdate {
        credentials: Some(AwsCredentials {
            role_arn: Some("arn:aws:iam::123456789012:role/Muster".into()),
            ..AwsCredentials::default()
        }),
        ..muster_domain::IntegrationUpdate::default()
    };
    let error = harness.muster.update_integration(&harness.tenant(), "Payroll", keys).await.unwrap_err();
    assert!(error.to_string().contains("credentials"), "{error}");
}

async fn aws_authorization_details_upload(harness: &Harness) {
    harness.add("Offline account", App::Aws, ExtractionType::Upload).await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/aws/example-account.json");
    let report = harness
        .import("aws-authorization-details", Some("Offline account"), &example, false)
        .await
        .unwrap();
    assert!(report.applied, "{report:?}");
    let snapshot = report.snapshot.unwrap();
    assert!(snapshot.entity_count > 10);
    let integration = harness.muster.find_integration(&harness.tenant(), "Offline account").await.unwrap();
    let analysis = harness.muster.store().snapshot_analysis(&harness.tenant(), &snapshot.id).await.unwrap();
    assert!(analysis.is_some(), "the policy analysis is stored with an uploaded account");
    assert_eq!(integration.status.as_str(), "Connected");

    let broken = harness.write("broken.json", "{\"UserDetailList\": [{\"UserName\": \"x\"}]}");
    let report = harness
        .import("aws-authorization-details", Some("Offline account"), &broken, false)
        .await
        .unwrap();
    assert!(!report.applied);
    assert!(report.problems[0].problem.contains("UserDetailList[0]"), "{:?}", report.problems);
}

async fn large_relations_file_streams(harness: &Harness) {
    harness.add("Big", App::Custom, ExtractionType::Api).await;
    let mut entities = String::from("Name,Entity Type,Source System,Source ID,Source Type\n");
    for index in 0..2_000 {
        entities.push_str(&format!("user {index},identity,big,u{index},user\n"));
    }
    for index in 0..50 {
        entities.push_str(&format!("group {index},connection,big,g{index},group\n"));
    }
    let report = harness.import("entities", Some("Big"), &harness.write("big-e.csv", &entities), false).await.unwrap();
    assert!(report.applied, "{report:?}");

    let mut relations = String::from("Parent Entity Source ID,Parent Entity Type,Entity Source ID,Entity Type\n");
    // More rows than one PostgreSQL batch, so writes overlap with reading.
    for user in 0..2_000 {
        for group in 0..30 {
            relations.push_str(&format!("u{user},identity,g{},connection\n", (user + group * 7) % 50));
        }
    }
    let report = harness.import("entity-relations", Some("Big"), &harness.write("big-r.csv", &relations), false).await.unwrap();
    assert!(report.applied, "{:?}", report.problems.first());
    assert_eq!(report.snapshot.unwrap().relation_count, 60_000);
    assert_eq!(harness.inventory("Big").await.relations.len(), 60_000);
}

/// Tabs, line breaks and backslashes are separators and escapes in PostgreSQL's `COPY`
/// format, and must reach the database as data.
async fn stored_values_keep_every_character(harness: &Harness) {
    harness.add("Directory", App::Custom, ExtractionType::Upload).await;
    let entities = "Name,Entity Type,Source System,Source ID,Source Type,Metadata Version,Metadata\n\
                    \"Line one\nline two\ttabbed\",identity,ad,CORP\\ada,user,v1,\"{\"\"path\"\": \"\"C:\\\\temp\\\\new\"\", \"\"note\"\": \"\"a\\tb\"\"}\"\n\
                    Ünïcødé \\N ✓,connection,ad,\\N,group,v1,\n";
    let report = harness
        .import("entities", Some("Directory"), &harness.write("odd-e.csv", entities), false)
        .await
        .unwrap();
    assert!(report.applied, "{report:?}");
    let relations = "Parent Entity Source ID,Parent Entity Type,Entity Source ID,Entity Type,Metadata\n\
                     CORP\\ada,identity,\\N,connection,\"{\"\"privilegeName\"\": \"\"read\\\\write\"\", \"\"project\"\": \"\"tab\\there\"\"}\"\n";
    let report = harness
        .import("entity-relations", Some("Directory"), &harness.write("odd-r.csv", relations), false)
        .await
        .unwrap();
    assert!(report.applied, "{report:?}");

    let inventory = harness.inventory("Directory").await;
    let ada = inventory.entities.iter().find(|e| e.source_id == "CORP\\ada").unwrap();
    assert_eq!(ada.name, "Line one\nline two\ttabbed");
    assert_eq!(ada.metadata["path"], "C:\\temp\\new");
    assert_eq!(ada.metadata["note"], "a\tb");
    let group = inventory.entities.iter().find(|e| e.source_id == "\\N").unwrap();
    assert_eq!(group.name, "Ünïcødé \\N ✓");
    let relation = &inventory.relations[0];
    assert_eq!(relation.privilege_name, "read\\write");
    assert_eq!(relation.project, "tab\there");
}

/// Checks that a database error while the snapshot is written fails the run at once, so
/// the next upload is not rejected as "already running" until the lease expires.
async fn storage_failure_fails_the_run_at_once(harness: &Harness) {
    load_payroll(harness).await;
    let before = harness.inventory("Payroll").await;
    let trigger = if harness.postgres.is_some() {
        "CREATE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
         CREATE TRIGGER injected_failure BEFORE INSERT ON relations FOR EACH ROW EXECUTE FUNCTION injected_failure();"
    } else {
        "CREATE TRIGGER injected_failure BEFORE INSERT ON relations BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
    };
    harness.execute_sql(trigger).await;

    let relations = harness.write("relations.csv", RELATIONS);
    let error = harness.import("entity-relations", Some("Payroll"), &relations, false).await.unwrap_err();
    assert!(error.to_string().contains("injected failure"), "{error}");
    let integration = harness.muster.find_integration(&harness.tenant(), "Payroll").await.unwrap();
    assert_eq!(integration.status.as_str(), "Sync failed");
    assert!(integration.message.contains("injected failure"), "{}", integration.message);
    assert_eq!(harness.inventory("Payroll").await, before);

    let drop = if harness.postgres.is_some() { "DROP TRIGGER injected_failure ON relations" } else { "DROP TRIGGER injected_failure" };
    harness.execute_sql(drop).await;
    let report = harness.import("entity-relations", Some("Payroll"), &relations, false).await.unwrap();
    assert!(report.applied, "{report:?}");
}

/// Exports list rows by entity type and source id, so both databases write the same file.
async fn exports_come_in_a_fixed_order(harness: &Harness) {
    load_payroll(harness).await;
    let entities = harness.export(CsvKind::Entities, Some("Payroll"), ExportMode::Raw).await;
    let source_ids: Vec<&str> = entities.lines().skip(1).map(|line| line.split(',').nth(4).unwrap()).collect();
    assert_eq!(source_ids, ["g-1", "00123", "u-2", "u-3", "r-1"], "{entities}");

    let relations = harness.export(CsvKind::EntityRelations, Some("Payroll"), ExportMode::Raw).await;
    let parents: Vec<&str> = relations.lines().skip(1).map(|line| line.split(',').nth(1).unwrap()).collect();
    assert_eq!(parents, ["g-1", "00123", "u-2"], "{relations}");
}

/// A quote never closed hides the rest of the file, so skipping invalid rows must not
/// apply the rows before it as if they were the whole file.
async fn unclosed_quote_rejects_skipping_import(harness: &Harness) {
    load_payroll(harness).await;
    let before = harness.inventory("Payroll").await;
    let broken = ENTITIES.replace("payroll,svc-batch,", "payroll,\"svc-batch,");
    let report = harness
        .import("entities", Some("Payroll"), &harness.write("broken.csv", &broken), true)
        .await
        .unwrap();
    assert!(!report.applied, "{report:?}");
    assert!(report.problems.iter().any(|p| p.problem.contains("never closed")), "{:?}", report.problems);
    assert!(report.problems.iter().any(|p| p.problem.contains("reading stopped")), "{:?}", report.problems);
    assert_eq!(harness.inventory("Payroll").await, before);
}
