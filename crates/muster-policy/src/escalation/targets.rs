//! Finding a technique's candidate targets without testing every user, role or group.
//!
//! The ARNs of each kind of target are kept sorted, so the targets a resource pattern can
//! match are found by the pattern's literal prefix (`arn:aws:iam::1:user/team-a/` for
//! `arn:aws:iam::1:user/team-a/*`) and a glob match on that range only. Role trust
//! policies are summarised once, so most "can P assume R" questions need no evaluation.

use std::collections::HashMap;

use crate::account::{Account, PrincipalId};
use crate::assume::{trusts_service, ASSUME_ROLE};
use crate::catalog::{ActionId, Catalog};
use crate::context::{RequestContext, Truth};
use crate::document::{Effect, PrincipalElement, PrincipalKind, ResourceElement};
use crate::model::PrincipalState;
use crate::pattern::Pattern;

use super::techniques::TECHNIQUES;
use super::Target;

/// Targets of one kind, sorted by ARN.
pub(super) struct ArnIndex {
    entries: Vec<(String, Target)>,
    /// The targets of `entries`, in the same order.
    targets: Vec<Target>,
}

impl ArnIndex {
    pub(super) fn new(mut entries: Vec<(String, Target)>) -> ArnIndex {
        entries.sort_by(|left, right| left.0.cmp(&right.0));
        let targets = entries.iter().map(|(_, target)| *target).collect();
        ArnIndex { entries, targets }
    }

    pub(super) fn all(&self) -> &[Target] {
        &self.targets
    }

    /// Lists the targets whose ARN may match one of `patterns`. An unknown variable counts
    /// as a possible match, and the full evaluation decides later.
    pub(super) fn matching(&self, patterns: &[&Pattern], context: &RequestContext) -> Vec<Target> {
        let mut found = Vec::new();
        for pattern in patterns {
            let prefix = pattern.literal_prefix();
            let start = self
                .entries
                .partition_point(|(arn, _)| arn.as_str() < prefix.as_str());
            for (arn, target) in self.entries[start..]
                .iter()
                .take_while(|(arn, _)| arn.starts_with(&prefix))
            {
                if pattern.matches_in(arn, context) != Truth::False {
                    found.push(*target);
                }
            }
        }
        if patterns.len() > 1 {
            found.sort_unstable();
            found.dedup();
        }
        found
    }
}

/// Candidate targets, borrowed from the indexes when no narrowing was needed.
pub(super) enum Candidates<'s> {
    Borrowed(&'s [Target]),
    Owned(Vec<Target>),
}

impl Candidates<'_> {
    pub(super) fn as_slice(&self) -> &[Target] {
        match self {
            Candidates::Borrowed(targets) => targets,
            Candidates::Owned(targets) => targets,
        }
    }
}

/// The resources an action's allow statements name for one principal.
pub(super) enum ResourceScope<'a> {
    /// `*`, `NotResource` or a missing element: any target may match.
    Any,
    Patterns(Vec<&'a Pattern>),
}

/// Collects the resource patterns of the principal's identity statements allowing `action`.
pub(super) fn allowed_resources<'a>(
    state: &'a PrincipalState,
    action: ActionId,
    catalog: &Catalog,
) -> ResourceScope<'a> {
    let mut patterns = Vec::new();
    for policy in &state.policies.identity {
        for statement in &policy.document.statements {
            if statement.effect != Effect::Allow
                || !statement.catalog_actions(catalog).contains(action)
            {
                continue;
            }
            if statement.conditions_hold(&state.context) == Truth::False {
                continue;
            }
            match &statement.resource {
                Some(ResourceElement::Resource(list)) if !list.iter().any(Pattern::is_any) => {
                    patterns.extend(list)
                }
                _ => return ResourceScope::Any,
            }
        }
    }
    ResourceScope::Patterns(patterns)
}

/// A role's trust policy in the simple form most accounts use: Allow statements without
/// conditions, naming principals for `sts:AssumeRole`, and no Deny or `NotPrincipal`.
/// Service, federated and canonical-user principals are not recorded.
pub(super) struct TrustSummary {
    /// The policy has another form; only the full evaluation can decide.
    pub complex: bool,
    pub trusts_account: bool,
    pub public: bool,
    pub named: Vec<String>,
}

