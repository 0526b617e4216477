// The built-ins on the token's path, captured when this module is evaluated (when the
// package is imported), and the few helpers the Rust browser layer calls through them.
//
// Why JavaScript: web-sys looks a method up at call time (`arg0.fetch(arg1)`), so a
// script that replaced `fetch`, patched `Headers.prototype.set`, a `Request` or
// `Response` getter, `Response.prototype.text`, `Promise.prototype.then` or a
// `constructor` getter after load would be handed a request carrying the bearer token or
// a token response. Everything here was read once, at load. Best effort: a script that ran
// *before* the package was imported could have replaced them already.
//
// Every export is harmless to call from a page script (the hardened glue inlines this
// file, so none is reachable anyway): none takes a function, none returns a token.

const { apply, construct, defineProperty, getOwnPropertyDescriptor } = Reflect;
const g = globalThis;
const getter = (prototype, name) => (prototype ? getOwnPropertyDescriptor(prototype, name)?.get : undefined);
const fn = (value) => (typeof value === 'function' ? value : undefined);

const twFetchFn = fn(g.fetch);
const twRequestC = fn(g.Request);
const twHeadersC = fn(g.Headers);
const twURLC = fn(g.URL);
const twRequestP = twRequestC?.prototype;
const twResponseP = fn(g.Response)?.prototype;
const twHeadersP = twHeadersC?.prototype;
const twHeadersHas = twHeadersP?.has;
const twHeadersGet = twHeadersP?.get;
const twHeadersSet = twHeadersP?.set;
const [twReqHeaders, twReqUrl, twReqBody, twReqSignal] = ['headers', 'url', 'body', 'signal'].map((n) => getter(twRequestP, n));
const [twResStatus, twResType, twResHeaders] = ['status', 'type', 'headers'].map((n) => getter(twResponseP, n));
const twReqClone = twRequestP?.clone;
const twResText = twResponseP?.text;
const [twHref, twOriginOf] = ['href', 'origin'].map((n) => getter(fn(g.URL)?.prototype, n));
const twBaseURI = getter(fn(g.Node)?.prototype, 'baseURI');
const twStream = fn(g.ReadableStream);
const twDateParse = Date.parse;
const twAssign = Object.assign;
const twStringC = String;
// No prototype: `defineProperty` reads every descriptor field, a missing one from there.
const twOwnConstructor = Object.freeze(Object.setPrototypeOf({ value: Promise }, null));

/**
 * `promise`, given its own `constructor`: its `then` (which wasm-bindgen-futures calls)
 * then settles it without looking anything up on `Promise.prototype`, where a page script
 * could have put a getter to be handed the promise, and through it a token response.
 */
function twPinned(promise) {
  defineProperty(promise, 'constructor', twOwnConstructor);
  return promise;
}

/** Whether `fetch`, `Request`, `Response`, `Headers` and `URL` exist (false under Node without them). */
export function twHasFetch() {
  return !!(twFetchFn && twRequestC && twResponseP && twHeadersC && twURLC && twHeadersSet);
}

/** `fetch(request)` as it was at load; the promise is pinned. */
export function twFetch(request) {
  return twPinned(apply(twFetchFn, g, [request]));
}

/** `new Request(input, init)`; throws what the constructor throws (a TypeError). */
export function twRequest(input, init) {
  return construct(twRequestC, [input, init]);
}

/**
 * A request for one of our own POSTs: `init` (the app's RequestInit, or undefined) copied
 * onto an object without a prototype (the Request constructor reads every member, and a
 * missing one would be looked up on `Object.prototype`), then our members over it.
 * `method` is kept if the app set one. Throws a TypeError for an unusable init.
 */
export function twPostRequest(url, init, headers, signal) {
  const own = twAssign({ __proto__: null }, init !== null && typeof init === 'object' ? init : undefined);
  if (typeof own.method !== 'string') own.method = 'POST';
  own.credentials = 'include';
  own.cache = 'no-store';
  own.redirect = 'manual';
  own.headers = headers;
  own.signal = signal;
  return construct(twRequestC, [url, own]);
}

/** `new Headers(init)` (`null` reads as none); throws a TypeError for unusable headers. */
export function twHeaders(init) {
  return construct(twHeadersC, [init ?? undefined]);
}

