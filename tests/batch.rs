//! Many packs in one run, and archives carried in, against real programs: the built
//! packpush drives real oras 1.3.x (`--allow-newer-oras --plain-http`) and GNU tar into a
//! real distribution registry; skopeo and the registry's own access log say what arrived.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::digest::sha256_file;
use common::packpush::{Run, Sandbox, arg, fixture_pack};
use common::packs::copy_pack;
use common::real::{self, report};
use common::testbed::{self, Registry};
use regex::Regex;
use serde_json::Value;

const PROJECT: &str = "batch";
const HELLO: &str = "hello-world";
const MONITORING: &str = "sample-monitoring";

/// `push` into [`PROJECT`]: see [`real::push`].
fn push(sandbox: &Sandbox, registry: &Registry, extra: &[&str]) -> Run {
    real::push(sandbox, registry, PROJECT, extra)
}

fn pack_repo(name: &str) -> String {
    format!("{PROJECT}/spectro-packs/archive/{name}")
}

/// The pack manifest skopeo reads from the registry, and its digest.
fn registry_manifest(registry: &Registry, name: &str, version: &str) -> (Value, String) {
    let reference = format!("{}:{version}", pack_repo(name));
    let raw = testbed::inspect_raw(registry, &reference)
        .unwrap_or_else(|e| panic!("skopeo cannot read {reference}: {e}"));
    (
        serde_json::from_slice(&raw).unwrap(),
        packpush::digest::of_bytes(&raw),
    )
}

fn assert_nothing_pushed(registry: &Registry) {
    for repo in [
        format!("{PROJECT}/spectro-packs/archive"),
        pack_repo(HELLO),
        pack_repo(MONITORING),
    ] {
        assert!(
            testbed::list_tags(registry, &repo).is_err_and(|e| e.contains("404")
                || e.contains("unknown")
                || e.contains("not found")),
            "{repo} exists in the registry"
        );
    }
    assert_eq!(registry.write_requests(), Vec::<String>::new());
}

fn pack_entry<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["packs"]
        .as_array()
        .expect("packs")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no pack {name} in {report:#}"))
}

fn steps_of_kind<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["kind"] == kind)
        .collect()
}

