// Type-checks the React binding (`token-warden/react`, `react.d.ts`) under `tsc --strict`
// with @types/react: every export used, and the `@ts-expect-error` lines prove the types
// reject what they should.
import { StrictMode, type ReactElement } from 'react';
import { isTokenWardenError, type ErrorCode, type SessionState, type TokenManager } from '../pkg/index.js';
import {
  TokenWardenProvider,
  useSession,
  useTokenManager,
  type Session,
  type SessionEndedError,
  type TokenWardenProviderProps,
} from '../pkg/react.js';

interface AppClaims {
  sub: string;
  scope?: string;
}

function Profile(): ReactElement {
  const session: Session<AppClaims> = useSession<AppClaims>();
  const { state, isLoading, isAuthenticated, claims, expiresAt, error } = session;
  const s: SessionState = state;
  const loading: boolean = isLoading;
  const signedIn: boolean = isAuthenticated;
  const sub: string | undefined = claims?.sub;
  const until: number | null = expiresAt;
  // @ts-expect-error claims may be null
  const bare: string = claims.sub;
  // @ts-expect-error the snapshot is read-only
  session.isLoading = false;
  let reason = '';
  if (error?.name === 'SessionEndedError') {
    const ended = error as SessionEndedError;
    const code: ErrorCode = ended.code;
    reason = `${ended.reason} ${code}`;
  } else if (isTokenWardenError(error)) {
    reason = error.code;
  } else if (error) {
    reason = error.message;
  }
  return (
    <p>
      {s} {String(loading)} {String(signedIn)} {sub} {until} {bare} {reason}
    </p>
  );
}

function Actions(): ReactElement | null {
  const tm: TokenManager | null = useTokenManager();
  // @ts-expect-error null while the manager is being created
  void useTokenManager().fetch('/api/me');
  if (!tm) return null;
  const untyped = useSession(); // claims default to a plain record
  const claim: unknown = untyped.claims?.['sub'];
  return (
    <button onClick={() => void tm.signIn('/auth/login', { body: '{}' })} title={String(claim)}>
      Sign in
    </button>
  );
}

const props: TokenWardenProviderProps = { options: { refreshUrl: '/auth/refresh' } };

export function App(): ReactElement {
  return (
    <StrictMode>
      <TokenWardenProvider options={{ refreshUrl: '/auth/refresh', logoutUrl: '/auth/logout' }}>
        <Profile />
        <Actions />
      </TokenWardenProvider>
      <TokenWardenProvider key="other" {...props} />
      {/* @ts-expect-error options are required */}
      <TokenWardenProvider>
        <Profile />
      </TokenWardenProvider>
      {/* @ts-expect-error unknown option names are refused */}
      <TokenWardenProvider options={{ refreshUrl: '/auth/refresh', refreshURL: '/x' }} />
    </StrictMode>
  );
}

// @ts-expect-error claims must be an object type
useSession<string>();
