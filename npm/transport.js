// The browser primitives token-warden sends with, captured when a manager is created, and
// its own POSTs (refresh, sign-in, logout) with their timeouts.
//
// Captured: a script that later replaces `fetch` or patches `Headers.prototype.set` does
// not see the requests we send with a bearer token. Best effort: a script that ran
// *before* us could have replaced them already.

import { invalidOption } from './errors.js';

/** Reply statuses for "no response": mirror `NO_RESPONSE`/`TIMED_OUT` in src/wasm/session_core.rs. */
export const NO_RESPONSE = 0;
export const TIMED_OUT = 1;

/** The largest delay `setTimeout` honours; a larger one fires at once. */
const MAX_DELAY = 2147483647;
export const clampDelay = (ms) => Math.min(Math.max(ms, 0), MAX_DELAY);

const { apply, construct } = Reflect;

/** `fetch`, `Request`, `Headers`, `URL` and the `Headers` methods, as they are now. */
export function capture() {
  const global = globalThis;
  const need = (name) => {
    const value = global[name];
    if (typeof value !== 'function') throw invalidOption(name, `this environment has no global ${name}`);
    return value;
  };
  const [fetch, Request, Headers, URL] = ['fetch', 'Request', 'Headers', 'URL'].map(need);
  const { has, get, set } = Headers.prototype;
  if (typeof has !== 'function' || typeof set !== 'function') {
    throw invalidOption('Headers', "this environment's Headers lacks has/set");
  }
  // The getters a request carrying the token is read through: a replaced getter would
  // otherwise be handed the request, and could read its headers once the token is in.
  const getter = (name) => Object.getOwnPropertyDescriptor(Request.prototype, name)?.get;
  const [requestHeaders, requestUrl, requestBody, requestSignal] = ['headers', 'url', 'body', 'signal'].map(getter);
  const { clone } = Request.prototype;
  // URLs resolve as `fetch` resolves them: against the document's base URL, so a
  // `<base href>` counts (the page's location where there is no document).
  const baseURI = Object.getOwnPropertyDescriptor(global.Node?.prototype ?? {}, 'baseURI')?.get;
  const base = () => {
    const document = global.document;
    return document && baseURI ? apply(baseURI, document, []) : global.location?.href;
  };
  const parse = (args) => {
    try {
      return construct(URL, args);
    } catch {
      return null;
    }
  };
  return {
    fetch: (request) => apply(fetch, global, [request]),
    request: (input, init) => construct(Request, [input, init]),
    // `null` would throw where `undefined` means "none".
    headers: (init) => construct(Headers, [init ?? undefined]),
    /** The headers a token is written into: read through the getter captured now. */
    headersOf: (request) => apply(requestHeaders, request, []),
    /** The request's AbortSignal (it follows the caller's); undefined without the getter. */
    signalOf: (request) => (requestSignal ? apply(requestSignal, request, []) : undefined),
    /** Whether the request has a body (browsers without `Request.body` say no). */
    hasBody: (request) => (requestBody ? apply(requestBody, request, []) !== null : false),
    clone: (request) => apply(clone, request, []),
    has: (headers, name) => apply(has, headers, [name]),
    get: (headers, name) => apply(get, headers, [name]),
    set: (headers, name, value) => apply(set, headers, [name, value]),
    /** The lender the core hands the token to: sets `Authorization` on `headers`. */
    setAuthorization: (headers, value) => apply(set, headers, ['Authorization', value]),
    /** The absolute URL for `url`, resolved against `document.baseURI` as fetch would; null if invalid. */
    absolute: (url) => parse([url, base()])?.href ?? null,
    /** The serialized origin of `url`, resolved against `document.baseURI`; null if invalid. */
    origin: (url) => parse([url, base()])?.origin ?? null,
    /** A request's origin; its URL is absolute, so the page's location is not read. */
    requestOrigin: (request) => parse([apply(requestUrl, request, [])])?.origin ?? null,
  };
}

/**
 * POSTs one of our own requests: credentials included, never cached, redirects not
 * followed, `Accept: application/json`, the CSRF header, and `auth(headers)` to add a
 * bearer. Aborted after `timeoutMs`, through `controller`, or when the app's `signal`
 * aborts. Resolves `[status, body, header, receivedAt]` for `SessionCore.reply`: the
 * status is NO_RESPONSE/TIMED_OUT without a response, 302 for a redirect; the header is
 * `Date` of a 2xx and `Retry-After` otherwise. Throws only `invalid_options` for an
 * unusable `init`.
 */
export async function post(prims, url, { csrf, timeoutMs, init: appInit, auth, readBody, controller, signal }) {
  const isObject = appInit !== null && typeof appInit === 'object';
  const init = Object.assign({}, isObject ? appInit : undefined);
  let headers;
  try {
    headers = prims.headers(isObject ? appInit.headers : undefined);
  } catch {
    throw invalidOption('init.headers', 'the headers could not be read');
  }
  if (typeof init.method !== 'string') init.method = 'POST';
  init.credentials = 'include';
  init.cache = 'no-store';
  init.redirect = 'manual';
  if (!prims.has(headers, 'accept')) prims.set(headers, 'Accept', 'application/json');
  if (csrf) prims.set(headers, csrf.name, csrf.value);
  auth?.(headers);
  init.headers = headers;
  controller ??= new AbortController();
  init.signal = controller.signal;
  let request;
  try {
    request = prims.request(url, init);
  } catch {
    throw invalidOption('url', 'the request could not be built');
  }
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    controller.abort();
  }, clampDelay(timeoutMs));
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const noResponse = () => [late ? TIMED_OUT : NO_RESPONSE, '', '', Date.now()];
  try {
    let response;
    try {
      response = await prims.fetch(request);
    } catch {
      return noResponse();
    }
    const receivedAt = Date.now();
    const status = response.type === 'opaqueredirect' || response.status === 0 ? 302 : response.status;
    if (!readBody) return [status, '', '', receivedAt];
    const ok = status >= 200 && status < 300;
    let body;
    try {
      body = await response.text();
    } catch {
      if (ok) return noResponse();
      body = '';
    }
    return [status, body, response.headers.get(ok ? 'date' : 'retry-after') ?? '', receivedAt];
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    // Whatever is still streaming is not wanted any more.
    controller.abort();
  }
}

/** Runs `task` holding the Web Lock `name` (so one tab refreshes at a time), or without one. */
export async function withLock(name, task) {
  const locks = globalThis.navigator?.locks;
  if (typeof locks?.request !== 'function') return task();
  let ran = false;
  try {
    return await locks.request(name, () => {
      ran = true;
      return task();
    });
  } catch (error) {
    // A browser that refuses locks here (an opaque origin) still gets its refresh.
    if (ran) throw error;
    return task();
  }
}

/** Whether this browser has Web Locks. */
export const hasLocks = () => typeof globalThis.navigator?.locks?.request === 'function';
