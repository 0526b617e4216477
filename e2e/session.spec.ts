// The whole pattern in a real browser: sign-in, silent refresh, restore, sign-out,
// allowed origins, CSRF, refresh-token reuse, a server restart and failing refreshes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { test, expect, openDemo, signIn, startServer, type RunningServer } from './server';

const COOKIE = '__Host-Http-refresh';

/** Signs in and returns the access token the server issued (read from the network). */
async function signInCapturingToken(page: Page): Promise<string> {
  const login = page.waitForResponse((r) => r.url().endsWith('/auth/login'));
  await signIn(page);
  const body = await (await login).json();
  expect(body.token_type).toBe('Bearer');
  return body.access_token as string;
}

/** Every place page JavaScript can store data, plus the DOM and all cookies (CDP). */
async function assertTokenNowhere(page: Page, context: BrowserContext, token: string) {
  const dump = await page.evaluate(async () => {
    const parts: string[] = [document.cookie, document.documentElement.outerHTML];
    for (const s of [localStorage, sessionStorage]) {
      for (let i = 0; i < s.length; i++) parts.push(s.key(i) ?? '', s.getItem(s.key(i) ?? '') ?? '');
    }
    const dbs = await indexedDB.databases();
    parts.push(JSON.stringify(dbs));
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const req of await cache.keys()) parts.push(req.url, await (await cache.match(req))!.text());
    }
    return { text: parts.join('\n'), dbs: dbs.length, local: localStorage.length, session: sessionStorage.length };
  });
  expect(dump.text).not.toContain(token);
  expect(dump.local + dump.session + dump.dbs).toBe(0);
  for (const cookie of await context.cookies()) expect(cookie.value).not.toContain(token);
}

async function refreshCookie(context: BrowserContext) {
  return (await context.cookies()).find((c) => c.name === COOKIE);
}

test('sign in, call the API with the bearer; the token is in no storage at any step', async ({ page, context, server }) => {
  await openDemo(page, server);
  expect(await page.evaluate(() => (window as any).demo.tm.state)).toBe('signed-out');
  const token = await signInCapturingToken(page);
  await assertTokenNowhere(page, context, token);

  const cookie = await refreshCookie(context);
  expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
  expect(cookie!.domain).toBe('localhost'); // host-only

  expect(await page.evaluate(() => (window as any).demo.call('/api/me'))).toBe(200);
  await expect(page.locator('#output')).toContainText('alice');
  await assertTokenNowhere(page, context, token);

  await page.evaluate(() => (window as any).demo.tm.refresh());
  await assertTokenNowhere(page, context, token);
  // The manager's own token is never readable by page scripts.
  const exposed = await page.evaluate(() => (window as any).demo.tm.accessToken().catch((e: any) => e.code));
  expect(exposed).toBe('token_not_exposed');
});

test.describe('two-second access tokens', () => {
  test.use({ serverArgs: ['--access-ttl', '2'] });

  test('15 s of API calls every 200 ms: silent refreshes, no failure, no 401', async ({ page, server }) => {
    const statuses401: string[] = [];
    page.on('response', (r) => {
      if (r.status() === 401 && r.url().includes('/api/')) statuses401.push(r.url());
    });
    await page.goto(`${server.app}/?options=${encodeURIComponent(JSON.stringify({ maxRefreshesPerMinute: 120 }))}`);
    await expect(page.locator('#status')).toHaveText('loaded');
    await signIn(page);
    const result = await page.evaluate(async () => {
      const tm = (window as any).demo.tm;
      const statuses: number[] = [];
      let refreshed = 0;
      const expiries: number[] = [];
      tm.on('refreshed', ({ expiresAt }: { expiresAt: number }) => {
        refreshed += 1;
        expiries.push(expiresAt);
      });
      let lateRefreshes = 0;
      let previousExpiry = tm.expiresAt;
      tm.on('refreshed', () => {
        if (Date.now() > previousExpiry) lateRefreshes += 1;
        previousExpiry = tm.expiresAt;
      });
      const end = Date.now() + 15_000;
      while (Date.now() < end) {
        statuses.push((await tm.fetch('/api/data')).status);
        await new Promise((r) => setTimeout(r, 200));
      }
      return { statuses, refreshed, lateRefreshes };
    });
    expect(result.statuses.length).toBeGreaterThan(50);
    expect(result.statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses401).toEqual([]);
    expect(result.refreshed).toBeGreaterThanOrEqual(7);
    expect(result.lateRefreshes).toBe(0);
    const stats = await server.stats();
    expect(stats.reuse_detections).toBe(0);
  });
});

