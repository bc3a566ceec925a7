//! The push preflight: every input resolved and checked (tools, registry,
//! project, credentials, TLS, every pack) before anything touches the
//! network or disk, with all problems reported together.

use std::io::{IsTerminal, Read};

use camino::{Utf8Path, Utf8PathBuf};
use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::cli::PushArgs;
use crate::error::{Class, Failure, Problem, preflight_result};
use crate::oras::Tls;
use crate::pack;
use crate::plan::PackInput;
use crate::preflight::{self, FoundOras, FoundTar};
use crate::reference::{self, Target};
use crate::secret::Secret;
use crate::sources::{self, Source};
use crate::tar;

/// Where each value came from, so messages can say "the environment
/// variable NAME" rather than just "the name".
#[derive(Debug, Default)]
pub struct Sources<'a> {
    matches: Option<&'a ArgMatches>,
}

impl<'a> Sources<'a> {
    pub fn new(matches: Option<&'a ArgMatches>) -> Self {
        Sources { matches }
    }

    fn given_by_env(&self, id: &str) -> bool {
        matches!(
            self.matches.and_then(|m| m.value_source(id)),
            Some(ValueSource::EnvVariable)
        )
    }

    /// "from --name" or "from the environment variable NAME".
    pub fn describe(&self, id: &str, flag: &str, env: &str) -> String {
        if self.given_by_env(id) {
            format!("from the environment variable {env}")
        } else {
            format!("from {flag}")
        }
    }
}

/// How the password will be had.
#[derive(Debug)]
pub enum Password {
    NotNeeded,
    Given(Secret),
    /// Asked for once everything else checked out.
    Prompt,
}

/// Everything the preflight established.
#[derive(Debug)]
pub struct Ready {
    pub oras: FoundOras,
    pub tar: FoundTar,
    pub registry: String,
    pub project: String,
    pub packs: Vec<PackInput>,
    pub username: Option<String>,
    pub password: Password,
    pub tls: Tls,
    pub tar_options: tar::Options,
    /// `created` for the base-path artifact with `--reproducible`.
    pub base_created: Option<String>,
    /// Doubts that do not stop the push.
    pub warnings: Vec<String>,
}

/// The tools found, even when other checks failed (for reports).
#[derive(Debug, Default)]
pub struct Partial {
    pub oras: Option<FoundOras>,
    pub tar: Option<FoundTar>,
}

