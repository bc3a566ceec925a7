//! `packpush push`: preflight, then the documented steps in order, then the
//! read-back verification.

use std::io::{IsTerminal, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::thread::JoinHandle;

use camino::{Utf8Path, Utf8PathBuf};
use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::cli::PushArgs;
use crate::digest;
use crate::error::{Class, Failure, Problem, preflight_result};
use crate::oras::{self, Oras, Tls};
use crate::pack::{self, PackDir};
use crate::plan::{Inputs, Layout, Plan, Step, StepKind};
use crate::preflight::{self, FoundOras, FoundTar};
use crate::reference::{self, Target};
use crate::run::{self, Command, Outcome, RunError};
use crate::secret::Secret;
use crate::ui::{self, Ui};
use crate::verify::{self, ExpectedLayer, Layer};

/// Where each value came from, so messages can say "the environment
/// variable NAME" rather than just "the name".
#[derive(Debug)]
pub struct Sources<'a> {
    matches: Option<&'a ArgMatches>,
}

impl<'a> Sources<'a> {
    pub fn new(matches: Option<&'a ArgMatches>) -> Self {
        Sources { matches }
    }

    /// "--name" or "environment variable NAME".
    pub fn describe(&self, id: &str, flag: &str, env: &str) -> String {
        match self.matches.and_then(|m| m.value_source(id)) {
            Some(ValueSource::EnvVariable) => format!("from the environment variable {env}"),
            _ => format!("from {flag}"),
        }
    }
}

/// How the password will be had, decided by the preflight.
enum Password {
    NotNeeded,
    Given(Secret),
    Prompt,
}

/// Everything the preflight established.
struct Ready {
    oras: FoundOras,
    tar: FoundTar,
    target: Target,
    pack: PackDir,
    username: Option<String>,
    password: Password,
    tls: Tls,
}

/// What a successful push produced.
#[derive(Debug, serde::Serialize)]
pub struct Pushed {
    pub reference: String,
    pub manifest_digest: String,
    pub base_digest: String,
    pub layer: Layer,
}

pub fn run(args: PushArgs, sources: &Sources<'_>, ui: &Ui) -> Result<(), Failure> {
    let ready = check(&args, sources)?;
    if args.dry_run {
        let layout = Layout {
            work_dir: std::env::temp_dir()
                .join("packpush-XXXXXX")
                .try_into()
                .unwrap_or_else(|_| "/tmp/packpush-XXXXXX".into()),
            output_dir: args
                .output_dir
                .clone()
                .unwrap_or_else(|| "/tmp/packpush-out-XXXXXX".into()),
        };
        let plan = build_plan(&ready, &args, &layout);
        print_plan(&plan, &ready);
        return Ok(());
    }
    let secret = match ready.password {
        Password::NotNeeded => None,
        Password::Given(ref s) => Some(Secret::new(s.expose().to_string())),
        Password::Prompt => Some(prompt_password(
            ready.username.as_deref().unwrap_or_default(),
            &ready.target.registry,
        )?),
    };
    run::catch_signals()
        .map_err(|e| Failure::new(Class::Other, format!("cannot catch signals: {e}")))?;

    let work = tempfile::Builder::new()
        .prefix("packpush-")
        .tempdir()
        .map_err(|e| {
            Failure::new(
                Class::Other,
                format!("cannot create a private temporary folder: {e}"),
            )
        })?;
    let work_dir = utf8(work.path())?;
    if args.registry_config.is_none() && !args.skip_login {
        create_private_file(&Layout::default_registry_config(&work_dir))?;
    }
    let (output_dir, output_temp) = match &args.output_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                Failure::new(
                    Class::Archive,
                    format!("cannot create the output folder {dir}: {e}"),
                )
                .hint("pass an --output-dir you can write to")
            })?;
            (absolute(dir)?, None)
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("packpush-archive-")
                .tempdir()
                .map_err(|e| {
                    Failure::new(
                        Class::Other,
                        format!("cannot create a temporary folder: {e}"),
                    )
                })?;
            (utf8(dir.path())?, Some(dir))
        }
    };
    let layout = Layout {
        work_dir,
        output_dir,
    };
    let plan = build_plan(&ready, &args, &layout);
    ui.line(&format!(
        "packpush {}: {} (oras {}, {})",
        env!("CARGO_PKG_VERSION"),
        plan.target.pack_reference(),
        ready.oras.version,
        ready.tar.version
    ));
    let result = execute(&plan, &layout, secret.as_ref(), ui);
    drop(work); // credentials and manifests go, whatever happened
    match result {
        Ok(pushed) => {
            report(&pushed, &plan, ui, args.output_dir.is_some());
            Ok(())
        }
        Err((mut failure, archive_complete)) => {
            let keep = archive_complete && matches!(failure.class, Class::Push | Class::Verify);
            if keep {
                if let Some(dir) = output_temp {
                    let _ = dir.keep();
                }
                failure = failure.detail(format!("the archive is kept at {}", plan.archive));
            }
            Err(failure)
        }
    }
}

