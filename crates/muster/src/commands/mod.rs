//! One module per subcommand group; `run` opens the store and dispatches.

mod integration;
mod inventory;
mod serve;
mod sync;

use crate::cli::{Cli, Command};
use muster_service::{Muster, ServiceError, Settings};
use std::process::ExitCode;

/// Runs the parsed command and returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = Settings {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        secret_key: std::env::var("MUSTER_SECRET_KEY").ok(),
    };
    let muster = Muster::open(&settings).await.map_err(describe)?;
    let format = cli.output;

    let result = match cli.command {
        Command::Serve(args) => serve::run(muster.clone(), args).await,
        Command::Integration(command) => integration::run(&muster, command, format).await,
        Command::Sync(args) => sync::run(&muster, args, format).await,
        Command::Entities(command) => inventory::run_entities(&muster, command, format).await,
        Command::SyncRuns(command) => inventory::run_sync_runs(&muster, command, format).await,
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

/// The command-line option that sets a validated field.
fn option_for_field(field: &str) -> String {
    match field {
        "primary_owner" => "--owner".into(),
        "secondary_owners" => "--secondary-owner".into(),
        "session_duration_secs" => "--session-duration".into(),
        "credentials" => "credentials (--role-arn, or --access-key-id with --secret-access-key)".into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}
