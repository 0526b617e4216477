// Does a bearer request that is redirected to another origin carry the token there?
// Two throwaway Node servers on 127.0.0.1: `api` (allowed) redirects to `other`
// (not allowed), which records every header it receives.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect } from './server';

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, origin: `http://127.0.0.1:${port}` });
    }),
  );
}

test('a cross-origin redirect does not carry the bearer token', async ({ page, server }) => {
  const seenByOther: IncomingHttpHeaders[] = [];
  const cors = (origin: string) => ({
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Headers': 'Authorization',
    'Access-Control-Allow-Methods': 'GET',
  });
  const other = await listen((req, res) => {
    seenByOther.push(req.headers);
    res.writeHead(200, { ...cors(req.headers.origin ?? '*'), 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
  });
  const seenByApi: IncomingHttpHeaders[] = [];
  const api = await listen((req, res) => {
    seenByApi.push(req.headers);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors(req.headers.origin ?? '*'));
      return res.end();
    }
    res.writeHead(302, { ...cors(req.headers.origin ?? '*'), Location: `${other.origin}/echo` });
    res.end();
  });
  try {
    await page.goto(server.origin + '/');
    const result = await page.evaluate(async (apiOrigin) => {
      const m = await import('/pkg/index.js');
      const tm = await m.createTokenManager({ refreshUrl: '/auth/refresh', allowedOrigins: [apiOrigin] });
      tm.acceptTokenResponse({ access_token: 'redirect-test-token', token_type: 'Bearer', expires_in: 60 });
      const response = await tm.fetch(`${apiOrigin}/start`);
      return { status: response.status, redirected: response.redirected, body: await response.json() };
    }, api.origin);
    // The allowed origin got the token…
    expect(seenByApi.some((h) => h.authorization === 'Bearer redirect-test-token')).toBe(true);
    // …and the redirect target did not, in any request (preflight or actual).
    expect(result.redirected).toBe(true);
    expect(result.body.authorization).toBeNull();
    expect(seenByOther.length).toBeGreaterThan(0);
    expect(seenByOther.every((h) => h.authorization === undefined)).toBe(true);
  } finally {
    api.server.close();
    other.server.close();
  }
});
