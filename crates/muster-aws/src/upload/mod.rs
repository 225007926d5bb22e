//! The offline path: builds an account's inventory from uploaded files instead of AWS
//! calls. The files are the JSON of `aws iam get-account-authorization-details` and,
//! optionally, the credential report CSV.
//!
//! The files are converted into the same [`AccountData`] a direct sync collects and
//! mapped by the same code. The upload has no caller identity, no `iam:ListRoles`, no
//! per-user access key or MFA calls and no `iam:GetPolicy` for policies missing from the
//! file. Those facts stay `null` in the metadata, and warnings on the inventory name the
//! unknown ones.

mod details;
mod json;

use crate::fetch::authorization::AuthorizationDetails;
use crate::fetch::credential_report::{parse_credential_report, CredentialReport};
use crate::map::{self, AccountData};
use crate::{UploadError, UploadedFile};
use details::{parse_authorization_details, UploadedDetails, GROUPS, POLICIES, ROLES, USERS};
use muster_domain::Inventory;
use std::collections::HashSet;

/// Reason recorded for a referenced managed policy that the uploaded file lacks.
const NOT_IN_FILE: &str = "it is not in the uploaded authorization details";

pub(crate) fn inventory_from_authorization_details(
    details_json: &[u8],
    credential_report_csv: Option<&[u8]>,
) -> Result<Inventory, UploadError> {
    let UploadedDetails { details, truncated } = parse_authorization_details(details_json)
        .map_err(|message| UploadError {
            file: UploadedFile::AuthorizationDetails,
            code: "aws_upload.invalid_authorization_details".into(),
            message,
        })?;
    let account = find_account(&details)?;

    let credential_report = credential_report_csv
        .map(|csv_text| read_credential_report(csv_text, &account))
        .transpose()?;

    let mut data = AccountData {
        account_id: account.id,
        partition: account.partition,
        caller_arn: None,
        details,
        role_listings: None,
        credential_report,
        ..Default::default()
    };
    let listed: HashSet<&str> = data
        .details
        .policies
        .iter()
        .filter_map(|policy| policy.arn())
        .collect();
    data.unavailable_policies = map::referenced_policy_arns(&data.details)
        .into_iter()
        .filter(|arn| !listed.contains(arn.as_str()))
        .map(|arn| (arn, NOT_IN_FILE.to_string()))
        .collect();

    let mut warnings = unknown_fact_warnings(&data, truncated);
    let mut inventory = map::build_inventory(&data);
    warnings.append(&mut inventory.warnings);
    inventory.warnings = warnings;
    inventory.validate().map_err(|problem| UploadError {
        file: UploadedFile::AuthorizationDetails,
        code: "aws_upload.invalid_inventory".into(),
        message: format!("the file could not be turned into a valid snapshot: {problem}"),
    })?;
    tracing::info!(
        entities = inventory.entities.len(),
        relations = inventory.relations.len(),
        warnings = inventory.warnings.len(),
        "built the inventory from uploaded authorization details"
    );
    Ok(inventory)
}

/// The account an upload describes, read from the ARNs in the file.
#[derive(Debug, PartialEq, Eq)]
struct Account {
    id: String,
    partition: String,
}

/// Reads the partition and the account id of an IAM ARN
/// (`arn:<partition>:iam::<account>:<resource>`).
fn split_arn(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(_)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    (!partition.is_empty()).then_some((partition, account))
}

