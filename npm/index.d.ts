import type { TokenManager, TokenManagerOptions, TokenWardenError } from './types.js';

export type {
  CsrfHeader,
  ErrorCode,
  JwtClaims,
  LogAnswered,
  LogEntry,
  LogGaveUp,
  LogOperation,
  LogRefreshScheduled,
  LogRequest,
  LogRetryScheduled,
  LogSent,
  LogSessionEnded,
  LogState,
  LogTabMessage,
  LogUnauthorizedRetry,
  LogWaiting,
  LogWarning,
  RefreshedEvent,
  RefreshErrorEvent,
  RetryOptions,
  SessionEndedEvent,
  SessionEndedReason,
  SessionState,
  TokenManager,
  TokenManagerEvent,
  TokenManagerEventMap,
  TokenManagerEventOf,
  TokenManagerEventUnion,
  TokenManagerOn,
  TokenManagerOptions,
  TokenWardenError,
  TokenWardenOperation,
  WarningCode,
  WarningEvent,
} from './types.js';

/** The package version, e.g. `"0.1.0"`. */
export declare const VERSION: string;

/**
 * Loads and instantiates the WebAssembly module once; later calls share the same promise.
 * `createTokenManager` calls it for you; call it yourself only to start the download early.
 * Rejects with a `TokenWardenError`: `unsupported_environment` outside a browser (Node,
 * server-side rendering, a worker; importing the package there is fine), `load_failed`
 * when the `.wasm` cannot be downloaded, is not a WebAssembly module (an HTML page from a
 * single-page-app fallback, a 404), or is blocked by a Content-Security-Policy without
 * `'wasm-unsafe-eval'`; the message says what came back and how to fix it. A failed load
 * may be retried.
 */
export declare function loadTokenWarden(): Promise<void>;

/**
 * Loads the module (once), then creates a `TokenManager`. Rejects with a
 * `TokenWardenError`: `invalid_options` naming the bad field, or the loader's
 * `unsupported_environment` / `load_failed` (see `loadTokenWarden`).
 */
export declare function createTokenManager(options: TokenManagerOptions): Promise<TokenManager>;

/** True when `value` is an error thrown or rejected by token-warden; narrows its type. */
export declare function isTokenWardenError(value: unknown): value is TokenWardenError;
