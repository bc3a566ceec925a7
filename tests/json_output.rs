//! `--output json`: one JSON document on stdout when `push` or `doctor` ends, on success
//! and for every failure class, with the human text on stderr and no secret anywhere.
//! Success and the login failure run real oras 1.3 against a real registry; the other
//! failure classes are injected through the doubles in fixtures/doubles, since a real
//! program cannot be made to fail at exactly that step. Through the doubles, on the strict
//! 1.0.0 path, the document's commands are the very calls the doubles recorded.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::calls::call_names;
use common::digest::sha256_hex;
use common::doubles::{
    ARCHIVE, Doubles, HELLO_REPO, PACK_REF, PROJECT as DOUBLE_PROJECT, REGISTRY as DOUBLE_REGISTRY,
    double, json, push_with,
};
use common::live::send_signal;
use common::packpush::{Run, Sandbox, fixture_pack, path_str};
use common::testbed::{self, PASSWORD, Registry, Testbed, USER};
use serde_json::Value;

/// The project of the pushes to a real registry.
const PROJECT: &str = "spectro-oci-registry";

/// Parses stdout as exactly one JSON document: nothing before it, nothing after it but
/// the final newline.
#[track_caller]
fn document(run: &Run) -> Value {
    assert!(
        run.stdout.starts_with('{') && run.stdout.ends_with("}\n"),
        "stdout is not one JSON document:\n{}\n--- stderr ---\n{}",
        run.stdout,
        run.stderr
    );
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\n--- stderr ---\n{}",
            run.stdout, run.stderr
        )
    })
}

