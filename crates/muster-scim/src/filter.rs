//! SCIM filter expressions (RFC 7644 section 3.4.2.2) built from untrusted values.

/// Builds `ATTRIBUTE eq "VALUE"` with the value quoted and escaped as a JSON string, so
/// `"`, `\`, `'`, `+` and non-ASCII characters reach the server as data. The client
/// percent-encodes the whole expression when it sends it, `+` included.
///
/// The attribute must be a SCIM attribute path (letters, digits, `.`, `:`, `_`, `-`,
/// `$`); anything else is rejected so a caller cannot inject another expression.
pub fn equality_filter(attribute: &str, value: &str) -> Result<String, String> {
    let valid = !attribute.is_empty()
        && attribute
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-' | '$'));
    if !valid {
        return Err(format!("`{attribute}` is not a SCIM attribute path"));
    }
    let quoted = serde_json::Value::String(value.to_string()).to_string();
    Ok(format!("{attribute} eq {quoted}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_quoted_as_json_strings() {
        assert_eq!(
            equality_filter("userName", "O'Brien").unwrap(),
            r#"userName eq "O'Brien""#
        );
        assert_eq!(
            equality_filter("userName", "a+b@x.com").unwrap(),
            r#"userName eq "a+b@x.com""#
        );
        assert_eq!(
            equality_filter("userName", r#"say "hi" \o/"#).unwrap(),
            r#"userName eq "say \"hi\" \\o/""#
        );
        assert_eq!(
            equality_filter("name.familyName", "Müller").unwrap(),
            r#"name.familyName eq "Müller""#
        );
    }

    #[test]
    fn attribute_injection_rejected() {
        assert!(equality_filter("userName eq \"x\" or id", "y").is_err());
        assert!(equality_filter("", "y").is_err());
    }
}
