// What `createTokenManager` says when the WebAssembly module cannot load (issue 15): a
// `.wasm` answered as something else (an SPA fallback's index.html, a 404), a page whose
// Content-Security-Policy blocks wasm compilation, and Node (server-side rendering), where
// importing the package must still work.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { test, expect, startServer, type RunningServer } from './server';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const WASM = '/pkg/token_warden_bg.wasm';

interface Failure {
  name: string;
  code: string;
  message: string;
  isError: boolean;
  isTokenWardenError: boolean;
  fields: Record<string, unknown>;
}

/** Creates a manager in the page; returns the rejection (or `null` if it resolved). */
async function tryCreate(page: Page): Promise<Failure | null> {
  return page.evaluate(async () => {
    const tw = await import('/pkg/index.js' as string);
    try {
      const tm = await tw.createTokenManager({ refreshUrl: '/auth/refresh' });
      tm.dispose();
      return null;
    } catch (e: any) {
      const fields: Record<string, unknown> = {};
      for (const k of ['operation', 'endpoint', 'status', 'serverError', 'serverErrorDescription']) {
        fields[k] = Object.hasOwn(e, k) ? e[k] : 'missing';
      }
      return { name: e.name, code: e.code, message: e.message, isError: e instanceof Error, isTokenWardenError: tw.isTokenWardenError(e), fields };
    }
  });
}

async function blankPage(page: Page, server: RunningServer): Promise<void> {
  await page.route(`${server.app}/loader/index.html`, (route) =>
    route.fulfill({ contentType: 'text/html; charset=utf-8', body: '<!doctype html><meta charset="utf-8"><title>loader</title>' }),
  );
  await page.goto(`${server.app}/loader/index.html`);
}

test('a .wasm answered as text/html (an SPA fallback) rejects with load_failed saying what came back; a retry then loads', async ({ page, server }) => {
  await page.route(`${server.app}${WASM}`, (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: '<!doctype html><html><head><title>My SPA</title></head><body><div id="root"></div></body></html>',
    }),
  );
  await blankPage(page, server);
  const warnings: string[] = [];
  page.on('console', (m) => warnings.push(m.text()));
  const e = await tryCreate(page);
  expect(e).not.toBeNull();
  expect(e!).toMatchObject({ name: 'TokenWardenError', code: 'load_failed', isError: true, isTokenWardenError: true });
  expect(e!.fields).toEqual({
    operation: null,
    endpoint: `${server.app}${WASM}`,
    status: 200,
    serverError: null,
    serverErrorDescription: null,
  });
  expect(e!.message).toContain(`${server.app}${WASM} is not a WebAssembly module`);
  expect(e!.message).toContain('HTTP 200');
  expect(e!.message).toContain('Content-Type text/html; charset=utf-8');
  expect(e!.message).toContain('"<!doctype html><html><he…"');
  expect(e!.message).toContain('single-page-app fallback');
  expect(e!.message).toContain('application/wasm');
  expect(e!.message).not.toContain('magic word');
  expect(warnings.filter((w) => w.includes('instantiateStreaming')), 'no fallback warning from the glue').toEqual([]);

  // A failed load is not cached: once the file is served right, the same page loads it.
  await page.unroute(`${server.app}${WASM}`);
  expect(await tryCreate(page)).toBeNull();
});

test('a .wasm answered 404 rejects with load_failed and the status', async ({ page, server }) => {
  await page.route(`${server.app}${WASM}`, (route) => route.fulfill({ status: 404, contentType: 'text/plain', body: 'Not Found' }));
  await blankPage(page, server);
  const e = await tryCreate(page);
  expect(e).toMatchObject({ name: 'TokenWardenError', code: 'load_failed', isTokenWardenError: true });
  expect(e!.fields).toMatchObject({ endpoint: `${server.app}${WASM}`, status: 404, operation: null });
  expect(e!.message).toContain('answered HTTP 404 (Content-Type text/plain)');
  expect(e!.message).toContain('token_warden_bg.wasm');
});

