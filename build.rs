//! Records the commit packpush is built from, for `packpush --version` and
//! `packpush doctor`: in a git checkout, `HEAD` (marked when the sources that
//! make the binary differ from it); in a source bundle, the commit the bundle
//! recorded in `.cargo_vcs_info.json` (the file `cargo package` writes);
//! otherwise "unknown". Also passes on the target triple.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files the binary is compiled from: a change to any of them makes the
/// build "modified", and makes this script run again.
const SOURCES: [&str; 4] = ["src", "build.rs", "Cargo.toml", "Cargo.lock"];

/// How many hex digits of the commit are shown (the same in every kind of build).
const SHORT: usize = 12;

fn main() {
    let dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let commit = from_git(&dir)
        .or_else(|| from_vcs_info(&dir))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=PACKPUSH_COMMIT={commit}");
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=PACKPUSH_TARGET={target}");
    // Cargo runs a build script on every build while a path it watches does not exist.
    if dir.join(".cargo_vcs_info.json").exists() {
        println!("cargo:rerun-if-changed=.cargo_vcs_info.json");
    }
    for source in SOURCES {
        println!("cargo:rerun-if-changed={source}");
    }
}

/// `git` run in `dir`; its trimmed standard output when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    // --no-optional-locks: `git status` must not refresh the index, or the index that this
    // script watches would change on every build, and every build would run it again.
    let out = Command::new("git")
        .arg("--no-optional-locks")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

/// The checkout's commit, when `dir` is the top of a git work tree itself (an
/// extracted source bundle inside another checkout is not that checkout).
fn from_git(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    let full = git(dir, &["rev-parse", "--verify", "HEAD"])?;
    // Run again when HEAD moves: the files git changes on a commit or a checkout.
    let mut watched = vec![
        "HEAD".to_string(),
        "index".to_string(),
        "packed-refs".to_string(),
    ];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            // A path that does not exist would make cargo run this script on every build.
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    let mut status = vec!["status", "--porcelain", "--"];
    status.extend(SOURCES);
    let modified = git(dir, &status).is_none_or(|s| !s.is_empty());
    Some(describe(&full, modified))
}

/// The commit recorded in `.cargo_vcs_info.json`:
/// `{"git": {"sha1": "<40 hex digits>", "dirty": true}, "path_in_vcs": ""}`.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let after = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let value = after
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let sha1 = &value[..value.find('"')?];
    if sha1.len() < SHORT || !sha1.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let dirty = text
        .find("\"dirty\"")
        .map(|i| {
            text[i + "\"dirty\"".len()..]
                .trim_start()
                .trim_start_matches(':')
                .trim_start()
        })
        .is_some_and(|v| v.starts_with("true"));
    Some(describe(sha1, dirty))
}

fn describe(full: &str, modified: bool) -> String {
    let short = &full[..SHORT.min(full.len())];
    if modified {
        format!("{short}-modified")
    } else {
        short.to_string()
    }
}
