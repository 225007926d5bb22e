//! Newtype identifiers, so a tenant id can never be passed where an integration id belongs.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id read from storage or a request without checking its form.
            pub fn from_string(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// One organisation's isolated space (a ULID).
    TenantId
);
string_id!(
    /// An integration, written `<app>/<ULID>`, e.g. `aws/01J…`.
    IntegrationId
);
string_id!(
    /// One immutable result of a sync (a ULID).
    SnapshotId
);
string_id!(
    /// One extraction run, successful or not (a ULID).
    SyncRunId
);
string_id!(
    /// An entity, stable across snapshots: derived from its integration, type and source id.
    EntityId
);

impl TenantId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}

impl SnapshotId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}

impl SyncRunId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}

impl IntegrationId {
    pub fn generate(app: crate::App) -> Self {
        Self(format!("{}/{}", app.as_str(), ulid::Ulid::new()))
    }
}

impl EntityId {
    /// Derives the id from the entity's address, so the same IAM user keeps its id from one
    /// snapshot to the next and links to it stay valid.
    pub fn derive(
        integration: &IntegrationId,
        entity_type: crate::EntityType,
        source_id: &str,
    ) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(integration.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(entity_type.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(source_id.as_bytes());
        let digest = hasher.finalize();
        Self(hex::encode(&digest[..12]))
    }
}