/// Finds the one account whose users, groups, roles and customer managed policies the
/// file lists. AWS managed policies (account `aws`) name no account.
fn find_account(details: &AuthorizationDetails) -> Result<Account, UploadError> {
    let error = |code: &str, message: String| UploadError {
        file: UploadedFile::AuthorizationDetails,
        code: code.into(),
        message,
    };
    let arns = with_paths(USERS, details.users.iter().map(|user| user.arn()))
        .chain(with_paths(
            GROUPS,
            details.groups.iter().map(|group| group.arn()),
        ))
        .chain(with_paths(
            ROLES,
            details.roles.iter().map(|role| role.arn()),
        ))
        .chain(with_paths(
            POLICIES,
            details.policies.iter().map(|policy| policy.arn()),
        ));

    let mut found: Option<(Account, String)> = None;
    for (path, arn) in arns {
        let Some(arn) = arn else { continue };
        let Some((partition, account_id)) = split_arn(arn) else {
            return Err(error(
                "aws_upload.invalid_arn",
                format!("{path}: `{arn}` is not an IAM ARN"),
            ));
        };
        if account_id == "aws" {
            continue;
        }
        if account_id.len() != 12 || !account_id.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(error(
                "aws_upload.invalid_arn",
                format!("{path}: `{arn}` does not name a 12-digit account id"),
            ));
        }
        let account = Account {
            id: account_id.to_string(),
            partition: partition.to_string(),
        };
        match &found {
            None => found = Some((account, path)),
            Some((first, first_path)) if *first != account => {
                return Err(error(
                    "aws_upload.mixed_accounts",
                    format!(
                        "{first_path} is in account {} (partition {}) but {path} is in account \
                         {} (partition {}); upload the authorization details of one account",
                        first.id, first.partition, account.id, account.partition
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    found.map(|(account, _)| account).ok_or_else(|| {
        error(
            "aws_upload.no_account",
            format!(
                "the file has no user, group, role or customer managed policy ARN, so its \
                 account is unknown; expected the output of `aws iam \
                 get-account-authorization-details` for an account with at least one of them \
                 in {USERS}, {GROUPS}, {ROLES} or {POLICIES}"
            ),
        )
    })
}

/// Pairs each ARN of the top-level list `list` with its JSON path, e.g. `Policies[3].Arn`.
fn with_paths<'a>(
    list: &'static str,
    arns: impl Iterator<Item = Option<&'a str>>,
) -> impl Iterator<Item = (String, Option<&'a str>)> {
    arns.enumerate()
        .map(move |(index, arn)| (format!("{list}[{index}].Arn"), arn))
}

/// Parses the report and checks that its users belong to the account of the details.
fn read_credential_report(
    csv_text: &[u8],
    account: &Account,
) -> Result<CredentialReport, UploadError> {
    let error = |code: &str, message: String| UploadError {
        file: UploadedFile::CredentialReport,
        code: code.into(),
        message,
    };
    let report = parse_credential_report(csv_text).map_err(|problem| {
        error(
            "aws_upload.invalid_credential_report",
            format!(
                "{problem}; expected the decoded CSV of `aws iam get-credential-report --query \
                 Content --output text | base64 -d`"
            ),
        )
    })?;
    for row in report.users.values().chain(report.root.as_ref()) {
        let Some((partition, account_id)) = split_arn(&row.arn) else {
            return Err(error(
                "aws_upload.invalid_credential_report",
                format!(
                    "the row of user `{}` has `{}` as ARN, which is not an IAM ARN",
                    row.user, row.arn
                ),
            ));
        };
        if account_id != account.id || partition != account.partition {
            return Err(error(
                "aws_upload.mixed_accounts",
                format!(
                    "the credential report is of account {account_id} (user `{}`), but the \
                     authorization details are of account {}",
                    row.user, account.id
                ),
            ));
        }
    }
    Ok(report)
}

/// Warnings for the facts a direct sync reads and an upload cannot know.
fn unknown_fact_warnings(data: &AccountData, truncated: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    if truncated {
        warnings.push(
            "the authorization details are one truncated page (IsTruncated is true), so the \
             users, groups, roles and policies of later pages are missing; export them again \
             without --max-items or --no-paginate"
                .to_string(),
        );
    }
    if !data.details.roles.is_empty() {
        warnings.push(
            "the upload has no iam:ListRoles data, so role descriptions and maximum session \
             durations are unknown"
                .to_string(),
        );
    }
    if data.details.users.is_empty() {
        return warnings;
    }

    let Some(report) = &data.credential_report else {
        warnings.push(
            "no credential report was uploaded, so the console password, MFA and access key \
             facts of every user are unknown"
                .to_string(),
        );
        return warnings;
    };
    let mut unlisted: Vec<&str> = data
        .details
        .users
        .iter()
        .filter_map(|user| user.arn())
        .filter(|arn| !report.users.contains_key(*arn))
        .map(|arn| arn.rsplit('/').next().unwrap_or(arn))
        .collect();
    unlisted.sort_unstable();
    if !unlisted.is_empty() {
        warnings.push(format!(
            "{} user(s) are missing from the credential report, which IAM reuses for up to \
             four hours, so their console password, MFA and access key facts are unknown: {}",
            unlisted.len(),
            unlisted.join(", ")
        ));
    }
    let with_keys_or_mfa = report
        .users
        .values()
        .any(|row| row.has_access_keys() || row.has_mfa());
    if with_keys_or_mfa {
        warnings.push(
            "the upload has no iam:ListAccessKeys or iam:ListMFADevices data, so access key ids \
             and MFA device serial numbers are unknown; key status, rotation and last use come \
             from the credential report"
                .to_string(),
        );
    }
    warnings
}

#[cfg(test)]
mod tests;
