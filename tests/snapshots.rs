//! What `packpush push` shows, pinned as snapshots (in tests/snapshots/): the `--dry-run`
//! script, for runs with the oras 1.0.0 and tar doubles in fixtures/doubles.
//!
//! Only what varies from run to run or from machine to machine is taken out (see
//! [`settings`]); a changed word, flag or order fails the test.
//! `cargo insta review` (or `INSTA_UPDATE=always`) accepts an intended change; under
//! `CI=true` a missing or different snapshot fails and nothing is written.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::doubles::{doubles_sandbox, push_args};
use common::packpush::{Run, Sandbox, fixture_pack};

const REGISTRY: &str = "127.0.0.1:5000";
const PROJECT: &str = "proj";
/// What `--password-stdin` reads.
const PASSWORD: &str = "Harbor12345\n";
/// 2023-11-14T22:13:20Z: `--reproducible` takes its time from here, not from file times.
const SOURCE_DATE_EPOCH: &str = "1700000000";

// ------------------------------------------------------------------ running packpush

fn hello_world() -> Vec<PathBuf> {
    vec![fixture_pack("hello-world")]
}

fn both_packs() -> Vec<PathBuf> {
    vec![
        fixture_pack("hello-world"),
        fixture_pack("sample-monitoring"),
    ]
}

/// `packpush push PACK... --registry 127.0.0.1:5000 --project proj --username admin
/// --plain-http --oras DOUBLE --tar DOUBLE EXTRA...`, the password on stdin (read only
/// when `extra` has `--password-stdin`).
fn push(sandbox: &Sandbox, packs: &[PathBuf], extra: &[&str]) -> Run {
    run(sandbox, &push_args(packs, REGISTRY, PROJECT, extra))
}

fn run(sandbox: &Sandbox, args: &[String]) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sandbox.run(&args, PASSWORD)
}

// ------------------------------------------------------------------ redactions

/// The snapshot settings for runs in `sandbox`: the sandbox's paths, the repository's path,
/// the random part of packpush's temporary folders and the tar version are replaced; for a
/// run that did something (`timed`), also the durations and the archive's size, which
/// depends on the file times and owners tar records.
fn settings(sandbox: &Sandbox, what: &str, timed: bool) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(what);

    let home = sandbox.home();
    let canonical = fs::canonicalize(home).expect("canonical HOME");
    for path in [canonical.as_path(), home] {
        settings.add_filter(&regex::escape(path_str(path)), "[HOME]");
    }
    settings.add_filter(
        r"\[HOME\]/tmp/packpush-archive-[0-9A-Za-z]{6}\b",
        "[HOME]/tmp/packpush-archive-XXXXXX",
    );
    settings.add_filter(
        r"\[HOME\]/tmp/packpush-[0-9A-Za-z]{6}\b",
        "[HOME]/tmp/packpush-XXXXXX",
    );
    settings.add_filter(&regex::escape(env!("CARGO_MANIFEST_DIR")), "[REPO]");
    settings.add_filter(r"tar \(GNU tar\) \d+(\.\d+)+", "tar (GNU tar) [VERSION]");

    if timed {
        // "done in 0.09 s", "after 0.05 s", and the right-aligned TIME column of the table.
        settings.add_filter(r" +\d+\.\d{2} s\b", " [DURATION]");
        settings.add_filter(r#""duration_ms": \d+"#, r#""duration_ms": "[MS]""#);
        settings.add_filter(r"\(\d+ bytes, title ", "([SIZE] bytes, title ");
        settings.add_filter(r#""size": \d+"#, r#""size": "[SIZE]""#);
    }
    settings
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

// ------------------------------------------------------------------ assertions

/// Pins the `--dry-run` script: exit 0, the script on stdout, nothing on stderr.
#[track_caller]
fn assert_script(name: &str, what: &str, sandbox: &Sandbox, run: &Run) {
    run.assert_code(0);
    assert_eq!(run.stderr, "", "a dry run writes only the script");
    settings(sandbox, what, false).bind(|| insta::assert_snapshot!(name, run.stdout));
}

// ------------------------------------------------------------------ the dry-run script

#[test]
fn dry_run_script_for_one_pack() {
    let sandbox = doubles_sandbox(&[]);
    let run = push(&sandbox, &hello_world(), &["--dry-run"]);
    assert_script(
        "dry_run_script_for_one_pack",
        "push hello-world --dry-run: the script on stdout",
        &sandbox,
        &run,
    );
}

#[test]
fn dry_run_script_for_two_packs() {
    let sandbox = doubles_sandbox(&[]);
    let run = push(&sandbox, &both_packs(), &["--dry-run"]);
    assert_script(
        "dry_run_script_for_two_packs",
        "push hello-world sample-monitoring --dry-run: the script on stdout",
        &sandbox,
        &run,
    );
}

#[test]
fn dry_run_script_reproducible() {
    let sandbox = doubles_sandbox(&[("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)]);
    let run = push(&sandbox, &hello_world(), &["--dry-run", "--reproducible"]);
    assert_script(
        "dry_run_script_reproducible",
        "push hello-world --dry-run --reproducible, SOURCE_DATE_EPOCH=1700000000: the script on stdout",
        &sandbox,
        &run,
    );
}

#[test]
fn dry_run_script_skip_login_with_registry_config() {
    let sandbox = doubles_sandbox(&[]);
    let config = sandbox.home().join("registry-config.json");
    fs::write(&config, "{}").expect("write the registry config");
    let run = push(
        &sandbox,
        &hello_world(),
        &[
            "--dry-run",
            "--skip-login",
            "--registry-config",
            path_str(&config),
        ],
    );
    assert_script(
        "dry_run_script_skip_login_with_registry_config",
        "push hello-world --dry-run --skip-login --registry-config FILE: the script on stdout",
        &sandbox,
        &run,
    );
}

#[test]
fn dry_run_script_login_into_registry_config() {
    let sandbox = doubles_sandbox(&[]);
    let config = sandbox.home().join("registry-config.json");
    let run = push(
        &sandbox,
        &hello_world(),
        &["--dry-run", "--registry-config", path_str(&config)],
    );
    assert_script(
        "dry_run_script_login_into_registry_config",
        "push hello-world --dry-run --registry-config FILE: the script on stdout",
        &sandbox,
        &run,
    );
}

#[test]
fn dry_run_script_for_a_carried_in_archive() {
    let sandbox = doubles_sandbox(&[]);
    let carried = sandbox.home().join("carried");
    fs::create_dir(&carried).expect("create the archive's folder");
    let archive = carried.join("hello-world-1.0.0.tar.gz");
    let hello = fixture_pack("hello-world");
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(hello.parent().expect("the packs' folder"))
        .arg("hello-world")
        .status()
        .expect("run tar");
    assert!(status.success(), "tar built the carried-in archive");
    let run = push(
        &sandbox,
        &[],
        &["--dry-run", "--archive", path_str(&archive)],
    );
    assert_script(
        "dry_run_script_for_a_carried_in_archive",
        "push --archive hello-world-1.0.0.tar.gz --dry-run: the script on stdout",
        &sandbox,
        &run,
    );
}
