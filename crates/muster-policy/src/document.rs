//! Parsed policy documents: statements with compiled action, resource and principal
//! patterns and conditions, and the per-statement matching that the evaluator builds on.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::catalog::{ActionSet, Catalog};
use crate::condition::Condition;
use crate::context::{RequestContext, Truth};
use crate::pattern::Pattern;

/// The policy language version a document declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PolicyVersion {
    #[serde(rename = "2012-10-17")]
    V2012_10_17,
    #[serde(rename = "2008-10-17")]
    V2008_10_17,
    /// No `Version` element: IAM reads it as `2008-10-17`, without policy variables.
    #[serde(rename = "none")]
    Missing,
}

impl PolicyVersion {
    /// Whether `${...}` is a policy variable in this version.
    pub fn has_variables(self) -> bool {
        self == PolicyVersion::V2012_10_17
    }
}

/// A policy document.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Policy {
    pub version: PolicyVersion,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// An `Action` or `NotAction` element.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "element", content = "patterns")]
pub enum ActionElement {
    Action(Vec<Pattern>),
    NotAction(Vec<Pattern>),
}

impl Eq for ActionElement {}

impl std::hash::Hash for ActionElement {
    /// Hashes the pattern texts, which equal elements share.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (tag, patterns) = match self {
            ActionElement::Action(patterns) => (0u8, patterns),
            ActionElement::NotAction(patterns) => (1u8, patterns),
        };
        tag.hash(state);
        for pattern in patterns {
            pattern.as_str().hash(state);
        }
    }
}

/// A `Resource` or `NotResource` element.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "element", content = "patterns")]
pub enum ResourceElement {
    Resource(Vec<Pattern>),
    NotResource(Vec<Pattern>),
}

/// The kind of a principal in a `Principal` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum PrincipalKind {
    #[serde(rename = "AWS")]
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalKind {
    pub fn name(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }
}

/// One principal named in a `Principal` or `NotPrincipal` element. `"Principal": "*"` is
/// read as `{"AWS": "*"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct PrincipalEntry {
    pub kind: PrincipalKind,
    pub value: String,
}

impl PrincipalEntry {
    /// Checks whether the entry is everyone (`"*"` as AWS principal).
    pub fn is_public(&self) -> bool {
        self.kind == PrincipalKind::Aws && self.value == "*"
    }

    /// Returns the account an AWS entry names: a bare account id, `arn:aws:iam::ID:root`,
    /// or the account of a user or role ARN.
    pub fn account(&self) -> Option<&str> {
        if self.kind != PrincipalKind::Aws {
            return None;
        }
        if self.value.len() == 12 && self.value.bytes().all(|byte| byte.is_ascii_digit()) {
            return Some(&self.value);
        }
        let mut parts = self.value.splitn(6, ':');
        let (Some("arn"), Some(_partition), Some(_service), Some(_region), Some(account)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        Some(account)
    }

    /// Checks whether the entry names a whole account (`ID` or `arn:...:iam::ID:root`).
    pub fn is_account_root(&self) -> bool {
        self.kind == PrincipalKind::Aws
            && (self.value.bytes().all(|byte| byte.is_ascii_digit())
                || self.value.ends_with(":root"))
    }
}

/// A `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "element", content = "principals")]
pub enum PrincipalElement {
    Principal(Vec<PrincipalEntry>),
    NotPrincipal(Vec<PrincipalEntry>),
}

impl PrincipalElement {
    pub fn entries(&self) -> &[PrincipalEntry] {
        match self {
            PrincipalElement::Principal(entries) | PrincipalElement::NotPrincipal(entries) => {
                entries
            }
        }
    }
}

/// One statement of a policy.
#[derive(Debug, serde::Serialize)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub action: ActionElement,
    /// Absent in role trust policies.
    pub resource: Option<ResourceElement>,
    pub principal: Option<PrincipalElement>,
    /// All must hold (the `Condition` block is a conjunction).
    pub conditions: Vec<Condition>,
    /// The action element expanded against the catalog, on first use. Statements with
    /// the same action element may share it (see [`share_catalog_actions`]).
    #[serde(skip)]
    catalog_actions: Arc<OnceLock<ActionSet>>,
}

impl Clone for Statement {
    /// Clones the statement with its own copy of the expansion, so that changing the
    /// clone's action element cannot affect the original.
    fn clone(&self) -> Statement {
        Statement {
            sid: self.sid.clone(),
            effect: self.effect,
            action: self.action.clone(),
            resource: self.resource.clone(),
            principal: self.principal.clone(),
            conditions: self.conditions.clone(),
            catalog_actions: Arc::new(self.catalog_actions.as_ref().clone()),
        }
    }
}

impl PartialEq for Statement {
    fn eq(&self, other: &Statement) -> bool {
        self.sid == other.sid
            && self.effect == other.effect
            && self.action == other.action
            && self.resource == other.resource
            && self.principal == other.principal
            && self.conditions == other.conditions
    }
}

