//! The call log the `oras` and `tar` doubles write (fixtures/doubles/README.md, "The call
//! log"): one folder per call, read into a [`Call`]; and waiting for a call that was told to
//! sleep.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::doubles::call_dirs;
use super::live::{Live, RUN_LIMIT};
use super::packpush::Sandbox;

/// One recorded call of a double.
#[derive(Debug)]
pub struct Call {
    /// The call's folder in the log (`NNNN`, in call order).
    pub dir: PathBuf,
    /// `oras` or `tar`.
    pub program: String,
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// `yes` or `no`.
    pub env_has_harbor_password: String,
    /// A login with `--password-stdin`: hex sha256 of what stdin carried.
    pub stdin_sha256: Option<String>,
    /// The double's name for the call: `version`, `login`, `push-base`, `push-pack`,
    /// `fetch`, `tar`, ...
    pub call: String,
    /// The injected failure, if any (`login`, `push-pack`, `fetch`, `lookup`, `verify`, ...).
    pub failed: Option<String>,
    /// oras: the text after `Error: ` when the call failed.
    pub error: Option<String>,
}

impl Call {
    /// Reads a call the double has recorded (it writes program, argv, cwd and the
    /// environment note first of all, the pid of a sleeping call after its name).
    pub fn read(dir: PathBuf) -> Call {
        let text = |name: &str| fs::read_to_string(dir.join(name)).ok();
        let argv = fs::read(dir.join("argv")).expect("argv recorded");
        let mut argv: Vec<String> = argv
            .split(|b| *b == 0)
            .map(|a| String::from_utf8(a.to_vec()).expect("UTF-8 argument"))
            .collect();
        // Every argument is followed by a NUL: the last piece is empty.
        assert_eq!(argv.pop().as_deref(), Some(""), "argv of {}", dir.display());
        Call {
            program: text("program").expect("program recorded"),
            cwd: PathBuf::from(text("cwd").expect("cwd recorded")),
            env_has_harbor_password: text("env_has_harbor_password").expect("env recorded"),
            stdin_sha256: text("stdin.sha256"),
            call: text("call").unwrap_or_default(),
            failed: text("failed"),
            error: text("error"),
            argv,
            dir,
        }
    }

    /// `oras version` or `tar --version`.
    pub fn is_probe(&self) -> bool {
        (self.program == "oras" && self.argv == ["version"])
            || (self.program == "tar" && self.argv == ["--version"])
    }

    /// `oras login`, `oras push`, `oras manifest fetch`, `oras repo tags`, `tar`.
    pub fn label(&self) -> String {
        match (self.program.as_str(), self.argv.first().map(String::as_str)) {
            ("oras", Some(group @ ("manifest" | "repo" | "blob"))) => {
                format!(
                    "oras {group} {}",
                    self.argv.get(1).cloned().unwrap_or_default()
                )
            }
            ("oras", Some(sub)) => format!("oras {sub}"),
            (program, _) => program.to_owned(),
        }
    }

    /// The reference an oras push or manifest fetch names (push: the first argument after
    /// `push`; fetch: the last argument, as packpush puts it last).
    pub fn reference(&self) -> Option<&str> {
        match self.call.as_str() {
            "push-base" | "push-pack" => self.argv.get(1).map(String::as_str),
            "fetch" => self.argv.last().map(String::as_str),
            _ => None,
        }
    }

    /// A `manifest fetch` of `reference`.
    pub fn fetches(&self, reference: &str) -> bool {
        self.call == "fetch" && self.reference() == Some(reference)
    }

    /// The value after `flag`, if the call has it.
    pub fn flag(&self, flag: &str) -> Option<&str> {
        let at = self.argv.iter().position(|a| a == flag)?;
        self.argv.get(at + 1).map(String::as_str)
    }

    /// A file of the call's folder, which must exist.
    pub fn file(&self, name: &str) -> Vec<u8> {
        fs::read(self.dir.join(name))
            .unwrap_or_else(|e| panic!("{}/{name}: {e}", self.dir.display()))
    }

    /// A file of the call's folder as it is now (`signal` appears once a signal ended a
    /// sleep), or `None`.
    pub fn text(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.dir.join(name)).ok()
    }

    /// The pid of a call told to sleep, once it has published it.
    pub fn pid(&self) -> Option<i32> {
        self.text("pid").map(|pid| pid.parse().expect("a pid"))
    }
}

/// The double's name of each call (`login`, `tar`, `push-base`, ...).
/// `items` (calls, or their names) with the view's reads of a repository's tags (`is_view`)
/// moved to the end, in their own order. A push reads a pack's tags beside step 5's
/// read-backs, for the view it ends with, so where they fall among those is up to the
/// scheduler; the procedure's own calls keep their order.
pub fn view_reads_last<T>(items: Vec<T>, is_view: impl Fn(&T) -> bool) -> Vec<T> {
    let (view, mut others): (Vec<T>, Vec<T>) = items.into_iter().partition(|item| is_view(item));
    others.extend(view);
    others
}

pub fn call_names(calls: &[Call]) -> Vec<&str> {
    calls.iter().map(|c| c.call.as_str()).collect()
}

/// Every call recorded in the log folder `log`, in call order.
pub fn calls_in(log: &Path) -> Vec<Call> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(log)
        .unwrap_or_else(|e| panic!("read the call log {}: {e}", log.display()))
        .map(|e| e.expect("log entry").path())
        .collect();
    dirs.sort();
    dirs.into_iter().map(Call::read).collect()
}

/// Every call recorded in a doubles sandbox, in call order (read once the run is over, or
/// see [`sleepers`]).
pub fn calls(sandbox: &Sandbox) -> Vec<Call> {
    call_dirs(sandbox).into_iter().map(Call::read).collect()
}

/// The calls of a doubles sandbox that were told to sleep and have published their pid
/// (asleep now, or woken since). Calls still being recorded are left out.
pub fn sleepers(sandbox: &Sandbox) -> Vec<Call> {
    call_dirs(sandbox)
        .into_iter()
        .filter(|dir| dir.join("pid").exists())
        .map(Call::read)
        .collect()
}

/// Waits (at most [`RUN_LIMIT`]) until the first call named `name` of the run `live` in
/// `sandbox` is asleep (ORAS_DOUBLE_SLEEP, TAR_DOUBLE_SLEEP) and returns it. Panics with
/// what packpush printed if it ends first.
pub fn wait_until_asleep(live: &mut Live, sandbox: &Sandbox, name: &str) -> Call {
    let deadline = Instant::now() + RUN_LIMIT;
    loop {
        if let Some(call) = sleepers(sandbox).into_iter().find(|c| c.call == name) {
            return call;
        }
        if live.exited() {
            let (run, _) = live.ended_output();
            panic!(
                "packpush ended (exit {}) before {name} was asleep\n--- stderr ---\n{}",
                run.code, run.stderr
            );
        }
        assert!(Instant::now() < deadline, "{name} never fell asleep");
        thread::sleep(Duration::from_millis(5));
    }
}
