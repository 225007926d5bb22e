//! Muster's storage: one `Store` over SQLite (the default) or PostgreSQL.
//!
//! Both backends go through sqlx's `Any` driver with the same migrations and the same
//! SQL (`$N` placeholders, portable column types). The few statements that differ per
//! backend, such as claiming a queued job, live in this crate and nowhere else. On
//! PostgreSQL the store also keeps a small pool of native connections, because only those
//! can stream a snapshot's rows with `COPY` (see `snapshot_tx`).

mod analyses;
mod api_keys;
mod bulk;
mod crypto;
mod entities;
mod error;
mod integrations;
mod key_check;
mod people;
mod rows;
mod snapshot_rows;
mod snapshot_tx;
mod snapshot_writer;
mod snapshots;
mod sync_runs;

pub use analyses::SnapshotAnalysis;
pub use api_keys::{ApiKey, ApiKeyRejection, IssuedApiKey};
pub use bulk::{BulkTransfer, NewBulkTransfer, UploadUrlRejection};
pub use crypto::{LoadedSecretKey, SecretKey, SecretKeyError};
pub use entities::{EntityDetail, EntityFilter, EntityPage, RelatedEntity, StoredEntity};
pub use error::StoreError;
pub use people::{CurrentIdentity, EmployeeChanges, StoredMapping};
pub use snapshot_writer::{NewRelation, SnapshotWriter};
pub use snapshots::SnapshotSummary;
pub use sync_runs::{SyncRun, SyncRunState};

use muster_domain::TenantId;
use percent_encoding::percent_decode_str;
use sqlx::any::{AnyPoolOptions, AnyConnectOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Name of the tenant created on first start.
pub const DEFAULT_TENANT_NAME: &str = "default";

/// Database engine of a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database: cheap to clone, shared by the server, the CLI and workers.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Native PostgreSQL connections for snapshot writes, `None` on SQLite.
    copy_pool: Option<PgPool>,
    backend: Backend,
    secret_key: SecretKey,
    sync_run_lease: time::Duration,
}

/// How long a running sync stays claimed without a heartbeat. The process running it
/// renews the lease well within this time (see `SYNC_RUN_HEARTBEAT`).
pub const SYNC_RUN_LEASE: Duration = Duration::from_secs(90);
/// How often the process running a sync renews its lease.
pub const SYNC_RUN_HEARTBEAT: Duration = Duration::from_secs(20);

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish()
    }
}

impl Store {
    /// Connects to `database_url` (`sqlite://…` or `postgres://…`), applies pending
    /// migrations and makes sure the default tenant exists.
    pub async fn connect(database_url: &str, secret_key: SecretKey) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();

        let backend = if database_url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL `{}`: expected sqlite://PATH or postgres://…",
                redact_url(database_url)
            )));
        };

        let options = AnyConnectOptions::from_str(database_url)
            .map_err(|error| invalid_url(database_url, &error))?
            // Exports and large snapshots take seconds by design: slow statements are
            // worth an operator's look (`serve` logs at info) but not a warning on every
            // command line.
            .log_slow_statements(log::LevelFilter::Info, Duration::from_secs(1));
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |connection, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        connection
                            .execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                            )
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|error| StoreError::Connect {
                url: redact_url(database_url),
                message: error.to_string(),
            })?;

        MIGRATOR.run(&pool).await.map_err(|error| StoreError::Migration(error.to_string()))?;

        let copy_pool = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(copy_pool(database_url)?),
        };
        let store = Store {
            pool,
            copy_pool,
            backend,
            secret_key,
            sync_run_lease: time::Duration::try_from(SYNC_RUN_LEASE).unwrap_or(time::Duration::MINUTE),
        };
        store.verify_secret_key().await?;
        store.ensure_default_tenant().await?;
        Ok(store)
    }

    /// Returns a handle that treats running syncs as abandoned after `lease` without a
    /// heartbeat, for tests of crashed processes.
    pub fn with_sync_run_lease(&self, lease: Duration) -> Store {
        let mut store = self.clone();
        store.sync_run_lease = time::Duration::try_from(lease).unwrap_or(time::Duration::MINUTE);
        store
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Returns the default tenant's id, creating the tenant if it does not exist yet.
    pub async fn ensure_default_tenant(&self) -> Result<TenantId, StoreError> {
        self.ensure_tenant(DEFAULT_TENANT_NAME).await
    }

    /// Returns the id of the tenant called `name`, creating it if it does not exist yet.
    pub async fn ensure_tenant(&self, name: &str) -> Result<TenantId, StoreError> {
        if let Some(id) = self.tenant_by_name(name).await? {
            return Ok(id);
        }

        let id = TenantId::generate();
        let now = muster_domain::format_timestamp(time::OffsetDateTime::now_utc());
        let inserted = sqlx::query(
            "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(name)
        .bind(&now)
        .execute(&self.pool)
        .await?;

        // A concurrent first start may have created it between the two statements.
        if inserted.rows_affected() == 0 {
            return self
                .tenant_by_name(name)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("tenant `{name}` vanished")));
        }
        Ok(id)
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Option<TenantId>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT id FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(id,)| TenantId::from_string(id)))
    }

    /// Checks that the database responds, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(copy_pool) = &self.copy_pool {
            copy_pool.close().await;
        }
    }
}

