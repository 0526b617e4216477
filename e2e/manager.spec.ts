// The token manager end to end through the public npm API (`createTokenManager` from
// /pkg/index.js), in Chromium, against a scripted auth server (e2e/support/fake_server.js)
// that replaces `globalThis.fetch` inside the page before the manager captures it.
// The reference server is only the page's origin (http://localhost, a secure context)
// and serves /pkg/; the test page and the support module are served from disk.
import { expect } from '@playwright/test';
import { fakeServerTest } from './support/fake_page';

const PREFIX = '/manager-tests/';

/** A request as the fake server recorded it. */
interface Rec {
  url: string;
  pathname: string;
  method: string;
  authorization: string | null;
  csrf: string | null;
  credentials: string;
  body: string | null;
}
interface Err {
  name: string | null;
  message: string;
  code: string | null;
  isError: boolean;
}
type Settled<T = unknown> = { ok: true; value: T; error?: undefined } | { ok: false; error: Err; value?: undefined };

const test = fakeServerTest(PREFIX, `${PREFIX}index.html`, 'token-warden manager tests');

test('start restores the session and fetch attaches the bearer', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    const initialState = f.tm.state;
    const started = await f.tm.start();
    const state = f.tm.state;
    const refresh = f.server.lastTo(`${location.origin}/auth/refresh`);
    const status = (await f.tm.fetch('/api/me')).status;
    const auth = f.server.authOf('/api/me');
    const current = f.server.current;
    const expires = f.tm.expiresAt;
    const now = Date.now();
    return { initialState, started, state, refresh, status, auth, current, expires, now, states: f.events.state };
  });
  expect(o.initialState).toBe('initial');
  expect(o.started).toBe('signed-in');
  expect(o.state).toBe('signed-in');
  expect(o.refresh.method).toBe('POST');
  expect(o.refresh.credentials).toBe('include');
  expect(o.refresh.csrf).toBe('token-warden');
  expect(o.refresh.authorization, 'no bearer on refresh').toBeNull();
  expect(o.status).toBe(200);
  expect(o.auth[0]).toBe(`Bearer ${o.current}`);
  expect(o.expires).toBeGreaterThan(o.now + 55_000);
  expect(o.expires).toBeLessThanOrEqual(o.now + 60_000);
  expect(o.states, 'restoring, signed-in').toEqual(['restoring', 'signed-in']);
});

test('no cookie means signed out, not an exception', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    f.server.push({ status: 401, body: '{"error":"invalid_grant"}' });
    const started = await f.tm.start();
    const ended = f.events['session-ended'].length;
    const status = (await f.tm.fetch('/api/me')).status;
    return { started, ended, status, auth: f.server.authOf('/api/me'), refreshes: f.server.refreshes };
  });
  expect(o.started).toBe('signed-out');
  expect(o.ended, 'nothing ended: there was no session').toBe(0);
  expect(o.status).toBe(401);
  expect(o.auth[0], 'no bearer while signed out').toBeNull();
  expect(o.refreshes).toBe(1);
});

test('a short-lived token is refreshed before it expires', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 2, {});
    const refreshedAt: number[] = [];
    f.tm.on('refreshed', () => refreshedAt.push(Date.now()));
    await f.tm.start();
    const firstExpiry = f.tm.expiresAt;
    // Lead is capped at half the lifetime: the refresh goes out about 1 s in.
    await fake.sleep(1500);
    const refreshes = f.server.refreshes;
    const expiry = f.tm.expiresAt;
    const status = (await f.tm.fetch('/api/me')).status;
    return { firstExpiry, refreshes, expiry, refreshedAt, status };
  });
  expect(o.refreshes, 'refreshed once by the timer').toBe(2);
  expect(o.expiry).toBeGreaterThan(o.firstExpiry);
  // The restore, then the timer's refresh, which completed before the old token expired.
  expect(o.refreshedAt).toHaveLength(2);
  expect(o.refreshedAt[1], 'the refresh came before the old token expired').toBeLessThan(o.firstExpiry);
  expect(o.status).toBe(200);
});

