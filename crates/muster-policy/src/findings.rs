//! Findings per principal for a whole account: administrator access, privilege
//! escalation, and the risk categories data exfiltration, resource exposure, credentials
//! exposure and infrastructure modification. Exclusions remove principals, policies or
//! actions from the results.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use crate::account::{Account, PolicySource, PrincipalId};
use crate::catalog::{catalog, AccessLevel, ActionId, ActionSet, Catalog};
use crate::escalation::{find_escalations, EscalationPath, TechniqueUse};
use crate::model::{AccountModel, PrincipalState};
use crate::pattern::{Pattern, PatternSyntax};

/// A category of risky access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskCategory {
    PrivilegeEscalation,
    /// Reading stored data and secrets: objects, parameters, secrets, table items,
    /// decryption.
    DataExfiltration,
    /// Changing who may access a resource (actions at the Permissions management level).
    ResourceExposure,
    /// Creating or reading credentials: access keys, passwords, tokens, SSH keys.
    CredentialsExposure,
    /// Write actions allowed on every resource.
    InfrastructureModification,
}

/// How many actions a broad category (resource exposure, infrastructure modification)
/// lists by name; above this only the per-service counts are kept.
pub const LISTED_RISK_ACTIONS: usize = 25;

/// Actions that read stored data or secrets.
const DATA_EXFILTRATION: &[&str] = &[
    "s3:GetObject",
    "s3:GetObjectVersion",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "kms:Decrypt",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];

/// Actions that create, reset or hand out credentials.
const CREDENTIALS_EXPOSURE: &[&str] = &[
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "iam:UploadSSHPublicKey",
    "sts:GetFederationToken",
    "ecr:GetAuthorizationToken",
    "codeartifact:GetAuthorizationToken",
    "redshift:GetClusterCredentials",
    "ec2:GetPasswordData",
    "ec2-instance-connect:SendSSHPublicKey",
    "lightsail:GetInstanceAccessDetails",
    "rds-db:connect",
    "sts:GetSessionToken",
    "cognito-identity:GetCredentialsForIdentity",
    "cognito-identity:GetOpenIdToken",
    "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
    "cognito-idp:GetSigningCertificate",
    "connect:GetFederationToken",
    "ecr-public:GetAuthorizationToken",
    "gamelift:GetInstanceAccess",
    "license-manager:GetAccessToken",
];

/// Principals, policies and actions to leave out of the findings. Each entry is a
/// pattern with `*` and `?` wildcards.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Exclusions {
    /// Matched against principal names and ARNs.
    pub principals: Vec<String>,
    /// Matched against policy names and ARNs; matching policies are ignored entirely.
    pub policies: Vec<String>,
    /// Matched case-insensitively against action names; such actions are not reported.
    pub actions: Vec<String>,
}

struct CompiledExclusions {
    principals: Vec<Pattern>,
    policies: Vec<Pattern>,
    actions: Vec<Pattern>,
}

impl CompiledExclusions {
    fn new(exclusions: &Exclusions) -> CompiledExclusions {
        let action_syntax = PatternSyntax {
            wildcards: true,
            case_insensitive: true,
            variables: false,
        };
        CompiledExclusions {
            principals: exclusions
                .principals
                .iter()
                .map(|text| Pattern::glob(text))
                .collect(),
            policies: exclusions
                .policies
                .iter()
                .map(|text| Pattern::glob(text))
                .collect(),
            actions: exclusions
                .actions
                .iter()
                .map(|text| Pattern::new(text, action_syntax))
                .collect(),
        }
    }

    fn excludes_principal(&self, name: &str, arn: &str) -> bool {
        self.principals
            .iter()
            .any(|pattern| pattern.matches(name) || pattern.matches(arn))
    }

    fn excludes_policy(&self, source: &PolicySource) -> bool {
        let names: [&str; 2] = match source {
            PolicySource::Inline { name } | PolicySource::GroupInline { name, .. } => [name, name],
            PolicySource::Managed { arn }
            | PolicySource::GroupManaged { arn, .. }
            | PolicySource::PermissionsBoundary { arn } => {
                [arn, arn.rsplit('/').next().unwrap_or(arn)]
            }
            PolicySource::ServiceControl { name } | PolicySource::Other { name } => [name, name],
            PolicySource::Trust { .. } => return false,
        };
        self.policies
            .iter()
            .any(|pattern| names.iter().any(|name| pattern.matches(name)))
    }

    fn excludes_action(&self, name: &str) -> bool {
        self.actions.iter().any(|pattern| pattern.matches(name))
    }
}

/// Options of an account analysis.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisOptions {
    pub exclusions: Exclusions,
}

/// How far an action reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// Every resource, without conditions.
    AllResources,
    /// Every resource, but only under conditions or unless a conditional deny applies.
    AllResourcesConditional,
    /// Only some resources (and perhaps only under conditions).
    SomeResources,
}

/// One risky action a principal is allowed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RiskAction {
    pub action: &'static str,
    pub reach: Reach,
}

/// Allowed actions of one service in a broad category.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceCount {
    /// Service prefix such as `ec2`.
    pub service: &'static str,
    pub actions: usize,
}

