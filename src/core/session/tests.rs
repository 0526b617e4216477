//! State machine tests with a manual clock.

use super::*;
use crate::core::error::Answer;
use crate::core::expiry::ExpirySource;
use crate::core::retry::RetryPolicy;
use crate::core::Subject;

const T0: u64 = 1_700_000_000_000;
const HOUR: u64 = 3_600_000;
const LEAD: u64 = 60_000;

fn grant_with(token: &str, now: u64, lifetime_ms: u64, dropped: bool) -> TokenGrant {
    TokenGrant {
        token: AccessToken::new(token.into()),
        expires_at_ms: now + lifetime_ms,
        lifetime_ms,
        dropped_refresh_token: dropped,
        expiry_source: ExpirySource::ExpiresIn,
        claims: None,
        scope: None,
        subject: None,
    }
}

fn failed(error: Error) -> Input {
    Input::RefreshFailed(RefreshFailure::from(error))
}

fn sends(fx: &[Effect]) -> usize {
    fx.iter().filter(|e| **e == Effect::SendRefresh).count()
}

fn states(fx: &[Effect]) -> Vec<Phase> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Emit(Event::State(p)) => Some(*p),
            _ => None,
        })
        .collect()
}

fn armed(fx: &[Effect]) -> Option<u64> {
    fx.iter().rev().find_map(|e| match e {
        Effect::ArmTimer { at_ms } => Some(*at_ms),
        _ => None,
    })
}

/// The settles in `fx`, as (id, outcome).
fn settles(fx: &[Effect]) -> Vec<(u64, Result<(), Error>)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Settle { id, outcome } => Some((*id, outcome.clone())),
            _ => None,
        })
        .collect()
}

fn refresh_errors(fx: &[Effect]) -> Vec<(&'static str, u32, Option<u64>)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Emit(Event::RefreshError {
                code,
                attempt,
                retry_at_ms,
            }) => Some((*code, *attempt, *retry_at_ms)),
            _ => None,
        })
        .collect()
}

/// A session plus a manual clock.
struct H {
    s: Session,
    now: u64,
    rand: f64,
}

impl H {
    fn new() -> Self {
        H::with(Config::default())
    }

    fn with(config: Config) -> Self {
        H {
            s: Session::new(config),
            now: T0,
            rand: 0.5,
        }
    }

    fn step(&mut self, input: Input) -> Vec<Effect> {
        self.s.step(input, self.now, self.rand)
    }

    /// A caller `id` starts waiting for `want`.
    fn wait(&mut self, id: u64, want: Want) -> Vec<Effect> {
        self.step(Input::Wait { id, want })
    }

    fn grant(&mut self, token: &str, lifetime_ms: u64) -> Vec<Effect> {
        let g = grant_with(token, self.now, lifetime_ms, false);
        self.step(Input::Granted(g))
    }

    /// Initial → Start → Granted(one hour).
    fn signed_in() -> Self {
        let mut h = H::new();
        h.step(Input::Start);
        h.grant("tok-1", HOUR);
        h
    }

    fn token(&self) -> Option<String> {
        self.s
            .usable_token(self.now)
            .map(|(t, _)| t.secret().to_owned())
    }
}

#[test]
fn initial_state() {
    let h = H::new();
    assert_eq!(h.s.phase(), Phase::Initial);
    assert!(h.s.usable_token(T0).is_none());
    assert!(!h.s.needs_wait(T0));
    assert!(!h.s.refresh_in_flight());
    assert_eq!(h.s.expires_at_ms(T0), None);
    assert_eq!(h.s.token_unavailable_reason(T0), Some(Error::NotSignedIn));
}

#[test]
fn start_restores_via_refresh() {
    let mut h = H::new();
    let fx = h.step(Input::Start);
    assert_eq!(
        fx,
        [
            Effect::Emit(Event::State(Phase::Restoring)),
            Effect::SendRefresh
        ]
    );
    assert_eq!(h.s.phase(), Phase::Restoring);
    assert!(h.s.refresh_in_flight());
    assert!(h.s.needs_wait(h.now));
    // A second Start while restoring does nothing.
    assert!(h.step(Input::Start).is_empty());
}

#[test]
fn granted_signs_in_and_arms_refresh_timer() {
    let mut h = H::new();
    h.step(Input::Start);
    let fx = h.grant("tok-1", HOUR);
    assert_eq!(
        fx,
        [
            Effect::Emit(Event::State(Phase::SignedIn)),
            Effect::Emit(Event::Refreshed {
                expires_at_ms: T0 + HOUR
            }),
            Effect::ArmTimer {
                at_ms: T0 + HOUR - LEAD
            },
        ]
    );
    assert_eq!(h.s.phase(), Phase::SignedIn);
    assert_eq!(h.token().as_deref(), Some("tok-1"));
    assert_eq!(h.s.usable_token(h.now).unwrap().1, 1);
    assert_eq!(h.s.expires_at_ms(h.now), Some(T0 + HOUR));
    assert!(!h.s.needs_wait(h.now));
    assert_eq!(h.s.token_unavailable_reason(h.now), None);
}

#[test]
fn second_grant_replaces_token_without_state_event() {
    let mut h = H::signed_in();
    h.now += 10_000;
    let fx = h.grant("tok-2", HOUR);
    assert!(states(&fx).is_empty());
    assert!(fx.contains(&Effect::Emit(Event::Refreshed {
        expires_at_ms: h.now + HOUR
    })));
    assert_eq!(h.token().as_deref(), Some("tok-2"));
    assert_eq!(h.s.generation(), 2);
}

#[test]
fn refresh_token_in_body_warns() {
    let mut h = H::new();
    let g = grant_with("t", h.now, HOUR, true);
    let fx = h.step(Input::Granted(g));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Emit(Event::Warning {
            code: "refresh_token_in_body",
            ..
        })
    )));
}

#[test]
fn grant_from_initial_or_signed_out_signs_in() {
    let mut h = H::new();
    let fx = h.grant("t", HOUR);
    assert_eq!(states(&fx), [Phase::SignedIn]);
    h.step(Input::SignedOut);
    assert_eq!(h.s.phase(), Phase::SignedOut);
    let fx = h.grant("t2", HOUR);
    assert_eq!(states(&fx), [Phase::SignedIn]);
    assert_eq!(h.token().as_deref(), Some("t2"));
}

