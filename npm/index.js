// token-warden: one import, no bundler plugin, no manual init.
// `new URL('./token_warden_bg.wasm', import.meta.url)` is the pattern Vite, webpack 5,
// Rollup, esbuild and plain browsers all understand: the bundler copies the wasm next
// to the bundle and rewrites the URL; without a bundler the browser resolves it.
import init from './token_warden.js';
import { TokenManager } from './manager.js';

export { isTokenWardenError } from './errors.js';

/** The package version. */
export const VERSION = '__TOKEN_WARDEN_VERSION__';

let loading;

/** Loads and instantiates the WebAssembly module once; later calls share the promise. */
export function loadTokenWarden() {
  loading ??= init({ module_or_path: new URL('./token_warden_bg.wasm', import.meta.url) }).then(
    () => undefined,
    (error) => {
      loading = undefined; // a failed download may be retried
      throw error;
    },
  );
  return loading;
}

/** Loads the module (once), then creates a TokenManager. */
export async function createTokenManager(options) {
  await loadTokenWarden();
  return new TokenManager(options);
}
