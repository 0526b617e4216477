//! The SQLite store: users, refresh families (hashed tokens only), the access
//! token deny-list and the revoked sessions (families whose access tokens are refused). One connection behind a `Mutex`; async callers go through
//! [`Db::call`], which runs the closure on tokio's blocking pool.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{params, Connection, OptionalExtension};

use crate::config::DbPath;

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite said no.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The directory of the database file could not be created.
    #[error("database directory {path}: {source}")]
    Dir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The blocking task died (it panicked).
    #[error("database task failed: {0}")]
    Task(String),
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    username      TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS families (
    id                 TEXT PRIMARY KEY,
    username           TEXT NOT NULL,
    created_ms         INTEGER NOT NULL,
    absolute_expiry_ms INTEGER NOT NULL,
    last_used_ms       INTEGER NOT NULL,
    current_hash       BLOB NOT NULL,
    previous_hash      BLOB,
    rotated_ms         INTEGER NOT NULL,
    grace_used         INTEGER NOT NULL DEFAULT 0,
    generation         INTEGER NOT NULL,
    revoked_ms         INTEGER,
    revoked_reason     TEXT
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash       BLOB PRIMARY KEY,
    family_id  TEXT NOT NULL,
    generation INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_family ON refresh_tokens(family_id);
CREATE TABLE IF NOT EXISTS denied_jtis (
    jti    TEXT PRIMARY KEY,
    exp_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked_sessions (
    sid      TEXT PRIMARY KEY,
    until_ms INTEGER NOT NULL
);
PRAGMA user_version = 2;
";

/// Rows deleted by one [`purge`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    /// Refresh families past their absolute or idle expiry.
    pub families: usize,
    /// Their token hashes.
    pub tokens: usize,
    /// Deny-list entries whose access token has expired anyway.
    pub denied_jtis: usize,
    /// Revoked sessions whose last access token has expired anyway.
    pub revoked_sessions: usize,
}

/// The shared database handle; clones share one connection.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

impl Db {
    /// Opens (creating if needed) the database and its tables.
    pub fn open(path: &DbPath) -> Result<Self, DbError> {
        let conn = match path {
            DbPath::Memory => Connection::open_in_memory()?,
            DbPath::File(file) => {
                if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                    create_dir(dir)?;
                }
                Connection::open(file)?
            }
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the current thread (startup, tests).
    pub fn call_blocking<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, DbError>,
    ) -> Result<R, DbError> {
        // A panic while holding the lock leaves SQLite consistent (every multi-step
        // change runs in a transaction that rolls back on drop), so poison is ignored.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut conn)
    }

    /// Runs `f` with the connection on tokio's blocking pool.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, DbError> + Send + 'static,
    ) -> Result<R, DbError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.call_blocking(f))
            .await
            .map_err(|e| DbError::Task(e.to_string()))?
    }
}

fn create_dir(dir: &Path) -> Result<(), DbError> {
    std::fs::create_dir_all(dir).map_err(|source| DbError::Dir {
        path: dir.display().to_string(),
        source,
    })
}

/// Deletes families past their absolute or idle expiry (revoked or not), their
/// token hashes, and deny-list entries of access tokens that have expired.
pub fn purge(conn: &mut Connection, now_ms: u64, idle_ms: u64) -> Result<Purged, DbError> {
    let tx = conn.transaction()?;
    let now = to_sql(now_ms);
    let families = tx.execute(
        "DELETE FROM families WHERE absolute_expiry_ms <= ?1 OR last_used_ms + ?2 <= ?1",
        params![now, to_sql(idle_ms)],
    )?;
    let tokens = tx.execute(
        "DELETE FROM refresh_tokens WHERE family_id NOT IN (SELECT id FROM families)",
        [],
    )?;
    let denied_jtis = tx.execute("DELETE FROM denied_jtis WHERE exp_ms <= ?1", params![now])?;
    let revoked_sessions = tx.execute(
        "DELETE FROM revoked_sessions WHERE until_ms <= ?1",
        params![now],
    )?;
    tx.commit()?;
    Ok(Purged {
        families,
        tokens,
        denied_jtis,
        revoked_sessions,
    })
}

/// Puts an access token id on the deny-list until `exp_ms`.
pub fn deny_jti(conn: &mut Connection, jti: &str, exp_ms: u64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO denied_jtis (jti, exp_ms) VALUES (?1, ?2)
         ON CONFLICT(jti) DO UPDATE SET exp_ms = max(exp_ms, excluded.exp_ms)",
        params![jti, to_sql(exp_ms)],
    )?;
    Ok(())
}

/// Whether an access token id is on the deny-list.
pub fn is_denied(conn: &mut Connection, jti: &str) -> Result<bool, DbError> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM denied_jtis WHERE jti = ?1",
            params![jti],
            |row| row.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

/// Records that every access token of session (refresh family) `sid` is refused
/// until `until_ms` (when the last of them has expired anyway).
pub fn revoke_session(conn: &Connection, sid: &str, until_ms: u64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO revoked_sessions (sid, until_ms) VALUES (?1, ?2)
         ON CONFLICT(sid) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)",
        params![sid, to_sql(until_ms)],
    )?;
    Ok(())
}

/// Every revoked session still in force at `now_ms`, as `(sid, until_ms)`.
pub fn revoked_sessions(conn: &mut Connection, now_ms: u64) -> Result<Vec<(String, u64)>, DbError> {
    let mut statement =
        conn.prepare("SELECT sid, until_ms FROM revoked_sessions WHERE until_ms > ?1")?;
    let rows = statement.query_map(params![to_sql(now_ms)], |row| {
        Ok((row.get::<_, String>(0)?, from_sql(row.get(1)?)))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Milliseconds as SQLite's signed integer (saturating; times are far below 2^63).
pub fn to_sql(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// SQLite's integer back to milliseconds (negative values, which we never write, read as 0).
pub fn from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_list_and_its_purge() {
        let db = Db::open(&DbPath::Memory).unwrap();
        db.call_blocking(|conn| {
            deny_jti(conn, "a", 1_000)?;
            deny_jti(conn, "b", 5_000)?;
            assert!(is_denied(conn, "a")?);
            assert!(!is_denied(conn, "zzz")?);
            let purged = purge(conn, 2_000, 1_000)?;
            assert_eq!(purged.denied_jtis, 1);
            assert!(!is_denied(conn, "a")?);
            assert!(is_denied(conn, "b")?);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn revoked_sessions_and_their_purge() {
        let db = Db::open(&DbPath::Memory).unwrap();
        db.call_blocking(|conn| {
            revoke_session(conn, "s1", 1_000)?;
            revoke_session(conn, "s2", 5_000)?;
            revoke_session(conn, "s2", 4_000)?;
            assert_eq!(revoked_sessions(conn, 0)?.len(), 2);
            let purged = purge(conn, 2_000, 1_000)?;
            assert_eq!(purged.revoked_sessions, 1);
            assert_eq!(revoked_sessions(conn, 2_000)?, vec![("s2".into(), 5_000)]);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn reopening_a_file_keeps_the_rows() {
        let dir = std::env::temp_dir().join(format!("tw-db-{}", std::process::id()));
        let path = DbPath::File(dir.join("nested/t.sqlite3"));
        Db::open(&path)
            .unwrap()
            .call_blocking(|conn| deny_jti(conn, "kept", u64::MAX))
            .unwrap();
        let again = Db::open(&path).unwrap();
        assert!(again.call_blocking(|conn| is_denied(conn, "kept")).unwrap());
        std::fs::remove_dir_all(dir).ok();
    }
}