#[test]
fn timer_at_refresh_time_sends_refresh_and_early_fire_rearms() {
    let mut h = H::signed_in();
    let refresh_at = T0 + HOUR - LEAD;
    h.now = refresh_at - 5_000; // fired early (throttling, clamped delay)
    let fx = h.step(Input::TimerFired);
    assert_eq!(fx, [Effect::ArmTimer { at_ms: refresh_at }]);
    h.now = refresh_at;
    let fx = h.step(Input::TimerFired);
    assert_eq!(fx, [Effect::SendRefresh]);
    assert!(h.s.refresh_in_flight());
    // Callers keep using the current token while the refresh runs.
    assert_eq!(h.token().as_deref(), Some("tok-1"));
    assert!(!h.s.needs_wait(h.now));
    let fx = h.grant("tok-2", HOUR);
    assert_eq!(armed(&fx), Some(h.now + HOUR - LEAD));
}

#[test]
fn wake_rechecks_the_wall_clock() {
    let mut h = H::signed_in();
    h.now += 1_000;
    assert!(h.step(Input::Wake).is_empty());
    // The machine slept past expiry; the timer never fired.
    h.now = T0 + 2 * HOUR;
    let fx = h.step(Input::Wake);
    assert_eq!(fx, [Effect::SendRefresh, Effect::CancelTimer]);
    assert!(h.token().is_none());
    assert!(h.s.needs_wait(h.now));
    assert_eq!(h.s.phase(), Phase::SignedIn);
}

#[test]
fn token_wanted_outside_lead_window_does_nothing() {
    let mut h = H::signed_in();
    h.now += 1_000;
    assert!(h.step(Input::TokenWanted).is_empty());
}

#[test]
fn token_wanted_inside_lead_window_refreshes_but_token_stays_usable() {
    let mut h = H::signed_in();
    h.now = T0 + HOUR - 30_000;
    let fx = h.step(Input::TokenWanted);
    assert_eq!(sends(&fx), 1);
    assert_eq!(h.token().as_deref(), Some("tok-1"));
    assert!(!h.s.needs_wait(h.now));
}

#[test]
fn token_wanted_when_signed_out_does_nothing() {
    let mut h = H::new();
    assert!(h.step(Input::ForceRefresh).is_empty());
    assert!(h.step(Input::Unauthorized { generation: 0 }).is_empty());
    h.step(Input::SignedOut);
    assert!(h.step(Input::TokenWanted).is_empty());
    assert!(h.step(Input::ForceRefresh).is_empty());
    assert!(h.step(Input::Wake).is_empty());
    assert!(h.step(Input::TimerFired).is_empty());
}

#[test]
fn single_flight_hundred_callers_at_expiry() {
    let mut h = H::signed_in();
    h.now = T0 + HOUR; // expired
    let mut total = 0;
    for id in 0..100 {
        let fx = h.wait(id, Want::Token);
        total += sends(&fx);
        assert!(settles(&fx).is_empty(), "caller {id} waits");
        assert!(h.s.needs_wait(h.now));
        assert!(h.s.usable_token(h.now).is_none());
    }
    for input in [
        Input::ForceRefresh,
        Input::Wake,
        Input::TimerFired,
        Input::Unauthorized { generation: 1 },
    ] {
        total += sends(&h.step(input));
    }
    assert_eq!(total, 1);
    let fx = h.grant("tok-2", HOUR);
    let all: Vec<_> = (0..100).map(|id| (id, Ok(()))).collect();
    assert_eq!(settles(&fx), all, "every caller, once, in order");
    assert_eq!(h.token().as_deref(), Some("tok-2"));
    assert_eq!(h.s.waiting(), 0);
}

#[test]
fn force_refresh_sends_when_idle_and_joins_when_in_flight() {
    let mut h = H::signed_in();
    let fx = h.step(Input::ForceRefresh);
    assert_eq!(fx, [Effect::SendRefresh, Effect::CancelTimer]);
    assert!(h.step(Input::ForceRefresh).is_empty());
    assert_eq!(h.token().as_deref(), Some("tok-1"));
}

#[test]
fn unauthorized_with_current_generation_refreshes() {
    let mut h = H::signed_in();
    let (_, gen) = h.s.usable_token(h.now).unwrap();
    let fx = h.step(Input::Unauthorized { generation: gen });
    assert_eq!(sends(&fx), 1);
    assert!(
        h.token().is_none(),
        "the rejected token is no longer handed out"
    );
    assert!(h.s.needs_wait(h.now));
    // A second 401 for the same generation joins the running refresh.
    assert_eq!(sends(&h.step(Input::Unauthorized { generation: gen })), 0);
}

#[test]
fn unauthorized_with_old_generation_is_ignored() {
    let mut h = H::signed_in();
    h.grant("tok-2", HOUR);
    assert!(h.step(Input::Unauthorized { generation: 1 }).is_empty());
    assert_eq!(h.token().as_deref(), Some("tok-2"));
    assert!(h.step(Input::Unauthorized { generation: 99 }).is_empty());
}

#[test]
fn unauthorized_while_in_flight_wipes_token_without_second_send() {
    let mut h = H::signed_in();
    h.step(Input::ForceRefresh);
    let fx = h.step(Input::Unauthorized { generation: 1 });
    assert_eq!(sends(&fx), 0);
    assert!(h.token().is_none());
    assert!(h.s.needs_wait(h.now));
}

#[test]
fn backoff_sequence_with_deterministic_jitter() {
    let mut h = H::signed_in();
    h.now = T0 + HOUR - LEAD;
    h.step(Input::TimerFired);
    h.rand = 0.5;
    let mut expected_delays = vec![];
    for attempt in 1..=4u32 {
        let fx = h.step(failed(Error::Network));
        let delay = 500u64 << (attempt - 1); // 0.5 * 1000 * 2^(n-1)
        expected_delays.push(delay);
        assert_eq!(
            refresh_errors(&fx),
            [("network", attempt, Some(h.now + delay))]
        );
        assert_eq!(armed(&fx), Some(h.now + delay));
        assert!(settles(&fx).is_empty(), "token still usable");
        assert_eq!(h.s.next_retry_at_ms(), Some(h.now + delay));
        // Demand before the retry time does not jump the backoff.
        h.now += delay - 1;
        assert!(h.step(Input::TokenWanted).is_empty());
        assert!(h.step(Input::ForceRefresh).is_empty());
        h.now += 1;
        let fx = h.step(Input::TimerFired);
        assert_eq!(fx, [Effect::SendRefresh]);
    }
    assert_eq!(expected_delays, [500, 1_000, 2_000, 4_000]);
    // Fifth failure exhausts the cycle (max_attempts = 5 requests).
    let fx = h.step(failed(Error::Timeout));
    assert_eq!(refresh_errors(&fx), [("timeout", 5, None)]);
    assert!(settles(&fx).is_empty());
    // The token is still valid: keep it, wake up at its expiry.
    assert_eq!(h.token().as_deref(), Some("tok-1"));
    assert_eq!(armed(&fx), Some(T0 + HOUR));
    assert!(h.step(Input::TokenWanted).is_empty());
    assert!(h.step(Input::Wake).is_empty());
    // At expiry a fresh cycle starts rather than ending the session.
    h.now = T0 + HOUR;
    let fx = h.step(Input::TimerFired);
    assert_eq!(fx, [Effect::SendRefresh]);
    let fx = h.step(failed(Error::Network));
    assert_eq!(
        refresh_errors(&fx)[0].1,
        1,
        "attempts restart in a new cycle"
    );
    assert_eq!(h.s.phase(), Phase::SignedIn);
}

