//! The `oras` and `tar` doubles in fixtures/doubles (see its README): where they are, a
//! sandbox whose runs use them, the references they are told about, and [`Doubles`], the
//! harness that runs packpush through them and reads back what they recorded.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::calls::{self, Call, view_reads_last};
use super::live::Live;
use super::packpush::{Run, Sandbox, fixture_pack, path_str};
use super::testbed::PASSWORD;

/// The call log's folder name in a doubles sandbox's HOME.
pub const CALL_LOG: &str = "double-log";

/// The registry the doubles are told about; nothing listens there (a folder plays it).
pub const REGISTRY: &str = "127.0.0.1:5000";
/// The project of every push through [`Doubles`].
pub const PROJECT: &str = "proj";
/// The base path, with the host.
pub const BASE_REPO: &str = "127.0.0.1:5000/proj/spectro-packs/archive";
/// The hello-world pack's reference, with the host.
pub const PACK_REF: &str = "127.0.0.1:5000/proj/spectro-packs/archive/hello-world:1.0.0";
/// The hello-world pack's repository, after the host.
pub const HELLO_REPO: &str = "proj/spectro-packs/archive/hello-world";
/// The hello-world pack's archive.
pub const ARCHIVE: &str = "hello-world-1.0.0.tar.gz";
/// The second fixture pack, for runs with several packs: its reference, with the host.
pub const MONITORING_REF: &str =
    "127.0.0.1:5000/proj/spectro-packs/archive/sample-monitoring:0.2.1";
/// The second fixture pack's repository, after the host.
pub const MONITORING_REPO: &str = "proj/spectro-packs/archive/sample-monitoring";

/// The double's name of each call of a whole push of one pack, after the version probes:
/// the login, tar, the base-path push, the look-up, the pack push, the two read-backs
/// (the pack by tag, the base path by digest), then the pack's repository as `packpush list`
/// reads it: its tags (read beside the read-backs, listed last by [`Doubles::steps`]; its one
/// version's manifest is the one just read back, not fetched again).
pub const ONE_PACK_CALLS: &[&str] = &[
    "login",
    "tar",
    "push-base",
    "fetch",
    "push-pack",
    "fetch",
    "fetch",
    "tags",
];

/// The calls of the `--dry-run` script for one pack: the whole push of
/// [`ONE_PACK_CALLS`] without the closing view, which the script does not print.
pub const SCRIPT_CALLS: &[&str] = ONE_PACK_CALLS.split_at(7).0;

/// The calls of a run, the view's reads of the tags last ([`view_reads_last`]); each such
/// read came after the base path was pushed.
fn view_reads_last_after_the_base(steps: Vec<Call>) -> Vec<Call> {
    let base = steps.iter().position(|c| c.call == "push-base");
    for (at, call) in steps.iter().enumerate().filter(|(_, c)| c.call == "tags") {
        assert!(
            base.is_some_and(|base| base < at),
            "a read of the tags before the base path was pushed: {call:#?}"
        );
    }
    view_reads_last(steps, |c| c.call == "tags")
}

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

/// Parses JSON the doubles wrote or packpush printed, panicking with the text.
pub fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// A fresh [`Doubles`] with `envs` for the doubles, and a push of hello-world in it with the
/// password on stdin plus `extra`.
pub fn push_with(envs: &[(&str, &str)], extra: &[&str]) -> (Doubles, Run) {
    let doubles = Doubles::with_env(envs);
    let run = doubles.push(extra);
    (doubles, run)
}

/// A doubles sandbox (see [`doubles_sandbox`]) and what its runs did: packpush pushes to
/// [`REGISTRY`] in [`PROJECT`] as admin over plain HTTP, the doubles record every call, and
/// a folder in HOME plays the registry.
#[derive(Debug)]
pub struct Doubles {
    pub sandbox: Sandbox,
}

impl Default for Doubles {
    fn default() -> Self {
        Doubles::new()
    }
}

impl Doubles {
    pub fn new() -> Doubles {
        Doubles::with_env(&[])
    }

