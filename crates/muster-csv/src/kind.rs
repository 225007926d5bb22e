//! The six CSV formats: their names, canonical headers and required columns.

use std::fmt;
use std::str::FromStr;

/// One of the CSV formats Muster reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CsvKind {
    Entities,
    EntityRelations,
    Entitlements,
    Employees,
    IdentityMappings,
    BusinessOwners,
}

const ENTITIES: &[&str] = &[
    "App",
    "Name",
    "Entity Type",
    "Source System",
    "Source ID",
    "Source Type",
    "Metadata Version",
    "Metadata",
];
const ENTITIES_REQUIRED: &[&str] = &[
    "Name",
    "Entity Type",
    "Source System",
    "Source ID",
    "Source Type",
];

const RELATIONS: &[&str] = &[
    "App",
    "Parent Entity Source ID",
    "Parent Entity Type",
    "Entity Source ID",
    "Entity Type",
    "Source System",
    "Metadata Version",
    "Metadata",
];
const RELATIONS_REQUIRED: &[&str] = &[
    "Parent Entity Source ID",
    "Parent Entity Type",
    "Entity Source ID",
    "Entity Type",
];

const ENTITLEMENTS: &[&str] = &[
    "Project",
    "Privilege Name",
    "Privilege Value",
    "Email",
    "User ID",
    "Username",
    "Name",
    "Connection",
    "Connection Type",
    "Resource",
    "Resource Type",
];
const ENTITLEMENTS_REQUIRED: &[&str] = &["Privilege Name", "Privilege Value"];

const EMPLOYEES: &[&str] = &[
    "Employee ID",
    "Full Name",
    "First Name",
    "Last Name",
    "Work Email",
    "Department",
    "Title",
    "Start Date",
    "End Date",
    "Employment Type",
    "Manager",
    "Manager Work Email",
    "Source Employee ID",
    "Roles",
    "Metadata Version",
    "Metadata",
];
const EMPLOYEES_REQUIRED: &[&str] = &["Work Email", "Start Date"];

const MAPPINGS: &[&str] = &[
    "Identity ID",
    "Username",
    "Identity email",
    "Identity name",
    "App ID",
    "App Name",
    "App Description",
    "Relation type",
    "Employee email",
    "Employee name",
    "Employee department",
    "Employee job title",
];
const MAPPINGS_REQUIRED: &[&str] = &[
    "Identity ID",
    "Username",
    "Identity name",
    "App ID",
    "App Name",
];

const OWNERS: &[&str] = &["App ID", "App Name", "Owner Email", "Owner Type"];
const OWNERS_REQUIRED: &[&str] = &["App ID", "Owner Email"];

impl CsvKind {
    pub const ALL: [CsvKind; 6] = [
        CsvKind::Entities,
        CsvKind::EntityRelations,
        CsvKind::Entitlements,
        CsvKind::Employees,
        CsvKind::IdentityMappings,
        CsvKind::BusinessOwners,
    ];

    /// The kebab-case name used in URLs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            CsvKind::Entities => "entities",
            CsvKind::EntityRelations => "entity-relations",
            CsvKind::Entitlements => "entitlements",
            CsvKind::Employees => "employees",
            CsvKind::IdentityMappings => "identity-mappings",
            CsvKind::BusinessOwners => "business-owners",
        }
    }

    /// The name shown to people, e.g. in an import report.
    pub fn title(self) -> &'static str {
        match self {
            CsvKind::Entities => "Entities",
            CsvKind::EntityRelations => "Entity relations",
            CsvKind::Entitlements => "Entitlements",
            CsvKind::Employees => "Employees",
            CsvKind::IdentityMappings => "Identity mappings",
            CsvKind::BusinessOwners => "Business owners",
        }
    }

    /// Canonical header names in file order.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            CsvKind::Entities => ENTITIES,
            CsvKind::EntityRelations => RELATIONS,
            CsvKind::Entitlements => ENTITLEMENTS,
            CsvKind::Employees => EMPLOYEES,
            CsvKind::IdentityMappings => MAPPINGS,
            CsvKind::BusinessOwners => OWNERS,
        }
    }

    /// Headers whose column must be present and whose cells must not be empty.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            CsvKind::Entities => ENTITIES_REQUIRED,
            CsvKind::EntityRelations => RELATIONS_REQUIRED,
            CsvKind::Entitlements => ENTITLEMENTS_REQUIRED,
            CsvKind::Employees => EMPLOYEES_REQUIRED,
            CsvKind::IdentityMappings => MAPPINGS_REQUIRED,
            CsvKind::BusinessOwners => OWNERS_REQUIRED,
        }
    }

    /// Headers whose values are identifiers, read as text and checked for
    /// spreadsheet damage.
    pub fn id_columns(self) -> &'static [&'static str] {
        match self {
            CsvKind::Entities => &["Source ID"],
            CsvKind::EntityRelations => &["Parent Entity Source ID", "Entity Source ID"],
            CsvKind::Entitlements => &["User ID"],
            CsvKind::Employees => &["Employee ID", "Source Employee ID"],
            CsvKind::IdentityMappings => &["Identity ID", "App ID"],
            CsvKind::BusinessOwners => &["App ID"],
        }
    }

    /// The header line with a CRLF line end, offered as "download template".
    pub fn template(self) -> String {
        let mut line = self.headers().join(",");
        line.push_str("\r\n");
        line
    }

    /// Position of `header` in [`CsvKind::headers`], matched like a file header.
    pub fn column_index(self, header: &str) -> Option<usize> {
        self.headers()
            .iter()
            .position(|known| *known == header)
            .or_else(|| {
                let wanted = normalize_header(header);
                self.headers()
                    .iter()
                    .position(|known| normalize_header(known) == wanted)
            })
    }
}

/// Lower-cases a header and collapses runs of spaces, so `" Source  ID "` matches `Source ID`.
pub(crate) fn normalize_header(header: &str) -> String {
    header
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl fmt::Display for CsvKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`CsvKind::from_str`]: the name matched no format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown CSV format `{name}`: expected one of entities, entity-relations, entitlements, employees, identity-mappings, business-owners")]
pub struct UnknownCsvKind {
    pub name: String,
}

impl FromStr for CsvKind {
    type Err = UnknownCsvKind;

    /// Accepts the [`CsvKind::as_str`] names, singular forms, `_` or spaces for
    /// `-`, and the short forms `relations`, `mappings`, `owners`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let normalized: String = name
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == '_' || c == ' ' { '-' } else { c })
            .collect();
        let singular = normalized.strip_suffix('s').unwrap_or(&normalized);
        let kind = match singular {
            "entitie" | "entity" => CsvKind::Entities,
            "entity-relation" | "relation" => CsvKind::EntityRelations,
            "entitlement" => CsvKind::Entitlements,
            "employee" | "hr" => CsvKind::Employees,
            "identity-mapping" | "mapping" => CsvKind::IdentityMappings,
            "business-owner" | "owner" => CsvKind::BusinessOwners,
            _ => {
                return Err(UnknownCsvKind {
                    name: name.to_string(),
                })
            }
        };
        Ok(kind)
    }
}
