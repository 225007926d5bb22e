//! Background workers for `muster serve`: claim queued sync runs and execute them.
//!
//! Several processes may share one PostgreSQL database; each queued run is claimed by
//! exactly one worker (see `Store::claim_next_sync_run`).

use crate::sync::worker_name;
use crate::Muster;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Running workers; dropping it does not stop them, [`WorkerHandle::shutdown`] does.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Asks workers to stop after their current run and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts `count` workers that poll the queue every `poll_interval`.
pub fn spawn_workers(muster: Muster, count: usize, poll_interval: Duration) -> WorkerHandle {
    let (stop, stopped) = watch::channel(false);
    let tasks = (0..count.max(1))
        .map(|index| {
            let muster = muster.clone();
            let mut stopped = stopped.clone();
            let name = format!("{}#{index}", worker_name());
            tokio::spawn(async move {
                tracing::info!(worker = %name, "sync worker started");
                let mut last_expiry_check: Option<tokio::time::Instant> = None;
                loop {
                    if *stopped.borrow() {
                        break;
                    }
                    if last_expiry_check.is_none_or(|at| at.elapsed() >= muster_store::SYNC_RUN_HEARTBEAT) {
                        if let Err(error) = muster.store().fail_expired_sync_runs().await {
                            tracing::error!(worker = %name, %error, "expiring abandoned sync runs failed");
                        }
                        last_expiry_check = Some(tokio::time::Instant::now());
                    }
                    match muster.store().claim_next_sync_run(&name).await {
                        Ok(Some(run)) => {
                            if let Err(error) = muster.execute_sync_run(run, &|_| {}).await {
                                tracing::error!(worker = %name, %error, "sync run could not be recorded");
                            }
                            continue;
                        }
                        Ok(None) => {}
                        Err(error) => tracing::error!(worker = %name, %error, "claiming a sync run failed"),
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(poll_interval) => {}
                        _ = stopped.changed() => {}
                    }
                }
                tracing::info!(worker = %name, "sync worker stopped");
            })
        })
        .collect();
    WorkerHandle { stop, tasks }
}
