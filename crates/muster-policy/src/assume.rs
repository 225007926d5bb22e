//! Role assumption: the role's trust policy must allow the principal, and the principal's
//! own policies must not deny `sts:AssumeRole` on the role.
//!
//! As in IAM, a trust policy that trusts the whole account (`arn:aws:iam::ID:root` or the
//! bare account id) delegates the choice to the account. A principal of that account must
//! then also be allowed `sts:AssumeRole` on the role by its identity policies, boundary
//! and SCPs. A trust policy that names the principal's own ARN grants the assumption by
//! itself within the same account, so only explicit denies and SCPs can stop it.
//! Principals of other accounts, services, identity providers and `*` are listed as
//! external trust, since their own policies are not in the account data.

use crate::account::{Account, PolicySource, PrincipalId, SourcedPolicy};
use crate::context::{RequestContext, Truth};
use crate::document::{Effect, PrincipalElement, PrincipalEntry, PrincipalKind};
use crate::evaluate::{
    evaluate, ConditionalStatement, Decision, Layer, Request, StatementRef, Verdict,
};

pub const ASSUME_ROLE: &str = "sts:AssumeRole";

/// The way a trust policy admits a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustGrant {
    /// The trust policy names the principal's ARN (or `*`, or excludes it from a
    /// `NotPrincipal` list), which suffices within the account.
    Named,
    /// The trust policy trusts the principal's account, so the identity policies decide.
    Account,
}

/// A principal of the account that can assume a role.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Assumer {
    #[serde(skip)]
    pub principal: PrincipalId,
    pub arn: String,
    /// [`Verdict::Allowed`] or [`Verdict::Conditional`].
    pub verdict: Verdict,
    pub via: TrustGrant,
    pub trust_statements: Vec<StatementRef>,
    /// Identity statements allowing `sts:AssumeRole`, needed for [`TrustGrant::Account`].
    pub identity_statements: Vec<StatementRef>,
    /// Conditions left undecided, as text; deny conditions start with `unless `.
    pub conditions: Vec<String>,
}

/// A principal outside the account's users and roles that the trust policy allows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExternalTrust {
    pub principal: PrincipalEntry,
    /// Everyone (`"Principal": "*"`): the role is public unless conditions narrow it.
    pub public: bool,
    pub conditional: bool,
    pub statement: StatementRef,
}

/// Everyone who can assume one role.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoleAssumers {
    pub role_arn: String,
    pub principals: Vec<Assumer>,
    pub external: Vec<ExternalTrust>,
}

/// The trust policy's verdict for one principal, with its statements.
pub(crate) struct TrustMatch {
    pub grant: TrustGrant,
    pub truth: Truth,
    pub statements: Vec<StatementRef>,
    pub conditions: Vec<String>,
}

fn trust_source(account: &Account, role: usize) -> Option<SourcedPolicy> {
    let role = &account.roles[role];
    role.trust_policy.as_ref().map(|document| SourcedPolicy {
        source: PolicySource::Trust {
            role: role.name.as_str().into(),
        },
        document: document.clone(),
    })
}

fn entry_matches(entry: &PrincipalEntry, arn: &str, account_id: &str) -> Option<TrustGrant> {
    if entry.kind != PrincipalKind::Aws {
        return None;
    }
    if entry.is_public() || entry.value == arn {
        return Some(TrustGrant::Named);
    }
    if entry.is_account_root() && entry.account() == Some(account_id) {
        return Some(TrustGrant::Account);
    }
    None
}

fn principal_grant(element: &PrincipalElement, arn: &str, account_id: &str) -> Option<TrustGrant> {
    match element {
        PrincipalElement::Principal(entries) => entries
            .iter()
            .filter_map(|entry| entry_matches(entry, arn, account_id))
            .min_by_key(|grant| *grant != TrustGrant::Named),
        PrincipalElement::NotPrincipal(entries) => {
            let excluded = entries
                .iter()
                .any(|entry| entry_matches(entry, arn, account_id).is_some());
            (!excluded).then_some(TrustGrant::Named)
        }
    }
}

/// Evaluates a role's trust policy for one principal of the account.
pub(crate) fn trust_match(
    account: &Account,
    role: usize,
    principal: PrincipalId,
    context: &RequestContext,
) -> Option<TrustMatch> {
    let trust = trust_source(account, role)?;
    let arn = account.principal_arn(principal);
    let account_id = arn.split(':').nth(4).unwrap_or_default();
    let role_arn = account.roles[role].arn.as_str();

    let mut best: Option<TrustMatch> = None;
    let mut denied = Truth::False;
    let mut deny_conditions = Vec::new();
    for (index, statement) in trust.document.statements.iter().enumerate() {
        let Some(element) = &statement.principal else {
            continue;
        };
        if !statement.matches_action(ASSUME_ROLE) {
            continue;
        }
        let Some(grant) = principal_grant(element, arn, account_id) else {
            continue;
        };
        let resource = match &statement.resource {
            Some(_) => statement.matches_resource(role_arn, context),
            None => Truth::True,
        };
        let truth = resource.and(statement.conditions_hold(context));
        if truth == Truth::False {
            continue;
        }
        let conditions = statement
            .undecided_conditions(context)
            .map(|condition| condition.to_string())
            .collect::<Vec<_>>();
        let reference = StatementRef {
            source: trust.source.clone(),
            document: trust.document.clone(),
            index,
        };
        match statement.effect {
            Effect::Deny => {
                denied = denied.or(truth);
                deny_conditions.extend(conditions.into_iter().map(|text| format!("unless {text}")));
            }
            Effect::Allow => {
                let better = match &best {
                    None => true,
                    Some(current) => {
                        (grant, truth) == (TrustGrant::Named, Truth::True)
                            && current.truth != Truth::True
                    }
                };
                if better {
                    best = Some(TrustMatch {
                        grant,
                        truth,
                        statements: vec![reference],
                        conditions,
                    });
                } else if let Some(current) = &mut best {
                    current.statements.push(reference);
                }
            }
        }
    }

    let mut found = best?;
    match denied {
        Truth::True => None,
        Truth::Unknown => {
            found.truth = found.truth.and(Truth::Unknown);
            found.conditions.extend(deny_conditions);
            Some(found)
        }
        Truth::False => Some(found),
    }
}

