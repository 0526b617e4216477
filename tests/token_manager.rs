//! The token manager end to end inside headless Chromium, against a scripted auth
//! server that replaces `globalThis.fetch` before the manager captures it.
#![cfg(target_arch = "wasm32")]

use js_sys::{Promise, Reflect, JSON};
use token_warden::TokenManager;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/support/fake_server.js")]
extern "C" {
    type FakeServer;
    #[wasm_bindgen(constructor)]
    fn new(lifetime_seconds: f64) -> FakeServer;
    #[wasm_bindgen(method)]
    fn uninstall(this: &FakeServer);
    #[wasm_bindgen(method)]
    fn push(this: &FakeServer, answer: JsValue);
    #[wasm_bindgen(method, js_name = pushToken)]
    fn push_token(this: &FakeServer, extra: JsValue);
    #[wasm_bindgen(method, js_name = revokeCurrent)]
    fn revoke_current(this: &FakeServer);
    #[wasm_bindgen(method)]
    fn count(this: &FakeServer, pathname: &str) -> u32;
    #[wasm_bindgen(method, js_name = authOf)]
    fn auth_of(this: &FakeServer, pathname: &str) -> Vec<JsValue>;
    #[wasm_bindgen(method, js_name = lastTo)]
    fn last_to(this: &FakeServer, href_prefix: &str) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn refreshes(this: &FakeServer) -> u32;
    #[wasm_bindgen(method, getter, js_name = maxInFlight)]
    fn max_in_flight(this: &FakeServer) -> u32;
    #[wasm_bindgen(method, getter)]
    fn current(this: &FakeServer) -> String;
    #[wasm_bindgen(method, setter, js_name = refreshDelayMs)]
    fn set_refresh_delay_ms(this: &FakeServer, ms: f64);
    #[wasm_bindgen(method, setter, js_name = apiAlways401)]
    fn set_api_always_401(this: &FakeServer, on: bool);

    fn sleep(ms: f64) -> Promise;
    #[wasm_bindgen(js_name = storageDump)]
    fn storage_dump() -> Promise;
    #[wasm_bindgen(js_name = eventLog)]
    fn event_log() -> JsValue;
    #[wasm_bindgen(js_name = pushTo)]
    fn push_to(log: &JsValue, name: &str) -> js_sys::Function;
    #[wasm_bindgen(js_name = errorCode)]
    fn error_code(e: &JsValue) -> String;
    fn jwt(payload: JsValue) -> String;
    #[wasm_bindgen(js_name = installSpy)]
    fn install_spy() -> JsValue;
    #[wasm_bindgen(js_name = shiftClock)]
    fn shift_clock(ms: f64);
    #[wasm_bindgen(js_name = fireOnWindow)]
    fn fire_on_window(event: &str);
    #[wasm_bindgen(js_name = streamInit)]
    fn stream_init() -> JsValue;
    #[wasm_bindgen(js_name = makeOptions)]
    fn make_options(extra: JsValue) -> JsValue;
}

fn json(text: &str) -> JsValue {
    JSON::parse(text).unwrap_or_else(|_| panic!("bad test JSON: {text}"))
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap()
}

async fn wait(ms: f64) {
    JsFuture::from(sleep(ms)).await.unwrap();
}

/// A manager over a fresh fake server; the server is uninstalled when dropped.
struct Fixture {
    server: FakeServer,
    tm: TokenManager,
    events: JsValue,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.tm.dispose();
        self.server.uninstall();
    }
}

impl Fixture {
    fn new(lifetime_s: f64, extra_options: &str) -> Self {
        let server = FakeServer::new(lifetime_s);
        let tm = TokenManager::new(make_options(json(extra_options))).expect("valid options");
        let events = event_log();
        for name in [
            "state",
            "refreshed",
            "refresh-error",
            "session-ended",
            "warning",
        ] {
            tm.on(name.into(), push_to(&events, name))
                .expect("known event");
        }
        Fixture { server, tm, events }
    }

