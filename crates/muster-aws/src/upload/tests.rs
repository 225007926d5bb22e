//! Uploads of small hand-written files: what they map to and how bad input is reported.

use super::*;
use muster_domain::EntityType;
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";

/// Returns a small account in the shape awscli prints.
fn details() -> Value {
    json!({
        "UserDetailList": [{
            "Path": "/",
            "UserName": "alice",
            "UserId": "AIDAALICE",
            "Arn": "arn:aws:iam::123456789012:user/alice",
            "CreateDate": "2024-01-02T03:04:05+00:00",
            "UserPolicyList": [{
                "PolicyName": "notes",
                "PolicyDocument": {"Version": "2012-10-17",
                    "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
            }],
            "GroupList": ["admins"],
            "AttachedManagedPolicies": [],
            "Tags": [{"Key": "team", "Value": "platform"}]
        }],
        "GroupDetailList": [{
            "Path": "/",
            "GroupName": "admins",
            "GroupId": "AGPAADMINS",
            "Arn": "arn:aws:iam::123456789012:group/admins",
            "CreateDate": "2024-01-02T03:04:05+00:00",
            "GroupPolicyList": [],
            "AttachedManagedPolicies": [{
                "PolicyName": "AdministratorAccess",
                "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"
            }]
        }],
        "RoleDetailList": [{
            "Path": "/",
            "RoleName": "deploy",
            "RoleId": "AROADEPLOY",
            "Arn": "arn:aws:iam::123456789012:role/deploy",
            "CreateDate": "2024-01-02T03:04:05+00:00",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"},
                "Action": "sts:AssumeRole"
            }]},
            "InstanceProfileList": [],
            "RolePolicyList": [],
            "AttachedManagedPolicies": [{
                "PolicyName": "deploy",
                "PolicyArn": "arn:aws:iam::123456789012:policy/deploy"
            }],
            "PermissionsBoundary": {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/deploy"
            },
            "Tags": [],
            "RoleLastUsed": {"LastUsedDate": "2024-03-01T10:00:00+00:00", "Region": "eu-west-1"}
        }],
        "Policies": [{
            "PolicyName": "deploy",
            "PolicyId": "ANPADEPLOY",
            "Arn": "arn:aws:iam::123456789012:policy/deploy",
            "Path": "/",
            "DefaultVersionId": "v1",
            "AttachmentCount": 1,
            "PermissionsBoundaryUsageCount": 1,
            "IsAttachable": true,
            "CreateDate": "2024-01-02T03:04:05+00:00",
            "UpdateDate": "2024-01-02T03:04:05+00:00",
            "PolicyVersionList": [{
                "Document": {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
                "VersionId": "v1",
                "IsDefaultVersion": true,
                "CreateDate": "2024-01-02T03:04:05+00:00"
            }]
        }]
    })
}

const REPORT_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,\
password_last_changed,password_next_rotation,mfa_active,access_key_1_active,\
access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,\
cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

const ALICE_ROW: &str = "alice,arn:aws:iam::123456789012:user/alice,2024-01-02T03:04:05+00:00,\
true,2024-03-01T10:00:00+00:00,2024-01-02T03:04:05+00:00,N/A,true,true,\
2024-01-02T03:04:06+00:00,2024-03-02T00:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,\
false,N/A,false,N/A";

fn report(rows: &[&str]) -> Vec<u8> {
    format!("{REPORT_HEADER}\n{}\n", rows.join("\n")).into_bytes()
}

fn upload(details: &Value, report: Option<&[u8]>) -> Result<Inventory, UploadError> {
    inventory_from_authorization_details(&serde_json::to_vec(details).unwrap(), report)
}

fn upload_error(details: &Value) -> UploadError {
    upload(details, None).unwrap_err()
}

fn metadata<'a>(inventory: &'a Inventory, source_id: &str) -> &'a Value {
    &inventory
        .entities
        .iter()
        .find(|entity| entity.source_id == source_id)
        .unwrap_or_else(|| panic!("no entity `{source_id}`"))
        .metadata
}

