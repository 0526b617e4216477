// token-warden/react: a provider that owns one TokenManager and hooks that read it.
// An optional subpath: the core entry (`token-warden`) never imports React, and this file
// is plain JavaScript (no JSX), so it needs no build step in the app's bundler.
import { createContext, createElement, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import { createTokenManager } from './index.js';

/** What `useSession()` returns before the manager exists (also on the server). */
const LOADING = Object.freeze({
  state: 'initial',
  isLoading: true,
  isAuthenticated: false,
  claims: null,
  expiresAt: null,
  error: null,
});

/** What `useSession()` returns once the provider disposed its manager. */
const DISPOSED = Object.freeze({ ...LOADING, state: 'disposed', isLoading: false });

const Store = createContext(/** @type {any} */ (null));

/**
 * The external store behind one provider: at most one live manager at a time, created on
 * the first acquire, disposed one macrotask after the last release. React's StrictMode
 * runs effects mount, unmount, mount in one go; the deferred disposal lets the second
 * mount keep the manager the first one created, so one manager is created and started.
 */
function createStore(options) {
  const listeners = new Set();
  /** @type {import('./react.js').Session} */
  let snapshot = LOADING;
  let holders = 0;
  let disposeTimer;
  // The current manager's life: null when there is none (not yet created, or disposed).
  /** @type {null | { manager: import('./index.js').TokenManager | null, settled: boolean, error: Error | null, gaveUp: { code: string } | null, off: (() => void)[], dead: boolean }} */
  let run = null;

  const notify = () => {
    for (const listener of [...listeners]) listener();
  };

  /** Rebuilds the snapshot from the manager; a new object only when something changed. */
  const update = (current, { fresh = false } = {}) => {
    if (current !== run) return;
    const tm = current.manager;
    const state = tm ? tm.state : 'initial';
    const expiresAt = tm ? tm.expiresAt : null;
    const isLoading = !current.settled;
    if (state === 'signed-in') current.error = null;
    if (
      !fresh &&
      state === snapshot.state &&
      expiresAt === snapshot.expiresAt &&
      isLoading === snapshot.isLoading &&
      current.error === snapshot.error
    ) {
      return;
    }
    snapshot = Object.freeze({
      state,
      isLoading,
      isAuthenticated: state === 'signed-in',
      claims: tm && state === 'signed-in' ? tm.claims() : null,
      expiresAt,
      error: current.error,
    });
    notify();
  };

  const create = () => {
    const current = { manager: null, settled: false, error: null, gaveUp: null, off: [], dead: false };
    run = current;
    if (snapshot !== LOADING) {
      snapshot = LOADING; // a provider shown again after its manager was disposed
      notify();
    }
    createTokenManager(options).then(
      (tm) => {
        if (current.dead) {
          // Released for good while the module loaded: never keep it.
          tm.dispose();
          return;
        }
        current.manager = tm;
        const changed = () => update(current);
        current.off = [
          tm.on('state', changed),
          tm.on('refreshed', () => {
            current.gaveUp = null;
            update(current, { fresh: true });
          }),
          tm.on('refresh-error', (failure) => {
            if (failure.retryAt === null) current.gaveUp = failure;
            changed();
          }),
          tm.on('session-ended', ({ reason }) => {
            current.error =
              reason === 'invalid_grant' || reason === 'expired' ? sessionEnded(reason, current.gaveUp) : null;
            current.gaveUp = null;
            update(current, { fresh: true });
          }),
        ];
        update(current, { fresh: true });
        tm.start().then(
          () => {
            current.settled = true;
            update(current);
          },
          (error) => {
            current.settled = true;
            current.error = asError(error);
            update(current);
          },
        );
      },
      (error) => {
        current.settled = true;
        current.error = asError(error);
        update(current);
      },
    );
  };

  const dispose = () => {
    const current = run;
    if (!current) return;
    run = null;
    current.dead = true;
    for (const off of current.off) off();
    current.manager?.dispose();
    snapshot = DISPOSED;
    notify();
  };

  return {
    /** The provider's effect: keeps (or re-creates) the manager. */
    acquire() {
      holders += 1;
      clearTimeout(disposeTimer);
      disposeTimer = undefined;
      if (!run) create();
    },
    /** The effect's cleanup: disposes the manager unless it is acquired again first. */
    release() {
      holders -= 1;
      if (holders > 0) return;
      clearTimeout(disposeTimer);
      disposeTimer = setTimeout(() => {
        disposeTimer = undefined;
        if (holders === 0) dispose();
      }, 0);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => snapshot,
    getManager: () => run?.manager ?? null,
  };
}

/** The error a session that ended by itself leaves in `useSession().error`. */
function sessionEnded(reason, gaveUp) {
  const code = gaveUp?.code ?? (reason === 'expired' ? 'token_expired' : 'invalid_grant');
  const error = new Error(
    reason === 'expired'
      ? `the session ended: the token expired and the refresh cycle gave up (${code})`
      : `the session ended: the refresh token was rejected (${code})`,
  );
  error.name = 'SessionEndedError';
  Object.assign(error, { reason, code });
  return error;
}

const asError = (value) => (value instanceof Error ? value : new Error(String(value)));

const getLoading = () => LOADING;
const getNull = () => null;

/**
 * Creates one TokenManager from `options` when it mounts, starts it once, and disposes it
 * when it unmounts. `options` are read on the first render only: to change them, remount
 * the provider with a new `key`.
 */
export function TokenWardenProvider({ options, children }) {
  const [store] = useState(() => createStore(options));
  useEffect(() => {
    store.acquire();
    return () => store.release();
  }, [store]);
  return createElement(Store.Provider, { value: store }, children);
}

function useStore(hook) {
  const store = useContext(Store);
  if (!store) throw new Error(`token-warden/react: ${hook}() must be called inside <TokenWardenProvider>`);
  return store;
}

/** The session as a snapshot that changes only when something in it changes. */
export function useSession() {
  const store = useStore('useSession');
  return useSyncExternalStore(store.subscribe, store.getSnapshot, getLoading);
}

/** The provider's TokenManager, or null until it is created (the module loading). */
export function useTokenManager() {
  const store = useStore('useTokenManager');
  return useSyncExternalStore(store.subscribe, store.getManager, getNull);
}
