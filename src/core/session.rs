//! The session state machine: decides when to refresh, what to tell the app
//! and what to do with waiting callers. Pure: time and randomness come in as
//! arguments, and decisions go out as [`Effect`]s.

use alloc::vec::Vec;

use super::claims::Claims;
use super::error_response::RefreshFailure;
use super::retry::backoff_delay_ms;
use super::schedule::{refresh_at_ms, RefreshBudget};
use super::secret::AccessToken;
use super::token_response::TokenGrant;
use super::Error;

pub use super::config::Config;
pub use super::events::{Effect, EndReason, Event, Input, Phase};

const WARN_REFRESH_TOKEN_IN_BODY: &str = "the token response contained a refresh_token; it was discarded because refresh tokens belong in the HttpOnly cookie";
const WARN_TOO_MANY_REFRESHES: &str = "refreshes are paused because the per-minute ceiling was hit; check the token lifetime and the clock";

/// Where the refresh machinery stands. Exactly one of these at a time is
/// what makes single-flight and "one timer" hold by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refresh {
    /// Idle; the next refresh is due at `refresh_at_ms`.
    Scheduled,
    /// A `SendRefresh` is awaiting its outcome.
    InFlight,
    /// Backing off after a transient failure until this time.
    RetryAt(u64),
    /// Blocked by the refresh ceiling until this time.
    BudgetAt(u64),
    /// Due, but the browser is offline: goes out when it is back online.
    Offline,
    /// A cycle gave up. Automatic refreshing resumes at `Some(t)` (when the
    /// still-valid token expires); with `None` only demand restarts it.
    Parked(Option<u64>),
}

/// One user's session: the token, its schedule and the refresh cycle.
#[derive(Debug)]
pub struct Session {
    config: Config,
    phase: Phase,
    token: Option<AccessToken>,
    expires_at_ms: u64,
    refresh_at_ms: u64,
    claims: Option<Claims>,
    generation: u64,
    refresh: Refresh,
    attempt: u32,
    budget: RefreshBudget,
    budget_warned: bool,
    timer_at_ms: Option<u64>,
    abandoned: u32,
    online: bool,
}

impl Session {
    /// A session in [`Phase::Initial`]. Out-of-range settings are clamped
    /// to the nearest workable value; use [`Session::try_new`] to reject them.
    pub fn new(config: Config) -> Self {
        let budget = RefreshBudget::new(config.max_refreshes_per_minute);
        Session {
            config,
            phase: Phase::Initial,
            token: None,
            expires_at_ms: 0,
            refresh_at_ms: 0,
            claims: None,
            generation: 0,
            refresh: Refresh::Scheduled,
            attempt: 0,
            budget,
            budget_warned: false,
            timer_at_ms: None,
            abandoned: 0,
            online: true,
        }
    }

    /// [`Session::new`] after [`Config::validate`].
    pub fn try_new(config: Config) -> Result<Self, Error> {
        config.validate()?;
        Ok(Session::new(config))
    }

