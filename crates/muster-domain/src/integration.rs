//! Integrations: one connected application instance, its owners, how its data gets in and
//! the credentials Muster uses to read it.

use crate::ids::{IntegrationId, SnapshotId, TenantId};
use crate::validation::{is_valid_email, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Longest AWS role session AWS allows: 12 hours, in seconds.
pub const MAX_SESSION_DURATION_SECS: u32 = 43_200;
/// Shortest AWS role session AWS allows: 15 minutes, in seconds.
pub const MIN_SESSION_DURATION_SECS: u32 = 900;
/// Role session length used when none is configured, in seconds.
pub const DEFAULT_SESSION_DURATION_SECS: u32 = 3_600;

/// The application an integration connects to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum App {
    Aws,
    /// Any other application, whose data arrives as CSV files by upload or bulk API.
    Custom,
    /// An application read through its SCIM 2.0 server.
    Scim,
}

impl App {
    pub fn as_str(self) -> &'static str {
        match self {
            App::Aws => "aws",
            App::Custom => "custom",
            App::Scim => "scim",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            App::Aws => "Amazon Web Services",
            App::Custom => "Custom application",
            App::Scim => "SCIM 2.0",
        }
    }

    /// Returns the extraction type used when the user chooses none.
    pub fn default_extraction_type(self) -> ExtractionType {
        match self {
            App::Aws => ExtractionType::Direct,
            App::Custom => ExtractionType::Upload,
            App::Scim => ExtractionType::Scim,
        }
    }

    /// Returns the extraction types this application supports.
    pub fn extraction_types(self) -> &'static [ExtractionType] {
        match self {
            App::Aws => &[ExtractionType::Direct, ExtractionType::Upload],
            App::Custom => &[ExtractionType::Upload, ExtractionType::Api],
            App::Scim => &[ExtractionType::Scim],
        }
    }
}

impl FromStr for App {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "aws" => Ok(App::Aws),
            "custom" => Ok(App::Custom),
            "scim" => Ok(App::Scim),
            other => Err(format!("unknown application `{other}`: expected `aws`, `scim` or `custom`")),
        }
    }
}

/// Extraction type: the way data reaches Muster for an integration.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtractionType {
    /// Muster calls the application's API.
    Direct,
    /// Muster reads a SCIM 2.0 server.
    Scim,
    /// A person uploads CSV files.
    Upload,
    /// A program pushes data through the bulk API.
    Api,
}

impl ExtractionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ExtractionType::Direct => "direct",
            ExtractionType::Scim => "scim",
            ExtractionType::Upload => "upload",
            ExtractionType::Api => "api",
        }
    }

    /// Returns whether data arrives as files (upload or bulk API) rather than by a sync.
    pub fn receives_files(self) -> bool {
        matches!(self, ExtractionType::Upload | ExtractionType::Api)
    }
}

impl FromStr for ExtractionType {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "direct" => Ok(ExtractionType::Direct),
            "scim" => Ok(ExtractionType::Scim),
            "upload" => Ok(ExtractionType::Upload),
            "api" => Ok(ExtractionType::Api),
            other => Err(format!(
                "unknown extraction type `{other}`: expected direct, scim, upload or api"
            )),
        }
    }
}

/// Integration status, the value of the Integrations page's Status column.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntegrationStatus {
    /// Saved, no data yet.
    Pending,
    /// A sync is running.
    Syncing,
    /// The last sync succeeded.
    Connected,
    /// The credentials work but lack a permission.
    #[serde(rename = "Access denied")]
    AccessDenied,
    /// The application rejected the credentials themselves.
    #[serde(rename = "Invalid credentials")]
    InvalidCredentials,
    /// The application could not be reached.
    Unreachable,
    /// The last sync failed for another reason.
    #[serde(rename = "Sync failed")]
    SyncFailed,
}

