//! What every request handler shares: settings, the database, the signing key, the
//! clock, fault script and stats.

use std::sync::Arc;

use tokio::sync::{watch, Semaphore};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, Db, DbError, Purged};
use crate::faults::FaultQueue;
use crate::refresh::Policy;
use crate::revoked::RevokedSessions;
use crate::stats::Stats;
use crate::throttle::LoginThrottle;
use crate::tokens::{self, KeyError, Tokens};
use crate::users::{self, PasswordCheck, Users, UsersError};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The users file.
    #[error(transparent)]
    Users(#[from] UsersError),
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The signing key.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The application state; clones are cheap and share everything.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts (reach them through `Deref`).
pub struct Inner {
    /// The settings the process started with.
    pub config: Config,
    /// The store.
    pub db: Db,
    /// Access token issuing and checking.
    pub tokens: Tokens,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Password checking with a dummy hash for unknown users.
    pub passwords: PasswordCheck,
    /// Permits to compute a password hash (`--hash-concurrency` of them): an Argon2
    /// hash holds its whole memory cost (19 MiB for the demo users) while it runs.
    pub hash_permits: Arc<Semaphore>,
    /// Failed-login counting per account and per address.
    pub login_throttle: LoginThrottle,
    /// Sessions (refresh families) whose access tokens are refused.
    pub revoked: RevokedSessions,
    /// Scripted refresh faults (only consulted in fault mode).
    pub faults: FaultQueue,
    /// Counters for `/test/stats`.
    pub stats: Arc<Stats>,
    /// `(username, password)` from the users file's `# demo-login:` comments.
    pub demo_logins: Vec<(String, String)>,
    shutdown: watch::Sender<bool>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Loads users and key, opens the database, copies the users in and purges
    /// expired rows. Blocking (file I/O, one Argon2 hash): call it before serving.
    pub fn open(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let users = Users::load(&config.users_file)?;
        let key = tokens::load_key(&config.jwt_key, &config.data_dir)?;
        let tokens = Tokens::new(&key, &config.audience, config.access_ttl_secs)?;
        let db = Db::open(&config.db)?;
        db.call_blocking(|conn| users::store(conn, &users.list))?;
        let passwords = PasswordCheck::new(&users.list)?;
        let revoked = db.call_blocking({
            let now = clock.now_ms();
            move |conn| db::revoked_sessions(conn, now)
        })?;
        let state = Self(Arc::new(Inner {
            db,
            tokens,
            hash_permits: Arc::new(Semaphore::new(config.hash_concurrency.max(1))),
            login_throttle: LoginThrottle::new(
                config.login_failures_per_account,
                config.login_failures_per_address,
                clock.clone(),
            ),
            revoked: RevokedSessions::new(revoked),
            clock,
            passwords,
            faults: FaultQueue::default(),
            stats: Arc::default(),
            demo_logins: users.demo_logins,
            shutdown: watch::Sender::new(false),
            config,
        }));
        let purged = state.db.call_blocking({
            let (now, idle) = (state.now_ms(), state.policy().idle_ms);
            move |conn| db::purge(conn, now, idle)
        })?;
        tracing::info!(users = users.list.len(), ?purged, "state ready");
        Ok(state)
    }

    /// The current time, ms since the epoch.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Refresh family lifetimes from the config.
    pub fn policy(&self) -> Policy {
        Policy {
            absolute_ms: self.config.refresh_ttl_secs.saturating_mul(1000),
            idle_ms: self.config.refresh_idle_secs.saturating_mul(1000),
            grace_ms: self.config.reuse_grace_ms,
            access_ttl_ms: self.tokens.ttl_secs().saturating_mul(1000),
        }
    }

    /// The `expires_in` to announce: the real lifetime unless `--issue-expires-in`.
    pub fn expires_in(&self) -> i64 {
        self.config
            .issue_expires_in
            .unwrap_or_else(|| i64::try_from(self.tokens.ttl_secs()).unwrap_or(i64::MAX))
    }

    /// Deletes expired families, tokens, deny-list entries and revoked sessions, and
    /// forgets login throttling state that no longer limits anybody.
    pub async fn purge_expired(&self) -> Result<Purged, DbError> {
        let (now, idle) = (self.now_ms(), self.policy().idle_ms);
        self.revoked.purge(now);
        self.login_throttle.purge();
        self.db.call(move |conn| db::purge(conn, now, idle)).await
    }

    /// Refuses every access token of session (refresh family) `sid` from now on;
    /// call it after the database revoked the family.
    pub fn note_revoked(&self, sid: &str) {
        let until = self.policy().revoked_until(self.now_ms());
        self.revoked.insert(sid, until);
    }

    /// Tells hanging fault handlers to give up (the server is stopping).
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves once [`AppState::begin_shutdown`] was called.
    pub async fn shutting_down(&self) {
        let mut rx = self.shutdown.subscribe();
        // Err only if the sender is gone, which cannot happen while `self` lives.
        let _ = rx.wait_for(|stopping| *stopping).await;
    }
}
