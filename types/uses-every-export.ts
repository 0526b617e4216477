// Type-checks the shipped .d.ts under `tsc --strict`: this file uses every declaration of
// the package's types, and the `@ts-expect-error` lines prove the types reject what they should.
import type {
  ErrorCode,
  JwtClaims,
  RetryOptions,
  SessionState,
  TokenManager,
  TokenManagerEvent,
  TokenManagerEventMap,
  TokenManagerOptions,
  TokenWardenError,
} from '../pkg/types.js';
import { createTokenManager, isTokenWardenError, loadTokenWarden, VERSION } from '../pkg/index.js';
// A value import of the name: it still has no constructor to call (checked below).
import { TokenManager as TokenManagerValue } from '../pkg/types.js';

await loadTokenWarden();
const v: string = VERSION;

const retry: RetryOptions = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000 };
const options: TokenManagerOptions = {
  refreshUrl: '/auth/refresh',
  logoutUrl: new URL('/auth/logout', location.href),
  allowedOrigins: [location.origin, 'https://api.example.com'],
  refreshLeadSeconds: 60,
  csrfHeader: { name: 'X-Requested-With', value: 'token-warden' },
  requestTimeoutMs: 10_000,
  retry,
  defaultLifetimeSeconds: 300,
  maxTokenBytes: 8192,
  exposeAccessToken: false,
  maxRefreshesPerMinute: 10,
};
// @ts-expect-error refreshUrl is required
const missing: TokenManagerOptions = { logoutUrl: '/auth/logout' };
// @ts-expect-error unknown options are refused by the types too
const typo: TokenManagerOptions = { refreshUrl: '/r', refreshURL: '/r' };
console.log(missing, typo);

const tm: TokenManager = await createTokenManager(options);
const state: SessionState = await tm.start();
// An AbortSignal is honoured as fetch honours it (issue 12).
const controller = new AbortController();
const afterSignIn: SessionState = await tm.signIn('/auth/login', {
  body: JSON.stringify({ username: 'alice', password: 'pw' }),
  headers: { 'Content-Type': 'application/json' },
  signal: controller.signal,
});
const accepted: SessionState = tm.acceptTokenResponse({ access_token: 'x', token_type: 'Bearer', expires_in: 60 });
const response: Response = await tm.fetch('/api/me', { method: 'GET' });
const response2: Response = await tm.fetch(new Request('/api/data'));
const aborted: Response = await tm.fetch('/api/me', { signal: AbortSignal.timeout(5_000) });
await tm.refresh();
const token: string = await tm.accessToken();
const current: SessionState = tm.state;
const expiresAt: number | null = tm.expiresAt;
const claims: Record<string, unknown> | null = tm.claims();

// @ts-expect-error no public constructor: managers come from createTokenManager only
const constructed = new TokenManagerValue(options);
console.log(constructed);

// claims(): the registered claims of RFC 7519 §4.1 typed, any other claim unknown.
const registered: JwtClaims | null = tm.claims();
if (registered) {
  const sub: string | undefined = registered.sub;
  const aud: string | string[] | undefined = registered.aud;
  const times: (number | undefined)[] = [registered.exp, registered.nbf, registered.iat];
  const ids: (string | undefined)[] = [registered.iss, registered.jti];
  const other: unknown = registered['scope'];
  // @ts-expect-error exp is a NumericDate (seconds), not a string
  const expText: string | undefined = registered.exp;
  console.log(sub, aud, times, ids, other, expText);
}
interface AppClaims extends JwtClaims {
  scope: string;
  roles: string[];
}
const app = tm.claims<AppClaims>();
if (app) console.log(app.scope.split(' '), app.roles.length, app.sub);
// @ts-expect-error claims are an object, never a primitive
tm.claims<string>();

// Every method works detached, as window.fetch does.
const { fetch: detachedFetch, on, refresh, logout, start, signIn, accessToken, acceptTokenResponse, dispose } = tm;
const asFetch: typeof fetch = tm.fetch;
const detachedClaims = tm.claims;
const d1: Promise<Response> = detachedFetch('/api/me');
const d2: Promise<SessionState> = start();
const d3: Promise<SessionState> = signIn('/auth/login', { body: '{}' });
const d4: SessionState = acceptTokenResponse('{}');
const d5: Promise<void> = refresh();
const d6: Promise<void> = logout();
const d7: Promise<string> = accessToken();
const d8: JwtClaims | null = detachedClaims();
const off: () => void = on('refreshed', ({ expiresAt }) => console.log(expiresAt));
// @ts-expect-error the detached `on` keeps its per-event payload types
on('state', (s: number) => console.log(s));
dispose();
console.log(asFetch, d1, d2, d3, d4, d5, d6, d7, d8, off);
// @ts-expect-error the manager's methods are read-only: no script replaces tm.fetch
tm.fetch = asFetch;

const offState = tm.on('state', (s: SessionState) => console.log(s));
const offRefreshed = tm.on('refreshed', ({ expiresAt }) => console.log(expiresAt.toFixed()));
tm.on('refresh-error', (e) => {
  const code: ErrorCode = e.code;
  const retryAt: number | null = e.retryAt;
  console.log(code, e.attempt, retryAt);
});
tm.on('session-ended', ({ reason }) => {
  const r: 'logout' | 'invalid_grant' | 'expired' | 'disposed' | 'user-changed' = reason;
  console.log(r);
});
tm.on('warning', ({ code, message }) => console.log(code, message));
// @ts-expect-error the payload of 'refreshed' has no token
tm.on('refreshed', (p) => console.log(p.accessToken));
// @ts-expect-error unknown event names are refused
tm.on('token', () => {});
offState();
offRefreshed();

const name: TokenManagerEvent = 'session-ended';
const payload: TokenManagerEventMap['refresh-error'] = { code: 'network', attempt: 1, retryAt: null };

try {
  await tm.logout();
} catch (e: unknown) {
  if (isTokenWardenError(e)) {
    const err: TokenWardenError = e;
    const code: ErrorCode = err.code;
    console.log(err.name, code);
  }
}
tm.dispose();
tm.free();

console.log(v, state, afterSignIn, accepted, response.status, response2.ok, aborted.ok, token, current, expiresAt, claims, name, payload);
