//! End to end against real programs: the built packpush drives real oras
//! (Debian's 1.2.x and 1.3.x, with --allow-newer-oras, since no 1.0.0 binary
//! can be had here) against a real distribution registry with basic auth,
//! over plain HTTP and HTTPS, and skopeo — not oras — reads the result back.

mod common;

use std::path::Path;

use common::packpush::{Run, Sandbox, fixture_pack};
use common::testbed::{self, PASSWORD, Registry, Testbed, USER};
use serde_json::Value;

const PROJECT: &str = "spectro-oci-registry";

fn push_args<'a>(registry: &'a Registry, oras: &'a Path, extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "push".into(),
        fixture_pack("hello-world").to_string_lossy().into_owned(),
        "--registry".into(),
        registry.addr(),
        "--project".into(),
        PROJECT.into(),
        "--username".into(),
        USER.into(),
        "--password-stdin".into(),
        "--oras".into(),
        oras.to_string_lossy().into_owned(),
        "--allow-newer-oras".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run(sandbox: &Sandbox, args: &[String], password: &str) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sandbox.run(&args, password)
}

/// The value after `label` on a line of the push summary.
fn summary_value(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no '{label}' line in:\n{out}"))
        .trim()
        .to_string()
}

fn push_and_read_back(oras_name: &str, oras: &Path, tls: bool) {
    let registry = Registry::start(tls);
    let sandbox = Sandbox::new();
    let out_dir = tempfile::tempdir().unwrap();
    let out_dir_str = out_dir.path().to_str().unwrap();
    let cert = registry.cert().to_str().unwrap();
    let tls_args: Vec<&str> = if tls {
        vec!["--ca-file", cert]
    } else {
        vec!["--plain-http"]
    };
    let mut extra = tls_args.clone();
    extra.extend(["--output-dir", out_dir_str]);
    let result = run(&sandbox, &push_args(&registry, oras, &extra), PASSWORD);
    result.assert_code(0);

    let digest = summary_value(&result.stdout, "digest");
    let base = summary_value(&result.stdout, "base");
    let reference = format!("{PROJECT}/spectro-packs/archive/hello-world:1.0.0");

    // skopeo reads the pack manifest: its digest is the one packpush reported.
    let raw = testbed::inspect_raw(&registry, &reference)
        .unwrap_or_else(|e| panic!("oras {oras_name}: skopeo cannot read {reference}: {e}"));
    assert_eq!(packpush::digest::of_bytes(&raw), digest, "oras {oras_name}");
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.unknown.config.v1+json"
    );
    assert!(
        manifest.get("artifactType").is_none(),
        "oras {oras_name}: {manifest}"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        "hello-world-1.0.0.tar.gz"
    );

    // The layer is the archive packpush kept in --output-dir, byte for byte.
    let archive = out_dir.path().join("hello-world-1.0.0.tar.gz");
    let (archive_digest, archive_size) =
        packpush::digest::of_file(camino::Utf8Path::from_path(&archive).unwrap()).unwrap();
    assert_eq!(layers[0]["digest"], archive_digest.as_str());
    assert_eq!(layers[0]["size"], archive_size);
    let listing = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for entry in [
        "hello-world/pack.json",
        "hello-world/values.yaml",
        "hello-world/logo.png",
    ] {
        assert!(
            listing.lines().any(|l| l == entry),
            "{entry} not in archive:\n{listing}"
        );
    }

    // The tag, and the base-path artifact by the digest step 3 reported.
    let tags = testbed::list_tags(
        &registry,
        &format!("{PROJECT}/spectro-packs/archive/hello-world"),
    )
    .unwrap();
    assert_eq!(tags, ["1.0.0"]);
    let base_ref = base.split_once('/').map(|(_, r)| r).unwrap();
    assert!(
        base_ref.starts_with(&format!("{PROJECT}/spectro-packs/archive@sha256:")),
        "{base}"
    );
    let base_raw = testbed::inspect_raw(&registry, base_ref).unwrap();
    let base_manifest: Value = serde_json::from_slice(&base_raw).unwrap();
    assert_eq!(
        base_manifest["layers"],
        Value::Array(vec![]),
        "{base_manifest}"
    );
    assert_eq!(
        base_manifest["config"]["mediaType"],
        "application/vnd.unknown.config.v1+json"
    );
    assert!(base_manifest.get("artifactType").is_none());

    // Nothing left behind: no temporary files, no ~/.docker in the sandbox HOME.
    assert_eq!(sandbox.leftovers(), Vec::<std::path::PathBuf>::new());
    assert!(!sandbox.home().join(".docker").exists());
}

