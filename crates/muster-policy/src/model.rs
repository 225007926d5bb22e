//! An account prepared for analysis: each principal's policies, request context and
//! access bitsets, computed once and in parallel.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::access::{access_bits, AccessBits};
use crate::account::{Account, PolicySource, PrincipalId, PrincipalPolicies, SourcedPolicy};
use crate::assume::{trust_match, TrustGrant, ASSUME_ROLE};
use crate::catalog::{ActionId, Catalog};
use crate::context::{RequestContext, Truth};
use crate::document::Effect;
use crate::evaluate::{check, Layer, Request, Verdict};

/// One principal ready for analysis.
pub struct PrincipalState {
    pub id: PrincipalId,
    pub policies: PrincipalPolicies,
    pub context: RequestContext,
    /// Shared by the principals whose policies give the same bitsets.
    pub bits: Arc<AccessBits>,
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
        let prepared: Vec<(PrincipalId, PrincipalPolicies, RequestContext, Vec<usize>)> = ids
            .into_par_iter()
            .map(|id| {
                let mut policies = account.policies_of(id);
                // Boundaries and SCPs only limit access, so they are always kept.
                policies.identity.retain(|policy| keep(&policy.source));
                let context = account.principal_context(id);
                let key = bits_key(&policies, &context);
                (id, policies, context, key)
            })
            .collect();

        // Principals whose statements come down to the same inputs share their bitsets:
        // they are computed once, and stored once.
        let mut first_of_key: HashMap<&[usize], usize> = HashMap::new();
        let mut firsts: Vec<usize> = Vec::new();
        let slots: Vec<usize> = prepared
            .iter()
            .enumerate()
            .map(|(index, (_, _, _, key))| {
                *first_of_key.entry(key.as_slice()).or_insert_with(|| {
                    firsts.push(index);
                    firsts.len() - 1
                })
            })
            .collect();
        let bits: Vec<Arc<AccessBits>> = firsts
            .par_iter()
            .map(|index| {
                let (_, policies, context, _) = &prepared[*index];
                Arc::new(access_bits(policies, context, catalog))
            })
            .collect();
        drop(first_of_key);

        let principals = prepared
            .into_iter()
            .zip(slots)
            .map(|((id, policies, context, _), slot)| PrincipalState {
                id,
                policies,
                context,
                bits: bits[slot].clone(),
                joined_groups: Vec::new(),
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
        let bits = Arc::new(access_bits(&policies, &state.context, self.catalog));
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

/// Lists what [`access_bits`] reads of a principal's policies: per layer, the statements
/// that may apply, as their shared action expansion, effect, whether they cover every
/// resource and whether their conditions hold. Principals with equal lists get equal
/// bitsets.
fn bits_key(policies: &PrincipalPolicies, context: &RequestContext) -> Vec<usize> {
    // Layer marks: expansion addresses are never this small.
    const IDENTITY: usize = 1;
    const BOUNDARY: usize = 2;
    const SERVICE_CONTROL: usize = 3;

    let mut key = Vec::new();
    let mut push_layer = |mark: usize, layer: &mut dyn Iterator<Item = &SourcedPolicy>| {
        key.push(mark);
        for statement in layer.flat_map(|policy| &policy.document.statements) {
            let truth = statement.conditions_hold(context);
            if truth == Truth::False {
                continue;
            }
            key.push(statement.catalog_actions_address());
            key.push(
                usize::from(statement.effect == Effect::Allow)
                    | usize::from(statement.applies_to_all_resources()) << 1
                    | usize::from(truth == Truth::True) << 2,
            );
        }
    };
    push_layer(IDENTITY, &mut policies.identity.iter());
    if let Some(boundary) = &policies.boundary {
        push_layer(BOUNDARY, &mut std::iter::once(boundary));
    }
    for level in &policies.service_control {
        push_layer(SERVICE_CONTROL, &mut level.iter());
    }
    key
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
