//! The Add and Edit integration forms: what the browser posts, how it becomes a draft or
//! an update, and what is sent back when a field is invalid.
//!
//! INVARIANT: the secret access key never goes back into a page. [`FormValues`] has no
//! field for it, only whether one was typed.

use muster_domain::integration::DEFAULT_SESSION_DURATION_SECS;
use muster_domain::{
    App, AwsCredentials, CredentialsView, ExtractionType, Integration, IntegrationDraft, IntegrationUpdate,
    ScimConnection, ScimCredentials, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Sign-in method of an integration, as the form's radio buttons name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthMethod {
    AssumeRole,
    AccessKey,
}

impl AuthMethod {
    fn from_form(value: &str) -> AuthMethod {
        if value == "access_key" {
            AuthMethod::AccessKey
        } else {
            AuthMethod::AssumeRole
        }
    }

    fn from_view(view: &CredentialsView) -> AuthMethod {
        if view.role_arn || !view.access_key_id {
            AuthMethod::AssumeRole
        } else {
            AuthMethod::AccessKey
        }
    }

    fn as_form_value(self) -> &'static str {
        match self {
            AuthMethod::AssumeRole => "role",
            AuthMethod::AccessKey => "access_key",
        }
    }
}

/// When the form's external ID and session duration count without a role ARN.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extras {
    /// A new integration: the Add form fills both in advance, so without a role ARN they
    /// are leftovers and would only add errors to the "role ARN is required" one.
    OnlyWithRoleArn,
    /// An edit: given alone, they change the stored role's settings.
    Always,
}

/// The posted form. Every field is text, so that parsing never fails before validation
/// can report all problems at once.
// No Debug: the struct contains the secret access key.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct IntegrationForm {
    app: String,
    name: String,
    description: String,
    primary_owner: String,
    /// Emails separated by commas or new lines.
    secondary_owners: String,
    extraction_type: String,
    /// `role` or `access_key`.
    auth_method: String,
    role_arn: String,
    external_id: String,
    session_duration_secs: String,
    access_key_id: String,
    secret_access_key: String,
    /// SCIM server base URL.
    base_url: String,
    /// `bearer` or `basic`.
    scim_auth: String,
    bearer_token: String,
    scim_username: String,
    scim_password: String,
}

impl IntegrationForm {
    /// The change to a SCIM integration's server that the Edit form asks for: a new base
    /// URL when it differs, and new credentials when a secret was typed.
    pub fn scim_update(&self, current: &Integration) -> (Option<String>, Option<ScimCredentials>) {
        let typed = self.scim_connection();
        let current_url = current.scim.as_ref().map(|scim| scim.base_url.as_str()).unwrap_or("");
        let base_url = Some(typed.base_url.clone()).filter(|url| !url.is_empty() && url != current_url);
        let credentials = typed.credentials;
        let any = credentials.bearer_token.is_some() || credentials.password.is_some();
        (base_url, any.then_some(credentials))
    }

    /// The SCIM server the form describes, with the secrets of the chosen method only.
    pub fn scim_connection(&self) -> ScimConnection {
        let basic = self.scim_auth == "basic";
        let secret = |value: &str| Some(value.to_string()).filter(|v| !v.is_empty());
        ScimConnection {
            base_url: self.base_url.clone(),
            credentials: ScimCredentials {
                bearer_token: if basic { None } else { secret(&self.bearer_token) },
                username: if basic { secret(self.scim_username.trim()) } else { None },
                password: if basic { secret(&self.scim_password) } else { None },
                extra_headers: Vec::new(),
            },
        }
        .normalized()
    }

