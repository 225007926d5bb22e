-- Employees and identity mappings (the HR side), API keys, and the bulk API's one-time
-- upload and download URLs.

-- The HR source of truth: one row per work email in a tenant. An employees upload
-- replaces the tenant's whole list.
CREATE TABLE employees (
    tenant_id TEXT NOT NULL,
    -- Lower-cased work email: employees are matched to identities by it.
    email_key TEXT NOT NULL,
    work_email TEXT NOT NULL,
    employee_id TEXT,
    full_name TEXT,
    first_name TEXT,
    last_name TEXT,
    department TEXT,
    title TEXT,
    -- Dates as YYYY-MM-DD.
    start_date TEXT NOT NULL,
    end_date TEXT,
    employment_type TEXT,
    manager TEXT,
    manager_work_email TEXT,
    source_employee_id TEXT,
    -- JSON array of Muster role names.
    roles TEXT NOT NULL,
    metadata TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, email_key)
);

-- Mappings set by hand or by upload. Identities without a row here are matched to an
-- employee by email when read.
CREATE TABLE identity_mappings (
    tenant_id TEXT NOT NULL,
    -- The identity entity (stable across snapshots).
    entity_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    employee_email_key TEXT NOT NULL,
    -- IS (the employee's own account) or OWNS (a service account they answer for).
    relation_type TEXT NOT NULL,
    -- `manual` (the web UI) or `upload`.
    origin TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, entity_id)
);
CREATE INDEX identity_mappings_by_employee ON identity_mappings (tenant_id, employee_email_key);

-- Keys for the bulk API. Only a SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);

-- Transfers of the bulk API: a one-time upload URL and its outcome, or a download whose
-- file is prepared in the background. The URL's token is kept only as a SHA-256.
CREATE TABLE bulk_transfers (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    api_key_id TEXT NOT NULL,
    -- `upload` or `download`.
    direction TEXT NOT NULL,
    -- The CSV format, e.g. `entities`.
    kind TEXT NOT NULL,
    integration_id TEXT,
    token_hash TEXT NOT NULL,
    -- upload: waiting, processing, accepted, rejected; download: preparing, ready, failed.
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    finished_at TEXT,
    -- JSON: the import report of an upload, or the error of a failed download.
    outcome TEXT,
    -- The prepared CSV of a download.
    content TEXT
);
CREATE INDEX bulk_transfers_by_tenant ON bulk_transfers (tenant_id, created_at);
