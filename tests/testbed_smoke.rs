//! The testbed itself works: real oras 1.2 and 1.3 log in to and push to a real registry
//! over plain HTTP and over TLS, and skopeo reads back the 1.0.0-shaped manifest; a stopped
//! registry and a closed port refuse connections, and a held closed port stays closed.

mod common;

use std::fs;
use std::io::{ErrorKind, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::testbed::{self, ClosedPort, PASSWORD, Registry, Testbed, USER};
use tempfile::TempDir;

const REPO: &str = "proj/spectro-packs/archive/smoke";
const FILE: &str = "smoke-1.0.0.tar.gz";

/// An `oras` command in a sandbox: empty environment, HOME in `sandbox`.
fn oras(binary: &Path, sandbox: &Path) -> Command {
    let mut command = Command::new(binary);
    command.env_clear().env("HOME", sandbox);
    command
}

fn run(mut command: Command, stdin: Option<&str>) -> Output {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("could not start {command:?}: {error}"));
    let mut pipe = child.stdin.take().expect("stdin is piped");
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("wait for the command")
}

fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn login_push_and_read_back(version: &str, tls: bool) {
    let testbed = Testbed::get();
    let (_, binary) = testbed
        .orases()
        .into_iter()
        .find(|(minor, _)| *minor == version)
        .expect("a known oras version");
    let registry = Registry::start(tls);
    let sandbox = TempDir::new().expect("sandbox home");
    let auth = sandbox.path().join("registry-config.json");
    let work = TempDir::new().expect("work dir");
    let content = b"not really a tarball\n";
    fs::write(work.path().join(FILE), content).expect("write the file to push");

    let mut login = oras(binary, sandbox.path());
    login
        .args(["login", "-u", USER, "--password-stdin", "--registry-config"])
        .arg(&auth)
        .args(registry.oras_tls_args())
        .arg(registry.addr());
    let output = run(login, Some(PASSWORD));
    assert_success(&format!("oras {version} login"), &output);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Login Succeeded"),
        "oras {version} login printed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let auth_json = fs::read_to_string(&auth).expect("oras wrote the registry config");
    assert!(auth_json.contains(&registry.addr()), "{auth_json}");

    let mut push = oras(binary, sandbox.path());
    push.current_dir(work.path())
        .args(["push", "--image-spec", "v1.0", "--registry-config"])
        .arg(&auth)
        .args(registry.oras_tls_args())
        .arg(format!("{}/{REPO}:1.0.0", registry.addr()))
        .arg(FILE);
    let output = run(push, None);
    assert_success(&format!("oras {version} push"), &output);

    assert!(
        !sandbox.path().join(".docker").exists(),
        "oras wrote to ~/.docker despite --registry-config"
    );

    let raw = testbed::inspect_raw(&registry, &format!("{REPO}:1.0.0"))
        .unwrap_or_else(|error| panic!("{error}"));
    let manifest: serde_json::Value = serde_json::from_slice(&raw).expect("manifest is JSON");
    assert_eq!(
        manifest["config"]["mediaType"], "application/vnd.unknown.config.v1+json",
        "{manifest:#}"
    );
    let layers = manifest["layers"].as_array().expect("layers array");
    assert_eq!(layers.len(), 1, "{manifest:#}");
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"], FILE,
        "{manifest:#}"
    );
    assert_eq!(layers[0]["size"], content.len(), "{manifest:#}");

    assert_eq!(
        testbed::list_tags(&registry, REPO).unwrap_or_else(|error| panic!("{error}")),
        ["1.0.0"]
    );
    let missing = testbed::inspect_raw(&registry, &format!("{REPO}:9.9.9"))
        .expect_err("an absent tag is not found");
    assert!(missing.contains("manifest unknown"), "{missing}");
}

#[test]
fn oras_1_2_plain_http() {
    login_push_and_read_back("1.2", false);
}

#[test]
fn oras_1_2_tls() {
    login_push_and_read_back("1.2", true);
}

#[test]
fn oras_1_3_plain_http() {
    login_push_and_read_back("1.3", false);
}

#[test]
fn oras_1_3_tls() {
    login_push_and_read_back("1.3", true);
}

#[test]
fn stopped_registry_and_closed_port_refuse_connections() {
    let testbed = Testbed::get();
    let mut registry = Registry::start(false);
    testbed::list_tags(&registry, "nothing/here").expect_err("no such repository");
    registry.stop();
    let error = testbed::list_tags(&registry, "nothing/here").expect_err("registry is stopped");
    assert!(error.contains("connection refused"), "{error}");

    let sandbox = TempDir::new().expect("sandbox home");
    let mut login = oras(&testbed.oras_1_3, sandbox.path());
    login
        .args(["login", "-u", USER, "--password-stdin", "--plain-http"])
        .arg("--registry-config")
        .arg(sandbox.path().join("auth.json"))
        .arg(Registry::closed_port());
    let output = run(login, Some(PASSWORD));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("connection refused"), "{stderr}");
}

/// A held closed port refuses connections, and no other program can listen on it meanwhile,
/// not even with SO_REUSEADDR (which std's listener sets, as Go's does).
#[test]
fn a_held_closed_port_refuses_connections_and_cannot_be_taken() {
    let closed = ClosedPort::hold();
    let error = TcpStream::connect(closed.addr()).expect_err("connected to a closed port");
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    let taken = TcpListener::bind(closed.addr());
    assert!(taken.is_err(), "another listener took {}", closed.addr());
}