    /// Builds a draft, adding to `errors` the fields that cannot even be parsed.
    pub fn to_draft(&self, errors: &mut ValidationErrors) -> IntegrationDraft {
        let app = self.app.parse::<App>().unwrap_or_else(|message| {
            errors.push("app", message);
            App::Aws
        });
        let extraction_type = if self.extraction_type.trim().is_empty() {
            app.default_extraction_type()
        } else {
            self.extraction_type.parse().unwrap_or_else(|message| {
                errors.push("extraction_type", message);
                app.default_extraction_type()
            })
        };
        // Only a direct read needs credentials; the fields of the AWS form are ignored
        // for an integration that receives files.
        let credentials = if extraction_type == ExtractionType::Direct {
            self.credentials(errors, Extras::OnlyWithRoleArn)
        } else {
            AwsCredentials::default()
        };
        IntegrationDraft {
            app,
            name: self.name.clone(),
            description: self.description.clone(),
            primary_owner: self.primary_owner.clone(),
            secondary_owners: self.owner_list(),
            extraction_type,
            credentials,
        }
    }

    /// Builds an update of `current`. Credential fields left blank keep the stored
    /// credentials; switching between role and access key needs the new role ARN or key id.
    pub fn to_update(&self, current: &Integration, errors: &mut ValidationErrors) -> IntegrationUpdate {
        let method = AuthMethod::from_form(&self.auth_method);
        let credentials = self.credentials(errors, Extras::Always);
        let switching = method != AuthMethod::from_view(&current.credentials);
        let credentials = match method {
            AuthMethod::AssumeRole if switching && credentials.role_arn.is_none() => {
                errors.push("role_arn", "is required to switch to assuming a role");
                None
            }
            AuthMethod::AccessKey if switching && credentials.access_key_id.is_none() => {
                errors.push("access_key_id", "is required to switch to an access key");
                None
            }
            _ if credentials == AwsCredentials::default() => None,
            _ => Some(credentials),
        };
        IntegrationUpdate {
            name: Some(self.name.clone()),
            description: Some(self.description.clone()),
            primary_owner: Some(self.primary_owner.clone()),
            secondary_owners: Some(self.owner_list()),
            credentials,
        }
    }

    /// The credentials of the chosen method only, so that a role ARN typed and then
    /// abandoned for an access key is not saved.
    fn credentials(&self, errors: &mut ValidationErrors, extras: Extras) -> AwsCredentials {
        let credentials = match AuthMethod::from_form(&self.auth_method) {
            AuthMethod::AssumeRole => {
                let role_arn = non_blank(&self.role_arn);
                let keep_extras = role_arn.is_some() || extras == Extras::Always;
                AwsCredentials {
                    session_duration_secs: keep_extras.then(|| self.session_duration(errors)).flatten(),
                    external_id: keep_extras.then(|| non_blank(&self.external_id)).flatten(),
                    role_arn,
                    ..AwsCredentials::default()
                }
            }
            AuthMethod::AccessKey => AwsCredentials {
                access_key_id: non_blank(&self.access_key_id),
                secret_access_key: non_blank(&self.secret_access_key),
                ..AwsCredentials::default()
            },
        };
        credentials.normalized()
    }

    fn session_duration(&self, errors: &mut ValidationErrors) -> Option<u32> {
        let text = self.session_duration_secs.trim();
        if text.is_empty() {
            return None;
        }
        match text.parse::<u32>() {
            Ok(seconds) => Some(seconds),
            Err(_) => {
                errors.push("session_duration_secs", format!("`{text}` is not a whole number of seconds"));
                None
            }
        }
    }

