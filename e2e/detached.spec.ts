// Every method of a TokenManager works detached, as `window.fetch` does (issue 15): the
// real axios (fetch adapter) and ky packages from npm, handed `tm.fetch` unbound, and
// destructured `on`/`refresh`/`logout`/…, against the reference server. The methods are
// the manager's own, bound, read-only properties: no script can replace one.
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { test, expect, type RunningServer } from './server';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The ESM browser builds, straight from node_modules (versions pinned in package.json). */
const VENDOR: Record<string, string> = {
  '/detached/vendor/axios/': join(root, 'node_modules/axios/dist/esm/'),
  '/detached/vendor/ky/': join(root, 'node_modules/ky/distribution/'),
};

/** A blank page at the app origin with the package on `window.tw`, axios and ky on `window.lib`. */
async function openPage(page: Page, server: RunningServer): Promise<void> {
  await page.route(`${server.app}/detached/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/detached/index.html') {
      return route.fulfill({ contentType: 'text/html; charset=utf-8', body: '<!doctype html><meta charset="utf-8"><title>detached</title>' });
    }
    for (const [prefix, dir] of Object.entries(VENDOR)) {
      if (!path.startsWith(prefix)) continue;
      const file = resolve(dir, path.slice(prefix.length));
      if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) break;
      return route.fulfill({ path: file, contentType: 'text/javascript; charset=utf-8' });
    }
    return route.fulfill({ status: 404, body: 'not found' });
  });
  await page.goto(`${server.app}/detached/index.html`);
  await page.evaluate(async () => {
    const tw = await import('/pkg/index.js' as string);
    const axios = (await import('/detached/vendor/axios/axios.js' as string)).default;
    const ky = (await import('/detached/vendor/ky/index.js' as string)).default;
    Object.assign(window, { tw, lib: { axios, ky } });
  });
}

/** The `Authorization` header of every request to `/api/me`, in order. */
function watchApi(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/me')) seen.push(r.headers()['authorization'] ?? '(none)');
  });
  return seen;
}

const SIGN_IN = { username: 'alice', password: 'wonderland-42' };
/** A token the server never issued: its bearer check answers 401 `invalid_token`. */
const REFUSED = 'not-a-token-this-server-issued';

test('ky and axios (fetch adapter) with tm.fetch passed unbound: bearer attached, a 401 refreshed and retried', async ({ page, server }) => {
  await openPage(page, server);
  const auth = watchApi(page);
  const o = await page.evaluate(
    async ({ SIGN_IN, REFUSED }) => {
      const { tw, lib } = window as any;
      const tm = await tw.createTokenManager({ refreshUrl: '/auth/refresh', logoutUrl: '/auth/logout' });
      await tm.signIn('/auth/login', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(SIGN_IN) });
      const refuse = () => tm.acceptTokenResponse({ access_token: REFUSED, token_type: 'Bearer', expires_in: 3600 });
      const out: Record<string, unknown> = {};

      const api = lib.ky.create({ prefix: `${location.origin}/api`, fetch: tm.fetch, retry: 0 });
      out.ky = (await api.get('me').json()).sub;
      refuse();
      out.kyRetried = (await api.get('me').json()).sub;

      const client = lib.axios.create({ adapter: 'fetch', env: { fetch: tm.fetch } });
      out.axios = (await client.get('/api/me')).data.sub;
      refuse();
      const retried = await client.get('/api/me');
      out.axiosRetried = [retried.status, retried.data.sub];

      // The unbound fetch passed as a plain function value, called with no receiver.
      const detached = tm.fetch;
      out.plain = (await detached('/api/me')).status;
      out.state = tm.state;
      return out;
    },
    { SIGN_IN, REFUSED },
  );
  expect(o).toEqual({ ky: 'alice', kyRetried: 'alice', axios: 'alice', axiosRetried: [200, 'alice'], plain: 200, state: 'signed-in' });
  // Five calls, two of them retried once after a refresh: seven requests.
  expect(auth).toHaveLength(7);
  for (const header of auth) expect(header).toMatch(/^Bearer [\w.~+/-]+=*$/);
  const refused = auth.map((h, i) => (h === `Bearer ${REFUSED}` ? i : -1)).filter((i) => i >= 0);
  expect(refused, 'ky and axios each sent the refused token once, then the refreshed one').toEqual([1, 4]);
  expect(auth[2]).not.toBe(auth[1]);
  expect(auth[5]).not.toBe(auth[4]);
  const stats = await server.stats();
  expect(stats.logins).toBe(1);
  expect(stats.refreshes_ok, 'one refresh per 401').toBe(2);
});

test('destructured on, start, signIn, refresh, claims, logout and dispose work detached', async ({ page, server }) => {
  await openPage(page, server);
  const o = await page.evaluate(async (SIGN_IN) => {
    const { tw } = window as any;
    const tm = await tw.createTokenManager({ refreshUrl: '/auth/refresh', logoutUrl: '/auth/logout' });
    const { fetch, on, start, signIn, refresh, claims, accessToken, acceptTokenResponse, logout, dispose } = tm;
    const events: string[] = [];
    const off = on('state', (s: string) => events.push(`state:${s}`));
    on('refreshed', () => events.push('refreshed'));
    on('session-ended', ({ reason }: { reason: string }) => events.push(`ended:${reason}`));
    const started = await start();
    const signedIn = await signIn('/auth/login', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(SIGN_IN) });
    await refresh();
    const sub = claims()?.sub;
    const status = (await fetch('/api/me')).status;
    const notExposed = await accessToken().then(
      () => 'resolved',
      (e: any) => e.code,
    );
    let refused = '';
    try {
      acceptTokenResponse('not json');
    } catch (e: any) {
      refused = e.code;
    }
    await logout();
    off();
    const afterLogout = tm.state;
    dispose();
    const disposedFetch = await fetch('/api/me').then(
      () => 'resolved',
      (e: any) => e.code,
    );
    return { started, signedIn, sub, status, notExposed, refused, afterLogout, state: tm.state, disposedFetch, events };
  }, SIGN_IN);
  expect(o.started).toBe('signed-out');
  expect(o.signedIn).toBe('signed-in');
  expect(o.sub).toBe('alice');
  expect(o.status).toBe(200);
  expect(o.notExposed).toBe('token_not_exposed');
  expect(o.refused).toBe('malformed_response');
  expect(o.afterLogout).toBe('signed-out');
  expect(o.state).toBe('disposed');
  expect(o.disposedFetch).toBe('disposed');
  expect(o.events).toEqual([
    'state:restoring',
    'state:signed-out',
    'state:signed-in',
    'refreshed',
    'refreshed',
    'state:signed-out',
    'ended:logout',
  ]);
});

test('a manager\'s methods are its own, bound and read-only: no script can replace tm.fetch or rebind it', async ({ page, server }) => {
  await openPage(page, server);
  const auth = watchApi(page);
  const o = await page.evaluate(async (SIGN_IN) => {
    const { tw } = window as any;
    const tm = await tw.createTokenManager({ refreshUrl: '/auth/refresh' });
    const other = await tw.createTokenManager({ refreshUrl: '/auth/refresh' });
    await tm.signIn('/auth/login', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(SIGN_IN) });
    const original = tm.fetch;
    const stolen: unknown[] = [];
    const spy = (...args: unknown[]) => {
      stolen.push(args);
      return original(...args);
    };
    const attempts: Record<string, unknown> = {};
    attempts.assign = (() => {
      'use strict';
      try {
        tm.fetch = spy;
        return 'no error';
      } catch (e) {
        return (e as Error).name;
      }
    })();
    attempts.set = Reflect.set(tm, 'on', spy);
    attempts.define = Reflect.defineProperty(tm, 'fetch', { value: spy });
    attempts.delete = Reflect.deleteProperty(tm, 'fetch');
    attempts.proto = Reflect.setPrototypeOf(tm, { fetch: spy });
    attempts.add = Reflect.set(tm, 'extra', 1);
    const d = Object.getOwnPropertyDescriptor(tm, 'fetch')!;
    const names = Reflect.ownKeys(tm).map(String).sort();
    // A bound method ignores the receiver it is called with: it acts on its own manager.
    const viaOther = await Reflect.apply(tm.fetch, other, ['/api/me']);
    const viaNothing = await Reflect.apply(tm.fetch, undefined, ['/api/me']);
    // The prototype's methods keep their receiver check.
    const proto = Object.getPrototypeOf(tm);
    const forged = (() => {
      try {
        proto.fetch.call({}, '/api/me');
        return 'no error';
      } catch (e) {
        return String(e);
      }
    })();
    other.dispose();
    const afterOtherDisposed = (await tm.fetch('/api/me')).status;
    const otherFetch = await other.fetch('/api/me').then(
      () => 'resolved',
      (e: any) => e.code,
    );
    return {
      attempts,
      same: tm.fetch === original,
      distinct: tm.fetch !== other.fetch && tm.fetch !== proto.fetch,
      frozen: Object.isFrozen(tm),
      descriptor: [d.writable, d.enumerable, d.configurable, typeof d.value],
      names,
      serialized: JSON.stringify(tm),
      keys: Object.keys(tm),
      statuses: [viaOther.status, viaNothing.status, afterOtherDisposed],
      forged,
      otherFetch,
      stolen: stolen.length,
      state: tm.state,
    };
  }, SIGN_IN);
  expect(o.attempts).toEqual({ assign: 'TypeError', set: false, define: false, delete: false, proto: false, add: false });
  expect(o.same).toBe(true);
  expect(o.distinct).toBe(true);
  expect(o.frozen).toBe(true);
  expect(o.descriptor).toEqual([false, false, false, 'function']);
  expect(o.names).toEqual(
    ['Symbol(Symbol.dispose)', 'accessToken', 'acceptTokenResponse', 'claims', 'dispose', 'fetch', 'free', 'logout', 'on', 'refresh', 'signIn', 'start'].sort(),
  );
  expect(o.serialized).toBe('{}');
  expect(o.keys).toEqual([]);
  expect(o.statuses).toEqual([200, 200, 200]);
  expect(o.forged).toContain('not a live TokenManager');
  expect(o.otherFetch).toBe('disposed');
  expect(o.stolen, 'the spy was never called').toBe(0);
  expect(o.state).toBe('signed-in');
  expect(auth).toHaveLength(3);
  for (const header of auth) expect(header).toMatch(/^Bearer [\w.~+/-]+=*$/);
});
