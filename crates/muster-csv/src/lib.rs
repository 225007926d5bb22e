//! Reading and writing Muster's six CSV formats: the files people upload by hand or push
//! through the bulk API, and the exports auditors open in a spreadsheet.
//!
//! The crate is pure: it reads from any `Read + Seek` and writes to any `Write`, and knows
//! nothing of tenants, databases or HTTP. [`Reader`] streams rows one at a time, so a file
//! of a million rows never sits in memory. [`Writer`] produces exports.
//!
//! # Formats
//!
//! Columns marked `*` are required: the column must be in the header and its cells must
//! not be empty.
//!
//! | format ([`CsvKind`]) | headers |
//! |---|---|
//! | `entities` | `App`, `Name*`, `Entity Type*`, `Source System*`, `Source ID*`, `Source Type*`, `Metadata Version`, `Metadata` |
//! | `entity-relations` | `App`, `Parent Entity Source ID*`, `Parent Entity Type*`, `Entity Source ID*`, `Entity Type*`, `Source System`, `Metadata Version`, `Metadata` |
//! | `entitlements` | `Project`, `Privilege Name*`, `Privilege Value*`, `Email`, `User ID`, `Username`, `Name`, `Connection`, `Connection Type`, `Resource`, `Resource Type` |
//! | `employees` | `Employee ID`, `Full Name`, `First Name`, `Last Name`, `Work Email*`, `Department`, `Title`, `Start Date*`, `End Date`, `Employment Type`, `Manager`, `Manager Work Email`, `Source Employee ID`, `Roles`, `Metadata Version`, `Metadata` |
//! | `identity-mappings` | `Identity ID*`, `Username*`, `Identity email`, `Identity name*`, `App ID*`, `App Name*`, `App Description`, `Relation type`, `Employee email`, `Employee name`, `Employee department`, `Employee job title` |
//! | `business-owners` | `App ID*`, `App Name`, `Owner Email*`, `Owner Type` |
//!
//! Rules per format:
//!
//! - **Entity types** are `identity`, `connection` or `resource`, in any case.
//! - **Entity relations** keep the relation's facts in the metadata: `project` (a string,
//!   default `default`), `privilegeName` (a string, default `member`), `privilegeValue`
//!   (`true`/`false` as a JSON boolean or string, default `true`; `false` is an explicit
//!   deny) and `connectionType` (a string). Another JSON type under one of those keys is
//!   an error in the `Metadata` column.
//! - **Entitlements** need at least one of `Email`, `User ID`, `Username` (the header must
//!   have one of those columns, and each row a value in one). `Connection` is required
//!   when `Connection Type` is given, and `Resource` and `Resource Type` come together.
//!   `Project` defaults to `default`. `Privilege Value` is `true`/`false`, `yes`/`no` or
//!   `1`/`0` in any case.
//! - **Employees:** dates are `MM/DD/YYYY` (one-digit month and day allowed) or ISO 8601
//!   `YYYY-MM-DD`; an RFC 3339 date-time such as `2024-03-01T09:00:00Z` stands for its
//!   date. Exports write `MM/DD/YYYY`. `Roles` is a comma-separated list of Muster roles;
//!   spaces around names and empty entries are dropped.
//! - **Identity mappings:** `Relation type` is `IS` (the employee's own account) or `OWNS`
//!   (a service account the employee answers for), in any case; empty means `IS`.
//! - **Business owners** (defined by Muster): one row per owner of an application.
//!   `Owner Type` is `primary` or `secondary` in any case; empty means `secondary`.
//! - **Email columns** (`Work Email`, `Manager Work Email`, `Email`, `Identity email`,
//!   `Employee email`, `Owner Email`) must hold one `@` with text on both sides and no
//!   whitespace.
//! - **Metadata** is a JSON object. An empty cell means `{}`. The `Metadata Version`
//!   column, when not empty, must be `v1`, and so must a `Metadata Version` key inside the
//!   JSON. The object read always carries `"Metadata Version": "v1"`.
//!
//! # Cells
//!
//! Every cell is trimmed of surrounding whitespace; an empty cell is an absent value.
//!
//! **Identifiers are text.** `Source ID`, `Parent Entity Source ID`, `Entity Source ID`,
//! `User ID`, `Employee ID`, `Source Employee ID`, `Identity ID` and `App ID` are never read
//! as numbers, so `00123` keeps its leading zeros. A value in scientific notation such as
//! `1.23457E+15` is rejected as "looks changed by a spreadsheet": Excel writes long digit
//! ids that way and the original digits are lost. Leading zeros that a spreadsheet already
//! stripped cannot be detected; export ids from the source system as text.
//!
//! # Files
//!
//! **Encoding.** A byte order mark decides: `EF BB BF` UTF-8, `FF FE` UTF-16LE, `FE FF`
//! UTF-16BE. Without one, UTF-16 is recognised from NUL bytes in every other position (Excel's
//! "Unicode Text"). Otherwise the whole input must be valid UTF-8, checked in chunks before
//! the first row is read; if it is not, the file is read as windows-1252 (Excel's legacy
//! "CSV" on Western systems) and the report warns. Decoded text that still contains a NUL
//! character is rejected. [`FileReport::encoding`] names the encoding used.
//!
//! **Delimiter.** A first line `sep=X` (as Excel writes it) sets the delimiter and is
//! skipped. Otherwise the reader tries `,`, `;`, tab and `|`: the one that splits the
//! header into the most known header names wins, ties go to the one giving the header's
//! field count on the most of the first 20 lines, then to that order. With no evidence at
//! all, `,` is used. [`FileReport::delimiter_source`] says which of these applied.
//!
//! **Quoting and lines.** Fields follow RFC 4180: double quotes around fields that hold the
//! delimiter, quotes or line breaks, and `""` for a quote. Lines end in CRLF or LF. Line
//! numbers in errors are physical lines of the decoded text, counting from 1, including a
//! `sep=` line and the header; a row with a quoted line break is reported at its first line.
//! A quote that is never closed swallows the rest of the file into one row. Reading stops
//! there with an error that names the row's first line and the last line of the file, or
//! only the row's first line once the row passes 1 MiB.
//!
//! **Header.** Header names match case-insensitively, ignoring surrounding spaces (runs
//! of inner spaces count as one). A missing required column is an error for the whole file.
//! Two header cells that name the same column, such as `Email` and `email `, are an error
//! naming both positions: the reader never silently lets one win. A header that names no
//! column of the format is **ignored with a warning** rather than rejected, so that files
//! exported from other tools with extra columns load; it is listed in
//! [`FileReport::ignored_columns`].
//!
//! **Ragged rows.** Empty cells after the last header column (`a,b,c,,,`, as spreadsheets
//! write them) are dropped, as are empty header cells at the end. A row with fewer fields
//! than the header reads the missing ones as empty, after which required checks apply. A
//! non-empty value beyond the last header column rejects the row. Empty lines, and lines of
//! only delimiters and spaces, are skipped and counted in [`Reader::blank_lines`].
//!
//! **Errors.** A problem with the file as a whole ([`FileError`]) stops reading: unreadable
//! encoding, bad `sep=` line, missing or duplicate columns, an empty file. A problem with a
//! row ([`RowError`]) names the line, the column, the value and what was expected; every
//! problem in a row is reported, and the next row is read normally.
//!
//! # Export and CSV injection
//!
//! [`Writer`] writes UTF-8 without a byte order mark, CRLF line ends, the format's header
//! line and RFC 4180 quoting. In [`ExportMode::Safe`], meant for files people open in a
//! spreadsheet, every cell (headers included) that starts with `=`, `+`, `-`, `@`, tab or
//! carriage return gets a `'` in front, following the OWASP guidance on CSV injection
//! (CWE-1236): a display name such as `=HYPERLINK("http://x","y")` from a third-party
//! system then shows as text instead of running as a formula. A cell that starts with `'`
//! characters followed by one of those characters gets one more `'`.
//!
//! [`ExportMode::Raw`] writes every value unchanged, for programs that read the export.
//!
//! On import, a cell made of `'` followed by one of those characters (after optional
//! further `'`) loses that first `'`, so a Safe export reads back to the values that were
//! written. The consequence: a raw value that itself starts with `'=` (or `'+`, `'-`,
//! `'@`) reads back without its `'`.
//!
//! # Limits
//!
//! - Line numbers count line feeds; a file with old Mac line ends (CR only) is parsed
//!   correctly but its rows are all reported on line 1.
//! - Values are trimmed, so leading or trailing spaces in a value do not survive a round
//!   trip, and a role name containing a comma cannot be expressed in `Roles`.

mod decode;
mod dialect;
mod error;
mod header;
mod kind;
mod reader;
mod record;
mod records;
mod rows;
mod writer;

pub use error::{column_label, FileError, RowError};
pub use kind::{CsvKind, UnknownCsvKind};
pub use reader::{open_path, FileReport, Reader};
pub use record::{format_date, is_email, is_scientific_notation, parse_bool, parse_date, Record};
pub use rows::{
    BusinessOwnerRow, EmployeeRow, EntitlementRow, EntityRow, FormatRow, IdentityMappingRow,
    MappingType, OwnerType, RelationRow,
};
pub use writer::{protect, ExportMode, Writer};
