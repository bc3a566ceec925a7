//! A failure at each step, through the `oras` and `tar` doubles in fixtures/doubles: the run
//! stops there with that step's exit code (login 4, archive 5, the pushes and the look-up 6,
//! the verification 7) and makes no later call; the error names the step and its command;
//! the registry holds only what the steps before stored; a partial archive is removed, a
//! whole one kept and its path printed, and nothing else is left in TMPDIR.

mod common;

use std::path::PathBuf;

use common::calls::call_names;
use common::doubles::{ARCHIVE, BASE_REPO, Doubles, HELLO_REPO, PACK_REF, REGISTRY, push_with};
use common::packpush::Run;

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

/// The `error: ...` line packpush ends a failed run with.
fn error_text(run: &Run) -> &str {
    run.stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {}", run.stderr))
}