#[test]
fn oras_1_2_plain_http() {
    push_and_read_back("1.2", &Testbed::get().oras_1_2, false);
}

#[test]
fn oras_1_2_tls_with_ca_file() {
    push_and_read_back("1.2", &Testbed::get().oras_1_2, true);
}

#[test]
fn oras_1_3_plain_http() {
    push_and_read_back("1.3", &Testbed::get().oras_1_3, false);
}

#[test]
fn oras_1_3_tls_with_ca_file() {
    push_and_read_back("1.3", &Testbed::get().oras_1_3, true);
}

/// A second push of the same pack is reported up to date, in words and in the JSON
/// document, and uploads nothing: the registry's access log shows no second manifest write
/// for the pack, and its tag still names the very manifest of the first push.
#[test]
fn a_second_push_of_the_same_pack_is_up_to_date_and_uploads_nothing() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let args = push_args(&registry, &Testbed::get().oras_1_3, &["--plain-http"]);
    let repo = format!("{PROJECT}/spectro-packs/archive/hello-world");
    let reference = format!("{repo}:1.0.0");

    let first = run(&sandbox, &args, PASSWORD);
    first.assert_code(0);
    let digest = summary_value(&first.stdout, "digest");
    let manifest = testbed::inspect_raw(&registry, &reference)
        .unwrap_or_else(|e| panic!("skopeo cannot read {reference}: {e}"));
    assert_eq!(packpush::digest::of_bytes(&manifest), digest);
    assert_eq!(registry.manifest_puts(&repo), 1, "{}", registry.log());

    let second = run(&sandbox, &args, PASSWORD);
    second.assert_code(0);
    assert!(second.all().contains("up to date"), "{}", second.all());
    assert_eq!(summary_value(&second.stdout, "digest"), digest);

    let mut json_args = args.clone();
    json_args.extend(["--output".to_owned(), "json".to_owned()]);
    let third = run(&sandbox, &json_args, PASSWORD);
    third.assert_code(0);
    let report: Value = serde_json::from_str(&third.stdout)
        .unwrap_or_else(|e| panic!("no JSON document ({e}):\n{}", third.stdout));
    assert_eq!(report["packs"][0]["status"], "up_to_date", "{report:#}");
    assert_eq!(report["packs"][0]["manifest_digest"], digest.as_str());

    assert_eq!(registry.manifest_puts(&repo), 1, "{}", registry.log());
    assert_eq!(
        testbed::inspect_raw(&registry, &reference).unwrap(),
        manifest,
        "the tag names another manifest"
    );
    let tags = testbed::list_tags(&registry, &repo).unwrap();
    assert_eq!(tags, ["1.0.0"]);
}

#[test]
fn wrong_password_is_a_login_failure_and_pushes_nothing() {
    let registry = Registry::start(false);
    for (name, oras) in Testbed::get().orases() {
        let sandbox = Sandbox::new();
        let result = run(
            &sandbox,
            &push_args(&registry, oras, &["--plain-http"]),
            "wrong-password",
        );
        result.assert_code(4);
        assert!(
            result.stderr.contains("step 1 failed"),
            "oras {name}: {}",
            result.stderr
        );
        assert!(
            result.stderr.contains("unauthorized"),
            "oras {name}: {}",
            result.stderr
        );
        assert!(
            result.stderr.contains("refused the credentials"),
            "credentials hint missing: {}",
            result.stderr
        );
        // A login does not name the project: no hint about a missing one.
        assert!(
            !result.stderr.contains("does not exist"),
            "oras {name}: {}",
            result.stderr
        );
        assert!(
            !result.all().contains("wrong-password"),
            "the password was printed"
        );
        assert!(sandbox.leftovers().is_empty(), "{:?}", sandbox.leftovers());
    }
    assert!(
        testbed::list_tags(
            &registry,
            &format!("{PROJECT}/spectro-packs/archive/hello-world")
        )
        .is_err(),
        "something was pushed"
    );
}

