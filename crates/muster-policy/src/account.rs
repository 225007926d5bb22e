//! The input model: an AWS account's users, groups, roles and managed policies, and the
//! policies that apply to each principal.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::context::RequestContext;
use crate::document::Policy;

/// A policy with the name it has where it is attached or defined.
#[derive(Debug, Clone)]
pub struct NamedPolicy {
    pub name: String,
    pub document: Arc<Policy>,
}

#[derive(Debug, Clone, Default)]
pub struct User {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub inline_policies: Vec<NamedPolicy>,
    pub managed_policy_arns: Vec<String>,
    /// Names of the groups the user belongs to.
    pub groups: Vec<String>,
    /// ARN of the managed policy used as permissions boundary.
    pub permissions_boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct Group {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub inline_policies: Vec<NamedPolicy>,
    pub managed_policy_arns: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Role {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub inline_policies: Vec<NamedPolicy>,
    pub managed_policy_arns: Vec<String>,
    pub permissions_boundary: Option<String>,
    /// The assume-role (trust) policy; `None` when it was missing or invalid.
    pub trust_policy: Option<Arc<Policy>>,
    pub tags: Vec<(String, String)>,
}

/// A managed policy with the document of its default version.
#[derive(Debug, Clone)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub default_version_id: Option<String>,
    pub document: Arc<Policy>,
    /// Versions other than the default, which `iam:SetDefaultPolicyVersion` can activate.
    pub other_versions: Vec<(String, Arc<Policy>)>,
}

impl ManagedPolicy {
    /// Checks whether AWS owns the policy (`arn:aws:iam::aws:policy/...`), so no account
    /// principal can change it.
    pub fn is_aws_managed(&self) -> bool {
        self.arn.contains(":iam::aws:policy/")
    }
}

/// A principal of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalId {
    User(usize),
    Role(usize),
}

/// The origin of a policy that applies to a principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicySource {
    /// An inline policy of the principal itself.
    Inline { name: Arc<str> },
    /// A managed policy attached to the principal.
    Managed { arn: Arc<str> },
    /// An inline policy of a group the user belongs to.
    GroupInline { group: Arc<str>, name: Arc<str> },
    /// A managed policy attached to a group the user belongs to.
    GroupManaged { group: Arc<str>, arn: Arc<str> },
    /// The managed policy set as permissions boundary.
    PermissionsBoundary { arn: Arc<str> },
    /// A service control policy of the organization.
    ServiceControl { name: Arc<str> },
    /// A role's trust policy.
    Trust { role: Arc<str> },
    /// A policy passed in by the caller.
    Other { name: Arc<str> },
}

impl fmt::Display for PolicySource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySource::Inline { name } => write!(formatter, "inline policy `{name}`"),
            PolicySource::Managed { arn } => write!(formatter, "managed policy `{arn}`"),
            PolicySource::GroupInline { group, name } => {
                write!(formatter, "inline policy `{name}` of group `{group}`")
            }
            PolicySource::GroupManaged { group, arn } => {
                write!(formatter, "managed policy `{arn}` through group `{group}`")
            }
            PolicySource::PermissionsBoundary { arn } => {
                write!(formatter, "permissions boundary `{arn}`")
            }
            PolicySource::ServiceControl { name } => {
                write!(formatter, "service control policy `{name}`")
            }
            PolicySource::Trust { role } => write!(formatter, "trust policy of role `{role}`"),
            PolicySource::Other { name } => write!(formatter, "policy `{name}`"),
        }
    }
}

/// A policy document with its source.
#[derive(Debug, Clone)]
pub struct SourcedPolicy {
    pub source: PolicySource,
    pub document: Arc<Policy>,
}

/// Every policy that decides a principal's requests.
#[derive(Debug, Clone, Default)]
pub struct PrincipalPolicies {
    /// Identity-based policies: inline and managed, the principal's and its groups'.
    pub identity: Vec<SourcedPolicy>,
    /// The permissions boundary, which must also allow a request.
    pub boundary: Option<SourcedPolicy>,
    /// Service control policies by level of the organization (root, each OU, the
    /// account). Each level must allow a request; an empty list means no organization.
    pub service_control: Vec<Vec<SourcedPolicy>>,
}

