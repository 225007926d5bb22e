//! Maps SCIM users and groups to entities, and group members to `member` relations.
//!
//! A user is an `identity` (source type `user`), a group a `connection` (source type
//! `group`), both addressed by their SCIM `id`. A member of a group is the parent of a
//! relation to the group: a user through `identity → connection`, a nested group through
//! `connection → connection`.

use crate::list::INCOMPLETE_WARNING_PREFIX;
use crate::values::{attr, boolean, copy_into, list, text};
use muster_domain::inventory::metadata_v1;
use muster_domain::{Entity, EntityKey, EntityType, Inventory, Relation};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

pub(crate) const USER: &str = "user";
pub(crate) const GROUP: &str = "group";

/// The schema URN of the enterprise user extension (RFC 7643 section 4.3).
const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Member counts at which servers are known to cut a group's `members` short.
pub(crate) const TRUNCATION_SIZES: [usize; 3] = [100, 200, 1000];

/// A group as listed, with the members read from the group itself.
pub(crate) struct GroupWithMembers {
    pub group: Value,
    /// `None` when the server did not return a `members` key: unknown, not empty.
    pub members: Option<Vec<Value>>,
}

/// Builds a user's `identity` entity, or `None` for a resource without an id.
pub(crate) fn user_entity(user: &Value) -> Option<Entity> {
    let id = text(user, "id").filter(|id| !id.is_empty())?;
    let user_name = text(user, "userName");
    let name = text(user, "displayName")
        .filter(|name| !name.trim().is_empty())
        .or_else(|| user_name.clone())
        .unwrap_or_else(|| id.clone());
    let active = boolean(attr(user, "active"));

    let mut fields = Map::new();
    fields.insert("id".into(), Value::from(id.clone()));
    fields.insert(
        "userName".into(),
        user_name.map_or(Value::Null, Value::from),
    );
    copy_into(&mut fields, "displayName", user, "displayName");
    copy_into(&mut fields, "externalId", user, "externalId");
    copy_into(&mut fields, "name", user, "name");
    copy_into(&mut fields, "title", user, "title");
    copy_into(&mut fields, "userType", user, "userType");
    copy_into(&mut fields, "emails", user, "emails");
    if let Some(email) = primary_email(user) {
        fields.insert("email".into(), Value::from(email));
    }
    fields.insert("active".into(), active.map_or(Value::Null, Value::from));
    let status = match active {
        Some(true) => "active",
        Some(false) => "inactive",
        None => "unknown",
    };
    fields.insert("status".into(), Value::from(status));
    if let Some(enterprise) = attr(user, ENTERPRISE_USER) {
        copy_into(&mut fields, "department", enterprise, "department");
        copy_into(&mut fields, "employeeNumber", enterprise, "employeeNumber");
        copy_into(&mut fields, "organization", enterprise, "organization");
        copy_into(&mut fields, "costCenter", enterprise, "costCenter");
        copy_into(&mut fields, "division", enterprise, "division");
        if let Some(manager) = manager(enterprise) {
            fields.insert("manager".into(), manager);
        }
    }

    Some(Entity {
        entity_type: EntityType::Identity,
        source_id: id,
        source_type: USER.into(),
        name,
        metadata: metadata_v1(fields),
    })
}

/// Returns the primary email, else the first one with a value.
fn primary_email(user: &Value) -> Option<String> {
    let emails = list(user, "emails")?;
    let value_of = |email: &&Value| text(email, "value").filter(|value| !value.trim().is_empty());
    emails
        .iter()
        .filter(|email| boolean(attr(email, "primary")) == Some(true))
        .find_map(value_of)
        .or_else(|| emails.iter().find_map(value_of))
}

/// Reads the enterprise manager as `{"value", "displayName"}`; some servers send the id
/// as a plain string.
fn manager(enterprise: &Value) -> Option<Value> {
    match attr(enterprise, "manager")? {
        Value::String(id) => Some(json!({ "value": id })),
        manager @ Value::Object(_) => Some(json!({
            "value": text(manager, "value"),
            "displayName": text(manager, "displayName"),
        })),
        _ => None,
    }
}

/// Builds a group's `connection` entity, or `None` for a resource without an id.
fn group_entity(group: &GroupWithMembers, possibly_truncated: bool) -> Option<Entity> {
    let id = text(&group.group, "id").filter(|id| !id.is_empty())?;
    let name = text(&group.group, "displayName")
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| id.clone());

    let mut fields = Map::new();
    fields.insert("id".into(), Value::from(id.clone()));
    copy_into(&mut fields, "displayName", &group.group, "displayName");
    copy_into(&mut fields, "externalId", &group.group, "externalId");
    fields.insert(
        "membersReturned".into(),
        Value::from(group.members.is_some()),
    );
    fields.insert(
        "memberCount".into(),
        group
            .members
            .as_ref()
            .map_or(Value::Null, |members| Value::from(members.len())),
    );
    fields.insert(
        "membersPossiblyTruncated".into(),
        Value::from(possibly_truncated),
    );

    Some(Entity {
        entity_type: EntityType::Connection,
        source_id: id,
        source_type: GROUP.into(),
        name,
        metadata: metadata_v1(fields),
    })
}

