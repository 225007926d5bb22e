//! Privilege escalation: which known techniques each principal can use, on which
//! targets, and the shortest chain of techniques that makes it administrator.
//!
//! The techniques are data ([`techniques::TECHNIQUES`]). The search first marks the
//! principals that are administrators through their own policies, then repeatedly adds
//! principals that can make themselves administrator or take over an administrator
//! principal, until nothing changes. Each step of a path names the statements that allow
//! each of its actions.

mod targets;
pub mod techniques;

use std::sync::Arc;

use rayon::prelude::*;

use crate::access::access_bits;
use crate::account::{Account, PrincipalId, PrincipalPolicies};
use crate::catalog::ActionId;
use crate::context::{RequestContext, Truth};
use crate::document::{ActionElement, Effect, Policy};
use crate::evaluate::{evaluate, Decision, Request, StatementRef, Verdict};
use crate::model::{AccountModel, PrincipalState};
use targets::{allowed_resources, ArnIndex, Candidates, ResourceScope, Targets};
use techniques::{Gain, StepResource, TargetKind, Technique, TECHNIQUES};

/// How many targets of one technique a finding lists by name.
pub const LISTED_TARGETS: usize = 10;

/// The user, role, group or policy a technique acts on, in one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Principal(PrincipalId),
    Group(usize),
    Policy(usize),
}

/// One action of a step, allowed by the listed statements.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepGrant {
    pub action: String,
    /// The ARN the action was checked on, or `*` for a step that creates something new.
    pub resource: String,
    pub verdict: Verdict,
    pub statements: Vec<StatementRef>,
}

/// One use of a technique by a principal on a target.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EscalationStep {
    pub technique: &'static str,
    pub description: &'static str,
    /// ARN of the principal using the technique.
    pub principal: String,
    /// ARN of the target user, role, group or policy.
    pub target: String,
    pub gain: Gain,
    /// Some action or the role assumption is allowed only under conditions.
    pub conditional: bool,
    /// The step works only if a resource already runs with the target role.
    pub needs_existing_resource: bool,
    pub grants: Vec<StepGrant>,
}

/// A chain of steps that ends with administrator access.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EscalationPath {
    pub steps: Vec<EscalationStep>,
    pub conditional: bool,
}

/// A technique a principal can use, with its targets.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TechniqueUse {
    pub technique: &'static str,
    pub gain: Gain,
    /// ARNs of up to [`LISTED_TARGETS`] targets.
    pub targets: Vec<String>,
    pub target_count: usize,
    /// Every target is reachable only under conditions.
    pub conditional: bool,
    /// The step on the first target, with its statements.
    pub example: EscalationStep,
}

/// The first step of a principal's route to administrator access.
#[derive(Debug, Clone, Copy)]
enum Reach {
    /// Its own policies allow everything (perhaps only under conditions).
    Direct { conditional: bool },
    /// Through one technique, either directly to administrator (`next` is `None`) or to
    /// a principal that reaches it (`next`, an index into the model's principals).
    Via {
        technique: usize,
        target: Target,
        next: Option<usize>,
        conditional: bool,
        /// After joining group `target` (technique `add-user-to-group`), the technique
        /// and target through which the user, now a member, makes itself administrator.
        then: Option<(usize, Target)>,
    },
}

impl Reach {
    fn conditional(&self) -> bool {
        match self {
            Reach::Direct { conditional } | Reach::Via { conditional, .. } => *conditional,
        }
    }
}

/// Escalation results for every principal of a model.
pub struct Escalations {
    reach: Vec<Option<Reach>>,
    /// Per principal, the techniques it can use.
    pub uses: Vec<Vec<TechniqueUse>>,
}

/// Shared inputs of the search.
struct Search<'m, 'a> {
    model: &'m AccountModel<'a>,
    /// Catalog ids of each technique's steps; `None` when an action is not in the catalog.
    step_actions: Vec<Option<Vec<ActionId>>>,
    /// Groups whose own policies allow every action on every resource.
    admin_groups: Vec<bool>,
    /// Managed policies with a stored non-default version allowing everything.
    policies_with_admin_version: Vec<bool>,
    /// Managed policies that allow every action on every resource, so as a permissions
    /// boundary they limit nothing.
    policies_allowing_everything: Vec<bool>,
    targets: Targets,
    assume_role_action: Option<ActionId>,
}

