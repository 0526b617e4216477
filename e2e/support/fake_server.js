// A scriptable auth server inside the test page (a plain ES module, loaded by
// e2e/manager.spec.ts and e2e/fetch_semantics.spec.ts): replaces globalThis.fetch when it
// is imported, before the package is (token-warden captures `fetch` when its module is
// evaluated), with a dispatcher that hands each request to the FakeServer created last
// and not yet uninstalled, or to the real fetch when there is none (the wasm download). Routes (the auth paths are options, so tests can play a backend
// with other paths):
//   POST /auth/refresh, /auth/login  -> the next scripted answer, else `always`, else (or
//                                       for an answer with neither status nor body) a fresh token
//   POST /auth/logout                -> 204
//   ANY  /api/...                    -> 200 if the bearer is the current token, else 401
//                                       with `wwwAuthenticate` (null: no such header)
//   ANY  /api/forbidden              -> 403 insufficient_scope
//   anything else (other origins)    -> 200, recorded
// Like the network, it honours a request's AbortSignal: an already aborted request is not
// sent (nor recorded) and rejects with `signal.reason`; one aborted while it runs rejects
// with `signal.reason` at once. With `offline` set, every request fails as fetch fails
// without a network (recorded, with `dropped: true`).
// Every request is recorded with the headers we care about (tokens are test tokens).

const realFetch = globalThis.fetch;
/** The FakeServer requests go to; null: the real network. */
let active = null;
globalThis.fetch = (input, init) => (active ? active.handle(new Request(input, init)) : realFetch(input, init));
// The network reads a request's real URL and headers, whatever a page script does to the getters.
const headersOf = Object.getOwnPropertyDescriptor(Request.prototype, 'headers').get;
const urlOf = Object.getOwnPropertyDescriptor(Request.prototype, 'url').get;

export class FakeServer {
  constructor(lifetimeSeconds, { paths } = {}) {
    this.lifetime = lifetimeSeconds;
    this.paths = { refresh: '/auth/refresh', login: '/auth/login', logout: '/auth/logout', ...paths };
    this.always = null;
    this.offline = false;
    this.apiDelayMs = 0;
    this.wwwAuthenticate = 'Bearer error="invalid_token"';
    this.script = [];
    this.requests = [];
    this.refreshes = 0;
    this.tokenCounter = 0;
    this.current = null;
    this.revoked = new Set();
    this.refreshDelayMs = 0;
    this.apiAlways401 = false;
    this.inFlight = 0;
    this.maxInFlight = 0;
    active = this;
  }

  uninstall() {
    if (active === this) active = null;
  }

  /** Queue the next answers of the token endpoints: {status, body, headers, delayMs, hang}. */
  push(answer) {
    this.script.push(answer);
  }

  /** Queue a successful token response with extra fields merged in. */
  pushToken(extra) {
    this.script.push({ status: 200, body: (srv) => srv.tokenResponse(extra) });
  }

  mint() {
    this.tokenCounter += 1;
    this.current = `tok-${this.tokenCounter}-abcdef`;
    return this.current;
  }

  tokenResponse(extra) {
    return JSON.stringify({ access_token: this.mint(), token_type: 'Bearer', expires_in: this.lifetime, ...extra });
  }

  revokeCurrent() {
    if (this.current) this.revoked.add(this.current);
  }

  count(pathname) {
    return this.requests.filter((r) => r.pathname === pathname).length;
  }

  authOf(pathname) {
    return this.requests.filter((r) => r.pathname === pathname).map((r) => r.authorization);
  }

  lastTo(hrefPrefix) {
    const list = this.requests.filter((r) => r.url.startsWith(hrefPrefix));
    return list[list.length - 1] ?? null;
  }

