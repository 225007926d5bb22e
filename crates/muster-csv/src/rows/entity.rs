//! Entities format: one identity, connection or resource of an integration.

use super::{text, FormatRow};
use crate::error::RowError;
use crate::kind::CsvKind;
use crate::record::{metadata_cell, Cells, Record, METADATA_VERSION};
use muster_domain::inventory::EntityType;
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct EntityRow {
    pub line: u64,
    pub app: Option<String>,
    pub name: String,
    pub entity_type: EntityType,
    pub source_system: String,
    pub source_id: String,
    pub source_type: String,
    /// Always carries `"Metadata Version": "v1"`.
    pub metadata: Map<String, Value>,
}

impl FormatRow for EntityRow {
    const KIND: CsvKind = CsvKind::Entities;

    fn from_record(record: &Record<'_>) -> Result<Self, Vec<RowError>> {
        let mut cells = Cells::new(record);
        let app = cells.optional("App");
        let name = cells.required("Name");
        let entity_type = cells.parse::<EntityType>("Entity Type");
        let source_system = cells.required("Source System");
        let source_id = cells.required("Source ID");
        let source_type = cells.required("Source Type");
        let metadata = cells.metadata();
        let line = cells.line();
        let row = entity_type.map(|entity_type| EntityRow {
            line,
            app,
            name,
            entity_type,
            source_system,
            source_id,
            source_type,
            metadata,
        });
        cells.finish(row)
    }

    fn to_record(&self) -> Vec<String> {
        vec![
            text(&self.app),
            self.name.clone(),
            self.entity_type.as_str().to_string(),
            self.source_system.clone(),
            self.source_id.clone(),
            self.source_type.clone(),
            METADATA_VERSION.to_string(),
            metadata_cell(&self.metadata),
        ]
    }
}
