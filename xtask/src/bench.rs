//! `cargo xtask bench`: builds the release package and server, the size floor
//! (`bench/floor`: an empty manager linking the same crates) and a copy of each wasm that
//! keeps its names, attributes both by crate with twiggy, installs the pinned peer
//! libraries, and runs `bench/run.mjs` in headless Chromium. `quick` is the seconds-long
//! version `cargo xtask test` runs so the benchmark code cannot rot: it checks
//! correctness (one refresh for a stampede, no failed request in a soak), never timings,
//! and needs neither twiggy nor the floor.

use std::path::{Path, PathBuf};

use crate::cmd::{command, root, run as run_cmd, version_of, Result};
use crate::{build, crates, pack, setup};

/// The floor's crate (`target/wasm32-unknown-unknown/release/token_warden_floor.wasm`). Its
/// glue and wasm get the package's output name, `token_warden.js` and `token_warden_bg.wasm`:
/// the name is in every import entry of the wasm, so a longer one would weigh on the floor.
const FLOOR_CRATE: &str = "token_warden_floor";

/// The full benchmark; writes `bench/RESULTS.md`.
pub fn run() -> Result {
    setup::run(setup::Needs::bench())?;
    let npm_dir = pack::pack()?;
    // From the cargo build `pack` just made, so the copy has the shipped code.
    let named = root().join("target/bench/named");
    let ours_named = named_copy(&root().join(build::WASM), &named.join("token-warden"))?;
    run_cmd(command("cargo").args(["build", "--release", "--package", "token-warden-server"]))?;
    let (floor_dir, floor_wasm) = floor()?;
    let floor_named = named_copy(&floor_wasm, &named.join("floor"))?;
    let attribution = root().join("target/bench/crates.json");
    write_attribution(
        &attribution,
        &[
            Build {
                name: "token-warden",
                own_crate: "token_warden",
                named: &ours_named,
                shipped: &npm_dir.join(format!("{}_bg.wasm", build::OUT_NAME)),
            },
            Build {
                name: "floor",
                own_crate: FLOOR_CRATE,
                named: &floor_named,
                shipped: &floor_dir.join(format!("{}_bg.wasm", build::OUT_NAME)),
            },
        ],
    )?;
    let bench = root().join("bench");
    let installed = bench.join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&installed) < modified(&bench.join("package-lock.json")) || !installed.exists() {
        run_cmd(
            command("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&bench),
        )?;
    }
    run_cmd(
        command("node")
            .arg("bench/run.mjs")
            .arg("--server")
            .arg(root().join("target/release/token-warden-server"))
            .arg("--npm")
            .arg(&npm_dir)
            .arg("--floor")
            .arg(&floor_dir)
            .arg("--crates")
            .arg(&attribution)
            .arg("--out")
            .arg(bench.join("RESULTS.md"))
            .env("TW_CHROMIUM", setup::CHROMIUM),
    )
}

/// The quick run for `cargo xtask test` (debug server, tiny counts, no size table).
pub fn quick(server: &Path, npm_dir: &Path) -> std::process::Command {
    let mut cmd = command("node");
    cmd.arg("bench/run.mjs")
        .arg("--quick")
        .arg("--server")
        .arg(server)
        .arg("--npm")
        .arg(npm_dir)
        .env("TW_CHROMIUM", setup::CHROMIUM);
    cmd
}

