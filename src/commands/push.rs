//! `packpush push`: the preflight, then the documented steps for one pack or
//! many, then the read-back verification; the result for people and as JSON.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

use camino::Utf8PathBuf;

use crate::cli::PushArgs;
use crate::engine::{self, RunOutcome, Settings};
use crate::error::{Class, Failure};
use crate::inputs::{self, Password, Ready, Sources};
use crate::oras::{Mode, Oras};
use crate::plan::{Inputs, Layout, Plan};
use crate::report::{
    CommandRecord, PackRecord, PackStatus, Report, Status, StepRecord, ToolRecord, Tools, millis,
};
use crate::run;
use crate::secret::Secret;
use crate::ui::{Level, Progress, Ui, seconds};

/// Runs `packpush push`. The report is complete on success and on failure.
pub fn run(args: PushArgs, sources: &Sources<'_>, ui: &Ui) -> (Report, Result<(), Failure>) {
    run_with(args, sources, ui, &Hooks::default())
}

/// What a caller other than the command line (the guided workflow) supplies.
#[derive(Default)]
pub struct Hooks<'a> {
    /// Receives the step events instead of `ui` (which still prints warnings
    /// and the summary unless it is quiet).
    pub progress: Option<&'a dyn Progress>,
    /// The password, already asked for; used instead of stdin, the
    /// environment or a prompt.
    pub secret: Option<Secret>,
}

impl std::fmt::Debug for Hooks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

/// Runs a push with the caller's progress display and password.
pub fn run_with(
    args: PushArgs,
    sources: &Sources<'_>,
    ui: &Ui,
    hooks: &Hooks<'_>,
) -> (Report, Result<(), Failure>) {
    let mut report = Report::new("push");
    report.dry_run = args.dry_run;
    report.registry = args.registry.clone();
    report.project = args.project.clone();
    let result = push(&args, sources, ui, hooks, &mut report);
    report.finish(result.as_ref().err());
    (report, result)
}

