//! `cargo xtask bench`: builds the release package and server, installs the pinned peer
//! libraries, and runs `bench/run.mjs` in headless Chromium. `quick` is the seconds-long
//! version `cargo xtask test` runs so the benchmark code cannot rot: it checks
//! correctness (one refresh for a stampede, no failed request in a soak), never timings.

use std::path::Path;

use crate::cmd::{command, root, run as run_cmd, Result};
use crate::{pack, setup};

/// The full benchmark; writes `bench/RESULTS.md`.
pub fn run() -> Result {
    setup::run(setup::Needs::all())?;
    let npm_dir = pack::pack()?;
    run_cmd(command("cargo").args(["build", "--release", "--package", "token-warden-server"]))?;
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
