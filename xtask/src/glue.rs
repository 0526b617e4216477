//! Post-processing of the wasm-bindgen glue (`pkg/token_warden.js` and its `.d.ts`).
//!
//! The adversary is a script on the page that runs after the package loaded and may
//! replace any built-in: a prototype method, a getter, a global. The glue as generated
//! hands such a script the keys:
//!
//! * its init functions return the instance exports, and with them `memory`;
//! * every memory view it builds goes through `%TypedArray%.prototype.byteLength`,
//!   `subarray`, `slice` (whose species lookup reads `constructor`), the `Uint8Array`
//!   global and `WebAssembly.Memory.prototype.buffer`; every string through
//!   `String.prototype.charCodeAt`/`slice`, `TextEncoder.prototype.encodeInto` and
//!   `TextDecoder.prototype.decode`: each is handed the wasm memory or the text (a
//!   token response body, the `Authorization` value);
//! * the externref table goes through `WebAssembly.Table.prototype.set`, a
//!   `TokenManager` through `FinalizationRegistry.prototype.register`;
//! * a method reads its receiver's pointer from `this.__wbg_ptr`, so
//!   `TokenManager.prototype.accessToken.call({ __wbg_ptr: N })` acts on the app's own
//!   manager (N is the same on every load of a build), and `TokenManager.prototype` is
//!   writable, so a script can replace a method and be handed the genuine receiver.
//!
//! The edits below capture every built-in the glue touches after load in a prologue that
//! runs when the module is evaluated, route each call through them, keep each core's
//! pointer in a `WeakMap` only this module can write (a receiver it did not construct
//! throws before reaching the wasm: forging is impossible, not merely hard), and freeze
//! the class. The core writes the token through `twSetAuthorization`, defined in the
//! prologue (the Rust side imports it by that name).
//!
//! Every method also works detached, as `window.fetch` does (`const { fetch, on } = tm`,
//! `ky.create({ fetch: tm.fetch })`): the constructor gives each new manager every method
//! of the frozen prototype as its own non-writable, non-configurable, non-enumerable
//! property, bound to it with the captured `Function.prototype.bind`, and freezes the
//! manager. No script can replace `tm.fetch` (to be handed the app's requests) or bind
//! a method to anything but the manager it was read from; the prototype methods keep
//! their receiver check.
//!
//! Every edit is an exact text replacement that must match the expected number of times
//! (or, for the per-method call sites, at least once), and the result must not contain
//! any of [`FORBIDDEN`], so a wasm-bindgen upgrade that changes the glue fails the build
//! instead of silently shipping an unhardened package.

use crate::cmd::Result;

/// How many times an edit must match.
#[derive(Clone, Copy)]
enum Times {
    /// Exactly this many.
    Exactly(usize),
    /// At least once: one per method of the class; [`FORBIDDEN`] then checks none is left.
    EveryMethod,
}

/// One edit: `from` must occur as `times` says.
struct Edit {
    from: &'static str,
    to: &'static str,
    times: Times,
}

const fn once(from: &'static str, to: &'static str) -> Edit {
    Edit {
        from,
        to,
        times: Times::Exactly(1),
    }
}

