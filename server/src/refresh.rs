//! Refresh token families and their rotation (RFC 9700 §4.14.2).
//!
//! A login starts a *family*. Every refresh rotates: the presented token becomes the
//! family's `previous_hash`, a new one becomes `current_hash`, and every token ever
//! issued stays in `refresh_tokens` (as a SHA-256 hash) until the family is purged.
//! Presenting any token of the family other than the current one is *reuse*: the
//! family is revoked, so the legitimate holder's newest token dies too, and the
//! attacker (or the user, whichever came second) has to log in again.
//!
//! The family keeps its absolute expiry from login and dies after `idle_ms` without
//! a refresh.
//!
//! Revoking a family (logout, reuse, expiry found at refresh, a removed user) also
//! records its id in `revoked_sessions` until its last access token has expired
//! (`now + access_ttl_ms`): every access token carries the family as `sid`, and the
//! bearer check refuses the tokens of a revoked family (see [`crate::revoked`]).
//!
//! **Grace window** (`grace_ms`, 5 s by default, 0 = off): two tabs may refresh at
//! once with the same cookie, and a browser may re-send the POST; the second request
//! then carries the immediate predecessor. Within `grace_ms` of the rotation, the
//! predecessor is honoured *once*: the answer is a new access token of the same
//! family (same `sid`) and *no* new refresh token and no cookie (the server only has
//! hashes, and the browser's cookie jar already holds the current token from the
//! first response). A second use, a use after the window, or any older token is
//! reuse and revokes the family. What the window costs: an attacker who replays the
//! predecessor inside it gets one access token, never a refresh token, and that
//! token dies with the family at logout or reuse detection. What it does not cover:
//! a client whose rotation response was lost still holds the predecessor; its grace
//! answer gives it one access token, and its next refresh after the window is reuse.
//!
//! Tokens are looked up by their hash (the timing of an index lookup says nothing
//! about a stored token: the attacker would need SHA-256 preimages), then compared
//! with the family's current and previous hash in constant time (`subtle`).

use std::fmt;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::db::{self, from_sql, to_sql, DbError};
use crate::random::{self, RandomError};

/// A refresh token: 256 random bits, base64url. Redacted `Debug`, no `Display`, no
/// `PartialEq`; only its [`TokenHash`] is ever stored or compared.
pub struct RefreshToken(String);

impl RefreshToken {
    /// A fresh token from the OS RNG.
    pub fn generate() -> Result<Self, RandomError> {
        random::base64url::<32>().map(Self)
    }

    /// A token as presented by a client (from the cookie).
    pub fn presented(value: &str) -> Self {
        Self(value.to_string())
    }

    /// The token text, for the `Set-Cookie` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token text.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// The SHA-256 of a refresh token, what the database holds.
#[derive(Clone, Copy)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Constant-time comparison with a stored hash.
    fn matches(&self, stored: &[u8]) -> bool {
        stored.len() == 32 && bool::from(self.0.as_slice().ct_eq(stored))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// Lifetimes of a family.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// From login to the end, whatever happens.
    pub absolute_ms: u64,
    /// Without a refresh for this long, the family dies.
    pub idle_ms: u64,
    /// How long after a rotation the predecessor is honoured once; 0 = never.
    pub grace_ms: u64,
    /// The access token lifetime: how long a revoked family stays in
    /// `revoked_sessions` (its last access token expires by then).
    pub access_ttl_ms: u64,
}

impl Policy {
    /// Until when the access tokens of a family revoked at `now_ms` must be refused
    /// (their `exp` is whole seconds, hence the extra second).
    pub fn revoked_until(&self, now_ms: u64) -> u64 {
        now_ms
            .saturating_add(self.access_ttl_ms)
            .saturating_add(1000)
    }
}

/// Who a family belongs to, as of now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The family id (random, not secret, fine to log).
    pub family: String,
    /// The user's login name.
    pub username: String,
    /// The user's display name.
    pub name: String,
    /// The user's scopes.
    pub scope: String,
    /// When the family ends, ms since the epoch.
    pub absolute_expiry_ms: u64,
}

/// A successful refresh.
#[derive(Debug)]
pub enum Refreshed {
    /// The current token was presented; here is its successor.
    Rotated {
        /// The family.
        session: Session,
        /// The new refresh token (set it as the cookie).
        token: RefreshToken,
    },
    /// The predecessor was presented inside the grace window: an access token only.
    Grace {
        /// The family.
        session: Session,
    },
}

