// The tables of bench/RESULTS.md that are computed from other measurements of the same
// run: the targets of issue 14 with their verdicts, and the wasm's bytes by crate. Pure
// functions of run.mjs's `results` and of the attribution `cargo xtask bench` writes
// (target/bench/crates.json), so nothing in them can drift from the tables they judge.

export const fmt = (n, d = 2) => Number(n).toFixed(d);
/** KB are 1,024 bytes, one decimal: the unit of every size in RESULTS.md. */
export const kb = (n) => `${fmt(n / 1024, 1)} KB`;
const int = (n) => Math.round(n).toLocaleString('en-US');

/** The figure as printed is the figure judged: `1.054` prints and is judged as 1.05. */
const printed = (n, d) => Number(fmt(n, d));

/**
 * The targets of issue 14, each with the figure measured in this run, the target and a
 * verdict: met, missed (bold), reported (no target), or not measured (a quick run
 * measures no size and judges no timing; a section that did not finish leaves its rows
 * unmeasured).
 */
export function targetsTable(results, { quick = false } = {}) {
  const rows = [];
  const row = (target, measured, goal, verdict) => rows.push({ target, measured, goal, verdict });
  const notMeasured = quick ? 'not measured (quick run)' : 'not measured';
  // A quick run's few samples make timings meaningless: they are printed, not judged.
  const atMost = (value, limit) => (quick ? 'not judged (quick run)' : value <= limit ? 'met' : '**missed**');

  const size = results.size;
  if (size) {
    const gz = printed(size.me.total.gzip / 1024, 1);
    const verdict = gz <= 35 ? 'met (stretch met)' : gz <= 40 ? 'met (stretch missed)' : '**missed**';
    const floor = size.floor ? `; the floor of the crates: ${kb(size.floor.total.gzip)}` : '';
    row(
      'Size: wasm + JS, gzip -9',
      `${kb(size.me.total.gzip)} (wasm ${kb(size.me.wasm.gzip)} + JS ${kb(size.me.js.gzip)}${floor})`,
      '≤ 40 KB (stretch ≤ 35 KB)',
      verdict,
    );
  } else {
    row('Size: wasm + JS, gzip -9', notMeasured, '≤ 40 KB (stretch ≤ 35 KB)', '—');
  }

  const overhead = results.overhead;
  for (const [mode, key] of [
    ['sequential', 's'],
    ['200 concurrent', 'p'],
  ]) {
    for (const [stat, limit] of [
      ['median', 1.05],
      ['p99', 1.1],
    ]) {
      const target = `Request overhead, ${mode}: tm.fetch / native fetch, ${stat}`;
      const m = overhead?.[key];
      if (!m) {
        row(target, notMeasured, `≤ ${fmt(limit)}`, '—');
        continue;
      }
      const q = stat === 'median' ? 'p50' : 'p99';
      const ratio = printed(m.ours[q] / m.native[q], 2);
      row(target, `${fmt(ratio)} (${fmt(m.ours[q], 3)} vs ${fmt(m.native[q], 3)} ms)`, `≤ ${fmt(limit)}`, atMost(ratio, limit));
    }
  }

  const hot = results.hot;
  const hotTarget = 'Hot path (stubbed transport): tm.fetch / plain JS wrapper, per call';
  if (hot) {
    const ratio = printed(hot.o / hot.t, 2);
    row(hotTarget, `${fmt(ratio)} × (${fmt(hot.o, 0)} vs ${fmt(hot.t, 0)} ns)`, '≤ 2 ×', atMost(ratio, 2));
  } else row(hotTarget, notMeasured, '≤ 2 ×', '—');

  const st = results.stampede;
  const stTarget = 'Stampede: refresh requests for 1,000 concurrent tm.fetch at expiry';
  if (st) {
    row(
      stTarget,
      `${st.refreshes} (${st.failed} of 1,000 calls failed)`,
      'exactly 1, no call failed',
      st.refreshes === 1 && st.failed === 0 ? 'met' : '**missed**',
    );
  } else row(stTarget, notMeasured, 'exactly 1, no call failed', '—');

  const soak = results.soak;
  if (soak) {
    const calls = soak.perTab.reduce((a, t) => a + t.calls, 0);
    const failed = soak.perTab.reduce((a, t) => a + t.failed, 0);
    row(`Soak (${soak.perTab.length} tabs, 2 s tokens, ${soak.seconds} s): failed requests`, `${int(failed)} of ${int(calls)}`, '0', failed === 0 ? 'met' : '**missed**');
    // Wasm memory grows in 64 KiB pages and never shrinks: flat means not one page more
    // at the end than after the warm-up, in every tab.
    const memory = soak.perTab.map((t) => `${kb(t.start.wasm)} → ${kb(t.end.wasm)}`);
    const flat = soak.perTab.every((t) => t.end.wasm <= t.start.wasm);
    const same = memory.every((m) => m === memory[0]);
    row(
      'Soak: wasm memory, after warm-up → end',
      same ? `${memory[0]} in each tab` : memory.map((m, i) => `tab ${i + 1}: ${m}`).join('; '),
      'flat (no growth after warm-up)',
      flat ? 'met' : '**missed**',
    );
  } else {
    row('Soak: failed requests', notMeasured, '0', '—');
    row('Soak: wasm memory, after warm-up → end', notMeasured, 'flat (no growth after warm-up)', '—');
  }

  const su = results.startup;
  const suTarget = 'Start-up: page load with token-warden (import, compile, instantiate, start()) / one bare refresh fetch';
  if (su) {
    row(suTarget, `${fmt(su.ours / su.base)} × (${fmt(su.ours, 1)} vs ${fmt(su.base, 1)} ms, median of ${su.loads} loads)`, 'reported (aim: below 5.3 ×)', 'reported');
  } else row(suTarget, notMeasured, 'reported (aim: below 5.3 ×)', '—');

  return [
    '| target (issue 14) | measured in this run | target | verdict |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.target} | ${r.measured} | ${r.goal} | ${r.verdict} |`),
  ].join('\n');
}

