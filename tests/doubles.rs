//! packpush driven through the `oras` and `tar` doubles in fixtures/doubles: the exact argv
//! and order of every call on the strict ORAS 1.0.0 path (no real 1.0.0 binary exists on
//! these machines), what each injected failure does to a run, the read-only look-up before
//! each pack push (re-runs, changed content, `--overwrite`), several packs in one run, the
//! JSON report, and the version policy. The first tests check the doubles themselves
//! against the 1.0.0 transcripts.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::calls::{Call, call_names, calls_in};
use common::digest::sha256_hex;
use common::doubles::{
    ARCHIVE, BASE_REPO, Doubles, HELLO_REPO, MONITORING_REF, MONITORING_REPO, PACK_REF, REGISTRY,
    double, json, push_with,
};
use common::packpush::{Run, fixture_pack};
use common::packs::copy_dir;
use common::testbed::PASSWORD;
use serde_json::Value;

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

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Runs a double directly with a clean environment plus `envs`.
fn run_double(
    program: &str,
    args: &[&str],
    cwd: &Path,
    envs: &[(&str, &str)],
    stdin: &str,
) -> (i32, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", cwd)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the double");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait for the double");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ------------------------------------------------------------------ the doubles themselves

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

// --------------------------------------------------------------- the strict 1.0.0 path

#[test]
fn strict_1_0_0_path_runs_the_documented_commands_in_order() {
    let doubles = Doubles::new();
    let run = doubles.push(&[]);
    run.assert_code(0);

    let steps = doubles.steps();
    assert_eq!(
        steps.iter().map(|c| c.call.as_str()).collect::<Vec<_>>(),
        [
            "login",
            "tar",
            "push-base",
            "fetch",
            "push-pack",
            "fetch",
            "fetch"
        ]
    );
    let [login, tar, base, lookup, pack, fetch_pack, fetch_base] = &steps[..] else {
        unreachable!()
    };

    // Login: the password on stdin, a private registry config in the sandbox's TMPDIR.
    let config = login
        .flag("--registry-config")
        .expect("--registry-config")
        .to_owned();
    assert!(Path::new(&config).starts_with(doubles.tmp()), "{config}");
    assert_eq!(
        login.argv,
        [
            "login",
            REGISTRY,
            "--username",
            "admin",
            "--password-stdin",
            "--plain-http",
            "--registry-config",
            &config
        ]
    );
    assert_eq!(
        login.stdin_sha256.as_deref(),
        Some(sha256_hex(PASSWORD.as_bytes()).as_str())
    );

    // tar: the documented command, run beside the pack folder.
    let archive = PathBuf::from(&tar.argv[1]);
    assert_eq!(
        tar.argv,
        ["-czvf", archive.to_str().unwrap(), "hello-world"]
    );
    assert_eq!(archive.file_name().unwrap(), ARCHIVE);
    let out_dir = archive.parent().unwrap();
    assert!(out_dir.starts_with(doubles.tmp()), "{}", out_dir.display());
    let packs = fs::canonicalize(fixture_pack("hello-world").parent().unwrap()).unwrap();
    assert_eq!(tar.cwd, packs);

    // The empty base-path artifact: no tag, no file.
    let base_export = base.flag("--export-manifest").expect("--export-manifest");
    assert_eq!(
        base.argv,
        [
            "push",
            BASE_REPO,
            "--plain-http",
            "--registry-config",
            &config,
            "--export-manifest",
            base_export
        ]
    );

    // The read-only look-up of the pack's tag, after the base path and before the pack's
    // push: the same command as the read-back by tag. The fresh registry has no such tag.
    assert_eq!(
        lookup.argv,
        [
            "manifest",
            "fetch",
            "--plain-http",
            "--registry-config",
            &config,
            PACK_REF
        ]
    );
    assert_eq!(lookup.argv, fetch_pack.argv);
    assert!(base.dir < lookup.dir && lookup.dir < pack.dir, "{steps:#?}");
    assert_eq!(
        lookup.error.as_deref(),
        Some(format!("{PACK_REF}: not found").as_str())
    );
    assert_eq!(lookup.failed, None, "{lookup:#?}");

    // The pack: bare file name, run from the archive's folder.
    let pack_export = pack.flag("--export-manifest").expect("--export-manifest");
    assert_eq!(
        pack.argv,
        [
            "push",
            PACK_REF,
            ARCHIVE,
            "--plain-http",
            "--registry-config",
            &config,
            "--export-manifest",
            pack_export
        ]
    );
    assert_eq!(pack.cwd, doubles.physical(out_dir));
    // The exported manifests go to the private folder that holds the login, one per pack.
    let work_dir = Path::new(&config).parent().unwrap();
    assert_eq!(Path::new(base_export), work_dir.join("base-manifest.json"));
    assert_eq!(
        Path::new(pack_export),
        work_dir.join("pack-0-manifest.json")
    );

    // Read back: the pack by tag, the base path by the digest of what was pushed.
    assert_eq!(
        fetch_pack.argv,
        [
            "manifest",
            "fetch",
            "--plain-http",
            "--registry-config",
            &config,
            PACK_REF
        ]
    );
    let base_digest = format!("sha256:{}", sha256_hex(&base.file("manifest.json")));
    assert_eq!(
        fetch_base.argv,
        [
            "manifest",
            "fetch",
            "--plain-http",
            "--registry-config",
            &config,
            &format!("{BASE_REPO}@{base_digest}")
        ]
    );

    for call in doubles.calls() {
        assert_eq!(call.env_has_harbor_password, "no", "{call:#?}");
        for arg in &call.argv {
            assert!(
                arg != "--image-spec"
                    && arg != "-p"
                    && arg != "--password"
                    && !arg.starts_with("--password="),
                "{call:#?}"
            );
            assert!(!arg.contains(PASSWORD), "the password in argv: {call:#?}");
        }
    }

    let pack_manifest = pack.file("manifest.json");
    let pack_digest = format!("sha256:{}", sha256_hex(&pack_manifest));
    assert!(run.stdout.contains(PACK_REF), "{}", run.stdout);
    assert!(run.stdout.contains(&pack_digest), "{}", run.stdout);

    let stored = doubles
        .stored_by_tag(HELLO_REPO, "1.0.0")
        .expect("the registry holds the pack's tag");
    assert_eq!(stored, pack_manifest);
    let stored = json(&stored);
    assert!(stored.get("artifactType").is_none(), "{stored}");
    let layers = stored["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "{stored}");
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        ARCHIVE
    );

    assert_eq!(doubles.leftover_names(), Vec::<String>::new());
}

