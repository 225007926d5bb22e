//! Entities and relations: what one sync of an integration finds.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The three kinds of record an integration yields.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityType {
    /// A user or service account.
    Identity,
    /// A grant of access: a group, role or policy.
    Connection,
    /// A target of access: an account, bucket, repository.
    Resource,
}

impl EntityType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Identity => "identity",
            EntityType::Connection => "connection",
            EntityType::Resource => "resource",
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityType {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "identity" => Ok(EntityType::Identity),
            "connection" => Ok(EntityType::Connection),
            "resource" => Ok(EntityType::Resource),
            other => Err(format!(
                "unknown entity type `{other}`: expected identity, connection or resource"
            )),
        }
    }
}

/// Address of an entity within its integration: its type and the source system's id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityKey {
    pub entity_type: EntityType,
    pub source_id: String,
}

impl EntityKey {
    pub fn new(entity_type: EntityType, source_id: impl Into<String>) -> Self {
        Self {
            entity_type,
            source_id: source_id.into(),
        }
    }
}

/// One record read from an integration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub entity_type: EntityType,
    /// The source system's id, e.g. an IAM ARN.
    pub source_id: String,
    /// The source system's kind of record, e.g. `user`, `group`, `role`, `policy`.
    pub source_type: String,
    pub name: String,
    /// A JSON object; always carries `"Metadata Version": "v1"`.
    pub metadata: serde_json::Value,
}

impl Entity {
    pub fn key(&self) -> EntityKey {
        EntityKey::new(self.entity_type, self.source_id.clone())
    }
}

/// A directed edge parent → child meaning "has access to" or "is member of".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub parent: EntityKey,
    pub child: EntityKey,
    /// Top-level container, e.g. the AWS account id; `default` when there is none.
    pub project: String,
    /// e.g. `member`, `attached`, `assume`, `permissions-boundary`.
    pub privilege_name: String,
    /// `false` models an explicit deny.
    pub privilege_value: bool,
    /// e.g. `group`, `role`, `policy`.
    pub connection_type: Option<String>,
    pub metadata: serde_json::Value,
}

/// Everything one sync produced, before it is stored as a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// The top-level container the data came from, e.g. the AWS account id.
    pub project: Option<String>,
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
    /// Problems that did not stop the sync, e.g. a policy that could not be fetched.
    pub warnings: Vec<String>,
}

impl Inventory {
    /// Checks that every relation's ends exist and no entity appears twice.
    pub fn validate(&self) -> Result<(), String> {
        let mut keys = std::collections::HashSet::new();
        for entity in &self.entities {
            if !keys.insert(entity.key()) {
                return Err(format!(
                    "entity {} `{}` appears twice",
                    entity.entity_type, entity.source_id
                ));
            }
        }
        for relation in &self.relations {
            for end in [&relation.parent, &relation.child] {
                if !keys.contains(end) {
                    return Err(format!(
                        "relation {} `{}` → {} `{}` points to a missing {} `{}`",
                        relation.parent.entity_type,
                        relation.parent.source_id,
                        relation.child.entity_type,
                        relation.child.source_id,
                        end.entity_type,
                        end.source_id
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Wraps metadata fields in an object carrying `"Metadata Version": "v1"`.
pub fn metadata_v1(fields: serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    object.insert("Metadata Version".into(), serde_json::Value::from("v1"));
    object.extend(fields);
    serde_json::Value::Object(object)
}
