//! What the error texts of oras (and the registry through it) and of tar
//! mean: the hints a failure carries, and whether a failed look-up says the
//! reference does not exist.

use crate::tools::oras::Tls;

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

/// What a failure's hints need to know besides oras's words: where it
/// went, how oras was told to reach the registry, whether the command
/// logged in (the project plays no part in a login), and how to name what
/// the person gave.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub registry: &'a str,
    pub project: &'a str,
    pub tls: &'a Tls,
    pub login: bool,
    pub wording: Wording,
}

/// How hints name the user name and the way the registry is reached: by
/// their flags (`packpush push`, or values given to the guide on its
/// command line), or as the guide's answers when the guide asked for them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wording {
    /// The guide asked for the user name.
    pub username_asked: bool,
    /// The guide asked how the registry is reached.
    pub tls_asked: bool,
}

/// The guide's question about TLS, as hints quote it.
const TLS_QUESTION: &str = "'How is the registry reached?'";

/// Whether oras's error says the registry refused the account (401 or
/// 403): after a login that worked, what a registry answers a request this
/// account may not make, such as Harbor's catalog for most accounts
/// ("unauthorized to list catalog").
pub fn says_refused(stderr: &str) -> bool {
    let text = stderr.to_ascii_lowercase();
    says_any(&text, CREDENTIALS_REFUSED) || says_any(&text, WRITE_DENIED)
}

/// Hints for the error texts oras prints for known causes.
pub fn hints_for(stderr: &str, context: &Context<'_>) -> Vec<String> {
    let text = stderr.to_ascii_lowercase();
    let registry = context.registry;
    let mut hints = Vec::new();
    if text.contains("server gave http response to https client") {
        hints.push(speaks_plain_http(context));
    }
    if text.contains("status code 400")
        && text.contains("\"http://")
        && *context.tls == Tls::PlainHttp
    {
        hints.push(speaks_https(context));
    }
    if text.contains("x509") || text.contains("certificate") {
        hints.push(if context.wording.tls_asked {
            format!(
                "the certificate of {registry} is not trusted: answer 'HTTPS with a CA file' (its CA \
                 certificate in PEM) or 'HTTPS skipping certificate verification' to {TLS_QUESTION}"
            )
        } else {
            format!(
                "the certificate of {registry} is not trusted: pass --ca-file <its CA certificate in PEM>, \
                 or --insecure to skip verification"
            )
        });
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
        let user = if context.wording.username_asked {
            "the user name and the password you typed"
        } else {
            "--username and the password"
        };
        hints.push(format!(
            "the registry refused the credentials: check {user} \
             (a Harbor robot account is named 'robot$PROJECT+NAME')"
        ));
        // A login does not name the project: only a push can be refused for it.
        if !context.login {
            hints.push(format!(
                "Harbor also answers 'unauthorized' when the project '{}' does not exist: \
                 create it in the Harbor UI (Projects > New Project) first",
                context.project
            ));
        }
    }
    if says_any(&text, IMMUTABLE) {
        hints.push(format!(
            "a tag immutability rule of the Harbor project '{}' protects this version: \
             push the changed pack under a new version in pack.json (an immutable version \
             cannot be replaced, not even with --overwrite)",
            context.project
        ));
    } else if says_any(&text, WRITE_DENIED) {
        hints.push(format!(
            "the registry denied the write: the account needs push rights in the project \
             '{}' (a Harbor robot account needs the push permission)",
            context.project
        ));
    }
    hints
}

/// A plain-HTTP registry reached over TLS: `--plain-http` instead of the
/// TLS flag given (the flags exclude each other), or the guide's answer.
fn speaks_plain_http(context: &Context<'_>) -> String {
    let registry = context.registry;
    let trust = "only for a registry you trust on a private network";
    let (fix, in_command) = match context.tls {
        Tls::Insecure => (
            "replace --insecure with --plain-http".to_string(),
            "in the command below",
        ),
        Tls::CaFile(ca) => (
            format!("replace --ca-file {ca} with --plain-http"),
            "in the command below",
        ),
        Tls::Verify | Tls::PlainHttp => ("add --plain-http".to_string(), "to the command below"),
    };
    if context.wording.tls_asked {
        format!(
            "{registry} speaks plain HTTP: answer 'plain HTTP (no TLS)' to {TLS_QUESTION} \
             ({trust}), or {fix} {in_command}"
        )
    } else {
        format!("{registry} speaks plain HTTP: {fix} ({trust})")
    }
}

