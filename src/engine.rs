//! Runs a plan: login once, every archive, the base path once, then each
//! pack's look-up, push and verification. Packs run side by side with
//! `--jobs`; one pack failing does not stop the others, but a failed login or
//! base-path push, or a signal, stops the run.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use camino::Utf8Path;

use crate::digest::{self, Follower};
use crate::error::{Class, Failure};
use crate::oras;
use crate::plan::{PackPlan, Plan, Step, StepKind};
use crate::report::{CommandRecord, PackStatus, Status, StepRecord, millis};
use crate::run::{self, Command, Outcome, RunError};
use crate::secret::Secret;
use crate::ui::{Progress, seconds};
use crate::verify::{self, ExpectedLayer, Layer};

/// How the run behaves.
pub struct Settings<'a> {
    pub secret: Option<&'a Secret>,
    pub timeout: Option<Duration>,
    pub jobs: usize,
    pub overwrite: bool,
    pub progress: &'a dyn Progress,
    pub work_dir: &'a Utf8Path,
}

impl std::fmt::Debug for Settings<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("secret", &self.secret)
            .field("timeout", &self.timeout)
            .field("jobs", &self.jobs)
            .field("overwrite", &self.overwrite)
            .field("work_dir", &self.work_dir)
            .finish_non_exhaustive()
    }
}

/// How one pack ended.
#[derive(Debug)]
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

/// Where the archive's digest comes from: hashed while tar wrote it, or
/// hashed from a carried-in file in the background while the run goes on.
enum Hashing {
    Following(Follower),
    Thread(std::thread::JoinHandle<std::io::Result<(String, u64)>>),
    Done(std::io::Result<(String, u64)>),
}

impl Hashing {
    fn finish(self) -> std::io::Result<(String, u64)> {
        match self {
            Hashing::Following(follower) => follower.finish(),
            Hashing::Thread(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the hashing thread panicked"))),
            Hashing::Done(result) => result,
        }
    }
}

/// Runs the plan to the end (or to the first failure that stops it).
pub fn execute(plan: &Plan, settings: &Settings<'_>) -> RunOutcome {
    let engine = Engine {
        plan,
        settings,
        records: Mutex::new(Vec::new()),
        base_verified: Mutex::new(false),
    };
    let mut packs: Vec<PackOutcome> = plan.packs.iter().map(|_| PackOutcome::not_run()).collect();
    let finish = |engine: Engine<'_>, packs, base_digest, stopped| RunOutcome {
        steps: engine.records.into_inner().unwrap_or_default(),
        packs,
        base_digest,
        stopped,
    };

    // Step 1, once.
    if let Err(failure) = engine.login() {
        return finish(engine, packs, None, Some(failure));
    }

    // Step 2, for every pack.
    let started: Vec<Instant> = plan.packs.iter().map(|_| Instant::now()).collect();
    let hashes: Vec<Mutex<Option<Hashing>>> = plan.packs.iter().map(|_| Mutex::new(None)).collect();
    let archived = engine.for_each_pack(|index, pack| {
        engine.archive(pack).map(|h| {
            *hashes[index].lock().expect("hash slot") = Some(h);
        })
    });
    let mut stopped = None;
    for (index, result) in archived.into_iter().enumerate() {
        match result {
            Some(Ok(())) => packs[index].archive_complete = true,
            Some(Err(failure)) => {
                if matches!(failure.class, Class::Interrupted(_)) && stopped.is_none() {
                    stopped = Some(failure.clone());
                }
                packs[index].status = PackStatus::Failed;
                packs[index].duration = started[index].elapsed();
                packs[index].failure = Some(failure);
            }
            None => {}
        }
    }
    if stopped.is_some() || packs.iter().all(|p| !p.archive_complete) {
        return finish(engine, packs, None, stopped);
    }

    // Step 3, once.
    let base_digest = match engine.push_base() {
        Ok(digest) => digest,
        Err(failure) => return finish(engine, packs, None, Some(failure)),
    };

