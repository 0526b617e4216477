//! `cargo xtask pack`: the npm package directory and its `npm pack` tarball.
//!
//! `pkg/` (from `build::package`) already holds what the package ships; this adds
//! `package.json`, the npm README (the intro in `npm/README.md` plus the API and
//! security sections of the main README, so they cannot drift) and the LICENSE.

use std::path::{Path, PathBuf};

use crate::build;
use crate::cmd::{command, root, run, Result};

/// What wasm-bindgen generates into `pkg/` and the package ships.
const GLUE: [&str; 3] = [
    "token_warden.js",
    "token_warden.d.ts",
    "token_warden_bg.wasm",
];

/// The files the package ships besides `package.json`: the runtime, the glue, then the
/// README and LICENSE written here. `files` in package.json, and what the tests check.
pub fn files() -> Vec<&'static str> {
    let mut files: Vec<&str> = build::RUNTIME.iter().chain(&GLUE).copied().collect();
    files.extend(["README.md", "LICENSE"]);
    files
}

/// Where the package directory and tarballs go.
pub fn out_dir() -> PathBuf {
    root().join("target/npm")
}

/// The tarball under a stable name, for the examples to depend on.
pub fn tarball() -> PathBuf {
    out_dir().join("token-warden.tgz")
}

/// Builds `pkg/`, writes `target/npm/token-warden/` and packs it.
pub fn pack() -> Result<PathBuf> {
    let pkg = build::package()?;
    // wasm-bindgen writes `inline_js`/`module` snippets to pkg/snippets; the package's
    // file list does not ship them, so refuse rather than publish a broken module.
    if pkg.join("snippets").exists() {
        return Err("pkg/snippets exists: JS snippets are not shipped by the npm package; use js_sys instead".into());
    }
    let dir = out_dir().join("token-warden");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for file in build::RUNTIME.iter().chain(&GLUE) {
        copy(&pkg.join(file), &dir.join(file))?;
    }
    copy(&root().join("LICENSE"), &dir.join("LICENSE"))?;
    write(&dir.join("README.md"), &npm_readme()?)?;
    write(
        &dir.join("package.json"),
        &package_json(&build::crate_version()?),
    )?;
    run(command("npm")
        .args(["pack", "--silent", "--pack-destination"])
        .arg(out_dir())
        .current_dir(&dir))?;
    let versioned = out_dir().join(format!("token-warden-{}.tgz", build::crate_version()?));
    copy(&versioned, &tarball())?;
    let bytes = std::fs::read(&versioned).map_err(|e| e.to_string())?;
    eprintln!("pack: {} ({} B)", versioned.display(), bytes.len());
    Ok(dir)
}

/// The project's repository: `repository`, `homepage` and `bugs` of package.json.
pub const REPOSITORY: &str = "https://github.com/token-warden/token-warden";

/// The package.json of the npm package. No `engines`: token-warden runs in browsers
/// (README, *Browser support*), and npm's `engines` can only name Node, where
/// `createTokenManager` refuses with `unsupported_environment`.
fn package_json(version: &str) -> String {
    let files: Vec<String> = files().iter().map(|f| format!("\"{f}\"")).collect();
    format!(
        r#"{{
  "name": "token-warden",
  "version": "{version}",
  "description": "Keeps a single-page app's access token in WebAssembly memory, refreshes it silently through an HttpOnly cookie, and attaches it only to allowed origins.",
  "license": "MIT",
  "type": "module",
  "main": "./index.js",
  "module": "./index.js",
  "types": "./index.d.ts",
  "exports": {{
    ".": {{
      "types": "./index.d.ts",
      "import": "./index.js",
      "default": "./index.js"
    }},
    "./react": {{
      "types": "./react.d.ts",
      "import": "./react.js",
      "default": "./react.js"
    }},
    "./token_warden_bg.wasm": "./token_warden_bg.wasm",
    "./package.json": "./package.json"
  }},
  "files": [{files}],
  "sideEffects": false,
  "peerDependencies": {{ "react": ">=18" }},
  "peerDependenciesMeta": {{ "react": {{ "optional": true }} }},
  "keywords": ["oauth", "token", "refresh-token", "httponly", "spa", "wasm", "jwt", "bearer"],
  "repository": {{ "type": "git", "url": "git+{REPOSITORY}.git" }},
  "homepage": "{REPOSITORY}#readme",
  "bugs": {{ "url": "{REPOSITORY}/issues" }}
}}
"#,
        files = files.join(", ")
    )
}

/// The npm intro followed by the README's sections between `<!-- npm:start -->` and
/// `<!-- npm:end -->`.
fn npm_readme() -> Result<String> {
    let intro = read(&root().join("npm/README.md"))?;
    let main = read(&root().join("README.md"))?;
    let start = main
        .find("<!-- npm:start -->")
        .ok_or("README.md has no <!-- npm:start --> marker")?;
    let end = main
        .find("<!-- npm:end -->")
        .ok_or("README.md has no <!-- npm:end --> marker")?;
    let body = main
        .get(start..end)
        .ok_or("the npm markers are out of order")?;
    Ok(format!(
        "{intro}\n{}\n",
        body.trim_start_matches("<!-- npm:start -->").trim()
    ))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn copy(from: &Path, to: &Path) -> Result {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_json_exports_the_react_subpath_with_an_optional_peer() {
        let json: serde_json::Value =
            serde_json::from_str(&package_json("1.2.3")).expect("package.json is JSON");
        let react = &json["exports"]["./react"];
        assert_eq!(react["types"], "./react.d.ts");
        assert_eq!(react["import"], "./react.js");
        assert_eq!(json["exports"]["."]["import"], "./index.js");
        assert_eq!(json["peerDependencies"]["react"], ">=18");
        assert_eq!(json["peerDependenciesMeta"]["react"]["optional"], true);
        // React is never a dependency of the core: only an optional peer.
        assert!(json.get("dependencies").is_none());
        let files: Vec<&str> = json["files"]
            .as_array()
            .expect("files is a list")
            .iter()
            .filter_map(|f| f.as_str())
            .collect();
        for file in ["index.js", "react.js", "react.d.ts", "token_warden_bg.wasm"] {
            assert!(files.contains(&file), "{file} is not in files");
        }
    }

    #[test]
    fn package_json_is_json_and_says_what_is_true() {
        let text = package_json("1.2.3");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"], "1.2.3");
        // A browser library: no `engines` claiming a Node version it does not run in.
        assert!(json.get("engines").is_none(), "{text}");
        assert_eq!(
            json["repository"]["url"],
            "git+https://github.com/token-warden/token-warden.git"
        );
        assert_eq!(
            json["homepage"],
            "https://github.com/token-warden/token-warden#readme"
        );
        assert_eq!(
            json["bugs"]["url"],
            "https://github.com/token-warden/token-warden/issues"
        );
        let files: Vec<&str> = json["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f.as_str())
            .collect();
        assert_eq!(files, super::files());
    }
}
