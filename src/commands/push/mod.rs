//! `packpush push`: the preflight, then the documented steps for one pack or
//! many, then the read-back verification; the result for people and as JSON.
//!
//! `workspace` holds the run's temporary folders, `summary` what a person
//! reads at the end; the plan (`plan`), its script (`plan::script`) and the
//! engine (`engine`) do the rest.

mod summary;
mod workspace;

use camino::Utf8PathBuf;

use crate::cli::PushArgs;
use crate::engine::{self, RunOutcome, Settings};
use crate::error::{Class, Failure, Warning};
use crate::fsutil;
use crate::hints::Wording;
use crate::listing::{BasePathStatus, Listing, ReadBack, Reader, Request};
use crate::plan::script::{self, OUT_VAR, WORK_VAR};
use crate::plan::{Layout, Plan};
use crate::preflight::{self, Known, Provenance, Ready, password};
use crate::process::Limits;
use crate::record::{Archived, PackRecord, PackStatus, Tools};
use crate::report::{self, Report};
use crate::secret::Secret;
use crate::signals;
use crate::tools::Found;
use crate::tools::oras::Mode;
use crate::ui::{Level, Progress, Ui};
use crate::workdir;
use workspace::Workspace;

/// Runs `packpush push`. The report is complete on success and on failure.
pub fn cmd_push(
    args: PushArgs,
    provenance: &Provenance<'_>,
    ui: &Ui,
) -> (Report, Result<(), Failure>) {
    push_with(&args, provenance, ui, Supplied::default())
}

/// What a caller other than the command line (the guided workflow)
/// supplies instead of finding it itself.
#[derive(Default)]
pub struct Supplied<'a> {
    /// Receives the step events instead of `ui` (which still prints warnings
    /// and the summary unless it is quiet).
    pub progress: Option<&'a dyn Progress>,
    /// The password, already asked for; used instead of stdin, the
    /// environment or a prompt.
    pub secret: Option<Secret>,
    /// The tools, found once for the whole run.
    pub tools: Option<Found>,
    /// How hints name what the person gave (the guide's answers).
    pub wording: Wording,
}

impl std::fmt::Debug for Supplied<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supplied")
            .field("secret", &self.secret)
            .field("tools", &self.tools)
            .field("wording", &self.wording)
            .finish_non_exhaustive()
    }
}

/// Runs a push with what the caller supplies.
pub fn push_with(
    args: &PushArgs,
    provenance: &Provenance<'_>,
    ui: &Ui,
    supplied: Supplied<'_>,
) -> (Report, Result<(), Failure>) {
    let mut report = Report::new("push");
    report.dry_run = args.dry_run;
    report.registry = args.connection.target.registry.clone();
    report.project = args.connection.target.project.clone();
    let result = push(args, provenance, ui, supplied, &mut report);
    report.finish(result.as_ref().err());
    (report, result)
}

fn push(
    args: &PushArgs,
    provenance: &Provenance<'_>,
    ui: &Ui,
    supplied: Supplied<'_>,
    report: &mut Report,
) -> Result<(), Failure> {
    let known = Known {
        tools: supplied.tools,
        password: supplied.secret.is_some(),
    };
    let ready = match preflight::check(args, provenance, known) {
        Ok(ready) => ready,
        Err(rejected) => {
            report.tools = Tools::from(&rejected.tools);
            return Err(rejected.failure);
        }
    };
    announce(&ready, ui, report);
    if args.dry_run {
        return dry_run(args, &ready, ui, report);
    }
    let secret = password(supplied.secret, &ready)?;
    signals::catch()
        .map_err(|e| Failure::new(Class::Other, format!("cannot catch signals: {e}")))?;
    let workspace = Workspace::create(args, &ready)?;
    for swept in &workspace.swept {
        let warning = Warning::Note(workdir::said(swept));
        ui.warning(&warning);
        report.warnings.push(warning.to_string());
    }
    let plan = Plan::build(&ready, workspace.layout());
    let several = plan.packs.len() > 1;
    let ui = ui.parallel(args.jobs > 1 && several);
    ui.line(&header(&plan, &ready));
    let progress = supplied.progress.unwrap_or(&ui);
    let settings = settings(args, secret.as_ref(), progress, supplied.wording);
    let outcome = engine::execute(&plan, &settings);
    for warning in &outcome.warnings {
        ui.warn(warning);
        report.warnings.push(warning.clone());
    }
    let view = registry_view(&plan, &outcome, &settings, workspace.layout(), &ui);
    let kept = workspace.finish(&plan, &outcome);
    report.steps =
        report::with_steps_not_reached(&plan, &outcome.steps, outcome.base_digest.as_deref());
    report.packs = pack_records(&plan, &outcome, &kept.archives);
    let (view, interrupted) = match view {
        Ok(view) => (view, None),
        Err(failure) => (None, Some(failure)),
    };
    summary::print(
        &plan,
        &outcome,
        &report.packs,
        view.as_ref(),
        &ready.tls,
        &ui,
    );
    report.listing = view;
    match interrupted {
        Some(failure) => Err(failure),
        None => conclusion(&plan, &outcome, &kept.for_failure),
    }
}

/// The engine's settings: the command line's, with the password, where
/// the progress goes and how hints name what the person gave.
fn settings<'a>(
    args: &PushArgs,
    secret: Option<&'a Secret>,
    progress: &'a dyn Progress,
    wording: Wording,
) -> Settings<'a> {
    Settings {
        secret,
        limits: Limits {
            total: args.limits.timeout.0,
            stall: args.limits.stall_timeout.0,
        },
        retries: args.limits.retries,
        jobs: usize::from(args.jobs),
        overwrite: args.overwrite,
        progress,
        wording,
    }
}

