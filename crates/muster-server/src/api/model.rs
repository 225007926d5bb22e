//! The API's wire format: the request and response bodies the OpenAPI document describes.
//!
//! They convert from the service's types, so a change inside the service cannot change
//! the API unnoticed: the OpenAPI drift test compares this contract with the checked-in
//! `openapi.json`.

use muster_domain::{self as domain, App, CredentialsView, EntityType, ExtractionType, IntegrationStatus};
use muster_service as service;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An integration. Credentials appear only as which of them are set, never their values.
#[derive(Serialize, ToSchema)]
pub struct Integration {
    /// `<app>/<ULID>`. In a path, percent-encode the slash or give it as two segments.
    #[schema(example = "aws/01JQ8Z5Y3KX7V2N4R6T8W0B1CD")]
    pub id: String,
    /// The tenant that owns the integration. Until sign-in exists, every integration
    /// belongs to the default tenant.
    pub tenant_id: String,
    pub app: App,
    pub name: String,
    pub description: String,
    /// Email of the application owner who reviews this integration's access.
    pub primary_owner: String,
    pub secondary_owners: Vec<String>,
    pub extraction_type: ExtractionType,
    pub credentials: CredentialsView,
    /// The SCIM server of a SCIM integration: its URL and which secrets are set.
    pub scim: Option<domain::ScimConnectionView>,
    pub status: IntegrationStatus,
    /// Explanation of the status and what to do about it, e.g. `Data available`.
    pub message: String,
    #[schema(format = DateTime)]
    pub last_sync_at: Option<String>,
    pub current_snapshot_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<domain::Integration> for Integration {
    fn from(integration: domain::Integration) -> Self {
        Integration {
            id: integration.id.to_string(),
            tenant_id: integration.tenant_id.to_string(),
            app: integration.app,
            name: integration.name,
            description: integration.description,
            primary_owner: integration.primary_owner,
            secondary_owners: integration.secondary_owners,
            extraction_type: integration.extraction_type,
            credentials: integration.credentials,
            scim: integration.scim,
            status: integration.status,
            message: integration.message,
            last_sync_at: integration.last_sync_at,
            current_snapshot_id: integration.current_snapshot_id.map(|id| id.to_string()),
            created_at: integration.created_at,
            updated_at: integration.updated_at,
        }
    }
}

/// A new integration.
// The required fields also have serde defaults, so that a request missing several of them
// gets one 400 that lists every invalid field.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntegration {
    pub app: App,
    /// Unique per installation, ignoring case; at most 100 characters, no `/`.
    #[serde(default)]
    #[schema(required = true)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The email of the application owner.
    #[serde(default)]
    #[schema(required = true)]
    pub primary_owner: String,
    #[serde(default)]
    pub secondary_owners: Vec<String>,
    /// Only `direct` is available for AWS.
    #[serde(default = "direct")]
    #[schema(default = "direct")]
    pub extraction_type: ExtractionType,
    /// AWS with extraction type `direct`: either a role ARN or an access key id with its
    /// secret access key.
    #[serde(default)]
    pub credentials: AwsCredentialsInput,
    /// App `scim`: the server's base URL and a bearer token or a user name and password.
    #[serde(default)]
    pub scim: Option<ScimInput>,
}

/// The SCIM server of a new SCIM integration. Secrets are write-only.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScimInput {
    #[schema(example = "https://example.com/scim/v2")]
    pub base_url: String,
    pub bearer_token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Extra request headers some servers need, by name.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

impl From<ScimInput> for domain::ScimConnection {
    fn from(input: ScimInput) -> Self {
        domain::ScimConnection {
            base_url: input.base_url,
            credentials: domain::ScimCredentials {
                bearer_token: input.bearer_token,
                username: input.username,
                password: input.password,
                extra_headers: input.headers.into_iter().collect(),
            },
        }
    }
}

fn direct() -> ExtractionType {
    ExtractionType::Direct
}

impl NewIntegration {
    /// Splits the request into the integration's draft and, for SCIM, its server.
    pub fn into_parts(mut self) -> (domain::IntegrationDraft, Option<domain::ScimConnection>) {
        let scim = self.scim.take().map(Into::into);
        (self.into(), scim)
    }
}

