//! The push preflight: every input resolved and checked (tools, registry,
//! project, credentials, TLS, every pack) before anything touches the
//! network or disk, with all problems reported together.
//!
//! `check` reads as the list of checks; each one adds what it finds to one
//! accumulator ([`Checks`]).

mod list;
mod output_dir;
mod packs;
pub mod password;
mod provenance;
pub mod reproducible;

use camino::{Utf8Path, Utf8PathBuf};

pub use list::{ReadyList, check_list};
pub use password::Password;
pub use provenance::Provenance;

use crate::cache;
use crate::cli::{ConnectionArgs, PushArgs};
use crate::error::{Class, Failure, Problem, Warning, preflight_result};
use crate::fsutil;
use crate::pack::Source;
use crate::reference::{self, Target};
use crate::tools::oras::{self, CaFileProblem, Tls};
use crate::tools::{self, Found, FoundOras, FoundTar};

/// Where oras keeps the login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryConfig {
    /// A private file in the run's temporary folder, removed at the end.
    Private,
    /// `--registry-config FILE` (absolute): the user's own file, which stays.
    Given(Utf8PathBuf),
    /// `--skip-login` alone: oras's default store.
    OrasDefault,
}

impl RegistryConfig {
    /// The file oras is given with `--registry-config` by a run whose
    /// private folder is `work_dir`: the private file there, the user's
    /// file, or none (oras's own store).
    pub fn file(&self, work_dir: &Utf8Path) -> Option<Utf8PathBuf> {
        match self {
            RegistryConfig::Private => Some(work_dir.join("registry-config.json")),
            RegistryConfig::Given(file) => Some(file.clone()),
            RegistryConfig::OrasDefault => None,
        }
    }

    /// Makes the private file (`{}`, mode 0600) in `work_dir` when the run
    /// logs in there.
    pub fn prepare(&self, work_dir: &Utf8Path) -> Result<(), Failure> {
        match self {
            RegistryConfig::Private => {
                fsutil::create_private_file(&work_dir.join("registry-config.json"), b"{}")
            }
            RegistryConfig::Given(_) | RegistryConfig::OrasDefault => Ok(()),
        }
    }
}

/// One pack as the preflight resolved it.
#[derive(Clone, Debug)]
pub struct PackInput {
    pub target: Target,
    pub source: Source,
    /// A fixed `org.opencontainers.image.created` (`--reproducible`).
    pub created: Option<String>,
    /// The time every entry of this pack's archive gets (`--reproducible`).
    pub fixed_mtime: Option<u64>,
}

/// Everything the preflight established.
#[derive(Debug)]
pub struct Ready {
    pub oras: FoundOras,
    pub tar: FoundTar,
    pub registry: String,
    pub project: String,
    pub packs: Vec<PackInput>,
    /// `None` with `--skip-login`.
    pub username: Option<String>,
    pub password: Password,
    pub tls: Tls,
    pub registry_config: RegistryConfig,
    /// `--compress-program`, resolved.
    pub compress_program: Option<String>,
    /// `created` for the base-path artifact with `--reproducible`.
    pub base_created: Option<String>,
    /// The archive cache, when it is used.
    pub cache: Option<CacheSetup>,
    /// Doubts that do not stop the push.
    pub warnings: Vec<Warning>,
}

/// The archive cache of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheSetup {
    pub dir: Utf8PathBuf,
    /// What besides the files shapes every archive of the run (the tools
    /// and their variables; see `tools::archive_shapers`).
    pub shapers: String,
}

/// Why the preflight stopped, and the tools it found anyway (for reports).
#[derive(Debug)]
pub struct Rejected {
    pub failure: Failure,
    pub tools: Found,
}

/// What a caller already has, so the preflight does not ask again.
#[derive(Debug, Default)]
pub struct Known {
    /// The tools, found and probed once for the whole run.
    pub tools: Option<Found>,
    /// The password is at hand (the guide asked for it).
    pub password: bool,
}

/// Every problem and warning found, reported together.
#[derive(Debug, Default)]
pub struct Checks {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Warning>,
}

