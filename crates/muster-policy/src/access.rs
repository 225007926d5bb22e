//! Effective access of a principal: the catalog actions its policies allow, by service
//! and access level, with the resources they reach and whether conditions apply.
//!
//! [`AccessBits`] is the fast form used for whole-account analysis (bitsets over the
//! catalog); [`effective_access`] is the detailed form for one principal, with the
//! statements behind each action.

use crate::account::{PrincipalPolicies, SourcedPolicy};
use crate::catalog::{AccessLevel, ActionId, ActionSet, Catalog};
use crate::context::{RequestContext, Truth};
use crate::document::{Effect, ResourceElement, Statement};
use crate::evaluate::StatementRef;
use crate::pattern::Pattern;

/// The actions a principal may perform, as bitsets over the catalog.
#[derive(Debug, Clone)]
pub struct AccessBits {
    /// Allowed on at least some resource, perhaps only under conditions.
    pub any: ActionSet,
    /// Allowed on every resource with no condition and touched by no deny statement.
    pub all_resources: ActionSet,
    /// Allowed on every resource, perhaps only under conditions or unless a conditional
    /// deny applies.
    pub all_resources_possibly: ActionSet,
    /// Named by some deny statement that may apply, on some resource.
    pub denied_somewhere: ActionSet,
}

impl AccessBits {
    /// Checks whether every catalog action is allowed on every resource without conditions.
    pub fn is_admin(&self, catalog: &Catalog) -> bool {
        self.all_resources.len() == catalog.len()
    }

    /// Checks whether every catalog action is allowed on every resource if conditions permit.
    pub fn is_possibly_admin(&self, catalog: &Catalog) -> bool {
        self.all_resources_possibly.len() == catalog.len()
    }
}

/// Allow bits of one layer (identity, boundary or one SCP level).
struct LayerBits {
    any: ActionSet,
    all_certain: ActionSet,
    all_possible: ActionSet,
}

fn layer_bits<'a>(
    policies: impl IntoIterator<Item = &'a SourcedPolicy>,
    context: &RequestContext,
    catalog: &Catalog,
    denies: &mut DenyBits,
) -> LayerBits {
    let mut bits = LayerBits {
        any: catalog.empty_set(),
        all_certain: catalog.empty_set(),
        all_possible: catalog.empty_set(),
    };
    for policy in policies {
        for statement in &policy.document.statements {
            let truth = statement.conditions_hold(context);
            if truth == Truth::False {
                continue;
            }
            let actions = statement.catalog_actions(catalog);
            let all_resources = statement.applies_to_all_resources();
            match statement.effect {
                Effect::Allow => {
                    bits.any.union_with(actions);
                    if all_resources {
                        bits.all_possible.union_with(actions);
                        if truth == Truth::True {
                            bits.all_certain.union_with(actions);
                        }
                    }
                }
                Effect::Deny => {
                    denies.any.union_with(actions);
                    if all_resources && truth == Truth::True {
                        denies.total.union_with(actions);
                    }
                }
            }
        }
    }
    bits
}

struct DenyBits {
    /// Denied on every resource without condition.
    total: ActionSet,
    /// Named by some deny statement that may apply.
    any: ActionSet,
}

/// Computes the access bitsets of a principal. Conditions are evaluated against
/// `context` (typically [`crate::Account::principal_context`]); those it cannot decide
/// count as possibly holding.
pub fn access_bits(
    policies: &PrincipalPolicies,
    context: &RequestContext,
    catalog: &Catalog,
) -> AccessBits {
    let mut denies = DenyBits {
        total: catalog.empty_set(),
        any: catalog.empty_set(),
    };
    let identity = layer_bits(&policies.identity, context, catalog, &mut denies);
    let mut any = identity.any;
    let mut all_certain = identity.all_certain;
    let mut all_possible = identity.all_possible;

    let mut limit_by = |bits: LayerBits| {
        any.intersect_with(&bits.any);
        all_certain.intersect_with(&bits.all_certain);
        all_possible.intersect_with(&bits.all_possible);
    };
    if let Some(boundary) = &policies.boundary {
        limit_by(layer_bits([boundary], context, catalog, &mut denies));
    }
    for level in &policies.service_control {
        limit_by(layer_bits(level, context, catalog, &mut denies));
    }

    any.subtract(&denies.total);
    all_certain.subtract(&denies.any);
    all_possible.subtract(&denies.total);
    AccessBits {
        any,
        all_resources: all_certain,
        all_resources_possibly: all_possible,
        denied_somewhere: denies.any,
    }
}

/// The resources an action is allowed on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "scope", content = "patterns", rename_all = "snake_case")]
pub enum ResourceScope {
    /// Every resource (`"Resource": "*"`).
    All,
    /// Every resource except these patterns (`NotResource`).
    AllExcept(Vec<String>),
    /// Only resources matching these patterns.
    Specific(Vec<String>),
}