#[test]
fn exhausted_cycle_without_usable_token_rejects_everyone_and_ends_the_session() {
    let config = Config {
        retry: RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        },
        ..Config::default()
    };
    let mut h = H::with(config);
    h.grant("t", HOUR);
    h.now = T0 + HOUR + 1;
    assert_eq!(sends(&h.wait(1, Want::Token)), 1);
    h.wait(2, Want::Refresh);
    h.step(failed(Error::Server(Answer::bare(502))));
    h.now = h.s.next_retry_at_ms().unwrap();
    h.step(Input::TimerFired);
    let fx = h.step(failed(Error::Server(Answer::bare(502))));
    assert_eq!(refresh_errors(&fx), [("server_error", 2, None)]);
    let e = Error::Server(Answer::bare(502));
    assert_eq!(settles(&fx), [(1, Err(e.clone())), (2, Err(e))]);
    // No usable token and none coming: the session says so, once.
    assert_eq!(states(&fx), [Phase::SignedOut]);
    assert!(fx.contains(&Effect::Emit(Event::SessionEnded {
        reason: EndReason::Expired
    })));
    assert_eq!(h.s.expires_at_ms(h.now), None);
    assert_eq!(
        h.s.token_unavailable_reason(h.now),
        Some(Error::NotSignedIn)
    );
    // Calls do not each fire a refresh: nobody is signed in.
    for id in 3..10 {
        let fx = h.wait(id, Want::Token);
        assert_eq!(sends(&fx), 0);
        assert_eq!(settles(&fx), [(id, Ok(()))], "sent without a token");
    }
    assert_eq!(sends(&h.step(Input::TokenWanted)), 0);
    assert_eq!(sends(&h.step(Input::Wake)), 0);
    // The cookie may still be good: start() tries it again.
    assert_eq!(sends(&h.wait(10, Want::Start)), 1);
}

#[test]
fn retry_after_is_respected() {
    let mut h = H::signed_in();
    h.step(Input::ForceRefresh);
    h.rand = 0.0;
    let f = RefreshFailure {
        error: Error::RateLimited(Answer::bare(429)),
        retry_after_ms: Some(20_000),
    };
    let fx = h.step(Input::RefreshFailed(f));
    assert_eq!(
        refresh_errors(&fx),
        [("rate_limited", 1, Some(h.now + 20_000))]
    );
    h.now += 19_999;
    assert!(h.step(Input::Wake).is_empty());
    h.now += 1;
    assert_eq!(
        h.step(Input::Wake),
        [Effect::SendRefresh, Effect::CancelTimer]
    );
}

#[test]
fn invalid_grant_ends_session_for_good() {
    let mut h = H::signed_in();
    h.wait(1, Want::Refresh);
    h.step(Input::Unauthorized { generation: 1 });
    h.wait(2, Want::Token);
    let err = Error::invalid_grant(Some("revoked"));
    let fx = h.step(failed(err.clone()));
    assert_eq!(
        fx,
        [
            Effect::CancelTimer,
            Effect::Emit(Event::State(Phase::SignedOut)),
            Effect::Emit(Event::SessionEnded {
                reason: EndReason::InvalidGrant
            }),
            // refresh() rejects with why; a call waiting for a token goes on
            // without one, as if made after the session ended.
            Effect::Settle {
                id: 1,
                outcome: Err(err)
            },
            Effect::Settle {
                id: 2,
                outcome: Ok(())
            },
        ]
    );
    assert!(h.token().is_none());
    assert_eq!(h.s.expires_at_ms(h.now), None);
    for _ in 0..3 {
        h.now += HOUR;
        for input in [
            Input::TimerFired,
            Input::Wake,
            Input::TokenWanted,
            Input::ForceRefresh,
            Input::Unauthorized { generation: 1 },
            failed(Error::Network),
            Input::SignedOut,
        ] {
            assert_eq!(sends(&h.step(input)), 0);
        }
    }
    assert_eq!(h.s.phase(), Phase::SignedOut);
}

#[test]
fn oauth_error_also_ends_session() {
    let mut h = H::signed_in();
    h.step(Input::ForceRefresh);
    let fx = h.step(failed(Error::oauth("invalid_client", None, 400)));
    assert!(fx.contains(&Effect::Emit(Event::SessionEnded {
        reason: EndReason::InvalidGrant
    })));
    assert_eq!(h.s.phase(), Phase::SignedOut);
}

#[test]
fn invalid_grant_while_restoring_signs_out_without_session_ended() {
    let mut h = H::new();
    h.wait(1, Want::Start);
    h.wait(2, Want::Token);
    h.wait(3, Want::Refresh);
    let fx = h.step(failed(Error::invalid_grant(None)));
    assert_eq!(states(&fx), [Phase::SignedOut]);
    assert!(!fx
        .iter()
        .any(|e| matches!(e, Effect::Emit(Event::SessionEnded { .. }))));
    // No cookie: start() resolves (signed out), a call goes without a token,
    // refresh() had nothing to refresh.
    assert_eq!(
        settles(&fx),
        [
            (1, Ok(())),
            (2, Ok(())),
            (3, Err(Error::invalid_grant(None)))
        ]
    );
    // Page reload can try the cookie again.
    assert_eq!(sends(&h.step(Input::Start)), 1);
}

#[test]
fn restoring_retries_then_gives_up_to_signed_out() {
    let config = Config {
        retry: RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        },
        ..Config::default()
    };
    let mut h = H::with(config);
    h.wait(1, Want::Start);
    h.wait(2, Want::Token);
    let fx = h.step(failed(Error::Network));
    assert_eq!(refresh_errors(&fx).len(), 1);
    // start() settles with the first failure; the restore goes on.
    assert_eq!(settles(&fx), [(1, Err(Error::Network))]);
    assert!(h.s.needs_wait(h.now), "waiters wait for the retry");
    assert_eq!(h.s.phase(), Phase::Restoring);
    h.now = h.s.next_retry_at_ms().unwrap();
    assert_eq!(sends(&h.step(Input::TokenWanted)), 1);
    let fx = h.step(failed(Error::Network));
    assert_eq!(settles(&fx), [(2, Err(Error::Network))]);
    assert_eq!(states(&fx), [Phase::SignedOut]);
    assert!(!fx
        .iter()
        .any(|e| matches!(e, Effect::Emit(Event::SessionEnded { .. }))));
}

