//! Imports: CSV files (and the AWS authorization-details JSON) uploaded by a person, pushed
//! through the bulk API or given to `muster import`.
//!
//! Every import is all or nothing. Rows stream from the file into one database
//! transaction. If any row has a problem, the transaction is rolled back and the report
//! lists the problems, unless the caller asked to skip invalid rows. Formats of an
//! integration (entities, entity relations, entitlements) write a new snapshot and make it
//! current, so history and diffs work as for a sync. The tenant-wide formats (employees,
//! identity mappings, business owners) change their tables in place.

mod aws;
mod people;
pub(crate) mod snapshot;
mod source;

use crate::{Muster, ServiceError};
use muster_csv::{CsvKind, FileError, FileReport, RowError};
use muster_domain::{Integration, IntegrationStatus, TenantId};
use muster_store::{SnapshotSummary, SyncRun};
use serde::Serialize;
use std::path::Path;

/// Problems listed in a report; more are counted but not listed.
pub const MAX_LISTED_PROBLEMS: usize = 1_000;

/// How to run an import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Apply the valid rows and report the others instead of rejecting the file.
    pub skip_invalid_rows: bool,
    /// Origin of the import, `cli`, `ui` or `api`, recorded on the sync run.
    pub trigger: String,
}

/// How far an import has got.
#[derive(Clone, Copy, Debug)]
pub struct ImportProgress {
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub rows: u64,
}

/// One problem found in the file, as the report lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    /// The physical line of the row, when the problem belongs to one.
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
    /// The problem and the value expected instead.
    pub problem: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}")?;
        } else {
            f.write_str("file")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", {}", muster_csv::column_label(column))?;
        }
        if let Some(value) = &self.value {
            write!(f, ", value `{value}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl From<RowError> for ImportProblem {
    fn from(error: RowError) -> Self {
        ImportProblem {
            line: Some(error.line),
            column: error.column,
            value: error.value,
            problem: error.problem,
        }
    }
}

impl From<FileError> for ImportProblem {
    fn from(error: FileError) -> Self {
        ImportProblem {
            line: error.line,
            column: error.column,
            value: None,
            problem: error.problem,
        }
    }
}

/// The encoding and delimiter the file was read with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileDescription {
    pub encoding: String,
    /// `,`, `;`, `tab` or `|`.
    pub delimiter: String,
    /// `sep= line`, `detected` or `default`.
    pub delimiter_source: String,
    pub ignored_columns: Vec<String>,
}

impl From<&FileReport> for FileDescription {
    fn from(report: &FileReport) -> Self {
        FileDescription {
            encoding: report.encoding.to_string(),
            delimiter: match report.delimiter {
                '\t' => "tab".to_string(),
                other => other.to_string(),
            },
            delimiter_source: report.delimiter_source.to_string(),
            ignored_columns: report.ignored_columns.clone(),
        }
    }
}

/// The outcome of an import: what was read, what was applied, every problem (up to
/// [`MAX_LISTED_PROBLEMS`]).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub kind: String,
    pub integration_id: Option<String>,
    /// Whether anything was written. `false` means the data is as it was before.
    pub applied: bool,
    pub file: FileDescription,
    pub rows_read: u64,
    pub rows_applied: u64,
    pub rows_skipped: u64,
    pub blank_lines: u64,
    /// Problems found, including those not listed.
    pub problem_count: u64,
    pub problems: Vec<ImportProblem>,
    pub warnings: Vec<String>,
    /// The snapshot the import made current, for the formats of an integration.
    pub snapshot: Option<SnapshotSummary>,
    /// Counts of what changed, for the tenant-wide formats (e.g. employees added).
    pub changes: Option<serde_json::Value>,
    /// Reading stopped before the end of the file, so nothing may be applied, even when
    /// invalid rows are to be skipped: the rows after the stop were never checked.
    #[serde(skip)]
    read_stopped: bool,
}

impl ImportReport {
    /// Returns whether the problems found still allow applying the rows that passed.
    fn tolerates_problems(&self, options: &ImportOptions) -> bool {
        !self.read_stopped && (self.problem_count == 0 || options.skip_invalid_rows)
    }

