//! The session state machine: decides when to refresh, what to tell the app
//! and when each waiting caller settles. Pure: time and randomness come in as
//! arguments, and decisions go out as [`Effect`]s.
//!
//! # Waiting callers
//!
//! Every promise of the API that waits (`start()`, `refresh()`, a `tm.fetch` or
//! `accessToken()` without a usable token, the retry after a 401) is an
//! [`Input::Wait`] here, and settles by exactly one [`Effect::Settle`], decided by the
//! core and never later than a bound derived from the configuration:
//!
//! | waits for | settles `Ok` | settles `Err` | at the latest |
//! |---|---|---|---|
//! | [`Want::Token`] | a token is usable, or the session is gone (the caller asks again) | the cycle gives up; the refresh ceiling | `request_timeout_ms` (`token_expired`) |
//! | [`Want::Start`] | signed in, or no session | the first failure of the restore (which may go on in the background) | `request_timeout_ms` |
//! | [`Want::Refresh`] | the next grant | give-up, offline pause, ceiling, session ended | the retry window |
//!
//! A caller that waits joins what is in flight and is settled only by outcomes that
//! come after it started waiting, so a call made from an event handler behaves as if
//! made after the operation that raised the event. A give-up settles every caller at
//! once. A caller whose `AbortSignal` fires leaves with [`Input::Cancel`].

use super::claims::{Claims, Subject};
use super::error_response::RefreshFailure;
use super::retry::backoff_delay_ms;
use super::schedule::{refresh_at_ms, RefreshBudget};
use super::secret::AccessToken;
use super::token_response::TokenGrant;
use super::{Error, MAX_WAIT_MS};

pub use super::config::Config;
pub use super::events::{warning, Effect, EndReason, Event, Input, Phase, Want};

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
    /// A cycle gave up while the token was still valid: it stays in use, and
    /// refreshing resumes when it expires at this time.
    Parked(u64),
}

/// Who asks for a refresh: the browser's offline hint holds back only the timer's
/// refreshes, never a caller's (the network may in fact work).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Demand {
    /// The timer, a wake-up, coming back online.
    Scheduled,
    /// A caller that needs a token: one attempt while offline, then it waits.
    Token,
    /// `start()` or `refresh()`: always an attempt.
    Explicit,
}

/// A caller waiting for something (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Waiter {
    id: u64,
    want: Want,
    deadline_ms: u64,
}

