//! Runs a plan: login once, every archive, the base path once, then each
//! pack's look-up, push and verification. Packs run side by side with
//! `--jobs`; one pack failing does not stop the others, but a failed login or
//! base-path push, or a signal, stops the run.
//!
//! The engine orchestrates and records; what it decides comes from pure
//! functions (`verify`), and every command goes through `commands`.

mod commands;
mod steps;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Class, Failure};
use crate::hints::Wording;
use crate::plan::{PackPlan, Plan, Step};
use crate::process::Limits;
use crate::report::{CommandRecord, PackStatus, Status, StepRecord, millis};
use crate::secret::Secret;
use crate::signals;
use crate::ui::Progress;
use crate::verify::Layer;
use steps::Hashing;

/// How the run behaves.
pub struct Settings<'a> {
    pub secret: Option<&'a Secret>,
    /// How long each try of a command may run.
    pub limits: Limits,
    /// How many times a command that failed for a transient reason is tried again.
    pub retries: u32,
    pub jobs: usize,
    pub overwrite: bool,
    pub progress: &'a dyn Progress,
    /// How hints name what the person gave.
    pub wording: Wording,
}

impl std::fmt::Debug for Settings<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("secret", &self.secret)
            .field("limits", &self.limits)
            .field("retries", &self.retries)
            .field("jobs", &self.jobs)
            .field("overwrite", &self.overwrite)
            .finish_non_exhaustive()
    }
}

/// How one pack ended.
#[derive(Clone, Debug)]
pub struct PackOutcome {
    pub status: PackStatus,
    pub manifest_digest: Option<String>,
    pub layer: Option<Layer>,
    pub failure: Option<Failure>,
    /// The archive exists in full (so it is worth keeping after a failure).
    pub archive_complete: bool,
    pub duration: Duration,
}

impl PackOutcome {
    fn not_run() -> Self {
        PackOutcome {
            status: PackStatus::NotRun,
            manifest_digest: None,
            layer: None,
            failure: None,
            archive_complete: false,
            duration: Duration::ZERO,
        }
    }

    fn failed(&mut self, failure: Failure, started: Instant) {
        self.status = PackStatus::Failed;
        self.duration = started.elapsed();
        self.failure = Some(failure);
    }
}

/// How the run ended.
#[derive(Debug)]
pub struct RunOutcome {
    pub steps: Vec<StepRecord>,
    pub packs: Vec<PackOutcome>,
    pub base_digest: Option<String>,
    /// A failure that stopped the whole run (login, base path, signal).
    pub stopped: Option<Failure>,
}

impl RunOutcome {
    /// The failure the run exits with: one that stopped the run, else the
    /// first failed pack's.
    pub fn failure(&self) -> Option<&Failure> {
        self.stopped
            .as_ref()
            .or_else(|| self.packs.iter().find_map(|p| p.failure.as_ref()))
    }
}

struct Engine<'a> {
    plan: &'a Plan,
    settings: &'a Settings<'a>,
    records: Mutex<Vec<StepRecord>>,
    /// The base-path artifact was read back and has the right shape.
    base_verified: Mutex<bool>,
}

/// Runs the plan to the end (or to the first failure that stops it).
pub fn execute(plan: &Plan, settings: &Settings<'_>) -> RunOutcome {
    let engine = Engine {
        plan,
        settings,
        records: Mutex::new(Vec::new()),
        base_verified: Mutex::new(false),
    };
    let mut packs = vec![PackOutcome::not_run(); plan.packs.len()];
    if let Err(failure) = engine.login() {
        return engine.finish(packs, None, Some(failure));
    }
    let started: Vec<Instant> = plan.packs.iter().map(|_| Instant::now()).collect();
    let (hashes, stopped) = engine.archive_all(&mut packs, &started);
    if stopped.is_some() || packs.iter().all(|p| !p.archive_complete) {
        return engine.finish(packs, None, stopped);
    }
    let base_digest = match engine.push_base() {
        Ok(digest) => digest,
        Err(failure) => return engine.finish(packs, None, Some(failure)),
    };
    let stopped = engine.push_all(&mut packs, hashes, &base_digest, &started);
    engine.finish(packs, Some(base_digest), stopped)
}