/// Runs the escalation search over every principal.
pub fn find_escalations(model: &AccountModel<'_>) -> Escalations {
    let search = Search::new(model);
    let count = model.principals.len();

    let mut reach: Vec<Option<Reach>> = model
        .principals
        .iter()
        .map(|state| {
            if state.bits.is_admin(model.catalog) {
                Some(Reach::Direct { conditional: false })
            } else if state.bits.is_possibly_admin(model.catalog) {
                Some(Reach::Direct { conditional: true })
            } else {
                None
            }
        })
        .collect();

    // Each round adds at least one principal or ends the loop.
    for _ in 0..=count {
        let found: Vec<(usize, Reach)> = (0..count)
            .into_par_iter()
            .filter(|index| reach[*index].is_none())
            .filter_map(|index| {
                search
                    .reach_admin(index, &reach)
                    .map(|found| (index, found))
            })
            .collect();
        if found.is_empty() {
            break;
        }
        for (index, found) in found {
            reach[index] = Some(found);
        }
    }

    let uses = (0..count)
        .into_par_iter()
        .map(|index| search.technique_uses(index))
        .collect();
    Escalations { reach, uses }
}

impl Escalations {
    /// Tells whether the principal is administrator or can become one: `Some(conditional)`
    /// if so, `None` when it cannot.
    pub fn admin(&self, model: &AccountModel<'_>, principal: PrincipalId) -> Option<bool> {
        self.reach[model.index_of(principal)].map(|reach| reach.conditional())
    }

    /// Checks whether the principal's own policies make it administrator, with no
    /// escalation needed.
    pub fn is_direct_admin(&self, model: &AccountModel<'_>, principal: PrincipalId) -> bool {
        matches!(
            self.reach[model.index_of(principal)],
            Some(Reach::Direct { .. })
        )
    }

    /// Builds the chain of steps from the principal to administrator access. Returns `None`
    /// when it is administrator through its own policies or cannot become one.
    pub fn path_to_admin(
        &self,
        model: &AccountModel<'_>,
        principal: PrincipalId,
    ) -> Option<EscalationPath> {
        let mut steps = Vec::new();
        let mut index = model.index_of(principal);
        // Each principal's next step points to one reached in an earlier round, so the
        // chain has no cycle. The bound only guards against a bug in that invariant.
        for _ in 0..model.principals.len() {
            match self.reach[index]? {
                Reach::Direct { .. } => break,
                Reach::Via {
                    technique,
                    target,
                    next,
                    then,
                    ..
                } => {
                    let state = &model.principals[index];
                    steps.push(explain(model, state, &TECHNIQUES[technique], target));
                    if let (Some((then_technique, then_target)), Target::Group(group)) =
                        (then, target)
                    {
                        let joined = model.joined(state, group);
                        steps.push(explain(
                            model,
                            &joined,
                            &TECHNIQUES[then_technique],
                            then_target,
                        ));
                    }
                    match next {
                        Some(next) => index = next,
                        None => break,
                    }
                }
            }
        }
        if steps.is_empty() {
            return None;
        }
        let conditional =
            self.reach[model.index_of(principal)].is_some_and(|reach| reach.conditional());
        Some(EscalationPath { steps, conditional })
    }
}

impl<'m, 'a> Search<'m, 'a> {
    fn new(model: &'m AccountModel<'a>) -> Search<'m, 'a> {
        let catalog = model.catalog;
        let step_actions = TECHNIQUES
            .iter()
            .map(|technique| {
                technique
                    .steps
                    .iter()
                    .map(|step| catalog.find(step.action))
                    .collect::<Option<Vec<_>>>()
            })
            .collect();

        let account = model.account;
        let admin_groups = account
            .groups
            .iter()
            .map(|group| {
                let mut identity = Vec::new();
                account.push_group_policies(group, &mut identity);
                let policies = PrincipalPolicies {
                    identity,
                    boundary: None,
                    service_control: Vec::new(),
                };
                access_bits(&policies, &RequestContext::new(), catalog).is_admin(catalog)
            })
            .collect();
        let policies_with_admin_version = account
            .managed_policies
            .iter()
            .map(|policy| {
                policy
                    .other_versions
                    .iter()
                    .any(|(_, document)| allows_everything(document))
            })
            .collect();

        let policies_allowing_everything = account
            .managed_policies
            .iter()
            .map(|policy| allows_everything(&policy.document))
            .collect();

        Search {
            model,
            step_actions,
            admin_groups,
            policies_with_admin_version,
            policies_allowing_everything,
            targets: Targets::new(account),
            assume_role_action: catalog.find(crate::assume::ASSUME_ROLE),
        }
    }