/// Every command that ran, as argv lists, in the order the steps ended.
fn commands(report: &Value) -> Vec<Vec<String>> {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|s| s["commands"].as_array().expect("commands").iter())
        .map(|c| {
            c["argv"]
                .as_array()
                .expect("argv")
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

/// The summary table's row of one pack.
fn table_row<'a>(stderr: &'a str, name: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no table row for {name} in:\n{stderr}"))
}

fn assert_row(stderr: &str, name: &str, version: &str, result: &str, digest: Option<&str>) {
    let row = table_row(stderr, name);
    let digest = match digest {
        Some(d) => regex::escape(&d[..19]),
        None => "-".to_owned(),
    };
    let pattern = format!(
        r"^{}\s+{}\s+{}\s+{}\s+\d+\.\d\d s$",
        regex::escape(name),
        regex::escape(version),
        regex::escape(result),
        digest
    );
    assert!(
        Regex::new(&pattern).unwrap().is_match(row),
        "row {row:?} does not match {pattern:?}\n{stderr}"
    );
}

#[derive(Clone, Copy, Debug)]
enum Given {
    /// `push A B`
    Folders,
    /// `push --from fixtures/packs`
    From,
}

fn two_packs_pushed(given: Given, jobs: &str) {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let out = tempfile::tempdir().unwrap();
    let hello = fixture_pack(HELLO);
    let monitoring = fixture_pack(MONITORING);
    let packs_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/packs");
    let mut extra = match given {
        Given::Folders => vec![arg(&hello), arg(&monitoring)],
        Given::From => vec!["--from", arg(&packs_root)],
    };
    extra.extend(["--jobs", jobs, "--output-dir", arg(out.path())]);
    let run = push(&sandbox, &registry, &extra);
    run.assert_code(0);
    let report = report(&run);

    // Both packs are in the registry as packpush reports them, each layer the archive
    // it built.
    for (name, version) in [(HELLO, "1.0.0"), (MONITORING, "0.2.1")] {
        let entry = pack_entry(&report, name);
        assert_eq!(entry["status"], "pushed", "{entry:#}");
        let (manifest, digest) = registry_manifest(&registry, name, version);
        assert_eq!(entry["manifest_digest"], digest.as_str(), "{name}");
        let archive = out.path().join(format!("{name}-{version}.tar.gz"));
        assert_eq!(
            manifest["layers"][0]["digest"],
            sha256_file(&archive).as_str(),
            "{name}: {manifest:#}"
        );
        assert_eq!(
            manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
            format!("{name}-{version}.tar.gz")
        );
        assert_row(&run.stderr, name, version, "pushed", Some(&digest));
    }
    assert!(
        run.stderr
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["PACK", "VERSION", "RESULT", "DIGEST", "TIME"]),
        "no summary table header:\n{}",
        run.stderr
    );

    // One login, one base path: in the steps, on screen and in the registry.
    assert_eq!(steps_of_kind(&report, "login").len(), 1, "{report:#}");
    assert_eq!(steps_of_kind(&report, "push_base").len(), 1, "{report:#}");
    let logins = commands(&report)
        .into_iter()
        .filter(|argv| argv.get(1).map(String::as_str) == Some("login"))
        .count();
    assert_eq!(logins, 1);
    let step_lines = |n: u8| {
        run.stderr
            .lines()
            .filter(|l| l.starts_with(&format!("[{n}/5]")))
            .count()
    };
    assert_eq!(step_lines(1), 1, "{}", run.stderr);
    assert_eq!(step_lines(3), 1, "{}", run.stderr);
    assert_eq!(step_lines(2), 2, "{}", run.stderr);
    assert_eq!(step_lines(4), 2, "{}", run.stderr);
    assert_eq!(
        registry.manifest_puts(&format!("{PROJECT}/spectro-packs/archive")),
        1,
        "the base path was written more than once:\n{}",
        registry.log()
    );

    // Each pack went through the documented order: login, its archive, the base path,
    // its push, its verification.
    let steps = report["steps"].as_array().unwrap();
    let position = |kind: &str, pack: Option<&str>| {
        steps
            .iter()
            .position(|s| {
                s["kind"] == kind
                    && pack.is_none_or(|p| s["pack"].as_str().is_some_and(|l| l.starts_with(p)))
            })
            .unwrap_or_else(|| panic!("no {kind} step for {pack:?}: {report:#}"))
    };
    for name in [HELLO, MONITORING] {
        let order = [
            position("login", None),
            position("archive", Some(name)),
            position("push_base", None),
            position("push_pack", Some(name)),
            position("verify", Some(name)),
        ];
        assert!(order.is_sorted(), "{name}: steps out of order {order:?}");
    }
    for step in steps {
        assert_eq!(step["status"], "ok", "{step:#}");
    }
    assert_eq!(sandbox.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn two_folders_one_job() {
    two_packs_pushed(Given::Folders, "1");
}

#[test]
fn two_folders_two_jobs() {
    two_packs_pushed(Given::Folders, "2");
}

#[test]
fn from_a_folder_one_job() {
    two_packs_pushed(Given::From, "1");
}

#[test]
fn from_a_folder_two_jobs() {
    two_packs_pushed(Given::From, "2");
}

#[test]
fn one_broken_pack_stops_the_batch_before_anything_runs() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let packs = tempfile::tempdir().unwrap();
    let hello = copy_pack(HELLO, packs.path());
    copy_pack(MONITORING, packs.path());
    fs::write(hello.join("pack.json"), "{ \"name\": \"hello-world\", ").unwrap();

    for jobs in ["1", "2"] {
        let run = push(
            &sandbox,
            &registry,
            &["--from", arg(packs.path()), "--jobs", jobs],
        );
        run.assert_code(3);
        let report = report(&run);
        assert_eq!(report["error"]["class"], "preflight", "{report:#}");
        assert_eq!(report["steps"], Value::Array(vec![]), "a step ran");
        let details = report["error"]["details"].to_string();
        assert!(
            details.contains(&format!("{}", hello.join("pack.json").display())),
            "the broken pack.json is not named: {details}"
        );
        assert!(!run.stderr.contains("[1/5]"), "{}", run.stderr);
        assert!(run.stderr.contains("nothing was run"), "{}", run.stderr);
    }
    // Not even the good pack, nor the base path.
    assert_nothing_pushed(&registry);
    assert_eq!(sandbox.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn two_broken_packs_are_both_reported_in_one_message() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let packs = tempfile::tempdir().unwrap();
    let hello = copy_pack(HELLO, packs.path());
    let monitoring = copy_pack(MONITORING, packs.path());
    fs::write(hello.join("pack.json"), "not json at all").unwrap();
    fs::remove_file(monitoring.join("values.yaml")).unwrap();

    let run = push(&sandbox, &registry, &[arg(&hello), arg(&monitoring)]);
    run.assert_code(3);
    let report = report(&run);
    let error = &report["error"];
    assert_eq!(error["class"], "preflight");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("preflight found 2 problems")),
        "{error:#}"
    );
    let details = error["details"].to_string();
    assert!(details.contains("hello-world"), "{details}");
    assert!(details.contains("pack.json"), "{details}");
    assert!(details.contains("values.yaml"), "{details}");
    assert!(details.contains("sample-monitoring"), "{details}");
    // The same in the one error message people read.
    let error_text = &run.stderr[run.stderr.find("error: ").expect("error line")..];
    let broken_json = hello.join("pack.json").display().to_string();
    for needle in [broken_json.as_str(), "values.yaml"] {
        assert!(error_text.contains(needle), "{needle}: {error_text}");
    }
    assert_eq!(report["steps"], Value::Array(vec![]));
    assert_nothing_pushed(&registry);
}

