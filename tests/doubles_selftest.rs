//! The `oras` and `tar` doubles in fixtures/doubles, run directly (no packpush): they
//! answer as ORAS 1.0.0 did in the recorded transcripts (version text, manifest bytes and
//! digests, error texts, the password read from stdin and never prompted for), fail exactly
//! the calls they are told to, stall and die of a signal like a Go program, and record
//! every call. The tests that drive packpush through them rest on this.

mod common;

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::calls::calls_in;
use common::digest::sha256_hex;
use common::doubles::{double, json};
use common::packpush::{fixture_pack, run_command};

const CREATED_KEY: &str = "org.opencontainers.image.created";

fn oras_fixture(version: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/oras")
        .join(version)
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A fixture manifest as oras printed it: the stored files end with a newline, oras does not.
fn fixture_manifest(version: &str, name: &str) -> String {
    String::from_utf8(oras_fixture(version, name))
        .expect("UTF-8 manifest")
        .trim_end()
        .to_owned()
}

/// Runs a double directly with a clean environment plus `envs`: exit code, stdout, stderr.
fn run_double(
    program: &str,
    args: &[&str],
    cwd: &Path,
    envs: &[(&str, &str)],
    stdin: &str,
) -> (i32, String, String) {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", cwd)
        .envs(envs.iter().copied());
    let run = run_command(command, stdin);
    (run.code, run.stdout, run.stderr)
}

#[test]
fn double_version_output_is_that_of_oras_1_0_0() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run_double(&double("oras"), &["version"], dir.path(), &[], "");
    assert_eq!(code, 0);
    assert_eq!(stdout.as_bytes(), oras_fixture("1.0.0", "version.txt"));
    let (_, stdout, _) = run_double(
        &double("oras"),
        &["version"],
        dir.path(),
        &[("ORAS_DOUBLE_VERSION", "1.3.3")],
        "",
    );
    assert_eq!(stdout.as_bytes(), oras_fixture("1.3.3", "version.txt"));
    let (code, stdout, _) = run_double(
        &double("oras"),
        &["version"],
        dir.path(),
        &[("ORAS_DOUBLE_VERSION", "garbage")],
        "",
    );
    assert_eq!(code, 0);
    assert!(!stdout.contains("Version:"), "{stdout}");
    // 1.0.0 has no --version flag.
    let (code, _, stderr) = run_double(&double("oras"), &["--version"], dir.path(), &[], "");
    assert_eq!((code, stderr.trim()), (1, "Error: unknown flag: --version"));
}

#[test]
fn double_writes_the_manifests_oras_1_0_0_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry");
    let envs = [
        ("ORAS_DOUBLE_REGISTRY", registry.to_str().unwrap()),
        ("ORAS_DOUBLE_AUTH", "none"),
    ];
    let base = "127.0.0.1:5005/spectro-oci-registry/spectro-packs/archive";
    let created = |time: &str| format!("{CREATED_KEY}={time}");

    // The empty push with 1.0.0's push time gives 1.0.0's very digest (flow.log).
    let (code, stdout, stderr) = run_double(
        &double("oras"),
        &[
            "push",
            "--plain-http",
            base,
            "--annotation",
            &created("2026-11-27T22:20:17Z"),
            "--export-manifest",
            "empty.json",
        ],
        dir.path(),
        &envs,
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let empty_digest = "sha256:8a0e565d6f9e3f17bee8257d91e59819dc9dcfae5eac56c4145356e85cf1aa93";
    assert_eq!(
        stdout,
        format!("Uploading empty artifact\nPushed [registry] {base}\nDigest: {empty_digest}\n")
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("empty.json")).unwrap(),
        fixture_manifest("1.0.0", "manifest-empty.json")
    );

    // A file push: the 1.0.0 manifest but for the layer's digest and size.
    let content = b"not really a tarball";
    fs::write(dir.path().join("mypack-1.0.0.tar.gz"), content).unwrap();
    let reference = format!("{base}/mypack:1.0.0");
    let (code, stdout, stderr) = run_double(
        &double("oras"),
        &[
            "push",
            "--plain-http",
            &reference,
            "mypack-1.0.0.tar.gz",
            "-a",
            &created("2026-11-27T22:20:18Z"),
            "--export-manifest",
            "pack.json",
        ],
        dir.path(),
        &envs,
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let layer = sha256_hex(content);
    let expected = fixture_manifest("1.0.0", "manifest-pack.json")
        .replace(
            "3875a528bf355049310c349ca62d8e1e5daf7276353f01f190c0462786e89fc5",
            &layer,
        )
        .replace("\"size\":331", &format!("\"size\":{}", content.len()));
    let written = fs::read_to_string(dir.path().join("pack.json")).unwrap();
    assert_eq!(written, expected);
    let digest = format!("sha256:{}", sha256_hex(written.as_bytes()));
    assert_eq!(
        stdout,
        format!(
            "Uploading {short} mypack-1.0.0.tar.gz\nUploaded  {short} mypack-1.0.0.tar.gz\n\
             Pushed [registry] {reference}\nDigest: {digest}\n",
            short = &layer[..12]
        )
    );

    // Read back by tag and by digest: the same bytes, no trailing newline.
    for fetched in [reference.clone(), format!("{base}/mypack@{digest}")] {
        let (code, stdout, stderr) = run_double(
            &double("oras"),
            &["manifest", "fetch", "--plain-http", &fetched],
            dir.path(),
            &envs,
            "",
        );
        assert_eq!((code, stdout.as_str()), (0, written.as_str()), "{stderr}");
    }
    let (code, _, stderr) = run_double(
        &double("oras"),
        &[
            "manifest",
            "fetch",
            "--plain-http",
            &format!("{base}/mypack:2.0.0"),
        ],
        dir.path(),
        &envs,
        "",
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim(),
        format!("Error: {base}/mypack:2.0.0: not found")
    );
    let (code, _, stderr) = run_double(
        &double("oras"),
        &["manifest", "fetch", "--plain-http", base],
        dir.path(),
        &envs,
        "",
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("invalid image reference"), "{stderr}");
}

