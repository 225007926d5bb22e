//! Per-format cell rules: required cells, ids, dates, emails, booleans, metadata.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{error_for, read, ENTITY_HEADER};
use muster_csv::{
    BusinessOwnerRow, CsvKind, EmployeeRow, EntitlementRow, EntityRow, FormatRow,
    IdentityMappingRow, MappingType, OwnerType, RelationRow,
};
use serde_json::json;
use time::macros::date;

const EMPLOYEE_HEADER: &str = "Employee ID,Work Email,Start Date,End Date,Roles,Manager Work Email";
const ENTITLEMENT_HEADER: &str =
    "Project,Privilege Name,Privilege Value,Email,User ID,Username,Connection,Connection Type,Resource,Resource Type";
const MAPPING_HEADER: &str =
    "Identity ID,Username,Identity email,Identity name,App ID,App Name,Relation type";
const RELATION_HEADER: &str =
    "Parent Entity Source ID,Parent Entity Type,Entity Source ID,Entity Type,Metadata Version,Metadata";

#[test]
fn every_problem_in_a_row_is_reported() {
    let text = format!("{ENTITY_HEADER},Metadata\n,robot,,1.2E+10,,[1]\n");
    let errors = read::<EntityRow>(&text).single_error_row();
    let columns: Vec<_> = errors.iter().filter_map(|e| e.column.as_deref()).collect();
    assert_eq!(
        columns,
        [
            "Name",
            "Entity Type",
            "Source System",
            "Source ID",
            "Source Type",
            "Metadata"
        ]
    );
    assert!(errors.iter().all(|error| error.line == 2));
    assert_eq!(error_for(&errors, "Name").problem, "required");
    assert_eq!(error_for(&errors, "Name").value.as_deref(), Some(""));
    assert!(error_for(&errors, "Entity Type")
        .problem
        .contains("identity, connection or resource"));
}

#[test]
fn required_cells_for_every_kind() {
    // A row of spaces under every header: each required column fails as "required".
    for kind in CsvKind::ALL {
        let header = kind.headers().join(",");
        let mut blank_row = vec![" "; kind.headers().len()];
        blank_row[0] = "x";
        let text = format!("{header}\n{}\n", blank_row.join(","));
        let errors = match kind {
            CsvKind::Entities => read::<EntityRow>(&text).single_error_row(),
            CsvKind::EntityRelations => read::<RelationRow>(&text).single_error_row(),
            CsvKind::Entitlements => read::<EntitlementRow>(&text).single_error_row(),
            CsvKind::Employees => read::<EmployeeRow>(&text).single_error_row(),
            CsvKind::IdentityMappings => read::<IdentityMappingRow>(&text).single_error_row(),
            CsvKind::BusinessOwners => read::<BusinessOwnerRow>(&text).single_error_row(),
        };
        for required in kind.required() {
            if *required == kind.headers()[0] {
                continue;
            }
            let error = error_for(&errors, required);
            assert_eq!(error.problem, "required", "{kind} {required}");
            assert_eq!(error.line, 2);
        }
    }
}

#[test]
fn scientific_notation_ids_rejected_in_every_id_column() {
    for kind in CsvKind::ALL {
        for id_column in kind.id_columns() {
            let header = kind.headers().join(",");
            let row: Vec<&str> = kind
                .headers()
                .iter()
                .map(|h| if h == id_column { "1.23457E+15" } else { "" })
                .collect();
            let text = format!("{header}\n{}\n", row.join(","));
            let errors = match kind {
                CsvKind::Entities => read::<EntityRow>(&text).single_error_row(),
                CsvKind::EntityRelations => read::<RelationRow>(&text).single_error_row(),
                CsvKind::Entitlements => read::<EntitlementRow>(&text).single_error_row(),
                CsvKind::Employees => read::<EmployeeRow>(&text).single_error_row(),
                CsvKind::IdentityMappings => read::<IdentityMappingRow>(&text).single_error_row(),
                CsvKind::BusinessOwners => read::<BusinessOwnerRow>(&text).single_error_row(),
            };
            let error = error_for(&errors, id_column);
            assert_eq!(error.value.as_deref(), Some("1.23457E+15"));
            assert_eq!(
                error.problem,
                "looks changed by a spreadsheet (scientific notation); export ids as text",
                "{kind} {id_column}"
            );
        }
    }
}

