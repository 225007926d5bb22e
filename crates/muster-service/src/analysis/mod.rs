//! IAM policy analysis in the product: a report per account with plain-language lines per
//! principal, built by `muster-policy` from an authorization-details file or from a
//! stored AWS snapshot.
//!
//! [`report`] turns an analysed account into an [`AccountReport`] that serialises both
//! ways, so it can be stored with a snapshot and read back by the server.
//! [`inventory`] rebuilds the authorization details from a snapshot's entities and
//! relations, so a sync and an offline file go through the same loader. [`snapshot`]
//! analyses a sync's inventory for storage and runs `who-can` on an integration.

pub mod html;
pub mod inventory;
pub mod report;
pub mod snapshot;

pub use inventory::account_from_inventory;
pub use report::{build_report, AccountReport, PrincipalReport, ReportLine, ReportSummary, StatementSummary};
pub use snapshot::{analyze_inventory, IntegrationGrants};
