//! The one place packpush starts other programs.
//!
//! Every child gets an argv list (never a shell string), a working
//! directory, and either no stdin or a secret on stdin. The password never
//! enters a child's argv or environment: `HARBOR_PASSWORD` is removed from
//! every child's environment. The caller judges the exit status, so errors
//! can carry the exact command and the tail of its stderr.
//!
//! Every child runs in a process group of its own, so that everything it
//! starts (a wrapper script's real oras, tar's gzip) can be stopped with it:
//! a signal caught while it runs (see `signals`) is forwarded to the group
//! and the caller gets `Interrupted`; a time limit or a stall stops the
//! group; and what a command leaves running when it exits is stopped too.
//! No process packpush starts outlives the command it belongs to.

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
    /// It talks to the registry: a failure of the link or of an overloaded
    /// registry is worth trying again.
    pub network: bool,
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
            network: false,
        }
    }

    /// A command that talks to the registry.
    pub fn over_the_network(mut self) -> Command {
        self.network = true;
        self
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

    /// A short name: the program's file name and its subcommand, e.g.
    /// `oras push`, `oras manifest fetch`, `tar`.
    pub fn name(&self) -> String {
        let program = self
            .program
            .path
            .file_name()
            .unwrap_or(self.program.path.as_str());
        let words = self
            .args
            .iter()
            .take_while(|a| a.chars().all(|c| c.is_ascii_lowercase()))
            .take(2);
        std::iter::once(program)
            .chain(words.map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
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

    /// What a failed command said, for the details of its failure: the
    /// last lines of its stderr under "PROGRAM said:", or, when stderr is
    /// empty and its stdout was kept out of sight (`hidden_stdout`), the
    /// last lines of that under "PROGRAM printed:".
    pub fn said(&self, program: &str, hidden_stdout: bool) -> Vec<String> {
        let tail = self.stderr_tail(8);
        if !tail.is_empty() {
            let lines = tail.into_iter().map(|line| format!("  {line}"));
            return std::iter::once(format!("{program} said:"))
                .chain(lines)
                .collect();
        }
        if !hidden_stdout || self.stdout.is_empty() {
            return Vec::new();
        }
        let text = String::from_utf8_lossy(&self.stdout);
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(8)..]
            .iter()
            .map(|line| format!("  {line}"));
        std::iter::once(format!("{program} printed:"))
            .chain(tail)
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
    /// The child (and everything it started) did no input or output for
    /// this long and was stopped.
    Stalled(Duration),
}

/// How long a command may run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Stopped after this long, whatever it does (`--timeout`).
    pub total: Option<Duration>,
    /// Stopped after this long without any input or output by any of its
    /// processes (`--stall-timeout`).
    pub stall: Option<Duration>,
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

/// How often a running child is looked at: often at first, since most
/// commands (a look-up, a login) end within tens of milliseconds and each
/// millisecond between the end and the look adds to the run; then less.
const POLL_FIRST: Duration = Duration::from_millis(2);
const POLL: Duration = Duration::from_millis(20);
/// How long a child is looked at every [`POLL_FIRST`].
const FIRST: Duration = Duration::from_millis(300);

/// Runs one command to completion, in a process group of its own: a time
/// limit, a stall or a signal stops the whole group, and whatever the
/// command left running when it exited is stopped too, so that no process
/// outlives it.
pub fn run(
    command: &Command,
    secret: Option<&Secret>,
    echo: Echo,
    limits: Limits,
) -> Result<Outcome, RunError> {
    if let Some(sig) = signals::pending() {
        return Err(RunError::Interrupted(sig));
    }
    let started = Instant::now();
    let handle = expression(command, secret, echo)
        .start()
        .map_err(RunError::Spawn)?;
    let group = Group::of(&handle);
    let deadline = limits.total.map(|t| started + t);
    let mut stall = limits.stall.map(|limit| StallWatch::new(group, limit));
    loop {
        group.stop_leftovers_once_the_leader_exited();
        match handle.try_wait() {
            Ok(Some(output)) => {
                group.kill_rest();
                // A child that died of the signal packpush received is an
                // interruption, not a failure.
                if let Some(sig) = signals::pending() {
                    return Err(RunError::Interrupted(sig));
                }
                return Ok(outcome(output, started));
            }
            Ok(None) => {}
            Err(err) => return Err(RunError::Spawn(err)),
        }
        let stopped = if let Some(sig) = signals::pending() {
            Some((sig, RunError::Interrupted(sig)))
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            Some((
                libc::SIGTERM,
                RunError::TimedOut(limits.total.unwrap_or_default()),
            ))
        } else {
            stall
                .as_mut()
                .and_then(StallWatch::stalled)
                .map(|limit| (libc::SIGTERM, RunError::Stalled(limit)))
        };
        if let Some((sig, error)) = stopped {
            stop(&handle, group, sig);
            return Err(error);
        }
        std::thread::sleep(if started.elapsed() < FIRST {
            POLL_FIRST
        } else {
            POLL
        });
    }
}

/// The duct expression of a command: argv, folder, stdin, what is
/// captured, no secret in the environment, a process group of its own.
fn expression(command: &Command, secret: Option<&Secret>, echo: Echo) -> duct::Expression {
    let mut expr = duct::cmd(command.program.path.as_str(), &command.args)
        .dir(command.cwd.as_std_path())
        .stderr_capture()
        .unchecked()
        .before_spawn(|cmd| {
            std::os::unix::process::CommandExt::process_group(cmd, 0);
            Ok(())
        });
    for name in SECRET_ENV {
        expr = expr.env_remove(name);
    }
    expr = match (command.stdin_secret, secret) {
        (true, Some(secret)) => expr.stdin_bytes(secret.expose().as_bytes()),
        _ => expr.stdin_null(),
    };
    if command.capture || echo == Echo::Hidden {
        expr.stdout_capture()
    } else if echo == Echo::Stderr {
        expr.stdout_to_stderr()
    } else {
        expr
    }
}

fn outcome(output: &std::process::Output, started: Instant) -> Outcome {
    let status = output.status;
    let exit = match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(sig)) => Exit::Signal(sig),
        (None, None) => Exit::Code(-1),
    };
    Outcome {
        exit,
        stdout: output.stdout.clone(),
        stderr: output.stderr.clone(),
        duration: started.elapsed(),
    }
}

