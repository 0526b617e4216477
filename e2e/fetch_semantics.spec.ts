// Issue 12: every call behaves like `fetch` and every promise settles. Each test drives
// the public package API (`createTokenManager` from /pkg/index.js) in Chromium against a
// scriptable backend that is not ours (e2e/support/fake_server.js, inside the page), so
// the tests hold whatever runtime sits behind the API. The examples of the issue come
// first in each group, then the other stages and entry points of the same kind.
import { expect } from '@playwright/test';
import { fakeServerTest } from './support/fake_page';

const PREFIX = '/fetch-tests/';
/** The page lives one folder down, so a relative URL resolves differently against the page and against `<base href="/">`. */
const PAGE = `${PREFIX}app/page.html`;

const test = fakeServerTest(PREFIX, PAGE, 'token-warden fetch semantics');

// ---------------------------------------------------------------------------------------
// 1. An app's AbortSignal is honoured at every stage, as fetch honours it.
// ---------------------------------------------------------------------------------------

test('abort while a refresh of an expired token runs: rejects at once with signal.reason, sends nothing later', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 1, { refreshLeadSeconds: 0 });
    await f.tm.start();
    // At expiry (1 s) the timer sends a refresh that takes 4 s.
    f.server.push({ delayMs: 4000 });
    await fake.sleep(1100);
    const expiredWhileRefreshing = f.server.inFlight === 1 && (f.tm.expiresAt ?? 0) <= Date.now();
    const ac = new AbortController();
    const p = f.tm.fetch('/api/x', { signal: ac.signal });
    await fake.sleep(50);
    ac.abort();
    const r = await fake.within(
      p.then(
        () => 'resolved',
        (e: unknown) => ({ same: e === ac.signal.reason, name: (e as Error)?.name, dom: e instanceof DOMException }),
      ),
      2000,
    );
    await fake.waitFor(() => f.server.inFlight === 0, 5000);
    await fake.sleep(100);
    return { expiredWhileRefreshing, r, sent: f.server.count('/api/x'), state: f.tm.state };
  });
  expect(o.expiredWhileRefreshing, 'the setup: expired, a refresh running').toBe(true);
  expect(o.r.pending, 'settled at once').toBe(false);
  expect(o.r.ms).toBeLessThan(500);
  expect(o.r.value).toEqual({ same: true, name: 'AbortError', dom: true });
  expect(o.sent, 'nothing was sent after the abort').toBe(0);
  expect(o.state, 'the refresh still completed for everyone else').toBe('signed-in');
});

test('an already aborted signal rejects with its reason before any wait, sending and refreshing nothing', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    const refreshes = f.server.refreshes;
    // The machine slept past expiry: a plain call would refresh first.
    fake.shiftClock(120_000);
    try {
      const reason = new Error('the user navigated away');
      const ac = new AbortController();
      ac.abort(reason);
      const expired = await fake.within(f.tm.fetch('/api/x', { signal: ac.signal }).catch((e: unknown) => e === reason), 1000);
      // The same through a Request that carries the signal.
      const viaRequest = await fake.within(
        f.tm.fetch(new Request('/api/x', { signal: ac.signal })).catch((e: unknown) => e === reason),
        1000,
      );
      await fake.sleep(100);
      return { expired, viaRequest, sent: f.server.count('/api/x'), refreshed: f.server.refreshes - refreshes };
    } finally {
      fake.shiftClock(0);
    }
  });
  expect(o.expired).toMatchObject({ pending: false, ok: true, value: true });
  expect(o.expired.ms).toBeLessThan(200);
  expect(o.viaRequest).toMatchObject({ pending: false, ok: true, value: true });
  expect(o.sent).toBe(0);
  expect(o.refreshed, 'an aborted call asks for no token').toBe(0);
});

