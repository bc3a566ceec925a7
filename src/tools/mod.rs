//! The programs packpush drives: finding oras and tar (and gzip, and a
//! compress program) once per run, asking their versions, and the builders
//! of their commands (`oras`, `tar`).

pub mod oras;
pub mod tar;

use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use semver::Version;

use crate::cli::{OrasArgs, ToolArgs};
use crate::error::Problem;
use crate::process::{self, Command, Echo, Limits, Program, RunError};
use crate::signals;
use oras::Mode;

/// The oras found, its version and the mode packpush will use it in.
#[derive(Clone, Debug)]
pub struct FoundOras {
    pub program: Program,
    pub version: Version,
    pub mode: Mode,
}

impl FoundOras {
    /// The builder of this oras's commands, with the run's connection
    /// flags and login file.
    pub fn commands(&self, tls: &oras::Tls, registry_config: Option<Utf8PathBuf>) -> oras::Oras {
        oras::Oras {
            program: self.program.clone(),
            mode: self.mode,
            tls: tls.clone(),
            registry_config,
        }
    }
}

/// The tar found and the first line of its `--version`.
#[derive(Clone, Debug)]
pub struct FoundTar {
    pub program: Program,
    pub version: String,
}

/// What was found, even when something else was not (for reports).
#[derive(Clone, Debug, Default)]
pub struct Found {
    pub oras: Option<FoundOras>,
    pub tar: Option<FoundTar>,
}

/// How oras and tar are asked their versions.
const ORAS_PROBE: &[&str] = &["version"];
const TAR_PROBE: &[&str] = &["--version"];

/// How long a version probe may take, unless `--timeout` is shorter.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Finds and probes oras and tar, and gzip when `needs_gzip` (tar will
/// compress with gzip: GNU tar needs it on PATH for `tar -czvf`, bsdtar
/// compresses by itself; a host without it would otherwise fail only at the
/// archive step). Each problem is added to `problems`.
/// `timeout`: the user's `--timeout`, which probes keep too.
pub fn discover(
    args: &ToolArgs,
    needs_gzip: bool,
    timeout: Option<Duration>,
    problems: &mut Vec<Problem>,
) -> Found {
    let limit = probe_limit(timeout);
    let oras = find_oras(&args.oras, limit)
        .map_err(|p| problems.push(p))
        .ok();
    let tar = find_tar(args, limit).map_err(|p| problems.push(p)).ok();
    if needs_gzip
        && let Some(tar) = &tar
        && let Err(problem) = check_gzip(tar, which::which("gzip").is_ok())
    {
        problems.push(problem);
    }
    Found { oras, tar }
}

/// Finds and probes oras alone, for commands that only read the registry.
pub fn discover_oras(
    args: &OrasArgs,
    timeout: Option<Duration>,
    problems: &mut Vec<Problem>,
) -> Found {
    Found {
        oras: find_oras(args, probe_limit(timeout))
            .map_err(|p| problems.push(p))
            .ok(),
        tar: None,
    }
}

/// How long a probe may take: the user's `--timeout` when it is shorter.
fn probe_limit(timeout: Option<Duration>) -> Duration {
    timeout.map_or(PROBE_TIMEOUT, |t| t.min(PROBE_TIMEOUT))
}

impl Found {
    /// The probes that ran, as shell lines (for `--verbose`).
    pub fn probe_lines(&self) -> Vec<String> {
        let oras = self.oras.as_ref().map(|o| (&o.program, ORAS_PROBE));
        let tar = self.tar.as_ref().map(|t| (&t.program, TAR_PROBE));
        oras.into_iter()
            .chain(tar)
            .map(|(program, args)| {
                let argv = std::iter::once(program.path.as_str()).chain(args.iter().copied());
                shell_words::join(argv)
            })
            .collect()
    }
}

/// A program packpush needs, and how to talk about it.
struct Wanted<'a> {
    /// The explicit path or name (from a flag or environment variable).
    given: Option<&'a Utf8Path>,
    /// The name looked for on PATH.
    default: &'static str,
    flag: &'static str,
    env: &'static str,
    how_to_get: &'static str,
    /// How it is asked its version.
    probe: &'static [&'static str],
    /// What to do when it does not behave like itself.
    fix: &'static str,
}