/// The process group a command runs in; its id is the command's own pid.
#[derive(Clone, Copy, Debug)]
struct Group {
    leader: Option<rustix::process::Pid>,
}

impl Group {
    fn of(handle: &duct::Handle) -> Group {
        let leader = handle
            .pids()
            .first()
            .and_then(|pid| i32::try_from(*pid).ok())
            .and_then(rustix::process::Pid::from_raw);
        Group { leader }
    }

    /// Sends `signal` to every process of the group; whether any was left
    /// to receive it.
    fn kill(self, signal: rustix::process::Signal) -> bool {
        self.leader
            .is_some_and(|leader| rustix::process::kill_process_group(leader, signal).is_ok())
    }

    /// Kills what is left of the group and waits (a little) until it is gone.
    fn kill_rest(self) {
        if !self.kill(rustix::process::Signal::KILL) {
            return;
        }
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until && self.alive() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether a process of the group is still running (not a zombie).
    fn alive(self) -> bool {
        let Some(leader) = self.leader else {
            return false;
        };
        let pgid = leader.as_raw_nonzero().get();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return false;
        };
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .any(|pid| stat_of(pid).is_some_and(|stat| stat.pgrp == pgid && stat.state != 'Z'))
    }

    /// Once the command itself has exited (not yet reaped, so its id cannot
    /// be reused), what it left running is killed: a process that still
    /// holds its output open would keep the command from ending.
    fn stop_leftovers_once_the_leader_exited(self) {
        use rustix::process::{WaitId, WaitIdOptions, waitid};
        let Some(leader) = self.leader else { return };
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | WaitIdOptions::NOHANG;
        if let Ok(Some(_)) = waitid(WaitId::Pid(leader), options) {
            self.kill_rest();
        }
    }

    /// What the command and every process it started (and that is still its
    /// descendant) have read and written so far. Walking down from the command
    /// reads a few files, where a scan of every process would read hundreds.
    fn io(self) -> Vec<(i32, u64, u64)> {
        let Some(leader) = self.leader else {
            return Vec::new();
        };
        let mut found = Vec::new();
        let mut pending = vec![leader.as_raw_nonzero().get()];
        while let Some(pid) = pending.pop() {
            if let Some((read, written)) = io_of(pid) {
                found.push((pid, read, written));
            }
            pending.extend(children_of(pid));
        }
        found.sort_unstable();
        found
    }
}

