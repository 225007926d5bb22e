//! Deciding one request (action, resource, context) for one principal, as IAM does.
//!
//! An explicit deny in any policy wins. Otherwise the identity policies must allow the
//! request, and so must the permissions boundary if there is one, and every level of
//! service control policies if any are given. Statements whose conditions or policy
//! variables the context cannot decide make the result [`Decision::Conditional`], which
//! keeps those conditions so they can be shown.
//!
//! NOTE: resource-based policies other than role trust policies (bucket, key and queue
//! policies) and session policies are not part of [`PrincipalPolicies`], so a request
//! allowed only by such a policy reads as not allowed here.

use std::fmt;
use std::sync::Arc;

use crate::account::{PolicySource, PrincipalPolicies, SourcedPolicy};
use crate::condition::Condition;
use crate::context::{RequestContext, Truth};
use crate::document::{Effect, Policy, Statement};

/// One request to decide.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Full action name such as `s3:GetObject`, matched case-insensitively.
    pub action: &'a str,
    /// Resource ARN, matched case-sensitively.
    pub resource: &'a str,
    pub context: &'a RequestContext,
}

/// A statement of a policy, with where the policy comes from.
#[derive(Debug, Clone)]
pub struct StatementRef {
    pub source: PolicySource,
    pub document: Arc<Policy>,
    /// Position in the policy's `Statement` list.
    pub index: usize,
}

impl StatementRef {
    pub fn statement(&self) -> Option<&Statement> {
        self.document.statements.get(self.index)
    }
}

impl PartialEq for StatementRef {
    fn eq(&self, other: &StatementRef) -> bool {
        self.source == other.source && self.index == other.index
    }
}

impl fmt::Display for StatementRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self
            .statement()
            .and_then(|statement| statement.sid.as_deref())
        {
            Some(sid) => write!(formatter, "statement `{sid}` of {}", self.source),
            None => write!(formatter, "statement {} of {}", self.index + 1, self.source),
        }
    }
}

impl serde::Serialize for StatementRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("StatementRef", 4)?;
        state.serialize_field("source", &self.source)?;
        state.serialize_field("index", &self.index)?;
        state.serialize_field(
            "sid",
            &self
                .statement()
                .and_then(|statement| statement.sid.as_deref()),
        )?;
        state.serialize_field("statement", &self.statement())?;
        state.end()
    }
}

/// A statement that applies only if conditions the context cannot decide hold.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConditionalStatement {
    pub statement: StatementRef,
    /// The statement's conditions that the context left undecided.
    pub conditions: Vec<Condition>,
    /// Policy variables in the resource element that the context could not resolve.
    pub unresolved_variables: Vec<String>,
}

/// A layer of policies that must allow a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Identity,
    PermissionsBoundary,
    /// A level of service control policies, counted from 0.
    ServiceControl(usize),
}

/// The outcome of a request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Allowed by these identity statements, whatever the unknown context keys are.
    Allowed { statements: Vec<StatementRef> },
    /// An explicit deny applies.
    Denied { statements: Vec<StatementRef> },
    /// No statement of `layer` allows the request (implicit deny).
    NotAllowed { layer: Layer },
    /// Allowed only if one of `allowed_if` applies (when empty, the allow is certain) and
    /// none of `denied_if` applies.
    Conditional {
        allowed_if: Vec<ConditionalStatement>,
        denied_if: Vec<ConditionalStatement>,
    },
}

/// The outcome of a request without the statements behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allowed,
    Denied,
    NotAllowed,
    Conditional,
}

impl Verdict {
    /// Checks whether the request is or may be allowed.
    pub fn may_allow(self) -> bool {
        matches!(self, Verdict::Allowed | Verdict::Conditional)
    }
}

impl Decision {
    pub fn verdict(&self) -> Verdict {
        match self {
            Decision::Allowed { .. } => Verdict::Allowed,
            Decision::Denied { .. } => Verdict::Denied,
            Decision::NotAllowed { .. } => Verdict::NotAllowed,
            Decision::Conditional { .. } => Verdict::Conditional,
        }
    }
}

/// A statement that may apply to a request, with its layer and truth.
struct Applicable<'p> {
    layer: usize,
    policy: &'p SourcedPolicy,
    index: usize,
    truth: Truth,
}

/// Calls `visit` for every statement that may apply to the request. Layer 0 is the
/// identity policies, 1 the permissions boundary and 2 onwards the SCP levels.
fn for_each_applicable<'p>(
    policies: &'p PrincipalPolicies,
    request: &Request<'_>,
    mut visit: impl FnMut(Applicable<'p>),
) {
    let mut visit_policy = |layer: usize, policy: &'p SourcedPolicy| {
        for (index, statement) in policy.document.statements.iter().enumerate() {
            if !statement.matches_action(request.action) {
                continue;
            }
            let resource = statement.matches_resource(request.resource, request.context);
            if resource == Truth::False {
                continue;
            }
            let truth = resource.and(statement.conditions_hold(request.context));
            if truth != Truth::False {
                visit(Applicable {
                    layer,
                    policy,
                    index,
                    truth,
                });
            }
        }
    };

    for policy in &policies.identity {
        visit_policy(0, policy);
    }
    if let Some(boundary) = &policies.boundary {
        visit_policy(1, boundary);
    }
    for (level, scps) in policies.service_control.iter().enumerate() {
        for policy in scps {
            visit_policy(2 + level, policy);
        }
    }
}

