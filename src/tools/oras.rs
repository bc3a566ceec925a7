//! ORAS: which versions are accepted, and every oras command packpush runs,
//! built whole (program, argv, working directory, stdin, read-only).
//!
//! Palette's documentation requires ORAS 1.0.0 because later versions write
//! a different manifest by default. 1.1.0 and later write the 1.0.0 shape
//! again with `--image-spec v1.0`, which packpush adds only when the user
//! opted in with `--allow-newer-oras`.

use camino::{Utf8Path, Utf8PathBuf};
use semver::Version;

use crate::cli::TlsArgs;
use crate::process::{Command, Program};

/// How packpush reaches the registry over TLS; passed to every oras call,
/// because oras does not remember it between calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    Verify,
    PlainHttp,
    Insecure,
    CaFile(Utf8PathBuf),
}

impl Tls {
    /// What the command line chose, if it chose anything.
    pub fn given(args: &TlsArgs) -> Option<Tls> {
        if args.plain_http {
            Some(Tls::PlainHttp)
        } else if args.insecure {
            Some(Tls::Insecure)
        } else {
            args.ca_file.clone().map(Tls::CaFile)
        }
    }

    /// The flags, as oras and `packpush push` both spell them.
    pub fn flags(&self) -> Vec<String> {
        match self {
            Tls::Verify => vec![],
            Tls::PlainHttp => vec!["--plain-http".into()],
            Tls::Insecure => vec!["--insecure".into()],
            Tls::CaFile(path) => vec!["--ca-file".into(), path.to_string()],
        }
    }
}

/// Why a CA file cannot be used, if it cannot.
#[derive(Debug)]
pub enum CaFileProblem {
    NoCertificate,
    Unreadable(std::io::Error),
}

/// Checks that `path` holds a PEM certificate: what `--ca-file` needs.
pub fn check_ca_file(path: &Utf8Path) -> Result<(), CaFileProblem> {
    match std::fs::read(path) {
        Ok(bytes) if String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") => {
            Ok(())
        }
        Ok(_) => Err(CaFileProblem::NoCertificate),
        Err(e) => Err(CaFileProblem::Unreadable(e)),
    }
}

/// Which manifest-shape policy applies to the oras found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// ORAS 1.0.0: the documented version, no extra flags.
    Strict,
    /// ORAS 1.1.0 or later, accepted with `--allow-newer-oras`: every push
    /// adds `--image-spec v1.0` so the manifest has the 1.0.0 shape.
    Newer,
}

impl Mode {
    /// The name reports use: `strict` or `newer`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Strict => "strict",
            Mode::Newer => "newer",
        }
    }
}

/// Parses `oras version` output: the `Version:` line, with any `+build`
/// metadata dropped. Labels are padded differently between versions, so only
/// the label and the first word after it count.
pub fn parse_version(output: &str) -> Result<Version, String> {
    let line = output
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("Version:"))
        .ok_or_else(|| "no 'Version:' line in `oras version` output".to_string())?;
    let word = line
        .split_whitespace()
        .next()
        .ok_or_else(|| "the 'Version:' line is empty".to_string())?;
    let word = word.strip_prefix('v').unwrap_or(word);
    let mut version =
        Version::parse(word).map_err(|e| format!("'{word}' is not a semantic version ({e})"))?;
    version.build = semver::BuildMetadata::EMPTY;
    Ok(version)
}

/// Decides whether this oras version may be used. The error explains what
/// was found and what is needed.
pub fn mode_for(version: &Version, allow_newer: bool) -> Result<Mode, String> {
    let exact = Version::new(1, 0, 0);
    let newer_floor = Version::new(1, 1, 0);
    if !version.pre.is_empty() {
        Err(format!(
            "oras {version} is a pre-release, which packpush never uses: Palette's documentation \
             requires exactly 1.0.0 (--allow-newer-oras accepts released versions from 1.1.0 on)"
        ))
    } else if *version == exact {
        Ok(Mode::Strict)
    } else if *version >= newer_floor && allow_newer {
        Ok(Mode::Newer)
    } else if *version >= newer_floor {
        Err(format!(
            "oras {version} is newer than the 1.0.0 Palette's documentation requires \
             (it would write a manifest of another shape unless --allow-newer-oras is given)"
        ))
    } else {
        Err(format!(
            "oras {version} is not supported: Palette's documentation requires exactly 1.0.0 \
             (--allow-newer-oras accepts 1.1.0 or later)"
        ))
    }
}

