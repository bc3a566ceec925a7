//! Running one command of a step: announced, tried again after a transient
//! failure (with growing pauses; every try recorded and said), and the one
//! place that turns a command that could not start, failed, timed out,
//! stalled or was interrupted into a `Failure` naming the step, the command,
//! its exit status, the tail of its stderr, the registry's state and hints.

use std::time::Duration;

use camino::Utf8Path;

use super::{Engine, Running};
use crate::error::{Class, Failure};
use crate::hints;
use crate::plan::{PackPlan, Step, StepKind};
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

/// What one try of a command came to.
type Tried = Result<Outcome, RunError>;

/// How a command ended once its tries were over.
pub(super) enum Ran {
    Outcome(Outcome),
    /// Before a retry, the registry was found to hold what the command was
    /// pushing (its answer was lost): this manifest.
    AlreadyDone(Vec<u8>),
}

/// Asked before a command is tried again: whether the registry already
/// holds what it was pushing.
pub(super) type Recheck<'a> = &'a dyn Fn(&mut Running<'_>) -> Result<Option<Vec<u8>>, Failure>;

/// The first pause before a retry; each further one doubles, up to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(30);

impl Engine<'_> {
    /// Runs a command of the running step; a non-zero exit is a failure.
    /// Transient failures are tried again.
    pub(super) fn exec(
        &self,
        run: &mut Running<'_>,
        command: &Command,
    ) -> Result<Outcome, Failure> {
        match self.exec_rechecked(run, command, None)? {
            Ran::Outcome(outcome) => Ok(outcome),
            Ran::AlreadyDone(_) => unreachable!("no recheck was asked for"),
        }
    }

    /// As `exec`, and before each retry `recheck` may find the work done.
    pub(super) fn exec_rechecked(
        &self,
        run: &mut Running<'_>,
        command: &Command,
        recheck: Option<Recheck<'_>>,
    ) -> Result<Ran, Failure> {
        self.progress().command(command, false);
        let (ran, gave_up) = self.tries(run, command, recheck)?;
        let Ran::Outcome(outcome) = ran else {
            return Ok(ran);
        };
        if !outcome.exit.success() {
            let failure = self.failure(run.step, command, Ended::Exited(&outcome));
            return Err(self.gave_up(failure, gave_up));
        }
        if self.progress().echo() == Echo::Hidden && !command.capture {
            self.progress().child_stdout(&outcome.stdout);
        }
        self.progress().child_stderr(&outcome.stderr);
        Ok(Ran::Outcome(outcome))
    }

    /// Runs a look-up whose exit status the caller judges (a "not found" is
    /// an answer); only a command that could not start, was stopped, or
    /// failed for a transient reason on every try fails here. It is
    /// announced only with `--verbose`.
    pub(super) fn look_up(
        &self,
        run: &mut Running<'_>,
        command: &Command,
    ) -> Result<Outcome, Failure> {
        self.progress().command(command, true);
        self.ask(run, command)
    }

    /// As `look_up`, not announced.
    pub(super) fn ask(&self, run: &mut Running<'_>, command: &Command) -> Result<Outcome, Failure> {
        match self.tries(run, command, None)? {
            (Ran::Outcome(outcome), None) => Ok(outcome),
            (Ran::Outcome(outcome), gave_up) => {
                let failure = self.failure(run.step, command, Ended::Exited(&outcome));
                Err(self.gave_up(failure, gave_up))
            }
            (Ran::AlreadyDone(_), _) => unreachable!("no recheck was asked for"),
        }
    }

    /// Tries a command until it succeeds, fails for a reason that is not
    /// transient, or its retries are spent (then the last transient reason
    /// comes back too); records every try.
    fn tries(
        &self,
        run: &mut Running<'_>,
        command: &Command,
        recheck: Option<Recheck<'_>>,
    ) -> Result<(Ran, Option<String>), Failure> {
        let tries = self.settings.retries + 1;
        let record = run.commands.len();
        run.commands.push(CommandRecord::planned(command));
        for attempt in 1..=tries {
            let tried = self.try_once(command);
            run.commands[record].tried(&tried);
            let reason = transient(command, &tried);
            let gave_up = reason.clone().filter(|_| attempt == tries);
            match (tried, reason) {
                (Ok(outcome), None) => return Ok((Ran::Outcome(outcome), None)),
                (Ok(outcome), Some(_)) if gave_up.is_some() => {
                    return Ok((Ran::Outcome(outcome), gave_up));
                }
                (Err(error), reason) if reason.is_none() || gave_up.is_some() => {
                    let failure = self.failure(run.step, command, Ended::Stopped(error));
                    return Err(self.gave_up(failure, gave_up));
                }
                (_, reason) => {
                    let reason = reason.unwrap_or_default();
                    let pause = pause_before(attempt + 1);
                    run.commands[record].retrying(&reason, pause);
                    let label = run.pack.map(PackPlan::label);
                    self.progress().retrying(
                        label.as_deref(),
                        command,
                        &reason,
                        pause,
                        attempt + 1,
                        tries,
                    );
                    self.pause(run, command, pause)?;
                }
            }
            if let Some(recheck) = recheck
                && let Some(held) = recheck(run)?
            {
                return Ok((Ran::AlreadyDone(held), None));
            }
        }
        unreachable!("the last try returns")
    }

    /// A failure that was transient on every try says so, and how to try more.
    fn gave_up(&self, failure: Failure, reason: Option<String>) -> Failure {
        let Some(reason) = reason else {
            return failure;
        };
        let tries = self.settings.retries + 1;
        let failure = failure.detail(format!(
            "a transient failure ({reason}) on every try ({tries} in all)"
        ));
        if self.settings.retries == 0 {
            failure.hint("this failure may pass: --retries N tries such failures again, with pauses in between")
        } else {
            failure
                .hint("the link or the registry kept failing: try again later, or raise --retries")
        }
    }

    fn try_once(&self, command: &Command) -> Tried {
        let secret = self.settings.secret.filter(|_| command.stdin_secret);
        process::run(
            command,
            secret,
            self.progress().echo(),
            self.settings.limits,
        )
    }

    /// Waits before a retry; a signal ends the wait (and the run).
    fn pause(&self, run: &Running<'_>, command: &Command, pause: Duration) -> Result<(), Failure> {
        let until = std::time::Instant::now() + pause;
        while std::time::Instant::now() < until {
            if let Some(sig) = signals::pending() {
                return Err(self.failure(
                    run.step,
                    command,
                    Ended::Stopped(RunError::Interrupted(sig)),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
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
            Ended::Stopped(RunError::Stalled(limit)) => Failure::new(
                class,
                format!("step {n} ({purpose}) made no progress for {} and was stopped", seconds(limit)),
            )
            .detail(format!("command: {}", command.shell_line(true)))
            .detail(format!("registry state: {state}"))
            .hint("nothing was read or written for that long: the registry (or a proxy on the way) stopped answering; \
                   if it is only slow, raise --stall-timeout (or pass --stall-timeout none to wait as long as it takes)"),
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

/// Why a try failed in a way worth trying again, if it did: only commands
/// that talk to the registry, for a failure of the link or of an overloaded
/// registry, never for refused credentials, a missing project, a rejected
/// manifest or anything local.
fn transient(command: &Command, tried: &Tried) -> Option<String> {
    if !command.network {
        return None;
    }
    match tried {
        Ok(outcome) if outcome.exit.success() => None,
        Ok(outcome) => hints::transient(&String::from_utf8_lossy(&outcome.stderr)),
        Err(RunError::TimedOut(limit)) => {
            Some(format!("no answer within --timeout {}", seconds(*limit)))
        }
        Err(RunError::Stalled(limit)) => Some(format!(
            "no progress for {} (--stall-timeout)",
            seconds(*limit)
        )),
        Err(RunError::Spawn(_) | RunError::Interrupted(_)) => None,
    }
}

/// The pause before try `attempt` (2, 3, ...): exponential, capped, and
/// jittered (between half and all of it) so that parallel packs do not all
/// come back at once.
fn pause_before(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(2).min(16);
    let full = FIRST_PAUSE.saturating_mul(1 << doublings).min(MAX_PAUSE);
    full.mul_f64(0.5 + fastrand::f64() * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_cap_with_jitter() {
        for _ in 0..50 {
            let first = pause_before(2);
            assert!(
                first >= Duration::from_millis(500) && first <= FIRST_PAUSE,
                "{first:?}"
            );
            let third = pause_before(4);
            assert!(
                third >= Duration::from_secs(2) && third <= Duration::from_secs(4),
                "{third:?}"
            );
            let late = pause_before(40);
            assert!(late >= MAX_PAUSE / 2 && late <= MAX_PAUSE, "{late:?}");
        }
    }
}
