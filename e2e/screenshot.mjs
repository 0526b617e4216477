// `cargo xtask screenshot`: signs in to the demo, calls the API, waits for a silent
// refresh, and saves docs/demo.png for the README.
import { chromium } from '@playwright/test';

const [origin, out] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.TW_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1250 } });
  await page.goto(origin.replace('127.0.0.1', 'localhost') + '/');
  await page.waitForFunction(() => window.demo?.tm?.state === 'signed-out');
  await page.click('#signin button[type=submit]');
  await page.waitForFunction(() => window.demo.tm.state === 'signed-in');
  for (let i = 0; i < 6; i++) {
    await page.evaluate(() => window.demo.call(['/api/me', '/api/data'][Math.floor(Math.random() * 2)]));
    await page.waitForTimeout(700);
  }
  await page.evaluate(() => window.demo.call('/api/admin')); // alice lacks the admin scope: 403
  await page.waitForFunction(() => Number(document.getElementById('refreshes').textContent) >= 3, null, { timeout: 20_000 });
  await page.evaluate(() => window.demo.call('/api/me'));
  await page.waitForTimeout(1200);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`saved ${out}`);
} finally {
  await browser.close();
}