impl TrustSummary {
    pub(super) fn new(account: &Account, role: usize) -> TrustSummary {
        let mut summary = TrustSummary {
            complex: false,
            trusts_account: false,
            public: false,
            named: Vec::new(),
        };
        let Some(trust) = &account.roles[role].trust_policy else {
            return summary;
        };
        let own_account = account.roles[role]
            .arn
            .split(':')
            .nth(4)
            .unwrap_or_default();
        for statement in &trust.statements {
            if !statement.matches_action(ASSUME_ROLE) {
                continue;
            }
            let simple = statement.effect == Effect::Allow
                && statement.conditions.is_empty()
                && statement.resource.is_none();
            let entries = match &statement.principal {
                Some(PrincipalElement::Principal(entries)) if simple => entries,
                _ => {
                    summary.complex = true;
                    continue;
                }
            };
            for entry in entries {
                match entry.kind {
                    PrincipalKind::Aws if entry.is_public() => summary.public = true,
                    PrincipalKind::Aws
                        if entry.is_account_root() && entry.account() == Some(own_account) =>
                    {
                        summary.trusts_account = true;
                    }
                    PrincipalKind::Aws => summary.named.push(entry.value.clone()),
                    PrincipalKind::Service
                    | PrincipalKind::Federated
                    | PrincipalKind::CanonicalUser => {}
                }
            }
        }
        summary
    }
}

/// Target indexes and trust summaries of one account.
pub(super) struct Targets {
    pub users: ArnIndex,
    pub roles: ArnIndex,
    pub groups: ArnIndex,
    pub trust: Vec<TrustSummary>,
    /// Roles whose trust policy names each service principal of the techniques.
    pub roles_trusting: HashMap<&'static str, Vec<Target>>,
    /// For each such service, whether each role (by index) trusts it.
    trusting_mask: HashMap<&'static str, Vec<bool>>,
    /// Roles whose trust policy names a principal ARN, or everyone (`*`), by that ARN.
    pub named_in: HashMap<String, Vec<Target>>,
    pub public: Vec<Target>,
}

impl Targets {
    pub(super) fn new(account: &Account) -> Targets {
        let users = account
            .users
            .iter()
            .enumerate()
            .map(|(index, user)| {
                (
                    user.arn.clone(),
                    Target::Principal(PrincipalId::User(index)),
                )
            })
            .collect();
        let roles = account
            .roles
            .iter()
            .enumerate()
            .map(|(index, role)| {
                (
                    role.arn.clone(),
                    Target::Principal(PrincipalId::Role(index)),
                )
            })
            .collect();
        let groups = account
            .groups
            .iter()
            .enumerate()
            .map(|(index, group)| (group.arn.clone(), Target::Group(index)))
            .collect();
        let trust: Vec<TrustSummary> = (0..account.roles.len())
            .map(|role| TrustSummary::new(account, role))
            .collect();

        let mut trusting_mask: HashMap<&'static str, Vec<bool>> = HashMap::new();
        for service in TECHNIQUES.iter().filter_map(|technique| technique.service) {
            trusting_mask.entry(service).or_insert_with(|| {
                (0..account.roles.len())
                    .map(|role| trusts_service(account, role, service))
                    .collect()
            });
        }
        let roles_trusting = trusting_mask
            .iter()
            .map(|(service, mask)| {
                let roles = mask
                    .iter()
                    .enumerate()
                    .filter(|(_, trusts)| **trusts)
                    .map(|(role, _)| Target::Principal(PrincipalId::Role(role)))
                    .collect();
                (*service, roles)
            })
            .collect();

        let mut named_in: HashMap<String, Vec<Target>> = HashMap::new();
        let mut public = Vec::new();
        for (role, summary) in trust.iter().enumerate() {
            let target = Target::Principal(PrincipalId::Role(role));
            if summary.public || summary.complex {
                public.push(target);
            }
            for arn in &summary.named {
                named_in.entry(arn.clone()).or_default().push(target);
            }
        }

        Targets {
            users: ArnIndex::new(users),
            roles: ArnIndex::new(roles),
            groups: ArnIndex::new(groups),
            trust,
            roles_trusting,
            trusting_mask,
            named_in,
            public,
        }
    }
}

impl Targets {
    /// Checks whether role `role` trusts `service`, for the services of the technique table.
    pub(super) fn role_trusts(&self, role: usize, service: &str) -> bool {
        self.trusting_mask
            .get(service)
            .and_then(|mask| mask.get(role))
            .copied()
            .unwrap_or(false)
    }
}