/// The fields every document has, whatever the outcome.
#[track_caller]
fn assert_envelope(doc: &Value, command: &str, code: i32) {
    assert_eq!(doc["schema_version"], 1, "{doc:#}");
    assert_eq!(doc["packpush_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["command"], command);
    assert_eq!(doc["exit_code"], code);
    assert_eq!(doc["ok"], code == 0, "{doc:#}");
    if code == 0 {
        assert!(doc["error"].is_null(), "{doc:#}");
    } else {
        assert_eq!(doc["error"]["exit_code"], code, "{doc:#}");
        assert!(
            doc["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{doc:#}"
        );
    }
}

#[track_caller]
fn assert_no_secret(run: &Run, secret: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the password appears in the output:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

/// `(kind, status)` of every step, in order.
fn step_statuses(doc: &Value) -> Vec<(String, String)> {
    doc["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap_or_default().to_owned(),
                s["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A failing push through the doubles: exit `code`, error class `class`, one document.
#[track_caller]
fn failing_push(envs: &[(&str, &str)], code: i32, class: &str) -> (Doubles, Value) {
    let (doubles, run) = push_with(envs, &["--output", "json"]);
    run.assert_code(code);
    let doc = document(&run);
    assert_envelope(&doc, "push", code);
    assert_eq!(doc["error"]["class"], class, "{doc:#}");
    assert_no_secret(&run, PASSWORD);
    assert!(
        run.stderr.contains("error: "),
        "the error is also told on stderr:\n{}",
        run.stderr
    );
    (doubles, doc)
}

// ---------------------------------------------------------------- success, for real

#[test]
fn success_with_real_oras_1_3_describes_the_whole_run() {
    let testbed = Testbed::get();
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let run = sandbox.run(
        &[
            "push",
            &path_str(&fixture_pack("hello-world")),
            "--registry",
            &registry.addr(),
            "--project",
            PROJECT,
            "--username",
            USER,
            "--password-stdin",
            "--plain-http",
            "--oras",
            &path_str(&testbed.oras_1_3),
            "--allow-newer-oras",
            "--output",
            "json",
        ],
        PASSWORD,
    );
    run.assert_code(0);
    let doc = document(&run);
    assert_envelope(&doc, "push", 0);
    assert_no_secret(&run, PASSWORD);
    // The human account goes to stderr.
    assert!(run.stderr.contains("[1/5]"), "{}", run.stderr);
    assert!(run.stderr.contains("pushed "), "{}", run.stderr);

    assert_eq!(doc["dry_run"], false);
    assert_eq!(doc["registry"], registry.addr().as_str());
    assert_eq!(doc["project"], PROJECT);
    assert_eq!(doc["tools"]["oras"]["version"], "1.3.3", "{doc:#}");
    assert_eq!(doc["tools"]["oras"]["path"], path_str(&testbed.oras_1_3));
    assert_eq!(doc["tools"]["oras_mode"], "newer");
    let tar_version = doc["tools"]["tar"]["version"].as_str().unwrap_or_default();
    assert!(tar_version.starts_with("tar ("), "{doc:#}");

    assert_eq!(
        step_statuses(&doc),
        pairs(&[
            ("login", "ok"),
            ("archive", "ok"),
            ("push_base", "ok"),
            ("push_pack", "ok"),
            ("verify", "ok"),
        ])
    );
    for step in doc["steps"].as_array().unwrap() {
        assert!(
            step["purpose"].as_str().is_some_and(|p| !p.is_empty()),
            "{step:#}"
        );
        assert!(step["duration_ms"].is_u64(), "{step:#}");
        let commands = step["commands"].as_array().expect("commands");
        assert!(!commands.is_empty(), "{step:#}");
        for command in commands {
            let argv = command["argv"].as_array().expect("argv");
            assert!(
                argv.len() > 1 && argv.iter().all(Value::is_string),
                "{command:#}"
            );
            let cwd = command["cwd"].as_str().unwrap_or_default();
            assert!(cwd.starts_with('/'), "{command:#}");
            // A look-up of a tag the registry does not hold yet ends non-zero ("absent").
            if command["read_only"] == false {
                assert_eq!(command["exit_code"], 0, "{command:#}");
            } else {
                assert!(command["exit_code"].is_i64(), "{command:#}");
            }
            assert!(command["signal"].is_null(), "{command:#}");
            assert!(command["duration_ms"].is_u64(), "{command:#}");
        }
    }
    let login = &doc["steps"][0]["commands"][0];
    assert_eq!(login["stdin_secret"], true);
    assert!(
        login["argv"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "--password-stdin"),
        "{login:#}"
    );
    // The archive is pushed from its own folder under its bare name.
    let pack_push = &doc["steps"][3]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["read_only"] == false)
        .expect("the pack push")
        .clone();
    assert!(
        pack_push["argv"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "hello-world-1.0.0.tar.gz"),
        "{pack_push:#}"
    );

    let packs = doc["packs"].as_array().expect("packs");
    assert_eq!(packs.len(), 1, "{doc:#}");
    let pack = &packs[0];
    let repo = format!("{PROJECT}/spectro-packs/archive/hello-world");
    assert_eq!(pack["name"], "hello-world");
    assert_eq!(pack["version"], "1.0.0");
    assert_eq!(pack["status"], "pushed");
    assert_eq!(
        pack["reference"],
        format!("{}/{repo}:1.0.0", registry.addr()).as_str()
    );
    // The digests are what the registry holds, as skopeo reads it.
    let raw = testbed::inspect_raw(&registry, &format!("{repo}:1.0.0")).expect("skopeo");
    assert_eq!(
        pack["manifest_digest"],
        packpush::digest::of_bytes(&raw).as_str()
    );
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(pack["layer"]["digest"], manifest["layers"][0]["digest"]);
    assert_eq!(pack["layer"]["size"], manifest["layers"][0]["size"]);
    assert_eq!(pack["layer"]["title"], "hello-world-1.0.0.tar.gz");
    let base = pack["base_digest"].as_str().expect("base digest");
    testbed::inspect_raw(
        &registry,
        &format!("{PROJECT}/spectro-packs/archive@{base}"),
    )
    .expect("the base-path artifact by the reported digest");
    assert!(pack["error"].is_null());
}

// ------------------------------------------------------------------------ dry run

#[test]
fn dry_run_prints_the_plan_as_json_and_runs_nothing() {
    let doubles = Doubles::new();
    let run = doubles.push(&["--output", "json", "--dry-run"]);
    run.assert_code(0);
    let doc = document(&run);
    assert_envelope(&doc, "push", 0);
    assert_no_secret(&run, PASSWORD);
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["tools"]["oras"]["version"], "1.0.0");
    assert_eq!(doc["tools"]["oras_mode"], "strict");
    assert_eq!(
        step_statuses(&doc),
        pairs(&[
            ("login", "planned"),
            ("archive", "planned"),
            ("push_base", "planned"),
            ("push_pack", "planned"),
            ("verify", "planned"),
        ])
    );
    let argv0: Vec<Vec<String>> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["commands"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    assert!(c["exit_code"].is_null(), "{c:#}");
                    assert!(c["duration_ms"].is_null(), "{c:#}");
                    let argv = c["argv"].as_array().unwrap();
                    format!(
                        "{} {}",
                        argv[0].as_str().unwrap(),
                        argv[1].as_str().unwrap()
                    )
                })
                .collect()
        })
        .collect();
    let oras = double("oras");
    let tar = double("tar");
    assert_eq!(
        argv0,
        [
            vec![format!("{oras} login")],
            // The look-up before tar, when the cache knows the archive; then tar.
            vec![format!("{oras} manifest"), format!("{tar} -czvf")],
            vec![format!("{oras} push")],
            vec![format!("{oras} manifest"), format!("{oras} push")],
            vec![format!("{oras} manifest"), format!("{oras} manifest")],
        ]
    );
    let pack = &doc["packs"][0];
    assert_eq!(pack["status"], "planned");
    assert_eq!(pack["reference"], PACK_REF);
    assert!(pack["manifest_digest"].is_null());
    // Only the version probes ran.
    let calls = doubles.calls();
    assert_eq!(
        calls
            .iter()
            .map(|c| (c.program.as_str(), c.argv[0].as_str()))
            .collect::<Vec<_>>(),
        [("oras", "version"), ("tar", "--version")]
    );
}

// ------------------------------------------------------------------ failure classes

#[test]
fn usage_error_is_a_json_document_with_class_usage() {
    let sandbox = Sandbox::new();
    for args in [
        vec!["push", "--output", "json", "--jobs", "0", "pack"],
        vec!["push", "--output=json", "--no-such-flag"],
        vec!["doctor", "--output", "json", "--tar"],
    ] {
        let run = sandbox.run(&args, "");
        run.assert_code(2);
        let doc = document(&run);
        assert_envelope(&doc, args[0], 2);
        assert_eq!(doc["error"]["class"], "usage", "{args:?}: {doc:#}");
        assert!(doc["steps"].as_array().unwrap().is_empty());
        // clap's own message stays on stderr.
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    }
    // Without --output json, stdout stays empty.
    let run = sandbox.run(&["push", "--no-such-flag"], "");
    run.assert_code(2);
    assert_eq!(run.stdout, "");
}

#[test]
fn preflight_failure_is_class_preflight_and_names_flags_and_variables() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(
        &[
            "push",
            &path_str(&fixture_pack("hello-world")),
            "--oras",
            &double("oras"),
            "--tar",
            &double("tar"),
            "--output",
            "json",
        ],
        "",
    );
    run.assert_code(3);
    let doc = document(&run);
    assert_envelope(&doc, "push", 3);
    assert_eq!(doc["error"]["class"], "preflight");
    let details = doc["error"]["details"].to_string();
    for name in [
        "--registry",
        "HARBOR_ADDRESS",
        "--project",
        "HARBOR_PROJECT",
        "--username",
        "HARBOR_USERNAME",
        "HARBOR_PASSWORD",
    ] {
        assert!(details.contains(name), "{name} not in {details}");
    }
    // The tools were found before the inputs failed, and are reported.
    assert_eq!(doc["tools"]["oras"]["version"], "1.0.0");
    assert!(doc["steps"].as_array().unwrap().is_empty());
}

#[test]
fn login_failure_with_real_oras_is_class_login() {
    let testbed = Testbed::get();
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let wrong = "not-the-password";
    let run = sandbox.run(
        &[
            "push",
            &path_str(&fixture_pack("hello-world")),
            "--registry",
            &registry.addr(),
            "--project",
            PROJECT,
            "--username",
            USER,
            "--password-stdin",
            "--plain-http",
            "--oras",
            &path_str(&testbed.oras_1_3),
            "--allow-newer-oras",
            "--output",
            "json",
        ],
        wrong,
    );
    run.assert_code(4);
    let doc = document(&run);
    assert_envelope(&doc, "push", 4);
    assert_eq!(doc["error"]["class"], "login");
    assert_no_secret(&run, wrong);
    assert_eq!(step_statuses(&doc)[0], ("login".into(), "failed".into()));
    let login = &doc["steps"][0]["commands"][0];
    assert!(
        login["exit_code"].as_i64().is_some_and(|c| c != 0),
        "{login:#}"
    );
    assert_eq!(doc["packs"][0]["status"], "not_run", "{doc:#}");
}

#[test]
fn archive_failure_is_class_archive() {
    let (_doubles, doc) = failing_push(&[("TAR_DOUBLE_FAIL", "1")], 5, "archive");
    assert_eq!(
        step_statuses(&doc),
        pairs(&[
            ("login", "ok"),
            ("archive", "failed"),
            ("push_base", "not_run"),
            ("push_pack", "not_run"),
            ("verify", "not_run")
        ])
    );
    assert_eq!(doc["steps"][1]["commands"][0]["exit_code"], 2);
    assert_eq!(doc["packs"][0]["status"], "failed");
    assert_eq!(doc["packs"][0]["error"]["class"], "archive");
}

#[test]
fn push_failure_is_class_push_and_the_archive_is_kept() {
    let (_doubles, doc) = failing_push(&[("ORAS_DOUBLE_FAIL", "push-pack")], 6, "push");
    assert_eq!(
        step_statuses(&doc)[3],
        ("push_pack".into(), "failed".into())
    );
    let pack = &doc["packs"][0];
    assert_eq!(pack["status"], "failed");
    assert_eq!(pack["error"]["class"], "push");
    assert_eq!(pack["archive_kept"], true);
    let archive = pack["archive"].as_str().unwrap();
    assert!(Path::new(archive).is_file(), "{archive}");
}

#[test]
fn verify_failure_is_class_verify() {
    let (_doubles, doc) = failing_push(
        &[
            ("ORAS_DOUBLE_SHAPE", "newer"),
            ("ORAS_DOUBLE_VERSION", "1.0.0"),
        ],
        7,
        "verify",
    );
    assert_eq!(
        step_statuses(&doc),
        pairs(&[
            ("login", "ok"),
            ("archive", "ok"),
            ("push_base", "ok"),
            ("push_pack", "ok"),
            ("verify", "failed"),
        ])
    );
    let pack = &doc["packs"][0];
    assert_eq!(pack["status"], "failed");
    assert_eq!(pack["error"]["class"], "verify");
    assert_eq!(pack["archive_kept"], true);
}

/// Runs a push whose pack push sleeps, sends SIGINT to packpush once the double is
/// asleep, and returns the run.
fn interrupted_push() -> Run {
    let doubles = Doubles::with_env(&[("ORAS_DOUBLE_SLEEP", "push-pack:30")]);
    let mut live = doubles.start(&["--output", "json"]);
    let asleep = doubles.wait_until_asleep(&mut live, "push-pack");
    send_signal(live.pid(), libc::SIGINT);
    let started = Instant::now();
    let run = live.finish();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "packpush outlived SIGINT"
    );
    // The sleeping double was stopped by the same signal.
    assert_eq!(asleep.text("signal").unwrap_or_default(), "INT");
    run
}