/// Builds the inventory of one server.
pub(crate) fn build_inventory(
    project: String,
    users: &[Value],
    groups: &[GroupWithMembers],
    mut warnings: Vec<String>,
) -> Inventory {
    let mut entities: Vec<Entity> = users.iter().filter_map(user_entity).collect();
    let user_ids: HashSet<String> = entities
        .iter()
        .map(|entity| entity.source_id.clone())
        .collect();
    let group_ids: HashSet<String> = groups
        .iter()
        .filter_map(|group| text(&group.group, "id"))
        .collect();

    let mut relations = Vec::new();
    let mut related: HashSet<(EntityKey, EntityKey)> = HashSet::new();
    let mut unknown_members = 0usize;
    for group in groups {
        let Some(group_id) = text(&group.group, "id") else {
            continue;
        };
        let group_name = text(&group.group, "displayName").unwrap_or_else(|| group_id.clone());
        let count = group.members.as_ref().map(Vec::len);
        let possibly_truncated = count.is_some_and(|count| TRUNCATION_SIZES.contains(&count));
        if let Some(entity) = group_entity(group, possibly_truncated) {
            entities.push(entity);
        }

        let Some(members) = &group.members else {
            warnings.push(format!(
                "{INCOMPLETE_WARNING_PREFIX}: group `{group_name}` ({group_id}) was returned without a members attribute, so its memberships are unknown"
            ));
            continue;
        };
        if possibly_truncated {
            warnings.push(format!(
                "{INCOMPLETE_WARNING_PREFIX}: group `{group_name}` ({group_id}) has exactly {} members, a size at which some servers cut the member list short; its memberships may be truncated",
                members.len()
            ));
        }

        let child = EntityKey::new(EntityType::Connection, group_id.clone());
        for member in members {
            let Some(member_id) = text(member, "value").filter(|id| !id.is_empty()) else {
                unknown_members += 1;
                continue;
            };
            let member_type = text(member, "type");
            let is_group = member_type
                .as_deref()
                .is_some_and(|kind| kind.eq_ignore_ascii_case("group"))
                || group_ids.contains(&member_id);
            let parent = if is_group && group_ids.contains(&member_id) {
                EntityKey::new(EntityType::Connection, member_id)
            } else if !is_group && user_ids.contains(&member_id) {
                EntityKey::new(EntityType::Identity, member_id)
            } else {
                unknown_members += 1;
                continue;
            };
            if !related.insert((parent.clone(), child.clone())) {
                continue;
            }
            let mut fields = Map::new();
            fields.insert(
                "memberType".into(),
                Value::from(if is_group { "Group" } else { "User" }),
            );
            relations.push(Relation {
                parent,
                child: child.clone(),
                project: project.clone(),
                privilege_name: "member".into(),
                privilege_value: true,
                connection_type: Some(GROUP.into()),
                metadata: metadata_v1(fields),
            });
        }
    }
    if unknown_members > 0 {
        warnings.push(format!(
            "{unknown_members} group members are neither a listed user nor a listed group (or have no value), so their memberships were left out"
        ));
    }

    Inventory {
        project: Some(project),
        entities,
        relations,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_maps_enterprise_and_lenient_values() {
        let user = json!({
            "ID": "u1",
            "UserName": "ann",
            "Active": "False",
            "emails": [{"value": "other@x.com"}, {"value": "ann@x.com", "primary": "true"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {
                "Department": "Finance", "employeeNumber": "42", "manager": {"value": "u0", "displayName": "Bea"}
            }
        });
        let entity = user_entity(&user).unwrap();
        assert_eq!(entity.source_id, "u1");
        assert_eq!(entity.name, "ann");
        assert_eq!(entity.metadata["active"], json!(false));
        assert_eq!(entity.metadata["status"], json!("inactive"));
        assert_eq!(entity.metadata["email"], json!("ann@x.com"));
        assert_eq!(entity.metadata["department"], json!("Finance"));
        assert_eq!(entity.metadata["employeeNumber"], json!("42"));
        assert_eq!(entity.metadata["manager"]["value"], json!("u0"));
        assert_eq!(entity.metadata["Metadata Version"], json!("v1"));
    }

    #[test]
    fn unreadable_active_is_unknown() {
        let entity = user_entity(&json!({"id": "u1", "active": "maybe"})).unwrap();
        assert_eq!(entity.metadata["active"], Value::Null);
        assert_eq!(entity.metadata["status"], json!("unknown"));
    }

    #[test]
    fn nested_groups_and_truncation_flagged() {
        let users = vec![json!({"id": "u1", "userName": "ann"})];
        let mut members: Vec<Value> = (0..99)
            .map(|i| json!({"value": format!("ghost{i}")}))
            .collect();
        members.push(json!({"value": "u1"}));
        let groups = vec![
            GroupWithMembers {
                group: json!({"id": "g1", "displayName": "outer"}),
                members: Some(vec![
                    json!({"value": "g2", "type": "Group"}),
                    json!({"value": "u1"}),
                ]),
            },
            GroupWithMembers {
                group: json!({"id": "g2", "displayName": "inner"}),
                members: Some(members),
            },
            GroupWithMembers {
                group: json!({"id": "g3"}),
                members: None,
            },
        ];
        let inventory = build_inventory("host".into(), &users, &groups, Vec::new());
        inventory.validate().unwrap();
        let nested = inventory
            .relations
            .iter()
            .find(|relation| relation.parent.source_id == "g2")
            .unwrap();
        assert_eq!(nested.parent.entity_type, EntityType::Connection);
        assert_eq!(nested.child.source_id, "g1");
        assert_eq!(inventory.relations.len(), 3);
        assert!(inventory
            .warnings
            .iter()
            .any(|warning| warning.contains("exactly 100 members")));
        assert!(inventory
            .warnings
            .iter()
            .any(|warning| warning.contains("without a members attribute")));
    }
}
