//! `muster integration add|list|show|update|remove`.

use super::describe;
use crate::cli::{AddIntegration, AwsCredentialArgs, IntegrationCommand, OutputFormat, UpdateArgs};
use crate::output::{self, or_dash, print_fields, yes_no, Table};
use anyhow::Context;
use muster_domain::{App, AwsCredentials, ExtractionType, Integration, IntegrationDraft, IntegrationUpdate};
use muster_service::Muster;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

pub async fn run(muster: &Muster, command: IntegrationCommand, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let tenant = muster.default_tenant();
    match command {
        IntegrationCommand::Add(AddIntegration::Aws(args)) => {
            let draft = IntegrationDraft {
                app: App::Aws,
                name: args.name,
                description: args.description,
                primary_owner: args.owner,
                secondary_owners: args.secondary_owners,
                extraction_type: parse_extraction_type(&args.extraction_type)?,
                credentials: credentials_from_args(args.credentials)?,
            };
            let integration = muster.add_integration(tenant, draft).await.map_err(describe)?;
            output::print(format, &integration, print_added)?;
        }
        IntegrationCommand::Add(AddIntegration::Custom(args)) => {
            let draft = IntegrationDraft {
                app: App::Custom,
                name: args.name,
                description: args.description,
                primary_owner: args.owner,
                secondary_owners: args.secondary_owners,
                extraction_type: parse_extraction_type(&args.extraction_type)?,
                credentials: AwsCredentials::default(),
            };
            let integration = muster.add_integration(tenant, draft).await.map_err(describe)?;
            output::print(format, &integration, print_added)?;
        }
        IntegrationCommand::List => {
            let integrations = muster.list_integrations(tenant).await.map_err(describe)?;
            output::print(format, &integrations, print_integration_table)?;
        }
        IntegrationCommand::Show { integration } => {
            let integration = muster.find_integration(tenant, &integration).await.map_err(describe)?;
            output::print(format, &integration, print_integration)?;
        }
        IntegrationCommand::Update(args) => {
            let target = args.integration.clone();
            let update = update_from_args(args)?;
            let integration = muster.update_integration(tenant, &target, update).await.map_err(describe)?;
            output::print(format, &integration, |integration| {
                println!("Updated integration `{}` ({}).", integration.name, integration.id);
            })?;
        }
        IntegrationCommand::Remove { integration } => {
            let removed = muster.remove_integration(tenant, &integration).await.map_err(describe)?;
            output::print(format, &removed, |removed| {
                println!("Removed integration `{}` ({}) with its snapshots and sync history.", removed.name, removed.id);
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_extraction_type(value: &str) -> anyhow::Result<ExtractionType> {
    value.parse().map_err(|message: String| anyhow::anyhow!(message))
}

fn print_added(integration: &Integration) {
    println!("Added integration `{}` ({}).", integration.name, integration.id);
    let name = shell_word(&integration.name);
    match (integration.app, integration.extraction_type) {
        (App::Aws, ExtractionType::Upload) => println!(
            "Import the account with: aws iam get-account-authorization-details > details.json && muster import aws-authorization-details details.json --integration {name}"
        ),
        (_, ExtractionType::Api) => println!(
            "Push files with an API key (muster api-key create --name NAME), or import them with: muster import entities FILE --integration {name}"
        ),
        (_, ExtractionType::Upload) => {
            println!("Import its data with: muster import entities FILE --integration {name}, then entity-relations")
        }
        _ => println!("Read the account now with: muster sync {name}"),
    }
}

fn credentials_from_args(args: AwsCredentialArgs) -> anyhow::Result<AwsCredentials> {
    let secret_access_key = match args.secret_access_key.as_deref() {
        Some("-") => Some(read_secret_from_stdin()?),
        _ => args.secret_access_key,
    };
    Ok(AwsCredentials {
        role_arn: args.role_arn,
        external_id: args.external_id,
        session_duration_secs: args.session_duration,
        access_key_id: args.access_key_id,
        secret_access_key,
    })
}

fn read_secret_from_stdin() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Secret access key: ")
            .context("cannot read the secret access key from the terminal");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the secret access key from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn update_from_args(args: UpdateArgs) -> anyhow::Result<IntegrationUpdate> {
    let secondary_owners = if args.clear_secondary_owners {
        Some(Vec::new())
    } else if args.secondary_owners.is_empty() {
        None
    } else {
        Some(args.secondary_owners)
    };
    let credentials = credentials_from_args(args.credentials)?;
    let credentials = (credentials != AwsCredentials::default()).then_some(credentials);
    Ok(IntegrationUpdate {
        name: args.name,
        description: args.description,
        primary_owner: args.owner,
        secondary_owners,
        credentials,
    })
}

fn print_integration_table(integrations: &Vec<Integration>) {
    if integrations.is_empty() {
        println!("No integrations yet. Connect an AWS account with:");
        println!("  muster integration add aws --name NAME --owner EMAIL --role-arn ARN --external-id ID");
        return;
    }
    let mut table = Table::new(&["ID", "NAME", "APP", "EXTRACTION", "STATUS", "LAST SYNC", "MESSAGE"]);
    for integration in integrations {
        table.row(vec![
            integration.id.to_string(),
            integration.name.clone(),
            integration.app.as_str().to_string(),
            integration.extraction_type.as_str().to_string(),
            integration.status.to_string(),
            or_dash(integration.last_sync_at.as_deref()),
            integration.message.clone(),
        ]);
    }
    table.print();
}

fn print_integration(integration: &Integration) {
    let credentials = &integration.credentials;
    let mut fields = vec![
        ("ID", integration.id.to_string()),
        ("Name", integration.name.clone()),
        ("Application", integration.app.display_name().to_string()),
        ("Description", or_dash(Some(&integration.description))),
        ("Primary owner", integration.primary_owner.clone()),
        ("Secondary owners", or_dash(Some(&integration.secondary_owners.join(", ")))),
        ("Extraction type", integration.extraction_type.as_str().to_string()),
        ("Status", integration.status.to_string()),
        ("Message", integration.message.clone()),
        ("Last sync", or_dash(integration.last_sync_at.as_deref())),
        ("Authentication", credentials.auth_method.clone()),
        ("Role ARN", yes_no(credentials.role_arn)),
        ("External ID", yes_no(credentials.external_id)),
    ];
    if let Some(duration) = credentials.session_duration_secs {
        fields.push(("Session duration", format!("{duration} s")));
    }
    fields.push(("Access key id", yes_no(credentials.access_key_id)));
    fields.push(("Secret access key", yes_no(credentials.secret_access_key)));
    print_fields(&fields);
}

/// Quotes a name for a shell command line when it contains anything but safe characters.
fn shell_word(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
