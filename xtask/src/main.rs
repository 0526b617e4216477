//! `cargo xtask setup|build|demo|test`: the one place that knows how to build token-warden.

mod bench;
mod build;
mod cmd;
mod crates;
mod docs;
mod glue;
mod pack;
mod setup;
mod test;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>
  setup   install what is missing (wasm target, wasm-bindgen-cli, wasm-pack, chromium, npm deps)
  build   build the release wasm package into pkg/ and print its size
  demo    setup, build, start the reference server with the demo at http://127.0.0.1:8080
  test    setup, then fmt, clippy, native tests, browser tests, e2e, type checks
  pack    the npm package in target/npm/token-warden and its tarball
  bench   size (by crate, and the floor of our crates), overhead, hot path, stampede,
          start-up and soak, with the targets judged; writes bench/RESULTS.md
  docs    regenerate the API reference in docs/api (TypeDoc, from the shipped .d.ts)
  screenshot  regenerate docs/demo.png (signs in to the demo in headless Chromium)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(setup::Needs::all()),
        Some("build") => {
            setup::run(setup::Needs::build()).and_then(|()| build::package().map(drop))
        }
        Some("demo") => build::demo(&args[1..]),
        Some("test") => test::run(),
        Some("screenshot") => build::screenshot(),
        Some("docs") => setup::run(setup::Needs::build()).and_then(|()| docs::write()),
        Some("bench") => bench::run(),
        Some("pack") => setup::run(setup::Needs::build()).and_then(|()| pack::pack().map(drop)),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
