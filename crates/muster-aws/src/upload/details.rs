//! Converts the JSON that `aws iam get-account-authorization-details` prints into the SDK
//! types a direct sync reads, so both paths share the mapping.
//!
//! The file is split into its list elements as raw text first, and each element becomes
//! a JSON tree only while it is converted. Memory therefore stays at about the size of
//! the file plus the converted data, instead of a JSON tree of the whole file.

use super::json::{kind, FieldResult, Node};
use crate::fetch::authorization::AuthorizationDetails;
use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy, GroupDetail, InstanceProfile, ManagedPolicyDetail,
    PermissionsBoundaryAttachmentType, PolicyDetail, PolicyVersion, Role, RoleDetail, RoleLastUsed,
    Tag, UserDetail,
};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

pub(super) const USERS: &str = "UserDetailList";
pub(super) const GROUPS: &str = "GroupDetailList";
pub(super) const ROLES: &str = "RoleDetailList";
pub(super) const POLICIES: &str = "Policies";

/// The authorization details of the file and whether it is a single truncated page.
pub(super) struct UploadedDetails {
    pub details: AuthorizationDetails,
    pub truncated: bool,
}

/// Parses the whole file. The error is `<JSON path>: <problem>`, or a JSON syntax error
/// with its line and column.
pub(super) fn parse_authorization_details(json: &[u8]) -> FieldResult<UploadedDetails> {
    let json = to_utf8(json)?;
    let top: BTreeMap<String, &RawValue> = serde_json::from_slice(&json).map_err(|error| {
        if error.is_data() {
            format!(
                "expected a JSON object with {USERS}, {GROUPS}, {ROLES} and {POLICIES}: {error}"
            )
        } else {
            format!("the file is not valid JSON: {error}")
        }
    })?;
    if ![USERS, GROUPS, ROLES, POLICIES]
        .iter()
        .any(|key| top.contains_key(*key))
    {
        return Err(format!(
            "the JSON object has none of {USERS}, {GROUPS}, {ROLES} and {POLICIES}; expected \
             the output of `aws iam get-account-authorization-details --output json`"
        ));
    }

    let details = AuthorizationDetails {
        users: convert_list(&top, USERS, user)?,
        groups: convert_list(&top, GROUPS, group)?,
        roles: convert_list(&top, ROLES, role)?,
        policies: convert_list(&top, POLICIES, managed_policy)?,
        pages: 1,
    };
    let truncated = match top.get("IsTruncated") {
        Some(raw) => serde_json::from_str::<Option<bool>>(raw.get())
            .map_err(|_| "IsTruncated: expected true or false".to_string())?
            .unwrap_or(false),
        None => false,
    };
    Ok(UploadedDetails { details, truncated })
}

/// Removes a UTF-8 byte order mark and decodes UTF-16 with one, which is what Windows
/// PowerShell 5 writes when awscli output is redirected to a file.
fn to_utf8(bytes: &[u8]) -> FieldResult<Cow<'_, [u8]>> {
    let decode_utf16 = |to_unit: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|pair| to_unit([pair[0], pair[1]]))
            .collect();
        String::from_utf16(&units)
            .map(|text| Cow::Owned(text.into_bytes()))
            .map_err(|_| {
                "the file starts with a UTF-16 byte order mark but is not valid UTF-16".to_string()
            })
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => Ok(Cow::Borrowed(rest)),
        [0xFF, 0xFE, ..] => decode_utf16(u16::from_le_bytes),
        [0xFE, 0xFF, ..] => decode_utf16(u16::from_be_bytes),
        _ => Ok(Cow::Borrowed(bytes)),
    }
}

