//! Ragged rows as spreadsheets write them, blank lines, quoting and line numbers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{read, ENTITY_HEADER};
use muster_csv::{EntityRow, RelationRow};

#[test]
fn trailing_empty_columns_dropped() {
    let text = format!(
        "{ENTITY_HEADER},,,\r\nZoë,identity,hr,1,user,,,\r\nBob,identity,hr,2,user,,,,,,,\r\n"
    );
    let outcome = read::<EntityRow>(&text);
    assert!(
        outcome.report.warnings.is_empty(),
        "{:?}",
        outcome.report.warnings
    );
    let rows = outcome.ok_rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].source_type, "user");
}

#[test]
fn missing_trailing_fields_read_as_empty() {
    let text = "Name,Entity Type,Source System,Source ID,Source Type,App\nZoë,identity,hr,1,user\n";
    let rows = read::<EntityRow>(text).ok_rows();
    assert_eq!(rows[0].app, None);
}

#[test]
fn missing_trailing_required_fields_are_row_errors() {
    let text = format!("{ENTITY_HEADER}\nZoë,identity,hr\n");
    let errors = read::<EntityRow>(&text).single_error_row();
    assert_eq!(errors.len(), 2, "{errors:?}");
    for (error, column) in errors.iter().zip(["Source ID", "Source Type"]) {
        assert_eq!(error.line, 2);
        assert_eq!(error.column.as_deref(), Some(column));
        assert_eq!(error.value.as_deref(), Some(""));
        assert_eq!(error.problem, "required");
    }
}

#[test]
fn blank_lines_skipped_and_counted() {
    let text = format!(
        "{ENTITY_HEADER}\r\n\r\nZoë,identity,hr,1,user\r\n,,,,\r\n   \r\n\nBob,identity,hr,2,user\r\n\r\n\r\n"
    );
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.blank_lines, 6);
    let rows = outcome.ok_rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].line, 3);
    assert_eq!(rows[1].line, 7);
}

#[test]
fn blank_lines_counted_with_lf_and_no_final_newline() {
    let text = format!("{ENTITY_HEADER}\n\n\nZoë,identity,hr,1,user");
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.blank_lines, 2);
    assert_eq!(outcome.ok_rows()[0].line, 4);
}

#[test]
fn extra_non_empty_field_rejects_row() {
    let text =
        format!("{ENTITY_HEADER},,\nZoë,identity,hr,1,user,,surprise,\nBob,identity,hr,2,user\n");
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.rows.len(), 2);
    let errors = outcome.rows[0].as_ref().unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 2);
    assert_eq!(errors[0].column.as_deref(), Some("column 7"));
    assert_eq!(errors[0].value.as_deref(), Some("surprise"));
    assert!(
        errors[0].problem.contains("5 columns"),
        "{}",
        errors[0].problem
    );
    assert!(outcome.rows[1].is_ok());
}

#[test]
fn extra_field_reported_with_other_problems() {
    let text = format!("{ENTITY_HEADER}\n,identity,hr,1,user,extra\n");
    let errors = read::<EntityRow>(&text).single_error_row();
    let columns: Vec<_> = errors.iter().map(|e| e.column.as_deref()).collect();
    assert_eq!(columns, [Some("Name"), Some("column 6")]);
    assert!(errors[1].to_string().starts_with("line 2, column 6, value `extra`"), "{}", errors[1]);
    assert!(errors[0].to_string().starts_with("line 2, column Name"), "{}", errors[0]);
}

#[test]
fn quoted_fields_and_line_numbers() {
    let text = format!(
        "{ENTITY_HEADER},Metadata\r\n\"Smith, \"\"Zoë\"\"\",identity,hr,1,user,\r\n\"multi\r\nline\nname\",identity,hr,2,user,\r\nBob,identity,hr,3,user,\"{{\"\"a\"\":\"\"x,y\"\"}}\"\r\n,identity,hr,4,user,\r\n"
    );
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.rows.len(), 4);
    let first = outcome.rows[0].as_ref().unwrap();
    assert_eq!(first.name, "Smith, \"Zoë\"");
    assert_eq!(first.line, 2);
    let second = outcome.rows[1].as_ref().unwrap();
    assert_eq!(second.name, "multi\r\nline\nname");
    assert_eq!(second.line, 3);
    let third = outcome.rows[2].as_ref().unwrap();
    assert_eq!(third.line, 6);
    assert_eq!(third.metadata["a"], "x,y");
    let fourth = outcome.rows[3].as_ref().unwrap_err();
    assert_eq!(fourth[0].line, 7);
}

