// The browser primitives token-warden sends with, captured when a manager is created, and
// its own POSTs (refresh, sign-in, logout) with their timeouts.
//
// Captured: a script that later replaces `fetch`, patches `Headers.prototype.set`, a
// `Request` or `Response` getter, `Response.prototype.text` or the `Promise` machinery
// does not see the requests we send with a bearer token, nor the token responses we read.
// Best effort: a script that ran *before* us could have replaced them already.

import { invalidOption } from './errors.js';

/** Reply statuses for "no response": mirror `NO_RESPONSE`/`TIMED_OUT` in src/wasm/session_core.rs. */
export const NO_RESPONSE = 0;
export const TIMED_OUT = 1;

/** The largest delay `setTimeout` honours; a larger one fires at once. */
const MAX_DELAY = 2147483647;
export const clampDelay = (ms) => Math.min(Math.max(ms, 0), MAX_DELAY);

const { apply, construct, defineProperty, getOwnPropertyDescriptor } = Reflect;
// Captured at load like the other built-ins: reads the `Date` and `Retry-After` headers
// (HTTP-dates) for `SessionCore.reply`. Needs no receiver.
const dateParse = Date.parse;
// No prototype: `defineProperty` reads every descriptor field, a missing one from there.
const OWN_CONSTRUCTOR = Object.freeze(Object.setPrototypeOf({ value: Promise }, null));

/**
 * `promise`, given its own `constructor`: `await` then settles it without looking
 * anything up on `Promise.prototype`, where a page script could have put a getter (or a
 * `then`) to be handed the promise, and through it a token response or its body.
 */
const pinned = (promise) => {
  defineProperty(promise, 'constructor', OWN_CONSTRUCTOR);
  return promise;
};

/** `fetch`, `Request`, `Response`, `Headers`, `URL` and their methods and getters, as they are now. */
export function capture() {
  const global = globalThis;
  const need = (name) => {
    const value = global[name];
    if (typeof value !== 'function') throw invalidOption(name, `this environment has no global ${name}`);
    return value;
  };
  const [fetch, Request, Response, Headers, URL] = ['fetch', 'Request', 'Response', 'Headers', 'URL'].map(need);
  const { has, get, set } = Headers.prototype;
  if (typeof has !== 'function' || typeof set !== 'function') {
    throw invalidOption('Headers', "this environment's Headers lacks has/set");
  }
  const getter = (prototype, name) => getOwnPropertyDescriptor(prototype, name)?.get;
  // The getters a request carrying the token is read through: a replaced getter would
  // otherwise be handed the request, and could read its headers once the token is in.
  const [requestHeaders, requestUrl, requestBody, requestSignal] = ['headers', 'url', 'body', 'signal'].map((n) => getter(Request.prototype, n));
  // And those a token response is read through: a replaced one would be handed the
  // response before we read its body, and could clone it.
  const [responseStatus, responseType, responseHeaders] = ['status', 'type', 'headers'].map((n) => getter(Response.prototype, n));
  const [href, origin] = ['href', 'origin'].map((n) => getter(URL.prototype, n));
  const { clone } = Request.prototype;
  const { text } = Response.prototype;
  // URLs resolve as `fetch` resolves them: against the document's base URL, so a
  // `<base href>` counts (the page's location where there is no document).
  const baseURI = getter(global.Node?.prototype ?? {}, 'baseURI');
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
    /** A request's URL, absolute and serialized by the browser: what the core checks the origin of. */
    urlOf: (request) => apply(requestUrl, request, []),
    /** The request's AbortSignal (it follows the caller's); undefined without the getter. */
    signalOf: (request) => (requestSignal ? apply(requestSignal, request, []) : undefined),
    /** Whether the request has a body (browsers without `Request.body` say no). */
    hasBody: (request) => (requestBody ? apply(requestBody, request, []) !== null : false),
    clone: (request) => apply(clone, request, []),
    has: (headers, name) => apply(has, headers, [name]),
    get: (headers, name) => apply(get, headers, [name]),
    set: (headers, name, value) => apply(set, headers, [name, value]),
    /** `response.status`, `.type`, `.headers` and `.text()`, through what was captured now. */
    status: (response) => apply(responseStatus, response, []),
    type: (response) => apply(responseType, response, []),
    responseHeaders: (response) => apply(responseHeaders, response, []),
    text: (response) => apply(text, response, []),
    /** The absolute URL for `url`, resolved against `document.baseURI` as fetch would; null if invalid. */
    absolute: (url) => {
      const parsed = parse([url, base()]);
      return parsed ? apply(href, parsed, []) : null;
    },
    /** The serialized origin of `url`, resolved against `document.baseURI` as fetch would; null if invalid. */
    origin: (url) => {
      const parsed = parse([url, base()]);
      return parsed ? apply(origin, parsed, []) : null;
    },
  };
}

/**
 * POSTs one of our own requests: credentials included, never cached, redirects not
 * followed, `Accept: application/json`, the CSRF header; `auth(request)` may then write a
 * bearer into it. Aborted after `timeoutMs`, through `controller`, or when the app's
 * `signal` aborts. Resolves the status:
 * NO_RESPONSE/TIMED_OUT without a response, 302 for a redirect. With `deliver`, reads the
 * body and calls `deliver(status, body, header, headerDate, receivedAt)` exactly once for
 * `SessionCore.reply` (the header is `Date` of a 2xx and `Retry-After` otherwise, and
 * `headerDate` the header read by `Date.parse`: ms since the epoch, NaN when no date): the
 * body of a token response never settles a promise or sits in an array, where a page
 * script that patched the `Promise` or iterator machinery could be handed it. Throws only
 * `invalid_options` for an unusable `init`, or what `deliver` throws.
 */
export async function post(prims, url, { csrf, timeoutMs, init: appInit, auth, deliver, controller, signal }) {
  const isObject = appInit !== null && typeof appInit === 'object';
  // No prototype: the Request constructor reads every RequestInit member, and a member
  // missing here would otherwise be looked up on Object.prototype.
  const init = Object.assign({ __proto__: null }, isObject ? appInit : undefined);
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
  init.headers = headers;
  controller ??= new AbortController();
  init.signal = controller.signal;
  let request;
  try {
    request = prims.request(url, init);
  } catch {
    throw invalidOption('url', 'the request could not be built');
  }
  // The bearer goes into the built request's own headers, never through the init.
  auth?.(request);
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    controller.abort();
  }, clampDelay(timeoutMs));
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const noResponse = () => {
    const status = late ? TIMED_OUT : NO_RESPONSE;
    deliver?.(status, '', '', NaN, Date.now());
    return status;
  };
  try {
    let response;
    try {
      response = await pinned(prims.fetch(request));
    } catch {
      return noResponse();
    }
    const receivedAt = Date.now();
    const code = prims.status(response);
    const status = prims.type(response) === 'opaqueredirect' || code === 0 ? 302 : code;
    if (!deliver) return status;
    const ok = status >= 200 && status < 300;
    let body;
    try {
      body = await pinned(prims.text(response));
    } catch {
      if (ok) return noResponse();
      body = '';
    }
    const header = prims.get(prims.responseHeaders(response), ok ? 'date' : 'retry-after') ?? '';
    deliver(status, body, header, dateParse(header), receivedAt);
    return status;
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