fn check(args: &PushArgs, sources: &Sources<'_>) -> Result<Ready, Failure> {
    let mut problems = Vec::new();
    let (oras, tar) = preflight::check_tools(&args.tools, &mut problems);

    let registry = required(
        &args.registry,
        "--registry",
        "HARBOR_ADDRESS",
        "the registry host",
        &mut problems,
    );
    if let Some(registry) = &registry {
        let source = sources.describe("registry", "--registry", "HARBOR_ADDRESS");
        if let Err(p) = reference::check_registry(registry, &source) {
            problems.push(p);
        }
    }
    let project = required(
        &args.project,
        "--project",
        "HARBOR_PROJECT",
        "the Harbor project",
        &mut problems,
    );
    if let Some(project) = &project {
        let source = sources.describe("project", "--project", "HARBOR_PROJECT");
        if let Err(p) = reference::check_component(project, "project", &source) {
            problems.push(p);
        }
    }

    let pack = pack::locate(&args.pack_dir)
        .map_err(|p| problems.push(p))
        .ok();
    let pack_json = pack.as_ref().and_then(|p| {
        pack::read_pack_json(&p.path)
            .map_err(|ps| problems.extend(ps))
            .ok()
    });
    let name = pack_json.as_ref().and_then(|json| {
        let from = sources.describe("name", "--name", "NAME");
        resolve_field(
            args.name.as_deref(),
            &json.name,
            "name",
            "--name",
            "NAME",
            &from,
            &mut problems,
        )
    });
    let version = pack_json.as_ref().and_then(|json| {
        let from = sources.describe("version", "--version", "VERSION");
        resolve_field(
            args.version.as_deref(),
            &json.version,
            "version",
            "--version",
            "VERSION",
            &from,
            &mut problems,
        )
    });
    if let Some(name) = &name
        && let Err(p) = reference::check_component(name, "pack name", "from pack.json \"name\"")
    {
        problems.push(p);
    }
    if let Some(version) = &version
        && let Err(p) = reference::check_tag(version, "from pack.json \"version\"")
    {
        problems.push(p);
    }

    let username = if args.skip_login {
        None
    } else {
        let user = required(
            &args.username,
            "--username",
            "HARBOR_USERNAME",
            "the registry user name",
            &mut problems,
        );
        if user.as_deref().is_some_and(|u| u.trim().is_empty()) {
            problems.push(Problem::new(
                "the user name is empty",
                "pass --username (or set HARBOR_USERNAME)",
            ));
        }
        user
    };
    let password = if args.skip_login || args.dry_run {
        Password::NotNeeded
    } else {
        password_source(args, &mut problems)
    };

    let tls = tls(args, &mut problems);
    if let Some(config) = &args.registry_config {
        let parent = config
            .parent()
            .filter(|p| !p.as_str().is_empty())
            .unwrap_or(Utf8Path::new("."));
        if !parent.is_dir() {
            problems.push(Problem::new(
                format!("the folder of --registry-config {config} does not exist"),
                format!("create {parent} first, or leave --registry-config out to use a private temporary file"),
            ));
        }
    }

    let target = match (registry, project, name, version) {
        (Some(registry), Some(project), Some(name), Some(version)) => {
            let target = Target {
                registry,
                project,
                name,
                version,
            };
            if let Err(p) = target.check_length() {
                problems.push(p);
            }
            Some(target)
        }
        _ => None,
    };
    if let (Some(target), Some(dir)) = (&target, &args.output_dir) {
        check_output_dir(dir, &target.archive_name(), &mut problems);
    }

    preflight_result(problems)?;
    match (oras, tar, target, pack) {
        (Some(oras), Some(tar), Some(target), Some(pack)) => Ok(Ready {
            oras,
            tar,
            target,
            pack,
            username,
            password,
            tls,
        }),
        _ => Err(Failure::new(
            Class::Other,
            "preflight incomplete without a reported problem",
        )),
    }
}

