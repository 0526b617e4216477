import { test, expect } from './server';

test('the demo page loads the wasm and shows its version', async ({ page, server }) => {
  const wasm = page.waitForResponse((r) => r.url().endsWith('.wasm'));
  await page.goto(server.origin + '/');
  const response = await wasm;
  expect(response.headers()['content-type']).toBe('application/wasm');
  await expect(page.locator('#version')).toHaveText(/^\d+\.\d+\.\d+$/);
  await expect(page.locator('#status')).toHaveText('loaded');
});