test('fifty concurrent fetches at expiry send exactly one refresh', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 1, { refreshLeadSeconds: 0 });
    await f.tm.start();
    f.server.refreshDelayMs = 200;
    await fake.sleep(1010); // the token has just expired
    const responses: Response[] = await Promise.all(Array.from({ length: 50 }, () => f.tm.fetch('/api/data')));
    return { statuses: responses.map((r) => r.status), refreshes: f.server.refreshes, maxInFlight: f.server.maxInFlight };
  });
  expect(o.statuses).toHaveLength(50);
  expect(o.statuses.filter((s) => s !== 200)).toEqual([]);
  expect(o.refreshes, 'the restore plus exactly one refresh').toBe(2);
  expect(o.maxInFlight).toBe(1);
});

test('the bearer goes only to allowed origins', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, { allowedOrigins: ['https://api.example.com'] });
    await f.tm.start();
    const urls = [
      'https://api.example.com/v1/x',
      'https://api.example.com.evil.com/x',
      'https://api.example.com:8443/x',
      'http://api.example.com/x',
      'https://evil.com/?https://api.example.com',
    ];
    const fetched: boolean[] = [];
    for (const url of urls) fetched.push((await fake.settle(f.tm.fetch(url))).ok);
    const bearer = (prefix: string) => f.server.lastTo(prefix)?.authorization ?? null;
    const bearers = {
      allowed: bearer('https://api.example.com/v1/x'),
      suffix: bearer('https://api.example.com.evil.com/x'),
      port: bearer('https://api.example.com:8443/x'),
      scheme: bearer('http://api.example.com/x'),
      query: bearer('https://evil.com/'),
    };
    // The page's own origin is not allowed when the app lists others.
    await f.tm.fetch('/api/me');
    const own = f.server.authOf('/api/me');
    // Userinfo tricks are refused by the Request constructor, exactly as fetch would.
    const userinfo = await fake.settle(f.tm.fetch('https://api.example.com@evil.com/'));
    const evilLast = f.server.lastTo('https://evil.com');
    return { fetched, bearers, own, userinfo, evilLast, evilBearer: bearer('https://evil.com/') };
  });
  expect(o.fetched).toEqual([true, true, true, true, true]);
  expect(o.bearers.allowed).toEqual(expect.any(String));
  expect(o.bearers.suffix).toBeNull();
  expect(o.bearers.port).toBeNull();
  expect(o.bearers.scheme).toBeNull();
  expect(o.bearers.query).toBeNull();
  expect(o.own[0]).toBeNull();
  expect(o.userinfo.ok).toBe(false);
  expect(o.userinfo.error?.name).toBe('TypeError');
  expect(o.evilLast === null || o.evilBearer === null).toBe(true);
});

test('a caller Authorization header is left alone', async ({ page }) => {
  const auth = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    await f.tm.fetch('/api/basic', { headers: { Authorization: 'Basic Zm9vOmJhcg==' } });
    return f.server.authOf('/api/basic');
  });
  expect(auth[0]).toBe('Basic Zm9vOmJhcg==');
});

test('a 401 refreshes once and retries once', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    f.server.revokeCurrent();
    const status = (await f.tm.fetch('/api/me')).status;
    return { status, count: f.server.count('/api/me'), refreshes: f.server.refreshes, auth: f.server.authOf('/api/me') };
  });
  expect(o.status).toBe(200);
  expect(o.count).toBe(2);
  expect(o.refreshes).toBe(2);
  expect(o.auth[0], 'the retry carries the new token').not.toBe(o.auth[1]);
});

test('a persistent 401 is returned after one retry, never a loop', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    f.server.apiAlways401 = true;
    const status = (await f.tm.fetch('/api/me')).status;
    await fake.sleep(50);
    return { status, count: f.server.count('/api/me'), refreshes: f.server.refreshes };
  });
  expect(o.status).toBe(401);
  expect(o.count, 'one request, one retry').toBe(2);
  expect(o.refreshes, 'one refresh for the 401').toBe(2);
});

test('a 403 is returned as is and never refreshes', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    const status = (await f.tm.fetch('/api/forbidden')).status;
    return { status, count: f.server.count('/api/forbidden'), refreshes: f.server.refreshes };
  });
  expect(o.status).toBe(403);
  expect(o.count).toBe(1);
  expect(o.refreshes).toBe(1);
});