/// What the glue captures when it loads, and the helpers that use it.
const PROLOGUE: &str = r#"/* @ts-self-types="./token_warden.d.ts" */
// token-warden (xtask/src/glue.rs): every built-in this glue calls after load, captured
// now. A script that later replaces or patches one of them (a prototype method, a getter,
// a global) is never handed the wasm memory, a view of it, a string on its way in or out,
// the externref table, a closure's arguments or a TokenManager; a TokenManager method
// called on an object this module did not construct throws before it reaches the wasm.
const twApply = Reflect.apply;
const twU8 = Uint8Array;
const twU8Set = Uint8Array.prototype.set;
const twDataView = DataView;
const twSetInt32 = DataView.prototype.setInt32;
const twSetFloat64 = DataView.prototype.setFloat64;
const twBufferOf = Reflect.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, 'buffer').get;
const twTableSet = WebAssembly.Table.prototype.set;
const twTableGet = WebAssembly.Table.prototype.get;
const twThen = Promise.prototype.then;
// The instantiation hands back the instance and its memory: a script that replaced
// `WebAssembly.instantiate` between the import and `createTokenManager` would get both.
const twWebAssembly = WebAssembly;
const twInstantiate = WebAssembly.instantiate;
const twInstantiateStreaming = WebAssembly.instantiateStreaming;
const twInstance = WebAssembly.Instance;
const twObjectToString = Object.prototype.toString;
const twTextDecoder = TextDecoder;
const twDecode = TextDecoder.prototype.decode;
let twDecoder = new twTextDecoder('utf-8', { __proto__: null, ignoreBOM: true });
let twDecoded = 0;
const twEncoder = new TextEncoder();
const twEncodeInto = TextEncoder.prototype.encodeInto;
const twCores = new WeakMap();
const twCoreGet = WeakMap.prototype.get;
const twCoreSet = WeakMap.prototype.set;
const twCoreDelete = WeakMap.prototype.delete;
const twRegister = typeof FinalizationRegistry === 'function' ? FinalizationRegistry.prototype.register : undefined;
const twUnregister = typeof FinalizationRegistry === 'function' ? FinalizationRegistry.prototype.unregister : undefined;
const twTypeError = TypeError;
const twFreeze = Object.freeze;
const twBind = Function.prototype.bind;
const twDefine = Reflect.defineProperty;
const twOwnKeys = Reflect.ownKeys;
const twOwnDescriptor = Reflect.getOwnPropertyDescriptor;
/** The keys and functions of the frozen class's methods, in pairs (filled by `twListMethods`). */
const twMethods = [];
/** `len` bytes of the wasm memory from `ptr`: a fresh view that only captured built-ins see. */
function twBytes(ptr, len) {
    return new twU8(twApply(twBufferOf, wasm.memory, []), ptr, len);
}
/** A fresh DataView of the wasm memory. */
function twView() {
    return new twDataView(twApply(twBufferOf, wasm.memory, []));
}
function twSetI32(at, value, little) {
    twApply(twSetInt32, twView(), [at, value, little]);
}
function twSetF64(at, value, little) {
    twApply(twSetFloat64, twView(), [at, value, little]);
}
/** The pointer of a live TokenManager this module constructed; any other receiver throws. */
function twPtr(core) {
    const ptr = twApply(twCoreGet, twCores, [core]);
    if (ptr === undefined) throw new twTypeError('not a live TokenManager of this module');
    return ptr;
}
function twAdopt(core, ptr) {
    twApply(twCoreSet, twCores, [core, ptr]);
    if (twRegister) twApply(twRegister, TokenManagerFinalization, [core, ptr, core]);
}
/**
 * Lists (once, when the module is evaluated) every method of the frozen class prototype
 * and freezes each function, so a script can neither replace one nor redefine its `name`.
 */
function twListMethods(proto) {
    const keys = twOwnKeys(proto);
    for (let i = 0; i < keys.length; i++) {
        const d = twOwnDescriptor(proto, keys[i]);
        if (keys[i] === 'constructor' || typeof d.value !== 'function') continue;
        twFreeze(d.value);
        twMethods[twMethods.length] = keys[i];
        twMethods[twMethods.length] = d.value;
    }
    twFreeze(twMethods);
}
/**
 * Gives a new manager each method as its own property, bound to it (as `window.fetch` is
 * bound to its window): `const { fetch, on } = tm` and `ky.create({ fetch: tm.fetch })`
 * work. Non-writable and non-configurable on a frozen object, so no script can replace
 * `tm.fetch` to be handed the arguments of the app's calls; non-enumerable, so the
 * manager still serializes as `{}`.
 */
function twOwnMethods(core) {
    for (let i = 0; i < twMethods.length; i += 2) {
        const bound = twApply(twBind, twMethods[i + 1], [core]);
        twDefine(core, twMethods[i], { __proto__: null, value: bound, writable: false, enumerable: false, configurable: false });
    }
    twFreeze(core);
}
function twRelease(core) {
    const ptr = twPtr(core);
    twApply(twCoreDelete, twCores, [core]);
    if (twUnregister) twApply(twUnregister, TokenManagerFinalization, [core]);
    return ptr;
}
function twTrack(real, state) {
    if (twRegister) twApply(twRegister, CLOSURE_DTORS, [real, state, state]);
}
function twUntrack(state) {
    if (twUnregister) twApply(twUnregister, CLOSURE_DTORS, [state]);
}
"#;

