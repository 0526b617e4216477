// The demo SPA: plain ES modules importing the built package from /pkg.
import { createTokenManager, isTokenWardenError, VERSION } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);
// The timeline grows with the session, from 20 s up to the last two minutes.
const MIN_WINDOW_MS = 20_000;
const MAX_WINDOW_MS = 120_000;

const timeline = { tokens: [], refreshes: [], requests: [], started: Date.now() };
let refreshCount = 0;

function log(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $('events').prepend(li);
}

function show(value) {
  $('output').textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function describe(e) {
  return isTokenWardenError(e) ? `${e.code}: ${e.message}` : String(e);
}

$('version').textContent = VERSION;

// `?options={"refreshLeadSeconds":1}` tunes the demo's timing (the e2e tests use it for
// two-second tokens). Only the timing knobs below are read from the URL: a link must not
// choose where the token or the cookie goes (`refreshUrl`, `logoutUrl`,
// `allowedOrigins`), expose the token (`exposeAccessToken`) or drop the CSRF header
// (`csrfHeader`). Every other field is ignored, with a console warning.
const URL_KNOBS = ['refreshLeadSeconds', 'requestTimeoutMs', 'retry', 'maxRefreshesPerMinute'];
function urlKnobs() {
  let asked;
  try {
    asked = JSON.parse(new URLSearchParams(location.search).get('options') ?? '{}');
  } catch {
    console.warn('demo: ?options is not JSON; ignored');
    return {};
  }
  if (asked === null || typeof asked !== 'object' || Array.isArray(asked)) return {};
  const knobs = {};
  for (const [name, value] of Object.entries(asked)) {
    if (URL_KNOBS.includes(name)) knobs[name] = value;
    else console.warn(`demo: ?options field ${JSON.stringify(name)} is not a timing knob; ignored`);
  }
  return knobs;
}
const tm = await createTokenManager({ ...urlKnobs(), refreshUrl: '/auth/refresh', logoutUrl: '/auth/logout' });
// For the browser console and the end-to-end tests. An injected script could call
// tm.fetch too: token-warden keeps the token unreadable, it cannot stop a running XSS.
window.demo = { tm, timeline };

tm.on('state', (state) => {
  log(`state → ${state}`);
  render();
});
tm.on('refreshed', ({ expiresAt }) => {
  refreshCount += 1;
  const now = Date.now();
  timeline.refreshes.push(now);
  timeline.tokens.push({ start: now, end: expiresAt });
  log(`refreshed, token valid until ${new Date(expiresAt).toLocaleTimeString()}`);
  render();
});
tm.on('refresh-error', ({ code, attempt, retryAt }) =>
  log(`refresh failed (${code}, attempt ${attempt})${retryAt ? `, retry at ${new Date(retryAt).toLocaleTimeString()}` : ', giving up'}`),
);
tm.on('session-ended', ({ reason }) => log(`session ended: ${reason}`));
tm.on('warning', ({ code, message }) => log(`warning ${code}: ${message}`));

async function call(path) {
  const t = Date.now();
  try {
    const response = await tm.fetch(path);
    timeline.requests.push({ t, ok: response.ok, status: response.status });
    const body = response.headers.get('content-type')?.includes('json') ? await response.json() : await response.text();
    show({ status: response.status, body });
    return response.status;
  } catch (e) {
    timeline.requests.push({ t, ok: false, status: 0 });
    show(describe(e));
    return 0;
  } finally {
    render();
  }
}
window.demo.call = call;

$('signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await tm.signIn('/auth/login', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: form.get('username'), password: form.get('password') }),
    });
    show('signed in');
  } catch (e) {
    show(describe(e));
  }
});
$('call-me').addEventListener('click', () => call('/api/me'));
$('call-data').addEventListener('click', () => call('/api/data'));
$('call-admin').addEventListener('click', () => call('/api/admin'));
$('refresh').addEventListener('click', () => tm.refresh().then(() => show('refreshed'), (e) => show(describe(e))));
$('signout').addEventListener('click', () => tm.logout().then(() => show('signed out')));

