//! "Who can do X on Y": every principal of an account allowed an action on a resource,
//! with the statements that allow it.

use rayon::prelude::*;

use crate::account::{Account, PrincipalId};
use crate::assume::{can_assume, ASSUME_ROLE};
use crate::context::RequestContext;
use crate::evaluate::{allowing_statements, evaluate, Decision, Request, StatementRef, Verdict};

/// One principal allowed the requested action.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Grant {
    pub arn: String,
    pub name: String,
    #[serde(skip)]
    pub principal: PrincipalId,
    /// [`Verdict::Allowed`] or [`Verdict::Conditional`].
    pub verdict: Verdict,
    /// The statements that allow the request (for a role assumption, the trust policy
    /// statements first).
    pub statements: Vec<StatementRef>,
    /// Conditions left undecided, as text; deny conditions start with `unless `.
    pub conditions: Vec<String>,
}

/// Lists the principals that may perform `action` on `resource`. Keys in `context` are
/// added to each principal's own context (user name, tags and so on). Other keys stay
/// unknown, so conditions on them make a grant conditional. `sts:AssumeRole` on a role of the
/// account is decided with the role's trust policy (see [`crate::assume`]).
pub fn who_can(
    account: &Account,
    action: &str,
    resource: &str,
    context: &[(String, String)],
) -> Vec<Grant> {
    let principals: Vec<PrincipalId> = account.principals().collect();
    let assumed_role = action
        .eq_ignore_ascii_case(ASSUME_ROLE)
        .then(|| account.principal_by_arn(resource))
        .flatten()
        .and_then(|principal| match principal {
            PrincipalId::Role(role) => Some(role),
            PrincipalId::User(_) => None,
        });

    principals
        .into_par_iter()
        .filter_map(|principal| {
            if let Some(role) = assumed_role {
                let assumer = can_assume(account, principal, role)?;
                let mut statements = assumer.trust_statements;
                statements.extend(assumer.identity_statements);
                return Some(grant(
                    account,
                    principal,
                    assumer.verdict,
                    statements,
                    assumer.conditions,
                ));
            }

            let mut principal_context = account.principal_context(principal);
            for (key, value) in context {
                principal_context.insert(key, value.as_str());
            }
            decide(account, principal, action, resource, &principal_context)
        })
        .collect()
}

fn decide(
    account: &Account,
    principal: PrincipalId,
    action: &str,
    resource: &str,
    context: &RequestContext,
) -> Option<Grant> {
    let policies = account.policies_of(principal);
    let request = Request {
        action,
        resource,
        context,
    };
    match evaluate(&policies, &request) {
        Decision::Allowed { statements } => Some(grant(
            account,
            principal,
            Verdict::Allowed,
            statements,
            Vec::new(),
        )),
        Decision::Conditional {
            allowed_if,
            denied_if,
        } => {
            let mut conditions = Vec::new();
            let mut statements = Vec::new();
            for entry in &allowed_if {
                statements.push(entry.statement.clone());
                conditions.extend(entry.conditions.iter().map(ToString::to_string));
                conditions.extend(
                    entry
                        .unresolved_variables
                        .iter()
                        .map(|variable| format!("the value of `${{{variable}}}` matches")),
                );
            }
            for entry in &denied_if {
                conditions.extend(
                    entry
                        .conditions
                        .iter()
                        .map(|condition| format!("unless {condition}")),
                );
            }
            if statements.is_empty() {
                // The allow is certain and only a deny is conditional: name the allow too.
                statements = allowing_statements(&policies, &request);
            }
            Some(grant(
                account,
                principal,
                Verdict::Conditional,
                statements,
                conditions,
            ))
        }
        Decision::Denied { .. } | Decision::NotAllowed { .. } => None,
    }
}

fn grant(
    account: &Account,
    principal: PrincipalId,
    verdict: Verdict,
    statements: Vec<StatementRef>,
    conditions: Vec<String>,
) -> Grant {
    Grant {
        arn: account.principal_arn(principal).to_string(),
        name: account.principal_name(principal).to_string(),
        principal,
        verdict,
        statements,
        conditions,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::*;

    #[test]
    fn lists_allowed_and_conditional_principals() {
        let account = account(
            vec![
                user(
                    "reader",
                    vec![allow(
                        json!("s3:GetObject"),
                        json!("arn:aws:s3:::reports/*"),
                    )],
                ),
                user(
                    "other",
                    vec![allow(json!("s3:GetObject"), json!("arn:aws:s3:::other/*"))],
                ),
                user(
                    "mfa",
                    vec![
                        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
                    ],
                ),
            ],
            vec![],
            vec![],
            vec![],
        );
        let grants = who_can(&account, "s3:GetObject", "arn:aws:s3:::reports/q1.csv", &[]);
        let names: Vec<(&str, Verdict)> = grants
            .iter()
            .map(|grant| (grant.name.as_str(), grant.verdict))
            .collect();
        assert_eq!(
            names,
            [("reader", Verdict::Allowed), ("mfa", Verdict::Conditional)]
        );
        assert_eq!(
            grants[0].statements[0].to_string(),
            "statement 1 of inline policy `inline0`"
        );
        assert_eq!(
            grants[1].conditions,
            ["Bool aws:MultiFactorAuthPresent `true`"]
        );

        let with_mfa = who_can(
            &account,
            "s3:GetObject",
            "arn:aws:s3:::reports/q1.csv",
            &[("aws:MultiFactorAuthPresent".to_string(), "true".to_string())],
        );
        assert!(with_mfa
            .iter()
            .all(|grant| grant.verdict == Verdict::Allowed));
    }

    #[test]
    fn assume_role_uses_trust_policy() {
        let account = account(
            vec![
                user("alice", vec![allow(json!("sts:AssumeRole"), json!("*"))]),
                user("bob", vec![]),
            ],
            vec![],
            vec![role("deploy", trust(json!({"AWS": ACCOUNT})), vec![])],
            vec![],
        );
        let grants = who_can(&account, "sts:AssumeRole", &role_arn("deploy"), &[]);
        let names: Vec<&str> = grants.iter().map(|grant| grant.name.as_str()).collect();
        assert_eq!(names, ["alice"]);
        assert_eq!(
            grants[0].statements.len(),
            2,
            "trust and identity statements"
        );
    }
}