/// What to do about an oras version `mode_for` refused.
pub fn version_fix(version: &Version, allow_newer: bool) -> String {
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

/// The annotation that pins a manifest's creation time.
pub const CREATED: &str = "org.opencontainers.image.created";

/// Builds every oras command of a run, with the connection flags and the
/// registry config each call needs.
#[derive(Clone, Debug)]
pub struct Oras {
    pub program: Program,
    pub mode: Mode,
    pub tls: Tls,
    /// `--registry-config FILE`; `None` means oras's default store.
    pub registry_config: Option<Utf8PathBuf>,
}

impl Oras {
    fn connection_flags(&self) -> Vec<String> {
        let mut flags = self.tls.flags();
        if let Some(config) = &self.registry_config {
            flags.push("--registry-config".into());
            flags.push(config.to_string());
        }
        flags
    }

    fn shape_flags(&self) -> Vec<String> {
        match self.mode {
            Mode::Strict => vec![],
            Mode::Newer => vec!["--image-spec".into(), "v1.0".into()],
        }
    }

    /// `oras login REGISTRY --username USER --password-stdin [tls] [--registry-config CFG]`,
    /// the password on stdin.
    pub fn login(&self, registry: &str, username: &str, cwd: &Utf8Path) -> Command {
        let mut args = vec![
            "login".into(),
            registry.into(),
            "--username".into(),
            username.into(),
            "--password-stdin".into(),
        ];
        args.extend(self.connection_flags());
        Command::new(format!("log in to {registry}"), &self.program, args, cwd)
            .with_secret_on_stdin()
            .over_the_network()
    }

    /// `oras push REFERENCE [FILE] [tls] [--registry-config CFG] [--image-spec v1.0]
    /// --export-manifest OUT [--annotation created=...]`, run in `cwd` (where
    /// FILE is, so that the layer's title is its bare name).
    pub fn push(&self, push: Push<'_>, cwd: &Utf8Path) -> Command {
        let mut args = vec!["push".to_string(), push.reference.to_string()];
        args.extend(push.file.map(str::to_string));
        args.extend(self.connection_flags());
        args.extend(self.shape_flags());
        args.push("--export-manifest".into());
        args.push(push.export_manifest.to_string());
        if let Some(created) = push.created {
            args.push("--annotation".into());
            args.push(format!("{CREATED}={created}"));
        }
        Command::new(push.purpose, &self.program, args, cwd).over_the_network()
    }

    /// `oras manifest fetch [tls] [--registry-config CFG] REFERENCE`: read-only,
    /// its output read by packpush.
    pub fn fetch_manifest(&self, reference: &str, purpose: String, cwd: &Utf8Path) -> Command {
        self.read(&["manifest", "fetch"], &[reference], purpose, cwd)
    }

    /// A read-only command: `oras SUBCOMMAND... [tls] [--registry-config CFG] ARGS...`,
    /// its output read by packpush.
    fn read(&self, subcommand: &[&str], args: &[&str], purpose: String, cwd: &Utf8Path) -> Command {
        let mut argv: Vec<String> = subcommand.iter().map(|s| s.to_string()).collect();
        argv.extend(self.connection_flags());
        argv.extend(args.iter().map(|s| s.to_string()));
        Command::new(purpose, &self.program, argv, cwd)
            .reading()
            .over_the_network()
    }

    /// `oras repo ls [tls] [--registry-config CFG] REGISTRY/NAMESPACE`: the
    /// repositories under NAMESPACE, one a line, without the namespace.
    /// The registry's catalog, which Harbor lets only some accounts read.
    pub fn list_repositories(&self, namespace: &str, purpose: String, cwd: &Utf8Path) -> Command {
        self.read(&["repo", "ls"], &[namespace], purpose, cwd)
    }

    /// `oras repo tags [tls] [--registry-config CFG] REPOSITORY`: its tags, one a line.
    pub fn list_tags(&self, repository: &str, purpose: String, cwd: &Utf8Path) -> Command {
        self.read(&["repo", "tags"], &[repository], purpose, cwd)
    }

    /// `oras blob fetch [tls] [--registry-config CFG] --output FILE REPOSITORY@DIGEST`:
    /// a layer, written to FILE.
    pub fn fetch_blob(
        &self,
        reference: &str,
        output: &Utf8Path,
        purpose: String,
        cwd: &Utf8Path,
    ) -> Command {
        self.read(
            &["blob", "fetch"],
            &["--output", output.as_str(), reference],
            purpose,
            cwd,
        )
    }
}

/// One `oras push`: what it is for, what it pushes, where the manifest goes.
#[derive(Clone, Copy, Debug)]
pub struct Push<'a> {
    pub purpose: &'a str,
    pub reference: &'a str,
    /// The archive's bare file name; `None` for the empty base-path artifact.
    pub file: Option<&'a str>,
    pub export_manifest: &'a Utf8Path,
    /// A fixed `org.opencontainers.image.created` (`--reproducible`).
    pub created: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oras");
    const VERSIONS: [&str; 4] = ["1.0.0", "1.1.0", "1.2.0", "1.3.3"];

    #[test]
    fn parses_padded_labels_and_build_metadata() {
        let out = "Version:        1.0.0\nGo version:     go1.20.2\n";
        assert_eq!(parse_version(out).unwrap(), v("1.0.0"));
        assert_eq!(
            parse_version("Version:    1.0.0+unreleased\n").unwrap(),
            v("1.0.0")
        );
        assert_eq!(
            parse_version("Version: 1.0.0+Homebrew").unwrap(),
            v("1.0.0")
        );
        assert!(parse_version("oras is great").is_err());
        assert!(parse_version("Version: banana").is_err());
        assert!(parse_version("Version:").is_err());
    }

    #[test]
    fn parses_every_recorded_oras_version() {
        for version in VERSIONS {
            let log = std::fs::read_to_string(format!("{FIXTURES}/{version}/flow.log")).unwrap();
            let output = log
                .split_once("$ oras version\n--- stdout ---\n")
                .and_then(|(_, rest)| rest.split_once("--- stderr ---"))
                .unwrap()
                .0;
            assert_eq!(parse_version(output).unwrap(), v(version));
        }
    }

    #[test]
    fn version_policy() {
        assert_eq!(mode_for(&v("1.0.0"), false), Ok(Mode::Strict));
        assert_eq!(mode_for(&v("1.0.0"), true), Ok(Mode::Strict));
        assert!(
            mode_for(&v("1.2.0"), false)
                .unwrap_err()
                .contains("--allow-newer-oras")
        );
        assert_eq!(mode_for(&v("1.2.0"), true), Ok(Mode::Newer));
        assert_eq!(mode_for(&v("1.3.3"), true), Ok(Mode::Newer));
        assert!(mode_for(&v("0.16.0"), true).is_err());
        assert!(mode_for(&v("1.0.1"), true).is_err());
        assert!(mode_for(&v("1.1.0-rc.1"), true).is_err());
    }

    #[test]
    fn pre_releases_are_refused_even_with_allow_newer_oras() {
        for version in ["1.2.0-rc.1", "1.3.0-beta.2", "1.0.0-rc.3", "2.0.0-alpha"] {
            for allow_newer in [false, true] {
                let refused = mode_for(&v(version), allow_newer)
                    .expect_err(&format!("{version} (allow newer: {allow_newer})"));
                assert!(refused.contains("pre-release"), "{refused}");
            }
        }
        assert_eq!(mode_for(&v("1.2.0"), true), Ok(Mode::Newer));
    }

    #[test]
    fn a_pre_release_is_never_fixed_by_allow_newer_oras_alone() {
        let fix = version_fix(&v("1.2.0-rc.1"), false);
        assert!(fix.contains("a released 1.1.0 or later"), "{fix}");
        let fix = version_fix(&v("1.2.0"), false);
        assert!(fix.contains("or pass --allow-newer-oras"), "{fix}");
    }

    fn oras(mode: Mode) -> Oras {
        Oras {
            program: Program {
                path: "/opt/oras".into(),
                display: "oras".into(),
            },
            mode,
            tls: Tls::PlainHttp,
            registry_config: Some("/w/config.json".into()),
        }
    }

    fn base_push(export: &Utf8Path) -> Push<'_> {
        Push {
            purpose: "create the base path",
            reference: "r/p/spectro-packs/archive",
            file: None,
            export_manifest: export,
            created: None,
        }
    }

    #[test]
    fn strict_push_never_adds_image_spec() {
        let command = oras(Mode::Strict).push(base_push("/w/m.json".into()), "/w".into());
        assert_eq!(
            command.args,
            [
                "push",
                "r/p/spectro-packs/archive",
                "--plain-http",
                "--registry-config",
                "/w/config.json",
                "--export-manifest",
                "/w/m.json"
            ]
        );
        assert_eq!(command.purpose, "create the base path");
        assert!(!command.read_only && !command.stdin_secret);
    }

    #[test]
    fn newer_push_adds_image_spec_v1_0_and_pins_created() {
        let push = Push {
            purpose: "push",
            reference: "r/x:1",
            file: Some("x-1.tar.gz"),
            export_manifest: "/w/m.json".into(),
            created: Some("2020-01-01T00:00:00Z"),
        };
        let args = oras(Mode::Newer).push(push, "/out".into()).args;
        let pos = args.iter().position(|a| a == "--image-spec").unwrap();
        assert_eq!(args[pos + 1], "v1.0");
        assert_eq!(args[2], "x-1.tar.gz");
        assert_eq!(
            &args[args.len() - 2..],
            [
                "--annotation",
                "org.opencontainers.image.created=2020-01-01T00:00:00Z"
            ]
        );
    }

    #[test]
    fn login_reads_the_password_from_stdin() {
        let command = oras(Mode::Strict).login("r:1", "robot$p+ci", "/w".into());
        assert_eq!(
            &command.args[..5],
            [
                "login",
                "r:1",
                "--username",
                "robot$p+ci",
                "--password-stdin"
            ]
        );
        assert!(command.stdin_secret);
        let on_the_command_line = |a: &String| ["-p", "--password"].contains(&a.as_str());
        assert!(!command.args.iter().any(on_the_command_line));
    }

    #[test]
    fn fetches_are_read_only_and_captured() {
        let command = oras(Mode::Newer).fetch_manifest("r/x:1", "look".into(), "/w".into());
        assert!(command.read_only && command.capture);
        assert_eq!(command.args.last().map(String::as_str), Some("r/x:1"));
        assert!(!command.args.iter().any(|a| a == "--image-spec"));
    }

    #[test]
    fn the_reads_of_list_are_read_only_with_the_connection_flags_first() {
        let oras = oras(Mode::Newer);
        let ls = oras.list_repositories("r:1/p", "list".into(), "/w".into());
        assert_eq!(
            ls.args,
            [
                "repo",
                "ls",
                "--plain-http",
                "--registry-config",
                "/w/config.json",
                "r:1/p"
            ]
        );
        let tags = oras.list_tags("r:1/p/spectro-packs/archive/x", "tags".into(), "/w".into());
        assert_eq!(&tags.args[..2], ["repo", "tags"]);
        let blob = oras.fetch_blob(
            "r:1/p/x@sha256:0",
            "/w/x-1.tar.gz".into(),
            "blob".into(),
            "/w".into(),
        );
        assert_eq!(
            &blob.args[2..],
            [
                "--plain-http",
                "--registry-config",
                "/w/config.json",
                "--output",
                "/w/x-1.tar.gz",
                "r:1/p/x@sha256:0"
            ]
        );
        for command in [ls, tags, blob] {
            assert!(command.read_only && command.network && !command.stdin_secret);
            assert!(!command.args.iter().any(|a| a == "--image-spec"));
        }
    }

    #[test]
    fn ca_files_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::from_path_buf(dir.path().join("ca.pem")).unwrap();
        assert!(matches!(
            check_ca_file(&path),
            Err(CaFileProblem::Unreadable(_))
        ));
        std::fs::write(&path, "hello").unwrap();
        assert!(matches!(
            check_ca_file(&path),
            Err(CaFileProblem::NoCertificate)
        ));
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\n").unwrap();
        assert!(check_ca_file(&path).is_ok());
    }
}