    /// Feeds one input at local time `now_ms`; `rand01` in [0, 1) drives the
    /// backoff jitter. Returns the effects to perform, in order.
    pub fn step(&mut self, input: Input, now_ms: u64, rand01: f64) -> Vec<Effect> {
        let mut fx = Vec::new();
        if self.phase == Phase::Disposed {
            return fx;
        }
        self.drop_expired_token(now_ms);
        match input {
            Input::Start => self.on_start(now_ms, &mut fx),
            Input::Granted(grant) => {
                if !self.take_abandoned() {
                    self.on_granted(grant, &mut fx);
                }
            }
            Input::Accepted(grant) => {
                if self.refresh == Refresh::InFlight {
                    self.abandoned = self.abandoned.saturating_add(1);
                }
                self.on_granted(grant, &mut fx);
            }
            Input::RefreshFailed(failure) => self.on_failed(failure, now_ms, rand01, &mut fx),
            Input::TimerFired => {
                self.timer_at_ms = None;
                self.on_wake(now_ms, &mut fx);
            }
            Input::Wake => self.on_wake(now_ms, &mut fx),
            Input::TokenWanted => self.on_token_wanted(now_ms, &mut fx),
            Input::ForceRefresh => self.on_force_refresh(now_ms, &mut fx),
            Input::Unauthorized { generation } => self.on_unauthorized(generation, now_ms, &mut fx),
            Input::SignedOut => {
                if self.phase != Phase::SignedOut {
                    self.end(
                        Phase::SignedOut,
                        EndReason::Logout,
                        Error::NotSignedIn,
                        &mut fx,
                    );
                }
            }
            Input::EndedElsewhere(reason) => {
                if self.phase == Phase::SignedIn {
                    self.end(Phase::SignedOut, reason, Error::NotSignedIn, &mut fx);
                }
            }
            Input::Connectivity { online } => {
                self.online = online;
                if online && self.refresh == Refresh::Offline {
                    self.begin_refresh(now_ms, &mut fx);
                }
            }
            Input::Dispose => self.end(
                Phase::Disposed,
                EndReason::Disposed,
                Error::Disposed,
                &mut fx,
            ),
        }
        self.sync_timer(&mut fx);
        fx
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// When the current token expires (local ms), while signed in.
    pub fn expires_at_ms(&self) -> Option<u64> {
        (self.phase == Phase::SignedIn).then_some(self.expires_at_ms)
    }

    /// Unverified claims of the current JWT, while signed in.
    pub fn claims(&self) -> Option<&Claims> {
        if self.phase == Phase::SignedIn {
            self.claims.as_ref()
        } else {
            None
        }
    }

    /// The token to attach right now and its generation (report the
    /// generation back in [`Input::Unauthorized`]). `None` unless signed in
    /// and `now_ms` is before expiry.
    pub fn usable_token(&self, now_ms: u64) -> Option<(&AccessToken, u64)> {
        if self.phase != Phase::SignedIn || now_ms >= self.expires_at_ms {
            return None;
        }
        self.token.as_ref().map(|t| (t, self.generation))
    }

    /// Whether a refresh request is awaiting its outcome.
    pub fn refresh_in_flight(&self) -> bool {
        self.refresh == Refresh::InFlight
    }

    /// Whether a caller wanting a token should wait for the running refresh
    /// or scheduled retry (rather than fail at once). Call after stepping
    /// [`Input::TokenWanted`].
    pub fn needs_wait(&self, now_ms: u64) -> bool {
        self.is_active()
            && self.usable_token(now_ms).is_none()
            && matches!(
                self.refresh,
                Refresh::InFlight | Refresh::RetryAt(_) | Refresh::Offline
            )
    }

    /// Why no token is available now, for rejecting a caller that should not
    /// wait; `None` when a usable token exists.
    pub fn token_unavailable_reason(&self, now_ms: u64) -> Option<Error> {
        if self.usable_token(now_ms).is_some() {
            return None;
        }
        Some(match (self.phase, self.refresh) {
            (Phase::Disposed, _) => Error::Disposed,
            (Phase::Initial | Phase::SignedOut, _) => Error::NotSignedIn,
            (_, Refresh::BudgetAt(_)) => Error::TooManyRefreshes,
            _ => Error::TokenExpired,
        })
    }

    /// Generation of the current token; bumps on every grant.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// When the scheduled retry (or budget-blocked refresh) will be sent.
    pub fn next_retry_at_ms(&self) -> Option<u64> {
        match self.refresh {
            Refresh::RetryAt(t) | Refresh::BudgetAt(t) => Some(t),
            _ => None,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn is_active(&self) -> bool {
        matches!(self.phase, Phase::Restoring | Phase::SignedIn)
    }

    fn set_phase(&mut self, phase: Phase, fx: &mut Vec<Effect>) {
        if self.phase != phase {
            self.phase = phase;
            fx.push(Effect::Emit(Event::State(phase)));
        }
    }

    /// Expired bytes are useless and still secret: wipe them as soon as we
    /// notice, keeping the session (a new cycle will fetch a new token).
    fn drop_expired_token(&mut self, now_ms: u64) {
        if self.token.is_some() && now_ms >= self.expires_at_ms {
            self.token = None;
        }
    }

    fn on_start(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        if matches!(self.phase, Phase::Initial | Phase::SignedOut) {
            self.set_phase(Phase::Restoring, fx);
            self.attempt = 0;
            self.begin_refresh(now_ms, fx);
        }
    }

    fn on_granted(&mut self, grant: TokenGrant, fx: &mut Vec<Effect>) {
        let TokenGrant {
            token,
            expires_at_ms,
            lifetime_ms,
            dropped_refresh_token,
            claims,
            ..
        } = grant;
        // Assigning drops (and so zeroizes) the previous token.
        self.token = Some(token);
        self.claims = claims;
        self.expires_at_ms = expires_at_ms;
        self.refresh_at_ms = refresh_at_ms(expires_at_ms, lifetime_ms, self.config.refresh_lead_ms);
        self.generation = self.generation.saturating_add(1);
        self.refresh = Refresh::Scheduled;
        self.attempt = 0;
        self.set_phase(Phase::SignedIn, fx);
        fx.push(Effect::Emit(Event::Refreshed { expires_at_ms }));
        if dropped_refresh_token {
            fx.push(Effect::Emit(Event::Warning {
                code: "refresh_token_in_body",
                message: WARN_REFRESH_TOKEN_IN_BODY.into(),
            }));
        }
        fx.push(Effect::ReleaseWaiters);
    }

    fn on_failed(
        &mut self,
        failure: RefreshFailure,
        now_ms: u64,
        rand01: f64,
        fx: &mut Vec<Effect>,
    ) {
        if self.take_abandoned() || self.refresh != Refresh::InFlight || !self.is_active() {
            return;
        }
        let RefreshFailure {
            error,
            retry_after_ms,
        } = failure;
        if matches!(error, Error::InvalidGrant { .. } | Error::OAuth { .. }) {
            self.refresh = Refresh::Scheduled;
            self.end(Phase::SignedOut, EndReason::InvalidGrant, error, fx);
            return;
        }
        self.attempt = self.attempt.saturating_add(1);
        let code = error.code();
        if error.is_transient() && self.attempt < self.config.retry.max_attempts.max(1) {
            let delay = backoff_delay_ms(&self.config.retry, self.attempt, rand01, retry_after_ms);
            let retry_at_ms = now_ms.saturating_add(delay);
            self.refresh = Refresh::RetryAt(retry_at_ms);
            fx.push(Effect::Emit(Event::RefreshError {
                code,
                attempt: self.attempt,
                retry_at_ms: Some(retry_at_ms),
            }));
            // Waiters keep waiting (or keep using the still-valid token).
            return;
        }
        // Give up on this cycle. Non-transient errors land here at once:
        // retrying a malformed response would only hammer the server.
        fx.push(Effect::Emit(Event::RefreshError {
            code,
            attempt: self.attempt,
            retry_at_ms: None,
        }));
        self.attempt = 0;
        let usable = self.usable_token(now_ms).is_some();
        if !usable {
            fx.push(Effect::FailWaiters(error));
        }
        if self.phase == Phase::Restoring {
            self.refresh = Refresh::Scheduled;
            self.set_phase(Phase::SignedOut, fx);
        } else {
            self.refresh = Refresh::Parked(usable.then_some(self.expires_at_ms));
        }
    }

    /// Timers can fire early or late and may not fire at all while the
    /// machine sleeps, so every wake-up re-derives what is due from `now`.
    fn on_wake(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        if !self.is_active() {
            return;
        }
        let due = match self.refresh {
            Refresh::InFlight | Refresh::Parked(None) | Refresh::Offline => false,
            Refresh::RetryAt(t) | Refresh::BudgetAt(t) => now_ms >= t,
            Refresh::Scheduled => self.phase == Phase::SignedIn && now_ms >= self.refresh_at_ms,
            Refresh::Parked(Some(t)) => now_ms >= t,
        };
        if due {
            self.restart_cycle_unless_retrying();
            self.begin_refresh(now_ms, fx);
        }
    }

    fn on_token_wanted(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        if !self.is_active() {
            return;
        }
        let usable = self.usable_token(now_ms).is_some();
        let due = match self.refresh {
            Refresh::InFlight | Refresh::Offline => false,
            // Respect the backoff even if the caller has to wait for it.
            Refresh::RetryAt(t) | Refresh::BudgetAt(t) => now_ms >= t,
            Refresh::Scheduled => !usable || now_ms >= self.refresh_at_ms,
            // A cycle just gave up: keep serving the valid token quietly.
            Refresh::Parked(_) => !usable,
        };
        if due {
            self.restart_cycle_unless_retrying();
            self.begin_refresh(now_ms, fx);
        }
    }

    fn on_force_refresh(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        // In flight or backing off: the caller joins the running cycle.
        if self.is_active() && matches!(self.refresh, Refresh::Scheduled | Refresh::Parked(_)) {
            self.attempt = 0;
            self.begin_refresh(now_ms, fx);
        }
    }

    fn on_unauthorized(&mut self, generation: u64, now_ms: u64, fx: &mut Vec<Effect>) {
        // An older generation means a newer token already exists; the
        // browser retries that request once with it.
        if self.phase != Phase::SignedIn || generation != self.generation {
            return;
        }
        // The server says this token is bad: stop handing it out, even if a
        // refresh is already running.
        self.token = None;
        if matches!(self.refresh, Refresh::Scheduled | Refresh::Parked(_)) {
            self.attempt = 0;
            self.begin_refresh(now_ms, fx);
        }
    }

    fn restart_cycle_unless_retrying(&mut self) {
        if matches!(self.refresh, Refresh::Scheduled | Refresh::Parked(_)) {
            self.attempt = 0;
        }
    }

    /// The only place `SendRefresh` is produced, so the ceiling and
    /// single-flight apply to every trigger.
    fn begin_refresh(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        if self.refresh == Refresh::InFlight {
            return;
        }
        // Offline, a request can only fail: wait for `online` instead of burning
        // attempts and the budget.
        if !self.online {
            self.refresh = Refresh::Offline;
            return;
        }
        if self.budget.try_take(now_ms) {
            self.refresh = Refresh::InFlight;
            self.budget_warned = false;
            fx.push(Effect::SendRefresh);
            return;
        }
        self.refresh = Refresh::BudgetAt(self.budget.next_free_at_ms(now_ms));
        if !self.budget_warned {
            self.budget_warned = true;
            fx.push(Effect::Emit(Event::Warning {
                code: "too_many_refreshes",
                message: WARN_TOO_MANY_REFRESHES.into(),
            }));
        }
        if self.usable_token(now_ms).is_none() {
            fx.push(Effect::FailWaiters(Error::TooManyRefreshes));
        }
    }

    /// Ends the session (logout, revoked grant, dispose). A refresh still in
    /// flight is marked abandoned so its late outcome cannot sign the user
    /// back in.
    fn end(&mut self, phase: Phase, reason: EndReason, error: Error, fx: &mut Vec<Effect>) {
        let was_signed_in = self.phase == Phase::SignedIn;
        if self.refresh == Refresh::InFlight {
            self.abandoned = self.abandoned.saturating_add(1);
        }
        self.token = None;
        self.claims = None;
        self.expires_at_ms = 0;
        self.refresh_at_ms = 0;
        self.refresh = Refresh::Scheduled;
        self.attempt = 0;
        self.timer_at_ms = None;
        fx.push(Effect::CancelTimer);
        self.set_phase(phase, fx);
        if was_signed_in {
            fx.push(Effect::Emit(Event::SessionEnded { reason }));
        }
        fx.push(Effect::FailWaiters(error));
    }

    /// Consumes one abandoned refresh outcome, if any are outstanding.
    fn take_abandoned(&mut self) -> bool {
        if self.abandoned == 0 {
            return false;
        }
        self.abandoned = self.abandoned.saturating_sub(1);
        true
    }

    fn desired_timer(&self) -> Option<u64> {
        if !self.is_active() {
            return None;
        }
        match self.refresh {
            Refresh::InFlight | Refresh::Offline => None,
            Refresh::RetryAt(t) | Refresh::BudgetAt(t) => Some(t),
            Refresh::Scheduled => (self.phase == Phase::SignedIn).then_some(self.refresh_at_ms),
            Refresh::Parked(until) => until,
        }
    }

    /// Emits timer effects only when the wanted deadline changes, so the
    /// browser's single timer always matches the state.
    fn sync_timer(&mut self, fx: &mut Vec<Effect>) {
        let wanted = self.desired_timer();
        if wanted == self.timer_at_ms {
            return;
        }
        self.timer_at_ms = wanted;
        fx.push(match wanted {
            Some(at_ms) => Effect::ArmTimer { at_ms },
            None => Effect::CancelTimer,
        });
    }
}

#[cfg(test)]
mod tests;