/// Builds `bench/floor` the way the package is built (same release profile, wasm-bindgen,
/// wasm-opt flags) into `target/bench/floor/`; returns that directory and the release
/// `.wasm` it came from.
fn floor() -> Result<(PathBuf, PathBuf)> {
    let manifest = root().join("bench/floor/Cargo.toml");
    same_release_profile(&read(&root().join("Cargo.toml"))?, &read(&manifest)?)?;
    // The root's lock, so the floor links the versions the package links; Cargo adds
    // what the floor needs beyond it. Not committed (bench/floor/.gitignore).
    std::fs::copy(
        root().join("Cargo.lock"),
        root().join("bench/floor/Cargo.lock"),
    )
    .map_err(|e| format!("cannot copy Cargo.lock to bench/floor: {e}"))?;
    run_cmd(
        command("cargo")
            .args([
                "build",
                "--lib",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(root().join("target")),
    )?;
    let wasm = root().join(format!(
        "target/wasm32-unknown-unknown/release/{FLOOR_CRATE}.wasm"
    ));
    let out = root().join("target/bench/floor");
    let _ = std::fs::remove_dir_all(&out);
    build::bindgen(&wasm, &out, build::OUT_NAME)?;
    build::optimize(&out.join(format!("{}_bg.wasm", build::OUT_NAME)), false)?;
    Ok((out, wasm))
}

/// wasm-bindgen and wasm-opt as for the package, but keeping the name section: the copy
/// twiggy reads. Returns `out/token_warden_bg.wasm`.
fn named_copy(wasm: &Path, out: &Path) -> Result<PathBuf> {
    let _ = std::fs::remove_dir_all(out);
    build::bindgen(wasm, out, build::OUT_NAME)?;
    let named = out.join(format!("{}_bg.wasm", build::OUT_NAME));
    build::optimize(&named, true)?;
    Ok(named)
}

/// One wasm whose bytes are attributed.
struct Build<'a> {
    name: &'a str,
    own_crate: &'a str,
    named: &'a Path,
    shipped: &'a Path,
}

/// `target/bench/crates.json`: bytes per crate of each build, for run.mjs's tables.
fn write_attribution(path: &Path, builds: &[Build]) -> Result {
    let mut out = Vec::new();
    for b in builds {
        let a = crates::attribute(b.named, b.own_crate)?;
        let size = |p: &Path| {
            std::fs::metadata(p)
                .map(|m| m.len())
                .map_err(|e| format!("cannot read {}: {e}", p.display()))
        };
        let (named, shipped) = (size(b.named)?, size(b.shipped)?);
        let counted: u64 = a.rows.values().sum();
        eprintln!(
            "size by crate: {}: {counted} B counted, {} B name section, shipped {shipped} B",
            b.name, a.name_section
        );
        for (item, bytes) in &a.unnamed {
            eprintln!(
                "size by crate: {}: unattributed code {item} ({bytes} B)",
                b.name
            );
        }
        out.push(serde_json::json!({
            "name": b.name,
            "named_wasm": b.named.strip_prefix(root()).unwrap_or(b.named),
            "named_bytes": named,
            "name_section": a.name_section,
            "shipped_bytes": shipped,
            "rows": a.rows,
            "unattributed_code": a.unnamed,
            "largest": a.largest,
        }));
    }
    let json = serde_json::json!({
        "twiggy": version_of("twiggy", "--version").unwrap_or_default(),
        "builds": out,
    });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, json.to_string())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Refuses to measure a floor built differently from the package.
fn same_release_profile(root_manifest: &str, floor_manifest: &str) -> Result {
    let (ours, floor) = (
        release_profile(root_manifest),
        release_profile(floor_manifest),
    );
    if ours.is_empty() {
        return Err("the root Cargo.toml has no [profile.release]".into());
    }
    if ours != floor {
        return Err(format!(
            "bench/floor/Cargo.toml's [profile.release] {floor:?} differs from the root's \
             {ours:?}; the floor must be built like the package"
        ));
    }
    Ok(())
}

/// The settings of a manifest's `[profile.release]`, without comments and blank lines.
fn release_profile(manifest: &str) -> Vec<&str> {
    manifest
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != "[profile.release]")
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "[workspace]\nmembers = [\".\"]\n\n[profile.release]\nopt-level = \"z\"\n\
                        # a comment\nlto = true\n\n[profile.dev.package.\"*\"]\nopt-level = 1\n";

    #[test]
    fn reads_the_release_profile_only() {
        assert_eq!(release_profile(ROOT), ["opt-level = \"z\"", "lto = true"]);
        assert!(release_profile("[package]\nname = \"x\"\n").is_empty());
    }

    #[test]
    fn a_floor_built_differently_is_refused() {
        let same = "[package]\n[profile.release]\n# same\nopt-level = \"z\"\nlto = true\n";
        assert!(same_release_profile(ROOT, same).is_ok());
        let other = "[profile.release]\nopt-level = \"s\"\nlto = true\n";
        assert!(same_release_profile(ROOT, other).is_err());
        assert!(same_release_profile(ROOT, "[package]\n").is_err());
    }
}