/// The closure wrappers: no spread of the arguments (it would run the array iterator a
/// page can replace, with a token response among the arguments), the finalization
/// registry through the captured methods. Every closure of ours takes at most 3 arguments.
const CLOSURE_CALLS: [(&str, &str); 4] = [
    (
        "            return f(state.a, state.b, ...args);\n",
        "            return f(state.a, state.b, args[0], args[1], args[2]);\n",
    ),
    (
        "            return f(a, state.b, ...args);\n",
        "            return f(a, state.b, args[0], args[1], args[2]);\n",
    ),
    (
        "            CLOSURE_DTORS.unregister(state);\n",
        "            twUntrack(state);\n",
    ),
    (
        "    CLOSURE_DTORS.register(real, state, state);\n",
        "    twTrack(real, state);\n",
    ),
];

const fn each(from: &'static str, to: &'static str) -> Edit {
    Edit {
        from,
        to,
        times: Times::EveryMethod,
    }
}

const JS_EDITS: [Edit; 42] = [
    once(r#"/* @ts-self-types="./token_warden.d.ts" */
"#, PROLOGUE),
    // The init functions hand out nothing (by default they return the exports, `memory`
    // included, to any script that imports the glue and calls them).
    once(
        "    wasm.__wbindgen_start();\n    return wasm;\n",
        "    wasm.__wbindgen_start();\n",
    ),
    Edit {
        from: "if (wasm !== undefined) return wasm;",
        to: "if (wasm !== undefined) return;",
        times: Times::Exactly(2),
    },
    // Receivers: the pointer lives in the WeakMap, never on the object; the methods are
    // the manager's own, bound to it, and the manager is frozen.
    once(
        "        this.__wbg_ptr = ret[0];\n        TokenManagerFinalization.register(this, this.__wbg_ptr, this);\n",
        "        twAdopt(this, ret[0]);\n        twOwnMethods(this);\n",
    ),
    // One method fewer on the prototype, and `free()` twice is harmless.
    once(
        "    __destroy_into_raw() {\n        const ptr = this.__wbg_ptr;\n        this.__wbg_ptr = 0;\n        TokenManagerFinalization.unregister(this);\n        return ptr;\n    }\n    free() {\n        const ptr = this.__destroy_into_raw();\n        wasm.__wbg_tokenmanager_free(ptr, 0);\n    }\n",
        "    free() {\n        if (twApply(twCoreGet, twCores, [this]) === undefined) return;\n        wasm.__wbg_tokenmanager_free(twRelease(this), 0);\n    }\n",
    ),
    each("(this.__wbg_ptr", "(twPtr(this)"),
    // A getter read on anything but a live manager (the prototype itself, when a script
    // lists it) gives nothing rather than throwing.
    once(
        "    get expiresAt() {\n",
        "    get expiresAt() {\n        if (twApply(twCoreGet, twCores, [this]) === undefined) return undefined;\n",
    ),
    once(
        "    get state() {\n",
        "    get state() {\n        if (twApply(twCoreGet, twCores, [this]) === undefined) return undefined;\n",
    ),
    // No method can be replaced to be handed the genuine receiver and its arguments.
    once(
        "if (Symbol.dispose) TokenManager.prototype[Symbol.dispose] = TokenManager.prototype.free;\n",
        "if (Symbol.dispose) TokenManager.prototype[Symbol.dispose] = TokenManager.prototype.free;\ntwFreeze(TokenManager.prototype);\ntwFreeze(TokenManager);\ntwListMethods(TokenManager.prototype);\n",
    ),
    once(
        "function getUint8ArrayMemory0() {\n    if (cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.byteLength === 0) {\n        cachedUint8ArrayMemory0 = new Uint8Array(wasm.memory.buffer);\n    }\n    return cachedUint8ArrayMemory0;\n}\n",
        "function getUint8ArrayMemory0() {\n    return new twU8(twApply(twBufferOf, wasm.memory, []));\n}\n",
    ),
    once(
        "function getArrayU8FromWasm0(ptr, len) {\n    ptr = ptr >>> 0;\n    return getUint8ArrayMemory0().subarray(ptr / 1, ptr / 1 + len);\n}\n",
        "function getArrayU8FromWasm0(ptr, len) {\n    return twBytes(ptr >>> 0, len);\n}\n",
    ),
    once(
        "function getDataViewMemory0() {\n    if (cachedDataViewMemory0 === null || cachedDataViewMemory0.buffer.detached === true || (cachedDataViewMemory0.buffer.detached === undefined && cachedDataViewMemory0.buffer !== wasm.memory.buffer)) {\n        cachedDataViewMemory0 = new DataView(wasm.memory.buffer);\n    }\n    return cachedDataViewMemory0;\n}\n",
        "function getDataViewMemory0() {\n    return twView();\n}\n",
    ),
    each("getDataViewMemory0().setInt32(", "twSetI32("),
    each("getDataViewMemory0().setFloat64(", "twSetF64("),
    once(
        "Uint8Array.prototype.set.call(getArrayU8FromWasm0(arg0, arg1), arg2);",
        "twApply(twU8Set, getArrayU8FromWasm0(arg0, arg1), [arg2]);",
    ),
    // Strings out: the captured decoder on a fresh view (and Safari's 2 GB workaround,
    // counted from the length the wasm gave, not from the view).
    once(
        "function getStringFromWasm0(ptr, len) {\n    ptr = ptr >>> 0;\n    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));\n}\n",
        "function getStringFromWasm0(ptr, len) {\n    ptr = ptr >>> 0;\n    twDecoded += len;\n    if (twDecoded >= MAX_SAFARI_DECODE_BYTES) {\n        twDecoder = new twTextDecoder('utf-8', { __proto__: null, ignoreBOM: true });\n        twDecoded = len;\n    }\n    return twApply(twDecode, twDecoder, [twBytes(ptr, len)]);\n}\n",
    ),
    once(
        "function decodeText(bytes) {\n    numBytesDecoded += bytes.length;\n    if (numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {\n        cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });\n        cachedTextDecoder.decode();\n        numBytesDecoded = bytes.length;\n    }\n    return cachedTextDecoder.decode(bytes);\n}\n",
        "function decodeText(bytes) {\n    return twApply(twDecode, twDecoder, [bytes]);\n}\n",
    ),
    // Strings in: the captured encoder into a fresh view, no `String.prototype` method;
    // ASCII in one pass, anything else encoded again into room for the worst case.
    once(
        r#"function passStringToWasm0(arg, malloc, realloc) {
    if (realloc === undefined) {
        const buf = cachedTextEncoder.encode(arg);
        const ptr = malloc(buf.length, 1) >>> 0;
        getUint8ArrayMemory0().subarray(ptr, ptr + buf.length).set(buf);
        WASM_VECTOR_LEN = buf.length;
        return ptr;
    }

    let len = arg.length;
    let ptr = malloc(len, 1) >>> 0;

    const mem = getUint8ArrayMemory0();

    let offset = 0;

    for (; offset < len; offset++) {
        const code = arg.charCodeAt(offset);
        if (code > 0x7F) break;
        mem[ptr + offset] = code;
    }
    if (offset !== len) {
        if (offset !== 0) {
            arg = arg.slice(offset);
        }
        ptr = realloc(ptr, len, len = offset + arg.length * 3, 1) >>> 0;
        const view = getUint8ArrayMemory0().subarray(ptr + offset, ptr + len);
        const ret = cachedTextEncoder.encodeInto(arg, view);

        offset += ret.written;
        ptr = realloc(ptr, len, offset, 1) >>> 0;
    }

    WASM_VECTOR_LEN = offset;
    return ptr;
}
"#,
        r#"function passStringToWasm0(arg, malloc, realloc) {
    const len = arg.length;
    const room = len * 3;
    let ptr = malloc(realloc === undefined ? room : len, 1) >>> 0;
    let done = twApply(twEncodeInto, twEncoder, [arg, twBytes(ptr, realloc === undefined ? room : len)]);
    if (done.read !== len) {
        ptr = realloc(ptr, len, room, 1) >>> 0;
        done = twApply(twEncodeInto, twEncoder, [arg, twBytes(ptr, room)]);
    }
    if (realloc !== undefined && done.written !== len) ptr = realloc(ptr, room, done.written, 1) >>> 0;
    WASM_VECTOR_LEN = done.written;
    return ptr;
}
"#,
    ),
    once(
        r#"
if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}
"#,
        "\n",
    ),
    once(
        "const cachedTextEncoder = new TextEncoder();\n",
        "",
    ),
    // Calls into JS (a handler, a promise's resolve, an import that throws), promises
    // (a token response settles one), and the externref table.
    once(
        "        return f.apply(this, args);\n",
        "        return twApply(f, this, args);\n",
    ),
    each("const ret = arg0.call(arg1);", "const ret = twApply(arg0, arg1, []);"),
    each("const ret = arg0.call(arg1, arg2);", "const ret = twApply(arg0, arg1, [arg2]);"),
    each("const ret = arg0.then(arg1, arg2);", "const ret = twApply(twThen, arg0, [arg1, arg2]);"),
    each("const ret = arg0.then(arg1);", "const ret = twApply(twThen, arg0, [arg1]);"),
    once(
        "const toStringOutput = toString.call(val);",
        "const toStringOutput = twApply(twObjectToString, val, []);",
    ),
    once(
        "    wasm.__wbindgen_externrefs.set(idx, obj);\n",
        "    twApply(twTableSet, wasm.__wbindgen_externrefs, [idx, obj]);\n",
    ),
    once(
        "    const value = wasm.__wbindgen_externrefs.get(idx);\n",
        "    const value = twApply(twTableGet, wasm.__wbindgen_externrefs, [idx]);\n",
    ),
    once(
        "            table.set(0, undefined);\n            table.set(1024, undefined);\n            table.set(1025, null);\n            table.set(1026, true);\n            table.set(1027, false);\n",
        "            twApply(twTableSet, table, [0, undefined]);\n            twApply(twTableSet, table, [1024, undefined]);\n            twApply(twTableSet, table, [1025, null]);\n            twApply(twTableSet, table, [1026, true]);\n            twApply(twTableSet, table, [1027, false]);\n",
    ),
    once(
        "twSetAuthorization(arg0, getStringFromWasm0(arg1, arg2));",
        "twSetAuthorization(arg0, getStringFromWasm0(arg1, arg2));",
    ),
    each(CLOSURE_CALLS[0].0, CLOSURE_CALLS[0].1),
    each(CLOSURE_CALLS[1].0, CLOSURE_CALLS[1].1),
    each(CLOSURE_CALLS[2].0, CLOSURE_CALLS[2].1),
    each(CLOSURE_CALLS[3].0, CLOSURE_CALLS[3].1),
    once("let cachedDataViewMemory0 = null;\n", ""),
    once("    cachedDataViewMemory0 = null;\n", ""),
    // The instantiation through the functions captured at load (see the prologue).
    // The init functions go to the package entry only: it claims them while it is
    // evaluated, right after this module and before any other script can run, so no
    // script that imports the glue by URL can initialise it with a module of its own
    // (whose code would then receive the token) or see its instance.
    once(
        "export { initSync, __wbg_init as default };",
        "let twInitClaimed = false;\nfunction twClaimInit() {\n    if (twInitClaimed) return undefined;\n    twInitClaimed = true;\n    return twFreeze({ __proto__: null, init: __wbg_init, initSync });\n}\nexport { twClaimInit };",
    ),
    once(
        "if (typeof WebAssembly.instantiateStreaming === 'function') {",
        "if (typeof twInstantiateStreaming === 'function') {",
    ),
    once(
        "await WebAssembly.instantiateStreaming(module, imports);",
        "await twApply(twInstantiateStreaming, twWebAssembly, [module, imports]);",
    ),
    once(
        "await WebAssembly.instantiate(bytes, imports);",
        "await twApply(twInstantiate, twWebAssembly, [bytes, imports]);",
    ),
    once(
        "await WebAssembly.instantiate(module, imports);",
        "await twApply(twInstantiate, twWebAssembly, [module, imports]);",
    ),
    once(
        "instance instanceof WebAssembly.Instance) {\n            return { instance, module };",
        "instance instanceof twInstance) {\n            return { instance, module };",
    ),
];

