//! Local checks before anything touches the network or disk: the tools,
//! and (for a push) every input. Each check adds to one list of problems so
//! that all of them are reported at once.

use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use semver::Version;

use crate::cli::ToolArgs;
use crate::error::Problem;
use crate::oras::{self, Mode};
use crate::plan::Program;
use crate::run::{self, Command, Echo};
use crate::tar;

/// The oras found, its version and the mode packpush will use it in.
#[derive(Clone, Debug)]
pub struct FoundOras {
    pub program: Program,
    pub version: Version,
    pub mode: Mode,
}

/// The tar found and the first line of its `--version`.
#[derive(Clone, Debug)]
pub struct FoundTar {
    pub program: Program,
    pub version: String,
}

/// How long a `--version` probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Finds a program: an explicit path or name (from a flag or environment
/// variable), else `default` on PATH.
fn find_program(
    given: Option<&Utf8Path>,
    default: &str,
    flag: &str,
    env: &str,
    how_to_get: &str,
) -> Result<Program, Problem> {
    let wanted = given.map(Utf8Path::as_str).unwrap_or(default);
    match which::which(wanted) {
        Ok(path) => {
            let path = Utf8PathBuf::from_path_buf(path).map_err(|p| {
                Problem::new(
                    format!("the path of {wanted} ({}) is not valid UTF-8", p.display()),
                    format!("install {default} in a folder whose path is valid UTF-8"),
                )
            })?;
            let display = if given.is_none() {
                default.to_string()
            } else {
                path.to_string()
            };
            Ok(Program { path, display })
        }
        Err(_) if given.is_some() => Err(Problem::new(
            format!("{flag}/{env} names '{wanted}', which is not an executable program"),
            format!(
                "point {flag} at the {default} binary, or unset {env} to use {default} from PATH"
            ),
        )),
        Err(_) => Err(Problem::new(
            format!("{default} was not found on PATH"),
            format!("{how_to_get}, or pass {flag} PATH (or set {env})"),
        )),
    }
}

fn probe(program: &Program, args: &[&str]) -> Result<String, String> {
    let command = Command {
        display: program.display.clone(),
        program: program.path.clone(),
        args: args.iter().map(|s| s.to_string()).collect(),
        cwd: Utf8PathBuf::from("/"),
        stdin_secret: false,
    };
    match run::run(&command, None, Echo::Hidden, true, Some(PROBE_TIMEOUT)) {
        Ok(out) if out.exit.success() => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(out) => Err(format!(
            "`{}` failed ({}){}",
            command.shell_line(false),
            out.exit.describe(),
            out.stderr_tail(1)
                .first()
                .map(|l| format!(": {l}"))
                .unwrap_or_default()
        )),
        Err(run::RunError::Spawn(e)) => Err(format!(
            "`{}` could not start: {e}",
            command.shell_line(false)
        )),
        Err(run::RunError::TimedOut(_)) => Err(format!(
            "`{}` did not finish in time",
            command.shell_line(false)
        )),
        Err(run::RunError::Interrupted(sig)) => {
            Err(format!("interrupted by {}", run::signal_name(sig)))
        }
    }
}

pub fn check_oras(args: &ToolArgs) -> Result<FoundOras, Problem> {
    let program = find_program(
        args.oras.as_deref(),
        "oras",
        "--oras",
        "PACKPUSH_ORAS",
        "install ORAS 1.0.0 from its v1.0.0 release (Palette's documentation requires exactly that version)",
    )?;
    let output = probe(&program, &["version"]).map_err(|e| {
        Problem::new(
            format!("'{}' does not behave like oras: {e}", program.path),
            "point --oras (PACKPUSH_ORAS) at an ORAS 1.0.0 binary",
        )
    })?;
    let version = oras::parse_version(&output).map_err(|e| {
        Problem::new(
            format!("'{}' does not look like oras: {e}", program.path),
            "point --oras (PACKPUSH_ORAS) at an ORAS 1.0.0 binary",
        )
    })?;
    let mode = oras::mode_for(&version, args.allow_newer_oras).map_err(|e| {
        Problem::new(
            format!("{}: {e}", program.path),
            oras_fix(&version, args.allow_newer_oras),
        )
    })?;
    Ok(FoundOras {
        program,
        version,
        mode,
    })
}

