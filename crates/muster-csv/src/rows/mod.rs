//! The row types of the six formats and the trait that ties each to its [`CsvKind`].

mod employee;
mod entitlement;
mod entity;
mod mapping;
mod owner;
mod relation;

pub use employee::EmployeeRow;
pub use entitlement::EntitlementRow;
pub use entity::EntityRow;
pub use mapping::{IdentityMappingRow, MappingType};
pub use owner::{BusinessOwnerRow, OwnerType};
pub use relation::RelationRow;

use crate::error::RowError;
use crate::kind::CsvKind;
use crate::record::Record;

/// A row of one format: how it is read from a [`Record`] and written back.
pub trait FormatRow: Sized {
    const KIND: CsvKind;

    /// Reads a row, reporting every problem in it rather than only the first.
    fn from_record(record: &Record<'_>) -> Result<Self, Vec<RowError>>;

    /// The cells in [`CsvKind::headers`] order, for export.
    fn to_record(&self) -> Vec<String>;
}

pub(crate) fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}
