-- Muster's initial schema. The same SQL runs on SQLite and PostgreSQL, so it uses only
-- TEXT and BIGINT columns; timestamps are RFC 3339 strings in UTC and JSON
-- documents are TEXT.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    app TEXT NOT NULL,
    name TEXT NOT NULL,
    -- Lower-cased name: integration names are unique per tenant, ignoring case.
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    primary_owner TEXT NOT NULL,
    -- JSON array of email addresses.
    secondary_owners TEXT NOT NULL,
    extraction_type TEXT NOT NULL,
    -- AES-256-GCM: base64 of nonce followed by ciphertext. Never returned by the API.
    credentials_ciphertext TEXT,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    current_snapshot_id TEXT,
    last_sync_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, name_key)
);

-- One row per extraction attempt. Rows in state `queued` are the job queue that
-- `muster serve` workers claim.
CREATE TABLE sync_runs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    state TEXT NOT NULL,
    trigger TEXT NOT NULL,
    worker TEXT,
    queued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    snapshot_id TEXT,
    error_code TEXT,
    message TEXT NOT NULL,
    -- JSON object of counts, e.g. {"entities": 120, "relations": 340}.
    stats TEXT NOT NULL
);
CREATE INDEX sync_runs_by_integration ON sync_runs (integration_id, queued_at);
CREATE INDEX sync_runs_by_state ON sync_runs (state, queued_at);

CREATE TABLE snapshots (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    sync_run_id TEXT NOT NULL,
    project TEXT,
    entity_count BIGINT NOT NULL,
    relation_count BIGINT NOT NULL,
    -- JSON array of warnings that did not stop the sync.
    warnings TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX snapshots_by_integration ON snapshots (integration_id, created_at);

CREATE TABLE entities (
    snapshot_id TEXT NOT NULL,
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source_id TEXT NOT NULL,
    name TEXT NOT NULL,
    metadata TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, id)
);
CREATE INDEX entities_by_id ON entities (tenant_id, id);

CREATE TABLE relations (
    snapshot_id TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    child_id TEXT NOT NULL,
    project TEXT NOT NULL,
    privilege_name TEXT NOT NULL,
    -- 1 grants the privilege, 0 is an explicit deny.
    privilege_value BIGINT NOT NULL,
    connection_type TEXT,
    metadata TEXT NOT NULL
);
CREATE INDEX relations_by_parent ON relations (snapshot_id, parent_id);
CREATE INDEX relations_by_child ON relations (snapshot_id, child_id);
