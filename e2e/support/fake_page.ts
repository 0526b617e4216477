// The fixture of the specs that drive the public package API against the scripted auth
// server (fake_server.js) inside the page: one reference server per worker, used as a
// static origin only (http://localhost, a secure context, serving /pkg/); a blank page at
// `pagePath` with the package on `window.tw` and the support module on `window.fake`
// (imported first: it installs the fetch the package captures when it is imported).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, type Page } from '@playwright/test';
import { startServer } from '../server';

const support = resolve(fileURLToPath(new URL('.', import.meta.url)));

/** A Playwright `test` whose `page` is such a page; `prefix` ends with `/`, `pagePath` starts with it. */
export function fakeServerTest(prefix: string, pagePath: string, title: string) {
  return base.extend<{ page: Page }, { origin: string }>({
    origin: [
      async ({}, use) => {
        const server = await startServer();
        await use(server.app);
        await server.stop();
      },
      { scope: 'worker' },
    ],
    page: async ({ page, origin }, use) => {
      await page.route(`${origin}${prefix}**`, (route) => {
        const path = new URL(route.request().url()).pathname;
        if (path === pagePath) {
          return route.fulfill({
            contentType: 'text/html; charset=utf-8',
            body: `<!doctype html><meta charset="utf-8"><title>${title}</title>`,
          });
        }
        if (path === `${prefix}fake_server.js`) {
          return route.fulfill({ path: join(support, 'fake_server.js'), contentType: 'text/javascript; charset=utf-8' });
        }
        return route.fulfill({ status: 404, body: 'not found' });
      });
      await page.goto(`${origin}${pagePath}`);
      await page.evaluate(async (prefix) => {
        // The fake server's fetch first: the package captures `fetch` when it is imported.
        const fake = await import(`${prefix}fake_server.js`);
        const tw = await import('/pkg/index.js' as string);
        await tw.loadTokenWarden();
        Object.assign(window, { tw, fake });
      }, prefix);
      await use(page);
    },
  });
}