/// One user's session: the token, its schedule, the refresh cycle and the
/// callers waiting for them.
#[derive(Debug)]
pub struct Session {
    config: Config,
    phase: Phase,
    token: Option<AccessToken>,
    expires_at_ms: u64,
    refresh_at_ms: u64,
    claims: Option<Claims>,
    /// Whom the token in memory is for, if known (see [`TokenGrant::subject`]).
    subject: Option<Subject>,
    generation: u64,
    /// The generation that began the current session: its first grant after signing in
    /// or restoring, or the grant that switched the user. A call that began under an
    /// older generation is not served by a newer session (see [`Session::session_since`]).
    session_since: u64,
    refresh: Refresh,
    attempt: u32,
    budget: RefreshBudget,
    budget_warned: bool,
    timer_at_ms: Option<u64>,
    abandoned: u32,
    online: bool,
    /// A caller's attempt failed for lack of network while offline: further callers
    /// wait for `online` instead of each sending one.
    offline_attempt_failed: bool,
    /// The last failure of the current cycle, for callers whose wait runs out.
    last_error: Option<Error>,
    waiters: Vec<Waiter>,
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
            subject: None,
            generation: 0,
            session_since: 0,
            refresh: Refresh::Scheduled,
            attempt: 0,
            budget,
            budget_warned: false,
            timer_at_ms: None,
            abandoned: 0,
            online: true,
            offline_attempt_failed: false,
            last_error: None,
            waiters: Vec::new(),
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
            // Nothing happens any more, but a caller still gets its answer.
            if let Input::Wait { id, .. } = input {
                fx.push(Effect::Settle {
                    id,
                    outcome: Err(Error::Disposed),
                });
            }
            return fx;
        }
        if let Input::Cancel { id } = input {
            // Before the bounds are checked: an aborted caller gets no settle.
            self.take_waiter(id);
        }
        self.drop_expired_token(now_ms);
        self.expire_waiters(now_ms, &mut fx);
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
                if self.online != online {
                    self.offline_attempt_failed = false;
                }
                self.online = online;
                if online && self.refresh == Refresh::Offline {
                    self.begin_refresh(now_ms, Demand::Scheduled, &mut fx);
                }
            }
            Input::Dispose => self.end(
                Phase::Disposed,
                EndReason::Disposed,
                Error::Disposed,
                &mut fx,
            ),
            Input::Wait { id, want } => self.on_wait(id, want, now_ms, &mut fx),
            Input::Cancel { .. } => {}
        }
        self.sync_timer(&mut fx);
        fx
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// When the token in use expires (local ms): `None` unless signed in with a
    /// token that is usable at `now_ms`, so a given-up or expired session never
    /// shows a past expiry.
    pub fn expires_at_ms(&self, now_ms: u64) -> Option<u64> {
        self.usable_token(now_ms).map(|_| self.expires_at_ms)
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

    /// The generation that began the current session (0 before any grant): a request
    /// sent with generation `g`, or begun while signed in at `g`, belongs to another
    /// session (another user, or a new sign-in) when this is greater than `g`.
    pub fn session_since(&self) -> u64 {
        self.session_since
    }

    /// When the scheduled retry (or budget-blocked refresh) will be sent.
    pub fn next_retry_at_ms(&self) -> Option<u64> {
        match self.refresh {
            Refresh::RetryAt(t) | Refresh::BudgetAt(t) => Some(t),
            _ => None,
        }
    }

    /// Failed attempts in the current refresh cycle (the next request is attempt + 1).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// When the next refresh (or retry) goes out by itself (local ms), if one is
    /// scheduled: for the log's `refresh-scheduled`.
    pub fn next_refresh_at_ms(&self) -> Option<u64> {
        if !self.is_active() {
            return None;
        }
        match self.refresh {
            Refresh::InFlight | Refresh::Offline => None,
            Refresh::RetryAt(t) | Refresh::BudgetAt(t) | Refresh::Parked(t) => Some(t),
            Refresh::Scheduled => (self.phase == Phase::SignedIn).then_some(self.refresh_at_ms),
        }
    }

    /// How many callers are waiting.
    pub fn waiting(&self) -> usize {
        self.waiters.len()
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The longest a caller waiting for `want` waits (ms): one request for a token or
    /// the restore, every attempt of a cycle with its longest backoff for a refresh.
    pub fn wait_bound_ms(&self, want: Want) -> u64 {
        let timeout = self.config.request_timeout_ms;
        match want {
            Want::Token | Want::Start => timeout,
            Want::Refresh => {
                let retry = &self.config.retry;
                timeout
                    .saturating_add(retry.max_delay_ms)
                    .saturating_mul(u64::from(retry.max_attempts).saturating_add(1))
                    .min(MAX_WAIT_MS)
            }
        }
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

    /// Removes the waiter `id`; whether it was waiting.
    fn take_waiter(&mut self, id: u64) -> bool {
        match self.waiters.iter().position(|w| w.id == id) {
            Some(at) => {
                self.waiters.remove(at);
                true
            }
            None => false,
        }
    }

    /// Settles the waiter `id`, if it still waits.
    fn settle(&mut self, id: u64, outcome: Result<(), Error>, fx: &mut Vec<Effect>) {
        if self.take_waiter(id) {
            fx.push(Effect::Settle { id, outcome });
        }
    }

    /// Settles, in the order they came, the waiters of each kind that has an outcome
    /// (`[token, start, refresh]`, as [`Want`] orders them) and that `due` picks.
    /// One non-generic loop for every rule: each generic instantiation costs bytes.
    fn settle_kinds(
        &mut self,
        fx: &mut Vec<Effect>,
        outcomes: [Option<Result<(), Error>>; 3],
        due_by_ms: Option<u64>,
    ) {
        let mut i = 0;
        while let Some(&w) = self.waiters.get(i) {
            let kind = match w.want {
                Want::Token => 0,
                Want::Start => 1,
                Want::Refresh => 2,
            };
            let due = due_by_ms.is_none_or(|now| now >= w.deadline_ms);
            match outcomes.get(kind) {
                Some(Some(outcome)) if due => {
                    self.waiters.remove(i);
                    fx.push(Effect::Settle {
                        id: w.id,
                        outcome: outcome.clone(),
                    });
                }
                _ => i += 1,
            }
        }
    }

    /// Every waiter of the kinds given an outcome.
    fn settle_all(&mut self, fx: &mut Vec<Effect>, outcomes: [Option<Result<(), Error>>; 3]) {
        self.settle_kinds(fx, outcomes, None);
    }

    /// Waiters whose bound has passed: `token_expired` for a token, the last failure
    /// (or `timeout`) for `start()` and `refresh()`.
    fn expire_waiters(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        if !self.waiters.iter().any(|w| now_ms >= w.deadline_ms) {
            return;
        }
        let last = Err(self.last_error.clone().unwrap_or(Error::Timeout));
        let outcomes = [
            Some(Err(Error::TokenExpired)),
            Some(last.clone()),
            Some(last),
        ];
        self.settle_kinds(fx, outcomes, Some(now_ms));
    }

    /// Expired bytes are useless and still secret: wipe them as soon as we
    /// notice, keeping the session (a new cycle will fetch a new token).
    fn drop_expired_token(&mut self, now_ms: u64) {
        if self.token.is_some() && now_ms >= self.expires_at_ms {
            self.token = None;
        }
    }

    fn on_wait(&mut self, id: u64, want: Want, now_ms: u64, fx: &mut Vec<Effect>) {
        let deadline_ms = now_ms.saturating_add(self.wait_bound_ms(want));
        self.take_waiter(id);
        self.waiters.push(Waiter {
            id,
            want,
            deadline_ms,
        });
        match want {
            Want::Start => match self.phase {
                Phase::SignedIn => self.settle(id, Ok(()), fx),
                _ => self.on_start(now_ms, fx),
            },
            Want::Refresh => match self.phase {
                Phase::Initial => self.on_start(now_ms, fx),
                Phase::SignedOut => self.settle(id, Err(Error::NotSignedIn), fx),
                _ if matches!(self.refresh, Refresh::BudgetAt(_)) => {
                    self.settle(id, Err(Error::TooManyRefreshes), fx);
                }
                _ => self.on_force_refresh(now_ms, fx),
            },
            Want::Token => {
                self.on_token_wanted(now_ms, fx);
                if !self.needs_wait(now_ms) {
                    // A token, no session, or a refusal: the caller asks again.
                    self.settle(id, Ok(()), fx);
                }
            }
        }
    }

    /// Restores the session from the cookie when nothing runs; while a restore
    /// waits for the network, an explicit `start()` tries again at once.
    fn on_start(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        match self.phase {
            Phase::Initial | Phase::SignedOut => {
                self.set_phase(Phase::Restoring, fx);
                self.attempt = 0;
                self.last_error = None;
                self.begin_refresh(now_ms, Demand::Explicit, fx);
            }
            Phase::Restoring if self.refresh == Refresh::Offline => {
                self.begin_refresh(now_ms, Demand::Explicit, fx);
            }
            _ => {}
        }
    }

    fn on_granted(&mut self, grant: TokenGrant, fx: &mut Vec<Effect>) {
        let TokenGrant {
            token,
            expires_at_ms,
            lifetime_ms,
            dropped_refresh_token,
            claims,
            subject,
            ..
        } = grant;
        // Another user's token (the cookie is the origin's: a sign-in in another tab or
        // by another manager replaced it): the old session ends first, so the app never
        // shows one user's data under another's token. Without a subject on either side
        // (opaque tokens without an id_token) nothing can be compared.
        let switched = self.phase == Phase::SignedIn
            && matches!((&self.subject, &subject), (Some(old), Some(new)) if old != new);
        let new_session = switched || self.phase != Phase::SignedIn;
        if switched {
            self.set_phase(Phase::SignedOut, fx);
            fx.push(Effect::Emit(Event::SessionEnded {
                reason: EndReason::UserChanged,
            }));
        }
        // Assigning drops (and so zeroizes) the previous token.
        self.token = Some(token);
        self.claims = claims;
        self.subject = subject;
        self.expires_at_ms = expires_at_ms;
        self.refresh_at_ms = refresh_at_ms(expires_at_ms, lifetime_ms, self.config.refresh_lead_ms);
        self.generation = self.generation.saturating_add(1);
        if new_session {
            self.session_since = self.generation;
        }
        self.refresh = Refresh::Scheduled;
        self.attempt = 0;
        self.last_error = None;
        self.offline_attempt_failed = false;
        self.set_phase(Phase::SignedIn, fx);
        fx.push(Effect::Emit(Event::Refreshed { expires_at_ms }));
        if dropped_refresh_token {
            fx.push(Effect::Emit(Event::Warning {
                code: warning::REFRESH_TOKEN_IN_BODY,
                message: WARN_REFRESH_TOKEN_IN_BODY.into(),
            }));
        }
        // Everyone waiting started before this grant: all of them are served by it.
        self.settle_all(fx, [Some(Ok(())), Some(Ok(())), Some(Ok(()))]);
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
        self.last_error = Some(error.clone());
        if matches!(error, Error::InvalidGrant(_) | Error::OAuth(_)) {
            self.refresh = Refresh::Scheduled;
            self.end(Phase::SignedOut, EndReason::InvalidGrant, error, fx);
            return;
        }
        if !self.online && matches!(error, Error::Network | Error::Timeout) {
            // The browser said offline and the network agreed: no attempt was
            // really possible, so none is spent; wait for `online`. Callers of
            // `start()`/`refresh()` hear of it now, callers wanting a token wait
            // out their bound (the network may come back).
            self.refresh = Refresh::Offline;
            self.offline_attempt_failed = true;
            let told = Some(Err(error.clone()));
            self.settle_all(fx, [None, told.clone(), told]);
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
            // `start()` settles with the first failure of the restore; the
            // restore goes on in the background. Everyone else waits for the
            // retry (or keeps using the still-valid token).
            self.settle_all(fx, [None, Some(Err(error)), None]);
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
        let all = Some(Err(error.clone()));
        self.settle_all(fx, [all.clone(), all.clone(), all]);
        if self.phase == Phase::Restoring {
            self.refresh = Refresh::Scheduled;
            self.set_phase(Phase::SignedOut, fx);
        } else if self.usable_token(now_ms).is_some() {
            self.refresh = Refresh::Parked(self.expires_at_ms);
        } else {
            // No usable token and none coming: say so, rather than stay
            // `signed-in` with a past expiry and refresh again for every call.
            self.end(Phase::SignedOut, EndReason::Expired, error, fx);
        }
    }

    /// Timers can fire early or late and may not fire at all while the
    /// machine sleeps, so every wake-up re-derives what is due from `now`.
    fn on_wake(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        if !self.is_active() {
            return;
        }
        let due = match self.refresh {
            Refresh::InFlight | Refresh::Offline => false,
            Refresh::RetryAt(t) | Refresh::BudgetAt(t) | Refresh::Parked(t) => now_ms >= t,
            Refresh::Scheduled => self.phase == Phase::SignedIn && now_ms >= self.refresh_at_ms,
        };
        if due {
            self.restart_cycle_unless_retrying();
            self.begin_refresh(now_ms, Demand::Scheduled, fx);
        }
    }

    fn on_token_wanted(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        if self.phase == Phase::Initial {
            // A call that needs a token before `start()` begins the restore
            // itself; a later `start()` joins it.
            self.on_start(now_ms, fx);
            return;
        }
        if !self.is_active() {
            return;
        }
        let usable = self.usable_token(now_ms).is_some();
        let due = match self.refresh {
            Refresh::InFlight => false,
            // One attempt for callers while offline, then they wait for `online`.
            Refresh::Offline => !usable && !self.offline_attempt_failed,
            // Respect the backoff even if the caller has to wait for it.
            Refresh::RetryAt(t) | Refresh::BudgetAt(t) => now_ms >= t,
            Refresh::Scheduled => !usable || now_ms >= self.refresh_at_ms,
            // A cycle just gave up: keep serving the valid token quietly.
            Refresh::Parked(_) => !usable,
        };
        if due {
            self.restart_cycle_unless_retrying();
            self.begin_refresh(now_ms, Demand::Token, fx);
        }
    }

    fn on_force_refresh(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        // In flight or backing off: the caller joins the running cycle.
        if self.is_active()
            && matches!(
                self.refresh,
                Refresh::Scheduled | Refresh::Parked(_) | Refresh::Offline
            )
        {
            self.restart_cycle_unless_retrying();
            self.begin_refresh(now_ms, Demand::Explicit, fx);
        }
    }

    fn on_unauthorized(&mut self, generation: u64, now_ms: u64, fx: &mut Vec<Effect>) {
        // An older generation means a newer token already exists; the
        // browser retries that request once with it.
        if self.phase != Phase::SignedIn || generation != self.generation {
            return;
        }
        // The server says this token is bad: stop handing it out, even if a
        // refresh is already running, and get a new one as a caller would.
        self.token = None;
        self.on_token_wanted(now_ms, fx);
    }

    fn restart_cycle_unless_retrying(&mut self) {
        if matches!(self.refresh, Refresh::Scheduled | Refresh::Parked(_)) {
            self.attempt = 0;
            self.last_error = None;
        }
    }

    /// The only place `SendRefresh` is produced, so the ceiling and
    /// single-flight apply to every trigger.
    fn begin_refresh(&mut self, now_ms: u64, demand: Demand, fx: &mut Vec<Effect>) {
        if self.refresh == Refresh::InFlight {
            return;
        }
        // Offline is a hint: the timer's refreshes wait for `online`, callers
        // get an attempt (once, for callers wanting a token).
        if !self.online {
            let hold = match demand {
                Demand::Scheduled => true,
                Demand::Token => self.offline_attempt_failed,
                Demand::Explicit => false,
            };
            if hold {
                self.refresh = Refresh::Offline;
                return;
            }
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
                code: warning::TOO_MANY_REFRESHES,
                message: WARN_TOO_MANY_REFRESHES.into(),
            }));
        }
        let blocked = Some(Err(Error::TooManyRefreshes));
        let token = (self.usable_token(now_ms).is_none())
            .then(|| blocked.clone())
            .flatten();
        self.settle_all(fx, [token, blocked.clone(), blocked]);
    }

    /// Ends the session (logout, revoked grant, given up, dispose). A refresh
    /// still in flight is marked abandoned so its late outcome cannot sign the
    /// user back in. Callers waiting for a token or for `start()` are settled
    /// `Ok` (there is no session: they go on without one); `refresh()` callers
    /// get `error`. Disposing rejects everyone with `disposed`.
    fn end(&mut self, phase: Phase, reason: EndReason, error: Error, fx: &mut Vec<Effect>) {
        let was_signed_in = self.phase == Phase::SignedIn;
        if self.refresh == Refresh::InFlight {
            self.abandoned = self.abandoned.saturating_add(1);
        }
        self.token = None;
        self.claims = None;
        self.subject = None;
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
        let outcomes = if phase == Phase::Disposed {
            let gone = Some(Err(Error::Disposed));
            [gone.clone(), gone.clone(), gone]
        } else {
            [Some(Ok(())), Some(Ok(())), Some(Err(error))]
        };
        self.settle_all(fx, outcomes);
    }

    /// Consumes one abandoned refresh outcome, if any are outstanding.
    fn take_abandoned(&mut self) -> bool {
        if self.abandoned == 0 {
            return false;
        }
        self.abandoned = self.abandoned.saturating_sub(1);
        true
    }

    /// The one timer serves the refresh schedule and the waiters' bounds.
    fn desired_timer(&self) -> Option<u64> {
        let refresh = self.next_refresh_at_ms();
        let deadline = self.waiters.iter().map(|w| w.deadline_ms).min();
        match (refresh, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
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