fn push(
    args: &PushArgs,
    sources: &Sources<'_>,
    ui: &Ui,
    hooks: &Hooks<'_>,
    report: &mut Report,
) -> Result<(), Failure> {
    let ready = match inputs::check(args, sources, hooks.secret.is_some()) {
        Ok(ready) => ready,
        Err(boxed) => {
            let (failure, partial) = *boxed;
            report.tools = tools_record(partial.oras.as_ref(), partial.tar.as_ref());
            return Err(failure);
        }
    };
    report.tools = tools_record(Some(&ready.oras), Some(&ready.tar));
    if ui.level() == Level::Verbose {
        // The preflight's probes ran before any step; show them as run.
        ui.line(&format!(
            "  $ {} version",
            shell_words::quote(ready.oras.program.path.as_str())
        ));
        ui.line(&format!(
            "  $ {} --version",
            shell_words::quote(ready.tar.program.path.as_str())
        ));
    }
    for warning in &ready.warnings {
        if warning.starts_with("--skip-pack-checks") {
            // A pack pushed against its rules is said even with --quiet.
            eprintln!("warning: {warning}");
        } else {
            ui.warn(warning);
        }
    }
    report.warnings.extend(ready.warnings.iter().cloned());

    if args.dry_run {
        // The plan is printed as a script: the folders a real run creates
        // are shell variables, so the commands can be copied and run.
        let layout = Layout {
            work_dir: Utf8PathBuf::from(WORK_VAR),
            output_dir: match &args.output_dir {
                Some(dir) => inputs::absolute(dir)?,
                None => Utf8PathBuf::from(OUT_VAR),
            },
        };
        let plan = build_plan(&ready, args, &layout);
        report.steps = planned_steps(&plan);
        report.packs = plan
            .packs
            .iter()
            .map(|p| pack_record(p, None, None, false))
            .collect();
        if !ui.json() {
            // A closed stdout (`| head`) is not an error of the plan.
            let _ = print_plan(&plan, &ready, args);
        }
        return Ok(());
    }

    let secret = match (&hooks.secret, &ready.password) {
        (Some(secret), _) => Some(Secret::new(secret.expose().to_string())),
        (None, Password::NotNeeded) => None,
        (None, Password::Given(secret)) => Some(Secret::new(secret.expose().to_string())),
        (None, Password::Prompt) => {
            // Ctrl-C at the hidden prompt must not leave the terminal
            // without echo: the guide's handler restores it and exits 130.
            crate::guide::interrupt::install()
                .map_err(|e| Failure::new(Class::Other, format!("cannot catch signals: {e}")))?;
            let secret = inputs::prompt_password(
                ready.username.as_deref().unwrap_or_default(),
                &ready.registry,
            )?;
            crate::guide::interrupt::prompts_done();
            Some(secret)
        }
    };
    run::catch_signals()
        .map_err(|e| Failure::new(Class::Other, format!("cannot catch signals: {e}")))?;

    // A private folder (mode 0700) for the login and the exported manifests;
    // removed whatever happens.
    let work = tempfile::Builder::new()
        .prefix("packpush-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| {
            Failure::new(
                Class::Other,
                format!("cannot create a private temporary folder: {e}"),
            )
        })?;
    let work_dir =
        inputs::absolute(camino::Utf8Path::from_path(work.path()).ok_or_else(|| {
            Failure::new(Class::Other, "the temporary folder's path is not UTF-8")
        })?)?;
    if args.registry_config.is_none() && !args.skip_login {
        create_private_file(&Layout::default_registry_config(&work_dir))?;
    }
    let needs_output = ready
        .packs
        .iter()
        .any(|p| matches!(p.source, crate::sources::Source::Folder(_)));
    let (output_dir, output_temp) = match &args.output_dir {
        Some(dir) => {
            if needs_output {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Failure::new(
                        Class::Archive,
                        format!("cannot create the output folder {dir}: {e}"),
                    )
                    .hint("pass an --output-dir you can write to")
                })?;
            }
            (inputs::absolute(dir)?, None)
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("packpush-archive-")
                .permissions(std::fs::Permissions::from_mode(0o700))
                .tempdir()
                .map_err(|e| {
                    Failure::new(
                        Class::Other,
                        format!("cannot create a temporary folder: {e}"),
                    )
                })?;
            let path =
                inputs::absolute(camino::Utf8Path::from_path(dir.path()).ok_or_else(|| {
                    Failure::new(Class::Other, "the temporary folder's path is not UTF-8")
                })?)?;
            (path, Some(dir))
        }
    };
    let layout = Layout {
        work_dir,
        output_dir,
    };
    let plan = build_plan(&ready, args, &layout);
    let several = plan.packs.len() > 1;
    let ui = ui.parallel(args.jobs > 1 && several);
    ui.line(&format!(
        "packpush {}: {} pack{} to {}/{} (oras {}, {})",
        env!("CARGO_PKG_VERSION"),
        plan.packs.len(),
        if several { "s" } else { "" },
        plan.registry,
        plan.project,
        ready.oras.version,
        ready.tar.version
    ));

    let settings = Settings {
        secret: secret.as_ref(),
        timeout: args.timeout,
        jobs: usize::from(args.jobs),
        overwrite: args.overwrite,
        progress: hooks.progress.unwrap_or(&ui),
        work_dir: &layout.work_dir,
    };
    let outcome = engine::execute(&plan, &settings);
    drop(work); // the login and the manifests go, whatever happened

    // Archives: kept when a push or verification failed (so the user has
    // what was built), or when the user chose --output-dir.
    // A failed base-path push (step 3) stops every pack after its archive
    // was built: those archives are kept too.
    let push_failed = |f: &Failure| matches!(f.class, Class::Push | Class::Verify);
    let base_failed = outcome.stopped.as_ref().is_some_and(push_failed);
    let keep_for_failure: Vec<bool> = outcome
        .packs
        .iter()
        .map(|p| p.archive_complete && (base_failed || p.failure.as_ref().is_some_and(push_failed)))
        .collect();
    let any_kept = keep_for_failure.iter().any(|k| *k);
    if let Some(dir) = output_temp
        && any_kept
    {
        for (pack, keep) in plan.packs.iter().zip(&keep_for_failure) {
            if !keep && pack.archive_written {
                let _ = std::fs::remove_file(&pack.archive);
            }
        }
        let _ = dir.keep();
    }
    let user_output = args.output_dir.is_some();
    report.steps = with_steps_not_reached(&plan, &outcome.steps);
    report.packs = plan
        .packs
        .iter()
        .zip(&outcome.packs)
        .zip(&keep_for_failure)
        .map(|((pack, result), keep)| {
            let kept = !pack.archive_written || (*keep) || (user_output && result.archive_complete);
            pack_record(pack, Some(result), outcome.base_digest.as_deref(), kept)
        })
        .collect();

    summarise(&plan, &outcome, &report.packs, &ui, several);
    match outcome.failure() {
        None => Ok(()),
        Some(failure) => {
            let mut failure = failure.clone();
            let failed = outcome.packs.iter().filter(|p| p.failure.is_some()).count();
            if several && failed > 0 {
                failure.message = format!(
                    "{failed} of {} packs failed; first: {}",
                    plan.packs.len(),
                    failure.message
                );
            }
            for (pack, keep) in plan.packs.iter().zip(&keep_for_failure) {
                if *keep {
                    failure = failure.detail(format!("the archive is kept at {}", pack.archive));
                }
            }
            Err(failure)
        }
    }
}

