// The types of token-warden's public API, written by hand so the `.d.ts` says
// `Promise<Response>` and a typed `on()`, never `any`.

/** The session as the app sees it. */
export type SessionState = 'initial' | 'restoring' | 'signed-in' | 'signed-out' | 'disposed';

/** Every `code` a `TokenWardenError` can carry. Stable across releases. */
export type ErrorCode =
  | 'invalid_options'
  | 'network'
  | 'timeout'
  | 'invalid_grant'
  | 'oauth_error'
  | 'server_error'
  | 'rate_limited'
  | 'http_error'
  | 'malformed_response'
  | 'malformed_token'
  | 'unsupported_token_type'
  | 'invalid_expires_in'
  | 'unknown_expiry'
  | 'token_expired'
  | 'not_signed_in'
  | 'token_not_exposed'
  | 'disposed'
  | 'aborted'
  | 'too_many_refreshes'
  | 'load_failed'
  | 'unsupported_environment';

/** The operation a `TokenWardenError` is about: `signIn()`, a refresh (restore, silent refresh, `refresh()`), `logout()`, or a `tm.fetch` request. */
export type TokenWardenOperation = 'sign-in' | 'refresh' | 'logout' | 'request';

/**
 * What token-warden throws and rejects with. Its message never contains a token; it names
 * the operation, the endpoint, the HTTP status and what the server said, e.g.
 * `sign-in at https://app.example/auth/login was refused: HTTP 401 invalid_grant (Invalid username or password)`.
 * The five request fields are always present: `null` when they do not apply (an error
 * about no request, such as `invalid_options`, `disposed`, `not_signed_in`).
 */
export interface TokenWardenError extends Error {
  /** Always `'TokenWardenError'` (test with `isTokenWardenError`, not `instanceof`). */
  readonly name: 'TokenWardenError';
  /** What went wrong, as a stable machine-readable code. */
  readonly code: ErrorCode;
  /** The operation that failed; null for an error about no request. */
  readonly operation: TokenWardenOperation | null;
  /** The absolute URL of the request, without query or fragment; null for an error about no request. */
  readonly endpoint: string | null;
  /** The HTTP status of the server's error answer; null without a response (network, timeout) or for an error about the body of a 2xx. */
  readonly status: number | null;
  /** The server's RFC 6749 §5.2 `error` (sanitized: printable ASCII, at most 200 characters), for any status; null if the body had none. */
  readonly serverError: string | null;
  /** The server's `error_description`, sanitized the same way; null if none. */
  readonly serverErrorDescription: string | null;
}

/** Every `code` of the `warning` event. Stable across releases. */
export type WarningCode =
  | 'refresh_token_in_body'
  | 'too_many_refreshes'
  | 'logout_failed'
  | 'no_broadcast_channel'
  | 'no_web_locks';

/**
 * One entry of the debug log (`logger` / `debug: true`): one per decision the manager
 * takes, told apart by `type`. Entries name operations, endpoints (without query or
 * fragment), origins, statuses, codes and counts; never a token, a cookie, a header value
 * or a body.
 */
export type LogEntry =
  | LogRefreshScheduled
  | LogSent
  | LogAnswered
  | LogRetryScheduled
  | LogGaveUp
  | LogWaiting
  | LogRequest
  | LogUnauthorizedRetry
  | LogTabMessage
  | LogState
  | LogSessionEnded
  | LogWarning;

/** The operations of token-warden's own requests, as log entries name them. */
export type LogOperation = 'sign-in' | 'refresh' | 'logout';

/** The next refresh (or retry) goes out at `at`, `inMs` from now. */
export interface LogRefreshScheduled {
  /** The entry's kind. */
  type: 'refresh-scheduled';
  /** When, in ms since the epoch. */
  at: number;
  /** How long from now, in ms. */
  inMs: number;
}

/** One of token-warden's own requests went out. */
export interface LogSent {
  /** The entry's kind. */
  type: 'sent';
  /** Which request. */
  operation: LogOperation;
  /** Its URL, without query or fragment. */
  endpoint: string;
  /** For a refresh, the attempt within the refresh cycle (from 1); else null. */
  attempt: number | null;
}

/** One of token-warden's own requests was answered (or failed without an answer). */
export interface LogAnswered {
  /** The entry's kind. */
  type: 'answered';
  /** Which request. */
  operation: LogOperation;
  /** The HTTP status; null without a response. */
  status: number | null;
  /** `'ok'`, or the error code the answer maps to. */
  outcome: 'ok' | ErrorCode;
}

/** A refresh attempt failed and is retried after a backoff. */
export interface LogRetryScheduled {
  /** The entry's kind. */
  type: 'retry-scheduled';
  /** The attempt that failed, from 1. */
  attempt: number;
  /** Why it failed. */
  code: ErrorCode;
  /** When the next attempt goes out, in ms since the epoch. */
  at: number;
  /** How long from now, in ms. */
  inMs: number;
}