/// `--plain-http` sent to an HTTPS registry, which answers 400 Bad Request.
fn speaks_https(context: &Context<'_>) -> String {
    let registry = context.registry;
    if context.wording.tls_asked {
        format!(
            "{registry} answered plain HTTP with 400 Bad Request, as an HTTPS server does: \
             answer one of the HTTPS choices to {TLS_QUESTION}, or leave out --plain-http \
             in the command below"
        )
    } else {
        format!(
            "{registry} answered plain HTTP with 400 Bad Request, as an HTTPS server does: \
             leave out --plain-http (and pass --ca-file <its CA certificate in PEM> when a \
             private CA signed its certificate)"
        )
    }
}

/// HTTP statuses of an overloaded or briefly unavailable registry (or of a
/// load balancer in front of it): worth trying again.
const TRANSIENT_STATUS: &[(u16, &str)] = &[
    (408, "Request Timeout"),
    (429, "Too Many Requests"),
    (500, "Internal Server Error"),
    (502, "Bad Gateway"),
    (503, "Service Unavailable"),
    (504, "Gateway Timeout"),
];

/// Failures of the link, and what to call them.
const TRANSIENT_LINK: &[(&str, &str)] = &[
    ("connection refused", "could not connect"),
    ("no route to host", "could not connect"),
    ("network is unreachable", "could not connect"),
    ("connection reset", "connection reset"),
    ("broken pipe", "connection closed"),
    ("unexpected eof", "connection closed"),
    ("use of closed network connection", "connection closed"),
    ("server closed idle connection", "connection closed"),
    ("connection closed", "connection closed"),
    ("tls handshake timeout", "TLS handshake time-out"),
    ("i/o timeout", "no answer (i/o timeout)"),
];

/// Whether oras's error says the link or an overloaded registry failed (a
/// failure that may pass), and what to call it; `None` for everything
/// else: refused credentials, a missing project, an immutable tag, a
/// rejected manifest, anything local.
pub fn transient(stderr: &str) -> Option<String> {
    let text = stderr.to_ascii_lowercase();
    for (code, name) in TRANSIENT_STATUS {
        if text.contains(&format!("status code {code}")) {
            return Some(format!("{code} {name}"));
        }
    }
    if let Some((_, name)) = TRANSIENT_LINK.iter().find(|(p, _)| text.contains(p)) {
        return Some((*name).to_string());
    }
    // Go's net/http says a connection that closed mid-answer with a bare
    // `: EOF` at the end of the error.
    text.lines()
        .any(|l| l.trim_end().ends_with(": eof"))
        .then(|| "connection closed".to_string())
}