impl Statement {
    pub fn new(
        sid: Option<String>,
        effect: Effect,
        action: ActionElement,
        resource: Option<ResourceElement>,
        principal: Option<PrincipalElement>,
        conditions: Vec<Condition>,
    ) -> Statement {
        Statement {
            sid,
            effect,
            action,
            resource,
            principal,
            conditions,
            catalog_actions: Arc::default(),
        }
    }

    /// Checks whether the statement covers `action` (matched case-insensitively).
    pub fn matches_action(&self, action: &str) -> bool {
        match &self.action {
            ActionElement::Action(patterns) => {
                patterns.iter().any(|pattern| pattern.matches(action))
            }
            ActionElement::NotAction(patterns) => {
                !patterns.iter().any(|pattern| pattern.matches(action))
            }
        }
    }

    /// Checks whether the statement covers `resource`. The result is unknown when a policy
    /// variable in the element cannot be resolved from `context`. A statement without a
    /// resource element covers nothing here.
    pub fn matches_resource(&self, resource: &str, context: &RequestContext) -> Truth {
        match &self.resource {
            None => Truth::False,
            Some(ResourceElement::Resource(patterns)) => Truth::any(
                patterns
                    .iter()
                    .map(|pattern| pattern.matches_in(resource, context)),
            ),
            Some(ResourceElement::NotResource(patterns)) => Truth::any(
                patterns
                    .iter()
                    .map(|pattern| pattern.matches_in(resource, context)),
            )
            .negate(),
        }
    }

    /// Evaluates the `Condition` block: true when every condition holds.
    pub fn conditions_hold(&self, context: &RequestContext) -> Truth {
        Truth::all(
            self.conditions
                .iter()
                .map(|condition| condition.evaluate(context)),
        )
    }

    /// Lists the conditions that `context` cannot decide, for showing with a conditional
    /// result.
    pub fn undecided_conditions<'a>(
        &'a self,
        context: &'a RequestContext,
    ) -> impl Iterator<Item = &'a Condition> + 'a {
        self.conditions
            .iter()
            .filter(move |condition| condition.evaluate(context) == Truth::Unknown)
    }

    /// Checks whether the resource element contains `*`, so the statement is not limited to
    /// named resources. A `NotResource` element does not count.
    pub fn applies_to_all_resources(&self) -> bool {
        match &self.resource {
            Some(ResourceElement::Resource(patterns)) => patterns.iter().any(Pattern::is_any),
            Some(ResourceElement::NotResource(_)) => false,
            None => false,
        }
    }

    /// Expands the action element against the catalog, once per statement.
    pub fn catalog_actions(&self, catalog: &Catalog) -> &ActionSet {
        self.catalog_actions
            .get_or_init(|| catalog.expand(&self.action))
    }

    /// Identifies the expansion of the action element: statements that share it (see
    /// [`share_catalog_actions`]) return the same address.
    pub(crate) fn catalog_actions_address(&self) -> usize {
        Arc::as_ptr(&self.catalog_actions) as usize
    }

    /// Returns the patterns of the resource element, for display.
    pub fn resource_patterns(&self) -> &[Pattern] {
        match &self.resource {
            Some(ResourceElement::Resource(patterns))
            | Some(ResourceElement::NotResource(patterns)) => patterns,
            None => &[],
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

impl Policy {
    /// Action texts in `Action`/`NotAction` elements that name no action in the catalog:
    /// misspelt, retired or newer than the catalog. Wildcard patterns that match nothing
    /// are included. Each text is listed once.
    pub fn unknown_actions(&self, catalog: &Catalog) -> Vec<String> {
        let mut unknown: Vec<String> = Vec::new();
        for statement in &self.statements {
            let patterns = match &statement.action {
                ActionElement::Action(patterns) | ActionElement::NotAction(patterns) => patterns,
            };
            for pattern in patterns {
                if !catalog.knows_pattern(pattern)
                    && !unknown.iter().any(|text| text == pattern.as_str())
                {
                    unknown.push(pattern.as_str().to_string());
                }
            }
        }
        unknown
    }

    /// Checks whether any statement allows everyone (`"Principal": "*"` or `{"AWS": "*"}`),
    /// the mark of a public resource policy. Conditions may still narrow such a statement.
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(|statement| {
            statement.effect == Effect::Allow
                && matches!(&statement.principal, Some(PrincipalElement::Principal(entries))
                    if entries.iter().any(PrincipalEntry::is_public))
        })
    }
}

/// Lets the statements of `policies` that have the same action element share one
/// catalog expansion, so that it is computed and stored once: the policies of a large
/// account repeat a few action lists many times.
pub(crate) fn share_catalog_actions(policies: &mut [&mut Policy]) {
    let mut cells: HashMap<&ActionElement, Arc<OnceLock<ActionSet>>> = HashMap::new();
    let chosen: Vec<Arc<OnceLock<ActionSet>>> = policies
        .iter()
        .flat_map(|policy| &policy.statements)
        .map(|statement| {
            cells
                .entry(&statement.action)
                .or_insert_with(|| statement.catalog_actions.clone())
                .clone()
        })
        .collect();
    drop(cells);

    let statements = policies
        .iter_mut()
        .flat_map(|policy| policy.statements.iter_mut());
    for (statement, cell) in statements.zip(chosen) {
        statement.catalog_actions = cell;
    }
}
