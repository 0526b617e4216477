//! Login throttling: failed logins are counted per account and per client address
//! with `governor` (GCRA) rate limiters, in two tiers each: `N` failures a minute and
//! `4 N` an hour. Once a tier is exhausted, the account or address is refused with
//! 429 and `Retry-After` *before* any password hash is computed, until the tier lets
//! one more failure through. So the delay grows: after a burst of `N` failures it is
//! `60/N` s per further guess, and once `4 N` failures have been spent within the
//! hour, `900/N` s (for the default `N = 5` per account: 12 s, then 3 min).
//!
//! * Per account, only failures since the account's last successful login count: a
//!   successful login starts a fresh count (the owner who mistypes is not penalised;
//!   an attacker cannot log in without the password, so cannot reset it). Unknown
//!   accounts are counted like known ones, so a 429 tells nothing about existence.
//!   While an account is throttled, its owner is refused too (the price of
//!   per-account limits; the wait is bounded by the tiers above).
//! * Per address (the TCP peer; an IPv6 address counts by its /64), every failure
//!   counts and a success resets nothing, so one valid account does not buy an
//!   attacker more guesses at others. Behind a reverse proxy every client shares the
//!   proxy's address: raise or turn off this limit there.
//!
//! The clock is the server's [`Clock`], so tests move time by hand.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::clock::Clock;

/// The longest username used as a throttling key (longer names are cut).
const MAX_KEY_BYTES: usize = 256;

/// The server clock as a `governor` clock (ns since the epoch).
#[derive(Clone)]
struct ServerClock(Arc<dyn Clock>);

impl GovernorClock for ServerClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(Duration::from_millis(self.0.now_ms()))
    }
}

type Limiter<K> = RateLimiter<K, DashMapStateStore<K>, ServerClock, NoOpMiddleware<Nanos>>;

/// Two tiers of failure limits for one kind of key, and until when each throttled
/// key is refused.
struct Limit<K: Hash + Eq + Clone> {
    tiers: [Limiter<K>; 2],
    blocked: Mutex<HashMap<K, u64>>,
    clock: ServerClock,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    /// `per_minute` failures a minute and four times that an hour; `None` if 0.
    fn new(per_minute: u32, clock: &ServerClock) -> Option<Self> {
        let burst = NonZeroU32::new(per_minute)?;
        let hourly = burst.saturating_mul(NonZeroU32::new(4)?);
        let quota = |burst: NonZeroU32, window: Duration| {
            Quota::with_period(window / burst.get())
                .map(|q| q.allow_burst(burst))
                .unwrap_or_else(|| Quota::per_second(burst))
        };
        Some(Self {
            tiers: [
                Limiter::dashmap_with_clock(quota(burst, Duration::from_secs(60)), clock.clone()),
                Limiter::dashmap_with_clock(
                    quota(hourly, Duration::from_secs(3600)),
                    clock.clone(),
                ),
            ],
            blocked: Mutex::default(),
            clock: clock.clone(),
        })
    }

    /// How long `key` must still wait, if it is throttled at `now_ms`.
    fn wait(&self, key: &K, now_ms: u64) -> Option<Duration> {
        let blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        let until = *blocked.get(key)?;
        (until > now_ms).then(|| Duration::from_millis(until - now_ms))
    }

    /// Counts a failure of `key`; once a tier is spent, `key` is throttled until the
    /// tier would let the next failure through.
    fn failed(&self, key: &K, now_ms: u64) {
        let now = self.clock.now();
        let until = self
            .tiers
            .iter()
            .filter_map(|tier| tier.check_key(key).err())
            .map(|not_until| {
                let wait = not_until.wait_time_from(now);
                now_ms.saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
            })
            .max();
        if let Some(until) = until.filter(|until| *until > now_ms) {
            let mut blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = blocked.entry(key.clone()).or_insert(until);
            *entry = (*entry).max(until);
        }
    }

    /// Forgets keys whose limits have fully recovered.
    fn purge(&self, now_ms: u64) {
        self.blocked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, until| *until > now_ms);
        for tier in &self.tiers {
            tier.retain_recent();
            tier.shrink_to_fit();
        }
    }
}

/// The account key: the username (cut to [`MAX_KEY_BYTES`]) and how many successful
/// logins it had, so that a success starts a fresh count.
type AccountKey = (String, u64);

/// Per-account and per-address login throttling (see the module docs).
pub struct LoginThrottle {
    accounts: Option<Limit<AccountKey>>,
    addresses: Option<Limit<IpAddr>>,
    successes: Mutex<HashMap<String, u64>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("accounts", &self.accounts.is_some())
            .field("addresses", &self.addresses.is_some())
            .finish_non_exhaustive()
    }
}

/// Who is throttled, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    /// Too many failures for this account.
    Account(Duration),
    /// Too many failures from this address.
    Address(Duration),
}

impl Throttled {
    /// How long to wait (the longer of the two if both apply).
    pub fn wait(self) -> Duration {
        match self {
            Self::Account(wait) | Self::Address(wait) => wait,
        }
    }

    /// `account` or `address`.
    pub fn scope(self) -> &'static str {
        match self {
            Self::Account(_) => "account",
            Self::Address(_) => "address",
        }
    }

    /// The `Retry-After` value: whole seconds, at least 1.
    pub fn retry_after_secs(self) -> u64 {
        self.wait().as_millis().div_ceil(1000).max(1) as u64
    }
}

