//! The HR side: employees, and the mappings that tie identities to them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A person from the HR source of truth, keyed by work email within a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employee {
    pub work_email: String,
    pub employee_id: Option<String>,
    pub full_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `YYYY-MM-DD`; a past date means the person has left.
    pub end_date: Option<String>,
    pub employment_type: Option<String>,
    pub manager: Option<String>,
    pub manager_work_email: Option<String>,
    pub source_employee_id: Option<String>,
    pub roles: Vec<String>,
    /// A JSON object with `"Metadata Version": "v1"`.
    pub metadata: serde_json::Value,
}

impl Employee {
    /// Returns the name to show: the full name, else first and last name, else the email.
    pub fn display_name(&self) -> String {
        if let Some(full) = &self.full_name {
            return full.clone();
        }
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .filter_map(|part| part.as_deref())
            .collect();
        if parts.is_empty() {
            self.work_email.clone()
        } else {
            parts.join(" ")
        }
    }

    /// Returns whether the End Date is before `today` (`YYYY-MM-DD`).
    pub fn has_left(&self, today: &str) -> bool {
        self.end_date.as_deref().is_some_and(|end| end < today)
    }
}

/// Relation of an identity to an employee.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MappingType {
    /// The employee's own account.
    #[serde(rename = "IS")]
    Is,
    /// A service account the employee is responsible for.
    #[serde(rename = "OWNS")]
    Owns,
}

impl MappingType {
    pub fn as_str(self) -> &'static str {
        match self {
            MappingType::Is => "IS",
            MappingType::Owns => "OWNS",
        }
    }
}

impl fmt::Display for MappingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MappingType {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_uppercase().as_str() {
            "IS" => Ok(MappingType::Is),
            "OWNS" => Ok(MappingType::Owns),
            other => Err(format!("unknown relation type `{other}`: expected IS or OWNS")),
        }
    }
}

/// Returns the email an identity entity carries, used to match it to an employee. That is
/// the metadata's `email` (any case of the key), or the primary or first of a SCIM-style
/// `emails` list, or else the name or source id when it is an email address.
pub fn identity_email(name: &str, source_id: &str, metadata: &serde_json::Value) -> Option<String> {
    if let Some(object) = metadata.as_object() {
        for (key, value) in object {
            let key = key.to_ascii_lowercase();
            if key == "email" || key == "work email" || key == "workemail" {
                if let Some(email) = value.as_str().filter(|email| looks_like_email(email)) {
                    return Some(email.trim().to_string());
                }
            }
            if key == "emails" {
                if let Some(email) = first_listed_email(value) {
                    return Some(email);
                }
            }
        }
    }
    [name, source_id]
        .into_iter()
        .find(|candidate| looks_like_email(candidate))
        .map(|email| email.trim().to_string())
}

fn first_listed_email(value: &serde_json::Value) -> Option<String> {
    let items = value.as_array()?;
    let text_of = |item: &serde_json::Value| -> Option<String> {
        item.as_str()
            .or_else(|| item.get("value").and_then(|v| v.as_str()))
            .filter(|email| looks_like_email(email))
            .map(|email| email.trim().to_string())
    };
    let primary = items
        .iter()
        .find(|item| item.get("primary").and_then(|p| p.as_bool()) == Some(true));
    primary.and_then(text_of).or_else(|| items.iter().find_map(text_of))
}

fn looks_like_email(value: &str) -> bool {
    crate::validation::is_valid_email(value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn email_from_metadata_then_name() {
        assert_eq!(
            identity_email("alice", "AIDA1", &json!({"Email": "Alice@Example.com"})).as_deref(),
            Some("Alice@Example.com")
        );
        let scim = json!({"emails": [{"value": "b@example.com"}, {"value": "p@example.com", "primary": true}]});
        assert_eq!(identity_email("bob", "1", &scim).as_deref(), Some("p@example.com"));
        assert_eq!(identity_email("carol@example.com", "AIDA2", &json!({})).as_deref(), Some("carol@example.com"));
        assert_eq!(identity_email("svc-build", "AIDA3", &json!({"email": ""})), None);
    }

    #[test]
    fn left_only_after_end_date() {
        let mut employee = Employee {
            work_email: "a@example.com".into(),
            employee_id: None,
            full_name: None,
            first_name: Some("Ada".into()),
            last_name: Some("Byron".into()),
            department: None,
            title: None,
            start_date: "2020-01-01".into(),
            end_date: Some("2026-06-30".into()),
            employment_type: None,
            manager: None,
            manager_work_email: None,
            source_employee_id: None,
            roles: vec![],
            metadata: json!({}),
        };
        assert!(employee.has_left("2026-07-01"));
        assert!(!employee.has_left("2026-06-30"));
        assert_eq!(employee.display_name(), "Ada Byron");
        employee.end_date = None;
        assert!(!employee.has_left("2030-01-01"));
    }
}