#[test]
fn non_transient_error_does_not_retry_or_end_session() {
    let mut h = H::signed_in();
    h.now = T0 + HOUR - LEAD;
    h.step(Input::TimerFired);
    let err = Error::MalformedResponse {
        reason: "response body is not JSON",
    };
    let fx = h.step(failed(err));
    assert_eq!(refresh_errors(&fx), [("malformed_response", 1, None)]);
    assert!(settles(&fx).is_empty());
    assert_eq!(armed(&fx), Some(T0 + HOUR));
    assert_eq!(h.s.phase(), Phase::SignedIn);
    assert_eq!(h.token().as_deref(), Some("tok-1"));
    // ForceRefresh is explicit and may start a new cycle.
    assert_eq!(sends(&h.step(Input::ForceRefresh)), 1);
}

#[test]
fn non_transient_error_with_expired_token_fails_waiters_and_ends_the_session() {
    let mut h = H::signed_in();
    h.now = T0 + HOUR + 5;
    h.wait(1, Want::Token);
    let fx = h.step(failed(Error::HttpStatus(Answer::bare(404))));
    assert_eq!(
        settles(&fx),
        [(1, Err(Error::HttpStatus(Answer::bare(404))))]
    );
    assert_eq!(h.s.phase(), Phase::SignedOut);
}

#[test]
fn stale_failure_when_nothing_in_flight_is_ignored() {
    let mut h = H::signed_in();
    assert!(h.step(failed(Error::invalid_grant(None))).is_empty());
    assert_eq!(h.s.phase(), Phase::SignedIn);
    assert!(h.step(failed(Error::Network)).is_empty());
}

#[test]
fn tiny_lifetime_server_is_capped_by_refresh_budget() {
    let mut h = H::new();
    let mut sent_at = vec![];
    let mut timer: Option<u64> = None;
    let mut warnings = 0;
    let mut fx = h.step(Input::Start);
    let end = T0 + 3 * 60_000;
    loop {
        for e in &fx {
            match e {
                Effect::ArmTimer { at_ms } => timer = Some(*at_ms),
                Effect::CancelTimer => timer = None,
                Effect::Emit(Event::Warning {
                    code: "too_many_refreshes",
                    ..
                }) => warnings += 1,
                _ => {}
            }
        }
        if sends(&fx) > 0 {
            sent_at.push(h.now);
            // The server answers at once with a token that lives 1 ms.
            h.now += 1;
            fx = h.grant("tiny", 1);
            // Callers keep asking too.
            fx.extend(h.step(Input::TokenWanted));
            continue;
        }
        let Some(at) = timer.take() else { break };
        h.now = at.max(h.now);
        if h.now > end {
            break;
        }
        fx = h.step(Input::TimerFired);
    }
    for (i, &t) in sent_at.iter().enumerate() {
        let in_window = sent_at[i..].iter().take_while(|&&u| u < t + 60_000).count();
        assert!(in_window <= 10, "{in_window} refreshes within a minute");
    }
    assert!(
        sent_at.len() >= 20,
        "refreshing resumes each minute: {}",
        sent_at.len()
    );
    assert!(sent_at.len() <= 40);
    assert!(
        (1..=4).contains(&warnings),
        "warned once per blocked minute: {warnings}"
    );
}

#[test]
fn budget_block_fails_waiters_without_token_and_warns_once() {
    let config = Config {
        max_refreshes_per_minute: 1,
        ..Config::default()
    };
    let mut h = H::with(config);
    h.step(Input::Start);
    h.grant("t", 10);
    h.now += 10; // expired
    let fx = h.wait(1, Want::Token);
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Emit(Event::Warning {
            code: "too_many_refreshes",
            ..
        })
    )));
    assert_eq!(settles(&fx), [(1, Err(Error::TooManyRefreshes))]);
    assert_eq!(armed(&fx), Some(T0 + 60_000));
    assert!(!h.s.needs_wait(h.now));
    assert_eq!(
        h.s.token_unavailable_reason(h.now),
        Some(Error::TooManyRefreshes)
    );
    let fx = h.step(Input::ForceRefresh);
    assert!(fx.is_empty());
    // refresh() is told at once rather than left waiting for the window.
    let fx = h.wait(2, Want::Refresh);
    assert_eq!(settles(&fx), [(2, Err(Error::TooManyRefreshes))]);
    h.now += 1;
    let fx = h.step(Input::TokenWanted);
    assert_eq!(sends(&fx), 0);
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Emit(Event::Warning { .. }))),
        "warned once"
    );
    h.now = T0 + 60_000;
    assert_eq!(sends(&h.step(Input::TimerFired)), 1);
}

#[test]
fn logout_clears_everything() {
    let mut h = H::signed_in();
    h.wait(1, Want::Refresh);
    let fx = h.step(Input::SignedOut);
    assert_eq!(
        fx,
        [
            Effect::CancelTimer,
            Effect::Emit(Event::State(Phase::SignedOut)),
            Effect::Emit(Event::SessionEnded {
                reason: EndReason::Logout
            }),
            Effect::Settle {
                id: 1,
                outcome: Err(Error::NotSignedIn)
            },
        ]
    );
    assert!(h.token().is_none());
    assert!(h.s.claims().is_none());
    assert!(h.step(Input::SignedOut).is_empty(), "idempotent");
}

#[test]
fn logout_during_restore_has_no_session_ended() {
    let mut h = H::new();
    h.wait(1, Want::Start);
    let fx = h.step(Input::SignedOut);
    assert_eq!(states(&fx), [Phase::SignedOut]);
    assert!(!fx
        .iter()
        .any(|e| matches!(e, Effect::Emit(Event::SessionEnded { .. }))));
    assert_eq!(settles(&fx), [(1, Ok(()))], "start() resolves signed-out");
}

#[test]
fn late_refresh_outcome_after_logout_cannot_sign_back_in() {
    let mut h = H::signed_in();
    h.step(Input::ForceRefresh);
    h.step(Input::SignedOut);
    // The abandoned refresh completes after logout.
    assert!(h.grant("late", HOUR).is_empty());
    assert_eq!(h.s.phase(), Phase::SignedOut);
    // The next grant is a genuine sign-in.
    h.grant("fresh", HOUR);
    assert_eq!(h.s.phase(), Phase::SignedIn);
    // Same for a failure outcome.
    h.step(Input::ForceRefresh);
    h.step(Input::SignedOut);
    assert!(h.step(failed(Error::Network)).is_empty());
    h.step(Input::Start);
    assert!(h.s.refresh_in_flight());
}