test('abort while waiting for the restore of start(): rejects at once; start() still signs in', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    f.server.push({ delayMs: 1500 });
    const started = f.tm.start();
    const ac = new AbortController();
    const p = f.tm.fetch('/api/x', { signal: ac.signal });
    await fake.sleep(100);
    ac.abort();
    const r = await fake.within(p.catch((e: unknown) => e === ac.signal.reason), 1000);
    const s = await fake.within(started, 3000);
    await fake.sleep(100);
    return { r, s, sent: f.server.count('/api/x') };
  });
  expect(o.r).toMatchObject({ pending: false, ok: true, value: true });
  expect(o.r.ms).toBeLessThan(300);
  expect(o.s).toMatchObject({ pending: false, ok: true, value: 'signed-in' });
  expect(o.sent).toBe(0);
});

test('abort while the request runs: rejects at once with signal.reason', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    f.server.apiDelayMs = 3000;
    const ac = new AbortController();
    const p = f.tm.fetch('/api/x', { signal: ac.signal });
    await fake.sleep(100);
    ac.abort();
    const r = await fake.within(p.catch((e: unknown) => e === ac.signal.reason), 1000);
    return { r, sent: f.server.authOf('/api/x'), current: f.server.current };
  });
  expect(o.r).toMatchObject({ pending: false, ok: true, value: true });
  expect(o.r.ms).toBeLessThan(300);
  expect(o.sent, 'it did go out, with the bearer').toEqual([`Bearer ${o.current}`]);
});

test('abort while the 401 refresh runs: rejects at once with signal.reason and sends no retry', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    f.server.revokeCurrent();
    f.server.push({ delayMs: 1500 });
    const ac = new AbortController();
    const p = f.tm.fetch('/api/x', { signal: ac.signal });
    await fake.waitFor(() => f.server.inFlight === 1, 1000); // the 401 came back; the refresh runs
    ac.abort();
    const r = await fake.within(p.catch((e: unknown) => e === ac.signal.reason), 1000);
    await fake.waitFor(() => f.server.inFlight === 0, 3000);
    await fake.sleep(100);
    return { r, sent: f.server.count('/api/x'), state: f.tm.state };
  });
  expect(o.r).toMatchObject({ pending: false, ok: true, value: true });
  expect(o.r.ms).toBeLessThan(300);
  expect(o.sent, 'the first request only, no retry').toBe(1);
  expect(o.state).toBe('signed-in');
});

test('an aborted signIn rejects at once with signal.reason, takes no late token and leaves the state as it was', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    f.server.push({ status: 401, body: '{"error":"invalid_grant"}' });
    await f.tm.start(); // no cookie
    const before = f.tm.state;
    f.server.push({ delayMs: 1500 });
    const ac = new AbortController();
    const p = f.tm.signIn('/auth/login', { body: '{"username":"alice"}', signal: ac.signal });
    await fake.sleep(100);
    ac.abort();
    const r = await fake.within(p.catch((e: unknown) => ({ same: e === ac.signal.reason, name: (e as Error)?.name })), 1000);
    await fake.sleep(1700); // past the moment the login would have answered
    const after = { state: f.tm.state, expiresAt: f.tm.expiresAt, refreshed: f.events.refreshed.length };
    // An already aborted signal sends nothing at all.
    const logins = f.server.count('/auth/login');
    const early = await fake.within(f.tm.signIn('/auth/login', { signal: AbortSignal.abort() }).catch((e: unknown) => (e as Error)?.name), 500);
    return { before, r, after, early, loginsAfter: f.server.count('/auth/login') - logins };
  });
  expect(o.before).toBe('signed-out');
  expect(o.r).toMatchObject({ pending: false, ok: true, value: { same: true, name: 'AbortError' } });
  expect(o.r.ms).toBeLessThan(300);
  expect(o.after).toEqual({ state: 'signed-out', expiresAt: null, refreshed: 0 });
  expect(o.early).toMatchObject({ pending: false, ok: true, value: 'AbortError' });
  expect(o.loginsAfter).toBe(0);
});

// ---------------------------------------------------------------------------------------
// 2. Every URL resolves as fetch resolves it: against document.baseURI.
// ---------------------------------------------------------------------------------------