    async fn start(&self) -> String {
        JsFuture::from(self.tm.start())
            .await
            .unwrap()
            .as_string()
            .unwrap()
    }

    async fn fetch(&self, url: &str) -> Result<web_sys::Response, JsValue> {
        JsFuture::from(self.tm.fetch(url.into(), JsValue::UNDEFINED))
            .await
            .map(JsCast::unchecked_into)
    }

    fn events(&self, name: &str) -> js_sys::Array {
        get(&self.events, name).unchecked_into()
    }
}

fn has_code(err: &JsValue, code: &str) -> bool {
    error_code(err) == code
}

#[wasm_bindgen_test]
async fn start_restores_the_session_and_fetch_attaches_the_bearer() {
    let f = Fixture::new(60.0, "{}");
    assert_eq!(f.tm.state(), "initial");
    assert_eq!(f.start().await, "signed-in");
    assert_eq!(f.tm.state(), "signed-in");
    let refresh = f.server.last_to(&format!("{}/auth/refresh", origin()));
    assert_eq!(get(&refresh, "method").as_string().unwrap(), "POST");
    assert_eq!(get(&refresh, "credentials").as_string().unwrap(), "include");
    assert_eq!(get(&refresh, "csrf").as_string().unwrap(), "token-warden");
    assert!(
        get(&refresh, "authorization").is_null(),
        "no bearer on refresh"
    );

    let response = f.fetch("/api/me").await.unwrap();
    assert_eq!(response.status(), 200);
    let auth = f.server.auth_of("/api/me");
    assert_eq!(
        auth[0].as_string().unwrap(),
        format!("Bearer {}", f.server.current())
    );
    let expires = f.tm.expires_at().unwrap();
    let now = js_sys::Date::now();
    assert!(
        expires > now + 55_000.0 && expires <= now + 60_000.0,
        "{expires} vs {now}"
    );
    assert_eq!(f.events("state").length(), 2, "restoring, signed-in");
}

fn origin() -> String {
    web_sys::window().unwrap().location().origin().unwrap()
}

#[wasm_bindgen_test]
async fn no_cookie_means_signed_out_not_an_exception() {
    let f = Fixture::new(60.0, "{}");
    f.server.push(json(
        r#"{"status":401,"body":"{\"error\":\"invalid_grant\"}"}"#,
    ));
    assert_eq!(f.start().await, "signed-out");
    assert_eq!(
        f.events("session-ended").length(),
        0,
        "nothing ended: there was no session"
    );
    let response = f.fetch("/api/me").await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        f.server.auth_of("/api/me")[0].is_null(),
        "no bearer while signed out"
    );
    assert_eq!(f.server.refreshes(), 1);
}

#[wasm_bindgen_test]
async fn a_short_lived_token_is_refreshed_before_it_expires() {
    let f = Fixture::new(2.0, "{}");
    f.start().await;
    let first_expiry = f.tm.expires_at().unwrap();
    // Lead is capped at half the lifetime: the refresh goes out about 1 s in.
    wait(1500.0).await;
    assert_eq!(f.server.refreshes(), 2, "refreshed once by the timer");
    assert!(f.tm.expires_at().unwrap() > first_expiry);
    assert!(
        js_sys::Date::now() < first_expiry,
        "the refresh came before the old token expired"
    );
    assert_eq!(f.fetch("/api/me").await.unwrap().status(), 200);
}

