//! The `--output json` document against its JSON Schema (docs/report.schema.json): the
//! schema is itself valid; a representative run of every command and of every failure
//! class gives a document that validates (success, dry run, usage, preflight, login,
//! archive, push, verify, an interruption; check and doctor, passing and failing; list,
//! usable, not usable, deep, with its catalog refused); and the schema is not vacuous: a
//! document with a field it does not know, a status it does not know or a missing field
//! is refused. Beyond these, every run of every test binary is checked as it ends
//! (`common::schema`, called by `Run::new`).

mod common;

use common::doubles::{Doubles, REGISTRY as DOUBLE_REGISTRY, double, push_with};
use common::live::send_signal;
use common::packpush::{Run, Sandbox, fixture_pack, path_str};
use common::real;
use common::schema::{schema, violations};
use common::testbed::{PASSWORD, Registry, USER};
use serde_json::Value;

/// The document a run printed; it validates (`Run::new` checked it already; said again
/// here, where it is the point).
#[track_caller]
fn document(run: &Run, command: &str, code: i32) -> Value {
    run.assert_code(code);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON document on stdout ({e}):\n{}\n{}",
            run.stdout, run.stderr
        )
    });
    assert_eq!(doc["command"], command, "{doc:#}");
    assert_eq!(violations(&doc), Vec::<String>::new(), "{doc:#}");
    doc
}

#[test]
fn the_schema_is_a_valid_json_schema() {
    if let Err(error) = jsonschema::meta::validate(schema()) {
        panic!("docs/report.schema.json: {error}");
    }
}

#[test]
fn every_push_outcome_validates() {
    let json = ["--output", "json"];
    let (_, run) = push_with(&[], &json);
    let pushed = document(&run, "push", 0);
    assert!(pushed["listing"].is_object());
    let (_, run) = push_with(&[], &["--output", "json", "--dry-run"]);
    assert_eq!(document(&run, "push", 0)["dry_run"], true);
    for (envs, code, class) in [
        (vec![("ORAS_DOUBLE_FAIL", "login")], 4, "login"),
        (vec![("TAR_DOUBLE_FAIL", "1")], 5, "archive"),
        (vec![("ORAS_DOUBLE_FAIL", "push-pack")], 6, "push"),
        (vec![("ORAS_DOUBLE_SHAPE", "newer")], 7, "verify"),
        (vec![("ORAS_DOUBLE_VERSION", "1.2.0")], 3, "preflight"),
    ] {
        let (_, run) = push_with(&envs, &json);
        assert_eq!(document(&run, "push", code)["error"]["class"], class);
    }
    let run = Sandbox::new().run(&["push", "--output", "json", "--no-such-flag"], "");
    assert_eq!(document(&run, "push", 2)["error"]["class"], "usage");
}

#[test]
fn an_interrupted_push_validates() {
    let doubles = Doubles::with_env(&[("ORAS_DOUBLE_SLEEP", "push-pack:30")]);
    let mut live = doubles.start(&["--output", "json"]);
    doubles.wait_until_asleep(&mut live, "push-pack");
    send_signal(live.pid(), libc::SIGINT);
    let run = live.finish();
    assert_eq!(document(&run, "push", 130)["error"]["class"], "interrupted");
}

#[test]
fn a_push_to_a_real_registry_validates() {
    let registry = Registry::start(false);
    let pack = path_str(&fixture_pack("hello-world"));
    let run = real::push(&Sandbox::new(), &registry, "proj", &[&pack]);
    let doc = document(&run, "push", 0);
    assert_eq!(doc["listing"]["usable"], true);
}

#[test]
fn check_and_doctor_validate() {
    let sandbox = Sandbox::new();
    let good = path_str(&fixture_pack("hello-world"));
    let run = sandbox.run(&["check", &good, "--output", "json"], "");
    document(&run, "check", 0);
    let missing = sandbox.home().join("no-pack");
    let run = sandbox.run(&["check", &path_str(&missing), "--output", "json"], "");
    document(&run, "check", 3);
    let oras = double("oras");
    let tar = double("tar");
    let run = sandbox.run(
        &["doctor", "--oras", &oras, "--tar", &tar, "--output", "json"],
        "",
    );
    document(&run, "doctor", 0);
    let run = sandbox.run(
        &["doctor", "--oras", "/no/such/oras", "--output", "json"],
        "",
    );
    document(&run, "doctor", 3);
}

/// `list` through the doubles, after a push of hello-world, with `extra`.
fn list(doubles: &Doubles, extra: &[&str]) -> Run {
    let mut args: Vec<String> = [
        "list",
        "--registry",
        DOUBLE_REGISTRY,
        "--project",
        "proj",
        "--username",
        USER,
        "--password-stdin",
        "--plain-http",
        "--output",
        "json",
        "--oras",
    ]
    .map(str::to_owned)
    .to_vec();
    args.push(double("oras"));
    args.extend(extra.iter().map(|s| s.to_string()));
    doubles.run(&args, &format!("{PASSWORD}\n"))
}

#[test]
fn every_list_outcome_validates() {
    let doubles = Doubles::new();
    doubles.push(&[]).assert_code(0);
    document(&list(&doubles, &[]), "list", 0);
    let deep = document(&list(&doubles, &["--deep"]), "list", 0);
    assert!(deep["listing"]["repositories"][0]["versions"][0]["archive"].is_object());
    document(&list(&doubles, &["no-such-pack"]), "list", 7);
    document(&list(&doubles, &["Bad_Name"]), "list", 3);

    let mut refused = Doubles::new();
    refused.push(&[]).assert_code(0);
    refused.env("ORAS_DOUBLE_FAIL", "catalog");
    let doc = document(&list(&refused, &[]), "list", 7);
    assert_eq!(doc["listing"]["catalog"]["status"], "refused");
    let doc = document(&list(&refused, &["hello-world"]), "list", 0);
    assert_eq!(doc["listing"]["base_path_status"], "unknown");

    let mut newer = Doubles::new();
    newer.env("ORAS_DOUBLE_SHAPE", "newer");
    newer.push(&[]).assert_code(7);
    let doc = document(&list(&newer, &[]), "list", 7);
    assert_eq!(doc["listing"]["usable"], false);
    newer.env("ORAS_DOUBLE_FAIL", "login");
    document(&list(&newer, &[]), "list", 4);
}

#[test]
fn the_schema_refuses_what_it_does_not_describe() {
    let (_, run) = push_with(&[], &["--output", "json"]);
    let good = document(&run, "push", 0);
    let broken = |change: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        change(&mut doc);
        violations(&doc)
    };
    assert!(!broken(&|d| d["surprise"] = true.into()).is_empty());
    assert!(!broken(&|d| d["steps"][0]["status"] = "fine".into()).is_empty());
    assert!(
        !broken(&|d| d["listing"]["repositories"][0]["versions"][0]["usable"] = "yes".into())
            .is_empty()
    );
    assert!(
        !broken(&|d| {
            d.as_object_mut().unwrap().remove("warnings");
        })
        .is_empty()
    );
    // ok and the exit code go together.
    assert!(!broken(&|d| d["exit_code"] = 6.into()).is_empty());
    assert!(!broken(&|d| d["packs"][0]["manifest_digest"] = "sha256:short".into()).is_empty());
}