#[test]
fn stopped_registry_is_a_login_failure_with_an_address_hint() {
    let mut registry = Registry::start(false);
    registry.stop();
    let sandbox = Sandbox::new();
    let result = run(
        &sandbox,
        &push_args(&registry, &Testbed::get().oras_1_3, &["--plain-http"]),
        PASSWORD,
    );
    result.assert_code(4);
    assert!(
        result.stderr.contains("connection refused"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("check the address and port"),
        "{}",
        result.stderr
    );
}

#[test]
fn tls_registry_without_ca_file_fails_with_the_certificate_hint() {
    let registry = Registry::start(true);
    let sandbox = Sandbox::new();
    let result = run(
        &sandbox,
        &push_args(&registry, &Testbed::get().oras_1_2, &[]),
        PASSWORD,
    );
    result.assert_code(4);
    assert!(result.stderr.contains("x509"), "{}", result.stderr);
    assert!(result.stderr.contains("--ca-file"), "{}", result.stderr);
    // The same push with the CA succeeds.
    let cert = registry.cert().to_str().unwrap();
    run(
        &sandbox,
        &push_args(&registry, &Testbed::get().oras_1_2, &["--ca-file", cert]),
        PASSWORD,
    )
    .assert_code(0);
}

#[test]
fn plain_http_registry_without_plain_http_gets_the_plain_http_hint() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let result = run(
        &sandbox,
        &push_args(&registry, &Testbed::get().oras_1_3, &[]),
        PASSWORD,
    );
    result.assert_code(4);
    assert!(
        result.stderr.contains("add --plain-http"),
        "{}",
        result.stderr
    );
}

#[test]
fn newer_oras_without_opt_in_is_refused_before_anything_runs() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let mut args = push_args(&registry, &Testbed::get().oras_1_3, &["--plain-http"]);
    args.retain(|a| a != "--allow-newer-oras");
    let result = run(&sandbox, &args, PASSWORD);
    result.assert_code(3);
    assert!(
        result.stderr.contains("--allow-newer-oras"),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("1.3."), "{}", result.stderr);
    assert!(
        !result.stdout.contains("[1/5]"),
        "a step ran: {}",
        result.stdout
    );
}

#[test]
fn the_dry_run_plan_is_a_script_that_pushes() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let mut args = push_args(
        &registry,
        &Testbed::get().oras_1_3,
        &["--plain-http", "--dry-run"],
    );
    args.retain(|a| a != "--password-stdin");
    let plan = run(&sandbox, &args, "");
    plan.assert_code(0);
    assert!(
        testbed::list_tags(
            &registry,
            &format!("{PROJECT}/spectro-packs/archive/hello-world")
        )
        .is_err(),
        "the dry run pushed"
    );

    // The printed plan, run by sh with the password on its stdin (oras login reads it).
    let script = sandbox.home().join("plan.sh");
    std::fs::write(&script, &plan.stdout).unwrap();
    let mut child = std::process::Command::new("sh")
        .arg(&script)
        .env("HOME", sandbox.home())
        .env("TMPDIR", sandbox.home().join("tmp"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let raw = testbed::inspect_raw(
        &registry,
        &format!("{PROJECT}/spectro-packs/archive/hello-world:1.0.0"),
    )
    .unwrap();
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.unknown.config.v1+json"
    );
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "hello-world-1.0.0.tar.gz"
    );
    // The script's private folder (with the login in it) is removed on exit.
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.home().join("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(
        leftovers
            .iter()
            .all(|p| !p.join("registry-config.json").exists()),
        "{leftovers:?}"
    );
}
