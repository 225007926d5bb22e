//! Employees format: one person from the HR source of truth.

use super::{text, FormatRow};
use crate::error::RowError;
use crate::kind::CsvKind;
use crate::record::{format_date, metadata_cell, Cells, Record, METADATA_VERSION};
use serde_json::{Map, Value};
use time::Date;

#[derive(Clone, Debug, PartialEq)]
pub struct EmployeeRow {
    pub line: u64,
    pub employee_id: Option<String>,
    pub full_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub work_email: String,
    pub department: Option<String>,
    pub title: Option<String>,
    pub start_date: Date,
    pub end_date: Option<Date>,
    pub employment_type: Option<String>,
    pub manager: Option<String>,
    pub manager_work_email: Option<String>,
    pub source_employee_id: Option<String>,
    /// Muster role names; the cell is a comma-separated list.
    pub roles: Vec<String>,
    /// Always carries `"Metadata Version": "v1"`.
    pub metadata: Map<String, Value>,
}

impl FormatRow for EmployeeRow {
    const KIND: CsvKind = CsvKind::Employees;

    fn from_record(record: &Record<'_>) -> Result<Self, Vec<RowError>> {
        let mut cells = Cells::new(record);
        let employee_id = cells.optional("Employee ID");
        let full_name = cells.optional("Full Name");
        let first_name = cells.optional("First Name");
        let last_name = cells.optional("Last Name");
        let work_email = cells.email("Work Email", true);
        let department = cells.optional("Department");
        let title = cells.optional("Title");
        let start_date = cells.date("Start Date", true);
        let end_date = cells.date("End Date", false);
        let employment_type = cells.optional("Employment Type");
        let manager = cells.optional("Manager");
        let manager_work_email = cells.email("Manager Work Email", false);
        let source_employee_id = cells.optional("Source Employee ID");
        let roles = record
            .get("Roles")
            .split(',')
            .map(str::trim)
            .filter(|role| !role.is_empty())
            .map(str::to_string)
            .collect();
        let metadata = cells.metadata();

        let line = cells.line();
        let row = work_email
            .zip(start_date)
            .map(|(work_email, start_date)| EmployeeRow {
                line,
                employee_id,
                full_name,
                first_name,
                last_name,
                work_email,
                department,
                title,
                start_date,
                end_date,
                employment_type,
                manager,
                manager_work_email,
                source_employee_id,
                roles,
                metadata,
            });
        cells.finish(row)
    }

    fn to_record(&self) -> Vec<String> {
        vec![
            text(&self.employee_id),
            text(&self.full_name),
            text(&self.first_name),
            text(&self.last_name),
            self.work_email.clone(),
            text(&self.department),
            text(&self.title),
            format_date(self.start_date),
            self.end_date.map(format_date).unwrap_or_default(),
            text(&self.employment_type),
            text(&self.manager),
            text(&self.manager_work_email),
            text(&self.source_employee_id),
            self.roles.join(","),
            METADATA_VERSION.to_string(),
            metadata_cell(&self.metadata),
        ]
    }
}
