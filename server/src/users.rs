//! The people who can sign in: read from a TOML file whose passwords are stored only
//! as Argon2id PHC hashes, copied into SQLite at startup, checked at login.
//!
//! ```toml
//! # demo-login: alice / wonderland-42
//! [[user]]
//! username = "alice"
//! name = "Alice"
//! scope = "read"
//! password_hash = "$argon2id$v=19$m=19456,t=2,p=1$..."
//! ```
//!
//! `# demo-login: USER / PASSWORD` comments are the only place a plain password may
//! appear; the server prints them at startup so a person can sign in to the demo.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::db::DbError;

/// Why the users file was refused.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// It could not be read.
    #[error("users file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// It is not the expected TOML.
    #[error("users file: {0}")]
    Parse(String),
    /// A user entry is unusable.
    #[error("users file, user {user:?}: {why}")]
    Invalid {
        /// Which user.
        user: String,
        /// What is wrong.
        why: String,
    },
    /// Hashing failed (bad parameters or no randomness).
    #[error("password hashing: {0}")]
    Hash(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(rename = "user", default)]
    users: Vec<UserEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    username: String,
    name: Option<String>,
    #[serde(default)]
    scope: String,
    password_hash: String,
}

/// One user who can sign in.
#[derive(Clone)]
pub struct User {
    /// The login name and the tokens' `sub`.
    pub username: String,
    /// A display name.
    pub name: String,
    /// Space-separated scopes, e.g. `read admin`.
    pub scope: String,
    /// The Argon2id PHC string.
    pub password_hash: String,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The parsed users file.
#[derive(Debug, Clone, Default)]
pub struct Users {
    /// The users, in file order.
    pub list: Vec<User>,
    /// `(username, password)` pairs from `# demo-login:` comments.
    pub demo_logins: Vec<(String, String)>,
}

impl Users {
    /// Reads and checks a users file.
    pub fn load(path: &Path) -> Result<Self, UsersError> {
        let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and checks the text of a users file.
    pub fn parse(text: &str) -> Result<Self, UsersError> {
        let file: UsersFile = toml::from_str(text).map_err(|e| UsersError::Parse(e.to_string()))?;
        let mut list: Vec<User> = Vec::new();
        for entry in file.users {
            let invalid = |why: &str| UsersError::Invalid {
                user: entry.username.clone(),
                why: why.into(),
            };
            if entry.username.is_empty() || entry.username.chars().any(char::is_control) {
                return Err(invalid("bad username"));
            }
            if list.iter().any(|u| u.username == entry.username) {
                return Err(invalid("listed twice"));
            }
            let hash = PasswordHash::new(&entry.password_hash)
                .map_err(|e| invalid(&format!("password_hash is not a PHC string: {e}")))?;
            if hash.algorithm.as_str() != "argon2id" {
                return Err(invalid("password_hash must be Argon2id"));
            }
            Params::try_from(&hash).map_err(|e| invalid(&format!("bad Argon2 parameters: {e}")))?;
            list.push(User {
                name: entry.name.unwrap_or_else(|| entry.username.clone()),
                username: entry.username,
                scope: entry.scope.split_whitespace().collect::<Vec<_>>().join(" "),
                password_hash: entry.password_hash,
            });
        }
        let demo_logins = text
            .lines()
            .filter_map(|line| line.trim().strip_prefix("# demo-login:"))
            .filter_map(|rest| rest.split_once(" / "))
            .map(|(user, password)| (user.trim().to_string(), password.trim().to_string()))
            .collect();
        Ok(Self { list, demo_logins })
    }
}

/// Replaces the users table with `users` (sessions of removed users stop refreshing).
pub fn store(conn: &mut Connection, users: &[User]) -> Result<(), DbError> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM users", [])?;
    for user in users {
        tx.execute(
            "INSERT INTO users (username, name, scope, password_hash) VALUES (?1, ?2, ?3, ?4)",
            params![user.username, user.name, user.scope, user.password_hash],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Looks a user up by name.
pub fn find(conn: &mut Connection, username: &str) -> Result<Option<User>, DbError> {
    Ok(conn
        .query_row(
            "SELECT username, name, scope, password_hash FROM users WHERE username = ?1",
            params![username],
            |row| {
                Ok(User {
                    username: row.get(0)?,
                    name: row.get(1)?,
                    scope: row.get(2)?,
                    password_hash: row.get(3)?,
                })
            },
        )
        .optional()?)
}

/// Checks passwords so that an unknown user costs as much as a known one.
///
/// The Argon2 work memory (`m` KiB per hash: 19 MiB for the demo users) comes from a
/// pool of buffers that are kept and reused, not allocated per login: with the
/// allocation per hash that `argon2`'s own `verify_password` does, the process kept
/// almost every hash's memory (fragmentation), 2.3 GiB after 128 logins even one at
/// a time. Callers bound how many checks run at once (`AppState::hash_permits`), so
/// the pool holds at most that many buffers.
#[derive(Clone)]
pub struct PasswordCheck {
    dummy_hash: String,
    pool: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl fmt::Debug for PasswordCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordCheck")
    }
}

impl PasswordCheck {
    /// Prepares a dummy hash with the parameters of the first user (else the
    /// Argon2 defaults), so verifying against it takes as long as a real check.
    pub fn new(users: &[User]) -> Result<Self, UsersError> {
        let params = users
            .first()
            .and_then(|u| PasswordHash::new(&u.password_hash).ok())
            .and_then(|h| Params::try_from(&h).ok())
            .unwrap_or_default();
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| UsersError::Hash(e.to_string()))?;
        let dummy_hash = hash_with(&random, params)?;
        Ok(Self {
            dummy_hash,
            pool: Arc::default(),
        })
    }

    /// True if `password` matches `stored`; with no stored hash, burns the same
    /// time against the dummy and answers false. Blocking (one Argon2 hash).
    pub fn verify(&self, stored: Option<&str>, password: &str) -> bool {
        let mut memory = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        let matches = match stored {
            Some(phc) => verify_with(phc, password.as_bytes(), &mut memory),
            None => {
                let _ = verify_with(&self.dummy_hash, password.as_bytes(), &mut memory);
                false
            }
        };
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(memory);
        matches
    }
}

/// Checks `password` against the Argon2 PHC string `phc`, hashing in `memory`
/// (grown to the hash's `m` if needed). False for anything malformed.
fn verify_with(phc: &str, password: &[u8], memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(hash.algorithm.as_str()),
        Params::try_from(&hash),
    ) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
        .is_ok_and(|()| bool::from(out.as_slice().ct_eq(expected.as_bytes())))
}

/// Hashes a password with Argon2id and the default (OWASP) parameters.
pub fn hash_password(password: &str) -> Result<String, UsersError> {
    hash_with(password.as_bytes(), Params::default())
}

/// Hashes with Argon2id v19 and `params` (tests use cheap parameters).
pub fn hash_with(password: &[u8], params: Params) -> Result<String, UsersError> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password)
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Hash(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Params {
        Params::new(Params::MIN_M_COST, 1, 1, None).unwrap()
    }

    fn file(hash: &str) -> String {
        format!(
            "# demo-login: ann / pw-1\n[[user]]\nusername = \"ann\"\nscope = \" read  admin \"\npassword_hash = \"{hash}\"\n"
        )
    }

    #[test]
    fn parses_checks_and_verifies() {
        let hash = hash_with(b"pw-1", cheap()).unwrap();
        let users = Users::parse(&file(&hash)).unwrap();
        assert_eq!(users.list.len(), 1);
        assert_eq!(users.list[0].name, "ann");
        assert_eq!(users.list[0].scope, "read admin");
        assert_eq!(users.demo_logins, vec![("ann".into(), "pw-1".into())]);
        let check = PasswordCheck::new(&users.list).unwrap();
        assert!(check.verify(Some(&hash), "pw-1"));
        assert!(!check.verify(Some(&hash), "pw-2"));
        assert!(!check.verify(None, "pw-1"));
        assert!(!format!("{:?}", users.list[0]).contains("argon2"));
    }

    #[test]
    fn pooled_memory_gives_the_same_answers_for_any_cost() {
        let users = Users::parse(&file(&hash_with(b"pw-1", cheap()).unwrap())).unwrap();
        let check = PasswordCheck::new(&users.list).unwrap();
        let small = hash_with(b"a", cheap()).unwrap();
        let bigger = hash_with(b"b", Params::new(64, 2, 2, None).unwrap()).unwrap();
        let v10 = Argon2::new(Algorithm::Argon2id, Version::V0x10, cheap())
            .hash_password(b"c")
            .unwrap()
            .to_string();
        for _ in 0..2 {
            assert!(check.verify(Some(&bigger), "b"));
            assert!(check.verify(Some(&small), "a"));
            assert!(!check.verify(Some(&small), "b"));
            assert!(!check.verify(Some(&bigger), "a"));
            assert!(check.verify(Some(&v10), "c"));
        }
        for bad in [
            "",
            "$argon2id$v=19$m=8,t=1,p=1$bad",
            "$argon2id$v=99$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            assert!(!check.verify(Some(bad), "a"), "{bad}");
        }
        assert_eq!(
            check.pool.lock().unwrap().len(),
            1,
            "one check at a time, one buffer"
        );
    }

    #[test]
    fn refuses_plain_or_non_argon2id_hashes_and_duplicates() {
        assert!(Users::parse(&file("pw-1")).is_err());
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, cheap())
            .hash_password(b"x")
            .unwrap()
            .to_string();
        assert!(Users::parse(&file(&argon2i)).is_err());
        let hash = hash_with(b"pw", cheap()).unwrap();
        let twice = format!(
            "{}{}",
            file(&hash),
            file(&hash).replace("# demo-login: ann / pw-1\n", "")
        );
        assert!(Users::parse(&twice).is_err());
        assert!(Users::parse("[[user]]\nusername = \"x\"\npassword = \"plain\"\n").is_err());
    }

    #[test]
    fn the_committed_demo_file_matches_its_documented_passwords() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-users.toml");
        let users = Users::load(&path).unwrap();
        assert_eq!(users.demo_logins.len(), users.list.len());
        let check = PasswordCheck::new(&[]).unwrap();
        for (name, password) in &users.demo_logins {
            let user = users.list.iter().find(|u| &u.username == name).unwrap();
            assert!(check.verify(Some(&user.password_hash), password), "{name}");
            assert!(!user.password_hash.contains(password.as_str()));
        }
        let bob = users.list.iter().find(|u| u.username == "bob").unwrap();
        assert!(bob.scope.split(' ').any(|s| s == "admin"));
    }
}
