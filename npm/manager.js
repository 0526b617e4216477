// TokenManager: the browser half. The session core (wasm) decides; this file performs
// what it decides (refresh requests, the one timer, events, waking callers) and feeds the
// results back. The token stays in the core: the runtime hands it a request's headers and
// URL, and the core writes `Authorization` itself if the URL's origin is allowed. Token
// responses go from the captured `Response.prototype.text` straight into the core.

import { SessionCore } from './token_warden.js';
import { disposed, invalidOption, notSignedIn, tokenExpired, twError } from './errors.js';
import { parseOptions } from './options.js';
import { capture, clampDelay, hasLocks, post, withLock } from './transport.js';
import { messageFor, openChannel } from './tabs.js';

// Input codes, effect ops and lend statuses: mirror src/wasm/wire.rs and session_core.rs.
const TIMER_FIRED = 1;
const WAKE = 2;
const SIGNED_OUT = 5;
const ENDED_ELSEWHERE = 6;
const CONNECTIVITY = 7;
const DISPOSE = 8;
const WAIT_TOKEN = 9;
const WAIT_START = 10;
const WAIT_REFRESH = 11;
const CANCEL = 12;
const LEND_NO_SESSION = -1;
const LEND_WAIT = -2;
const LEND_NOT_ALLOWED = -4;

const EVENTS = ['state', 'refreshed', 'refresh-error', 'session-ended', 'warning'];

const random = Math.random;
// Captured at load: a token response object the app hands over goes through it.
const stringify = JSON.stringify;
const isStream = (body) => typeof ReadableStream === 'function' && body instanceof ReadableStream;

/**
 * Keeps the access token in WebAssembly memory and refreshes it silently through the
 * HttpOnly refresh cookie. Created by `createTokenManager` once the module is loaded.
 */
export class TokenManager {
  #o;
  #p;
  #core;
  #gone = false;
  #handlers = [];
  /** Callers waiting for the core to settle them, by id (see `#wait`). */
  #waiters = new Map();
  #lastId = 0;
  #timer = null;
  #refreshAbort = null;
  #channel = null;
  #fromOtherTab = false;
  #pending = [];
  #listeners = new AbortController();

