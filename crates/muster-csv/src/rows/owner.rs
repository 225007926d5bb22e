//! Business owners format: `App ID* | App Name | Owner Email* | Owner Type`, one owner of
//! one application per row.

use super::{text, FormatRow};
use crate::error::RowError;
use crate::kind::CsvKind;
use crate::record::{Cells, Record};
use std::fmt;
use std::str::FromStr;

/// Whether an owner is the application's one primary owner or one of its secondary owners.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OwnerType {
    Primary,
    Secondary,
}

impl OwnerType {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerType::Primary => "primary",
            OwnerType::Secondary => "secondary",
        }
    }
}

impl fmt::Display for OwnerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OwnerType {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "primary" => Ok(OwnerType::Primary),
            "secondary" => Ok(OwnerType::Secondary),
            other => Err(format!(
                "unknown owner type `{other}`: expected primary or secondary"
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BusinessOwnerRow {
    pub line: u64,
    pub app_id: String,
    pub app_name: Option<String>,
    pub owner_email: String,
    /// `secondary` when the cell is empty.
    pub owner_type: OwnerType,
}

impl FormatRow for BusinessOwnerRow {
    const KIND: CsvKind = CsvKind::BusinessOwners;

    fn from_record(record: &Record<'_>) -> Result<Self, Vec<RowError>> {
        let mut cells = Cells::new(record);
        let app_id = cells.required("App ID");
        let app_name = cells.optional("App Name");
        let owner_email = cells.email("Owner Email", true);
        let owner_type = match cells.optional("Owner Type") {
            None => Some(OwnerType::Secondary),
            Some(cell) => match cell.parse::<OwnerType>() {
                Ok(value) => Some(value),
                Err(problem) => {
                    cells.error("Owner Type", &cell, problem);
                    None
                }
            },
        };

        let line = cells.line();
        let row = owner_email
            .zip(owner_type)
            .map(|(owner_email, owner_type)| BusinessOwnerRow {
                line,
                app_id,
                app_name,
                owner_email,
                owner_type,
            });
        cells.finish(row)
    }

    fn to_record(&self) -> Vec<String> {
        vec![
            self.app_id.clone(),
            text(&self.app_name),
            self.owner_email.clone(),
            self.owner_type.as_str().to_string(),
        ]
    }
}
