//! `muster import KIND FILE` and `muster export KIND`.

use super::describe;
use crate::cli::{ExportArgs, ImportArgs, OutputFormat};
use crate::output::{self, Table};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use muster_csv::{CsvKind, ExportMode};
use muster_service::{ImportFiles, ImportKind, ImportOptions, ImportProgress, ImportReport, Muster};
use std::io::Write;
use std::process::ExitCode;

/// Exit code when the file was read but rejected.
const IMPORT_REJECTED: u8 = 2;
/// Problems printed in table mode; JSON output has every listed one.
const PRINTED_PROBLEMS: usize = 50;

pub async fn run_import(muster: &Muster, args: ImportArgs, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let tenant = muster.default_tenant();
    let kind: ImportKind = args.kind.parse().map_err(anyhow::Error::msg)?;
    if !args.file.is_file() {
        anyhow::bail!("`{}` is not a file", args.file.display());
    }
    if args.credential_report.is_some() && kind != ImportKind::AwsAuthorizationDetails {
        anyhow::bail!("--credential-report goes only with aws-authorization-details");
    }
    if let Some(report) = args.credential_report.as_ref().filter(|path| !path.is_file()) {
        anyhow::bail!("`{}` is not a file", report.display());
    }

    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg} {bytes}/{total_bytes} {wide_bar}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("Importing {}", kind.as_str()));
    if let Ok(metadata) = std::fs::metadata(&args.file) {
        bar.set_length(metadata.len());
    }
    let report_progress = |progress: ImportProgress| {
        bar.set_length(progress.total_bytes);
        bar.set_position(progress.bytes_read);
    };

    let options = ImportOptions {
        skip_invalid_rows: args.skip_invalid_rows,
        trigger: "cli".into(),
    };
    let files = ImportFiles {
        main: &args.file,
        credential_report: args.credential_report.as_deref(),
    };
    let report = muster
        .import(tenant, kind, args.integration.as_deref(), files, &options, &report_progress)
        .await
        .map_err(describe)?;
    bar.finish_and_clear();

    output::print(format, &report, print_report)?;
    if report.applied {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(IMPORT_REJECTED))
    }
}

fn print_report(report: &ImportReport) {
    if !report.file.encoding.is_empty() {
        println!(
            "Read as {} with delimiter `{}` ({}).",
            report.file.encoding, report.file.delimiter, report.file.delimiter_source
        );
    }
    for warning in &report.warnings {
        println!("warning: {warning}");
    }

    if report.applied {
        let mut line = format!("Imported {} row(s) of {}", report.rows_applied, report.kind);
        if let Some(snapshot) = &report.snapshot {
            line.push_str(&format!(
                ": snapshot {} with {} entities and {} relations is now current",
                snapshot.id, snapshot.entity_count, snapshot.relation_count
            ));
        }
        if let Some(changes) = report.changes.as_ref().and_then(|c| c.as_object()) {
            let parts: Vec<String> = changes.iter().map(|(what, count)| format!("{count} {what}")).collect();
            line.push_str(&format!(" ({})", parts.join(", ")));
        }
        println!("{line}.");
        if report.blank_lines > 0 {
            println!("Skipped {} blank line(s).", report.blank_lines);
        }
        if report.rows_skipped > 0 {
            println!("Skipped {} invalid row(s):", report.rows_skipped);
            print_problems(report);
        }
    } else {
        eprintln!(
            "Nothing was imported: {} problem(s) in the {} file.",
            report.problem_count, report.kind
        );
        print_problems(report);
        if report.rows_read > 0 && report.problems.iter().all(|p| p.line.is_some()) {
            eprintln!("Fix the rows and import again, or pass --skip-invalid-rows to apply the valid ones.");
        }
    }
}

fn print_problems(report: &ImportReport) {
    let mut table = Table::new(&["LINE", "COLUMN", "VALUE", "PROBLEM"]);
    for problem in report.problems.iter().take(PRINTED_PROBLEMS) {
        table.row(vec![
            problem.line.map(|line| line.to_string()).unwrap_or_else(|| "-".into()),
            problem.column.clone().unwrap_or_else(|| "-".into()),
            problem.value.clone().unwrap_or_default(),
            problem.problem.clone(),
        ]);
    }
    table.print();
    let hidden = report.problem_count.saturating_sub(PRINTED_PROBLEMS as u64);
    if hidden > 0 {
        println!("… and {hidden} more (use --output json for the first {}).", muster_service::imports::MAX_LISTED_PROBLEMS);
    }
}

pub async fn run_export(muster: &Muster, args: ExportArgs, output_flag: Option<&str>) -> anyhow::Result<ExitCode> {
    let tenant = muster.default_tenant();
    let kind: CsvKind = args.kind.parse().map_err(|error| anyhow::anyhow!("{error}"))?;
    let mode = if args.raw { ExportMode::Raw } else { ExportMode::Safe };
    if let Some(format) = output_flag.filter(|value| ["table", "json", "html"].contains(&value.to_ascii_lowercase().as_str())) {
        anyhow::bail!("muster export writes CSV, so --output names the file to write, not a format: `--output {format}` would create a file called `{format}`; use e.g. --output {kind}.csv");
    }
    let target = args
        .out
        .or_else(|| output_flag.filter(|value| *value != "-").map(Into::into));

    let summary = match &target {
        Some(path) => {
            // Written next to the target and renamed, so a failed export leaves no half file.
            let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let mut temporary = tempfile::NamedTempFile::new_in(directory)
                .with_context(|| format!("cannot write in `{}`", directory.display()))?;
            let summary = muster
                .export(tenant, kind, args.integration.as_deref(), mode, std::io::BufWriter::new(temporary.as_file_mut()))
                .await
                .map_err(describe)?;
            temporary
                .persist(path)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            summary
        }
        None => {
            let stdout = std::io::stdout();
            let summary = muster
                .export(tenant, kind, args.integration.as_deref(), mode, stdout.lock())
                .await
                .map_err(describe)?;
            stdout.lock().flush()?;
            summary
        }
    };
    if let Some(path) = &target {
        eprintln!("Wrote {} row(s) of {} to {}.", summary.rows, kind, path.display());
    }
    Ok(ExitCode::SUCCESS)
}
