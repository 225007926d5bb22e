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

    /// Output format: table, json, or html (`muster analyze` only). For `muster export`
    /// it is the file to write instead.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub output: Option<String>,

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
    /// Import a CSV file (or AWS authorization details) into an integration or the
    /// tenant. Nothing is applied when a row is invalid, unless --skip-invalid-rows.
    Import(ImportArgs),
    /// Export data in an import format: export then import gives the same data.
    Export(ExportArgs),
    /// Manage API keys of the bulk API.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// List identities with the employee each belongs to.
    Identities(IdentitiesArgs),
}

impl Cli {
    /// The output format, checked: `--output` must be table, json or html, except for
    /// `muster export`, where it names the file to write.
    pub fn format(&self) -> Result<OutputFormat, String> {
        if matches!(self.command, Command::Export(_)) {
            return Ok(OutputFormat::Table);
        }
        match self.output.as_deref() {
            None => Ok(OutputFormat::Table),
            Some(value) => OutputFormat::from_str(value, true)
                .map_err(|_| format!("invalid value `{value}` for --output: expected table, json or html")),
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Format: entities, entity-relations, entitlements, employees, identity-mappings,
    /// business-owners, or aws-authorization-details (the JSON of `aws iam
    /// get-account-authorization-details`).
    pub kind: String,

    /// The file to import.
    pub file: PathBuf,

    /// Integration name or id; required for entities, entity-relations, entitlements
    /// and aws-authorization-details.
    #[arg(long)]
    pub integration: Option<String>,

    /// The credential report CSV that goes with aws-authorization-details.
    #[arg(long, value_name = "FILE")]
    pub credential_report: Option<PathBuf>,

    /// Apply the valid rows and report the invalid ones instead of rejecting the file.
    #[arg(long)]
    pub skip_invalid_rows: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Format: entities, entity-relations, entitlements, employees, identity-mappings or
    /// business-owners.
    pub kind: String,

    /// Integration name or id; required for entities, entity-relations and entitlements.
    #[arg(long)]
    pub integration: Option<String>,

    /// Write to this file instead of standard output (`--output FILE` works too).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Write values exactly as stored, for programs. By default a cell starting with
    /// = + - @ tab or CR gets a leading `'` so spreadsheets do not run it as a formula.
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Issue a key. Its secret is printed once and cannot be shown again.
    Create {
        /// What the key is for, e.g. the program that will use it.
        #[arg(long)]
        name: String,

        /// When the key stops working: a date (YYYY-MM-DD) or a number of days (90d).
        #[arg(long)]
        expires: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key: requests with it get 401 from now on.
    Revoke {
        /// The key id (mk_…).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct IdentitiesArgs {
    /// Which identities: all, unmapped (orphan candidates) or left (employee End Date passed).
    #[arg(long, default_value = "all")]
    pub filter: String,
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
    /// Check that Muster reaches a SCIM integration's server, and show what it supports.
    Test {
        /// Integration name or id.
        integration: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AddIntegration {
    /// An AWS account, read through the IAM API or imported from files.
    Aws(AddAwsArgs),
    /// Any other application: its data arrives as CSV files.
    Custom(AddCustomArgs),
    /// An application read through its SCIM 2.0 server.
    Scim(AddScimArgs),
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("auth").required(true).args(["bearer_token", "username"]))]
pub struct AddScimArgs {
    /// Unique name, e.g. "Okta".
    #[arg(long)]
    pub name: String,

    /// Email of the primary application owner.
    #[arg(long)]
    pub owner: String,

    /// Email of a secondary owner; repeat for several.
    #[arg(long = "secondary-owner")]
    pub secondary_owners: Vec<String>,

    #[arg(long, default_value = "")]
    pub description: String,

    #[command(flatten)]
    pub connection: ScimConnectionArgs,
}

#[derive(Debug, Args, Default)]
pub struct ScimConnectionArgs {
    /// The SCIM server's base URL, e.g. https://example.com/scim/v2.
    #[arg(long)]
    pub base_url: Option<String>,

    /// Bearer token; `-` reads it from standard input.
    #[arg(long, conflicts_with_all = ["username", "password"])]
    pub bearer_token: Option<String>,

    /// User name for basic authentication (with --password).
    #[arg(long, requires = "password")]
    pub username: Option<String>,

    /// Password for basic authentication; `-` reads it from standard input.
    #[arg(long, requires = "username")]
    pub password: Option<String>,

    /// An extra request header as `NAME: VALUE`; repeat for several.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AddCustomArgs {
    /// Unique name, e.g. "Payroll".
    #[arg(long)]
    pub name: String,

    /// Email of the primary application owner.
    #[arg(long)]
    pub owner: String,

    /// Email of a secondary owner; repeat for several.
    #[arg(long = "secondary-owner")]
    pub secondary_owners: Vec<String>,

    #[arg(long, default_value = "")]
    pub description: String,

    /// upload (a person uploads files) or api (a program pushes them with an API key).
    #[arg(long, default_value = "upload", value_parser = ["upload", "api"])]
    pub extraction_type: String,
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

    /// direct (Muster reads the account with the credentials below) or upload (you
    /// import the output of `aws iam get-account-authorization-details`).
    #[arg(long, default_value = "direct", value_parser = ["direct", "upload"])]
    pub extraction_type: String,

    #[command(flatten)]
    pub credentials: AwsCredentialArgs,

    /// For a SCIM integration: a new base URL, or new credentials that replace the old.
    #[command(flatten)]
    pub scim: ScimConnectionArgs,
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

    /// For a SCIM integration: a new base URL, or new credentials that replace the old.
    #[command(flatten)]
    pub scim: ScimConnectionArgs,
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
