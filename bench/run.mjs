// cargo xtask bench [--quick]: token-warden measured against baselines in one run, in
// headless Chromium against the reference server on 127.0.0.1. Ratios, not absolute
// times, are the figures to read: both sides are measured together, interleaved.
//
//   node bench/run.mjs --server BIN --npm DIR [--quick] [--out bench/RESULTS.md]
//                      [--floor DIR] [--crates target/bench/crates.json]
//
// --floor and --crates come from `cargo xtask bench` (the size floor's package and the
// wasm's bytes by crate from twiggy); the quick run needs neither. The targets table at
// the top of RESULTS.md is computed from this run's figures (bench/report.mjs).
import { spawn } from 'node:child_process';
import { execSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { cratesSection, fmt, kb, targetsTable } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const QUICK = args.includes('--quick');
const SERVER = opt('--server');
const NPM_DIR = opt('--npm');
const OUT = opt('--out');
const FLOOR_DIR = opt('--floor');
const CRATES = opt('--crates');
/** The floor's glue and wasm have the package's output name (xtask/src/bench.rs). */
const FLOOR_NAME = 'token_warden';
const results = { checks: [], lines: [] };

function check(name, ok, detail) {
  results.checks.push({ name, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}
const median = (xs) => quantile(xs, 0.5);
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer(extra) {
  const port = await freePort();
  const child = spawn(
    SERVER,
    // The measurement pages are inline module scripts: no CSP (the demo's is not what is measured).
    ['--addr', `127.0.0.1:${port}`, '--db', ':memory:', '--fault-mode', '--content-security-policy', '', '--www', join(here, 'pages'), '--pkg', NPM_DIR, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } },
  );
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('listening on')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    setTimeout(() => reject(new Error('server did not start')), 15_000);
  });
  const app = `http://localhost:${port}`;
  return {
    app,
    stats: async () => (await fetch(`http://127.0.0.1:${port}/test/stats`)).json(),
    reset: async () => fetch(`http://127.0.0.1:${port}/test/reset-stats`, { method: 'POST' }),
    stop: () => child.kill(),
  };
}

async function openBench(context, server) {
  const page = await context.newPage();
  await page.goto(`${server.app}/bench.html`);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
  return page;
}

// ---- 1. size -------------------------------------------------------------------------
async function sizeBench() {
  // Loaded here: esbuild and the peers are installed only for the full run.
  const { ours, floor: floorSize, peers } = await import('./size.mjs');
  const me = await ours(NPM_DIR);
  const floor = FLOOR_DIR ? await floorSize(FLOOR_DIR, FLOOR_NAME) : undefined;
  const others = await peers(here);
  const rows = [
    '| library | version | raw | gzip -9 | brotli | ours / theirs (gzip) |',
    '|---|---|---:|---:|---:|---:|',
    `| **token-warden** (wasm + JS) | ${me.version} | ${kb(me.total.raw)} | ${kb(me.total.gzip)} | ${kb(me.total.brotli)} | 1.00 |`,
    `| ↳ wasm | | ${kb(me.wasm.raw)} | ${kb(me.wasm.gzip)} | ${kb(me.wasm.brotli)} | |`,
    `| ↳ JS (entry + glue, esbuild --minify) | | ${kb(me.js.raw)} | ${kb(me.js.gzip)} | ${kb(me.js.brotli)} | |`,
  ];
  if (floor) {
    rows.push(
      `| floor: an empty manager linking the same crates (\`bench/floor\`, wasm + JS) | | ${kb(floor.total.raw)} | ${kb(floor.total.gzip)} | ${kb(floor.total.brotli)} | ${fmt(me.total.gzip / floor.total.gzip)} |`,
      `| ↳ wasm | | ${kb(floor.wasm.raw)} | ${kb(floor.wasm.gzip)} | ${kb(floor.wasm.brotli)} | |`,
      `| ↳ JS (wasm-bindgen glue, esbuild --minify) | | ${kb(floor.js.raw)} | ${kb(floor.js.gzip)} | ${kb(floor.js.brotli)} | |`,
    );
  }
  for (const p of others) {
    if (p.error) rows.push(`| ${p.name} (\`${p.class}\`) | ${p.version} | bundle failed: ${p.error.replace(/\|/g, '/')} | | | |`);
    else rows.push(`| ${p.name} (\`${p.class}\`) | ${p.version} | ${kb(p.total.raw)} | ${kb(p.total.gzip)} | ${kb(p.total.brotli)} | ${fmt(me.total.gzip / p.total.gzip)} |`);
  }
  results.size = { me, floor, others };
  return rows.join('\n');
}

