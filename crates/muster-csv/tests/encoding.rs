//! Encodings as spreadsheets write them: UTF-8 with and without BOM, UTF-16 from Excel's
//! "Unicode Text", and windows-1252 from Excel's legacy "CSV".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{read, read_bytes, utf16be, utf16le, ENTITY_HEADER};
use muster_csv::{EntityRow, FormatRow, Reader};
use std::io::Cursor;

fn entity_text(delimiter: &str) -> String {
    let header = ENTITY_HEADER.replace(',', delimiter);
    let rows = [
        ["Zoë Ørsted", "identity", "hr", "007", "user"],
        ["Ærø ☃", "connection", "hr", "g1", "group"],
    ];
    let mut text = format!("{header}\r\n");
    for row in rows {
        text.push_str(&row.join(delimiter));
        text.push_str("\r\n");
    }
    text
}

fn names(rows: &[EntityRow]) -> Vec<&str> {
    rows.iter().map(|row| row.name.as_str()).collect()
}

#[test]
fn utf8_without_bom() {
    let outcome = read::<EntityRow>(&entity_text(","));
    assert_eq!(outcome.report.encoding, "UTF-8");
    assert_eq!(names(&outcome.ok_rows()), ["Zoë Ørsted", "Ærø ☃"]);
}

#[test]
fn utf8_with_bom() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(entity_text(",").as_bytes());
    let outcome = read_bytes::<EntityRow>(&bytes).unwrap();
    assert_eq!(outcome.report.encoding, "UTF-8 (BOM)");
    let rows = outcome.ok_rows();
    assert_eq!(names(&rows), ["Zoë Ørsted", "Ærø ☃"]);
    assert_eq!(rows[0].line, 2);
}

#[test]
fn utf16le_with_bom_tab_separated() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(utf16le(&entity_text("\t")));
    let outcome = read_bytes::<EntityRow>(&bytes).unwrap();
    assert_eq!(outcome.report.encoding, "UTF-16LE");
    assert_eq!(outcome.report.delimiter, '\t');
    assert_eq!(outcome.report.delimiter_source, "detected");
    let rows = outcome.ok_rows();
    assert_eq!(names(&rows), ["Zoë Ørsted", "Ærø ☃"]);
    assert_eq!(rows[0].source_id, "007");
}

#[test]
fn utf16le_without_bom_tab_separated() {
    let bytes = utf16le(&entity_text("\t"));
    let outcome = read_bytes::<EntityRow>(&bytes).unwrap();
    assert_eq!(outcome.report.encoding, "UTF-16LE");
    assert_eq!(outcome.report.delimiter, '\t');
    assert_eq!(names(&outcome.ok_rows()), ["Zoë Ørsted", "Ærø ☃"]);
}

#[test]
fn utf16be_with_and_without_bom() {
    let mut with_bom = vec![0xFE, 0xFF];
    with_bom.extend(utf16be(&entity_text("\t")));
    let without_bom = utf16be(&entity_text("\t"));
    for bytes in [with_bom, without_bom] {
        let outcome = read_bytes::<EntityRow>(&bytes).unwrap();
        assert_eq!(outcome.report.encoding, "UTF-16BE");
        assert_eq!(outcome.report.delimiter, '\t');
        assert_eq!(names(&outcome.ok_rows()), ["Zoë Ørsted", "Ærø ☃"]);
    }
}

#[test]
fn windows_1252_is_transcoded() {
    // "Zoë Ørsted" in windows-1252: ë = 0xEB, Ø = 0xD8.
    let mut bytes = format!("{ENTITY_HEADER}\r\n").into_bytes();
    bytes.extend_from_slice(b"Zo\xEB \xD8rsted,identity,hr,1,user\r\n");
    bytes.extend_from_slice(b"caf\xE9 \x80,identity,hr,2,user\r\n");
    let outcome = read_bytes::<EntityRow>(&bytes).unwrap();
    assert_eq!(outcome.report.encoding, "windows-1252");
    assert!(
        outcome
            .report
            .warnings
            .iter()
            .any(|w| w.contains("windows-1252")),
        "{:?}",
        outcome.report.warnings
    );
    assert_eq!(names(&outcome.ok_rows()), ["Zoë Ørsted", "café €"]);
}

