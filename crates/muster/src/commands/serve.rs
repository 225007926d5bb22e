//! `muster serve`: the HTTP server and the sync workers in one process.

use crate::cli::ServeArgs;
use anyhow::Context;
use muster_service::{spawn_workers, Muster};
use std::process::ExitCode;
use std::time::Duration;

/// How often idle workers look for queued syncs.
const WORKER_POLL_INTERVAL: Duration = Duration::from_secs(1);

pub async fn run(muster: Muster, args: ServeArgs) -> anyhow::Result<ExitCode> {
    muster.store().fail_expired_sync_runs().await?;

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
    tracing::info!("shutdown requested; waiting for running syncs (press Ctrl-C again to stop at once)");

    // A second signal stops the process without waiting. The database lease of any
    // interrupted sync expires, and the next worker marks that run failed.
    tokio::spawn(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::warn!("second interrupt: stopping now");
        std::process::exit(130);
    });
    #[cfg(unix)]
    tokio::spawn(async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
            tracing::warn!("second termination signal: stopping now");
            std::process::exit(143);
        }
    });
}