#[test]
fn scientific_notation_forms() {
    for value in ["1.23457E+15", "1e15", "2.5e-3", "7E10", "1.2345e+015"] {
        assert!(muster_csv::is_scientific_notation(value), "{value}");
    }
    for value in [
        "00123", "e15", "1.2.3e4", "abc", "1e", "E+15", "12-34", "1.5", "0x1e5",
    ] {
        assert!(!muster_csv::is_scientific_notation(value), "{value}");
    }
}

#[test]
fn ids_keep_leading_zeros_and_stay_text() {
    let text = format!(
        "{ENTITY_HEADER}\nZoë,identity,hr,00123,user\nBob,identity,hr,123456789012345678901,user\n"
    );
    let rows = read::<EntityRow>(&text).ok_rows();
    assert_eq!(rows[0].source_id, "00123");
    assert_eq!(rows[1].source_id, "123456789012345678901");
}

#[test]
fn scientific_notation_allowed_outside_id_columns() {
    let text = format!("{ENTITY_HEADER}\n1E+5,identity,hr,1,user\n");
    assert_eq!(read::<EntityRow>(&text).ok_rows()[0].name, "1E+5");
}

#[test]
fn dates_accept_documented_forms() {
    let cases = [
        ("03/01/2024", date!(2024 - 03 - 01)),
        ("3/1/2024", date!(2024 - 03 - 01)),
        ("12/31/1999", date!(1999 - 12 - 31)),
        ("2024-03-01", date!(2024 - 03 - 01)),
        ("2024-03-01T23:30:00Z", date!(2024 - 03 - 01)),
        ("2024-03-01T23:30:00+05:00", date!(2024 - 03 - 01)),
    ];
    for (cell, expected) in cases {
        let text = format!("{EMPLOYEE_HEADER}\n1,a@example.com,{cell},,,\n");
        let rows = read::<EmployeeRow>(&text).ok_rows();
        assert_eq!(rows[0].start_date, expected, "{cell}");
        assert_eq!(rows[0].end_date, None);
    }
}

#[test]
fn dates_reject_other_forms() {
    for cell in [
        "31/12/2024",
        "2024/03/01",
        "03-01-2024",
        "1.3.2024",
        "2024-3-1",
        "02/30/2024",
        "03/01/24",
        "today",
    ] {
        let text = format!("{EMPLOYEE_HEADER}\n1,a@example.com,03/01/2024,{cell},,\n");
        let errors = read::<EmployeeRow>(&text).single_error_row();
        let error = error_for(&errors, "End Date");
        assert_eq!(error.value.as_deref(), Some(cell));
        assert!(
            error.problem.contains("MM/DD/YYYY or YYYY-MM-DD"),
            "{}",
            error.problem
        );
    }
}

#[test]
fn employee_emails_and_roles() {
    let text = format!(
        "{EMPLOYEE_HEADER}\n007,zoë@ørsted.dk,01/02/2020,2024-12-31,\" admin, reviewer ,,\",boss@example.com\n"
    );
    let rows = read::<EmployeeRow>(&text).ok_rows();
    assert_eq!(rows[0].employee_id.as_deref(), Some("007"));
    assert_eq!(rows[0].roles, ["admin", "reviewer"]);
    assert_eq!(rows[0].end_date, Some(date!(2024 - 12 - 31)));
    assert_eq!(
        rows[0].metadata,
        json!({"Metadata Version": "v1"})
            .as_object()
            .unwrap()
            .clone()
    );

    for bad in ["no-at", "a@b@c", "@example.com", "a@", "a b@example.com"] {
        let text = format!("{EMPLOYEE_HEADER}\n1,{bad},01/02/2020,,,{bad}\n");
        let errors = read::<EmployeeRow>(&text).single_error_row();
        assert!(
            error_for(&errors, "Work Email")
                .problem
                .contains("email address"),
            "{bad}"
        );
        assert!(error_for(&errors, "Manager Work Email")
            .problem
            .contains("email address"));
    }
}

