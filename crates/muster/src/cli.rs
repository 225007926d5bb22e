//! Command-line definitions. Scripts depend on these names: change them only with care.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "muster",
    version,
    about = "Self-hosted identity governance: who has access to what, and should they?"
)]
pub struct Cli {
    /// Directory for the SQLite database and the credential key file.
    #[arg(long, global = true, env = "MUSTER_DATA_DIR", default_value = muster_service::settings::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,

    /// Database URL: `postgres://USER@HOST/DB` to use PostgreSQL; SQLite in the data
    /// directory when unset.
    #[arg(long, global = true, env = "MUSTER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable tables and text.
    Table,
    /// JSON on standard output, for scripts.
    Json,
    /// One self-contained HTML page (`analyze` only).
    Html,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web UI, the REST API and the sync workers.
    Serve(ServeArgs),
    /// Add, list, show, update and remove integrations.
    #[command(subcommand)]
    Integration(IntegrationCommand),
    /// Read an integration now and store the result as its current snapshot.
    Sync(SyncArgs),
    /// Browse the entities of current snapshots.
    #[command(subcommand)]
    Entities(EntitiesCommand),
    /// Show the history of sync runs.
    #[command(subcommand, name = "sync-runs")]
    SyncRuns(SyncRunsCommand),
    /// Analyse a saved `aws iam get-account-authorization-details` file offline: administrators,
    /// privilege-escalation paths, risks and what each principal can do.
    Analyze(AnalyzeArgs),
    /// List the principals allowed an action on a resource, with the statements that allow it.
    #[command(name = "who-can")]
    WhoCan(WhoCanArgs),
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// JSON file written by `aws iam get-account-authorization-details`.
    pub file: PathBuf,

    /// Write the report to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Leave out principals whose name or ARN matches this pattern (`*` and `?` wildcards);
    /// repeat for several.
    #[arg(long = "exclude-principal", value_name = "PATTERN")]
    pub exclude_principals: Vec<String>,

    /// Ignore policies whose name or ARN matches this pattern; repeat for several.
    #[arg(long = "exclude-policy", value_name = "PATTERN")]
    pub exclude_policies: Vec<String>,

    /// Report no finding that rests on an action matching this pattern, e.g. `s3:Get*`;
    /// repeat for several.
    #[arg(long = "exclude-action", value_name = "PATTERN")]
    pub exclude_actions: Vec<String>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["file", "integration"]))]
pub struct WhoCanArgs {
    /// Action, e.g. `s3:GetObject` (case-insensitive).
    pub action: String,

    /// Resource ARN, e.g. `arn:aws:s3:::bucket/key`, or `*`.
    pub resource: String,

    /// Read the account from a `get-account-authorization-details` JSON file.
    #[arg(long)]
    pub file: Option<PathBuf>,

    /// Use the current snapshot of this AWS integration (name or id).
    #[arg(long)]
    pub integration: Option<String>,

    /// A request context value, e.g. `aws:SourceIp=203.0.113.7`; repeat for several.
    /// Conditions on keys not given make a grant conditional.
    #[arg(long = "context", value_name = "KEY=VALUE", value_parser = parse_context)]
    pub context: Vec<(String, String)>,
}

fn parse_context(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_string(), value.to_string())),
        _ => Err(format!("invalid context `{text}`: expected KEY=VALUE, e.g. aws:SourceIp=203.0.113.7")),
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. The default accepts connections from this machine only.
    #[arg(long, env = "MUSTER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Number of background workers that execute queued syncs.
    #[arg(long, env = "MUSTER_WORKERS", default_value_t = 2)]
    pub workers: usize,
}

#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Add an integration.
    #[command(subcommand)]
    Add(AddIntegration),
    /// List integrations with their status.
    List,
    /// Show one integration by name or id.
    Show {
        /// Integration name or id.
        integration: String,
    },
    /// Change an integration's fields or credentials.
    Update(UpdateArgs),
    /// Remove an integration with all its snapshots and sync history.
    Remove {
        /// Integration name or id.
        integration: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AddIntegration {
    /// An AWS account, read directly through the IAM API.
    Aws(AddAwsArgs),
}

#[derive(Debug, Args)]
pub struct AddAwsArgs {
    /// Unique name, e.g. "AWS production".
    #[arg(long)]
    pub name: String,

    /// Email of the primary application owner, who reviews this account's access.
    #[arg(long)]
    pub owner: String,

    /// Email of a secondary owner; repeat for several.
    #[arg(long = "secondary-owner")]
    pub secondary_owners: Vec<String>,

    /// Free text shown with the integration, e.g. what the account is for.
    #[arg(long, default_value = "")]
    pub description: String,

    #[command(flatten)]
    pub credentials: AwsCredentialArgs,
}

#[derive(Debug, Args, Default)]
pub struct AwsCredentialArgs {
    /// IAM role for Muster to assume with sts:AssumeRole. Wins over an access key.
    #[arg(long)]
    pub role_arn: Option<String>,

    /// External ID the role's trust policy requires (sts:ExternalId).
    #[arg(long)]
    pub external_id: Option<String>,

    /// Role session length in seconds, 900 to 43200 (12 hours). Default 3600.
    #[arg(long)]
    pub session_duration: Option<u32>,

    /// Access key id of an IAM user, used when no role ARN is given.
    #[arg(long)]
    pub access_key_id: Option<String>,

    /// Secret access key of that IAM user. `-` reads it from standard input, which keeps
    /// it out of the shell history and the process list.
    #[arg(long)]
    pub secret_access_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Integration name or id.
    pub integration: String,

    /// New name.
    #[arg(long)]
    pub name: Option<String>,

    /// New description.
    #[arg(long)]
    pub description: Option<String>,

    /// New primary owner email.
    #[arg(long)]
    pub owner: Option<String>,

    /// Replaces the secondary owners; repeat for several.
    #[arg(long = "secondary-owner")]
    pub secondary_owners: Vec<String>,

    /// Removes every secondary owner.
    #[arg(long, conflicts_with = "secondary_owners")]
    pub clear_secondary_owners: bool,

    /// A new role ARN or access key replaces all stored credentials; a lone external ID
    /// or session duration changes only that value.
    #[command(flatten)]
    pub credentials: AwsCredentialArgs,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Integration name or id.
    pub integration: String,
}

#[derive(Debug, Subcommand)]
pub enum EntitiesCommand {
    /// List entities of an integration's current snapshot.
    List(ListEntitiesArgs),
    /// Show one entity with its relations in both directions.
    Show {
        /// Entity id, as `entities list` prints it.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct ListEntitiesArgs {
    /// Integration name or id; all integrations when omitted.
    #[arg(long)]
    pub integration: Option<String>,

    /// Entity type.
    #[arg(long = "type", value_parser = ["identity", "connection", "resource"])]
    pub entity_type: Option<String>,

    /// Source type, e.g. user, group, role, policy, inline-policy, account.
    #[arg(long)]
    pub source_type: Option<String>,

    /// Case-insensitive text to find in the name or source id.
    #[arg(long)]
    pub search: Option<String>,

    /// Maximum entities to print (at most 500).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,

    /// Entities to skip, for paging.
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
}

#[derive(Debug, Subcommand)]
pub enum SyncRunsCommand {
    /// List sync runs, newest first.
    List {
        /// Integration name or id; all integrations when omitted.
        #[arg(long)]
        integration: Option<String>,

        /// Maximum runs to print.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}