const OAUTH = { paths: { refresh: '/oauth/token', login: '/oauth/login', logout: '/oauth/logout' } };

test('signIn with a relative URL under <base href="/"> posts where fetch would', async ({ page }) => {
  const o = await page.evaluate(async (serverOptions) => {
    const { tw, fake } = window as any;
    fake.setBase('/');
    const f = await fake.managerFixture(tw.createTokenManager, 60, {}, serverOptions);
    const fetchWouldGo = new URL('oauth/login', document.baseURI).href;
    const r = await fake.settle(
      f.tm.signIn('oauth/login', { body: '{"username":"alice"}', headers: { 'Content-Type': 'application/json' } }),
    );
    return { r, fetchWouldGo, urls: f.server.requests.map((q: { url: string }) => q.url), state: f.tm.state };
  }, OAUTH);
  expect(o.fetchWouldGo).toMatch(/\/oauth\/login$/);
  expect(o.urls).toEqual([o.fetchWouldGo]);
  expect(o.r).toEqual({ ok: true, value: 'signed-in' });
});

test('relative refreshUrl and logoutUrl resolve against <base href>', async ({ page }) => {
  const o = await page.evaluate(async (serverOptions) => {
    const { tw, fake } = window as any;
    fake.setBase('/');
    const f = await fake.managerFixture(tw.createTokenManager, 60, { refreshUrl: 'oauth/token', logoutUrl: 'oauth/logout' }, serverOptions);
    const started = await fake.settle(f.tm.start());
    const token = f.server.current;
    await f.tm.logout();
    return {
      started,
      token,
      urls: f.server.requests.map((q: { pathname: string }) => q.pathname),
      logoutAuth: f.server.authOf('/oauth/logout'),
      warnings: f.events.warning.map((w: { code: string }) => w.code),
    };
  }, OAUTH);
  expect(o.started).toEqual({ ok: true, value: 'signed-in' });
  expect(o.urls).toEqual(['/oauth/token', '/oauth/logout']);
  expect(o.logoutAuth, 'the logout origin is allowed: it carries the bearer').toEqual([`Bearer ${o.token}`]);
  expect(o.warnings).toEqual([]);
});

test('the allow-list check resolves a relative request URL against <base href> too', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {
      refreshUrl: `${location.origin}/auth/refresh`,
      allowedOrigins: ['https://api.example.com'],
    });
    await f.tm.start();
    fake.setBase('https://api.example.com/v1/');
    await f.tm.fetch('items');
    fake.setBase('https://elsewhere.example/v1/');
    await f.tm.fetch('items');
    const auth = (url: string) => {
      const rec = f.server.lastTo(url);
      return rec ? rec.authorization : 'not sent';
    };
    return {
      allowed: auth('https://api.example.com/v1/items'),
      other: auth('https://elsewhere.example/v1/items'),
      current: f.server.current,
    };
  });
  expect(o.allowed).toBe(`Bearer ${o.current}`);
  expect(o.other).toBeNull();
});

test('an error of the sign-in request names the sign-in endpoint, not the refresh endpoint', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, { requestTimeoutMs: 300 });
    const answers = [
      { status: 404, body: 'not found' },
      { status: 503 },
      { networkError: true },
      { hang: true },
      { status: 401, body: '{"error":"invalid_grant"}' },
      { status: 400, body: '{"error":"invalid_request"}' },
    ];
    const out = [];
    for (const answer of answers) {
      f.server.push(answer);
      out.push(await fake.settle(f.tm.signIn('/auth/login', { body: 'x' })));
    }
    return out;
  });
  const codes = o.map((r) => r.error?.code);
  expect(codes).toEqual(['http_error', 'server_error', 'network', 'timeout', 'invalid_grant', 'oauth_error']);
  for (const r of o) {
    expect(r.error?.message).toMatch(/sign-in/);
    expect(r.error?.message).not.toMatch(/refresh/);
  }
});

// ---------------------------------------------------------------------------------------
// 3. Every promise settles within a bound derived from the options; a give-up rejects
//    every waiting caller at once.
// ---------------------------------------------------------------------------------------