/// A refused refresh; every one of these is `invalid_grant` on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// Not a token we know (never issued, or purged).
    Unknown,
    /// The family was revoked earlier (logout, reuse, expiry).
    Revoked {
        /// The family.
        family: String,
    },
    /// Past the absolute expiry; the family is now revoked.
    Expired {
        /// The family.
        family: String,
    },
    /// Unused for longer than the idle lifetime; the family is now revoked.
    IdleExpired {
        /// The family.
        family: String,
    },
    /// An already-rotated token: the family is now revoked.
    Reused {
        /// The family.
        family: String,
    },
    /// The user is no longer in the users file; the family is now revoked.
    UserGone {
        /// The family.
        family: String,
    },
}

impl Rejected {
    /// A stable short name for logs, stats and `error_description`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Revoked { .. } => "revoked",
            Self::Expired { .. } => "expired",
            Self::IdleExpired { .. } => "idle_expired",
            Self::Reused { .. } => "reuse_detected",
            Self::UserGone { .. } => "user_gone",
        }
    }

    /// The family concerned, when known.
    pub fn family(&self) -> Option<&str> {
        match self {
            Self::Unknown => None,
            Self::Revoked { family }
            | Self::Expired { family }
            | Self::IdleExpired { family }
            | Self::Reused { family }
            | Self::UserGone { family } => Some(family),
        }
    }
}

/// A new family for a login.
#[derive(Debug)]
pub struct NewFamily {
    /// Its id.
    pub family: String,
    /// Its first refresh token.
    pub token: RefreshToken,
    /// When it ends, ms since the epoch.
    pub absolute_expiry_ms: u64,
}

/// Starts a family for `username` with `token` as its first refresh token.
pub fn start(
    conn: &mut Connection,
    username: &str,
    token: RefreshToken,
    family: String,
    now_ms: u64,
    policy: Policy,
) -> Result<NewFamily, DbError> {
    let hash = token.hash();
    let absolute_expiry_ms = now_ms.saturating_add(policy.absolute_ms);
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO families (id, username, created_ms, absolute_expiry_ms, last_used_ms,
                               current_hash, previous_hash, rotated_ms, grace_used, generation)
         VALUES (?1, ?2, ?3, ?4, ?3, ?5, NULL, ?3, 0, 1)",
        params![
            family,
            username,
            to_sql(now_ms),
            to_sql(absolute_expiry_ms),
            &hash.0[..]
        ],
    )?;
    tx.execute(
        "INSERT INTO refresh_tokens (hash, family_id, generation) VALUES (?1, ?2, 1)",
        params![&hash.0[..], family],
    )?;
    tx.commit()?;
    Ok(NewFamily {
        family,
        token,
        absolute_expiry_ms,
    })
}

struct Family {
    id: String,
    username: String,
    absolute_expiry_ms: u64,
    last_used_ms: u64,
    current_hash: Vec<u8>,
    previous_hash: Option<Vec<u8>>,
    rotated_ms: u64,
    grace_used: bool,
    generation: i64,
    revoked: bool,
}

/// The family that ever issued `hash`, if any.
fn family_of(tx: &Transaction<'_>, hash: &TokenHash) -> Result<Option<Family>, DbError> {
    let id: Option<String> = tx
        .query_row(
            "SELECT family_id FROM refresh_tokens WHERE hash = ?1",
            params![&hash.0[..]],
            |row| row.get(0),
        )
        .optional()?;
    let Some(id) = id else { return Ok(None) };
    Ok(tx
        .query_row(
            "SELECT id, username, absolute_expiry_ms, last_used_ms, current_hash, previous_hash,
                    rotated_ms, grace_used, generation, revoked_ms IS NOT NULL
             FROM families WHERE id = ?1",
            params![id],
            |row| {
                Ok(Family {
                    id: row.get(0)?,
                    username: row.get(1)?,
                    absolute_expiry_ms: from_sql(row.get(2)?),
                    last_used_ms: from_sql(row.get(3)?),
                    current_hash: row.get(4)?,
                    previous_hash: row.get(5)?,
                    rotated_ms: from_sql(row.get(6)?),
                    grace_used: row.get(7)?,
                    generation: row.get(8)?,
                    revoked: row.get(9)?,
                })
            },
        )
        .optional()?)
}

fn revoke(
    tx: &Transaction<'_>,
    family: &str,
    now_ms: u64,
    reason: &str,
    policy: Policy,
) -> Result<(), DbError> {
    let changed = tx.execute(
        "UPDATE families SET revoked_ms = ?2, revoked_reason = ?3 WHERE id = ?1 AND revoked_ms IS NULL",
        params![family, to_sql(now_ms), reason],
    )?;
    if changed > 0 {
        db::revoke_session(tx, family, policy.revoked_until(now_ms))?;
    }
    Ok(())
}