/// Connections open only while a snapshot is written, at most a few at a time.
const COPY_POOL_CONNECTIONS: u32 = 4;

/// Creates a pool of native PostgreSQL connections to the database the `Any` pool uses.
/// It connects on first use, so a store that never writes a snapshot opens none.
fn copy_pool(database_url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(database_url)
        .map_err(|error| invalid_url(database_url, &error))?
        // A bulk copy takes seconds by design, so a warning for each would only be noise.
        .disable_statement_logging();
    Ok(PgPoolOptions::new()
        .max_connections(COPY_POOL_CONNECTIONS)
        .min_connections(0)
        .idle_timeout(Duration::from_secs(60))
        .acquire_timeout(Duration::from_secs(30))
        .connect_lazy_with(options))
}

fn invalid_url(database_url: &str, error: &sqlx::Error) -> StoreError {
    StoreError::Config(format!(
        "invalid database URL `{}`: {error}",
        redact_url(database_url)
    ))
}

/// Hides the password in a database URL, in the user info or as a `password` query
/// parameter, before it reaches a message or log.
pub fn redact_url(url: &str) -> String {
    let (address, query) = match url.split_once('?') {
        Some((address, query)) => (address, Some(query)),
        None => (url, None),
    };
    let mut redacted = match address.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
                None => address.to_string(),
            },
            None => address.to_string(),
        },
        None => address.to_string(),
    };
    if let Some(query) = query {
        let parameters: Vec<String> = query
            .split('&')
            .map(|parameter| match parameter.split_once('=') {
                // Drivers decode escapes in parameter names, so `pass%77ord` is a password too.
                Some((name, _)) if percent_decode_str(name).decode_utf8_lossy().eq_ignore_ascii_case("password") => {
                    format!("{name}=***")
                }
                _ => parameter.to_string(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&parameters.join("&"));
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact_url("postgres://muster:hunter2@db:5432/muster"),
            "postgres://muster:***@db:5432/muster"
        );
        assert_eq!(redact_url("sqlite://./muster.db"), "sqlite://./muster.db");
        assert_eq!(redact_url("postgres://db/muster"), "postgres://db/muster");
        assert_eq!(
            redact_url("postgres://127.0.0.1/muster?user=postgres&password=s3cret&sslmode=disable"),
            "postgres://127.0.0.1/muster?user=postgres&password=***&sslmode=disable"
        );
        assert_eq!(
            redact_url("postgres://u:pw@db/muster?Password=x"),
            "postgres://u:***@db/muster?Password=***"
        );
        assert_eq!(
            redact_url("postgres://db/muster?pass%77ord=s3cret&user=%zz"),
            "postgres://db/muster?pass%77ord=***&user=%zz"
        );
    }
}