    // Steps 4 and 5, for every pack whose archive is ready.
    let ready: Vec<bool> = packs.iter().map(|p| p.archive_complete).collect();
    let results = engine.for_each_pack(|index, pack| {
        if !ready[index] {
            return None;
        }
        let hashing = hashes[index].lock().expect("hash slot").take()?;
        Some(engine.push_and_verify(pack, hashing, &base_digest))
    });
    for (index, result) in results.into_iter().enumerate() {
        let Some(Some(result)) = result else { continue };
        let outcome = &mut packs[index];
        outcome.duration = started[index].elapsed();
        match result {
            Ok((status, manifest_digest, layer)) => {
                outcome.status = status;
                outcome.manifest_digest = Some(manifest_digest);
                outcome.layer = Some(layer);
            }
            Err((failure, manifest_digest)) => {
                if matches!(failure.class, Class::Interrupted(_)) && stopped.is_none() {
                    stopped = Some(failure.clone());
                }
                outcome.status = PackStatus::Failed;
                outcome.manifest_digest = manifest_digest;
                outcome.failure = Some(failure);
            }
        }
    }
    finish(engine, packs, Some(base_digest), stopped)
}

/// A pack's end: its status, manifest digest and layer; or the failure,
/// with the manifest digest when the push itself succeeded.
type PackResult = Result<(PackStatus, String, Layer), (Failure, Option<String>)>;