#[test]
fn sigint_ends_with_exit_130_and_a_json_document() {
    let run = interrupted_push();
    run.assert_code(130);
    let doc = document(&run);
    assert_envelope(&doc, "push", 130);
    assert_no_secret(&run, PASSWORD);
    assert!(
        doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("SIGINT")),
        "{doc:#}"
    );
    assert_eq!(
        step_statuses(&doc)[3..],
        pairs(&[("push_pack", "failed"), ("verify", "not_run")])
    );
}

#[test]
fn sigint_error_class_is_interrupted() {
    let run = interrupted_push();
    let doc = document(&run);
    assert_eq!(doc["error"]["class"], "interrupted", "{doc:#}");
}

#[test]
fn steps_not_reached_are_listed_as_not_run() {
    let (_doubles, doc) = failing_push(&[("TAR_DOUBLE_FAIL", "1")], 5, "archive");
    assert_eq!(
        step_statuses(&doc),
        pairs(&[
            ("login", "ok"),
            ("archive", "failed"),
            ("push_base", "not_run"),
            ("push_pack", "not_run"),
            ("verify", "not_run"),
        ])
    );
}

// ------------------------------------------------ the strict path, through the doubles

#[test]
fn json_output_describes_the_run() {
    let doubles = Doubles::new();
    let run = doubles.push(&["--output", "json"]);
    run.assert_code(0);
    let report = document(&run);
    assert_no_secret(&run, PASSWORD);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["command"], "push");
    assert_eq!(report["ok"], true);
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["registry"], DOUBLE_REGISTRY);
    assert_eq!(report["project"], DOUBLE_PROJECT);
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
    // Then the listing: the pack's repository's tags read again (its version's manifest
    // is the one step 5 read back).
    let listed = report["listing"]["commands"]
        .as_array()
        .expect("the listing's commands");
    assert_eq!(listed.len(), 1, "{report:#}");
    let commands: Vec<&Value> = json_steps
        .iter()
        .flat_map(|s| s["commands"].as_array().expect("commands"))
        .chain(listed)
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

    let listing = &report["listing"];
    assert_eq!(listing["usable"], true, "{listing:#}");
    assert_eq!(listing["catalog"]["status"], "not_asked");
    let version = &listing["repositories"][0]["versions"][0];
    assert_eq!(version["reference"], PACK_REF);
    assert_eq!(version["manifest_digest"], pack["manifest_digest"]);
    assert_eq!(version["layer"], pack["layer"]);
    assert_eq!(version["usable"], true);
}

