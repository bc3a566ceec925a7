//! A failure at each step, through the `oras` and `tar` doubles in fixtures/doubles: the run
//! stops there with that step's exit code (login 4, archive 5, the pushes and the look-up 6,
//! the verification 7) and makes no later call; the error names the step and its command;
//! the registry holds only what the steps before stored; a partial archive is removed, a
//! whole one kept and its path printed, and nothing else is left in TMPDIR.
//!
//! One table: each row is a case and its own test, and every row is checked for all of it.

mod common;

use std::path::PathBuf;

use common::calls::{Call, call_names};
use common::doubles::{ARCHIVE, BASE_REPO, Doubles, HELLO_REPO, PACK_REF, REGISTRY};
use common::packpush::{Run, path_str};

/// What becomes of the pack's archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Archive {
    /// tar never ran.
    NotMade,
    /// tar failed: the error shows tar's command and says the partial archive was removed,
    /// and it is gone.
    Removed,
    /// A push, the look-up or the verification failed: the archive is kept and its path
    /// printed (README, "Exit codes").
    Kept,
}

/// What the fake registry holds after the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holds {
    /// Nothing at all: nothing was ever stored.
    Nothing,
    /// No tag of the pack.
    NoPack,
    /// The pack's tag.
    Pack,
}

/// One row of the table.
struct StepFailure<'a> {
    /// Variables that make a double fail (or answer wrongly).
    inject: &'a [(&'a str, &'a str)],
    /// Archive into `HOME/out` (`--output-dir`) instead of a temporary folder.
    output_dir: bool,
    exit: i32,
    /// The step the error names (`step N`), on stderr and in the final `error:` line.
    step: u32,
    /// The double's name of every call after the version probes, in order: no call after
    /// the failing one.
    calls: &'a [&'a str],
    /// The calls a double failed on purpose (position, the failure it noted); no other call
    /// has one.
    failed: &'a [(usize, &'a str)],
    /// The positions of the calls that fetch the pack's tag (the look-up, the read-back).
    reads_pack: &'a [usize],
    /// Phrases of stderr: the failing command, what went wrong.
    says: &'a [&'a str],
    /// Phrases of the final `error:` line.
    error_says: &'a [&'a str],
    /// Words that one `hint:` line holds, all of them (empty: no hint is checked).
    hint: &'a [&'a str],
    archive: Archive,
    registry: Holds,
}

/// The label of the call a double names `call`, as [`Call::label`] gives it.
fn label(call: &str) -> &'static str {
    match call {
        "login" => "oras login",
        "tar" => "tar",
        "push-base" | "push-pack" => "oras push",
        "fetch" => "oras manifest fetch",
        "tags" => "oras repo tags",
        other => panic!("no label for the call {other:?}"),
    }
}

/// The `error: ...` line packpush ends a failed run with.
fn error_text(run: &Run) -> &str {
    run.stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {}", run.stderr))
}

/// The archive tar was asked to write.
fn archive_of(steps: &[Call]) -> PathBuf {
    let tar = steps.iter().find(|c| c.program == "tar").expect("tar ran");
    PathBuf::from(&tar.argv[1])
}