#[test]
fn small_account_maps_like_a_sync() {
    let inventory = upload(&details(), Some(&report(&[ALICE_ROW]))).unwrap();

    assert_eq!(inventory.project.as_deref(), Some(ACCOUNT));
    let account = metadata(&inventory, ACCOUNT);
    assert_eq!(account["Partition"], "aws");
    assert_eq!(account["SyncPrincipalArn"], Value::Null);

    let alice = metadata(&inventory, "arn:aws:iam::123456789012:user/alice");
    assert_eq!(alice["Tags"], json!({"team": "platform"}));
    assert_eq!(alice["CreateDate"], "2024-01-02T03:04:05Z");
    assert_eq!(alice["ConsolePassword"]["Enabled"], true);
    assert_eq!(alice["MFA"]["Active"], true);
    assert_eq!(alice["MFA"]["Devices"], Value::Null);
    assert_eq!(alice["AccessKeys"][0]["LastUsedService"], "s3");
    assert_eq!(alice["AccessKeys"][0]["AccessKeyId"], Value::Null);

    let notes = metadata(
        &inventory,
        "arn:aws:iam::123456789012:user/alice#inline/notes",
    );
    assert_eq!(notes["Document"]["Statement"]["Action"], "s3:GetObject");

    let deploy = metadata(&inventory, "arn:aws:iam::123456789012:role/deploy");
    assert_eq!(
        deploy["TrustPolicy"]["Statement"][0]["Action"],
        "sts:AssumeRole"
    );
    assert_eq!(deploy["LastUsed"]["Region"], "eu-west-1");
    assert_eq!(
        deploy["PermissionsBoundary"],
        "arn:aws:iam::123456789012:policy/deploy"
    );
    assert_eq!(deploy["MaxSessionDuration"], Value::Null);

    let policy = metadata(&inventory, "arn:aws:iam::123456789012:policy/deploy");
    assert_eq!(
        policy["DefaultVersionDocument"]["Statement"][0]["Action"],
        "s3:*"
    );
    assert_eq!(policy["FetchedSeparately"], false);

    let mut privileges: Vec<&str> = inventory
        .relations
        .iter()
        .map(|relation| relation.privilege_name.as_str())
        .collect();
    privileges.sort_unstable();
    assert_eq!(
        privileges,
        [
            "assume",
            "attached",
            "attached",
            "attached",
            "member",
            "permissions-boundary"
        ]
    );
}

#[test]
fn policy_missing_from_file_is_unavailable() {
    let inventory = upload(&details(), Some(&report(&[ALICE_ROW]))).unwrap();

    let admin = inventory
        .entities
        .iter()
        .find(|entity| entity.source_id == "arn:aws:iam::aws:policy/AdministratorAccess")
        .unwrap();
    assert_eq!(admin.entity_type, EntityType::Connection);
    assert_eq!(admin.metadata["Unavailable"], NOT_IN_FILE);
    assert!(
        inventory
            .warnings
            .iter()
            .any(|warning| warning.contains("AdministratorAccess") && warning.contains(NOT_IN_FILE)),
        "{:?}",
        inventory.warnings
    );
}

#[test]
fn unknown_facts_are_warned() {
    let inventory = upload(&details(), None).unwrap();
    let warnings = inventory.warnings.join("\n");
    assert!(warnings.contains("no iam:ListRoles data"), "{warnings}");
    assert!(
        warnings.contains("no credential report was uploaded"),
        "{warnings}"
    );

    let bob = "bob,arn:aws:iam::123456789012:user/bob,2024-01-02T03:04:05+00:00,false,N/A,N/A,\
N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
    let inventory = upload(&details(), Some(&report(&[bob]))).unwrap();
    let warnings = inventory.warnings.join("\n");
    assert!(
        warnings.contains("1 user(s) are missing from the credential report")
            && warnings.contains(": alice"),
        "{warnings}"
    );
    assert!(!warnings.contains("iam:ListAccessKeys"), "{warnings}");
}

#[test]
fn truncated_page_is_warned() {
    let mut details = details();
    details["IsTruncated"] = json!(true);
    details["Marker"] = json!("next");
    let inventory = upload(&details, None).unwrap();
    assert!(
        inventory.warnings[0].contains("one truncated page"),
        "{:?}",
        inventory.warnings
    );
}

#[test]
fn not_json_is_rejected() {
    let error = inventory_from_authorization_details(b"UserDetailList: []", None).unwrap_err();
    assert_eq!(error.file, UploadedFile::AuthorizationDetails);
    assert!(
        error.message.starts_with("the file is not valid JSON"),
        "{error}"
    );
    assert!(error.message.contains("line 1 column 1"), "{error}");
}

#[test]
fn wrong_shape_is_rejected() {
    let error = upload_error(&json!([1, 2]));
    assert!(
        error.message.starts_with("expected a JSON object"),
        "{error}"
    );

    let error = upload_error(&json!({"Users": []}));
    assert!(
        error.message.contains("has none of UserDetailList"),
        "{error}"
    );

    let error = upload_error(&json!({"UserDetailList": {"Arn": "x"}}));
    assert_eq!(
        error.message,
        "UserDetailList: expected a list, found an object"
    );

    let error = upload_error(&json!({"RoleDetailList": ["arn:aws:iam::123456789012:role/a"]}));
    assert_eq!(
        error.message,
        "RoleDetailList[0]: expected an object, found a string"
    );

    let mut details = details();
    details["UserDetailList"][0]["Tags"][0]["Value"] = json!(7);
    let error = upload_error(&details);
    assert_eq!(
        error.message,
        "UserDetailList[0].Tags[0].Value: expected a string, found a number"
    );

    let mut details = self::details();
    details["Policies"][0]["CreateDate"] = json!("yesterday");
    let error = upload_error(&details);
    assert!(
        error
            .message
            .starts_with("Policies[0].CreateDate: `yesterday`"),
        "{error}"
    );
}