impl Checks {
    pub fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// The value, or its problem recorded.
    pub fn keep<T>(&mut self, result: Result<T, Problem>) -> Option<T> {
        result.map_err(|p| self.problems.push(p)).ok()
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.warnings.push(Warning::Note(text.into()));
    }
}

/// Checks every input of `packpush push`.
pub fn check(
    args: &PushArgs,
    provenance: &Provenance<'_>,
    known: Known,
) -> Result<Ready, Box<Rejected>> {
    let mut checks = Checks::default();
    let connection = &args.connection;
    let found = tools_for(args, known.tools, &mut checks);
    let registry = verify_registry(connection, provenance, &mut checks);
    let project = verify_project(connection, provenance, &mut checks);
    let packs = packs::resolve(args, provenance, &mut checks);
    let username = verify_username(connection, &mut checks);
    let password = if connection.skip_login || args.dry_run || known.password {
        Password::NotNeeded
    } else {
        password::source(connection, &mut checks.problems)
    };
    let tls = verify_tls(connection, &mut checks);
    let registry_config = verify_registry_config(connection, &mut checks);
    verify_temp_dir(&mut checks);
    let compress_program = args
        .compress_program
        .as_deref()
        .and_then(|program| checks.keep(tools::compress_program(program)));
    let mut inputs = targets(registry.as_deref(), project.as_deref(), packs, &mut checks);
    verify_each_pushed_once(&inputs, &mut checks);
    if let Some(dir) = &args.output_dir {
        output_dir::verify(dir, &inputs, &mut checks);
    }
    let base_created = args
        .reproducible
        .then(|| fix_times(&mut inputs, found.tar.as_ref(), &mut checks));

    if let Err(failure) = preflight_result(checks.problems) {
        return Err(Box::new(Rejected {
            failure,
            tools: found,
        }));
    }
    match (found.oras, found.tar, registry, project) {
        (Some(oras), Some(tar), Some(registry), Some(project)) => Ok(Ready {
            cache: cache_setup(args, &tar, compress_program.as_deref()),
            oras,
            tar,
            registry,
            project,
            packs: inputs,
            username,
            password,
            tls,
            registry_config,
            compress_program,
            base_created,
            warnings: checks.warnings,
        }),
        (oras, tar, _, _) => Err(Box::new(Rejected {
            failure: Failure::new(
                Class::Other,
                "the preflight stopped without naming a problem",
            ),
            tools: Found { oras, tar },
        })),
    }
}

/// The tools the caller found, or found now. GNU tar's -z runs gzip; only
/// folders are archived here.
fn tools_for(args: &PushArgs, known: Option<Found>, checks: &mut Checks) -> Found {
    known.unwrap_or_else(|| {
        let archives_folders = !args.pack_dirs.is_empty() || args.from.is_some();
        let needs_gzip = archives_folders && args.compress_program.is_none();
        tools::discover(
            &args.tools,
            needs_gzip,
            args.limits.timeout.0,
            &mut checks.problems,
        )
    })
}

/// A value that must be given, by a flag or its environment variable.
fn required(
    value: &Option<String>,
    flag: &str,
    env: &str,
    what: &str,
    checks: &mut Checks,
) -> Option<String> {
    if value.is_none() {
        checks.problem(Problem::new(
            format!("{what} is missing"),
            format!("pass {flag} or set the environment variable {env}"),
        ));
    }
    value.clone()
}

fn verify_registry(
    args: &ConnectionArgs,
    provenance: &Provenance<'_>,
    checks: &mut Checks,
) -> Option<String> {
    let registry = required(
        &args.target.registry,
        "--registry",
        "HARBOR_ADDRESS",
        "the registry host",
        checks,
    )?;
    let source = provenance.describe("registry", "--registry", "HARBOR_ADDRESS");
    checks.keep(reference::check_registry(&registry, &source));
    Some(registry)
}

fn verify_project(
    args: &ConnectionArgs,
    provenance: &Provenance<'_>,
    checks: &mut Checks,
) -> Option<String> {
    let project = required(
        &args.target.project,
        "--project",
        "HARBOR_PROJECT",
        "the Harbor project",
        checks,
    )?;
    let source = provenance.describe("project", "--project", "HARBOR_PROJECT");
    checks.keep(reference::check_component(&project, "project", &source));
    Some(project)
}

