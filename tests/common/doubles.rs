//! The `oras` and `tar` doubles in fixtures/doubles (see its README): where they are, a
//! sandbox whose runs use them, and the call log they write.

use std::fs;
use std::path::{Path, PathBuf};

use super::packpush::{Sandbox, path_str};

/// The call log's folder name in a doubles sandbox's HOME.
pub const CALL_LOG: &str = "double-log";

/// The folder of the doubles.
pub fn doubles_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/doubles")
}

/// The path of the double `name` (`oras` or `tar`).
pub fn double(name: &str) -> String {
    path_str(&doubles_dir().join(name))
}

/// `--oras DOUBLE --tar DOUBLE`.
pub fn double_tools() -> Vec<String> {
    vec![
        "--oras".to_owned(),
        double("oras"),
        "--tar".to_owned(),
        double("tar"),
    ]
}

/// `push PACK... --registry REGISTRY --project PROJECT --username admin --plain-http`,
/// the doubles as oras and tar, then `extra`.
pub fn push_args(packs: &[PathBuf], registry: &str, project: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["push".to_owned()];
    args.extend(packs.iter().map(|p| path_str(p)));
    args.extend(
        [
            "--registry",
            registry,
            "--project",
            project,
            "--username",
            super::testbed::USER,
            "--plain-http",
        ]
        .map(str::to_owned),
    );
    args.extend(double_tools());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// A sandbox whose runs use the doubles: the call log (created empty) and the fake
/// registry live in its HOME, outside its TMPDIR, so leftovers stay meaningful; plus `envs`.
pub fn doubles_sandbox(envs: &[(&str, &str)]) -> Sandbox {
    let mut sandbox = Sandbox::new();
    let log = call_log(&sandbox);
    fs::create_dir_all(&log).expect("create the call log");
    let registry = sandbox.home().join("registry");
    sandbox.env("DOUBLE_LOG", path_str(&log));
    sandbox.env("ORAS_DOUBLE_REGISTRY", path_str(&registry));
    for (key, value) in envs {
        sandbox.env(key, value);
    }
    sandbox
}

/// The call log of a doubles sandbox.
pub fn call_log(sandbox: &Sandbox) -> PathBuf {
    sandbox.home().join(CALL_LOG)
}

/// The folder of every recorded call, in call order.
pub fn call_dirs(sandbox: &Sandbox) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(call_log(sandbox))
        .expect("read the call log")
        .map(|e| e.expect("log entry").path())
        .collect();
    dirs.sort();
    dirs
}