// ---- 2. request overhead -------------------------------------------------------------
async function overheadBench(context, server) {
  const page = await openBench(context, server);
  const sequential = QUICK ? 60 : 2000;
  const rounds = QUICK ? 2 : 30;
  const r = await page.evaluate(
    async ({ sequential, rounds }) => {
      const { createTokenManager, plainBearerFetch } = window.bench;
      const tm = await createTokenManager({ refreshUrl: '/auth/refresh', maxRefreshesPerMinute: 600 });
      await tm.signIn('/auth/login', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'wonderland-42' }),
      });
      // The baselines' token, from a login whose cookie the browser does not keep: a
      // second sign-in with the cookie would replace the manager's session (a user
      // switch, whose first request token-warden rightly does not retry as bob).
      const login = await fetch('/auth/login', {
        method: 'POST',
        credentials: 'omit',
        headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'bench' },
        body: JSON.stringify({ username: 'bob', password: 'builder-42' }),
      });
      const token = (await login.json()).access_token;
      const native = (url) => fetch(url, { headers: { Authorization: `Bearer ${token}` } });
      const plain = plainBearerFetch(token, [location.origin]);
      const ours = (url) => tm.fetch(url);
      const fns = { native, plain, ours };
      const names = Object.keys(fns);
      const seq = { native: [], plain: [], ours: [] };
      const par = { native: [], plain: [], ours: [] };
      let failures = 0;
      const once = async (name) => {
        const t0 = performance.now();
        const response = await fns[name]('/api/data');
        await response.arrayBuffer();
        if (response.status !== 200) failures += 1;
        return performance.now() - t0;
      };
      for (let i = 0; i < 50; i++) for (const n of names) await once(n); // warm-up
      for (let i = 0; i < sequential; i++) {
        // Rotate the order so no method always goes first.
        for (let k = 0; k < 3; k++) {
          const n = names[(i + k) % 3];
          seq[n].push(await once(n));
        }
      }
      for (let i = 0; i < rounds; i++) {
        for (let k = 0; k < 3; k++) {
          const n = names[(i + k) % 3];
          const times = await Promise.all(Array.from({ length: 200 }, () => once(n)));
          par[n].push(...times);
        }
      }
      return { seq, par, failures };
    },
    { sequential, rounds },
  );
  await page.close();
  const stat = (xs) => ({ p50: median(xs), p99: quantile(xs, 0.99) });
  const s = Object.fromEntries(Object.entries(r.seq).map(([k, v]) => [k, stat(v)]));
  const p = Object.fromEntries(Object.entries(r.par).map(([k, v]) => [k, stat(v)]));
  check('overhead: every request succeeded', r.failures === 0, `${r.failures} failed`);
  results.overhead = { s, p };
  const row = (label, m) =>
    `| ${label} | ${fmt(m.native.p50, 3)} / ${fmt(m.native.p99, 3)} | ${fmt(m.plain.p50, 3)} / ${fmt(m.plain.p99, 3)} | ${fmt(m.ours.p50, 3)} / ${fmt(m.ours.p99, 3)} | ${fmt(m.ours.p50 / m.native.p50)} / ${fmt(m.ours.p99 / m.native.p99)} | ${fmt(m.ours.p50 / m.plain.p50)} / ${fmt(m.ours.p99 / m.plain.p99)} |`;
  return [
    `| mode | native fetch p50 / p99 (ms) | plain JS wrapper | tm.fetch | tm / native (p50 / p99) | tm / plain (p50 / p99) |`,
    '|---|---:|---:|---:|---:|---:|',
    row(`${sequential} sequential rounds`, s),
    row(`${rounds} rounds of 200 concurrent`, p),
  ].join('\n');
}