impl Wanted<'_> {
    /// Finds the program and asks its version: the program and what it said.
    fn find(&self, limit: Duration) -> Result<(Program, String), Problem> {
        let program = self.locate()?;
        let output = probe(&program, self.probe, limit).map_err(|e| {
            Problem::new(
                format!(
                    "'{}' does not behave like {}: {e}",
                    program.path, self.default
                ),
                self.fix,
            )
        })?;
        Ok((program, output))
    }

    /// The explicit path or name, else `default` on PATH.
    fn locate(&self) -> Result<Program, Problem> {
        let (default, flag, env) = (self.default, self.flag, self.env);
        let wanted = self.given.map(Utf8Path::as_str).unwrap_or(default);
        match which::which(wanted) {
            Ok(path) => {
                let path = Utf8PathBuf::from_path_buf(path).map_err(|p| {
                    Problem::new(
                        format!("the path of {wanted} ({}) is not valid UTF-8", p.display()),
                        format!("install {default} in a folder whose path is valid UTF-8"),
                    )
                })?;
                let display = match self.given {
                    None => default.to_string(),
                    Some(_) => path.to_string(),
                };
                Ok(Program { path, display })
            }
            Err(_) if self.given.is_some() => Err(Problem::new(
                format!("{flag}/{env} names '{wanted}', which is not an executable program"),
                format!(
                    "point {flag} at the {default} binary, or unset {env} to use {default} from PATH"
                ),
            )),
            Err(_) => Err(Problem::new(
                format!("{default} was not found on PATH"),
                format!("{}, or pass {flag} PATH (or set {env})", self.how_to_get),
            )),
        }
    }
}

/// Runs `program args` and returns its stdout, or why it did not answer.
fn probe(program: &Program, args: &[&str], limit: Duration) -> Result<String, String> {
    let command = Command::new(
        format!("ask {} its version", program.display),
        program,
        args.iter().map(|s| s.to_string()).collect(),
        Utf8Path::new("/"),
    )
    .reading();
    let line = command.shell_line(false);
    let limits = Limits {
        total: Some(limit),
        stall: None,
    };
    match process::run(&command, None, Echo::Hidden, limits) {
        Ok(out) if out.exit.success() => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(out) => Err(format!(
            "`{line}` failed ({}){}",
            out.exit.describe(),
            out.stderr_tail(1)
                .first()
                .map(|l| format!(": {l}"))
                .unwrap_or_default()
        )),
        Err(RunError::Spawn(e)) => Err(format!("`{line}` could not start: {e}")),
        Err(RunError::TimedOut(_) | RunError::Stalled(_)) => {
            Err(format!("`{line}` did not finish in time"))
        }
        Err(RunError::Interrupted(sig)) => Err(format!("interrupted by {}", signals::name(sig))),
    }
}

fn find_oras(args: &OrasArgs, limit: Duration) -> Result<FoundOras, Problem> {
    let wanted = Wanted {
        given: args.program.as_deref(),
        default: "oras",
        flag: "--oras",
        env: "PACKPUSH_ORAS",
        how_to_get: "install ORAS 1.0.0 from its v1.0.0 release (Palette's documentation requires exactly that version)",
        probe: ORAS_PROBE,
        fix: "point --oras (PACKPUSH_ORAS) at an ORAS 1.0.0 binary",
    };
    let (program, output) = wanted.find(limit)?;
    let version = oras::parse_version(&output).map_err(|e| {
        Problem::new(
            format!("'{}' does not look like oras: {e}", program.path),
            wanted.fix,
        )
    })?;
    let mode = oras::mode_for(&version, args.allow_newer_oras).map_err(|e| {
        Problem::new(
            format!("{}: {e}", program.path),
            oras::version_fix(&version, args.allow_newer_oras),
        )
    })?;
    Ok(FoundOras {
        program,
        version,
        mode,
    })
}

fn find_tar(args: &ToolArgs, limit: Duration) -> Result<FoundTar, Problem> {
    let wanted = Wanted {
        given: args.tar.as_deref(),
        default: "tar",
        flag: "--tar",
        env: "PACKPUSH_TAR",
        how_to_get: "install tar (apt-get install tar)",
        probe: TAR_PROBE,
        fix: "point --tar (PACKPUSH_TAR) at GNU tar or bsdtar",
    };
    let (program, output) = wanted.find(limit)?;
    let version = tar::describe_version(&output).ok_or_else(|| {
        Problem::new(
            format!(
                "'{} --version' does not name tar (GNU tar or bsdtar)",
                program.path
            ),
            wanted.fix,
        )
    })?;
    Ok(FoundTar { program, version })
}

/// GNU tar runs gzip for `-z`; bsdtar does not need it.
fn check_gzip(tar: &FoundTar, gzip_found: bool) -> Result<(), Problem> {
    if gzip_found || !tar::is_gnu(&tar.version) {
        return Ok(());
    }
    Err(Problem::new(
        "gzip was not found on PATH, and GNU tar needs it for tar -czvf",
        "install gzip (apt-get install gzip), or pass --compress-program with a gzip-compatible program",
    ))
}

/// The variables GNU tar, gzip and pigz read that change the archive.
const ARCHIVE_VARIABLES: &[&str] = &["TAR_OPTIONS", "POSIXLY_CORRECT", "GZIP", "PIGZ"];

