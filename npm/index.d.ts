import type { TokenManager, TokenManagerOptions, TokenWardenError } from './types.js';

export type {
  ErrorCode,
  LogEntry,
  RetryOptions,
  SessionState,
  TokenManager,
  TokenManagerEvent,
  TokenManagerEventMap,
  TokenManagerEventUnion,
  TokenManagerOptions,
  TokenWardenError,
  TokenWardenOperation,
  WarningCode,
} from './types.js';

/** The package version, e.g. `"0.1.0"`. */
export declare const VERSION: string;

/**
 * Loads and instantiates the WebAssembly module once; later calls share the same promise.
 * `createTokenManager` calls it for you; call it yourself only to start the download early.
 */
export declare function loadTokenWarden(): Promise<void>;

/**
 * Loads the module (once), then creates a `TokenManager`. Rejects with a
 * `TokenWardenError` (`invalid_options`) naming the bad field, or with the loader's
 * error if the `.wasm` file cannot be fetched.
 */
export declare function createTokenManager(options: TokenManagerOptions): Promise<TokenManager>;

/** True when `value` is an error thrown or rejected by token-warden; narrows its type. */
export declare function isTokenWardenError(value: unknown): value is TokenWardenError;
