//! Conversions from database rows to domain types.

use crate::StoreError;
use std::str::FromStr;

/// Parses a stored enum value, reporting corrupt data instead of guessing.
pub(crate) fn parse_stored<T: FromStr<Err = String>>(value: &str) -> Result<T, StoreError> {
    T::from_str(value).map_err(StoreError::Corrupt)
}

pub(crate) fn parse_json(text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt(format!("invalid stored JSON: {error}")))
}

pub(crate) fn now_timestamp() -> String {
    muster_domain::format_timestamp(time::OffsetDateTime::now_utc())
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_pattern(search: &str) -> String {
    let mut pattern = String::from("%");
    for c in search.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