  /** Validates `options`; throws `invalid_options` naming the bad field. */
  constructor(options) {
    const prims = capture();
    const o = parseOptions(options, prims);
    this.#o = o;
    this.#p = prims;
    this.#core = new SessionCore(
      o.refreshLeadMs,
      o.maxAttempts,
      o.baseDelayMs,
      o.maxDelayMs,
      o.defaultLifetimeMs,
      o.maxTokenBytes,
      o.maxRefreshesPerMinute,
      o.allowedOrigins.join('\n'),
      o.expose,
      o.timeoutMs,
    );
    this.#channel = openChannel(`token-warden:${o.refreshUrl}`, (m) => this.#onTabMessage(m));
    if (!this.#channel) {
      this.#pending.push({
        code: 'no_broadcast_channel',
        message: 'this browser has no BroadcastChannel: other tabs do not hear of sign-in and sign-out',
      });
    }
    if (!hasLocks()) {
      this.#pending.push({
        code: 'no_web_locks',
        message: 'this browser has no Web Locks: refreshes are not coordinated across tabs',
      });
    }
    this.#listenForWake();
  }

  /** The current session state. */
  get state() {
    return this.#gone ? 'disposed' : this.#core.phase();
  }

  /** When the access token expires, in ms since the epoch; null without a usable token. */
  get expiresAt() {
    const at = this.#gone ? -1 : this.#core.expiresAt(Date.now());
    return at < 0 ? null : at;
  }

  /** The decoded, UNVERIFIED JWT payload, for display only; null for opaque tokens. */
  claims() {
    const text = this.#gone ? '' : this.#core.claims();
    return text ? JSON.parse(text) : null;
  }

  /** Restores the session through the refresh cookie (or joins the restore running); no session resolves `'signed-out'`. */
  async start() {
    this.#alive();
    for (const warning of this.#pending.splice(0)) this.#emit('warning', warning);
    // The core settles it with the outcome; the state is read when it does, never 'restoring'.
    return this.#wait(WAIT_START, undefined, () => this.state);
  }

  /** POSTs the app's login request (credentials included) and takes the token response. */
  async signIn(url, init) {
    this.#alive();
    if (typeof url !== 'string' && (url === null || typeof url !== 'object')) {
      throw invalidOption('url', 'expected a URL string');
    }
    const href = this.#p.absolute(String(url));
    if (!href) throw invalidOption('url', 'not a valid URL');
    const signal = init !== null && typeof init === 'object' ? (init.signal ?? undefined) : undefined;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidOption('init.signal', 'expected an AbortSignal');
    if (signal?.aborted) throw signal.reason;
    let state;
    await post(
      this.#p,
      href,
      this.#request({
        init,
        signal,
        deliver: (status, body, header, headerDate, receivedAt) => {
          // An aborted sign-in takes no late answer.
          if (!signal?.aborted) state = this.#accept(status, body, header, headerDate, receivedAt);
        },
      }),
    );
    if (signal?.aborted) throw signal.reason;
    return state;
  }

  /** Takes a token response (RFC 6749 §5.1, object or JSON text) the app obtained itself. */
  acceptTokenResponse(response) {
    this.#alive();
    let body = response;
    if (typeof body !== 'string') {
      try {
        body = stringify(response);
      } catch {
        body = undefined;
      }
      if (typeof body !== 'string') {
        throw twError('malformed_response', 'the token response is malformed: not JSON');
      }
    }
    return this.#accept(200, body, '', NaN, Date.now());
  }

  /** `fetch`, plus `Authorization: Bearer` for allowed origins and one refresh-and-retry on a 401. */
  fetch(input, init) {
    if (this.#gone) return Promise.reject(disposed());
    const p = this.#p;
    let request;
    try {
      request = p.request(input, init);
    } catch (error) {
      // `fetch` rejects (never throws) on a bad input; so do we, with its TypeError.
      return Promise.reject(error);
    }
    // The request's signal follows the caller's (init.signal or the input Request's).
    const signal = p.signalOf(request);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const headers = p.headersOf(request);
    // The core decides on the URL the browser serialized: no built-in a page can replace
    // (an array method, a URL getter) takes part.
    const url = p.urlOf(request);
    if (p.has(headers, 'Authorization') || !this.#core.allows(url)) return p.fetch(request);
    // A body can be read once: a request with one is cloned before it is sent, except a
    // stream, which cannot be replayed (such a request is never retried). A bodyless
    // request is cloned only if a 401 asks for a retry, so the common GET pays nothing.
    const hasBody = p.hasBody(request);
    let spare = request;
    if (hasBody) spare = isStream(init?.body) ? null : p.clone(request);
    let generation;
    try {
      generation = this.#lend(headers, url, true);
    } catch (error) {
      return Promise.reject(error);
    }
    if (generation > 0) return this.#sendChecked(request, spare, hasBody, generation, signal);
    if (generation === LEND_NO_SESSION || generation === LEND_NOT_ALLOWED) return p.fetch(request);
    return this.#waitToLend(headers, url, signal).then((g) =>
      g > 0 ? this.#sendChecked(request, spare, hasBody, g, signal) : p.fetch(request),
    );
  }

  /** Refreshes now (joining a refresh already running); resolves once a new token is in memory. */
  async refresh() {
    this.#alive();
    await this.#wait(WAIT_REFRESH);
  }

  /**
   * Logs out at `logoutUrl` (if set) and clears memory at once, whatever the server will
   * answer; resolves when it has answered. The request is built, bearer included, before
   * memory is cleared, so every call made after this one is made after the logout.
   */
  async logout() {
    this.#alive();
    const url = this.#o.logoutUrl;
    let sent;
    if (url) {
      // The bearer (if the logout URL's origin is allowed) lets the server deny-list the
      // access token until it expires; asking for it starts no refresh. `post` writes it
      // before it returns.
      const auth = (request) => {
        try {
          this.#lend(this.#p.headersOf(request), this.#p.urlOf(request), false);
        } catch {
          // No usable token: the logout goes without a bearer.
        }
      };
      sent = post(this.#p, url, this.#request({ auth }));
    }
    // The core settles whoever waits (start() resolves 'signed-out'); a refresh in flight
    // is abandoned first, so its aborted answer counts for nothing.
    this.#feed(SIGNED_OUT);
    this.#abortRefresh();
    if (!sent) return;
    let problem = null;
    try {
      const status = await sent;
      if (status < 200 || status >= 300) {
        problem = status <= 1 ? `the logout request failed (${status ? 'timeout' : 'network'})` : `the logout endpoint answered ${status}`;
      }
    } catch (error) {
      problem = `the logout request failed: ${error.message}`;
    }
    if (problem) {
      this.#emit('warning', { code: 'logout_failed', message: `${problem}; the session was cleared locally anyway` });
    }
  }

  /** The raw token; rejects with `token_not_exposed` unless `exposeAccessToken: true`. */
  async accessToken() {
    this.#alive();
    if (!this.#o.expose) throw twError('token_not_exposed', 'the access token is not exposed to JavaScript');
    // An empty URL: the core only answers whether a token is usable (or coming).
    const generation = await this.#lendWhenReady(undefined, '', undefined);
    const token = generation > 0 ? this.#core.exposed(Date.now()) : '';
    if (token) return token;
    throw notSignedIn();
  }

  /** Subscribes `handler` to `event`; returns the function that unsubscribes. */
  on(event, handler) {
    if (!EVENTS.includes(event)) {
      throw invalidOption('event', `unknown event; expected one of ${EVENTS.join(', ')}`);
    }
    if (typeof handler !== 'function') throw invalidOption('handler', 'expected a function');
    const entry = { event, handler };
    this.#handlers.push(entry);
    // Unsubscribing twice is harmless.
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== entry);
    };
  }

  /** Cancels timers, listeners and in-flight requests and clears the token; later calls reject with `disposed`. */
  dispose() {
    if (this.#gone) return;
    this.#abortRefresh();
    this.#listeners.abort();
    this.#channel?.close();
    this.#channel = null;
    this.#feed(DISPOSE);
    this.#disarm();
    this.#handlers = [];
    this.#gone = true;
  }

  /** Frees the WebAssembly memory of this manager (disposing it first). */
  free() {
    if (!this.#core) return;
    this.dispose();
    this.#core.free();
    this.#core = null;
  }

  // Only dispose() makes the core's phase `disposed`, and it sets #gone: no wasm call needed.
  #alive() {
    if (this.#gone) throw disposed();
  }

  /** The options of one of our own POSTs. */
  #request(extra) {
    return { csrf: this.#o.csrf, timeoutMs: this.#o.timeoutMs, ...extra };
  }

  /** Takes a token response the app obtained (sign-in, acceptTokenResponse). */
  #accept(status, body, header, headerDate, receivedAt) {
    this.#alive();
    const before = this.#core.generation();
    const refusal = this.#run(this.#core.reply(status, body, header, headerDate, receivedAt, random(), true));
    if (refusal) throw refusal;
    // A refresh still running started before this grant; its answer is stale.
    if (this.#core.generation() !== before) this.#abortRefresh();
    return this.state;
  }

  #feed(code, arg = 0) {
    // A handler may have freed the manager while its effects were still being performed.
    if (!this.#core) return;
    this.#run(this.#core.step(code, arg, Date.now(), random()));
  }

  /** Performs effect records (see src/wasm/wire.rs); returns a refusal, if one came. */
  #run(fx) {
    if (!fx.length) return undefined;
    // Read before any handler can call back into the core and replace them.
    const t = this.#core.texts().split('\n');
    let refusal;
    for (let i = 0; i < fx.length; ) {
      switch (fx[i++]) {
        case 0:
          this.#sendRefresh();
          break;
        case 1:
          this.#arm(fx[i++]);
          break;
        case 2:
          this.#disarm();
          break;
        case 3:
          this.#event('state', t[fx[i++]]);
          break;
        case 4:
          this.#event('refreshed', { expiresAt: fx[i++] });
          break;
        case 5: {
          const code = t[fx[i++]];
          const attempt = fx[i++];
          const retryAt = fx[i++];
          this.#event('refresh-error', { code, attempt, retryAt: retryAt < 0 ? null : retryAt });
          break;
        }
        case 6:
          this.#event('session-ended', { reason: t[fx[i++]] });
          break;
        case 7:
          this.#event('warning', { code: t[fx[i++]], message: t[fx[i++]] });
          break;
        case 8:
          this.#settle(fx[i++], undefined);
          break;
        case 9: {
          const id = fx[i++];
          this.#settle(id, twError(t[fx[i++]], t[fx[i++]]));
          break;
        }
        default:
          refusal = twError(t[fx[i++]], t[fx[i++]]);
      }
    }
    return refusal;
  }

  /** Has the core write the bearer into `headers` for a request to `url`, if allowed and usable; throws the core's refusal. */
  #lend(headers, url, want) {
    const core = this.#core;
    const generation = core.lend(headers, url, Date.now(), random(), want);
    const refusal = core.pending() ? this.#run(core.take()) : undefined;
    if (refusal) throw refusal;
    return generation;
  }

  /** `#lend`, waiting for a token if the core says so. LEND_NO_SESSION without a session. */
  #lendWhenReady(headers, url, signal) {
    let generation;
    try {
      generation = this.#lend(headers, url, true);
    } catch (error) {
      return Promise.reject(error);
    }
    return generation === LEND_WAIT ? this.#waitToLend(headers, url, signal) : Promise.resolve(generation);
  }

  /**
   * Waits until the core settles this caller, then lends at once (in the same task, so
   * nothing runs between the settle and the lend). The core bounds the wait.
   */
  #waitToLend(headers, url, signal) {
    return this.#wait(WAIT_TOKEN, signal, () => {
      const generation = this.#lend(headers, url, true);
      // Settled for a token that is gone again already: as late as the bound.
      if (generation === LEND_WAIT) throw tokenExpired();
      return generation;
    });
  }

  /** Sends a request carrying the token of `generation`; a 401 may get one refresh and one retry. */
  #sendChecked(request, spare, hasBody, generation, signal) {
    return this.#p.fetch(request).then((response) =>
      response.status === 401 ? this.#on401(response, spare, hasBody, generation, signal) : response,
    );
  }

  /**
   * Tells the core about the 401 (even when the request cannot be retried); when the core
   * says the challenge invites a new token, waits for one and retries once. An abort while
   * waiting rejects with the signal's reason; any other failure returns the 401.
   */
  #on401(response, spare, hasBody, generation, signal) {
    if (this.#gone) return response;
    const core = this.#core;
    const p = this.#p;
    const challenge = p.get(p.responseHeaders(response), 'www-authenticate') ?? '';
    const invited = core.unauthorized(generation, challenge, Date.now(), random());
    const refusal = core.pending() ? this.#run(core.take()) : undefined;
    if (!invited || refusal || !spare) return response;
    // The bodyless original was not consumed by sending it.
    const retry = hasBody ? spare : p.clone(spare);
    return this.#lendWhenReady(p.headersOf(retry), p.urlOf(retry), signal).then(
      (newer) => (newer > 0 && newer !== generation ? p.fetch(retry) : response),
      () => {
        if (signal?.aborted) throw signal.reason;
        return response;
      },
    );
  }

  /**
   * A caller waiting until the core settles it (op 8/9 with its id): `onOk` runs when it
   * resolves, in the same task, and gives the value. An abort of `signal` rejects it with
   * the signal's reason at once and tells the core to drop it.
   */
  #wait(code, signal, onOk) {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const id = ++this.#lastId;
      const waiter = { resolve, reject, onOk, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          if (!this.#waiters.delete(id)) return;
          this.#feed(CANCEL, id);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.set(id, waiter);
      this.#feed(code, id);
    });
  }

  #settle(id, error) {
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    this.#waiters.delete(id);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if (error) {
      waiter.reject(error);
      return;
    }
    try {
      waiter.resolve(waiter.onOk?.());
    } catch (e) {
      waiter.reject(e);
    }
  }

  #arm(at) {
    this.#disarm();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#feed(TIMER_FIRED);
    }, clampDelay(at - Date.now()));
  }

  #disarm() {
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * Every refresh answers the core exactly once, even an aborted one: the core knows which
   * answers are stale. The answer goes from `post` straight into the core: the lock's
   * task resolves nothing, so a patched `LockManager` or `Promise` is handed no token.
   */
  #sendRefresh() {
    const controller = new AbortController();
    this.#refreshAbort = controller;
    let answered = false;
    const answer = (status, body, header, headerDate, receivedAt) => {
      if (answered) return;
      answered = true;
      if (this.#refreshAbort === controller) this.#refreshAbort = null;
      if (!this.#gone) this.#run(this.#core.reply(status, body, header, headerDate, receivedAt, random(), false));
    };
    const noAnswer = () => answer(0, '', '', NaN, Date.now());
    withLock(`token-warden:refresh:${this.#o.refreshUrl}`, async () => {
      if (this.#gone || controller.signal.aborted) return noAnswer();
      await post(this.#p, this.#o.refreshUrl, this.#request({ deliver: answer, controller }));
    }).then(noAnswer, noAnswer);
  }

  #abortRefresh() {
    this.#refreshAbort?.abort();
    this.#refreshAbort = null;
  }

  /** An event from the core: other tabs hear what they need (never an echo), then the app. */
  #event(event, payload) {
    const message = this.#fromOtherTab ? null : messageFor(event, payload);
    if (message) this.#channel?.postMessage(message);
    this.#emit(event, payload);
  }

  #emit(event, payload) {
    // A copy: a handler may unsubscribe (or subscribe) while we call it.
    for (const { event: name, handler } of this.#handlers.slice()) {
      if (name !== event) continue;
      try {
        handler(payload);
      } catch {
        // A throwing handler must not break the manager or the other handlers.
      }
    }
  }

  #onTabMessage(message) {
    if (message.type === 'ended') {
      this.#abortRefresh();
      this.#fromOtherTab = true;
      try {
        this.#feed(ENDED_ELSEWHERE, message.reason);
      } finally {
        this.#fromOtherTab = false;
      }
    } else if (message.type === 'signed-in' && this.state === 'signed-out') {
      // Another tab has a session: pick it up through the cookie.
      this.start().catch(() => {});
    }
  }

  /** Timers are throttled in background tabs and stop while the machine sleeps: re-check on wake-up. */
  #listenForWake() {
    const options = { signal: this.#listeners.signal };
    const global = globalThis;
    const listen = (target, events, handler) => {
      for (const event of events) target?.addEventListener?.(event, handler, options);
    };
    listen(global, ['online', 'offline'], (e) => this.#feed(CONNECTIVITY, e.type === 'online' ? 1 : 0));
    listen(global, ['focus', 'online', 'pageshow'], () => this.#feed(WAKE));
    const document = global.document;
    listen(document, ['visibilitychange', 'resume'], () => {
      if (document.visibilityState === 'visible') this.#feed(WAKE);
    });
    if (global.navigator?.onLine === false) this.#feed(CONNECTIVITY, 0);
  }
}
