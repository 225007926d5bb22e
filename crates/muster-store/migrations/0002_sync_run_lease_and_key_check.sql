-- A running sync holds a lease: the process running it renews heartbeat_at, and a run
-- whose heartbeat is older than the lease belongs to a process that died.
ALTER TABLE sync_runs ADD COLUMN heartbeat_at TEXT;

-- Runs left active by earlier versions kept no heartbeat, so they cannot be told apart
-- from dead ones: close them before enforcing one active run per integration.
UPDATE sync_runs
SET state = 'failed',
    error_code = 'sync.abandoned',
    message = 'Closed by a Muster upgrade before it finished',
    finished_at = COALESCE(started_at, queued_at)
WHERE state IN ('queued', 'running');

-- At most one queued or running sync per integration, across every process sharing the
-- database.
CREATE UNIQUE INDEX sync_runs_one_active_per_integration
    ON sync_runs (integration_id) WHERE state IN ('queued', 'running');

-- Store-wide values, e.g. the check value that tells whether the credential key matches.
CREATE TABLE store_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