#[test]
fn metadata_rules() {
    let ok = [
        ("", "", json!({"Metadata Version": "v1"})),
        ("v1", "", json!({"Metadata Version": "v1"})),
        ("", "{\"a\":1}", json!({"Metadata Version": "v1", "a": 1})),
        (
            "v1",
            "{\"Metadata Version\":\"v1\",\"b\":[1]}",
            json!({"Metadata Version": "v1", "b": [1]}),
        ),
    ];
    for (version, metadata, expected) in ok {
        let text = format!(
            "{ENTITY_HEADER},Metadata Version,Metadata\nZoë,identity,hr,1,user,{version},\"{}\"\n",
            metadata.replace('"', "\"\"")
        );
        let rows = read::<EntityRow>(&text).ok_rows();
        assert_eq!(
            serde_json::Value::Object(rows[0].metadata.clone()),
            expected
        );
    }

    let bad = [
        ("v2", "", "Metadata Version", "expected `v1`"),
        (
            "",
            "[1,2]",
            "Metadata",
            "expected a JSON object, found an array",
        ),
        ("", "\"text\"", "Metadata", "found a string"),
        ("", "{\"a\":", "Metadata", "expected a JSON object: EOF"),
        (
            "",
            "{\"Metadata Version\":\"v9\"}",
            "Metadata",
            "expected `v1`",
        ),
    ];
    for (version, metadata, column, problem) in bad {
        let text = format!(
            "{ENTITY_HEADER},Metadata Version,Metadata\nZoë,identity,hr,1,user,{version},\"{}\"\n",
            metadata.replace('"', "\"\"")
        );
        let errors = read::<EntityRow>(&text).single_error_row();
        let error = error_for(&errors, column);
        assert!(
            error.problem.contains(problem),
            "{metadata}: {}",
            error.problem
        );
    }
}

#[test]
fn relation_facts_from_metadata() {
    let text = format!(
        "{RELATION_HEADER}\n\
         u1,identity,g1,connection,,\n\
         u1,identity,r1,resource,v1,\"{{\"\"project\"\":\"\"0123\"\",\"\"privilegeName\"\":\"\"admin\"\",\"\"privilegeValue\"\":false,\"\"connectionType\"\":\"\"role\"\"}}\"\n\
         u1,identity,r2,resource,,\"{{\"\"privilegeValue\"\":\"\"FALSE\"\"}}\"\n"
    );
    let rows = read::<RelationRow>(&text).ok_rows();
    assert_eq!(rows[0].project(), "default");
    assert_eq!(rows[0].privilege_name(), "member");
    assert!(rows[0].privilege_value());
    assert_eq!(rows[0].connection_type(), None);
    assert_eq!(rows[1].project(), "0123");
    assert_eq!(rows[1].privilege_name(), "admin");
    assert!(!rows[1].privilege_value());
    assert_eq!(rows[1].connection_type(), Some("role"));
    assert!(!rows[2].privilege_value());
}

#[test]
fn relation_fact_types_checked() {
    for (metadata, key) in [
        ("{\"project\":123}", "project"),
        ("{\"privilegeName\":true}", "privilegeName"),
        ("{\"privilegeValue\":\"maybe\"}", "privilegeValue"),
        ("{\"privilegeValue\":1}", "privilegeValue"),
        ("{\"connectionType\":[\"group\"]}", "connectionType"),
    ] {
        let text = format!(
            "{RELATION_HEADER}\nu1,identity,g1,connection,,\"{}\"\n",
            metadata.replace('"', "\"\"")
        );
        let errors = read::<RelationRow>(&text).single_error_row();
        let error = error_for(&errors, "Metadata");
        assert!(error.problem.contains(key), "{metadata}: {}", error.problem);
    }
}

#[test]
fn relation_entity_types_checked() {
    let text = format!("{RELATION_HEADER}\nu1,person,g1,Group,,\n");
    let errors = read::<RelationRow>(&text).single_error_row();
    assert_eq!(
        error_for(&errors, "Parent Entity Type").value.as_deref(),
        Some("person")
    );
    assert_eq!(
        error_for(&errors, "Entity Type").value.as_deref(),
        Some("Group")
    );
}

