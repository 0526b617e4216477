// Issue 13, item 8: the demo reads no security-relevant option from its URL, and it is
// served with a Content-Security-Policy and a Referrer-Policy under which it still works.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import { test, expect, openDemo, signIn } from './server';

const CSP = "script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** A foreign origin on 127.0.0.1 that answers every request (CORS open) and records its headers. */
function foreign(): Promise<{ server: Server; origin: string; seen: { url: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const cors = {
      'Access-Control-Allow-Origin': req.headers.origin ?? '*',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Requested-With',
      'Access-Control-Allow-Methods': 'GET, POST',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    res.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
    res.end('{"access_token":"foreign","token_type":"Bearer","expires_in":60}');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, origin: `http://127.0.0.1:${port}`, seen });
    }),
  );
}

/** Collects CSP violations (as the page sees them) and console messages mentioning the policy. */
async function watchCsp(page: Page): Promise<{ console: string[]; violations: () => Promise<string[]> }> {
  const console: string[] = [];
  page.on('console', (m) => {
    if (/content security policy|refused to (execute|load|compile|evaluate)/i.test(m.text())) console.push(m.text());
  });
  await page.addInitScript(() => {
    (window as any).cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as any).cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  return { console, violations: () => page.evaluate(() => (window as any).cspViolations as string[]) };
}

test('security options in the URL are ignored: Sign out sends no bearer to a foreign origin', async ({ page, server }) => {
  const evil = await foreign();
  try {
    const open = async (options: Record<string, unknown>) => {
      await page.goto(`${server.app}/?options=${encodeURIComponent(JSON.stringify(options))}`);
      await expect(page.locator('#status')).toHaveText('loaded');
      await page.waitForFunction(() => !['initial', 'restoring'].includes((window as any).demo?.tm?.state));
    };
    // The link of the issue.
    await open({ logoutUrl: `${evil.origin}/x`, allowedOrigins: [evil.origin, server.app] });
    await signIn(page);
    expect(await page.evaluate(() => (window as any).demo.call('/api/me'))).toBe(200);

    // The attack of the issue: a click on Sign out.
    const before = await server.stats();
    await page.click('#signout');
    await page.waitForFunction(() => (window as any).demo.tm.state === 'signed-out');
    await expect(page.locator('#output')).toHaveText('signed out');
    expect(evil.seen.filter((r) => r.headers.authorization !== undefined)).toEqual([]);
    expect(evil.seen).toEqual([]);
    expect((await server.stats()).logouts).toBe((before.logouts as number) + 1);

    // Nor do the other fields take effect: the token is not exposed, the foreign
    // origin gets no bearer, and a refresh goes to our own endpoint.
    await open({
      refreshUrl: `${evil.origin}/r`,
      allowedOrigins: [evil.origin],
      exposeAccessToken: true,
      refreshLeadSeconds: 30, // a timing knob: still honoured
    });
    await signIn(page);
    expect(await page.evaluate(() => (window as any).demo.tm.accessToken().catch((e: any) => e.code))).toBe('token_not_exposed');
    await page.evaluate((url) => (window as any).demo.tm.fetch(url).catch(() => null), `${evil.origin}/api`);
    const refreshed = (await server.stats()).refreshes_ok;
    await page.evaluate(() => (window as any).demo.tm.refresh());
    expect((await server.stats()).refreshes_ok).toBe(refreshed + 1);
    expect(evil.seen.map((r) => [r.url, r.headers.authorization ?? null])).toEqual([['/api', null]]);
  } finally {
    evil.server.close();
  }
});

test('the demo is served with the CSP and a Referrer-Policy, and works under them', async ({ page, server }) => {
  const csp = await watchCsp(page);
  const response = await page.goto(server.app + '/');
  const headers = response!.headers();
  expect(headers['content-security-policy']).toBe(CSP);
  expect(headers['referrer-policy']).toBe('no-referrer');
  for (const path of ['/app.js', '/pkg/index.js']) {
    const r = await page.request.get(server.app + path);
    expect(r.status(), path).toBe(200);
    expect(r.headers()['content-security-policy'], path).toBe(CSP);
  }

  await openDemo(page, server);
  await expect(page.locator('#version')).toHaveText(/^\d+\.\d+\.\d+$/);
  await signIn(page);
  for (const button of ['#call-me', '#call-data']) {
    await page.click(button);
    await expect(page.locator('#output')).toContainText('"status": 200');
  }
  await page.click('#refresh');
  await expect(page.locator('#output')).toHaveText('refreshed');
  await page.reload();
  await page.waitForFunction(() => (window as any).demo?.tm?.state === 'signed-in');
  await page.click('#signout');
  await expect(page.locator('#output')).toHaveText('signed out');

  expect(await csp.violations()).toEqual([]);
  expect(csp.console).toEqual([]);
});

test('the policy is enforced: an inline script injected into the demo does not run', async ({ page, server }) => {
  const csp = await watchCsp(page);
  await openDemo(page, server);
  const ran = await page.evaluate(async () => {
    (window as any).injected = false;
    const div = document.createElement('div');
    div.innerHTML = '<img src="x:" onerror="window.injected = true">';
    document.body.append(div);
    const script = document.createElement('script');
    script.textContent = 'window.injected = true';
    document.body.append(script);
    await new Promise((r) => setTimeout(r, 200));
    return (window as any).injected;
  });
  expect(ran).toBe(false);
  expect((await csp.violations()).length).toBeGreaterThanOrEqual(1);
});