test('refresh() rejects at once with the failure code when the refresh endpoint answers 200 {}', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 30, {});
    await f.tm.start();
    f.server.push({ status: 200, body: '{}' });
    const r = await fake.within(f.tm.refresh(), 3000);
    return { r, errors: f.events['refresh-error'], state: f.tm.state };
  });
  expect(o.errors).toEqual([{ code: 'malformed_response', attempt: 1, retryAt: null }]);
  expect(o.r.pending, 'settled').toBe(false);
  expect(o.r.ms).toBeLessThan(1000);
  expect(o.r.error?.code).toBe('malformed_response');
  expect(o.state, 'the still-valid token stays in use').toBe('signed-in');
});

test('a give-up rejects every waiting caller at once: refresh() calls and fetches alike', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 1, { refreshLeadSeconds: 0 });
    await f.tm.start();
    // At expiry (1 s) the timer sends a refresh whose answer, 300 ms later, is refused.
    f.server.push({ status: 200, body: '{"access_token":"x"}', delayMs: 300 });
    await fake.sleep(1100);
    const calls = [f.tm.refresh(), f.tm.fetch('/api/a'), f.tm.refresh(), f.tm.fetch('/api/b')];
    const results = await Promise.all(calls.map((p) => fake.within(p, 3000)));
    return { results, refreshes: f.server.refreshes, sent: f.server.count('/api/a') + f.server.count('/api/b') };
  });
  for (const r of o.results) {
    expect(r.pending).toBe(false);
    expect(r.ms).toBeLessThan(600);
    expect(r.error?.code).toBe('unsupported_token_type');
  }
  expect(o.refreshes, 'the restore plus one refresh for all four callers').toBe(2);
  expect(o.sent).toBe(0);
});

test('start() while the browser is offline settles within about requestTimeoutMs; the restore goes on', async ({ page, context }) => {
  await context.setOffline(true);
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, { requestTimeoutMs: 3000 });
    f.server.offline = true; // and the network really is down
    const r = await fake.within(f.tm.start(), 5000);
    (window as any).f = f;
    return { r, state: f.tm.state, onLine: navigator.onLine };
  });
  expect(o.onLine).toBe(false);
  expect(o.r.pending, 'start() settled').toBe(false);
  expect(o.r.ms).toBeLessThan(3600);
  expect(['network', 'timeout']).toContain(o.r.error?.code);
  await page.evaluate(() => ((window as any).f.server.offline = false));
  await context.setOffline(false);
  const later = await page.evaluate(async () => {
    const { fake, f } = window as any;
    const signedIn = await fake.waitFor(() => f.tm.state === 'signed-in', 3000);
    return { signedIn, states: f.events.state };
  });
  expect(later.signedIn, 'the restore went on in the background').toBe(true);
  expect(later.states.at(-1)).toBe('signed-in');
});

test('offline is a hint: start() with navigator.onLine false but a working network signs in', async ({ page, context }) => {
  await context.setOffline(true);
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    const r = await fake.within(f.tm.start(), 3000);
    const fetched = await fake.within(f.tm.fetch('/api/me').then((res: Response) => res.status), 3000);
    return { r, fetched, onLine: navigator.onLine };
  });
  await context.setOffline(false);
  expect(o.onLine).toBe(false);
  expect(o.r).toMatchObject({ pending: false, ok: true, value: 'signed-in' });
  expect(o.fetched).toMatchObject({ pending: false, ok: true, value: 200 });
});

test('start() against a server that is down settles within about requestTimeoutMs, then restores in the background', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {
      requestTimeoutMs: 500,
      retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 200 },
    });
    for (let i = 0; i < 3; i++) f.server.push({ hang: true });
    const r = await fake.within(f.tm.start(), 3000);
    const stateAfter = f.tm.state;
    const restored = await fake.waitFor(() => f.tm.state === 'signed-in', 5000);
    return { r, stateAfter, restored, refreshes: f.server.refreshes, states: f.events.state };
  });
  expect(o.r.pending).toBe(false);
  expect(o.r.ms).toBeLessThan(900);
  expect(o.r.error?.code).toBe('timeout');
  expect(o.stateAfter, 'still restoring in the background').toBe('restoring');
  expect(o.restored).toBe(true);
  expect(o.refreshes).toBe(4);
  expect(o.states).toEqual(['restoring', 'signed-in']);
});