#[test]
fn a_pack_refused_at_push_time_leaves_the_other_pushed_and_a_rerun_redoes_only_it() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();

    // hello-world 1.0.0 is in the registry already, with other content.
    let other = tempfile::tempdir().unwrap();
    let changed = copy_pack(HELLO, other.path());
    fs::write(changed.join("values.yaml"), "replicas: 7\n").unwrap();
    push(&sandbox, &registry, &[arg(&changed)]).assert_code(0);
    let (_, held_before) = registry_manifest(&registry, HELLO, "1.0.0");

    // The batch: hello-world is refused (exit 6), sample-monitoring is pushed.
    let first_out = tempfile::tempdir().unwrap();
    let run = push(
        &sandbox,
        &registry,
        &[
            arg(&fixture_pack(HELLO)),
            arg(&fixture_pack(MONITORING)),
            "--jobs",
            "2",
            "--output-dir",
            arg(first_out.path()),
        ],
    );
    run.assert_code(6);
    let first = report(&run);
    let hello = pack_entry(&first, HELLO);
    assert_eq!(hello["status"], "failed", "{hello:#}");
    assert_eq!(hello["error"]["class"], "push", "{hello:#}");
    assert!(
        hello["error"]["message"]
            .as_str()
            .unwrap()
            .contains("different content"),
        "{hello:#}"
    );
    let monitoring = pack_entry(&first, MONITORING);
    assert_eq!(monitoring["status"], "pushed", "{monitoring:#}");
    assert_eq!(first["error"]["exit_code"], 6);
    assert!(
        first["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("1 of 2 packs failed"),
        "{first:#}"
    );
    assert_row(&run.stderr, HELLO, "1.0.0", "FAILED", None);
    let (_, monitoring_digest) = registry_manifest(&registry, MONITORING, "0.2.1");
    assert_row(
        &run.stderr,
        MONITORING,
        "0.2.1",
        "pushed",
        Some(&monitoring_digest),
    );
    // The refused version was left alone.
    assert_eq!(registry_manifest(&registry, HELLO, "1.0.0").1, held_before);
    assert_eq!(registry.manifest_puts(&pack_repo(HELLO)), 1);
    assert_eq!(registry.manifest_puts(&pack_repo(MONITORING)), 1);

    // The re-run with --overwrite pushes hello-world only.
    let second_out = tempfile::tempdir().unwrap();
    let run = push(
        &sandbox,
        &registry,
        &[
            arg(&fixture_pack(HELLO)),
            arg(&fixture_pack(MONITORING)),
            "--overwrite",
            "--output-dir",
            arg(second_out.path()),
        ],
    );
    run.assert_code(0);
    let second = report(&run);
    assert_eq!(pack_entry(&second, HELLO)["status"], "pushed");
    assert_eq!(pack_entry(&second, MONITORING)["status"], "up_to_date");
    assert_eq!(
        pack_entry(&second, MONITORING)["manifest_digest"],
        monitoring_digest.as_str()
    );
    assert_row(
        &run.stderr,
        MONITORING,
        "0.2.1",
        "up to date",
        Some(&monitoring_digest),
    );
    let oras_pushes_of = |name: &str| {
        commands(&second)
            .into_iter()
            .filter(|argv| {
                argv.get(1).map(String::as_str) == Some("push")
                    && argv
                        .get(2)
                        .is_some_and(|r| r.contains(&format!("/{name}:")))
            })
            .count()
    };
    assert_eq!(oras_pushes_of(HELLO), 1);
    assert_eq!(oras_pushes_of(MONITORING), 0);
    assert_eq!(registry.manifest_puts(&pack_repo(HELLO)), 2);
    assert_eq!(registry.manifest_puts(&pack_repo(MONITORING)), 1);
    let (manifest, _) = registry_manifest(&registry, HELLO, "1.0.0");
    assert_eq!(
        manifest["layers"][0]["digest"],
        sha256_file(&second_out.path().join("hello-world-1.0.0.tar.gz")).as_str()
    );
}

