//! tar: the archive command, built whole (the documented `tar -czvf` and its
//! reproducible and parallel-compression variants), and what `tar --version`
//! says about the implementation.

use camino::Utf8Path;

use crate::process::{Command, Program};

/// How `--reproducible` normalises modes: 0644, or 0755 for folders and
/// for files with any execute bit.
pub const REPRODUCIBLE_MODE: &str = "go-w,u+rw,a+rX,a-st";

/// Builds the archive command of every pack of a run.
#[derive(Clone, Debug)]
pub struct Tar {
    pub program: Program,
    /// `--compress-program`: the resolved program path, given to tar as `-I`.
    pub compress_program: Option<String>,
}

/// One archive to make.
#[derive(Clone, Copy, Debug)]
pub struct Archive<'a> {
    /// Where the archive goes (absolute).
    pub archive: &'a Utf8Path,
    /// The pack folder's own name: what tar is given and the archive holds.
    pub folder_name: &'a str,
    /// The folder holding the pack folder: where tar runs.
    pub parent: &'a Utf8Path,
    /// `--reproducible`: every entry gets this modification time (seconds
    /// since the epoch), sorted names, owner and group 0, modes 0644 or
    /// 0755 (files with any executable bit, and folders), and a file with
    /// several names is stored whole under each.
    pub fixed_mtime: Option<u64>,
}

impl Tar {
    /// `tar -czvf ARCHIVE FOLDER`, run from the pack folder's parent so that
    /// the archive holds the folder itself, as the documented command does.
    /// With `fixed_mtime`, GNU tar's reproducibility flags go first, and a
    /// compress program's `-I PROG` replaces `-z`.
    pub fn create(&self, archive: Archive<'_>) -> Command {
        let mut args = Vec::new();
        if let Some(mtime) = archive.fixed_mtime {
            args.extend([
                "--sort=name".to_string(),
                format!("--mtime=@{mtime}"),
                "--owner=0".into(),
                "--group=0".into(),
                "--numeric-owner".into(),
                // `X`: executable for all when any execute bit is set;
                // `a-st`: no set-id or sticky bit.
                format!("--mode={REPRODUCIBLE_MODE}"),
                "--hard-dereference".into(),
                "--format=gnu".into(),
            ]);
        }
        match &self.compress_program {
            None => args.extend(["-czvf".to_string(), archive.archive.to_string()]),
            Some(program) => {
                // tar runs this through /bin/sh; the preflight only lets
                // through a resolved path made of safe characters. With
                // --reproducible the compressor must leave the time out of
                // the gzip header (-n).
                let command = if archive.fixed_mtime.is_some() {
                    format!("{program} -n")
                } else {
                    program.clone()
                };
                args.extend([
                    "-cvf".to_string(),
                    archive.archive.to_string(),
                    "-I".into(),
                    command,
                ]);
            }
        }
        args.push(archive.folder_name.to_string());
        let purpose = format!(
            "archive the pack folder '{}' as {}",
            archive.folder_name,
            archive.archive.file_name().unwrap_or_default()
        );
        Command::new(purpose, &self.program, args, archive.parent)
    }
}

/// Whether a program path can be handed to tar's `-I`, which runs it through
/// `/bin/sh`: only characters that the shell leaves alone.
pub fn safe_for_shell(path: &str) -> bool {
    !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
}

/// The first line of `tar --version`, e.g. `tar (GNU tar) 1.34` or
/// `bsdtar 3.6.2 - libarchive 3.6.2` (or a BusyBox banner); `None` when it
/// names no tar.
pub fn describe_version(output: &str) -> Option<String> {
    output
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("tar") || l.contains("busybox")
        })
        .map(str::to_string)
}

