//! Turns an entity's metadata (any JSON object) into a tree the entity page renders:
//! definition lists for objects, tables for lists of flat records, `<pre>` blocks for IAM
//! policy documents.
//!
//! Connectors decide the exact keys, so nothing here depends on them, except that keys
//! naming credential facts (console password, MFA, access keys) are grouped apart so that
//! the page lists them first.

use super::render::display_timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

/// Nesting depth beyond which values are shown as indented JSON rather than nested lists.
const MAX_DEPTH: usize = 6;

/// The key every metadata object carries. It is hidden because it means nothing to a reader.
const METADATA_VERSION_KEY: &str = "Metadata Version";

/// Words that mark a top-level key as a credential fact, compared ignoring case, `_`, `-`
/// and spaces.
const CREDENTIAL_KEY_WORDS: &[&str] = &["password", "mfa", "accesskey", "credential", "loginprofile"];

/// One value of the tree, tagged with how to render it.
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum MetadataView {
    /// `null`, an empty string, list or object.
    Empty,
    Text { text: String },
    /// An RFC 3339 timestamp: `value` as stored, `text` as shown.
    Time { value: String, text: String },
    Flag { value: bool },
    /// A list of values that are not all flat records.
    List { items: Vec<MetadataView> },
    /// A list of objects whose values are all plain: one row per object.
    Table { columns: Vec<String>, rows: Vec<Vec<MetadataView>> },
    Fields { fields: Vec<MetadataField> },
    /// An IAM policy document (an object with a `Statement` key), indented.
    Policy { text: String },
    /// Indented JSON, for values nested deeper than [`MAX_DEPTH`].
    Json { text: String },
}

/// One key of an object and its value.
#[derive(Debug, PartialEq, Serialize)]
pub(crate) struct MetadataField {
    /// The key made readable: `console_password` becomes `Console password`.
    pub label: String,
    pub key: String,
    pub value: MetadataView,
}

/// Entity metadata split for the entity page.
#[derive(Debug, Default, PartialEq, Serialize)]
pub(crate) struct MetadataSections {
    /// Console password, MFA, access keys and similar facts.
    pub credentials: Vec<MetadataField>,
    /// Every other key.
    pub attributes: Vec<MetadataField>,
}

/// Splits `metadata` into credential facts and other attributes. A value that is not a
/// JSON object becomes one attribute named `Metadata`.
pub(crate) fn sections(metadata: &Value) -> MetadataSections {
    let Value::Object(object) = metadata else {
        return MetadataSections {
            credentials: Vec::new(),
            attributes: vec![field("Metadata", metadata, 0)],
        };
    };
    let mut sections = MetadataSections::default();
    for (key, value) in object {
        if key == METADATA_VERSION_KEY {
            continue;
        }
        let entry = field(key, value, 0);
        if is_credential_key(key) {
            sections.credentials.push(entry);
        } else {
            sections.attributes.push(entry);
        }
    }
    sections
}