#[test]
fn dispose_fails_waiters_and_ignores_everything_after() {
    let mut h = H::signed_in();
    h.step(Input::Unauthorized { generation: 1 });
    h.wait(1, Want::Token);
    let fx = h.step(Input::Dispose);
    assert_eq!(
        fx,
        [
            Effect::CancelTimer,
            Effect::Emit(Event::State(Phase::Disposed)),
            Effect::Emit(Event::SessionEnded {
                reason: EndReason::Disposed
            }),
            Effect::Settle {
                id: 1,
                outcome: Err(Error::Disposed)
            },
        ]
    );
    assert_eq!(h.s.phase(), Phase::Disposed);
    assert_eq!(h.s.token_unavailable_reason(h.now), Some(Error::Disposed));
    for input in [
        Input::Start,
        Input::TimerFired,
        Input::Wake,
        Input::TokenWanted,
        Input::ForceRefresh,
        Input::Unauthorized { generation: 1 },
        failed(Error::Network),
        Input::SignedOut,
        Input::Dispose,
    ] {
        assert!(h.step(input).is_empty());
    }
    assert!(h.grant("after", HOUR).is_empty());
    assert!(h.token().is_none());
    assert_eq!(h.s.phase(), Phase::Disposed);
    // A late caller is answered, never left waiting.
    for want in [Want::Token, Want::Start, Want::Refresh] {
        assert_eq!(settles(&h.wait(9, want)), [(9, Err(Error::Disposed))]);
    }
}

#[test]
fn dispose_from_initial() {
    let mut h = H::new();
    h.wait(1, Want::Start);
    let fx = h.step(Input::Dispose);
    assert_eq!(states(&fx), [Phase::Disposed]);
    assert_eq!(settles(&fx), [(1, Err(Error::Disposed))]);
}

#[test]
fn state_event_once_per_phase_change() {
    let mut h = H::new();
    let mut all = vec![];
    all.extend(h.step(Input::Start));
    all.extend(h.step(Input::Start));
    all.extend(h.grant("a", HOUR));
    all.extend(h.grant("b", HOUR));
    all.extend(h.step(Input::TokenWanted));
    all.extend(h.step(Input::SignedOut));
    all.extend(h.step(Input::SignedOut));
    all.extend(h.step(Input::Dispose));
    assert_eq!(
        states(&all),
        [
            Phase::Restoring,
            Phase::SignedIn,
            Phase::SignedOut,
            Phase::Disposed
        ]
    );
}

#[test]
fn try_new_validates() {
    assert!(Session::try_new(Config::default()).is_ok());
    let bad = Config {
        max_refreshes_per_minute: 0,
        ..Config::default()
    };
    assert_eq!(Session::try_new(bad).unwrap_err().code(), "invalid_options");
}

#[test]
fn debug_never_shows_the_token() {
    let mut h = H::new();
    let g = grant_with("TOPSECRETTOKEN", h.now, HOUR, false);
    let shown = format!("{g:?}");
    let fx = h.step(Input::Granted(g));
    let all = format!("{shown} {:?} {:#?} {fx:?}", h.s, h.s);
    assert!(!all.contains("TOPSECRETTOKEN"));
    assert_eq!(h.token().as_deref(), Some("TOPSECRETTOKEN"));
}

#[test]
fn expired_token_is_wiped_but_session_kept() {
    let mut h = H::signed_in();
    h.now = T0 + HOUR;
    assert!(h.s.usable_token(h.now).is_none());
    h.step(Input::Wake);
    assert_eq!(h.s.phase(), Phase::SignedIn);
    assert_eq!(
        h.s.expires_at_ms(h.now),
        None,
        "no past expiry is shown while a new token is on its way"
    );
}

#[test]
fn accepted_grant_makes_the_in_flight_refresh_stale() {
    // Restoring with no cookie: the refresh is in flight when the app signs in.
    let mut h = H::new();
    assert_eq!(sends(&h.step(Input::Start)), 1);
    let g = grant_with("signed-in", h.now, HOUR, false);
    let fx = h.step(Input::Accepted(g));
    assert_eq!(states(&fx), vec![Phase::SignedIn]);
    // The restore's late "no session" answer must not end the new session.
    let fx = h.step(failed(Error::invalid_grant(None)));
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(h.s.phase(), Phase::SignedIn);
    assert_eq!(h.token().as_deref(), Some("signed-in"));
    // Nor may a late refresh token replace the one the app just accepted.
    let mut h2 = H::signed_in();
    h2.now += HOUR - LEAD;
    assert_eq!(sends(&h2.step(Input::TimerFired)), 1);
    h2.step(Input::Accepted(grant_with("fresh", h2.now, HOUR, false)));
    h2.grant("late", HOUR);
    assert_eq!(h2.token().as_deref(), Some("fresh"));
    // And the next cycle works normally afterwards.
    h2.now += HOUR - LEAD;
    assert_eq!(sends(&h2.step(Input::TimerFired)), 1);
    h2.grant("next", HOUR);
    assert_eq!(h2.token().as_deref(), Some("next"));
}

#[test]
fn offline_refreshes_wait_for_online_without_spending_attempts() {
    let mut h = H::signed_in();
    h.step(Input::Connectivity { online: false });
    h.now += HOUR - LEAD;
    let fx = h.step(Input::TimerFired);
    assert_eq!(sends(&fx), 0, "no request while offline");
    assert_eq!(armed(&fx), None);
    // Callers asking for a token keep the still-valid one meanwhile.
    assert!(h.step(Input::TokenWanted).is_empty());
    assert_eq!(h.token().as_deref(), Some("tok-1"));
    // Past expiry, a caller gets one attempt (offline is only a hint) ...
    h.now += LEAD + 1;
    assert_eq!(sends(&h.wait(1, Want::Token)), 1);
    assert!(h.s.needs_wait(h.now));
    // ... which fails for lack of network: no attempt spent, no refresh-error,
    // and the caller waits (within its bound) instead of failing.
    let fx = h.step(failed(Error::Network));
    assert!(refresh_errors(&fx).is_empty());
    assert!(settles(&fx).is_empty());
    assert!(h.s.needs_wait(h.now));
    // Later callers wait too, rather than each sending a request.
    assert_eq!(sends(&h.wait(2, Want::Token)), 0);
    assert_eq!(sends(&h.step(Input::Wake)), 0);
    // Back online: exactly one refresh goes out at once.
    let fx = h.step(Input::Connectivity { online: true });
    assert_eq!(sends(&fx), 1);
    assert_eq!(sends(&h.step(Input::Connectivity { online: true })), 0);
    let fx = h.grant("tok-2", HOUR);
    assert_eq!(settles(&fx), [(1, Ok(())), (2, Ok(()))]);
}

