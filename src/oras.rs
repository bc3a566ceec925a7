//! ORAS: which versions are accepted, the argv of every oras call packpush
//! makes, and what known error texts mean.
//!
//! Palette's documentation requires ORAS 1.0.0 because later versions write
//! a different manifest by default. 1.1.0 and later write the 1.0.0 shape
//! again with `--image-spec v1.0`, which packpush adds only when the user
//! opted in with `--allow-newer-oras`.

use camino::{Utf8Path, Utf8PathBuf};
use semver::Version;

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
    fn flags(&self) -> Vec<String> {
        match self {
            Tls::Verify => vec![],
            Tls::PlainHttp => vec!["--plain-http".into()],
            Tls::Insecure => vec!["--insecure".into()],
            Tls::CaFile(path) => vec!["--ca-file".into(), path.to_string()],
        }
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

/// Builds the argv of every oras call, with the connection flags and the
/// registry config each call needs.
#[derive(Clone, Debug)]
pub struct Oras {
    pub program: Utf8PathBuf,
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

    /// `oras login REGISTRY --username USER --password-stdin [tls] [--registry-config CFG]`
    pub fn login(&self, registry: &str, username: &str) -> Vec<String> {
        let mut args = vec![
            "login".into(),
            registry.into(),
            "--username".into(),
            username.into(),
            "--password-stdin".into(),
        ];
        args.extend(self.connection_flags());
        args
    }

    /// `oras push REFERENCE [FILE] [tls] [--registry-config CFG] [--image-spec v1.0]
    /// [--export-manifest OUT] [--annotation ...]`
    pub fn push(
        &self,
        reference: &str,
        file: Option<&str>,
        export_manifest: &Utf8Path,
        annotations: &[(String, String)],
    ) -> Vec<String> {
        let mut args = vec!["push".to_string(), reference.to_string()];
        args.extend(file.map(str::to_string));
        args.extend(self.connection_flags());
        args.extend(self.shape_flags());
        args.push("--export-manifest".into());
        args.push(export_manifest.to_string());
        for (key, value) in annotations {
            args.push("--annotation".into());
            args.push(format!("{key}={value}"));
        }
        args
    }

    /// `oras manifest fetch [tls] [--registry-config CFG] REFERENCE`
    pub fn fetch_manifest(&self, reference: &str) -> Vec<String> {
        let mut args = vec!["manifest".to_string(), "fetch".to_string()];
        args.extend(self.connection_flags());
        args.push(reference.to_string());
        args
    }
}

/// Whether a failed `oras manifest fetch` says the reference does not exist
/// (as opposed to failing for another reason: credentials, network). oras
/// ends such an error with `<reference>: not found`; registries that answer
/// with their own codes say `manifest unknown` or `name unknown`. A bare
/// "404" is not enough: it can be part of a port or a name in the URL.
pub fn says_not_found(stderr: &str) -> bool {
    stderr
        .lines()
        .map(|l| l.trim().to_ascii_lowercase())
        .any(|line| {
            line.ends_with(": not found")
                || line.contains("manifest unknown")
                || line.contains("name unknown")
                || line.contains("response status code 404: not found")
        })
}

/// Phrases with which oras (or the registry through it) says the
/// credentials were refused or are missing. A bare "401" or "credential" is
/// not enough: digits appear in ports and digests, and oras 1.1+ starts
/// every failed login with "failed to validate the credentials", whatever
/// the cause (a refused connection, an untrusted certificate).
const CREDENTIALS_REFUSED: &[&str] = &[
    "status code 401",
    "unauthorized",
    "authentication required",
    "credential required",
    "basic credential not found",
];

/// Phrases of a tag immutability rule (Harbor answers 412 "Failed to process
/// request due to 'repo:tag' configured as immutable.").
const IMMUTABLE: &[&str] = &["status code 412", "precondition failed", "immutable"];

/// Phrases of a refused write: the registry's 403, or its `denied` error
/// code ("denied: requested access to the resource is denied"). A local
/// file's "permission denied" is not one.
const WRITE_DENIED: &[&str] = &[
    "status code 403",
    "denied: ",
    "requested access to the resource is denied",
];

fn says_any(text: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| text.contains(p))
}

