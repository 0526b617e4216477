// Diagnostics against the reference server, through the public package API: what an error
// says (operation, endpoint, status, the server's RFC 6749 error), a handler that throws
// reaches `reportError`, and the debug log never sees a token or the refresh cookie.
import type { Page } from '@playwright/test';
import { test, expect } from './server';

const COOKIE = '__Host-Http-refresh';

/** Opens a bare page of `origin` (no demo manager) and loads the package there. */
async function bare(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/healthz`);
  await page.evaluate(async () => {
    (window as any).tw = await import('/pkg/index.js' as string);
  });
}

/** The settled outcome of a sign-in as plain data (the error's own fields). */
const FIELDS = ['name', 'code', 'message', 'operation', 'endpoint', 'status', 'serverError', 'serverErrorDescription'];

test('errors name the operation, the endpoint, the status and the server error: wrong password, CSRF 403, 404', async ({ page, server }) => {
  await bare(page, server.app);
  const out = await page.evaluate(async (fields) => {
    const { createTokenManager } = (window as any).tw;
    const json = { 'Content-Type': 'application/json' };
    const body = JSON.stringify({ username: 'alice', password: 'not-her-password' });
    const describe = (e: any) => Object.fromEntries(fields.map((k: string) => [k, e?.[k]]));
    const own = (e: any) => fields.slice(3).every((k: string) => Object.prototype.hasOwnProperty.call(e, k));
    const tm = await createTokenManager({ refreshUrl: '/auth/refresh' });
    const wrong = await tm.signIn('/auth/login', { headers: json, body }).catch((e: any) => ({ ...describe(e), own: own(e) }));
    // A manager without the CSRF header the server requires: refused with 403 {"error":"csrf"}.
    const bare = await createTokenManager({ refreshUrl: '/auth/refresh', csrfHeader: null });
    const csrf = await bare.signIn('/auth/login?next=%2Fsecret', { headers: json, body }).catch(describe);
    const missing = await tm.signIn('/auth/signin', { headers: json, body }).catch(describe);
    const notSignedIn = await tm.accessToken().catch((e: any) => ({ ...describe(e), own: own(e) }));
    return { wrong, csrf, missing, notSignedIn, state: tm.state };
  }, FIELDS);
  const login = `${server.app}/auth/login`;
  expect(out.wrong).toEqual({
    name: 'TokenWardenError',
    code: 'invalid_grant',
    message: `sign-in at ${login} was refused: HTTP 401 invalid_grant (bad username or password)`,
    operation: 'sign-in',
    endpoint: login,
    status: 401,
    serverError: 'invalid_grant',
    serverErrorDescription: 'bad username or password',
    own: true,
  });
  expect(out.wrong.message).not.toContain('refresh');
  expect(out.csrf).toEqual({
    name: 'TokenWardenError',
    code: 'http_error',
    message: `sign-in at ${login} was refused: HTTP 403 csrf (cross-site request refused)`,
    operation: 'sign-in',
    endpoint: login,
    status: 403,
    serverError: 'csrf',
    serverErrorDescription: 'cross-site request refused',
  });
  expect(out.missing).toMatchObject({
    code: 'http_error',
    operation: 'sign-in',
    endpoint: `${server.app}/auth/signin`,
    status: 404,
  });
  expect(out.missing.message).toContain(`sign-in at ${server.app}/auth/signin was refused: HTTP 404`);
  expect(out.missing.message).toContain('check the URL');
  // An error about no request: the same fields, null.
  expect(out.notSignedIn).toMatchObject({
    code: 'token_not_exposed',
    operation: null,
    endpoint: null,
    status: null,
    serverError: null,
    serverErrorDescription: null,
    own: true,
  });
  expect(out.state, 'a refused sign-in changes nothing').toBe('initial');
});

test('no response from another origin (CORS refused) says CORS may be the cause', async ({ page, server }) => {
  // A page on another origin than the one the server allows with credentials.
  await bare(page, server.origin);
  const out = await page.evaluate(async (app) => {
    const { createTokenManager } = (window as any).tw;
    const tm = await createTokenManager({ refreshUrl: '/auth/refresh' });
    const cross = await tm
      .signIn(`${app}/auth/login`, {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'wonderland-42' }),
      })
      .catch((e: any) => ({ code: e.code, message: e.message, operation: e.operation, endpoint: e.endpoint, status: e.status }));
    return { cross };
  }, server.app);
  expect(out.cross).toMatchObject({ code: 'network', operation: 'sign-in', endpoint: `${server.app}/auth/login`, status: null });
  expect(out.cross.message).toContain(`sign-in at ${server.app}/auth/login got no response`);
  expect(out.cross.message).toContain('CORS may be the cause');
});

test('a same-origin refresh that gets no response says unreachable or offline, not CORS', async ({ page, server }) => {
  await bare(page, server.app);
  await server.fault({ kind: 'drop', count: null });
  const out = await page.evaluate(async () => {
    const { createTokenManager } = (window as any).tw;
    const tm = await createTokenManager({ refreshUrl: '/auth/refresh', retry: { maxAttempts: 1 } });
    return tm.start().catch((e: any) => ({ code: e.code, message: e.message, operation: e.operation, status: e.status }));
  });
  expect(out).toMatchObject({ code: 'network', operation: 'refresh', status: null });
  expect(out.message).toBe(`refresh at ${server.app}/auth/refresh got no response: the server is unreachable or the browser is offline`);
});

test('a handler that throws reaches reportError; the other handlers run and the manager goes on', async ({ page, server }) => {
  // Patched before the package is imported: the package captures reportError at import.
  await page.addInitScript(() => {
    (window as any).reported = [];
    window.reportError = (e: unknown) => (window as any).reported.push(e instanceof Error ? e.message : String(e));
  });
  await bare(page, server.app);
  const out = await page.evaluate(async () => {
    const { createTokenManager } = (window as any).tw;
    const tm = await createTokenManager({ refreshUrl: '/auth/refresh' });
    const states: string[] = [];
    tm.on('state', () => {
      throw new Error('handler bug');
    });
    tm.on('state', (s: string) => states.push(s));
    tm.on('refreshed', () => {
      throw new Error('refreshed bug');
    });
    await tm.signIn('/auth/login', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'wonderland-42' }),
    });
    const me = await tm.fetch('/api/me');
    await tm.refresh();
    return { states, reported: (window as any).reported, me: me.status, state: tm.state };
  });
  expect(out.states).toEqual(['signed-in']);
  expect(out.reported).toEqual(['handler bug', 'refreshed bug', 'refreshed bug']);
  expect(out.me).toBe(200);
  expect(out.state).toBe('signed-in');
});

test('with the browser own reportError, a thrown handler is a window error event', async ({ page, server }) => {
  await bare(page, server.app);
  const out = await page.evaluate(async () => {
    const { createTokenManager } = (window as any).tw;
    const seen: string[] = [];
    window.addEventListener('error', (e) => {
      seen.push(e.error?.message);
      e.preventDefault();
    });
    const tm = await createTokenManager({ refreshUrl: '/auth/refresh' });
    tm.on('state', (s: string) => {
      throw new Error(`state handler: ${s}`);
    });
    await tm.start();
    return { seen, state: tm.state };
  });
  expect(out.state).toBe('signed-out');
  expect(out.seen).toEqual(['state handler: restoring', 'state handler: signed-out']);
});

test('the debug log: one entry per decision, and never a token or the refresh cookie', async ({ page, context, server }) => {
  const secrets = new Set<string>();
  page.on('response', async (r) => {
    if (!r.url().includes('/auth/')) return;
    for (const h of await r.headersArray()) {
      if (h.name.toLowerCase() === 'set-cookie') {
        const m = new RegExp(`${COOKIE}=([^;]*)`).exec(h.value);
        if (m && m[1]) secrets.add(m[1]);
      }
    }
    try {
      const body = await r.json();
      if (typeof body.access_token === 'string') secrets.add(body.access_token);
    } catch {
      // not JSON
    }
  });
  await bare(page, server.app);
  const out = await page.evaluate(async () => {
    const { createTokenManager } = (window as any).tw;
    const entries: string[] = [];
    const other: string[] = [];
    const logger = (log: string[]) => (entry: unknown) => log.push(JSON.stringify(entry));
    const debugged: unknown[][] = [];
    const original = console.debug;
    console.debug = (...args: unknown[]) => debugged.push(args);
    const tm = await createTokenManager({ refreshUrl: '/auth/refresh', logoutUrl: '/auth/logout', logger: logger(entries), debug: true });
    const tab = await createTokenManager({ refreshUrl: '/auth/refresh', logger: logger(other) });
    const json = { 'Content-Type': 'application/json' };
    // An error flow, then the sign-in.
    await tm.signIn('/auth/login', { headers: json, body: JSON.stringify({ username: 'alice', password: 'nope' }) }).catch(() => {});
    await tm.signIn('/auth/login', { headers: json, body: JSON.stringify({ username: 'alice', password: 'wonderland-42' }) });
    // Another manager restores through the cookie.
    await tab.start();
    await tm.fetch('/api/me');
    await tm.refresh();
    // A token the server does not know: the 401 asks for a new one; one refresh, one retry.
    tm.acceptTokenResponse({ access_token: 'bogus-but-secret-token-0123', token_type: 'Bearer', expires_in: 60 });
    const retried = await tm.fetch('/api/me');
    await tm.fetch('https://elsewhere.example/x?code=query-secret').catch(() => {});
    await tm.logout();
    await new Promise((r) => setTimeout(r, 200));
    console.debug = original;
    return { entries, other, retried: retried.status, debugged: debugged.map((a) => [a[0], JSON.stringify(a[1])]) };
  });
  for (const c of await context.cookies()) if (c.name === COOKIE) secrets.add(c.value);
  secrets.add('bogus-but-secret-token-0123');
  secrets.add('wonderland-42');
  expect(secrets.size).toBeGreaterThan(4);
  const everything = [...out.entries, ...out.other].join('\n');
  for (const secret of secrets) expect(everything).not.toContain(secret);
  expect(everything).not.toContain('Bearer');
  expect(everything).not.toContain('query-secret');
  expect(out.retried).toBe(200);

  const types = new Set(out.entries.map((e) => JSON.parse(e).type));
  for (const t of ['sent', 'answered', 'state', 'refresh-scheduled', 'request', 'unauthorized-retry', 'waiting', 'tab-message', 'session-ended']) {
    expect(types, t).toContain(t);
  }
  const has = (log: string[], entry: object) => log.some((e) => JSON.stringify({ ...JSON.parse(e), ...entry }) === e);
  const login = `${server.app}/auth/login`;
  expect(has(out.entries, { type: 'sent', operation: 'sign-in', endpoint: login, attempt: null })).toBe(true);
  expect(has(out.entries, { type: 'answered', operation: 'sign-in', status: 401, outcome: 'invalid_grant' })).toBe(true);
  expect(has(out.entries, { type: 'answered', operation: 'sign-in', status: 200, outcome: 'ok' })).toBe(true);
  expect(has(out.entries, { type: 'answered', operation: 'refresh', status: 200, outcome: 'ok' })).toBe(true);
  expect(has(out.entries, { type: 'request', origin: server.app, bearer: true, reason: 'token' })).toBe(true);
  expect(has(out.entries, { type: 'request', origin: 'https://elsewhere.example', bearer: false, reason: 'not-allowed' })).toBe(true);
  expect(has(out.entries, { type: 'unauthorized-retry', origin: server.app })).toBe(true);
  expect(has(out.entries, { type: 'session-ended', reason: 'logout' })).toBe(true);
  expect(has(out.entries, { type: 'answered', operation: 'logout', status: 204, outcome: 'ok' })).toBe(true);
  expect(has(out.other, { type: 'tab-message', direction: 'heard', message: 'ended' })).toBe(true);
  // debug: true mirrors every entry to console.debug with the prefix.
  expect(out.debugged.length).toBe(out.entries.length);
  expect(out.debugged.every(([prefix]) => prefix === 'token-warden')).toBe(true);
});
