//! One data row as read from a file: cells by canonical header, and the checks shared by
//! the row types (required cells, ids, emails, dates, booleans, metadata).

use crate::error::RowError;
use crate::kind::CsvKind;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

/// Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
pub(crate) const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

pub const METADATA_VERSION: &str = "v1";

/// One row of a file, giving each cell by its canonical header name.
///
/// Cells come back with surrounding spaces trimmed and the `'` of a Safe export removed
/// (see the crate documentation). A column missing from the file reads as empty.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    kind: CsvKind,
    line: u64,
    text: &'a str,
    ends: &'a [usize],
    /// Field position in the file for each of `kind.headers()`.
    positions: &'a [Option<usize>],
}

impl<'a> Record<'a> {
    pub(crate) fn new(
        kind: CsvKind,
        line: u64,
        text: &'a str,
        ends: &'a [usize],
        positions: &'a [Option<usize>],
    ) -> Self {
        Self {
            kind,
            line,
            text,
            ends,
            positions,
        }
    }

    /// Physical line (1-based) where the row starts.
    pub fn line(&self) -> u64 {
        self.line
    }

    pub fn kind(&self) -> CsvKind {
        self.kind
    }

    /// The cell under `header` (a canonical header name of [`Record::kind`]), or `""`.
    pub fn get(&self, header: &str) -> &'a str {
        let Some(index) = self.kind.column_index(header) else {
            return "";
        };
        match self.positions.get(index).copied().flatten() {
            Some(position) => clean_cell(self.raw_field(position)),
            None => "",
        }
    }

    /// Whether the file has a column for `header`.
    pub fn has_column(&self, header: &str) -> bool {
        self.kind
            .column_index(header)
            .and_then(|index| self.positions.get(index).copied().flatten())
            .is_some()
    }

    fn raw_field(&self, position: usize) -> &'a str {
        let Some(&end) = self.ends.get(position) else {
            return "";
        };
        let start = match position {
            0 => 0,
            _ => self.ends[position - 1],
        };
        self.text.get(start..end).unwrap_or("")
    }
}

/// Trims a cell and removes the `'` that a Safe export put before a formula trigger.
pub(crate) fn clean_cell(cell: &str) -> &str {
    let cell = cell.trim();
    match cell.strip_prefix('\'') {
        Some(rest) if starts_protected(rest) => rest.trim(),
        _ => cell,
    }
}

/// Whether a cell starts with a formula trigger, possibly after more `'` characters.
///
/// A cell such as `'=x` whose own text starts with `'` therefore gets one more `'` on Safe
/// export, and loses exactly one on import.
pub(crate) fn starts_protected(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_TRIGGERS)
}

/// Reads the cells of one record into typed values, collecting every problem.
pub(crate) struct Cells<'r, 'a> {
    record: &'r Record<'a>,
    errors: Vec<RowError>,
}

impl<'r, 'a> Cells<'r, 'a> {
    pub(crate) fn new(record: &'r Record<'a>) -> Self {
        Self {
            record,
            errors: Vec::new(),
        }
    }

    pub(crate) fn line(&self) -> u64 {
        self.record.line
    }

    pub(crate) fn error(&mut self, column: &str, value: &str, problem: impl Into<String>) {
        self.errors
            .push(RowError::new(self.record.line, column, value, problem));
    }

