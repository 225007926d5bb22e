//! `muster integration add|list|show|update|remove`.

use super::describe;
use crate::cli::{AddIntegration, AwsCredentialArgs, IntegrationCommand, OutputFormat, ScimConnectionArgs, UpdateArgs};
use crate::output::{self, or_dash, print_fields, yes_no, Table};
use anyhow::Context;
use muster_domain::{
    App, AwsCredentials, ExtractionType, Integration, IntegrationDraft, IntegrationUpdate, ScimConnection,
    ScimCredentials,
};
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
        IntegrationCommand::Add(AddIntegration::Scim(args)) => {
            let draft = IntegrationDraft {
                app: App::Scim,
                name: args.name,
                description: args.description,
                primary_owner: args.owner,
                secondary_owners: args.secondary_owners,
                extraction_type: ExtractionType::Scim,
                credentials: AwsCredentials::default(),
            };
            let connection = ScimConnection {
                base_url: args.connection.base_url.clone().unwrap_or_default(),
                credentials: scim_credentials_from_args(&args.connection)?,
            };
            let integration = muster
                .add_scim_integration(tenant, draft, connection)
                .await
                .map_err(describe)?;
            output::print(format, &integration, print_added)?;
        }
        IntegrationCommand::Test { integration } => {
            let summary = muster
                .test_scim_connection(tenant, &integration)
                .await
                .map_err(describe)?;
            output::print(format, &summary, |summary| {
                println!("Connected. The server reports:");
                print_fields(&[
                    ("Authentication", summary.authentication_schemes.join(", ")),
                    ("Filter", yes_no(summary.filter_supported)),
                    ("Patch", yes_no(summary.patch_supported)),
                    ("Bulk", yes_no(summary.bulk_supported)),
                    ("Sorting", yes_no(summary.sort_supported)),
                    ("Page size cap", or_dash(summary.page_size_cap.map(|cap| cap.to_string()).as_deref())),
                ]);
            })?;
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
            let scim = &args.scim;
            let scim_given = scim.base_url.is_some()
                || scim.bearer_token.is_some()
                || scim.username.is_some()
                || !scim.headers.is_empty();
            let scim_update = if scim_given {
                let credentials = scim_credentials_from_args(scim)?;
                let any_credentials = credentials.bearer_token.is_some()
                    || credentials.username.is_some()
                    || !credentials.extra_headers.is_empty();
                Some((scim.base_url.clone(), any_credentials.then_some(credentials)))
            } else {
                None
            };
            let update = update_from_args(args)?;
            let mut integration = muster.update_integration(tenant, &target, update).await.map_err(describe)?;
            if let Some((base_url, credentials)) = scim_update {
                integration = muster
                    .update_scim_connection(tenant, &integration.id.to_string(), base_url, credentials)
                    .await
                    .map_err(describe)?;
            }
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
        (App::Scim, _) => println!("Check the connection with: muster integration test {name}, then: muster sync {name}"),
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
    read_named_secret("secret access key")
}

/// Reads one secret line from the terminal without echo, or from piped standard input.
fn read_named_secret(what: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("{what}: "))
            .with_context(|| format!("cannot read the {what} from the terminal"));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("cannot read the {what} from standard input"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub(crate) fn scim_credentials_from_args(args: &ScimConnectionArgs) -> anyhow::Result<ScimCredentials> {
    let secret = |value: &Option<String>, what: &str| -> anyhow::Result<Option<String>> {
        match value.as_deref() {
            Some("-") => read_named_secret(what).map(Some),
            other => Ok(other.map(str::to_string)),
        }
    };
    let mut extra_headers = Vec::new();
    for header in &args.headers {
        let Some((name, value)) = header.split_once(':') else {
            anyhow::bail!("invalid --header `{header}`: expected NAME: VALUE");
        };
        extra_headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(ScimCredentials {
        bearer_token: secret(&args.bearer_token, "bearer token")?,
        username: args.username.clone(),
        password: secret(&args.password, "password")?,
        extra_headers,
    })
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
    ];
    if let Some(scim) = &integration.scim {
        fields.push(("Base URL", scim.base_url.clone()));
        fields.push(("Authentication", scim.auth_method.clone()));
        fields.push(("Bearer token", yes_no(scim.bearer_token)));
        fields.push(("User name", or_dash(scim.username.as_deref())));
        fields.push(("Password", yes_no(scim.password)));
        fields.push(("Extra headers", or_dash(Some(&scim.extra_header_names.join(", ")))));
    } else if integration.app == App::Aws && integration.extraction_type == ExtractionType::Direct {
        fields.push(("Authentication", credentials.auth_method.clone()));
        fields.push(("Role ARN", yes_no(credentials.role_arn)));
        fields.push(("External ID", yes_no(credentials.external_id)));
        if let Some(duration) = credentials.session_duration_secs {
            fields.push(("Session duration", format!("{duration} s")));
        }
        fields.push(("Access key id", yes_no(credentials.access_key_id)));
        fields.push(("Secret access key", yes_no(credentials.secret_access_key)));
    }
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
