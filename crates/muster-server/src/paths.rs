//! Paths of API resources and UI pages, built in one place so that links and routes agree.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters percent-encoded in one path segment: all but RFC 3986's unreserved ones.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Builds the page path of an integration: its id's segments (`aws/01J…`) each encoded and kept as
/// separate path segments, which reads better than `%2F`.
pub(crate) fn integration_page(id: &str) -> String {
    let segments: Vec<String> = id
        .split('/')
        .map(|segment| utf8_percent_encode(segment, PATH_SEGMENT).to_string())
        .collect();
    format!("/integrations/{}", segments.join("/"))
}

/// Builds the API path of an integration, its id percent-encoded into one segment.
pub(crate) fn api_integration(id: &str) -> String {
    format!("/api/v1/integrations/{}", utf8_percent_encode(id, PATH_SEGMENT))
}

pub(crate) fn entity_page(id: &str) -> String {
    format!("/entities/{}", utf8_percent_encode(id, PATH_SEGMENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_ids_keep_their_slash() {
        assert_eq!(integration_page("aws/01JQ8Z5Y3K"), "/integrations/aws/01JQ8Z5Y3K");
        assert_eq!(integration_page("a b/c?d"), "/integrations/a%20b/c%3Fd");
        assert_eq!(api_integration("aws/01JQ8Z5Y3K"), "/api/v1/integrations/aws%2F01JQ8Z5Y3K");
    }
}