impl StepFailure<'_> {
    fn check(&self) {
        let mut doubles = Doubles::new();
        for (key, value) in self.inject {
            doubles.env(key, value);
        }
        let out = doubles.home().join("out");
        let out_arg = path_str(&out);
        let extra: &[&str] = if self.output_dir {
            &["--output-dir", &out_arg]
        } else {
            &[]
        };
        let run = doubles.push(extra);
        run.assert_code(self.exit);

        // The calls: exactly these, in this order, failed where the doubles were told to.
        let steps = doubles.steps();
        assert_eq!(call_names(&steps), self.calls, "{steps:#?}");
        assert_eq!(
            steps.iter().map(Call::label).collect::<Vec<_>>(),
            self.calls.iter().map(|c| label(c)).collect::<Vec<_>>()
        );
        for (at, call) in steps.iter().enumerate() {
            let failed = self
                .failed
                .iter()
                .find(|(position, _)| *position == at)
                .map(|(_, failure)| *failure);
            assert_eq!(call.failed.as_deref(), failed, "call {at}: {call:#?}");
        }
        for &at in self.reads_pack {
            assert!(steps[at].fetches(PACK_REF), "call {at}: {:#?}", steps[at]);
        }

        // What packpush says.
        let step = format!("step {}", self.step);
        assert!(run.stderr.contains(&step), "{}", run.stderr);
        let error = error_text(&run);
        assert!(error.contains(&step), "{}", run.stderr);
        for phrase in self.says {
            assert!(run.stderr.contains(phrase), "{phrase:?}: {}", run.stderr);
        }
        for phrase in self.error_says {
            assert!(error.contains(phrase), "{phrase:?}: {}", run.stderr);
        }
        if !self.hint.is_empty() {
            assert!(
                run.stderr
                    .lines()
                    .any(|l| l.starts_with("hint:") && self.hint.iter().all(|w| l.contains(w))),
                "no hint with {:?}: {}",
                self.hint,
                run.stderr
            );
        }

        // The archive, and what is left in TMPDIR.
        match self.archive {
            Archive::NotMade => {
                assert!(!self.calls.contains(&"tar"), "tar ran");
            }
            Archive::Removed => {
                let archive = archive_of(&steps);
                assert!(!archive.exists(), "{} left behind", archive.display());
                assert!(
                    run.stderr
                        .contains(&format!("tar -czvf {}", archive.display())),
                    "{}",
                    run.stderr
                );
                assert!(run.stderr.contains("was removed"), "{}", run.stderr);
            }
            Archive::Kept => {
                let archive = archive_of(&steps);
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
            }
        }
        if self.output_dir {
            assert_eq!(archive_of(&steps), out.join(ARCHIVE));
        }
        if self.archive == Archive::Kept && !self.output_dir {
            assert_only_the_archive_is_left(&doubles, &steps);
        } else {
            assert_eq!(doubles.leftover_names(), Vec::<String>::new());
        }

        // The registry.
        match self.registry {
            Holds::Nothing => assert!(!doubles.registry().exists(), "something was stored"),
            Holds::NoPack => assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_none()),
            Holds::Pack => assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_some()),
        }
    }
}

/// After a push or verify failure only the kept archive's folder may be left in TMPDIR:
/// the private folder with the registry config and manifests is gone.
fn assert_only_the_archive_is_left(doubles: &Doubles, steps: &[Call]) {
    let left = doubles.leftover_names();
    assert!(
        left.len() == 1 && left[0].starts_with("packpush-archive-"),
        "only the kept archive's folder may be left in TMPDIR, found {left:?}"
    );
    assert_eq!(
        doubles.physical(archive_of(steps).parent().unwrap()),
        doubles.physical(&doubles.tmp().join(&left[0]))
    );
}

/// tar fails (and leaves a partial archive behind).
const TAR_FAILURE: StepFailure<'static> = StepFailure {
    inject: &[("TAR_DOUBLE_FAIL", "1")],
    output_dir: false,
    exit: 5,
    step: 2,
    calls: &["login", "tar"],
    failed: &[(1, "tar")],
    reads_pack: &[],
    says: &[],
    error_says: &[],
    hint: &[],
    archive: Archive::Removed,
    registry: Holds::Nothing,
};