/// Hints for the error texts oras prints for known causes.
pub fn hints_for(stderr: &str, registry: &str, project: &str) -> Vec<String> {
    let text = stderr.to_ascii_lowercase();
    let mut hints = Vec::new();
    if text.contains("server gave http response to https client") {
        hints.push(format!(
            "{registry} speaks plain HTTP: add --plain-http (only for a registry you trust on a private network)"
        ));
    }
    if text.contains("x509") || text.contains("certificate") {
        hints.push(format!(
            "the certificate of {registry} is not trusted: pass --ca-file <its CA certificate in PEM>, \
             or --insecure to skip verification"
        ));
    }
    if text.contains("connection refused")
        || text.contains("no such host")
        || text.contains("i/o timeout")
    {
        hints.push(format!(
            "nothing answered at {registry}: check the address and port, and that the registry is running"
        ));
    }
    if says_any(&text, CREDENTIALS_REFUSED) {
        hints.push(
            "the registry refused the credentials: check --username and the password \
             (a Harbor robot account is named 'robot$PROJECT+NAME')"
                .to_string(),
        );
        hints.push(format!(
            "Harbor also answers 'unauthorized' when the project '{project}' does not exist: \
             create it in the Harbor UI (Projects > New Project) first"
        ));
    }
    if says_any(&text, IMMUTABLE) {
        hints.push(format!(
            "a tag immutability rule of the Harbor project '{project}' protects this version: \
             push the changed pack under a new version in pack.json (an immutable version \
             cannot be replaced, not even with --overwrite)"
        ));
    } else if says_any(&text, WRITE_DENIED) {
        hints.push(format!(
            "the registry denied the write: the account needs push rights in the project \
             '{project}' (a Harbor robot account needs the push permission)"
        ));
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

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

    /// `(title, stderr)` of every failed call in a recorded transcript.
    fn failures(log: &str) -> Vec<(String, String)> {
        log.split("\n### ")
            .skip(1)
            .filter(|section| !section.contains("--- rc=0 "))
            .map(|section| {
                let title = section.lines().next().unwrap().to_string();
                let stderr = section
                    .split_once("--- stderr ---\n")
                    .and_then(|(_, rest)| rest.split_once("--- rc="))
                    .map(|(stderr, _)| stderr.to_string())
                    .unwrap();
                (title, stderr)
            })
            .collect()
    }

    fn transcript(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
    }

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oras");
    const VERSIONS: [&str; 4] = ["1.0.0", "1.1.0", "1.2.0", "1.3.3"];

    fn credential_hint(hints: &[String]) -> bool {
        hints.iter().any(|h| h.contains("refused the credentials"))
    }

    fn hints_of(stderr: &str) -> Vec<String> {
        hints_for(stderr, "127.0.0.1:5005", "spectro-oci-registry")
    }

    #[test]
    fn every_recorded_failure_gets_the_hints_of_its_cause_only() {
        let mut seen = 0;
        for version in VERSIONS {
            let mut logs = failures(&transcript(&format!("{version}/flow.log")));
            logs.extend(
                failures(&transcript("registry-stopped.log"))
                    .into_iter()
                    .filter(|(title, _)| title.starts_with(&format!("[{version}]"))),
            );
            for (title, stderr) in logs {
                seen += 1;
                let hints = hints_of(&stderr);
                let context = format!("{version} {title}:\n{stderr}\nhints: {hints:#?}");
                let credentials =
                    title.contains("WRONG password") || title.contains("NO credentials");
                assert_eq!(credential_hint(&hints), credentials, "{context}");
                let certificate = title.contains("no --ca-file");
                assert_eq!(
                    hints.iter().any(|h| h.contains("--ca-file")),
                    certificate,
                    "{context}"
                );
                let stopped = title.contains("registry stopped");
                assert_eq!(
                    hints.iter().any(|h| h.contains("nothing answered")),
                    stopped,
                    "{context}"
                );
                assert_eq!(
                    hints.iter().any(|h| h.contains("add --plain-http")),
                    title.contains("WITHOUT --plain-http to HTTP"),
                    "{context}"
                );
                assert!(
                    !hints
                        .iter()
                        .any(|h| h.contains("immutab") || h.contains("denied")),
                    "{context}"
                );
            }
        }
        // Each version's failures: wrong password, no credentials, TLS, ...
        assert!(seen >= 40, "only {seen} recorded failures");
    }

    #[test]
    fn oras_1_1_login_failures_are_not_taken_for_refused_credentials() {
        // oras 1.1+ starts every failed login this way, whatever the cause.
        let refused = "Error: failed to validate the credentials for 127.0.0.1:5005: Get \
            \"http://127.0.0.1:5005/v2/\": dial tcp 127.0.0.1:5005: connect: connection refused";
        let hints = hints_of(refused);
        assert!(!credential_hint(&hints), "{hints:#?}");
        assert!(
            hints.iter().any(|h| h.contains("nothing answered")),
            "{hints:#?}"
        );
        let x509 = "Error: failed to validate the credentials for 127.0.0.1:5006: Get \
            \"https://127.0.0.1:5006/v2/\": tls: failed to verify certificate: x509: \
            certificate signed by unknown authority";
        let hints = hints_of(x509);
        assert!(!credential_hint(&hints), "{hints:#?}");
        assert!(hints.iter().any(|h| h.contains("--ca-file")), "{hints:#?}");
        // ... and when the credentials are wrong, it says so.
        let wrong = "Error: failed to validate the credentials for 127.0.0.1:5005: GET \
            \"http://127.0.0.1:5005/v2/\": response status code 401: unauthorized: authentication required";
        assert!(credential_hint(&hints_of(wrong)));
    }

    #[test]
    fn ports_and_digests_are_not_status_codes() {
        for stderr in [
            "Error: Get \"http://127.0.0.1:4013/v2/\": dial tcp 127.0.0.1:4013: connect: connection refused",
            "Error: Head \"http://10.0.0.5:41203/v2/p/manifests/sha256:4030412a\": dial tcp 10.0.0.5:41203: connect: connection refused",
            "Error: Get \"http://harbor:4030/v2/\": dial tcp: lookup harbor: no such host",
            "Error: Head \"http://r:5000/v2/p/manifests/sha256:401403412\": i/o timeout",
        ] {
            let hints = hints_of(stderr);
            assert_eq!(hints.len(), 1, "{stderr}: {hints:#?}");
            assert!(
                hints[0].contains("nothing answered"),
                "{stderr}: {hints:#?}"
            );
        }
        // A local file's permission is not the registry's refusal.
        assert!(hints_of("Error: open mypack-1.0.0.tar.gz: permission denied").is_empty());
    }

    #[test]
    fn refused_writes_and_immutable_tags() {
        let denied = hints_of(
            "Error response from registry: failed to push: denied: requested access to the resource is denied",
        );
        assert!(
            denied.iter().any(|h| h.contains("push rights")),
            "{denied:#?}"
        );
        let forbidden = hints_of(
            "Error: PUT \"https://r/v2/p/manifests/1.0.0\": response status code 403: Forbidden",
        );
        assert!(
            forbidden.iter().any(|h| h.contains("push rights")),
            "{forbidden:#?}"
        );
        let immutable = hints_of(
            "Error: PUT \"https://r/v2/p/manifests/1.0.0\": response status code 412: Precondition Failed: \
             Failed to process request due to 'p:1.0.0' configured as immutable.",
        );
        assert!(
            immutable.iter().any(|h| h.contains("immutability")),
            "{immutable:#?}"
        );
        assert!(
            !immutable.iter().any(|h| h.contains("push rights")),
            "{immutable:#?}"
        );
    }

    #[test]
    fn parses_every_recorded_oras_version() {
        for version in VERSIONS {
            let log = transcript(&format!("{version}/flow.log"));
            let output = log
                .split_once("$ oras version\n--- stdout ---\n")
                .and_then(|(_, rest)| rest.split_once("--- stderr ---"))
                .unwrap()
                .0;
            assert_eq!(parse_version(output).unwrap(), v(version));
        }
    }

    fn oras(mode: Mode) -> Oras {
        Oras {
            program: "oras".into(),
            mode,
            tls: Tls::PlainHttp,
            registry_config: Some("/w/config.json".into()),
        }
    }

    #[test]
    fn strict_push_never_adds_image_spec() {
        let args =
            oras(Mode::Strict).push("r/p/spectro-packs/archive", None, "/w/m.json".into(), &[]);
        assert!(!args.iter().any(|a| a == "--image-spec"), "{args:?}");
        assert_eq!(
            args,
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
    }

    #[test]
    fn newer_push_adds_image_spec_v1_0() {
        let args = oras(Mode::Newer).push("r/x:1", Some("x-1.tar.gz"), "/w/m.json".into(), &[]);
        let pos = args.iter().position(|a| a == "--image-spec").unwrap();
        assert_eq!(args[pos + 1], "v1.0");
        assert_eq!(args[2], "x-1.tar.gz");
    }

    #[test]
    fn login_reads_the_password_from_stdin() {
        let args = oras(Mode::Strict).login("r:1", "robot$p+ci");
        assert_eq!(
            &args[..5],
            [
                "login",
                "r:1",
                "--username",
                "robot$p+ci",
                "--password-stdin"
            ]
        );
        assert!(!args.iter().any(|a| a == "-p" || a == "--password"));
    }

    #[test]
    fn not_found_is_told_from_other_failures() {
        assert!(says_not_found(
            "Error response from registry: failed to fetch the content of \"r/p:1\": r/p:1: not found\n"
        ));
        assert!(says_not_found(
            "Error: GET \"http://r/v2/p/manifests/1\": response status code 404: manifest unknown"
        ));
        assert!(!says_not_found(
            "Error: GET \"http://127.0.0.1:4040/v2/p/manifests/1\": response status code 401: unauthorized"
        ));
        assert!(!says_not_found(
            "dial tcp 10.0.0.404:80: connect: connection refused"
        ));
    }

    #[test]
    fn hints_name_known_causes() {
        let h = hints_for(
            "Error: ... http: server gave HTTP response to HTTPS client",
            "r",
            "p",
        );
        assert!(h.iter().any(|h| h.contains("--plain-http")));
        let h = hints_for("x509: certificate signed by unknown authority", "r", "p");
        assert!(h.iter().any(|h| h.contains("--ca-file")));
        let h = hints_for("response status code 401: unauthorized", "r", "proj");
        assert!(
            h.iter()
                .any(|h| h.contains("project 'proj' does not exist"))
        );
        let h = hints_for(
            "dial tcp 127.0.0.1:1: connect: connection refused",
            "r",
            "p",
        );
        assert!(h.iter().any(|h| h.contains("address and port")));
    }
}
