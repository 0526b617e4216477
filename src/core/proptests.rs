//! Property tests: nothing that parses network input or steps the session
//! may panic, whatever it is fed.

use super::*;
use crate::core::error::Answer;
use crate::decode::jwt::{dangerous, decode_if_jwt};
use crate::decode::{self, parse_error_response, parse_token_response};
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    " ",
    "\"",
    "\\",
    "\\u",
    "\\ud83d",
    "\\ude00",
    "\\n",
    "0",
    "-",
    "1e999",
    "1.5",
    "-0",
    "3600",
    "true",
    "false",
    "null",
    "\"access_token\"",
    "\"token_type\"",
    "\"Bearer\"",
    "\"expires_in\"",
    "\"refresh_token\"",
    "\"scope\"",
    "\"exp\"",
    "\"iat\"",
    "\"error\"",
    "\"invalid_grant\"",
    "\"error_description\"",
    "\"abc\"",
    "é",
    "\u{0}",
    "<html>",
    "eyJhbGciOiJub25lIn0",
    ".",
    "=",
    "\r\n",
];

fn jsonish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..48).prop_map(|parts| parts.concat())
}

/// Token-response-shaped bodies whose values are arbitrary.
fn token_body() -> impl Strategy<Value = String> {
    (jwt_like(), jsonish(), jsonish(), any::<bool>()).prop_map(|(token, ty, exp, rt)| {
        let rt = if rt { r#","refresh_token":"r""# } else { "" };
        format!(r#"{{"access_token":"{token}","token_type":{ty},"expires_in":{exp}{rt}}}"#)
    })
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<Vec<u8>>().prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
        any::<Vec<u8>>().prop_map(|b| URL_SAFE.encode(b)),
        jsonish().prop_map(|j| URL_SAFE_NO_PAD.encode(j)),
        "[A-Za-z0-9_=+/-]{0,40}",
        any::<String>(),
    ]
}

fn jwt_like() -> impl Strategy<Value = String> {
    (segment(), segment(), segment()).prop_map(|(a, b, c)| format!("{a}.{b}.{c}"))
}

fn http_dateish() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["Sun", "Mon", "Xyz", ""][..]),
        0u32..40,
        prop::sample::select(&["Jan", "Feb", "Nov", "Dec", "nov"][..]),
        0u32..12000,
        0u32..30,
        0u32..70,
        0u32..70,
    )
        .prop_map(|(d, day, m, y, h, mi, s)| {
            format!("{d}, {day:02} {m} {y:04} {h:02}:{mi:02}:{s:02} GMT")
        })
}

fn policy() -> impl Strategy<Value = ExpiryPolicy> {
    (prop::option::of(any::<u64>()), 0usize..10_000).prop_map(|(d, m)| ExpiryPolicy {
        default_lifetime_ms: d,
        max_token_bytes: m,
    })
}

