// A React app written the way an app developer would: one provider, two hooks, typed.
import { useEffect, useState, type FormEvent } from 'react';
import { isTokenWardenError, VERSION, type TokenManager, type TokenManagerOptions } from 'token-warden';
import { TokenWardenProvider, useSession, useTokenManager, type SessionEndedError } from 'token-warden/react';

/** What the reference server's access tokens carry (decoded, unverified: display only). */
interface Claims {
  sub: string;
  scope?: string;
}

// Read once, when the provider mounts: a constant makes that plain.
const options: TokenManagerOptions = { refreshUrl: '/auth/refresh', logoutUrl: '/auth/logout' };

// For the end-to-end test: every manager the app was handed, how many times StrictMode
// ran a mount effect, and the expiry times the app rendered.
const probe = { managers: new Set<TokenManager>(), mountEffects: 0, expiries: [] as number[] };
Object.assign(window, { app: probe });

export function App() {
  const [mounted, setMounted] = useState(true);
  useEffect(() => {
    probe.mountEffects += 1; // 2 under StrictMode's development build, 1 in production
  }, []);
  return (
    <>
      <h1>token-warden + React</h1>
      <p>
        version <output id="version">{VERSION}</output>{' '}
        <button id="toggle" onClick={() => setMounted((m) => !m)}>
          {mounted ? 'Unmount' : 'Mount'} the provider
        </button>
      </p>
      {mounted ? (
        <TokenWardenProvider options={options}>
          <Session />
        </TokenWardenProvider>
      ) : (
        <p id="unmounted">The provider is unmounted: its manager is disposed.</p>
      )}
    </>
  );
}

function Session() {
  const { state, isLoading, isAuthenticated, claims, expiresAt, error } = useSession<Claims>();
  const tm = useTokenManager();
  const [out, setOut] = useState('');
  useEffect(() => {
    if (tm) probe.managers.add(tm);
  }, [tm]);
  useEffect(() => {
    if (expiresAt !== null) probe.expiries.push(expiresAt);
  }, [expiresAt]);

  async function me() {
    if (!tm) return;
    const response = await tm.fetch('/api/me');
    setOut(`${response.status} ${JSON.stringify(await response.json())}`);
  }

  return (
    <section>
      <p>
        state: <output id="state">{state}</output>
        {isLoading && <output id="loading"> (loading…)</output>}
        {isAuthenticated && (
          <>
            {' '}as <output id="user">{claims?.sub}</output>, token until{' '}
            <output id="expires">{expiresAt === null ? '' : new Date(expiresAt).toISOString()}</output>
          </>
        )}
      </p>
      {error && <p id="error">{describe(error)}</p>}
      {tm && !isLoading && !isAuthenticated && <SignIn tm={tm} onError={setOut} />}
      {tm && isAuthenticated && (
        <p>
          <button id="me" onClick={() => void me()}>GET /api/me</button>{' '}
          <button id="signout" onClick={() => void tm.logout().then(() => setOut(''))}>Sign out</button>
        </p>
      )}
      <pre id="out">{out}</pre>
    </section>
  );
}

function SignIn({ tm, onError }: { tm: TokenManager; onError: (text: string) => void }) {
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      await tm.signIn('/auth/login', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: form.get('username'), password: form.get('password') }),
      });
      onError('');
    } catch (e) {
      onError(isTokenWardenError(e) ? `sign-in failed: ${e.code}` : String(e));
    }
  }
  return (
    <form id="signin" onSubmit={(event) => void submit(event)}>
      <input name="username" defaultValue="alice" /> <input name="password" type="password" defaultValue="wonderland-42" />{' '}
      <button>Sign in</button>
    </form>
  );
}

function describe(error: Error): string {
  if (error.name === 'SessionEndedError') {
    const ended = error as SessionEndedError;
    return `session ended: ${ended.reason} (${ended.code})`;
  }
  return isTokenWardenError(error) ? `${error.code}: ${error.message}` : error.message;
}