/// `password_supplied`: the caller already has the password (the guided
/// workflow asked for it), so none is read or asked for here.
pub fn check(
    args: &PushArgs,
    sources: &Sources<'_>,
    password_supplied: bool,
) -> Result<Ready, Box<(Failure, Partial)>> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    // GNU tar's -z runs gzip; only folders are archived here.
    let archives_folders = !args.pack_dirs.is_empty() || args.from.is_some();
    let (oras, tar) = preflight::check_tools(
        &args.tools,
        archives_folders && args.compress_program.is_none(),
        &mut problems,
    );

    let registry = required(
        &args.registry,
        "--registry",
        "HARBOR_ADDRESS",
        "the registry host",
        &mut problems,
    );
    if let Some(registry) = &registry
        && let Err(p) = reference::check_registry(
            registry,
            &sources.describe("registry", "--registry", "HARBOR_ADDRESS"),
        )
    {
        problems.push(p);
    }
    let project = required(
        &args.project,
        "--project",
        "HARBOR_PROJECT",
        "the Harbor project",
        &mut problems,
    );
    if let Some(project) = &project
        && let Err(p) = reference::check_component(
            project,
            "project",
            &sources.describe("project", "--project", "HARBOR_PROJECT"),
        )
    {
        problems.push(p);
    }

    let packs = resolve_packs(args, sources, &mut problems, &mut warnings);

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
    let password = if args.skip_login || args.dry_run || password_supplied {
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

    let mut tar_options = tar::Options::default();
    if let Some(program) = &args.compress_program {
        match which::which(program) {
            Ok(path) => {
                let path = path.to_string_lossy().into_owned();
                if tar::safe_for_shell(&path) {
                    tar_options.compress_program = Some(path);
                } else {
                    problems.push(Problem::new(
                        format!("--compress-program resolves to '{path}', which tar would have to pass through a shell"),
                        "install the program in a folder whose path has only letters, digits and / . _ - +",
                    ));
                }
            }
            Err(_) => problems.push(Problem::new(
                format!("--compress-program '{program}' was not found"),
                "install it (e.g. apt-get install pigz) or pass its full path",
            )),
        }
    }

    // Packs, with their targets, once the registry and project are known.
    let mut inputs = Vec::new();
    if let (Some(registry), Some(project)) = (&registry, &project) {
        for (source, name, version) in packs {
            let target = Target {
                registry: registry.clone(),
                project: project.clone(),
                name,
                version,
            };
            if let Err(p) = target.check_length() {
                problems.push(p);
            }
            inputs.push(PackInput {
                target,
                source,
                created: None,
                fixed_mtime: None,
            });
        }
    }
    let mut seen = std::collections::BTreeMap::new();
    for input in &inputs {
        let reference = input.target.pack_reference();
        if let Some(other) = seen.insert(reference.clone(), input.source.describe()) {
            problems.push(Problem::new(
                format!("{reference} would be pushed twice: from {other} and from {}", input.source.describe()),
                "pass each pack once; two folders with the same name and version are two different packs",
            ));
        }
    }
    if let Some(dir) = &args.output_dir {
        check_output_dir(dir, &inputs, &mut problems);
    }

    let mut base_created = None;
    if args.reproducible {
        if let Some(tar) = &tar
            && !tar::supports_reproducible(&tar.version)
            && inputs.iter().any(|i| matches!(i.source, Source::Folder(_)))
        {
            problems.push(Problem::new(
                format!("--reproducible needs GNU tar 1.28 or later; {} is '{}'", tar.program.path, tar.version),
                "install GNU tar (apt-get install tar) and pass it with --tar, or leave out --reproducible",
            ));
        }
        let mut newest = 0;
        for input in &mut inputs {
            let epoch = match &input.source {
                Source::Folder(dir) => sources::reproducible_epoch(&dir.path),
                Source::Archive(archive) => sources::reproducible_epoch(&archive.path),
            };
            match epoch {
                Ok(epoch) => {
                    newest = newest.max(epoch);
                    // Each pack's own time: its archive must not depend on
                    // which other packs share the run.
                    input.created = Some(sources::rfc3339(epoch));
                    input.fixed_mtime = Some(epoch);
                }
                Err(p) => problems.push(p),
            }
        }
        base_created = Some(sources::rfc3339(newest));
    }

    if let Err(failure) = preflight_result(problems) {
        return Err(Box::new((failure, Partial { oras, tar })));
    }
    match (oras, tar, registry, project) {
        (Some(oras), Some(tar), Some(registry), Some(project)) => Ok(Ready {
            oras,
            tar,
            registry,
            project,
            packs: inputs,
            username,
            password,
            tls,
            tar_options,
            base_created,
            warnings,
        }),
        (oras, tar, _, _) => Err(Box::new((
            Failure::new(
                Class::Other,
                "the preflight stopped without naming a problem",
            ),
            Partial { oras, tar },
        ))),
    }
}