fn required(
    value: &Option<String>,
    flag: &str,
    env: &str,
    what: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    if value.is_none() {
        problems.push(Problem::new(
            format!("{what} is missing"),
            format!("pass {flag} or set the environment variable {env}"),
        ));
    }
    value.clone()
}

/// The name or version: pack.json's, which a flag or variable must match.
fn resolve_field(
    given: Option<&str>,
    from_pack: &str,
    key: &str,
    flag: &str,
    env: &str,
    source: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match given {
        Some(given) if given != from_pack => {
            let stray = if source.contains("environment") {
                format!(
                    "; if {env} was not meant for packpush (some shells set {env} on their own), \
                     unset it or pass {flag} {from_pack}"
                )
            } else {
                String::new()
            };
            problems.push(Problem::new(
                format!("the {key} '{given}' ({source}) does not match pack.json \"{key}\": '{from_pack}'"),
                format!(
                    "Palette requires them to be equal: fix pack.json or pass {flag} {from_pack}{stray}"
                ),
            ));
            None
        }
        _ => Some(from_pack.to_string()),
    }
}

fn password_source(args: &PushArgs, problems: &mut Vec<Problem>) -> Password {
    if args.password_stdin {
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            problems.push(Problem::new(
                format!("--password-stdin: standard input cannot be read: {e}"),
                "pipe the password into packpush, e.g. printf '%s' \"$PASS\" | packpush push ... --password-stdin",
            ));
            return Password::NotNeeded;
        }
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string();
        let secret = Secret::new(trimmed);
        if secret.is_empty() {
            problems.push(Problem::new(
                "--password-stdin: standard input held no password",
                "pipe the password into packpush, e.g. printf '%s' \"$PASS\" | packpush push ... --password-stdin",
            ));
        }
        return Password::Given(secret);
    }
    if let Ok(value) = std::env::var("HARBOR_PASSWORD") {
        let secret = Secret::new(value);
        if secret.is_empty() {
            problems.push(Problem::new(
                "the environment variable HARBOR_PASSWORD is set but empty",
                "set it to the password, or unset it and use --password-stdin",
            ));
        }
        return Password::Given(secret);
    }
    if std::io::stdin().is_terminal() && !args.non_interactive {
        return Password::Prompt;
    }
    problems.push(Problem::new(
        "no password: standard input is not a terminal, so packpush cannot ask for it",
        "pass --password-stdin with the password on standard input, or set HARBOR_PASSWORD, \
         or use --skip-login with stored credentials",
    ));
    Password::NotNeeded
}

fn prompt_password(username: &str, registry: &str) -> Result<Secret, Failure> {
    let value = dialoguer::Password::new()
        .with_prompt(format!("Password for {username} at {registry}"))
        .interact()
        .map_err(|e| Failure::new(Class::Preflight, format!("cannot read the password: {e}")))?;
    if value.is_empty() {
        return Err(Failure::new(Class::Preflight, "the password is empty")
            .hint("type the registry password"));
    }
    Ok(Secret::new(value))
}

