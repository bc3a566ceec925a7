//! Running one command of a step: announced, run, recorded; and the one
//! place that turns a command that could not start, failed, timed out or
//! was interrupted into a `Failure` naming the step, the command, its exit
//! status, the tail of its stderr, the registry's state and hints.

use std::time::Duration;

use camino::Utf8Path;

use super::{Engine, Running};
use crate::error::{Class, Failure};
use crate::hints;
use crate::plan::{Step, StepKind};
use crate::process::{self, Command, Echo, Outcome, RunError};
use crate::report::CommandRecord;
use crate::signals;
use crate::ui::seconds;

/// How a command that failed ended.
pub(super) enum Ended<'a> {
    /// It ran and exited with a failure.
    Exited(&'a Outcome),
    /// It could not start, or was stopped.
    Stopped(RunError),
}

impl Engine<'_> {
    /// Runs a command of the running step; a non-zero exit is a failure.
    pub(super) fn exec(
        &self,
        run: &mut Running<'_>,
        command: &Command,
    ) -> Result<Outcome, Failure> {
        self.progress().command(command, false);
        let outcome = self.spawn(run, command)?;
        if !outcome.exit.success() {
            return Err(self.failure(run.step, command, Ended::Exited(&outcome)));
        }
        if self.progress().echo() == Echo::Hidden && !command.capture {
            self.progress().child_stdout(&outcome.stdout);
        }
        self.progress().child_stderr(&outcome.stderr);
        Ok(outcome)
    }

    /// Runs a look-up whose exit status the caller judges (only a command
    /// that could not start, timed out or was interrupted fails here); it is
    /// announced only with `--verbose`.
    pub(super) fn look_up(
        &self,
        run: &mut Running<'_>,
        command: &Command,
    ) -> Result<Outcome, Failure> {
        self.progress().command(command, true);
        self.spawn(run, command)
    }

    /// Starts a command and records it.
    fn spawn(&self, run: &mut Running<'_>, command: &Command) -> Result<Outcome, Failure> {
        let planned = CommandRecord::planned(command);
        let secret = self.settings.secret.filter(|_| command.stdin_secret);
        match process::run(
            command,
            secret,
            self.progress().echo(),
            self.settings.timeout,
        ) {
            Ok(outcome) => {
                run.commands
                    .push(planned.finished(Some(outcome.exit), outcome.duration));
                Ok(outcome)
            }
            Err(error) => {
                run.commands.push(planned.finished(None, Duration::ZERO));
                Err(self.failure(run.step, command, Ended::Stopped(error)))
            }
        }
    }

    /// The failure of `command` in `step`.
    pub(super) fn failure(&self, step: &Step, command: &Command, how: Ended<'_>) -> Failure {
        let state = step.kind.registry_state(command);
        let class = step.kind.failure_class();
        let (n, purpose) = (step.number, &step.purpose);
        match how {
            Ended::Stopped(RunError::Spawn(e)) => Failure::new(
                class,
                format!("step {n} ({purpose}): could not start {}: {e}", command.program.path),
            ),
            Ended::Stopped(RunError::Interrupted(sig)) => Failure::new(
                Class::Interrupted(sig),
                format!("interrupted by {} during step {n} ({purpose})", signals::name(sig)),
            )
            .detail(format!("registry state: {state}"))
            .detail("the running command was stopped; temporary files are removed; your files are unchanged"),
            Ended::Stopped(RunError::TimedOut(limit)) => Failure::new(
                class,
                format!("step {n} ({purpose}) ran longer than --timeout {} and was stopped", seconds(limit)),
            )
            .detail(format!("command: {}", command.shell_line(true)))
            .detail(format!("registry state: {state}"))
            .hint("the registry may be overloaded or unreachable through a proxy; raise --timeout for large packs"),
            Ended::Exited(outcome) => self.exit_failure(step, command, outcome, state),
        }
    }

    /// A command that ran and exited with a failure.
    fn exit_failure(
        &self,
        step: &Step,
        command: &Command,
        outcome: &Outcome,
        state: &str,
    ) -> Failure {
        let message = if command.purpose == step.purpose {
            format!("step {} failed: {}", step.number, step.purpose)
        } else {
            format!(
                "step {} ({}): {} failed",
                step.number, step.purpose, command.purpose
            )
        };
        let mut failure = Failure::new(step.kind.failure_class(), message)
            .detail(format!("command: {}", command.shell_line(true)))
            .detail(format!("result: {}", outcome.exit.describe()));
        let display = &command.program.display;
        let tail = outcome.stderr_tail(8);
        if !tail.is_empty() {
            failure = failure.detail(format!("{display} said:"));
            for line in tail {
                failure = failure.detail(format!("  {line}"));
            }
        } else if self.progress().echo() == Echo::Hidden && !outcome.stdout.is_empty() {
            let text = String::from_utf8_lossy(&outcome.stdout);
            let lines: Vec<&str> = text.lines().collect();
            failure = failure.detail(format!("{display} printed:"));
            for line in &lines[lines.len().saturating_sub(8)..] {
                failure = failure.detail(format!("  {line}"));
            }
        }
        let stderr = String::from_utf8_lossy(&outcome.stderr);
        let hints = if step.kind == StepKind::Archive {
            hints::archive_hints(&stderr)
        } else {
            hints::hints_for(&stderr, &self.plan.registry, &self.plan.project)
        };
        for hint in hints {
            failure = failure.hint(hint);
        }
        if step.kind.reports_registry_state() {
            failure = failure.detail(format!("registry state: {state}"));
        }
        failure
    }
}

/// The manifest oras wrote with `--export-manifest`.
pub(super) fn read_export(path: &Utf8Path, step: &Step) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::new(
            Class::Push,
            format!(
                "step {} ({}): oras reported success but wrote no manifest to {path}: {e}",
                step.number, step.purpose
            ),
        )
    })
}