#[test]
fn going_offline_during_a_backoff_pauses_the_retry() {
    let mut h = H::signed_in();
    h.now += HOUR - LEAD;
    h.step(Input::TimerFired);
    let fx = h.step(failed(Error::Network));
    let retry_at = armed(&fx).expect("a retry is scheduled");
    h.step(Input::Connectivity { online: false });
    h.now = retry_at;
    assert_eq!(sends(&h.step(Input::TimerFired)), 0);
    h.now += 5_000;
    assert_eq!(sends(&h.step(Input::Connectivity { online: true })), 1);
}

#[test]
fn a_session_ended_in_another_tab_ends_here_without_a_request() {
    let mut h = H::signed_in();
    let fx = h.step(Input::EndedElsewhere(EndReason::Logout));
    assert_eq!(sends(&fx), 0);
    assert_eq!(states(&fx), vec![Phase::SignedOut]);
    assert!(fx.contains(&Effect::Emit(Event::SessionEnded {
        reason: EndReason::Logout
    })));
    assert!(h.token().is_none());
    // Repeated or late messages change nothing.
    assert!(h
        .step(Input::EndedElsewhere(EndReason::InvalidGrant))
        .is_empty());
    // A tab that was not signed in is not "ended".
    let mut idle = H::new();
    assert!(idle
        .step(Input::EndedElsewhere(EndReason::Logout))
        .is_empty());
}

// --- Issue 12: every promise settles, in any order, within its bound. ---

fn timeout_config(request_timeout_ms: u64) -> Config {
    Config {
        request_timeout_ms,
        ..Config::default()
    }
}

#[test]
fn start_twice_joins_one_restore_and_never_settles_restoring() {
    let mut h = H::new();
    assert_eq!(sends(&h.wait(1, Want::Start)), 1);
    assert_eq!(h.s.phase(), Phase::Restoring);
    let fx = h.wait(2, Want::Start);
    assert_eq!(sends(&fx), 0, "the second start() joins");
    assert!(
        settles(&fx).is_empty(),
        "and does not settle while restoring"
    );
    let fx = h.grant("t", HOUR);
    assert_eq!(settles(&fx), [(1, Ok(())), (2, Ok(()))]);
    // Once signed in, start() settles at once.
    assert_eq!(settles(&h.wait(3, Want::Start)), [(3, Ok(()))]);
}

#[test]
fn a_call_before_start_begins_the_restore_and_start_joins_it() {
    let mut h = H::new();
    let fx = h.wait(1, Want::Token);
    assert_eq!(states(&fx), [Phase::Restoring]);
    assert_eq!(sends(&fx), 1);
    assert!(settles(&fx).is_empty());
    let mut total = 0;
    for id in 2..201 {
        total += sends(&h.step(Input::TokenWanted));
        total += sends(&h.wait(id, Want::Token));
    }
    total += sends(&h.wait(500, Want::Start));
    assert_eq!(total, 0, "200 calls and a start() cost one refresh");
    let fx = h.grant("t", HOUR);
    assert_eq!(settles(&fx).len(), 201);
    assert!(settles(&fx).iter().all(|(_, o)| o.is_ok()));
    // refresh() and a bare TokenWanted before start() restore too.
    let mut r = H::new();
    assert_eq!(sends(&r.wait(1, Want::Refresh)), 1);
    assert_eq!(settles(&r.grant("t", HOUR)), [(1, Ok(()))]);
    let mut w = H::new();
    assert_eq!(sends(&w.step(Input::TokenWanted)), 1);
    assert_eq!(w.s.phase(), Phase::Restoring);
}

#[test]
fn refresh_called_from_a_refreshed_handler_is_served_by_the_next_grant() {
    let mut h = H::signed_in();
    assert_eq!(sends(&h.wait(1, Want::Refresh)), 1);
    let fx = h.grant("tok-2", HOUR);
    assert_eq!(settles(&fx), [(1, Ok(()))]);
    // The app's handler for that grant's `refreshed` event calls refresh():
    // a new waiter, which the grant it reacts to does not settle.
    let fx = h.wait(2, Want::Refresh);
    assert_eq!(sends(&fx), 1, "it refreshes again");
    assert!(settles(&fx).is_empty());
    assert_eq!(settles(&h.grant("tok-3", HOUR)), [(2, Ok(()))]);
    // Two refresh() calls at once join one request.
    assert_eq!(sends(&h.wait(3, Want::Refresh)), 1);
    assert_eq!(sends(&h.wait(4, Want::Refresh)), 0);
    assert_eq!(settles(&h.grant("tok-4", HOUR)), [(3, Ok(())), (4, Ok(()))]);
    // Signed out, refresh() is refused at once.
    h.step(Input::SignedOut);
    assert_eq!(
        settles(&h.wait(5, Want::Refresh)),
        [(5, Err(Error::NotSignedIn))]
    );
}

#[test]
fn a_give_up_rejects_refresh_at_once_even_with_a_valid_token() {
    let mut h = H::signed_in();
    h.now += 1_000;
    h.wait(1, Want::Refresh);
    h.wait(2, Want::Refresh);
    let fx = h.step(failed(Error::MalformedResponse {
        reason: "access_token missing",
    }));
    assert_eq!(refresh_errors(&fx), [("malformed_response", 1, None)]);
    let e = Error::MalformedResponse {
        reason: "access_token missing",
    };
    assert_eq!(settles(&fx), [(1, Err(e.clone())), (2, Err(e))]);
    // The valid token stays in use until it expires.
    assert_eq!(h.s.phase(), Phase::SignedIn);
    assert_eq!(h.token().as_deref(), Some("tok-1"));
    assert_eq!(armed(&fx), Some(T0 + HOUR));
}

#[test]
fn start_settles_with_the_first_failure_and_the_restore_goes_on() {
    let mut h = H::new();
    h.wait(1, Want::Start);
    let fx = h.step(failed(Error::Timeout));
    assert_eq!(settles(&fx), [(1, Err(Error::Timeout))]);
    assert_eq!(
        h.s.phase(),
        Phase::Restoring,
        "it goes on in the background"
    );
    let retry_at = h.s.next_retry_at_ms().expect("a retry is scheduled");
    // A start() made during the backoff joins and settles with the next outcome.
    h.now += 1;
    h.wait(2, Want::Start);
    h.now = retry_at;
    assert_eq!(sends(&h.step(Input::TimerFired)), 1);
    let fx = h.grant("t", HOUR);
    assert_eq!(states(&fx), [Phase::SignedIn]);
    assert_eq!(settles(&fx), [(2, Ok(()))]);
}

