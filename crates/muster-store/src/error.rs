//! Storage errors. Database details stay here and in logs; callers get a kind they can
//! map to a status code.

/// Error of a storage operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} `{id}` not found")]
    NotFound { what: &'static str, id: String },
    #[error("{message}")]
    Conflict { field: &'static str, message: String },
    #[error("invalid storage configuration: {0}")]
    Config(String),
    #[error("cannot connect to the database at `{url}`: {message}")]
    Connect { url: String, message: String },
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("the credential key does not match the key this database's credentials were saved with: restore the original key (MUSTER_SECRET_KEY, or secret.key in the data directory) rather than creating a new one")]
    KeyMismatch,
    #[error("stored credentials cannot be decrypted: {0}")]
    Crypto(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database error: {}", describe_database_error(.0))]
    Database(#[from] sqlx::Error),
}

/// Returns sqlx's message, with what to do added where the cause is a known one.
fn describe_database_error(error: &sqlx::Error) -> String {
    let busy = matches!(error, sqlx::Error::Database(database) if database.message().contains("database is locked"));
    if busy {
        format!(
            "{error}: another process kept this SQLite database locked for writing for over 10 s; \
             try again when it has finished, or use PostgreSQL for several processes"
        )
    } else {
        error.to_string()
    }
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        StoreError::NotFound { what, id: id.into() }
    }
}

/// Checks whether an error is a unique-constraint violation, on either backend.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db_error) => {
            let code = db_error.code();
            let code = code.as_deref().unwrap_or("");
            // PostgreSQL: unique_violation. SQLite: SQLITE_CONSTRAINT_UNIQUE and
            // SQLITE_CONSTRAINT_PRIMARYKEY extended codes.
            code == "23505" || code == "2067" || code == "1555"
                || db_error.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}
