// token-warden/react: React bindings (React 18 or later, an optional peer dependency).
import type { ReactElement, ReactNode } from 'react';
import type { ErrorCode, JwtClaims, SessionState, TokenManager, TokenManagerOptions, TokenWardenError } from './index.js';

/** The props of `<TokenWardenProvider>`. */
export interface TokenWardenProviderProps {
  /**
   * The options of `createTokenManager`, read on the first render only: later changes are
   * ignored (an inline object literal creates no new manager). To change them, remount
   * the provider with a new `key`.
   */
  options: TokenManagerOptions;
  /** What `useSession()` and `useTokenManager()` are called from. */
  children?: ReactNode;
}

/**
 * Owns one `TokenManager`: creates it (`createTokenManager(options)`) when the provider
 * mounts, calls `start()` once, and disposes it when the provider unmounts. Under
 * `<StrictMode>` (effects run mount, unmount, mount) it keeps the first manager: disposal
 * waits one macrotask, and a mount in between cancels it. Nothing runs on the server.
 */
export declare function TokenWardenProvider(props: TokenWardenProviderProps): ReactElement;

/**
 * A session that ended by itself, as `useSession().error` reports it: the refresh token
 * was rejected (`reason: 'invalid_grant'`, code `invalid_grant`), or the token expired
 * after the refresh cycle gave up (`reason: 'expired'`, code of the last failed attempt,
 * e.g. `network`, or `token_expired` when another tab ended it).
 */
export interface SessionEndedError extends Error {
  /** Always `'SessionEndedError'`: test `error.name` to tell it from a `TokenWardenError`. */
  readonly name: 'SessionEndedError';
  /** The `session-ended` event's reason. */
  readonly reason: 'invalid_grant' | 'expired';
  /** The code of the failure that ended it (see above). */
  readonly code: ErrorCode;
}

/** What `useSession()` returns. A new object only when one of its fields changed. */
export interface Session<Claims extends object = JwtClaims> {
  /** `manager.state`; `'initial'` until the manager exists, `'disposed'` after the provider disposed it. */
  readonly state: SessionState;
  /**
   * True until the manager exists and its first `start()` settled (the session restored
   * through the refresh cookie, or not); never true again for the same manager.
   */
  readonly isLoading: boolean;
  /** `state === 'signed-in'`. */
  readonly isAuthenticated: boolean;
  /**
   * `manager.claims()` while signed in (decoded, UNVERIFIED: for display only, never for
   * authorization), read again after each refresh; null otherwise or for opaque tokens.
   * `Claims` is what the app's tokens carry; nothing checks it.
   */
  readonly claims: Claims | null;
  /** When the access token expires, in ms since the epoch; null without a usable token. */
  readonly expiresAt: number | null;
  /**
   * Why the session is missing, or null. One of: the rejection of `createTokenManager`
   * (a `TokenWardenError` such as `invalid_options`, or the loader's own error when the
   * `.wasm` cannot be fetched); the rejection of the first `start()` (`network`,
   * `timeout`, `server_error`, …: the restore goes on in the background); or a
   * `SessionEndedError` when a signed-in session ended by itself. Cleared when the state
   * becomes `'signed-in'`, and by a logout. Failed attempts that are retried, and
   * `signIn` failures (the caller gets those), are not reported here.
   */
  readonly error: TokenWardenError | SessionEndedError | Error | null;
}

/**
 * The session of the nearest `<TokenWardenProvider>`, through `useSyncExternalStore`: it
 * re-renders on the manager's `state`, `refreshed`, `refresh-error` and `session-ended`
 * events. Throws an `Error` outside a provider.
 */
export declare function useSession<Claims extends object = JwtClaims>(): Session<Claims>;

/**
 * The provider's `TokenManager` (the same object while the provider stays mounted), or null
 * while it is being created (the `.wasm` loading) and after a failed creation. It exists
 * before its `start()` settles: check `useSession().isLoading`. Throws an `Error` outside a provider.
 */
export declare function useTokenManager(): TokenManager | null;