fn build_plan(ready: &Ready, args: &PushArgs, layout: &Layout) -> Plan {
    let registry_config = match (&args.registry_config, args.skip_login) {
        (Some(path), _) => Some(inputs::absolute(path).unwrap_or_else(|_| path.clone())),
        (None, true) => None,
        (None, false) => Some(Layout::default_registry_config(&layout.work_dir)),
    };
    let oras = Oras {
        program: ready.oras.program.path.clone(),
        mode: ready.oras.mode,
        tls: ready.tls.clone(),
        registry_config,
    };
    Plan::build(&Inputs {
        oras: &oras,
        oras_display: &ready.oras.program.display,
        tar: &ready.tar.program,
        tar_options: &ready.tar_options,
        registry: &ready.registry,
        project: &ready.project,
        packs: &ready.packs,
        username: ready.username.as_deref(),
        layout,
        base_created: ready.base_created.as_ref(),
    })
}

/// Shell variables that stand for the folders a real run creates.
const WORK_VAR: &str = "$WORK";
const OUT_VAR: &str = "$OUT";
const BASE_DIGEST_VAR: &str = "$BASE_DIGEST";

/// The plan as a shell script: every command in order, ready to copy. The
/// private folder and the archive folder are `mktemp -d` folders, and the
/// base-path digest is computed from the manifest oras exported.
fn print_plan(plan: &Plan, ready: &Ready, args: &PushArgs) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "# packpush plan: {} pack(s) to {} (oras {}{}, {})",
        plan.packs.len(),
        plan.base_repository(),
        ready.oras.version,
        if ready.oras.mode == Mode::Newer {
            ", --allow-newer-oras"
        } else {
            ""
        },
        ready.tar.version
    )?;
    writeln!(out, "set -e")?;
    writeln!(out, "umask 077")?;
    writeln!(
        out,
        "WORK=$(mktemp -d)   # private: the login and the exported manifests"
    )?;
    writeln!(out, "trap 'rm -rf \"$WORK\"' EXIT")?;
    if plan.packs.iter().any(|p| p.archive_written) {
        match &args.output_dir {
            None => writeln!(out, "OUT=$(mktemp -d)    # the archives")?,
            Some(_) => writeln!(
                out,
                "mkdir -p {}",
                script_word(plan.packs[0].archive.parent().map_or("", |p| p.as_str()))
            )?,
        }
    }
    if args.registry_config.is_none() && !args.skip_login {
        writeln!(out, "printf '{{}}' > \"$WORK\"/registry-config.json")?;
    }
    for (pack, step) in plan.ordered_steps() {
        let who = pack
            .map(|p| format!(" [{}]", p.label()))
            .unwrap_or_default();
        writeln!(out, "# {}.{who} {}", step.number, step.purpose)?;
        if let Some(why) = &step.skipped {
            writeln!(out, "#    skipped: {why}")?;
        }
        if step.kind == crate::plan::StepKind::PushPack
            && let Some(pack) = pack
        {
            writeln!(
                out,
                "#    read-only look-up first; an identical version is not pushed again:"
            )?;
            writeln!(out, "{} || true", script_line(&pack.lookup))?;
        }
        if step.kind == crate::plan::StepKind::Verify {
            writeln!(
                out,
                "BASE_DIGEST=sha256:$(sha256sum \"$WORK\"/base-manifest.json | cut -d' ' -f1)"
            )?;
        }
        for command in &step.commands {
            writeln!(out, "{}", script_line(command))?;
        }
    }
    Ok(())
}