impl Engine<'_> {
    fn progress(&self) -> &dyn Progress {
        self.settings.progress
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
            loop {
                if run::pending_signal().is_some() {
                    break;
                }
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

    fn record(
        &self,
        pack: Option<&PackPlan>,
        step: &Step,
        status: Status,
        note: Option<String>,
        started: Instant,
        commands: Vec<CommandRecord>,
    ) {
        let record = StepRecord {
            number: step.number,
            kind: step.kind,
            pack: pack.map(PackPlan::label),
            purpose: step.purpose.clone(),
            status,
            note,
            duration_ms: millis(started.elapsed()),
            commands,
        };
        self.progress()
            .step_finished(pack.map(PackPlan::label).as_deref(), step, &record);
        self.records.lock().expect("records").push(record);
    }

    fn login(&self) -> Result<(), Failure> {
        let step = &self.plan.login;
        let started = Instant::now();
        self.progress().step_started(None, step);
        if let Some(why) = &step.skipped {
            self.record(
                None,
                step,
                Status::Skipped,
                Some(why.clone()),
                started,
                vec![],
            );
            return Ok(());
        }
        let mut commands = Vec::new();
        let result = self.run(step, &step.commands[0], false, false, &mut commands);
        self.close(None, step, started, commands, result.map(|_| None))
    }

    /// Step 2 for one pack: tar (refusing to overwrite), or the carried-in
    /// archive. Hashing overlaps tar's writing.
    fn archive(&self, pack: &PackPlan) -> Result<Hashing, Failure> {
        let step = &pack.archive_step;
        let started = Instant::now();
        let label = pack.label();
        self.progress().step_started(Some(&label), step);
        if !pack.archive_written {
            let path = pack.archive.clone();
            self.record(
                Some(pack),
                step,
                Status::Skipped,
                step.skipped.clone(),
                started,
                vec![],
            );
            return Ok(Hashing::Thread(std::thread::spawn(move || {
                digest::of_file(&path)
            })));
        }
        // Claim the name first (O_EXCL): a file that appeared since the
        // preflight is never overwritten, and a partial archive is ours to remove.
        if let Err(e) = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&pack.archive)
        {
            let failure = Failure::new(
                Class::Archive,
                format!(
                    "step 2 ({}): cannot create {}: {e}",
                    step.purpose, pack.archive
                ),
            )
            .hint("packpush never overwrites a file: move it away, or pass another --output-dir");
            self.record(
                Some(pack),
                step,
                Status::Failed,
                Some(failure.message.clone()),
                started,
                vec![],
            );
            return Err(failure);
        }
        let follower = Follower::start(&pack.archive);
        let mut commands = Vec::new();
        let result = self.run(step, &step.commands[0], false, false, &mut commands);
        // tar said it succeeded: the archive must exist and be gzip output.
        let result = result.and_then(|_| {
            let mut head = [0u8; 2];
            let read = std::fs::File::open(&pack.archive)
                .and_then(|mut f| std::io::Read::read(&mut f, &mut head));
            match read {
                Ok(2) if crate::tar::looks_like_gzip(&head) => Ok(()),
                Ok(_) => Err(Failure::new(
                    Class::Archive,
                    format!("step 2 ({}): tar exited 0 but {} is not a gzip archive", step.purpose, pack.archive),
                )
                .detail(format!("command: {}", step.commands[0].shell_line(true)))
                .hint("--tar (PACKPUSH_TAR) must be GNU tar or bsdtar; check that the program is a real tar")),
                Err(e) => Err(Failure::new(
                    Class::Archive,
                    format!("step 2 ({}): tar exited 0 but {} cannot be read: {e}", step.purpose, pack.archive),
                )),
            }
        });
        let closed = self.close(Some(pack), step, started, commands, result.map(|()| None));
        match (closed, follower) {
            (Ok(()), Ok(follower)) => Ok(Hashing::Following(follower)),
            (Ok(()), Err(e)) => Ok(Hashing::Done(Err(e))),
            (Err(failure), follower) => {
                if let Ok(follower) = follower {
                    let _ = follower.finish();
                }
                let _ = std::fs::remove_file(&pack.archive);
                Err(failure.detail(format!("the partial archive {} was removed", pack.archive)))
            }
        }
    }

    /// Step 3: the empty base-path artifact. Returns its digest.
    fn push_base(&self) -> Result<String, Failure> {
        let step = &self.plan.base;
        let started = Instant::now();
        self.progress().step_started(None, step);
        let mut commands = Vec::new();
        let result = self
            .run(step, &step.commands[0], false, false, &mut commands)
            .and_then(|_| read_export(&export_path(&step.commands[0]), step))
            .map(|bytes| digest::of_bytes(&bytes));
        let digest = result.as_ref().ok().cloned();
        self.close(
            None,
            step,
            started,
            commands,
            result.map(|d| Some(format!("base path {}", short(&d)))),
        )?;
        digest.ok_or_else(|| Failure::new(Class::Other, "the base-path digest is missing"))
    }

    /// Steps 4 and 5 for one pack.
    fn push_and_verify(&self, pack: &PackPlan, hashing: Hashing, base_digest: &str) -> PackResult {
        let step = &pack.push;
        let started = Instant::now();
        let label = pack.label();
        self.progress().step_started(Some(&label), step);
        let mut commands = Vec::new();

        // The read-only look-up: does the registry hold this version already?
        let existing = self.run_lookup(pack, step, &mut commands);
        let existing = match existing {
            Ok(existing) => existing,
            Err(failure) => {
                self.close(
                    Some(pack),
                    step,
                    started,
                    commands,
                    Err::<Option<String>, _>(failure.clone()),
                )
                .map_err(|f| (f, None))?;
                return Err((failure, None));
            }
        };
        let (archive_digest, archive_size) = hashing.finish().map_err(|e| {
            let failure = Failure::new(
                Class::Archive,
                format!("cannot read the archive {}: {e}", pack.archive),
            );
            (failure, None)
        })?;

        let (status, manifest_digest) = match existing {
            Some(bytes) if self.holds_exactly(pack, &bytes, &archive_digest, archive_size) => {
                let digest = digest::of_bytes(&bytes);
                self.record(
                    Some(pack),
                    step,
                    Status::Skipped,
                    Some(format!(
                        "already up to date ({}); nothing pushed",
                        short(&digest)
                    )),
                    started,
                    commands,
                );
                (PackStatus::UpToDate, digest)
            }
            Some(bytes) if !self.settings.overwrite => {
                let registry_layer = layer_digest(&bytes);
                let same_archive = registry_layer.as_deref() == Some(archive_digest.as_str());
                let (what, note, hint) = if same_archive {
                    (
                        "holds this archive, but not in the manifest shape Palette expects",
                        "wrong manifest shape in the registry",
                        "it was probably pushed by ORAS newer than 1.0.0 without --image-spec v1.0: \
                         pass --overwrite to push it again in the 1.0.0 shape",
                    )
                } else {
                    (
                        "already holds this version with different content",
                        "different content in the registry",
                        "give the changed pack a new version in pack.json, or pass --overwrite to \
                         replace this version; if only file times changed (a fresh checkout), push \
                         with --reproducible (and SOURCE_DATE_EPOCH) so that equal content gives an \
                         equal archive",
                    )
                };
                let failure = Failure::new(
                    Class::Push,
                    format!(
                        "step 4 ({}): the registry {what}: {}",
                        step.purpose,
                        pack.target.pack_reference()
                    ),
                )
                .detail(format!(
                    "registry layer: {}",
                    registry_layer.unwrap_or_else(|| "none".into())
                ))
                .detail(format!("local archive: {archive_digest}"))
                .detail("nothing was pushed for this pack")
                .hint(hint);
                self.record(
                    Some(pack),
                    step,
                    Status::Failed,
                    Some(note.into()),
                    started,
                    commands,
                );
                return Err((failure, None));
            }
            _ => {
                let result = self
                    .run(step, &step.commands[0], false, false, &mut commands)
                    .and_then(|_| read_export(&pack.export_manifest, step))
                    .map(|bytes| digest::of_bytes(&bytes));
                let digest = result.as_ref().ok().cloned();
                self.close(
                    Some(pack),
                    step,
                    started,
                    commands,
                    result.map(|d| Some(short(&d))),
                )
                .map_err(|f| (f, None))?;
                (PackStatus::Pushed, digest.unwrap_or_default())
            }
        };

        let layer = self
            .verify(
                pack,
                &manifest_digest,
                base_digest,
                &archive_digest,
                archive_size,
            )
            .map_err(|f| (f, Some(manifest_digest.clone())))?;
        Ok((status, manifest_digest, layer))
    }

    /// Whether a manifest the registry holds is exactly what this push would
    /// produce: the 1.0.0 shape, and one layer that is the local archive.
    fn holds_exactly(
        &self,
        pack: &PackPlan,
        manifest: &[u8],
        archive_digest: &str,
        archive_size: u64,
    ) -> bool {
        let title = pack.target.archive_name();
        let expected = ExpectedLayer {
            title: &title,
            digest: archive_digest,
            size: archive_size,
        };
        verify::check_pack(manifest, &expected).is_ok()
    }

    /// `Some(manifest)` when the tag exists, `None` when the registry says it does not.
    fn run_lookup(
        &self,
        pack: &PackPlan,
        step: &Step,
        commands: &mut Vec<CommandRecord>,
    ) -> Result<Option<Vec<u8>>, Failure> {
        let command = &pack.lookup;
        self.progress().command(command, true);
        let outcome = self.spawn(
            step,
            command,
            true,
            true,
            crate::run::Echo::Hidden,
            commands,
        )?;
        if outcome.exit.success() {
            return Ok(Some(outcome.stdout));
        }
        if oras::says_not_found(&String::from_utf8_lossy(&outcome.stderr)) {
            return Ok(None);
        }
        let message = format!(
            "step 4 ({}): the read-only look-up of {} failed",
            step.purpose,
            pack.target.pack_reference()
        );
        let mut failure = self.command_failure(step, command, &outcome, &message);
        // Nothing was pushed for this pack: replace the generic state line.
        failure
            .details
            .retain(|d| !d.starts_with("registry state:"));
        Err(failure.detail(
            "registry state: the base-path artifact is in the registry; nothing was pushed for this pack",
        ))
    }

    fn verify(
        &self,
        pack: &PackPlan,
        manifest_digest: &str,
        base_digest: &str,
        archive_digest: &str,
        archive_size: u64,
    ) -> Result<Layer, Failure> {
        let step = &pack.verify;
        let started = Instant::now();
        let label = pack.label();
        self.progress().step_started(Some(&label), step);
        let mut commands = Vec::new();
        let fetched = self.run(step, &step.commands[0], true, true, &mut commands);
        // The base path is one artifact for the whole run: it is read back
        // once, by the first pack that gets here (the others wait for it).
        let mut base_problems = Vec::new();
        let fetched = fetched.and_then(|pack_out| {
            let mut verified = self.base_verified.lock().expect("base flag");
            if !*verified {
                let base_fetch = self.plan.fetch_base(base_digest, self.settings.work_dir);
                let base_out = self.run(step, &base_fetch, true, true, &mut commands)?;
                match verify::check_base(&base_out.stdout) {
                    Ok(()) => *verified = true,
                    Err(ps) => {
                        base_problems.extend(ps.into_iter().map(|p| format!("base path: {p}")))
                    }
                }
            }
            Ok(pack_out)
        });
        let pack_out = match fetched {
            Ok(out) => out,
            Err(failure) => {
                self.close(
                    Some(pack),
                    step,
                    started,
                    commands,
                    Err::<Option<String>, _>(failure.clone()),
                )?;
                return Err(failure);
            }
        };

        let mut problems = base_problems;
        let held = digest::of_bytes(&pack_out.stdout);
        if held != manifest_digest {
            problems.push(format!(
                "the tag {} points at {held}, not at the manifest just pushed ({manifest_digest})",
                pack.target.version
            ));
        }
        let title = pack.target.archive_name();
        let expected = ExpectedLayer {
            title: &title,
            digest: archive_digest,
            size: archive_size,
        };
        let layer = verify::check_pack(&pack_out.stdout, &expected)
            .map_err(|ps| problems.extend(ps.into_iter().map(|p| format!("pack: {p}"))))
            .ok();
        match layer {
            Some(layer) if problems.is_empty() => {
                self.record(
                    Some(pack),
                    step,
                    Status::Ok,
                    Some("manifest shape, layer digest, size and title match".into()),
                    started,
                    commands,
                );
                Ok(layer)
            }
            _ => {
                let mut failure = Failure::new(
                    Class::Verify,
                    format!(
                        "step 5 ({}): the registry does not hold what Palette expects",
                        step.purpose
                    ),
                );
                for p in problems {
                    failure = failure.detail(p);
                }
                let failure = failure.hint(
                    "a version pushed earlier by ORAS newer than 1.0.0 without --image-spec v1.0 has the wrong shape: \
                     push it again with --overwrite; another push to the same tag at the same time also causes this",
                );
                self.record(
                    Some(pack),
                    step,
                    Status::Failed,
                    Some(failure.message.clone()),
                    started,
                    commands,
                );
                Err(failure)
            }
        }
    }

    /// Records a step's end from its result: ok (with an optional note) or failed.
    fn close(
        &self,
        pack: Option<&PackPlan>,
        step: &Step,
        started: Instant,
        commands: Vec<CommandRecord>,
        result: Result<Option<String>, Failure>,
    ) -> Result<(), Failure> {
        match result {
            Ok(note) => {
                self.record(pack, step, Status::Ok, note, started, commands);
                Ok(())
            }
            Err(failure) => {
                self.record(
                    pack,
                    step,
                    Status::Failed,
                    Some(failure.message.clone()),
                    started,
                    commands,
                );
                Err(failure)
            }
        }
    }

    /// Runs one command of a step; a failure names the step, the command, the
    /// exit status, the tail of stderr and hints.
    fn run(
        &self,
        step: &Step,
        command: &Command,
        read_only: bool,
        capture: bool,
        records: &mut Vec<CommandRecord>,
    ) -> Result<Outcome, Failure> {
        self.progress().command(command, false);
        let outcome = self.spawn(
            step,
            command,
            read_only,
            capture,
            self.progress().echo(),
            records,
        )?;
        if outcome.exit.success() {
            if self.progress().echo() == crate::run::Echo::Hidden && !capture {
                self.progress().child_stdout(&outcome.stdout);
            }
            self.progress().child_stderr(&outcome.stderr);
            Ok(outcome)
        } else {
            let message = format!("step {} failed: {}", step.number, step.purpose);
            Err(self.command_failure(step, command, &outcome, &message))
        }
    }

    /// Starts a command and records it; the outcome comes back whatever its
    /// exit status (the caller judges it). Only a command that could not
    /// start, was interrupted or timed out is an error here.
    fn spawn(
        &self,
        step: &Step,
        command: &Command,
        read_only: bool,
        capture: bool,
        echo: crate::run::Echo,
        records: &mut Vec<CommandRecord>,
    ) -> Result<Outcome, Failure> {
        let planned = CommandRecord::planned(command, read_only);
        let secret = if command.stdin_secret {
            self.settings.secret
        } else {
            None
        };
        match run::run(command, secret, echo, capture, self.settings.timeout) {
            Ok(outcome) => {
                records.push(planned.finished(Some(outcome.exit), outcome.duration));
                Ok(outcome)
            }
            Err(error) => {
                records.push(planned.finished(None, Duration::ZERO));
                Err(self.run_error(step, command, error))
            }
        }
    }

    fn command_failure(
        &self,
        step: &Step,
        command: &Command,
        outcome: &Outcome,
        message: &str,
    ) -> Failure {
        let mut failure = Failure::new(step.kind.failure_class(), message)
            .detail(format!("command: {}", command.shell_line(true)))
            .detail(format!("result: {}", outcome.exit.describe()));
        let tail = outcome.stderr_tail(8);
        if !tail.is_empty() {
            failure = failure.detail(format!("{} said:", command.display));
            for line in tail {
                failure = failure.detail(format!("  {line}"));
            }
        } else if self.progress().echo() == crate::run::Echo::Hidden && !outcome.stdout.is_empty() {
            let text = String::from_utf8_lossy(&outcome.stdout);
            let lines: Vec<&str> = text.lines().collect();
            failure = failure.detail(format!("{} printed:", command.display));
            for line in &lines[lines.len().saturating_sub(8)..] {
                failure = failure.detail(format!("  {line}"));
            }
        }
        let stderr = String::from_utf8_lossy(&outcome.stderr);
        if step.kind == StepKind::Archive {
            for hint in archive_hints(&stderr) {
                failure = failure.hint(hint);
            }
        } else {
            for hint in oras::hints_for(&stderr, &self.plan.registry, &self.plan.project) {
                failure = failure.hint(hint);
            }
        }
        if matches!(
            step.kind,
            StepKind::PushBase | StepKind::PushPack | StepKind::Verify
        ) {
            failure = failure.detail(format!(
                "registry state: {}",
                step.kind.registry_state_if_stopped()
            ));
        }
        failure
    }

    fn run_error(&self, step: &Step, command: &Command, error: RunError) -> Failure {
        match error {
            RunError::Spawn(e) => Failure::new(
                step.kind.failure_class(),
                format!("step {} ({}): could not start {}: {e}", step.number, step.purpose, command.program),
            ),
            RunError::Interrupted(sig) => Failure::new(
                Class::Interrupted(sig),
                format!("interrupted by {} during step {} ({})", run::signal_name(sig), step.number, step.purpose),
            )
            .detail(format!("registry state: {}", step.kind.registry_state_if_stopped()))
            .detail("the running command was stopped; temporary files are removed; your files are unchanged"),
            RunError::TimedOut(limit) => Failure::new(
                step.kind.failure_class(),
                format!("step {} ({}) ran longer than --timeout {} and was stopped", step.number, step.purpose, seconds(limit)),
            )
            .detail(format!("command: {}", command.shell_line(true)))
            .detail(format!("registry state: {}", step.kind.registry_state_if_stopped()))
            .hint("the registry may be overloaded or unreachable through a proxy; raise --timeout for large packs"),
        }
    }
}

