//! The wasm's raw bytes by crate, from `twiggy top -f json` on a copy that kept its name
//! section (the shipped wasm has none).
//!
//! Every item twiggy lists counts once, for one row: a function for the crate its path
//! starts with (`serde_json::de::…` → serde_json); `<Type as Trait>::f` for the type's
//! crate, or the trait's when the type is a primitive, a generic parameter or from
//! core/alloc/std; drop glue (`core::ptr::drop_in_place<T>`) for the first crate outside
//! core/alloc/std named in `T`. A wasm-bindgen export shim (`name multivalue shim`) counts
//! for the crate that exports `name`, with whatever wasm-opt inlined into it. Data
//! segments and the module's structure (imports, exports, types, tables, headers) have
//! rows of their own; the name section is left out, so the rows add up to the wasm
//! without it, which is the shipped wasm when wasm-opt kept the code the same.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crate::cmd::{command, Result};

/// The row of core, alloc, std and the compiler's own support crates.
pub const STD: &str = "core/alloc/std";
/// The row of the crate being measured (token_warden, or the floor's own code).
pub const OWN: &str = "own code";
/// Constant data (`data segment` items): strings, tables.
pub const DATA: &str = "data segments";
/// Imports, exports, types, tables, globals, section headers, and unnamed code (functions
/// wasm-opt created, `code[273]`).
pub const OTHER: &str = "other";

/// Crates of the standard library and its runtime: one row.
const STD_CRATES: [&str; 11] = [
    "core",
    "alloc",
    "std",
    "compiler_builtins",
    "__rustc",
    "panic_abort",
    "panic_unwind",
    "unwind",
    "dlmalloc",
    "std_detect",
    "rustc_demangle",
];

/// Bytes per row of one wasm, and the items no crate could be named for.
pub struct Attribution {
    /// Row → raw bytes.
    pub rows: BTreeMap<String, u64>,
    /// The name section's bytes (left out of the rows).
    pub name_section: u64,
    /// The largest items of the `other` row that are code, for a reader to check.
    pub unnamed: Vec<(String, u64)>,
    /// Row → its largest item (name without the hash, bytes).
    pub largest: BTreeMap<String, (String, u64)>,
}

/// Runs `twiggy top -f json` on `wasm` and attributes its items; `own_crate` is the crate
/// name (`token_warden`) whose items go to the [`OWN`] row.
pub fn attribute(wasm: &Path, own_crate: &str) -> Result<Attribution> {
    let out = command("twiggy")
        .args(["top", "-f", "json"])
        .arg(wasm)
        .output()
        .map_err(|e| format!("cannot run twiggy: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "twiggy top {} failed: {}",
            wasm.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let items: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("twiggy's JSON did not parse: {e}"))?;
    let items: Vec<(String, u64)> = items
        .as_array()
        .ok_or("twiggy's JSON is not a list")?
        .iter()
        .filter_map(|item| {
            let name = item.get("name")?.as_str()?;
            let size = item.get("shallow_size")?.as_u64()?;
            Some((name.to_owned(), size))
        })
        .collect();
    Ok(attribute_items(&items, own_crate))
}

/// The attribution of twiggy's items (name, shallow bytes).
pub fn attribute_items(items: &[(String, u64)], own_crate: &str) -> Attribution {
    let exports: HashSet<&str> = items
        .iter()
        .filter_map(|(name, _)| name.strip_prefix("export \"")?.strip_suffix('"'))
        .collect();
    let mut rows = BTreeMap::new();
    let mut name_section = 0;
    let mut unnamed = Vec::new();
    let mut largest: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for (name, size) in items {
        match row_of(name, &exports, own_crate) {
            None => name_section += size,
            Some(row) => {
                if row == OTHER && is_code(name) {
                    unnamed.push((name.clone(), *size));
                }
                if largest.get(&row).is_none_or(|(_, max)| size > max) {
                    largest.insert(row.clone(), (without_hash(name).to_owned(), *size));
                }
                *rows.entry(row).or_insert(0) += size;
            }
        }
    }
    unnamed.sort_by_key(|item| std::cmp::Reverse(item.1));
    unnamed.truncate(5);
    Attribution {
        rows,
        name_section,
        unnamed,
        largest,
    }
}

/// `serde_json::de::from_str::h78a6efcb994c1f4f` without its `::h…` hash.
fn without_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((path, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            path
        }
        _ => name,
    }
}

