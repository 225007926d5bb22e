//! `muster analyze FILE`: analyses a saved `aws iam get-account-authorization-details`
//! file offline and prints a text summary, the analysis as JSON, or an HTML report.

use crate::cli::{AnalyzeArgs, OutputFormat};
use crate::html_report;
use anyhow::Context;
use muster_policy::{analyze_account, AccountAnalysis, AnalysisOptions, Exclusions, LoadedAccount};
use muster_service::analysis::{build_report, AccountReport, PrincipalReport};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: AnalyzeArgs, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let loaded = load_file(&args.file)?;
    let options = AnalysisOptions {
        exclusions: Exclusions {
            principals: args.exclude_principals.clone(),
            policies: args.exclude_policies.clone(),
            actions: args.exclude_actions.clone(),
        },
    };
    let analysis = analyze_account(&loaded.account, &options);
    let problems: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();

    let mut writer: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create the report file `{}`", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };

    match format {
        // A large account's analysis runs to hundreds of megabytes, so it is written as
        // compact JSON straight to the output instead of being built in memory first.
        OutputFormat::Json => {
            let document = AnalysisDocument {
                analysis: &analysis,
                load_problems: &problems,
            };
            serde_json::to_writer(&mut writer, &document)?;
            writer.write_all(b"\n")?;
        }
        OutputFormat::Html => {
            let report = build_report(&loaded.account, &analysis, problems);
            writer.write_all(html_report::render(&report, &source_name(&args.file)).as_bytes())?;
        }
        OutputFormat::Table => {
            let report = build_report(&loaded.account, &analysis, problems);
            writer.write_all(text_summary(&report).as_bytes())?;
        }
    }
    writer.flush().context("cannot write the report")?;

    // The process exits next. Freeing a large account's policies and analysis one
    // allocation at a time would only delay the exit.
    std::mem::forget(analysis);
    std::mem::forget(loaded);
    Ok(ExitCode::SUCCESS)
}

/// The engine's analysis with the problems found while loading the file.
#[derive(serde::Serialize)]
struct AnalysisDocument<'a> {
    #[serde(flatten)]
    analysis: &'a AccountAnalysis,
    load_problems: &'a [String],
}

/// Reads and loads an authorization-details file, naming the file in every error.
pub fn load_file(path: &Path) -> anyhow::Result<LoadedAccount> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        anyhow::anyhow!(
            "cannot read `{}`: {error}. Save an account with `aws iam get-account-authorization-details > account.json`",
            path.display()
        )
    })?;
    muster_policy::load_authorization_details(&text).map_err(|error| {
        anyhow::anyhow!(
            "`{}` is not the output of `aws iam get-account-authorization-details`: {error}",
            path.display()
        )
    })
}

fn source_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Formats the report as plain text: the summary, then the findings of each principal
/// that has any.
fn text_summary(report: &AccountReport) -> String {
    let summary = &report.summary;
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };

    line(format!(
        "Account: {}",
        report.account_id.as_deref().unwrap_or("unknown")
    ));
    line(format!("Principals analysed: {}", summary.principals));
    line(format!("Administrators: {}", list_or_none(&summary.admins)));
    line(format!(
        "Privilege-escalation techniques found: {}",
        summary.escalation_paths
    ));
    let risks: Vec<String> = summary
        .risk_categories
        .iter()
        .map(|(category, count)| format!("{category} {count}"))
        .collect();
    line(format!("Principals per risk category: {}", list_or_none(&risks)));
    line(format!(
        "Roles anyone can assume: {}",
        list_or_none(&summary.public_roles)
    ));
    line(format!("Unknown actions: {}", list_or_none(&summary.unknown_actions)));
    for problem in &summary.load_problems {
        line(format!("warning: {problem}"));
    }

    for principal in report
        .principals
        .iter()
        .filter(|principal| !principal.findings.is_empty())
    {
        line(String::new());
        line(principal_heading(principal));
        for finding in &principal.findings {
            line(format!("  - {}", finding.text));
        }
    }
    line(String::new());
    line(
        "Run with --output html --out report.html for every principal's access and the statements behind each line."
            .into(),
    );
    out
}

fn principal_heading(principal: &PrincipalReport) -> String {
    let mut badges = Vec::new();
    if principal.admin {
        badges.push("admin");
    }
    if principal.escalations > 0 {
        badges.push("escalation");
    }
    let badges = if badges.is_empty() {
        String::new()
    } else {
        format!(" [{}]", badges.join(", "))
    };
    format!("{} {} ({}){badges}", principal.kind, principal.name, principal.arn)
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}