/// `cd DIR && PROGRAM ARGS` with the folder variables left for the shell to
/// expand and everything else quoted.
fn script_line(command: &crate::run::Command) -> String {
    let argv: Vec<String> = command
        .argv()
        .iter()
        .map(|a| script_word(&a.replace(crate::plan::BASE_DIGEST_PLACEHOLDER, BASE_DIGEST_VAR)))
        .collect();
    let mut line = format!(
        "cd {} && {}",
        script_word(command.cwd.as_str()),
        argv.join(" ")
    );
    if command.stdin_secret {
        line.push_str(&format!(
            "   # password on stdin: {}",
            crate::secret::REDACTED
        ));
    }
    line
}

/// One shell word: `$WORK`, `$OUT` and `$BASE_DIGEST` stay variables
/// (double-quoted), the rest is quoted as needed.
pub(crate) fn script_word(word: &str) -> String {
    let mut result = String::new();
    let mut rest = word;
    while !rest.is_empty() {
        let next = [WORK_VAR, OUT_VAR, BASE_DIGEST_VAR]
            .iter()
            .filter_map(|v| rest.find(v).map(|i| (i, *v)))
            .min_by_key(|(i, _)| *i);
        match next {
            Some((i, var)) => {
                if i > 0 {
                    result.push_str(&shell_words::quote(&rest[..i]));
                }
                result.push('"');
                result.push_str(var);
                result.push('"');
                rest = &rest[i + var.len()..];
            }
            None => {
                result.push_str(&shell_words::quote(rest));
                rest = "";
            }
        }
    }
    if result.is_empty() {
        "''".to_string()
    } else {
        result
    }
}

/// The steps that ran, then every planned step a failure kept from running,
/// as `not_run`, so the report lists the whole procedure.
fn with_steps_not_reached(plan: &Plan, ran: &[StepRecord]) -> Vec<StepRecord> {
    let mut steps = ran.to_vec();
    for planned in planned_steps(plan) {
        let reached = ran
            .iter()
            .any(|r| r.number == planned.number && r.pack == planned.pack);
        if !reached {
            steps.push(StepRecord {
                status: Status::NotRun,
                note: None,
                ..planned
            });
        }
    }
    steps
}

fn planned_steps(plan: &Plan) -> Vec<StepRecord> {
    plan.ordered_steps()
        .into_iter()
        .map(|(pack, step)| {
            let mut commands: Vec<CommandRecord> = Vec::new();
            if step.kind == crate::plan::StepKind::PushPack
                && let Some(pack) = pack
            {
                commands.push(CommandRecord::planned(&pack.lookup, true));
            }
            let read_only = step.kind == crate::plan::StepKind::Verify;
            commands.extend(
                step.commands
                    .iter()
                    .map(|c| CommandRecord::planned(c, read_only)),
            );
            StepRecord {
                number: step.number,
                kind: step.kind,
                pack: pack.map(|p| p.label()),
                purpose: step.purpose.clone(),
                status: if step.skipped.is_some() {
                    Status::Skipped
                } else {
                    Status::Planned
                },
                note: step.skipped.clone(),
                duration_ms: 0,
                commands,
            }
        })
        .collect()
}

fn pack_record(
    pack: &crate::plan::PackPlan,
    result: Option<&engine::PackOutcome>,
    base_digest: Option<&str>,
    kept: bool,
) -> PackRecord {
    PackRecord {
        name: pack.target.name.clone(),
        version: pack.target.version.clone(),
        reference: pack.target.pack_reference(),
        source: pack.source.clone(),
        archive: pack.archive.to_string(),
        archive_kept: result.is_some() && kept,
        status: result.map_or(PackStatus::Planned, |r| r.status),
        manifest_digest: result.and_then(|r| r.manifest_digest.clone()),
        base_digest: result.and(base_digest.map(str::to_string)),
        layer: result.and_then(|r| r.layer.clone()),
        duration_ms: result.map_or(0, |r| millis(r.duration)),
        error: result.and_then(|r| r.failure.as_ref().map(Into::into)),
    }
}

