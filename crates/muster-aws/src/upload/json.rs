//! Reading one JSON object of an uploaded file, with the path of each value
//! (`UserDetailList[3].Tags[0].Key`) in every error message.

use aws_smithy_types::DateTime;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A problem at one place of the file, as `<path>: <problem>`.
pub(super) type FieldResult<T> = Result<T, String>;

/// A JSON object and its path from the document's root.
pub(super) struct Node<'a> {
    path: String,
    object: &'a Map<String, Value>,
}

impl<'a> Node<'a> {
    /// Reads `value` as an object. Any other value is an error naming `path`.
    pub(super) fn new(path: String, value: &'a Value) -> FieldResult<Self> {
        match value {
            Value::Object(object) => Ok(Self { path, object }),
            other => Err(format!("{path}: expected an object, found {}", kind(other))),
        }
    }

    pub(super) fn path(&self) -> &str {
        &self.path
    }

    fn field_path(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// Returns the value of `key`, treating `null` as absent.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key).filter(|value| !value.is_null())
    }

    fn mismatch(&self, key: &str, expected: &str, found: &Value) -> String {
        format!(
            "{}: expected {expected}, found {}",
            self.field_path(key),
            kind(found)
        )
    }

    pub(super) fn string(&self, key: &str) -> FieldResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(self.mismatch(key, "a string", other)),
        }
    }

    pub(super) fn required_string(&self, key: &str) -> FieldResult<String> {
        self.string(key)?
            .ok_or_else(|| format!("{}: missing", self.field_path(key)))
    }

    pub(super) fn integer(&self, key: &str) -> FieldResult<Option<i32>> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                .and_then(|number| i32::try_from(number).ok())
                .map(Some)
                .ok_or_else(|| self.mismatch(key, "a 32-bit integer", value)),
        }
    }

    pub(super) fn boolean(&self, key: &str) -> FieldResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(self.mismatch(key, "true or false", other)),
        }
    }

    /// Reads a date as awscli prints it (ISO 8601 with an offset, e.g.
    /// `2024-01-02T03:04:05+00:00`) or as seconds since the Unix epoch.
    pub(super) fn date(&self, key: &str) -> FieldResult<Option<DateTime>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => OffsetDateTime::parse(text, &Rfc3339)
                .map(|parsed| {
                    Some(DateTime::from_secs_and_nanos(
                        parsed.unix_timestamp(),
                        parsed.nanosecond(),
                    ))
                })
                .map_err(|error| {
                    format!(
                        "{}: `{text}` is not an ISO 8601 date with a time zone: {error}",
                        self.field_path(key)
                    )
                }),
            Some(Value::Number(number)) => number
                .as_f64()
                .filter(|seconds| seconds.is_finite())
                .map(|seconds| Some(DateTime::from_secs_f64(seconds)))
                .ok_or_else(|| format!("{}: `{number}` is not a date", self.field_path(key))),
            Some(other) => Err(self.mismatch(key, "a date", other)),
        }
    }

    /// Reads a policy document and returns it as text, the form the API returns. awscli
    /// prints documents as JSON objects; a document given as a string is kept as it is.
    pub(super) fn document(&self, key: &str) -> FieldResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(document @ Value::Object(_)) => serde_json::to_string(document)
                .map(Some)
                .map_err(|error| format!("{}: {error}", self.field_path(key))),
            Some(other) => Err(self.mismatch(key, "a policy document", other)),
        }
    }

    pub(super) fn object(&self, key: &str) -> FieldResult<Option<Node<'a>>> {
        self.get(key)
            .map(|value| Node::new(self.field_path(key), value))
            .transpose()
    }

    /// Reads a list of objects. `None` when the key is absent, so that the SDK type keeps
    /// the difference between "not returned" and "empty".
    pub(super) fn objects(&self, key: &str) -> FieldResult<Option<Vec<Node<'a>>>> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(self.mismatch(key, "a list", value));
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| Node::new(format!("{}[{index}]", self.field_path(key)), item))
            .collect::<FieldResult<Vec<_>>>()
            .map(Some)
    }

    pub(super) fn strings(&self, key: &str) -> FieldResult<Option<Vec<String>>> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(self.mismatch(key, "a list of strings", value));
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) => Ok(text.clone()),
                other => Err(format!(
                    "{}[{index}]: expected a string, found {}",
                    self.field_path(key),
                    kind(other)
                )),
            })
            .collect::<FieldResult<Vec<_>>>()
            .map(Some)
    }
}

/// Names a JSON value's type for error messages.
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(value: &Value) -> Node<'_> {
        Node::new("UserDetailList[0]".into(), value).unwrap()
    }

    #[test]
    fn missing_required_string_names_path() {
        let value = json!({"UserName": "alice"});
        let error = node(&value).required_string("Arn").unwrap_err();
        assert_eq!(error, "UserDetailList[0].Arn: missing");
    }

    #[test]
    fn wrong_type_names_path_and_type() {
        let value = json!({"Arn": 5, "GroupList": ["a", 3]});
        let error = node(&value).string("Arn").unwrap_err();
        assert_eq!(
            error,
            "UserDetailList[0].Arn: expected a string, found a number"
        );
        let error = node(&value).strings("GroupList").unwrap_err();
        assert_eq!(
            error,
            "UserDetailList[0].GroupList[1]: expected a string, found a number"
        );
    }

    #[test]
    fn dates_with_offset_and_epoch_seconds() {
        let value = json!({
            "Offset": "2024-01-02T05:04:05.5+02:00",
            "Zulu": "2024-01-02T03:04:05.5Z",
            "Epoch": 1704164645.5,
            "Bad": "2024-01-02",
        });
        let node = node(&value);
        let offset = node.date("Offset").unwrap().unwrap();
        assert_eq!(offset, node.date("Zulu").unwrap().unwrap());
        assert_eq!(offset, node.date("Epoch").unwrap().unwrap());
        let error = node.date("Bad").unwrap_err();
        assert!(
            error.starts_with("UserDetailList[0].Bad: `2024-01-02`"),
            "{error}"
        );
    }

    #[test]
    fn documents_as_object_or_text() {
        let value = json!({"Object": {"Version": "2012-10-17"}, "Text": "%7B%7D", "List": []});
        let node = node(&value);
        assert_eq!(
            node.document("Object").unwrap().as_deref(),
            Some(r#"{"Version":"2012-10-17"}"#)
        );
        assert_eq!(node.document("Text").unwrap().as_deref(), Some("%7B%7D"));
        assert!(node.document("List").is_err());
        assert_eq!(node.document("Absent").unwrap(), None);
    }

    #[test]
    fn null_counts_as_absent() {
        let value = json!({"Tags": null, "Arn": null});
        assert!(node(&value).objects("Tags").unwrap().is_none());
        assert!(node(&value).required_string("Arn").is_err());
    }
}