#[wasm_bindgen_test]
async fn fifty_concurrent_fetches_at_expiry_send_exactly_one_refresh() {
    let f = Fixture::new(1.0, r#"{"refreshLeadSeconds":0}"#);
    f.start().await;
    f.server.set_refresh_delay_ms(200.0);
    wait(1010.0).await; // the token has just expired
    let calls: js_sys::Array = (0..50)
        .map(|_| JsValue::from(f.tm.fetch("/api/data".into(), JsValue::UNDEFINED)))
        .collect();
    let responses = JsFuture::from(Promise::all(&calls)).await.unwrap();
    let statuses: js_sys::Array = js_sys::Array::from(&responses)
        .iter()
        .map(|r| JsValue::from(r.unchecked_into::<web_sys::Response>().status()))
        .collect();
    let statuses: Vec<f64> = js_sys::Array::from(&statuses)
        .iter()
        .map(|s| s.as_f64().unwrap())
        .collect();
    assert_eq!(statuses.len(), 50);
    assert!(statuses.iter().all(|s| *s == 200.0), "{statuses:?}");
    assert_eq!(
        f.server.refreshes(),
        2,
        "the restore plus exactly one refresh"
    );
    assert_eq!(f.server.max_in_flight(), 1);
}

#[wasm_bindgen_test]
async fn the_bearer_goes_only_to_allowed_origins() {
    let f = Fixture::new(60.0, r#"{"allowedOrigins":["https://api.example.com"]}"#);
    f.start().await;
    let bearer = |url: &str| {
        let rec = f.server.last_to(url);
        get(&rec, "authorization").as_string()
    };
    for url in [
        "https://api.example.com/v1/x",
        "https://api.example.com.evil.com/x",
        "https://api.example.com:8443/x",
        "http://api.example.com/x",
        "https://evil.com/?https://api.example.com",
    ] {
        f.fetch(url).await.unwrap();
    }
    assert!(bearer("https://api.example.com/v1/x").is_some());
    assert_eq!(bearer("https://api.example.com.evil.com/x"), None);
    assert_eq!(bearer("https://api.example.com:8443/x"), None);
    assert_eq!(bearer("http://api.example.com/x"), None);
    assert_eq!(bearer("https://evil.com/"), None);
    // The page's own origin is not allowed when the app lists others.
    f.fetch("/api/me").await.unwrap();
    assert!(f.server.auth_of("/api/me")[0].is_null());
    // Userinfo tricks are refused by the Request constructor, exactly as fetch would.
    let err = f
        .fetch("https://api.example.com@evil.com/")
        .await
        .unwrap_err();
    assert_eq!(get(&err, "name").as_string().unwrap(), "TypeError");
    assert!(
        f.server.last_to("https://evil.com").is_null() || bearer("https://evil.com/").is_none()
    );
}

#[wasm_bindgen_test]
async fn a_caller_authorization_header_is_left_alone() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    let init = json(r#"{"headers":{"Authorization":"Basic Zm9vOmJhcg=="}}"#);
    JsFuture::from(f.tm.fetch("/api/basic".into(), init))
        .await
        .unwrap();
    assert_eq!(
        f.server.auth_of("/api/basic")[0].as_string().unwrap(),
        "Basic Zm9vOmJhcg=="
    );
}

#[wasm_bindgen_test]
async fn a_401_refreshes_once_and_retries_once() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    f.server.revoke_current();
    let response = f.fetch("/api/me").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(f.server.count("/api/me"), 2);
    assert_eq!(f.server.refreshes(), 2);
    let auth = f.server.auth_of("/api/me");
    assert_ne!(
        auth[0].as_string(),
        auth[1].as_string(),
        "the retry carries the new token"
    );
}

#[wasm_bindgen_test]
async fn a_persistent_401_is_returned_after_one_retry_never_a_loop() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    f.server.set_api_always_401(true);
    let response = f.fetch("/api/me").await.unwrap();
    assert_eq!(response.status(), 401);
    wait(50.0).await;
    assert_eq!(f.server.count("/api/me"), 2, "one request, one retry");
    assert_eq!(f.server.refreshes(), 2, "one refresh for the 401");
}

#[wasm_bindgen_test]
async fn a_403_is_returned_as_is_and_never_refreshes() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    let response = f.fetch("/api/forbidden").await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(f.server.count("/api/forbidden"), 1);
    assert_eq!(f.server.refreshes(), 1);
}

