//! An account prepared for analysis: each principal's policies, request context and
//! access bitsets, computed once and in parallel.

use rayon::prelude::*;

use crate::access::{access_bits, AccessBits};
use crate::account::{Account, PolicySource, PrincipalId, PrincipalPolicies};
use crate::assume::{trust_match, TrustGrant, ASSUME_ROLE};
use crate::catalog::{ActionId, Catalog};
use crate::context::{RequestContext, Truth};
use crate::evaluate::{check, Layer, Request, Verdict};

/// One principal ready for analysis.
pub struct PrincipalState {
    pub id: PrincipalId,
    pub policies: PrincipalPolicies,
    pub context: RequestContext,
    pub bits: AccessBits,
    /// Groups (by index) the user would belong to after an escalation step, in addition
    /// to its own. Empty for the account's real principals.
    pub joined_groups: Vec<usize>,
}

/// The prepared account.
pub struct AccountModel<'a> {
    pub account: &'a Account,
    pub catalog: &'a Catalog,
    /// Users first, then roles, in account order.
    pub principals: Vec<PrincipalState>,
}

impl<'a> AccountModel<'a> {
    pub fn new(account: &'a Account, catalog: &'a Catalog) -> AccountModel<'a> {
        AccountModel::with_policy_filter(account, catalog, |_| true)
    }

    /// Prepares the account using only the identity policies for which `keep` returns
    /// true.
    pub fn with_policy_filter(
        account: &'a Account,
        catalog: &'a Catalog,
        keep: impl Fn(&PolicySource) -> bool + Sync,
    ) -> AccountModel<'a> {
        let ids: Vec<PrincipalId> = account.principals().collect();
        let principals = ids
            .into_par_iter()
            .map(|id| {
                let mut policies = account.policies_of(id);
                // Boundaries and SCPs only limit access, so they are always kept.
                policies.identity.retain(|policy| keep(&policy.source));
                let context = account.principal_context(id);
                let bits = access_bits(&policies, &context, catalog);
                PrincipalState {
                    id,
                    policies,
                    context,
                    bits,
                    joined_groups: Vec::new(),
                }
            })
            .collect();
        AccountModel {
            account,
            catalog,
            principals,
        }
    }

    /// Position of a principal in [`AccountModel::principals`].
    pub fn index_of(&self, id: PrincipalId) -> usize {
        match id {
            PrincipalId::User(index) => index,
            PrincipalId::Role(index) => self.account.users.len() + index,
        }
    }

    /// Prepares the state a user would have after joining group `group`: its own
    /// policies plus the group's.
    pub fn joined(&self, state: &PrincipalState, group: usize) -> PrincipalState {
        let mut policies = state.policies.clone();
        self.account
            .push_group_policies(&self.account.groups[group], &mut policies.identity);
        let bits = access_bits(&policies, &state.context, self.catalog);
        let mut joined_groups = state.joined_groups.clone();
        joined_groups.push(group);
        PrincipalState {
            id: state.id,
            policies,
            context: state.context.clone(),
            bits,
            joined_groups,
        }
    }

    pub fn state(&self, id: PrincipalId) -> &PrincipalState {
        &self.principals[self.index_of(id)]
    }

    /// Decides `action` on `resource` for a principal, skipping the evaluation when the
    /// bitsets already settle it.
    pub fn verdict(&self, state: &PrincipalState, action: ActionId, resource: &str) -> Verdict {
        if !state.bits.any.contains(action) {
            return Verdict::NotAllowed;
        }
        if state.bits.all_resources.contains(action) {
            return Verdict::Allowed;
        }
        // Allowed on every resource under conditions of the principal alone, and no deny
        // names the action: the verdict is the same for every resource.
        if state.bits.all_resources_possibly.contains(action)
            && !state.bits.denied_somewhere.contains(action)
        {
            return Verdict::Conditional;
        }
        let request = Request {
            action: &self.catalog.action(action).name,
            resource,
            context: &state.context,
        };
        check(&state.policies, &request)
    }

    /// Decides whether the principal can assume role `role` (see [`crate::assume`]), without
    /// collecting statements.
    pub fn assume_verdict(&self, state: &PrincipalState, role: usize) -> Verdict {
        if state.id == PrincipalId::Role(role) {
            return Verdict::NotAllowed;
        }
        let Some(trust) = trust_match(self.account, role, state.id, &state.context) else {
            return Verdict::NotAllowed;
        };
        let request = Request {
            action: ASSUME_ROLE,
            resource: &self.account.roles[role].arn,
            context: &state.context,
        };
        let identity = match check(&state.policies, &request) {
            Verdict::NotAllowed if trust.grant == TrustGrant::Named => {
                named_trust_fallback(state, &request)
            }
            verdict => verdict,
        };
        match (identity, trust.truth) {
            (Verdict::Allowed, Truth::True) => Verdict::Allowed,
            (Verdict::Allowed | Verdict::Conditional, _) => Verdict::Conditional,
            (verdict, _) => verdict,
        }
    }
}

/// Decides a request whose trust policy names the principal: no identity allow is
/// needed, but SCPs still apply.
fn named_trust_fallback(state: &PrincipalState, request: &Request<'_>) -> Verdict {
    match crate::evaluate::evaluate(&state.policies, request) {
        crate::evaluate::Decision::NotAllowed {
            layer: Layer::Identity | Layer::PermissionsBoundary,
        } => Verdict::Allowed,
        decision => decision.verdict(),
    }
}