fn read_export(path: &Utf8Path, step: &Step) -> Result<Vec<u8>, Failure> {
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

/// The `--export-manifest` path of an oras push command.
fn export_path(command: &Command) -> camino::Utf8PathBuf {
    command
        .args
        .windows(2)
        .find(|w| w[0] == "--export-manifest")
        .map(|w| camino::Utf8PathBuf::from(&w[1]))
        .unwrap_or_default()
}

/// Hints for tar's known failures.
fn archive_hints(stderr: &str) -> Vec<String> {
    let text = stderr.to_ascii_lowercase();
    let mut hints = Vec::new();
    if text.contains("no space left on device") || text.contains("disk quota exceeded") {
        hints.push("the output folder's disk is full: free space there, or pass --output-dir on a disk with room for the archive".to_string());
    }
    if text.contains("file size limit exceeded") {
        hints.push("a file size limit (ulimit -f) stopped tar: raise it (ulimit -f unlimited) and run again".to_string());
    }
    if text.contains("permission denied") {
        hints.push("tar cannot read a file of the pack or write the archive: check the permissions (packpush check PACK_DIR)".to_string());
    }
    hints
}

/// The single layer's digest of a manifest, if it has exactly one.
fn layer_digest(manifest: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(manifest).ok()?;
    match value.get("layers")?.as_array()?.as_slice() {
        [layer] => layer.get("digest")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// `sha256:0123456789ab`, for notes.
fn short(digest: &str) -> String {
    digest.chars().take(19).collect()
}
