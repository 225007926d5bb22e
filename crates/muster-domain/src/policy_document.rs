//! Decoding of IAM policy documents as the IAM API returns them.
//!
//! IAM returns documents percent-encoded (RFC 3986). A `+` in that text is a literal plus,
//! not a space as in HTML form encoding, so only `%XX` sequences are decoded.

use percent_encoding::percent_decode_str;

/// Error raised when a policy document cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyDocumentError {
    #[error("policy document is not valid UTF-8 after percent-decoding")]
    InvalidUtf8,
    #[error("policy document is not valid JSON: {0}")]
    InvalidJson(String),
}

/// Decodes a policy document into JSON.
///
/// Text that already parses as JSON is taken as it is, so a document is never decoded
/// twice (a literal `%41` inside a JSON string stays `%41`).
pub fn decode_policy_document(raw: &str) -> Result<serde_json::Value, PolicyDocumentError> {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(raw) {
        return Ok(value);
    }

    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| PolicyDocumentError::InvalidUtf8)?;
    serde_json::from_str(&decoded).map_err(|error| PolicyDocumentError::InvalidJson(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_keeps_plus() {
        let raw = "%7B%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Amedia%2Fc++%2Fnotes+drafts%2F%2A%22%7D";
        let value = decode_policy_document(raw).unwrap();
        assert_eq!(value["Resource"], "arn:aws:s3:::media/c++/notes+drafts/*");
    }

    #[test]
    fn json_is_not_decoded_again() {
        let raw = r#"{"Resource":"arn:aws:s3:::b/%41+x"}"#;
        let value = decode_policy_document(raw).unwrap();
        assert_eq!(value["Resource"], "arn:aws:s3:::b/%41+x");
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(
            decode_policy_document("%7Bnot json"),
            Err(PolicyDocumentError::InvalidJson(_))
        ));
        assert_eq!(
            decode_policy_document("%FF%FE"),
            Err(PolicyDocumentError::InvalidUtf8)
        );
    }
}