test('refresh() against a server that hangs settles within the retry bound of the options', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {
      requestTimeoutMs: 300,
      retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 100 },
    });
    await f.tm.start();
    f.server.push({ hang: true });
    f.server.push({ hang: true });
    const r = await fake.within(f.tm.refresh(), 3000);
    return { r, refreshes: f.server.refreshes };
  });
  expect(o.r.pending).toBe(false);
  // Two attempts of 300 ms and one backoff of at most 100 ms (not the whole retry window).
  expect(o.r.ms).toBeLessThan(1000);
  expect(o.r.error?.code).toBe('timeout');
  expect(o.refreshes).toBe(3);
});

// ---------------------------------------------------------------------------------------
// 4. Calls in any order, twice at once, before start(), or from an event handler behave
//    as if made after the current operation.
// ---------------------------------------------------------------------------------------

test('start() twice at once: both resolve signed-in, one refresh', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    f.server.refreshDelayMs = 100;
    const both = await Promise.all([f.tm.start(), f.tm.start()]);
    const third = await f.tm.start();
    return { both, third, refreshes: f.server.refreshes };
  });
  expect(o.both).toEqual(['signed-in', 'signed-in']);
  expect(o.third).toBe('signed-in');
  expect(o.refreshes).toBe(1);
});

test('start() never resolves restoring, also when called from a state handler or while a no-cookie restore runs', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    let inner: Promise<string> | null = null;
    const off = f.tm.on('state', (s: string) => {
      if (s === 'restoring' && !inner) inner = f.tm.start();
    });
    const outer = await f.tm.start();
    off();
    const innerState = await inner;
    // No cookie: both callers see signed-out, never restoring.
    const g = await fake.managerFixture(tw.createTokenManager, 60, {});
    g.server.push({ status: 401, body: '{"error":"invalid_grant"}', delayMs: 100 });
    const none = await Promise.all([g.tm.start(), g.tm.start()]);
    return { outer, innerState, none };
  });
  expect(o.outer).toBe('signed-in');
  expect(o.innerState).toBe('signed-in');
  expect(o.none).toEqual(['signed-out', 'signed-out']);
});

test("refresh() from a 'refreshed' handler refreshes again and resolves", async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    let inner: Promise<unknown> | null = null;
    const off = f.tm.on('refreshed', () => {
      off(); // once: a handler that always refreshes would loop until the per-minute ceiling
      inner = fake.settle(f.tm.refresh());
    });
    const outer = await fake.settle(f.tm.refresh());
    const innerResult = await fake.within(inner, 3000);
    return { outer, innerResult, refreshes: f.server.refreshes, state: f.tm.state };
  });
  expect(o.outer).toEqual({ ok: true });
  expect(o.innerResult).toMatchObject({ pending: false, ok: true, value: { ok: true } });
  expect(o.refreshes, 'the restore, the outer and the inner refresh').toBe(3);
  expect(o.state).toBe('signed-in');
});

test('fetch before start() restores the session itself: 200 calls, one refresh, all with the bearer', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    f.server.refreshDelayMs = 100;
    const calls = Array.from({ length: 200 }, () => f.tm.fetch('/api/x').then((r: Response) => r.status));
    const started = f.tm.start(); // a later start() joins the same restore
    const statuses = await Promise.all(calls);
    return {
      statuses,
      started: await started,
      refreshes: f.server.refreshes,
      bearers: new Set(f.server.authOf('/api/x')).size,
      unauthenticated: f.server.authOf('/api/x').filter((a: string | null) => a === null).length,
    };
  });
  expect(o.statuses.filter((s) => s !== 200)).toEqual([]);
  expect(o.refreshes).toBe(1);
  expect(o.started).toBe('signed-in');
  expect(o.unauthenticated).toBe(0);
  expect(o.bearers).toBe(1);
});

