//! One module per subcommand group. `run` runs the offline commands (`analyze`,
//! `who-can --file`) without a database, and opens the store for every other command.

mod analyze;
mod api_keys;
mod import_export;
mod integration;
mod inventory;
mod serve;
mod sync;
mod who_can;

use crate::cli::{Cli, Command, OutputFormat};
use muster_service::{Muster, ServiceError, Settings};
use std::process::ExitCode;

/// Runs the parsed command and returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let format = cli.format().map_err(anyhow::Error::msg)?;
    if format == OutputFormat::Html && !matches!(cli.command, Command::Analyze(_)) {
        anyhow::bail!("`--output html` is only available for `muster analyze`; use table or json");
    }
    // Offline commands return here, before any database is opened.
    let command = match cli.command {
        Command::Analyze(args) => return analyze::run(args, format),
        Command::WhoCan(args) => match &args.file {
            Some(file) => return who_can::run_on_file(&args, file, format),
            None => Command::WhoCan(args),
        },
        other => other,
    };

    let settings = Settings {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        secret_key: std::env::var("MUSTER_SECRET_KEY").ok(),
    };
    let muster = Muster::open(&settings).await.map_err(describe)?;

    let result = match command {
        Command::Serve(args) => serve::run(muster.clone(), args).await,
        Command::Integration(command) => integration::run(&muster, command, format).await,
        Command::Sync(args) => sync::run(&muster, args, format).await,
        Command::Entities(command) => inventory::run_entities(&muster, command, format).await,
        Command::SyncRuns(command) => inventory::run_sync_runs(&muster, command, format).await,
        Command::Import(args) => import_export::run_import(&muster, args, format).await,
        Command::Export(args) => import_export::run_export(&muster, args, cli.output.as_deref()).await,
        Command::ApiKey(command) => api_keys::run(&muster, command, format).await,
        Command::Identities(args) => api_keys::run_identities(&muster, args, format).await,
        Command::WhoCan(args) => {
            let integration = args.integration.clone().unwrap_or_default();
            who_can::run_on_integration(&muster, &args, &integration, format).await
        }
        // Handled above without the store.
        Command::Analyze(_) => Ok(ExitCode::SUCCESS),
    };
    muster.store().close().await;
    result
}

/// Turns a service error into a message for the terminal, listing every invalid field
/// under the command-line option that sets it.
pub fn describe(error: ServiceError) -> anyhow::Error {
    match error {
        ServiceError::Validation(errors) => {
            let lines: Vec<String> = errors
                .errors
                .iter()
                .map(|error| format!("  {}: {}", option_for_field(&error.field), error.message))
                .collect();
            anyhow::anyhow!("invalid input:\n{}", lines.join("\n"))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

/// Returns the command-line option that sets a validated field.
fn option_for_field(field: &str) -> String {
    match field {
        "primary_owner" => "--owner".into(),
        "secondary_owners" => "--secondary-owner".into(),
        "session_duration_secs" => "--session-duration".into(),
        "credentials" => "credentials (--role-arn, or --access-key-id with --secret-access-key)".into(),
        "scim_credentials" => "credentials (--bearer-token, or --username with --password)".into(),
        "headers" => "--header".into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}