/// A principal's access in one risk category.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RiskFinding {
    pub category: RiskCategory,
    /// The principal is administrator, so the category is covered in full; the lists
    /// below are left empty.
    pub covered_by_admin: bool,
    /// The allowed actions of the category. For resource exposure and infrastructure
    /// modification only when there are at most [`LISTED_RISK_ACTIONS`] of them.
    pub actions: Vec<RiskAction>,
    /// Allowed actions counted per service, for resource exposure and infrastructure
    /// modification.
    pub services: Vec<ServiceCount>,
}

/// Administrator access of a principal.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdminFinding {
    /// Only under conditions, or unless a conditional deny applies.
    pub conditional: bool,
    /// The escalation path to administrator, or `None` when the principal's own policies
    /// already allow everything.
    pub path: Option<EscalationPath>,
}

/// An action name in a policy that the catalog does not know.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnknownAction {
    pub action: String,
    pub policy: PolicySource,
}

/// All findings of one principal.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PrincipalFindings {
    pub arn: String,
    pub name: String,
    #[serde(skip)]
    pub principal: PrincipalId,
    pub admin: Option<AdminFinding>,
    /// The escalation techniques the principal can use.
    pub escalations: Vec<TechniqueUse>,
    pub risks: Vec<RiskFinding>,
    pub unknown_actions: Vec<UnknownAction>,
}

/// Findings for a whole account.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountAnalysis {
    pub account_id: Option<String>,
    /// Source and date of the action catalog used.
    pub catalog: Vec<String>,
    pub principals: Vec<PrincipalFindings>,
    /// Roles whose trust policy allows everyone (`"Principal": "*"`).
    pub public_roles: Vec<String>,
}

/// Analyses every principal of the account.
pub fn analyze_account(account: &Account, options: &AnalysisOptions) -> AccountAnalysis {
    let catalog = catalog();
    let exclusions = CompiledExclusions::new(&options.exclusions);

    // NOTE: the statements shown for role assumption steps come from the unfiltered
    // policies, so an excluded policy can still be named there.
    let model = AccountModel::with_policy_filter(account, catalog, |source| {
        !exclusions.excludes_policy(source)
    });
    let mut escalations = find_escalations(&model);
    let unknown = unknown_actions_by_policy(&model, catalog);
    let named = NamedActions::new(catalog);

    let uses = std::mem::take(&mut escalations.uses);
    let principals = model
        .principals
        .par_iter()
        .zip(uses.into_par_iter())
        .filter(|(state, _)| {
            let name = account.principal_name(state.id);
            !exclusions.excludes_principal(name, account.principal_arn(state.id))
        })
        .map(|(state, uses)| {
            let admin = escalations
                .admin(&model, state.id)
                .map(|conditional| AdminFinding {
                    conditional,
                    path: escalations.path_to_admin(&model, state.id),
                });
            let uses: Vec<TechniqueUse> = uses
                .into_iter()
                .filter(|found| {
                    !found
                        .example
                        .grants
                        .iter()
                        .any(|grant| exclusions.excludes_action(&grant.action))
                })
                .collect();
            let direct_admin = escalations.is_direct_admin(&model, state.id);
            let risks = risks_of(state, catalog, &named, direct_admin, &uses, &exclusions);
            PrincipalFindings {
                arn: account.principal_arn(state.id).to_string(),
                name: account.principal_name(state.id).to_string(),
                principal: state.id,
                admin,
                escalations: uses,
                risks,
                unknown_actions: state
                    .policies
                    .identity
                    .iter()
                    .flat_map(|policy| {
                        unknown
                            .get(&(Arc::as_ptr(&policy.document) as usize))
                            .into_iter()
                            .flatten()
                            .map(|action| UnknownAction {
                                action: action.clone(),
                                policy: policy.source.clone(),
                            })
                    })
                    .collect(),
            }
        })
        .collect();

    let public_roles = account
        .roles
        .iter()
        .filter(|role| {
            role.trust_policy
                .as_ref()
                .is_some_and(|trust| trust.is_public())
        })
        .map(|role| role.arn.clone())
        .collect();

    AccountAnalysis {
        account_id: account.account_id.clone(),
        catalog: catalog.provenance().to_vec(),
        principals,
        public_roles,
    }
}

/// The catalog ids of the actions the narrow categories list by name.
struct NamedActions {
    data_exfiltration: Vec<ActionId>,
    credentials_exposure: Vec<ActionId>,
}

impl NamedActions {
    fn new(catalog: &Catalog) -> NamedActions {
        let ids = |names: &[&str]| names.iter().filter_map(|name| catalog.find(name)).collect();
        NamedActions {
            data_exfiltration: ids(DATA_EXFILTRATION),
            credentials_exposure: ids(CREDENTIALS_EXPOSURE),
        }
    }
}

