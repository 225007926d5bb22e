//! `muster api-key create|list|revoke` and `muster identities`.

use super::describe;
use crate::cli::{ApiKeyCommand, IdentitiesArgs, OutputFormat};
use crate::output::{self, or_dash, Table};
use muster_service::{IdentityFilter, IdentityView, Muster};
use std::process::ExitCode;

pub async fn run(muster: &Muster, command: ApiKeyCommand, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let tenant = muster.default_tenant();
    match command {
        ApiKeyCommand::Create { name, expires } => {
            let issued = muster
                .create_api_key(tenant, &name, expires.as_deref())
                .await
                .map_err(describe)?;
            let shown = serde_json::json!({ "key": issued.key, "secret": issued.secret });
            output::print(format, &shown, |_| {
                println!("Created API key `{}` ({}).", issued.key.name, issued.key.id);
                println!();
                println!("  X-Api-Key-ID: {}", issued.key.id);
                println!("  X-Api-Key-Secret: {}", issued.secret);
                println!();
                println!("Copy the secret now: it is stored only as a hash and cannot be shown again.");
                if let Some(expiry) = &issued.key.expires_at {
                    println!("The key expires at {expiry}.");
                }
            })?;
        }
        ApiKeyCommand::List => {
            let keys = muster.list_api_keys(tenant).await.map_err(describe)?;
            let now = muster_domain::format_timestamp(time::OffsetDateTime::now_utc());
            output::print(format, &keys, |keys| {
                let mut table = Table::new(&["ID", "NAME", "STATE", "CREATED", "EXPIRES", "LAST USED"]);
                for key in keys {
                    table.row(vec![
                        key.id.clone(),
                        key.name.clone(),
                        key.state(&now).to_string(),
                        key.created_at.clone(),
                        or_dash(key.expires_at.as_deref()),
                        or_dash(key.last_used_at.as_deref()),
                    ]);
                }
                table.print();
            })?;
        }
        ApiKeyCommand::Revoke { id } => {
            let key = muster.revoke_api_key(tenant, &id).await.map_err(describe)?;
            output::print(format, &key, |key| {
                println!("Revoked API key `{}` ({}): requests with it now get 401.", key.name, key.id);
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_identities(muster: &Muster, args: IdentitiesArgs, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let tenant = muster.default_tenant();
    let filter: IdentityFilter = args.filter.parse().map_err(anyhow::Error::msg)?;
    let identities = muster.filtered_identities(tenant, filter).await.map_err(describe)?;
    output::print(format, &identities, print_identities)?;
    Ok(ExitCode::SUCCESS)
}

fn print_identities(identities: &Vec<IdentityView>) {
    let mut table = Table::new(&["INTEGRATION", "IDENTITY", "EMAIL", "EMPLOYEE", "RELATION", "MAPPED BY", "FLAG"]);
    for identity in identities {
        let flag = if identity.unmapped {
            "unmapped"
        } else if identity.employee_left {
            "employee left"
        } else {
            ""
        };
        table.row(vec![
            identity.integration_name.clone(),
            identity.name.clone(),
            or_dash(identity.email.as_deref()),
            or_dash(identity.employee.as_ref().map(|e| e.work_email.as_str())),
            or_dash(identity.relation_type.map(|r| r.as_str())),
            or_dash(
                identity
                    .origin
                    .map(|origin| match origin {
                        muster_service::MappingOrigin::Email => "email",
                        muster_service::MappingOrigin::Manual => "hand",
                        muster_service::MappingOrigin::Upload => "upload",
                    }),
            ),
            flag.to_string(),
        ]);
    }
    table.print();
    println!("{} identities.", identities.len());
}
