//! `muster sync NAME|ID`: runs a sync in this process with a progress bar.

use super::describe;
use crate::cli::{OutputFormat, SyncArgs};
use crate::output;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use muster_service::{Muster, Progress};
use std::process::ExitCode;
use std::time::Duration;

/// Exit code when the sync ran but failed (bad credentials, missing permission).
const SYNC_FAILED: u8 = 2;

pub async fn run(muster: &Muster, args: SyncArgs, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let tenant = muster.default_tenant();
    let integration = muster.find_integration(tenant, &args.integration).await.map_err(describe)?;

    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message(format!("Syncing {}", integration.name));
    let report = |progress: Progress| {
        bar.set_message(progress.phase.clone());
        match progress.total {
            Some(total) => bar.set_length(total),
            None => bar.unset_length(),
        }
        bar.set_position(progress.done);
    };

    let outcome = muster
        .sync_now(tenant, &integration.id.to_string(), "cli", &report)
        .await
        .map_err(describe)?;
    bar.finish_and_clear();

    output::print(format, &outcome, |outcome| match &outcome.snapshot {
        Some(snapshot) => {
            println!(
                "Synced `{}`: {} entities, {} relations (snapshot {}).",
                integration.name, snapshot.entity_count, snapshot.relation_count, snapshot.id
            );
            for warning in &snapshot.warnings {
                println!("warning: {warning}");
            }
        }
        None => {
            eprintln!("Sync of `{}` failed: {}", integration.name, outcome.run.message);
            eprintln!("The previous snapshot, if any, stays current.");
        }
    })?;

    if outcome.succeeded() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(SYNC_FAILED))
    }
}
