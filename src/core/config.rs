//! Session configuration and its validation.

use super::expiry::ExpiryPolicy;
use super::retry::RetryPolicy;
use super::{
    Error, DEFAULT_MAX_REFRESHES_PER_MINUTE, DEFAULT_REFRESH_LEAD_MS, DEFAULT_REQUEST_TIMEOUT_MS,
    MAX_LIFETIME_MS, MAX_WAIT_MS,
};

/// Everything that tunes the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// How long before expiry to refresh (capped at half the lifetime).
    pub refresh_lead_ms: u64,
    /// Backoff for transient refresh failures.
    pub retry: RetryPolicy,
    /// How token responses are judged.
    pub expiry: ExpiryPolicy,
    /// Ceiling on refresh requests per rolling minute.
    pub max_refreshes_per_minute: u32,
    /// The timeout of one of our requests (`requestTimeoutMs`), which also bounds how
    /// long `start()` and a caller waiting for a token wait (ms).
    pub request_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            refresh_lead_ms: DEFAULT_REFRESH_LEAD_MS,
            retry: RetryPolicy::default(),
            expiry: ExpiryPolicy::default(),
            max_refreshes_per_minute: DEFAULT_MAX_REFRESHES_PER_MINUTE,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
        }
    }
}

impl Config {
    /// Rejects settings that cannot work, so a typo fails at construction
    /// instead of as a refresh loop or a silent logout later. Field names are
    /// the JS option names.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |field: &str, reason: &str| {
            Err(Error::InvalidOptions {
                field: field.into(),
                reason: reason.into(),
            })
        };
        if self.refresh_lead_ms > MAX_LIFETIME_MS {
            return invalid("refreshLeadMs", "must be at most one year");
        }
        if self.retry.max_attempts == 0 || self.retry.max_attempts > 100 {
            return invalid("maxAttempts", "must be between 1 and 100");
        }
        if self.retry.max_delay_ms > MAX_WAIT_MS {
            return invalid("maxDelayMs", "must be at most one hour");
        }
        if self.retry.base_delay_ms > self.retry.max_delay_ms {
            return invalid("baseDelayMs", "must not exceed maxDelayMs");
        }
        if self.expiry.max_token_bytes == 0 {
            return invalid("maxTokenBytes", "must be positive");
        }
        match self.expiry.default_lifetime_ms {
            Some(0) => return invalid("defaultLifetimeMs", "must be positive"),
            Some(ms) if ms > MAX_LIFETIME_MS => {
                return invalid("defaultLifetimeMs", "must be at most one year")
            }
            _ => {}
        }
        if self.max_refreshes_per_minute == 0 {
            return invalid("maxRefreshesPerMinute", "must be positive");
        }
        if self.request_timeout_ms == 0 || self.request_timeout_ms > MAX_WAIT_MS {
            return invalid("requestTimeoutMs", "must be from 1 ms to one hour");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(c: Config) -> String {
        match c.validate() {
            Err(Error::InvalidOptions { field, .. }) => field,
            other => panic!("expected InvalidOptions, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.refresh_lead_ms, 60_000);
        assert_eq!(c.max_refreshes_per_minute, 10);
        assert_eq!(
            c.retry,
            RetryPolicy {
                max_attempts: 5,
                base_delay_ms: 1_000,
                max_delay_ms: 30_000
            }
        );
        assert_eq!(c.expiry.max_token_bytes, 8192);
        assert_eq!(c.request_timeout_ms, 10_000);
    }

    #[test]
    fn rejects_unworkable_settings() {
        let d = Config::default;
        assert_eq!(
            field(Config {
                refresh_lead_ms: u64::MAX,
                ..d()
            }),
            "refreshLeadMs"
        );
        assert_eq!(
            field(Config {
                retry: RetryPolicy {
                    max_attempts: 0,
                    ..d().retry
                },
                ..d()
            }),
            "maxAttempts"
        );
        assert_eq!(
            field(Config {
                retry: RetryPolicy {
                    max_delay_ms: u64::MAX,
                    ..d().retry
                },
                ..d()
            }),
            "maxDelayMs"
        );
        assert_eq!(
            field(Config {
                retry: RetryPolicy {
                    base_delay_ms: 60_000,
                    ..d().retry
                },
                ..d()
            }),
            "baseDelayMs"
        );
        assert_eq!(
            field(Config {
                expiry: ExpiryPolicy {
                    max_token_bytes: 0,
                    ..d().expiry
                },
                ..d()
            }),
            "maxTokenBytes"
        );
        assert_eq!(
            field(Config {
                expiry: ExpiryPolicy {
                    default_lifetime_ms: Some(0),
                    ..d().expiry
                },
                ..d()
            }),
            "defaultLifetimeMs"
        );
        assert_eq!(
            field(Config {
                expiry: ExpiryPolicy {
                    default_lifetime_ms: Some(u64::MAX),
                    ..d().expiry
                },
                ..d()
            }),
            "defaultLifetimeMs"
        );
        assert_eq!(
            field(Config {
                max_refreshes_per_minute: 0,
                ..d()
            }),
            "maxRefreshesPerMinute"
        );
        assert_eq!(
            field(Config {
                request_timeout_ms: 0,
                ..d()
            }),
            "requestTimeoutMs"
        );
    }
}
