//! Running one command of a step: announced, tried again after a transient
//! failure (through `retry`; every try recorded and said), and the one
//! place that turns a command that could not start, failed, timed out,
//! stalled or was interrupted into a `Failure` naming the step, the command,
//! its exit status, the tail of its stderr, the registry's state and hints.

use camino::Utf8Path;

use super::{Engine, Running};
use crate::error::{Class, Failure};
use crate::hints;
use crate::plan::{PackPlan, Step, StepKind};
use crate::process::{self, Command, Echo, Outcome, RunError};
use crate::record::CommandRecord;
use crate::retry::{self, Attempts, Retry, Tried, Tries};
use crate::signals;

/// How a command that failed ended.
pub(super) enum Ended<'a> {
    /// It ran and exited with a failure.
    Exited(&'a Outcome),
    /// It could not start, or was stopped.
    Stopped(RunError),
}

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
        let record = run.commands.len();
        run.commands.push(CommandRecord::planned(command));
        let mut attempts = StepAttempts {
            engine: self,
            run,
            record,
            recheck,
        };
        match retry::tries(command, self.settings.retries, &mut attempts)? {
            Tries::Ran { outcome, gave_up } => Ok((Ran::Outcome(outcome), gave_up)),
            Tries::AlreadyDone(held) => Ok((Ran::AlreadyDone(held), None)),
            Tries::Stopped { error, gave_up } => {
                let failure = self.failure(attempts.run.step, command, Ended::Stopped(error));
                Err(self.gave_up(failure, gave_up))
            }
        }
    }

    /// A failure that was transient on every try says so, and how to try more.
    fn gave_up(&self, failure: Failure, reason: Option<String>) -> Failure {
        retry::gave_up(failure, reason.as_deref(), self.settings.retries)
    }

    /// The failure of `command` in `step`.
    pub(super) fn failure(&self, step: &Step, command: &Command, how: Ended<'_>) -> Failure {
        let state = step.kind.registry_state(command);
        let class = step.kind.failure_class();
        let (n, purpose) = (step.number, &step.purpose);
        match how {
            Ended::Stopped(RunError::Interrupted(sig)) => {
                let by = format!("interrupted by {}", signals::name(sig));
                let mut failure =
                    Failure::new(Class::Interrupted(sig), format!("{by} during step {n} ({purpose})"))
                        .detail(format!("registry state: {state}"))
                        .detail("the running command was stopped; temporary files are removed; your files are unchanged");
                failure.note = Some(by.into());
                failure
            }
            Ended::Stopped(error) => {
                let (what, hint) =
                    retry::stopped_words(&error, &command.program.path).unwrap_or_default();
                let failure = in_step(class, step, what);
                match hint {
                    None => failure,
                    Some(hint) => failure
                        .detail(format!("command: {}", command.shell_line(true)))
                        .detail(format!("registry state: {state}"))
                        .hint(hint),
                }
            }
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
        let class = step.kind.failure_class();
        let mut failure = if command.purpose == step.purpose {
            // The step alone: the command's result says more.
            let mut failure = Failure::new(
                class,
                format!("step {} failed: {}", step.number, step.purpose),
            );
            failure.note = Some(outcome.exit.describe().into());
            failure
        } else {
            in_step(class, step, format!("{} failed", command.purpose))
        };
        failure = failure
            .detail(format!("command: {}", command.shell_line(true)))
            .detail(format!("result: {}", outcome.exit.describe()));
        let hidden = self.progress().echo() == Echo::Hidden;
        for line in outcome.said(&command.program.display, hidden) {
            failure = failure.detail(line);
        }
        let stderr = String::from_utf8_lossy(&outcome.stderr);
        let hints = if step.kind == StepKind::Archive {
            hints::archive_hints(&stderr)
        } else {
            let context = hints::Context {
                registry: &self.plan.registry,
                project: &self.plan.project,
                tls: &self.plan.oras.tls,
                login: step.kind == StepKind::Login,
                wording: self.settings.wording,
            };
            hints::hints_for(&stderr, &context)
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

/// A failure of `step`, said "step N (purpose): what"; `what` alone is the
/// note of the step's own record.
pub(super) fn in_step(class: Class, step: &Step, what: impl Into<String>) -> Failure {
    let what = what.into();
    let mut failure = Failure::new(
        class,
        format!("step {} ({}): {what}", step.number, step.purpose),
    );
    failure.note = Some(what.into());
    failure
}

/// The manifest oras wrote with `--export-manifest`.
pub(super) fn read_export(path: &Utf8Path, step: &Step) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        in_step(
            Class::Push,
            step,
            format!("oras reported success but wrote no manifest to {path}: {e}"),
        )
    })
}

/// A step's command, tried through `retry`: each try recorded in the
/// step's record and said through the run's progress.
struct StepAttempts<'e, 'r, 'p> {
    engine: &'e Engine<'e>,
    run: &'r mut Running<'p>,
    /// The command's record among the step's.
    record: usize,
    recheck: Option<Recheck<'r>>,
}

impl Attempts for StepAttempts<'_, '_, '_> {
    fn try_once(&mut self, command: &Command) -> Tried {
        let settings = self.engine.settings;
        let secret = settings.secret.filter(|_| command.stdin_secret);
        process::run(
            command,
            secret,
            self.engine.progress().echo(),
            settings.limits,
        )
    }

    fn tried(&mut self, tried: &Tried) {
        self.run.commands[self.record].tried(tried);
    }

    fn retrying(&mut self, retry: &Retry<'_>) {
        self.run.commands[self.record].retrying(retry.reason, retry.pause);
        let label = self.run.pack.map(PackPlan::label);
        self.engine.progress().retrying(label.as_deref(), retry);
    }

    fn recheck(&mut self) -> Result<Option<Vec<u8>>, Failure> {
        match self.recheck {
            Some(recheck) => recheck(self.run),
            None => Ok(None),
        }
    }
}