    /// Finds how principal `index` reaches administrator, given the principals `reach`
    /// already marks.
    fn reach_admin(&self, index: usize, reach: &[Option<Reach>]) -> Option<Reach> {
        let state = &self.model.principals[index];
        for (technique_index, technique) in TECHNIQUES.iter().enumerate() {
            if !self.may_use(state, technique_index) {
                continue;
            }
            let candidates = self.candidates(state, technique_index);
            for target in candidates.as_slice().iter().copied() {
                if self.skips(state, technique, target) {
                    continue;
                }
                let mut then = None;
                let mut then_conditional = false;
                let next = match (technique.gain, target) {
                    (Gain::Administrator, _) => {
                        if self.boundary_limits(state, technique, target) {
                            continue;
                        }
                        None
                    }
                    (Gain::TargetPermissions, Target::Principal(principal)) => {
                        let next = self.model.index_of(principal);
                        if reach[next].is_none() {
                            continue;
                        }
                        Some(next)
                    }
                    (Gain::TargetPermissions, Target::Group(group)) => {
                        if !self.admin_groups[group] || self.has_limiting_boundary(state) {
                            // Joining is costly, so check the technique itself first.
                            if self.try_technique(state, technique_index, target).is_none() {
                                continue;
                            }
                            let joined = self.model.joined(state, group);
                            let Some((second, second_target, verdict)) =
                                self.self_escalation(&joined)
                            else {
                                continue;
                            };
                            then = Some((second, second_target));
                            then_conditional = verdict == Verdict::Conditional;
                        }
                        None
                    }
                    (Gain::TargetPermissions, Target::Policy(_)) => continue,
                };
                let Some(verdict) = self.try_technique(state, technique_index, target) else {
                    continue;
                };
                let next_conditional = next
                    .and_then(|next| reach[next])
                    .is_some_and(|reach| reach.conditional());
                return Some(Reach::Via {
                    technique: technique_index,
                    target,
                    next,
                    conditional: verdict == Verdict::Conditional
                        || next_conditional
                        || then_conditional,
                    then,
                });
            }
        }
        None
    }

    /// Finds a technique by which the principal makes itself administrator without
    /// taking over another principal: writing its own, its groups' or its attached
    /// policies. Used for a user that has just joined a group.
    fn self_escalation(&self, state: &PrincipalState) -> Option<(usize, Target, Verdict)> {
        for (technique_index, technique) in TECHNIQUES.iter().enumerate() {
            let own = matches!(
                technique.target,
                TargetKind::Itself
                    | TargetKind::OwnGroup
                    | TargetKind::AttachedPolicy
                    | TargetKind::AttachedPolicyWithAdminVersion
            );
            if !own
                || technique.gain != Gain::Administrator
                || !self.may_use(state, technique_index)
            {
                continue;
            }
            for target in self.candidates(state, technique_index).as_slice() {
                if self.boundary_limits(state, technique, *target) {
                    continue;
                }
                if let Some(verdict) = self.try_technique(state, technique_index, *target) {
                    return Some((technique_index, *target, verdict));
                }
            }
        }
        None
    }

    /// Checks whether the principal has a permissions boundary that does not allow
    /// everything, which caps whatever policy it attaches to itself.
    fn has_limiting_boundary(&self, state: &PrincipalState) -> bool {
        state
            .policies
            .boundary
            .as_ref()
            .is_some_and(|boundary| !allows_everything(&boundary.document))
    }