/// An interruption among the packs' failures stops the run.
fn interruption(failure: &Failure) -> Option<Failure> {
    matches!(failure.class, Class::Interrupted(_)).then(|| failure.clone())
}

impl Engine<'_> {
    fn finish(
        self,
        packs: Vec<PackOutcome>,
        base_digest: Option<String>,
        stopped: Option<Failure>,
    ) -> RunOutcome {
        RunOutcome {
            steps: self.records.into_inner().unwrap_or_default(),
            packs,
            base_digest,
            stopped,
        }
    }

    fn progress(&self) -> &dyn Progress {
        self.settings.progress
    }

    /// Step 2 for every pack; the archives' digests as they are being
    /// computed, and an interruption, if one stopped the step.
    fn archive_all(
        &self,
        packs: &mut [PackOutcome],
        started: &[Instant],
    ) -> (Vec<Option<Hashing>>, Option<Failure>) {
        let mut hashes = Vec::new();
        let mut stopped = None;
        for (index, result) in self
            .for_each_pack(|_, pack| self.archive(pack))
            .into_iter()
            .enumerate()
        {
            match result {
                Some(Ok(hashing)) => {
                    packs[index].archive_complete = true;
                    hashes.push(Some(hashing));
                    continue;
                }
                Some(Err(failure)) => {
                    stopped = stopped.or_else(|| interruption(&failure));
                    packs[index].failed(failure, started[index]);
                }
                None => {}
            }
            hashes.push(None);
        }
        (hashes, stopped)
    }

    /// Steps 4 and 5 for every pack whose archive is ready; an
    /// interruption, if one stopped them.
    fn push_all(
        &self,
        packs: &mut [PackOutcome],
        hashes: Vec<Option<Hashing>>,
        base_digest: &str,
        started: &[Instant],
    ) -> Option<Failure> {
        let hashes: Vec<Mutex<Option<Hashing>>> = hashes.into_iter().map(Mutex::new).collect();
        let results = self.for_each_pack(|index, pack| {
            let hashing = hashes[index].lock().expect("hash slot").take()?;
            Some(self.push_and_verify(pack, hashing, base_digest))
        });
        let mut stopped = None;
        for (index, result) in results.into_iter().enumerate() {
            let Some(Some(result)) = result else { continue };
            let outcome = &mut packs[index];
            match result {
                Ok(pushed) => {
                    outcome.duration = started[index].elapsed();
                    outcome.status = pushed.status;
                    outcome.manifest_digest = Some(pushed.manifest_digest);
                    outcome.layer = Some(pushed.layer);
                }
                Err(failed) => {
                    stopped = stopped.or_else(|| interruption(&failed.failure));
                    outcome.manifest_digest = failed.manifest_digest;
                    outcome.failed(failed.failure, started[index]);
                }
            }
        }
        stopped
    }

    /// Runs `work` for every pack, at most `jobs` at a time, in input order
    /// for a single job. Stops handing out packs once a signal arrived.
    fn for_each_pack<T: Send>(
        &self,
        work: impl Fn(usize, &PackPlan) -> T + Sync,
    ) -> Vec<Option<T>> {
        let packs = &self.plan.packs;
        let next = AtomicUsize::new(0);
        let results: Vec<Mutex<Option<T>>> = packs.iter().map(|_| Mutex::new(None)).collect();
        let worker = || {
            while signals::pending().is_none() {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(pack) = packs.get(index) else { break };
                let result = work(index, pack);
                *results[index].lock().expect("result slot") = Some(result);
            }
        };
        let workers = self.settings.jobs.clamp(1, packs.len().max(1));
        if workers == 1 {
            worker();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(worker);
                }
            });
        }
        results
            .into_iter()
            .map(|slot| slot.into_inner().unwrap_or(None))
            .collect()
    }

    /// Announces a step and starts its record.
    fn begin<'p>(&self, pack: Option<&'p PackPlan>, step: &'p Step) -> Running<'p> {
        self.progress()
            .step_started(pack.map(PackPlan::label).as_deref(), step);
        Running {
            pack,
            step,
            started: Instant::now(),
            commands: Vec::new(),
        }
    }

    /// Records how a step ended.
    fn end(&self, run: Running<'_>, status: Status, note: Option<String>) {
        let label = run.pack.map(PackPlan::label);
        let record = StepRecord {
            number: run.step.number,
            kind: run.step.kind,
            pack: label.clone(),
            purpose: run.step.purpose.clone(),
            status,
            note,
            duration_ms: millis(run.started.elapsed()),
            commands: run.commands,
        };
        self.progress()
            .step_finished(label.as_deref(), run.step, &record);
        self.records.lock().expect("records").push(record);
    }

    /// Records a step as failed, and hands the failure on.
    fn fail(&self, run: Running<'_>, failure: Failure) -> Failure {
        let note = failed_note(run.step, &failure);
        self.end(run, Status::Failed, note);
        failure
    }

    /// Records a step's end from its result: ok (with the note `note` makes
    /// of the value) or failed.
    fn close<T>(
        &self,
        run: Running<'_>,
        result: Result<T, Failure>,
        note: impl FnOnce(&T) -> Option<String>,
    ) -> Result<T, Failure> {
        match result {
            Ok(value) => {
                self.end(run, Status::Ok, note(&value));
                Ok(value)
            }
            Err(failure) => Err(self.fail(run, failure)),
        }
    }
}

