//! Field-level validation errors, shared by the CLI, the REST API and the web forms.

use serde::Serialize;
use std::fmt;

/// One invalid field: its name as the user typed it and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every invalid field of one request, so a form can show them all at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ValidationErrors {
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Returns `Ok(())` when no field is invalid, otherwise the collected errors.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.as_str())
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self
            .errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect();
        f.write_str(&lines.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// Checks the shape of an email address: one `@`, a non-empty local part and a domain with
/// a dot. Deliverability is not checked.
pub fn is_valid_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    !local.is_empty()
        && !domain.contains('@')
        && domain_ok
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes() {
        assert!(is_valid_email("alice@example.com"));
        assert!(is_valid_email("a+b@sub.example.org"));
        assert!(!is_valid_email("alice"));
        assert!(!is_valid_email("alice@localhost"));
        assert!(!is_valid_email("@example.com"));
        assert!(!is_valid_email("a b@example.com"));
        assert!(!is_valid_email("a@b@example.com"));
        assert!(!is_valid_email("a@example..com"));
    }
}
