// webpack 5, default configuration: `new URL('./token_warden_bg.wasm', import.meta.url)`
// inside the package becomes an emitted asset with a rewritten URL.
import { createTokenManager, VERSION } from 'token-warden';

const tm = await createTokenManager({ refreshUrl: '/auth/refresh' });
const state = await tm.start();
document.getElementById('result').textContent = `${VERSION} ${state}`;
window.app = { tm };