/// Every pack of the run: (source, name, version), checked.
fn resolve_packs(
    args: &PushArgs,
    sources: &Sources<'_>,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) -> Vec<(Source, String, String)> {
    let mut folders: Vec<Utf8PathBuf> = args.pack_dirs.clone();
    if let Some(root) = &args.from {
        match sources::find_packs(root) {
            Ok(found) => folders.extend(found),
            Err(p) => problems.push(p),
        }
    }
    let count = folders.len() + args.archive.len();
    let single = count == 1;
    if !single {
        for (id, flag, env) in [
            ("name", "--name", "NAME"),
            ("version", "--version", "VERSION"),
        ] {
            let given = if id == "name" {
                &args.name
            } else {
                &args.version
            };
            if given.is_some() {
                if sources.given_by_env(id) {
                    warnings.push(format!(
                        "the environment variable {env} is ignored: it only applies to a push of a single pack"
                    ));
                } else {
                    problems.push(Problem::new(
                        format!(
                            "{flag} applies to a single pack, but {count} packs are being pushed"
                        ),
                        format!("leave {flag} out: every pack's pack.json says its own {id}"),
                    ));
                }
            }
        }
    }

    let mut packs = Vec::new();
    for folder in &folders {
        let Some(dir) = pack::locate(folder).map_err(|p| problems.push(p)).ok() else {
            continue;
        };
        let Some(json) = pack::read_pack_json(&dir.path)
            .map_err(|ps| problems.extend(ps))
            .ok()
        else {
            continue;
        };
        if folder
            .as_std_path()
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
            || folder.as_str().trim_end_matches('/').ends_with("/.")
            || folder.as_str() == "."
        {
            warnings.push(format!(
                "PACK_DIR '{folder}' is the folder {}: the archive holds it as '{}/'",
                dir.path, dir.folder_name
            ));
        }
        let findings = pack::validate(&dir, &json);
        take_findings(
            &dir.folder_name,
            findings,
            args.skip_pack_checks,
            problems,
            warnings,
        );
        if let Some((name, version)) = check_identity(args, sources, single, &json, problems) {
            packs.push((Source::Folder(dir), name, version));
        }
    }
    for file in &args.archive {
        match sources::inspect_archive(file) {
            Ok((archive, json, findings)) => {
                take_findings(
                    &archive.file_name,
                    findings,
                    args.skip_pack_checks,
                    problems,
                    warnings,
                );
                if let Some((name, version)) =
                    check_identity(args, sources, single, &json, problems)
                {
                    packs.push((Source::Archive(archive), name, version));
                }
            }
            Err(ps) => problems.extend(ps),
        }
    }
    packs
}

/// A pack's rule findings: warnings are said; errors stop the push unless
/// `--skip-pack-checks`, which turns them into warnings that say so.
fn take_findings(
    label: &str,
    findings: pack::Findings,
    skip_pack_checks: bool,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) {
    warnings.extend(findings.warnings.iter().map(|w| format!("{label}: {w}")));
    if skip_pack_checks {
        for problem in &findings.errors {
            warnings.push(format!(
                "--skip-pack-checks: pushing although {}",
                problem.what
            ));
        }
    } else {
        problems.extend(findings.errors);
    }
}