#[test]
fn password_from_harbor_password_reaches_oras_only_on_stdin() {
    let mut doubles = Doubles::new();
    doubles.env("HARBOR_PASSWORD", PASSWORD);
    let run = doubles.run(&Doubles::push_args(&[]), "");
    run.assert_code(0);
    let steps = doubles.steps();
    let login = &steps[0];
    assert_eq!(login.label(), "oras login");
    assert!(
        login.argv.iter().any(|a| a == "--password-stdin"),
        "{login:#?}"
    );
    assert_eq!(
        login.stdin_sha256.as_deref(),
        Some(sha256_hex(PASSWORD.as_bytes()).as_str())
    );
    let calls = doubles.calls();
    assert!(calls.len() >= 8, "{calls:#?}");
    for call in calls {
        assert_eq!(call.env_has_harbor_password, "no", "{call:#?}");
        assert!(!call.argv.iter().any(|a| a.contains(PASSWORD)), "{call:#?}");
    }
}

// ------------------------------------------------------------ a failure at each step

/// After a push or verify failure only the kept archive's folder may be left in TMPDIR:
/// the private folder with the registry config and manifests is gone.
fn assert_only_the_archive_is_left(doubles: &Doubles) {
    let left = doubles.leftover_names();
    assert!(
        left.len() == 1 && left[0].starts_with("packpush-archive-"),
        "only the kept archive's folder may be left in TMPDIR, found {left:?}"
    );
    assert_eq!(
        doubles.physical(archive_of(doubles).parent().unwrap()),
        doubles.physical(&doubles.tmp().join(&left[0]))
    );
}

fn archive_of(doubles: &Doubles) -> PathBuf {
    let tar = doubles
        .steps()
        .into_iter()
        .find(|c| c.program == "tar")
        .expect("tar ran");
    PathBuf::from(&tar.argv[1])
}

#[test]
fn login_failure_stops_the_run_with_exit_4() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_FAIL", "login")], &[]);
    run.assert_code(4);
    assert_eq!(doubles.step_labels(), ["oras login"]);
    assert!(run.stderr.contains("step 1"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "login {REGISTRY} --username admin --password-stdin --plain-http"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("response status code 401"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.lines().any(|l| l.starts_with("hint:")
            && l.contains("Harbor")
            && l.contains("project 'proj'")),
        "{}",
        run.stderr
    );
    assert_eq!(doubles.leftover_names(), Vec::<String>::new());
}

#[test]
fn tar_failure_stops_the_run_with_exit_5_and_removes_the_partial_archive() {
    let (doubles, run) = push_with(&[("TAR_DOUBLE_FAIL", "1")], &[]);
    run.assert_code(5);
    assert_eq!(doubles.step_labels(), ["oras login", "tar"]);
    let archive = archive_of(&doubles);
    assert!(!archive.exists(), "{} left behind", archive.display());
    assert!(run.stderr.contains("step 2"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("tar -czvf {}", archive.display())),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("was removed"), "{}", run.stderr);
    assert_eq!(doubles.leftover_names(), Vec::<String>::new());

    // The same in a folder of the user's choosing.
    let mut doubles = Doubles::new();
    doubles.env("TAR_DOUBLE_FAIL", "1");
    let out = doubles.home().join("out");
    let run = doubles.push(&["--output-dir", out.to_str().unwrap()]);
    run.assert_code(5);
    assert_eq!(archive_of(&doubles), out.join(ARCHIVE));
    assert!(
        !out.join(ARCHIVE).exists(),
        "the partial archive was left in --output-dir"
    );
    assert_eq!(doubles.step_labels(), ["oras login", "tar"]);
}

#[test]
fn base_push_failure_stops_the_run_with_exit_6() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_FAIL", "push-base")], &[]);
    run.assert_code(6);
    assert_eq!(doubles.step_labels(), ["oras login", "tar", "oras push"]);
    assert!(run.stderr.contains("step 3"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("push {BASE_REPO} --plain-http")),
        "{}",
        run.stderr
    );
    assert!(!doubles.registry().exists(), "nothing was stored");
    // As after any failed push, the archive is kept and its path printed (README, "Exit
    // codes": "When a push or the verification fails, the archive is kept and its path
    // printed").
    assert_only_the_archive_is_left(&doubles);
    let archive = archive_of(&doubles);
    assert!(
        run.stderr.contains(archive.to_str().unwrap()),
        "the archive's path is not on stderr: {}",
        run.stderr
    );
}

