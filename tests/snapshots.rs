//! What `packpush push` shows, pinned as snapshots (in tests/snapshots/): the `--dry-run`
//! script, the `--output json` document, and the human transcript (exit code, stdout,
//! stderr) of runs through the oras 1.0.0 and tar doubles in fixtures/doubles: a success, a
//! failure at each step, two packs, a re-run that finds the pack up to date; and the
//! table of `packpush list`: all usable, a version Palette cannot use, no catalog.
//!
//! Only what varies from run to run or from machine to machine is taken out (see
//! [`settings`] and [`normalise`]); a changed word, flag or order fails the test.
//! `cargo insta review` (or `INSTA_UPDATE=always`) accepts an intended change; under
//! `CI=true` a missing or different snapshot fails and nothing is written.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::doubles::{doubles_sandbox, push_args};
use common::packpush::{Run, Sandbox, fixture_pack};
use regex::Regex;

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

/// A real push: as [`push`], with `--password-stdin`.
fn push_for_real(sandbox: &Sandbox, packs: &[PathBuf], extra: &[&str]) -> Run {
    let mut all = vec!["--password-stdin"];
    all.extend_from_slice(extra);
    push(sandbox, packs, &all)
}

/// As [`push`] for hello-world, without `--project` (and HARBOR_PROJECT is not set).
fn push_without_project(sandbox: &Sandbox, extra: &[&str]) -> Run {
    let mut args = push_args(&hello_world(), REGISTRY, PROJECT, extra);
    let at = args
        .iter()
        .position(|a| a == "--project")
        .expect("--project");
    args.drain(at..at + 2);
    run(sandbox, &args)
}

fn run(sandbox: &Sandbox, args: &[String]) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sandbox.run(&args, PASSWORD)
}

// ------------------------------------------------------------------ redactions

/// The snapshot settings for runs in `sandbox`: the sandbox's paths, the repository's path,
/// the random part of packpush's temporary folders and the tar version are replaced; for a
/// run that did something (`timed`), also the durations, the archive's size, which
/// depends on the file times and owners tar records, and the manifests' creation times.
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
        // Pauses before a retry are jittered.
        settings.add_filter(r#""retry_in_ms": \d+"#, r#""retry_in_ms": "[MS]""#);
        settings.add_filter(r"retrying in \d+(\.\d)? s", "retrying in [PAUSE]");
        settings.add_filter(r"\(\d+ bytes, title ", "([SIZE] bytes, title ");
        settings.add_filter(r#""size": \d+"#, r#""size": "[SIZE]""#);
        // The registry listing's sizes (as people read them) and creation times.
        settings.add_filter(r"\b\d+(\.\d+)? (B|KiB|MiB) ", "[SIZE] ");
        settings.add_filter(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b", "[TIME]");
    }
    settings
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// What the filters cannot do, applied before them:
///
/// - tar's verbose listing comes in the order the file system returns a folder's entries,
///   which differs between file systems: each block of listed entries is sorted;
/// - digests depend on the time (the manifests' `created` annotation) and on the file times
///   tar records: each distinct digest becomes `[DIGEST-N]`, numbered in order of first
///   appearance, and its 12-digit short form (`sha256:1aaa31ff3065`, oras's `Uploading
///   1aaa31ff3065 ...`) `[DIGEST-N:12]`, so the snapshot still shows which digest is which
///   (the one pushed is the one verified, the base path read back is the one pushed, ...).
fn normalise(text: &str) -> String {
    label_digests(&sort_tar_listings(text))
}

fn sort_tar_listings(text: &str) -> String {
    let listed = Regex::new(r"^(hello-world|sample-monitoring)/").expect("regex");
    let mut out: Vec<&str> = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in text.split_inclusive('\n') {
        if listed.is_match(line) && line.ends_with('\n') {
            block.push(line);
            continue;
        }
        block.sort_unstable();
        out.append(&mut block);
        out.push(line);
    }
    block.sort_unstable();
    out.append(&mut block);
    out.concat()
}

fn label_digests(text: &str) -> String {
    let full = Regex::new(r"\b[0-9a-f]{64}\b").expect("regex");
    let short = Regex::new(r"\b[0-9a-f]{12}\b").expect("regex");
    let mut digests: Vec<&str> = Vec::new();
    for found in full.find_iter(text) {
        if !digests.contains(&found.as_str()) {
            digests.push(found.as_str());
        }
    }
    let labelled = full.replace_all(text, |c: &regex::Captures<'_>| {
        let n = digests.iter().position(|d| *d == &c[0]).expect("seen") + 1;
        format!("[DIGEST-{n}]")
    });
    let mut unknown: Vec<String> = Vec::new();
    short
        .replace_all(&labelled, |c: &regex::Captures<'_>| {
            let hex = &c[0];
            match digests.iter().position(|d| d.starts_with(hex)) {
                Some(at) => format!("[DIGEST-{}:12]", at + 1),
                None => {
                    // A short form whose full digest is not shown.
                    if !unknown.iter().any(|u| u == hex) {
                        unknown.push(hex.to_owned());
                    }
                    let n = unknown.iter().position(|u| u == hex).expect("seen") + 1;
                    format!("[SHORT-DIGEST-{n}]")
                }
            }
        })
        .into_owned()
}