impl From<NewIntegration> for domain::IntegrationDraft {
    fn from(input: NewIntegration) -> Self {
        domain::IntegrationDraft {
            app: input.app,
            name: input.name,
            description: input.description,
            primary_owner: input.primary_owner,
            secondary_owners: input.secondary_owners,
            extraction_type: input.extraction_type,
            credentials: input.credentials.into(),
        }
    }
}

/// A change to an integration. Absent fields keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub primary_owner: Option<String>,
    pub secondary_owners: Option<Vec<String>>,
    /// A new role ARN or access key id replaces all stored credentials. Given alone, an
    /// external ID, session duration or secret access key is merged into the stored ones.
    pub credentials: Option<AwsCredentialsInput>,
    /// For a SCIM integration: a new base URL, or new credentials that replace the stored
    /// ones (a bearer token, or a user name with a password), or new extra headers.
    pub scim: Option<ScimChanges>,
}

/// A change to a SCIM integration's server. Absent fields keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScimChanges {
    pub base_url: Option<String>,
    pub bearer_token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Replaces every extra header when given.
    pub headers: Option<std::collections::BTreeMap<String, String>>,
}

impl ScimChanges {
    /// The new base URL and the credentials to merge, as the service takes them.
    pub fn into_parts(self) -> (Option<String>, Option<domain::ScimCredentials>) {
        let credentials = domain::ScimCredentials {
            bearer_token: self.bearer_token,
            username: self.username,
            password: self.password,
            extra_headers: self.headers.unwrap_or_default().into_iter().collect(),
        };
        let any = credentials.bearer_token.is_some()
            || credentials.username.is_some()
            || credentials.password.is_some()
            || !credentials.extra_headers.is_empty();
        (self.base_url, any.then_some(credentials))
    }
}

impl From<IntegrationChanges> for domain::IntegrationUpdate {
    fn from(input: IntegrationChanges) -> Self {
        domain::IntegrationUpdate {
            name: input.name,
            description: input.description,
            primary_owner: input.primary_owner,
            secondary_owners: input.secondary_owners,
            credentials: input.credentials.map(Into::into),
        }
    }
}

/// AWS credentials, write-only: responses show only which of them are set.
///
/// Give either a role to assume (`role_arn`, optionally `external_id` and
/// `session_duration_secs`) or an IAM user's access key (`access_key_id` and
/// `secret_access_key`). When both are given, the role wins.
// No Debug: the struct contains a secret.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsCredentialsInput {
    #[schema(write_only, example = "arn:aws:iam::123456789012:role/MusterReadOnly")]
    pub role_arn: Option<String>,
    /// The `sts:ExternalId` condition value of the role's trust policy.
    #[schema(write_only)]
    pub external_id: Option<String>,
    /// Role session length in seconds, 900 to 43200 (12 hours); 3600 when absent.
    #[schema(write_only, minimum = 900, maximum = 43200)]
    pub session_duration_secs: Option<u32>,
    #[schema(write_only, example = "AKIAIOSFODNN7EXAMPLE")]
    pub access_key_id: Option<String>,
    #[schema(write_only, format = Password)]
    pub secret_access_key: Option<String>,
}

impl From<AwsCredentialsInput> for domain::AwsCredentials {
    fn from(input: AwsCredentialsInput) -> Self {
        domain::AwsCredentials {
            role_arn: input.role_arn,
            external_id: input.external_id,
            session_duration_secs: input.session_duration_secs,
            access_key_id: input.access_key_id,
            secret_access_key: input.secret_access_key,
        }
    }
}

/// Stage of a sync run.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyncRunState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl From<service::SyncRunState> for SyncRunState {
    fn from(state: service::SyncRunState) -> Self {
        match state {
            service::SyncRunState::Queued => SyncRunState::Queued,
            service::SyncRunState::Running => SyncRunState::Running,
            service::SyncRunState::Succeeded => SyncRunState::Succeeded,
            service::SyncRunState::Failed => SyncRunState::Failed,
        }
    }
}

