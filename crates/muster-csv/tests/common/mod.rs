//! Helpers shared by the integration tests: read a whole in-memory file.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use muster_csv::{FileError, FileReport, FormatRow, Reader, RowError};
use std::io::Cursor;

pub struct Outcome<T> {
    pub rows: Vec<Result<T, Vec<RowError>>>,
    pub report: FileReport,
    pub blank_lines: u64,
}

impl<T: std::fmt::Debug> Outcome<T> {
    /// The rows that were read without problems; panics on a row error.
    pub fn ok_rows(self) -> Vec<T> {
        self.rows
            .into_iter()
            .map(|row| row.unwrap_or_else(|errors| panic!("unexpected row errors: {errors:?}")))
            .collect()
    }

    /// The errors of the only row, which must have failed.
    pub fn single_error_row(self) -> Vec<RowError> {
        assert_eq!(self.rows.len(), 1, "rows: {:?}", self.rows);
        match self.rows.into_iter().next() {
            Some(Err(errors)) => errors,
            other => panic!("expected row errors, got {other:?}"),
        }
    }
}

pub fn read_bytes<T: FormatRow>(bytes: &[u8]) -> Result<Outcome<T>, FileError> {
    let mut reader = Reader::<T, _>::new(Cursor::new(bytes.to_vec()))?;
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row() {
        rows.push(row);
    }
    Ok(Outcome {
        rows,
        report: reader.report().clone(),
        blank_lines: reader.blank_lines(),
    })
}

pub fn read<T: FormatRow>(text: &str) -> Outcome<T> {
    read_bytes(text.as_bytes()).unwrap_or_else(|error| panic!("file error: {error}"))
}

pub fn file_error<T: FormatRow + std::fmt::Debug>(text: &str) -> FileError {
    match read_bytes::<T>(text.as_bytes()) {
        Ok(outcome) => panic!("expected a file error, read {:?}", outcome.rows),
        Err(error) => error,
    }
}

/// Encodes `text` as UTF-16 little endian, without a byte order mark.
pub fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Encodes `text` as UTF-16 big endian, without a byte order mark.
pub fn utf16be(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// Finds the error about `column` in `errors`.
pub fn error_for<'a>(errors: &'a [RowError], column: &str) -> &'a RowError {
    errors
        .iter()
        .find(|error| error.column.as_deref() == Some(column))
        .unwrap_or_else(|| panic!("no error for column {column}: {errors:?}"))
}

pub const ENTITY_HEADER: &str = "Name,Entity Type,Source System,Source ID,Source Type";