fn tools_record(
    oras: Option<&crate::preflight::FoundOras>,
    tar: Option<&crate::preflight::FoundTar>,
) -> Tools {
    Tools {
        oras: oras.map(|o| ToolRecord {
            path: o.program.path.to_string(),
            version: o.version.to_string(),
        }),
        oras_mode: oras.map(|o| match o.mode {
            Mode::Strict => "strict".to_string(),
            Mode::Newer => "newer".to_string(),
        }),
        tar: tar.map(|t| ToolRecord {
            path: t.program.path.to_string(),
            version: t.version.clone(),
        }),
    }
}

/// What a person reads at the end: the reference and digest of each pack,
/// a table for several, and what to enter in Palette.
fn summarise(plan: &Plan, outcome: &RunOutcome, packs: &[PackRecord], ui: &Ui, several: bool) {
    if ui.level() == Level::Quiet {
        return;
    }
    if several {
        ui.line("");
        ui.line(&format!(
            "{:<28} {:<12} {:<11} {:<20} {:>8}",
            "PACK", "VERSION", "RESULT", "DIGEST", "TIME"
        ));
        for pack in packs {
            let result = match pack.status {
                PackStatus::Pushed => "pushed",
                PackStatus::UpToDate => "up to date",
                PackStatus::Failed => "FAILED",
                PackStatus::NotRun => "not run",
                PackStatus::Planned => "planned",
            };
            let digest = pack
                .manifest_digest
                .as_deref()
                .map(|d| d.chars().take(19).collect::<String>())
                .unwrap_or_else(|| "-".into());
            ui.line(&format!(
                "{:<28} {:<12} {:<11} {:<20} {:>8}",
                pack.name,
                pack.version,
                result,
                digest,
                seconds(std::time::Duration::from_millis(pack.duration_ms))
            ));
        }
    }
    let good: Vec<&PackRecord> = packs
        .iter()
        .filter(|p| matches!(p.status, PackStatus::Pushed | PackStatus::UpToDate))
        .collect();
    if !several {
        for pack in &good {
            let verb = if pack.status == PackStatus::UpToDate {
                "current "
            } else {
                "pushed  "
            };
            ui.line(&format!("{verb} {}", pack.reference));
            ui.line(&format!(
                "digest   {}",
                pack.manifest_digest.as_deref().unwrap_or_default()
            ));
            if let Some(layer) = &pack.layer {
                ui.line(&format!(
                    "layer    {} ({} bytes, title {})",
                    layer.digest, layer.size, layer.title
                ));
            }
            if let Some(base) = &outcome.base_digest {
                ui.line(&format!("base     {}@{base}", plan.base_repository()));
            }
            if pack.archive_kept && pack.status != PackStatus::Failed {
                ui.line(&format!("archive  {}", pack.archive));
            }
        }
    }
    if !good.is_empty() {
        ui.line("");
        ui.line("In Palette: Tenant Settings > Registries > OCI Registries > Add New OCI Registry");
        ui.line(&format!(
            "  Provider: Pack   Authentication: Basic   Endpoint: {}",
            plan.registry
        ));
        ui.line(&format!("  Base Content Path: {}", plan.project));
        let names: Vec<String> = good
            .iter()
            .map(|p| format!("{} {}", p.name, p.version))
            .collect();
        ui.line(&format!(
            "Then: Profiles > Add Cluster Profile (type Add-on) > Add Pack > pick this registry: {} listed.",
            if names.len() == 1 { format!("{} is", names[0]) } else { format!("{} are", names.join(", ")) }
        ));
    }
}

fn create_private_file(path: &camino::Utf8Path) -> Result<(), Failure> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Failure::new(Class::Other, format!("cannot create {path}: {e}")))?;
    file.write_all(b"{}")
        .map_err(|e| Failure::new(Class::Other, format!("cannot write {path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_words_keep_the_folder_variables() {
        assert_eq!(
            script_word("$WORK/registry-config.json"),
            "\"$WORK\"/registry-config.json"
        );
        assert_eq!(
            script_word("h:5/p/spectro-packs/archive@$BASE_DIGEST"),
            "h:5/p/spectro-packs/archive@\"$BASE_DIGEST\""
        );
        assert_eq!(script_word("/my dir/x"), "'/my dir/x'");
        assert_eq!(script_word("robot$p+ci"), "'robot$p+ci'");
        assert_eq!(script_word(""), "''");
    }
}
