// The systematic attacker of e2e/builtins_attack.spec.ts: a same-origin script that runs
// after token-warden loaded and replaces every function-valued property and every accessor
// of the standard built-ins reachable from globalThis with a recorder of `this`, the
// arguments and the result. Served into the test page from disk (plain ES module).
//
// What it keeps, to scan once the tokens are known (the page never knows them; the test
// reads them off the network):
//   - every string it was handed (this, an argument, a result);
//   - every object: Requests and Headers (read at the end through the real getters, as an
//     attacker who kept them would), Response bodies (cloned when first seen, as an
//     attacker would), the values promises settle with (an attacker can `then` any
//     promise it is handed), and the own properties of any other object (3 levels deep);
//   - every typed array, DataView and ArrayBuffer: one over the wasm memory is a finding
//     at once (the memories are known from `watchWasm`), the others are scanned for the
//     token at the end;
//   - WebAssembly memories, instances, tables and modules, and instances of any class the
//     glue exports, are findings at once: each gives access to the token or to the core.
//
// Function-valued data properties become accessors whose getter records the receiver (a
// read of `constructor`, `then` or `Symbol.iterator` is itself an attack surface) and
// returns a recording Proxy of the function; their setter defines an own property on the
// receiver, so code that shadows a built-in method by assignment still works.

// Everything the recorder uses, captured before anything is patched.
const R = {
  __proto__: null,
  apply: Reflect.apply,
  construct: Reflect.construct,
  ownKeys: Reflect.ownKeys,
  gopd: Reflect.getOwnPropertyDescriptor,
  define: Reflect.defineProperty,
  getProto: Reflect.getPrototypeOf,
};
const ProxyC = Proxy;
const MapC = Map;
const SetC = Set;
const mapGet = Map.prototype.get;
const mapSet = Map.prototype.set;
const mapHas = Map.prototype.has;
const setAdd = Set.prototype.add;
const setHas = Set.prototype.has;
const arrayPush = Array.prototype.push;
const isView = ArrayBuffer.isView;
const TypedArray = R.getProto(Uint8Array);
const taBuffer = R.gopd(TypedArray.prototype, 'buffer').get;
const dvBuffer = R.gopd(DataView.prototype, 'buffer').get;
const abByteLength = R.gopd(ArrayBuffer.prototype, 'byteLength').get;
const abDetached = R.gopd(ArrayBuffer.prototype, 'detached')?.get;
const memBuffer = R.gopd(WebAssembly.Memory.prototype, 'buffer').get;
const resBodyUsed = R.gopd(Response.prototype, 'bodyUsed').get;
const resClone = Response.prototype.clone;
const resBody = R.gopd(Response.prototype, 'body').get;
const getReader = ReadableStream.prototype.getReader;
const readerRead = ReadableStreamDefaultReader.prototype.read;
const reqHeaders = R.gopd(Request.prototype, 'headers').get;
const headersGet = Headers.prototype.get;
const headersEntries = Headers.prototype.entries;
const promiseThen = Promise.prototype.then;
const U8 = Uint8Array;
const latin1 = new TextDecoder('latin1');
const decode = TextDecoder.prototype.decode;
const strIncludes = String.prototype.includes;
const WA = WebAssembly;
const AB_PROTO = ArrayBuffer.prototype;
const RESPONSE_PROTO = Response.prototype;
const PROMISE_PROTO = Promise.prototype;
const WASM_PROTOS = [
  [WA.Memory.prototype, 'a WebAssembly.Memory'],
  [WA.Instance.prototype, 'a WebAssembly.Instance'],
  [WA.Table.prototype, 'a WebAssembly.Table'],
  [WA.Module.prototype, 'a WebAssembly.Module'],
  [WA.Global.prototype, 'a WebAssembly.Global'],
];

const call = (fn, self, ...args) => R.apply(fn, self, args);
const noop = () => {};

/** The memories of every instance the page creates from now on. */
const memories = [];

/**
 * Remembers the memory of every WebAssembly instance created after this call (run it before
 * the package loads). The harness's own instrument, not part of the attack: it lets the
 * recorder tell a view of the wasm memory from any other buffer.
 */
export function watchWasm() {
  const keep = (instance) => {
    const exports = instance?.exports;
    if (!exports) return;
    for (const key of R.ownKeys(exports)) {
      const value = exports[key];
      if (value instanceof WA.Memory) call(arrayPush, memories, value);
    }
  };
  const wrapAsync = (name) => {
    const original = WA[name];
    WA[name] = function (...args) {
      return call(promiseThen, R.apply(original, this, args), (result) => {
        keep(result instanceof WA.Instance ? result : result.instance);
        return result;
      });
    };
  };
  wrapAsync('instantiate');
  wrapAsync('instantiateStreaming');
  const Instance = WA.Instance;
  WA.Instance = new ProxyC(Instance, {
    __proto__: null,
    construct(target, args, newTarget) {
      const instance = R.construct(target, args, newTarget === WA.Instance ? target : newTarget);
      keep(instance);
      return instance;
    },
  });
}