test('invalid_grant ends the session and sends nothing more', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    f.server.push({ status: 400, body: '{"error":"invalid_grant","error_description":"reused"}' });
    const refreshed = await fake.settle(f.tm.refresh());
    const state = f.tm.state;
    const ended = [...f.events['session-ended']];
    const expiresAt = f.tm.expiresAt;
    const refreshesBefore = f.server.refreshes;
    await f.tm.fetch('/api/me');
    const again = await fake.settle(f.tm.refresh());
    await fake.sleep(50);
    return { refreshed, state, ended, expiresAt, refreshesBefore, again, refreshes: f.server.refreshes, auth: f.server.authOf('/api/me') };
  });
  expect(o.refreshed.ok).toBe(false);
  expect(o.refreshed.error?.code).toBe('invalid_grant');
  expect(o.state).toBe('signed-out');
  expect(o.ended).toHaveLength(1);
  expect(o.ended[0].reason).toBe('invalid_grant');
  expect(o.expiresAt, "no expiry without a token: null, as the .d.ts says").toBeNull();
  expect(o.again.ok).toBe(false);
  expect(o.again.error?.code).toBe('not_signed_in');
  expect(o.refreshes, 'no refresh after the session ended').toBe(o.refreshesBefore);
  expect(o.auth[0]).toBeNull();
});

test('a Retry-After HTTP-date is honoured (read by the Date.parse captured at load)', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, { retry: { baseDelayMs: 20, maxDelayMs: 40 } });
    await f.tm.start();
    // Whole seconds, as an HTTP-date carries them.
    const until = Math.ceil(Date.now() / 1000) * 1000 + 2000;
    f.server.push({ status: 503, headers: { 'Retry-After': new Date(until).toUTCString() } });
    f.tm.refresh().catch(() => {});
    for (let i = 0; i < 200 && f.events['refresh-error'].length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const errors = [...f.events['refresh-error']];
    f.tm.dispose();
    return { until, errors };
  });
  expect(o.errors).toHaveLength(1);
  expect(o.errors[0].code).toBe('server_error');
  expect(o.errors[0].retryAt, 'not before the date the server named').toBeGreaterThanOrEqual(o.until);
  expect(o.errors[0].retryAt, 'not the 40 ms backoff cap either').toBeLessThan(o.until + 1000);
});

test('server errors back off, then recover', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, { retry: { baseDelayMs: 20, maxDelayMs: 40 } });
    await f.tm.start();
    f.server.push({ status: 503, headers: { 'Retry-After': '0' } });
    f.server.push({ status: 500 });
    const refreshed = await fake.settle(f.tm.refresh());
    const refreshes = f.server.refreshes;
    const errors = [...f.events['refresh-error']];
    // The token stayed usable throughout.
    const status = (await f.tm.fetch('/api/me')).status;
    return { refreshed, refreshes, errors, status };
  });
  expect(o.refreshed, 'recovers after two failures').toEqual({ ok: true });
  expect(o.refreshes).toBe(4);
  expect(o.errors).toHaveLength(2);
  expect(o.errors[0].code).toBe('server_error');
  expect(o.errors[1].attempt).toBe(2);
  expect(typeof o.errors[1].retryAt).toBe('number');
  expect(o.status).toBe(200);
});

test('a network error is retried and requests keep the valid token', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, { retry: { baseDelayMs: 30, maxDelayMs: 30 } });
    await f.tm.start();
    f.server.push({ networkError: true });
    const refresh = fake.settle(f.tm.refresh());
    // While the refresh backs off, requests go out with the still-valid token.
    const status = (await f.tm.fetch('/api/me')).status;
    const refreshed = await refresh;
    return { status, refreshed, errors: f.events['refresh-error'] };
  });
  expect(o.status).toBe(200);
  expect(o.refreshed).toEqual({ ok: true });
  expect(o.errors[0]?.code).toBe('network');
});