#[test]
fn missing_arn_is_rejected() {
    let mut details = details();
    details["UserDetailList"]
        .as_array_mut()
        .unwrap()
        .push(json!({"UserName": "bob"}));
    let error = upload_error(&details);
    assert_eq!(error.code, "aws_upload.invalid_authorization_details");
    assert_eq!(error.message, "UserDetailList[1].Arn: missing");
    assert_eq!(
        error.to_string(),
        "invalid authorization details: UserDetailList[1].Arn: missing"
    );

    let mut details = self::details();
    details["RoleDetailList"][0]["AttachedManagedPolicies"][0]
        .as_object_mut()
        .unwrap()
        .remove("PolicyArn");
    let error = upload_error(&details);
    assert_eq!(
        error.message,
        "RoleDetailList[0].AttachedManagedPolicies[0].PolicyArn: missing"
    );
}

#[test]
fn account_comes_from_arns() {
    let only_aws_managed = json!({"Policies": [{"Arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]});
    let error = upload_error(&only_aws_managed);
    assert_eq!(error.code, "aws_upload.no_account");

    let mut details = details();
    details["RoleDetailList"][0]["Arn"] = json!("arn:aws:iam::999988887777:role/deploy");
    let error = upload_error(&details);
    assert_eq!(error.code, "aws_upload.mixed_accounts");
    assert!(
        error.message.starts_with(
            "UserDetailList[0].Arn is in account 123456789012 (partition aws) but \
             RoleDetailList[0].Arn is in account 999988887777"
        ),
        "{error}"
    );

    let mut details = self::details();
    details["GroupDetailList"][0]["Arn"] = json!("admins");
    let error = upload_error(&details);
    assert_eq!(
        error.message,
        "GroupDetailList[0].Arn: `admins` is not an IAM ARN"
    );

    let mut details = self::details();
    for list in [
        "UserDetailList",
        "GroupDetailList",
        "RoleDetailList",
        "Policies",
    ] {
        let items = details[list].as_array_mut().unwrap();
        for item in items {
            let arn = item["Arn"]
                .as_str()
                .unwrap()
                .replace("arn:aws:", "arn:aws-cn:");
            item["Arn"] = json!(arn);
        }
    }
    let inventory = upload(&details, None).unwrap();
    assert_eq!(metadata(&inventory, ACCOUNT)["Partition"], "aws-cn");
}

#[test]
fn bad_credential_report_is_rejected() {
    let bytes = serde_json::to_vec(&details()).unwrap();

    let encoded = b"dXNlcixhcm4sdXNlcl9jcmVhdGlvbl90aW1l\n";
    let error = inventory_from_authorization_details(&bytes, Some(encoded)).unwrap_err();
    assert_eq!(error.file, UploadedFile::CredentialReport);
    assert_eq!(error.code, "aws_upload.invalid_credential_report");
    assert!(error.message.contains("no `user` column"), "{error}");
    assert!(error.message.contains("base64 -d"), "{error}");

    let short_row = report(&[ALICE_ROW, "bob,arn:aws:iam::123456789012:user/bob,true"]);
    let error = inventory_from_authorization_details(&bytes, Some(&short_row)).unwrap_err();
    assert!(
        error.message.starts_with("line 3 of the credential report"),
        "{error}"
    );

    let other_account = ALICE_ROW.replace("123456789012", "999988887777");
    let error =
        inventory_from_authorization_details(&bytes, Some(&report(&[&other_account]))).unwrap_err();
    assert_eq!(error.code, "aws_upload.mixed_accounts");
    assert!(
        error
            .message
            .contains("account 999988887777 (user `alice`)"),
        "{error}"
    );
}

#[test]
fn byte_order_marks_are_accepted() {
    let text = serde_json::to_string(&details()).unwrap();

    let mut utf8 = vec![0xEF, 0xBB, 0xBF];
    utf8.extend_from_slice(text.as_bytes());
    assert!(inventory_from_authorization_details(&utf8, None).is_ok());

    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let inventory = inventory_from_authorization_details(&utf16, None).unwrap();
    assert_eq!(inventory.project.as_deref(), Some(ACCOUNT));
}