impl LoginThrottle {
    /// `per_account` and `per_address` failures a minute (0 turns that limit off).
    pub fn new(per_account: u32, per_address: u32, clock: Arc<dyn Clock>) -> Self {
        let server_clock = ServerClock(clock.clone());
        Self {
            accounts: Limit::new(per_account, &server_clock),
            addresses: Limit::new(per_address, &server_clock),
            successes: Mutex::default(),
            clock,
        }
    }

    fn account_key(&self, username: &str) -> AccountKey {
        let name = cut(username).to_string();
        let successes = self
            .successes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&name)
            .copied()
            .unwrap_or(0);
        (name, successes)
    }

    /// `Some` if a login for `username` from `address` must be refused now, before
    /// its password is checked.
    pub fn check(&self, username: &str, address: IpAddr) -> Option<Throttled> {
        let now = self.clock.now_ms();
        let address = self
            .addresses
            .as_ref()
            .and_then(|limit| limit.wait(&address_key(address), now))
            .map(Throttled::Address);
        let account = self
            .accounts
            .as_ref()
            .and_then(|limit| limit.wait(&self.account_key(username), now))
            .map(Throttled::Account);
        match (account, address) {
            (Some(a), Some(b)) => Some(if a.wait() >= b.wait() { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    /// Counts a failed login.
    pub fn failed(&self, username: &str, address: IpAddr) {
        let now = self.clock.now_ms();
        if let Some(limit) = &self.addresses {
            limit.failed(&address_key(address), now);
        }
        if let Some(limit) = &self.accounts {
            limit.failed(&self.account_key(username), now);
        }
    }

    /// A successful login: the account's failures are forgotten (the address's are not).
    pub fn succeeded(&self, username: &str) {
        let mut successes = self
            .successes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *successes.entry(cut(username).to_string()).or_insert(0) += 1;
    }

    /// Forgets what no longer limits anybody (called by the periodic purge).
    pub fn purge(&self) {
        let now = self.clock.now_ms();
        if let Some(limit) = &self.accounts {
            limit.purge(now);
        }
        if let Some(limit) = &self.addresses {
            limit.purge(now);
        }
    }
}

/// An IPv4 address as is (IPv4-mapped IPv6 too); an IPv6 address by its /64, which
/// one client usually holds whole.
fn address_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// `name` cut to at most [`MAX_KEY_BYTES`] on a character boundary.
fn cut(name: &str) -> &str {
    let mut end = name.len().min(MAX_KEY_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_burst_then_a_growing_wait() {
        let clock = ManualClock::new(1_000_000);
        let throttle = LoginThrottle::new(5, 0, Arc::new(clock.clone()));
        let from = ip("192.0.2.1");
        let mut failures = 0;
        while throttle.check("ann", from).is_none() {
            throttle.failed("ann", from);
            failures += 1;
            assert!(failures < 100);
        }
        assert_eq!(
            failures, 6,
            "5 a minute, and the 6th is counted before the block"
        );
        let first = throttle.check("ann", from).unwrap();
        assert_eq!(first.scope(), "account");
        assert!(first.retry_after_secs() <= 12, "{first:?}");
        // Guessing at the allowed pace spends the hourly tier: the wait grows.
        let mut last = first;
        for _ in 0..30 {
            clock.advance(last.wait());
            let mut guesses = 0;
            last = loop {
                if let Some(t) = throttle.check("ann", from) {
                    break t;
                }
                throttle.failed("ann", from);
                guesses += 1;
                assert!(guesses <= 5);
            };
        }
        assert!(last.retry_after_secs() >= 150, "{last:?}");
        // Other accounts are not affected; a success starts a fresh count.
        assert!(throttle.check("bob", from).is_none());
        throttle.succeeded("ann");
        assert!(throttle.check("ann", from).is_none());
    }

    #[test]
    fn addresses_count_every_failure_and_ipv6_by_its_slash_64() {
        let clock = ManualClock::new(1_000_000);
        let throttle = LoginThrottle::new(0, 3, Arc::new(clock.clone()));
        for i in 0..4 {
            assert!(throttle
                .check(&format!("u{i}"), ip("2001:db8::1"))
                .is_none());
            throttle.failed(&format!("u{i}"), ip(&format!("2001:db8::{}", i + 1)));
            throttle.succeeded(&format!("u{i}"));
        }
        let t = throttle.check("anyone", ip("2001:db8::ffff")).unwrap();
        assert_eq!(t.scope(), "address");
        assert!(throttle.check("anyone", ip("2001:db8:0:1::1")).is_none());
        assert!(throttle.check("anyone", ip("192.0.2.1")).is_none());
        clock.advance(t.wait());
        assert!(throttle.check("anyone", ip("2001:db8::1")).is_none());
        throttle.purge();
    }

    #[test]
    fn off_means_off_and_long_names_are_cut() {
        let throttle = LoginThrottle::new(0, 0, Arc::new(ManualClock::new(0)));
        for _ in 0..100 {
            throttle.failed("x", ip("192.0.2.1"));
        }
        assert!(throttle.check("x", ip("192.0.2.1")).is_none());
        let long = "é".repeat(300);
        assert!(cut(&long).len() <= MAX_KEY_BYTES);
        assert!(long.starts_with(cut(&long)));
    }
}