test('a refresh token in the body is dropped with a warning', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    f.server.pushToken({ refresh_token: 'rt-very-secret' });
    const started = await f.tm.start();
    return { started, warnings: f.events.warning, dump: await fake.storageDump() };
  });
  expect(o.started).toBe('signed-in');
  expect(o.warnings).toHaveLength(1);
  expect(o.warnings[0].code).toBe('refresh_token_in_body');
  expect(o.dump).not.toContain('rt-very-secret');
  expect(o.dump, 'no access token in any storage').not.toContain('tok-');
});

test('bad token responses get typed codes and no token in messages', async ({ page }) => {
  const rows: [string, string][] = [
    ['', 'malformed_response'],
    ['<html><body>login</body></html>', 'malformed_response'],
    ['null', 'malformed_response'],
    ['[]', 'malformed_response'],
    ['{"token_type":"Bearer","expires_in":60}', 'malformed_response'],
    ['{"access_token":"secret value","token_type":"Bearer","expires_in":60}', 'malformed_token'],
    [String.raw`{"access_token":"secret\r\nX: y","token_type":"Bearer","expires_in":60}`, 'malformed_token'],
    ['{"access_token":"sécret","token_type":"Bearer","expires_in":60}', 'malformed_token'],
    ['{"access_token":"secret-secret-secret-secret","token_type":"Bearer","expires_in":60}', 'malformed_token'],
    ['{"access_token":"secret","token_type":"mac","expires_in":60}', 'unsupported_token_type'],
    ['{"access_token":"secret","expires_in":60}', 'unsupported_token_type'],
    ['{"access_token":"secret","token_type":"Bearer","expires_in":-5}', 'invalid_expires_in'],
    ['{"access_token":"secret","token_type":"Bearer","expires_in":0}', 'invalid_expires_in'],
    // A string of digits is accepted since issue 12 (e2e/fetch_semantics.spec.ts); other strings are not.
    ['{"access_token":"secret","token_type":"Bearer","expires_in":"6O"}', 'invalid_expires_in'],
    ['{"access_token":"secret","token_type":"Bearer","expires_in":1e308}', 'invalid_expires_in'],
    ['{"access_token":"secret","token_type":"Bearer","expires_in":NaN}', 'malformed_response'],
    ['{"access_token":"secret","token_type":"Bearer"}', 'unknown_expiry'],
    ['{"access_token":"sec.ret.x","token_type":"Bearer","expires_in":60}', 'malformed_token'],
  ];
  const o = await page.evaluate(async (bodies) => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, { maxTokenBytes: 16 });
    const nowS = Math.floor(Date.now() / 1000);
    const past = fake.jwt({ sub: 'a', exp: nowS - 10 });
    const stringExp = fake.jwt({ sub: 'a', exp: 'soon' });
    const small: Settled[] = [];
    for (const body of bodies) small.push(await fake.settle(() => f.tm.acceptTokenResponse(body)));
    const big = await tw.createTokenManager(fake.makeOptions(undefined));
    const jwts: Settled[] = [];
    for (const token of [past, stringExp]) {
      jwts.push(await fake.settle(() => big.acceptTokenResponse(`{"access_token":"${token}","token_type":"Bearer"}`)));
    }
    big.dispose();
    const state = f.tm.state;
    // A fractional expires_in is rounded down, not refused.
    const accepted = await fake.settle(() =>
      f.tm.acceptTokenResponse('{"access_token":"fine","token_type":"bearer","expires_in":59.9}'),
    );
    const left = f.tm.expiresAt - Date.now();
    return { small, jwts, state, accepted, left };
  }, rows.map(([body]) => body));
  rows.forEach(([body, code], i) => {
    const r = o.small[i]!;
    expect(r.ok, `for ${JSON.stringify(body)}`).toBe(false);
    expect(r.error?.code, `for ${JSON.stringify(body)}`).toBe(code);
    expect(r.error?.name).toBe('TokenWardenError');
    expect(r.error?.message).not.toContain('secret');
    expect(r.error?.message).not.toContain('sec.ret');
  });
  expect(o.jwts.map((r) => r.error?.code)).toEqual(['invalid_expires_in', 'malformed_token']);
  expect(o.state, 'nothing was accepted').toBe('initial');
  expect(o.accepted).toEqual({ ok: true, value: 'signed-in' });
  expect(o.left).toBeGreaterThan(58_000);
  expect(o.left).toBeLessThanOrEqual(59_000);
});