/// One allowed action.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ActionAccess {
    /// Full action name such as `s3:GetObject`.
    pub action: String,
    pub resources: ResourceScope,
    /// The allow depends on conditions, or a deny may apply under conditions.
    pub conditional: bool,
    /// The undecided conditions, as text such as ``Bool aws:MultiFactorAuthPresent `true` ``.
    /// Conditions of deny statements are prefixed with `unless `.
    pub conditions: Vec<String>,
    /// Resource patterns where a deny statement removes the action.
    pub denied_on: Vec<String>,
    /// The identity statements that allow the action.
    pub granted_by: Vec<StatementRef>,
}

/// The allowed actions of one access level.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LevelAccess {
    pub level: AccessLevel,
    pub actions: Vec<ActionAccess>,
}

/// The allowed actions of one service.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceAccess {
    pub prefix: String,
    pub name: String,
    /// Only levels with at least one allowed action, in the order of [`AccessLevel::ALL`].
    pub levels: Vec<LevelAccess>,
}

/// A principal's effective access, by service.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EffectiveAccess {
    pub services: Vec<ServiceAccess>,
}

impl EffectiveAccess {
    /// Number of allowed actions.
    pub fn action_count(&self) -> usize {
        self.services
            .iter()
            .flat_map(|service| &service.levels)
            .map(|level| level.actions.len())
            .sum()
    }

    /// Finds an allowed action by full name, case-insensitively.
    pub fn action(&self, name: &str) -> Option<&ActionAccess> {
        self.services
            .iter()
            .flat_map(|service| &service.levels)
            .flat_map(|level| &level.actions)
            .find(|access| access.action.eq_ignore_ascii_case(name))
    }
}

/// A statement that may apply to an action, with how its conditions evaluate.
struct Candidate<'a> {
    policy: &'a SourcedPolicy,
    index: usize,
    statement: &'a Statement,
    truth: Truth,
}

fn candidates<'a>(
    policies: impl IntoIterator<Item = &'a SourcedPolicy>,
    context: &RequestContext,
) -> Vec<Candidate<'a>> {
    let mut found = Vec::new();
    for policy in policies {
        for (index, statement) in policy.document.statements.iter().enumerate() {
            let truth = statement.conditions_hold(context);
            if truth != Truth::False {
                found.push(Candidate {
                    policy,
                    index,
                    statement,
                    truth,
                });
            }
        }
    }
    found
}

/// Lists the principal's allowed actions with scope, conditions and granting statements.
pub fn effective_access(
    policies: &PrincipalPolicies,
    context: &RequestContext,
    catalog: &Catalog,
) -> EffectiveAccess {
    let bits = access_bits(policies, context, catalog);
    let identity = candidates(&policies.identity, context);
    let boundary = policies
        .boundary
        .as_ref()
        .map(|boundary| candidates([boundary], context));
    let scp_levels: Vec<Vec<Candidate<'_>>> = policies
        .service_control
        .iter()
        .map(|level| candidates(level, context))
        .collect();
    let mut denies: Vec<&Candidate<'_>> = identity
        .iter()
        .filter(|c| c.statement.effect == Effect::Deny)
        .collect();
    denies.extend(
        boundary
            .iter()
            .flatten()
            .filter(|c| c.statement.effect == Effect::Deny),
    );
    denies.extend(
        scp_levels
            .iter()
            .flatten()
            .filter(|c| c.statement.effect == Effect::Deny),
    );

    let mut services: Vec<ServiceAccess> = Vec::new();
    for id in bits.any.iter() {
        let Some(access) = action_access(
            id,
            catalog,
            &identity,
            boundary.as_deref(),
            &scp_levels,
            &denies,
        ) else {
            continue;
        };
        let action = catalog.action(id);
        let service = catalog.service_of(id);
        if services
            .last()
            .is_none_or(|last| last.prefix != service.prefix)
        {
            services.push(ServiceAccess {
                prefix: service.prefix.clone(),
                name: service.name.clone(),
                levels: Vec::new(),
            });
        }
        let Some(service_access) = services.last_mut() else {
            continue;
        };
        match service_access
            .levels
            .iter_mut()
            .find(|level| level.level == action.access_level)
        {
            Some(level) => level.actions.push(access),
            None => service_access.levels.push(LevelAccess {
                level: action.access_level,
                actions: vec![access],
            }),
        }
    }
    for service in &mut services {
        service.levels.sort_by_key(|level| level.level);
    }
    EffectiveAccess { services }
}

