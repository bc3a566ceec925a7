//! The packs of a push: the folders given and found under `--from`, the
//! archives carried in, each checked against the pack rules, with the name
//! and version its pack.json declares (which `--name`/`--version` must
//! match for a single pack).

use camino::Utf8PathBuf;

use super::{Checks, Provenance};
use crate::cli::PushArgs;
use crate::error::{Problem, Warning};
use crate::pack::{self, Source, Unusable, Walk};
use crate::reference;

/// One pack, checked: where it is, and its name and version.
#[derive(Debug)]
pub struct Resolved {
    pub source: Source,
    pub name: String,
    pub version: String,
}

/// Every pack of the run, checked; the problems go to `checks`.
pub fn resolve(args: &PushArgs, provenance: &Provenance<'_>, checks: &mut Checks) -> Vec<Resolved> {
    let mut folders: Vec<Utf8PathBuf> = args.pack_dirs.clone();
    if let Some(root) = &args.from {
        folders.extend(checks.keep(from(root)).unwrap_or_default());
    }
    let count = folders.len() + args.archive.len();
    let identity = Identity {
        args,
        provenance,
        single: count == 1,
    };
    if !identity.single {
        identity.verify_not_given(count, checks);
    }
    let mut packs = Vec::new();
    for folder in &folders {
        packs.extend(folder_pack(folder, &identity, checks));
    }
    for file in &args.archive {
        packs.extend(archive_pack(file, &identity, checks));
    }
    packs
}

/// The pack folders under `--from DIR`.
fn from(root: &camino::Utf8Path) -> Result<Vec<Utf8PathBuf>, Problem> {
    if !root.is_dir() {
        return Err(Problem::new(
            format!("--from {root} is not a folder"),
            "pass the folder that holds your pack folders",
        ));
    }
    let walk = Walk {
        max_depth: None,
        skip_hidden: false,
    };
    let (found, unusable) = pack::find_pack_folders(root, walk);
    match unusable.into_iter().next() {
        Some(Unusable::Unreadable(e)) => Err(Problem::new(
            format!("--from {root}: cannot read {e}"),
            "make the folder readable",
        )),
        Some(Unusable::NotUtf8(path)) => Err(Problem::new(
            format!("{} is not valid UTF-8", path.display()),
            "rename it",
        )),
        None if found.is_empty() => Err(Problem::new(
            format!("--from {root}: no pack folder (a folder holding pack.json) was found"),
            "check the folder, or pass pack folders directly",
        )),
        None => Ok(found),
    }
}

fn folder_pack(
    folder: &Utf8PathBuf,
    identity: &Identity<'_>,
    checks: &mut Checks,
) -> Option<Resolved> {
    let dir = checks.keep(pack::locate(folder))?;
    let json = match pack::read_pack_json(&dir.path) {
        Ok(json) => json,
        Err(problems) => {
            checks.problems.extend(problems);
            return None;
        }
    };
    if resolves_elsewhere(folder) {
        checks.warn(format!(
            "PACK_DIR '{folder}' is the folder {}: the archive holds it as '{}/'",
            dir.path, dir.folder_name
        ));
    }
    take_findings(
        &dir.folder_name,
        pack::validate(&dir, &json),
        identity.args,
        checks,
    );
    let (name, version) = identity.of(&json, checks)?;
    Some(Resolved {
        source: Source::Folder(dir),
        name,
        version,
    })
}

/// A PACK_DIR that is a link or `.`: the archive holds another name than typed.
fn resolves_elsewhere(folder: &Utf8PathBuf) -> bool {
    folder
        .as_std_path()
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
        || folder.as_str().trim_end_matches('/').ends_with("/.")
        || folder.as_str() == "."
}

fn archive_pack(
    file: &Utf8PathBuf,
    identity: &Identity<'_>,
    checks: &mut Checks,
) -> Option<Resolved> {
    let (archive, json, findings) = match pack::inspect_archive(file) {
        Ok(found) => found,
        Err(problems) => {
            checks.problems.extend(problems);
            return None;
        }
    };
    take_findings(&archive.file_name, findings, identity.args, checks);
    let (name, version) = identity.of(&json, checks)?;
    Some(Resolved {
        source: Source::Archive(archive),
        name,
        version,
    })
}

/// A pack's rule findings: warnings are said; errors stop the push unless
/// `--skip-pack-checks`, which turns them into warnings that say so.
fn take_findings(label: &str, findings: pack::Findings, args: &PushArgs, checks: &mut Checks) {
    for warning in &findings.warnings {
        checks.warn(format!("{label}: {warning}"));
    }
    if args.skip_pack_checks {
        for problem in findings.errors {
            checks
                .warnings
                .push(Warning::PushedAgainstRule(problem.what));
        }
    } else {
        checks.problems.extend(findings.errors);
    }
}

/// The rules of a pack's name and version.
struct Identity<'a> {
    args: &'a PushArgs,
    provenance: &'a Provenance<'a>,
    /// The run pushes one pack: `--name`/`--version` apply to it.
    single: bool,
}

impl Identity<'_> {
    /// `--name`/`--version` apply to a single pack: given for several, the
    /// flags are refused and the variables ignored (with a warning).
    fn verify_not_given(&self, count: usize, checks: &mut Checks) {
        for (id, flag, env, given) in [
            ("name", "--name", "NAME", &self.args.name),
            ("version", "--version", "VERSION", &self.args.version),
        ] {
            if given.is_none() {
                continue;
            }
            if self.provenance.from_env(id) {
                checks.warn(format!(
                    "the environment variable {env} is ignored: it only applies to a push of a single pack"
                ));
            } else {
                checks.problem(Problem::new(
                    format!("{flag} applies to a single pack, but {count} packs are being pushed"),
                    format!("leave {flag} out: every pack's pack.json says its own {id}"),
                ));
            }
        }
    }

    /// The pack's name and version: pack.json's, which a flag or variable
    /// must match for a single pack; both must be usable in a reference.
    fn of(&self, json: &pack::PackJson, checks: &mut Checks) -> Option<(String, String)> {
        let before = checks.problems.len();
        if self.single {
            self.verify_matches(
                "name",
                "--name",
                "NAME",
                self.args.name.as_deref(),
                &json.name,
                checks,
            );
            self.verify_matches(
                "version",
                "--version",
                "VERSION",
                self.args.version.as_deref(),
                &json.version,
                checks,
            );
        }
        checks.keep(reference::check_component(
            &json.name,
            "pack name",
            "from pack.json \"name\"",
        ));
        checks.keep(reference::check_tag(
            &json.version,
            "from pack.json \"version\"",
        ));
        (checks.problems.len() == before).then(|| (json.name.clone(), json.version.clone()))
    }

    /// A name or version given on the command line or in the environment
    /// must equal pack.json's.
    fn verify_matches(
        &self,
        key: &str,
        flag: &str,
        env: &str,
        given: Option<&str>,
        from_pack: &str,
        checks: &mut Checks,
    ) {
        let Some(given) = given else { return };
        if given == from_pack {
            return;
        }
        let source = self.provenance.describe(key, flag, env);
        let stray = if self.provenance.from_env(key) {
            format!(
                "; if {env} was not meant for packpush (some shells set {env} on their own), \
                 unset it or pass {flag} {from_pack}"
            )
        } else {
            String::new()
        };
        checks.problem(Problem::new(
            format!(
                "the {key} '{given}' ({source}) does not match pack.json \"{key}\": '{from_pack}'"
            ),
            format!(
                "Palette requires them to be equal: fix pack.json or pass {flag} {from_pack}{stray}"
            ),
        ));
    }
}