/// Renders a relation's metadata as one short line, e.g. `via: group/admins`.
pub(crate) fn summary(metadata: &Value) -> String {
    let Value::Object(object) = metadata else {
        return String::new();
    };
    object
        .iter()
        .filter(|(key, _)| key.as_str() != METADATA_VERSION_KEY)
        .map(|(key, value)| match value {
            Value::String(text) => format!("{key}: {text}"),
            other => format!("{key}: {other}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn is_credential_key(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    CREDENTIAL_KEY_WORDS.iter().any(|word| folded.contains(word))
}

fn field(key: &str, value: &Value, depth: usize) -> MetadataField {
    MetadataField {
        label: label(key),
        key: key.to_string(),
        value: view(value, depth + 1),
    }
}

/// Makes a key of several words readable: `console_password` and `ConsolePassword` both
/// become `Console password`, and acronyms stay upper case (`MFADevices` becomes
/// `MFA devices`). Single words (`owner`, often a tag key) and keys with spaces stay as the
/// source wrote them, so that data keys are not altered.
fn label(key: &str) -> String {
    if key.contains(' ') {
        return key.to_string();
    }
    let words = split_words(key);
    if words.len() < 2 {
        return key.to_string();
    }
    let mut label = String::new();
    for (index, word) in words.iter().enumerate() {
        let is_acronym = word.chars().count() > 1 && word.chars().all(|c| !c.is_lowercase());
        if index == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                label.extend(first.to_uppercase());
                label.push_str(chars.as_str());
            }
        } else {
            label.push(' ');
            if is_acronym {
                label.push_str(word);
            } else {
                label.push_str(&word.to_lowercase());
            }
        }
    }
    label
}

/// Splits `snake_case` and `CamelCase` into words. An upper-case run is one word, except
/// that its last letter starts the next word when a lower-case letter follows it.
fn split_words(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (index, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let previous = index.checked_sub(1).map(|i| chars[i]);
        let next = chars.get(index + 1).copied();
        let starts_word = c.is_uppercase()
            && previous.is_some_and(|p| {
                p.is_lowercase() || p.is_ascii_digit() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if starts_word && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn view(value: &Value, depth: usize) -> MetadataView {
    if depth > MAX_DEPTH && (value.is_object() || value.is_array()) {
        return MetadataView::Json { text: pretty(value) };
    }
    match value {
        Value::Null => MetadataView::Empty,
        Value::Bool(flag) => MetadataView::Flag { value: *flag },
        Value::Number(number) => MetadataView::Text { text: number.to_string() },
        Value::String(text) if text.is_empty() => MetadataView::Empty,
        Value::String(text) => {
            if let Some(document) = embedded_policy(text) {
                MetadataView::Policy { text: pretty(&document) }
            } else if let Some(display) = display_timestamp(text) {
                MetadataView::Time {
                    value: text.clone(),
                    text: display,
                }
            } else {
                MetadataView::Text { text: text.clone() }
            }
        }
        Value::Array(items) if items.is_empty() => MetadataView::Empty,
        Value::Array(items) => list_view(items, depth),
        Value::Object(object) if object.is_empty() => MetadataView::Empty,
        Value::Object(object) if is_policy(object) => MetadataView::Policy { text: pretty(value) },
        Value::Object(object) => MetadataView::Fields {
            fields: object.iter().map(|(key, value)| field(key, value, depth)).collect(),
        },
    }
}

fn list_view(items: &[Value], depth: usize) -> MetadataView {
    let records: Option<Vec<&Map<String, Value>>> = items
        .iter()
        .map(|item| match item {
            Value::Object(object) if is_flat_record(object) => Some(object),
            _ => None,
        })
        .collect();
    let Some(records) = records else {
        return MetadataView::List {
            items: items.iter().map(|item| view(item, depth)).collect(),
        };
    };

    let mut columns: Vec<String> = Vec::new();
    for record in &records {
        for key in record.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let rows = records
        .iter()
        .map(|record| {
            columns
                .iter()
                .map(|column| record.get(column).map_or(MetadataView::Empty, |value| view(value, depth)))
                .collect()
        })
        .collect();
    MetadataView::Table {
        columns: columns.iter().map(|column| label(column)).collect(),
        rows,
    }
}

/// Checks that an object is non-empty and its values are all scalars or lists of scalars,
/// so that it fits in one table row.
fn is_flat_record(object: &Map<String, Value>) -> bool {
    !object.is_empty()
        && !is_policy(object)
        && object.values().all(|value| match value {
            Value::Object(_) => false,
            Value::Array(items) => items.iter().all(|item| !item.is_object() && !item.is_array()),
            Value::String(text) => embedded_policy(text).is_none(),
            _ => true,
        })
}

fn is_policy(object: &Map<String, Value>) -> bool {
    object.contains_key("Statement")
}

/// Parses a policy document stored as JSON text rather than as an object.
fn embedded_policy(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') || !trimmed.contains("\"Statement\"") {
        return None;
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(object)) if is_policy(&object) => Some(Value::Object(object)),
        _ => None,
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
#[expect(clippy::panic, reason = "a test fails at the first broken step")]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(value: &str) -> MetadataView {
        MetadataView::Text { text: value.into() }
    }

    #[test]
    fn credential_keys_grouped_apart() {
        let metadata = json!({
            "Metadata Version": "v1",
            "arn": "arn:aws:iam::123456789012:user/alice",
            "console_password": {"enabled": true, "last_used": "2026-01-02T03:04:05Z"},
            "MFAActive": false,
            "access_keys": [{"id": "AKIA1", "status": "Active", "last_used": null}],
        });
        let sections = sections(&metadata);
        let mut credential_keys: Vec<&str> = sections.credentials.iter().map(|f| f.key.as_str()).collect();
        credential_keys.sort_unstable();
        assert_eq!(credential_keys, ["MFAActive", "access_keys", "console_password"]);
        let attribute_keys: Vec<&str> = sections.attributes.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(attribute_keys, ["arn"]);
    }

    #[test]
    fn flat_records_become_table() {
        // serde_json's map is sorted by key, so columns come in key order of first sight.
        let value = json!([{"id": "AKIA1", "active": true}, {"id": "AKIA2", "last_used": "x"}]);
        let MetadataView::Table { columns, rows } = view(&value, 1) else {
            panic!("expected a table");
        };
        assert_eq!(columns, ["active", "id", "Last used"]);
        assert_eq!(rows[0], vec![MetadataView::Flag { value: true }, text("AKIA1"), MetadataView::Empty]);
        assert_eq!(rows[1], vec![MetadataView::Empty, text("AKIA2"), text("x")]);
    }

    #[test]
    fn policy_documents_pretty_printed() {
        let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]});
        let MetadataView::Policy { text } = view(&document, 1) else {
            panic!("expected a policy");
        };
        assert!(text.contains("\n  \"Statement\""), "{text}");

        let as_text = Value::String(document.to_string());
        assert!(matches!(view(&as_text, 1), MetadataView::Policy { .. }));

        let inline = json!([{"name": "read", "document": document}]);
        assert!(matches!(view(&inline, 1), MetadataView::List { .. }));
    }

    #[test]
    fn timestamps_shown_in_utc() {
        let view = view(&json!("2026-12-04T20:50:53.40802Z"), 1);
        assert_eq!(
            view,
            MetadataView::Time {
                value: "2026-12-04T20:50:53.40802Z".into(),
                text: "2026-12-04 20:50:53 UTC".into()
            }
        );
        assert_eq!(super::view(&json!("N/A"), 1), text("N/A"));
    }

    #[test]
    fn deep_nesting_falls_back_to_json() {
        let mut value = json!("leaf");
        for _ in 0..10 {
            value = json!({ "next": value });
        }
        let mut current = view(&value, 1);
        let mut levels = 0;
        while let MetadataView::Fields { mut fields } = current {
            current = fields.remove(0).value;
            levels += 1;
        }
        assert!(matches!(current, MetadataView::Json { .. }));
        assert_eq!(levels, MAX_DEPTH);
    }

    #[test]
    fn labels_and_summaries() {
        assert_eq!(label("console_password"), "Console password");
        assert_eq!(label("PasswordLastUsed"), "Password last used");
        assert_eq!(label("AccessKeyId"), "Access key id");
        assert_eq!(label("MFADevices"), "MFA devices");
        assert_eq!(label("MFA"), "MFA");
        assert_eq!(label("Arn"), "Arn");
        assert_eq!(label("owner"), "owner");
        assert_eq!(label("Metadata Version"), "Metadata Version");
        assert_eq!(label("s3_bucket2Name"), "S3 bucket2 name");
        assert_eq!(summary(&json!({"Metadata Version": "v1", "via": "group", "n": 2})), "n: 2; via: group");
        assert_eq!(summary(&json!(null)), "");
    }

    #[test]
    fn non_object_metadata_shown_whole() {
        let sections = sections(&json!(["a", "b"]));
        assert_eq!(sections.attributes.len(), 1);
        assert_eq!(sections.attributes[0].label, "Metadata");
    }
}