test('a malformed refresh answer rejects start with its code', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    f.server.push({ status: 200, body: '<!doctype html><p>maintenance' });
    const started = await fake.settle(f.tm.start());
    return { started, state: f.tm.state, refreshes: f.server.refreshes };
  });
  expect(o.started.ok).toBe(false);
  expect(o.started.error?.code).toBe('malformed_response');
  expect(o.state).toBe('signed-out');
  expect(o.refreshes, 'a malformed answer is not retried').toBe(1);
});

test('JWT claims are readable and set the expiry', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    const exp = Math.floor(Date.now() / 1000) + 120;
    const token = fake.jwt({ sub: 'alice', exp, scope: 'read' });
    const state = f.tm.acceptTokenResponse(`{"access_token":"${token}","token_type":"Bearer"}`);
    const claims = f.tm.claims();
    const expires = f.tm.expiresAt;
    // An opaque token has no claims.
    f.tm.acceptTokenResponse('{"access_token":"opaque-123","token_type":"Bearer","expires_in":60}');
    return { exp, state, claims, expires, opaqueClaims: f.tm.claims() };
  });
  expect(o.state).toBe('signed-in');
  expect(o.claims.sub).toBe('alice');
  expect(Math.abs(o.expires - o.exp * 1000)).toBeLessThan(2_000);
  expect(o.opaqueClaims).toBeNull();
});

test('the raw token is only for apps that opt in', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    const hidden = await fake.settle(f.tm.accessToken());
    f.dispose();
    const g = await fake.managerFixture(tw.createTokenManager, 60, { exposeAccessToken: true });
    await g.tm.start();
    const exposed = await fake.settle(g.tm.accessToken());
    return { hidden, exposed, current: g.server.current };
  });
  expect(o.hidden.ok).toBe(false);
  expect(o.hidden.error?.code).toBe('token_not_exposed');
  expect(o.exposed).toEqual({ ok: true, value: o.current });
});

test('signIn posts the app request with credentials and CSRF', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    const state = await f.tm.signIn('/auth/login', {
      body: '{"username":"alice","password":"pw"}',
      headers: { 'Content-Type': 'application/json' },
    });
    const login = f.server.lastTo(`${location.origin}/auth/login`);
    // Bad credentials are a typed rejection.
    f.server.push({ status: 401, body: '{"error":"invalid_grant"}' });
    const bad = await fake.settle(f.tm.signIn('/auth/login'));
    return { state, login, bad };
  });
  expect(o.state).toBe('signed-in');
  expect(o.login.method).toBe('POST');
  expect(o.login.credentials).toBe('include');
  expect(o.login.csrf).toBe('token-warden');
  expect(o.login.body).toContain('alice');
  expect(o.bad.ok).toBe(false);
  expect(o.bad.error?.code).toBe('invalid_grant');
});

test('logout tells the server and clears memory', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    const token = f.server.current;
    await f.tm.logout();
    const logout = f.server.lastTo(`${location.origin}/auth/logout`);
    const state = f.tm.state;
    const ended = [...f.events['session-ended']];
    await f.tm.fetch('/api/me');
    return { token, logout, state, ended, auth: f.server.authOf('/api/me') };
  });
  expect(o.logout.credentials).toBe('include');
  expect(o.logout.csrf).toBe('token-warden');
  expect(o.logout.authorization).toBe(`Bearer ${o.token}`);
  expect(o.state).toBe('signed-out');
  expect(o.ended[0]?.reason).toBe('logout');
  expect(o.auth[0]).toBeNull();
});

test('a fetch replaced after creation never sees our requests', async ({ page }) => {
  const calls = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    const spy = fake.installSpy();
    try {
      await f.tm.start();
      await f.tm.fetch('/api/me');
      return spy.calls;
    } finally {
      spy.restore();
    }
  });
  expect(calls).toBe(0);
});

