//! Identity mappings format: an identity of an application tied to an employee.

use super::{text, FormatRow};
use crate::error::RowError;
use crate::kind::CsvKind;
use crate::record::{Cells, Record};

pub use muster_domain::MappingType;

#[derive(Clone, Debug, PartialEq)]
pub struct IdentityMappingRow {
    pub line: u64,
    pub identity_id: String,
    pub username: String,
    pub identity_email: Option<String>,
    pub identity_name: String,
    pub app_id: String,
    pub app_name: String,
    pub app_description: Option<String>,
    /// `IS` when the cell is empty.
    pub relation_type: MappingType,
    pub employee_email: Option<String>,
    pub employee_name: Option<String>,
    pub employee_department: Option<String>,
    pub employee_job_title: Option<String>,
}

impl FormatRow for IdentityMappingRow {
    const KIND: CsvKind = CsvKind::IdentityMappings;

    fn from_record(record: &Record<'_>) -> Result<Self, Vec<RowError>> {
        let mut cells = Cells::new(record);
        let identity_id = cells.required("Identity ID");
        let username = cells.required("Username");
        let identity_email = cells.email("Identity email", false);
        let identity_name = cells.required("Identity name");
        let app_id = cells.required("App ID");
        let app_name = cells.required("App Name");
        let app_description = cells.optional("App Description");
        let relation_type = match cells.optional("Relation type") {
            None => Some(MappingType::Is),
            Some(cell) => match cell.parse::<MappingType>() {
                Ok(value) => Some(value),
                Err(problem) => {
                    cells.error("Relation type", &cell, problem);
                    None
                }
            },
        };
        let employee_email = cells.email("Employee email", false);
        let employee_name = cells.optional("Employee name");
        let employee_department = cells.optional("Employee department");
        let employee_job_title = cells.optional("Employee job title");

        let line = cells.line();
        let row = relation_type.map(|relation_type| IdentityMappingRow {
            line,
            identity_id,
            username,
            identity_email,
            identity_name,
            app_id,
            app_name,
            app_description,
            relation_type,
            employee_email,
            employee_name,
            employee_department,
            employee_job_title,
        });
        cells.finish(row)
    }

    fn to_record(&self) -> Vec<String> {
        vec![
            self.identity_id.clone(),
            self.username.clone(),
            text(&self.identity_email),
            self.identity_name.clone(),
            self.app_id.clone(),
            self.app_name.clone(),
            text(&self.app_description),
            self.relation_type.as_str().to_string(),
            text(&self.employee_email),
            text(&self.employee_name),
            text(&self.employee_department),
            text(&self.employee_job_title),
        ]
    }
}
