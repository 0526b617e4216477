// A small SPA written the way an app developer would: one import, no init, typed.
import { createTokenManager, isTokenWardenError, VERSION, type SessionState } from 'token-warden';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const out = $<HTMLPreElement>('out');

const tm = await createTokenManager({ refreshUrl: '/auth/refresh', logoutUrl: '/auth/logout' });
const refreshes: number[] = [];
tm.on('state', (state: SessionState) => ($('state').textContent = state));
tm.on('refreshed', ({ expiresAt }) => refreshes.push(expiresAt));
$('version').textContent = VERSION;

async function me(): Promise<number> {
  const response = await tm.fetch('/api/me');
  out.textContent = JSON.stringify(await response.json());
  return response.status;
}

$('signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  try {
    await tm.signIn('/auth/login', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: form.get('username'), password: form.get('password') }),
    });
  } catch (e) {
    out.textContent = isTokenWardenError(e) ? e.code : String(e);
  }
});
$('me').addEventListener('click', () => void me());
$('signout').addEventListener('click', () => void tm.logout());

// For the end-to-end test.
Object.assign(window, { app: { tm, me, refreshes } });
$('state').textContent = await tm.start();
