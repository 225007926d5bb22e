//! An inventory under construction that keeps entities unique and relations whole.

use muster_domain::inventory::metadata_v1;
use muster_domain::{Entity, EntityKey, EntityType, Inventory, Relation};
use serde_json::{Map, Value};
use std::collections::HashSet;

pub(crate) struct InventoryBuilder {
    project: String,
    entities: Vec<Entity>,
    keys: HashSet<EntityKey>,
    relations: Vec<Relation>,
    warnings: Vec<String>,
}

impl InventoryBuilder {
    pub(crate) fn new(project: &str) -> Self {
        Self {
            project: project.to_string(),
            entities: Vec::new(),
            keys: HashSet::new(),
            relations: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Adds an entity unless one with the same key exists; the first one stays.
    pub(crate) fn add_entity(
        &mut self,
        entity_type: EntityType,
        source_id: &str,
        source_type: &str,
        name: &str,
        metadata: Map<String, Value>,
    ) -> EntityKey {
        let key = EntityKey::new(entity_type, source_id);
        if self.keys.insert(key.clone()) {
            self.entities.push(Entity {
                entity_type,
                source_id: source_id.to_string(),
                source_type: source_type.to_string(),
                name: name.to_string(),
                metadata: metadata_v1(metadata),
            });
        }
        key
    }

    /// Adds a relation whose ends both exist. A relation to a missing end becomes a
    /// warning instead, so the snapshot stays valid and the gap stays visible.
    pub(crate) fn relate(&mut self, relation: NewRelation<'_>) {
        for end in [&relation.parent, &relation.child] {
            if !self.keys.contains(end) {
                self.warn(format!(
                    "skipped the `{}` relation {} → {}: {} `{}` was not found in the account",
                    relation.privilege_name,
                    relation.parent.source_id,
                    relation.child.source_id,
                    end.entity_type,
                    end.source_id
                ));
                return;
            }
        }
        self.relations.push(Relation {
            parent: relation.parent,
            child: relation.child,
            project: self.project.clone(),
            privilege_name: relation.privilege_name.to_string(),
            privilege_value: relation.privilege_value,
            connection_type: Some(relation.connection_type.to_string()),
            metadata: metadata_v1(relation.metadata),
        });
    }

    pub(crate) fn warn(&mut self, warning: String) {
        tracing::warn!(warning = warning.as_str(), "inventory warning");
        self.warnings.push(warning);
    }

    pub(crate) fn finish(self) -> Inventory {
        Inventory {
            project: Some(self.project),
            entities: self.entities,
            relations: self.relations,
            warnings: self.warnings,
        }
    }
}

/// The parts of a relation that vary; the project is the builder's.
pub(crate) struct NewRelation<'a> {
    pub parent: EntityKey,
    pub child: EntityKey,
    pub privilege_name: &'a str,
    pub privilege_value: bool,
    pub connection_type: &'a str,
    pub metadata: Map<String, Value>,
}