fn tls(args: &PushArgs, problems: &mut Vec<Problem>) -> Tls {
    if args.tls.plain_http {
        return Tls::PlainHttp;
    }
    if args.tls.insecure {
        return Tls::Insecure;
    }
    let Some(ca) = &args.tls.ca_file else {
        return Tls::Verify;
    };
    match std::fs::read(ca) {
        Ok(bytes) if String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") => {}
        Ok(_) => problems.push(Problem::new(
            format!("--ca-file {ca} holds no PEM certificate"),
            "pass the registry's CA certificate in PEM form (a file with -----BEGIN CERTIFICATE-----)",
        )),
        Err(e) => problems.push(Problem::new(
            format!("--ca-file {ca} cannot be read: {e}"),
            "pass the path of the registry's CA certificate (PEM)",
        )),
    }
    match absolute(ca) {
        Ok(path) => Tls::CaFile(path),
        Err(_) => Tls::CaFile(ca.clone()),
    }
}

fn check_output_dir(dir: &Utf8Path, archive_name: &str, problems: &mut Vec<Problem>) {
    if dir.exists() && !dir.is_dir() {
        problems.push(Problem::new(
            format!("--output-dir {dir} is not a folder"),
            "pass a folder (it is created if missing)",
        ));
        return;
    }
    let archive = dir.join(archive_name);
    if archive.symlink_metadata().is_ok() {
        problems.push(Problem::new(
            format!("{archive} already exists; packpush never overwrites a file"),
            format!("move or remove {archive}, or pass another --output-dir"),
        ));
    }
}

fn build_plan(ready: &Ready, args: &PushArgs, layout: &Layout) -> Plan {
    let registry_config = match (&args.registry_config, args.skip_login) {
        (Some(path), _) => Some(absolute(path).unwrap_or_else(|_| path.clone())),
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
        target: &ready.target,
        pack: &ready.pack,
        username: ready.username.as_deref(),
        layout,
        annotations: &[],
    })
}

fn print_plan(plan: &Plan, ready: &Ready) {
    println!(
        "# packpush plan: {} ({} {}, oras {}, {})",
        plan.target.pack_reference(),
        ready.pack.path,
        plan.target.archive_name(),
        ready.oras.version,
        ready.tar.version
    );
    for step in &plan.steps {
        println!("# {}. {}", step.number, step.purpose);
        if let Some(why) = &step.skipped {
            println!("#    skipped: {why}");
        }
        for command in &step.commands {
            println!("{}", command.shell_line(true));
        }
    }
}

type StepError = (Failure, bool);

/// Walks the plan. The error carries whether the archive is complete.
fn execute(
    plan: &Plan,
    layout: &Layout,
    secret: Option<&Secret>,
    ui: &Ui,
) -> Result<Pushed, StepError> {
    let total = plan.steps.len();
    let login = plan.step(StepKind::Login);
    match &login.skipped {
        Some(why) => ui.skipped(login, total, why),
        None => {
            run_step(plan, login, &login.commands[0], secret, ui, false).map_err(|f| (f, false))?;
        }
    }

    let archive_step = plan.step(StepKind::Archive);
    let hashing = archive(plan, archive_step, ui).map_err(|f| (f, false))?;

    let base_step = plan.step(StepKind::PushBase);
    run_step(plan, base_step, &base_step.commands[0], None, ui, false).map_err(|f| (f, true))?;
    let base_manifest = read_export(&layout.base_manifest(), base_step).map_err(|f| (f, true))?;
    let base_digest = digest::of_bytes(&base_manifest);

    let pack_step = plan.step(StepKind::PushPack);
    run_step(plan, pack_step, &pack_step.commands[0], None, ui, false).map_err(|f| (f, true))?;
    let pack_manifest = read_export(&layout.pack_manifest(), pack_step).map_err(|f| (f, true))?;
    let manifest_digest = digest::of_bytes(&pack_manifest);

    let verify_step = plan.step(StepKind::Verify);
    let (archive_digest, archive_size) = hashing
        .join()
        .map_err(|_| {
            (
                Failure::new(Class::Other, "hashing the archive panicked"),
                true,
            )
        })?
        .map_err(|e| {
            (
                Failure::new(
                    Class::Archive,
                    format!("cannot read the archive {}: {e}", plan.archive),
                ),
                true,
            )
        })?;
    let layer = verify(
        plan,
        verify_step,
        layout,
        ui,
        &VerifyInputs {
            base_digest: &base_digest,
            manifest_digest: &manifest_digest,
            archive_digest: &archive_digest,
            archive_size,
        },
    )
    .map_err(|f| (f, true))?;
    Ok(Pushed {
        reference: plan.target.pack_reference(),
        manifest_digest,
        base_digest,
        layer,
    })
}