test('a script running after creation cannot reach the core or see the token', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    const token = f.server.current;
    // What an injected script can enumerate on the manager and its prototype.
    const own = Reflect.ownKeys(f.tm).map(String);
    const proto = Object.getOwnPropertyNames(Object.getPrototypeOf(f.tm));
    const serialized = JSON.stringify(f.tm);
    // Patch what a token could pass through on its way into a header, then send.
    const seen: string[] = [];
    const record = (args: unknown[]) => {
      for (const a of args) if (typeof a === 'string' && a.includes(token)) seen.push(a);
    };
    const hooks: [object, string][] = [
      [Headers.prototype, 'set'],
      [Headers.prototype, 'append'],
      [Function.prototype, 'call'],
      [Function.prototype, 'apply'],
      [String.prototype, 'concat'],
      [Request.prototype, 'clone'],
    ];
    const saved = hooks.map(([obj, key]) => (obj as any)[key]);
    hooks.forEach(([obj, key], i) => {
      const original = saved[i];
      (obj as any)[key] = function (this: unknown, ...args: unknown[]) {
        record(args);
        return Reflect.apply(original, this, args);
      };
    });
    // `url` and `body` getters that keep every request they are asked about, to read its
    // headers afterwards with the real getter.
    const headersGetter = Object.getOwnPropertyDescriptor(Request.prototype, 'headers')!;
    const kept: Request[] = [];
    const keepers = ['url', 'body'].map((name) => {
      const original = Object.getOwnPropertyDescriptor(Request.prototype, name)!;
      Object.defineProperty(Request.prototype, name, {
        configurable: true,
        get() {
          kept.push(this);
          return original.get!.call(this);
        },
      });
      return [name, original] as const;
    });
    // A `headers` getter that hands out a decoy the script keeps, to read afterwards.
    const decoys: Headers[] = [];
    Object.defineProperty(Request.prototype, 'headers', {
      configurable: true,
      get() {
        const decoy = new Headers();
        decoys.push(decoy);
        return decoy;
      },
    });
    let status = 0;
    try {
      status = (await f.tm.fetch('/api/me')).status;
    } finally {
      hooks.forEach(([obj, key], i) => ((obj as any)[key] = saved[i]));
      Object.defineProperty(Request.prototype, 'headers', headersGetter);
      for (const [name, original] of keepers) Object.defineProperty(Request.prototype, name, original);
    }
    for (const decoy of decoys) record([decoy.get('authorization')]);
    for (const request of kept) record([headersGetter.get!.call(request).get('authorization')]);
    // The glue module is importable by URL; its init functions went to the package entry
    // when it was imported, so a script gets none (it could otherwise initialise the glue
    // with a module of its own, or be handed the instance exports and the wasm memory).
    const glue = await import('/pkg/token_warden.js' as string);
    const exports = [glue.default, glue.initSync, glue.twClaimInit()];
    const sentWithToken = f.server.authOf('/api/me').at(-1) === `Bearer ${token}`;
    f.tm.dispose();
    f.server.uninstall();
    return { own, proto, serialized, seen, status, sentWithToken, exports: exports.map((e) => typeof e) };
  });
  expect(o.status).toBe(200);
  expect(o.sentWithToken, 'the request still carried the token').toBe(true);
  // The own properties are the bound methods (detached use, issue 15), nothing else: the
  // core's pointer lives in the glue's WeakMap.
  expect(o.own.sort(), 'no own property but the bound methods').toEqual(
    ['Symbol(Symbol.dispose)', 'accessToken', 'acceptTokenResponse', 'claims', 'dispose', 'fetch', 'free', 'logout', 'on', 'refresh', 'signIn', 'start'].sort(),
  );
  expect(o.serialized).toBe('{}');
  expect(o.proto.sort()).toEqual(
    ['accessToken', 'acceptTokenResponse', 'claims', 'constructor', 'dispose', 'expiresAt', 'fetch', 'free', 'logout', 'on', 'refresh', 'signIn', 'start', 'state'].sort(),
  );
  expect(o.seen, 'patched prototypes saw no token').toEqual([]);
  expect(o.exports, 'the glue gives out no exports, so no wasm memory').toEqual(['undefined', 'undefined', 'undefined']);
});

