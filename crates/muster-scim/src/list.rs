//! Pages a SCIM listing (`/Users`, `/Groups`) with `startIndex` and `count`.
//!
//! Deployed servers echo `startIndex: 0`, ignore `count`, return short pages, report a
//! wrong or missing `totalResults`, and reorder resources between pages. So every request
//! carries both `startIndex` (from 1) and `count`, and the next index is the one sent plus
//! the number of resources that came back. The listing ends at the first empty page, or
//! at the page cap. Resources are de-duplicated by `id`, and a listing whose unique ids
//! disagree with `totalResults` is reported as incomplete.

use crate::client::{Request, ScimClient};
use crate::error;
use crate::values::{attr, list, text, unsigned};
use crate::ScimError;
use serde_json::Value;
use std::collections::HashSet;

/// Starts every warning that means the inventory may lack resources or memberships that
/// exist on the server. Missing from such an inventory does not mean access was removed.
pub const INCOMPLETE_WARNING_PREFIX: &str = "incomplete listing";

/// Pages in a row that bring no new id before the listing is abandoned: the server
/// probably ignores `startIndex`.
const MAX_STALE_PAGES: u32 = 3;

/// What to list and how.
pub(crate) struct ListSpec {
    /// `/Users` or `/Groups`.
    pub path: &'static str,
    /// Plural noun for messages: `users` or `groups`.
    pub noun: &'static str,
    pub excluded_attributes: Option<&'static str>,
    pub filter: Option<String>,
    /// Adds `sortBy=id`, for servers that announce sorting.
    pub sort_by_id: bool,
}

/// The unique resources of a listing, in the order first seen.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub resources: Vec<Value>,
    pub warnings: Vec<String>,
}

/// Reads every page of a listing. `progress` gets the unique resources read so far and
/// the server's last `totalResults`.
pub(crate) async fn list_all(
    client: &ScimClient,
    spec: &ListSpec,
    progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
) -> Result<Listing, ScimError> {
    let options = client.options();
    let count = options.page_size.max(1);
    let mut listing = Listing::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut start_index: u64 = 1;
    let mut total_results: Option<u64> = None;
    let mut missing_ids: u64 = 0;
    let mut pages: u32 = 0;
    let mut stale_pages: u32 = 0;

    loop {
        if pages >= options.max_pages {
            listing.warnings.push(format!(
                "{INCOMPLETE_WARNING_PREFIX}: {} stopped after {pages} pages, the page cap, with {} {} read; raise the page cap or the page size",
                spec.path,
                seen.len(),
                spec.noun
            ));
            break;
        }

        let request = page_request(spec, start_index, count);
        let body = client.send_json(&request).await?;
        pages += 1;
        let (resources, page_total) = read_page(client, &request, &body)?;
        if page_total.is_some() {
            total_results = page_total;
        }
        if resources.is_empty() {
            break;
        }

        let returned = resources.len() as u64;
        let mut new_ids = 0;
        for resource in resources {
            let Some(id) = text(&resource, "id").filter(|id| !id.is_empty()) else {
                missing_ids += 1;
                continue;
            };
            if seen.insert(id) {
                new_ids += 1;
                listing.resources.push(resource);
            }
        }
        start_index += returned;
        progress(seen.len() as u64, total_results);

        stale_pages = if new_ids == 0 { stale_pages + 1 } else { 0 };
        if stale_pages >= MAX_STALE_PAGES {
            listing.warnings.push(format!(
                "{INCOMPLETE_WARNING_PREFIX}: {} returned only {} already read for {MAX_STALE_PAGES} pages in a row, so the server seems to ignore startIndex; {} {} were read",
                spec.path,
                spec.noun,
                seen.len(),
                spec.noun
            ));
            break;
        }
    }

    if missing_ids > 0 {
        listing.warnings.push(format!(
            "{INCOMPLETE_WARNING_PREFIX}: {} returned {missing_ids} {} without an id, which were left out",
            spec.path, spec.noun
        ));
    }
    if let Some(total) = total_results {
        let unique = seen.len() as u64;
        if total != unique {
            listing.warnings.push(format!(
                "{INCOMPLETE_WARNING_PREFIX}: {} reported totalResults {total} but {unique} unique {} were read; the server's paging is unreliable, so {} missing here may still exist",
                spec.path, spec.noun, spec.noun
            ));
        }
    }
    Ok(listing)
}

fn page_request(spec: &ListSpec, start_index: u64, count: u32) -> Request {
    let mut request = Request::get(spec.path);
    if let Some(filter) = &spec.filter {
        request.query.push(("filter", filter.clone()));
    }
    if spec.sort_by_id {
        request.query.push(("sortBy", "id".into()));
        request.query.push(("sortOrder", "ascending".into()));
    }
    if let Some(excluded) = spec.excluded_attributes {
        request.query.push(("excludedAttributes", excluded.into()));
    }
    request.query.push(("startIndex", start_index.to_string()));
    request.query.push(("count", count.to_string()));
    request
}

/// Returns a page's resources and its `totalResults`. A page without `Resources` is
/// empty; `Resources` of another kind than a list is an invalid response.
fn read_page(
    client: &ScimClient,
    request: &Request,
    body: &Value,
) -> Result<(Vec<Value>, Option<u64>), ScimError> {
    if !body.is_object() {
        return Err(error::invalid_response(
            client,
            &request.action(),
            &body.to_string(),
            "a list response must be a JSON object",
        ));
    }
    let total = unsigned(attr(body, "totalResults"));
    let resources = match attr(body, "Resources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(_)) => list(body, "Resources")
            .unwrap_or_default()
            .into_iter()
            .cloned()
            .collect(),
        Some(_) => {
            return Err(error::invalid_response(
                client,
                &request.action(),
                &body.to_string(),
                "`Resources` is not a list",
            ));
        }
    };
    Ok((resources, total))
}