    /// Checks whether a permissions boundary keeps an administrator-gain technique from
    /// giving every permission: the principal's own boundary when it writes its own
    /// policies, or the target role's boundary when it writes a role's.
    // NOTE: removing the boundary (iam:DeleteUserPermissionsBoundary and the like) is not
    // in the technique table, so such a principal is not reported as administrator.
    fn boundary_limits(
        &self,
        state: &PrincipalState,
        technique: &Technique,
        target: Target,
    ) -> bool {
        match (technique.target, target) {
            (TargetKind::Role, Target::Principal(PrincipalId::Role(role))) => {
                let account = self.model.account;
                account.roles[role]
                    .permissions_boundary
                    .as_ref()
                    .is_some_and(|arn| match account.managed_policy_index(arn) {
                        Some(index) => !self.policies_allowing_everything[index],
                        None => true,
                    })
            }
            _ => self.has_limiting_boundary(state),
        }
    }

    /// Lists every technique the principal can use, with its targets.
    fn technique_uses(&self, index: usize) -> Vec<TechniqueUse> {
        let state = &self.model.principals[index];
        let mut uses = Vec::new();
        for (technique_index, technique) in TECHNIQUES.iter().enumerate() {
            if !self.may_use(state, technique_index) {
                continue;
            }
            let candidates = self.candidates(state, technique_index);
            let mut valid = candidates
                .as_slice()
                .iter()
                .copied()
                .filter(|target| !self.skips(state, technique, *target));
            let mut targets = Vec::new();
            let mut target_count = 0;
            let mut all_conditional = true;
            if let Some(verdict) = self.uniform_verdict(state, technique_index) {
                // Every candidate gets the same verdict, so none needs its own check.
                targets.extend(valid.take(LISTED_TARGETS));
                target_count = self.count_valid(state, technique, &candidates);
                all_conditional = verdict == Verdict::Conditional;
            } else {
                for target in valid.by_ref() {
                    let Some(verdict) = self.try_technique(state, technique_index, target) else {
                        continue;
                    };
                    target_count += 1;
                    all_conditional &= verdict == Verdict::Conditional;
                    if targets.len() < LISTED_TARGETS {
                        targets.push(target);
                    }
                }
            }
            let Some(first) = targets.first() else {
                continue;
            };
            uses.push(TechniqueUse {
                technique: technique.id,
                gain: technique.gain,
                example: explain(self.model, state, technique, *first),
                targets: targets
                    .iter()
                    .map(|target| target_arn(self.model.account, *target).to_string())
                    .collect(),
                target_count,
                conditional: all_conditional,
            });
        }
        uses
    }

    /// Computes the verdict the technique gets on every candidate target when no step
    /// depends on the target, because each action is allowed on every resource (perhaps
    /// under conditions of the principal) and no deny statement names it. Returns `None`
    /// when targets must be checked one by one.
    fn uniform_verdict(&self, state: &PrincipalState, technique_index: usize) -> Option<Verdict> {
        let technique = &TECHNIQUES[technique_index];
        if technique.assume_target {
            return None;
        }
        let actions = self.step_actions[technique_index].as_ref()?;
        let bits = &state.bits;
        let mut combined = Verdict::Allowed;
        for (step, action) in technique.steps.iter().zip(actions) {
            let verdict = if bits.all_resources.contains(*action) {
                Verdict::Allowed
            } else if step.on == StepResource::Any
                || (bits.all_resources_possibly.contains(*action)
                    && !bits.denied_somewhere.contains(*action))
            {
                Verdict::Conditional
            } else {
                return None;
            };
            combined = combine(combined, verdict)?;
        }
        Some(combined)
    }

    /// Checks cheaply that the principal is allowed every action of the technique on some
    /// resource.
    fn may_use(&self, state: &PrincipalState, technique_index: usize) -> bool {
        let technique = &TECHNIQUES[technique_index];
        if technique.users_only && !matches!(state.id, PrincipalId::User(_)) {
            return false;
        }
        match &self.step_actions[technique_index] {
            Some(actions) => actions
                .iter()
                .all(|action| state.bits.any.contains(*action)),
            None => false,
        }
    }

