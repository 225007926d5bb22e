//! One sync: reads the configuration, lists users and groups, reads each group's members
//! and builds the inventory.

use crate::client::{Request, ScimClient};
use crate::list::{self, ListSpec};
use crate::map::{self, GroupWithMembers};
use crate::values::{list as attr_list, text};
use crate::{config, error, filter, Progress, ScimEndpoint, ScimError, ScimOptions};
use futures::{StreamExt, TryStreamExt};
use muster_domain::{Entity, Inventory};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

/// Groups whose members are read at the same time. Kept at 4 because single-threaded
/// servers such as scim2-server 0.8.3 listen with a backlog of 5, and a connection beyond
/// it waits about a second for its SYN to be sent again.
const GROUP_READ_CONCURRENCY: usize = 4;

/// How many times the request timeout reading one group with its members may take.
const GROUP_READ_TIMEOUT_FACTOR: u32 = 4;

pub(crate) async fn extract(
    endpoint: &ScimEndpoint,
    options: &ScimOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Inventory, ScimError> {
    let client = ScimClient::new(endpoint, options)?;
    let project = project_of(client.base_url());
    let summary = config::read_optional(&client).await?;
    let sort_by_id = summary
        .as_ref()
        .is_some_and(|summary| summary.sort_supported);

    let users_spec = ListSpec {
        path: "/Users",
        noun: "users",
        excluded_attributes: None,
        filter: None,
        sort_by_id,
    };
    let groups_spec = ListSpec {
        path: "/Groups",
        noun: "groups",
        excluded_attributes: Some("members"),
        filter: None,
        sort_by_id,
    };
    let report = |phase: &'static str| {
        move |done: u64, total: Option<u64>| {
            progress(Progress {
                phase: phase.into(),
                done,
                total,
            })
        }
    };
    let users_progress = report("users");
    let groups_progress = report("groups");
    let (users, groups) = tokio::try_join!(
        list::list_all(&client, &users_spec, &users_progress),
        list::list_all(&client, &groups_spec, &groups_progress),
    )?;

    let mut warnings = users.warnings;
    warnings.extend(groups.warnings);
    let groups = read_members(&client, groups.resources, progress, &mut warnings).await?;

    let inventory = map::build_inventory(project, &users.resources, &groups, warnings);
    tracing::info!(
        entities = inventory.entities.len(),
        relations = inventory.relations.len(),
        warnings = inventory.warnings.len(),
        "SCIM sync read the server"
    );
    Ok(inventory)
}

/// Reads each group by id for its members, several at a time.
async fn read_members(
    client: &ScimClient,
    groups: Vec<Value>,
    progress: &(dyn Fn(Progress) + Send + Sync),
    warnings: &mut Vec<String>,
) -> Result<Vec<GroupWithMembers>, ScimError> {
    let total = groups.len() as u64;
    let done = AtomicU64::new(0);
    let results: Vec<(GroupWithMembers, Option<String>)> = futures::stream::iter(groups)
        .map(|group| {
            let done = &done;
            async move {
                let result = read_group_members(client, group).await;
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(Progress {
                    phase: "group members".into(),
                    done: finished,
                    total: Some(total),
                });
                result
            }
        })
        .buffered(GROUP_READ_CONCURRENCY)
        .try_collect()
        .await?;

    let mut groups = Vec::with_capacity(results.len());
    for (group, warning) in results {
        warnings.extend(warning);
        groups.push(group);
    }
    Ok(groups)
}

/// Reads one group. A group deleted since the listing keeps its listed attributes, with
/// members unknown and a warning.
async fn read_group_members(
    client: &ScimClient,
    listed: Value,
) -> Result<(GroupWithMembers, Option<String>), ScimError> {
    let Some(id) = text(&listed, "id") else {
        return Ok((
            GroupWithMembers {
                group: listed,
                members: None,
            },
            None,
        ));
    };
    let request = group_request(client, &id);
    let response = client.send(&request).await?;
    if response.status == 404 {
        let warning = format!("group {id} was listed but not found when its members were read; it was probably deleted during the sync");
        return Ok((
            GroupWithMembers {
                group: listed,
                members: None,
            },
            Some(warning),
        ));
    }
    if !response.is_success() {
        return Err(error::http_status(client, &request.action(), &response));
    }
    let Some(group) = response.json.filter(Value::is_object) else {
        return Err(error::invalid_response(
            client,
            &request.action(),
            &response.text,
            "a group must be a JSON object",
        ));
    };
    let members =
        attr_list(&group, "members").map(|members| members.into_iter().cloned().collect());
    Ok((GroupWithMembers { group, members }, None))
}

/// Builds the request that reads one group with its members, with the long timeout.
pub(crate) fn group_request(client: &ScimClient, id: &str) -> Request {
    let mut request = Request::get(format!("/Groups/{}", path_segment(id)));
    request.timeout = Some(
        client
            .options()
            .request_timeout
            .saturating_mul(GROUP_READ_TIMEOUT_FACTOR),
    );
    request
}

/// Percent-encodes an id for use as one path segment.
pub(crate) fn path_segment(id: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}

/// Returns the host of the base URL, the inventory's project.
fn project_of(base_url: &str) -> String {
    reqwest::Url::parse(base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string))
        .unwrap_or_else(|| "default".into())
}

pub(crate) async fn find_users(
    endpoint: &ScimEndpoint,
    options: &ScimOptions,
    attribute: &str,
    value: &str,
) -> Result<Vec<Entity>, ScimError> {
    let filter = filter::equality_filter(attribute, value).map_err(|cause| ScimError {
        status: muster_domain::IntegrationStatus::SyncFailed,
        code: "scim.invalid_filter".into(),
        message: cause,
    })?;
    let client = ScimClient::new(endpoint, options)?;
    let spec = ListSpec {
        path: "/Users",
        noun: "users",
        excluded_attributes: None,
        filter: Some(filter),
        sort_by_id: false,
    };
    let listing = list::list_all(&client, &spec, &|_, _| {}).await?;
    Ok(listing
        .resources
        .iter()
        .filter_map(map::user_entity)
        .collect())
}