proptest! {
    #[test]
    fn decoding_never_panics(s in prop_oneof![any::<String>(), jsonish(), token_body()]) {
        let _ = decode::token_response(&s);
        let _ = decode::error_response(&s);
        let _ = decode::json_object::<JwtClaims>(&s);
    }

    #[test]
    fn decoding_bytes_never_panics(b in any::<Vec<u8>>()) {
        let s = String::from_utf8_lossy(&b);
        let _ = decode::token_response(&s);
        let _ = decode::error_response(&s);
    }

    #[test]
    fn claims_never_panic(s in any::<String>(), t in jwt_like()) {
        let _ = decode_if_jwt(&s);
        let _ = decode_if_jwt(&t);
        let _ = dangerous::decode_unverified(&t);
    }

    #[test]
    fn bearer_syntax_never_panics(s in any::<String>(), max in any::<usize>()) {
        let _ = validate_bearer_token(&s, max);
    }

    #[test]
    fn token_response_never_panics(
        body in prop_oneof![any::<String>(), jsonish(), token_body()],
        received in any::<u64>(),
        date in prop::option::of(any::<u64>()),
        p in policy(),
    ) {
        if let Ok(g) = parse_token_response(&body, received, date, &p) {
            prop_assert!(g.lifetime_ms > 0 && g.lifetime_ms <= MAX_LIFETIME_MS);
            prop_assert!(g.expires_at_ms >= received);
            let shown = format!("{:?}", g);
            prop_assert!(!shown.contains(g.token.secret()) || g.token.secret().len() < 4);
        }
    }

    #[test]
    fn error_response_never_panics(
        status in any::<u16>(),
        body in prop_oneof![any::<String>(), jsonish()],
        retry in prop_oneof![any::<String>(), http_dateish(), "[0-9]{0,30}"],
        date in any::<f64>(),
        now in any::<u64>(),
    ) {
        let f = parse_error_response(status, &body, &retry, date, now);
        if let Some(ms) = f.retry_after_ms {
            prop_assert!(ms <= MAX_WAIT_MS);
        }
        if let Some(answer) = f.error.answer() {
            prop_assert_eq!(answer.status, status);
            for text in [&answer.error, &answer.description].into_iter().flatten() {
                prop_assert!(!text.is_empty() && text.len() <= 200 && text.bytes().all(|b| (0x20..0x7f).contains(&b)));
            }
        }
    }

    #[test]
    fn retry_after_never_panics(
        s in prop_oneof![any::<String>(), http_dateish(), "[0-9]{0,30}"],
        date in prop_oneof![any::<f64>(), Just(f64::NAN), -1e20f64..1e20],
        now in any::<u64>(),
    ) {
        if let Some(ms) = retry_after_ms(&s, date, now) {
            prop_assert!(ms <= MAX_WAIT_MS);
        }
    }

    #[test]
    fn an_allowed_url_is_its_origin_then_a_delimiter(
        url in prop_oneof![
            any::<String>(),
            "(https?://)?[a-z.@:\\\\\\[\\]0-9]{0,20}[/?#]?[a-z/]{0,5}",
            "(https://a\\.example|http://127\\.0\\.0\\.1:8080|http://\\[::1\\]:9)[a-z.@:/?#\\\\]{0,10}",
        ],
    ) {
        let allowed = AllowedOrigins::parse("https://a.example\nhttp://127.0.0.1:8080\nhttp://[::1]:9");
        if let Some(origin) = origin_of(&url) {
            prop_assert!(url.starts_with(origin) && !origin.contains('@'));
        }
        if allowed.allows(&url) {
            let origin = origin_of(&url).unwrap();
            prop_assert!(["https://a.example", "http://127.0.0.1:8080", "http://[::1]:9"].contains(&origin));
            let next = url[origin.len()..].chars().next();
            prop_assert!(matches!(next, None | Some('/' | '?' | '#' | '\\')), "{url}");
        }
    }

    #[test]
    fn backoff_never_panics(
        base in any::<u64>(), max in any::<u64>(), attempts in any::<u32>(),
        attempt in any::<u32>(), r in any::<f64>(), ra in prop::option::of(any::<u64>()),
        at in any::<u64>(), now in any::<u64>(),
    ) {
        let p = RetryPolicy { max_attempts: attempts, base_delay_ms: base, max_delay_ms: max };
        prop_assert!(backoff_delay_ms(&p, attempt, r, ra) <= MAX_WAIT_MS);
        prop_assert!(u64::from(clamp_timer_delay(at, now)) <= MAX_TIMER_DELAY_MS);
        let _ = refresh_at_ms(at, now, base);
    }
}

