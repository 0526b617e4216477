//! `cargo xtask test`: every check, in order, then one `N passed, N failed` line.

use std::process::Command;

use crate::build;
use crate::cmd::{command, root, run_captured, Result};
use crate::pack;
use crate::setup::{self, CHROMEDRIVER, CHROMIUM};

/// Counts across all suites; a failing check without a count is one failure.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failures: Vec<String>,
}

impl Tally {
    /// Runs one step, counting its tests (or the step itself when it prints no counts).
    fn step(
        &mut self,
        name: &str,
        cmd: Command,
        counter: fn(&str) -> Option<(u64, u64)>,
    ) -> (bool, u64) {
        eprintln!("\n==== {name}");
        let (ok, out) = run_captured(cmd);
        let (passed, failed) = counter(&out).unwrap_or(if ok { (1, 0) } else { (0, 1) });
        self.passed += passed;
        self.failed += failed;
        // A step that failed without failing tests (a build error, a crash) still fails.
        if !ok && failed == 0 {
            self.failed += 1;
        }
        if !ok || failed > 0 {
            self.failures.push(name.to_owned());
        }
        (ok, passed)
    }

    /// Runs a check written in Rust (no child process to count tests from).
    fn check(&mut self, name: &str, check: impl FnOnce() -> Result) {
        eprintln!("\n==== {name}");
        match check() {
            Ok(()) => self.passed += 1,
            Err(e) => {
                eprintln!("{name}: {e}");
                self.failed += 1;
                self.failures.push(name.to_owned());
            }
        }
    }
}

