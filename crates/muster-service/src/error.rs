//! Errors of the service layer, each with a stable code for the API and CLI.

use muster_domain::ValidationErrors;
use muster_store::StoreError;

/// Error of a service call.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input: {0}")]
    Validation(ValidationErrors),
    #[error("{what} `{id}` not found")]
    NotFound { what: &'static str, id: String },
    #[error("{message}")]
    Conflict { field: &'static str, message: String },
    #[error("{0}")]
    Settings(#[from] crate::SettingsError),
    #[error("{0}")]
    Store(StoreError),
    /// The integration has no snapshot yet, e.g. it never synced.
    #[error("{message}")]
    NotSynced { message: String },
    /// A connected system refused or failed a request made outside a sync.
    #[error("{message}")]
    Connector { code: String, message: String },
    /// An export could not be written.
    #[error("{message}")]
    Export { message: String },
    /// The stored data could not be analysed.
    #[error("{message}")]
    Analysis { message: String },
}

impl ServiceError {
    /// A validation error on one field.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let mut errors = ValidationErrors::default();
        errors.push(field, message);
        ServiceError::Validation(errors)
    }

    /// Stable machine-readable code, e.g. `integration.not_found`.
    pub fn code(&self) -> String {
        match self {
            ServiceError::Validation(_) => "request.invalid".into(),
            ServiceError::NotFound { what, .. } => format!("{}.not_found", what.replace(' ', "_")),
            ServiceError::Conflict { .. } => "request.conflict".into(),
            ServiceError::Settings(_) => "settings.invalid".into(),
            ServiceError::Store(_) => "storage.error".into(),
            ServiceError::NotSynced { .. } => "integration.not_synced".into(),
            ServiceError::Analysis { .. } => "analysis.failed".into(),
            ServiceError::Export { .. } => "export.failed".into(),
            ServiceError::Connector { code, .. } => code.clone(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { what, id } => ServiceError::NotFound { what, id },
            StoreError::Conflict { field, message } => ServiceError::Conflict { field, message },
            other => ServiceError::Store(other),
        }
    }
}

impl From<ValidationErrors> for ServiceError {
    fn from(errors: ValidationErrors) -> Self {
        ServiceError::Validation(errors)
    }
}