  async handle(req) {
    const href = Reflect.apply(urlOf, req, []);
    const url = new URL(href);
    const headers = Reflect.apply(headersOf, req, []);
    const signal = req.signal;
    if (signal?.aborted) throw signal.reason;
    const rec = {
      url: href,
      pathname: url.origin === location.origin ? url.pathname : url.origin + url.pathname,
      method: req.method,
      authorization: headers.get('authorization'),
      csrf: headers.get('x-requested-with'),
      credentials: req.credentials,
      body: req.method === 'GET' ? null : await req.clone().text(),
    };
    this.requests.push(rec);
    if (this.offline) {
      rec.dropped = true;
      throw new TypeError('Failed to fetch');
    }
    if (url.pathname === '/api/down' || url.port === '9') throw new TypeError('Failed to fetch');
    if (url.origin !== location.origin) return new Response('elsewhere', { status: 200 });
    const { refresh, login, logout } = this.paths;
    if (url.pathname === refresh || url.pathname === login) {
      if (url.pathname === refresh) this.refreshes += 1;
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        return await this.tokenEndpoint(req);
      } finally {
        this.inFlight -= 1;
      }
    }
    if (url.pathname === logout) return new Response(null, { status: 204 });
    if (url.pathname === '/api/forbidden') {
      return new Response('{"error":"insufficient_scope"}', {
        status: 403,
        headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' },
      });
    }
    if (url.pathname.startsWith('/api/')) {
      if (this.apiDelayMs) await abortable(signal, sleep(this.apiDelayMs));
      const auth = rec.authorization ?? '';
      const ok = !this.apiAlways401 && auth === `Bearer ${this.current}` && !this.revoked.has(this.current);
      const challenge = this.wwwAuthenticate === null ? {} : { 'WWW-Authenticate': this.wwwAuthenticate };
      return ok
        ? new Response(JSON.stringify({ ok: true, auth }), { status: 200 })
        : new Response('', { status: 401, headers: challenge });
    }
    return new Response('not found', { status: 404 });
  }

  async tokenEndpoint(req) {
    const answer = this.script.shift() ?? this.always ?? undefined;
    const delay = answer?.delayMs ?? this.refreshDelayMs;
    if (answer?.hang) await abortable(req.signal, new Promise(() => {}));
    if (delay) await abortable(req.signal, sleep(delay));
    if (answer?.networkError) throw new TypeError('Failed to fetch');
    // No answer, or one that only delays: a fresh token.
    if (answer?.status === undefined && answer?.body === undefined) {
      return new Response(this.tokenResponse(), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }
    const body = typeof answer.body === 'function' ? answer.body(this) : answer.body;
    return new Response(body ?? null, { status: answer.status ?? 200, headers: answer.headers ?? {} });
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** `promise`, or a rejection with `signal.reason` as soon as `signal` aborts. */
function abortable(signal, promise) {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * How `promise` settled within `limitMs`: `{ pending: true }` if it had not, else
 * `settle`'s shape; `ms` is how long it took (or the limit).
 */
export async function within(promise, limitMs) {
  const t0 = performance.now();
  const PENDING = {};
  const result = await Promise.race([settle(promise), sleep(limitMs).then(() => PENDING)]);
  const ms = Math.round(performance.now() - t0);
  return result === PENDING ? { pending: true, ms } : { pending: false, ms, ...result };
}

/** Adds (or replaces) the page's `<base href>`, as a page that has one from the start. */
export function setBase(href) {
  document.querySelector('base')?.remove();
  const base = document.createElement('base');
  base.href = href;
  document.head.append(base);
  return document.baseURI;
}

export function pageOrigin() {
  return location.origin;
}

/** Every place a token could leak to in storage; returns the text of all of them. */
export async function storageDump() {
  const parts = [document.cookie];
  for (const s of [localStorage, sessionStorage]) {
    for (let i = 0; i < s.length; i++) parts.push(s.key(i), s.getItem(s.key(i)));
  }
  if (indexedDB.databases) parts.push(JSON.stringify(await indexedDB.databases()));
  if (globalThis.caches) parts.push(JSON.stringify(await caches.keys()));
  return parts.join('\n');
}

/** An empty log of events by name. */
export function eventLog() {
  return { state: [], refreshed: [], 'refresh-error': [], 'session-ended': [], warning: [] };
}

/** A handler that appends its payload to log[name]. */
export function pushTo(log, name) {
  return (payload) => log[name].push(payload);
}

export function errorCode(e) {
  return e && typeof e === 'object' ? (e.code ?? `${e.name}: ${e.message}`) : String(e);
}

/** A JWT (unsigned; the client never verifies) with the given payload. */
export function jwt(payload) {
  const b64 = (o) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}.c2ln`;
}

/** Replaces globalThis.fetch with a spy (after a manager captured the real one). */
export function installSpy() {
  const spy = { calls: 0 };
  const previous = globalThis.fetch;
  globalThis.fetch = (...args) => {
    spy.calls += 1;
    return previous(...args);
  };
  spy.restore = () => (globalThis.fetch = previous);
  return spy;
}

/** Absolute-path options for the server's auth paths (tests of relative URLs pass their own). */
function pathOptions(paths) {
  return { refreshUrl: paths.refresh, logoutUrl: paths.logout };
}

export function makeOptions(extra) {
  return { refreshUrl: '/auth/refresh', logoutUrl: '/auth/logout', ...extra };
}

/** Moves this page's clock (Date.now) by `ms`, as after a laptop slept; `0` restores it. */
const realNow = Date.now;
export function shiftClock(ms) {
  Date.now = ms === 0 ? realNow : () => realNow() + ms;
}

/** Fires a DOM event as the browser would on wake-up ('focus', 'online', 'pageshow'). */
export function fireOnWindow(type) {
  window.dispatchEvent(new Event(type));
}

/** A RequestInit whose body is a ReadableStream (cannot be replayed). */
export function streamInit() {
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('streamed'));
      controller.close();
    },
  });
  return { method: 'POST', body, duplex: 'half' };
}

/** Resolves after `cond()` holds (polled every 10 ms) or after `timeoutMs`; returns whether it held. */
export async function waitFor(cond, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() >= end) return false;
    await sleep(10);
  }
  return true;
}

/** What a test can compare of a thrown value (errors do not cross page.evaluate). */
export function describeError(e) {
  return {
    name: e?.name ?? null,
    message: e?.message ?? String(e),
    code: e?.code ?? null,
    isError: e instanceof Error,
  };
}

/** How a promise (or a function that may throw or return one) settled: `{ ok, value }` or `{ ok: false, error }`. */
export async function settle(promiseOrFn) {
  try {
    const value = await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: describeError(e) };
  }
}

/**
 * A manager over a fresh fake server, every event logged by name. `createTokenManager`
 * is the package's; `dispose()` disposes the manager and restores the real fetch.
 */
export async function managerFixture(createTokenManager, lifetimeSeconds, extraOptions, serverOptions) {
  const server = new FakeServer(lifetimeSeconds, serverOptions);
  let tm;
  try {
    tm = await createTokenManager(makeOptions({ ...pathOptions(server.paths), ...extraOptions }));
  } catch (e) {
    server.uninstall();
    throw e;
  }
  const events = eventLog();
  for (const name of Object.keys(events)) tm.on(name, pushTo(events, name));
  return {
    server,
    tm,
    events,
    dispose() {
      tm.dispose();
      server.uninstall();
    },
  };
}