/// What no hardened glue may contain: each reaches a built-in a page script can replace
/// after load while holding the memory, a string, the table, a closure's arguments or a
/// receiver, or hands out the exports.
pub const FORBIDDEN: [&str; 28] = [
    "__wbg_ptr",
    ".subarray(",
    ".slice(",
    ".byteLength",
    "bytes.length",
    "buf.length",
    "charCodeAt",
    ".call(",
    ".apply(",
    ".bind(",
    ".then(",
    ", ...args",
    "Finalization.register(",
    "Finalization.unregister(",
    "CLOSURE_DTORS.register(",
    "CLOSURE_DTORS.unregister(",
    "cachedTextEncoder",
    "cachedTextDecoder.decode(bytes",
    "cachedDataViewMemory0",
    "getDataViewMemory0().",
    "__wbindgen_externrefs.set(",
    "__wbindgen_externrefs.get(",
    "memory.buffer",
    "return wasm;",
    "arg.slice",
    "await WebAssembly.",
    "instanceof WebAssembly.Instance)",
    "as default",
];

/// The declarations follow: the init functions resolve to nothing.
const DTS_EDITS: [Edit; 3] = [
    once(
        "export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;",
        "declare function initSync(module: { module: SyncInitInput } | SyncInitInput): void;",
    ),
    once(
        "export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;",
        "declare function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<void>;",
    ),
    once(
        "export type SyncInitInput",
        "/**\n * The init functions, handed once: to the package entry, which claims them while it is\n * evaluated. Every later call returns `undefined`.\n */\nexport function twClaimInit(): { readonly init: typeof __wbg_init; readonly initSync: typeof initSync } | undefined;\n\nexport type SyncInitInput",
    ),
];