fn action_access(
    id: ActionId,
    catalog: &Catalog,
    identity: &[Candidate<'_>],
    boundary: Option<&[Candidate<'_>]>,
    scp_levels: &[Vec<Candidate<'_>>],
    denies: &[&Candidate<'_>],
) -> Option<ActionAccess> {
    let allows = |candidates: &'_ [Candidate<'_>]| -> Vec<usize> {
        candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.statement.effect == Effect::Allow
                    && c.statement.catalog_actions(catalog).contains(id)
            })
            .map(|(index, _)| index)
            .collect()
    };

    let grants = allows(identity);
    if grants.is_empty() {
        return None;
    }
    let mut scope = scope_of(grants.iter().map(|index| identity[*index].statement));
    let mut conditional = grants
        .iter()
        .all(|index| identity[*index].truth != Truth::True);
    let mut conditions = Vec::new();
    for index in &grants {
        collect_conditions(&identity[*index], "", &mut conditions);
    }

    let limits = boundary
        .into_iter()
        .chain(scp_levels.iter().map(Vec::as_slice));
    for limit in limits {
        let limit_grants = allows(limit);
        if limit_grants.is_empty() {
            return None;
        }
        scope = intersect(
            scope,
            scope_of(limit_grants.iter().map(|index| limit[*index].statement)),
        )?;
        if limit_grants
            .iter()
            .all(|index| limit[*index].truth != Truth::True)
        {
            conditional = true;
            for index in &limit_grants {
                collect_conditions(&limit[*index], "", &mut conditions);
            }
        }
    }

    let mut denied_on = Vec::new();
    for deny in denies
        .iter()
        .filter(|deny| deny.statement.catalog_actions(catalog).contains(id))
    {
        let everywhere = deny.statement.applies_to_all_resources();
        if deny.truth == Truth::True {
            if everywhere {
                return None;
            }
            denied_on.extend(deny.statement.resource_patterns().iter().map(|pattern| {
                match &deny.statement.resource {
                    Some(ResourceElement::NotResource(_)) => {
                        format!("everything except `{pattern}`")
                    }
                    _ => pattern.to_string(),
                }
            }));
        } else {
            conditional = true;
            collect_conditions(deny, "unless ", &mut conditions);
        }
    }

    Some(ActionAccess {
        action: catalog.action(id).name.clone(),
        resources: scope,
        conditional,
        conditions,
        denied_on,
        granted_by: grants
            .iter()
            .map(|index| StatementRef {
                source: identity[*index].policy.source.clone(),
                document: identity[*index].policy.document.clone(),
                index: identity[*index].index,
            })
            .collect(),
    })
}

fn collect_conditions(candidate: &Candidate<'_>, prefix: &str, conditions: &mut Vec<String>) {
    if candidate.truth != Truth::Unknown {
        return;
    }
    for condition in &candidate.statement.conditions {
        let text = format!("{prefix}{condition}");
        if !conditions.contains(&text) {
            conditions.push(text);
        }
    }
}

fn scope_of<'a>(statements: impl Iterator<Item = &'a Statement>) -> ResourceScope {
    let mut specific: Vec<&Pattern> = Vec::new();
    let mut excepted: Option<Vec<&Pattern>> = None;
    for statement in statements {
        match &statement.resource {
            Some(ResourceElement::Resource(patterns)) => {
                if patterns.iter().any(Pattern::is_any) {
                    return ResourceScope::All;
                }
                specific.extend(patterns);
            }
            Some(ResourceElement::NotResource(patterns)) => {
                // A union of "all except A" and "all except B" is "all except A and B".
                let list = excepted.get_or_insert_with(|| patterns.iter().collect());
                list.retain(|pattern| patterns.contains(pattern));
            }
            None => {}
        }
    }
    match excepted {
        Some(list) => ResourceScope::AllExcept(texts(list)),
        None => ResourceScope::Specific(texts(specific)),
    }
}

fn texts(patterns: Vec<&Pattern>) -> Vec<String> {
    let mut texts: Vec<String> = patterns
        .into_iter()
        .map(|pattern| pattern.to_string())
        .collect();
    texts.sort();
    texts.dedup();
    texts
}

/// Intersects two scopes; `None` when nothing remains. Specific patterns are compared
/// by text (a pattern is kept when the other side has a pattern covering it), so an
/// overlap of two unrelated wildcards may be missed.
fn intersect(left: ResourceScope, right: ResourceScope) -> Option<ResourceScope> {
    use ResourceScope::{All, AllExcept, Specific};
    let result = match (left, right) {
        (All, other) | (other, All) => other,
        (AllExcept(mut left), AllExcept(right)) => {
            left.extend(right);
            left.sort();
            left.dedup();
            AllExcept(left)
        }
        (AllExcept(excepted), Specific(specific)) | (Specific(specific), AllExcept(excepted)) => {
            let kept: Vec<String> = specific
                .into_iter()
                .filter(|text| {
                    !excepted
                        .iter()
                        .any(|except| Pattern::glob(except).matches(text))
                })
                .collect();
            Specific(kept)
        }
        (Specific(left), Specific(right)) => {
            let covered = |text: &String, others: &[String]| {
                let pattern = Pattern::glob(text);
                others
                    .iter()
                    .any(|other| pattern.is_covered_by(&Pattern::glob(other)))
            };
            let mut kept: Vec<String> = left
                .iter()
                .filter(|text| covered(text, &right))
                .cloned()
                .collect();
            kept.extend(right.iter().filter(|text| covered(text, &left)).cloned());
            kept.sort();
            kept.dedup();
            Specific(kept)
        }
    };
    match &result {
        Specific(list) if list.is_empty() => None,
        _ => Some(result),
    }
}

#[cfg(test)]
mod tests;