    fn new(kind: &str, integration: Option<&Integration>) -> Self {
        ImportReport {
            kind: kind.to_string(),
            integration_id: integration.map(|i| i.id.to_string()),
            ..ImportReport::default()
        }
    }

    /// Records that reading stopped before the end of the file.
    fn stop_reading(&mut self) {
        self.read_stopped = true;
        self.add_problem(ImportProblem {
            line: None,
            column: None,
            value: None,
            problem: "reading stopped before the end of the file (see the problem above), so nothing was applied, \
                      even with --skip-invalid-rows: the rows after it were never checked"
                .into(),
        });
    }

    fn add_problem(&mut self, problem: ImportProblem) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(problem);
        }
    }

    fn add_row_errors(&mut self, errors: Vec<RowError>) {
        self.rows_skipped += 1;
        for error in errors {
            self.add_problem(error.into());
        }
    }

    /// Returns one line for a status message: the count and the first problem.
    pub fn summary(&self) -> String {
        match self.problems.first() {
            Some(first) => format!(
                "{} problem{} in the {} file; first: {first}",
                self.problem_count,
                if self.problem_count == 1 { "" } else { "s" },
                self.kind
            ),
            None => format!("{} rows applied", self.rows_applied),
        }
    }
}

/// Format of an import: a CSV format, or AWS's authorization details.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportKind {
    Csv(CsvKind),
    /// The JSON `aws iam get-account-authorization-details` prints, for an AWS integration
    /// of extraction type `upload`.
    AwsAuthorizationDetails,
}

impl ImportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Csv(kind) => kind.as_str(),
            ImportKind::AwsAuthorizationDetails => "aws-authorization-details",
        }
    }

    /// Returns whether the format belongs to one integration rather than the whole tenant.
    pub fn needs_integration(self) -> bool {
        match self {
            ImportKind::Csv(kind) => matches!(
                kind,
                CsvKind::Entities | CsvKind::EntityRelations | CsvKind::Entitlements
            ),
            ImportKind::AwsAuthorizationDetails => true,
        }
    }
}

impl std::str::FromStr for ImportKind {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let normalized = value.trim().to_ascii_lowercase();
        if matches!(
            normalized.as_str(),
            "aws-authorization-details" | "authorization-details" | "aws"
        ) {
            return Ok(ImportKind::AwsAuthorizationDetails);
        }
        value.parse::<CsvKind>().map(ImportKind::Csv).map_err(|_| {
            let mut names: Vec<&str> = CsvKind::ALL.iter().map(|kind| kind.as_str()).collect();
            names.push("aws-authorization-details");
            format!("unknown import format `{value}`: expected one of {}", names.join(", "))
        })
    }
}

/// The files of one import.
#[derive(Clone, Debug)]
pub struct ImportFiles<'a> {
    pub main: &'a Path,
    /// The credential report CSV that may come with AWS authorization details.
    pub credential_report: Option<&'a Path>,
}

