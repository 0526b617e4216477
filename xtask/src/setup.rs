//! `cargo xtask setup`: installs what is missing, pinned, and nothing when all is there.
//!
//! Only package registries are reachable on our machines, so every tool comes from one:
//! wasm-bindgen-cli, wasm-pack and (for `cargo xtask bench` only) twiggy from crates.io
//! (`cargo install`), Chromium and its driver from Debian, wasm-opt (npm `binaryen`) and
//! Playwright from npm.

use std::path::Path;
use std::process::Stdio;

use crate::cmd::{self, command, root, version_of, Result};

/// wasm-pack is pinned; its own downloads do not work here, so it must find our tools.
const WASM_PACK_VERSION: &str = "0.15.1";
/// twiggy, pinned: the bench's size attribution by crate reads its `top` JSON output.
const TWIGGY_VERSION: &str = "0.8.0";
/// Where Debian puts the browser and its driver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// wasm-pack reads this through the `CHROMEDRIVER` variable.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// What a command needs installed.
#[derive(Clone, Copy)]
pub struct Needs {
    browser: bool,
    wasm_pack: bool,
    twiggy: bool,
}

impl Needs {
    /// Everything, for the test suite.
    pub fn all() -> Self {
        Self {
            browser: true,
            wasm_pack: true,
            twiggy: false,
        }
    }
    /// Everything the tests need, and twiggy for the size attribution.
    pub fn bench() -> Self {
        Self {
            twiggy: true,
            ..Self::all()
        }
    }
    /// What building the package and serving the demo needs.
    pub fn build() -> Self {
        Self {
            browser: false,
            wasm_pack: false,
            twiggy: false,
        }
    }
}

/// Installs what is missing; a second run installs nothing and takes seconds.
pub fn run(needs: Needs) -> Result {
    let started = std::time::Instant::now();
    wasm_target()?;
    wasm_bindgen_cli()?;
    if needs.wasm_pack {
        wasm_pack()?;
    }
    if needs.twiggy {
        twiggy()?;
    }
    if needs.browser {
        chromium()?;
    }
    npm_packages()?;
    eprintln!("setup: ready in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn wasm_target() -> Result {
    let out = command("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup is needed to add the wasm target: {e}"))?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    cmd::run(command("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The `wasm-bindgen` version in Cargo.lock: the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
            {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn wasm_bindgen_cli() -> Result {
    let want = locked_wasm_bindgen_version()?;
    let have = version_of("wasm-bindgen", "--version");
    if have.as_deref() == Some(&format!("wasm-bindgen {want}"))
        && has_program("wasm-bindgen-test-runner")
    {
        return Ok(());
    }
    cargo_install("wasm-bindgen-cli", &want)
}

fn wasm_pack() -> Result {
    if version_of("wasm-pack", "--version").as_deref()
        == Some(&format!("wasm-pack {WASM_PACK_VERSION}"))
    {
        return Ok(());
    }
    cargo_install("wasm-pack", WASM_PACK_VERSION)
}

/// The binary names itself after its options crate: `twiggy-opt 0.8.0`.
fn twiggy() -> Result {
    if version_of("twiggy", "--version").is_some_and(|v| v.ends_with(&format!(" {TWIGGY_VERSION}")))
    {
        return Ok(());
    }
    cargo_install("twiggy", TWIGGY_VERSION)
}

/// `--locked` fails against our registry for some tools (a locked transitive version is
/// missing), so fall back to a plain install of the same pinned version.
fn cargo_install(krate: &str, version: &str) -> Result {
    let locked = cmd::run(command("cargo").args([
        "install",
        krate,
        "--version",
        version,
        "--locked",
        "--force",
    ]));
    if locked.is_ok() {
        return Ok(());
    }
    eprintln!("setup: `cargo install --locked {krate}` failed; retrying without --locked");
    cmd::run(command("cargo").args(["install", krate, "--version", version, "--force"]))
}

fn chromium() -> Result {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    let is_root = command("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if !is_root || !has_program("apt-get") {
        return Err(format!(
            "headless tests need Chromium and ChromeDriver at {CHROMIUM} and {CHROMEDRIVER}; \
             install them (Debian: `apt-get install chromium chromium-driver`) and run again"
        ));
    }
    cmd::run(command("apt-get").arg("update").stdout(Stdio::null()))?;
    cmd::run(
        command("apt-get")
            .args([
                "install",
                "-y",
                "--no-install-recommends",
                "chromium",
                "chromium-driver",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null()),
    )
}

/// `npm ci` when node_modules is missing or older than package-lock.json.
fn npm_packages() -> Result {
    let lock = root().join("package-lock.json");
    let installed = root().join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(&lock), modified(&installed)) {
        (None, _) => Ok(()),
        (Some(lock), Some(installed)) if installed >= lock => Ok(()),
        _ => cmd::run(command("npm").args(["ci", "--no-audit", "--no-fund"])),
    }
}

fn has_program(program: &str) -> bool {
    command("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