test('waiting for a hung refresh times out with a clear code', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 1, {
      refreshLeadSeconds: 0,
      requestTimeoutMs: 300,
      retry: { maxAttempts: 1 },
    });
    await f.tm.start();
    f.server.push({ hang: true });
    await fake.sleep(1010);
    const started = Date.now();
    const fetched = await fake.settle(f.tm.fetch('/api/me'));
    return { fetched, waited: Date.now() - started };
  });
  expect(o.fetched.ok).toBe(false);
  expect(['token_expired', 'timeout']).toContain(o.fetched.error?.code);
  expect(o.waited, `waited ${o.waited} ms`).toBeLessThan(1_000);
});

test('dispose cancels everything and later calls reject', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 1, {});
    await f.tm.start();
    f.tm.dispose();
    const state = f.tm.state;
    await fake.sleep(700);
    const refreshes = f.server.refreshes;
    const fetched = await fake.settle(f.tm.fetch('/api/me'));
    const started = await fake.settle(f.tm.start());
    return { state, refreshes, fetched, started };
  });
  expect(o.state).toBe('disposed');
  expect(o.refreshes, 'the refresh timer was cancelled').toBe(1);
  expect(o.fetched.ok).toBe(false);
  expect(o.fetched.error?.code).toBe('disposed');
  expect(o.started.ok).toBe(false);
  expect(o.started.error?.code).toBe('disposed');
});

test('bad options name the field', async ({ page }) => {
  const rows: [unknown, string][] = [
    [{ refreshUrl: 5 }, 'refreshUrl'],
    [{ refreshUrl: '/r', allowedOrigins: 'https://a.com' }, 'allowedOrigins'],
    [{ refreshUrl: '/r', allowedOrigins: ['https://a.com/path'] }, 'allowedOrigins'],
    [{ refreshUrl: '/r', allowedOrigins: ['*'] }, 'allowedOrigins'],
    [{ refreshUrl: '/r', refreshURL: '/r' }, 'refreshURL'],
    [{ refreshUrl: '/r', refreshLeadSeconds: -1 }, 'refreshLeadSeconds'],
    [{ refreshUrl: '/r', requestTimeoutMs: 'fast' }, 'requestTimeoutMs'],
    [{ refreshUrl: '/r', csrfHeader: { name: 'Bad Header', value: 'x' } }, 'csrfHeader'],
    [{ refreshUrl: '/r', retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ refreshUrl: '/r', retry: { maxAttempt: 3 } }, 'retry.maxAttempt'],
    [{ refreshUrl: '/r', retry: { baseDelayMs: 5000, maxDelayMs: 1000 } }, 'baseDelayMs'],
    [{ refreshUrl: '/r', csrfHeader: { name: 'Cookie', value: 'x' } }, 'csrfHeader'],
    [{ refreshUrl: '/r', csrfHeader: { name: 'X-A', value: 'bad\n' } }, 'csrfHeader'],
    [{ refreshUrl: '/r', maxTokenBytes: 8 }, 'maxTokenBytes'],
    [{ refreshUrl: '/r', defaultLifetimeSeconds: 0 }, 'defaultLifetimeSeconds'],
    [{ refreshUrl: '/r', logoutUrl: 'ftp://files.example' }, 'logoutUrl'],
    [{ refreshUrl: '/r', exposeAccessToken: 'yes' }, 'exposeAccessToken'],
    [{ refreshUrl: 'javascript:alert(1)' }, 'refreshUrl'],
    [{}, 'refreshUrl'],
    [null, 'options'],
  ];
  const results = await page.evaluate(async (options) => {
    const { tw, fake } = window as any;
    const out: Settled[] = [];
    for (const o of options) out.push(await fake.settle(tw.createTokenManager(o)));
    return out;
  }, rows.map(([options]) => options));
  rows.forEach(([options, field], i) => {
    const r = results[i]!;
    const label = JSON.stringify(options);
    expect(r.ok, `${label} was accepted`).toBe(false);
    expect(r.error?.code, label).toBe('invalid_options');
    expect(r.error?.message, label).toContain(field);
  });
});

