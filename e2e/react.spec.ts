// token-warden/react: examples/react (Vite + React + TypeScript, <StrictMode> on), built
// from the packed tarball, in Chromium against the reference server. `dist/` is the
// production build; `dist/dev/` is React's development build, the one where StrictMode
// really runs every effect mount, unmount, mount.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import type { Page } from '@playwright/test';
import { test as base, expect, startServer, type RunningServer } from './server';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const builds = { production: '/', development: '/dev/' } as const;

const test = base.extend<{ served: (extra?: string[]) => Promise<RunningServer> }>({
  served: async ({}, use) => {
    const running: RunningServer[] = [];
    await use(async (extra = []) => {
      const server = await startServer(['--www', join(root, 'examples/react/dist'), ...extra]);
      running.push(server);
      return server;
    });
    for (const server of running) await server.stop();
  },
});

/** Counts the refresh requests the page sends from now on. */
function countRefreshes(page: Page): { count: number } {
  const seen = { count: 0 };
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/auth/refresh') seen.count += 1;
  });
  return seen;
}

/**
 * Collects uncaught page errors and console errors (React reports its warnings there), but
 * not the browser's own line for each answer that is not 2xx (a 401 from a restore
 * without a cookie is the normal signed-out answer).
 */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource:')) errors.push(m.text());
  });
  return errors;
}

async function signIn(page: Page): Promise<void> {
  await page.click('#signin button');
  await expect(page.locator('#state')).toHaveText('signed-in');
  await expect(page.locator('#user')).toHaveText('alice');
}

const managers = (page: Page) => page.evaluate(() => [...(window as any).app.managers].map((m: any) => m.state));

for (const [build, path] of Object.entries(builds)) {
  test(`React ${build} build: sign in, API call, silent refresh, reload restore, sign out`, async ({ page, served }) => {
    const server = await served(['--access-ttl', '2']);
    const errors = collectErrors(page);
    await page.goto(server.app + path);
    await expect(page.locator('#state')).toHaveText('signed-out');
    await expect(page.locator('#version')).toHaveText(/^\d+\.\d+\.\d+$/);
    await expect(page.locator('#loading')).toHaveCount(0);
    expect(await page.evaluate(() => (window as any).app.mountEffects)).toBe(build === 'development' ? 2 : 1);

    await signIn(page);
    const me = page.waitForRequest((r) => r.url().endsWith('/api/me'));
    await page.click('#me');
    expect((await me).headers()['authorization']).toMatch(/^Bearer /);
    await expect(page.locator('#out')).toContainText('200 ');
    await expect(page.locator('#out')).toContainText('"sub":"alice"');

    // A silent refresh re-renders the app: 2 s tokens refresh about 1 s in.
    const before = await page.locator('#expires').textContent();
    await expect(page.locator('#expires')).not.toHaveText(before ?? '', { timeout: 5_000 });
    const after = page.waitForResponse((r) => r.url().endsWith('/api/me'));
    await page.click('#me');
    expect((await after).status()).toBe(200);

    await page.reload();
    await expect(page.locator('#state')).toHaveText('signed-in');
    await expect(page.locator('#user')).toHaveText('alice');

    await page.click('#signout');
    await expect(page.locator('#state')).toHaveText('signed-out');
    await expect(page.locator('#user')).toHaveCount(0);
    await page.reload();
    await expect(page.locator('#state')).toHaveText('signed-out');
    expect(errors).toEqual([]);
  });
}

test('StrictMode: one manager is created and started once (one refresh request on load) and the app renders that one manager', async ({ page, served }) => {
  const server = await served();
  const errors = collectErrors(page);
  // Every manager opens its tab channel (`token-warden:<refreshUrl>`) when it is
  // constructed, started or not: counting those constructions counts the managers.
  await page.addInitScript(() => {
    const Native = BroadcastChannel;
    let created = 0;
    (window as any).managersCreated = () => created;
    (window as any).BroadcastChannel = class extends Native {
      constructor(name: string) {
        super(name);
        if (String(name).startsWith('token-warden:')) created += 1;
      }
    };
  });
  await page.goto(server.app + builds.development);
  await expect(page.locator('#state')).toHaveText('signed-out');
  // StrictMode did run the effects twice (the development build), so the test means something.
  expect(await page.evaluate(() => (window as any).app.mountEffects)).toBe(2);
  await signIn(page);

  const refreshes = countRefreshes(page);
  await page.reload();
  await expect(page.locator('#state')).toHaveText('signed-in');
  // A second manager would send its own restore: let every request of the load finish.
  await page.waitForLoadState('networkidle');
  expect(refreshes.count).toBe(1);
  expect((await server.stats()).refreshes_ok).toBe(1);
  expect(await managers(page)).toEqual(['signed-in']);
  expect(await page.evaluate(() => (window as any).managersCreated()), 'managers created on this load').toBe(1);

  // Calls go through that same manager.
  const me = page.waitForResponse((r) => r.url().endsWith('/api/me'));
  await page.click('#me');
  expect((await me).status()).toBe(200);
  expect(await managers(page)).toEqual(['signed-in']);
  expect(refreshes.count).toBe(1);
  expect(errors).toEqual([]);
});

test('unmounting the provider disposes its manager; mounting it again restores the session', async ({ page, served }) => {
  const server = await served(['--access-ttl', '2']);
  await page.goto(server.app + builds.development);
  await signIn(page);
  expect(await managers(page)).toEqual(['signed-in']);

  await page.click('#toggle');
  await expect(page.locator('#unmounted')).toBeVisible();
  await page.waitForFunction(() => [...(window as any).app.managers][0].state === 'disposed', null, { timeout: 5_000 });
  // A live manager with 2 s tokens would refresh about every second; a disposed one never.
  const refreshes = countRefreshes(page);
  await page.waitForTimeout(2_500);
  expect(refreshes.count).toBe(0);

  await page.click('#toggle');
  await expect(page.locator('#state')).toHaveText('signed-in');
  expect(refreshes.count).toBeGreaterThanOrEqual(1);
  expect(await managers(page)).toEqual(['disposed', 'signed-in']);
});

