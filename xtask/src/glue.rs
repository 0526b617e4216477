//! Post-processing of the wasm-bindgen glue (`pkg/token_warden.js` and its `.d.ts`).
//!
//! Every edit is an exact text replacement that must match the expected number of times,
//! so a wasm-bindgen upgrade that changes the glue fails the build instead of silently
//! shipping an unhardened package.

use crate::cmd::Result;

/// One edit: `from` must occur exactly `times` times.
struct Edit {
    from: &'static str,
    to: &'static str,
    times: usize,
}

/// The glue's init functions hand the caller the instance exports, and with them
/// `memory`: any script on the page could `import()` the glue, call its `default()` and
/// read the token out of linear memory. Ours return nothing. The one JS function the core
/// calls with a token (the lent setter) is invoked through `Reflect.apply` captured at
/// load, not through `Function.prototype.call`/`apply`, which a page script may replace.
const JS_EDITS: [Edit; 5] = [
    Edit {
        from: "    wasm.__wbindgen_start();\n    return wasm;\n",
        to: "    wasm.__wbindgen_start();\n",
        times: 1,
    },
    Edit {
        from: "if (wasm !== undefined) return wasm;",
        to: "if (wasm !== undefined) return;",
        times: 2,
    },
    Edit {
        from: "const ret = arg0.call(arg1, arg2, arg3);",
        to: "const ret = twApply(arg0, arg1, [arg2, arg3]);",
        times: 1,
    },
    Edit {
        from: "return f.apply(this, args);",
        to: "return twApply(f, this, args);",
        times: 1,
    },
    Edit {
        from: "let wasmModule, wasmInstance, wasm;\n",
        to: "let wasmModule, wasmInstance, wasm;\n// token-warden: captured at load (xtask/src/glue.rs).\nconst twApply = Reflect.apply;\n",
        times: 1,
    },
];

/// The declarations follow: the init functions resolve to nothing.
const DTS_EDITS: [Edit; 2] = [
    Edit {
        from: "SyncInitInput): InitOutput;",
        to: "SyncInitInput): void;",
        times: 1,
    },
    Edit {
        from: "Promise<InitInput>): Promise<InitOutput>;",
        to: "Promise<InitInput>): Promise<void>;",
        times: 1,
    },
];

fn apply(text: &str, edits: &[Edit], file: &str) -> Result<String> {
    let mut out = text.to_owned();
    for edit in edits {
        let found = out.matches(edit.from).count();
        if found != edit.times {
            return Err(format!(
                "{file}: expected {} occurrence(s) of {:?}, found {found}; has wasm-bindgen changed its glue?",
                edit.times, edit.from
            ));
        }
        out = out.replace(edit.from, edit.to);
    }
    Ok(out)
}

/// The hardened glue.
pub fn harden_js(text: &str) -> Result<String> {
    apply(text, &JS_EDITS, "token_warden.js")
}

/// The declarations of the hardened glue.
pub fn harden_dts(text: &str) -> Result<String> {
    apply(text, &DTS_EDITS, "token_warden.d.ts")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = "let wasmModule, wasmInstance, wasm;\nfunction f(instance) {\n    wasm = instance.exports;\n    wasm.__wbindgen_start();\n    return wasm;\n}\nfunction initSync(m) {\n    if (wasm !== undefined) return wasm;\n}\nasync function init(m) {\n    if (wasm !== undefined) return wasm;\n}\nfunction handleError(f, args) {\n    try {\n        return f.apply(this, args);\n    } catch (e) {}\n}\nconst i = { c: function (arg0, arg1, arg2, arg3) {\n            const ret = arg0.call(arg1, arg2, arg3);\n            return ret;\n        } };\n";

    #[test]
    fn no_init_path_returns_the_exports_and_calls_go_through_the_captured_apply() {
        let out = harden_js(GLUE).unwrap();
        assert!(!out.contains("return wasm"), "{out}");
        assert!(!out.contains(".call(") && !out.contains(".apply("), "{out}");
        assert!(out.contains("const twApply = Reflect.apply;"));
        assert_eq!(out.matches("twApply(").count(), 2);
        assert_eq!(out.matches('{').count(), out.matches('}').count(), "{out}");
    }

    #[test]
    fn a_changed_glue_fails_loudly() {
        let changed = GLUE.replace("arg0.call(arg1, arg2, arg3)", "arg0.call(arg1, arg2)");
        let err = harden_js(&changed).unwrap_err();
        assert!(err.contains("has wasm-bindgen changed its glue"), "{err}");
        assert!(harden_js(&GLUE.replace("return wasm;", "")).is_err());
    }
}
