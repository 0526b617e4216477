//! The pure, platform-free core of token-warden.
//!
//! Nothing in here touches the browser, a clock or a random source: the
//! browser layer feeds time (`now_ms`) and jitter (`rand01`) in, and turns the
//! returned [`Effect`]s into fetches, timers and events. That keeps every
//! decision testable natively with a manual clock.

pub mod challenge;
pub mod claims;
pub mod config;
pub mod error;
pub mod error_response;
pub mod events;
pub mod expiry;
pub mod field;
pub mod origin;
pub mod retry;
pub mod schedule;
pub mod secret;
pub mod session;
pub mod token_response;
pub mod token_syntax;
pub mod version;

// proptest needs OS randomness, which wasm32-unknown-unknown lacks.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests;

pub use challenge::{bearer_error, BearerError};
pub use claims::{Claims, JwtClaims, Subject};
pub use config::Config;
pub use error::{endpoint_of, Answer, At, Error, Operation};
pub use error_response::{classify_error_response, retry_after_ms, ErrorResponse, RefreshFailure};
pub use events::{Effect, EndReason, Event, Input, Phase, Want};
pub use expiry::{ExpiryPolicy, ExpirySource};
pub use field::Field;
pub use origin::{origin_of, AllowedOrigins};
pub use retry::{backoff_delay_ms, clamp_timer_delay, RetryPolicy, MAX_TIMER_DELAY_MS};
pub use schedule::{refresh_at_ms, RefreshBudget};
pub use secret::AccessToken;
pub use session::Session;
pub use token_response::{TokenGrant, TokenResponse};
pub use token_syntax::validate_bearer_token;
pub use version::VERSION;

/// Tokens bigger than this are refused by default: an access token is sent on
/// every API request, and a multi-kilobyte one is almost certainly a server bug.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8192;

/// Refresh this long before expiry by default, so in-flight API calls never
/// race the expiry moment.
pub const DEFAULT_REFRESH_LEAD_MS: u64 = 60_000;

/// Default timeout of one of our requests, and of waiting for a token.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;

/// Default ceiling on refresh requests per rolling minute.
pub const DEFAULT_MAX_REFRESHES_PER_MINUTE: u32 = 10;

/// Default number of refresh requests in one cycle before giving up.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Default first backoff step.
pub const DEFAULT_BASE_DELAY_MS: u64 = 1_000;

/// Default largest backoff step (before `Retry-After` is considered).
pub const DEFAULT_MAX_DELAY_MS: u64 = 30_000;

/// No token is trusted to live longer than a year: anything longer is a server
/// bug or a unit mix-up (ms sent as s), and would make the timer useless.
pub const MAX_LIFETIME_MS: u64 = 31_536_000_000;

/// Upper bound for any server-requested or computed wait, so a hostile or
/// buggy `Retry-After` cannot park the session for days.
pub const MAX_WAIT_MS: u64 = 3_600_000;