/// The characters a process has read and written (`rchar`, `wchar`): files,
/// pipes and sockets alike.
fn io_of(pid: i32) -> Option<(u64, u64)> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let field = |name: &str| {
        io.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
    };
    Some((field("rchar:")?, field("wchar:")?))
}

/// The children of every thread of a process.
fn children_of(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// What /proc says of a process: its state and process group.
struct Stat {
    state: char,
    pgrp: i32,
}

/// Fields 3 and 5 of a process's stat line.
fn stat_of(pid: i32) -> Option<Stat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count
    // from the last ')'.
    let mut rest = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let pgrp = rest.nth(1)?.parse().ok()?;
    Some(Stat { state, pgrp })
}

/// Notices a command that does nothing: none of its processes reads or
/// writes anything (files, pipes, the network) for the limit.
struct StallWatch {
    group: Group,
    limit: Duration,
    last: Vec<(i32, u64, u64)>,
    since: Instant,
    looked: Instant,
}

impl StallWatch {
    /// How often the group's counters are read.
    const EVERY: Duration = Duration::from_millis(500);

    fn new(group: Group, limit: Duration) -> StallWatch {
        let now = Instant::now();
        StallWatch {
            group,
            limit,
            last: Vec::new(),
            since: now,
            looked: now,
        }
    }

    /// `Some(limit)` once nothing has moved for the limit.
    fn stalled(&mut self) -> Option<Duration> {
        let now = Instant::now();
        if now.duration_since(self.looked) < Self::EVERY {
            return None;
        }
        self.looked = now;
        let io = self.group.io();
        if io != self.last {
            self.last = io;
            self.since = now;
        }
        (now.duration_since(self.since) >= self.limit).then_some(self.limit)
    }
}

