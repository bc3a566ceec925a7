//! Runs the built packpush binary in a hermetic environment: an empty
//! environment but for what the test sets, its own HOME, and a PATH of the
//! system's basic folders only (tests name oras and tar explicitly).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// Where the fixture packs live.
pub fn fixture_pack(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/packs")
        .join(name)
}

/// `path` as a string (the tests' paths are UTF-8).
pub fn path_str(path: &Path) -> String {
    path.to_str().expect("UTF-8 path").to_owned()
}

/// `path` as one argument of a command line (the tests' paths are UTF-8).
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Runs `command` to its end with `stdin` as its standard input; what it printed.
pub fn run_command(mut command: Command, stdin: &str) -> Run {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {:?}: {e}", command.get_program()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait for the command");
    Run::new(status.code().unwrap_or(-1), &stdout, &stderr)
}

/// A fresh, hermetic environment for one packpush run (or several).
#[derive(Debug)]
pub struct Sandbox {
    pub home: TempDir,
    pub envs: Vec<(String, String)>,
}

/// What a finished run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// A finished run; a report it printed on stdout must validate against the schema
    /// in docs/ (see `schema`).
    #[track_caller]
    pub fn new(code: i32, stdout: &[u8], stderr: &[u8]) -> Run {
        let run = Run {
            code,
            stdout: String::from_utf8_lossy(stdout).into_owned(),
            stderr: String::from_utf8_lossy(stderr).into_owned(),
        };
        super::schema::check_stdout(&run.stdout);
        run
    }

    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics, showing stderr, unless stderr holds `text`.
    #[track_caller]
    pub fn assert_stderr_has(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "{text:?} not on stderr:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            home: tempfile::tempdir().expect("tempdir"),
            envs: Vec::new(),
        }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn env(&mut self, key: &str, value: impl AsRef<str>) -> &mut Self {
        self.envs
            .push((key.to_string(), value.as_ref().to_string()));
        self
    }

    /// The command, ready to run: empty environment plus HOME, a basic PATH,
    /// TMPDIR inside the sandbox (so leftovers can be found) and the test's
    /// variables.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_packpush"));
        let tmp = self.home().join("tmp");
        std::fs::create_dir_all(&tmp).expect("sandbox tmp");
        cmd.args(args)
            .env_clear()
            .env("HOME", self.home())
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("TMPDIR", &tmp)
            .env("NO_COLOR", "1")
            .envs(self.envs.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs packpush with `stdin` as its standard input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        run_command(self.command(args), stdin)
    }

    /// Files left in the sandbox's TMPDIR (packpush must leave none after success).
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let tmp = self.home().join("tmp");
        std::fs::read_dir(&tmp)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}
