//! `iam:GetAccountAuthorizationDetails`, every page of it, and `iam:ListRoles` for the
//! role facts that call leaves out (maximum session duration, description).

use crate::retry::{send_with_retry, RetryPolicy};
use aws_sdk_iam::error::SdkError;
use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsError;
use aws_sdk_iam::operation::list_roles::ListRolesError;
use aws_sdk_iam::types::{GroupDetail, ManagedPolicyDetail, RoleDetail, UserDetail};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use std::collections::HashMap;

/// Largest page IAM serves for GetAccountAuthorizationDetails and ListRoles.
const MAX_ITEMS: i32 = 1000;

/// Everything GetAccountAuthorizationDetails returned, all pages joined.
#[derive(Clone, Debug, Default)]
pub(crate) struct AuthorizationDetails {
    pub users: Vec<UserDetail>,
    pub groups: Vec<GroupDetail>,
    pub roles: Vec<RoleDetail>,
    pub policies: Vec<ManagedPolicyDetail>,
    pub pages: u64,
}

/// Reads every page, following `Marker` while `IsTruncated` is true. `on_page` gets the
/// number of pages read so far.
pub(crate) async fn fetch_authorization_details(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
    on_page: &(dyn Fn(u64) + Send + Sync),
) -> Result<AuthorizationDetails, SdkError<GetAccountAuthorizationDetailsError, HttpResponse>> {
    let mut details = AuthorizationDetails::default();
    let mut marker: Option<String> = None;
    loop {
        let page = send_with_retry(
            crate::error::GET_ACCOUNT_AUTHORIZATION_DETAILS,
            retry,
            || {
                iam.get_account_authorization_details()
                    .max_items(MAX_ITEMS)
                    .set_marker(marker.clone())
                    .send()
            },
        )
        .await?;
        details.pages += 1;
        on_page(details.pages);

        details
            .users
            .extend(page.user_detail_list.unwrap_or_default());
        details
            .groups
            .extend(page.group_detail_list.unwrap_or_default());
        details
            .roles
            .extend(page.role_detail_list.unwrap_or_default());
        details.policies.extend(page.policies.unwrap_or_default());

        match (page.is_truncated, page.marker) {
            (true, Some(next)) if Some(&next) != marker.as_ref() => marker = Some(next),
            (true, _) => {
                // IAM sends a new marker with every truncated page. Stopping here keeps a
                // malformed response from looping forever.
                tracing::warn!(
                    pages = details.pages,
                    "GetAccountAuthorizationDetails is truncated but gave no new marker"
                );
                break;
            }
            (false, _) => break,
        }
    }
    tracing::info!(
        pages = details.pages,
        users = details.users.len(),
        groups = details.groups.len(),
        roles = details.roles.len(),
        policies = details.policies.len(),
        "read authorization details"
    );
    Ok(details)
}

/// Role facts that only ListRoles and GetRole return.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RoleListing {
    pub max_session_duration: Option<i32>,
    pub description: Option<String>,
}

/// Lists every role, keyed by ARN.
pub(crate) async fn fetch_role_listings(
    iam: &aws_sdk_iam::Client,
    retry: &RetryPolicy,
) -> Result<HashMap<String, RoleListing>, SdkError<ListRolesError, HttpResponse>> {
    let mut listings = HashMap::new();
    let mut marker: Option<String> = None;
    loop {
        let page = send_with_retry("iam:ListRoles", retry, || {
            iam.list_roles()
                .max_items(MAX_ITEMS)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        for role in page.roles() {
            listings.insert(
                role.arn().to_string(),
                RoleListing {
                    max_session_duration: role.max_session_duration(),
                    description: role.description().map(str::to_string),
                },
            );
        }
        match page.marker() {
            Some(next) if page.is_truncated() && Some(next) != marker.as_deref() => {
                marker = Some(next.to_string());
            }
            _ => break,
        }
    }
    Ok(listings)
}