// ---- 3. hot path ---------------------------------------------------------------------
async function hotPathBench(context, server) {
  const page = await openBench(context, server);
  const n = QUICK ? 2_000 : 50_000;
  const r = await page.evaluate(async (n) => {
    const { createTokenManager, plainBearerFetch } = window.bench;
    // A stubbed transport: no network, so only deciding and attaching the header counts.
    const stub = () => Promise.resolve(new Response(null, { status: 204 }));
    window.fetchOverride = stub;
    const tm = await createTokenManager({ refreshUrl: '/auth/refresh', allowedOrigins: ['https://api.example.com'] });
    tm.acceptTokenResponse({ access_token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2ln', token_type: 'Bearer', expires_in: 3600 });
    const plain = plainBearerFetch('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2ln', ['https://api.example.com'], stub);
    const url = 'https://api.example.com/v1/items';
    const time = async (fn, count) => {
      const t0 = performance.now();
      for (let i = 0; i < count; i++) await fn(url);
      return ((performance.now() - t0) * 1e6) / count;
    };
    await time((u) => tm.fetch(u), 2000);
    await time(plain, 2000);
    const ours = [];
    const theirs = [];
    for (let b = 0; b < 10; b++) {
      ours.push(await time((u) => tm.fetch(u), n / 10));
      theirs.push(await time(plain, n / 10));
    }
    return { ours, theirs };
  }, n);
  await page.close();
  const o = median(r.ours);
  const t = median(r.theirs);
  results.hot = { o, t };
  return `| per call (median of 10 batches of ${n / 10}) | plain JS wrapper | tm.fetch | ratio |\n|---|---:|---:|---:|\n| ns | ${fmt(t, 0)} | ${fmt(o, 0)} | ${fmt(o / t)} |`;
}

// ---- 4. stampede ---------------------------------------------------------------------
async function stampedeBench(context) {
  // The client is told its first token dies in 2 s (so the stampede comes soon); the
  // server honours it for 60 s, and the refreshed token lives 60 s on both sides, so
  // while the 1,000 requests drain through the browser's six connections nothing else
  // is due, however slow the machine.
  const server = await startServer(['--access-ttl', '60']);
  try {
    const page = await openBench(context, server);
    await page.evaluate(async () => {
      const tm = await window.bench.createTokenManager({ refreshUrl: '/auth/refresh', refreshLeadSeconds: 0 });
      const login = await fetch('/auth/login', {
        method: 'POST',
        credentials: 'include',
        headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'token-warden' },
        body: JSON.stringify({ username: 'alice', password: 'wonderland-42' }),
      });
      tm.acceptTokenResponse({ ...(await login.json()), expires_in: 2 });
      window.tm = tm;
    });
    await server.reset();
    const r = await page.evaluate(async () => {
      const tm = window.tm;
      await new Promise((res) => setTimeout(res, Math.max(0, tm.expiresAt - Date.now()) + 5));
      const t0 = performance.now();
      // A light same-origin endpoint: the bearer is attached, the answer is immediate.
      const statuses = await Promise.all(Array.from({ length: 1000 }, () => tm.fetch('/healthz').then((x) => x.status, () => 0)));
      return { ms: performance.now() - t0, failed: statuses.filter((s) => s !== 200).length };
    });
    const stats = await server.stats();
    const refreshes = stats.refresh_log.length;
    check('stampede: 1,000 concurrent tm.fetch at expiry send exactly 1 refresh', refreshes === 1, `${refreshes} refresh requests`);
    check('stampede: every call succeeded', r.failed === 0, `${r.failed} failed`);
    results.stampede = { ...r, refreshes };
    return `| concurrent calls at expiry | refresh requests | failed | all complete after |\n|---:|---:|---:|---:|\n| 1000 | ${refreshes} | ${r.failed} | ${fmt(r.ms, 0)} ms |`;
  } finally {
    server.stop();
  }
}

// ---- 5. start-up ---------------------------------------------------------------------
async function startupBench(context, server) {
  const loads = QUICK ? 3 : 20;
  const page = await context.newPage();
  await openBench(context, server).then(async (p) => {
    await p.evaluate(() =>
      fetch('/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'bench' },
        body: JSON.stringify({ username: 'alice', password: 'wonderland-42' }),
      }),
    );
    await p.close();
  });
  const ours = [];
  const base = [];
  for (let i = 0; i < loads; i++) {
    for (const [path, into] of [['/startup.html', ours], ['/startup-baseline.html', base]]) {
      await page.goto(server.app + path);
      const r = await page.waitForFunction(() => window.startup).then((h) => h.jsonValue());
      if (r.state !== 'signed-in') throw new Error(`${path}: ${r.state}`);
      into.push(r.ms);
    }
  }
  await page.close();
  results.startup = { ours: median(ours), base: median(base), loads };
  return `| median of ${loads} page loads | without token-warden (one refresh fetch) | with token-warden (import, compile, instantiate, start()) | ratio |\n|---|---:|---:|---:|\n| ms | ${fmt(median(base), 1)} | ${fmt(median(ours), 1)} | ${fmt(median(ours) / median(base))} |`;
}

