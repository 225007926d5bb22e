//! The transaction a snapshot is written in. On SQLite it comes from the store's `Any`
//! pool. On PostgreSQL it is a native connection, because sqlx's `Any` driver cannot speak
//! the `COPY` protocol, and PostgreSQL stores rows faster through `COPY` than through
//! `INSERT` (BENCHMARKS.md, CSV import).
//!
//! Statements that run on either kind go through [`execute_on!`] and [`fetch_one_on!`],
//! which build the query once per arm so sqlx infers the database of each.

use crate::{Store, StoreError};
use sqlx::{Any, Postgres, Transaction};

/// An open snapshot transaction of either backend.
pub(crate) enum SnapshotTx {
    Any(Transaction<'static, Any>),
    Postgres(Transaction<'static, Postgres>),
}

impl SnapshotTx {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            SnapshotTx::Any(tx) => tx.commit().await?,
            SnapshotTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

impl Store {
    /// Opens the transaction a snapshot is written in.
    pub(crate) async fn begin_snapshot_tx(&self) -> Result<SnapshotTx, StoreError> {
        match &self.copy_pool {
            Some(copy_pool) => match copy_pool.begin().await {
                Ok(tx) => Ok(SnapshotTx::Postgres(tx)),
                Err(sqlx::Error::PoolTimedOut) => Err(StoreError::Config(
                    "timed out after 30 s waiting for a PostgreSQL connection to write the snapshot: the server may be at its \
                     connection limit (max_connections, or the role's CONNECTION LIMIT). A snapshot write needs one \
                     connection besides the ones Muster already holds"
                        .into(),
                )),
                Err(error) => Err(error.into()),
            },
            None => Ok(SnapshotTx::Any(self.pool.begin().await?)),
        }
    }
}

/// Executes a query built by `$query` on a [`SnapshotTx`] and returns the rows affected.
macro_rules! execute_on {
    ($tx:expr, $query:expr) => {
        match $tx {
            $crate::snapshot_tx::SnapshotTx::Any(tx) => {
                $query.execute(&mut **tx).await?.rows_affected()
            }
            $crate::snapshot_tx::SnapshotTx::Postgres(tx) => {
                $query.execute(&mut **tx).await?.rows_affected()
            }
        }
    };
}

/// Fetches the one row of a query built by `$query` on a [`SnapshotTx`].
macro_rules! fetch_one_on {
    ($tx:expr, $query:expr) => {
        match $tx {
            $crate::snapshot_tx::SnapshotTx::Any(tx) => $query.fetch_one(&mut **tx).await?,
            $crate::snapshot_tx::SnapshotTx::Postgres(tx) => $query.fetch_one(&mut **tx).await?,
        }
    };
}

pub(crate) use {execute_on, fetch_one_on};
