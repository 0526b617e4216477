// Type-checks the shipped .d.ts: this file must use every export of the package.
import init, { version } from '../pkg/token_warden.js';

await init();
const v: string = version();
console.log(v);