#[test]
fn every_wait_settles_within_its_bound() {
    let config = Config {
        request_timeout_ms: 3_000,
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay_ms: 100,
            max_delay_ms: 200,
        },
        ..Config::default()
    };
    let mut h = H::with(config);
    assert_eq!(h.s.wait_bound_ms(Want::Token), 3_000);
    assert_eq!(h.s.wait_bound_ms(Want::Start), 3_000);
    assert_eq!(h.s.wait_bound_ms(Want::Refresh), 3 * 3_200);
    // A restore whose request never answers (the browser's abort timer is the
    // runtime's business): start() and a caller wanting a token give up at 3 s.
    let fx = h.wait(1, Want::Start);
    assert_eq!(
        armed(&fx),
        Some(T0 + 3_000),
        "the one timer serves the bound"
    );
    h.now += 1_000;
    h.wait(2, Want::Token);
    h.now = T0 + 2_999;
    assert!(settles(&h.step(Input::TimerFired)).is_empty());
    h.now = T0 + 3_000;
    let fx = h.step(Input::TimerFired);
    assert_eq!(settles(&fx), [(1, Err(Error::Timeout))]);
    assert_eq!(armed(&fx), Some(T0 + 4_000));
    h.now = T0 + 4_000;
    assert_eq!(
        settles(&h.step(Input::TimerFired)),
        [(2, Err(Error::TokenExpired))]
    );
    assert_eq!(h.s.waiting(), 0);
    // A refresh() joining a backoff settles with the last failure at its bound.
    let mut r = H::with(Config {
        request_timeout_ms: 1_000,
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay_ms: 100,
            max_delay_ms: 100,
        },
        ..Config::default()
    });
    r.step(Input::Start);
    r.grant("t", HOUR);
    r.wait(1, Want::Refresh);
    r.step(Input::RefreshFailed(RefreshFailure {
        error: Error::RateLimited(Answer::bare(429)),
        retry_after_ms: Some(3_600_000),
    }));
    r.now += r.s.wait_bound_ms(Want::Refresh);
    assert_eq!(
        settles(&r.step(Input::Wake)),
        [(1, Err(Error::RateLimited(Answer::bare(429))))]
    );
}

#[test]
fn a_cancelled_caller_is_dropped_and_the_refresh_goes_on() {
    let mut h = H::signed_in();
    h.now = T0 + HOUR + 1;
    assert_eq!(sends(&h.wait(1, Want::Token)), 1);
    h.wait(2, Want::Token);
    let fx = h.step(Input::Cancel { id: 1 });
    assert!(settles(&fx).is_empty(), "an aborted caller gets no settle");
    assert!(h.s.refresh_in_flight(), "the others still need the refresh");
    assert_eq!(settles(&h.grant("t2", HOUR)), [(2, Ok(()))]);
    // Cancelling an unknown or settled caller changes nothing.
    assert!(h.step(Input::Cancel { id: 1 }).is_empty());
}

#[test]
fn a_cancelled_caller_no_longer_holds_the_timer() {
    let mut h = H::with(timeout_config(5_000));
    h.step(Input::Start);
    h.grant("t", HOUR);
    h.now = T0 + HOUR;
    h.wait(1, Want::Token);
    assert_eq!(h.s.waiting(), 1);
    let fx = h.step(Input::Cancel { id: 1 });
    assert_eq!(fx, [Effect::CancelTimer]);
    assert_eq!(h.s.waiting(), 0);
}

#[test]
fn offline_start_gets_an_attempt_and_settles_when_it_fails() {
    let mut h = H::new();
    h.step(Input::Connectivity { online: false });
    // The network may in fact work: start() sends.
    assert_eq!(sends(&h.wait(1, Want::Start)), 1);
    h.wait(2, Want::Token);
    let fx = h.step(failed(Error::Network));
    assert_eq!(settles(&fx), [(1, Err(Error::Network))]);
    assert!(refresh_errors(&fx).is_empty(), "no attempt was possible");
    assert_eq!(h.s.phase(), Phase::Restoring);
    // Another start() tries again at once; a caller wanting a token waits.
    assert_eq!(sends(&h.wait(3, Want::Start)), 1);
    h.step(failed(Error::Timeout));
    assert_eq!(sends(&h.wait(4, Want::Token)), 0);
    // Back online, the restore goes out and its success reaches everyone left.
    assert_eq!(sends(&h.step(Input::Connectivity { online: true })), 1);
    let fx = h.grant("t", HOUR);
    assert_eq!(states(&fx), [Phase::SignedIn]);
    assert_eq!(settles(&fx), [(2, Ok(())), (4, Ok(()))]);
    // And when navigator.onLine lies, start() simply signs in.
    let mut liar = H::new();
    liar.step(Input::Connectivity { online: false });
    assert_eq!(sends(&liar.wait(1, Want::Start)), 1);
    assert_eq!(settles(&liar.grant("t", HOUR)), [(1, Ok(()))]);
}

#[test]
fn offline_refresh_call_is_told_at_once_when_its_attempt_fails() {
    let mut h = H::signed_in();
    h.step(Input::Connectivity { online: false });
    assert_eq!(sends(&h.wait(1, Want::Refresh)), 1);
    let fx = h.step(failed(Error::Network));
    assert_eq!(settles(&fx), [(1, Err(Error::Network))]);
    assert!(refresh_errors(&fx).is_empty());
    assert_eq!(h.token().as_deref(), Some("tok-1"), "the token stays");
    assert_eq!(sends(&h.step(Input::Connectivity { online: true })), 1);
}

#[test]
fn a_401_while_offline_gets_one_attempt() {
    let mut h = H::signed_in();
    h.step(Input::Connectivity { online: false });
    assert_eq!(sends(&h.step(Input::Unauthorized { generation: 1 })), 1);
    h.step(failed(Error::Network));
    h.grant("tok-2", HOUR); // a grant proves the network works again
    assert_eq!(sends(&h.step(Input::Unauthorized { generation: 2 })), 1);
}