fn apply(text: &str, edits: &[Edit], file: &str) -> Result<String> {
    let mut out = text.to_owned();
    for edit in edits {
        let found = out.matches(edit.from).count();
        let expected = match edit.times {
            Times::Exactly(n) => found == n,
            Times::EveryMethod => found >= 1,
        };
        if !expected {
            let want = match edit.times {
                Times::Exactly(n) => n.to_string(),
                Times::EveryMethod => "at least 1".to_owned(),
            };
            return Err(format!(
                "{file}: expected {want} occurrence(s) of {:?}, found {found}; has wasm-bindgen changed its glue?",
                edit.from
            ));
        }
        out = out.replace(edit.from, edit.to);
    }
    Ok(out)
}

/// The glue with the wasm-bindgen snippet `src/browser/captured.js` (written by
/// wasm-bindgen under `pkg/snippets/`) inlined: one module fewer to fetch, and its
/// functions are no module's exports, so no page script can import and call them. Its
/// `export function` become plain functions, each `import * as importN` of it becomes
/// `const importN = twCaptured`, and `snippets/` is removed.
pub fn inline_snippets(glue: &str, pkg: &std::path::Path) -> Result<String> {
    let mut snippet_path = None;
    let mut out = String::new();
    let mut aliases = Vec::new();
    for line in glue.lines() {
        let from_snippet = line.starts_with("import ") && line.contains("/snippets/");
        if !from_snippet {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let quoted = line
            .split(['\'', '"'])
            .nth(1)
            .ok_or_else(|| format!("token_warden.js: cannot read the snippet import {line:?}"))?;
        match &snippet_path {
            None => snippet_path = Some(quoted.to_owned()),
            Some(known) if known == quoted => {}
            Some(known) => {
                return Err(format!(
                    "token_warden.js imports two snippets ({known}, {quoted}); only src/browser/captured.js is expected"
                ))
            }
        }
        if let Some(rest) = line.strip_prefix("import * as ") {
            let alias = rest.split_whitespace().next().unwrap_or_default();
            aliases.push(alias.to_owned());
        }
    }
    let Some(relative) = snippet_path else {
        return Err("token_warden.js imports no snippet; expected src/browser/captured.js".into());
    };
    if !relative.ends_with("/src/browser/captured.js") {
        return Err(format!("unexpected snippet {relative}"));
    }
    let path = pkg.join(relative.trim_start_matches("./"));
    let snippet = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let names: Vec<&str> = snippet
        .lines()
        .filter_map(|l| l.strip_prefix("export function "))
        .filter_map(|l| l.split('(').next())
        .collect();
    let mut inlined = String::from("// src/browser/captured.js, inlined (xtask/src/glue.rs):\n");
    inlined.push_str(&snippet.replace("export function ", "function "));
    inlined.push_str(&format!(
        "const twCaptured = Object.freeze({{ __proto__: null, {} }});\n",
        names.join(", ")
    ));
    for alias in aliases {
        inlined.push_str(&format!("const {alias} = twCaptured;\n"));
    }
    if inlined.lines().any(|l| l.starts_with("export ")) {
        return Err("src/browser/captured.js: every export must be `export function`".into());
    }
    // After the first line (the types comment the prologue edit expects).
    let first_line_end = out.find('\n').map_or(0, |i| i + 1);
    out.insert_str(first_line_end, &inlined);
    std::fs::remove_dir_all(pkg.join("snippets"))
        .map_err(|e| format!("cannot remove pkg/snippets: {e}"))?;
    Ok(out)
}

/// The hardened glue.
pub fn harden_js(text: &str) -> Result<String> {
    let out = apply(text, &JS_EDITS, "token_warden.js")?;
    if let Some(left) = FORBIDDEN.iter().find(|f| out.contains(**f)) {
        return Err(format!(
            "token_warden.js: {left:?} is still in the hardened glue; has wasm-bindgen changed its glue?"
        ));
    }
    Ok(out)
}

/// The declarations of the hardened glue.
pub fn harden_dts(text: &str) -> Result<String> {
    apply(text, &DTS_EDITS, "token_warden.d.ts")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A glue made of exactly what the edits expect, plus two methods as wasm-bindgen
    /// writes them.
    fn glue() -> String {
        let mut text = String::new();
        for edit in &JS_EDITS {
            let n = match edit.times {
                Times::Exactly(n) => n,
                Times::EveryMethod => 1,
            };
            for _ in 0..n {
                text.push_str(edit.from);
                text.push('\n');
            }
        }
        text.push_str("    fetch(input, init) {\n        const ret = wasm.tokenmanager_fetch(this.__wbg_ptr, input, init);\n        return ret;\n    }\n");
        text.push_str("    start() {\n        const ret = wasm.tokenmanager_start(this.__wbg_ptr);\n        return ret;\n    }\n");
        text
    }

    #[test]
    fn the_hardened_glue_reaches_no_built_in_a_page_can_replace() {
        let input = glue();
        let out = harden_js(&input).unwrap();
        for forbidden in FORBIDDEN {
            assert!(!out.contains(forbidden), "{forbidden} in {out}");
        }
        assert!(out.starts_with(PROLOGUE));
        assert!(out.contains("wasm.tokenmanager_fetch(twPtr(this), input, init);"));
        assert!(out.contains("wasm.tokenmanager_start(twPtr(this));"));
        assert!(out.contains("twFreeze(TokenManager.prototype);"));
        // Detached methods: each manager gets its own bound methods, listed from the
        // prototype once it is frozen.
        assert!(out.contains("        twAdopt(this, ret[0]);\n        twOwnMethods(this);\n"));
        let frozen = out.find("twFreeze(TokenManager);").unwrap();
        let listed = out.find("twListMethods(TokenManager.prototype);").unwrap();
        assert!(
            frozen < listed,
            "the methods are listed after the class is frozen"
        );
        // Their loops index the arrays: a `for…of` would run the array iterator, which a
        // page can replace.
        assert!(
            !PROLOGUE.contains("for (const "),
            "a for…of in the prologue"
        );
        for captured in [
            "Function.prototype.bind;",
            "Reflect.defineProperty;",
            "Reflect.ownKeys;",
        ] {
            assert!(
                PROLOGUE.contains(captured),
                "{captured} is captured at load"
            );
        }
        // The edits keep the braces as balanced as the fragments they replace.
        let balance = |t: &str| t.matches('{').count() as i64 - t.matches('}').count() as i64;
        assert_eq!(balance(&out), balance(&input), "{out}");
    }

    #[test]
    fn a_changed_glue_fails_loudly() {
        let changed = glue().replace(
            "return f.apply(this, args);",
            "return f.call(this, ...args);",
        );
        let err = harden_js(&changed).unwrap_err();
        assert!(err.contains("has wasm-bindgen changed its glue"), "{err}");
        assert!(harden_js(&glue().replace("return wasm;", "")).is_err());
        // A new helper that views the memory the old way is caught even if every edit matched.
        let extra = format!(
            "{}function more(p) {{ return getUint8ArrayMemory0().subarray(p); }}\n",
            glue()
        );
        let err = harden_js(&extra).unwrap_err();
        assert!(err.contains(".subarray("), "{err}");
        // A method the per-method edits missed still reads `__wbg_ptr`: caught.
        let missed = format!("{}    x() {{ return this.__wbg_ptr; }}\n", glue());
        assert!(harden_js(&missed).unwrap_err().contains("__wbg_ptr"));
        // Binding through `Function.prototype.bind` looked up at call time: caught.
        let bound = format!(
            "{}const m = TokenManager.prototype.fetch.bind(tm);\n",
            glue()
        );
        assert!(harden_js(&bound).unwrap_err().contains(".bind("));
    }
}