/// One `#[test]` per row.
macro_rules! step_failures {
    ($(
        $(#[$attr:meta])*
        $name:ident: $case:expr;
    )+) => {$(
        $(#[$attr])*
        #[test]
        fn $name() {
            $case.check();
        }
    )+};
}

step_failures! {
    login_failure_stops_the_run_with_exit_4: StepFailure {
        inject: &[("ORAS_DOUBLE_FAIL", "login")],
        output_dir: false,
        exit: 4,
        step: 1,
        calls: &["login"],
        failed: &[(0, "login")],
        reads_pack: &[],
        says: &[
            &format!("login {REGISTRY} --username admin --password-stdin --plain-http"),
            "response status code 401",
        ],
        error_says: &[],
        // The credentials alone: a login does not name the project.
        hint: &["the registry refused the credentials", "--username"],
        archive: Archive::NotMade,
        registry: Holds::Nothing,
    };

    tar_failure_stops_the_run_with_exit_5_and_removes_the_partial_archive: TAR_FAILURE;

    /// The same in a folder of the user's choosing.
    tar_failure_in_the_output_folder_removes_the_partial_archive: StepFailure {
        output_dir: true,
        ..TAR_FAILURE
    };

    base_push_failure_stops_the_run_with_exit_6: StepFailure {
        inject: &[("ORAS_DOUBLE_FAIL", "push-base")],
        output_dir: false,
        exit: 6,
        step: 3,
        calls: &["login", "tar", "push-base"],
        failed: &[(2, "push-base")],
        reads_pack: &[],
        says: &[&format!("push {BASE_REPO} --plain-http")],
        error_says: &[],
        hint: &[],
        archive: Archive::Kept,
        registry: Holds::Nothing,
    };

    pack_push_failure_stops_the_run_with_exit_6_and_keeps_the_archive: StepFailure {
        inject: &[("ORAS_DOUBLE_FAIL", "push-pack")],
        output_dir: false,
        exit: 6,
        step: 4,
        calls: &["login", "tar", "push-base", "fetch", "push-pack"],
        failed: &[(4, "push-pack")],
        reads_pack: &[3],
        says: &[&format!("push {PACK_REF} {ARCHIVE}")],
        error_says: &[],
        hint: &[],
        archive: Archive::Kept,
        registry: Holds::NoPack,
    };

    /// `ORAS_DOUBLE_FAIL=fetch` fails every fetch with "not found": the look-up reads that
    /// as "not in the registry yet" and the push goes ahead; the read-back then fails.
    fetch_failure_stops_the_run_with_exit_7_and_keeps_the_archive: StepFailure {
        inject: &[("ORAS_DOUBLE_FAIL", "fetch")],
        output_dir: false,
        exit: 7,
        step: 5,
        calls: &["login", "tar", "push-base", "fetch", "push-pack", "fetch", "tags"],
        failed: &[(3, "fetch"), (5, "fetch")],
        reads_pack: &[3, 5],
        says: &["manifest fetch --plain-http"],
        error_says: &[],
        hint: &[],
        archive: Archive::Kept,
        registry: Holds::Pack,
    };

    newer_manifest_shape_fails_verification_with_exit_7: StepFailure {
        inject: &[("ORAS_DOUBLE_SHAPE", "newer")],
        output_dir: false,
        exit: 7,
        step: 5,
        calls: &["login", "tar", "push-base", "fetch", "push-pack", "fetch", "fetch", "tags"],
        failed: &[],
        reads_pack: &[3, 5],
        says: &["artifactType"],
        error_says: &[],
        hint: &[],
        archive: Archive::Kept,
        registry: Holds::Pack,
    };

    /// The error itself says which step failed, and that it was the look-up, like every
    /// other step's error does ("step 3 failed: ...", "step 5 (...): ...").
    lookup_failure_stops_the_pack_with_exit_6_before_its_push: StepFailure {
        inject: &[("ORAS_DOUBLE_FAIL", "lookup")],
        output_dir: false,
        exit: 6,
        step: 4,
        calls: &["login", "tar", "push-base", "fetch"],
        failed: &[(3, "lookup")],
        reads_pack: &[3],
        says: &["response status code 401"],
        error_says: &["look-up"],
        hint: &[],
        archive: Archive::Kept,
        registry: Holds::NoPack,
    };

    /// The look-up of the new version is answered "not found"; the read-back fails with a
    /// connection error, which may pass: it is tried four times in all (the default
    /// `--retries 3`) before the run stops.
    verify_failure_stops_the_run_with_exit_7_and_keeps_the_archive: StepFailure {
        inject: &[("ORAS_DOUBLE_FAIL", "verify")],
        output_dir: false,
        exit: 7,
        step: 5,
        calls: &[
            "login", "tar", "push-base", "fetch", "push-pack", "fetch", "fetch", "fetch", "fetch",
            "tags",
        ],
        failed: &[(5, "verify"), (6, "verify"), (7, "verify"), (8, "verify")],
        reads_pack: &[3, 5, 6, 7, 8],
        says: &[
            "connection refused",
            "a transient failure (could not connect) on every try (4 in all)",
        ],
        error_says: &[],
        hint: &[],
        archive: Archive::Kept,
        registry: Holds::Pack,
    };
}
