//! Reads `/ServiceProviderConfig`: what the server supports.

use crate::client::{Request, ScimClient};
use crate::values::{attr_path, boolean, list, text, unsigned};
use crate::{ScimError, ServiceProviderSummary};
use serde_json::Value;

/// Reads the configuration and summarises it.
pub(crate) async fn read_summary(client: &ScimClient) -> Result<ServiceProviderSummary, ScimError> {
    let body = client
        .send_json(&Request::get("/ServiceProviderConfig"))
        .await?;
    Ok(summarise(&body))
}

/// Reads one user, because servers may serve `/ServiceProviderConfig` without checking
/// the credentials (RFC 7644 section 4 allows it).
pub(crate) async fn check_credentials(client: &ScimClient) -> Result<(), ScimError> {
    let mut request = Request::get("/Users");
    request.query.push(("startIndex", "1".into()));
    request.query.push(("count", "1".into()));
    client.send_json(&request).await.map(|_| ())
}

/// Reads the configuration when the server serves it. A server without one (404 or an
/// unreadable body) is assumed to support PATCH and nothing optional; authentication
/// errors still end the run.
pub(crate) async fn read_optional(
    client: &ScimClient,
) -> Result<Option<ServiceProviderSummary>, ScimError> {
    match read_summary(client).await {
        Ok(summary) => Ok(Some(summary)),
        Err(error)
            if matches!(
                error.code.as_str(),
                "scim.not_found" | "scim.invalid_response" | "scim.request_rejected"
            ) =>
        {
            tracing::warn!(code = %error.code, "SCIM server has no readable ServiceProviderConfig");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

fn supported(body: &Value, feature: &str) -> bool {
    boolean(attr_path(body, &[feature, "supported"])) == Some(true)
}

pub(crate) fn summarise(body: &Value) -> ServiceProviderSummary {
    let authentication_schemes = list(body, "authenticationSchemes")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|scheme| text(scheme, "type").or_else(|| text(scheme, "name")))
        .collect();
    let filter_max_results = unsigned(attr_path(body, &["filter", "maxResults"]));
    // RFC 9865 (cursor pagination) announces `pagination.maxPageSize`; older servers only
    // cap listings through `filter.maxResults`.
    let page_size_cap =
        unsigned(attr_path(body, &["pagination", "maxPageSize"])).or(filter_max_results);

    ServiceProviderSummary {
        authentication_schemes,
        filter_supported: supported(body, "filter"),
        filter_max_results,
        patch_supported: supported(body, "patch"),
        bulk_supported: supported(body, "bulk"),
        sort_supported: supported(body, "sort"),
        page_size_cap,
    }
}

/// Tells whether to try PATCH: the configuration says it is supported, or the server
/// serves no configuration.
pub(crate) fn patch_allowed(summary: Option<&ServiceProviderSummary>) -> bool {
    summary.is_none_or(|summary| summary.patch_supported)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_reads_string_flags_and_caps() {
        let body = json!({
            "Patch": {"supported": "True"},
            "bulk": {"supported": false},
            "filter": {"supported": true, "maxResults": "200"},
            "sort": {"supported": "yes"},
            "authenticationSchemes": [{"type": "oauthbearertoken"}, {"name": "basic"}]
        });
        let summary = summarise(&body);
        assert!(summary.patch_supported);
        assert!(!summary.bulk_supported);
        assert!(summary.filter_supported);
        assert!(!summary.sort_supported);
        assert_eq!(summary.filter_max_results, Some(200));
        assert_eq!(summary.page_size_cap, Some(200));
        assert_eq!(
            summary.authentication_schemes,
            vec!["oauthbearertoken", "basic"]
        );
    }
}