/// Decides whether `principal` can assume role `role` of the same account.
pub fn can_assume(account: &Account, principal: PrincipalId, role: usize) -> Option<Assumer> {
    if principal == PrincipalId::Role(role) && account.roles[role].trust_policy.is_none() {
        return None;
    }
    let context = account.principal_context(principal);
    let trust = trust_match(account, role, principal, &context)?;
    let policies = account.policies_of(principal);
    let request = Request {
        action: ASSUME_ROLE,
        resource: &account.roles[role].arn,
        context: &context,
    };
    let decision = evaluate(&policies, &request);

    let mut conditions = trust.conditions;
    let mut identity_statements = Vec::new();
    let identity_verdict = match decision {
        Decision::Denied { .. } => return None,
        Decision::NotAllowed { layer } => match (trust.grant, layer) {
            (TrustGrant::Named, Layer::Identity | Layer::PermissionsBoundary) => Verdict::Allowed,
            _ => return None,
        },
        Decision::Allowed { statements } => {
            identity_statements = statements;
            Verdict::Allowed
        }
        Decision::Conditional {
            allowed_if,
            denied_if,
        } => {
            identity_statements = allowed_if
                .iter()
                .map(|entry| entry.statement.clone())
                .collect();
            append_conditions(&allowed_if, "", &mut conditions);
            append_conditions(&denied_if, "unless ", &mut conditions);
            if trust.grant == TrustGrant::Named && denied_if.is_empty() {
                Verdict::Allowed
            } else {
                Verdict::Conditional
            }
        }
    };
    let verdict = if trust.truth == Truth::True && identity_verdict == Verdict::Allowed {
        Verdict::Allowed
    } else {
        Verdict::Conditional
    };

    Some(Assumer {
        principal,
        arn: account.principal_arn(principal).to_string(),
        verdict,
        via: trust.grant,
        trust_statements: trust.statements,
        identity_statements,
        conditions,
    })
}

fn append_conditions(
    statements: &[ConditionalStatement],
    prefix: &str,
    conditions: &mut Vec<String>,
) {
    for statement in statements {
        for condition in &statement.conditions {
            conditions.push(format!("{prefix}{condition}"));
        }
        for variable in &statement.unresolved_variables {
            conditions.push(format!("{prefix}the value of `${{{variable}}}` matches"));
        }
    }
}

/// Lists everyone who can assume role `role`: principals of the account and external
/// principals named in the trust policy.
pub fn who_can_assume(account: &Account, role: usize) -> RoleAssumers {
    let principals = account
        .principals()
        .filter_map(|principal| can_assume(account, principal, role))
        .collect();

    let mut external = Vec::new();
    if let Some(trust) = trust_source(account, role) {
        let own_account = account.account_id.as_deref().unwrap_or_default();
        for (index, statement) in trust.document.statements.iter().enumerate() {
            let (Effect::Allow, Some(PrincipalElement::Principal(entries))) =
                (statement.effect, &statement.principal)
            else {
                continue;
            };
            for entry in entries {
                let inside = entry.kind == PrincipalKind::Aws
                    && !entry.is_public()
                    && entry.account() == Some(own_account);
                if inside {
                    continue;
                }
                external.push(ExternalTrust {
                    principal: entry.clone(),
                    public: entry.is_public(),
                    conditional: !statement.conditions.is_empty(),
                    statement: StatementRef {
                        source: trust.source.clone(),
                        document: trust.document.clone(),
                        index,
                    },
                });
            }
        }
    }

    RoleAssumers {
        role_arn: account.roles[role].arn.clone(),
        principals,
        external,
    }
}

/// Checks whether the role's trust policy lets AWS service `service` (such as
/// `ec2.amazonaws.com`) assume it, so the role can be passed to that service.
pub fn trusts_service(account: &Account, role: usize, service: &str) -> bool {
    let Some(trust) = &account.roles[role].trust_policy else {
        return false;
    };
    trust.statements.iter().any(|statement| {
        statement.effect == Effect::Allow
            && statement.matches_action(ASSUME_ROLE)
            && matches!(&statement.principal, Some(PrincipalElement::Principal(entries))
                if entries.iter().any(|entry| entry.kind == PrincipalKind::Service && entry.value == service))
    })
}

#[cfg(test)]
mod tests;