// ------------------------------------------------------------------ assertions

/// The exit code, stdout and stderr of a run, one after the other.
fn transcript(run: &Run) -> String {
    format!(
        "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// Pins the `--dry-run` script: exit 0, the script on stdout, nothing on stderr.
#[track_caller]
fn assert_script(name: &str, what: &str, sandbox: &Sandbox, run: &Run) {
    run.assert_code(0);
    assert_eq!(run.stderr, "", "a dry run writes only the script");
    settings(sandbox, what, false).bind(|| insta::assert_snapshot!(name, run.stdout));
}

/// Pins the JSON document on stdout (checked to be one JSON value); `timed` when the run
/// did something.
#[track_caller]
fn assert_json(name: &str, what: &str, sandbox: &Sandbox, run: &Run, code: i32, timed: bool) {
    run.assert_code(code);
    let document: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", run.stdout));
    assert_eq!(document["exit_code"], code, "the document's exit_code");
    let text = normalise(&run.stdout);
    settings(sandbox, what, timed).bind(|| insta::assert_snapshot!(name, text));
}

/// Pins what a person sees: the exit code, stdout and stderr.
#[track_caller]
fn assert_human(name: &str, what: &str, sandbox: &Sandbox, run: &Run, code: i32) {
    run.assert_code(code);
    let text = normalise(&transcript(run));
    settings(sandbox, what, true).bind(|| insta::assert_snapshot!(name, text));
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

// ------------------------------------------------------------------ the JSON document

/// `push hello-world --password-stdin --output json` with `envs` set for the doubles.
fn json_run(envs: &[(&str, &str)]) -> (Sandbox, Run) {
    let sandbox = doubles_sandbox(envs);
    let run = push_for_real(&sandbox, &hello_world(), &["--output", "json"]);
    (sandbox, run)
}

#[test]
fn json_document_of_a_push() {
    let (sandbox, run) = json_run(&[]);
    assert_json(
        "json_document_of_a_push",
        "push hello-world --output json: stdout",
        &sandbox,
        &run,
        0,
        true,
    );
}

#[test]
fn json_document_of_a_login_failure() {
    let (sandbox, run) = json_run(&[("ORAS_DOUBLE_FAIL", "login")]);
    assert_json(
        "json_document_of_a_login_failure",
        "push hello-world --output json, oras login fails (401): stdout",
        &sandbox,
        &run,
        4,
        true,
    );
}

#[test]
fn json_document_of_an_archive_failure() {
    let (sandbox, run) = json_run(&[("TAR_DOUBLE_FAIL", "1")]);
    assert_json(
        "json_document_of_an_archive_failure",
        "push hello-world --output json, tar fails: stdout",
        &sandbox,
        &run,
        5,
        true,
    );
}

#[test]
fn json_document_of_a_base_push_failure() {
    let (sandbox, run) = json_run(&[("ORAS_DOUBLE_FAIL", "push-base")]);
    assert_json(
        "json_document_of_a_base_push_failure",
        "push hello-world --output json, the base-path push fails (401): stdout",
        &sandbox,
        &run,
        6,
        true,
    );
}

#[test]
fn json_document_of_a_pack_push_failure() {
    let (sandbox, run) = json_run(&[("ORAS_DOUBLE_FAIL", "push-pack")]);
    assert_json(
        "json_document_of_a_pack_push_failure",
        "push hello-world --output json, the pack push fails (401): stdout",
        &sandbox,
        &run,
        6,
        true,
    );
}

#[test]
fn json_document_of_a_lookup_failure() {
    let (sandbox, run) = json_run(&[("ORAS_DOUBLE_FAIL", "lookup")]);
    assert_json(
        "json_document_of_a_lookup_failure",
        "push hello-world --output json, the read-only look-up of the tag fails (401): stdout",
        &sandbox,
        &run,
        6,
        true,
    );
}

#[test]
fn json_document_of_a_verify_failure() {
    let (sandbox, run) = json_run(&[("ORAS_DOUBLE_FAIL", "verify")]);
    assert_json(
        "json_document_of_a_verify_failure",
        "push hello-world --output json, the read-back fails (connection refused): stdout",
        &sandbox,
        &run,
        7,
        true,
    );
}

#[test]
fn json_document_of_a_dry_run() {
    let sandbox = doubles_sandbox(&[]);
    let run = push(&sandbox, &hello_world(), &["--dry-run", "--output", "json"]);
    assert_json(
        "json_document_of_a_dry_run",
        "push hello-world --dry-run --output json: stdout",
        &sandbox,
        &run,
        0,
        false,
    );
}

#[test]
fn json_document_of_a_preflight_failure() {
    // Two problems, both reported.
    let sandbox = doubles_sandbox(&[]);
    let run = push_without_project(&sandbox, &["--output", "json"]);
    assert_json(
        "json_document_of_a_preflight_failure",
        "push hello-world --output json without --project and without a password: stdout",
        &sandbox,
        &run,
        3,
        false,
    );
}

#[test]
fn json_document_of_an_up_to_date_rerun() {
    let sandbox = doubles_sandbox(&[]);
    push_for_real(&sandbox, &hello_world(), &[]).assert_code(0);
    let run = push_for_real(&sandbox, &hello_world(), &["--output", "json"]);
    assert_json(
        "json_document_of_an_up_to_date_rerun",
        "push hello-world --output json a second time into the same registry: stdout",
        &sandbox,
        &run,
        0,
        true,
    );
}

// ------------------------------------------------------------------ what a person sees

/// `push hello-world --password-stdin` with `envs` set for the doubles.
fn human_run(envs: &[(&str, &str)]) -> (Sandbox, Run) {
    let sandbox = doubles_sandbox(envs);
    let run = push_for_real(&sandbox, &hello_world(), &[]);
    (sandbox, run)
}

#[test]
fn human_output_of_a_push() {
    let (sandbox, run) = human_run(&[]);
    assert_human(
        "human_output_of_a_push",
        "push hello-world",
        &sandbox,
        &run,
        0,
    );
}

#[test]
fn human_output_of_a_login_failure() {
    let (sandbox, run) = human_run(&[("ORAS_DOUBLE_FAIL", "login")]);
    assert_human(
        "human_output_of_a_login_failure",
        "push hello-world, oras login fails (401)",
        &sandbox,
        &run,
        4,
    );
}

#[test]
fn human_output_of_an_archive_failure() {
    let (sandbox, run) = human_run(&[("TAR_DOUBLE_FAIL", "1")]);
    assert_human(
        "human_output_of_an_archive_failure",
        "push hello-world, tar fails",
        &sandbox,
        &run,
        5,
    );
}

#[test]
fn human_output_of_a_base_push_failure() {
    let (sandbox, run) = human_run(&[("ORAS_DOUBLE_FAIL", "push-base")]);
    assert_human(
        "human_output_of_a_base_push_failure",
        "push hello-world, the base-path push fails (401)",
        &sandbox,
        &run,
        6,
    );
}

#[test]
fn human_output_of_a_pack_push_failure() {
    let (sandbox, run) = human_run(&[("ORAS_DOUBLE_FAIL", "push-pack")]);
    assert_human(
        "human_output_of_a_pack_push_failure",
        "push hello-world, the pack push fails (401)",
        &sandbox,
        &run,
        6,
    );
}

#[test]
fn human_output_of_a_lookup_failure() {
    let (sandbox, run) = human_run(&[("ORAS_DOUBLE_FAIL", "lookup")]);
    assert_human(
        "human_output_of_a_lookup_failure",
        "push hello-world, the read-only look-up of the tag fails (401)",
        &sandbox,
        &run,
        6,
    );
}

#[test]
fn human_output_of_a_verify_failure() {
    let (sandbox, run) = human_run(&[("ORAS_DOUBLE_FAIL", "verify")]);
    assert_human(
        "human_output_of_a_verify_failure",
        "push hello-world, the read-back fails (connection refused)",
        &sandbox,
        &run,
        7,
    );
}

#[test]
fn human_output_of_a_verify_failure_on_the_wrong_shape() {
    let (sandbox, run) = human_run(&[("ORAS_DOUBLE_SHAPE", "newer")]);
    assert_human(
        "human_output_of_a_verify_failure_on_the_wrong_shape",
        "push hello-world, oras writes the 1.1+ default manifest shape",
        &sandbox,
        &run,
        7,
    );
}

#[test]
fn human_output_of_a_preflight_failure() {
    let sandbox = doubles_sandbox(&[]);
    let run = push_without_project(&sandbox, &["--password-stdin"]);
    assert_human(
        "human_output_of_a_preflight_failure",
        "push hello-world without --project",
        &sandbox,
        &run,
        3,
    );
}

#[test]
fn human_output_of_two_packs() {
    let sandbox = doubles_sandbox(&[]);
    let run = push_for_real(&sandbox, &both_packs(), &[]);
    assert_human(
        "human_output_of_two_packs",
        "push hello-world sample-monitoring: the steps, then the summary table",
        &sandbox,
        &run,
        0,
    );
}

#[test]
fn human_output_of_an_up_to_date_rerun() {
    let sandbox = doubles_sandbox(&[]);
    push_for_real(&sandbox, &hello_world(), &[]).assert_code(0);
    let run = push_for_real(&sandbox, &hello_world(), &[]);
    assert_human(
        "human_output_of_an_up_to_date_rerun",
        "push hello-world a second time into the same registry",
        &sandbox,
        &run,
        0,
    );
}

// ------------------------------------------------------------------ what list shows

/// `packpush list --registry 127.0.0.1:5000 --project proj --username admin
/// --password-stdin --plain-http --oras DOUBLE EXTRA...`.
fn list(sandbox: &Sandbox, extra: &[&str]) -> Run {
    let oras = common::doubles::double("oras");
    let mut args: Vec<String> = [
        "list",
        "--registry",
        REGISTRY,
        "--project",
        PROJECT,
        "--username",
        "admin",
        "--password-stdin",
        "--plain-http",
        "--oras",
        &oras,
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    run(sandbox, &args)
}

#[test]
fn human_output_of_a_list() {
    let sandbox = doubles_sandbox(&[]);
    push_for_real(&sandbox, &both_packs(), &[]).assert_code(0);
    let run = list(&sandbox, &["--deep"]);
    assert_human(
        "human_output_of_a_list",
        "list --deep after a push of hello-world and sample-monitoring",
        &sandbox,
        &run,
        0,
    );
}

#[test]
fn human_output_of_a_list_with_a_version_palette_cannot_use() {
    let mut sandbox = doubles_sandbox(&[]);
    push_for_real(&sandbox, &hello_world(), &[]).assert_code(0);
    // sample-monitoring in the newer default shape: its push fails verification, but the
    // registry holds it.
    sandbox.env("ORAS_DOUBLE_SHAPE", "newer");
    push_for_real(&sandbox, &[fixture_pack("sample-monitoring")], &[]).assert_code(7);
    sandbox.envs.retain(|(key, _)| key != "ORAS_DOUBLE_SHAPE");
    let run = list(&sandbox, &[]);
    assert_human(
        "human_output_of_a_list_with_a_version_palette_cannot_use",
        "list after a push of hello-world and one of sample-monitoring in the newer shape",
        &sandbox,
        &run,
        7,
    );
}

#[test]
fn human_output_of_a_list_without_the_catalog() {
    let mut sandbox = doubles_sandbox(&[]);
    push_for_real(&sandbox, &hello_world(), &[]).assert_code(0);
    sandbox.env("ORAS_DOUBLE_FAIL", "catalog");
    let run = list(&sandbox, &["hello-world"]);
    assert_human(
        "human_output_of_a_list_without_the_catalog",
        "list hello-world when the registry refuses the catalog, as Harbor does",
        &sandbox,
        &run,
        0,
    );
}
