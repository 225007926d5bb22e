//! Entitlements format ("express" form): one identity × one privilege per row.

use super::{text, FormatRow};
use crate::error::RowError;
use crate::kind::CsvKind;
use crate::record::{Cells, Record};

#[derive(Clone, Debug, PartialEq)]
pub struct EntitlementRow {
    pub line: u64,
    /// `default` when the cell is empty.
    pub project: String,
    pub privilege_name: String,
    pub privilege_value: bool,
    pub email: Option<String>,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub name: Option<String>,
    pub connection: Option<String>,
    pub connection_type: Option<String>,
    pub resource: Option<String>,
    pub resource_type: Option<String>,
}

impl FormatRow for EntitlementRow {
    const KIND: CsvKind = CsvKind::Entitlements;

    fn from_record(record: &Record<'_>) -> Result<Self, Vec<RowError>> {
        let mut cells = Cells::new(record);
        let project = cells
            .optional("Project")
            .unwrap_or_else(|| "default".to_string());
        let privilege_name = cells.required("Privilege Name");
        let privilege_value = cells.boolean("Privilege Value");
        let email = cells.email("Email", false);
        let user_id = cells.optional("User ID");
        let username = cells.optional("Username");
        let name = cells.optional("Name");
        let connection = cells.optional("Connection");
        let connection_type = cells.optional("Connection Type");
        let resource = cells.optional("Resource");
        let resource_type = cells.optional("Resource Type");

        if record.get("Email").is_empty() && user_id.is_none() && username.is_none() {
            cells.error(
                "Email",
                "",
                "required: at least one of Email, User ID, Username",
            );
        }
        if connection.is_none() {
            if let Some(value) = &connection_type {
                cells.error(
                    "Connection",
                    "",
                    format!("required because Connection Type is `{value}`"),
                );
            }
        }
        match (&resource, &resource_type) {
            (Some(value), None) => cells.error(
                "Resource Type",
                "",
                format!("required because Resource is `{value}`"),
            ),
            (None, Some(value)) => cells.error(
                "Resource",
                "",
                format!("required because Resource Type is `{value}`"),
            ),
            _ => {}
        }

        let line = cells.line();
        let row = privilege_value.map(|privilege_value| EntitlementRow {
            line,
            project,
            privilege_name,
            privilege_value,
            email,
            user_id,
            username,
            name,
            connection,
            connection_type,
            resource,
            resource_type,
        });
        cells.finish(row)
    }

    fn to_record(&self) -> Vec<String> {
        vec![
            self.project.clone(),
            self.privilege_name.clone(),
            self.privilege_value.to_string(),
            text(&self.email),
            text(&self.user_id),
            text(&self.username),
            text(&self.name),
            text(&self.connection),
            text(&self.connection_type),
            text(&self.resource),
            text(&self.resource_type),
        ]
    }
}
