//! Deprovisioning primitives: remove one member from a group, deactivate one user. Each
//! reads the resource first, changes it with PATCH (or a PUT of the whole resource where
//! PATCH is unsupported), and reads it back to verify the change.
//!
//! A member is removed only with a filtered path, `members[value eq "ID"]`: a `remove` on
//! plain `members` deletes every member on a server that follows RFC 7644.

use crate::client::{Request, ScimClient};
use crate::extract::{group_request, path_segment};
use crate::map::TRUNCATION_SIZES;
use crate::values::{attr, boolean, list, text};
use crate::{config, error, DeprovisionOutcome, ScimError};
use muster_domain::IntegrationStatus;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Outcome of a PATCH request.
enum PatchResult {
    Applied,
    /// 405 or 501: the server does not take PATCH on this resource.
    Unsupported(u16),
}

pub(crate) async fn remove_group_member(
    client: &ScimClient,
    group_id: &str,
    user_id: &str,
) -> Result<DeprovisionOutcome, ScimError> {
    let summary = config::read_optional(client).await?;
    let path = format!("/Groups/{}", path_segment(group_id));
    let before = read_resource(client, group_request(client, group_id)).await?;
    let Some(before_members) = member_ids(&before) else {
        return Err(unsafe_change(format!(
            "GET {path} returned the group without a members attribute, so removing `{user_id}` could not be checked; nothing was changed"
        )));
    };
    if !before_members.contains(user_id) {
        return Ok(DeprovisionOutcome {
            method: "none".into(),
            verified: true,
            message: format!("`{user_id}` is not a member of group `{group_id}`; nothing was sent"),
        });
    }

    let mut method = "PATCH";
    let mut fallback_reason = String::new();
    if config::patch_allowed(summary.as_ref()) {
        let filter_value = Value::String(user_id.to_string());
        let body = json!({
            "schemas": [PATCH_OP],
            "Operations": [{"op": "remove", "path": format!("members[value eq {filter_value}]")}],
        });
        if let PatchResult::Unsupported(status) = patch(client, &path, body).await? {
            method = "PUT";
            fallback_reason = format!(" because PATCH returned HTTP {status}");
        }
    } else {
        method = "PUT";
        fallback_reason = " because the server does not announce PATCH support".into();
    }

    if method == "PUT" {
        if TRUNCATION_SIZES.contains(&before_members.len()) {
            return Err(unsafe_change(format!(
                "group `{group_id}` has exactly {} members, a size at which some servers cut the member list short, and PUT would replace the whole list; nothing was changed, remove `{user_id}` in the application itself",
                before_members.len()
            )));
        }
        let mut group = without_read_only(&before);
        let kept: Vec<Value> = list(&before, "members")
            .unwrap_or_default()
            .into_iter()
            .filter(|member| text(member, "value").as_deref() != Some(user_id))
            .cloned()
            .collect();
        set_attr(&mut group, "members", Value::Array(kept));
        put(client, &path, group).await?;
    }

    let after = read_resource(client, group_request(client, group_id)).await?;
    let after_members = member_ids(&after).unwrap_or_default();
    let still_member = after_members.contains(user_id);
    let lost: Vec<&String> = before_members
        .iter()
        .filter(|id| id.as_str() != user_id && !after_members.contains(*id))
        .collect();
    let verified = !still_member && lost.is_empty();
    let message = if verified {
        format!("removed `{user_id}` from group `{group_id}` with {method}{fallback_reason}; the read-back shows it gone and the other {} members intact", before_members.len() - 1)
    } else if still_member {
        format!("sent {method}{fallback_reason} to remove `{user_id}` from group `{group_id}`, but the read-back still lists it")
    } else {
        let sample: Vec<&str> = lost.iter().take(5).map(|id| id.as_str()).collect();
        format!(
            "sent {method}{fallback_reason} to remove `{user_id}` from group `{group_id}`, and the read-back also lacks {} other members (e.g. {}); stop and check the group in the application",
            lost.len(),
            sample.join(", ")
        )
    };
    log_outcome(verified, &message);
    Ok(DeprovisionOutcome {
        method: method.into(),
        verified,
        message,
    })
}

