//! Small conversions shared by the mapping modules: tags, dates, policy documents.

use crate::fetch::rfc3339;
use aws_sdk_iam::types::Tag;
use aws_smithy_types::DateTime;
use muster_domain::policy_document::decode_policy_document;
use serde_json::{Map, Value};

/// Tags as one JSON object, `{"team": "platform"}`.
pub(crate) fn tags_object(tags: Option<&[Tag]>) -> Value {
    let object: Map<String, Value> = tags
        .unwrap_or_default()
        .iter()
        .map(|tag| (tag.key().to_string(), Value::from(tag.value())))
        .collect();
    Value::Object(object)
}

pub(crate) fn date(value: Option<&DateTime>) -> Value {
    value
        .and_then(rfc3339)
        .map(Value::from)
        .unwrap_or(Value::Null)
}

pub(crate) fn text(value: Option<&str>) -> Value {
    value.map(Value::from).unwrap_or(Value::Null)
}

/// Decodes a policy document as IAM returns it. A missing or unreadable document gives
/// `null` and a warning naming `description` (the document itself is never logged).
pub(crate) fn document(raw: Option<&str>, description: &str, warnings: &mut Vec<String>) -> Value {
    let Some(raw) = raw else {
        return Value::Null;
    };
    match decode_policy_document(raw) {
        Ok(value) => value,
        Err(error) => {
            warnings.push(format!(
                "the policy document of {description} is invalid: {error}"
            ));
            Value::Null
        }
    }
}

/// Converts a `json!({...})` object into metadata fields.
pub(crate) fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Reads a JSON string-or-list as a list of strings; other values are skipped.
pub(crate) fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}
