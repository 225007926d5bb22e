//! Export: RFC 4180, CRLF, UTF-8 without BOM, and protection against formula injection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::read_bytes;
use muster_csv::{protect, CsvKind, EntityRow, ExportMode, Writer};
use serde_json::Map;

fn write(mode: ExportMode, rows: &[Vec<&str>]) -> String {
    let mut writer = Writer::new(Vec::new(), CsvKind::Entities, mode).unwrap();
    for row in rows {
        let mut row = row.clone();
        row.resize(CsvKind::Entities.headers().len(), "");
        writer.write_fields(&row).unwrap();
    }
    String::from_utf8(writer.finish().unwrap()).unwrap()
}

#[test]
fn header_line_crlf_no_bom() {
    let out = write(ExportMode::Safe, &[]);
    assert_eq!(out, CsvKind::Entities.template());
    assert!(!out.starts_with('\u{feff}'));
}

#[test]
fn safe_mode_prefixes_every_trigger() {
    for (cell, expected) in [
        (
            "=HYPERLINK(\"http://x\",\"y\")",
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"",
        ),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "\"'\rx\""),
        ("'=x", "''=x"),
        ("a=b", "a=b"),
        ("'plain", "'plain"),
        ("", ""),
    ] {
        let out = write(ExportMode::Safe, &[vec![cell]]);
        let line = out.lines().nth(1).unwrap_or("");
        let body = out.split_once("\r\n").unwrap().1;
        assert_eq!(
            body,
            format!("{expected},,,,,,,\r\n"),
            "{cell:?} gave {line:?}"
        );
    }
}

#[test]
fn safe_mode_protects_header_cells() {
    assert_eq!(protect("=Name", ExportMode::Safe), "'=Name");
    assert_eq!(protect("Name", ExportMode::Safe), "Name");
    assert_eq!(protect("=Name", ExportMode::Raw), "=Name");
}

#[test]
fn raw_mode_writes_values_unchanged() {
    let out = write(
        ExportMode::Raw,
        &[vec!["=1+2", "-3", "a,b", "q\"q", "l1\nl2"]],
    );
    let body = out.split_once("\r\n").unwrap().1;
    assert_eq!(body, "=1+2,-3,\"a,b\",\"q\"\"q\",\"l1\nl2\",,,\r\n");
}

#[test]
fn safe_export_reads_back_unprotected() {
    let row = EntityRow {
        line: 2,
        app: Some("@app".into()),
        name: "=HYPERLINK(\"http://x\",\"y\")".into(),
        entity_type: muster_domain::EntityType::Identity,
        source_system: "+sys".into(),
        source_id: "-001".into(),
        source_type: "'=quoted".into(),
        metadata: {
            let mut map = Map::new();
            map.insert("Metadata Version".into(), "v1".into());
            map
        },
    };
    let mut writer = Writer::new(Vec::new(), CsvKind::Entities, ExportMode::Safe).unwrap();
    writer.write_row(&row).unwrap();
    let bytes = writer.finish().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("\"'=HYPERLINK("), "{text}");
    assert!(text.contains("'@app"), "{text}");
    assert!(text.contains("''=quoted"), "{text}");

    let read = read_bytes::<EntityRow>(&bytes).unwrap().ok_rows();
    assert_eq!(read, [row]);
}

#[test]
fn import_strips_protection_quote_only_before_triggers() {
    let text =
        "Name,Entity Type,Source System,Source ID,Source Type\n'=x,identity,'hr,'-7,' user\n";
    let rows = read_bytes::<EntityRow>(text.as_bytes()).unwrap().ok_rows();
    assert_eq!(rows[0].name, "=x");
    assert_eq!(rows[0].source_system, "'hr");
    assert_eq!(rows[0].source_id, "-7");
    assert_eq!(rows[0].source_type, "' user");
}

#[test]
fn wrong_field_count_is_an_error() {
    let mut writer = Writer::new(Vec::new(), CsvKind::BusinessOwners, ExportMode::Safe).unwrap();
    assert!(writer.write_fields(&["a", "b"]).is_err());
}
