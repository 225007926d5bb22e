//! The inventory section of an integration page: one tab per entity type, a search box and
//! paging, all as plain links and GET forms so they work with or without htmx.

use crate::paths;
use muster_domain::{EntityType, Integration};
use muster_service::{EntityFilter, Muster, ServiceError, StoredEntity};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

/// Entities per page of an inventory table.
const PAGE_SIZE: u32 = 50;

const TABS: [(EntityType, &str); 3] = [
    (EntityType::Identity, "Identities"),
    (EntityType::Connection, "Connections"),
    (EntityType::Resource, "Resources"),
];

/// Characters percent-encoded in a query string value.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The page's query string. Every field is text, so a hand-edited URL falls back to the
/// defaults instead of failing.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct InventoryQuery {
    /// `identity`, `connection` or `resource`.
    tab: String,
    search: String,
    offset: String,
}

#[derive(Serialize)]
pub(crate) struct InventoryView {
    /// Whether the integration has a current snapshot.
    has_data: bool,
    tabs: Vec<TabView>,
    /// The selected tab's label, e.g. `Identities`.
    label: &'static str,
    /// The selected tab's key, e.g. `identity`.
    tab: &'static str,
    search: String,
    items: Vec<StoredEntity>,
    total: i64,
    /// 1-based positions of the first and last item shown.
    first: u64,
    last: u64,
    /// The number of matching entities skipped, from the query string.
    offset: u64,
    previous_href: Option<String>,
    next_href: Option<String>,
    /// The first page, linked when the offset is past the last entity.
    first_page_href: Option<String>,
}

#[derive(Serialize)]
struct TabView {
    key: &'static str,
    label: &'static str,
    count: i64,
    selected: bool,
    href: String,
}

/// Loads the selected tab's page and the count of every tab.
pub(crate) async fn inventory(
    muster: &Muster,
    integration: &Integration,
    query: &InventoryQuery,
) -> Result<InventoryView, ServiceError> {
    let base = paths::integration_page(integration.id.as_str());
    let selected = query.tab.parse::<EntityType>().unwrap_or(EntityType::Identity);
    let (_, label) = TABS
        .iter()
        .find(|(entity_type, _)| *entity_type == selected)
        .copied()
        .unwrap_or(TABS[0]);
    let search = query.search.trim().to_string();
    let mut view = InventoryView {
        has_data: integration.current_snapshot_id.is_some(),
        tabs: Vec::new(),
        label,
        tab: selected.as_str(),
        search: search.clone(),
        items: Vec::new(),
        total: 0,
        first: 0,
        last: 0,
        offset: 0,
        previous_href: None,
        next_href: None,
        first_page_href: None,
    };
    if !view.has_data {
        return Ok(view);
    }

    let tenant = muster.default_tenant();
    let filter = |entity_type: EntityType, limit: u32, offset: u32, search: Option<String>| EntityFilter {
        integration: Some(integration.id.clone()),
        entity_type: Some(entity_type),
        source_type: None,
        search,
        limit,
        offset,
    };
    for (entity_type, tab_label) in TABS {
        let count = muster.list_entities(tenant, filter(entity_type, 1, 0, None)).await?.total;
        view.tabs.push(TabView {
            key: entity_type.as_str(),
            label: tab_label,
            count,
            selected: entity_type == selected,
            href: href(&base, entity_type.as_str(), "", 0),
        });
    }

    let offset = query.offset.trim().parse::<u32>().unwrap_or(0);
    let search_filter = (!search.is_empty()).then(|| search.clone());
    let page = muster
        .list_entities(tenant, filter(selected, PAGE_SIZE, offset, search_filter))
        .await?;
    let shown = u64::try_from(page.items.len()).unwrap_or(u64::MAX);
    let total = u64::try_from(page.total).unwrap_or(0);
    let offset = u64::from(offset);
    view.first = if shown == 0 { 0 } else { offset + 1 };
    view.last = offset + shown;
    view.offset = offset;
    if shown == 0 && offset > 0 && total > 0 {
        view.first_page_href = Some(href(&base, selected.as_str(), &search, 0));
    }
    if offset > 0 {
        let previous = offset.saturating_sub(u64::from(PAGE_SIZE));
        view.previous_href = Some(href(&base, selected.as_str(), &search, previous));
    }
    if offset + shown < total {
        view.next_href = Some(href(&base, selected.as_str(), &search, offset + shown));
    }
    view.total = page.total;
    view.items = page.items;
    Ok(view)
}

/// Builds the link to the integration page with a tab, search and offset, scrolled to the
/// inventory.
fn href(base: &str, tab: &str, search: &str, offset: u64) -> String {
    let mut href = format!("{base}?tab={tab}");
    if !search.is_empty() {
        href.push_str("&search=");
        href.push_str(&utf8_percent_encode(search, QUERY_VALUE).to_string());
    }
    if offset > 0 {
        href.push_str(&format!("&offset={offset}"));
    }
    href.push_str("#inventory");
    href
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_encode_search() {
        assert_eq!(href("/integrations/aws/01J", "identity", "", 0), "/integrations/aws/01J?tab=identity#inventory");
        assert_eq!(
            href("/i", "connection", "a&b c", 50),
            "/i?tab=connection&search=a%26b%20c&offset=50#inventory"
        );
    }
}