#[wasm_bindgen_test]
async fn invalid_grant_ends_the_session_and_sends_nothing_more() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    f.server.push(json(
        r#"{"status":400,"body":"{\"error\":\"invalid_grant\",\"error_description\":\"reused\"}"}"#,
    ));
    let err = JsFuture::from(f.tm.refresh()).await.unwrap_err();
    assert!(has_code(&err, "invalid_grant"), "{}", error_code(&err));
    assert_eq!(f.tm.state(), "signed-out");
    let ended = f.events("session-ended");
    assert_eq!(ended.length(), 1);
    assert_eq!(
        get(&ended.get(0), "reason").as_string().unwrap(),
        "invalid_grant"
    );
    assert_eq!(f.tm.expires_at(), None);
    let refreshes = f.server.refreshes();
    f.fetch("/api/me").await.unwrap();
    let err = JsFuture::from(f.tm.refresh()).await.unwrap_err();
    assert!(has_code(&err, "not_signed_in"));
    wait(50.0).await;
    assert_eq!(
        f.server.refreshes(),
        refreshes,
        "no refresh after the session ended"
    );
    assert!(f.server.auth_of("/api/me")[0].is_null());
}

#[wasm_bindgen_test]
async fn server_errors_back_off_then_recover() {
    let f = Fixture::new(60.0, r#"{"retry":{"baseDelayMs":20,"maxDelayMs":40}}"#);
    f.start().await;
    f.server
        .push(json(r#"{"status":503,"headers":{"Retry-After":"0"}}"#));
    f.server.push(json(r#"{"status":500}"#));
    JsFuture::from(f.tm.refresh())
        .await
        .expect("recovers after two failures");
    assert_eq!(f.server.refreshes(), 4);
    let errors = f.events("refresh-error");
    assert_eq!(errors.length(), 2);
    assert_eq!(
        get(&errors.get(0), "code").as_string().unwrap(),
        "server_error"
    );
    assert_eq!(get(&errors.get(1), "attempt").as_f64().unwrap(), 2.0);
    assert!(get(&errors.get(1), "retryAt").as_f64().is_some());
    // The token stayed usable throughout.
    assert_eq!(f.fetch("/api/me").await.unwrap().status(), 200);
}

#[wasm_bindgen_test]
async fn a_network_error_is_retried_and_requests_keep_the_valid_token() {
    let f = Fixture::new(60.0, r#"{"retry":{"baseDelayMs":30,"maxDelayMs":30}}"#);
    f.start().await;
    f.server.push(json(r#"{"networkError":true}"#));
    let refresh = f.tm.refresh();
    // While the refresh backs off, requests go out with the still-valid token.
    assert_eq!(f.fetch("/api/me").await.unwrap().status(), 200);
    JsFuture::from(refresh).await.unwrap();
    assert_eq!(
        get(&f.events("refresh-error").get(0), "code")
            .as_string()
            .unwrap(),
        "network"
    );
}

#[wasm_bindgen_test]
async fn a_refresh_token_in_the_body_is_dropped_with_a_warning() {
    let f = Fixture::new(60.0, "{}");
    f.server
        .push_token(json(r#"{"refresh_token":"rt-very-secret"}"#));
    assert_eq!(f.start().await, "signed-in");
    let warnings = f.events("warning");
    assert_eq!(warnings.length(), 1);
    assert_eq!(
        get(&warnings.get(0), "code").as_string().unwrap(),
        "refresh_token_in_body"
    );
    let dump = JsFuture::from(storage_dump())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    assert!(!dump.contains("rt-very-secret"));
    assert!(!dump.contains("tok-"), "no access token in any storage");
}

#[wasm_bindgen_test]
async fn bad_token_responses_get_typed_codes_and_no_token_in_messages() {
    let f = Fixture::new(60.0, r#"{"maxTokenBytes":16}"#);
    let now_s = (js_sys::Date::now() / 1000.0).floor();
    let past = jwt(json(&format!(r#"{{"sub":"a","exp":{}}}"#, now_s - 10.0)));
    let string_exp = jwt(json(r#"{"sub":"a","exp":"soon"}"#));
    let rows: Vec<(String, &str)> = vec![
        ("".into(), "malformed_response"),
        ("<html><body>login</body></html>".into(), "malformed_response"),
        ("null".into(), "malformed_response"),
        ("[]".into(), "malformed_response"),
        ("{\"token_type\":\"Bearer\",\"expires_in\":60}".into(), "malformed_response"),
        (r#"{"access_token":"secret value","token_type":"Bearer","expires_in":60}"#.into(), "malformed_token"),
        (r#"{"access_token":"secret\r\nX: y","token_type":"Bearer","expires_in":60}"#.into(), "malformed_token"),
        (r#"{"access_token":"sécret","token_type":"Bearer","expires_in":60}"#.into(), "malformed_token"),
        (r#"{"access_token":"secret-secret-secret-secret","token_type":"Bearer","expires_in":60}"#.into(), "malformed_token"),
        (r#"{"access_token":"secret","token_type":"mac","expires_in":60}"#.into(), "unsupported_token_type"),
        (r#"{"access_token":"secret","expires_in":60}"#.into(), "unsupported_token_type"),
        (r#"{"access_token":"secret","token_type":"Bearer","expires_in":-5}"#.into(), "invalid_expires_in"),
        (r#"{"access_token":"secret","token_type":"Bearer","expires_in":0}"#.into(), "invalid_expires_in"),
        (r#"{"access_token":"secret","token_type":"Bearer","expires_in":"60"}"#.into(), "invalid_expires_in"),
        (r#"{"access_token":"secret","token_type":"Bearer","expires_in":1e308}"#.into(), "invalid_expires_in"),
        (r#"{"access_token":"secret","token_type":"Bearer","expires_in":NaN}"#.into(), "malformed_response"),
        (r#"{"access_token":"secret","token_type":"Bearer"}"#.into(), "unknown_expiry"),
        (r#"{"access_token":"sec.ret.x","token_type":"Bearer","expires_in":60}"#.into(), "malformed_token"),
    ];
    for (body, code) in rows {
        let err = f.tm.accept_token_response(body.clone().into()).unwrap_err();
        assert_eq!(error_code(&err), code, "for {body:?}");
        assert_eq!(get(&err, "name").as_string().unwrap(), "TokenWardenError");
        let message = get(&err, "message").as_string().unwrap();
        assert!(
            !message.contains("secret") && !message.contains("sec.ret"),
            "{message}"
        );
    }
    let big = TokenManager::new(make_options(JsValue::UNDEFINED)).unwrap();
    for (token, code) in [
        (past, "invalid_expires_in"),
        (string_exp, "malformed_token"),
    ] {
        let body = format!(r#"{{"access_token":"{token}","token_type":"Bearer"}}"#);
        let err = big.accept_token_response(body.into()).unwrap_err();
        assert_eq!(error_code(&err), code);
    }
    assert_eq!(f.tm.state(), "initial", "nothing was accepted");
    // A fractional expires_in is rounded down, not refused.
    let ok = r#"{"access_token":"fine","token_type":"bearer","expires_in":59.9}"#;
    assert_eq!(f.tm.accept_token_response(ok.into()).unwrap(), "signed-in");
    let left = f.tm.expires_at().unwrap() - js_sys::Date::now();
    assert!(left > 58_000.0 && left <= 59_000.0, "{left}");
}

#[wasm_bindgen_test]
async fn a_malformed_refresh_answer_rejects_start_with_its_code() {
    let f = Fixture::new(60.0, "{}");
    f.server.push(json(
        r#"{"status":200,"body":"<!doctype html><p>maintenance"}"#,
    ));
    let err = JsFuture::from(f.tm.start()).await.unwrap_err();
    assert!(has_code(&err, "malformed_response"), "{}", error_code(&err));
    assert_eq!(f.tm.state(), "signed-out");
    assert_eq!(f.server.refreshes(), 1, "a malformed answer is not retried");
}

#[wasm_bindgen_test]
async fn jwt_claims_are_readable_and_set_the_expiry() {
    let f = Fixture::new(60.0, "{}");
    let exp = (js_sys::Date::now() / 1000.0).floor() + 120.0;
    let token = jwt(json(&format!(
        r#"{{"sub":"alice","exp":{exp},"scope":"read"}}"#
    )));
    let body = format!(r#"{{"access_token":"{token}","token_type":"Bearer"}}"#);
    assert_eq!(
        f.tm.accept_token_response(body.into()).unwrap(),
        "signed-in"
    );
    assert_eq!(get(&f.tm.claims(), "sub").as_string().unwrap(), "alice");
    let expires = f.tm.expires_at().unwrap();
    assert!(
        (expires - exp * 1000.0).abs() < 2_000.0,
        "{expires} vs {exp}"
    );
    // An opaque token has no claims.
    let opaque = r#"{"access_token":"opaque-123","token_type":"Bearer","expires_in":60}"#;
    f.tm.accept_token_response(opaque.into()).unwrap();
    assert!(f.tm.claims().is_null());
}

#[wasm_bindgen_test]
async fn the_raw_token_is_only_for_apps_that_opt_in() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    let err = JsFuture::from(f.tm.access_token()).await.unwrap_err();
    assert!(has_code(&err, "token_not_exposed"));
    drop(f);
    let f = Fixture::new(60.0, r#"{"exposeAccessToken":true}"#);
    f.start().await;
    let token = JsFuture::from(f.tm.access_token()).await.unwrap();
    assert_eq!(token.as_string().unwrap(), f.server.current());
}

#[wasm_bindgen_test]
async fn sign_in_posts_the_app_request_with_credentials_and_csrf() {
    let f = Fixture::new(60.0, "{}");
    let init = json(
        r#"{"body":"{\"username\":\"alice\",\"password\":\"pw\"}","headers":{"Content-Type":"application/json"}}"#,
    );
    let state = JsFuture::from(f.tm.sign_in("/auth/login".into(), init))
        .await
        .unwrap();
    assert_eq!(state.as_string().unwrap(), "signed-in");
    let login = f.server.last_to(&format!("{}/auth/login", origin()));
    assert_eq!(get(&login, "method").as_string().unwrap(), "POST");
    assert_eq!(get(&login, "credentials").as_string().unwrap(), "include");
    assert_eq!(get(&login, "csrf").as_string().unwrap(), "token-warden");
    assert!(get(&login, "body").as_string().unwrap().contains("alice"));
    // Bad credentials are a typed rejection.
    f.server.push(json(
        r#"{"status":401,"body":"{\"error\":\"invalid_grant\"}"}"#,
    ));
    let err = JsFuture::from(f.tm.sign_in("/auth/login".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert!(has_code(&err, "invalid_grant"));
}

#[wasm_bindgen_test]
async fn logout_tells_the_server_and_clears_memory() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    let token = f.server.current();
    JsFuture::from(f.tm.logout()).await.unwrap();
    let logout = f.server.last_to(&format!("{}/auth/logout", origin()));
    assert_eq!(get(&logout, "credentials").as_string().unwrap(), "include");
    assert_eq!(get(&logout, "csrf").as_string().unwrap(), "token-warden");
    assert_eq!(
        get(&logout, "authorization").as_string().unwrap(),
        format!("Bearer {token}")
    );
    assert_eq!(f.tm.state(), "signed-out");
    let ended = f.events("session-ended");
    assert_eq!(get(&ended.get(0), "reason").as_string().unwrap(), "logout");
    f.fetch("/api/me").await.unwrap();
    assert!(f.server.auth_of("/api/me")[0].is_null());
}

#[wasm_bindgen_test]
async fn a_fetch_replaced_after_creation_never_sees_our_requests() {
    let f = Fixture::new(60.0, "{}");
    let spy = install_spy();
    f.start().await;
    f.fetch("/api/me").await.unwrap();
    assert_eq!(get(&spy, "calls").as_f64().unwrap(), 0.0);
    let restore: js_sys::Function = get(&spy, "restore").unchecked_into();
    restore.call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn waiting_for_a_hung_refresh_times_out_with_a_clear_code() {
    let f = Fixture::new(
        1.0,
        r#"{"refreshLeadSeconds":0,"requestTimeoutMs":300,"retry":{"maxAttempts":1}}"#,
    );
    f.start().await;
    f.server.push(json(r#"{"hang":true}"#));
    wait(1010.0).await;
    let started = js_sys::Date::now();
    let err = f.fetch("/api/me").await.unwrap_err();
    let waited = js_sys::Date::now() - started;
    assert!(
        has_code(&err, "token_expired") || has_code(&err, "timeout"),
        "{}",
        error_code(&err)
    );
    assert!(waited < 1_000.0, "waited {waited} ms");
}

#[wasm_bindgen_test]
async fn dispose_cancels_everything_and_later_calls_reject() {
    let f = Fixture::new(1.0, "{}");
    f.start().await;
    f.tm.dispose();
    assert_eq!(f.tm.state(), "disposed");
    wait(700.0).await;
    assert_eq!(f.server.refreshes(), 1, "the refresh timer was cancelled");
    let err = f.fetch("/api/me").await.unwrap_err();
    assert!(has_code(&err, "disposed"));
    let err = JsFuture::from(f.tm.start()).await.unwrap_err();
    assert!(has_code(&err, "disposed"));
}

#[wasm_bindgen_test]
fn bad_options_name_the_field() {
    let rows = [
        (r#"{"refreshUrl":5}"#, "refreshUrl"),
        (
            r#"{"refreshUrl":"/r","allowedOrigins":"https://a.com"}"#,
            "allowedOrigins",
        ),
        (
            r#"{"refreshUrl":"/r","allowedOrigins":["https://a.com/path"]}"#,
            "allowedOrigins",
        ),
        (
            r#"{"refreshUrl":"/r","allowedOrigins":["*"]}"#,
            "allowedOrigins",
        ),
        (r#"{"refreshUrl":"/r","refreshURL":"/r"}"#, "refreshURL"),
        (
            r#"{"refreshUrl":"/r","refreshLeadSeconds":-1}"#,
            "refreshLeadSeconds",
        ),
        (
            r#"{"refreshUrl":"/r","requestTimeoutMs":"fast"}"#,
            "requestTimeoutMs",
        ),
        (
            r#"{"refreshUrl":"/r","csrfHeader":{"name":"Bad Header","value":"x"}}"#,
            "csrfHeader",
        ),
        (
            r#"{"refreshUrl":"/r","retry":{"maxAttempts":0}}"#,
            "retry.maxAttempts",
        ),
        (
            r#"{"refreshUrl":"/r","exposeAccessToken":"yes"}"#,
            "exposeAccessToken",
        ),
        (r#"{"refreshUrl":"javascript:alert(1)"}"#, "refreshUrl"),
        ("{}", "refreshUrl"),
        ("null", "options"),
    ];
    for (options, field) in rows {
        let err = match TokenManager::new(json(options)) {
            Ok(_) => panic!("{options} was accepted"),
            Err(err) => err,
        };
        assert_eq!(error_code(&err), "invalid_options", "{options}");
        let message = get(&err, "message").as_string().unwrap();
        assert!(message.contains(field), "{options}: {message}");
    }
}

#[wasm_bindgen_test]
fn errors_are_recognizable_from_javascript() {
    let err = TokenManager::new(JsValue::NULL).err().unwrap();
    assert!(token_warden::is_token_warden_error(&err));
    assert!(err.is_instance_of::<js_sys::Error>());
    assert!(!token_warden::is_token_warden_error(
        &js_sys::Error::new("x").into()
    ));
}

/// Restores the page clock even when an assertion fails.
struct ClockShift;
impl Drop for ClockShift {
    fn drop(&mut self) {
        shift_clock(0.0);
    }
}

#[wasm_bindgen_test]
async fn waking_up_inside_the_lead_window_refreshes_at_once() {
    let f = Fixture::new(120.0, "{}");
    f.start().await;
    // The timer is set for 60 s from now. The machine "sleeps" 100 s; timers did not run.
    let _restore = ClockShift;
    shift_clock(100_000.0);
    for event in ["focus", "online", "pageshow"] {
        fire_on_window(event);
    }
    wait(30.0).await;
    assert_eq!(
        f.server.refreshes(),
        2,
        "one refresh for all wake-up events"
    );
}

#[wasm_bindgen_test]
async fn the_first_request_after_sleeping_past_expiry_carries_a_fresh_token() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    let old = f.server.current();
    let _restore = ClockShift;
    shift_clock(120_000.0);
    let response = f.fetch("/api/me").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        f.server.count("/api/me"),
        1,
        "no 401 round trip: refreshed before sending"
    );
    let sent = f.server.auth_of("/api/me")[0].as_string().unwrap();
    assert_ne!(sent, format!("Bearer {old}"));
    assert_eq!(sent, format!("Bearer {}", f.server.current()));
}

#[wasm_bindgen_test]
async fn a_streamed_body_is_never_replayed_the_401_is_returned() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    f.server.revoke_current();
    let response = JsFuture::from(f.tm.fetch("/api/upload".into(), stream_init()))
        .await
        .unwrap()
        .unchecked_into::<web_sys::Response>();
    assert_eq!(response.status(), 401);
    assert_eq!(
        f.server.count("/api/upload"),
        1,
        "a stream cannot be sent twice"
    );
    // The 401 still told the manager its token is bad: the next request gets a new one.
    assert_eq!(f.fetch("/api/me").await.unwrap().status(), 200);
    assert_eq!(f.server.refreshes(), 2);
}

#[wasm_bindgen_test]
async fn a_401_on_a_request_with_a_body_retries_with_the_same_body() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    f.server.revoke_current();
    let init =
        json(r#"{"method":"POST","body":"payload-123","headers":{"Content-Type":"text/plain"}}"#);
    let response = JsFuture::from(f.tm.fetch("/api/items".into(), init))
        .await
        .unwrap()
        .unchecked_into::<web_sys::Response>();
    assert_eq!(response.status(), 200);
    assert_eq!(f.server.count("/api/items"), 2);
    let last = f.server.last_to(&format!("{}/api/items", origin()));
    assert_eq!(get(&last, "body").as_string().unwrap(), "payload-123");
    assert_eq!(get(&last, "method").as_string().unwrap(), "POST");
}

#[wasm_bindgen_test]
async fn fetch_rejects_like_fetch_on_a_bad_url_and_on_a_network_error() {
    let f = Fixture::new(60.0, "{}");
    f.start().await;
    let err = f.fetch("http://[bad/").await.unwrap_err();
    assert_eq!(get(&err, "name").as_string().unwrap(), "TypeError");
    // The transport's own TypeError comes through untouched, bearer or not.
    for url in ["/api/down", "http://127.0.0.1:9/"] {
        let err = f.fetch(url).await.unwrap_err();
        assert_eq!(get(&err, "name").as_string().unwrap(), "TypeError", "{url}");
        assert_eq!(get(&err, "message").as_string().unwrap(), "Failed to fetch");
    }
}
