//! Printing results as aligned text tables or JSON.

use crate::cli::OutputFormat;
use serde::Serialize;

/// Prints `value` as pretty JSON.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints JSON, or calls `table` to print text.
pub fn print<T: Serialize + ?Sized>(format: OutputFormat, value: &T, table: impl FnOnce(&T)) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => print_json(value),
        // `commands::run` rejects HTML for every command that has no HTML report.
        OutputFormat::Table | OutputFormat::Html => {
            table(value);
            Ok(())
        }
    }
}

/// A text table whose columns are as wide as their widest cell.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self) {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (index, cell) in row.iter().enumerate() {
                if let Some(width) = widths.get_mut(index) {
                    *width = (*width).max(cell.chars().count());
                }
            }
        }
        print_row(&self.headers, &widths);
        for row in &self.rows {
            print_row(row, &widths);
        }
    }
}

fn print_row(cells: &[String], widths: &[usize]) {
    let mut line = String::new();
    for (index, cell) in cells.iter().enumerate() {
        let width = widths.get(index).copied().unwrap_or(0);
        let is_last = index + 1 == cells.len();
        if is_last {
            line.push_str(cell);
        } else {
            line.push_str(&format!("{cell:<width$}  "));
        }
    }
    println!("{}", line.trim_end());
}

/// Prints `label: value` pairs with the values aligned.
pub fn print_fields(fields: &[(&str, String)]) {
    let width = fields.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    for (label, value) in fields {
        println!("{:<width$}  {value}", format!("{label}:"), width = width + 1);
    }
}

pub fn yes_no(value: bool) -> String {
    if value { "set" } else { "not set" }.to_string()
}

pub fn or_dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_string()
}