#[derive(Debug, Clone)]
enum Op {
    Start,
    Granted {
        lifetime_ms: u64,
        dropped: bool,
        expires_offset: Option<u64>,
    },
    Failed {
        which: u8,
        retry_after_ms: Option<u64>,
    },
    TimerFired,
    Wake,
    TokenWanted,
    ForceRefresh,
    Unauthorized {
        generation: u64,
        current: bool,
    },
    SignedOut,
    EndedElsewhere,
    Connectivity(bool),
    Accepted {
        lifetime_ms: u64,
    },
    Dispose,
    /// A caller starts waiting (ids are handed out by the test, unique).
    Wait(u8),
    /// The caller at this index among those waiting aborts.
    Cancel(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Start),
        4 => (prop_oneof![0u64..10, 0u64..10_000_000, any::<u64>()], any::<bool>(), prop::option::of(any::<u64>()))
            .prop_map(|(lifetime_ms, dropped, expires_offset)| Op::Granted { lifetime_ms, dropped, expires_offset }),
        4 => (any::<u8>(), prop::option::of(any::<u64>()))
            .prop_map(|(which, retry_after_ms)| Op::Failed { which, retry_after_ms }),
        4 => Just(Op::TimerFired),
        2 => Just(Op::Wake),
        4 => Just(Op::TokenWanted),
        2 => Just(Op::ForceRefresh),
        2 => (any::<u64>(), any::<bool>()).prop_map(|(generation, current)| Op::Unauthorized { generation, current }),
        1 => Just(Op::SignedOut),
        1 => Just(Op::EndedElsewhere),
        2 => any::<bool>().prop_map(Op::Connectivity),
        1 => (0u64..10_000_000).prop_map(|lifetime_ms| Op::Accepted { lifetime_ms }),
        1 => Just(Op::Dispose),
        4 => any::<u8>().prop_map(Op::Wait),
        1 => any::<u8>().prop_map(Op::Cancel),
    ]
}

fn want(which: u8) -> Want {
    match which % 3 {
        0 => Want::Token,
        1 => Want::Start,
        _ => Want::Refresh,
    }
}

fn failure(which: u8) -> Error {
    match which % 10 {
        0 => Error::Network,
        1 => Error::Timeout,
        2 => Error::Server(Answer::bare(503)),
        3 => Error::RateLimited(Answer::bare(429)),
        4 => Error::invalid_grant(None),
        5 => Error::oauth("invalid_client", None, 400),
        6 => Error::HttpStatus(Answer::bare(404)),
        7 => Error::MalformedResponse { reason: "x" },
        8 => Error::Aborted,
        _ => Error::UnsupportedTokenType,
    }
}

fn to_input(op: &Op, session: &Session, now: u64) -> Input {
    match op {
        Op::Start => Input::Start,
        Op::Granted {
            lifetime_ms,
            dropped,
            expires_offset,
        } => Input::Granted(TokenGrant {
            token: AccessToken::new("PROPTESTSECRET".into()),
            expires_at_ms: expires_offset.map_or(now.saturating_add(*lifetime_ms), |o| o),
            lifetime_ms: *lifetime_ms,
            dropped_refresh_token: *dropped,
            expiry_source: ExpirySource::ExpiresIn,
            claims: None,
            scope: None,
            subject: None,
        }),
        Op::Failed {
            which,
            retry_after_ms,
        } => Input::RefreshFailed(RefreshFailure {
            error: failure(*which),
            retry_after_ms: *retry_after_ms,
        }),
        Op::TimerFired => Input::TimerFired,
        Op::Wake => Input::Wake,
        Op::TokenWanted => Input::TokenWanted,
        Op::ForceRefresh => Input::ForceRefresh,
        Op::Unauthorized {
            generation,
            current,
        } => Input::Unauthorized {
            generation: if *current {
                session.generation()
            } else {
                *generation
            },
        },
        Op::SignedOut => Input::SignedOut,
        Op::EndedElsewhere => Input::EndedElsewhere(EndReason::Logout),
        Op::Connectivity(online) => Input::Connectivity { online: *online },
        Op::Accepted { lifetime_ms } => Input::Accepted(TokenGrant {
            token: AccessToken::new("accepted".into()),
            expires_at_ms: now.saturating_add(*lifetime_ms),
            lifetime_ms: *lifetime_ms,
            dropped_refresh_token: false,
            expiry_source: ExpirySource::ExpiresIn,
            claims: None,
            scope: None,
            subject: None,
        }),
        Op::Dispose => Input::Dispose,
        // Rewritten with real ids by `Callers::input`.
        Op::Wait(_) | Op::Cancel(_) => Input::Wake,
    }
}

/// The callers a property test has waiting: what the browser layer would keep.
#[derive(Default)]
struct Callers {
    next: u64,
    /// id and the latest time it may still be waiting.
    open: Vec<(u64, u64)>,
}

