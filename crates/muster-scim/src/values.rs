//! Reading SCIM JSON leniently: attribute names match case-insensitively (RFC 7643
//! section 2.1), and booleans and numbers may arrive as strings.

use serde_json::{Map, Value};

/// Returns the attribute `name` of `object`, matching the name case-insensitively. An
/// exact match wins over a match in another case.
pub(crate) fn attr<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    let map = object.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

/// Returns the attribute at `path`, one case-insensitive name per step.
pub(crate) fn attr_path<'a>(object: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(object, |current, name| attr(current, name))
}

/// Returns a string attribute; numbers are rendered as text, other kinds are absent.
pub(crate) fn text(object: &Value, name: &str) -> Option<String> {
    match attr(object, name)? {
        Value::String(value) => Some(value.clone()),
        Value::Number(value) => Some(value.to_string()),
        _ => None,
    }
}

/// Reads a boolean given as `true`, `"True"`, `"false"` and so on. Anything else,
/// including a missing value, is `None`: unknown, never a default.
pub(crate) fn boolean(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(value) => Some(*value),
        Value::String(text) => {
            let text = text.trim();
            if text.eq_ignore_ascii_case("true") {
                Some(true)
            } else if text.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Reads a non-negative integer given as a number or a numeric string.
pub(crate) fn unsigned(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(number) => number.as_u64().or_else(|| {
            number
                .as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Returns the elements of a multi-valued attribute; a single object counts as one.
pub(crate) fn list<'a>(object: &'a Value, name: &str) -> Option<Vec<&'a Value>> {
    match attr(object, name)? {
        Value::Array(items) => Some(items.iter().collect()),
        Value::Null => None,
        single => Some(vec![single]),
    }
}

/// Copies the attribute `name` of `object`, when present and not null, into `fields`
/// under `key`.
pub(crate) fn copy_into(fields: &mut Map<String, Value>, key: &str, object: &Value, name: &str) {
    if let Some(value) = attr(object, name).filter(|value| !value.is_null()) {
        fields.insert(key.into(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attr_matches_any_case() {
        let object = json!({"TotalResults": 3, "resources": []});
        assert_eq!(attr(&object, "totalResults"), Some(&json!(3)));
        assert_eq!(attr(&object, "Resources"), Some(&json!([])));
        assert_eq!(attr(&object, "missing"), None);
    }

    #[test]
    fn boolean_accepts_strings_only_when_clear() {
        assert_eq!(boolean(Some(&json!(true))), Some(true));
        assert_eq!(boolean(Some(&json!("True"))), Some(true));
        assert_eq!(boolean(Some(&json!("FALSE"))), Some(false));
        assert_eq!(boolean(Some(&json!("yes"))), None);
        assert_eq!(boolean(Some(&json!(1))), None);
        assert_eq!(boolean(None), None);
    }

    #[test]
    fn unsigned_accepts_numeric_strings() {
        assert_eq!(unsigned(Some(&json!(25))), Some(25));
        assert_eq!(unsigned(Some(&json!("25"))), Some(25));
        assert_eq!(unsigned(Some(&json!(25.0))), Some(25));
        assert_eq!(unsigned(Some(&json!("many"))), None);
        assert_eq!(unsigned(Some(&json!(-1))), None);
    }
}
