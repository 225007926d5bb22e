//! `muster serve`: the HTTP server and the sync workers in one process.

use crate::cli::ServeArgs;
use anyhow::Context;
use muster_service::{spawn_workers, Muster};
use std::process::ExitCode;
use std::time::Duration;

/// How often idle workers look for queued syncs.
const WORKER_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// A run still `running` after this long belongs to a process that died.
const ABANDONED_AFTER: time::Duration = time::Duration::hours(6);

pub async fn run(muster: Muster, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let cutoff = muster_domain::format_timestamp(time::OffsetDateTime::now_utc() - ABANDONED_AFTER);
    let abandoned = muster.store().fail_abandoned_sync_runs(&cutoff).await?;
    if abandoned > 0 {
        tracing::warn!(count = abandoned, "marked sync runs abandoned by a stopped process as failed");
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, backend = ?muster.store().backend(), "Muster listening on http://{address}");

    let workers = spawn_workers(muster.clone(), args.workers, WORKER_POLL_INTERVAL);
    muster_server::serve(muster, listener, shutdown_signal()).await?;
    tracing::info!("HTTP server stopped; waiting for running syncs to finish");
    workers.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown requested");
}
