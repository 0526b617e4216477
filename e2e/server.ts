// Starts one reference server per test, in-memory database, on free ports.
// Origins without TLS or DNS (all secure contexts in Chromium):
//   app       http://localhost:A        the demo SPA and its auth endpoints
//   api       http://localhost:B        a second listener of the same server: another origin, same site
//   attacker  http://127.0.0.1:A        another site
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { test as base, expect, type Page } from '@playwright/test';

export interface RunningServer {
  app: string;
  api: string;
  attacker: string;
  /** The first listener as the server printed it (`http://127.0.0.1:A`). */
  origin: string;
  ports: number[];
  args: string[];
  process: ChildProcess;
  stats(): Promise<Stats>;
  fault(fault: Record<string, unknown>): Promise<void>;
  resetStats(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export interface Stats {
  logins: number;
  refreshes_ok: number;
  refreshes_failed: number;
  reuse_detections: number;
  refresh_log: { start_ms: number; end_ms: number; outcome: string; family?: string }[];
  [key: string]: unknown;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function spawnServer(args: string[]): Promise<{ child: ChildProcess; origin: string }> {
  const bin = process.env.TW_SERVER_BIN;
  if (!bin) throw new Error('TW_SERVER_BIN is not set: run the suite through `cargo xtask test`');
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 15_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^/\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, origin: m[1] });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
}

/** Starts a server; `extra` adds flags (e.g. `['--access-ttl', '2']`). */
export async function startServer(extra: string[] = [], dbPath = ':memory:'): Promise<RunningServer> {
  const [a, b] = [await freePort(), await freePort()];
  const app = `http://localhost:${a}`;
  const args = [
    '--addr', `127.0.0.1:${a}`,
    '--addr', `127.0.0.1:${b}`,
    '--cors-origin', app,
    '--db', dbPath,
    '--fault-mode',
    ...extra,
  ];
  let { child, origin } = await spawnServer(args);
  const server: RunningServer = {
    app,
    api: `http://localhost:${b}`,
    attacker: `http://127.0.0.1:${a}`,
    origin,
    ports: [a, b],
    args,
    process: child,
    async stats() {
      const r = await fetch(`${origin}/test/stats`);
      return (await r.json()) as Stats;
    },
    async fault(fault) {
      const r = await fetch(`${origin}/test/faults`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'e2e' },
        body: JSON.stringify(fault),
      });
      expect(r.ok, `fault ${JSON.stringify(fault)}: ${r.status}`).toBe(true);
    },
    async resetStats() {
      const r = await fetch(`${origin}/test/reset-stats`, { method: 'POST' });
      expect(r.ok).toBe(true);
    },
    async stop() {
      if (server.process.exitCode !== null) return;
      const exited = new Promise((r) => server.process.once('exit', r));
      server.process.kill('SIGTERM');
      await exited;
    },
    async restart() {
      await server.stop();
      ({ child, origin } = await spawnServer(args));
      server.process = child;
    },
  };
  return server;
}

/** Opens the demo at the app origin and waits until the wasm is loaded and start() ran. */
export async function openDemo(page: Page, server: RunningServer): Promise<void> {
  await page.goto(server.app + '/');
  await expect(page.locator('#status')).toHaveText('loaded');
  await page.waitForFunction(() => {
    const s = (window as any).demo?.tm?.state;
    return s && s !== 'initial' && s !== 'restoring';
  });
}

/** Signs in through the demo's form and waits for `signed-in`. */
export async function signIn(page: Page, user = 'alice', password = 'wonderland-42'): Promise<void> {
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await page.click('#signin button[type=submit]');
  await page.waitForFunction(() => (window as any).demo.tm.state === 'signed-in');
}

export const test = base.extend<{ server: RunningServer; serverArgs: string[] }>({
  serverArgs: [[], { option: true }],
  server: async ({ serverArgs }, use) => {
    const server = await startServer(serverArgs);
    await use(server);
    await server.stop();
  },
});
export { expect };