#[test]
fn a_refused_refresh_ends_the_session_once_the_token_expires() {
    // Issue 12's example: a token response the client refuses (here an
    // `expires_in` it cannot read) while the current token is valid.
    let refused = || {
        failed(Error::InvalidExpiresIn {
            reason: "expires_in is not a number",
        })
    };
    let mut h = H::signed_in();
    h.now = T0 + HOUR - LEAD;
    assert_eq!(sends(&h.step(Input::TimerFired)), 1);
    let fx = h.step(refused());
    assert_eq!(refresh_errors(&fx), [("invalid_expires_in", 1, None)]);
    assert_eq!(h.s.phase(), Phase::SignedIn, "the valid token stays in use");
    assert_eq!(armed(&fx), Some(T0 + HOUR));
    // At expiry one more cycle is tried; refused again, the session ends.
    h.now = T0 + HOUR;
    assert_eq!(sends(&h.step(Input::TimerFired)), 1);
    h.wait(1, Want::Token);
    let fx = h.step(refused());
    assert_eq!(settles(&fx).len(), 1);
    assert_eq!(states(&fx), [Phase::SignedOut]);
    assert!(fx.contains(&Effect::Emit(Event::SessionEnded {
        reason: EndReason::Expired
    })));
    assert_eq!(h.s.expires_at_ms(h.now), None);
    // No call fires a refresh any more.
    for id in 2..12 {
        assert_eq!(sends(&h.wait(id, Want::Token)), 0);
        assert_eq!(sends(&h.step(Input::TokenWanted)), 0);
    }
}

#[test]
fn expires_at_is_none_without_a_usable_token() {
    let mut h = H::signed_in();
    assert_eq!(h.s.expires_at_ms(h.now), Some(T0 + HOUR));
    h.step(Input::Unauthorized { generation: 1 });
    assert_eq!(h.s.expires_at_ms(h.now), None, "the rejected token is gone");
    h.grant("tok-2", HOUR);
    assert_eq!(h.s.expires_at_ms(h.now), Some(h.now + HOUR));
    assert_eq!(h.s.expires_at_ms(h.now + HOUR), None, "expired");
}

/// A grant of `token` for `sub` (None: a token without a subject).
fn grant_for(h: &H, token: &str, sub: Option<&str>) -> TokenGrant {
    TokenGrant {
        subject: sub.and_then(Subject::new),
        ..grant_with(token, h.now, HOUR, false)
    }
}

fn ended(fx: &[Effect]) -> Vec<EndReason> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Emit(Event::SessionEnded { reason }) => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn a_grant_for_another_subject_ends_the_old_session_first() {
    let mut h = H::new();
    h.step(Input::Start);
    h.step(Input::Granted(grant_for(&h, "alice-1", Some("alice"))));
    h.now += HOUR - LEAD;
    let fx = h.step(Input::TimerFired);
    assert_eq!(sends(&fx), 1);
    h.wait(7, Want::Refresh);
    let fx = h.step(Input::Granted(grant_for(&h, "bob-1", Some("bob"))));
    // The old session ends (signed-out, session-ended user-changed), then the new one
    // signs in and is refreshed; the caller waiting for a token is served by the grant.
    let emitted: Vec<&Event> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Emit(event) => Some(event),
            _ => None,
        })
        .collect();
    assert_eq!(
        emitted,
        [
            &Event::State(Phase::SignedOut),
            &Event::SessionEnded {
                reason: EndReason::UserChanged
            },
            &Event::State(Phase::SignedIn),
            &Event::Refreshed {
                expires_at_ms: h.now + HOUR
            },
        ]
    );
    assert_eq!(settles(&fx), [(7, Ok(()))]);
    assert_eq!(h.token().as_deref(), Some("bob-1"));
    assert_eq!(h.s.phase(), Phase::SignedIn);
    // The same user again: no switch.
    let fx = h.step(Input::Accepted(grant_for(&h, "bob-2", Some("bob"))));
    assert!(ended(&fx).is_empty());
    assert!(states(&fx).is_empty());
    // A sign-in (accepted) as someone else switches too.
    let fx = h.step(Input::Accepted(grant_for(&h, "carol-1", Some("carol"))));
    assert_eq!(ended(&fx), [EndReason::UserChanged]);
    assert_eq!(states(&fx), [Phase::SignedOut, Phase::SignedIn]);
}

#[test]
fn without_a_subject_on_either_side_nothing_is_compared() {
    let mut h = H::new();
    h.step(Input::Start);
    h.step(Input::Granted(grant_for(&h, "opaque-1", None)));
    let fx = h.step(Input::Accepted(grant_for(&h, "bob-1", Some("bob"))));
    assert!(ended(&fx).is_empty(), "no subject in memory");
    let fx = h.step(Input::Accepted(grant_for(&h, "opaque-2", None)));
    assert!(ended(&fx).is_empty(), "no subject in the grant");
    // The subject forgotten with it: the next one cannot be compared either.
    let fx = h.step(Input::Accepted(grant_for(&h, "carol-1", Some("carol"))));
    assert!(ended(&fx).is_empty());
}

#[test]
fn a_restore_after_a_logout_is_no_user_switch() {
    let mut h = H::new();
    h.step(Input::Start);
    h.step(Input::Granted(grant_for(&h, "alice-1", Some("alice"))));
    let fx = h.step(Input::SignedOut);
    assert_eq!(ended(&fx), [EndReason::Logout]);
    // Another tab signed in as bob; this one restores through the cookie.
    h.wait(1, Want::Start);
    let fx = h.step(Input::Granted(grant_for(&h, "bob-1", Some("bob"))));
    assert!(ended(&fx).is_empty());
    assert_eq!(states(&fx), [Phase::SignedIn]);
}

#[test]
fn session_since_moves_with_a_new_session_or_user_and_stays_for_a_refresh() {
    let mut h = H::new();
    assert_eq!(h.s.session_since(), 0, "no grant yet");
    h.step(Input::Start);
    h.step(Input::Granted(grant_for(&h, "alice-1", Some("alice"))));
    let first = h.s.generation();
    assert_eq!(h.s.session_since(), first, "the restore began a session");
    // A refresh for the same user continues it.
    h.step(Input::Accepted(grant_for(&h, "alice-2", Some("alice"))));
    assert!(h.s.generation() > first);
    assert_eq!(h.s.session_since(), first);
    // Another user's grant begins a new one: a call begun at `first` is not served by it.
    h.step(Input::Accepted(grant_for(&h, "bob-1", Some("bob"))));
    assert_eq!(h.s.session_since(), h.s.generation());
    assert!(h.s.session_since() > first);
    // A sign-in after a logout begins another, whoever it is for.
    let bob = h.s.generation();
    h.step(Input::SignedOut);
    h.step(Input::Accepted(grant_for(&h, "bob-2", Some("bob"))));
    assert!(h.s.session_since() > bob);
}
