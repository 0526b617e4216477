//! Where the server listens and what it serves, from flags and environment.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The resolved settings of one server process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address; port 0 picks a free port (the tests use that).
    pub addr: SocketAddr,
    /// The demo SPA (`www/`).
    pub www_dir: PathBuf,
    /// The built wasm package (`pkg/`), served under `/pkg`.
    pub pkg_dir: PathBuf,
}

const USAGE: &str = "usage: token-warden-server [--addr HOST:PORT] [--www DIR] [--pkg DIR]
  --addr   listen address (env TOKEN_WARDEN_ADDR, default 127.0.0.1:8080)
  --www    demo directory (env TOKEN_WARDEN_WWW, default <repo>/www)
  --pkg    wasm package directory (env TOKEN_WARDEN_PKG, default <repo>/pkg)";

impl Config {
    /// Reads flags first, then `TOKEN_WARDEN_*` variables, then defaults.
    pub fn from_args(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut addr = env("TOKEN_WARDEN_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
        let mut www = env("TOKEN_WARDEN_WWW").map_or_else(|| repo.join("www"), PathBuf::from);
        let mut pkg = env("TOKEN_WARDEN_PKG").map_or_else(|| repo.join("pkg"), PathBuf::from);
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--addr" => addr = value()?,
                "--www" => www = PathBuf::from(value()?),
                "--pkg" => pkg = PathBuf::from(value()?),
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument {other}\n{USAGE}")),
            }
        }
        let addr = addr
            .parse()
            .map_err(|e| format!("bad listen address {addr:?}: {e}"))?;
        Ok(Self {
            addr,
            www_dir: www,
            pkg_dir: pkg,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flag_beats_env_beats_default() {
        let none = |_: &str| None;
        let cfg = Config::from_args(args(&[]), none).unwrap();
        assert_eq!(cfg.addr.to_string(), "127.0.0.1:8080");

        let env = |k: &str| (k == "TOKEN_WARDEN_ADDR").then(|| "127.0.0.1:9000".to_string());
        let cfg = Config::from_args(args(&[]), env).unwrap();
        assert_eq!(cfg.addr.port(), 9000);

        let cfg = Config::from_args(args(&["--addr", "127.0.0.1:0"]), env).unwrap();
        assert_eq!(cfg.addr.port(), 0);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let none = |_: &str| None;
        assert!(Config::from_args(args(&["--addr", "nope"]), none).is_err());
        assert!(Config::from_args(args(&["--addr"]), none).is_err());
        assert!(Config::from_args(args(&["--bogus"]), none).is_err());
    }
}
