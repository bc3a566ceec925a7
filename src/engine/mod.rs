//! Runs a plan: login once (every pack folder's fingerprint meanwhile),
//! what the archive cache knows of every pack (`recall`), every archive, the base path once (when a pack needs
//! pushing), then each pack's look-up, push and verification. Packs run
//! side by side with `--jobs`; one pack failing does not stop the others,
//! but a failed login or base-path push, or a signal, stops the run.
//!
//! The engine orchestrates and records; what it decides comes from pure
//! functions (`verify`), and every command goes through `commands`.

mod commands;
mod recall;
mod steps;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cache::Cache;
use crate::error::{Class, Failure};
use crate::hints::Wording;
use crate::parallel;
use crate::plan::{PackPlan, Plan, Step};
use crate::process::Limits;
use crate::record::{Archived, CommandRecord, PackStatus, Status, StepRecord};
use crate::secret::Secret;
use crate::signals;
use crate::ui::Progress;
use crate::units::millis;
use crate::verify::Layer;
use recall::Recalled;
use steps::Prepared;

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
    /// How the run got the archive (`None`: step 2 did not end well).
    pub archived: Option<Archived>,
    /// The time of the pack's own steps (2, 4 and 5).
    pub duration: Duration,
    /// The manifest step 5 read back under the pack's tag.
    pub read_back: Option<Vec<u8>>,
    /// The repository's tags, read beside step 5 for the closing view.
    pub view_tags: Option<TagsRead>,
}

/// The tags of a pack's repository as read beside step 5: the command's
/// record, and its output when it answered.
#[derive(Clone, Debug)]
pub struct TagsRead {
    pub record: CommandRecord,
    pub output: Option<Vec<u8>>,
}

impl PackOutcome {
    fn not_run() -> Self {
        PackOutcome {
            status: PackStatus::NotRun,
            manifest_digest: None,
            layer: None,
            failure: None,
            archive_complete: false,
            archived: None,
            duration: Duration::ZERO,
            read_back: None,
            view_tags: None,
        }
    }

    fn failed(&mut self, failure: Failure) {
        self.status = PackStatus::Failed;
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
    /// What went wrong with the archive cache (it was ignored).
    pub warnings: Vec<String>,
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
    /// The archive cache, when it is used.
    cache: Option<Cache>,
}

/// Runs the plan to the end (or to the first failure that stops it).
pub fn execute(plan: &Plan, settings: &Settings<'_>) -> RunOutcome {
    let engine = Engine {
        plan,
        settings,
        records: Mutex::new(Vec::new()),
        base_verified: Mutex::new(false),
        cache: plan.cache_dir.as_deref().map(Cache::new),
    };
    let mut packs = vec![PackOutcome::not_run(); plan.packs.len()];
    let (login, prints) = std::thread::scope(|scope| {
        let prints = scope.spawn(|| engine.fingerprint_all());
        (engine.login(), prints.join().unwrap_or_default())
    });
    if let Err(failure) = login {
        return engine.finish(packs, None, Some(failure));
    }
    let recalled = match engine.recall_all(prints) {
        Ok(recalled) => recalled,
        Err(stopped) => return engine.finish(packs, None, Some(stopped)),
    };
    let (prepared, stopped) = engine.archive_all(&mut packs, recalled);
    let stopped = stopped.or_else(|| interrupted("while archiving"));
    if stopped.is_some() {
        return engine.finish(packs, None, stopped);
    }
    let base_digest = if prepared.iter().flatten().any(Prepared::needs_push) {
        match engine.push_base() {
            Ok(digest) => Some(digest),
            Err(failure) => return engine.finish(packs, None, Some(failure)),
        }
    } else if prepared.iter().flatten().any(|p| !p.needs_push()) {
        engine.skip_base();
        None
    } else {
        return engine.finish(packs, None, None);
    };
    let stopped = engine.push_all(&mut packs, prepared, base_digest.as_deref());
    engine.finish(packs, base_digest, stopped)
}

/// A signal that arrived while no command ran (packs found up to date run
/// none): the run stops as if it had stopped a command.
fn interrupted(when: &str) -> Option<Failure> {
    signals::pending().map(|sig| {
        Failure::new(
            Class::Interrupted(sig),
            format!("interrupted by {} {when}", signals::name(sig)),
        )
        .detail("registry state: nothing was pushed to the registry")
        .detail("temporary files are removed; your files are unchanged")
    })
}

/// An interruption among the packs' failures stops the run.
fn interruption(failure: &Failure) -> Option<Failure> {
    matches!(failure.class, Class::Interrupted(_)).then(|| failure.clone())
}

impl Engine<'_> {
    /// The run's outcome; each pack's time is that of its own steps.
    fn finish(
        self,
        mut packs: Vec<PackOutcome>,
        base_digest: Option<String>,
        stopped: Option<Failure>,
    ) -> RunOutcome {
        let steps = self.records.into_inner().unwrap_or_default();
        for (plan, outcome) in self.plan.packs.iter().zip(&mut packs) {
            let label = plan.label();
            outcome.duration = steps
                .iter()
                .filter(|step| step.pack.as_deref() == Some(label.as_str()))
                .map(|step| Duration::from_millis(step.duration_ms))
                .sum();
        }
        RunOutcome {
            steps,
            packs,
            base_digest,
            stopped,
            warnings: self.cache.map(|c| c.warnings()).unwrap_or_default(),
        }
    }