#[test]
fn pack_push_failure_stops_the_run_with_exit_6_and_keeps_the_archive() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_FAIL", "push-pack")], &[]);
    run.assert_code(6);
    assert_eq!(
        doubles.step_labels(),
        [
            "oras login",
            "tar",
            "oras push",
            "oras manifest fetch",
            "oras push"
        ]
    );
    assert_eq!(doubles.steps()[4].failed.as_deref(), Some("push-pack"));
    assert!(run.stderr.contains("step 4"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("push {PACK_REF} {ARCHIVE}")),
        "{}",
        run.stderr
    );
    let archive = archive_of(&doubles);
    assert!(
        archive.is_file(),
        "the archive {} was not kept",
        archive.display()
    );
    assert!(
        run.stderr.contains(archive.to_str().unwrap()),
        "the archive's path is not on stderr: {}",
        run.stderr
    );
    assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_none());
    assert_only_the_archive_is_left(&doubles);
}

/// `ORAS_DOUBLE_FAIL=fetch` fails every fetch with "not found": the look-up reads that as
/// "not in the registry yet" and the push goes ahead; the read-back then fails.
#[test]
fn fetch_failure_stops_the_run_with_exit_7_and_keeps_the_archive() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_FAIL", "fetch")], &[]);
    run.assert_code(7);
    assert_eq!(
        doubles.step_labels(),
        [
            "oras login",
            "tar",
            "oras push",
            "oras manifest fetch",
            "oras push",
            "oras manifest fetch"
        ]
    );
    assert!(run.stderr.contains("step 5"), "{}", run.stderr);
    assert!(
        run.stderr.contains("manifest fetch --plain-http"),
        "{}",
        run.stderr
    );
    let archive = archive_of(&doubles);
    assert!(
        archive.is_file(),
        "the archive {} was not kept",
        archive.display()
    );
    assert!(
        run.stderr.contains(archive.to_str().unwrap()),
        "{}",
        run.stderr
    );
    assert_only_the_archive_is_left(&doubles);
}

#[test]
fn newer_manifest_shape_fails_verification_with_exit_7() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_SHAPE", "newer")], &[]);
    run.assert_code(7);
    assert_eq!(
        doubles.step_labels(),
        [
            "oras login",
            "tar",
            "oras push",
            "oras manifest fetch",
            "oras push",
            "oras manifest fetch",
            "oras manifest fetch"
        ]
    );
    assert!(run.stderr.contains("step 5"), "{}", run.stderr);
    assert!(run.stderr.contains("artifactType"), "{}", run.stderr);
    assert!(archive_of(&doubles).is_file());
    assert_only_the_archive_is_left(&doubles);
}

#[test]
fn lookup_failure_stops_the_pack_with_exit_6_before_its_push() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_FAIL", "lookup")], &[]);
    run.assert_code(6);
    let steps = doubles.steps();
    assert_eq!(call_names(&steps), ["login", "tar", "push-base", "fetch"]);
    let lookup = &steps[3];
    assert!(lookup.fetches(PACK_REF), "{lookup:#?}");
    assert_eq!(lookup.failed.as_deref(), Some("lookup"));
    assert!(
        run.stderr.contains("response status code 401"),
        "{}",
        run.stderr
    );
    assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_none());
    let archive = archive_of(&doubles);
    assert!(
        archive.is_file(),
        "the archive {} was not kept",
        archive.display()
    );
    assert!(
        run.stderr.contains(archive.to_str().unwrap()),
        "{}",
        run.stderr
    );
    assert_only_the_archive_is_left(&doubles);
    // The error itself says which step failed, and that it was the look-up, like every
    // other step's error does ("step 3 failed: ...", "step 5 (...): ...").
    let error = error_text(&run);
    assert!(error.contains("look-up"), "{}", run.stderr);
    assert!(error.contains("step 4"), "{}", run.stderr);
}

#[test]
fn verify_failure_stops_the_run_with_exit_7_and_keeps_the_archive() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_FAIL", "verify")], &[]);
    run.assert_code(7);
    let steps = doubles.steps();
    assert_eq!(
        call_names(&steps),
        ["login", "tar", "push-base", "fetch", "push-pack", "fetch"]
    );
    // The look-up of the new version was answered "not found"; the read-back failed.
    assert_eq!(steps[3].failed, None, "{:#?}", steps[3]);
    assert!(steps[5].fetches(PACK_REF), "{:#?}", steps[5]);
    assert_eq!(steps[5].failed.as_deref(), Some("verify"));
    assert!(run.stderr.contains("step 5"), "{}", run.stderr);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_some());
    let archive = archive_of(&doubles);
    assert!(
        archive.is_file(),
        "the archive {} was not kept",
        archive.display()
    );
    assert!(
        run.stderr.contains(archive.to_str().unwrap()),
        "{}",
        run.stderr
    );
    assert_only_the_archive_is_left(&doubles);
}

