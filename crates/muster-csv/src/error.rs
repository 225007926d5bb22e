//! Problems found while reading a file: per row, or for the whole file.

use std::fmt;

/// One problem in one row, as shown to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// Physical line (1-based) where the row starts, counting a `sep=` line and the header.
    pub line: u64,
    /// Canonical header name, or `column N` for a cell beyond the header.
    pub column: Option<String>,
    /// The cell as read (trimmed); `Some("")` for an empty required cell.
    pub value: Option<String>,
    /// What is wrong and what is expected, e.g. "expected a date as MM/DD/YYYY or YYYY-MM-DD".
    pub problem: String,
}

impl RowError {
    pub fn new(line: u64, column: &str, value: &str, problem: impl Into<String>) -> Self {
        Self {
            line,
            column: Some(column.to_string()),
            value: Some(value.to_string()),
            problem: problem.into(),
        }
    }
}

/// Returns how a message names a column: `column Source ID` for a header name, and a
/// cell beyond the header as it is already named, `column 6`.
pub fn column_label(column: &str) -> String {
    if column.starts_with("column ") {
        column.to_string()
    } else {
        format!("column {column}")
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", {}", column_label(column))?;
        }
        if let Some(value) = &self.value {
            write!(f, ", value `{value}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for RowError {}

/// A problem with the whole file: nothing in it can be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub line: Option<u64>,
    pub column: Option<String>,
    pub problem: String,
}

impl FileError {
    pub(crate) fn new(problem: impl Into<String>) -> Self {
        Self {
            line: None,
            column: None,
            problem: problem.into(),
        }
    }

    pub(crate) fn at_line(line: u64, problem: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            column: None,
            problem: problem.into(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.line, &self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, column {column}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            (None, Some(column)) => write!(f, "column {column}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.problem)
    }
}

impl std::error::Error for FileError {}
