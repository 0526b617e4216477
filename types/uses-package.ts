// Type-checks the npm entry (`index.d.ts`) under `tsc --strict`: every export used, and
// the class cannot be constructed before the module is loaded.
import {
  createTokenManager,
  isTokenWardenError,
  loadTokenWarden,
  VERSION,
  type ErrorCode,
  type JwtClaims,
  type RetryOptions,
  type SessionState,
  type TokenManager,
  type TokenManagerEvent,
  type TokenManagerEventMap,
  type TokenManagerEventUnion,
  type TokenManagerOn,
  type TokenManagerOptions,
  type TokenWardenError,
} from '../pkg/index.js';

const version: string = VERSION;
await loadTokenWarden();
const retry: RetryOptions = { maxAttempts: 3 };
const options: TokenManagerOptions = { refreshUrl: '/auth/refresh', retry };
const tm: TokenManager = await createTokenManager(options);
const state: SessionState = await tm.start();

// @ts-expect-error TokenManager is exported as a type only: nothing can call it before loading
const early = new TokenManager(options);

const events: TokenManagerEventUnion[] = [];
const names: TokenManagerEvent[] = ['state', 'refreshed', 'refresh-error', 'session-ended', 'warning'];
tm.on('state', (s) => events.push({ event: 'state', payload: s }));
tm.on('refreshed', (payload) => events.push({ event: 'refreshed', payload }));
tm.on('refresh-error', (payload) => {
  const code: ErrorCode = payload.code;
  events.push({ event: 'refresh-error', payload: { ...payload, code } });
});
tm.on('session-ended', (payload: TokenManagerEventMap['session-ended']) => events.push({ event: 'session-ended', payload }));
tm.on('warning', (payload) => events.push({ event: 'warning', payload }));
for (const e of events) {
  // The union narrows on `event`.
  if (e.event === 'refreshed') console.log(e.payload.expiresAt.toFixed());
  // @ts-expect-error a 'state' payload is a string, not an object
  if (e.event === 'state') console.log(e.payload.expiresAt);
}
// @ts-expect-error the wrong payload type for the event name
const wrong: TokenManagerEventUnion = { event: 'refreshed', payload: 'signed-in' };

try {
  await createTokenManager({ refreshUrl: '/auth/refresh' });
} catch (e: unknown) {
  if (isTokenWardenError(e)) {
    const err: TokenWardenError = e;
    console.log(err.code satisfies ErrorCode);
  }
}
// The detached `on` has the type the package exports for it.
const on: TokenManagerOn = tm.on;
const claims: JwtClaims | null = tm.claims();
// A load failure is a TokenWardenError with one of the loader's codes.
try {
  await loadTokenWarden();
} catch (e: unknown) {
  if (isTokenWardenError(e) && (e.code === 'load_failed' || e.code === 'unsupported_environment')) console.log(e.message);
  // @ts-expect-error not a code token-warden uses
  if (isTokenWardenError(e) && e.code === 'wasm_failed') console.log(e.message);
}

console.log(version, state, early, names, wrong, on, claims);
