//! The one place packpush starts other programs.
//!
//! Every child gets an argv list (never a shell string), a working
//! directory, and either no stdin or a secret on stdin. The password never
//! enters a child's argv or environment: `HARBOR_PASSWORD` is removed from
//! every child's environment. The caller judges the exit status, so errors
//! can carry the exact command and the tail of its stderr.
//!
//! A signal caught while a child runs (see `signals`) stops the child: a
//! terminal's Ctrl-C already reaches it through the process group, SIGTERM
//! is forwarded, and the caller gets `Interrupted`.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};

use crate::secret::{REDACTED, Secret};
use crate::signals;

/// Environment variables that carry secrets and are never passed to a child.
pub const SECRET_ENV: &[&str] = &["HARBOR_PASSWORD"];

/// A program as found on the machine: the path to start and the name to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub path: Utf8PathBuf,
    /// Its name when found on PATH, else its path.
    pub display: String,
}

/// A whole command, ready to run: what it is for, the program, argv,
/// working directory, and how its input and output are handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// One line of intent, used in errors ("log in to r:5000").
    pub purpose: String,
    pub program: Program,
    pub args: Vec<String>,
    pub cwd: Utf8PathBuf,
    /// The password is written to stdin (shown as `<redacted>`).
    pub stdin_secret: bool,
    /// It changes nothing (a look-up, a read-back, a probe).
    pub read_only: bool,
    /// packpush reads what it prints on stdout (a manifest, a version).
    pub capture: bool,
}

impl Command {
    /// A command that changes something, its output shown to people.
    pub fn new(
        purpose: impl Into<String>,
        program: &Program,
        args: Vec<String>,
        cwd: &Utf8Path,
    ) -> Command {
        Command {
            purpose: purpose.into(),
            program: program.clone(),
            args,
            cwd: cwd.to_owned(),
            stdin_secret: false,
            read_only: false,
            capture: false,
        }
    }

    /// The password goes to its stdin.
    pub fn with_secret_on_stdin(mut self) -> Command {
        self.stdin_secret = true;
        self
    }

    /// A look-up that changes nothing, whose stdout packpush reads.
    pub fn reading(mut self) -> Command {
        self.read_only = true;
        self.capture = true;
        self
    }

    /// The same command with every `placeholder` in its arguments replaced
    /// by `value` (a value known only once an earlier step ran).
    pub fn filled(&self, placeholder: &str, value: &str) -> Command {
        let mut command = self.clone();
        for arg in &mut command.args {
            *arg = arg.replace(placeholder, value);
        }
        command
    }

    /// The argv as shown to people and in JSON: program name and arguments.
    /// Secrets are never in the arguments, so nothing needs removing.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.display.clone())
            .chain(self.args.iter().cloned())
            .collect()
    }

    /// A copyable shell line: `cd DIR && PROGRAM ARGS`, with the stdin
    /// secret shown as a comment.
    pub fn shell_line(&self, with_cd: bool) -> String {
        let mut line = String::new();
        if with_cd {
            line.push_str(&format!("cd {} && ", shell_words::quote(self.cwd.as_str())));
        }
        line.push_str(&shell_words::join(self.argv()));
        if self.stdin_secret {
            line.push_str(&format!("   # password on stdin: {REDACTED}"));
        }
        line
    }
}

/// How a finished child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }

    pub fn describe(self) -> String {
        match self {
            Exit::Code(code) => format!("exit status {code}"),
            Exit::Signal(sig) => format!("killed by signal {sig} ({})", signals::name(sig)),
        }
    }
}

/// What a finished child left behind.
#[derive(Debug)]
pub struct Outcome {
    pub exit: Exit,
    /// Captured stdout (empty unless the command captures it or it was hidden).
    pub stdout: Vec<u8>,
    /// Captured stderr.
    pub stderr: Vec<u8>,
    pub duration: Duration,
}

impl Outcome {
    /// The last `lines` lines of stderr, for error messages.
    pub fn stderr_tail(&self, lines: usize) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.stderr);
        let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        all[all.len().saturating_sub(lines)..]
            .iter()
            .map(|l| l.to_string())
            .collect()
    }
}

/// Why a child did not produce an outcome.
#[derive(Debug)]
pub enum RunError {
    /// The program could not be started at all.
    Spawn(io::Error),
    /// packpush received this signal while the child ran; the child was stopped.
    Interrupted(i32),
    /// The child ran longer than the time limit and was stopped.
    TimedOut(Duration),
}

/// Where a child's stdout goes when it is not captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// Passed through to packpush's stdout (a person at a terminal).
    Stdout,
    /// Passed through to packpush's stderr (stdout is kept for JSON).
    Stderr,
    /// Kept out of sight (captured, shown only on failure).
    Hidden,
}