/// Every pack's record: how it ended, and whether its archive is kept.
fn pack_records(plan: &Plan, outcome: &RunOutcome, kept: &[bool]) -> Vec<PackRecord> {
    let base_digest = outcome.base_digest.as_deref();
    plan.packs
        .iter()
        .zip(&outcome.packs)
        .zip(kept)
        .map(|((pack, result), kept)| report::pack_record(pack, Some(result), base_digest, *kept))
        .collect()
}

/// The repositories of the packs in the registry after the run, read
/// again as `packpush list` reads them: what Palette will find there. A
/// pack found up to date before archiving is left out: the run changed
/// nothing there, and a re-run of unchanged packs stays cheap. The
/// manifest step 5 read back under each pack's tag, and the tags read
/// beside it, are taken as read, not read again. `Err` only when a signal stopped the reading.
fn registry_view(
    plan: &Plan,
    outcome: &RunOutcome,
    settings: &Settings<'_>,
    layout: &Layout,
    ui: &Ui,
) -> Result<Option<Listing>, Failure> {
    let mut names: Vec<String> = Vec::new();
    let in_registry = plan.packs.iter().zip(&outcome.packs).filter(|(_, result)| {
        matches!(result.status, PackStatus::Pushed | PackStatus::UpToDate)
            && result.archived != Some(Archived::None)
    });
    let mut read_back = Vec::new();
    for (pack, result) in in_registry {
        if !names.contains(&pack.target.name) {
            names.push(pack.target.name.clone());
        }
        if let Some(manifest) = &result.read_back {
            read_back.push(ReadBack {
                name: &pack.target.name,
                version: &pack.target.version,
                manifest,
                tags: result
                    .view_tags
                    .as_ref()
                    .map(|tags| (&tags.record, tags.output.as_deref())),
            });
        }
    }
    if names.is_empty() {
        return Ok(None);
    }
    let reader = Reader::new(
        plan.oras.clone(),
        (&plan.registry, &plan.project),
        &layout.work_dir,
        (settings.retries, settings.limits, settings.jobs),
        ui,
    );
    let request = Request {
        names: &names,
        base_path: Some(BasePathStatus::Present),
        deep: false,
        read_back: &read_back,
    };
    reader.read(&request).map(Some)
}

/// What the preflight found, said before anything runs: the tool probes
/// (with `--verbose`) and the warnings.
fn announce(ready: &Ready, ui: &Ui, report: &mut Report) {
    let found = Found {
        oras: Some(ready.oras.clone()),
        tar: Some(ready.tar.clone()),
    };
    report.tools = Tools::from(&found);
    if ui.level() == Level::Verbose {
        // The preflight's probes ran before any step; show them as run.
        for line in found.probe_lines() {
            ui.line(&format!("  $ {line}"));
        }
    }
    for warning in &ready.warnings {
        ui.warning(warning);
    }
    report
        .warnings
        .extend(ready.warnings.iter().map(ToString::to_string));
}

/// `--dry-run`: the plan, as a script that runs, with the folders a real
/// run creates as shell variables.
fn dry_run(args: &PushArgs, ready: &Ready, ui: &Ui, report: &mut Report) -> Result<(), Failure> {
    let layout = Layout {
        work_dir: Utf8PathBuf::from(WORK_VAR),
        output_dir: match &args.output_dir {
            Some(dir) => fsutil::absolute(dir)?,
            None => Utf8PathBuf::from(OUT_VAR),
        },
        archives_kept: args.output_dir.is_some(),
    };
    let plan = Plan::build(ready, &layout);
    report.steps = report::planned_steps(&plan);
    report.packs = plan
        .packs
        .iter()
        .map(|p| report::pack_record(p, None, None, false))
        .collect();
    if !ui.json() {
        let header = script::Header {
            oras_version: ready.oras.version.to_string(),
            newer_oras: ready.oras.mode == Mode::Newer,
            tar_version: &ready.tar.version,
            output_dir_given: args.output_dir.is_some(),
        };
        // A closed stdout (`| head`) is not an error of the plan.
        ui.print_raw(&script::render(&plan, &header));
    }
    Ok(())
}

/// The password for step 1: supplied, given, asked for now, or not needed.
fn password(supplied: Option<Secret>, ready: &Ready) -> Result<Option<Secret>, Failure> {
    match supplied {
        Some(secret) => Ok(Some(secret)),
        None => {
            let username = ready.username.as_deref().unwrap_or_default();
            password::take(&ready.password, username, &ready.registry)
        }
    }
}

/// The run's first line.
fn header(plan: &Plan, ready: &Ready) -> String {
    let count = plan.packs.len();
    format!(
        "packpush {}: {count} pack{} to {}/{} (oras {}, {})",
        env!("CARGO_PKG_VERSION"),
        if count > 1 { "s" } else { "" },
        plan.registry,
        plan.project,
        ready.oras.version,
        ready.tar.version
    )
}

/// The run's result: its first failure, said for the whole batch, with
/// where the archives were kept.
fn conclusion(plan: &Plan, outcome: &RunOutcome, kept: &[bool]) -> Result<(), Failure> {
    let Some(failure) = outcome.failure() else {
        return Ok(());
    };
    let mut failure = failure.clone();
    let failed = outcome.packs.iter().filter(|p| p.failure.is_some()).count();
    if plan.packs.len() > 1 && failed > 0 {
        failure.message = format!(
            "{failed} of {} packs failed; first: {}",
            plan.packs.len(),
            failure.message
        );
    }
    for (pack, keep) in plan.packs.iter().zip(kept) {
        if *keep {
            failure = failure.detail(format!("the archive is kept at {}", pack.archive));
        }
    }
    Err(failure)
}