/** The headers of `init` (a RequestInit), or undefined. */
export function twInitHeaders(init) {
  return init !== null && typeof init === 'object' ? init.headers : undefined;
}

/** Whether `init.body` is a ReadableStream (which cannot be replayed on a retry). */
export function twIsStreamBody(init) {
  return !!(twStream && init !== null && typeof init === 'object' && init.body instanceof twStream);
}

export function twRequestHeaders(request) {
  return apply(twReqHeaders, request, []);
}

/** The request's URL, absolute and serialized by the browser. */
export function twRequestUrl(request) {
  return apply(twReqUrl, request, []);
}

/** The request's AbortSignal (it follows the caller's); undefined without the getter. */
export function twRequestSignal(request) {
  return twReqSignal ? apply(twReqSignal, request, []) : undefined;
}

/** Whether the request has a body (browsers without `Request.body` say no). */
export function twRequestHasBody(request) {
  return twReqBody ? apply(twReqBody, request, []) !== null : false;
}

export function twClone(request) {
  return apply(twReqClone, request, []);
}

export function twHas(headers, name) {
  return apply(twHeadersHas, headers, [name]);
}

/** The header's value, or undefined (never null). */
export function twGet(headers, name) {
  return apply(twHeadersGet, headers, [name]) ?? undefined;
}

export function twSet(headers, name, value) {
  apply(twHeadersSet, headers, [name, value]);
}

/** The core's only way out for the token: `Authorization` on a `Headers`. */
export function twSetAuthorization(headers, value) {
  apply(twHeadersSet, headers, ['Authorization', value]);
}

export function twStatus(response) {
  return apply(twResStatus, response, []);
}

export function twResponseType(response) {
  return apply(twResType, response, []);
}

export function twResponseHeaders(response) {
  return apply(twResHeaders, response, []);
}

/** `response.text()`, pinned. */
export function twText(response) {
  return twPinned(apply(twResText, response, []));
}

/** `Date.parse(text)`: ms since the epoch, NaN when it is no date. */
export function twParseDate(text) {
  return twDateParse(text);
}

function twParse(url) {
  const document = g.document;
  const base = document && twBaseURI ? apply(twBaseURI, document, []) : g.location?.href;
  try {
    return construct(twURLC, [url, base]);
  } catch {
    return undefined;
  }
}

/** `String(value)` (a `URL` gives its href); undefined if it throws. */
export function twToString(value) {
  try {
    return twStringC(value);
  } catch {
    return undefined;
  }
}

/** The absolute URL for `url`, resolved against `document.baseURI` as fetch would; undefined if invalid. */
export function twAbsolute(url) {
  const parsed = twParse(url);
  return parsed ? apply(twHref, parsed, []) : undefined;
}

/** The serialized origin of `url`, resolved as `twAbsolute` resolves it; undefined if invalid. */
export function twOrigin(url) {
  const parsed = twParse(url);
  return parsed ? apply(twOriginOf, parsed, []) : undefined;
}

const twThenFn = Promise.prototype.then;

/**
 * Continues `promise` through the `then` captured at load with `handler(true, value, id)`
 * or `handler(false, error, id)`: one long-lived Rust closure serves every request, told
 * apart by `id`.
 */
export function twAfter(promise, handler, id) {
  return apply(twThenFn, promise, [(value) => handler(true, value, id), (error) => handler(false, error, id)]);
}

const twStringifyFn = JSON.stringify;

/** `JSON.stringify(value)` as it was at load; undefined when it throws or gives no text. */
export function twStringify(value) {
  try {
    const text = twStringifyFn(value);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

const twReportErrorFn = fn(g.reportError);
const twQueueMicrotaskFn = fn(g.queueMicrotask);

/**
 * Reports `error` (thrown by an app's event handler or logger) the standard way, through
 * `reportError` as it was at load: shown on the console and dispatched to
 * `window.onerror` / the `error` event, without breaking the caller. Without
 * `reportError`, the error is rethrown in a microtask (the same effect, uncaught).
 */
export function twReport(error) {
  if (twReportErrorFn) {
    apply(twReportErrorFn, g, [error]);
  } else if (twQueueMicrotaskFn) {
    apply(twQueueMicrotaskFn, g, [() => { throw error; }]);
  }
}