/// `npm publish --dry-run --json` lists exactly the files we mean to ship.
fn check_publish_dry_run(dir: &std::path::Path) -> Result {
    let out = command("npm")
        .args(["publish", "--dry-run", "--json"])
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run npm publish --dry-run: {e}"))?;
    let json = String::from_utf8_lossy(&out.stdout);
    let mut shipped: Vec<String> = json
        .split("\"path\": \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect();
    shipped.sort();
    let mut expected: Vec<String> = pack::files().iter().map(|f| f.to_string()).collect();
    expected.push("package.json".into());
    expected.sort();
    let unpacked = json
        .split("\"unpackedSize\": ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or("?");
    eprintln!(
        "npm publish --dry-run: {} files, unpacked size {unpacked} B: {}",
        shipped.len(),
        shipped.join(", ")
    );
    if shipped == expected {
        Ok(())
    } else {
        Err(format!(
            "the package would ship {shipped:?}, expected {expected:?}"
        ))
    }
}

/// Installs the freshly packed tarball into an example and builds it: vite-spa and webpack
/// with their bundler's defaults (no configuration file); react with the React plugin, as
/// `npm create vite` sets it up, and a second, development build for StrictMode.
fn build_example(dir: &str) -> Result {
    let path = root().join(dir);
    // Same version, new bytes: npm would keep the old copy without a lockfile to compare.
    let _ = std::fs::remove_dir_all(path.join("node_modules/token-warden"));
    crate::cmd::run(
        command("npm")
            .args(["install", "--no-package-lock", "--no-audit", "--no-fund"])
            .current_dir(&path),
    )?;
    crate::cmd::run(command("npm").args(["run", "build"]).current_dir(&path))
}

/// Runs everything; exits non-zero on any failure.
pub fn run() -> Result {
    setup::run(setup::Needs::all())?;
    let mut t = Tally::default();

    t.step("rustfmt", cargo(&["fmt", "--all", "--", "--check"]), none);
    t.step(
        "clippy (native)",
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        none,
    );
    t.step(
        "clippy (wasm32)",
        cargo(&[
            "clippy",
            "--package",
            "token-warden",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        none,
    );
    let mut doc = cargo(&["doc", "--workspace", "--no-deps"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    t.step("cargo doc", doc, none);
    t.step(
        "native tests",
        cargo(&["test", "--workspace"]),
        cargo_counts,
    );

    let mut browser = command("wasm-pack");
    browser
        .args(["test", "--headless", "--chrome"])
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    let (ok, passed) = t.step("browser tests (headless Chromium)", browser, cargo_counts);
    if ok && passed == 0 {
        eprintln!("browser tests: the suite ran zero tests; that is a failure");
        t.failed += 1;
        t.failures.push("browser tests ran zero tests".into());
    }

    match pack::pack().and_then(|dir| build::server_binary().map(|server| (dir, server))) {
        Ok((npm_dir, server)) => {
            t.check(
                "npm publish --dry-run ships only the intended files",
                || check_publish_dry_run(&npm_dir),
            );
            for example in ["examples/vite-spa", "examples/webpack", "examples/react"] {
                t.check(&format!("build {example} from the packed tarball"), || {
                    build_example(example)
                });
            }
            let mut e2e = command("npx");
            e2e.args(["playwright", "test", "--config", "e2e/playwright.config.ts"])
                .env("TW_SERVER_BIN", &server)
                .env("TW_NPM_DIR", &npm_dir)
                .env("TW_CHROMIUM", CHROMIUM);
            let (ok, passed) = t.step(
                "end-to-end (Playwright, headless Chromium)",
                e2e,
                playwright_counts,
            );
            if ok && passed == 0 {
                t.failed += 1;
                t.failures.push("e2e ran zero tests".into());
            }
            t.step(
                "benchmark, quick correctness run (bench/run.mjs --quick)",
                crate::bench::quick(&server, &npm_dir),
                bench_counts,
            );
            let mut tsc = command("npx");
            tsc.args(["tsc", "--project", "types/tsconfig.json"]);
            t.step("type check of the shipped .d.ts (tsc --strict)", tsc, none);
            let mut runtime = command("npx");
            runtime.args(["tsc", "--project", "types/tsconfig.runtime.json"]);
            t.step(
                "type check of the package entry against the glue (tsc --checkJs)",
                runtime,
                none,
            );
        }
        Err(e) => {
            eprintln!("build failed: {e}");
            t.failed += 1;
            t.failures.push("package build".into());
        }
    }

    t.check(
        "API reference (TypeDoc) is documented and docs/api is current",
        crate::docs::check_current,
    );

    eprintln!();
    if !t.failures.is_empty() {
        eprintln!("failed: {}", t.failures.join(", "));
    }
    println!("{} passed, {} failed", t.passed, t.failed);
    if t.failed == 0 {
        Ok(())
    } else {
        Err(format!("{} failure(s)", t.failed))
    }
}

fn cargo(args: &[&str]) -> Command {
    let mut cmd = command("cargo");
    cmd.args(args).current_dir(root());
    cmd
}

fn none(_: &str) -> Option<(u64, u64)> {
    None
}

/// Sums every `test result: ok. N passed; M failed` line (cargo and wasm-bindgen-test).
fn cargo_counts(out: &str) -> Option<(u64, u64)> {
    let mut found = None;
    for line in out.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        let passed = number_before(rest, " passed");
        let failed = number_before(rest, " failed");
        if let (Some(p), Some(f)) = (passed, failed) {
            let (tp, tf) = found.unwrap_or((0, 0));
            found = Some((tp + p, tf + f));
        }
    }
    found
}

/// Playwright's list reporter ends with lines such as `9 passed (3.4s)` and `1 failed`.
fn playwright_counts(out: &str) -> Option<(u64, u64)> {
    let mut passed = None;
    let mut failed = 0;
    for line in out.lines() {
        let Some((n, word)) = line.trim().split_once(' ') else {
            continue;
        };
        let Ok(n) = n.parse::<u64>() else { continue };
        let word = word.split(" (").next().unwrap_or(word);
        match word {
            "passed" => passed = Some(n),
            // A skipped or flaky test counts as failing (DEVELOPERS.md).
            "failed" | "flaky" | "skipped" | "did not run" | "interrupted" => failed += n,
            _ => {}
        }
    }
    passed.map(|p| (p, failed))
}

/// `bench: N passed, M failed` from bench/run.mjs.
fn bench_counts(out: &str) -> Option<(u64, u64)> {
    let line = out
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("bench: "))?;
    Some((
        number_before(line, " passed")?,
        number_before(line, " failed")?,
    ))
}

/// The number just before `suffix` in `text`, e.g. `12` in `"ok. 12 passed; 0 failed"`.
fn number_before(text: &str, suffix: &str) -> Option<u64> {
    let end = text.find(suffix)?;
    let digits: String = text[..end]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_cargo_result_lines() {
        let out = "test result: ok. 3 passed; 0 failed; 0 ignored\nnoise\n\
                   test result: FAILED. 2 passed; 1 failed; 0 ignored";
        assert_eq!(cargo_counts(out), Some((5, 1)));
        assert_eq!(cargo_counts("no tests here"), None);
    }

    #[test]
    fn reads_playwright_summary() {
        let out = "  ✓  1 demo loads (1.2s)\n\n  9 passed (3.4s)\n";
        assert_eq!(playwright_counts(out), Some((9, 0)));
        let out = "  1 failed\n  1 skipped\n  7 passed (3.4s)\n";
        assert_eq!(playwright_counts(out), Some((7, 2)));
    }
}