/// An AWS account's principals and policies.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub account_id: Option<String>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub roles: Vec<Role>,
    pub managed_policies: Vec<ManagedPolicy>,
    /// Service control policies by organization level, applied to every principal.
    pub service_control_policies: Vec<Vec<NamedPolicy>>,
    group_by_name: HashMap<String, usize>,
    policy_by_arn: HashMap<String, usize>,
    principal_by_arn: HashMap<String, PrincipalId>,
}

impl Account {
    /// Builds an account and its lookup indexes.
    pub fn new(
        account_id: Option<String>,
        users: Vec<User>,
        groups: Vec<Group>,
        roles: Vec<Role>,
        managed_policies: Vec<ManagedPolicy>,
    ) -> Account {
        let mut account = Account {
            account_id,
            users,
            groups,
            roles,
            managed_policies,
            ..Account::default()
        };
        account.reindex();
        account
    }

    fn reindex(&mut self) {
        self.group_by_name = self
            .groups
            .iter()
            .enumerate()
            .map(|(index, group)| (group.name.clone(), index))
            .collect();
        self.policy_by_arn = self
            .managed_policies
            .iter()
            .enumerate()
            .map(|(index, policy)| (policy.arn.clone(), index))
            .collect();
        let users = self
            .users
            .iter()
            .enumerate()
            .map(|(index, user)| (user.arn.clone(), PrincipalId::User(index)));
        let roles = self
            .roles
            .iter()
            .enumerate()
            .map(|(index, role)| (role.arn.clone(), PrincipalId::Role(index)));
        self.principal_by_arn = users.chain(roles).collect();
        if self.account_id.is_none() {
            self.account_id = self
                .principal_by_arn
                .keys()
                .find_map(|arn| arn.split(':').nth(4).map(str::to_string));
        }
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.group_by_name
            .get(name)
            .map(|index| &self.groups[*index])
    }

    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.group_by_name.get(name).copied()
    }

    pub fn managed_policy_index(&self, arn: &str) -> Option<usize> {
        self.policy_by_arn.get(arn).copied()
    }

    pub fn managed_policy(&self, arn: &str) -> Option<&ManagedPolicy> {
        self.policy_by_arn
            .get(arn)
            .map(|index| &self.managed_policies[*index])
    }

    /// Finds a user or role by ARN.
    pub fn principal_by_arn(&self, arn: &str) -> Option<PrincipalId> {
        self.principal_by_arn.get(arn).copied()
    }

    /// Finds a user or role by name, users first.
    pub fn principal_by_name(&self, name: &str) -> Option<PrincipalId> {
        if let Some(index) = self.users.iter().position(|user| user.name == name) {
            return Some(PrincipalId::User(index));
        }
        self.roles
            .iter()
            .position(|role| role.name == name)
            .map(PrincipalId::Role)
    }

    /// Lists every user, then every role.
    pub fn principals(&self) -> impl Iterator<Item = PrincipalId> {
        (0..self.users.len())
            .map(PrincipalId::User)
            .chain((0..self.roles.len()).map(PrincipalId::Role))
    }

    pub fn principal_arn(&self, principal: PrincipalId) -> &str {
        match principal {
            PrincipalId::User(index) => &self.users[index].arn,
            PrincipalId::Role(index) => &self.roles[index].arn,
        }
    }

    pub fn principal_name(&self, principal: PrincipalId) -> &str {
        match principal {
            PrincipalId::User(index) => &self.users[index].name,
            PrincipalId::Role(index) => &self.roles[index].name,
        }
    }

    /// ARNs of the managed policies attached to the principal directly or, for a user,
    /// through its groups.
    pub fn attached_policy_arns(&self, principal: PrincipalId) -> Vec<&str> {
        let mut arns: Vec<&str> = Vec::new();
        let direct = match principal {
            PrincipalId::User(index) => &self.users[index].managed_policy_arns,
            PrincipalId::Role(index) => &self.roles[index].managed_policy_arns,
        };
        arns.extend(direct.iter().map(String::as_str));
        if let PrincipalId::User(index) = principal {
            for group in self.users[index]
                .groups
                .iter()
                .filter_map(|name| self.group(name))
            {
                arns.extend(group.managed_policy_arns.iter().map(String::as_str));
            }
        }
        arns.sort_unstable();
        arns.dedup();
        arns
    }

    /// Collects the policies that decide the principal's requests. Managed policy ARNs
    /// missing from the account are skipped, and [`crate::authorization_details`] reports
    /// them at load.
    pub fn policies_of(&self, principal: PrincipalId) -> PrincipalPolicies {
        let mut identity = Vec::new();
        let (inline, managed, boundary) = match principal {
            PrincipalId::User(index) => {
                let user = &self.users[index];
                (
                    &user.inline_policies,
                    &user.managed_policy_arns,
                    &user.permissions_boundary,
                )
            }
            PrincipalId::Role(index) => {
                let role = &self.roles[index];
                (
                    &role.inline_policies,
                    &role.managed_policy_arns,
                    &role.permissions_boundary,
                )
            }
        };

        for policy in inline {
            identity.push(SourcedPolicy {
                source: PolicySource::Inline {
                    name: policy.name.as_str().into(),
                },
                document: policy.document.clone(),
            });
        }
        for arn in managed {
            if let Some(policy) = self.managed_policy(arn) {
                identity.push(SourcedPolicy {
                    source: PolicySource::Managed {
                        arn: arn.as_str().into(),
                    },
                    document: policy.document.clone(),
                });
            }
        }
        if let PrincipalId::User(index) = principal {
            for group in self.users[index]
                .groups
                .iter()
                .filter_map(|name| self.group(name))
            {
                self.push_group_policies(group, &mut identity);
            }
        }

        let boundary = boundary.as_ref().and_then(|arn| {
            self.managed_policy(arn).map(|policy| SourcedPolicy {
                source: PolicySource::PermissionsBoundary {
                    arn: arn.as_str().into(),
                },
                document: policy.document.clone(),
            })
        });

        PrincipalPolicies {
            identity,
            boundary,
            service_control: self.service_control_for_principals(),
        }
    }

    /// Adds the inline and managed policies of `group` as a user's identity policies.
    pub fn push_group_policies(&self, group: &Group, identity: &mut Vec<SourcedPolicy>) {
        let group_name: Arc<str> = group.name.as_str().into();
        for policy in &group.inline_policies {
            identity.push(SourcedPolicy {
                source: PolicySource::GroupInline {
                    group: group_name.clone(),
                    name: policy.name.as_str().into(),
                },
                document: policy.document.clone(),
            });
        }
        for arn in &group.managed_policy_arns {
            if let Some(policy) = self.managed_policy(arn) {
                identity.push(SourcedPolicy {
                    source: PolicySource::GroupManaged {
                        group: group_name.clone(),
                        arn: arn.as_str().into(),
                    },
                    document: policy.document.clone(),
                });
            }
        }
    }

    fn service_control_for_principals(&self) -> Vec<Vec<SourcedPolicy>> {
        self.service_control_policies
            .iter()
            .map(|level| {
                level
                    .iter()
                    .map(|policy| SourcedPolicy {
                        source: PolicySource::ServiceControl {
                            name: policy.name.as_str().into(),
                        },
                        document: policy.document.clone(),
                    })
                    .collect()
            })
            .collect()
    }

    /// Builds the request context facts IAM supplies for every request of this principal:
    /// user name and id, principal ARN, account and type, and its tags. Tag keys not
    /// listed are known to be absent, and every other key stays unknown.
    pub fn principal_context(&self, principal: PrincipalId) -> RequestContext {
        let mut context = RequestContext::new();
        let (arn, tags) = match principal {
            PrincipalId::User(index) => {
                let user = &self.users[index];
                context.insert("aws:username", user.name.as_str());
                context.insert("aws:userid", user.id.as_str());
                context.insert("aws:PrincipalType", "User");
                (&user.arn, &user.tags)
            }
            PrincipalId::Role(index) => {
                let role = &self.roles[index];
                // A role session has no user name; its user id carries the session name.
                context.mark_absent("aws:username");
                context.insert("aws:PrincipalType", "AssumedRole");
                (&role.arn, &role.tags)
            }
        };
        context.insert("aws:PrincipalArn", arn.as_str());
        if let Some(account) = arn.split(':').nth(4) {
            context.insert("aws:PrincipalAccount", account);
        }
        for (key, value) in tags {
            context.insert(&format!("aws:PrincipalTag/{key}"), value.as_str());
        }
        context.mark_prefix_complete("aws:PrincipalTag/");
        context
    }
}