// ------------------------------------------------------------ re-runs: the look-up at work

/// The `error: ...` line packpush ends a failed run with.
fn error_text(run: &Run) -> &str {
    run.stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {}", run.stderr))
}

#[test]
fn a_second_push_of_the_same_pack_is_up_to_date_and_pushes_nothing() {
    let doubles = Doubles::new();
    doubles.push(&[]).assert_code(0);
    let stored = doubles
        .stored_by_tag(HELLO_REPO, "1.0.0")
        .expect("the first run pushed the pack");
    let digest = format!("sha256:{}", sha256_hex(&stored));

    // Same sandbox, same registry, no --output-dir: tar runs again and gives the same
    // archive; the look-up finds it and nothing is pushed for the pack.
    let before = doubles.calls().len();
    let run = doubles.push(&[]);
    run.assert_code(0);
    let steps = doubles.steps_after(before);
    assert_eq!(
        call_names(&steps),
        ["login", "tar", "push-base", "fetch", "fetch", "fetch"]
    );
    assert!(steps[3].fetches(PACK_REF) && steps[4].fetches(PACK_REF));
    assert_eq!(
        steps[3].error, None,
        "the look-up found the tag: {:#?}",
        steps[3]
    );
    assert_eq!(steps[3].file("digest"), digest.as_bytes());
    let base_digest = format!("sha256:{}", sha256_hex(&steps[2].file("manifest.json")));
    assert!(steps[5].fetches(&format!("{BASE_REPO}@{base_digest}")));
    assert!(run.all().contains("up to date"), "{}", run.all());
    assert!(run.stdout.contains(&digest), "{}", run.stdout);
    assert_eq!(
        doubles.stored_by_tag(HELLO_REPO, "1.0.0"),
        Some(stored.clone())
    );
    assert_eq!(doubles.leftover_names(), Vec::<String>::new());

    // The same, as JSON.
    let before = doubles.calls().len();
    let run = doubles.push(&["--output", "json"]);
    run.assert_code(0);
    let steps = doubles.steps_after(before);
    assert!(!steps.iter().any(|c| c.call == "push-pack"), "{steps:#?}");
    let report = json(run.stdout.as_bytes());
    assert_eq!(report["ok"], true);
    assert_eq!(report["packs"][0]["status"], "up_to_date", "{report:#}");
    assert_eq!(report["packs"][0]["manifest_digest"], digest.as_str());
    let push_step = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "push_pack")
        .expect("the push_pack step");
    assert_eq!(push_step["status"], "skipped", "{push_step:#}");
    assert_eq!(
        doubles.calls().iter().filter(|c| c.call == "tar").count(),
        3
    );
    assert_eq!(doubles.stored_by_tag(HELLO_REPO, "1.0.0"), Some(stored));
}

#[test]
fn changed_content_under_the_same_version_is_refused_unless_overwrite() {
    let doubles = Doubles::new();
    let pack = doubles.home().join("packs").join("hello-world");
    copy_dir(&fixture_pack("hello-world"), &pack);
    let packs = [pack.clone()];
    doubles.push_packs(&packs, &[]).assert_code(0);
    let first = doubles.stored_by_tag(HELLO_REPO, "1.0.0").unwrap();

    let mut values = fs::OpenOptions::new()
        .append(true)
        .open(pack.join("values.yaml"))
        .unwrap();
    writeln!(values, "# changed after the first push").unwrap();
    drop(values);

    let before = doubles.calls().len();
    let run = doubles.push_packs(&packs, &[]);
    run.assert_code(6);
    assert_eq!(
        call_names(&doubles.steps_after(before)),
        ["login", "tar", "push-base", "fetch"]
    );
    assert!(run.stderr.contains("different content"), "{}", run.stderr);
    assert!(run.stderr.contains("--overwrite"), "{}", run.stderr);
    assert_eq!(
        doubles.stored_by_tag(HELLO_REPO, "1.0.0"),
        Some(first.clone())
    );

    let before = doubles.calls().len();
    let run = doubles.push_packs(&packs, &["--overwrite"]);
    run.assert_code(0);
    let steps = doubles.steps_after(before);
    assert_eq!(
        call_names(&steps),
        [
            "login",
            "tar",
            "push-base",
            "fetch",
            "push-pack",
            "fetch",
            "fetch"
        ]
    );
    let now = doubles.stored_by_tag(HELLO_REPO, "1.0.0").unwrap();
    assert_eq!(now, steps[4].file("manifest.json"));
    assert_ne!(
        json(&now)["layers"][0]["digest"],
        json(&first)["layers"][0]["digest"]
    );
}

// ------------------------------------------------------------------ several packs at once