    fn owner_list(&self) -> Vec<String> {
        self.secondary_owners
            .split([',', '\n'])
            .map(str::trim)
            .filter(|owner| !owner.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Returns the values to show again after a validation error: everything but the secret.
    pub fn values(&self) -> FormValues {
        // A form without an extraction type gets the application's default, so that the
        // page shows the fields that type needs.
        let extraction_type = match (self.extraction_type.trim(), self.app.parse::<App>()) {
            ("", Ok(app)) => app.default_extraction_type().as_str().to_string(),
            _ => self.extraction_type.clone(),
        };
        FormValues {
            app: self.app.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            primary_owner: self.primary_owner.clone(),
            secondary_owners: self.secondary_owners.clone(),
            extraction_type,
            auth_method: AuthMethod::from_form(&self.auth_method).as_form_value(),
            role_arn: self.role_arn.clone(),
            external_id: self.external_id.clone(),
            session_duration_secs: self.session_duration_secs.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_entered: !self.secret_access_key.trim().is_empty(),
            base_url: self.base_url.clone(),
            scim_auth: if self.scim_auth == "basic" { "basic" } else { "bearer" },
            scim_username: self.scim_username.clone(),
            scim_secret_entered: !self.bearer_token.is_empty() || !self.scim_password.is_empty(),
        }
    }
}

/// The application and extraction type chosen at the top of the Add form, with the
/// non-secret fields already typed, so that changing the type keeps them.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct TypeChoice {
    app: String,
    extraction_type: String,
    name: String,
    description: String,
    primary_owner: String,
    secondary_owners: String,
}

impl TypeChoice {
    /// Builds the Add form for the chosen type. An unknown application is AWS; an
    /// extraction type the application does not offer is the application's default.
    pub fn values(&self) -> FormValues {
        let app = self.app.parse::<App>().unwrap_or(App::Aws);
        let extraction_type = self
            .extraction_type
            .parse::<ExtractionType>()
            .ok()
            .filter(|extraction_type| app.extraction_types().contains(extraction_type))
            .unwrap_or_else(|| app.default_extraction_type());
        FormValues {
            app: app.as_str().to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            primary_owner: self.primary_owner.clone(),
            secondary_owners: self.secondary_owners.clone(),
            extraction_type: extraction_type.as_str().to_string(),
            ..FormValues::new_integration()
        }
    }
}

/// The non-secret values a form shows.
#[derive(Debug, Serialize)]
pub(crate) struct FormValues {
    app: String,
    name: String,
    description: String,
    primary_owner: String,
    secondary_owners: String,
    extraction_type: String,
    auth_method: &'static str,
    role_arn: String,
    external_id: String,
    session_duration_secs: String,
    access_key_id: String,
    /// Whether a secret access key was typed, so the page can ask for it again.
    secret_entered: bool,
    base_url: String,
    /// `bearer` or `basic`.
    scim_auth: &'static str,
    scim_username: String,
    /// Whether a SCIM token or password was typed, so the page can ask for it again.
    scim_secret_entered: bool,
}

impl FormValues {
    /// `role` or `access_key`.
    pub fn auth_method(&self) -> &'static str {
        self.auth_method
    }

    /// Builds an empty Add form, with a fresh external ID to put in the role's trust policy.
    pub fn new_integration() -> FormValues {
        FormValues {
            app: App::Aws.as_str().to_string(),
            name: String::new(),
            description: String::new(),
            primary_owner: String::new(),
            secondary_owners: String::new(),
            extraction_type: ExtractionType::Direct.as_str().to_string(),
            auth_method: AuthMethod::AssumeRole.as_form_value(),
            role_arn: String::new(),
            external_id: format!("muster-{}", ulid::Ulid::new().to_string().to_lowercase()),
            session_duration_secs: DEFAULT_SESSION_DURATION_SECS.to_string(),
            access_key_id: String::new(),
            secret_entered: false,
            base_url: String::new(),
            scim_auth: "bearer",
            scim_username: String::new(),
            scim_secret_entered: false,
        }
    }