// ---- 6. soak -------------------------------------------------------------------------
async function soakBench(browser) {
  const seconds = QUICK ? 5 : 300;
  const server = await startServer(['--access-ttl', '2']);
  const context = await browser.newContext();
  try {
    const tabs = [];
    for (let i = 0; i < 3; i++) tabs.push(await openBench(context, server));
    await tabs[0].evaluate(async () => {
      const tm = await window.bench.createTokenManager({ refreshUrl: '/auth/refresh', maxRefreshesPerMinute: 120 });
      await tm.signIn('/auth/login', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'wonderland-42' }),
      });
    });
    const perTab = await Promise.all(
      tabs.map((tab) =>
        tab.evaluate(async (seconds) => {
          const tm = await window.bench.createTokenManager({ refreshUrl: '/auth/refresh', maxRefreshesPerMinute: 120 });
          await tm.start();
          let refreshes = 0;
          tm.on('refreshed', () => (refreshes += 1));
          const mem = () => {
            globalThis.gc?.();
            return { wasm: window.bench.wasmMemory(), heap: performance.memory?.usedJSHeapSize ?? 0 };
          };
          let failed = 0;
          let calls = 0;
          const end = Date.now() + seconds * 1000;
          const warmUntil = Date.now() + Math.min(10_000, (seconds * 1000) / 5);
          let start = null;
          while (Date.now() < end) {
            const status = await tm.fetch('/api/data').then((r) => r.status, () => 0);
            calls += 1;
            if (status !== 200) failed += 1;
            if (!start && Date.now() > warmUntil) start = mem();
            await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
          }
          return { calls, failed, refreshes, start: start ?? mem(), end: mem() };
        }, seconds),
      ),
    );
    const stats = await server.stats();
    const failed = perTab.reduce((a, t) => a + t.failed, 0);
    check(`soak: 3 tabs, 2 s tokens, ${seconds} s: no failed request`, failed === 0, `${failed} failed of ${perTab.reduce((a, t) => a + t.calls, 0)}`);
    check('soak: no refresh-token reuse detected', stats.reuse_detections === 0, `${stats.reuse_detections}`);
    results.soak = { perTab, stats, seconds };
    // A 2 s token refreshes at half its lifetime: about one refresh per second per tab.
    const expected = seconds;
    const rows = perTab.map(
      (t, i) =>
        `| tab ${i + 1} | ${t.calls} | ${t.failed} | ${t.refreshes} (expected ≈ ${expected}) | ${kb(t.start.wasm)} → ${kb(t.end.wasm)} | ${kb(t.start.heap)} → ${kb(t.end.heap)} |`,
    );
    return [
      `| ${seconds} s, 2 s tokens | calls | failed | refreshes | wasm memory (after warm-up → end) | JS heap (after warm-up → end) |`,
      '|---|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n');
  } finally {
    await context.close();
    server.stop();
  }
}

// ---- run -----------------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: process.env.TW_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--enable-precise-memory-info', '--js-flags=--expose-gc'],
});
const sections = [];
try {
  if (!QUICK) {
    sections.push(['Size', await sizeBench()]);
    if (CRATES) sections.push(['Size by crate (twiggy)', cratesSection(JSON.parse(readFileSync(CRATES, 'utf8')))]);
  }
  const server = await startServer([]);
  const context = await browser.newContext();
  try {
    sections.push(['Request overhead (local endpoint, interleaved)', await overheadBench(context, server)]);
    sections.push(['Hot path (stubbed transport)', await hotPathBench(context, server)]);
    sections.push(['Stampede', await stampedeBench(context)]);
    sections.push(['Start-up', await startupBench(context, server)]);
  } finally {
    await context.close();
    server.stop();
  }
  sections.push(['Soak', await soakBench(browser)]);
} finally {
  await browser.close();
}

const targets = targetsTable(results, { quick: QUICK });
for (const [title, table] of sections) console.log(`\n## ${title}\n\n${table}`);
console.log(`\n## Targets${QUICK ? ' (quick run: timings printed, not judged)' : ''}\n\n${targets}`);
const failed = results.checks.filter((c) => !c.ok).length;
console.log(`\nbench: ${results.checks.length - failed} passed, ${failed} failed`);

if (OUT && !QUICK) {
  const commit = execSync('git rev-parse --short HEAD', { cwd: here }).toString().trim();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const chromiumVersion = browser.version();
  const header = `# Benchmark results

Written by \`cargo xtask bench\` on ${new Date().toISOString()} at commit \`${commit}\`.
Machine: ${cpus().length} × ${cpu}, ${fmt(totalmem() / 2 ** 30, 1)} GiB; Chromium ${chromiumVersion} headless;
reference server (release build) on 127.0.0.1. Absolute times drift between runs on shared
machines; the ratios, measured in the same run and interleaved, are the figures to compare.
`;
  const notes = readFileSync(join(here, 'NOTES.md'), 'utf8');
  const targetsIntro = `Issue 14's targets, judged on the figures of the tables below (this run); a figure is
judged as printed. Nothing in this table is written by hand.`;
  const body = sections.map(([t, table]) => `## ${t}\n\n${table}\n`).join('\n');
  const checks = results.checks.map((c) => `- ${c.ok ? '✅' : '❌'} ${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('\n');
  writeFileSync(OUT, `${header}\n## Targets\n\n${targetsIntro}\n\n${targets}\n\n${body}\n## Correctness checks\n\n${checks}\n\n${notes}`);
  console.log(`wrote ${OUT}`);
}
process.exit(failed === 0 ? 0 : 1);
