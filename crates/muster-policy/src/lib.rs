//! Muster's AWS IAM policy engine. No I/O: callers pass documents and account data in.
//!
//! - [`parse`] reads policy documents, [`mod@catalog`] lists every AWS action.
//! - [`mod@evaluate`] decides one request for one principal the way IAM does.
//! - [`access`], [`assume`] and [`escalation`] derive effective access, who can assume a
//!   role, and privilege-escalation paths. [`findings`] turns them into risk findings, and
//!   [`describe`] into plain-language lines.
//! - [`account`] is the input model, loaded from `aws iam get-account-authorization-details`
//!   output by [`authorization_details`]. [`query`] lists who can do X on Y.
//!
//! ```
//! use muster_policy::{analyze_account, describe_findings, load_authorization_details, who_can};
//!
//! let details = r#"{"UserDetailList": [{"UserName": "ops", "Arn": "arn:aws:iam::111122223333:user/ops",
//!     "UserPolicyList": [{"PolicyName": "self-service", "PolicyDocument":
//!         {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:PutUserPolicy",
//!          "Resource": "arn:aws:iam::111122223333:user/ops"}}}]}]}"#;
//! let loaded = load_authorization_details(details).unwrap();
//! assert!(loaded.problems.is_empty());
//!
//! let analysis = analyze_account(&loaded.account, &Default::default());
//! let lines = describe_findings(&analysis.principals[0]);
//! assert_eq!(
//!     lines[0].text,
//!     "can make itself administrator through iam:PutUserPolicy on `arn:aws:iam::111122223333:user/ops`"
//! );
//!
//! let grants = who_can(&loaded.account, "iam:PutUserPolicy", "arn:aws:iam::111122223333:user/ops", &[]);
//! assert_eq!(grants[0].name, "ops");
//! ```

pub mod access;
pub mod account;
pub mod assume;
pub mod authorization_details;
pub mod catalog;
pub mod condition;
pub mod context;
pub mod describe;
pub mod document;
pub mod escalation;
pub mod evaluate;
pub mod findings;
pub mod model;
pub mod parse;
pub mod pattern;
pub mod query;

#[cfg(test)]
mod test_support;

pub use access::{access_bits, effective_access, AccessBits, EffectiveAccess, ResourceScope};
pub use account::{Account, PolicySource, PrincipalId, PrincipalPolicies, SourcedPolicy};
pub use assume::{can_assume, who_can_assume, Assumer, RoleAssumers};
pub use authorization_details::{
    load_authorization_details, LoadError, LoadProblem, LoadedAccount,
};
pub use catalog::{catalog, AccessLevel, ActionId, ActionSet, Catalog};
pub use condition::Condition;
pub use context::{RequestContext, Truth};
pub use describe::{describe_access, describe_findings, Line};
pub use document::{Effect, Policy, PolicyVersion, Statement};
pub use escalation::{find_escalations, EscalationPath, EscalationStep, Escalations, TechniqueUse};
pub use evaluate::{check, evaluate, Decision, Request, StatementRef, Verdict};
pub use findings::{
    analyze_account, AccountAnalysis, AnalysisOptions, Exclusions, PrincipalFindings, RiskCategory,
};
pub use model::AccountModel;
pub use parse::{parse_policy, parse_policy_text, PolicyError};
pub use pattern::Pattern;
pub use query::{who_can, Grant};