#[test]
fn invalid_utf8_late_in_file_switches_whole_file() {
    // The only non-UTF-8 byte sits far past the first read-ahead, so only a scan of the
    // whole input finds it.
    let mut text = format!("{ENTITY_HEADER}\r\n");
    for index in 0..40_000 {
        text.push_str(&format!("user {index},identity,hr,{index},user\r\n"));
    }
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"Zo\xEB,identity,hr,last,user\r\n");
    let outcome = read_bytes::<EntityRow>(&bytes).unwrap();
    assert_eq!(outcome.report.encoding, "windows-1252");
    let rows = outcome.ok_rows();
    assert_eq!(rows.len(), 40_001);
    assert_eq!(rows[40_000].name, "Zoë");
    assert_eq!(rows[40_000].line, 40_002);
}

#[test]
fn utf8_sequence_across_chunk_boundary_stays_utf8() {
    // Multi-byte characters at every offset make some straddle the scan's chunk boundaries.
    let mut text = format!("{ENTITY_HEADER}\r\n");
    let mut index = 0;
    while text.len() < 300_000 {
        text.push_str(&format!("Zoë{index}ØÆ☃,identity,hr,{index},user\r\n"));
        index += 1;
    }
    let outcome = read::<EntityRow>(&text);
    assert_eq!(outcome.report.encoding, "UTF-8");
    let rows = outcome.ok_rows();
    assert_eq!(rows.len(), index);
    assert_eq!(rows[index - 1].name, format!("Zoë{}ØÆ☃", index - 1));
}

#[test]
fn utf16_large_file_streams() {
    let mut text = format!("{}\r\n", ENTITY_HEADER.replace(',', "\t"));
    for index in 0..30_000 {
        text.push_str(&format!("Zoë {index}\tidentity\thr\t{index:05}\tuser\r\n"));
    }
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(utf16le(&text));
    let total = bytes.len() as u64;
    let mut reader = Reader::<EntityRow, _>::new(Cursor::new(bytes)).unwrap();
    assert_eq!(reader.total_bytes(), total);
    let mut count = 0;
    let mut last = None;
    while let Some(row) = reader.next_row() {
        last = Some(row.unwrap());
        count += 1;
    }
    assert_eq!(count, 30_000);
    let last = last.unwrap();
    assert_eq!(last.source_id, "29999");
    assert_eq!(last.name, "Zoë 29999");
    assert_eq!(reader.bytes_read(), total);
}

#[test]
fn nul_in_utf8_text_is_rejected() {
    let mut bytes = format!("{ENTITY_HEADER}\r\na,identity,hr,1,user\r\n").into_bytes();
    bytes.extend_from_slice(b"b\0,identity,hr,2,user\r\n");
    let error = read_bytes::<EntityRow>(&bytes).err().unwrap();
    assert_eq!(error.line, Some(3));
    assert!(error.problem.contains("NUL"), "{error}");
}

#[test]
fn nul_after_utf16_decoding_is_rejected() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(utf16le(&format!(
        "{}\r\na\0\tidentity\thr\t1\tuser\r\n",
        ENTITY_HEADER.replace(',', "\t")
    )));
    let error = read_bytes::<EntityRow>(&bytes).err().unwrap();
    assert_eq!(error.line, Some(2));
    assert!(error.problem.contains("NUL"), "{error}");
}

#[test]
fn empty_file_is_a_file_error() {
    for bytes in [&b""[..], b"\r\n\r\n", b"\xEF\xBB\xBF", b",,,\r\n"] {
        let error = read_bytes::<EntityRow>(bytes).err().unwrap();
        assert!(error.problem.contains("empty"), "{error}");
        assert!(
            error.problem.contains(EntityRow::KIND.headers()[1]),
            "{error}"
        );
    }
}