/** How many memories `watchWasm` saw. */
export const memoryCount = () => memories.length;

/**
 * Built-ins left alone, and why: patching them breaks the page itself (or the harness),
 * not token-warden. Keys are `Owner.key` as the recorder labels them. None so far: the
 * page survives every function-valued property and accessor replaced at once (one batch).
 * The non-configurable ones cannot be replaced by any script and are reported apart.
 */
export const EXCLUDED = {
  __proto__: null,
};

/** Globals of the test harness itself (the recorder, the package under test): not built-ins. */
const HARNESS = ['rec', 'tw', 'tm'];

/**
 * The objects whose properties are patched: globalThis and its prototype chain, every
 * constructor and namespace reachable from it by name (their statics, their prototypes and
 * the prototype chains of both), and the intrinsics that have no global name.
 */
function targets() {
  const out = new MapC();
  const queue = [];
  const add = (object, label) => {
    if (object === null || (typeof object !== 'object' && typeof object !== 'function')) return;
    if (call(mapHas, out, object)) return;
    call(mapSet, out, object, label);
    call(arrayPush, queue, [object, label]);
  };
  add(globalThis, 'globalThis');
  const intrinsics = [
    [R.getProto(Uint8Array), '%TypedArray%'],
    [R.getProto(Uint8Array).prototype, '%TypedArray%.prototype'],
    [location, 'location'],
    // Named before `webkitURL`, its alias, gets there first.
    [URL, 'URL'],
    [URL.prototype, 'URL.prototype'],
    [R.getProto([][Symbol.iterator]()), '%ArrayIteratorPrototype%'],
    [R.getProto(''[Symbol.iterator]()), '%StringIteratorPrototype%'],
    [R.getProto(new Map()[Symbol.iterator]()), '%MapIteratorPrototype%'],
    [R.getProto(new Set()[Symbol.iterator]()), '%SetIteratorPrototype%'],
    [R.getProto(/a/[Symbol.matchAll]('')), '%RegExpStringIteratorPrototype%'],
    [R.getProto(R.getProto([][Symbol.iterator]())), '%IteratorPrototype%'],
    [R.getProto(function* () {}), '%GeneratorFunction.prototype%'],
    [R.getProto(function* () {}).prototype, '%GeneratorPrototype%'],
    [R.getProto(async function* () {}), '%AsyncGeneratorFunction.prototype%'],
    [R.getProto(async function* () {}).prototype, '%AsyncGeneratorPrototype%'],
    [R.getProto(R.getProto(async function* () {}).prototype), '%AsyncIteratorPrototype%'],
    [R.getProto(async function () {}), '%AsyncFunction.prototype%'],
    [R.getProto(new Headers().entries()), 'HeadersIterator'],
    [R.getProto(new URLSearchParams().entries()), 'URLSearchParamsIterator'],
    [R.getProto(new FormData().entries()), 'FormDataIterator'],
  ];
  for (const [object, label] of intrinsics) add(object, label);
  for (let i = 0; i < queue.length; i++) {
    const [object, label] = queue[i];
    add(R.getProto(object), `${label}.[[Prototype]]`);
    for (const key of R.ownKeys(object)) {
      if (object === globalThis && HARNESS.includes(key)) continue;
      const desc = R.gopd(object, key);
      if (!desc || !('value' in desc)) continue;
      const value = desc.value;
      const name = `${label === 'globalThis' ? '' : `${label}.`}${String(key)}`;
      if (typeof value === 'function') {
        add(value, name);
        add(value.prototype, `${name}.prototype`);
      } else if (object === globalThis && value !== null && typeof value === 'object' && value !== globalThis) {
        // Namespaces (Math, JSON, Reflect, Atomics, Intl, WebAssembly, console, CSS, ...)
        // and singletons (navigator, document, crypto, ...).
        add(value, name);
      }
    }
  }
  return out;
}

let busy = false;
let recording = false;
let observations = 0;
const strings = new MapC();
const objects = new MapC();
const buffers = new MapC();
const memoryBuffers = new SetC();
const findings = [];
const watched = [];
const wrappers = new MapC();
const MAX_OBJECTS = 2_000_000;
let objectCount = 0;
let overflow = false;

function finding(kind, label) {
  call(arrayPush, findings, { kind, label });
}

