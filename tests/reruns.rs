//! Re-runs, through the `oras` and `tar` doubles in fixtures/doubles: the read-only look-up
//! of each pack's tag before its push finds what an earlier run pushed, so a second push of
//! the same pack is reported up to date and uploads nothing; with the archive cache that look-up
//! runs before tar, which then does not run at all; changed content under the same version is
//! refused (exit 6) and leaves the registry as it was, unless `--overwrite`.

mod common;

use std::fs;
use std::io::Write;

use common::calls::call_names;
use common::digest::sha256_hex;
use common::doubles::{BASE_REPO, Doubles, HELLO_REPO, ONE_PACK_CALLS, PACK_REF, json};
use common::packpush::fixture_pack;
use common::packs::copy_dir;
use common::real::step;

#[test]
fn a_second_push_of_the_same_pack_is_up_to_date_and_pushes_nothing() {
    let doubles = Doubles::new();
    doubles.push(&[]).assert_code(0);
    let stored = doubles
        .stored_by_tag(HELLO_REPO, "1.0.0")
        .expect("the first run pushed the pack");
    let digest = format!("sha256:{}", sha256_hex(&stored));

    // Same sandbox, same registry, no --output-dir, no cache: tar runs again and gives the
    // same archive; the look-up finds it and nothing is pushed for the pack.
    let before = doubles.calls().len();
    let run = doubles.push(&["--no-cache"]);
    run.assert_code(0);
    let steps = doubles.steps_after(before);
    assert_eq!(
        call_names(&steps),
        [
            "login",
            "tar",
            "push-base",
            "fetch",
            "fetch",
            "fetch",
            "tags"
        ]
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

    // With the cache the first run filled: the look-up alone, before tar, which does not
    // run; nor does anything after it.
    let before = doubles.calls().len();
    let run = doubles.push(&[]);
    run.assert_code(0);
    let steps = doubles.steps_after(before);
    assert_eq!(call_names(&steps), ["login", "fetch"]);
    assert!(steps[1].fetches(PACK_REF));
    assert!(run.stdout.contains("tar did not run"), "{}", run.stdout);
    assert!(run.stdout.contains(&digest), "{}", run.stdout);
    assert_eq!(doubles.leftover_names(), Vec::<String>::new());

    // The same, as JSON.
    let before = doubles.calls().len();
    let run = doubles.push(&["--output", "json"]);
    run.assert_code(0);
    let steps = doubles.steps_after(before);
    assert_eq!(call_names(&steps), ["login", "fetch"]);
    let report = json(run.stdout.as_bytes());
    assert_eq!(report["ok"], true);
    let pack = &report["packs"][0];
    assert_eq!(pack["status"], "up_to_date", "{report:#}");
    assert_eq!(pack["archived"], "none", "{report:#}");
    assert_eq!(pack["manifest_digest"], digest.as_str());
    let archive = step(&report, "archive");
    assert_eq!(archive["status"], "skipped", "{archive:#}");
    assert!(
        archive["note"]
            .as_str()
            .unwrap()
            .contains("tar did not run"),
        "{archive:#}"
    );
    assert_eq!(archive["commands"][0]["read_only"], true, "{archive:#}");
    for kind in ["push_base", "push_pack", "verify"] {
        assert_eq!(step(&report, kind)["status"], "skipped", "{report:#}");
    }
    assert_eq!(
        doubles.calls().iter().filter(|c| c.call == "tar").count(),
        2
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
    run.assert_stderr_has("different content");
    run.assert_stderr_has("--overwrite");
    assert_eq!(
        doubles.stored_by_tag(HELLO_REPO, "1.0.0"),
        Some(first.clone())
    );

    // The cache learned the changed content's archive from the refused run: the look-up
    // runs before tar, finds another archive, and tar runs.
    let before = doubles.calls().len();
    let run = doubles.push_packs(&packs, &["--overwrite"]);
    run.assert_code(0);
    let mut steps = doubles.steps_after(before);
    let early = steps.remove(1);
    assert!(early.fetches(PACK_REF), "{early:#?}");
    assert_eq!(call_names(&steps), ONE_PACK_CALLS);
    let now = doubles.stored_by_tag(HELLO_REPO, "1.0.0").unwrap();
    assert_eq!(now, steps[4].file("manifest.json"));
    assert_ne!(
        json(&now)["layers"][0]["digest"],
        json(&first)["layers"][0]["digest"]
    );
}

/// The look-up before tar failing (here: the registry refuses connections to fetches of what
/// it holds) changes no result: tar runs as without a cache, and step 4's own look-up fails
/// the pack with its exit code and words.
#[test]
fn a_look_up_before_tar_that_fails_falls_back_to_tar() {
    let mut doubles = Doubles::new();
    doubles.push(&[]).assert_code(0);
    doubles.env("ORAS_DOUBLE_FAIL", "verify");
    let before = doubles.calls().len();
    let run = doubles.push(&["--retries", "0", "--output", "json"]);
    run.assert_code(6);
    let steps = doubles.steps_after(before);
    assert_eq!(
        call_names(&steps),
        ["login", "fetch", "tar", "push-base", "fetch"]
    );
    let report = json(run.stdout.as_bytes());
    let archive = step(&report, "archive");
    assert_eq!(archive["status"], "ok", "{archive:#}");
    assert_eq!(archive["commands"][0]["exit_code"], 1, "{archive:#}");
    assert_eq!(report["packs"][0]["archived"], "tar", "{report:#}");
    assert_eq!(step(&report, "push_pack")["status"], "failed", "{report:#}");
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .contains("step 4"),
        "{report:#}"
    );
}