/// The fixture packs: hello-world 1.0.0 and sample-monitoring 0.2.1.
fn both_packs() -> [(PathBuf, &'static str, &'static str); 2] {
    [
        (
            fixture_pack("hello-world"),
            "hello-world-1.0.0.tar.gz",
            PACK_REF,
        ),
        (
            fixture_pack("sample-monitoring"),
            "sample-monitoring-0.2.1.tar.gz",
            MONITORING_REF,
        ),
    ]
}

/// One login and one base-path push, first of all; then for each pack: its tar before the
/// base-path push, and after it the look-up, the push and the read-back, in that order.
/// Returns the positions of each pack's calls (tar, look-up, push, read-back).
fn assert_each_pack_in_order(steps: &[Call]) -> Vec<[usize; 4]> {
    let names = call_names(steps);
    assert_eq!(names[0], "login", "{names:?}");
    assert_eq!(
        names.iter().filter(|n| **n == "login").count(),
        1,
        "{names:?}"
    );
    let base = names
        .iter()
        .position(|n| *n == "push-base")
        .expect("a base push");
    assert_eq!(
        names.iter().filter(|n| **n == "push-base").count(),
        1,
        "{names:?}"
    );
    let base_digest = format!("sha256:{}", sha256_hex(&steps[base].file("manifest.json")));
    let base_fetch = format!("{BASE_REPO}@{base_digest}");
    // One base path, read back once per run (by the pack verified first).
    assert_eq!(steps.iter().filter(|c| c.fetches(&base_fetch)).count(), 1);
    both_packs()
        .iter()
        .map(|(_, archive, reference)| {
            let tars: Vec<usize> = (0..steps.len())
                .filter(|&i| {
                    steps[i].call == "tar" && steps[i].argv[1].ends_with(&format!("/{archive}"))
                })
                .collect();
            let fetches: Vec<usize> = (0..steps.len())
                .filter(|&i| steps[i].fetches(reference))
                .collect();
            let pushes: Vec<usize> = (0..steps.len())
                .filter(|&i| steps[i].call == "push-pack" && steps[i].reference() == Some(reference))
                .collect();
            assert_eq!((tars.len(), fetches.len(), pushes.len()), (1, 2, 1), "{names:?}");
            let order = [tars[0], fetches[0], pushes[0], fetches[1]];
            assert!(
                order[0] < base && base < order[1] && order[1] < order[2] && order[2] < order[3],
                "{reference}: tar {}, base push {base}, look-up {}, push {}, read-back {}: {names:?}",
                order[0],
                order[1],
                order[2],
                order[3]
            );
            assert_eq!(steps[order[1]].argv, steps[order[3]].argv);
            order
        })
        .collect()
}

#[test]
fn two_packs_share_one_login_and_one_base_push() {
    let doubles = Doubles::new();
    let folders: Vec<PathBuf> = both_packs().into_iter().map(|(p, _, _)| p).collect();
    let run = doubles.push_packs(&folders, &[]);
    run.assert_code(0);
    let steps = doubles.steps();
    // One job: the packs in the order given.
    assert_eq!(
        call_names(&steps),
        [
            "login",
            "tar",
            "tar",
            "push-base",
            "fetch",
            "push-pack",
            "fetch",
            "fetch",
            "fetch",
            "push-pack",
            "fetch"
        ]
    );
    // The base path is read back once, by the first pack's verification.
    let base_reads: Vec<usize> = (0..steps.len())
        .filter(|&i| {
            steps[i].call == "fetch"
                && steps[i]
                    .argv
                    .last()
                    .is_some_and(|r| r.starts_with(&format!("{BASE_REPO}@sha256:")))
        })
        .collect();
    assert_eq!(base_reads, [7], "{:?}", call_names(&steps));
    let order = assert_each_pack_in_order(&steps);
    assert!(
        order[0][0] < order[1][0] && order[0][3] < order[1][1],
        "{order:?}"
    );
    assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_some());
    assert!(doubles.stored_by_tag(MONITORING_REPO, "0.2.1").is_some());
    for (pack, result) in [("hello-world", "pushed"), ("sample-monitoring", "pushed")] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(pack) && l.contains(result)),
            "no summary line for {pack}: {}",
            run.stdout
        );
    }
    assert_eq!(doubles.leftover_names(), Vec::<String>::new());
}

#[test]
fn two_packs_with_two_jobs_keep_each_pack_in_order() {
    let doubles = Doubles::new();
    let from = fixture_pack("hello-world").parent().unwrap().to_owned();
    let mut args = Doubles::push_args_for(&[], &["--password-stdin", "--jobs", "2"]);
    args.extend(["--from".to_owned(), from.to_str().unwrap().to_owned()]);
    let run = doubles.run(&args, &format!("{PASSWORD}\n"));
    run.assert_code(0);
    let steps = doubles.steps();
    // login, 2 tars, base push, 2 × (look-up, push, read-back), one base read-back.
    assert_eq!(steps.len(), 11, "{:?}", call_names(&steps));
    let base_reads = steps
        .iter()
        .filter(|c| {
            c.call == "fetch"
                && c.argv
                    .last()
                    .is_some_and(|r| r.starts_with(&format!("{BASE_REPO}@sha256:")))
        })
        .count();
    assert_eq!(base_reads, 1, "{:?}", call_names(&steps));
    assert_each_pack_in_order(&steps);
    assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_some());
    assert!(doubles.stored_by_tag(MONITORING_REPO, "0.2.1").is_some());
}