/// One extraction attempt of an integration.
#[derive(Serialize, ToSchema)]
pub struct SyncRun {
    pub id: String,
    pub integration_id: String,
    pub state: SyncRunState,
    /// Origin of the run: `api`, `ui` or `cli`.
    pub trigger: String,
    /// The process that ran it, `host:pid#worker`.
    pub worker: Option<String>,
    #[schema(format = DateTime)]
    pub queued_at: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// The snapshot a successful run wrote.
    pub snapshot_id: Option<String>,
    /// Stable code of a failure, e.g. `aws.access_denied`.
    pub error_code: Option<String>,
    pub message: String,
    /// Counts of what the run found, e.g. `{"entities": 120, "relations": 340, "warnings": 0}`.
    #[schema(value_type = Object)]
    pub stats: serde_json::Value,
}

impl From<service::SyncRun> for SyncRun {
    fn from(run: service::SyncRun) -> Self {
        SyncRun {
            id: run.id.to_string(),
            integration_id: run.integration_id.to_string(),
            state: run.state.into(),
            trigger: run.trigger,
            worker: run.worker,
            queued_at: run.queued_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
            snapshot_id: run.snapshot_id.map(|id| id.to_string()),
            error_code: run.error_code,
            message: run.message,
            stats: run.stats,
        }
    }
}