pub(crate) async fn deactivate_user(
    client: &ScimClient,
    user_id: &str,
) -> Result<DeprovisionOutcome, ScimError> {
    let summary = config::read_optional(client).await?;
    let path = format!("/Users/{}", path_segment(user_id));
    let before = read_resource(client, Request::get(path.clone())).await?;
    if boolean(attr(&before, "active")) == Some(false) {
        return Ok(DeprovisionOutcome {
            method: "none".into(),
            verified: true,
            message: format!("user `{user_id}` is already inactive; nothing was sent"),
        });
    }

    let mut method = "PATCH";
    let mut fallback_reason = String::new();
    if config::patch_allowed(summary.as_ref()) {
        let body = json!({
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": false}],
        });
        if let PatchResult::Unsupported(status) = patch(client, &path, body).await? {
            method = "PUT";
            fallback_reason = format!(" because PATCH returned HTTP {status}");
        }
    } else {
        method = "PUT";
        fallback_reason = " because the server does not announce PATCH support".into();
    }
    if method == "PUT" {
        let mut user = without_read_only(&before);
        set_attr(&mut user, "active", Value::Bool(false));
        put(client, &path, user).await?;
    }

    let after = read_resource(client, Request::get(path)).await?;
    let active = boolean(attr(&after, "active"));
    let verified = active == Some(false);
    let message = if verified {
        format!("deactivated user `{user_id}` with {method}{fallback_reason}; the read-back shows active false")
    } else {
        let shown = active.map_or("an unreadable value".to_string(), |active| {
            active.to_string()
        });
        format!("sent {method}{fallback_reason} to deactivate user `{user_id}`, but the read-back shows active {shown}")
    };
    log_outcome(verified, &message);
    Ok(DeprovisionOutcome {
        method: method.into(),
        verified,
        message,
    })
}

fn log_outcome(verified: bool, message: &str) {
    if verified {
        tracing::info!(message, "SCIM deprovisioning verified");
    } else {
        tracing::warn!(message, "SCIM deprovisioning not verified");
    }
}

fn unsafe_change(message: String) -> ScimError {
    ScimError {
        status: IntegrationStatus::SyncFailed,
        code: "scim.unsafe_change".into(),
        message,
    }
}

/// Reads one resource as a JSON object.
async fn read_resource(client: &ScimClient, request: Request) -> Result<Value, ScimError> {
    let body = client.send_json(&request).await?;
    if !body.is_object() {
        return Err(error::invalid_response(
            client,
            &request.action(),
            &body.to_string(),
            "a resource must be a JSON object",
        ));
    }
    Ok(body)
}

/// Returns the ids of a group's members, or `None` when the group has no `members` key.
fn member_ids(group: &Value) -> Option<BTreeSet<String>> {
    let members = list(group, "members")?;
    Some(
        members
            .into_iter()
            .filter_map(|member| text(member, "value"))
            .collect(),
    )
}

async fn patch(client: &ScimClient, path: &str, body: Value) -> Result<PatchResult, ScimError> {
    let request = Request::with_body(Method::PATCH, path, body);
    let response = client.send(&request).await?;
    match response.status {
        405 | 501 => Ok(PatchResult::Unsupported(response.status)),
        _ if response.is_success() => Ok(PatchResult::Applied),
        _ => Err(error::http_status(client, &request.action(), &response)),
    }
}

async fn put(client: &ScimClient, path: &str, body: Value) -> Result<(), ScimError> {
    let request = Request::with_body(Method::PUT, path, body);
    let response = client.send(&request).await?;
    if response.is_success() {
        Ok(())
    } else {
        Err(error::http_status(client, &request.action(), &response))
    }
}

/// Copies a resource without `meta`, which the server owns.
fn without_read_only(resource: &Value) -> Value {
    let mut copy = resource.clone();
    if let Some(map) = copy.as_object_mut() {
        map.retain(|key, _| !key.eq_ignore_ascii_case("meta"));
    }
    copy
}

/// Sets an attribute, replacing it under whatever case the server used.
fn set_attr(resource: &mut Value, name: &str, value: Value) {
    if let Some(map) = resource.as_object_mut() {
        let existing = map
            .keys()
            .find(|key| key.eq_ignore_ascii_case(name))
            .cloned();
        map.insert(existing.unwrap_or_else(|| name.to_string()), value);
    }
}