test('before start(): accessToken() and refresh() restore too; without a cookie fetch goes out bare', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, { exposeAccessToken: true });
    const token = await fake.settle(f.tm.accessToken());
    const current = f.server.current;
    f.dispose();
    const g = await fake.managerFixture(tw.createTokenManager, 60, {});
    const refreshed = await fake.settle(g.tm.refresh());
    const gState = g.tm.state;
    g.dispose();
    const h = await fake.managerFixture(tw.createTokenManager, 60, {});
    h.server.push({ status: 401, body: '{"error":"invalid_grant"}' });
    const status = (await h.tm.fetch('/api/x')).status;
    const again = (await h.tm.fetch('/api/x')).status;
    return {
      token,
      current,
      refreshed,
      gState,
      status,
      again,
      hState: h.tm.state,
      hRefreshes: h.server.refreshes,
      hAuth: h.server.authOf('/api/x'),
    };
  });
  expect(o.token).toEqual({ ok: true, value: o.current });
  expect(o.refreshed).toEqual({ ok: true });
  expect(o.gState).toBe('signed-in');
  expect([o.status, o.again]).toEqual([401, 401]);
  expect(o.hState).toBe('signed-out');
  expect(o.hRefreshes, 'one restore, not one per call').toBe(1);
  expect(o.hAuth).toEqual([null, null]);
});

test("fetch and refresh() twice at once from a 'refreshed' handler join one refresh", async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    const both = await Promise.all([fake.settle(f.tm.refresh()), fake.settle(f.tm.refresh())]);
    let fromHandler: Promise<number> | null = null;
    const off = f.tm.on('refreshed', () => {
      off();
      fromHandler = f.tm.fetch('/api/x').then((r: Response) => r.status);
    });
    await f.tm.refresh();
    return { both, status: await fromHandler, refreshes: f.server.refreshes };
  });
  expect(o.both).toEqual([{ ok: true }, { ok: true }]);
  expect(o.status).toBe(200);
  expect(o.refreshes, 'restore, one joined refresh, one more').toBe(3);
});

// ---------------------------------------------------------------------------------------
// 5. A scope error is not an expired token (RFC 6750 §3.1).
// ---------------------------------------------------------------------------------------

test('a 401 with error="insufficient_scope" is returned untouched: no refresh, no retry', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    await f.tm.start();
    f.server.apiAlways401 = true;
    f.server.wwwAuthenticate = 'Bearer realm="api", error="insufficient_scope", scope="admin"';
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await f.tm.fetch('/api/admin')).status);
    const header = (await f.tm.fetch('/api/admin')).headers.get('www-authenticate');
    return { statuses, header, sent: f.server.count('/api/admin'), refreshes: f.server.refreshes };
  });
  expect(o.statuses).toEqual([401, 401, 401]);
  expect(o.header).toContain('insufficient_scope');
  expect(o.sent, 'one request per call').toBe(4);
  expect(o.refreshes, 'no refresh').toBe(1);
});