#[test]
fn double_image_spec_follows_the_pretended_version() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry");
    fs::write(dir.path().join("p-1.tar.gz"), b"x").unwrap();
    let push = |version: &str, spec: Option<&str>, out: &str| {
        let mut args = vec![
            "push",
            "--plain-http",
            "r:1/p/spectro-packs/archive/p:1",
            "p-1.tar.gz",
            "--export-manifest",
            out,
        ];
        if let Some(spec) = spec {
            args.extend(["--image-spec", spec]);
        }
        run_double(
            &double("oras"),
            &args,
            dir.path(),
            &[
                ("ORAS_DOUBLE_REGISTRY", registry.to_str().unwrap()),
                ("ORAS_DOUBLE_AUTH", "none"),
                ("ORAS_DOUBLE_VERSION", version),
            ],
            "",
        )
    };
    // 1.0.0's --image-spec knows only v1.1-image and v1.1-artifact.
    let (code, stdout, stderr) = push("1.0.0", Some("v1.0"), "a.json");
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim(),
        "Error: unknown image specification flag: \"v1.0\""
    );
    assert!(stdout.is_empty() && !dir.path().join("a.json").exists());
    // 1.1.0 and later: the newer shape by default, 1.0.0's with --image-spec v1.0.
    let (code, _, stderr) = push("1.2.0", None, "b.json");
    assert_eq!(code, 0, "{stderr}");
    let newer = json(&fs::read(dir.path().join("b.json")).unwrap());
    assert_eq!(newer["artifactType"], "application/vnd.unknown.artifact.v1");
    let (code, _, stderr) = push("1.2.0", Some("v1.0"), "c.json");
    assert_eq!(code, 0, "{stderr}");
    let old = json(&fs::read(dir.path().join("c.json")).unwrap());
    assert!(old.get("artifactType").is_none(), "{old}");
    assert_eq!(
        old["config"]["mediaType"],
        "application/vnd.unknown.config.v1+json"
    );
}