/// The row of one item, or None for the name section.
fn row_of(name: &str, exports: &HashSet<&str>, own_crate: &str) -> Option<String> {
    if name.ends_with(" subsection") || name == "custom section 'name' headers" {
        return None;
    }
    if name.starts_with("data segment ") {
        return Some(DATA.into());
    }
    if !is_code(name) {
        return Some(OTHER.into());
    }
    let mut base = name;
    while let Some(rest) = base
        .strip_suffix(" multivalue shim")
        .or_else(|| base.strip_suffix(" externref shim"))
    {
        base = rest;
    }
    if !base.contains("::") {
        return Some(
            // `Closure(…) -> Externref externref shim`: an adapter wasm-bindgen's CLI wrote.
            if base.starts_with("__wbindgen")
                || (base != name && !exports.contains(base))
                || base.starts_with("__wbg_")
                || base.starts_with("__externref")
                || base == "__instance_terminated"
                || base == "__abort_handler"
            {
                "wasm_bindgen".into()
            } else if exports.contains(base) {
                OWN.into()
            } else if base.starts_with("__")
                || matches!(base, "memcpy" | "memmove" | "memset" | "memcmp" | "bcmp")
            {
                // Compiler intrinsics (`__multi3`) and the C memory functions.
                STD.into()
            } else {
                OTHER.into()
            },
        );
    }
    let krate = crate_of(base).unwrap_or("core");
    Some(if krate == own_crate {
        OWN.into()
    } else if is_std(krate) {
        STD.into()
    } else if krate == "serde_core" || krate == "serde_derive" {
        // serde ≥ 1.0.220 is a facade over serde_core.
        "serde".into()
    } else {
        krate.into()
    })
}

/// Whether twiggy's item is a function (not data, a header, a type or an import entry).
fn is_code(name: &str) -> bool {
    const STRUCTURE: [&str; 8] = [
        "import ",
        "export ",
        "type[",
        "table[",
        "elem[",
        "global[",
        "memory[",
        "wasm magic",
    ];
    !(name.starts_with("data segment ")
        || name.ends_with(" headers")
        || name.ends_with(" subsection")
        || name.starts_with("custom section")
        || STRUCTURE.iter().any(|p| name.starts_with(p)))
}

fn is_std(krate: &str) -> bool {
    STD_CRATES.contains(&krate)
}

/// The crate a demangled symbol (or type) belongs to; None for a primitive type or a
/// generic parameter (`f64`, `[u8]`, `T`).
fn crate_of(symbol: &str) -> Option<&str> {
    let s = symbol
        .trim_start_matches('&')
        .trim_start_matches("mut ")
        .trim_start_matches("dyn ");
    if let Some(inner) = s.strip_prefix('<') {
        let close = matching_close(inner)?;
        let qualified = &inner[..close];
        return match split_top_level(qualified, " as ") {
            Some((ty, trait_)) => match crate_of(ty) {
                Some(c) if !is_std(c) => Some(c),
                from_type => crate_of(trait_).or(from_type),
            },
            // `<[u8]>::eq_ignore_ascii_case`, `<char>::escape_debug_ext`: core's impls.
            None => crate_of(qualified).or(Some("core")),
        };
    }
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    let rest = &s[end..];
    // `core[c5930c85a12de822]::fmt`: the disambiguator of the v0 mangling.
    let rest = match rest.strip_prefix('[') {
        Some(r) => r.split_once(']').map_or("", |(_, r)| r),
        None => rest,
    };
    let path = rest.strip_prefix("::")?;
    let krate = &s[..end];
    if krate == "core" {
        if let Some(glue) = path.strip_prefix("ptr::drop_in_place") {
            let dropped = glue.trim_start_matches("::").strip_prefix('<');
            if let Some(c) = dropped.and_then(first_non_std_crate) {
                return Some(c);
            }
        }
    }
    Some(krate)
}