fn verify_username(args: &ConnectionArgs, checks: &mut Checks) -> Option<String> {
    if args.skip_login {
        return None;
    }
    let user = required(
        &args.target.username,
        "--username",
        "HARBOR_USERNAME",
        "the registry user name",
        checks,
    );
    if user.as_deref().is_some_and(|u| u.trim().is_empty()) {
        checks.problem(Problem::new(
            "the user name is empty",
            "pass --username (or set HARBOR_USERNAME)",
        ));
    }
    user
}

fn verify_tls(args: &ConnectionArgs, checks: &mut Checks) -> Tls {
    let tls = Tls::given(&args.target.tls).unwrap_or(Tls::Verify);
    let Tls::CaFile(ca) = tls else {
        return tls;
    };
    match oras::check_ca_file(&ca) {
        Ok(()) => {}
        Err(CaFileProblem::NoCertificate) => checks.problem(Problem::new(
            format!("--ca-file {ca} holds no PEM certificate"),
            "pass the registry's CA certificate in PEM form (a file with -----BEGIN CERTIFICATE-----)",
        )),
        Err(CaFileProblem::Unreadable(e)) => checks.problem(Problem::new(
            format!("--ca-file {ca} cannot be read: {e}"),
            "pass the path of the registry's CA certificate (PEM)",
        )),
    }
    Tls::CaFile(fsutil::absolute(&ca).unwrap_or(ca))
}

fn verify_registry_config(args: &ConnectionArgs, checks: &mut Checks) -> RegistryConfig {
    let Some(config) = &args.registry_config else {
        return if args.skip_login {
            RegistryConfig::OrasDefault
        } else {
            RegistryConfig::Private
        };
    };
    let parent = config
        .parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."));
    if !parent.is_dir() {
        checks.problem(Problem::new(
            format!("the folder of --registry-config {config} does not exist"),
            format!("create {parent} first, or leave --registry-config out to use a private temporary file"),
        ));
    }
    RegistryConfig::Given(fsutil::absolute(config).unwrap_or_else(|_| config.clone()))
}

/// The temporary folder (TMPDIR, else /tmp) holds the run's private folder
/// (the login, the manifests) and, without `--output-dir`, the archives:
/// it must be a folder this user can write to. Checked for `--dry-run`
/// too, which creates nothing but plans a run that would.
fn verify_temp_dir(checks: &mut Checks) {
    let tmp = std::env::temp_dir();
    let named = match std::env::var_os("TMPDIR") {
        Some(_) => format!("the temporary folder {} (TMPDIR)", tmp.display()),
        None => format!("the temporary folder {}", tmp.display()),
    };
    let fix = "point TMPDIR at a folder you can write to (e.g. mkdir -p ~/tmp && export \
               TMPDIR=~/tmp), or unset TMPDIR to use /tmp";
    let problem = match std::fs::metadata(&tmp) {
        Err(e) => format!("{named} cannot be used: {e}"),
        Ok(meta) if !meta.is_dir() => format!("{named} is not a folder"),
        Ok(_) => match Utf8Path::from_path(&tmp).map(fsutil::writable) {
            Some(Ok(())) => return,
            Some(Err(e)) => format!("{named} is not writable: {e}"),
            None => format!("{named} is not a UTF-8 path"),
        },
    };
    checks.problem(Problem::new(problem, fix));
}

/// The packs with their targets, once the registry and project are known.
fn targets(
    registry: Option<&str>,
    project: Option<&str>,
    packs: Vec<packs::Resolved>,
    checks: &mut Checks,
) -> Vec<PackInput> {
    let (Some(registry), Some(project)) = (registry, project) else {
        return Vec::new();
    };
    let mut inputs = Vec::new();
    for pack in packs {
        let target = Target {
            registry: registry.to_string(),
            project: project.to_string(),
            name: pack.name,
            version: pack.version,
        };
        checks.keep(target.check_length());
        inputs.push(PackInput {
            target,
            source: pack.source,
            created: None,
            fixed_mtime: None,
        });
    }
    inputs
}