/// The family as a [`Session`], with the user's current name and scope.
fn session(tx: &Transaction<'_>, family: &Family) -> Result<Option<Session>, DbError> {
    Ok(tx
        .query_row(
            "SELECT name, scope FROM users WHERE username = ?1",
            params![family.username],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?
        .map(|(name, scope)| Session {
            family: family.id.clone(),
            username: family.username.clone(),
            name,
            scope,
            absolute_expiry_ms: family.absolute_expiry_ms,
        }))
}

/// Refreshes with the token whose hash is `presented`; `next` becomes the new
/// refresh token if the family rotates. One transaction: concurrent refreshes of
/// one family are serialised by the connection lock.
pub fn refresh(
    conn: &mut Connection,
    presented: &TokenHash,
    next: RefreshToken,
    now_ms: u64,
    policy: Policy,
) -> Result<Result<Refreshed, Rejected>, DbError> {
    let tx = conn.transaction()?;
    let Some(family) = family_of(&tx, presented)? else {
        return Ok(Err(Rejected::Unknown));
    };
    let id = family.id.clone();
    let reject =
        |tx: Transaction<'_>, why: Rejected| -> Result<Result<Refreshed, Rejected>, DbError> {
            revoke(&tx, &id, now_ms, why.reason(), policy)?;
            tx.commit()?;
            Ok(Err(why))
        };
    if family.revoked {
        return Ok(Err(Rejected::Revoked { family: id.clone() }));
    }
    if now_ms >= family.absolute_expiry_ms {
        return reject(tx, Rejected::Expired { family: id.clone() });
    }
    let idle = now_ms >= family.last_used_ms.saturating_add(policy.idle_ms);

    if presented.matches(&family.current_hash) {
        if idle {
            return reject(tx, Rejected::IdleExpired { family: id.clone() });
        }
        let Some(session) = session(&tx, &family)? else {
            return reject(tx, Rejected::UserGone { family: id.clone() });
        };
        let next_hash = next.hash();
        let generation = family.generation + 1;
        tx.execute(
            "UPDATE families SET previous_hash = current_hash, current_hash = ?2, rotated_ms = ?3,
                                 last_used_ms = ?3, grace_used = 0, generation = ?4
             WHERE id = ?1",
            params![id, &next_hash.0[..], to_sql(now_ms), generation],
        )?;
        tx.execute(
            "INSERT INTO refresh_tokens (hash, family_id, generation) VALUES (?1, ?2, ?3)",
            params![&next_hash.0[..], id, generation],
        )?;
        tx.commit()?;
        return Ok(Ok(Refreshed::Rotated {
            session,
            token: next,
        }));
    }

    let is_previous = family
        .previous_hash
        .as_deref()
        .is_some_and(|prev| presented.matches(prev));
    let in_grace = policy.grace_ms > 0
        && !family.grace_used
        && now_ms <= family.rotated_ms.saturating_add(policy.grace_ms);
    if is_previous && in_grace && !idle {
        let Some(session) = session(&tx, &family)? else {
            return reject(tx, Rejected::UserGone { family: id.clone() });
        };
        tx.execute(
            "UPDATE families SET grace_used = 1, last_used_ms = ?2 WHERE id = ?1",
            params![id, to_sql(now_ms)],
        )?;
        tx.commit()?;
        return Ok(Ok(Refreshed::Grace { session }));
    }
    // The predecessor outside the window, or any older token of the family.
    reject(tx, Rejected::Reused { family: id.clone() })
}

/// Revokes the family that issued `presented` (any of its tokens); returns its id.
pub fn revoke_presented(
    conn: &mut Connection,
    presented: &TokenHash,
    now_ms: u64,
    reason: &str,
    policy: Policy,
) -> Result<Option<String>, DbError> {
    let tx = conn.transaction()?;
    let Some(family) = family_of(&tx, presented)? else {
        return Ok(None);
    };
    revoke(&tx, &family.id, now_ms, reason, policy)?;
    tx.commit()?;
    Ok(Some(family.id))
}

/// Revokes family `id` (named by an access token's `sid`); false if no such family.
pub fn revoke_family(
    conn: &mut Connection,
    id: &str,
    now_ms: u64,
    reason: &str,
    policy: Policy,
) -> Result<bool, DbError> {
    let tx = conn.transaction()?;
    let known = tx
        .query_row("SELECT 1 FROM families WHERE id = ?1", params![id], |_| {
            Ok(())
        })
        .optional()?
        .is_some();
    if known {
        revoke(&tx, id, now_ms, reason, policy)?;
    }
    tx.commit()?;
    Ok(known)
}

