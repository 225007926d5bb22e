//! `muster who-can ACTION RESOURCE`: lists the principals allowed an action on a resource,
//! from an authorization-details file or an integration's current snapshot.

use super::analyze::load_file;
use super::describe;
use crate::cli::{OutputFormat, WhoCanArgs};
use crate::output::{self, Table};
use muster_policy::{who_can, Grant, Verdict};
use muster_service::analysis::IntegrationGrants;
use muster_service::Muster;
use std::path::Path;
use std::process::ExitCode;

/// Lists the grants in an authorization-details file, without opening the database.
pub fn run_on_file(args: &WhoCanArgs, file: &Path, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let loaded = load_file(file)?;
    let answer = IntegrationGrants {
        integration: file.display().to_string(),
        grants: who_can(&loaded.account, &args.action, &args.resource, &args.context),
        load_problems: loaded.problems.iter().map(ToString::to_string).collect(),
    };
    print(args, &answer, format)
}

/// Lists the grants in the current snapshot of an integration.
pub async fn run_on_integration(
    muster: &Muster,
    args: &WhoCanArgs,
    integration: &str,
    format: OutputFormat,
) -> anyhow::Result<ExitCode> {
    let answer = muster
        .who_can(
            muster.default_tenant(),
            integration,
            &args.action,
            &args.resource,
            &args.context,
        )
        .await
        .map_err(describe)?;
    print(args, &answer, format)
}

fn print(args: &WhoCanArgs, answer: &IntegrationGrants, format: OutputFormat) -> anyhow::Result<ExitCode> {
    output::print(format, answer, |answer| {
        for problem in &answer.load_problems {
            eprintln!("warning: {problem}");
        }
        if answer.grants.is_empty() {
            println!(
                "No principal in `{}` may perform {} on {}.",
                answer.integration, args.action, args.resource
            );
            return;
        }
        let mut table = Table::new(&["PRINCIPAL", "VERDICT", "STATEMENTS", "CONDITIONS"]);
        for grant in &answer.grants {
            table.row(vec![
                grant.arn.clone(),
                verdict_text(grant).into(),
                grant
                    .statements
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
                if grant.conditions.is_empty() {
                    "-".into()
                } else {
                    grant.conditions.join("; ")
                },
            ]);
        }
        table.print();
    })?;
    Ok(ExitCode::SUCCESS)
}

fn verdict_text(grant: &Grant) -> &'static str {
    match grant.verdict {
        Verdict::Allowed => "allowed",
        Verdict::Conditional => "conditional",
        Verdict::Denied => "denied",
        Verdict::NotAllowed => "not allowed",
    }
}