/** Records one value seen by a patched built-in: `what` it was (this, argument i, result) for `base`. */
function note(base, what, value) {
  observations += 1;
  if (typeof value === 'string') {
    if (value.length >= 8 && !call(mapHas, strings, value)) call(mapSet, strings, value, `${base} (${what})`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (call(mapHas, objects, value)) return;
  if (objectCount >= MAX_OBJECTS) {
    overflow = true;
    return;
  }
  objectCount += 1;
  const label = `${base} (${what})`;
  call(mapSet, objects, value, label);
  inspect(label, value);
}

function refreshMemoryBuffers() {
  for (let i = 0; i < memories.length; i++) call(setAdd, memoryBuffers, call(memBuffer, memories[i]));
}

function seeBuffer(label, buffer) {
  refreshMemoryBuffers();
  if (call(setHas, memoryBuffers, buffer)) finding('a view of the wasm memory', label);
  else if (!call(mapHas, buffers, buffer)) call(mapSet, buffers, buffer, label);
}

/** What an attacker does at once with an object it is handed. */
function inspect(label, value) {
  if (isView(value)) {
    let buffer;
    try {
      buffer = call(taBuffer, value);
    } catch {
      buffer = call(dvBuffer, value);
    }
    seeBuffer(label, buffer);
    return;
  }
  let proto;
  try {
    proto = R.getProto(value);
  } catch {
    return;
  }
  if (proto === AB_PROTO) return seeBuffer(label, value);
  for (let i = 0; i < WASM_PROTOS.length; i++) {
    if (proto === WASM_PROTOS[i][0]) return finding(WASM_PROTOS[i][1], label);
  }
  for (let i = 0; i < watched.length; i++) {
    if (proto === watched[i][0]) return finding(`an instance of the glue's ${watched[i][1]}`, label);
  }
  if (proto === RESPONSE_PROTO) {
    try {
      if (!call(resBodyUsed, value)) readClone(label, value);
    } catch {
      // Locked or otherwise unreadable: nothing an attacker could read either.
    }
  } else if (proto === PROMISE_PROTO) {
    call(promiseThen, value, (settled) => later(label, 'the value it settled with', settled), noop);
  }
}

/**
 * Reads a clone of `response` chunk by chunk, as an attacker would: each chunk is kept as
 * it arrives, so aborting the original's request after it was read loses nothing.
 */
function readClone(label, response) {
  const stream = call(resBody, call(resClone, response));
  if (!stream) return;
  const reader = call(getReader, stream);
  let text = '';
  const pump = () =>
    call(
      promiseThen,
      call(readerRead, reader),
      (chunk) => {
        if (chunk.value) {
          text += call(decode, latin1, chunk.value);
          later(label, 'its body, cloned', text);
        }
        if (!chunk.done) pump();
      },
      noop,
    );
  pump();
}

/** A value an attacker obtains later from something it was handed (a body, a settled promise). */
function later(label, what, value) {
  const was = busy;
  busy = true;
  try {
    note(label, what, value);
  } finally {
    busy = was;
  }
}

function observe(label, self, args, hasSelf = true) {
  busy = true;
  try {
    if (hasSelf) note(label, 'this', self);
    if (args) for (let i = 0; i < args.length; i++) note(label, `argument ${i}`, args[i]);
  } finally {
    busy = false;
  }
}

function observeResult(label, result) {
  busy = true;
  try {
    note(label, 'result', result);
  } finally {
    busy = false;
  }
}

/** A recording Proxy of `fn` (one per function, so identities stay stable). */
function wrap(fn, label) {
  const known = call(mapGet, wrappers, fn);
  if (known) return known;
  const proxy = new ProxyC(fn, {
    __proto__: null,
    apply(target, self, args) {
      if (busy || !recording) return R.apply(target, self, args);
      observe(label, self, args);
      const result = R.apply(target, self, args);
      observeResult(label, result);
      return result;
    },
    construct(target, args, newTarget) {
      if (busy || !recording) return R.construct(target, args, newTarget === proxy ? target : newTarget);
      observe(label, undefined, args, false);
      const result = R.construct(target, args, newTarget === proxy ? target : newTarget);
      observeResult(label, result);
      return result;
    },
  });
  call(mapSet, wrappers, fn, proxy);
  return proxy;
}

function patchAccessor(object, key, desc, label, undo) {
  const { get, set } = desc;
  const next = { __proto__: null, configurable: true, enumerable: desc.enumerable };
  if (get) {
    next.get = function () {
      if (busy || !recording) return R.apply(get, this, []);
      observe(label, this, null);
      const result = R.apply(get, this, []);
      observeResult(label, result);
      return result;
    };
  }
  if (set) {
    next.set = function (value) {
      if (!busy && recording) observe(`${label} [set]`, this, [value]);
      R.apply(set, this, [value]);
    };
  }
  if (!R.define(object, key, next)) return false;
  call(arrayPush, undo, [object, key, desc]);
  return true;
}

function patchMethod(object, key, desc, label, undo) {
  let current = desc.value;
  const read = `${label} [read]`;
  const next = {
    __proto__: null,
    configurable: true,
    enumerable: desc.enumerable,
    get() {
      if (!busy && recording) observe(read, this, null);
      return typeof current === 'function' ? wrap(current, label) : current;
    },
    set(value) {
      if (this === object) current = value;
      else R.define(this, key, { __proto__: null, value, writable: true, enumerable: true, configurable: true });
    },
  };
  if (!R.define(object, key, next)) return false;
  call(arrayPush, undo, [object, key, desc]);
  return true;
}

/**
 * Patches every function-valued property and accessor of every target (see `targets`),
 * except `EXCLUDED`. `classes` are [prototype, name] pairs of classes the glue exports:
 * an instance of one handed to a built-in is a finding. Returns the report and `restore`.
 */
export function patchAll({ classes = [] } = {}) {
  for (const entry of classes) call(arrayPush, watched, entry);
  const undo = [];
  const skipped = [];
  const names = [];
  let patched = 0;
  const all = targets();
  for (const [object, label] of all) {
    let keys;
    try {
      keys = R.ownKeys(object);
    } catch {
      continue;
    }
    for (const key of keys) {
      if (object === globalThis && HARNESS.includes(key)) continue;
      const name = `${label}.${String(key)}`;
      const desc = R.gopd(object, key);
      if (!desc) continue;
      const isAccessor = !('value' in desc);
      if (!isAccessor && typeof desc.value !== 'function') continue;
      if (EXCLUDED[name]) {
        call(arrayPush, skipped, { name, why: EXCLUDED[name] });
        continue;
      }
      if (!desc.configurable) {
        call(arrayPush, skipped, { name, why: 'non-configurable' });
        continue;
      }
      const done = isAccessor ? patchAccessor(object, key, desc, name, undo) : patchMethod(object, key, desc, name, undo);
      if (done) {
        patched += 1;
        call(arrayPush, names, name);
      } else {
        call(arrayPush, skipped, { name, why: 'defineProperty refused' });
      }
    }
  }
  recording = true;
  return {
    patched,
    names,
    objects: all.size,
    skipped,
    restore() {
      recording = false;
      for (let i = undo.length - 1; i >= 0; i--) {
        const [object, key, desc] = undo[i];
        R.define(object, key, desc);
      }
    },
  };
}

/** How much was recorded (call after `restore`). */
export function stats() {
  return { observations, strings: strings.size, objects: objectCount, buffers: buffers.size, overflow, memories: memories.length };
}

const contains = (text, tokens) => {
  for (const token of tokens) if (call(strIncludes, text, token)) return true;
  return false;
};

/**
 * After `restore`: everything recorded that carries one of `tokens`, as
 * `{ kind, label }` (label: the built-in and the position that saw it).
 */
export async function scan(tokens) {
  // Let cloned bodies and followed promises settle.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const out = findings.slice();
  for (const [text, label] of strings) if (contains(text, tokens)) out.push({ kind: 'a string with the token', label });
  const seen = new Set();
  const walk = (value, label, depth) => {
    if (value === null || typeof value !== 'object' || value === globalThis || seen.has(value)) return;
    seen.add(value);
    let proto;
    try {
      proto = Object.getPrototypeOf(value);
    } catch {
      return;
    }
    if (proto === Request.prototype) {
      const auth = headersGet.call(reqHeaders.call(value), 'authorization');
      if (auth && contains(auth, tokens)) out.push({ kind: 'a Request carrying the token', label });
      return;
    }
    if (proto === Headers.prototype) {
      for (const [, v] of headersEntries.call(value)) {
        if (contains(v, tokens)) out.push({ kind: 'a Headers carrying the token', label });
      }
      return;
    }
    if (depth > 3) return;
    let keys;
    try {
      keys = Reflect.ownKeys(value);
    } catch {
      return;
    }
    for (const key of keys) {
      let desc;
      try {
        desc = Reflect.getOwnPropertyDescriptor(value, key);
      } catch {
        continue;
      }
      if (!desc || !('value' in desc)) continue;
      const v = desc.value;
      if (typeof v === 'string') {
        if (contains(v, tokens)) out.push({ kind: `an object holding the token in ${String(key)}`, label });
      } else {
        walk(v, label, depth + 1);
      }
    }
  };
  for (const [object, label] of objects) walk(object, label, 0);
  for (const [buffer, label] of buffers) {
    if (abDetached && abDetached.call(buffer)) continue;
    const length = abByteLength.call(buffer);
    if (length === 0 || length > 64 * 1024 * 1024) continue;
    const text = decode.call(latin1, new U8(buffer));
    if (contains(text, tokens)) out.push({ kind: 'a buffer holding the token', label });
  }
  const unique = new Map();
  for (const f of out) unique.set(`${f.kind} | ${f.label}`, f);
  return [...unique.values()];
}
