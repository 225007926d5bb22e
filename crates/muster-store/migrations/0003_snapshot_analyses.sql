-- The IAM policy analysis computed after a sync, written in the same transaction as its
-- snapshot. A snapshot has no row here when the analysis failed or the integration is
-- not an AWS account.
CREATE TABLE snapshot_analyses (
    snapshot_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    -- JSON document: account id, action catalog, summary counts and load problems.
    document TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- What one principal of the snapshot can do: findings and access lines with the
-- statements behind each, as a JSON document.
CREATE TABLE entity_findings (
    snapshot_id TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    findings TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, entity_id)
);