/// `tar -czf NAME-VERSION.tar.gz FOLDER...` run in `dir`, as on the machine that built it.
fn tar_czf(dir: &Path, archive: &Path, folders: &[&str]) {
    let status = Command::new("tar")
        .arg("-czf")
        .arg(archive)
        .args(folders)
        .current_dir(dir)
        .status()
        .expect("run tar");
    assert!(status.success());
}

#[test]
fn a_carried_in_archive_is_pushed_as_it_is() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let build = tempfile::tempdir().unwrap();
    copy_pack(HELLO, build.path());
    let carried = tempfile::tempdir().unwrap();
    let archive = carried.path().join("hello-world-1.0.0.tar.gz");
    tar_czf(build.path(), &archive, &[HELLO]);
    let sha = sha256_file(&archive);

    let run = push(&sandbox, &registry, &["--archive", arg(&archive)]);
    run.assert_code(0);
    let report = report(&run);

    let (manifest, digest) = registry_manifest(&registry, HELLO, "1.0.0");
    assert_eq!(
        manifest["layers"][0]["digest"],
        sha.as_str(),
        "{manifest:#}"
    );
    assert_eq!(
        manifest["layers"][0]["size"],
        fs::metadata(&archive).unwrap().len()
    );
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "hello-world-1.0.0.tar.gz"
    );
    assert_eq!(
        pack_entry(&report, HELLO)["manifest_digest"],
        digest.as_str()
    );
    // No tar ran: the archive step is the check of the carried-in file.
    let archive_steps = steps_of_kind(&report, "archive");
    assert_eq!(archive_steps.len(), 1);
    assert_eq!(archive_steps[0]["status"], "skipped", "{report:#}");
    assert!(
        commands(&report)
            .iter()
            .all(|argv| !argv[0].ends_with("tar")),
        "{report:#}"
    );
    // The file is the user's: still there, unchanged.
    assert_eq!(sha256_file(&archive), sha);
    assert_eq!(fs::read_dir(carried.path()).unwrap().count(), 1);
    assert_eq!(sandbox.leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn a_carried_in_archive_and_a_folder_in_one_batch() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let build = tempfile::tempdir().unwrap();
    copy_pack(MONITORING, build.path());
    let archive = build.path().join("sample-monitoring-0.2.1.tar.gz");
    tar_czf(build.path(), &archive, &[MONITORING]);

    let run = push(
        &sandbox,
        &registry,
        &[
            arg(&fixture_pack(HELLO)),
            "--archive",
            arg(&archive),
            "--jobs",
            "2",
        ],
    );
    run.assert_code(0);
    let report = report(&run);
    assert_eq!(pack_entry(&report, HELLO)["status"], "pushed");
    assert_eq!(pack_entry(&report, MONITORING)["status"], "pushed");
    let (manifest, _) = registry_manifest(&registry, MONITORING, "0.2.1");
    assert_eq!(
        manifest["layers"][0]["digest"],
        sha256_file(&archive).as_str()
    );
    registry_manifest(&registry, HELLO, "1.0.0");
    assert_eq!(
        registry.manifest_puts(&format!("{PROJECT}/spectro-packs/archive")),
        1
    );
}

