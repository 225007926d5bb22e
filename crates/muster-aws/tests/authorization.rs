//! Syncs against moto with IAM authorization enforced: the fixture account is built
//! first, then moto checks signatures and policies on every request.
//!
//! moto 5.2.1 evaluates a role's trust policy on `sts:AssumeRole`: the caller's ARN must
//! be listed exactly under `Principal.AWS`, the caller needs an identity policy allowing
//! `sts:AssumeRole`, and a `StringEquals` condition on `sts:ExternalId` is compared with
//! the request's ExternalId. It skips the condition when the request carries no
//! ExternalId at all, so a missing external ID is not rejected as AWS would reject it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use muster_aws::SyncError;
use muster_domain::{AwsCredentials, EntityType, IntegrationStatus};

fn enforced_account() -> (Moto, Account) {
    let moto = Moto::start();
    let account = moto.build_account();
    moto.enforce_auth();
    (moto, account)
}

fn role_credentials(account: &Account, external_id: &str) -> AwsCredentials {
    AwsCredentials {
        role_arn: Some(account.arn("roles", "muster-audit-role")),
        external_id: Some(external_id.to_string()),
        session_duration_secs: Some(3600),
        ..Default::default()
    }
}

fn assert_no_secret(error: &SyncError, key: &muster_aws::StaticCredentials) {
    assert!(
        !error.message.contains(&key.secret_access_key),
        "{}",
        error.message
    );
    assert!(
        !error.message.contains(&key.access_key_id),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn assumed_role_with_external_id_syncs() {
    let (moto, account) = enforced_account();
    let mut options = options(&moto.endpoint);
    options.base_credentials = Some(account.user_key("role-assumer"));

    let (result, progress) =
        sync(&role_credentials(&account, account.external_id()), &options).await;
    let inventory = result.expect("the sync through the assumed role failed");

    assert_fixture_inventory(&inventory, &account);
    assert_eq!(inventory.warnings, Vec::<String>::new());
    let sync_principal = entity(&inventory, EntityType::Resource, account.account_id()).metadata
        ["SyncPrincipalArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sync_principal,
        format!(
            "arn:aws:sts::{}:assumed-role/muster-audit-role/muster-sync",
            account.account_id()
        )
    );
    assert!(progress.iter().any(|report| report.phase == "assume role"));
}

#[tokio::test]
async fn wrong_external_id_is_access_denied() {
    let (moto, account) = enforced_account();
    let base = account.user_key("role-assumer");
    let mut options = options(&moto.endpoint);
    options.base_credentials = Some(base.clone());

    let (result, _) = sync(&role_credentials(&account, "not-the-external-id"), &options).await;
    let error = result.expect_err("a wrong external ID must be rejected");

    assert_eq!(error.status, IntegrationStatus::AccessDenied);
    assert_eq!(error.code, "aws.access_denied");
    assert_eq!(
        error.message,
        format!(
            "AccessDenied on sts:AssumeRole for {}: check that the role's trust policy allows {} \
             and that the external ID matches",
            account.arn("roles", "muster-audit-role"),
            account.arn("users", "role-assumer"),
        )
    );
    assert_no_secret(&error, &base);
}

#[tokio::test]
async fn untrusted_caller_cannot_assume() {
    let (moto, account) = enforced_account();
    // muster-reader may not call sts:AssumeRole and is not in the role's trust policy.
    let mut options = options(&moto.endpoint);
    options.base_credentials = Some(account.user_key("muster-reader"));

    let (result, _) = sync(&role_credentials(&account, account.external_id()), &options).await;
    let error = result.expect_err("the role does not trust muster-reader");

    assert_eq!(error.status, IntegrationStatus::AccessDenied);
    assert!(
        error
            .message
            .contains(&account.arn("users", "muster-reader")),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn assumed_role_without_iam_read_is_denied() {
    let (moto, account) = enforced_account();
    let mut options = options(&moto.endpoint);
    options.base_credentials = Some(account.user_key("role-assumer"));
    let credentials = AwsCredentials {
        role_arn: Some(account.arn("roles", "no-access-role")),
        ..Default::default()
    };

    let (result, _) = sync(&credentials, &options).await;
    let error = result.expect_err("the role has no IAM permissions");

    assert_eq!(error.status, IntegrationStatus::AccessDenied);
    assert_eq!(
        error.message,
        format!(
            "AccessDenied on iam:GetAccountAuthorizationDetails: attach the AWS managed policy \
             IAMReadOnlyAccess to the role `no-access-role` \
             (arn:aws:sts::{}:assumed-role/no-access-role/muster-sync)",
            account.account_id()
        )
    );
}

#[tokio::test]
async fn iam_read_only_access_syncs_fully() {
    let (moto, account) = enforced_account();
    let key = account.user_key("muster-reader");

    let (result, _) = sync(&access_key(&key), &options(&moto.endpoint)).await;
    let inventory = result.expect("IAMReadOnlyAccess must be enough for a full sync");

    assert_fixture_inventory(&inventory, &account);
    assert_eq!(inventory.warnings, Vec::<String>::new());
    let reader = &entity(
        &inventory,
        EntityType::Identity,
        &account.arn("users", "muster-reader"),
    )
    .metadata;
    assert_eq!(
        reader["AccessKeys"][0]["AccessKeyId"],
        key.access_key_id.as_str()
    );
}

#[tokio::test]
async fn no_iam_permissions_is_access_denied() {
    let (moto, account) = enforced_account();
    let key = account.user_key("no-permissions");

    let (result, _) = sync(&access_key(&key), &options(&moto.endpoint)).await;
    let error = result.expect_err("a user without IAM permissions cannot sync");

    assert_eq!(error.status, IntegrationStatus::AccessDenied);
    assert_eq!(error.code, "aws.access_denied");
    assert_eq!(
        error.message,
        format!(
            "AccessDenied on iam:GetAccountAuthorizationDetails: attach the AWS managed policy \
             IAMReadOnlyAccess to {}",
            account.arn("users", "no-permissions")
        )
    );
    assert_no_secret(&error, &key);
}

#[tokio::test]
async fn wrong_secret_is_invalid_credentials() {
    let (moto, account) = enforced_account();
    let mut key = account.user_key("muster-reader");
    key.secret_access_key = "wrong-secret-0000000000000000000000000000".into();

    let (result, _) = sync(&access_key(&key), &options(&moto.endpoint)).await;
    let error = result.expect_err("a wrong secret must be rejected");

    assert_eq!(error.status, IntegrationStatus::InvalidCredentials);
    assert_eq!(error.code, "aws.invalid_credentials");
    assert!(
        error.message.starts_with(
            "SignatureDoesNotMatch on sts:GetCallerIdentity: the secret access key is wrong"
        ),
        "{}",
        error.message
    );
    assert_no_secret(&error, &key);
}

#[tokio::test]
async fn unknown_access_key_is_invalid_credentials() {
    let (moto, _account) = enforced_account();
    let key = muster_aws::StaticCredentials {
        access_key_id: FAKE_ACCESS_KEY_ID.into(),
        secret_access_key: FAKE_SECRET.into(),
        session_token: None,
    };

    let (result, _) = sync(&access_key(&key), &options(&moto.endpoint)).await;
    let error = result.expect_err("an unknown key must be rejected");

    assert_eq!(error.status, IntegrationStatus::InvalidCredentials);
    assert!(
        error.message.starts_with(
            "InvalidClientTokenId on sts:GetCallerIdentity: the access key id is not recognised"
        ),
        "{}",
        error.message
    );
    assert_no_secret(&error, &key);
}