/// Runs one command to completion.
pub fn run(
    command: &Command,
    secret: Option<&Secret>,
    echo: Echo,
    timeout: Option<Duration>,
) -> Result<Outcome, RunError> {
    if let Some(sig) = signals::pending() {
        return Err(RunError::Interrupted(sig));
    }
    let mut expr = duct::cmd(command.program.path.as_str(), &command.args)
        .dir(command.cwd.as_std_path())
        .stderr_capture()
        .unchecked();
    for name in SECRET_ENV {
        expr = expr.env_remove(name);
    }
    expr = match (command.stdin_secret, secret) {
        (true, Some(secret)) => expr.stdin_bytes(secret.expose().as_bytes()),
        _ => expr.stdin_null(),
    };
    expr = if command.capture || echo == Echo::Hidden {
        expr.stdout_capture()
    } else if echo == Echo::Stderr {
        expr.stdout_to_stderr()
    } else {
        expr
    };

    let started = Instant::now();
    let handle = expr.start().map_err(RunError::Spawn)?;
    let deadline = timeout.map(|t| started + t);
    loop {
        match handle.wait_timeout(Duration::from_millis(20)) {
            Ok(Some(output)) => {
                // A terminal's Ctrl-C (or a CI cancel) reaches the whole process
                // group: a child that died of it is an interruption, not a failure.
                if let Some(sig) = signals::pending() {
                    return Err(RunError::Interrupted(sig));
                }
                let status = output.status;
                let exit = match (status.code(), status.signal()) {
                    (Some(code), _) => Exit::Code(code),
                    (None, Some(sig)) => Exit::Signal(sig),
                    (None, None) => Exit::Code(-1),
                };
                return Ok(Outcome {
                    exit,
                    stdout: output.stdout.clone(),
                    stderr: output.stderr.clone(),
                    duration: started.elapsed(),
                });
            }
            Ok(None) => {}
            Err(err) => return Err(RunError::Spawn(err)),
        }
        if let Some(sig) = signals::pending() {
            stop(&handle, sig);
            return Err(RunError::Interrupted(sig));
        }
        if let Some(deadline) = deadline
            && Instant::now() >= deadline
        {
            stop(&handle, libc::SIGTERM);
            return Err(RunError::TimedOut(timeout.unwrap_or_default()));
        }
    }
}

/// Asks the child to stop with `sig`, then kills it if it has not exited
/// within two seconds; always reaps it.
fn stop(handle: &duct::Handle, sig: i32) {
    use rustix::process::{Pid, Signal, kill_process};

    let signal = Signal::from_named_raw(sig).unwrap_or(Signal::TERM);
    for pid in handle.pids() {
        // A pid we started and have not reaped yet. A child that has just
        // exited is no error: the wait below reaps it.
        if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
            let _ = kill_process(pid, signal);
        }
    }
    if matches!(handle.wait_timeout(Duration::from_secs(2)), Ok(Some(_))) {
        return;
    }
    let _ = handle.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(program: &str, args: &[&str]) -> Command {
        let program = Program {
            path: program.into(),
            display: program.into(),
        };
        Command::new(
            "test",
            &program,
            args.iter().map(|s| s.to_string()).collect(),
            "/".into(),
        )
    }

    #[test]
    fn shell_line_quotes_and_redacts() {
        let mut c = command(
            "oras",
            &["login", "r", "--username", "robot$p+ci", "--password-stdin"],
        )
        .with_secret_on_stdin();
        c.cwd = "/my dir".into();
        assert_eq!(
            c.shell_line(true),
            "cd '/my dir' && oras login r --username 'robot$p+ci' --password-stdin   # password on stdin: <redacted>"
        );
    }

    #[test]
    fn a_placeholder_is_filled_in_every_argument() {
        let c = command("oras", &["fetch", "r/p@<d>", "--x=<d>"]);
        assert_eq!(
            c.filled("<d>", "sha256:1").args,
            ["fetch", "r/p@sha256:1", "--x=sha256:1"]
        );
    }

    #[test]
    fn reports_exit_codes_and_signals() {
        let out = run(
            &command("sh", &["-c", "echo oops >&2; exit 3"]),
            None,
            Echo::Hidden,
            None,
        )
        .unwrap();
        assert_eq!(out.exit, Exit::Code(3));
        assert_eq!(out.stderr_tail(5), ["oops"]);
        let out = run(
            &command("sh", &["-c", "kill -9 $$"]),
            None,
            Echo::Hidden,
            None,
        )
        .unwrap();
        assert_eq!(out.exit, Exit::Signal(9));
        assert!(out.exit.describe().contains("SIGKILL"));
    }

    #[test]
    fn secret_goes_to_stdin_only() {
        let mut c = command("cat", &[]).with_secret_on_stdin();
        c.capture = true;
        let secret = Secret::new("s3cret".into());
        let out = run(&c, Some(&secret), Echo::Hidden, None).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "s3cret");
        c.stdin_secret = false;
        let out = run(&c, Some(&secret), Echo::Hidden, None).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = run(&command("/nonexistent/prog", &[]), None, Echo::Hidden, None).unwrap_err();
        assert!(matches!(err, RunError::Spawn(_)));
    }

    /// A small shell program that writes which signal reached it into
    /// `marker`, then exits.
    fn trapping(marker: &std::path::Path) -> duct::Handle {
        let script = format!(
            "trap 'echo INT > {0}; exit 0' INT; trap 'echo TERM > {0}; exit 0' TERM; \
             echo ready > {0}.ready; while :; do sleep 0.05; done",
            marker.display()
        );
        let program = marker.with_extension("sh");
        std::fs::write(&program, script).unwrap();
        let handle = duct::cmd!("sh", &program).unchecked().start().unwrap();
        let ready = marker.with_extension("ready");
        let started = Instant::now();
        while !ready.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the shell did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        handle
    }

    #[test]
    fn stop_sends_the_signal_asked_for_and_reaps_the_child() {
        let dir = tempfile::tempdir().unwrap();
        for (sig, name) in [(libc::SIGTERM, "TERM"), (libc::SIGINT, "INT")] {
            let marker = dir.path().join(name);
            let handle = trapping(&marker);
            let started = Instant::now();
            stop(&handle, sig);
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{name}: waited for the kill"
            );
            assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), name);
            assert!(
                matches!(handle.try_wait(), Ok(Some(_))),
                "{name}: not reaped"
            );
        }
    }

    #[test]
    fn time_limit_stops_the_child() {
        let err = run(
            &command("sleep", &["5"]),
            None,
            Echo::Hidden,
            Some(Duration::from_millis(100)),
        )
        .unwrap_err();
        assert!(matches!(err, RunError::TimedOut(_)));
    }
}