test('which 401 refreshes: invalid_token and a bare 401 do; other error codes and other schemes do not', async ({ page }) => {
  const rows: [string | null, boolean][] = [
    ['Bearer error="invalid_token"', true],
    ['Bearer realm="api", error="invalid_token", error_description="expired"', true],
    ['bearer ERROR=invalid_token', true],
    [null, true],
    ['Bearer realm="api"', true],
    ['Bearer', true],
    ['Basic realm="x"', true],
    ['Bearer error="insufficient_scope"', false],
    ['Bearer error="invalid_request"', false],
    ['Basic realm="a, b", Bearer error="insufficient_scope", scope="x y"', false],
    ['Bearer realm="error=\\"invalid_token\\"", error="insufficient_scope"', false],
    ['Newauth realm="x", Bearer scope="a", error="insufficient_scope"', false],
  ];
  const o = await page.evaluate(async (rows) => {
    const { tw, fake } = window as any;
    const out = [];
    for (const [header] of rows) {
      const f = await fake.managerFixture(tw.createTokenManager, 60, {});
      await f.tm.start();
      f.server.apiAlways401 = true;
      f.server.wwwAuthenticate = header;
      const status = (await f.tm.fetch('/api/x')).status;
      out.push({ status, sent: f.server.count('/api/x'), refreshes: f.server.refreshes - 1 });
      f.dispose();
    }
    return out;
  }, rows);
  rows.forEach(([header, refreshes], i) => {
    const label = String(header);
    expect(o[i].status, label).toBe(401);
    expect(o[i].refreshes, label).toBe(refreshes ? 1 : 0);
    expect(o[i].sent, label).toBe(refreshes ? 2 : 1);
  });
});

// ---------------------------------------------------------------------------------------
// 6. Lenient where real servers deviate, consistent where the client refuses.
// ---------------------------------------------------------------------------------------

test('expires_in "3600" (a string of digits) is the number it spells', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    f.server.pushToken({ expires_in: '3600' });
    const started = await fake.settle(f.tm.start());
    const left = f.tm.expiresAt - Date.now();
    const accepted = await fake.settle(() => f.tm.acceptTokenResponse({ access_token: 'abc', token_type: 'Bearer', expires_in: '120' }));
    const left2 = f.tm.expiresAt - Date.now();
    return { started, left, accepted, left2 };
  });
  expect(o.started).toEqual({ ok: true, value: 'signed-in' });
  expect(o.left).toBeGreaterThan(3_590_000);
  expect(o.left).toBeLessThanOrEqual(3_600_000);
  expect(o.accepted).toEqual({ ok: true, value: 'signed-in' });
  expect(o.left2).toBeGreaterThan(110_000);
  expect(o.left2).toBeLessThanOrEqual(120_000);
});

test('expires_in strings that are not plain digits stay refused', async ({ page }) => {
  const bad = ['36x0', '-1', '', ' 3600', '3600 ', '3600.5', '1e3', '0x10', '+60', '0', '٣٦٠٠', '99999999999999999999'];
  const o = await page.evaluate(async (bad) => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    const out = [];
    for (const value of bad) {
      out.push(await fake.settle(() => f.tm.acceptTokenResponse({ access_token: 'abc', token_type: 'Bearer', expires_in: value })));
    }
    return { out, state: f.tm.state };
  }, bad);
  bad.forEach((value, i) => expect(o.out[i].error?.code, JSON.stringify(value)).toBe('invalid_expires_in'));
  expect(o.state).toBe('initial');
});

test('after a refused refresh the expired session says so, and calls do not each fire a refresh', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 2, {});
    await f.tm.start();
    const refusal = { status: 200, body: (srv: any) => srv.tokenResponse({ expires_in: '36x0' }) };
    f.server.always = refusal;
    // The lead window (half of 2 s) refreshes at 1 s, refused; the token expires at 2 s.
    await fake.sleep(2300);
    const at = Date.now();
    const seen = { state: f.tm.state, expiresAt: f.tm.expiresAt, refreshes: f.server.refreshes };
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await fake.settle(f.tm.fetch('/api/x').then((r: Response) => r.status)));
    await fake.sleep(100);
    return {
      at,
      seen,
      statuses,
      refreshesAfter: f.server.refreshes,
      ended: f.events['session-ended'],
      states: f.events.state,
      errors: f.events['refresh-error'],
      auth: f.server.authOf('/api/x'),
    };
  });
  expect(o.errors.length).toBeGreaterThanOrEqual(1);
  for (const e of o.errors) expect(e).toMatchObject({ code: 'invalid_expires_in', retryAt: null });
  expect(o.seen.state).toBe('signed-out');
  expect(o.seen.expiresAt).toBeNull();
  expect(o.states).toEqual(['restoring', 'signed-in', 'signed-out']);
  expect(o.ended).toEqual([{ reason: 'expired' }]);
  expect(o.refreshesAfter, 'no refresh per call').toBe(o.seen.refreshes);
  expect(o.statuses.map((s) => s.value)).toEqual([401, 401, 401, 401, 401]);
  expect(o.auth).toEqual([null, null, null, null, null]);
});

