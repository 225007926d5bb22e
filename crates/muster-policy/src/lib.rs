//! Muster's AWS IAM policy engine. No I/O: callers pass documents and account data in.
//!
//! - [`parse`] reads policy documents, [`catalog`] lists every AWS action.
//! - [`evaluate`] decides one request for one principal the way IAM does.
//! - [`access`], [`assume`] and [`escalation`] derive effective access, who can assume a
//!   role, and privilege-escalation paths; [`findings`] turns them into risk findings.
//! - [`account`] is the input model, loaded from `aws iam get-account-authorization-details`
//!   output by [`authorization_details`].

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