#[test]
fn cells_are_trimmed() {
    let text = "App , Parent Entity Source ID,Parent Entity Type,Entity Source ID,Entity Type, Source System\n  a  ,  u1 , identity ,\" g1 \",CONNECTION,   \n";
    let rows = read::<RelationRow>(text).ok_rows();
    assert_eq!(rows[0].app.as_deref(), Some("a"));
    assert_eq!(rows[0].parent_source_id, "u1");
    assert_eq!(rows[0].child_source_id, "g1");
    assert_eq!(rows[0].source_system, None);
}

#[test]
fn every_row_error_keeps_reading() {
    let mut text = format!("{ENTITY_HEADER}\n");
    for index in 0..50 {
        if index % 2 == 0 {
            text.push_str(&format!("n{index},identity,hr,{index},user\n"));
        } else {
            text.push_str(&format!("n{index},robot,hr,{index},user\n"));
        }
    }
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.rows.len(), 50);
    let failed: Vec<u64> = outcome
        .rows
        .iter()
        .filter_map(|row| row.as_ref().err().map(|errors| errors[0].line))
        .collect();
    assert_eq!(failed.len(), 25);
    assert_eq!(failed[0], 3);
}

#[test]
fn row_over_one_mebibyte_stops_reading() {
    let mut text = String::from("Name,Entity Type,Source System,Source ID,Source Type\nAda,identity,hr,1,user\n\"");
    text.push_str(&"x".repeat(2 * 1024 * 1024));
    text.push_str(",identity,hr,2,user\n");
    let mut reader = muster_csv::Reader::<muster_csv::EntityRow, _>::new(std::io::Cursor::new(text.into_bytes())).unwrap();
    assert!(reader.next_row().unwrap().is_ok());
    let errors = reader.next_row().unwrap().unwrap_err();
    assert!(errors[0].problem.contains("line 3"), "{errors:?}");
    assert!(errors[0].problem.contains("never closed"), "{errors:?}");
    assert!(reader.next_row().is_none());
}

#[test]
fn quote_never_closed_names_the_row() {
    let text = format!("{ENTITY_HEADER}\nAda,identity,hr,1,user\n\"Bob,identity,hr,2,user\nCy,identity,hr,3,user\n");
    let mut reader = muster_csv::Reader::<EntityRow, _>::new(std::io::Cursor::new(text.into_bytes())).unwrap();
    assert!(reader.next_row().unwrap().is_ok());
    let errors = reader.next_row().unwrap().unwrap_err();
    assert_eq!(errors[0].line, 3);
    assert!(errors[0].problem.contains("line 3 is never closed"), "{errors:?}");
    assert!(errors[0].problem.contains("lines 3 to 4"), "{errors:?}");
    assert!(reader.next_row().is_none());
}

#[test]
fn multiline_last_cell_without_newline() {
    let text = format!("{ENTITY_HEADER},Metadata Version,Metadata\nAda,identity,hr,1,user,v1,\"{{\n}}\"");
    let rows = read::<EntityRow>(&text).ok_rows();
    assert_eq!(rows.len(), 1);
}

#[test]
fn unclosed_quote_on_unterminated_last_line() {
    let text = format!("{ENTITY_HEADER}\nAda,identity,hr,1,user\n\"Bob,identity,hr,2,user");
    let mut reader = muster_csv::Reader::<EntityRow, _>::new(std::io::Cursor::new(text.into_bytes())).unwrap();
    assert!(reader.next_row().unwrap().is_ok());
    let errors = reader.next_row().unwrap().unwrap_err();
    assert!(errors[0].problem.contains("line 3 is never closed"), "{errors:?}");
    assert!(reader.next_row().is_none());
    assert!(reader.stopped_early());
}

#[test]
fn unterminated_last_line_reads_normally() {
    for last in ["Bob,identity,hr,2,user", "\"Bob, Jr\",identity,hr,2,\"user\""] {
        let text = format!("{ENTITY_HEADER}\nAda,identity,hr,1,user\n{last}");
        let rows = read::<EntityRow>(&text).ok_rows();
        assert_eq!(rows.len(), 2, "{last}");
    }
}