impl IntegrationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationStatus::Pending => "Pending",
            IntegrationStatus::Syncing => "Syncing",
            IntegrationStatus::Connected => "Connected",
            IntegrationStatus::AccessDenied => "Access denied",
            IntegrationStatus::InvalidCredentials => "Invalid credentials",
            IntegrationStatus::Unreachable => "Unreachable",
            IntegrationStatus::SyncFailed => "Sync failed",
        }
    }

    pub fn is_error(self) -> bool {
        matches!(
            self,
            IntegrationStatus::AccessDenied
                | IntegrationStatus::InvalidCredentials
                | IntegrationStatus::Unreachable
                | IntegrationStatus::SyncFailed
        )
    }
}

impl fmt::Display for IntegrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IntegrationStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        [
            IntegrationStatus::Pending,
            IntegrationStatus::Syncing,
            IntegrationStatus::Connected,
            IntegrationStatus::AccessDenied,
            IntegrationStatus::InvalidCredentials,
            IntegrationStatus::Unreachable,
            IntegrationStatus::SyncFailed,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
        .ok_or_else(|| format!("unknown integration status `{value}`"))
    }
}

/// Credentials of an AWS integration. Stored encrypted; never shown back.
///
/// Either a role to assume (with optional external ID and session duration) or an IAM
/// user's access key. When a role ARN is present it wins over the access key.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsCredentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_duration_secs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("role_arn", &self.role_arn.as_ref().map(|_| "<set>"))
            .field("external_id", &self.external_id.as_ref().map(|_| "<set>"))
            .field("session_duration_secs", &self.session_duration_secs)
            .field("access_key_id", &self.access_key_id.as_ref().map(|_| "<set>"))
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<set>"),
            )
            .finish()
    }
}

impl AwsCredentials {
    /// Drops empty strings, so a blank form field counts as "not given".
    pub fn normalized(mut self) -> Self {
        fn clean(value: &mut Option<String>) {
            if let Some(text) = value {
                let trimmed = text.trim();
                if trimmed.is_empty() {
                    *value = None;
                } else if trimmed.len() != text.len() {
                    *value = Some(trimmed.to_string());
                }
            }
        }
        clean(&mut self.role_arn);
        clean(&mut self.external_id);
        clean(&mut self.access_key_id);
        clean(&mut self.secret_access_key);
        self
    }

    pub fn uses_role(&self) -> bool {
        self.role_arn.is_some()
    }

    pub fn session_duration(&self) -> u32 {
        self.session_duration_secs
            .unwrap_or(DEFAULT_SESSION_DURATION_SECS)
    }

    /// Applies a credential change. Fields not given keep their stored values, except
    /// that choosing a method drops the other one's fields: a role ARN drops the access
    /// key, and an access key id drops the role with its external ID and session duration.
    pub fn apply_update(&self, update: AwsCredentials) -> AwsCredentials {
        let update = update.normalized();
        if update.role_arn.is_some() {
            return AwsCredentials {
                role_arn: update.role_arn,
                external_id: update.external_id.or_else(|| self.external_id.clone()),
                session_duration_secs: update.session_duration_secs.or(self.session_duration_secs),
                access_key_id: update.access_key_id,
                secret_access_key: update.secret_access_key,
            };
        }
        if update.access_key_id.is_some() {
            return AwsCredentials {
                access_key_id: update.access_key_id,
                secret_access_key: update.secret_access_key,
                ..Default::default()
            };
        }

        let mut merged = self.clone();
        if update.external_id.is_some() {
            merged.external_id = update.external_id;
        }
        if update.session_duration_secs.is_some() {
            merged.session_duration_secs = update.session_duration_secs;
        }
        if update.secret_access_key.is_some() {
            merged.secret_access_key = update.secret_access_key;
        }
        merged
    }

    /// Returns whether no credential field is set.
    pub fn is_empty(&self) -> bool {
        self.role_arn.is_none()
            && self.external_id.is_none()
            && self.session_duration_secs.is_none()
            && self.access_key_id.is_none()
            && self.secret_access_key.is_none()
    }