    /// With variables for the doubles (a failure to inject, a version, a sleep).
    pub fn with_env(envs: &[(&str, &str)]) -> Doubles {
        Doubles {
            sandbox: doubles_sandbox(envs),
        }
    }

    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.sandbox.env(key, value);
        self
    }

    pub fn home(&self) -> &Path {
        self.sandbox.home()
    }

    /// The sandbox's TMPDIR.
    pub fn tmp(&self) -> PathBuf {
        self.home().join("tmp")
    }

    /// The folder that plays the registry (created by the first push that stores anything).
    pub fn registry(&self) -> PathBuf {
        self.home().join("registry")
    }

    /// `packpush push hello-world` against the doubles, plus `extra`.
    pub fn push_args(extra: &[&str]) -> Vec<String> {
        Self::push_args_for(&[fixture_pack("hello-world")], extra)
    }

    /// `packpush push PACK...` against the doubles, plus `extra`.
    pub fn push_args_for(packs: &[PathBuf], extra: &[&str]) -> Vec<String> {
        push_args(packs, REGISTRY, PROJECT, extra)
    }

    /// The password as `--password-stdin` reads it.
    pub fn stdin() -> String {
        format!("{PASSWORD}\n")
    }

    pub fn run(&self, args: &[String], stdin: &str) -> Run {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.sandbox.run(&args, stdin)
    }

    /// A push of hello-world with the password on stdin (`--password-stdin`) plus `extra`.
    pub fn push(&self, extra: &[&str]) -> Run {
        self.push_packs(&[fixture_pack("hello-world")], extra)
    }

    /// A push of `packs` with the password on stdin (`--password-stdin`) plus `extra`.
    pub fn push_packs(&self, packs: &[PathBuf], extra: &[&str]) -> Run {
        let mut all = vec!["--password-stdin"];
        all.extend_from_slice(extra);
        self.run(&Self::push_args_for(packs, &all), &Self::stdin())
    }

    /// [`Doubles::push`], started in the background.
    pub fn start(&self, extra: &[&str]) -> Live {
        let mut all = vec!["--password-stdin"];
        all.extend_from_slice(extra);
        Live::start(&self.sandbox, &Self::push_args(&all), &Self::stdin())
    }

    /// Every recorded call, in call order.
    pub fn calls(&self) -> Vec<Call> {
        calls::calls(&self.sandbox)
    }

    /// The calls after the version probes, asserting that the probes came first and that
    /// both tools were probed.
    pub fn steps(&self) -> Vec<Call> {
        self.steps_after(0)
    }

    /// Like [`Doubles::steps`], for the run that made the calls after the first `before`
    /// (the number of calls earlier runs made).
    pub fn steps_after(&self, before: usize) -> Vec<Call> {
        let calls: Vec<Call> = self.calls().into_iter().skip(before).collect();
        let first_step = calls
            .iter()
            .position(|c| !c.is_probe())
            .unwrap_or(calls.len());
        let (probes, steps) = calls.split_at(first_step);
        assert!(
            probes.iter().any(|c| c.program == "oras") && probes.iter().any(|c| c.program == "tar"),
            "both tools are probed before anything runs: {probes:#?}"
        );
        assert!(
            steps.iter().all(|c| !c.is_probe()),
            "a version probe after the first step: {calls:#?}"
        );
        view_reads_last_after_the_base(calls.into_iter().skip(first_step).collect())
    }

    /// `oras login`, `tar`, ... of every step's call.
    pub fn step_labels(&self) -> Vec<String> {
        self.steps().iter().map(Call::label).collect()
    }

    /// Waits until the call `name` of `live` (a run in this sandbox) is asleep; see
    /// [`calls::wait_until_asleep`].
    pub fn wait_until_asleep(&self, live: &mut Live, name: &str) -> Call {
        calls::wait_until_asleep(live, &self.sandbox, name)
    }

    /// The manifest bytes the fake registry holds for `repo` (after the host) and `tag`.
    pub fn stored_by_tag(&self, repo: &str, tag: &str) -> Option<Vec<u8>> {
        let manifests = self.registry().join(REGISTRY).join(repo).join("_manifests");
        let digest = fs::read_to_string(manifests.join("tags").join(tag)).ok()?;
        let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
        fs::read(manifests.join("sha256").join(hex)).ok()
    }

    /// Files left in the sandbox's TMPDIR, by name.
    pub fn leftover_names(&self) -> Vec<String> {
        self.sandbox
            .leftovers()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    /// `path` (which may no longer exist) with the sandbox's HOME resolved, as `pwd -P`
    /// prints it.
    pub fn physical(&self, path: &Path) -> PathBuf {
        let home = fs::canonicalize(self.home()).expect("canonical HOME");
        match path.strip_prefix(self.home()) {
            Ok(rest) => home.join(rest),
            Err(_) => path.to_owned(),
        }
    }
}