/// Whether a finished archive starts like gzip output (a tar that exited 0
/// without writing must not be pushed).
pub fn looks_like_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// Whether this tar can make reproducible archives: GNU tar 1.28 or later
/// (`--sort=name` appeared in 1.28). bsdtar and busybox tar cannot.
pub fn supports_reproducible(version_line: &str) -> bool {
    let Some(rest) = version_line.strip_prefix("tar (GNU tar) ") else {
        return false;
    };
    let mut parts = rest
        .trim()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= (1, 28)
}

/// Whether tar is GNU tar, which runs gzip for `-z` (bsdtar does not need it).
pub fn is_gnu(version_line: &str) -> bool {
    version_line.contains("GNU tar")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar(compress_program: Option<&str>) -> Tar {
        Tar {
            program: Program {
                path: "/bin/tar".into(),
                display: "tar".into(),
            },
            compress_program: compress_program.map(str::to_string),
        }
    }

    fn archive(fixed_mtime: Option<u64>) -> Archive<'static> {
        Archive {
            archive: "/o/p-1.tar.gz".into(),
            folder_name: "p",
            parent: "/src".into(),
            fixed_mtime,
        }
    }

    #[test]
    fn documented_archive_command() {
        let command = tar(None).create(archive(None));
        assert_eq!(command.args, ["-czvf", "/o/p-1.tar.gz", "p"]);
        assert_eq!(command.cwd, "/src");
        assert_eq!(command.purpose, "archive the pack folder 'p' as p-1.tar.gz");
        assert!(!command.read_only);
    }

    #[test]
    fn reproducible_and_parallel_variants() {
        let args = tar(Some("/usr/bin/pigz"))
            .create(archive(Some(1_700_000_000)))
            .args;
        assert!(args.contains(&"--sort=name".to_string()));
        assert!(args.contains(&"--mtime=@1700000000".to_string()));
        assert!(args.contains(&"--mode=go-w,u+rw,a+rX,a-st".to_string()));
        assert!(args.contains(&"--hard-dereference".to_string()));
        assert_eq!(
            &args[args.len() - 5..],
            ["-cvf", "/o/p-1.tar.gz", "-I", "/usr/bin/pigz -n", "p"]
        );
        assert_eq!(
            tar(Some("/usr/bin/pigz")).create(archive(None)).args,
            ["-cvf", "/o/p-1.tar.gz", "-I", "/usr/bin/pigz", "p"]
        );
    }

    #[test]
    fn shell_safety_of_compress_programs() {
        assert!(safe_for_shell("/usr/bin/pigz"));
        for bad in ["", "pigz; rm -rf ~", "/opt/my pigz", "$(x)", "a|b", "a'b"] {
            assert!(!safe_for_shell(bad), "{bad}");
        }
    }

    #[test]
    fn version_line_and_reproducibility() {
        assert_eq!(
            describe_version("tar (GNU tar) 1.34\nCopyright...").as_deref(),
            Some("tar (GNU tar) 1.34")
        );
        assert_eq!(describe_version("\n"), None);
        assert_eq!(describe_version("hello\n"), None);
        assert!(describe_version("bsdtar 3.6.2 - libarchive 3.6.2 zlib/1.2.13").is_some());
        assert!(
            describe_version("BusyBox v1.36.1 (Debian 1:1.36.1-9) multi-call binary.").is_some()
        );
        assert!(!supports_reproducible(
            "BusyBox v1.36.1 (Debian 1:1.36.1-9) multi-call binary."
        ));
        assert!(looks_like_gzip(&[0x1f, 0x8b, 8]));
        assert!(!looks_like_gzip(b""));
        assert!(supports_reproducible("tar (GNU tar) 1.34"));
        assert!(supports_reproducible("tar (GNU tar) 1.28"));
        assert!(!supports_reproducible("tar (GNU tar) 1.27.1"));
        assert!(!supports_reproducible("bsdtar 3.6.2 - libarchive 3.6.2"));
        assert!(is_gnu("tar (GNU tar) 1.34"));
        assert!(!is_gnu("bsdtar 3.6.2 - libarchive 3.6.2"));
    }
}