/// Converts every element of the top-level list `key`. An absent or `null` list is empty.
fn convert_list<T>(
    top: &BTreeMap<String, &RawValue>,
    key: &str,
    convert: fn(&Node<'_>) -> FieldResult<T>,
) -> FieldResult<Vec<T>> {
    let Some(raw) = top.get(key) else {
        return Ok(Vec::new());
    };
    let elements: Option<Vec<&RawValue>> =
        serde_json::from_str(raw.get()).map_err(|error| match serde_json::from_str(raw.get()) {
            Ok(value) => format!("{key}: expected a list, found {}", kind(&value)),
            Err(_) => format!("{key}: {error}"),
        })?;
    elements
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, element)| {
            let path = format!("{key}[{index}]");
            let value: Value =
                serde_json::from_str(element.get()).map_err(|error| format!("{path}: {error}"))?;
            convert(&Node::new(path, &value)?)
        })
        .collect()
}

/// Converts the list `key` of `node` with `convert`, or returns `None` when it is absent.
fn list<T>(
    node: &Node<'_>,
    key: &str,
    convert: fn(&Node<'_>) -> FieldResult<T>,
) -> FieldResult<Option<Vec<T>>> {
    node.objects(key)?
        .map(|items| items.iter().map(convert).collect())
        .transpose()
}

fn user(node: &Node<'_>) -> FieldResult<UserDetail> {
    Ok(UserDetail::builder()
        .set_path(node.string("Path")?)
        .set_user_name(node.string("UserName")?)
        .set_user_id(node.string("UserId")?)
        .arn(node.required_string("Arn")?)
        .set_create_date(node.date("CreateDate")?)
        .set_user_policy_list(list(node, "UserPolicyList", inline_policy)?)
        .set_group_list(node.strings("GroupList")?)
        .set_attached_managed_policies(list(node, "AttachedManagedPolicies", attached_policy)?)
        .set_permissions_boundary(permissions_boundary(node)?)
        .set_tags(list(node, "Tags", tag)?)
        .build())
}

fn group(node: &Node<'_>) -> FieldResult<GroupDetail> {
    Ok(GroupDetail::builder()
        .set_path(node.string("Path")?)
        .set_group_name(node.string("GroupName")?)
        .set_group_id(node.string("GroupId")?)
        .arn(node.required_string("Arn")?)
        .set_create_date(node.date("CreateDate")?)
        .set_group_policy_list(list(node, "GroupPolicyList", inline_policy)?)
        .set_attached_managed_policies(list(node, "AttachedManagedPolicies", attached_policy)?)
        .build())
}

fn role(node: &Node<'_>) -> FieldResult<RoleDetail> {
    Ok(RoleDetail::builder()
        .set_path(node.string("Path")?)
        .set_role_name(node.string("RoleName")?)
        .set_role_id(node.string("RoleId")?)
        .arn(node.required_string("Arn")?)
        .set_create_date(node.date("CreateDate")?)
        .set_assume_role_policy_document(node.document("AssumeRolePolicyDocument")?)
        .set_instance_profile_list(list(node, "InstanceProfileList", instance_profile)?)
        .set_role_policy_list(list(node, "RolePolicyList", inline_policy)?)
        .set_attached_managed_policies(list(node, "AttachedManagedPolicies", attached_policy)?)
        .set_permissions_boundary(permissions_boundary(node)?)
        .set_tags(list(node, "Tags", tag)?)
        .set_role_last_used(role_last_used(node)?)
        .build())
}

fn managed_policy(node: &Node<'_>) -> FieldResult<ManagedPolicyDetail> {
    Ok(ManagedPolicyDetail::builder()
        .set_policy_name(node.string("PolicyName")?)
        .set_policy_id(node.string("PolicyId")?)
        .arn(node.required_string("Arn")?)
        .set_path(node.string("Path")?)
        .set_default_version_id(node.string("DefaultVersionId")?)
        .set_attachment_count(node.integer("AttachmentCount")?)
        .set_permissions_boundary_usage_count(node.integer("PermissionsBoundaryUsageCount")?)
        .set_is_attachable(node.boolean("IsAttachable")?)
        .set_description(node.string("Description")?)
        .set_create_date(node.date("CreateDate")?)
        .set_update_date(node.date("UpdateDate")?)
        .set_policy_version_list(list(node, "PolicyVersionList", policy_version)?)
        .build())
}

fn policy_version(node: &Node<'_>) -> FieldResult<PolicyVersion> {
    Ok(PolicyVersion::builder()
        .set_document(node.document("Document")?)
        .set_version_id(node.string("VersionId")?)
        .set_is_default_version(node.boolean("IsDefaultVersion")?)
        .set_create_date(node.date("CreateDate")?)
        .build())
}

/// Converts an inline policy. Its name is required because it is part of the entity's source id.
fn inline_policy(node: &Node<'_>) -> FieldResult<PolicyDetail> {
    Ok(PolicyDetail::builder()
        .policy_name(node.required_string("PolicyName")?)
        .set_policy_document(node.document("PolicyDocument")?)
        .build())
}

fn attached_policy(node: &Node<'_>) -> FieldResult<AttachedPolicy> {
    Ok(AttachedPolicy::builder()
        .set_policy_name(node.string("PolicyName")?)
        .policy_arn(node.required_string("PolicyArn")?)
        .build())
}

fn permissions_boundary(node: &Node<'_>) -> FieldResult<Option<AttachedPermissionsBoundary>> {
    let Some(boundary) = node.object("PermissionsBoundary")? else {
        return Ok(None);
    };
    let attachment_type = boundary
        .string("PermissionsBoundaryType")?
        .map(|text| PermissionsBoundaryAttachmentType::from(text.as_str()));
    Ok(Some(
        AttachedPermissionsBoundary::builder()
            .set_permissions_boundary_type(attachment_type)
            .permissions_boundary_arn(boundary.required_string("PermissionsBoundaryArn")?)
            .build(),
    ))
}

fn tag(node: &Node<'_>) -> FieldResult<Tag> {
    Tag::builder()
        .key(node.required_string("Key")?)
        .value(node.required_string("Value")?)
        .build()
        .map_err(|error| format!("{}: {error}", node.path()))
}

fn role_last_used(node: &Node<'_>) -> FieldResult<Option<RoleLastUsed>> {
    let Some(last_used) = node.object("RoleLastUsed")? else {
        return Ok(None);
    };
    Ok(Some(
        RoleLastUsed::builder()
            .set_last_used_date(last_used.date("LastUsedDate")?)
            .set_region(last_used.string("Region")?)
            .build(),
    ))
}

fn instance_profile(node: &Node<'_>) -> FieldResult<InstanceProfile> {
    InstanceProfile::builder()
        .path(node.required_string("Path")?)
        .instance_profile_name(node.required_string("InstanceProfileName")?)
        .instance_profile_id(node.required_string("InstanceProfileId")?)
        .arn(node.required_string("Arn")?)
        .set_create_date(node.date("CreateDate")?)
        .set_roles(Some(list(node, "Roles", profile_role)?.unwrap_or_default()))
        .set_tags(list(node, "Tags", tag)?)
        .build()
        .map_err(|error| format!("{}: {error}", node.path()))
}

/// Converts a role as an instance profile lists it.
fn profile_role(node: &Node<'_>) -> FieldResult<Role> {
    Role::builder()
        .path(node.required_string("Path")?)
        .role_name(node.required_string("RoleName")?)
        .role_id(node.required_string("RoleId")?)
        .arn(node.required_string("Arn")?)
        .set_create_date(node.date("CreateDate")?)
        .set_assume_role_policy_document(node.document("AssumeRolePolicyDocument")?)
        .set_description(node.string("Description")?)
        .set_max_session_duration(node.integer("MaxSessionDuration")?)
        .set_permissions_boundary(permissions_boundary(node)?)
        .set_tags(list(node, "Tags", tag)?)
        .set_role_last_used(role_last_used(node)?)
        .build()
        .map_err(|error| format!("{}: {error}", node.path()))
}
