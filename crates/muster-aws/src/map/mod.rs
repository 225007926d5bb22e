//! Turns what the AWS calls returned into Muster entities and relations.
//!
//! Source ids are ARNs. Entities: the account (`resource`/`account`), IAM users
//! (`identity`/`user`), groups and roles (`connection`/`group`, `role`), managed and
//! inline policies (`connection`/`policy`, `inline-policy`), and the principals that role
//! trust policies name outside the account's users and roles (`identity`/`aws-service`,
//! `federated`, `aws-account`, `canonical-user`, `public`). Relations: `member`, `attached`,
//! `permissions-boundary` and `assume`, all with the account id as project.

mod builder;
mod credentials;
mod policies;
mod principals;
mod trust;
mod values;

use crate::fetch::authorization::{AuthorizationDetails, RoleListing};
use crate::fetch::credential_report::CredentialReport;
use crate::fetch::user_credentials::UserCredentialFacts;
use muster_domain::Inventory;
use std::collections::{HashMap, HashSet};

pub(crate) use policies::referenced_policy_arns;

/// Everything one sync read from the account.
#[derive(Debug, Default)]
pub(crate) struct AccountData {
    pub account_id: String,
    /// `aws`, `aws-cn` or `aws-us-gov`, from the caller's ARN.
    pub partition: String,
    /// The principal Muster signed in as; `None` for an upload.
    pub caller_arn: Option<String>,
    pub details: AuthorizationDetails,
    /// Role facts from ListRoles, keyed by role ARN; `None` when ListRoles failed.
    pub role_listings: Option<HashMap<String, RoleListing>>,
    pub credential_report: Option<CredentialReport>,
    /// Per-user call results, keyed by user ARN.
    pub user_credentials: HashMap<String, UserCredentialFacts>,
    /// ARNs of the managed policies read with GetPolicy because GAAD left them out.
    pub separately_fetched: HashSet<String>,
    /// Referenced managed policies that could not be read, with the reason.
    pub unavailable_policies: Vec<(String, String)>,
}

/// Builds the inventory. Problems that lose detail but not access facts (a document
/// that does not decode, a policy that could not be read) become warnings.
pub(crate) fn build_inventory(data: &AccountData) -> Inventory {
    let mut inventory = builder::InventoryBuilder::new(&data.account_id);
    principals::add_account(&mut inventory, data);
    // Policies first, so the `attached` relations below find their child.
    policies::add_managed_policies(&mut inventory, data);
    principals::add_groups(&mut inventory, data);
    principals::add_users(&mut inventory, data);
    principals::add_roles(&mut inventory, data);
    trust::add_trust_relations(&mut inventory, data);
    inventory.finish()
}