#[test]
fn json_output_on_a_login_failure() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_FAIL", "login")], &["--output", "json"]);
    run.assert_code(4);
    assert_eq!(call_names(&doubles.steps()), ["login"]);
    let report = document(&run);
    assert_no_secret(&run, PASSWORD);
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

// -------------------------------------------------------------------------- doctor

#[test]
fn doctor_success_reports_the_real_tools() {
    let testbed = Testbed::get();
    let sandbox = Sandbox::new();
    let run = sandbox.run(
        &[
            "doctor",
            "--oras",
            &path_str(&testbed.oras_1_3),
            "--allow-newer-oras",
            "--output",
            "json",
        ],
        "",
    );
    run.assert_code(0);
    let doc = document(&run);
    assert_envelope(&doc, "doctor", 0);
    assert_eq!(doc["tools"]["oras"]["version"], "1.3.3");
    assert_eq!(doc["tools"]["oras_mode"], "newer");
    assert!(
        doc["tools"]["tar"]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("tar (")),
        "{doc:#}"
    );
    assert!(run.stderr.contains("ok   oras 1.3.3"), "{}", run.stderr);
}

#[test]
fn doctor_failure_is_class_preflight() {
    let testbed = Testbed::get();
    let sandbox = Sandbox::new();
    // A newer oras without --allow-newer-oras.
    let run = sandbox.run(
        &[
            "doctor",
            "--oras",
            &path_str(&testbed.oras_1_3),
            "--output",
            "json",
        ],
        "",
    );
    run.assert_code(3);
    let doc = document(&run);
    assert_envelope(&doc, "doctor", 3);
    assert_eq!(doc["error"]["class"], "preflight");
    assert!(
        doc["error"]["details"]
            .to_string()
            .contains("--allow-newer-oras"),
        "{doc:#}"
    );
    // A missing tar.
    let run = sandbox.run(
        &["doctor", "--tar", "/nonexistent/tar", "--output", "json"],
        "",
    );
    run.assert_code(3);
    let doc = document(&run);
    assert_envelope(&doc, "doctor", 3);
    assert!(doc["tools"]["tar"].is_null(), "{doc:#}");
    assert!(
        doc["error"]["details"].to_string().contains("--tar"),
        "{doc:#}"
    );
}