impl Callers {
    fn input(&mut self, op: &Op, session: &Session, now: u64) -> Input {
        match op {
            Op::Wait(which) => {
                self.next += 1;
                let want = want(*which);
                let bound = now.saturating_add(session.wait_bound_ms(want));
                self.open.push((self.next, bound));
                Input::Wait {
                    id: self.next,
                    want,
                }
            }
            Op::Cancel(index) if !self.open.is_empty() => {
                let (id, _) = self.open.remove(usize::from(*index) % self.open.len());
                Input::Cancel { id }
            }
            other => to_input(other, session, now),
        }
    }

    /// Checks the settles of one step: each names an open caller, once.
    fn settled(&mut self, fx: &[Effect]) -> Result<(), TestCaseError> {
        for e in fx {
            if let Effect::Settle { id, .. } = e {
                let at = self.open.iter().position(|(open, _)| open == id);
                prop_assert!(at.is_some(), "caller {} settled twice or unknown", id);
                if let Some(at) = at {
                    self.open.remove(at);
                }
            }
        }
        Ok(())
    }
}

fn config() -> impl Strategy<Value = Config> {
    (
        any::<u64>(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        0u32..20,
    )
        .prop_map(|(lead, attempts, base, max, per_min)| Config {
            refresh_lead_ms: lead,
            retry: RetryPolicy {
                max_attempts: attempts % 8,
                base_delay_ms: base,
                max_delay_ms: max,
            },
            expiry: ExpiryPolicy::default(),
            max_refreshes_per_minute: per_min,
            request_timeout_ms: base % 100_000,
        })
}

proptest! {
    #[test]
    fn session_step_never_panics_with_arbitrary_times(
        cfg in config(),
        ops in prop::collection::vec((op(), any::<u64>(), any::<f64>()), 0..64),
    ) {
        let mut s = Session::new(cfg);
        let mut callers = Callers::default();
        for (op, now, r) in ops {
            let input = callers.input(&op, &s, now);
            let was_in_flight = s.refresh_in_flight();
            let was_disposed = s.phase() == Phase::Disposed;
            let fx = s.step(input, now, r);
            callers.settled(&fx)?;
            let sends = fx.iter().filter(|e| **e == Effect::SendRefresh).count();
            prop_assert!(sends <= 1);
            prop_assert!(!(was_in_flight && sends > 0), "single flight");
            let only_disposed = fx.iter().all(|e| matches!(
                e,
                Effect::Settle { outcome: Err(Error::Disposed), .. }
            ));
            prop_assert!(!was_disposed || only_disposed, "after dispose only refusals");
            if let Some((_, _)) = s.usable_token(now) {
                prop_assert_eq!(s.phase(), Phase::SignedIn);
            }
            if s.phase() == Phase::Disposed {
                prop_assert_eq!(s.waiting(), 0, "disposing settles everyone");
            }
            let _ = (s.needs_wait(now), s.token_unavailable_reason(now), s.expires_at_ms(now), s.claims());
            let shown = format!("{:?} {:?}", s, fx);
            prop_assert!(!shown.contains("PROPTESTSECRET"));
        }
    }

    #[test]
    fn session_respects_refresh_ceiling_on_a_monotonic_clock(
        ops in prop::collection::vec((op(), 0u64..20_000, 0.0f64..1.0), 0..200),
    ) {
        let mut s = Session::new(Config::default());
        let mut now = 1_700_000_000_000u64;
        let mut sent_at: Vec<u64> = vec![];
        let mut callers = Callers::default();
        for (op, dt, r) in ops {
            now += dt;
            let input = callers.input(&op, &s, now);
            let fx = s.step(input, now, r);
            callers.settled(&fx)?;
            // On a monotonic clock no caller is still waiting past its bound.
            for &(id, bound) in &callers.open {
                prop_assert!(now < bound, "caller {} waits past its bound", id);
            }
            if fx.contains(&Effect::SendRefresh) {
                prop_assert!(s.refresh_in_flight());
                sent_at.push(now);
            }
            for e in &fx {
                if let Effect::ArmTimer { at_ms } = e {
                    prop_assert!(*at_ms > 0);
                }
            }
        }
        for (i, &t) in sent_at.iter().enumerate() {
            let in_window = sent_at[i..].iter().take_while(|&&u| u < t + 60_000).count();
            prop_assert!(in_window <= 10);
        }
    }
}