#[test]
fn double_login_reads_stdin_and_never_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let log_env = [("DOUBLE_LOG", log.to_str().unwrap())];
    let config = dir.path().join("auth.json");
    let config = config.to_str().unwrap();
    let login = [
        "login",
        "127.0.0.1:5005",
        "-u",
        "admin",
        "--password-stdin",
        "--plain-http",
        "--registry-config",
        config,
    ];
    let (code, stdout, stderr) = run_double(
        &double("oras"),
        &login,
        dir.path(),
        &log_env,
        "Harbor12345\n",
    );
    assert_eq!(
        (code, stdout.as_str()),
        (0, "Login Succeeded\n"),
        "{stderr}"
    );
    let auth = json(&fs::read(config).unwrap());
    assert_eq!(
        auth["auths"]["127.0.0.1:5005"]["auth"],
        "YWRtaW46SGFyYm9yMTIzNDU="
    );
    // Empty stdin: 1.0.0 falls back to a prompt, which fails without a terminal.
    let (code, _, stderr) = run_double(&double("oras"), &login, dir.path(), &log_env, "");
    assert_eq!(
        (code, stderr.trim()),
        (1, "Error: inappropriate ioctl for device")
    );
    // -p works but warns, and the call log says so.
    let (code, _, stderr) = run_double(
        &double("oras"),
        &[
            "login",
            "127.0.0.1:5005",
            "-u",
            "admin",
            "-p",
            "pw",
            "--registry-config",
            config,
        ],
        dir.path(),
        &log_env,
        "",
    );
    assert_eq!(code, 0);
    assert!(
        stderr.contains("WARNING! Using --password via the CLI is insecure."),
        "{stderr}"
    );

    let calls = calls_in(&log);
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].argv, login);
    assert_eq!(
        calls[0].stdin_sha256.as_deref(),
        Some(sha256_hex(b"Harbor12345\n").as_str())
    );
    assert_eq!(
        calls[1].stdin_sha256.as_deref(),
        Some(sha256_hex(b"").as_str())
    );
    assert!(!calls[0].dir.join("password_on_command_line").exists());
    assert_eq!(calls[2].file("password_on_command_line"), b"yes");
    // The secret itself is in no log file but the -p call's argv.
    for call in &calls[..2] {
        for entry in fs::read_dir(&call.dir).unwrap() {
            let bytes = fs::read(entry.unwrap().path()).unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains("Harbor12345"));
        }
    }
}

#[test]
fn double_tar_failure_leaves_a_partial_archive_and_version_passes_through() {
    let dir = tempfile::tempdir().unwrap();
    let packs = fixture_pack("hello-world").parent().unwrap().to_owned();
    let archive = dir.path().join("out.tar.gz");
    let archive = archive.to_str().unwrap();
    let (code, _, stderr) = run_double(
        &double("tar"),
        &["-czvf", archive, "hello-world"],
        &packs,
        &[("TAR_DOUBLE_FAIL", "1")],
        "",
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("tar: Error is not recoverable"), "{stderr}");
    let garbage = fs::read(archive).expect("a partial archive is left behind");
    assert!(!garbage.is_empty());
    let (code, stdout, _) = run_double(
        &double("tar"),
        &["--version"],
        dir.path(),
        &[("TAR_DOUBLE_FAIL", "1")],
        "",
    );
    assert_eq!(code, 0);
    assert!(stdout.starts_with("tar ("), "{stdout}");
}

/// Starts a double told to stall, waits for its pid file, sends `signal` and returns how it
/// ended and what its log says.
fn stall_and_signal(
    program: &str,
    args: &[&str],
    env: (&str, &str),
    signal: &str,
) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DOUBLE_LOG", &log)
        .env("ORAS_DOUBLE_AUTH", "none")
        .env(env.0, env.1)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = log.join("0001/pid");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pid_file.exists() {
        assert!(Instant::now() < deadline, "no pid file");
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = fs::read_to_string(&pid_file).unwrap();
    assert_eq!(pid, child.id().to_string());
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), pid.as_str()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the stall outlived the signal"
    );
    (
        status.signal().unwrap_or(-1),
        fs::read_to_string(log.join("0001/signal")).unwrap_or_default(),
    )
}

#[test]
fn double_sleep_records_its_pid_and_dies_of_the_signal() {
    let fetch = ["manifest", "fetch", "r:1/p/a:1"];
    let sleep = ("ORAS_DOUBLE_SLEEP", "login:30,fetch:30");
    assert_eq!(
        stall_and_signal(&double("oras"), &fetch, sleep, "TERM"),
        (15, "TERM".into())
    );
    assert_eq!(
        stall_and_signal(&double("oras"), &fetch, sleep, "INT"),
        (2, "INT".into())
    );
    let tar = ["-czf", "x.tar.gz", "."];
    let sleep = ("TAR_DOUBLE_SLEEP", "30");
    assert_eq!(
        stall_and_signal(&double("tar"), &tar, sleep, "TERM"),
        (15, "TERM".into())
    );
}