/// Hints for tar's known failures.
pub fn archive_hints(stderr: &str) -> Vec<String> {
    let text = stderr.to_ascii_lowercase();
    let mut hints = Vec::new();
    if text.contains("no space left on device") || text.contains("disk quota exceeded") {
        hints.push("the output folder's disk is full: free space there, or pass --output-dir on a disk with room for the archive".to_string());
    }
    if text.contains("file size limit exceeded") {
        hints.push("a file size limit (ulimit -f) stopped tar: raise it (ulimit -f unlimited) and run again".to_string());
    }
    if text.contains("permission denied") {
        hints.push("tar cannot read a file of the pack or write the archive: check the permissions (packpush check PACK_DIR)".to_string());
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oras");
    const VERSIONS: [&str; 4] = ["1.0.0", "1.1.0", "1.2.0", "1.3.3"];

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

    fn credential_hint(hints: &[String]) -> bool {
        hints.iter().any(|h| h.contains("refused the credentials"))
    }

    fn hints_of(stderr: &str) -> Vec<String> {
        hints_with(stderr, &Tls::Verify, false)
    }

    /// The hints of a push's failure, oras reaching the registry as `tls`.
    fn hints_with(stderr: &str, tls: &Tls, login: bool) -> Vec<String> {
        let context = Context {
            registry: "127.0.0.1:5005",
            project: "spectro-oci-registry",
            tls,
            login,
            wording: Wording::default(),
        };
        hints_for(stderr, &context)
    }

    /// How a recorded command reached the registry, from its title.
    fn tls_of(title: &str) -> Tls {
        if title.contains("--ca-file") && !title.contains("no --ca-file") {
            Tls::CaFile("ca.pem".into())
        } else if title.contains("--insecure") {
            Tls::Insecure
        } else if title.contains("plain http") && !title.contains("WITHOUT") {
            Tls::PlainHttp
        } else {
            Tls::Verify
        }
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
                let tls = tls_of(&title);
                let hints = hints_with(&stderr, &tls, title.contains("login"));
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
    fn refusals_are_told_from_other_failures() {
        assert!(says_refused(
            "Error response from registry: could not list repositories for \"harbor.local\" \
             with prefix \"p/\"\nunauthorized: unauthorized to list catalog: unauthorized to list catalog"
        ));
        assert!(says_refused(
            "Error: GET \"https://r/v2/_catalog\": response status code 403: Forbidden"
        ));
        assert!(!says_refused(
            "Error: Get \"http://127.0.0.1:4013/v2/_catalog\": dial tcp 127.0.0.1:4013: connect: connection refused"
        ));
        assert!(!says_refused(
            "Error: response status code 404: name unknown"
        ));
    }

    #[test]
    fn hints_name_known_causes() {
        let h = hints_of("Error: ... http: server gave HTTP response to HTTPS client");
        assert!(h.iter().any(|h| h.contains("add --plain-http")));
        let h = hints_of("x509: certificate signed by unknown authority");
        assert!(h.iter().any(|h| h.contains("--ca-file")));
        let h = hints_of("response status code 401: unauthorized");
        assert!(
            h.iter()
                .any(|h| h.contains("project 'spectro-oci-registry' does not exist"))
        );
        let h = hints_of("dial tcp 127.0.0.1:1: connect: connection refused");
        assert!(h.iter().any(|h| h.contains("address and port")));
    }

    #[test]
    fn a_plain_http_registry_gets_the_flag_that_replaces_the_tls_flag_given() {
        let http = "Error: Get \"https://r/v2/\": http: server gave HTTP response to HTTPS client";
        let fix = |tls: &Tls| {
            let hints = hints_with(http, tls, true);
            assert_eq!(hints.len(), 1, "{hints:#?}");
            hints[0].clone()
        };
        assert!(fix(&Tls::Verify).contains("add --plain-http"));
        assert!(fix(&Tls::Insecure).contains("replace --insecure with --plain-http"));
        let ca = fix(&Tls::CaFile("/etc/ca.pem".into()));
        assert!(
            ca.contains("replace --ca-file /etc/ca.pem with --plain-http"),
            "{ca}"
        );
        assert!(!ca.contains("add --plain-http"), "{ca}");
    }

    #[test]
    fn plain_http_to_an_https_registry_is_named() {
        let bad = "Error response from registry: GET \"http://r:5006/v2/\": response status code 400: Bad Request";
        let hints = hints_with(bad, &Tls::PlainHttp, true);
        assert_eq!(hints.len(), 1, "{hints:#?}");
        assert!(hints[0].contains("leave out --plain-http"), "{hints:#?}");
        // Without --plain-http, a 400 is something else.
        assert!(hints_with(bad, &Tls::CaFile("ca.pem".into()), true).is_empty());
    }

    #[test]
    fn only_a_push_is_told_about_a_missing_project() {
        let refused = "Error: GET \"http://r/v2/\": response status code 401: unauthorized";
        let project = |hints: &[String]| hints.iter().any(|h| h.contains("does not exist"));
        let login = hints_with(refused, &Tls::PlainHttp, true);
        assert!(credential_hint(&login) && !project(&login), "{login:#?}");
        let push = hints_with(refused, &Tls::PlainHttp, false);
        assert!(credential_hint(&push) && project(&push), "{push:#?}");
    }

    #[test]
    fn the_guide_names_its_answers_rather_than_flags_it_asked_for() {
        let context = |tls, wording| Context {
            registry: "r",
            project: "p",
            tls,
            login: true,
            wording,
        };
        let asked = Wording {
            username_asked: true,
            tls_asked: true,
        };
        let refused = "response status code 401: unauthorized";
        let hints = hints_for(refused, &context(&Tls::Verify, asked));
        assert!(
            hints[0].contains("check the user name and the password you typed"),
            "{hints:#?}"
        );
        assert!(!hints[0].contains("--username"), "{hints:#?}");
        let http = "server gave HTTP response to HTTPS client";
        let hints = hints_for(http, &context(&Tls::Insecure, asked));
        assert!(
            hints[0].contains("answer 'plain HTTP (no TLS)' to 'How is the registry reached?'")
                && hints[0].contains("replace --insecure with --plain-http in the command below"),
            "{hints:#?}"
        );
        let x509 = "x509: certificate signed by unknown authority";
        let hints = hints_for(x509, &context(&Tls::Verify, asked));
        assert!(
            hints[0].contains("'HTTPS with a CA file'") && !hints[0].contains("--ca-file"),
            "{hints:#?}"
        );
        // Given on the guide's command line, they keep their flags' names.
        let hints = hints_for(refused, &context(&Tls::Verify, Wording::default()));
        assert!(hints[0].contains("--username"), "{hints:#?}");
    }

    #[test]
    fn transient_failures_are_told_from_lasting_ones() {
        for (stderr, reason) in [
            (
                "Error: PUT \"http://r/v2/p/manifests/1\": response status code 503: Service Unavailable",
                "503 Service Unavailable",
            ),
            (
                "Error response from registry: GET \"http://r/v2/\": response status code 502: Bad Gateway",
                "502 Bad Gateway",
            ),
            (
                "Error: HEAD \"http://r/v2/p/blobs/sha256:1\": response status code 429: Too Many Requests",
                "429 Too Many Requests",
            ),
            (
                "Error: Get \"http://127.0.0.1:5005/v2/\": dial tcp 127.0.0.1:5005: connect: connection refused",
                "could not connect",
            ),
            (
                "Error: Put \"http://r/v2/p/blobs/uploads/x\": write tcp 127.0.0.1:1->127.0.0.1:2: write: connection reset by peer",
                "connection reset",
            ),
            (
                "Error: Put \"http://r/v2/p/blobs/uploads/x\": EOF",
                "connection closed",
            ),
            (
                "Error: Get \"https://r/v2/\": net/http: TLS handshake timeout",
                "TLS handshake time-out",
            ),
        ] {
            assert_eq!(transient(stderr).as_deref(), Some(reason), "{stderr}");
        }
        for lasting in [
            "Error: GET \"http://r/v2/\": response status code 401: unauthorized: authentication required",
            "Error: PUT \"http://r/v2/p/manifests/1\": response status code 412: Precondition Failed: immutable",
            "Error: PUT \"http://r/v2/p/manifests/1\": response status code 400: manifest invalid",
            "Error response from registry: failed to push: denied: requested access to the resource is denied",
            "Error: Head \"https://r/v2/\": x509: certificate signed by unknown authority",
            "Error: Get \"http://harbor:5000/v2/\": dial tcp: lookup harbor: no such host",
            "Error: open mypack-1.0.0.tar.gz: no such file or directory",
        ] {
            assert_eq!(transient(lasting), None, "{lasting}");
        }
        // Every failure recorded against a real registry: a stopped registry
        // is the one transient cause among them.
        for version in VERSIONS {
            let log = transcript(&format!("{version}/flow.log"));
            for (title, stderr) in failures(&log) {
                assert_eq!(transient(&stderr), None, "{version} {title}: {stderr}");
            }
        }
        for (title, stderr) in failures(&transcript("registry-stopped.log")) {
            assert_eq!(
                transient(&stderr).as_deref(),
                Some("could not connect"),
                "{title}: {stderr}"
            );
        }
    }

    #[test]
    fn tar_failures_get_their_hints() {
        assert!(
            archive_hints("tar: x: Cannot write: No space left on device")[0]
                .contains("disk is full")
        );
        assert!(archive_hints("File size limit exceeded")[0].contains("ulimit -f"));
        assert!(archive_hints("tar: a: Cannot open: Permission denied")[0].contains("permissions"));
        assert!(archive_hints("tar: all fine").is_empty());
    }
}