#[test]
fn one_pack_failing_does_not_stop_the_other() {
    let mut doubles = Doubles::new();
    doubles
        .env("ORAS_DOUBLE_FAIL", "push-pack")
        .env("ORAS_DOUBLE_FAIL_REF", "/hello-world:");
    let folders: Vec<PathBuf> = both_packs().into_iter().map(|(p, _, _)| p).collect();
    let run = doubles.push_packs(&folders, &[]);
    run.assert_code(6);
    let steps = doubles.steps();
    let pushes: Vec<(&str, Option<&str>)> = steps
        .iter()
        .filter(|c| c.call == "push-pack")
        .map(|c| (c.reference().unwrap(), c.failed.as_deref()))
        .collect();
    assert_eq!(
        pushes,
        [(PACK_REF, Some("push-pack")), (MONITORING_REF, None)]
    );
    // The second pack was pushed and read back.
    assert_eq!(
        steps.iter().filter(|c| c.fetches(MONITORING_REF)).count(),
        2
    );
    assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_none());
    assert!(doubles.stored_by_tag(MONITORING_REPO, "0.2.1").is_some());
    // The summary table names both.
    let header = run
        .stdout
        .lines()
        .position(|l| l.starts_with("PACK") && l.contains("RESULT"))
        .unwrap_or_else(|| panic!("no summary table: {}", run.stdout));
    let table: Vec<&str> = run.stdout.lines().skip(header + 1).take(2).collect();
    assert!(
        table[0].starts_with("hello-world") && table[0].contains("FAILED"),
        "{}",
        run.stdout
    );
    assert!(
        table[1].starts_with("sample-monitoring") && table[1].contains("pushed"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("1 of 2 packs failed"), "{}", run.stderr);
    assert!(run.stderr.contains("step 4"), "{}", run.stderr);
}

// ------------------------------------------------------------------------- JSON output

/// The whole of stdout is one JSON document, and the password is nowhere in it.
fn json_report(run: &Run) -> Value {
    assert!(!run.stdout.contains(PASSWORD), "{}", run.stdout);
    json(run.stdout.as_bytes())
}

#[test]
fn json_output_describes_the_run() {
    let doubles = Doubles::new();
    let run = doubles.push(&["--output", "json"]);
    run.assert_code(0);
    let report = json_report(&run);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["command"], "push");
    assert_eq!(report["ok"], true);
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["registry"], REGISTRY);
    assert_eq!(report["project"], "proj");
    assert_eq!(report["tools"]["oras"]["version"], "1.0.0");
    assert_eq!(report["tools"]["oras_mode"], "strict");
    assert_eq!(report["error"], Value::Null);

    // The steps, and in them every command that ran, as the doubles recorded it.
    let json_steps = report["steps"].as_array().expect("steps");
    let kinds: Vec<&str> = json_steps
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["login", "archive", "push_base", "push_pack", "verify"]
    );
    for step in json_steps {
        assert_eq!(step["status"], "ok", "{step:#}");
    }
    let commands: Vec<&Value> = json_steps
        .iter()
        .flat_map(|s| s["commands"].as_array().expect("commands"))
        .collect();
    let calls = doubles.steps();
    assert_eq!(commands.len(), calls.len(), "{report:#}");
    for (command, call) in commands.iter().zip(&calls) {
        let argv: Vec<&str> = command["argv"]
            .as_array()
            .expect("argv")
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let program = if call.program == "oras" {
            double("oras")
        } else {
            double("tar")
        };
        assert_eq!(argv[0], program);
        assert_eq!(argv[1..], call.argv, "{command:#}");
        assert_eq!(command["stdin_secret"], call.call == "login", "{command:#}");
    }
    // Step 4: the read-only look-up (answered "not found"), then the push.
    let push_step = &json_steps[3]["commands"];
    assert_eq!(push_step[0]["read_only"], true, "{push_step:#}");
    assert_eq!(push_step[0]["exit_code"], 1, "{push_step:#}");
    assert_eq!(push_step[1]["read_only"], false, "{push_step:#}");
    assert_eq!(push_step[1]["exit_code"], 0, "{push_step:#}");

    let packs = report["packs"].as_array().expect("packs");
    assert_eq!(packs.len(), 1);
    let pack = &packs[0];
    let stored = doubles.stored_by_tag(HELLO_REPO, "1.0.0").unwrap();
    assert_eq!(
        pack["manifest_digest"],
        format!("sha256:{}", sha256_hex(&stored)).as_str()
    );
    let base = calls.iter().find(|c| c.call == "push-base").unwrap();
    assert_eq!(
        pack["base_digest"],
        format!("sha256:{}", sha256_hex(&base.file("manifest.json"))).as_str()
    );
    assert_eq!(pack["name"], "hello-world");
    assert_eq!(pack["version"], "1.0.0");
    assert_eq!(pack["reference"], PACK_REF);
    assert_eq!(pack["status"], "pushed");
    assert_eq!(pack["archive_kept"], false);
    assert_eq!(pack["layer"]["title"], ARCHIVE);
    assert_eq!(
        pack["layer"]["digest"],
        json(&stored)["layers"][0]["digest"]
    );
    assert_eq!(pack["error"], Value::Null);
}