    /// The collected problems, or `value` when there are none.
    pub(crate) fn finish<T>(self, value: Option<T>) -> Result<T, Vec<RowError>> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            Some(_) => Err(self.errors),
            // Every path that yields no value records why; this guards against a silent gap.
            None if self.errors.is_empty() => Err(vec![RowError {
                line: self.record.line,
                column: None,
                value: None,
                problem: "the row could not be read".to_string(),
            }]),
            None => Err(self.errors),
        }
    }

    pub(crate) fn optional(&mut self, column: &str) -> Option<String> {
        let cell = self.record.get(column);
        self.check_id(column, cell);
        (!cell.is_empty()).then(|| cell.to_string())
    }

    pub(crate) fn required(&mut self, column: &str) -> String {
        let cell = self.record.get(column);
        if cell.is_empty() {
            self.error(column, "", "required");
        }
        self.check_id(column, cell);
        cell.to_string()
    }

    /// Rejects an id that a spreadsheet turned into a number in scientific notation.
    fn check_id(&mut self, column: &str, cell: &str) {
        if is_scientific_notation(cell) && self.record.kind.id_columns().contains(&column) {
            self.error(
                column,
                cell,
                "looks changed by a spreadsheet (scientific notation); export ids as text",
            );
        }
    }

    pub(crate) fn email(&mut self, column: &str, required: bool) -> Option<String> {
        let value = if required {
            Some(self.required(column))
        } else {
            self.optional(column)
        };
        let value = value.filter(|value| !value.is_empty())?;
        if is_email(&value) {
            Some(value)
        } else {
            self.error(
                column,
                &value,
                "expected an email address such as `name@example.com`",
            );
            None
        }
    }

    pub(crate) fn parse<T: std::str::FromStr<Err = String>>(&mut self, column: &str) -> Option<T> {
        let cell = self.required(column);
        if cell.is_empty() {
            return None;
        }
        match cell.parse() {
            Ok(value) => Some(value),
            Err(problem) => {
                self.error(column, &cell, problem);
                None
            }
        }
    }

    pub(crate) fn date(&mut self, column: &str, required: bool) -> Option<Date> {
        let cell = self.record.get(column);
        if cell.is_empty() {
            if required {
                self.error(column, "", "required");
            }
            return None;
        }
        let date = parse_date(cell);
        if date.is_none() {
            self.error(
                column,
                cell,
                "expected a date as MM/DD/YYYY or YYYY-MM-DD (or an RFC 3339 date-time)",
            );
        }
        date
    }

    pub(crate) fn boolean(&mut self, column: &str) -> Option<bool> {
        let cell = self.required(column);
        if cell.is_empty() {
            return None;
        }
        let value = parse_bool(&cell);
        if value.is_none() {
            self.error(column, &cell, "expected true, false, yes, no, 1 or 0");
        }
        value
    }

    /// Reads `Metadata Version` and `Metadata` into an object carrying `"Metadata Version": "v1"`.
    pub(crate) fn metadata(&mut self) -> Map<String, Value> {
        let version = self.record.get("Metadata Version");
        if !version.is_empty() && version != METADATA_VERSION {
            self.error(
                "Metadata Version",
                version,
                format!("unsupported metadata version; expected `{METADATA_VERSION}` or empty"),
            );
        }

        let cell = self.record.get("Metadata");
        let mut object = if cell.is_empty() {
            Map::new()
        } else {
            match serde_json::from_str::<Value>(cell) {
                Ok(Value::Object(object)) => object,
                Ok(other) => {
                    self.error(
                        "Metadata",
                        cell,
                        format!("expected a JSON object, found {}", json_type(&other)),
                    );
                    Map::new()
                }
                Err(error) => {
                    self.error("Metadata", cell, format!("expected a JSON object: {error}"));
                    Map::new()
                }
            }
        };

        match object.get("Metadata Version") {
            None => {}
            Some(Value::String(inner)) if inner == METADATA_VERSION => {}
            Some(other) => self.error(
                "Metadata",
                cell,
                format!(
                    "`Metadata Version` inside the JSON is {other}; expected `{METADATA_VERSION}`"
                ),
            ),
        }
        object.insert("Metadata Version".into(), Value::from(METADATA_VERSION));
        object
    }
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Matches what spreadsheets make of long digit strings: `1.23457E+15`, `1E15`, `2.5e-3`.
pub fn is_scientific_notation(cell: &str) -> bool {
    let Some((mantissa, exponent)) = cell.split_once(['e', 'E']) else {
        return false;
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    digits(whole) && digits(fraction) && digits(exponent)
}

/// Checks the shape of an email address: one `@`, text on both sides, no whitespace.
pub fn is_email(value: &str) -> bool {
    let mut parts = value.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty() && !domain.is_empty() && !value.contains(char::is_whitespace)
        }
        _ => false,
    }
}

/// Parses `MM/DD/YYYY` (one-digit month and day allowed), `YYYY-MM-DD`, or an RFC 3339
/// date-time, whose date part in its own offset is returned.
pub fn parse_date(cell: &str) -> Option<Date> {
    if let Some((month, rest)) = cell.split_once('/') {
        let (day, year) = rest.split_once('/')?;
        return calendar_date(year, 4..=4, month, day);
    }
    if cell.len() == 10 {
        let mut parts = cell.splitn(3, '-');
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        if month.len() != 2 || day.len() != 2 {
            return None;
        }
        return calendar_date(year, 4..=4, month, day);
    }
    OffsetDateTime::parse(cell, &Rfc3339)
        .ok()
        .map(|moment| moment.date())
}

fn calendar_date(
    year: &str,
    year_digits: std::ops::RangeInclusive<usize>,
    month: &str,
    day: &str,
) -> Option<Date> {
    let number = |part: &str, digits: std::ops::RangeInclusive<usize>| {
        if digits.contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_digit()) {
            part.parse::<u16>().ok()
        } else {
            None
        }
    };
    let year = number(year, year_digits)?;
    let month = Month::try_from(u8::try_from(number(month, 1..=2)?).ok()?).ok()?;
    let day = u8::try_from(number(day, 1..=2)?).ok()?;
    Date::from_calendar_date(i32::from(year), month, day).ok()
}

/// Parses true/false, yes/no and 1/0 in any case.
pub fn parse_bool(cell: &str) -> Option<bool> {
    match cell.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Formats a date the way the upload formats document it: `MM/DD/YYYY`.
pub fn format_date(date: Date) -> String {
    format!(
        "{:02}/{:02}/{:04}",
        u8::from(date.month()),
        date.day(),
        date.year()
    )
}

/// Serialises metadata for the `Metadata` column.
pub(crate) fn metadata_cell(metadata: &Map<String, Value>) -> String {
    Value::Object(metadata.clone()).to_string()
}