#[test]
fn double_lookup_verify_and_ref_failures_hit_only_their_calls() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry");
    let log = dir.path().join("log");
    fs::write(dir.path().join("p-1.tar.gz"), b"x").unwrap();
    let host = "127.0.0.1:5005";
    let repo = "p/spectro-packs/archive";
    let p_ref = format!("{host}/{repo}/p:1");
    let q_ref = format!("{host}/{repo}/q:1");
    let oras = |args: &[&str], fail: &str, only: &str| {
        let mut envs = vec![
            ("ORAS_DOUBLE_REGISTRY", registry.to_str().unwrap()),
            ("ORAS_DOUBLE_AUTH", "none"),
            ("DOUBLE_LOG", log.to_str().unwrap()),
            ("ORAS_DOUBLE_FAIL", fail),
        ];
        if !only.is_empty() {
            envs.push(("ORAS_DOUBLE_FAIL_REF", only));
        }
        run_double(&double("oras"), args, dir.path(), &envs, "")
    };
    let fetch = |reference: &str, fail: &str, only: &str| {
        oras(
            &["manifest", "fetch", "--plain-http", reference],
            fail,
            only,
        )
    };
    let push = |reference: &str, fail: &str, only: &str| {
        oras(
            &["push", "--plain-http", reference, "p-1.tar.gz"],
            fail,
            only,
        )
    };
    let not_found = |reference: &str| format!("Error: {reference}: not found");

    // lookup: only the first fetch of a tag fails, with 1.0.0's 401 text.
    let (code, _, stderr) = fetch(&p_ref, "lookup", "");
    assert_eq!(
        (code, stderr.trim()),
        (
            1,
            format!(
                "Error: GET \"http://{host}/v2/{repo}/p/manifests/1\": response status code 401: \
                 unauthorized: authentication required"
            )
            .as_str()
        )
    );
    let (code, _, stderr) = fetch(&p_ref, "lookup", "");
    assert_eq!((code, stderr.trim()), (1, not_found(&p_ref).as_str()));

    // verify: a tag the registry does not hold is simply not found ...
    let (code, _, stderr) = fetch(&q_ref, "verify", "");
    assert_eq!((code, stderr.trim()), (1, not_found(&q_ref).as_str()));
    let (code, stdout, stderr) = push(&p_ref, "verify", "");
    assert_eq!(code, 0, "{stderr}");
    let digest = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .expect("a digest line")
        .to_owned();
    // ... one it holds, by tag or by digest, is out of reach.
    for (reference, target) in [
        (p_ref.clone(), "1".to_owned()),
        (format!("{host}/{repo}/p@{digest}"), digest.clone()),
    ] {
        let (code, stdout, stderr) = fetch(&reference, "verify", "");
        assert_eq!(
            (code, stderr.trim()),
            (
                1,
                format!(
                    "Error: Get \"http://{host}/v2/{repo}/p/manifests/{target}\": dial tcp {host}: \
                     connect: connection refused"
                )
                .as_str()
            )
        );
        assert!(stdout.is_empty(), "{stdout}");
    }

    // ORAS_DOUBLE_FAIL_REF: only calls whose reference contains it fail.
    let (code, stdout, stderr) = fetch(&p_ref, "verify", "/q:");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(format!("sha256:{}", sha256_hex(stdout.as_bytes())), digest);
    let (code, _, stderr) = push(&p_ref, "push-pack", "/q:");
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = push(&q_ref, "push-pack", "/q:");
    assert_eq!(code, 1);
    assert!(
        stderr.contains("response status code 401: Unauthorized"),
        "{stderr}"
    );
    // fetch: every fetch, whatever the registry holds.
    let (code, _, stderr) = fetch(&p_ref, "fetch", "");
    assert_eq!((code, stderr.trim()), (1, not_found(&p_ref).as_str()));

    // The call log names the injected failure and keeps oras's words.
    let calls = calls_in(&log);
    let failed: Vec<Option<&str>> = calls.iter().map(|c| c.failed.as_deref()).collect();
    assert_eq!(
        failed,
        [
            Some("lookup"),
            None,
            None,
            None,
            Some("verify"),
            Some("verify"),
            None,
            None,
            Some("push-pack"),
            Some("fetch")
        ]
    );
    assert_eq!(
        calls[1].error.as_deref(),
        Some(format!("{p_ref}: not found").as_str())
    );
    assert_eq!(calls[3].error, None);
    assert_eq!(calls[6].file("digest"), digest.as_bytes());
}