/** The refresh cycle gave up. */
export interface LogGaveUp {
  /** The entry's kind. */
  type: 'gave-up';
  /** How many attempts were made. */
  attempt: number;
  /** Why the last one failed. */
  code: ErrorCode;
}

/** A caller waits: for a token (`tm.fetch`, `accessToken()`), for `start()` or for `refresh()`. */
export interface LogWaiting {
  /** The entry's kind. */
  type: 'waiting';
  /** What it waits for. */
  want: 'token' | 'start' | 'refresh';
  /** How many callers wait now. */
  count: number;
}

/** A `tm.fetch` request went out, with the bearer or without, and why. */
export interface LogRequest {
  /** The entry's kind. */
  type: 'request';
  /** The request's origin (never its path or query). */
  origin: string;
  /** Whether `Authorization: Bearer` was attached. */
  bearer: boolean;
  /** Why: `token` (attached), `not-allowed` (origin not in `allowedOrigins`), `has-authorization` (the app set its own), `no-session`, `no-token`, `user-changed` (the call waited for a token while another user's session replaced the one it began in). */
  reason: 'token' | 'not-allowed' | 'has-authorization' | 'no-session' | 'no-token' | 'user-changed';
}

/** A request got a 401 asking for a new token: it is retried once after a refresh. */
export interface LogUnauthorizedRetry {
  /** The entry's kind. */
  type: 'unauthorized-retry';
  /** The request's origin. */
  origin: string;
}

/** A message to (`posted`) or from (`heard`) another tab of the app. */
export interface LogTabMessage {
  /** The entry's kind. */
  type: 'tab-message';
  /** Sent or received. */
  direction: 'posted' | 'heard';
  /** Which message. */
  message: 'signed-in' | 'refreshed' | 'ended';
}

/** The session state changed. */
export interface LogState {
  /** The entry's kind. */
  type: 'state';
  /** The new state. */
  state: SessionState;
}

/** The session ended (as the `session-ended` event says). */
export interface LogSessionEnded {
  /** The entry's kind. */
  type: 'session-ended';
  /** Why. */
  reason: SessionEndedReason;
}

/** A `warning` event was emitted. */
export interface LogWarning {
  /** The entry's kind. */
  type: 'warning';
  /** Which warning. */
  code: WarningCode;
}

/** Backoff of failed refreshes: exponential with full jitter. */
export interface RetryOptions {
  /** Refresh attempts in one cycle before giving up. Default 5. */
  maxAttempts?: number;
  /** The first backoff step in ms. Default 1000. */
  baseDelayMs?: number;
  /** The largest backoff step in ms (a `Retry-After` may ask for more). Default 30000. */
  maxDelayMs?: number;
}

/** The options of `createTokenManager(options)`. Unknown fields are an error. */
export interface TokenManagerOptions {
  /** The refresh endpoint (POSTed with `credentials: 'include'`). A relative URL resolves as `fetch` resolves it, against `document.baseURI` (a `<base href>` counts). Required. */
  refreshUrl: string | URL;
  /** The logout endpoint, if the server has one. Relative URLs resolve against `document.baseURI`. */
  logoutUrl?: string | URL;
  /** Exact origins (`https://api.example.com`) whose requests get the bearer token. Default: the page's own origin. */
  allowedOrigins?: string[];
  /** Refresh this many seconds before expiry; never more than half the token's lifetime. Default 60. */
  refreshLeadSeconds?: number;
  /** The anti-CSRF header sent on refresh, sign-in and logout; `null` sends none. Default `{ name: 'X-Requested-With', value: 'token-warden' }`. */
  csrfHeader?: CsrfHeader | null;
  /**
   * Timeout of token-warden's own requests in ms; also how long `start()` waits for the
   * restore and a call waits for a token. `refresh()` waits at most
   * (`requestTimeoutMs` + `retry.maxDelayMs`) × (`retry.maxAttempts` + 1), capped at an hour.
   * Default 10000.
   */
  requestTimeoutMs?: number;
  /** Backoff of failed refreshes. */
  retry?: RetryOptions;
  /** Lifetime assumed for a token whose response has no `expires_in` and that is not a JWT with `exp`. Default: none (such a token is refused with `unknown_expiry`). */
  defaultLifetimeSeconds?: number;
  /** The largest access token accepted, in bytes. Default 8192. */
  maxTokenBytes?: number;
  /** Allow `accessToken()` to return the raw token (for a WebSocket handshake). Default false. */
  exposeAccessToken?: boolean;
  /** A ceiling on refresh requests per rolling minute, so a bad clock or server cannot cause a loop. Default 10. */
  maxRefreshesPerMinute?: number;
  /** Called with one `LogEntry` per decision (never a token). One that throws is reported through `reportError` and breaks nothing. Default: none. */
  logger?: (entry: LogEntry) => void;
  /** Log every entry to `console.debug`, prefixed `token-warden` (with or without `logger`). Default false. */
  debug?: boolean;
}