    pub fn validate(&self, errors: &mut ValidationErrors) {
        if let Some(arn) = &self.role_arn {
            if !is_role_arn(arn) {
                errors.push(
                    "role_arn",
                    format!(
                        "`{arn}` is not an IAM role ARN: expected arn:aws:iam::<12-digit account id>:role/<name>"
                    ),
                );
            }
        }

        if let Some(external_id) = &self.external_id {
            if self.role_arn.is_none() {
                errors.push("external_id", "an external ID needs a role ARN to go with it");
            }
            let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c);
            if external_id.len() < 2 || external_id.len() > 1224 || !external_id.chars().all(allowed) {
                errors.push(
                    "external_id",
                    "must be 2 to 1224 characters of letters, digits and + = , . @ : / - _",
                );
            }
        }

        if let Some(duration) = self.session_duration_secs {
            if self.role_arn.is_none() {
                errors.push("session_duration_secs", "a session duration needs a role ARN to go with it");
            }
            if !(MIN_SESSION_DURATION_SECS..=MAX_SESSION_DURATION_SECS).contains(&duration) {
                errors.push(
                    "session_duration_secs",
                    format!(
                        "{duration} is out of range: AWS role sessions last {MIN_SESSION_DURATION_SECS} to {MAX_SESSION_DURATION_SECS} seconds (12 hours)"
                    ),
                );
            }
        }

        // An access key is a pair, with or without a role: half of one cannot sign.
        if let Some(key_id) = &self.access_key_id {
            if key_id.len() < 16 || key_id.len() > 128 || !key_id.chars().all(|c| c.is_ascii_alphanumeric()) {
                errors.push(
                    "access_key_id",
                    "must be 16 to 128 letters and digits, e.g. AKIAIOSFODNN7EXAMPLE",
                );
            }
            if self.secret_access_key.is_none() {
                errors.push("secret_access_key", "is required with an access key id");
            }
        }

        if self.secret_access_key.is_some() && self.access_key_id.is_none() {
            errors.push("access_key_id", "is required with a secret access key");
        }

        if self.role_arn.is_none() && self.access_key_id.is_none() && self.secret_access_key.is_none() {
            errors.push(
                "credentials",
                "give either an IAM role ARN to assume, or an access key id and secret access key",
            );
        }
    }

    pub fn view(&self) -> CredentialsView {
        CredentialsView {
            role_arn: self.role_arn.is_some(),
            external_id: self.external_id.is_some(),
            session_duration_secs: self
                .role_arn
                .as_ref()
                .map(|_| self.session_duration()),
            access_key_id: self.access_key_id.is_some(),
            secret_access_key: self.secret_access_key.is_some(),
            auth_method: if self.role_arn.is_some() {
                "assume-role"
            } else {
                "access-key"
            }
            .to_string(),
        }
    }
}

/// Flags of the credentials that are set, without their values. It is the only view of
/// credentials that the API, CLI and UI get.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsView {
    pub auth_method: String,
    pub role_arn: bool,
    pub external_id: bool,
    pub session_duration_secs: Option<u32>,
    pub access_key_id: bool,
    pub secret_access_key: bool,
}

/// Checks `arn:<partition>:iam::<account>:role/<path/><name>` with IAM's naming rules:
/// a role name is 1 to 64 characters of letters, digits and `+=,.@_-`, and path
/// segments use the same characters.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 {
        return false;
    }
    let partition_ok = parts[1] == "aws" || parts[1].starts_with("aws-");
    let account_ok = parts[4].len() == 12 && parts[4].chars().all(|c| c.is_ascii_digit());
    let resource_ok = parts[5].strip_prefix("role/").is_some_and(is_role_path_and_name);
    parts[0] == "arn" && partition_ok && parts[2] == "iam" && parts[3].is_empty() && account_ok && resource_ok
}

fn is_role_path_and_name(path_and_name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    let mut segments = path_and_name.rsplit('/');
    let name_ok = segments
        .next()
        .is_some_and(|name| (1..=64).contains(&name.len()) && name.chars().all(allowed));
    let path_ok = segments.all(|segment| !segment.is_empty() && segment.chars().all(allowed));
    name_ok && path_ok && path_and_name.len() <= 576
}

