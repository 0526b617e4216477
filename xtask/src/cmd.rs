//! Running commands from the repository root, with `node_modules/.bin` first on PATH.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The result type of every xtask step: a message for the user on failure.
pub type Result<T = ()> = std::result::Result<T, String>;

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A command run from the root; PATH starts with the project's npm binaries, so the
/// npm `binaryen` wasm-opt wins over any other (Debian's 108 breaks the module).
pub fn command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(root());
    let bin = root().join("node_modules/.bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    // `cargo install` puts tools here; a shell that never sourced rustup's env lacks it.
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin"));
    let mut parts = vec![bin];
    parts.extend(cargo_bin);
    parts.extend(std::env::split_paths(&path));
    if let Ok(joined) = std::env::join_paths(parts) {
        cmd.env("PATH", joined);
    }
    cmd
}

/// Runs `cmd` with inherited output; an error names the command.
pub fn run(cmd: &mut Command) -> Result {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

/// Runs `cmd`, echoing its output live, and returns stdout+stderr for parsing.
pub fn run_captured(mut cmd: Command) -> (bool, String) {
    eprintln!("$ {}", describe(&cmd));
    // Both streams go through one pipe so the order of lines is kept.
    let (reader, writer) = match std::io::pipe() {
        Ok(pair) => pair,
        Err(e) => return (false, format!("cannot create a pipe: {e}")),
    };
    let writer2 = match writer.try_clone() {
        Ok(w) => w,
        Err(e) => return (false, format!("cannot clone a pipe: {e}")),
    };
    cmd.stdout(writer).stderr(writer2).stdin(Stdio::null());
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return (false, format!("cannot run {}: {e}", describe(&cmd))),
    };
    // Drop our copies of the write end, or the read below never sees EOF.
    drop(cmd);
    let mut out = String::new();
    let mut lines = std::io::BufReader::new(reader);
    let mut line = String::new();
    use std::io::BufRead;
    while lines.read_line(&mut line).unwrap_or(0) > 0 {
        eprint!("{line}");
        out.push_str(&line);
        line.clear();
    }
    let ok = child.wait().map(|s| s.success()).unwrap_or(false);
    (ok, out)
}

/// The first line of a program's `--version`, or None when it is not installed.
pub fn version_of(program: &str, arg: &str) -> Option<String> {
    let out = command(program)
        .arg(arg)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(|l| l.trim().to_owned())
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}