fn risks_of(
    state: &PrincipalState,
    catalog: &'static Catalog,
    named: &NamedActions,
    direct_admin: bool,
    uses: &[TechniqueUse],
    exclusions: &CompiledExclusions,
) -> Vec<RiskFinding> {
    let bits = &state.bits;
    let reach_of = |id: ActionId| {
        if bits.all_resources.contains(id) {
            Reach::AllResources
        } else if bits.all_resources_possibly.contains(id) {
            Reach::AllResourcesConditional
        } else {
            Reach::SomeResources
        }
    };
    let listed = |ids: &mut dyn Iterator<Item = ActionId>| -> Vec<RiskAction> {
        ids.filter(|id| bits.any.contains(*id))
            .map(|id| (id, catalog.action(id).name.as_str()))
            .filter(|(_, name)| !exclusions.excludes_action(name))
            .map(|(id, name)| RiskAction {
                action: name,
                reach: reach_of(id),
            })
            .collect()
    };

    let mut risks = Vec::new();
    if !uses.is_empty() {
        let mut actions: Vec<RiskAction> = Vec::new();
        for grant in uses.iter().flat_map(|found| &found.example.grants) {
            let Some(id) = catalog.find(&grant.action) else {
                continue;
            };
            let name = catalog.action(id).name.as_str();
            if !actions.iter().any(|existing| existing.action == name) {
                actions.push(RiskAction {
                    action: name,
                    reach: reach_of(id),
                });
            }
        }
        risks.push(RiskFinding {
            category: RiskCategory::PrivilegeEscalation,
            covered_by_admin: direct_admin,
            actions,
            services: Vec::new(),
        });
    }

    if direct_admin {
        for category in [
            RiskCategory::DataExfiltration,
            RiskCategory::ResourceExposure,
            RiskCategory::CredentialsExposure,
            RiskCategory::InfrastructureModification,
        ] {
            risks.push(RiskFinding {
                category,
                covered_by_admin: true,
                actions: Vec::new(),
                services: Vec::new(),
            });
        }
        return risks;
    }

    let data = listed(&mut named.data_exfiltration.iter().copied());
    risks.extend(finding(RiskCategory::DataExfiltration, data, Vec::new()));

    let mut permissions_management = bits.any.clone();
    permissions_management.intersect_with(catalog.level_set(AccessLevel::PermissionsManagement));
    let (actions, services) = broad(&permissions_management, catalog, exclusions, &listed);
    risks.extend(finding(RiskCategory::ResourceExposure, actions, services));

    let credentials = listed(&mut named.credentials_exposure.iter().copied());
    risks.extend(finding(
        RiskCategory::CredentialsExposure,
        credentials,
        Vec::new(),
    ));

    let mut writes = bits.all_resources_possibly.clone();
    writes.intersect_with(catalog.level_set(AccessLevel::Write));
    let (actions, services) = broad(&writes, catalog, exclusions, &listed);
    risks.extend(finding(
        RiskCategory::InfrastructureModification,
        actions,
        services,
    ));
    risks
}

fn finding(
    category: RiskCategory,
    actions: Vec<RiskAction>,
    services: Vec<ServiceCount>,
) -> Option<RiskFinding> {
    (!actions.is_empty() || !services.is_empty()).then_some(RiskFinding {
        category,
        covered_by_admin: false,
        actions,
        services,
    })
}

/// Counts a broad category per service, and lists its actions when they are few.
fn broad(
    set: &ActionSet,
    catalog: &'static Catalog,
    exclusions: &CompiledExclusions,
    listed: &dyn Fn(&mut dyn Iterator<Item = ActionId>) -> Vec<RiskAction>,
) -> (Vec<RiskAction>, Vec<ServiceCount>) {
    // The services own consecutive id ranges in catalog order, so walking the set
    // counts them service by service.
    let mut services: Vec<ServiceCount> = Vec::new();
    let mut current = None;
    for id in set.iter() {
        let action = catalog.action(id);
        if !exclusions.actions.is_empty() && exclusions.excludes_action(&action.name) {
            continue;
        }
        match services.last_mut() {
            Some(count) if current == Some(action.service) => count.actions += 1,
            _ => {
                current = Some(action.service);
                services.push(ServiceCount {
                    service: catalog.services()[action.service].prefix.as_str(),
                    actions: 1,
                });
            }
        }
    }
    let total: usize = services.iter().map(|count| count.actions).sum();
    let actions = if total <= LISTED_RISK_ACTIONS {
        listed(&mut set.iter())
    } else {
        Vec::new()
    };
    (actions, services)
}

/// Unknown action names of every distinct identity policy document of the analysed
/// principals, computed once per document and keyed by the document's address.
fn unknown_actions_by_policy(
    model: &AccountModel,
    catalog: &Catalog,
) -> HashMap<usize, Vec<String>> {
    let mut seen: HashSet<usize> = HashSet::new();
    let mut documents: Vec<&Arc<crate::document::Policy>> = Vec::new();
    for state in &model.principals {
        for policy in &state.policies.identity {
            if seen.insert(Arc::as_ptr(&policy.document) as usize) {
                documents.push(&policy.document);
            }
        }
    }
    documents
        .par_iter()
        .map(|document| {
            (
                Arc::as_ptr(document) as usize,
                document.unknown_actions(catalog),
            )
        })
        .filter(|(_, unknown)| !unknown.is_empty())
        .collect()
}

#[cfg(test)]
mod tests;