/** The anti-CSRF header token-warden adds to its own requests (option `csrfHeader`). */
export interface CsrfHeader {
  /** The header name, e.g. `X-Requested-With`. */
  name: string;
  /** Its value, e.g. `token-warden`. */
  value: string;
}

/**
 * Why a signed-in session ended (`session-ended` event):
 * - `logout`: `logout()` here or in another tab;
 * - `invalid_grant`: the server rejected the refresh token (revoked, reused, expired);
 * - `expired`: the token expired and the refresh cycle gave up, so no usable token is
 *   left (`start()` tries the cookie again);
 * - `disposed`: `dispose()` or `free()`;
 * - `user-changed`: a grant (refresh, restore, sign-in, `acceptTokenResponse`) is for
 *   another subject (JWT `sub`, else the `id_token`'s) than the token in memory; `state`
 *   `signed-out` then `signed-in` and `refreshed` follow for the new user.
 */
export type SessionEndedReason = 'logout' | 'invalid_grant' | 'expired' | 'disposed' | 'user-changed';

/** The payload of `refreshed`: a new access token is in memory (after sign-in and restore too). */
export interface RefreshedEvent {
  /** When the new token expires, in ms since the epoch (local clock). */
  expiresAt: number;
}

/** The payload of `refresh-error`: one refresh attempt failed. */
export interface RefreshErrorEvent {
  /** Why the attempt failed. */
  code: ErrorCode;
  /** Which attempt of the refresh cycle it was, from 1. */
  attempt: number;
  /** When the next attempt goes out, in ms since the epoch; null when the cycle gave up. */
  retryAt: number | null;
}

/** The payload of `session-ended`. */
export interface SessionEndedEvent {
  /** Why the session ended. */
  reason: SessionEndedReason;
}

/** The payload of `warning`: something is off but the session goes on. */
export interface WarningEvent {
  /** Which warning. */
  code: WarningCode;
  /** A human-readable explanation (never a token). */
  message: string;
}

/** Payloads of the events, by name. None of them ever carries a token. */
export interface TokenManagerEventMap {
  /** The session state changed. */
  state: SessionState;
  /** A new access token is in memory: after sign-in and restore too, not only silent refreshes. */
  refreshed: RefreshedEvent;
  /** A refresh attempt failed; `retryAt` is when the next one goes out, or null when giving up. */
  'refresh-error': RefreshErrorEvent;
  /** A signed-in session ended (see `SessionEndedReason`). */
  'session-ended': SessionEndedEvent;
  /** Something is off but the session goes on (e.g. `refresh_token_in_body`, `logout_failed`). */
  warning: WarningEvent;
}

/** The names of the events. */
export type TokenManagerEvent = keyof TokenManagerEventMap;

/** Every event as a discriminated union: `{ event: 'refreshed'; payload: { expiresAt } } | …`. */
export type TokenManagerEventUnion = {
  [E in TokenManagerEvent]: TokenManagerEventOf<E>;
}[TokenManagerEvent];

/** One event with its payload: a member of `TokenManagerEventUnion`. */
export interface TokenManagerEventOf<E extends TokenManagerEvent> {
  /** The event's name. */
  event: E;
  /** Its payload. */
  payload: TokenManagerEventMap[E];
}

/**
 * The registered claims of a JWT (RFC 7519 §4.1), each optional, plus whatever other
 * claims the token carries. Times are NumericDate: seconds (not ms) since the epoch.
 * Decoded, never verified: for display only.
 */
export interface JwtClaims {
  /** Issuer (§4.1.1). */
  iss?: string;
  /** Subject: the user (§4.1.2). */
  sub?: string;
  /** Audience: one recipient or several (§4.1.3). */
  aud?: string | string[];
  /** Expiration time, in seconds since the epoch (§4.1.4). */
  exp?: number;
  /** Not before, in seconds since the epoch (§4.1.5). */
  nbf?: number;
  /** Issued at, in seconds since the epoch (§4.1.6). */
  iat?: number;
  /** JWT ID (§4.1.7). */
  jti?: string;
  /** Any other claim (`scope`, `name`, …). */
  [claim: string]: unknown;
}

/**
 * Keeps the access token in WebAssembly memory and refreshes it silently through the
 * HttpOnly refresh cookie. No JavaScript can read the token unless `exposeAccessToken`.
 *
 * Created by `createTokenManager` only: there is no public constructor. Every method is
 * the manager's own property, bound to it, so it works detached as `window.fetch` does:
 * `const { fetch, on } = tm`, `ky.create({ fetch: tm.fetch })`,
 * `axios.create({ adapter: 'fetch', env: { fetch: tm.fetch } })`. The manager is frozen:
 * no script can replace a method.
 */