/// The family that issued `presented` and the hash of that family's previous
/// token, if it has rotated at least once (for the `/test/replay` attack).
pub fn previous_of(
    conn: &mut Connection,
    presented: &TokenHash,
) -> Result<Option<(String, Option<TokenHash>)>, DbError> {
    let tx = conn.transaction()?;
    let family = family_of(&tx, presented)?;
    Ok(family.map(|f| {
        let previous = f
            .previous_hash
            .and_then(|p| <[u8; 32]>::try_from(p.as_slice()).ok())
            .map(TokenHash);
        (f.id, previous)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DbPath;
    use crate::db::{purge, Db};
    use crate::users::{self, User};

    const T0: u64 = 1_000_000;
    const POLICY: Policy = Policy {
        absolute_ms: 100_000,
        idle_ms: 10_000,
        grace_ms: 0,
        access_ttl_ms: 5_000,
    };

    fn db() -> Db {
        let db = Db::open(&DbPath::Memory).unwrap();
        let user = User {
            username: "ann".into(),
            name: "Ann".into(),
            scope: "read".into(),
            password_hash: "unused".into(),
        };
        db.call_blocking(|c| users::store(c, &[user])).unwrap();
        db
    }

    fn login(db: &Db, now: u64) -> NewFamily {
        db.call_blocking(|c| {
            start(
                c,
                "ann",
                RefreshToken::generate().unwrap(),
                "fam".into(),
                now,
                POLICY,
            )
        })
        .unwrap()
    }

    fn refresh_at(
        db: &Db,
        token: &RefreshToken,
        now: u64,
        policy: Policy,
    ) -> Result<Refreshed, Rejected> {
        db.call_blocking(|c| {
            refresh(
                c,
                &token.hash(),
                RefreshToken::generate().unwrap(),
                now,
                policy,
            )
        })
        .unwrap()
    }

    fn rotated(r: Result<Refreshed, Rejected>) -> RefreshToken {
        match r {
            Ok(Refreshed::Rotated { token, session }) => {
                assert_eq!(session.scope, "read");
                token
            }
            other => panic!("expected a rotation, got {other:?}"),
        }
    }

    #[test]
    fn rotation_invalidates_the_old_token_and_reuse_kills_the_family() {
        let db = db();
        let first = login(&db, T0).token;
        let second = rotated(refresh_at(&db, &first, T0 + 1, POLICY));
        let third = rotated(refresh_at(&db, &second, T0 + 2, POLICY));
        // The first token is two generations old: reuse, family revoked.
        assert_eq!(
            refresh_at(&db, &first, T0 + 3, POLICY).unwrap_err(),
            Rejected::Reused {
                family: "fam".into()
            }
        );
        assert_eq!(
            db.call_blocking(|c| db::revoked_sessions(c, T0 + 3))
                .unwrap(),
            vec![("fam".to_string(), T0 + 3 + 5_000 + 1_000)]
        );
        assert!(!db
            .call_blocking(|c| revoke_family(c, "nope", T0, "logout", POLICY))
            .unwrap());
        assert_eq!(
            refresh_at(&db, &third, T0 + 4, POLICY).unwrap_err(),
            Rejected::Revoked {
                family: "fam".into()
            }
        );
        assert_eq!(
            refresh_at(&db, &RefreshToken::generate().unwrap(), T0, POLICY).unwrap_err(),
            Rejected::Unknown
        );
    }

    #[test]
    fn predecessor_is_reuse_without_grace() {
        let db = db();
        let first = login(&db, T0).token;
        let second = rotated(refresh_at(&db, &first, T0 + 1, POLICY));
        assert!(matches!(
            refresh_at(&db, &first, T0 + 2, POLICY),
            Err(Rejected::Reused { .. })
        ));
        assert!(matches!(
            refresh_at(&db, &second, T0 + 3, POLICY),
            Err(Rejected::Revoked { .. })
        ));
    }

    #[test]
    fn grace_honours_the_predecessor_once_inside_the_window() {
        let grace = Policy {
            grace_ms: 500,
            ..POLICY
        };
        let db = db();
        let first = login(&db, T0).token;
        let second = rotated(refresh_at(&db, &first, T0, grace));
        assert!(matches!(
            refresh_at(&db, &first, T0 + 500, grace),
            Ok(Refreshed::Grace { .. })
        ));
        // Once only.
        assert!(matches!(
            refresh_at(&db, &first, T0 + 501, grace),
            Err(Rejected::Reused { .. })
        ));
        assert!(matches!(
            refresh_at(&db, &second, T0 + 502, grace),
            Err(Rejected::Revoked { .. })
        ));

        let db2 = self::db();
        let first = login(&db2, T0).token;
        let second = rotated(refresh_at(&db2, &first, T0, grace));
        // After the window: reuse.
        assert!(matches!(
            refresh_at(&db2, &first, T0 + 501, grace),
            Err(Rejected::Reused { .. })
        ));
        assert!(refresh_at(&db2, &second, T0 + 502, grace).is_err());

        // The grace use does not rotate: the current token still works afterwards,
        // and the grace allowance is renewed by the next rotation.
        let db3 = self::db();
        let first = login(&db3, T0).token;
        let second = rotated(refresh_at(&db3, &first, T0, grace));
        assert!(matches!(
            refresh_at(&db3, &first, T0 + 10, grace),
            Ok(Refreshed::Grace { .. })
        ));
        let third = rotated(refresh_at(&db3, &second, T0 + 20, grace));
        assert!(matches!(
            refresh_at(&db3, &second, T0 + 30, grace),
            Ok(Refreshed::Grace { .. })
        ));
        rotated(refresh_at(&db3, &third, T0 + 40, grace));
    }

    #[test]
    fn idle_and_absolute_expiry() {
        let db = db();
        let first = login(&db, T0).token;
        // Each use resets the idle clock...
        let mut token = first;
        let mut now = T0;
        for _ in 0..5 {
            now += POLICY.idle_ms - 1;
            token = rotated(refresh_at(&db, &token, now, POLICY));
        }
        // ...until idle for the whole idle lifetime.
        assert!(matches!(
            refresh_at(&db, &token, now + POLICY.idle_ms, POLICY),
            Err(Rejected::IdleExpired { .. })
        ));

        let db = self::db();
        let NewFamily {
            mut token,
            absolute_expiry_ms,
            ..
        } = login(&db, T0);
        let mut now = T0;
        while now + 9_000 < absolute_expiry_ms {
            now += 9_000;
            token = rotated(refresh_at(&db, &token, now, POLICY));
        }
        assert!(matches!(
            refresh_at(&db, &token, absolute_expiry_ms, POLICY),
            Err(Rejected::Expired { .. })
        ));
    }

    #[test]
    fn removed_user_cannot_refresh() {
        let db = db();
        let first = login(&db, T0).token;
        db.call_blocking(|c| users::store(c, &[])).unwrap();
        assert!(matches!(
            refresh_at(&db, &first, T0 + 1, POLICY),
            Err(Rejected::UserGone { .. })
        ));
    }

    #[test]
    fn revoke_and_previous_and_purge() {
        let db = db();
        let first = login(&db, T0).token;
        let (fam, prev) = db
            .call_blocking(|c| previous_of(c, &first.hash()))
            .unwrap()
            .unwrap();
        assert_eq!(fam, "fam");
        assert!(prev.is_none());
        let second = rotated(refresh_at(&db, &first, T0 + 1, POLICY));
        let (_, prev) = db
            .call_blocking(|c| previous_of(c, &second.hash()))
            .unwrap()
            .unwrap();
        assert!(prev.unwrap().matches(&first.hash().0));
        let revoked = db
            .call_blocking(|c| revoke_presented(c, &second.hash(), T0 + 2, "logout", POLICY))
            .unwrap();
        assert_eq!(revoked.as_deref(), Some("fam"));
        // The family's access tokens are refused until the last one has expired.
        let sessions = db
            .call_blocking(|c| db::revoked_sessions(c, T0 + 2))
            .unwrap();
        assert_eq!(sessions, vec![("fam".to_string(), T0 + 2 + 5_000 + 1_000)]);
        assert!(matches!(
            refresh_at(&db, &second, T0 + 3, POLICY),
            Err(Rejected::Revoked { .. })
        ));

        // Purge: nothing before the idle expiry, everything after.
        let purged = db
            .call_blocking(|c| purge(c, T0 + 2, POLICY.idle_ms))
            .unwrap();
        assert_eq!(purged.families, 0);
        let purged = db
            .call_blocking(|c| purge(c, T0 + 1 + POLICY.idle_ms, POLICY.idle_ms))
            .unwrap();
        assert_eq!((purged.families, purged.tokens), (1, 2));
        assert_eq!(
            refresh_at(&db, &second, T0 + 3, POLICY).unwrap_err(),
            Rejected::Unknown
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let token = RefreshToken::generate().unwrap();
        assert!(!format!("{token:?} {:?}", token.hash()).contains(token.expose()));
        assert_eq!(token.expose().len(), 43);
    }
}