    /// Lists the targets the principal may use the technique on: those its allow
    /// statements for the technique's first targeted action can name, narrowed to roles
    /// that trust the technique's service. Targets that [`Search::skips`] rejects may be
    /// included. The full check happens in `try_technique`.
    fn candidates<'s>(
        &'s self,
        state: &'s PrincipalState,
        technique_index: usize,
    ) -> Candidates<'s> {
        let technique = &TECHNIQUES[technique_index];
        let account = self.model.account;
        let targeted_action = self.step_actions[technique_index]
            .as_ref()
            .and_then(|actions| {
                technique
                    .steps
                    .iter()
                    .zip(actions)
                    .find(|(step, _)| step.on == StepResource::Target)
                    .map(|(_, action)| *action)
            });
        let scope =
            targeted_action.map(|action| allowed_resources(state, action, self.model.catalog));
        let in_scope = |index: &'s ArnIndex| match &scope {
            None | Some(ResourceScope::Any) => Candidates::Borrowed(index.all()),
            Some(ResourceScope::Patterns(patterns)) => {
                Candidates::Owned(index.matching(patterns, &state.context))
            }
        };

        match technique.target {
            TargetKind::Itself => Candidates::Owned(vec![Target::Principal(state.id)]),
            TargetKind::OwnGroup => Candidates::Owned(
                user_groups(account, state.id)
                    .iter()
                    .filter_map(|name| account.group_index(name))
                    .chain(state.joined_groups.iter().copied())
                    .map(Target::Group)
                    .collect(),
            ),
            TargetKind::AttachedPolicy | TargetKind::AttachedPolicyWithAdminVersion => {
                let with_admin_version =
                    technique.target == TargetKind::AttachedPolicyWithAdminVersion;
                let joined_arns = state
                    .joined_groups
                    .iter()
                    .flat_map(|group| &account.groups[*group].managed_policy_arns)
                    .map(String::as_str);
                Candidates::Owned(
                    account
                        .attached_policy_arns(state.id)
                        .into_iter()
                        .chain(joined_arns)
                        .filter_map(|arn| account.managed_policy_index(arn))
                        .filter(|index| !account.managed_policies[*index].is_aws_managed())
                        .filter(|index| {
                            !with_admin_version || self.policies_with_admin_version[*index]
                        })
                        .map(Target::Policy)
                        .collect(),
                )
            }
            TargetKind::OtherUser => in_scope(&self.targets.users),
            TargetKind::Group => in_scope(&self.targets.groups),
            TargetKind::Role => {
                let roles = match technique.service {
                    Some(service) => {
                        let trusting = self
                            .targets
                            .roles_trusting
                            .get(service)
                            .map_or(&[][..], Vec::as_slice);
                        match &scope {
                            None | Some(ResourceScope::Any) => Candidates::Borrowed(trusting),
                            Some(ResourceScope::Patterns(patterns)) => Candidates::Owned(
                                trusting
                                    .iter()
                                    .filter(|target| {
                                        let arn = target_arn(account, **target);
                                        patterns.iter().any(|pattern| {
                                            pattern.matches_in(arn, &state.context) != Truth::False
                                        })
                                    })
                                    .copied()
                                    .collect(),
                            ),
                        }
                    }
                    None => in_scope(&self.targets.roles),
                };
                if targeted_action.is_none() || targeted_action != self.assume_role_action {
                    return roles;
                }
                // A trust policy naming the principal needs no identity allow.
                let arn = account.principal_arn(state.id);
                let named = self
                    .targets
                    .named_in
                    .get(arn)
                    .map_or(&[][..], Vec::as_slice);
                if named.is_empty() && self.targets.public.is_empty() {
                    return roles;
                }
                let mut roles = roles.as_slice().to_vec();
                roles.extend(named);
                roles.extend(&self.targets.public);
                roles.sort_unstable();
                roles.dedup();
                Candidates::Owned(roles)
            }
        }
    }

    /// Checks whether a candidate is not a valid target: the principal itself where the
    /// technique needs another principal, or a group the user is already in.
    fn skips(&self, state: &PrincipalState, technique: &Technique, target: Target) -> bool {
        match (technique.target, target) {
            (TargetKind::OtherUser, _) => target == Target::Principal(state.id),
            (TargetKind::Role, _) => {
                technique.gain != Gain::Administrator && target == Target::Principal(state.id)
            }
            (TargetKind::Group, Target::Group(index)) => {
                let account = self.model.account;
                user_groups(account, state.id).contains(&account.groups[index].name)
            }
            _ => false,
        }
    }

    /// Counts the candidates that [`Search::skips`] accepts. Candidates borrowed whole
    /// from an index are counted without scanning them.
    fn count_valid(
        &self,
        state: &PrincipalState,
        technique: &Technique,
        candidates: &Candidates<'_>,
    ) -> usize {
        let slice = candidates.as_slice();
        let Candidates::Borrowed(_) = candidates else {
            return slice
                .iter()
                .filter(|target| !self.skips(state, technique, **target))
                .count();
        };
        let account = self.model.account;
        let skipped = match (technique.target, state.id) {
            // A borrowed user list is every user, the principal included.
            (TargetKind::OtherUser, PrincipalId::User(_)) => 1,
            // A borrowed role list is every role, or every role trusting the service.
            (TargetKind::Role, PrincipalId::Role(role))
                if technique.gain != Gain::Administrator =>
            {
                let listed = technique
                    .service
                    .is_none_or(|service| self.targets.role_trusts(role, service));
                usize::from(listed)
            }
            // A borrowed group list is every group.
            (TargetKind::Group, _) => {
                let mut member_of: Vec<usize> = user_groups(account, state.id)
                    .iter()
                    .filter_map(|name| account.group_index(name))
                    .collect();
                member_of.sort_unstable();
                member_of.dedup();
                member_of.len()
            }
            _ => 0,
        };
        slice.len().saturating_sub(skipped)
    }

    /// Decides whether the principal can assume `role`, using the trust summary when it
    /// suffices.
    fn assume_verdict(&self, state: &PrincipalState, role: usize) -> Verdict {
        let summary = &self.targets.trust[role];
        let arn = self.model.account.principal_arn(state.id);
        let named = summary.public || summary.named.iter().any(|named| named == arn);
        if summary.complex || named {
            return self.model.assume_verdict(state, role);
        }
        if !summary.trusts_account || state.id == PrincipalId::Role(role) {
            return Verdict::NotAllowed;
        }
        match self.assume_role_action {
            Some(action) => self
                .model
                .verdict(state, action, &self.model.account.roles[role].arn),
            None => Verdict::NotAllowed,
        }
    }

    /// Decides whether the principal can apply the technique to the target: every step
    /// allowed, the role trusting the service, and the role assumable when required.
    fn try_technique(
        &self,
        state: &PrincipalState,
        technique_index: usize,
        target: Target,
    ) -> Option<Verdict> {
        let technique = &TECHNIQUES[technique_index];
        let actions = self.step_actions[technique_index].as_ref()?;
        let mut combined = Verdict::Allowed;

        if let (Some(service), Target::Principal(PrincipalId::Role(role))) =
            (technique.service, target)
        {
            if !self.targets.role_trusts(role, service) {
                return None;
            }
        }

        for (step, action) in technique.steps.iter().zip(actions) {
            let verdict = match step.on {
                StepResource::Target if state.bits.all_resources.contains(*action) => {
                    Verdict::Allowed
                }
                StepResource::Target => {
                    self.model
                        .verdict(state, *action, target_arn(self.model.account, target))
                }
                StepResource::Any if state.bits.all_resources.contains(*action) => Verdict::Allowed,
                StepResource::Any => Verdict::Conditional,
            };
            combined = combine(combined, verdict)?;
        }

        if technique.assume_target {
            if let Target::Principal(PrincipalId::Role(role)) = target {
                if state.id != PrincipalId::Role(role) {
                    combined = combine(combined, self.assume_verdict(state, role))?;
                }
            }
        }
        Some(combined)
    }
}

