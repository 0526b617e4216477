// Size of the shipped code: token-warden (wasm + minified JS) against its floor (an empty
// manager linking the same crates) and the peer libraries, each bundled with esbuild
// (--bundle --minify --format=esm) importing only its main client class. Raw, gzip -9 and
// brotli (quality 11), measured in the same run.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export const PEERS = [
  ['@auth0/auth0-spa-js', 'Auth0Client'],
  ['oidc-client-ts', 'UserManager'],
  ['@azure/msal-browser', 'PublicClientApplication'],
  ['@okta/okta-auth-js', 'OktaAuth'],
  ['@supabase/auth-js', 'GoTrueClient'],
  ['@axa-fr/oidc-client', 'OidcClient'],
  ['keycloak-js', 'default'],
  ['@badgateway/oauth2-client', 'OAuth2Client'],
];

function measure(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

async function bundle(source, resolveDir) {
  const result = await build({
    stdin: { contents: source, resolveDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    // Peers that reference Node built-ins in unused paths must not fail the bundle.
    external: ['crypto', 'node:*'],
  });
  return Buffer.concat(result.outputFiles.map((f) => Buffer.from(f.contents)));
}

function version(benchDir, name) {
  return JSON.parse(readFileSync(`${benchDir}/node_modules/${name}/package.json`, 'utf8')).version;
}

/** Our figures: the wasm file plus the esbuild-minified JS of the package entry. */
export async function ours(npmDir) {
  const js = await bundle(`export { createTokenManager } from ${JSON.stringify(npmDir + '/index.js')};`, npmDir);
  const wasm = readFileSync(`${npmDir}/token_warden_bg.wasm`);
  const jsM = measure(js);
  const wasmM = measure(wasm);
  return {
    name: 'token-warden',
    version: JSON.parse(readFileSync(`${npmDir}/package.json`, 'utf8')).version,
    js: jsM,
    wasm: wasmM,
    total: { raw: jsM.raw + wasmM.raw, gzip: jsM.gzip + wasmM.gzip, brotli: jsM.brotli + wasmM.brotli },
  };
}

/**
 * The floor (bench/floor, built by `cargo xtask bench`): its wasm plus its wasm-bindgen
 * glue, minified by esbuild like ours. `name` is the glue's output name.
 */
export async function floor(dir, name) {
  const js = await bundle(`export * from ${JSON.stringify(`${dir}/${name}.js`)};`, dir);
  const wasm = readFileSync(`${dir}/${name}_bg.wasm`);
  const jsM = measure(js);
  const wasmM = measure(wasm);
  return {
    js: jsM,
    wasm: wasmM,
    total: { raw: jsM.raw + wasmM.raw, gzip: jsM.gzip + wasmM.gzip, brotli: jsM.brotli + wasmM.brotli },
  };
}

export async function peers(benchDir) {
  const out = [];
  for (const [name, exported] of PEERS) {
    const source =
      exported === 'default'
        ? `import X from '${name}'; globalThis.__x = X;`
        : `import { ${exported} } from '${name}'; globalThis.__x = ${exported};`;
    try {
      const total = measure(await bundle(source, benchDir));
      out.push({ name, version: version(benchDir, name), class: exported, total });
    } catch (e) {
      out.push({ name, version: '?', class: exported, error: String(e).slice(0, 200) });
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const me = await ours(process.argv[2]);
  console.log(JSON.stringify(me));
  for (const p of await peers(process.cwd())) console.log(JSON.stringify(p));
}
