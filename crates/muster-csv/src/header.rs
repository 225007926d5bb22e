//! The header line: which file column holds each canonical header.

use crate::error::FileError;
use crate::kind::{normalize_header, CsvKind};

pub(crate) struct Columns {
    /// File position (0-based) of each of `kind.headers()`, if present.
    pub(crate) positions: Vec<Option<usize>>,
    /// Fields in the header after dropping empty trailing cells; data beyond it must be empty.
    pub(crate) width: usize,
    pub(crate) ignored: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

/// Maps header `cells` read on `line` to the columns of `kind`.
pub(crate) fn map_columns(kind: CsvKind, cells: &[&str], line: u64) -> Result<Columns, FileError> {
    let width = cells
        .iter()
        .rposition(|cell| !clean_header(cell).is_empty())
        .map_or(0, |last| last + 1);
    let mut columns = Columns {
        positions: vec![None; kind.headers().len()],
        width,
        ignored: Vec::new(),
        warnings: Vec::new(),
    };

    for (position, cell) in cells[..width].iter().enumerate() {
        let name = clean_header(cell);
        if name.is_empty() {
            columns.warnings.push(format!(
                "column {} has no header; its values are ignored",
                position + 1
            ));
            continue;
        }
        let Some(index) = kind.column_index(&normalize_header(name)) else {
            columns.warnings.push(format!(
                "column {} `{name}` is not a column of the {} format and is ignored",
                position + 1,
                kind.as_str()
            ));
            columns.ignored.push(name.to_string());
            continue;
        };
        if let Some(first) = columns.positions[index] {
            let canonical = kind.headers()[index];
            return Err(FileError {
                line: Some(line),
                column: Some(canonical.to_string()),
                problem: format!(
                    "columns {} (`{}`) and {} (`{name}`) are both the `{canonical}` column; \
                     remove or rename one of them",
                    first + 1,
                    clean_header(cells[first]),
                    position + 1,
                ),
            });
        }
        columns.positions[index] = Some(position);
    }

    check_required(kind, &columns, line)?;
    Ok(columns)
}

fn check_required(kind: CsvKind, columns: &Columns, line: u64) -> Result<(), FileError> {
    let missing: Vec<&str> = kind
        .required()
        .iter()
        .filter(|header| {
            kind.column_index(header)
                .is_some_and(|index| columns.positions[index].is_none())
        })
        .copied()
        .collect();
    if let Some(first) = missing.first() {
        let list = missing
            .iter()
            .map(|header| format!("`{header}`"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(FileError {
            line: Some(line),
            column: Some(first.to_string()),
            problem: format!(
                "missing required column {list}; the {} format has the headers {}",
                kind.title(),
                kind.headers().join(", ")
            ),
        });
    }

    if kind == CsvKind::Entitlements {
        let any_identity = ["Email", "User ID", "Username"].iter().any(|header| {
            kind.column_index(header)
                .is_some_and(|index| columns.positions[index].is_some())
        });
        if !any_identity {
            return Err(FileError::at_line(
                line,
                "missing identity column: an Entitlements file needs at least one of \
                 `Email`, `User ID`, `Username`",
            ));
        }
    }
    Ok(())
}

/// Trims a header cell, including a byte order mark left at the start of the text.
fn clean_header(cell: &str) -> &str {
    crate::record::clean_cell(cell.trim_start_matches('\u{feff}'))
}