test('errors are recognizable from JavaScript', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw } = window as any;
    const err = await tw.createTokenManager(null).then(
      () => null,
      (e: unknown) => e,
    );
    return {
      rejected: err !== null,
      recognized: tw.isTokenWardenError(err),
      isError: err instanceof Error,
      plainRecognized: tw.isTokenWardenError(new Error('x')),
    };
  });
  expect(o.rejected).toBe(true);
  expect(o.recognized).toBe(true);
  expect(o.isError).toBe(true);
  expect(o.plainRecognized).toBe(false);
});

test('waking up inside the lead window refreshes at once', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 120, {});
    await f.tm.start();
    // The timer is set for 60 s from now. The machine "sleeps" 100 s; timers did not run.
    fake.shiftClock(100_000);
    try {
      for (const event of ['focus', 'online', 'pageshow']) fake.fireOnWindow(event);
      // Only the wake-up events can cause a refresh here (the timer is a minute away);
      // wait for it without a tight deadline, then give stragglers time to show.
      const woke = await fake.waitFor(() => f.server.refreshes >= 2, 2_000);
      await fake.sleep(100);
      return { woke, refreshes: f.server.refreshes };
    } finally {
      fake.shiftClock(0);
    }
  });
  expect(o.woke, 'a wake-up event started a refresh').toBe(true);
  expect(o.refreshes, 'one refresh for all wake-up events').toBe(2);
});

test('the first request after sleeping past expiry carries a fresh token', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    const old = f.server.current;
    fake.shiftClock(120_000);
    try {
      const status = (await f.tm.fetch('/api/me')).status;
      return { old, status, count: f.server.count('/api/me'), auth: f.server.authOf('/api/me'), current: f.server.current };
    } finally {
      fake.shiftClock(0);
    }
  });
  expect(o.status).toBe(200);
  expect(o.count, 'no 401 round trip: refreshed before sending').toBe(1);
  expect(o.auth[0]).not.toBe(`Bearer ${o.old}`);
  expect(o.auth[0]).toBe(`Bearer ${o.current}`);
});

test('a streamed body is never replayed; the 401 is returned', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    f.server.revokeCurrent();
    const status = (await f.tm.fetch('/api/upload', fake.streamInit())).status;
    const uploads = f.server.count('/api/upload');
    // The 401 still told the manager its token is bad: the next request gets a new one.
    const next = (await f.tm.fetch('/api/me')).status;
    return { status, uploads, next, refreshes: f.server.refreshes };
  });
  expect(o.status).toBe(401);
  expect(o.uploads, 'a stream cannot be sent twice').toBe(1);
  expect(o.next).toBe(200);
  expect(o.refreshes).toBe(2);
});

test('a 401 on a request with a body retries with the same body', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    f.server.revokeCurrent();
    const response = await f.tm.fetch('/api/items', {
      method: 'POST',
      body: 'payload-123',
      headers: { 'Content-Type': 'text/plain' },
    });
    return {
      status: response.status,
      count: f.server.count('/api/items'),
      last: f.server.lastTo(`${location.origin}/api/items`),
    };
  });
  expect(o.status).toBe(200);
  expect(o.count).toBe(2);
  expect(o.last.body).toBe('payload-123');
  expect(o.last.method).toBe('POST');
});

test('fetch rejects like fetch on a bad URL and on a network error', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    const badUrl = await fake.settle(f.tm.fetch('http://[bad/'));
    // The transport's own TypeError comes through untouched, bearer or not.
    const down: Record<string, Settled> = {};
    for (const url of ['/api/down', 'http://127.0.0.1:9/']) down[url] = await fake.settle(f.tm.fetch(url));
    return { badUrl, down };
  });
  expect(o.badUrl.ok).toBe(false);
  expect(o.badUrl.error?.name).toBe('TypeError');
  for (const [url, r] of Object.entries(o.down)) {
    expect(r.ok, url).toBe(false);
    expect(r.error?.name, url).toBe('TypeError');
    expect(r.error?.message, url).toBe('Failed to fetch');
  }
  expect(Object.keys(o.down)).toHaveLength(2);
});