/// An integration as stored and shown. Credentials appear only as a [`CredentialsView`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Integration {
    pub id: IntegrationId,
    pub tenant_id: TenantId,
    pub app: App,
    pub name: String,
    pub description: String,
    pub primary_owner: String,
    pub secondary_owners: Vec<String>,
    pub extraction_type: ExtractionType,
    pub credentials: CredentialsView,
    pub status: IntegrationStatus,
    pub message: String,
    pub last_sync_at: Option<String>,
    pub current_snapshot_id: Option<SnapshotId>,
    /// The SCIM server of a SCIM integration: its URL and which secrets are set.
    pub scim: Option<crate::ScimConnectionView>,
    pub created_at: String,
    pub updated_at: String,
}

/// A new integration as a person or script submits it, before validation.
#[derive(Clone, Debug, Deserialize)]
pub struct IntegrationDraft {
    pub app: App,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub primary_owner: String,
    #[serde(default)]
    pub secondary_owners: Vec<String>,
    #[serde(default = "default_extraction_type")]
    pub extraction_type: ExtractionType,
    #[serde(default)]
    pub credentials: AwsCredentials,
}

fn default_extraction_type() -> ExtractionType {
    ExtractionType::Direct
}

impl IntegrationDraft {
    /// Trims every text field and drops blank credential fields. An application that
    /// cannot be read directly gets its own default extraction type in place of `direct`,
    /// the default of the field.
    pub fn normalized(mut self) -> Self {
        if !self.app.extraction_types().contains(&ExtractionType::Direct)
            && self.extraction_type == ExtractionType::Direct
        {
            self.extraction_type = self.app.default_extraction_type();
        }
        self.name = self.name.trim().to_string();
        self.description = self.description.trim().to_string();
        self.primary_owner = self.primary_owner.trim().to_string();
        self.secondary_owners = clean_owner_list(self.secondary_owners);
        self.credentials = self.credentials.normalized();
        self
    }

    /// Checks every field and returns all problems together.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        validate_name(&self.name, &mut errors);
        validate_description(&self.description, &mut errors);
        validate_owners(&self.primary_owner, &self.secondary_owners, &mut errors);
        let supported = self.app.extraction_types();
        if !supported.contains(&self.extraction_type) {
            let names: Vec<&str> = supported.iter().map(|t| t.as_str()).collect();
            errors.push(
                "extraction_type",
                format!(
                    "extraction type `{}` is not available for {}: use {}",
                    self.extraction_type.as_str(),
                    self.app.display_name(),
                    names.join(" or ")
                ),
            );
        }
        if self.extraction_type == ExtractionType::Direct {
            self.credentials.validate(&mut errors);
        } else if !self.credentials.is_empty() {
            errors.push(
                "credentials",
                format!(
                    "AWS credentials apply only to AWS integrations of extraction type `direct`, not `{}`",
                    self.extraction_type.as_str()
                ),
            );
        }
        errors.into_result()
    }
}

/// A change to an existing integration; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct IntegrationUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub primary_owner: Option<String>,
    pub secondary_owners: Option<Vec<String>>,
    pub credentials: Option<AwsCredentials>,
}

impl IntegrationUpdate {
    /// Validates the update against the integration it changes and returns the new
    /// field values with the merged credentials.
    pub fn apply(
        self,
        current: &Integration,
        current_credentials: &AwsCredentials,
    ) -> Result<(IntegrationFields, AwsCredentials), ValidationErrors> {
        let fields = IntegrationFields {
            name: self.name.map(|n| n.trim().to_string()).unwrap_or_else(|| current.name.clone()),
            description: self
                .description
                .map(|d| d.trim().to_string())
                .unwrap_or_else(|| current.description.clone()),
            primary_owner: self
                .primary_owner
                .map(|o| o.trim().to_string())
                .unwrap_or_else(|| current.primary_owner.clone()),
            secondary_owners: self
                .secondary_owners
                .map(clean_owner_list)
                .unwrap_or_else(|| current.secondary_owners.clone()),
        };
        let credentials = match self.credentials {
            Some(update) => current_credentials.apply_update(update),
            None => current_credentials.clone(),
        };

        let mut errors = ValidationErrors::default();
        validate_name(&fields.name, &mut errors);
        validate_description(&fields.description, &mut errors);
        validate_owners(&fields.primary_owner, &fields.secondary_owners, &mut errors);
        if current.app == App::Aws && current.extraction_type == ExtractionType::Direct {
            credentials.validate(&mut errors);
        } else if !credentials.is_empty() {
            errors.push(
                "credentials",
                format!(
                    "AWS credentials apply only to AWS integrations of extraction type `direct`, not `{}`",
                    current.extraction_type.as_str()
                ),
            );
        }
        errors.into_result()?;
        Ok((fields, credentials))
    }
}