/// The pack's name and version: pack.json's, which a flag or variable must
/// match for a single pack; both must be usable in a reference.
fn check_identity(
    args: &PushArgs,
    sources: &Sources<'_>,
    single: bool,
    json: &pack::PackJson,
    problems: &mut Vec<Problem>,
) -> Option<(String, String)> {
    let before = problems.len();
    if single {
        resolve_field(
            args.name.as_deref(),
            &json.name,
            "name",
            "--name",
            "NAME",
            &sources.describe("name", "--name", "NAME"),
            problems,
        );
        resolve_field(
            args.version.as_deref(),
            &json.version,
            "version",
            "--version",
            "VERSION",
            &sources.describe("version", "--version", "VERSION"),
            problems,
        );
    }
    if let Err(p) = reference::check_component(&json.name, "pack name", "from pack.json \"name\"") {
        problems.push(p);
    }
    if let Err(p) = reference::check_tag(&json.version, "from pack.json \"version\"") {
        problems.push(p);
    }
    (problems.len() == before).then(|| (json.name.clone(), json.version.clone()))
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

/// A name or version given on the command line or in the environment must
/// equal pack.json's.
fn resolve_field(
    given: Option<&str>,
    from_pack: &str,
    key: &str,
    flag: &str,
    env: &str,
    source: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(given) = given else { return };
    if given == from_pack {
        return;
    }
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
}

fn password_source(args: &PushArgs, problems: &mut Vec<Problem>) -> Password {
    let pipe_hint = "pipe the password into packpush, e.g. printf '%s' \"$PASS\" | packpush push ... --password-stdin";
    if args.password_stdin {
        // Read into a buffer that is wiped when dropped; the password then
        // moves into the Secret without another copy.
        let mut text = zeroize::Zeroizing::new(String::new());
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            problems.push(Problem::new(
                format!("--password-stdin: standard input cannot be read: {e}"),
                pipe_hint,
            ));
            return Password::NotNeeded;
        }
        // One trailing newline (as `echo` adds) is not part of the password.
        let mut len = text.len();
        if text[..len].ends_with('\n') {
            len -= 1;
            if text[..len].ends_with('\r') {
                len -= 1;
            }
        }
        text.truncate(len);
        let trimmed = std::mem::take(&mut *text);
        let secret = Secret::new(trimmed);
        if secret.is_empty() {
            problems.push(Problem::new(
                "--password-stdin: standard input held no password",
                pipe_hint,
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
    let why = if args.non_interactive {
        "--non-interactive is set"
    } else {
        "standard input is not a terminal"
    };
    problems.push(Problem::new(
        format!("no password: {why}, so packpush cannot ask for it"),
        "pass --password-stdin with the password on standard input, or set HARBOR_PASSWORD, \
         or use --skip-login with stored credentials",
    ));
    Password::NotNeeded
}

/// Asks for the password at the terminal (hidden).
pub fn prompt_password(username: &str, registry: &str) -> Result<Secret, Failure> {
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
    Tls::CaFile(absolute(ca).unwrap_or_else(|_| ca.clone()))
}

fn check_output_dir(dir: &Utf8Path, packs: &[PackInput], problems: &mut Vec<Problem>) {
    // The archive must not end up inside the folder tar is archiving.
    if let Ok(out) = absolute(dir) {
        let out = std::fs::canonicalize(&out)
            .ok()
            .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
            .unwrap_or(out);
        for input in packs {
            if let Source::Folder(pack) = &input.source
                && out.starts_with(&pack.path)
            {
                problems.push(Problem::new(
                    format!("--output-dir {dir} is inside the pack folder {}: tar would archive the archive", pack.path),
                    "pass an --output-dir outside the pack folder",
                ));
            }
        }
    }
    if dir.exists() && !dir.is_dir() {
        problems.push(Problem::new(
            format!("--output-dir {dir} is not a folder"),
            "pass a folder (it is created if missing)",
        ));
        return;
    }
    for input in packs
        .iter()
        .filter(|i| matches!(i.source, Source::Folder(_)))
    {
        let archive = dir.join(input.target.archive_name());
        if archive.symlink_metadata().is_ok() {
            problems.push(Problem::new(
                format!("{archive} already exists; packpush never overwrites a file"),
                format!("move or remove {archive}, or pass another --output-dir"),
            ));
        }
    }
    // The folder, or the nearest folder above it that exists (where it will
    // be created), must be writable. Asked of the kernel, not by writing.
    let existing = dir
        .ancestors()
        .find(|a| a.as_str().is_empty() || a.is_dir());
    if let Some(existing) = existing.filter(|a| !a.as_str().is_empty())
        && let Err(e) = writable(existing)
    {
        let what = if existing == dir {
            format!("--output-dir {dir} is not writable: {e}")
        } else {
            format!("--output-dir {dir} cannot be created: {existing} is not writable: {e}")
        };
        problems.push(Problem::new(what, "pass an --output-dir you can write to"));
    }
}

/// access(2) with W_OK: permission bits for ordinary users, and a read-only
/// file system for everyone (root included).
#[allow(unsafe_code)]
fn writable(dir: &Utf8Path) -> std::io::Result<()> {
    let path = std::ffi::CString::new(dir.as_str()).map_err(std::io::Error::other)?;
    // SAFETY: a valid NUL-terminated path; access(2) only reads it.
    let result = unsafe { libc::access(path.as_ptr(), libc::W_OK) };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

pub fn absolute(path: &Utf8Path) -> Result<Utf8PathBuf, Failure> {
    let abs = std::path::absolute(path)
        .map_err(|e| Failure::new(Class::Other, format!("cannot resolve {path}: {e}")))?;
    Utf8PathBuf::from_path_buf(abs).map_err(|p| {
        Failure::new(
            Class::Other,
            format!("the path {} is not valid UTF-8", p.display()),
        )
    })
}