/// Bit masks of the layers a request must pass.
fn required_layers(policies: &PrincipalPolicies) -> u64 {
    let mut layers = 1;
    if policies.boundary.is_some() {
        layers |= 1 << 1;
    }
    for level in 0..policies.service_control.len().min(62) {
        layers |= 1 << (2 + level);
    }
    layers
}

fn layer_of(bit: usize) -> Layer {
    match bit {
        0 => Layer::Identity,
        1 => Layer::PermissionsBoundary,
        level => Layer::ServiceControl(level - 2),
    }
}

/// Decides a request quickly, without collecting statements.
pub fn check(policies: &PrincipalPolicies, request: &Request<'_>) -> Verdict {
    let mut denied = false;
    let mut maybe_denied = false;
    let mut allowed = 0u64;
    let mut maybe_allowed = 0u64;

    for_each_applicable(policies, request, |applicable| {
        let bit = 1u64 << applicable.layer.min(63);
        let statement = &applicable.policy.document.statements[applicable.index];
        match (statement.effect, applicable.truth) {
            (Effect::Deny, Truth::True) => denied = true,
            (Effect::Deny, _) => maybe_denied = true,
            (Effect::Allow, Truth::True) => allowed |= bit,
            (Effect::Allow, _) => maybe_allowed |= bit,
        }
    });

    let required = required_layers(policies);
    if denied {
        Verdict::Denied
    } else if (allowed | maybe_allowed) & required != required {
        Verdict::NotAllowed
    } else if allowed & required == required && !maybe_denied {
        Verdict::Allowed
    } else {
        Verdict::Conditional
    }
}

/// Decides a request and names the statements behind the decision.
pub fn evaluate(policies: &PrincipalPolicies, request: &Request<'_>) -> Decision {
    let mut denied = Vec::new();
    let mut maybe_denied = Vec::new();
    let mut allowed = Vec::new();
    let mut maybe_allowed = Vec::new();
    let mut allowed_layers = 0u64;
    let mut any_allow_layers = 0u64;

    for_each_applicable(policies, request, |applicable| {
        let bit = 1u64 << applicable.layer.min(63);
        let statement = &applicable.policy.document.statements[applicable.index];
        let entry = (applicable.layer, applicable.policy, applicable.index);
        match (statement.effect, applicable.truth) {
            (Effect::Deny, Truth::True) => denied.push(entry),
            (Effect::Deny, _) => maybe_denied.push(entry),
            (Effect::Allow, truth) => {
                any_allow_layers |= bit;
                if truth == Truth::True {
                    allowed_layers |= bit;
                    allowed.push(entry);
                } else {
                    maybe_allowed.push(entry);
                }
            }
        }
    });

    if !denied.is_empty() {
        return Decision::Denied {
            statements: denied
                .iter()
                .map(|(_, policy, index)| reference(policy, *index))
                .collect(),
        };
    }

    let required = required_layers(policies);
    if let Some(bit) =
        (0..64).find(|bit| required & (1 << bit) != 0 && any_allow_layers & (1 << bit) == 0)
    {
        return Decision::NotAllowed {
            layer: layer_of(bit),
        };
    }

    if allowed_layers & required == required && maybe_denied.is_empty() {
        return Decision::Allowed {
            statements: allowed
                .iter()
                .filter(|(layer, _, _)| *layer == 0)
                .map(|(_, policy, index)| reference(policy, *index))
                .collect(),
        };
    }

    // Only the layers without a certain allow need their conditional allows shown.
    let allowed_if = maybe_allowed
        .iter()
        .filter(|(layer, _, _)| allowed_layers & (1 << (*layer).min(63)) == 0)
        .map(|(_, policy, index)| conditional(policy, *index, request))
        .collect();
    let denied_if = maybe_denied
        .iter()
        .map(|(_, policy, index)| conditional(policy, *index, request))
        .collect();
    Decision::Conditional {
        allowed_if,
        denied_if,
    }
}

/// Lists the identity Allow statements that apply to the request for certain.
pub fn allowing_statements(
    policies: &PrincipalPolicies,
    request: &Request<'_>,
) -> Vec<StatementRef> {
    let mut statements = Vec::new();
    for_each_applicable(policies, request, |applicable| {
        let statement = &applicable.policy.document.statements[applicable.index];
        if applicable.layer == 0
            && statement.effect == Effect::Allow
            && applicable.truth == Truth::True
        {
            statements.push(reference(applicable.policy, applicable.index));
        }
    });
    statements
}

fn reference(policy: &SourcedPolicy, index: usize) -> StatementRef {
    StatementRef {
        source: policy.source.clone(),
        document: policy.document.clone(),
        index,
    }
}

fn conditional(
    policy: &SourcedPolicy,
    index: usize,
    request: &Request<'_>,
) -> ConditionalStatement {
    let statement = &policy.document.statements[index];
    let conditions = statement
        .undecided_conditions(request.context)
        .cloned()
        .collect();
    let unresolved_variables = statement
        .resource_patterns()
        .iter()
        .filter(|pattern| pattern.matches_in(request.resource, request.context) == Truth::Unknown)
        .flat_map(|pattern| {
            pattern
                .variable_keys()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    ConditionalStatement {
        statement: reference(policy, index),
        conditions,
        unresolved_variables,
    }
}

#[cfg(test)]
mod tests;