test('reload restores the session, and so does a new tab', async ({ page, context, server }) => {
  await openDemo(page, server);
  await signIn(page);
  await page.reload();
  await openDemo(page, server);
  expect(await page.evaluate(() => (window as any).demo.tm.state)).toBe('signed-in');
  expect(await page.evaluate(() => (window as any).demo.call('/api/me'))).toBe(200);

  const tab = await context.newPage();
  await openDemo(tab, server);
  expect(await tab.evaluate(() => (window as any).demo.tm.state)).toBe('signed-in');
  expect(await tab.evaluate(() => (window as any).demo.call('/api/me'))).toBe(200);
});

test('sign out: the old token is rejected, the cookie is gone, the state is signed-out', async ({ page, context, server }) => {
  await openDemo(page, server);
  const token = await signInCapturingToken(page);
  const before = await fetch(`${server.origin}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
  expect(before.status).toBe(200);

  // Memory is cleared at once; the cookie goes when the server's answer arrives.
  const loggedOut = page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/logout');
  await page.click('#signout');
  await page.waitForFunction(() => (window as any).demo.tm.state === 'signed-out');
  expect((await loggedOut).status()).toBe(204);
  expect(await refreshCookie(context)).toBeUndefined();
  const after = await fetch(`${server.origin}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
  expect(after.status).toBe(401);
  expect(after.headers.get('www-authenticate')).toContain('invalid_token');
  await page.reload();
  await openDemo(page, server);
  expect(await page.evaluate(() => (window as any).demo.tm.state)).toBe('signed-out');
});

test('the bearer goes to an allowed second origin and never to one that is not allowed', async ({ page, server }) => {
  await openDemo(page, server);
  await signIn(page);
  // The demo's manager allows only its own origin: the API origin gets no token.
  const denied = await page.evaluate(async (api) => {
    const r = await (window as any).demo.tm.fetch(`${api}/api/me`);
    return { status: r.status, auth: r.headers.get('www-authenticate') };
  }, server.api);
  expect(denied.status).toBe(401);
  // The server saw no token at all (a present-but-bad token would say invalid_token).
  expect(denied.auth).not.toContain('invalid_token');

  // A manager that lists the API origin sends it there (CORS with credentials).
  const allowed = await page.evaluate(async (api) => {
    const { createTokenManager } = await import('/pkg/index.js');
    const tm = await createTokenManager({ refreshUrl: '/auth/refresh', allowedOrigins: [location.origin, api] });
    await tm.start();
    const r = await tm.fetch(`${api}/api/me`);
    return { status: r.status, body: await r.json() };
  }, server.api);
  expect(allowed.status).toBe(200);
  expect(allowed.body.sub).toBe('alice');
});

test('CSRF: a cross-site form POST and a cross-site fetch to /auth/refresh are rejected and rotate nothing', async ({ page, context, server }) => {
  await openDemo(page, server);
  await signIn(page);
  const cookieBefore = (await refreshCookie(context))!.value;
  const refreshesBefore = (await server.stats()).refreshes_ok;

  const attacker = await context.newPage();
  await attacker.goto(`${server.attacker}/healthz`);
  const fetchStatus = await attacker.evaluate(async (app) => {
    try {
      const r = await fetch(`${app}/auth/refresh`, { method: 'POST', credentials: 'include', mode: 'no-cors' });
      return r.type;
    } catch (e) {
      return String(e);
    }
  }, server.app);
  expect(fetchStatus).toBe('opaque');
  const formResponse = attacker.waitForResponse((r) => r.url().endsWith('/auth/refresh'));
  await attacker.evaluate((app) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = `${app}/auth/refresh`;
    form.enctype = 'text/plain';
    document.body.append(form);
    form.submit();
  }, server.app);
  expect((await formResponse).status()).toBe(403);

  expect((await refreshCookie(context))!.value).toBe(cookieBefore);
  const stats = await server.stats();
  expect(stats.refreshes_ok).toBe(refreshesBefore);
  expect(await page.evaluate(() => (window as any).demo.call('/api/me'))).toBe(200);
});

