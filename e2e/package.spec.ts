// The npm package the way SPA developers use it: a Vite app, a webpack 5 bundle and a
// plain <script type="module"> page, all built from the packed tarball with no
// configuration, each loaded in Chromium against the reference server.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, expect, startServer, type RunningServer } from './server';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const test = base.extend<{ served: (www: string, extra?: string[]) => Promise<RunningServer> }>({
  served: async ({}, use) => {
    const running: RunningServer[] = [];
    await use(async (www, extra = []) => {
      const server = await startServer(['--www', join(root, www), ...extra]);
      running.push(server);
      return server;
    });
    for (const server of running) await server.stop();
  },
});

test('Vite SPA: sign in, API call, silent refresh, reload restore, sign out', async ({ page, served }) => {
  const server = await served('examples/vite-spa/dist', ['--access-ttl', '2']);
  const wasm = page.waitForResponse((r) => r.url().endsWith('.wasm'));
  await page.goto(server.app + '/');
  expect((await wasm).headers()['content-type']).toBe('application/wasm');
  await expect(page.locator('#state')).toHaveText('signed-out');
  await expect(page.locator('#version')).toHaveText(/^\d+\.\d+\.\d+$/);

  await page.click('#signin button');
  await expect(page.locator('#state')).toHaveText('signed-in');
  expect(await page.evaluate(() => (window as any).app.me())).toBe(200);
  await expect(page.locator('#out')).toContainText('"sub":"alice"');

  // A silent refresh: 2 s tokens refresh about 1 s in, without the app doing anything.
  await page.waitForFunction(() => (window as any).app.refreshes.length >= 2, null, { timeout: 5_000 });
  expect(await page.evaluate(() => (window as any).app.me())).toBe(200);

  await page.reload();
  await expect(page.locator('#state')).toHaveText('signed-in');
  expect(await page.evaluate(() => (window as any).app.me())).toBe(200);

  await page.click('#signout');
  await expect(page.locator('#state')).toHaveText('signed-out');
  await page.reload();
  await expect(page.locator('#state')).toHaveText('signed-out');
});

test('webpack 5 bundle with no configuration loads the wasm and runs', async ({ page, served }) => {
  const server = await served('examples/webpack');
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server.app + '/');
  await expect(page.locator('#result')).toHaveText(/^\d+\.\d+\.\d+ signed-out$/);
  expect(errors).toEqual([]);
});

test('a plain <script type="module"> page imports the package directory directly', async ({ page, served }) => {
  const pkg = process.env.TW_NPM_DIR ?? join(root, 'target/npm/token-warden');
  const server = await served('examples/plain', ['--pkg', pkg]);
  await page.goto(server.app + '/');
  await expect(page.locator('#result')).toHaveText(/^\d+\.\d+\.\d+ signed-out invalid_options$/);
});