impl Muster {
    /// Imports `files` as `kind`. A file the format rejects gives `Ok` with a report whose
    /// `applied` is false. Errors are for what is not the file's fault: an unknown
    /// integration, a wrong extraction type, a storage failure.
    pub async fn import(
        &self,
        tenant: &TenantId,
        kind: ImportKind,
        integration: Option<&str>,
        files: ImportFiles<'_>,
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, ServiceError> {
        if !kind.needs_integration() {
            return match kind {
                ImportKind::Csv(CsvKind::Employees) => self.import_employees(tenant, files.main, options, progress).await,
                ImportKind::Csv(CsvKind::IdentityMappings) => {
                    self.import_identity_mappings(tenant, files.main, options, progress).await
                }
                _ => self.import_business_owners(tenant, files.main, options, progress).await,
            };
        }

        let Some(reference) = integration else {
            return Err(ServiceError::validation(
                "integration",
                format!("the {} format belongs to one integration: name it", kind.as_str()),
            ));
        };
        let integration = self.store.find_integration(tenant, reference).await?;
        check_receives_files(&integration, kind)?;
        match kind {
            ImportKind::Csv(CsvKind::Entities) => self.import_entities(&integration, files.main, options, progress).await,
            ImportKind::Csv(CsvKind::EntityRelations) => {
                self.import_relations(&integration, files.main, options, progress).await
            }
            ImportKind::Csv(_) => self.import_entitlements(&integration, files.main, options, progress).await,
            ImportKind::AwsAuthorizationDetails => self.import_authorization_details(&integration, &files, options).await,
        }
    }

    /// Starts the run an import of an integration's snapshot records itself as. Then reads
    /// the integration again, because only now can no other import change it, so the
    /// import builds on the current snapshot rather than one replaced in the meantime.
    async fn start_import_run(&self, integration: &Integration, options: &ImportOptions) -> Result<ImportRun, ServiceError> {
        let run = self
            .store
            .start_sync_run(&integration.tenant_id, &integration.id, &options.trigger, &crate::sync::worker_name())
            .await?;
        let heartbeat = tokio::spawn(crate::sync::renew_lease(self.store.clone(), run.clone()));
        let mut import_run = ImportRun {
            run,
            integration: integration.clone(),
            heartbeat,
        };
        match self.store.find_integration(&integration.tenant_id, integration.id.as_str()).await {
            Ok(current) => import_run.integration = current,
            Err(error) => return Err(self.fail_import_run(&import_run, error.into()).await),
        }
        Ok(import_run)
    }

    /// Records on the run that the import failed (storage, or the file could not be read).
    /// The previous snapshot stays current. Returns the error to pass on.
    async fn fail_import_run(&self, run: &ImportRun, error: ServiceError) -> ServiceError {
        let message = format!("Upload failed: {error}");
        if let Err(recording) = self
            .store
            .fail_sync_run(&run.run, IntegrationStatus::SyncFailed, "upload.failed", &message)
            .await
        {
            tracing::warn!(run_id = %run.run.id, error = %recording, "failed to record the import's failure on its run, so the run stays running until its lease expires");
        }
        error
    }

    /// Records a rejected import on its run; the previous snapshot stays current.
    async fn reject_import_run(&self, run: &ImportRun, report: &ImportReport) -> Result<(), ServiceError> {
        let run = &run.run;
        let message = format!("Upload rejected: {}", report.summary());
        self.store
            .fail_sync_run(run, IntegrationStatus::SyncFailed, "upload.rejected", &message)
            .await?;
        tracing::info!(integration_id = %run.integration_id, run_id = %run.id, problems = report.problem_count, "import rejected");
        Ok(())
    }
}

/// The run of an import in progress. Its lease is renewed until the value is dropped, so
/// an import longer than the lease is not treated as abandoned.
pub(super) struct ImportRun {
    pub(super) run: SyncRun,
    /// The integration as read after the run started.
    pub(super) integration: Integration,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Drop for ImportRun {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// Checks that `integration` takes files of `kind`: it must receive files, an AWS account
/// takes only its authorization details, and those go only to an AWS account.
pub fn check_receives_files(integration: &Integration, kind: ImportKind) -> Result<(), ServiceError> {
    if !integration.extraction_type.receives_files() {
        return Err(ServiceError::Conflict {
            field: "integration",
            message: format!(
                "integration `{}` reads its data directly (extraction type `{}`): files can be imported only into integrations of extraction type `upload` or `api`",
                integration.name,
                integration.extraction_type.as_str()
            ),
        });
    }
    if integration.app == muster_domain::App::Aws && kind != ImportKind::AwsAuthorizationDetails {
        return Err(ServiceError::Conflict {
            field: "integration",
            message: format!(
                "`{}` is an AWS account: it takes the JSON of `aws iam get-account-authorization-details` (format aws-authorization-details), not {} CSV files, which would replace its IAM data",
                integration.name,
                kind.as_str()
            ),
        });
    }
    if kind == ImportKind::AwsAuthorizationDetails && integration.app != muster_domain::App::Aws {
        return Err(ServiceError::Conflict {
            field: "integration",
            message: format!(
                "AWS authorization details can be imported only into an AWS integration; `{}` is a {}",
                integration.name,
                integration.app.display_name()
            ),
        });
    }
    Ok(())
}
