//! Muster's domain: the types every other crate speaks in.
//!
//! Nothing here performs I/O. Storage, connectors and the HTTP server convert to and from
//! these types at their edges.

pub mod ids;
pub mod integration;
pub mod inventory;
pub mod people;
pub mod policy_document;
pub mod scim;
pub mod validation;

pub use ids::{EntityId, IntegrationId, SnapshotId, SyncRunId, TenantId};
pub use integration::{
    App, AwsCredentials, CredentialsView, ExtractionType, Integration, IntegrationDraft,
    IntegrationStatus, IntegrationUpdate,
};
pub use inventory::{Entity, EntityKey, EntityType, Inventory, Relation};
pub use people::{identity_email, Employee, MappingType};
pub use scim::{ScimConnection, ScimConnectionView, ScimCredentials};
pub use validation::{FieldError, ValidationErrors};

/// Formats a time as RFC 3339 in UTC with microseconds, e.g.
/// `2026-12-04T20:46:15.631683Z`, the format of every stored timestamp. The fixed width
/// makes string order equal time order, which queries rely on.
pub fn format_timestamp(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_sort_as_text() {
        let early = time::macros::datetime!(2026-12-04 20:46:15 UTC);
        let late = early + time::Duration::milliseconds(500);
        assert_eq!(super::format_timestamp(early), "2026-12-04T20:46:15.000000Z");
        assert!(super::format_timestamp(early) < super::format_timestamp(late));
    }
}
