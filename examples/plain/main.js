// A module script from the page's own origin, so the page also works under the reference
// server's Content-Security-Policy (`script-src 'self' 'wasm-unsafe-eval'`).
import { createTokenManager, VERSION, isTokenWardenError } from '/pkg/index.js';

const tm = await createTokenManager({ refreshUrl: '/auth/refresh' });
let bad = 'none';
try {
  await createTokenManager({ refreshUrl: '/auth/refresh', refreshURL: 'typo' });
} catch (e) {
  bad = isTokenWardenError(e) ? e.code : String(e);
}
const state = await tm.start();
document.getElementById('result').textContent = `${VERSION} ${state} ${bad}`;
window.app = { tm };
