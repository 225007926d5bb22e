//! Header matching: case, spaces, missing, duplicate and unknown columns.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{file_error, read, ENTITY_HEADER};
use muster_csv::{EntitlementRow, EntityRow, IdentityMappingRow};

#[test]
fn headers_match_case_insensitively() {
    let text = " name ,ENTITY TYPE,source  system,Source id,source type\nZoë,identity,hr,1,user\n";
    let outcome = read::<EntityRow>(text);
    assert!(outcome.report.ignored_columns.is_empty());
    assert!(
        outcome.report.warnings.is_empty(),
        "{:?}",
        outcome.report.warnings
    );
    let rows = outcome.ok_rows();
    assert_eq!(rows[0].source_system, "hr");
}

#[test]
fn columns_in_any_order() {
    let text = "Source Type,Source ID,Name,Entity Type,Source System\nuser,42,Zoë,identity,hr\n";
    let rows = read::<EntityRow>(text).ok_rows();
    assert_eq!(rows[0].name, "Zoë");
    assert_eq!(rows[0].source_id, "42");
    assert_eq!(rows[0].source_type, "user");
}

#[test]
fn missing_required_column_names_it() {
    let error =
        file_error::<EntityRow>("Name,Entity Type,Source System,Source Type\nx,identity,hr,user\n");
    assert_eq!(error.line, Some(1));
    assert_eq!(error.column.as_deref(), Some("Source ID"));
    assert!(error.problem.contains("`Source ID`"), "{error}");

    let error = file_error::<IdentityMappingRow>("Identity ID,Username\n1,a\n");
    for missing in ["`Identity name`", "`App ID`", "`App Name`"] {
        assert!(error.problem.contains(missing), "{error}");
    }
}

#[test]
fn duplicate_columns_name_both_positions() {
    let text = "Privilege Name,Privilege Value,Email,User ID,email \nread,true,a@example.com,1,b@example.com\n";
    let error = file_error::<EntitlementRow>(text);
    assert_eq!(error.line, Some(1));
    assert_eq!(error.column.as_deref(), Some("Email"));
    assert!(
        error
            .problem
            .contains("columns 3 (`Email`) and 5 (`email`)"),
        "{error}"
    );
}

#[test]
fn duplicate_columns_after_sep_line() {
    let text = format!("sep=,\n{ENTITY_HEADER},SOURCE ID\n");
    let error = file_error::<EntityRow>(&text);
    assert_eq!(error.line, Some(2));
    assert!(
        error
            .problem
            .contains("columns 4 (`Source ID`) and 6 (`SOURCE ID`)"),
        "{error}"
    );
}

#[test]
fn unknown_columns_ignored_with_warning() {
    let text =
        format!("{ENTITY_HEADER},Cost Centre,,Notes\nZoë,identity,hr,1,user,CC-7,,see ticket\n");
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.report.ignored_columns, ["Cost Centre", "Notes"]);
    let warnings = outcome.report.warnings.join("\n");
    assert!(warnings.contains("column 6 `Cost Centre`"), "{warnings}");
    assert!(warnings.contains("column 7 has no header"), "{warnings}");
    assert!(warnings.contains("column 8 `Notes`"), "{warnings}");
    assert_eq!(outcome.ok_rows()[0].name, "Zoë");
}

#[test]
fn entitlements_need_an_identity_column() {
    let error = file_error::<EntitlementRow>("Privilege Name,Privilege Value,Name\nread,true,x\n");
    assert!(
        error
            .problem
            .contains("at least one of `Email`, `User ID`, `Username`"),
        "{error}"
    );
}

#[test]
fn header_after_blank_lines() {
    let text = format!("\r\n,,,\r\n{ENTITY_HEADER}\r\nZoë,identity,hr,1,user\r\n");
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.blank_lines, 2);
    assert_eq!(outcome.ok_rows()[0].line, 4);
}