#[test]
fn json_output_on_a_login_failure() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_FAIL", "login")], &["--output", "json"]);
    run.assert_code(4);
    assert_eq!(call_names(&doubles.steps()), ["login"]);
    let report = json_report(&run);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["command"], "push");
    assert_eq!(report["ok"], false);
    assert_eq!(report["exit_code"], 4);
    assert_eq!(report["error"]["class"], "login", "{report:#}");
    assert_eq!(report["error"]["exit_code"], 4);
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .contains("step 1"),
        "{report:#}"
    );
    let steps = report["steps"].as_array().expect("steps");
    assert_eq!(steps[0]["kind"], "login");
    assert_eq!(steps[0]["status"], "failed");
    assert_eq!(steps[0]["commands"][0]["exit_code"], 1);
    assert_eq!(report["packs"][0]["status"], "not_run", "{report:#}");
    assert_eq!(report["packs"][0]["manifest_digest"], Value::Null);
}

// -------------------------------------------------------------------- version policy

#[test]
fn newer_oras_without_allow_newer_oras_runs_nothing() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_VERSION", "1.2.0")], &[]);
    run.assert_code(3);
    assert!(run.stderr.contains("--allow-newer-oras"), "{}", run.stderr);
    assert_eq!(doubles.step_labels(), Vec::<String>::new());
}

#[test]
fn newer_oras_with_allow_newer_oras_pushes_with_image_spec_v1_0() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_VERSION", "1.2.0")], &["--allow-newer-oras"]);
    run.assert_code(0);
    let steps = doubles.steps();
    let pushes: Vec<&Call> = steps.iter().filter(|c| c.label() == "oras push").collect();
    assert_eq!(pushes.len(), 2);
    for push in pushes {
        assert!(
            push.argv.windows(2).any(|w| w == ["--image-spec", "v1.0"]),
            "{push:#?}"
        );
        assert!(
            json(&push.file("manifest.json"))
                .get("artifactType")
                .is_none()
        );
    }
    for call in steps.iter().filter(|c| c.label() != "oras push") {
        assert!(!call.argv.iter().any(|a| a == "--image-spec"), "{call:#?}");
    }
}

#[test]
fn oras_older_than_1_0_0_is_refused() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_VERSION", "0.16.0")], &[]);
    run.assert_code(3);
    assert!(run.stderr.contains("0.16.0"), "{}", run.stderr);
    assert_eq!(doubles.step_labels(), Vec::<String>::new());
}

#[test]
fn a_program_without_a_version_line_is_not_oras() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_VERSION", "garbage")], &[]);
    run.assert_code(3);
    assert!(
        run.stderr.contains("does not look like oras"),
        "{}",
        run.stderr
    );
    assert_eq!(doubles.step_labels(), Vec::<String>::new());
}

// ------------------------------------------------------------------ dry run, skip login

#[test]
fn dry_run_prints_the_seven_commands_and_runs_none() {
    let doubles = Doubles::new();
    let out = doubles.home().join("out");
    let run = doubles.run(
        &Doubles::push_args(&["--dry-run", "--output-dir", out.to_str().unwrap()]),
        "",
    );
    run.assert_code(0);
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(
        lines[0].starts_with(&format!(
            "# packpush plan: 1 pack(s) to {BASE_REPO} (oras 1.0.0, tar "
        )),
        "{}",
        run.stdout
    );
    let headers: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("# "))
        .collect();
    let expected_headers = [
        format!("# 1. log in to {REGISTRY}"),
        "# 2. [hello-world:1.0.0] archive ".to_owned(),
        format!("# 3. create the base path {BASE_REPO}"),
        format!("# 4. [hello-world:1.0.0] push the pack to {PACK_REF}"),
        "#    read-only look-up first; an identical version is not pushed again:".to_owned(),
        format!("# 5. [hello-world:1.0.0] verify what the registry holds for {PACK_REF}"),
    ];
    assert_eq!(headers.len(), 1 + expected_headers.len(), "{}", run.stdout);
    for (line, expected) in headers[1..].iter().zip(&expected_headers) {
        assert!(
            line.starts_with(expected.as_str()),
            "{line:?} is not {expected:?}"
        );
    }

    // The plan is a script: the folders a real run creates are shell variables,
    // and the look-up may fail (not found) without stopping it.
    for prologue in [
        "set -e",
        "umask 077",
        "WORK=$(mktemp -d)",
        "trap 'rm -rf \"$WORK\"' EXIT",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(prologue)),
            "no {prologue:?} in:\n{}",
            run.stdout
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("BASE_DIGEST=sha256:$(sha256sum \"$WORK\"/base-manifest.json")),
        "{}",
        run.stdout
    );
    let commands: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("cd "))
        .map(|l| l.strip_suffix(" || true").unwrap_or(l))
        .collect();
    assert_eq!(commands.len(), 7, "{}", run.stdout);
    let oras = double("oras");
    let expect = [
        format!("{oras} login {REGISTRY} --username admin --password-stdin --plain-http"),
        format!(
            "{} -czvf {} hello-world",
            double("tar"),
            out.join(ARCHIVE).display()
        ),
        format!("{oras} push {BASE_REPO} --plain-http"),
        format!("{oras} manifest fetch --plain-http"),
        format!("{oras} push {PACK_REF} {ARCHIVE} --plain-http"),
        format!("{oras} manifest fetch --plain-http"),
        format!("{oras} manifest fetch --plain-http"),
    ];
    for (line, expected) in commands.iter().zip(&expect) {
        assert!(
            line.contains(expected.as_str()),
            "{line:?} lacks {expected:?}"
        );
    }
    // The look-up comes right after its comment, and is the very command of the read-back
    // by tag.
    let comment = lines
        .iter()
        .position(|l| l.contains("read-only look-up first"))
        .expect("the look-up's comment");
    assert_eq!(
        lines[comment + 1],
        format!("{} || true", commands[3]),
        "{}",
        run.stdout
    );
    assert!(commands[3].ends_with(PACK_REF), "{}", commands[3]);
    assert_eq!(commands[3], commands[5]);
    assert!(
        commands[6].contains(&format!("{BASE_REPO}@\"$BASE_DIGEST\"")),
        "{}",
        commands[6]
    );
    assert!(!commands.iter().any(|l| l.contains("--image-spec")));
    assert!(
        commands[4].contains("pack-0-manifest.json"),
        "{}",
        commands[4]
    );

    assert_eq!(doubles.step_labels(), Vec::<String>::new());
    assert!(!out.exists(), "--dry-run created --output-dir");
    assert!(!doubles.registry().exists());
    assert_eq!(doubles.leftover_names(), Vec::<String>::new());
}