/// Builds the step with the statements behind each action.
fn explain(
    model: &AccountModel<'_>,
    state: &PrincipalState,
    technique: &'static Technique,
    target: Target,
) -> EscalationStep {
    let catalog = model.catalog;
    let target_arn = target_arn(model.account, target).to_string();
    let mut grants = Vec::new();
    let mut conditional = false;

    for step in technique.steps {
        let resource = match step.on {
            StepResource::Target => target_arn.clone(),
            StepResource::Any => "*".to_string(),
        };
        let (verdict, statements) = match step.on {
            StepResource::Target => {
                let request = Request {
                    action: step.action,
                    resource: &resource,
                    context: &state.context,
                };
                let decision = evaluate(&state.policies, &request);
                let statements = match &decision {
                    Decision::Allowed { statements } => statements.clone(),
                    Decision::Conditional { allowed_if, .. } => allowed_if
                        .iter()
                        .map(|entry| entry.statement.clone())
                        .collect(),
                    _ => Vec::new(),
                };
                (decision.verdict(), statements)
            }
            StepResource::Any => {
                let verdict = match catalog.find(step.action) {
                    Some(id) if state.bits.all_resources.contains(id) => Verdict::Allowed,
                    _ => Verdict::Conditional,
                };
                (verdict, statements_allowing(state, step.action))
            }
        };
        conditional |= verdict == Verdict::Conditional;
        grants.push(StepGrant {
            action: step.action.to_string(),
            resource,
            verdict,
            statements,
        });
    }

    if technique.assume_target {
        if let Target::Principal(PrincipalId::Role(role)) = target {
            if state.id != PrincipalId::Role(role) {
                if let Some(assumer) = crate::assume::can_assume(model.account, state.id, role) {
                    conditional |= assumer.verdict == Verdict::Conditional;
                    let mut statements = assumer.trust_statements;
                    statements.extend(assumer.identity_statements);
                    grants.push(StepGrant {
                        action: crate::assume::ASSUME_ROLE.to_string(),
                        resource: target_arn.clone(),
                        verdict: assumer.verdict,
                        statements,
                    });
                }
            }
        }
    }

    EscalationStep {
        technique: technique.id,
        description: technique.description,
        principal: model.account.principal_arn(state.id).to_string(),
        target: target_arn,
        gain: technique.gain,
        conditional,
        needs_existing_resource: technique.needs_existing_resource,
        grants,
    }
}