/// A step while it runs: what it is, since when, and the commands it ran.
struct Running<'p> {
    pack: Option<&'p PackPlan>,
    step: &'p Step,
    started: Instant,
    commands: Vec<CommandRecord>,
}

/// What a failed step's record says of its failure, without naming the
/// step again (the record is the step's): "exit status 1", "interrupted by
/// SIGINT", "the registry does not hold what Palette expects", ...
fn failed_note(step: &Step, failure: &Failure) -> Option<String> {
    let message = failure.message.as_str();
    let named = format!("step {} ({})", step.number, step.purpose);
    if message == format!("step {} failed: {}", step.number, step.purpose) {
        // The message is the step alone: the command's result says more.
        return failure
            .details
            .iter()
            .find_map(|d| d.strip_prefix("result: "))
            .map(str::to_string);
    }
    let rest = message
        .strip_prefix(&format!("{named}: "))
        .or_else(|| message.strip_prefix(&format!("{named} ")))
        .or_else(|| message.strip_suffix(&format!(" during {named}")))
        .unwrap_or(message);
    Some(rest.to_string())
}

/// `sha256:0123456789ab`, for notes.
fn short(digest: &str) -> String {
    digest.chars().take(19).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::StepKind;

    #[test]
    fn a_failed_steps_note_does_not_name_the_step_again() {
        let step = Step {
            kind: StepKind::Login,
            number: 1,
            purpose: "log in to r".into(),
            skipped: None,
        };
        let note = |failure: Failure| failed_note(&step, &failure);
        let exited = Failure::new(Class::Login, "step 1 failed: log in to r")
            .detail("command: oras login r")
            .detail("result: exit status 1");
        assert_eq!(note(exited).as_deref(), Some("exit status 1"));
        for (message, expected) in [
            (
                "step 1 (log in to r): could not start oras: not found",
                "could not start oras: not found",
            ),
            (
                "step 1 (log in to r) ran longer than --timeout 1.00 s and was stopped",
                "ran longer than --timeout 1.00 s and was stopped",
            ),
            (
                "interrupted by SIGINT during step 1 (log in to r)",
                "interrupted by SIGINT",
            ),
            ("something else", "something else"),
        ] {
            let failure = Failure::new(Class::Login, message);
            assert_eq!(note(failure).as_deref(), Some(expected), "{message}");
        }
    }
}