function render() {
  const state = tm.state;
  $('state').textContent = state;
  const signedIn = state === 'signed-in';
  $('signin-card').hidden = signedIn;
  for (const id of ['call-me', 'call-data', 'call-admin', 'refresh', 'signout']) $(id).disabled = !signedIn;
  $('expires').textContent = tm.expiresAt ? `${Math.max(0, Math.round((tm.expiresAt - Date.now()) / 1000))} s` : '–';
  const claims = tm.claims();
  $('user').textContent = claims ? `${claims.sub} (scope: ${claims.scope ?? '–'})` : '–';
  $('refreshes').textContent = String(refreshCount);
  drawTimeline();
}

function drawTimeline() {
  const svg = $('timeline');
  const now = Date.now();
  const first = timeline.tokens[0]?.start ?? now;
  const span = Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, (now - first) * 1.4));
  const from = now - span * 0.8;
  const to = from + span;
  const step = span > 60_000 ? 10_000 : span > 30_000 ? 5_000 : 2_000;
  const x = (t) => Math.round(((t - from) / (to - from)) * 880 + 10);
  const parts = [];
  for (let s = Math.ceil(from / step) * step; s < to; s += step) {
    parts.push(`<line x1="${x(s)}" x2="${x(s)}" y1="10" y2="140" stroke="#eceff2"/>`);
    parts.push(`<text x="${x(s) + 2}" y="146" font-size="9" fill="#8a939e">${Math.round((s - now) / 1000)}s</text>`);
  }
  timeline.tokens.forEach((tok, i) => {
    const y = 20 + (i % 3) * 18;
    parts.push(`<rect x="${x(tok.start)}" y="${y}" width="${Math.max(2, x(tok.end) - x(tok.start))}" height="12" rx="3" fill="#9cc3f5"/>`);
  });
  for (const t of timeline.refreshes) parts.push(`<line x1="${x(t)}" x2="${x(t)}" y1="14" y2="84" stroke="#2f6bd0" stroke-width="2"/>`);
  if (tm.expiresAt) parts.push(`<text x="${x(tm.expiresAt) - 40}" y="16" font-size="9" fill="#2f6bd0">expiry</text>`);
  for (const r of timeline.requests) {
    parts.push(`<circle cx="${x(r.t)}" cy="${r.ok ? 104 : 122}" r="4" fill="${r.ok ? '#2e9d5b' : '#d23f3f'}"><title>${r.status}</title></circle>`);
  }
  parts.push(`<line x1="${x(now)}" x2="${x(now)}" y1="6" y2="140" stroke="#e09b2d" stroke-width="2"/>`);
  svg.innerHTML = parts.join('');
}

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/;
async function scanStorage() {
  const rows = [];
  const entries = (s) => Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i))}`);
  rows.push(['localStorage', entries(localStorage)]);
  rows.push(['sessionStorage', entries(sessionStorage)]);
  rows.push(['document.cookie', document.cookie ? document.cookie.split('; ') : []]);
  rows.push(['IndexedDB', indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : []]);
  rows.push(['Cache Storage', globalThis.caches ? await caches.keys() : []]);
  rows.push(['DOM', [document.body.innerText.length + ' characters of text']]);
  const tbody = $('storage').querySelector('tbody');
  tbody.innerHTML = '';
  for (const [place, items] of rows) {
    const text = place === 'DOM' ? document.body.innerHTML : items.join(' ');
    const leak = JWT_LIKE.test(text);
    const tr = document.createElement('tr');
    const what = items.length ? items.join(', ').slice(0, 80) : '(empty)';
    tr.innerHTML = `<td>${place}</td><td></td><td class="${leak ? 'leak' : 'clean'}">${leak ? 'YES' : 'no'}</td>`;
    tr.children[1].textContent = place === 'document.cookie' && !items.length ? '(empty: the refresh cookie is HttpOnly)' : what;
    tbody.append(tr);
  }
}

setInterval(render, 500);
setInterval(scanStorage, 1000);
scanStorage();
render();
$('status').textContent = 'loaded';
try {
  const state = await tm.start();
  log(`start() → ${state}`);
} catch (e) {
  log(`start() failed: ${describe(e)}`);
}
render();