/// The editable, non-secret fields of an integration after validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrationFields {
    pub name: String,
    pub description: String,
    pub primary_owner: String,
    pub secondary_owners: Vec<String>,
}

fn clean_owner_list(owners: Vec<String>) -> Vec<String> {
    let mut cleaned: Vec<String> = Vec::new();
    for owner in owners {
        for part in owner.split(',') {
            let part = part.trim();
            if !part.is_empty() && !cleaned.iter().any(|o| o.eq_ignore_ascii_case(part)) {
                cleaned.push(part.to_string());
            }
        }
    }
    cleaned
}

fn validate_name(name: &str, errors: &mut ValidationErrors) {
    if name.is_empty() {
        errors.push("name", "is required");
    } else if name.chars().count() > 100 {
        errors.push("name", "must be at most 100 characters");
    } else if name.chars().any(|c| c.is_control()) {
        errors.push("name", "must not contain control characters");
    } else if name.contains('/') {
        errors.push("name", "must not contain `/`, which is reserved for integration ids");
    }
}

fn validate_description(description: &str, errors: &mut ValidationErrors) {
    if description.chars().count() > 2000 {
        errors.push("description", "must be at most 2000 characters");
    } else if description.contains('\0') {
        errors.push("description", "must not contain NUL characters");
    }
}

/// Maximum secondary owners per integration.
pub const MAX_SECONDARY_OWNERS: usize = 50;