/** The rows of the by-crate table, in this order, then any other crate found. */
const CRATES = [
  'wasm_bindgen',
  'wasm_bindgen_futures',
  'js_sys',
  'web_sys',
  'serde',
  'serde_json',
  'serde_wasm_bindgen',
  'gloo_timers',
  'base64',
  'talc',
];
// The rows cargo xtask bench writes besides crate names (xtask/src/crates.rs).
const STD = 'core/alloc/std';
const OWN = 'own code';
const DATA = 'data segments';
const OTHER = 'other';
const LAST = [STD, OWN, DATA, OTHER];
const LABEL = {
  // 0.4.80 is `pub use js_sys::futures::…`: nothing of its own is left to count.
  wasm_bindgen_futures: 'wasm_bindgen_futures (re-exports js_sys::futures: counted under js_sys)',
  [STD]: 'core / alloc / std (with compiler_builtins)',
  [OWN]: 'token_warden itself (for the floor: its own code)',
  [DATA]: 'data: constant data segments (strings, tables)',
  [OTHER]: 'other: imports, exports, types, tables, headers, unnamed code',
};

/**
 * The wasm's raw bytes by crate for token-warden and the floor, from the attribution
 * `cargo xtask bench` wrote with twiggy.
 */
export function cratesSection(attribution) {
  const ours = attribution.builds.find((b) => b.name === 'token-warden');
  const floor = attribution.builds.find((b) => b.name === 'floor');
  const builds = [ours, floor].filter(Boolean);
  const total = (b) => Object.values(b.rows).reduce((a, n) => a + n, 0);
  const seen = new Set(builds.flatMap((b) => Object.keys(b.rows)));
  const extra = [...seen]
    .filter((r) => !CRATES.includes(r) && !LAST.includes(r))
    .sort((a, b) => (ours?.rows[b] ?? 0) - (ours?.rows[a] ?? 0) || a.localeCompare(b));
  const order = [...CRATES, ...extra, ...LAST];
  const cell = (b, r) => (b ? `${int(b.rows[r] ?? 0)} | ${fmt((100 * (b.rows[r] ?? 0)) / total(b), 1)} %` : '— | —');
  const largest = (r) => {
    const item = ours?.largest?.[r];
    if (!item) return '';
    const [full, bytes] = item;
    // `core[c5930c85a12de822]::fmt`: the v0 mangling's crate disambiguator says nothing here.
    const name = full.replace(/\[[0-9a-f]{16}\]/g, '');
    const short = name.length > 90 ? `${name.slice(0, 87)}…` : name;
    return `\`${short.replace(/\|/g, '\\|').replace(/`/g, "'")}\` (${int(bytes)})`;
  };
  const lines = [
    '| part | token-warden (B) | share | floor (B) | share | largest item in token-warden (B) |',
    '|---|---:|---:|---:|---:|---|',
    ...order.map((r) => `| ${LABEL[r] ?? r} | ${cell(ours, r)} | ${cell(floor, r)} | ${largest(r)} |`),
    `| **total** | **${ours ? int(total(ours)) : '—'}** | 100 % | **${floor ? int(total(floor)) : '—'}** | 100 % | |`,
  ];
  const copies = builds
    .map((b) => `${b.name}: ${int(b.named_bytes)} B with names, ${int(b.named_bytes - b.name_section)} B without (shipped: ${int(b.shipped_bytes)} B)`)
    .join('; ');
  const caption = `Raw bytes of each wasm (before gzip) by crate, from \`twiggy top\` (${attribution.twiggy || 'twiggy'}) on a named copy: wasm-bindgen's output through wasm-opt with the package's flags plus \`--debuginfo\`, which keeps the name section; the rows leave that section out. ${copies}. How an item is assigned to a row, and what inlining does to that: see the notes.`;
  const unattributed = builds.flatMap((b) => (b.unattributed_code ?? []).map(([n, s]) => `${b.name}: \`${n.replace(/\|/g, '\\|')}\` (${int(s)} B)`));
  const tail = unattributed.length ? `\n\nCode no crate could be named for (in the other row): ${unattributed.join('; ')}.` : '';
  return `${caption}\n\n${lines.join('\n')}${tail}`;
}