/// A carried-in archive the preflight refuses: exit 3, the reason named, nothing pushed.
fn refused_archive(archive: &Path, reason: &str) {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let run = push(&sandbox, &registry, &["--archive", arg(archive)]);
    run.assert_code(3);
    let report = report(&run);
    assert_eq!(report["error"]["class"], "preflight", "{report:#}");
    assert!(
        run.stderr.contains(reason),
        "expected {reason:?} in:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("[1/5]"), "{}", run.stderr);
    assert_nothing_pushed(&registry);
    assert!(archive.is_file(), "the carried-in file was removed");
}

#[test]
fn a_carried_in_archive_named_for_another_version_is_refused() {
    let build = tempfile::tempdir().unwrap();
    copy_pack(HELLO, build.path());
    let built = build.path().join("hello-world-1.0.0.tar.gz");
    tar_czf(build.path(), &built, &[HELLO]);
    // Renamed as if it were another version.
    let archive = build.path().join("hello-world-2.0.0.tar.gz");
    fs::rename(&built, &archive).unwrap();
    refused_archive(
        &archive,
        "the file name says 'hello-world-2.0.0' but its pack.json says name 'hello-world' and version '1.0.0'",
    );
}

#[test]
fn a_carried_in_file_that_is_not_gzip_is_refused() {
    let build = tempfile::tempdir().unwrap();
    let archive = build.path().join("hello-world-1.0.0.tar.gz");
    // A plain tar, not compressed.
    copy_pack(HELLO, build.path());
    let status = Command::new("tar")
        .arg("-cf")
        .arg(&archive)
        .arg(HELLO)
        .current_dir(build.path())
        .status()
        .unwrap();
    assert!(status.success());
    refused_archive(&archive, "is not a readable tar.gz archive");
}

#[test]
fn a_carried_in_archive_with_two_top_level_folders_is_refused() {
    let build = tempfile::tempdir().unwrap();
    copy_pack(HELLO, build.path());
    copy_pack(MONITORING, build.path());
    let archive = build.path().join("hello-world-1.0.0.tar.gz");
    tar_czf(build.path(), &archive, &[HELLO, MONITORING]);
    refused_archive(
        &archive,
        "holds more than one top-level entry ('hello-world' and 'sample-monitoring')",
    );
}

/// Each pack's time is that of its own steps (2, 4 and 5): with one job, both archives are
/// made before either push, and the small pack's time does not include the large one's tar.
#[test]
fn each_pack_has_its_own_time() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let src = tempfile::tempdir().unwrap();
    let small = copy_pack(HELLO, src.path());
    let large = copy_pack(MONITORING, src.path());
    // 8 MB that gzip cannot shrink: its tar takes long enough to tell apart.
    let mut noise = Vec::with_capacity(8 << 20);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    while noise.len() < 8 << 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        noise.extend_from_slice(&state.to_le_bytes());
    }
    fs::write(large.join("noise.bin"), noise).unwrap();
    let run = push(&sandbox, &registry, &[arg(&small), arg(&large)]);
    run.assert_code(0);
    let report = report(&run);
    let own = |name: &str| -> u64 {
        let label = format!(
            "{name}:{}",
            pack_entry(&report, name)["version"].as_str().unwrap()
        );
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["pack"] == label.as_str())
            .map(|s| s["duration_ms"].as_u64().unwrap())
            .sum()
    };
    let time = |name: &str| pack_entry(&report, name)["duration_ms"].as_u64().unwrap();
    assert_eq!(time(HELLO), own(HELLO), "{report:#}");
    assert_eq!(time(MONITORING), own(MONITORING), "{report:#}");
    let large_archive = steps_of_kind(&report, "archive")
        .into_iter()
        .find(|s| s["pack"].as_str().unwrap().starts_with(MONITORING))
        .unwrap()["duration_ms"]
        .as_u64()
        .unwrap();
    assert!(
        time(HELLO) < large_archive,
        "the small pack's {} ms include the large one's tar ({large_archive} ms)\n{report:#}",
        time(HELLO)
    );
    assert!(time(MONITORING) > time(HELLO), "{report:#}");
}

/// An archive made inside the pack folder (`tar -czf NAME-VERSION.tar.gz .`) holds the
/// pack's files without their folder: refused, saying so and how to make one; made as
/// the fix says, it is pushed.
#[test]
fn a_carried_in_archive_made_inside_the_pack_folder_is_refused_with_how_to_make_one() {
    let build = tempfile::tempdir().unwrap();
    let pack = copy_pack(HELLO, build.path());
    let archive = build.path().join("hello-world-1.0.0.tar.gz");
    tar_czf(&pack, &archive, &["."]);
    refused_archive(
        &archive,
        "holds the pack's files (the entry './'), not the pack's folder: it was made inside \
         the folder (tar -czf hello-world-1.0.0.tar.gz .)",
    );
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let run = push(&sandbox, &registry, &["--archive", arg(&archive)]);
    assert!(
        run.stderr.contains(
            "from the folder's parent, run tar -czf hello-world-1.0.0.tar.gz PACK_FOLDER"
        ),
        "{}",
        run.stderr
    );
    fs::remove_file(&archive).unwrap();
    tar_czf(build.path(), &archive, &[HELLO]);
    let run = push(&sandbox, &registry, &["--archive", arg(&archive)]);
    run.assert_code(0);
    registry_manifest(&registry, HELLO, "1.0.0");
}