fn validate_owners(primary: &str, secondary: &[String], errors: &mut ValidationErrors) {
    if primary.is_empty() {
        errors.push("primary_owner", "is required: every integration needs a primary application owner");
    } else if !is_valid_email(primary) {
        errors.push("primary_owner", format!("`{primary}` is not a valid email address"));
    }
    if secondary.len() > MAX_SECONDARY_OWNERS {
        errors.push(
            "secondary_owners",
            format!("at most {MAX_SECONDARY_OWNERS} secondary owners are allowed, got {}", secondary.len()),
        );
        return;
    }
    for owner in secondary {
        if !is_valid_email(owner) {
            errors.push("secondary_owners", format!("`{owner}` is not a valid email address"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> IntegrationDraft {
        IntegrationDraft {
            app: App::Aws,
            name: "AWS production".into(),
            description: String::new(),
            primary_owner: "owner@example.com".into(),
            secondary_owners: vec![],
            extraction_type: ExtractionType::Direct,
            credentials: AwsCredentials {
                role_arn: Some("arn:aws:iam::123456789012:role/MusterReadOnly".into()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn draft_with_role_is_valid() {
        assert_eq!(draft().validate(), Ok(()));
    }

    #[test]
    fn draft_reports_every_invalid_field() {
        let mut bad = draft();
        bad.name = String::new();
        bad.primary_owner = "not-an-email".into();
        bad.credentials.role_arn = Some("arn:aws:iam::12:user/x".into());
        bad.credentials.session_duration_secs = Some(50_000);
        let errors = bad.validate().unwrap_err();
        assert!(errors.for_field("name").is_some());
        assert!(errors.for_field("primary_owner").is_some());
        assert!(errors.for_field("role_arn").is_some());
        assert!(errors.for_field("session_duration_secs").is_some());
    }

    #[test]
    fn credentials_required() {
        let mut bad = draft();
        bad.credentials = AwsCredentials::default();
        let errors = bad.validate().unwrap_err();
        assert!(errors.for_field("credentials").is_some());
    }

    #[test]
    fn access_key_needs_secret() {
        let mut bad = draft();
        bad.credentials = AwsCredentials {
            access_key_id: Some("AKIAIOSFODNN7EXAMPLE".into()),
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().for_field("secret_access_key").is_some());
    }

    #[test]
    fn session_duration_bounds() {
        let mut ok = draft();
        ok.credentials.session_duration_secs = Some(43_200);
        assert_eq!(ok.validate(), Ok(()));
        ok.credentials.session_duration_secs = Some(43_201);
        assert!(ok.validate().is_err());
        ok.credentials.session_duration_secs = Some(899);
        assert!(ok.validate().is_err());
    }

    #[test]
    fn role_arn_wins_in_view() {
        let credentials = AwsCredentials {
            role_arn: Some("arn:aws:iam::123456789012:role/R".into()),
            access_key_id: Some("AKIAIOSFODNN7EXAMPLE".into()),
            secret_access_key: Some("secret".into()),
            ..Default::default()
        };
        let view = credentials.view();
        assert_eq!(view.auth_method, "assume-role");
        assert!(view.access_key_id);
        assert_eq!(view.session_duration_secs, Some(3600));
    }

    #[test]
    fn debug_redacts_secrets() {
        let credentials = AwsCredentials {
            access_key_id: Some("AKIAIOSFODNN7EXAMPLE".into()),
            secret_access_key: Some("wJalrXUtnFEMI".into()),
            ..Default::default()
        };
        let printed = format!("{credentials:?}");
        assert!(!printed.contains("AKIA"));
        assert!(!printed.contains("wJalr"));
    }

    #[test]
    fn role_arn_naming_rules() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/service-role/Muster+Read=1,2.3@x_y-z"));
        assert!(is_role_arn(&format!("arn:aws:iam::123456789012:role/{}", "r".repeat(64))));
        assert!(!is_role_arn(&format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65))));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/x y"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/path//name"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/"));
        assert!(is_role_arn("arn:aws-us-gov:iam::123456789012:role/R"));
    }

    #[test]
    fn half_an_access_key_rejected_with_role() {
        let credentials = AwsCredentials {
            role_arn: Some("arn:aws:iam::123456789012:role/R".into()),
            secret_access_key: Some("s".into()),
            ..Default::default()
        };
        let mut errors = ValidationErrors::default();
        credentials.validate(&mut errors);
        assert!(errors.for_field("access_key_id").is_some());
    }

    #[test]
    fn same_role_update_keeps_external_id() {
        let stored = AwsCredentials {
            role_arn: Some("arn:aws:iam::123456789012:role/R".into()),
            external_id: Some("ext-1".into()),
            session_duration_secs: Some(7200),
            ..Default::default()
        };
        let merged = stored.apply_update(AwsCredentials {
            role_arn: Some("arn:aws:iam::123456789012:role/R".into()),
            ..Default::default()
        });
        assert_eq!(merged.external_id.as_deref(), Some("ext-1"));
        assert_eq!(merged.session_duration_secs, Some(7200));
    }

    #[test]
    fn too_many_secondary_owners() {
        let mut bad = draft();
        bad.secondary_owners = (0..51).map(|i| format!("o{i}@example.com")).collect();
        assert!(bad.validate().unwrap_err().for_field("secondary_owners").is_some());
    }

    #[test]
    fn update_with_new_key_replaces_role() {
        let stored = AwsCredentials {
            role_arn: Some("arn:aws:iam::123456789012:role/R".into()),
            external_id: Some("ext-1".into()),
            ..Default::default()
        };
        let merged = stored.apply_update(AwsCredentials {
            access_key_id: Some("AKIAIOSFODNN7EXAMPLE".into()),
            secret_access_key: Some("s".into()),
            ..Default::default()
        });
        assert_eq!(merged.role_arn, None);
        assert_eq!(merged.external_id, None);

        let merged = stored.apply_update(AwsCredentials {
            external_id: Some("ext-2".into()),
            ..Default::default()
        });
        assert_eq!(merged.role_arn, stored.role_arn);
        assert_eq!(merged.external_id.as_deref(), Some("ext-2"));
    }

    #[test]
    fn secondary_owners_split_and_deduplicated() {
        let owners = clean_owner_list(vec!["a@x.io, b@x.io".into(), "A@x.io".into(), " ".into()]);
        assert_eq!(owners, vec!["a@x.io".to_string(), "b@x.io".to_string()]);
    }
}