test('refresh-token reuse revokes the family; the manager ends its session and stops refreshing', async ({ page, context, server }) => {
  await openDemo(page, server);
  await signIn(page);
  const stolen = (await refreshCookie(context))!.value;
  // Two rotations: `stolen` is now older than the predecessor, which alone has a few
  // seconds of grace (the server's default reuse grace window).
  await page.evaluate(() => (window as any).demo.tm.refresh());
  await page.evaluate(() => (window as any).demo.tm.refresh());
  expect((await refreshCookie(context))!.value).not.toBe(stolen);

  // The attacker replays the old refresh token.
  const replay = await fetch(`${server.origin}/auth/refresh`, {
    method: 'POST',
    headers: { Cookie: `${COOKIE}=${stolen}`, 'X-Requested-With': 'attacker' },
  });
  expect(replay.status).toBe(401);
  expect((await replay.json()).error).toBe('invalid_grant');
  expect((await server.stats()).reuse_detections).toBe(1);

  const ended = await page.evaluate(async () => {
    const tm = (window as any).demo.tm;
    const reason = new Promise((resolve) => tm.on('session-ended', (e: { reason: string }) => resolve(e.reason)));
    const code = await tm.refresh().catch((e: any) => e.code);
    return { code, reason: await reason, state: tm.state };
  });
  expect(ended).toEqual({ code: 'invalid_grant', reason: 'invalid_grant', state: 'signed-out' });
  const refreshesAfter = (await server.stats()).refresh_log.length;
  expect(await page.evaluate(() => (window as any).demo.call('/api/me'))).toBe(401);
  await page.waitForTimeout(500);
  expect((await server.stats()).refresh_log.length).toBe(refreshesAfter);
});

test('a server restart mid-session: the session continues', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-e2e-'));
  const server: RunningServer = await startServer(['--data-dir', dir], join(dir, 'db.sqlite3'));
  try {
    await openDemo(page, server);
    await signIn(page);
    await server.restart();
    expect(await page.evaluate(() => (window as any).demo.call('/api/me'))).toBe(200);
    await page.evaluate(() => (window as any).demo.tm.refresh());
    expect(await page.evaluate(() => (window as any).demo.call('/api/data'))).toBe(200);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.describe('failing refreshes', () => {
  test.use({ serverArgs: ['--access-ttl', '20'] });

  test('three 503s on refresh, then success: no failed API call while the token was valid', async ({ page, server }) => {
    await page.goto(`${server.app}/?options=${encodeURIComponent(JSON.stringify({ retry: { baseDelayMs: 200, maxDelayMs: 400 } }))}`);
    await expect(page.locator('#status')).toHaveText('loaded');
    await signIn(page);
    await server.resetStats();
    await server.fault({ kind: 'status', status: 503, retry_after: 0, count: 3 });
    const result = await page.evaluate(async () => {
      const tm = (window as any).demo.tm;
      const errors: string[] = [];
      tm.on('refresh-error', (e: { code: string }) => errors.push(e.code));
      const refreshed = tm.refresh();
      const statuses: number[] = [];
      let done = false;
      refreshed.then(() => (done = true));
      while (!done) {
        statuses.push((await tm.fetch('/api/data')).status);
        await new Promise((r) => setTimeout(r, 100));
      }
      await refreshed;
      return { statuses, errors };
    });
    expect(result.errors).toEqual(['server_error', 'server_error', 'server_error']);
    // Retry delays are random: the calls made meanwhile may be few, but none may fail.
    expect(result.statuses.length).toBeGreaterThan(0);
    expect(result.statuses.every((s) => s === 200)).toBe(true);
    const stats = await server.stats();
    expect(stats.refresh_log.map((r) => r.outcome)).toEqual(['fault_status', 'fault_status', 'fault_status', 'rotated']);
  });
});