    /// Builds the Edit form of `integration`. Credential fields start blank because stored
    /// credentials are never read back. The session duration is not secret, so it is shown.
    pub fn existing(integration: &Integration) -> FormValues {
        let view = &integration.credentials;
        FormValues {
            app: integration.app.as_str().to_string(),
            name: integration.name.clone(),
            description: integration.description.clone(),
            primary_owner: integration.primary_owner.clone(),
            secondary_owners: integration.secondary_owners.join("\n"),
            extraction_type: integration.extraction_type.as_str().to_string(),
            auth_method: AuthMethod::from_view(view).as_form_value(),
            role_arn: String::new(),
            external_id: String::new(),
            session_duration_secs: view
                .session_duration_secs
                .unwrap_or(DEFAULT_SESSION_DURATION_SECS)
                .to_string(),
            access_key_id: String::new(),
            secret_entered: false,
            base_url: integration.scim.as_ref().map(|scim| scim.base_url.clone()).unwrap_or_default(),
            scim_auth: match &integration.scim {
                Some(scim) if scim.auth_method == "basic" => "basic",
                _ => "bearer",
            },
            scim_username: integration.scim.as_ref().and_then(|scim| scim.username.clone()).unwrap_or_default(),
            scim_secret_entered: false,
        }
    }
}

/// Field errors keyed by form field, several messages for one field joined.
///
/// The domain reports a missing credential set on the pseudo-field `credentials`; the
/// form shows it next to the first field of the chosen method instead.
pub(crate) fn field_errors(errors: &ValidationErrors, auth_method: &str) -> BTreeMap<String, String> {
    let mut by_field: BTreeMap<String, String> = BTreeMap::new();
    for error in &errors.errors {
        let (field, message) = match (error.field.as_str(), AuthMethod::from_form(auth_method)) {
            ("credentials", AuthMethod::AssumeRole) => ("role_arn", "is required: the ARN of the IAM role Muster assumes"),
            ("credentials", AuthMethod::AccessKey) => ("access_key_id", "is required, with its secret access key"),
            ("scim_credentials", _) => ("bearer_token", error.message.as_str()),
            (field, _) => (field, error.message.as_str()),
        };
        by_field
            .entry(field.to_string())
            .and_modify(|existing| {
                if !existing.contains(message) {
                    existing.push_str("; ");
                    existing.push_str(message);
                }
            })
            .or_insert_with(|| message.to_string());
    }
    by_field
}

/// The form's fields in page order: name, label, and the id of the control to focus.
const FIELDS: &[(&str, &str, &str)] = &[
    ("app", "Application", "app"),
    ("name", "Name", "name"),
    ("description", "Description", "description"),
    ("primary_owner", "Primary owner", "primary_owner"),
    ("secondary_owners", "Secondary owners", "secondary_owners"),
    ("extraction_type", "Extraction type", "extraction_type"),
    ("credentials", "AWS credentials", "auth-role"),
    ("role_arn", "Role ARN", "role_arn"),
    ("external_id", "External ID", "external_id"),
    ("session_duration_secs", "Session duration", "session_duration_secs"),
    ("access_key_id", "Access key id", "access_key_id"),
    ("secret_access_key", "Secret access key", "secret_access_key"),
];

/// One entry of the error summary above the form.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorSummaryItem {
    /// The id of the control the entry links to.
    anchor: String,
    label: String,
    message: String,
}

/// Lists the field errors in page order, with the labels the page shows. A field the
/// form does not know comes last under its own name.
pub(crate) fn error_summary(by_field: &BTreeMap<String, String>) -> Vec<ErrorSummaryItem> {
    let known = FIELDS.iter().filter_map(|(field, label, anchor)| {
        by_field.get(*field).map(|message| ErrorSummaryItem {
            anchor: (*anchor).to_string(),
            label: (*label).to_string(),
            message: message.clone(),
        })
    });
    let unknown = by_field
        .iter()
        .filter(|(field, _)| !FIELDS.iter().any(|(known, _, _)| known == field))
        .map(|(field, message)| ErrorSummaryItem {
            anchor: field.clone(),
            label: field.clone(),
            message: message.clone(),
        });
    known.chain(unknown).collect()
}