fn target_arn(account: &Account, target: Target) -> &str {
    match target {
        Target::Principal(principal) => account.principal_arn(principal),
        Target::Group(group) => &account.groups[group].arn,
        Target::Policy(policy) => &account.managed_policies[policy].arn,
    }
}

/// Returns the names of the groups a user belongs to, or none for a role.
fn user_groups(account: &Account, principal: PrincipalId) -> &[String] {
    match principal {
        PrincipalId::User(user) => &account.users[user].groups,
        PrincipalId::Role(_) => &[],
    }
}

/// Combines step verdicts: any refusal ends the technique, any condition makes it
/// conditional.
fn combine(left: Verdict, right: Verdict) -> Option<Verdict> {
    match (left, right) {
        (Verdict::Denied | Verdict::NotAllowed, _) | (_, Verdict::Denied | Verdict::NotAllowed) => {
            None
        }
        (Verdict::Conditional, _) | (_, Verdict::Conditional) => Some(Verdict::Conditional),
        _ => Some(Verdict::Allowed),
    }
}

/// Lists the identity Allow statements whose action element covers `action`.
fn statements_allowing(state: &PrincipalState, action: &str) -> Vec<StatementRef> {
    let mut found = Vec::new();
    for policy in &state.policies.identity {
        for (index, statement) in policy.document.statements.iter().enumerate() {
            if statement.effect == Effect::Allow && statement.matches_action(action) {
                found.push(StatementRef {
                    source: policy.source.clone(),
                    document: Arc::clone(&policy.document),
                    index,
                });
            }
        }
    }
    found
}

/// Checks whether a document has an unconditional `Allow` of `*` on `*`.
fn allows_everything(document: &Policy) -> bool {
    document.statements.iter().any(|statement| {
        statement.effect == Effect::Allow
            && statement.conditions.is_empty()
            && statement.applies_to_all_resources()
            && matches!(&statement.action, ActionElement::Action(patterns) if patterns.iter().any(|pattern| pattern.is_any()))
    })
}

#[cfg(test)]
mod tests;
