//! Delimiter choice: `sep=` lines, detection, and the report of both.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{file_error, read, ENTITY_HEADER};
use muster_csv::{EntityRow, RelationRow};

#[test]
fn sep_line_is_honoured_and_skipped() {
    let text = format!(
        "sep=;\r\n{}\r\nZoë;identity;hr;001;user\r\n",
        ENTITY_HEADER.replace(',', ";")
    );
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.report.delimiter, ';');
    assert_eq!(outcome.report.delimiter_source, "sep= line");
    let rows = outcome.ok_rows();
    assert_eq!(rows[0].source_id, "001");
    // The sep= line counts: header on line 2, first row on line 3.
    assert_eq!(rows[0].line, 3);
}

#[test]
fn sep_line_variants() {
    for (line, delimiter) in [
        ("SEP=|", '|'),
        ("\"sep=;\"", ';'),
        ("sep=\t", '\t'),
        ("sep=,", ','),
    ] {
        let text = format!(
            "{line}\n{}\nZoë{d}identity{d}hr{d}1{d}user\n",
            ENTITY_HEADER.replace(',', &delimiter.to_string()),
            d = delimiter
        );
        let outcome = read::<EntityRow>(&text);
        assert_eq!(outcome.report.delimiter, delimiter, "{line}");
        assert_eq!(outcome.report.delimiter_source, "sep= line");
        assert_eq!(outcome.ok_rows()[0].name, "Zoë");
    }
}

#[test]
fn sep_line_overrides_detection() {
    // The header would split best on commas, but the file says `;`.
    let text = format!("sep=;\n{ENTITY_HEADER};Extra\nZoë,identity,hr,1,user;x\n");
    let outcome = muster_csv::Reader::<EntityRow, _>::new(std::io::Cursor::new(text.into_bytes()));
    let error = outcome.err().unwrap();
    assert!(error.problem.contains("missing required column"), "{error}");
}

#[test]
fn invalid_sep_line_is_a_file_error() {
    let error = file_error::<EntityRow>(&format!("sep=;;\n{ENTITY_HEADER}\n"));
    assert_eq!(error.line, Some(1));
    assert!(error.problem.contains("sep="), "{error}");
}

#[test]
fn semicolon_detected_without_sep_line() {
    let text = format!(
        "{}\r\nZoë;identity;hr;001;user\r\nBob;identity;hr;002;user\r\n",
        ENTITY_HEADER.replace(',', ";")
    );
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.report.delimiter, ';');
    assert_eq!(outcome.report.delimiter_source, "detected");
    let rows = outcome.ok_rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].line, 2);
}

#[test]
fn semicolon_file_with_commas_in_values() {
    // European Excel: `;` between fields, `,` inside names and decimal numbers.
    let text = "App;Parent Entity Source ID;Parent Entity Type;Entity Source ID;Entity Type\n\
                a,b;u1;identity;g1;connection\n\
                a,b;u2;identity;g1,5;connection\n";
    let outcome = read::<RelationRow>(text);
    assert_eq!(outcome.report.delimiter, ';');
    let rows = outcome.ok_rows();
    assert_eq!(rows[1].child_source_id, "g1,5");
    assert_eq!(rows[0].app.as_deref(), Some("a,b"));
}

#[test]
fn pipe_and_tab_detected() {
    for delimiter in ['|', '\t'] {
        let d = delimiter.to_string();
        let text = format!(
            "{}\nZoë{d}identity{d}hr{d}1{d}user\n",
            ENTITY_HEADER.replace(',', &d)
        );
        let outcome = read::<EntityRow>(&text);
        assert_eq!(outcome.report.delimiter, delimiter);
        assert_eq!(outcome.report.delimiter_source, "detected");
        assert_eq!(outcome.ok_rows()[0].name, "Zoë");
    }
}

#[test]
fn comma_detected_despite_semicolons_in_metadata() {
    let text = format!(
        "{ENTITY_HEADER},Metadata\nZoë,identity,hr,1,user,\"{{\"\"note\"\":\"\"a;b;c;d;e;f\"\"}}\"\n"
    );
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.report.delimiter, ',');
    assert_eq!(outcome.report.delimiter_source, "detected");
    let rows = outcome.ok_rows();
    assert_eq!(rows[0].metadata["note"], "a;b;c;d;e;f");
}

#[test]
fn unknown_header_with_consistent_rows_still_detected() {
    // Only `Name` and `Entity Type` are known; `|` splits them out and the rows agree.
    let text = "Name|Entity Type|Source System|Source ID|Source Type|Notes, more\nZoë|identity|hr|1|user|a, b\n";
    let outcome = read::<EntityRow>(text);
    assert_eq!(outcome.report.delimiter, '|');
    assert_eq!(outcome.report.ignored_columns, ["Notes, more"]);
}
