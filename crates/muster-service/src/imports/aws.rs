//! Import of an AWS account from files: the JSON `aws iam
//! get-account-authorization-details` prints and, optionally, the credential report. The
//! result is the snapshot, with its policy analysis, that a direct sync would write.

use super::{ImportFiles, ImportOptions, ImportProblem, ImportReport};
use crate::sync::analyze_in_background;
use crate::{Muster, ServiceError};
use muster_domain::Integration;

impl Muster {
    pub(super) async fn import_authorization_details(
        &self,
        integration: &Integration,
        files: &ImportFiles<'_>,
        options: &ImportOptions,
    ) -> Result<ImportReport, ServiceError> {
        let mut report = ImportReport::new("aws-authorization-details", Some(integration));
        let details = match read_file(files.main).await {
            Ok(bytes) => bytes,
            Err(problem) => {
                report.add_problem(problem);
                return Ok(report);
            }
        };
        let credential_report = match files.credential_report {
            Some(path) => match read_file(path).await {
                Ok(bytes) => Some(bytes),
                Err(problem) => {
                    report.add_problem(problem);
                    return Ok(report);
                }
            },
            None => None,
        };

        let converted = tokio::task::spawn_blocking(move || {
            muster_aws::inventory_from_authorization_details(&details, credential_report.as_deref())
        })
        .await
        .map_err(|error| ServiceError::Analysis {
            message: format!("reading the authorization details stopped: {error}"),
        })?;
        let inventory = match converted {
            Ok(inventory) => inventory,
            Err(error) => {
                report.add_problem(ImportProblem {
                    line: None,
                    column: None,
                    value: None,
                    problem: error.to_string(),
                });
                return Ok(report);
            }
        };

        let run = self.start_import_run(integration, options).await?;
        report.rows_read = inventory.entities.len() as u64;
        let (inventory, analysis) = analyze_in_background(inventory).await;
        match self
            .store
            .complete_sync_run_with_analysis(&run.run, &inventory, analysis.as_ref())
            .await
        {
            Ok(summary) => {
                report.rows_applied = inventory.entities.len() as u64;
                report.warnings = summary.warnings.clone();
                report.snapshot = Some(summary);
                report.applied = true;
                Ok(report)
            }
            Err(error) => Err(self.fail_import_run(&run, error.into()).await),
        }
    }
}

async fn read_file(path: &std::path::Path) -> Result<Vec<u8>, ImportProblem> {
    tokio::fs::read(path).await.map_err(|error| ImportProblem {
        line: None,
        column: None,
        value: None,
        problem: format!("cannot read `{}`: {error}", path.display()),
    })
}