/// Runs tar, refusing to overwrite, and starts hashing the archive in the
/// background so that the digest is ready by the time verification needs it.
fn archive(
    plan: &Plan,
    step: &Step,
    ui: &Ui,
) -> Result<JoinHandle<std::io::Result<(String, u64)>>, Failure> {
    // Claim the name first (O_EXCL): a file that appeared since the
    // preflight is never overwritten, and a partial archive is ours to remove.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&plan.archive)
        .map_err(|e| {
            Failure::new(
                Class::Archive,
                format!(
                    "step 2 ({}): cannot create {}: {e}",
                    step.purpose, plan.archive
                ),
            )
            .hint("packpush never overwrites a file: move it away, or pass another --output-dir")
        })?;
    if let Err(failure) = run_step(plan, step, &step.commands[0], None, ui, false) {
        let _ = std::fs::remove_file(&plan.archive);
        return Err(failure.detail(format!("the partial archive {} was removed", plan.archive)));
    }
    let path = plan.archive.clone();
    Ok(std::thread::spawn(move || digest::of_file(&path)))
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

struct VerifyInputs<'a> {
    base_digest: &'a str,
    manifest_digest: &'a str,
    archive_digest: &'a str,
    archive_size: u64,
}

fn verify(
    plan: &Plan,
    step: &Step,
    layout: &Layout,
    ui: &Ui,
    inputs: &VerifyInputs<'_>,
) -> Result<Layer, Failure> {
    let total = plan.steps.len();
    ui.announce(step, total);
    let started = std::time::Instant::now();
    let pack_fetch = &step.commands[0];
    let fetched_pack = run_command(plan, step, pack_fetch, None, ui, true)?;
    let base_fetch = plan.fetch_base(inputs.base_digest, &layout.work_dir);
    let fetched_base = run_command(plan, step, &base_fetch, None, ui, true)?;

    let mut problems = Vec::new();
    let held = digest::of_bytes(&fetched_pack.stdout);
    if held != inputs.manifest_digest {
        problems.push(format!(
            "the tag {} points at {held}, not at the manifest just pushed ({})",
            plan.target.version, inputs.manifest_digest
        ));
    }
    let expected = ExpectedLayer {
        title: &plan.target.archive_name(),
        digest: inputs.archive_digest,
        size: inputs.archive_size,
    };
    let layer = verify::check_pack(&fetched_pack.stdout, &expected)
        .map_err(|ps| problems.extend(ps.into_iter().map(|p| format!("pack: {p}"))))
        .ok();
    if let Err(ps) = verify::check_base(&fetched_base.stdout) {
        problems.extend(ps.into_iter().map(|p| format!("base path: {p}")));
    }
    match layer {
        Some(layer) if problems.is_empty() => {
            ui.done(
                step,
                started.elapsed(),
                "manifest shape, layer digest, size and title match",
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
            Err(failure.hint(
                "with ORAS newer than 1.0.0, packpush must be allowed to add --image-spec v1.0 \
                 (--allow-newer-oras); another push to the same tag at the same time also causes this",
            ))
        }
    }
}

/// Announces a step, runs its command, and reports the result.
fn run_step(
    plan: &Plan,
    step: &Step,
    command: &Command,
    secret: Option<&Secret>,
    ui: &Ui,
    capture: bool,
) -> Result<Outcome, Failure> {
    ui.announce(step, plan.steps.len());
    let outcome = run_command(plan, step, command, secret, ui, capture)?;
    ui.done(step, outcome.duration, "");
    Ok(outcome)
}

/// Runs one command of a step; a failure names the step, the command, the
/// exit status, the tail of stderr and hints.
fn run_command(
    plan: &Plan,
    step: &Step,
    command: &Command,
    secret: Option<&Secret>,
    ui: &Ui,
    capture: bool,
) -> Result<Outcome, Failure> {
    ui.command(command);
    let class = step.kind.failure_class();
    match run::run(command, secret, ui.echo(), capture, None) {
        Ok(outcome) if outcome.exit.success() => {
            ui.child_stderr(&outcome.stderr);
            Ok(outcome)
        }
        Ok(outcome) => {
            let mut failure = Failure::new(
                class,
                format!("step {} failed: {}", step.number, step.purpose),
            )
            .detail(format!("command: {}", command.shell_line(true)))
            .detail(format!("result: {}", outcome.exit.describe()));
            let tail = outcome.stderr_tail(8);
            if !tail.is_empty() {
                failure = failure.detail(format!("{} said:", command.display));
                for line in tail {
                    failure = failure.detail(format!("  {line}"));
                }
            }
            if step.kind != StepKind::Archive {
                let stderr = String::from_utf8_lossy(&outcome.stderr);
                for hint in oras::hints_for(&stderr, &plan.target.registry, &plan.target.project) {
                    failure = failure.hint(hint);
                }
            }
            if step.kind == StepKind::PushPack || step.kind == StepKind::Verify {
                failure = failure.detail(format!(
                    "registry state: {}",
                    step.kind.registry_state_if_stopped()
                ));
            }
            Err(failure)
        }
        Err(RunError::Spawn(e)) => Err(Failure::new(
            class,
            format!(
                "step {} ({}): could not start {}: {e}",
                step.number, step.purpose, command.program
            ),
        )),
        Err(RunError::Interrupted(sig)) => Err(Failure::new(
            Class::Interrupted(sig),
            format!(
                "interrupted by {} during step {} ({})",
                run::signal_name(sig),
                step.number,
                step.purpose
            ),
        )
        .detail(format!(
            "registry state: {}",
            step.kind.registry_state_if_stopped()
        ))
        .detail("temporary files were removed; your files are unchanged")),
        Err(RunError::TimedOut(limit)) => Err(Failure::new(
            class,
            format!(
                "step {} ({}) took longer than {} and was stopped",
                step.number,
                step.purpose,
                ui::seconds(limit)
            ),
        )
        .detail(format!(
            "registry state: {}",
            step.kind.registry_state_if_stopped()
        ))),
    }
}

fn report(pushed: &Pushed, plan: &Plan, ui: &Ui, archive_kept: bool) {
    let target = &plan.target;
    println!("pushed   {}", pushed.reference);
    println!("digest   {}", pushed.manifest_digest);
    ui.line(&format!(
        "layer    {} ({} bytes, title {})",
        pushed.layer.digest, pushed.layer.size, pushed.layer.title
    ));
    ui.line(&format!(
        "base     {}@{}",
        target.base_repository(),
        pushed.base_digest
    ));
    if archive_kept {
        ui.line(&format!("archive  {}", plan.archive));
    }
    ui.line("");
    ui.line("In Palette: Tenant Settings > Registries > OCI Registries > Add New OCI Registry");
    ui.line(&format!(
        "  Provider: Pack   Authentication: Basic   Endpoint: {}",
        target.registry
    ));
    ui.line(&format!("  Base Content Path: {}", target.project));
    ui.line(&format!(
        "Then: Profiles > Add Cluster Profile (type Add-on) > Add Pack > pick this registry: {} {} is listed.",
        target.name, target.version
    ));
}

fn create_private_file(path: &Utf8Path) -> Result<(), Failure> {
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

fn utf8(path: &std::path::Path) -> Result<Utf8PathBuf, Failure> {
    Utf8PathBuf::from_path_buf(path.to_path_buf()).map_err(|p| {
        Failure::new(
            Class::Other,
            format!("the path {} is not valid UTF-8", p.display()),
        )
    })
}

fn absolute(path: &Utf8Path) -> Result<Utf8PathBuf, Failure> {
    let abs = std::path::absolute(path)
        .map_err(|e| Failure::new(Class::Other, format!("cannot resolve {path}: {e}")))?;
    utf8(&abs)
}