/// What besides the pack's files and tar's arguments shapes the archive,
/// for the archive cache: the tar and compressor programs (path, version,
/// and the size and time of the file, so that an upgrade counts) and the
/// variables they read. `None` when the same files may give other bytes on
/// the next run: bsdtar and BusyBox tar write the time into the gzip
/// header, and so does a compress program not given `-n` (which only
/// `--reproducible` adds); GNU tar's `-z` runs gzip on a pipe, which
/// writes none.
pub fn archive_shapers(
    tar: &FoundTar,
    compress_program: Option<&str>,
    reproducible: bool,
) -> Option<String> {
    if !tar::is_gnu(&tar.version) || (compress_program.is_some() && !reproducible) {
        return None;
    }
    let compressor = match compress_program {
        Some(program) => Utf8PathBuf::from(program),
        None => Utf8PathBuf::from_path_buf(which::which("gzip").ok()?).ok()?,
    };
    let mut text = format!(
        "packpush {}\ntar {} {}\n",
        env!("CARGO_PKG_VERSION"),
        tar.version,
        file_identity(&tar.program.path)?
    );
    text.push_str(&format!("compressor {}\n", file_identity(&compressor)?));
    for name in ARCHIVE_VARIABLES {
        let value = std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        text.push_str(&format!("{name}={value:?}\n"));
    }
    Some(text)
}

/// A program file as the archive cache tells it apart: its resolved path,
/// size and modification time.
fn file_identity(path: &Utf8Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let real = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    Some(format!(
        "{} {} {}.{}",
        real.display(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec()
    ))
}

/// `--compress-program PROG`, resolved to a path that tar may hand to
/// `/bin/sh` (only characters the shell leaves alone).
pub fn compress_program(program: &str) -> Result<String, Problem> {
    let mut words = program.split_whitespace();
    if let (Some(name), Some(_)) = (words.next(), words.next()) {
        return Err(Problem::new(
            format!(
                "--compress-program '{program}' has arguments, which packpush does not pass on \
                 (tar would run them through a shell)"
            ),
            format!(
                "pass the program alone (--compress-program {name}); for arguments, write a \
                 script holding `#!/bin/sh` and `exec {program} \"$@\"`, make it executable \
                 (chmod +x) and pass its path"
            ),
        ));
    }
    match which::which(program) {
        Ok(path) => {
            let path = path.to_string_lossy().into_owned();
            if tar::safe_for_shell(&path) {
                Ok(path)
            } else {
                Err(Problem::new(
                    format!(
                        "--compress-program resolves to '{path}', which tar would have to pass through a shell"
                    ),
                    "install the program in a folder whose path has only letters, digits and / . _ - +",
                ))
            }
        }
        Err(_) => Err(Problem::new(
            format!("--compress-program '{program}' was not found"),
            "install it (e.g. apt-get install pigz) or pass its full path",
        )),
    }
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
        assert!(check_gzip(&tar("bsdtar 3.6.2 - libarchive 3.6.2"), false).is_ok());
    }

    #[test]
    fn only_archives_the_same_files_always_give_the_same_bytes_are_cached() {
        let gnu = FoundTar {
            program: Program {
                path: "/bin/sh".into(),
                display: "tar".into(),
            },
            version: "tar (GNU tar) 1.34".into(),
        };
        let shapers = archive_shapers(&gnu, None, false).expect("GNU tar with gzip");
        assert!(shapers.contains("tar (GNU tar) 1.34"), "{shapers}");
        assert!(shapers.contains("TAR_OPTIONS="), "{shapers}");
        assert!(archive_shapers(&gnu, Some("/bin/sh"), true).is_some());
        assert_eq!(archive_shapers(&gnu, Some("/bin/sh"), false), None);
        let bsdtar = FoundTar {
            version: "bsdtar 3.6.2 - libarchive 3.6.2".into(),
            ..gnu
        };
        assert_eq!(archive_shapers(&bsdtar, None, true), None);
    }

    #[test]
    fn the_record_and_the_probe_lines_name_what_was_found() {
        let found = Found {
            oras: Some(FoundOras {
                program: Program {
                    path: "/opt/my oras/oras".into(),
                    display: "/opt/my oras/oras".into(),
                },
                version: Version::new(1, 0, 0),
                mode: Mode::Strict,
            }),
            tar: Some(tar("tar (GNU tar) 1.34")),
        };
        let record = crate::record::Tools::from(&found);
        assert_eq!(record.oras_mode.as_deref(), Some("strict"));
        assert_eq!(record.tar.unwrap().path, "/usr/bin/tar");
        assert_eq!(
            found.probe_lines(),
            ["'/opt/my oras/oras' version", "/usr/bin/tar --version"]
        );
    }
}
