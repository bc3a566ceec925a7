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
        folders.extend(from(root, checks).unwrap_or_default());
    }
    let folders = once(folders, "folder", checks);
    let archives = once(args.archive.clone(), "file", checks);
    let identity = Identity {
        args,
        provenance,
        single: args.from.is_none() && folders.len() + archives.len() == 1,
    };
    if !identity.single {
        identity.verify_not_given(checks);
    }
    let mut packs = Vec::new();
    for folder in &folders {
        let origin = if args.pack_dirs.contains(folder) {
            "PACK_DIR "
        } else {
            ""
        };
        packs.extend(folder_pack(folder, origin, &identity, checks));
    }
    for file in &archives {
        packs.extend(archive_pack(file, &identity, checks));
    }
    packs
}

/// Each folder or file once: the same one named twice (`A A`, `A ./A/`, a
/// link and its target, a PACK_DIR that `--from` finds too) is used once,
/// and said. What cannot be resolved stays, for its own check to report.
fn once(paths: Vec<Utf8PathBuf>, what: &str, checks: &mut Checks) -> Vec<Utf8PathBuf> {
    let mut seen: Vec<(std::path::PathBuf, Utf8PathBuf)> = Vec::new();
    let mut unique = Vec::new();
    for path in paths {
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone().into());
        match seen.iter().find(|(k, _)| *k == key) {
            Some((_, first)) if *first == path => {
                checks.warn(format!("'{path}' was given twice: it is pushed once"));
            }
            Some((_, first)) => checks.warn(format!(
                "'{path}' and '{first}' are the same {what}: it is pushed once"
            )),
            None => {
                seen.push((key, path.clone()));
                unique.push(path);
            }
        }
    }
    unique
}

/// The pack folders under `--from DIR`. Hidden folders are passed over (as
/// git and most tools do), and the pack folders inside them are said.
fn from(root: &camino::Utf8Path, checks: &mut Checks) -> Option<Vec<Utf8PathBuf>> {
    if !root.is_dir() {
        checks.problem(Problem::new(
            format!("--from {root} is not a folder"),
            "pass the folder that holds your pack folders",
        ));
        return None;
    }
    let walk = Walk {
        max_depth: None,
        skip_hidden: true,
    };
    let found = pack::find_pack_folders(root, walk);
    if let Some(problem) = found.unusable.into_iter().next().map(|u| unusable(root, u)) {
        checks.problem(problem);
        return None;
    }
    let hidden = hidden_packs(&found.hidden);
    let skipped = skipped_hidden(root, &hidden);
    if found.folders.is_empty() {
        checks.problem(Problem::new(
            format!(
                "--from {root}: no pack folder (a folder holding pack.json) was found{skipped}"
            ),
            "check the folder, or pass pack folders directly",
        ));
        return None;
    }
    if !hidden.is_empty() {
        checks.warn(format!("--from {root}{skipped}"));
    }
    Some(found.folders)
}

/// The pack folders inside the hidden folders a walk passed over.
fn hidden_packs(hidden: &[Utf8PathBuf]) -> Vec<Utf8PathBuf> {
    let everything = Walk {
        max_depth: None,
        skip_hidden: false,
    };
    hidden
        .iter()
        .flat_map(|folder| pack::find_pack_folders(folder, everything).folders)
        .collect()
}

/// ": skipped 2 pack folders inside hidden folders (.a/x, .b/y); pass one
/// as PACK_DIR to push it", or nothing.
fn skipped_hidden(root: &camino::Utf8Path, hidden: &[Utf8PathBuf]) -> String {
    if hidden.is_empty() {
        return String::new();
    }
    let named: Vec<&str> = hidden
        .iter()
        .map(|p| p.strip_prefix(root).unwrap_or(p).as_str())
        .collect();
    let (count, noun) = match named.len() {
        1 => ("1".to_string(), "pack folder"),
        n => (n.to_string(), "pack folders"),
    };
    let listed = if named.len() > 3 {
        format!("{}, ...", named[..3].join(", "))
    } else {
        named.join(", ")
    };
    format!(
        ": skipped {count} {noun} inside hidden folders ({listed}); pass one as PACK_DIR to push it"
    )
}

fn unusable(root: &camino::Utf8Path, unusable: Unusable) -> Problem {
    match unusable {
        Unusable::Unreadable(e) => Problem::new(
            format!("--from {root}: cannot read {e}"),
            "make the folder readable",
        ),
        Unusable::NotUtf8(path) => Problem::new(
            format!("{} is not valid UTF-8", path.display()),
            "rename it",
        ),
    }
}

/// One pack folder; `origin` names how it was given ("PACK_DIR " or
/// nothing, for one `--from` found).
fn folder_pack(
    folder: &Utf8PathBuf,
    origin: &str,
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
            "{origin}'{folder}' is the folder {}: the archive holds it as '{}/'",
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
    /// The command line names one pack (no `--from`): `--name`/`--version`
    /// (or NAME/VERSION) apply to it.
    single: bool,
}

impl Identity<'_> {
    /// `--name`/`--version` apply to one pack named on the command line:
    /// given for several, or with `--from` (whatever it finds), the flags
    /// are refused and the variables ignored, and said.
    fn verify_not_given(&self, checks: &mut Checks) {
        let packs = if self.args.from.is_some() {
            "the packs --from finds".to_string()
        } else {
            "several packs".to_string()
        };
        for (id, flag, env, given) in [
            ("name", "--name", "NAME", &self.args.name),
            ("version", "--version", "VERSION", &self.args.version),
        ] {
            if given.is_none() {
                continue;
            }
            if self.provenance.from_env(id) {
                checks.warn(format!(
                    "the environment variable {env} is ignored: it applies only to a push of one \
                     pack named on the command line, not to {packs}"
                ));
            } else {
                checks.problem(Problem::new(
                    format!("{flag} applies to one pack named on the command line, not to {packs}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_given_twice_or_under_two_names_is_pushed_once_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
        std::fs::create_dir(root.join("pack")).unwrap();
        std::fs::create_dir(root.join("other")).unwrap();
        std::os::unix::fs::symlink(root.join("pack"), root.join("link")).unwrap();
        let mut checks = Checks::default();
        let given = vec![
            root.join("pack"),
            root.join("other"),
            root.join("pack"),
            root.join("link"),
        ];
        let unique = once(given, "folder", &mut checks);
        assert_eq!(unique, [root.join("pack"), root.join("other")]);
        let warnings: Vec<String> = checks.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            [
                format!("'{}' was given twice: it is pushed once", root.join("pack")),
                format!(
                    "'{}' and '{}' are the same folder: it is pushed once",
                    root.join("link"),
                    root.join("pack")
                ),
            ]
        );
        assert!(checks.problems.is_empty());
    }
}