#[test]
fn skip_login_uses_the_given_registry_config_on_every_call() {
    let doubles = Doubles::new();
    // Credentials as an earlier `oras login --registry-config` stored them.
    let config = doubles.home().join("auth.json");
    fs::write(
        &config,
        format!(r#"{{"auths":{{"{REGISTRY}":{{"auth":"YWRtaW46SGFyYm9yMTIzNDU="}}}}}}"#),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let run = doubles.run(
        &Doubles::push_args(&["--skip-login", "--registry-config", config]),
        "",
    );
    run.assert_code(0);
    let steps = doubles.steps();
    assert_eq!(
        steps.iter().map(Call::label).collect::<Vec<_>>(),
        [
            "tar",
            "oras push",
            "oras manifest fetch",
            "oras push",
            "oras manifest fetch",
            "oras manifest fetch"
        ]
    );
    for call in steps.iter().filter(|c| c.program == "oras") {
        assert_eq!(call.flag("--registry-config"), Some(config), "{call:#?}");
        assert_eq!(
            call.argv
                .iter()
                .filter(|a| *a == "--registry-config")
                .count(),
            1,
            "{call:#?}"
        );
    }
}

#[test]
fn skip_login_without_stored_credentials_fails_at_the_base_push() {
    let doubles = Doubles::new();
    let run = doubles.run(&Doubles::push_args(&["--skip-login"]), "");
    run.assert_code(6);
    assert_eq!(doubles.step_labels(), ["tar", "oras push"]);
    let base = &doubles.steps()[1];
    assert!(base.flag("--registry-config").is_none(), "{base:#?}");
    assert!(
        run.stderr.contains("credential required for basic auth"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- name and version checks

#[test]
fn a_stray_name_variable_is_named_in_the_error() {
    let mut doubles = Doubles::new();
    doubles.env("NAME", "myhost");
    let run = doubles.push(&[]);
    run.assert_code(3);
    assert!(
        run.stderr.contains("environment variable NAME"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("unset"), "{}", run.stderr);
    assert_eq!(doubles.step_labels(), Vec::<String>::new());

    let doubles = Doubles::new();
    let run = doubles.push(&["--name", "other"]);
    run.assert_code(3);
    assert!(run.stderr.contains("--name"), "{}", run.stderr);
    assert!(run.stderr.contains("'other'"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("environment variable NAME"),
        "{}",
        run.stderr
    );
    assert_eq!(doubles.step_labels(), Vec::<String>::new());
}

// ------------------------------------------------------------------------------ doctor

#[test]
fn doctor_reports_the_versions_and_refuses_a_newer_oras() {
    let doubles = Doubles::new();
    let args = strings(&["doctor", "--oras", &double("oras"), "--tar", &double("tar")]);
    let run = doubles.run(&args, "");
    run.assert_code(0);
    assert!(run.stdout.contains("oras 1.0.0"), "{}", run.stdout);
    let real_tar = Command::new("/bin/tar").arg("--version").output().unwrap();
    let tar_line = String::from_utf8_lossy(&real_tar.stdout)
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert!(run.stdout.contains(&tar_line), "{}", run.stdout);

    let mut doubles = Doubles::new();
    doubles.env("ORAS_DOUBLE_VERSION", "1.3.3");
    let run = doubles.run(&args, "");
    run.assert_code(3);
    assert!(run.stderr.contains("1.3.3"), "{}", run.stderr);
    assert!(run.stderr.contains("--allow-newer-oras"), "{}", run.stderr);
}