export interface TokenManager {
  /**
   * Restores the session on page load through the refresh cookie, or joins the restore
   * already running. Resolves `'signed-in'`, or `'signed-out'` (no cookie, or a rejected
   * one); never `'restoring'`. Settles within about `requestTimeoutMs`: a server that is
   * down or a browser that is offline rejects with the first failure (`network`,
   * `timeout`, `server_error`) while the restore goes on in the background; its success
   * arrives as a `state` event.
   */
  readonly start: () => Promise<SessionState>;
  /**
   * POSTs the app's login request (credentials included) and takes the token response it
   * answers. `url` resolves against `document.baseURI`, as `fetch` resolves it; errors
   * name the sign-in endpoint. If `init.signal` aborts, rejects at once with
   * `signal.reason` and takes no late answer: the state stays as it was.
   */
  readonly signIn: (url: string | URL, init?: RequestInit) => Promise<SessionState>;
  /** Takes a token response (RFC 6749 §5.1, as an object or JSON text) the app obtained itself. */
  readonly acceptTokenResponse: (response: object | string) => SessionState;
  /**
   * `window.fetch`, plus `Authorization: Bearer` for allowed origins and one
   * refresh-and-retry on a 401 that asks for a new token (`error="invalid_token"` or no
   * error code, RFC 6750 §3.1; any other 401 is returned untouched). URLs resolve against
   * `document.baseURI`. The `AbortSignal` (of `init` or of a `Request` input) is honoured at
   * every stage: an abort rejects at once with `signal.reason` and sends nothing later. A
   * call that waits for a token waits at most `requestTimeoutMs`; before `start()` it
   * starts the restore itself. Bound to the manager: pass it as is wherever a `fetch` goes.
   */
  readonly fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /**
   * Refreshes now (joining a refresh already running); resolves once a new token is in
   * memory, rejects with the failure's code as soon as the cycle gives up, and settles
   * within (`requestTimeoutMs` + `retry.maxDelayMs`) × (`retry.maxAttempts` + 1). Before
   * `start()` it restores first; signed out it rejects `not_signed_in`.
   */
  readonly refresh: () => Promise<void>;
  /**
   * Sends the logout request to `logoutUrl` (if set), clears memory at once whatever the
   * server will answer, and resolves once it has answered (a failure is a `logout_failed`
   * warning, never a rejection).
   */
  readonly logout: () => Promise<void>;
  /** Subscribes to an event. Returns the function that unsubscribes. Throws `disposed` after `dispose()`. */
  readonly on: TokenManagerOn;
  /** The current session state. */
  readonly state: SessionState;
  /** When the access token expires, in ms since the epoch; null without a usable token (none yet, expired, rejected, signed out). */
  readonly expiresAt: number | null;
  /**
   * The decoded, UNVERIFIED JWT payload, for display only (never for authorization); null
   * for opaque tokens. `T` describes the claims your server puts in its tokens, e.g.
   * `tm.claims<JwtClaims & { scope?: string }>()`.
   */
  readonly claims: <T extends object = JwtClaims>() => T | null;
  /** The raw access token (waiting for one as `fetch` does); rejects with `token_not_exposed` unless `exposeAccessToken: true`. */
  readonly accessToken: () => Promise<string>;
  /** Cancels timers, listeners and in-flight requests and clears the token; later calls reject with `disposed`. */
  readonly dispose: () => void;
  /** Frees the WebAssembly memory of this manager (disposing it first). */
  readonly free: () => void;
}

/** `TokenManager.on`: one signature per event, then any event by a name held in a variable. */
export interface TokenManagerOn {
  /** The session state changed. Returns the function that unsubscribes. */
  (event: 'state', handler: (state: SessionState) => void): () => void;
  /** A new access token is in memory (never the token itself). Returns the function that unsubscribes. */
  (event: 'refreshed', handler: (payload: TokenManagerEventMap['refreshed']) => void): () => void;
  /** A refresh attempt failed. Returns the function that unsubscribes. */
  (event: 'refresh-error', handler: (payload: TokenManagerEventMap['refresh-error']) => void): () => void;
  /** A signed-in session ended. Returns the function that unsubscribes. */
  (event: 'session-ended', handler: (payload: TokenManagerEventMap['session-ended']) => void): () => void;
  /** Something is off but the session goes on. Returns the function that unsubscribes. */
  (event: 'warning', handler: (payload: TokenManagerEventMap['warning']) => void): () => void;
  /** Subscribes to any event by a name held in a variable. Returns the function that unsubscribes. */
  <E extends TokenManagerEvent>(event: E, handler: (payload: TokenManagerEventMap[E]) => void): () => void;
}
