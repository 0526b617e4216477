//! Building the wasm package and running the demo server.
//!
//! We call `cargo build` + `wasm-bindgen --target web` + `wasm-opt -Oz` directly
//! instead of `wasm-pack build`: each step is visible, nothing is downloaded, and the
//! npm `binaryen` wasm-opt is used for certain (wasm-pack takes any on PATH).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cmd::{command, root, run, Result};
use crate::setup;

/// What `cargo build --release --target wasm32-unknown-unknown` leaves for wasm-bindgen.
pub const WASM: &str = "target/wasm32-unknown-unknown/release/token_warden.wasm";
/// The output name of the generated glue: `pkg/token_warden.js` and `pkg/token_warden_bg.wasm`.
pub const OUT_NAME: &str = "token_warden";

/// Builds the release package into `pkg/` and prints its size; returns the pkg dir.
pub fn package() -> Result<PathBuf> {
    let pkg = root().join("pkg");
    // Start clean: a stale file (an old snippet) must not survive into the package.
    let _ = std::fs::remove_dir_all(&pkg);
    run(command("cargo").args([
        "build",
        "--lib",
        "--release",
        "--package",
        "token-warden",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;
    bindgen(&root().join(WASM), &pkg, OUT_NAME)?;
    let wasm = pkg.join(format!("{OUT_NAME}_bg.wasm"));
    optimize(&wasm, false)?;
    let glue = pkg.join(format!("{OUT_NAME}.js"));
    write_entry(&pkg, &glue)?;
    print_size(&wasm, &glue)?;
    Ok(pkg)
}

/// `wasm-bindgen --target web`: `out_dir/{out_name}.js` and `out_dir/{out_name}_bg.wasm`
/// from a release `.wasm` (the bench runs it on its size floor too).
pub fn bindgen(wasm: &Path, out_dir: &Path, out_name: &str) -> Result {
    run(command("wasm-bindgen")
        .args(["--target", "web", "--out-name", out_name, "--out-dir"])
        .arg(out_dir)
        .arg(wasm))
}

/// `wasm-opt -Oz` in place with the package's flags. `keep_names` adds `--debuginfo`,
/// which keeps the name section for twiggy (the bench's named copies); the package drops it.
pub fn optimize(wasm: &Path, keep_names: bool) -> Result {
    let wasm_opt = root().join("node_modules/.bin/wasm-opt");
    if !wasm_opt.exists() {
        eprintln!("build: npm binaryen is not installed; the wasm is not optimized");
        return Ok(());
    }
    let mut cmd = command(&wasm_opt.to_string_lossy());
    cmd.args([
        "-Oz",
        // Repeats the passes while they still shrink the module, and drops the
        // sections browsers never read: together about 0.3 KB.
        "--converge",
        "--strip-producers",
        "--strip-target-features",
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
    ]);
    if keep_names {
        cmd.arg("--debuginfo");
    }
    run(cmd.arg(wasm).arg("-o").arg(wasm))
}

/// The package entry, the React binding (`token-warden/react`) and the hand-written types
/// in `npm/`, next to the glue.
pub const RUNTIME: [&str; 5] = [
    "index.js",
    "index.d.ts",
    "types.d.ts",
    "react.js",
    "react.d.ts",
];

/// The runtime (`npm/*.js`, `npm/*.d.ts`) next to the glue, with the version filled in.
/// The glue's own default wasm URL gets a `./` so that bundlers that follow every
/// `new URL(..., import.meta.url)` resolve it as a relative file.
fn write_entry(pkg: &Path, glue: &Path) -> Result {
    let version = crate_version()?;
    for file in RUNTIME {
        let text = read(&root().join("npm").join(file))?;
        write(
            &pkg.join(file),
            &text.replace("__TOKEN_WARDEN_VERSION__", &version),
        )?;
    }
    let glue_text = crate::glue::inline_snippets(&read(glue)?, pkg)?;
    let patched = glue_text.replace(
        &format!("new URL('{OUT_NAME}_bg.wasm', import.meta.url)"),
        &format!("new URL('./{OUT_NAME}_bg.wasm', import.meta.url)"),
    );
    write(glue, &crate::glue::harden_js(&patched)?)?;
    let dts = pkg.join(format!("{OUT_NAME}.d.ts"));
    write(&dts, &crate::glue::harden_dts(&read(&dts)?)?)
}

/// The crate version from the root Cargo.toml (the npm package's version too).
pub fn crate_version() -> Result<String> {
    let manifest = read(&root().join("Cargo.toml"))?;
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .map(|v| v.trim_end_matches('"').to_owned())
        .ok_or_else(|| "no version in Cargo.toml".into())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn print_size(wasm: &Path, js: &Path) -> Result {
    let mut total = (0, 0);
    for file in [wasm, js] {
        let bytes =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let gz = gzip_len(&bytes)?;
        eprintln!(
            "size: {:<24} {:>8} B raw {:>8} B gzip -9",
            file.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            bytes.len(),
            gz
        );
        total = (total.0 + bytes.len(), total.1 + gz);
    }
    eprintln!(
        "size: {:<24} {:>8} B raw {:>8} B gzip -9",
        "wasm + glue", total.0, total.1
    );
    // token-warden/react, separate: only apps that import it pay for it.
    let react = root().join("npm/react.js");
    let bytes =
        std::fs::read(&react).map_err(|e| format!("cannot read {}: {e}", react.display()))?;
    eprintln!(
        "size: {:<24} {:>8} B raw {:>8} B gzip -9",
        "react.js (subpath)",
        bytes.len(),
        gzip_len(&bytes)?
    );
    Ok(())
}

/// The gzip -9 size of `bytes`.
pub fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).map_err(|e| e.to_string())?;
    enc.finish().map(|v| v.len()).map_err(|e| e.to_string())
}

/// Builds the reference server (debug profile: compiles fast, serves a demo fine).
pub fn server_binary() -> Result<PathBuf> {
    run(command("cargo").args(["build", "--package", "token-warden-server"]))?;
    Ok(root().join("target/debug/token-warden-server"))
}

/// `cargo xtask demo [--addr HOST:PORT]`: setup, build, serve until Ctrl-C.
pub fn demo(args: &[String]) -> Result {
    setup::run(setup::Needs::build())?;
    package()?;
    let server = server_binary()?;
    eprintln!("demo: open http://127.0.0.1:8080/ (or the address below); Ctrl-C stops it");
    // 30-second access tokens make silent refreshes visible on the timeline; flags
    // given to `cargo xtask demo` come later and win.
    run(command(&server.to_string_lossy())
        .args(["--access-ttl", "30"])
        .args(args))
}

/// `cargo xtask screenshot`: serves the demo with 4-second tokens on a free port and
/// lets `e2e/screenshot.mjs` sign in, call the API and save `docs/demo.png`.
pub fn screenshot() -> Result {
    setup::run(setup::Needs::all())?;
    package()?;
    let server = server_binary()?;
    let mut child = command(&server.to_string_lossy())
        .args([
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--access-ttl",
            "4",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let origin = read_listen_origin(&mut child);
    let result = match origin {
        Some(origin) => run(command("node")
            .arg("e2e/screenshot.mjs")
            .arg(&origin)
            .arg(root().join("docs/demo.png"))
            .env("TW_CHROMIUM", setup::CHROMIUM)),
        None => Err("the server printed no address".into()),
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// The `http://HOST:PORT` from the server's `listening on` line.
fn read_listen_origin(child: &mut std::process::Child) -> Option<String> {
    use std::io::BufRead;
    let stdout = child.stdout.take()?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line).ok()?;
    let url = line.split("listening on ").nth(1)?.trim();
    Some(url.trim_end_matches('/').to_owned())
}