test('isLoading holds until the restore settles; a failed start is the error until the restore succeeds', async ({ page, served }) => {
  const server = await served();
  await page.goto(server.app + builds.production);
  await signIn(page);

  await server.fault({ kind: 'delay', ms: 1_000 });
  await page.reload();
  await expect(page.locator('#loading')).toBeVisible();
  await expect(page.locator('#state')).toHaveText('restoring');
  await expect(page.locator('#signin')).toHaveCount(0);
  await expect(page.locator('#state')).toHaveText('signed-in');
  await expect(page.locator('#loading')).toHaveCount(0);

  // start() rejects with the first failure; the restore retries in the background.
  await server.fault({ kind: 'status', status: 503, retry_after: 1 });
  await page.reload();
  await expect(page.locator('#error')).toContainText('server_error');
  await expect(page.locator('#loading')).toHaveCount(0);
  await expect(page.locator('#state')).toHaveText('restoring');
  await expect(page.locator('#state')).toHaveText('signed-in', { timeout: 10_000 });
  await expect(page.locator('#error')).toHaveCount(0);
});

test('a manager that cannot be created is the error; isLoading ends and useTokenManager stays null', async ({ page, served }) => {
  const server = await served();
  await page.route('**/*.wasm', (route) => route.fulfill({ status: 404, contentType: 'text/html', body: '<!doctype html>' }));
  await page.goto(server.app + builds.production);
  await expect(page.locator('#error')).toBeVisible();
  await expect(page.locator('#loading')).toHaveCount(0);
  await expect(page.locator('#state')).toHaveText('initial');
  await expect(page.locator('#signin')).toHaveCount(0);
  expect(await managers(page)).toEqual([]);

  // Remounting the provider (a new key, or here a toggle) tries again.
  await page.unroute('**/*.wasm');
  await page.click('#toggle');
  await page.click('#toggle');
  await expect(page.locator('#state')).toHaveText('signed-out');
  await expect(page.locator('#error')).toHaveCount(0);
  expect(await managers(page)).toEqual(['signed-out']);
});

test('a session that ends by itself is the error: the refresh token rejected', async ({ page, served }) => {
  const server = await served(['--access-ttl', '2']);
  await page.goto(server.app + builds.production);
  await signIn(page);
  await server.fault({ kind: 'status', status: 400, error: 'invalid_grant' });
  await expect(page.locator('#state')).toHaveText('signed-out', { timeout: 5_000 });
  await expect(page.locator('#error')).toHaveText('session ended: invalid_grant (invalid_grant)');
  await signIn(page);
  await expect(page.locator('#error')).toHaveCount(0);
});

test('a session that ends by itself is the error: the token expired and the refresh cycle gave up', async ({ page, served }) => {
  const server = await served(['--access-ttl', '2']);
  await page.goto(server.app + builds.production);
  await signIn(page);
  // Every refresh answers 503: the cycle retries (retry.maxAttempts, backoff up to 8 s), then gives up.
  await server.fault({ kind: 'status', status: 503, count: null });
  await expect(page.locator('#state')).toHaveText('signed-out', { timeout: 30_000 });
  await expect(page.locator('#error')).toHaveText('session ended: expired (server_error)');
  await expect(page.locator('#user')).toHaveCount(0);
});

test('the hooks outside a provider throw a clear Error; on the server the provider creates nothing', async () => {
  const dir = process.env.TW_NPM_DIR ?? join(root, 'target/npm/token-warden');
  const react = await import(pathToFileURL(join(dir, 'react.js')).href);
  const Probe = () => {
    const session = react.useSession();
    return createElement('p', null, JSON.stringify({ ...session, manager: react.useTokenManager() }));
  };
  expect(() => renderToString(createElement(Probe))).toThrow(
    'token-warden/react: useSession() must be called inside <TokenWardenProvider>',
  );
  const Manager = () => createElement('p', null, String(react.useTokenManager()));
  expect(() => renderToString(createElement(Manager))).toThrow(
    'token-warden/react: useTokenManager() must be called inside <TokenWardenProvider>',
  );
  const html = renderToString(
    createElement(react.TokenWardenProvider, { options: { refreshUrl: '/auth/refresh' } }, createElement(Probe)),
  );
  expect(JSON.parse(html.replace(/^<p>|<\/p>$/g, '').replaceAll('&quot;', '"'))).toEqual({
    state: 'initial',
    isLoading: true,
    isAuthenticated: false,
    claims: null,
    expiresAt: null,
    error: null,
    manager: null,
  });
});

test('the core entry alone pulls no React into a bundle', async () => {
  const bundle = (dir: string) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(root, dir, f), 'utf8'))
      .join('\n');
  const reactElement = /react\.(transitional\.)?element/;
  const binding = 'must be called inside <TokenWardenProvider>';
  // The markers are found where React and the binding are bundled...
  const withReact = bundle('examples/react/dist/assets');
  expect(withReact).toMatch(reactElement);
  expect(withReact).toContain(binding);
  // ...and not in the Vite app that imports only `token-warden`.
  const core = bundle('examples/vite-spa/dist/assets');
  expect(core).toContain('token_warden_bg');
  expect(core).not.toMatch(reactElement);
  expect(core).not.toContain(binding);
});