/// The first crate outside core/alloc/std named in a type such as
/// `alloc::rc::Rc<wasm_bindgen::__rt::WasmRefCell<token_warden::X>>`.
fn first_non_std_crate(ty: &str) -> Option<&str> {
    let mut start = 0;
    for (i, c) in ty.char_indices() {
        if c.is_alphanumeric() || c == '_' {
            continue;
        }
        let word = &ty[start..i];
        let followed_by_path = ty[i..].starts_with("::") || ty[i..].starts_with('[');
        let at_path_start = start == 0
            || ty[..start].ends_with(['<', ',', ' ', '&', '(', '['])
                && !ty[..start].ends_with("::");
        if !word.is_empty() && followed_by_path && at_path_start && !is_std(word) {
            return Some(word);
        }
        start = i + c.len_utf8();
    }
    None
}

/// The index of the `>` closing a `<` just before `s`; `->` is not a bracket.
fn matching_close(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' if prev != '-' => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
        prev = c;
    }
    None
}

/// `s` split at the first `sep` outside any `<…>`.
fn split_top_level<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let mut depth = 0usize;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' if prev != '-' => depth = depth.saturating_sub(1),
            _ if depth == 0 && s[i..].starts_with(sep) => {
                return Some((&s[..i], &s[i + sep.len()..]));
            }
            _ => {}
        }
        prev = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str) -> Option<String> {
        let exports: HashSet<&str> = ["sessioncore_reply", "floor_new", "version"].into();
        row_of(name, &exports, "token_warden")
    }

    #[test]
    fn paths_count_for_their_first_crate() {
        let cases = [
            (
                "serde_json::de::Deserializer<R>::parse_integer::hd866094ba6b95fa3",
                "serde_json",
            ),
            (
                "token_warden::core::session::Session::end::h14e2d3c2057d2d4f",
                OWN,
            ),
            ("talc::base::Talc<S,B>::allocate::h4a28554df3e93a41", "talc"),
            (
                "js_sys::futures::future_to_promise::{{closure}}::{{closure}}::hafd9",
                "js_sys",
            ),
            (
                "serde_core::de::Error::duplicate_field::hcaf4572ec967ae8b",
                "serde",
            ),
            ("core[c5930c85a12de822]::fmt::write", STD),
            ("__rustc[b7974e8690430dd9]::__rust_alloc", STD),
            (
                "core::slice::<impl [T]>::starts_with::h0d110973df75ad26",
                STD,
            ),
            ("alloc[3ca501edff3f0c7c]::alloc::handle_alloc_error", STD),
        ];
        for (name, want) in cases {
            assert_eq!(row(name).as_deref(), Some(want), "{name}");
        }
    }

    #[test]
    fn trait_impls_count_for_the_type_unless_it_is_std_or_generic() {
        let cases = [
            ("<token_warden::core::field::Field as serde_core::de::Deserialize>::deserialize::h02", OWN),
            ("<serde_json::error::Error as serde_core::de::Error>::custom::hff5c565384f210e9", "serde_json"),
            ("<f64 as core[c5930c85a12de822]::fmt::Display>::fmt", STD),
            ("<T as wasm_bindgen::convert::traits::ReturnWasmAbi>::return_abi::h32b70ddde7162a67", "wasm_bindgen"),
            ("<T as serde_core::de::Expected>::fmt::h0d781a37fad1e332", "serde"),
            ("<alloc::vec::Vec<Z> as zeroize::Zeroize>::zeroize::hd45a41d234607910", "zeroize"),
            ("<&T as core::fmt::Debug>::fmt::h9201ff2e6fa2f882", STD),
            ("<[u8]>::eq_ignore_ascii_case", STD),
            ("<char>::escape_debug_ext", STD),
            ("<&dyn core[c59]::fmt::Debug as core[c59]::fmt::Debug>::fmt", STD),
            (
                "<<serde_core::de::WithDecimalPoint as core::fmt::Display>::fmt::LookForDecimalPoint as core::fmt::Write>::write_str::h7e",
                "serde",
            ),
            ("<talc::cell::TalcCell<S,B> as core::alloc::global::GlobalAlloc>::alloc::hae49", "talc"),
            ("<alloc[3ca]::raw_vec::RawVecInner<_>>::reserve::do_reserve_and_handle::<alloc[3ca]::alloc::Global>", STD),
        ];
        for (name, want) in cases {
            assert_eq!(row(name).as_deref(), Some(want), "{name}");
        }
    }

    #[test]
    fn drop_glue_counts_for_the_dropped_type() {
        let cases = [
            ("core::ptr::drop_in_place<token_warden::core::field::Field>::h00adcd03a5a39513", OWN),
            ("core::ptr::drop_in_place<core::option::Option<token_warden::core::claims::Claims>>::h2c", OWN),
            ("core::ptr::drop_in_place<serde_json::error::Error>::hc74a0464fab2db61", "serde_json"),
            ("core::ptr::drop_in_place<alloc::vec::Vec<u8>>::h8680fc2fa467006e", STD),
            ("core[c59]::ptr::drop_in_place::<alloc[3ca]::string::String>", STD),
            ("core::ptr::drop_in_place<alloc::rc::Rc<wasm_bindgen::__rt::WasmRefCell<token_warden::X>>>::h5", "wasm_bindgen"),
        ];
        for (name, want) in cases {
            assert_eq!(row(name).as_deref(), Some(want), "{name}");
        }
    }

    #[test]
    fn shims_exports_and_module_structure() {
        let cases = [
            ("sessioncore_reply multivalue shim", Some(OWN)),
            ("floor_new externref shim multivalue shim", Some(OWN)),
            ("version multivalue shim", Some(OWN)),
            ("__wbindgen_malloc", Some("wasm_bindgen")),
            ("__wbg_sessioncore_free", Some("wasm_bindgen")),
            ("__externref_table_alloc", Some("wasm_bindgen")),
            ("__multi3", Some(STD)),
            (
                "Closure(Closure { owned: true, function: Function { arguments: [] } }) -> Externref externref shim",
                Some("wasm_bindgen"),
            ),
            ("code[273]", Some(OTHER)),
            ("memcmp", Some(STD)),
            ("data segment \".rodata.1\"", Some(DATA)),
            (
                "import ./token_warden_bg.js::__wbg_twSetAuthorization_5e06",
                Some(OTHER),
            ),
            ("export \"sessioncore_reply\"", Some(OTHER)),
            ("type[23]: (f64, i32) -> i32", Some(OTHER)),
            ("code section headers", Some(OTHER)),
            ("elem[0]", Some(OTHER)),
            ("\"function names\" subsection", None),
            ("custom section 'name' headers", None),
        ];
        for (name, want) in cases {
            assert_eq!(row(name).as_deref(), want, "{name}");
        }
    }

    #[test]
    fn rows_add_up_without_the_name_section() {
        let items: Vec<(String, u64)> = [
            ("\"function names\" subsection", 100),
            ("export \"sessioncore_reply\"", 21),
            ("sessioncore_reply multivalue shim", 1000),
            ("serde_json::de::from_str::h1", 90),
            ("data segment \".rodata\"", 9),
            ("mystery", 7),
        ]
        .iter()
        .map(|(n, s)| (n.to_string(), *s))
        .collect();
        let a = attribute_items(&items, "token_warden");
        assert_eq!(a.name_section, 100);
        assert_eq!(a.rows.values().sum::<u64>(), 1127);
        assert_eq!(a.rows[OWN], 1000);
        assert_eq!(a.rows[OTHER], 28);
        assert_eq!(a.unnamed, vec![("mystery".to_string(), 7)]);
        assert_eq!(
            a.largest["serde_json"],
            ("serde_json::de::from_str::h1".into(), 90)
        );
        assert_eq!(
            a.largest[OTHER],
            ("export \"sessioncore_reply\"".into(), 21)
        );
    }

    #[test]
    fn hashes_are_cut_from_the_largest_items() {
        assert_eq!(
            without_hash("serde_json::de::from_str::h78a6efcb994c1f4f"),
            "serde_json::de::from_str"
        );
        assert_eq!(without_hash("core::fmt::write"), "core::fmt::write");
    }
}