/// Asks the whole group to stop with `sig`, then kills it if the command
/// has not ended within two seconds; always reaps it.
fn stop(handle: &duct::Handle, group: Group, sig: i32) {
    let signal =
        rustix::process::Signal::from_named_raw(sig).unwrap_or(rustix::process::Signal::TERM);
    group.kill(signal);
    let ended = matches!(handle.wait_timeout(Duration::from_secs(2)), Ok(Some(_)));
    group.kill_rest();
    if !ended {
        let _ = handle.kill();
    }
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

    fn sh(script: &str) -> Command {
        command("sh", &["-c", script])
    }

    fn run_limited(command: &Command, limits: Limits) -> Result<Outcome, RunError> {
        run(command, None, Echo::Hidden, limits)
    }

    fn unlimited(command: &Command) -> Outcome {
        run_limited(command, Limits::default()).unwrap()
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
    fn the_short_name_is_the_program_and_its_subcommand() {
        let oras = |args: &[&str]| command("/opt/bin/oras", args).name();
        assert_eq!(oras(&["push", "r/p:1", "x.tar.gz"]), "oras push");
        assert_eq!(
            oras(&["manifest", "fetch", "--plain-http", "r/p:1"]),
            "oras manifest fetch"
        );
        assert_eq!(oras(&["login", "r:5000", "--username", "u"]), "oras login");
        assert_eq!(command("tar", &["-czvf", "/o/x.tar.gz", "x"]).name(), "tar");
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
        let out = unlimited(&sh("echo oops >&2; exit 3"));
        assert_eq!(out.exit, Exit::Code(3));
        assert_eq!(out.stderr_tail(5), ["oops"]);
        let out = unlimited(&sh("kill -9 $$"));
        assert_eq!(out.exit, Exit::Signal(9));
        assert!(out.exit.describe().contains("SIGKILL"));
    }

    #[test]
    fn secret_goes_to_stdin_only() {
        let mut c = command("cat", &[]).with_secret_on_stdin();
        c.capture = true;
        let secret = Secret::new("s3cret".into());
        let out = run(&c, Some(&secret), Echo::Hidden, Limits::default()).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "s3cret");
        c.stdin_secret = false;
        let out = run(&c, Some(&secret), Echo::Hidden, Limits::default()).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = run_limited(&command("/nonexistent/prog", &[]), Limits::default()).unwrap_err();
        assert!(matches!(err, RunError::Spawn(_)));
    }

    /// The pids of every running (not zombie) process whose process group is `pgid`.
    fn members(pgid: i32) -> Vec<i32> {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| stat_of(*pid).is_some_and(|s| s.pgrp == pgid && s.state != 'Z'))
            .collect()
    }

    /// A command that forks (as a wrapper script does) and writes the
    /// process group it runs in to `marker` before it waits.
    fn forking(marker: &std::path::Path, then: &str) -> Command {
        sh(&format!(
            "sleep 300 & sleep 300 & cut -d' ' -f5 /proc/$$/stat > {}; {then}",
            marker.display()
        ))
    }

    fn group_in(marker: &std::path::Path) -> i32 {
        std::fs::read_to_string(marker)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    #[test]
    fn the_command_runs_in_a_process_group_of_its_own() {
        let out = unlimited(&sh("cut -d' ' -f5 /proc/$$/stat; echo $$"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let words: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(words.len(), 2, "{text}");
        assert_eq!(words[0], words[1], "the group is the command's own");
        assert_ne!(
            words[0].parse::<i32>().unwrap(),
            rustix::process::getpgrp().as_raw_nonzero().get()
        );
    }

    #[test]
    fn a_time_limit_stops_everything_the_command_started() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("pgid");
        let limits = Limits {
            total: Some(Duration::from_millis(700)),
            stall: None,
        };
        let err = run_limited(&forking(&marker, "wait"), limits).unwrap_err();
        assert!(matches!(err, RunError::TimedOut(_)), "{err:?}");
        assert_eq!(members(group_in(&marker)), Vec::<i32>::new());
    }

    #[test]
    fn what_a_command_leaves_running_is_stopped_when_it_exits() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("pgid");
        let started = Instant::now();
        // The background sleeps hold the captured output open.
        let out = unlimited(&forking(&marker, "exit 0"));
        assert_eq!(out.exit, Exit::Code(0));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(members(group_in(&marker)), Vec::<i32>::new());
    }

    #[test]
    fn a_command_that_does_nothing_is_stopped_as_stalled() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("pgid");
        let limits = Limits {
            total: Some(Duration::from_secs(20)),
            stall: Some(Duration::from_millis(1500)),
        };
        let started = Instant::now();
        let err = run_limited(&forking(&marker, "wait"), limits).unwrap_err();
        assert!(matches!(err, RunError::Stalled(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(members(group_in(&marker)), Vec::<i32>::new());
    }

    #[test]
    fn a_command_that_reads_or_writes_is_not_stalled() {
        let limits = Limits {
            total: None,
            stall: Some(Duration::from_millis(1500)),
        };
        // Slow, but writing all along: 3.2 s in all, never 1.5 s without output.
        let out = run_limited(
            &sh("for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.4; done"),
            limits,
        )
        .unwrap();
        assert_eq!(out.exit, Exit::Code(0));
    }

    /// A small shell program that writes which signal reached it into
    /// `marker`, then exits; started as the runner starts commands.
    fn trapping(marker: &std::path::Path) -> (duct::Handle, Group) {
        let script = format!(
            "trap 'echo INT > {0}; exit 0' INT; trap 'echo TERM > {0}; exit 0' TERM; \
             echo ready > {0}.ready; while :; do sleep 0.05; done",
            marker.display()
        );
        let program = marker.with_extension("sh");
        std::fs::write(&program, script).unwrap();
        let handle = expression(
            &command("sh", &[program.to_str().unwrap()]),
            None,
            Echo::Hidden,
        )
        .start()
        .unwrap();
        let ready = marker.with_extension("ready");
        let started = Instant::now();
        while !ready.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the shell did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let group = Group::of(&handle);
        (handle, group)
    }

    #[test]
    fn stop_sends_the_signal_asked_for_and_reaps_the_child() {
        let dir = tempfile::tempdir().unwrap();
        for (sig, name) in [(libc::SIGTERM, "TERM"), (libc::SIGINT, "INT")] {
            let marker = dir.path().join(name);
            let (handle, group) = trapping(&marker);
            let started = Instant::now();
            stop(&handle, group, sig);
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
}