test('a retry cycle that gives up after the token expired ends the session consistently', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 1, {
      refreshLeadSeconds: 0,
      retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 50 },
    });
    await f.tm.start();
    f.server.always = { status: 503 };
    // At expiry (1 s) the timer refreshes: 503, one retry, 503, give up.
    await fake.sleep(1500);
    const seen = { state: f.tm.state, expiresAt: f.tm.expiresAt, refreshes: f.server.refreshes };
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const r = await fake.settle(f.tm.fetch('/api/x').then((res: Response) => res.status));
      statuses.push(r.ok ? r.value : r.error.code);
    }
    return {
      seen,
      statuses,
      refreshesAfter: f.server.refreshes,
      ended: f.events['session-ended'],
      errors: f.events['refresh-error'].map((e: { code: string; retryAt: number | null }) => [e.code, e.retryAt === null]),
    };
  });
  expect(o.errors).toEqual([
    ['server_error', false],
    ['server_error', true],
  ]);
  expect(o.seen).toEqual({ state: 'signed-out', expiresAt: null, refreshes: 3 });
  expect(o.ended).toEqual([{ reason: 'expired' }]);
  expect(o.statuses).toEqual([401, 401, 401]);
  expect(o.refreshesAfter, 'no refresh per call').toBe(3);
});

test('start() then logout() at once: start() resolves signed-out, the aborted restore counts for nothing', async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    const f = await fake.managerFixture(tw.createTokenManager, 60, {});
    f.server.push({ delayMs: 1000 });
    const started = fake.settle(f.tm.start());
    const refreshed = fake.settle(f.tm.refresh());
    const out = f.tm.logout();
    const stateAtOnce = f.tm.state;
    await out;
    await fake.sleep(1200); // past the moment the restore would have answered
    return {
      started: await started,
      refreshed: await refreshed,
      stateAtOnce,
      state: f.tm.state,
      errors: f.events['refresh-error'],
      logouts: f.server.count('/auth/logout'),
    };
  });
  expect(o.started).toEqual({ ok: true, value: 'signed-out' });
  expect(o.refreshed.error?.code).toBe('not_signed_in');
  expect(o.stateAtOnce, 'memory is cleared at once').toBe('signed-out');
  expect(o.state).toBe('signed-out');
  expect(o.errors, 'no refresh-error for a refresh we aborted').toEqual([]);
  expect(o.logouts).toBe(1);
});

test("a tab whose refresh gave up does not sign out the other tabs", async ({ page }) => {
  const o = await page.evaluate(async () => {
    const { tw, fake } = window as any;
    // Two managers of one app in one page talk over the same BroadcastChannel, as tabs do.
    const f = await fake.managerFixture(tw.createTokenManager, 1, {
      refreshLeadSeconds: 0,
      retry: { maxAttempts: 1 },
    });
    const other = await tw.createTokenManager(fake.makeOptions({}));
    const ended: unknown[] = [];
    other.on('session-ended', (e: unknown) => ended.push(e));
    other.acceptTokenResponse({ access_token: 'other-tab-token', token_type: 'Bearer', expires_in: 600 });
    await f.tm.start();
    f.server.always = { status: 503 };
    await fake.sleep(1500); // the 1 s token expires; its one refresh attempt fails; gave up
    const result = { gaveUp: f.tm.state, ended: f.events['session-ended'], otherState: other.state, otherEnded: [...ended] };
    other.dispose();
    return result;
  });
  expect(o.gaveUp).toBe('signed-out');
  expect(o.ended).toEqual([{ reason: 'expired' }]);
  expect(o.otherState, 'its own token is still good').toBe('signed-in');
  expect(o.otherEnded).toEqual([]);
});
