// A user switch is never silent: two managers on one page share the origin's refresh
// cookie; after bob signs in on one, the other (alice) hears of the sign-in, refreshes at
// once and ends its session with `user-changed` instead of silently becoming bob.
import { test, expect } from './server';

test('two managers, one cookie: a sign-in as bob on one makes the other (alice) refresh at once and end with user-changed', async ({ page, server }) => {
  await page.goto(`${server.app}/healthz`);
  const out = await page.evaluate(async () => {
    const { createTokenManager } = await import('/pkg/index.js' as string);
    const json = { 'Content-Type': 'application/json' };
    const signIn = (tm: any, username: string, password: string) =>
      tm.signIn('/auth/login', { headers: json, body: JSON.stringify({ username, password }) });
    const alice = await createTokenManager({ refreshUrl: '/auth/refresh' });
    const bob = await createTokenManager({ refreshUrl: '/auth/refresh' });
    const events: string[] = [];
    alice.on('state', (s: string) => events.push(`state ${s} (sub ${alice.claims()?.sub})`));
    alice.on('session-ended', ({ reason }: { reason: string }) => events.push(`session-ended ${reason}`));
    alice.on('refreshed', () => events.push(`refreshed (sub ${alice.claims()?.sub})`));
    const bobEnded: string[] = [];
    bob.on('session-ended', ({ reason }: { reason: string }) => bobEnded.push(reason));
    const switched = new Promise<string>((resolve) => alice.on('session-ended', ({ reason }: { reason: string }) => resolve(reason)));
    await signIn(alice, 'alice', 'wonderland-42');
    const before = (await (await alice.fetch('/api/me')).json()).sub;
    await signIn(bob, 'bob', 'builder-42');
    events.push('-- bob signed in on the other manager');
    // Nobody asks alice's manager to refresh: it hears of the sign-in by itself.
    const reason = await Promise.race([switched, new Promise((r) => setTimeout(() => r('none within 3 s'), 3_000))]);
    events.push(`-- ${reason}`);
    const after = (await (await alice.fetch('/api/me')).json()).sub;
    return { events, before, after, bobEnded, state: alice.state };
  });
  expect(out.before).toBe('alice');
  expect(out.events).toEqual([
    'state signed-in (sub alice)',
    'refreshed (sub alice)',
    '-- bob signed in on the other manager',
    'state signed-out (sub bob)',
    'session-ended user-changed',
    'state signed-in (sub bob)',
    'refreshed (sub bob)',
    '-- user-changed',
  ]);
  expect(out.after).toBe('bob');
  expect(out.state).toBe('signed-in');
  expect(out.bobEnded).toEqual([]);
});

test.describe('two-second access tokens', () => {
  test.use({ serverArgs: ['--access-ttl', '2'] });

  test('the silent refresh of the first manager reports the switch by itself', async ({ page, server }) => {
    await page.goto(`${server.app}/healthz`);
    const out = await page.evaluate(async () => {
      const { createTokenManager } = await import('/pkg/index.js' as string);
      const json = { 'Content-Type': 'application/json' };
      const options = { refreshUrl: '/auth/refresh', refreshLeadSeconds: 1, maxRefreshesPerMinute: 60 };
      const alice = await createTokenManager(options);
      const bob = await createTokenManager(options);
      const ended = new Promise<string>((resolve) => alice.on('session-ended', ({ reason }: { reason: string }) => resolve(reason)));
      await alice.signIn('/auth/login', { headers: json, body: JSON.stringify({ username: 'alice', password: 'wonderland-42' }) });
      await bob.signIn('/auth/login', { headers: json, body: JSON.stringify({ username: 'bob', password: 'builder-42' }) });
      const reason = await Promise.race([ended, new Promise((r) => setTimeout(() => r('none within 5 s'), 5_000))]);
      return { reason, sub: alice.claims()?.sub, state: alice.state };
    });
    expect(out).toEqual({ reason: 'user-changed', sub: 'bob', state: 'signed-in' });
  });
});