/// Two sources for one reference would overwrite each other.
fn verify_each_pushed_once(inputs: &[PackInput], checks: &mut Checks) {
    let mut seen = std::collections::BTreeMap::new();
    for input in inputs {
        let reference = input.target.pack_reference();
        if let Some(other) = seen.insert(reference.clone(), input.source.describe()) {
            checks.problem(Problem::new(
                format!("{reference} would be pushed twice: from {other} and from {}", input.source.describe()),
                "pass each pack once; two folders with the same name and version are two different packs",
            ));
        }
    }
}

/// The archive cache: `--cache-dir`, else the default folder; none with
/// `--no-cache`, or when the same files may give another archive on the
/// next run (see `tools::archive_shapers`).
fn cache_setup(
    args: &PushArgs,
    tar: &FoundTar,
    compress_program: Option<&str>,
) -> Option<CacheSetup> {
    if args.no_cache {
        return None;
    }
    let dir = match &args.cache_dir {
        Some(dir) => fsutil::absolute(dir).ok()?,
        None => cache::default_dir(
            std::env::var("XDG_CACHE_HOME").ok().as_deref(),
            std::env::var("HOME").ok().as_deref(),
        )?,
    };
    let shapers = tools::archive_shapers(tar, compress_program, args.reproducible)?;
    Some(CacheSetup { dir, shapers })
}

/// `--reproducible`: GNU tar for folders, and the fixed times.
fn fix_times(inputs: &mut [PackInput], tar: Option<&FoundTar>, checks: &mut Checks) -> String {
    if let Some(tar) = tar
        && !tools::tar::supports_reproducible(&tar.version)
        && inputs.iter().any(|i| matches!(i.source, Source::Folder(_)))
    {
        checks.problem(Problem::new(
            format!("--reproducible needs GNU tar 1.28 or later; {} is '{}'", tar.program.path, tar.version),
            "install GNU tar (apt-get install tar) and pass it with --tar, or leave out --reproducible",
        ));
    }
    let source_date_epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    reproducible::fix_times(inputs, source_date_epoch.as_deref(), &mut checks.problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::PackDir;

    fn resolved(folder: &str, name: &str, version: &str) -> packs::Resolved {
        packs::Resolved {
            source: Source::Folder(PackDir {
                given: folder.into(),
                path: format!("/src/{folder}").into(),
                folder_name: folder.into(),
                parent: "/src".into(),
            }),
            name: name.into(),
            version: version.into(),
        }
    }

    #[test]
    fn targets_wait_for_the_registry_and_the_project() {
        let mut checks = Checks::default();
        let none = targets(
            None,
            Some("proj"),
            vec![resolved("a", "a", "1.0.0")],
            &mut checks,
        );
        assert!(none.is_empty());
        let inputs = targets(
            Some("r:5000"),
            Some("proj"),
            vec![resolved("a", "a", "1.0.0"), resolved("b", "b", "2.0.0")],
            &mut checks,
        );
        let references: Vec<String> = inputs.iter().map(|i| i.target.pack_reference()).collect();
        assert_eq!(
            references,
            [
                "r:5000/proj/spectro-packs/archive/a:1.0.0",
                "r:5000/proj/spectro-packs/archive/b:2.0.0"
            ]
        );
        assert!(checks.problems.is_empty());
    }

    #[test]
    fn a_reference_given_by_two_sources_is_one_problem_naming_both() {
        let mut checks = Checks::default();
        let inputs = targets(
            Some("r:5000"),
            Some("proj"),
            vec![
                resolved("a", "a", "1.0.0"),
                resolved("a-copy", "a", "1.0.0"),
                resolved("b", "b", "1.0.0"),
            ],
            &mut checks,
        );
        verify_each_pushed_once(&inputs, &mut checks);
        assert_eq!(checks.problems.len(), 1, "{:?}", checks.problems);
        let problem = &checks.problems[0];
        assert_eq!(
            problem.what,
            "r:5000/proj/spectro-packs/archive/a:1.0.0 would be pushed twice: from /src/a and from /src/a-copy"
        );
        assert!(problem.fix.contains("pass each pack once"));
    }
}