fn non_blank(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails at the first broken step")]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> IntegrationForm {
        let encoded: Vec<String> = pairs.iter().map(|(key, value)| format!("{key}={value}")).collect();
        serde_urlencoded_like(&encoded.join("&"))
    }

    fn serde_urlencoded_like(query: &str) -> IntegrationForm {
        let uri: axum::http::Uri = format!("/?{query}").parse().unwrap();
        axum::extract::Query::<IntegrationForm>::try_from_uri(&uri).unwrap().0
    }

    #[test]
    fn role_mode_ignores_access_key_fields() {
        let mut errors = ValidationErrors::default();
        let draft = form(&[
            ("app", "aws"),
            ("auth_method", "role"),
            ("role_arn", "arn:aws:iam::123456789012:role/R"),
            ("session_duration_secs", "7200"),
            ("access_key_id", "AKIAIOSFODNN7EXAMPLE"),
            ("secret_access_key", "typed-then-abandoned"),
        ])
        .to_draft(&mut errors);
        assert!(errors.is_empty());
        assert_eq!(draft.credentials.session_duration_secs, Some(7200));
        assert_eq!(draft.credentials.access_key_id, None);
        assert_eq!(draft.credentials.secret_access_key, None);
    }

    #[test]
    fn files_integrations_take_no_credentials() {
        let mut errors = ValidationErrors::default();
        let draft = form(&[
            ("app", "custom"),
            ("role_arn", "arn:aws:iam::123456789012:role/R"),
            ("access_key_id", "AKIAIOSFODNN7EXAMPLE"),
        ])
        .to_draft(&mut errors);
        assert!(errors.is_empty());
        assert_eq!(draft.extraction_type, ExtractionType::Upload);
        assert_eq!(draft.credentials, AwsCredentials::default());
    }

    #[test]
    fn type_choice_falls_back_to_the_app_default() {
        let uri: axum::http::Uri = "/?app=custom&extraction_type=direct&name=HR".parse().unwrap();
        let choice = axum::extract::Query::<TypeChoice>::try_from_uri(&uri).unwrap().0;
        let values = choice.values();
        assert_eq!((values.app.as_str(), values.extraction_type.as_str()), ("custom", "upload"));
        assert_eq!(values.name, "HR");
        let uri: axum::http::Uri = "/?app=aws&extraction_type=api".parse().unwrap();
        let values = axum::extract::Query::<TypeChoice>::try_from_uri(&uri).unwrap().0.values();
        assert_eq!(values.extraction_type, "direct");
    }

    #[test]
    fn bad_duration_is_a_field_error() {
        let mut errors = ValidationErrors::default();
        form(&[("app", "aws"), ("role_arn", "arn:aws:iam::123456789012:role/R"), ("session_duration_secs", "1h")])
            .to_draft(&mut errors);
        assert!(errors.for_field("session_duration_secs").is_some());
    }

    #[test]
    fn owners_split_on_commas_and_lines() {
        let parsed = form(&[("secondary_owners", "a@x.io,%20b@x.io%0Ac@x.io%0A")]).owner_list();
        assert_eq!(parsed, ["a@x.io", "b@x.io", "c@x.io"]);
    }

    #[test]
    fn values_never_hold_the_secret() {
        let values = form(&[("auth_method", "access_key"), ("secret_access_key", "s3cr3t-value")]).values();
        let shown = format!("{values:?}");
        assert!(!shown.contains("s3cr3t-value"));
        assert!(values.secret_entered);
    }

    #[test]
    fn error_summary_in_page_order() {
        let mut errors = ValidationErrors::default();
        errors.push("secret_access_key", "is required with an access key id");
        errors.push("name", "is required");
        errors.push("mystery", "is odd");
        let summary = error_summary(&field_errors(&errors, "access_key"));
        let labels: Vec<&str> = summary.iter().map(|item| item.label.as_str()).collect();
        assert_eq!(labels, ["Name", "Secret access key", "mystery"]);
    }

    #[test]
    fn missing_credentials_shown_on_first_field() {
        let mut errors = ValidationErrors::default();
        errors.push("credentials", "give either …");
        assert!(field_errors(&errors, "role").contains_key("role_arn"));
        assert!(field_errors(&errors, "access_key").contains_key("access_key_id"));
    }
}