test('a .wasm served as application/octet-stream still loads (only the bytes decide)', async ({ page, server }) => {
  await page.route(`${server.app}${WASM}`, async (route) => {
    const real = await route.fetch();
    await route.fulfill({ status: 200, contentType: 'application/octet-stream', body: await real.body() });
  });
  await blankPage(page, server);
  const warnings: string[] = [];
  page.on('console', (m) => warnings.push(m.text()));
  expect(await tryCreate(page)).toBeNull();
  expect(warnings.filter((w) => w.includes('instantiateStreaming'))).toEqual([]);
});

/** A server whose static files carry `csp`, serving a page that creates a manager from a module script. */
async function cspServer(csp: string): Promise<{ server: RunningServer; www: string }> {
  const www = mkdtempSync(join(tmpdir(), 'tw-loader-'));
  writeFileSync(
    join(www, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>csp</title><script type="module" src="/main.js"></script>',
  );
  writeFileSync(
    join(www, 'main.js'),
    `import { createTokenManager, isTokenWardenError } from '/pkg/index.js';
try {
  const tm = await createTokenManager({ refreshUrl: '/auth/refresh' });
  window.result = { ok: true, state: tm.state };
} catch (e) {
  window.result = { ok: false, name: e.name, code: e.code, message: e.message, endpoint: e.endpoint, status: e.status, tw: isTokenWardenError(e) };
}
`,
  );
  const server = await startServer(['--www', www, '--content-security-policy', csp]);
  return { server, www };
}

test("a Content-Security-Policy without 'wasm-unsafe-eval' gives an error that names it; with it the module loads", async ({ page }) => {
  const blocked = await cspServer("script-src 'self'");
  try {
    await page.goto(blocked.server.app + '/');
    await page.waitForFunction(() => (window as any).result !== undefined);
    const r = await page.evaluate(() => (window as any).result);
    expect(r).toMatchObject({ ok: false, name: 'TokenWardenError', code: 'load_failed', tw: true, status: 200 });
    expect(r.endpoint).toBe(`${blocked.server.app}${WASM}`);
    expect(r.message).toContain('Content-Security-Policy blocks WebAssembly');
    expect(r.message).toContain("add 'wasm-unsafe-eval' to its script-src");
  } finally {
    await blocked.server.stop();
    rmSync(blocked.www, { recursive: true, force: true });
  }

  const allowed = await cspServer("script-src 'self' 'wasm-unsafe-eval'");
  try {
    await page.goto(allowed.server.app + '/');
    await page.waitForFunction(() => (window as any).result !== undefined);
    expect(await page.evaluate(() => (window as any).result)).toEqual({ ok: true, state: 'initial' });
  } finally {
    await allowed.server.stop();
    rmSync(allowed.www, { recursive: true, force: true });
  }
});

test('in Node, importing the package works and createTokenManager rejects unsupported_environment', () => {
  const pkg = process.env.TW_NPM_DIR ?? join(root, 'target/npm/token-warden');
  const dir = mkdtempSync(join(tmpdir(), 'tw-node-'));
  try {
    // An app's node_modules with the package in it, resolved by name through its exports map.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(pkg, join(dir, 'node_modules/token-warden'), 'dir');
    writeFileSync(
      join(dir, 'ssr.mjs'),
      `const tw = await import('token-warden');
const outcome = async (promise) => promise.then(() => 'resolved', (e) => ({ name: e.name, code: e.code, message: e.message, tw: tw.isTokenWardenError(e), endpoint: e.endpoint, status: e.status, operation: e.operation }));
console.log(JSON.stringify({
  exports: Object.keys(tw).sort(),
  version: tw.VERSION,
  create: await outcome(tw.createTokenManager({ refreshUrl: '/auth/refresh' })),
  load: await outcome(tw.loadTokenWarden()),
}));
`,
    );
    const out = JSON.parse(execFileSync(process.execPath, [join(dir, 'ssr.mjs')], { cwd: dir, encoding: 'utf8', timeout: 30_000 }));
    expect(out.exports).toEqual(['VERSION', 'createTokenManager', 'isTokenWardenError', 'loadTokenWarden']);
    expect(out.version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const rejected of [out.create, out.load]) {
      expect(rejected).toMatchObject({ name: 'TokenWardenError', code: 'unsupported_environment', tw: true, endpoint: null, status: null, operation: null });
      expect(rejected.message).toContain('token-warden runs in the browser');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