fn oras_fix(version: &Version, allow_newer: bool) -> String {
    if !version.pre.is_empty() {
        "install ORAS 1.0.0 (the version Palette's documentation requires), or a released \
         1.1.0 or later with --allow-newer-oras"
            .into()
    } else if *version >= Version::new(1, 1, 0) && !allow_newer {
        "install ORAS 1.0.0, or pass --allow-newer-oras to push 1.0.0-shaped manifests with this oras".into()
    } else {
        "install ORAS 1.0.0 (the version Palette's documentation requires)".into()
    }
}

pub fn check_tar(args: &ToolArgs) -> Result<FoundTar, Problem> {
    let program = find_program(
        args.tar.as_deref(),
        "tar",
        "--tar",
        "PACKPUSH_TAR",
        "install tar (apt-get install tar)",
    )?;
    let output = probe(&program, &["--version"]).map_err(|e| {
        Problem::new(
            format!("'{}' does not behave like tar: {e}", program.path),
            "point --tar (PACKPUSH_TAR) at GNU tar or bsdtar",
        )
    })?;
    let version = tar::describe_version(&output).ok_or_else(|| {
        Problem::new(
            format!(
                "'{} --version' does not name tar (GNU tar or bsdtar)",
                program.path
            ),
            "point --tar (PACKPUSH_TAR) at GNU tar or bsdtar",
        )
    })?;
    Ok(FoundTar { program, version })
}

/// Checks both tools; each problem is added to `problems`. `needs_gzip`:
/// tar will compress with gzip (no `--compress-program`), so GNU tar needs
/// gzip on PATH for `tar -czvf` (bsdtar compresses by itself); a host
/// without it would otherwise fail only at the archive step.
pub fn check_tools(
    args: &ToolArgs,
    needs_gzip: bool,
    problems: &mut Vec<Problem>,
) -> (Option<FoundOras>, Option<FoundTar>) {
    let oras = check_oras(args).map_err(|p| problems.push(p)).ok();
    let tar = check_tar(args).map_err(|p| problems.push(p)).ok();
    if needs_gzip
        && let Some(tar) = &tar
        && let Err(problem) = check_gzip(tar, gzip_on_path())
    {
        problems.push(problem);
    }
    (oras, tar)
}

fn gzip_on_path() -> bool {
    which::which("gzip").is_ok()
}

/// GNU tar runs gzip for `-z`; bsdtar does not need it.
fn check_gzip(tar: &FoundTar, gzip_found: bool) -> Result<(), Problem> {
    if gzip_found || !tar.version.contains("GNU tar") {
        return Ok(());
    }
    Err(Problem::new(
        "gzip was not found on PATH, and GNU tar needs it for tar -czvf",
        "install gzip (apt-get install gzip), or pass --compress-program with a gzip-compatible program",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar(version: &str) -> FoundTar {
        FoundTar {
            program: Program {
                path: "/usr/bin/tar".into(),
                display: "tar".into(),
            },
            version: version.into(),
        }
    }

    #[test]
    fn gnu_tar_needs_gzip_and_bsdtar_does_not() {
        let problem = check_gzip(&tar("tar (GNU tar) 1.35"), false).unwrap_err();
        assert_eq!(
            problem.what,
            "gzip was not found on PATH, and GNU tar needs it for tar -czvf"
        );
        assert!(problem.fix.contains("--compress-program"), "{problem}");
        assert!(check_gzip(&tar("tar (GNU tar) 1.35"), true).is_ok());
        assert!(check_gzip(&tar("bsdtar 3.7.2 - libarchive 3.7.2"), false).is_ok());
    }

    #[test]
    fn a_pre_release_is_never_fixed_by_allow_newer_oras_alone() {
        let fix = oras_fix(&Version::parse("1.2.0-rc.1").unwrap(), false);
        assert!(fix.contains("a released 1.1.0 or later"), "{fix}");
        let fix = oras_fix(&Version::parse("1.2.0").unwrap(), false);
        assert!(fix.contains("or pass --allow-newer-oras"), "{fix}");
    }
}
