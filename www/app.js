// The demo SPA: plain ES modules importing the built package from /pkg.
import init, { version } from '/pkg/token_warden.js';

const $ = (id) => document.getElementById(id);

try {
  await init();
  $('version').textContent = version();
  $('status').textContent = 'loaded';
} catch (e) {
  $('status').textContent = `failed: ${e}`;
  throw e;
}