    fn progress(&self) -> &dyn Progress {
        self.settings.progress
    }

    /// Step 2 for every pack, with what was known of it before: each
    /// pack's archive (its digest perhaps still being computed) or its
    /// finding that it is up to date, and an interruption, if one stopped
    /// the step.
    fn archive_all(
        &self,
        packs: &mut [PackOutcome],
        recalled: Vec<Recalled>,
    ) -> (Vec<Option<Prepared>>, Option<Failure>) {
        let recalled: Vec<Mutex<Option<Recalled>>> =
            recalled.into_iter().map(|r| Mutex::new(Some(r))).collect();
        let results = self.for_each_pack(|index, pack| {
            let known = recalled[index].lock().expect("recall slot").take();
            self.archive(pack, known.unwrap_or_default())
        });
        let mut prepared = Vec::new();
        let mut stopped = None;
        for (outcome, result) in packs.iter_mut().zip(results) {
            match result {
                Some(Ok(ready)) => {
                    ready.record(outcome);
                    prepared.push(Some(ready));
                    continue;
                }
                Some(Err(failure)) => {
                    stopped = stopped.or_else(|| interruption(&failure));
                    outcome.failed(failure);
                }
                None => {}
            }
            prepared.push(None);
        }
        (prepared, stopped)
    }

    /// Steps 4 and 5 for every pack whose archive is ready (skipped for a
    /// pack found up to date before archiving); an interruption, if one
    /// stopped them.
    fn push_all(
        &self,
        packs: &mut [PackOutcome],
        prepared: Vec<Option<Prepared>>,
        base_digest: Option<&str>,
    ) -> Option<Failure> {
        let prepared: Vec<Mutex<Option<Prepared>>> = prepared.into_iter().map(Mutex::new).collect();
        let results = self.for_each_pack(|index, pack| {
            match prepared[index].lock().expect("archive slot").take()? {
                Prepared::Archive { hashing, .. } => {
                    let base_digest = base_digest.unwrap_or_default();
                    Some(self.push_and_verify(pack, hashing, base_digest))
                }
                Prepared::UpToDate { digest, .. } => {
                    self.skip_push_and_verify(pack, &digest);
                    None
                }
            }
        });
        let mut stopped = None;
        for (outcome, result) in packs.iter_mut().zip(results) {
            let Some(Some(result)) = result else { continue };
            match result {
                Ok(pushed) => {
                    outcome.status = pushed.status;
                    outcome.manifest_digest = Some(pushed.manifest_digest);
                    outcome.layer = Some(pushed.layer);
                    outcome.read_back = Some(pushed.read_back);
                    outcome.view_tags = pushed.tags;
                }
                Err(failed) => {
                    stopped = stopped.or_else(|| interruption(&failed.failure));
                    outcome.manifest_digest = failed.manifest_digest;
                    outcome.failed(failed.failure);
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
        self.for_each_pack_at(self.settings.jobs, work)
    }

    /// As `for_each_pack`, `workers` at a time.
    fn for_each_pack_at<T: Send>(
        &self,
        workers: usize,
        work: impl Fn(usize, &PackPlan) -> T + Sync,
    ) -> Vec<Option<T>> {
        parallel::for_each(&self.plan.packs, workers, work)
    }

    /// Announces a step and starts its record.
    fn begin<'p>(&self, pack: Option<&'p PackPlan>, step: &'p Step) -> Running<'p> {
        self.progress()
            .step_started(pack.map(PackPlan::label).as_deref(), step);
        Running::new(pack, step)
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
            duration_ms: millis(run.started.elapsed() + run.before),
            commands: run.commands,
        };
        self.progress()
            .step_finished(label.as_deref(), run.step, &record);
        self.records.lock().expect("records").push(record);
    }

    /// Records a step as failed, and hands the failure on.
    fn fail(&self, run: Running<'_>, failure: Failure) -> Failure {
        let note = failed_note(&failure);
        self.end(run, Status::Failed, Some(note));
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
    /// Time the step spent before it was announced (what the cache knew
    /// of step 2's pack was found with the other packs').
    before: Duration,
    commands: Vec<CommandRecord>,
}

impl<'p> Running<'p> {
    /// A step's record, not announced.
    fn new(pack: Option<&'p PackPlan>, step: &'p Step) -> Running<'p> {
        Running {
            pack,
            step,
            started: Instant::now(),
            before: Duration::ZERO,
            commands: Vec::new(),
        }
    }
}

/// What a failed step's record says of its failure, without naming the
/// step again (the record is the step's): "exit status 1", "interrupted by
/// SIGINT", "the registry does not hold what Palette expects", ...
fn failed_note(failure: &Failure) -> String {
    failure
        .note
        .as_deref()
        .unwrap_or(&failure.message)
        .to_string()
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
        let failure = commands::in_step(Class::Login, &step, "could not start oras: not found");
        assert_eq!(
            failure.message,
            "step 1 (log in to r): could not start oras: not found"
        );
        assert_eq!(failed_note(&failure), "could not start oras: not found");
        // A failure from elsewhere is noted with its message.
        let other = Failure::new(Class::Other, "something else");
        assert_eq!(failed_note(&other), "something else");
    }
}