#[test]
fn entitlement_rules() {
    let text = format!(
        "{ENTITLEMENT_HEADER}\n\
         ,read,YES,a@example.com,,,,,,\n\
         p1,write,0,,u-1,,grp,group,bucket,s3\n\
         ,read,true,,,,,,,\n\
         ,read,maybe,a@example.com,,,,group,bucket,\n\
         ,read,false,,,bob,,,,s3\n"
    );
    let outcome = read::<EntitlementRow>(&text);
    let first = outcome.rows[0].as_ref().unwrap();
    assert_eq!(first.project, "default");
    assert!(first.privilege_value);
    let second = outcome.rows[1].as_ref().unwrap();
    assert_eq!(second.project, "p1");
    assert!(!second.privilege_value);
    assert_eq!(second.user_id.as_deref(), Some("u-1"));

    let third = outcome.rows[2].as_ref().unwrap_err();
    assert!(error_for(third, "Email")
        .problem
        .contains("at least one of Email, User ID, Username"));

    let fourth = outcome.rows[3].as_ref().unwrap_err();
    assert!(error_for(fourth, "Privilege Value")
        .problem
        .contains("true, false, yes, no, 1 or 0"));
    assert!(error_for(fourth, "Connection")
        .problem
        .contains("Connection Type is `group`"));
    assert!(error_for(fourth, "Resource Type")
        .problem
        .contains("Resource is `bucket`"));

    let fifth = outcome.rows[4].as_ref().unwrap_err();
    assert!(error_for(fifth, "Resource")
        .problem
        .contains("Resource Type is `s3`"));
}

#[test]
fn privilege_values() {
    for (cell, expected) in [
        ("true", true),
        ("TRUE", true),
        ("Yes", true),
        ("1", true),
        ("false", false),
        ("No", false),
        ("0", false),
    ] {
        assert_eq!(muster_csv::parse_bool(cell), Some(expected), "{cell}");
    }
    assert_eq!(muster_csv::parse_bool("y"), None);
}

#[test]
fn mapping_relation_types() {
    let text = format!(
        "{MAPPING_HEADER}\n\
         i1,zoe,,Zoë,app1,App,\n\
         i2,svc,,Service,app1,App,owns\n\
         i3,x,,X,app1,App,Is\n\
         i4,y,,Y,app1,App,USES\n"
    );
    let outcome = read::<IdentityMappingRow>(&text);
    let types: Vec<_> = outcome
        .rows
        .iter()
        .map(|row| row.as_ref().ok().map(|r| r.relation_type))
        .collect();
    assert_eq!(
        types,
        [
            Some(MappingType::Is),
            Some(MappingType::Owns),
            Some(MappingType::Is),
            None
        ]
    );
    let errors = outcome.rows[3].as_ref().unwrap_err();
    assert!(error_for(errors, "Relation type")
        .problem
        .contains("IS or OWNS"));
    assert_eq!(MappingType::Owns.as_str(), "OWNS");
}

#[test]
fn owner_types() {
    let text = "App ID,Owner Email,Owner Type,App Name\n\
                007,a@example.com,,Payroll\n\
                007,b@example.com,PRIMARY,\n\
                007,c@example.com,boss,\n";
    let outcome = read::<BusinessOwnerRow>(text);
    let first = outcome.rows[0].as_ref().unwrap();
    assert_eq!(first.owner_type, OwnerType::Secondary);
    assert_eq!(first.app_id, "007");
    assert_eq!(first.app_name.as_deref(), Some("Payroll"));
    assert_eq!(
        outcome.rows[1].as_ref().unwrap().owner_type,
        OwnerType::Primary
    );
    let errors = outcome.rows[2].as_ref().unwrap_err();
    assert!(error_for(errors, "Owner Type")
        .problem
        .contains("primary or secondary"));
    assert_eq!(BusinessOwnerRow::KIND, CsvKind::BusinessOwners);
}

#[test]
fn nul_in_relation_fact_rejected() {
    let text = format!("{RELATION_HEADER}\nu1,identity,g1,connection,v1,\"{{\"\"project\"\": \"\"p\\u0000q\"\"}}\"\n");
    let errors = read::<RelationRow>(&text).single_error_row();
    assert_eq!(errors[0].column.as_deref(), Some("Metadata"));
    assert!(errors[0].problem.contains("NUL"), "{errors:?}");
}