/// A record of an integration's current snapshot: a user, group, role, policy or account.
#[derive(Serialize, ToSchema)]
pub struct Entity {
    /// Stable across snapshots: derived from the integration, entity type and source id.
    pub id: String,
    pub integration_id: String,
    pub snapshot_id: String,
    pub entity_type: EntityType,
    /// The source system's kind of record, e.g. `user`, `group`, `role`, `policy`.
    pub source_type: String,
    /// The source system's id, e.g. an IAM ARN.
    pub source_id: String,
    pub name: String,
    /// A JSON object with `"Metadata Version": "v1"` and source-specific fields.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

impl From<service::StoredEntity> for Entity {
    fn from(entity: service::StoredEntity) -> Self {
        Entity {
            id: entity.id.to_string(),
            integration_id: entity.integration_id.to_string(),
            snapshot_id: entity.snapshot_id.to_string(),
            entity_type: entity.entity_type,
            source_type: entity.source_type,
            source_id: entity.source_id,
            name: entity.name,
            metadata: entity.metadata,
        }
    }
}

/// One page of entities.
#[derive(Serialize, ToSchema)]
pub struct EntityPage {
    pub items: Vec<Entity>,
    /// How many entities match the filter in all.
    pub total: i64,
    pub limit: u32,
    pub offset: u32,
}

impl From<service::EntityPage> for EntityPage {
    fn from(page: service::EntityPage) -> Self {
        EntityPage {
            items: page.items.into_iter().map(Entity::from).collect(),
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        }
    }
}

/// An entity with its relations in both directions.
#[derive(Serialize, ToSchema)]
pub struct EntityDetail {
    #[serde(flatten)]
    pub entity: Entity,
    /// Relations where this entity is the child: who has access to it.
    pub parents: Vec<RelatedEntity>,
    /// Relations where this entity is the parent: what it has access to.
    pub children: Vec<RelatedEntity>,
    /// Findings and access of an AWS user or role, from the policy analysis stored with the snapshot.
    /// `null` for other entities and for snapshots stored without an analysis.
    pub findings: Option<EntityFindings>,
}

impl EntityDetail {
    pub fn new(detail: service::EntityDetail, findings: Option<service::analysis::PrincipalReport>) -> Self {
        EntityDetail {
            entity: detail.entity.into(),
            parents: detail.parents.into_iter().map(RelatedEntity::from).collect(),
            children: detail.children.into_iter().map(RelatedEntity::from).collect(),
            findings: findings.map(EntityFindings::from),
        }
    }
}

/// The policy analysis of one principal: badges, plain-language lines and the statements
/// behind each line.
#[derive(Serialize, ToSchema)]
pub struct EntityFindings {
    /// The principal can do everything, or can make itself administrator.
    pub admin: bool,
    /// The administrator access depends on conditions the analysis could not decide.
    pub admin_conditional: bool,
    /// Number of privilege-escalation techniques the principal can use.
    pub escalations: usize,
    /// Risk categories found: `privilege_escalation`, `data_exfiltration`,
    /// `resource_exposure`, `credentials_exposure`, `infrastructure_modification`.
    pub risks: Vec<String>,
    /// Actions in the principal's policies that the action catalog does not list.
    pub unknown_actions: Vec<String>,
    /// Administrator access, escalation techniques and risks, e.g. "can make itself
    /// administrator through iam:CreatePolicyVersion on `arn:…`".
    pub findings: Vec<FindingLine>,
    /// Effective access, one line per service and access level, e.g. "can read every
    /// resource of Amazon S3 (all 20 Read actions)".
    pub access: Vec<FindingLine>,
}

/// One plain-language sentence about a principal.
#[derive(Serialize, ToSchema)]
pub struct FindingLine {
    pub text: String,
    /// The statements that make the sentence true; empty when it follows from other lines.
    pub statements: Vec<FindingStatement>,
}

/// A policy statement behind a finding.
#[derive(Serialize, ToSchema)]
pub struct FindingStatement {
    /// Source of the statement, e.g. "inline policy `deploy`".
    pub policy: String,
    /// Position in the policy's `Statement` list, starting at 1.
    pub number: usize,
    pub sid: Option<String>,
    /// The statement in short text, e.g. "Allow s3:GetObject on arn:aws:s3:::bucket/*".
    pub text: String,
}

impl From<service::analysis::PrincipalReport> for EntityFindings {
    fn from(report: service::analysis::PrincipalReport) -> Self {
        EntityFindings {
            admin: report.admin,
            admin_conditional: report.admin_conditional,
            escalations: report.escalations,
            risks: report.risks,
            unknown_actions: report.unknown_actions,
            findings: report.findings.into_iter().map(FindingLine::from).collect(),
            access: report.access.into_iter().map(FindingLine::from).collect(),
        }
    }
}

impl From<service::analysis::ReportLine> for FindingLine {
    fn from(line: service::analysis::ReportLine) -> Self {
        FindingLine {
            text: line.text,
            statements: line
                .statements
                .into_iter()
                .map(|statement| FindingStatement {
                    policy: statement.policy,
                    number: statement.number,
                    sid: statement.sid,
                    text: statement.text,
                })
                .collect(),
        }
    }
}

/// The other end of a relation, with the relation's own fields.
#[derive(Serialize, ToSchema)]
pub struct RelatedEntity {
    pub id: String,
    pub entity_type: EntityType,
    pub source_type: String,
    pub source_id: String,
    pub name: String,
    /// Top-level container, e.g. the AWS account id; `default` when there is none.
    pub project: String,
    /// e.g. `member`, `attached`, `assume`.
    pub privilege_name: String,
    /// `false` is an explicit deny.
    pub privilege_value: bool,
    /// e.g. `group`, `role`, `policy`.
    pub connection_type: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

impl From<service::RelatedEntity> for RelatedEntity {
    fn from(related: service::RelatedEntity) -> Self {
        RelatedEntity {
            id: related.id.to_string(),
            entity_type: related.entity_type,
            source_type: related.source_type,
            source_id: related.source_id,
            name: related.name,
            project: related.project,
            privilege_name: related.privilege_name,
            privilege_value: related.privilege_value,
            connection_type: related.connection_type,
            metadata: related.metadata,
        }
    }
}

/// Filters of the entity listing. Empty values count as absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntityQuery {
    /// Integration id or name.
    pub integration: Option<String>,
    /// `identity`, `connection` or `resource`.
    #[serde(rename = "type")]
    #[param(value_type = Option<EntityType>)]
    pub entity_type: Option<String>,
    /// The source system's kind of record, e.g. `user`; ignores case.
    pub source_type: Option<String>,
    /// Case-insensitive substring of the name or source id.
    pub search: Option<String>,
    /// Page size, 1 to 500; 50 when absent or 0.
    pub limit: Option<u32>,
    /// How many matching entities to skip.
    pub offset: Option<u32>,
}

/// Filters of the sync run listing.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncRunQuery {
    /// Integration id or name; all integrations when absent.
    pub integration: Option<String>,
    /// How many runs to return, newest first: 1 to 500, 50 when absent.
    pub limit: Option<u32>,
}

/// How many runs to return.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunLimitQuery {
    /// 1 to 500, newest first; 50 when absent.
    pub limit: Option<u32>,
}

/// Health of the server and its database.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: String,
}
