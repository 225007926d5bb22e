//! Muster's domain: the types every other crate speaks in.
//!
//! Nothing here performs I/O. Storage, connectors and the HTTP server convert to and from
//! these types at their edges.

pub mod ids;
pub mod integration;
pub mod inventory;
pub mod policy_document;
pub mod validation;

pub use ids::{EntityId, IntegrationId, SnapshotId, SyncRunId, TenantId};
pub use integration::{
    App, AwsCredentials, CredentialsView, ExtractionType, Integration, IntegrationDraft,
    IntegrationStatus, IntegrationUpdate,
};
pub use inventory::{Entity, EntityKey, EntityType, Inventory, Relation};
pub use validation::{FieldError, ValidationErrors};

/// Current time as an RFC 3339 string in UTC, the format every stored timestamp uses.
pub fn format_timestamp(at: time::OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
