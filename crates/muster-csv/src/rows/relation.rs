//! Entity relations format: a parent → child edge, with its facts in the metadata.

use super::{text, FormatRow};
use crate::error::RowError;
use crate::kind::CsvKind;
use crate::record::{json_type, metadata_cell, Cells, Record, METADATA_VERSION};
use muster_domain::inventory::EntityType;
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct RelationRow {
    pub line: u64,
    pub app: Option<String>,
    pub parent_source_id: String,
    pub parent_type: EntityType,
    pub child_source_id: String,
    pub child_type: EntityType,
    pub source_system: Option<String>,
    /// Always carries `"Metadata Version": "v1"`; the relation facts live here too.
    pub metadata: Map<String, Value>,
}

impl RelationRow {
    /// The metadata's `project`, `default` when absent.
    pub fn project(&self) -> &str {
        self.metadata
            .get("project")
            .and_then(Value::as_str)
            .unwrap_or("default")
    }

    /// The metadata's `privilegeName`, `member` when absent.
    pub fn privilege_name(&self) -> &str {
        self.metadata
            .get("privilegeName")
            .and_then(Value::as_str)
            .unwrap_or("member")
    }

    /// The metadata's `privilegeValue`, a boolean or `"true"`/`"false"`; `true` when absent.
    pub fn privilege_value(&self) -> bool {
        match self.metadata.get("privilegeValue") {
            Some(Value::Bool(value)) => *value,
            Some(Value::String(value)) => !value.eq_ignore_ascii_case("false"),
            _ => true,
        }
    }

    /// The metadata's `connectionType`, e.g. `group`.
    pub fn connection_type(&self) -> Option<&str> {
        self.metadata.get("connectionType").and_then(Value::as_str)
    }
}

/// Checks the types of the relation facts in `metadata`.
fn check_facts(cells: &mut Cells<'_, '_>, cell: &str, metadata: &Map<String, Value>) {
    for key in ["project", "privilegeName", "connectionType"] {
        match metadata.get(key) {
            None | Some(Value::Null) => {}
            // These facts get columns of their own, and text columns cannot hold NUL.
            Some(Value::String(value)) if value.contains('\0') => cells.error(
                "Metadata",
                cell,
                format!("`{key}` contains a NUL character (\\u0000), which cannot be stored"),
            ),
            Some(Value::String(_)) => {}
            Some(other) => cells.error(
                "Metadata",
                cell,
                format!("`{key}` must be a string, found {}", json_type(other)),
            ),
        }
    }
    match metadata.get("privilegeValue") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => {}
        Some(Value::String(value))
            if value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false") => {}
        Some(other) => cells.error(
            "Metadata",
            cell,
            format!(
                "`privilegeValue` must be true or false, found {}",
                match other {
                    Value::String(value) => format!("`{value}`"),
                    other => json_type(other).to_string(),
                }
            ),
        ),
    }
}

impl FormatRow for RelationRow {
    const KIND: CsvKind = CsvKind::EntityRelations;

    fn from_record(record: &Record<'_>) -> Result<Self, Vec<RowError>> {
        let mut cells = Cells::new(record);
        let app = cells.optional("App");
        let parent_source_id = cells.required("Parent Entity Source ID");
        let parent_type = cells.parse::<EntityType>("Parent Entity Type");
        let child_source_id = cells.required("Entity Source ID");
        let child_type = cells.parse::<EntityType>("Entity Type");
        let source_system = cells.optional("Source System");
        let metadata = cells.metadata();
        check_facts(&mut cells, record.get("Metadata"), &metadata);
        let line = cells.line();
        let row = parent_type
            .zip(child_type)
            .map(|(parent_type, child_type)| RelationRow {
                line,
                app,
                parent_source_id,
                parent_type,
                child_source_id,
                child_type,
                source_system,
                metadata,
            });
        cells.finish(row)
    }

    fn to_record(&self) -> Vec<String> {
        vec![
            text(&self.app),
            self.parent_source_id.clone(),
            self.parent_type.as_str().to_string(),
            self.child_source_id.clone(),
            self.child_type.as_str().to_string(),
            text(&self.source_system),
            METADATA_VERSION.to_string(),
            metadata_cell(&self.metadata),
        ]
    }
}
