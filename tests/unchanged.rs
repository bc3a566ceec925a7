//! Unchanged packs are not archived again, and the archive cache can make a run faster,
//! never wrong. Against real programs: the built packpush drives real oras 1.3.x
//! (`--allow-newer-oras --plain-http`) and GNU tar into a real registry, whose access log
//! says what was written; `--reproducible`, no SOURCE_DATE_EPOCH.
//!
//! - A `touch` of every file, or a fresh copy of the folder: up to date, tar does not run,
//!   nothing is written to the registry.
//! - Each change of content (a byte of any file, a renamed file, a flipped executable bit, a
//!   new empty file or folder, a link's target) is a change, with the cache and without it:
//!   the push is refused (exit 6) and the registry is left as it was.
//! - A cache that was deleted, truncated, filled with garbage, that lies, that cannot be
//!   written, or that two runs share at once: every result stays correct, and a warning
//!   says when the cache was ignored.
//! - `--output-dir` re-runs: the identical archive there is used; another one is refused.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::digest::sha256_file;
use common::packpush::{Run, Sandbox, arg, fixture_pack, path_str};
use common::packs::copy_dir;
use common::real::{self, report, step};
use common::testbed::Registry;
use serde_json::Value;

const PROJECT: &str = "unchanged";
const REPO: &str = "unchanged/spectro-packs/archive/hello-world";
const ARCHIVE: &str = "hello-world-1.0.0.tar.gz";

/// A checkout of hello-world at `parent/hello-world`, with a link (`manifests/current.yaml`
/// to `hello-world.yaml`) and an executable script, every entry at `mtime`.
fn checkout(parent: &Path, mtime: u64) -> PathBuf {
    let pack = parent.join("hello-world");
    copy_dir(&fixture_pack("hello-world"), &pack);
    std::os::unix::fs::symlink("hello-world.yaml", pack.join("manifests/current.yaml")).unwrap();
    fs::write(pack.join("install.sh"), "#!/bin/sh\necho hello\n").unwrap();
    chmod(&pack.join("install.sh"), 0o755);
    touch_all(&pack, mtime);
    pack
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn touch_all(dir: &Path, mtime: u64) {
    let status = Command::new("find")
        .arg(dir)
        .args([
            "-exec",
            "touch",
            "-h",
            "-d",
            &format!("@{mtime}"),
            "{}",
            "+",
        ])
        .status()
        .expect("run find and touch");
    assert!(status.success());
}

/// `push PACK --reproducible EXTRA` into [`PROJECT`], as JSON.
fn push(sandbox: &Sandbox, registry: &Registry, pack: &Path, extra: &[&str]) -> Run {
    let mut args = vec![arg(pack), "--reproducible"];
    args.extend_from_slice(extra);
    real::push(sandbox, registry, PROJECT, &args)
}

fn pack_of(report: &Value) -> &Value {
    &report["packs"][0]
}

fn warnings(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect()
}

/// Up to date, found before archiving: tar did not run.
#[track_caller]
fn assert_found_without_tar(report: &Value) {
    assert_eq!(pack_of(report)["status"], "up_to_date", "{report:#}");
    assert_eq!(pack_of(report)["archived"], "none", "{report:#}");
    let archive = step(report, "archive");
    assert_eq!(archive["status"], "skipped", "{archive:#}");
    let ran: Vec<&str> = archive["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["argv"][1].as_str().unwrap())
        .collect();
    assert_eq!(ran, ["manifest"], "{archive:#}");
}

/// A first push from a fresh checkout: pushed; the registry's writes so far.
fn first_push(sandbox: &Sandbox, registry: &Registry, pack: &Path, extra: &[&str]) -> usize {
    let run = push(sandbox, registry, pack, extra);
    run.assert_code(0);
    assert_eq!(pack_status(&report(&run)), "pushed");
    assert_eq!(registry.manifest_puts(REPO), 1);
    registry.write_requests().len()
}

fn pack_status(report: &Value) -> &str {
    pack_of(report)["status"].as_str().unwrap_or_default()
}

#[test]
fn a_touch_or_a_fresh_copy_is_up_to_date_and_nothing_is_written() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let src = tempfile::tempdir().unwrap();
    let pack = checkout(src.path(), 1_600_000_000);
    let writes = first_push(&sandbox, &registry, &pack, &[]);

    // Every file touched, as a build step or `git checkout` does.
    touch_all(&pack, 1_700_000_000);
    let run = push(&sandbox, &registry, &pack, &[]);
    run.assert_code(0);
    let touched = report(&run);
    assert_found_without_tar(&touched);
    assert_eq!(registry.write_requests().len(), writes, "{touched:#}");
    assert_eq!(registry.manifest_puts(REPO), 1);
    assert!(warnings(&touched).is_empty(), "{touched:#}");
    for kind in ["push_base", "push_pack", "verify"] {
        assert_eq!(step(&touched, kind)["status"], "skipped", "{touched:#}");
    }

    // A fresh copy elsewhere, at other times, with other modes but the same executable bits.
    let other = tempfile::tempdir().unwrap();
    let copy = checkout(other.path(), 1_650_000_000);
    chmod(&copy.join("values.yaml"), 0o600);
    let run = push(&sandbox, &registry, &copy, &[]);
    run.assert_code(0);
    assert!(run.stderr.contains("tar did not run"), "{}", run.stderr);
    assert!(
        run.stderr.contains("found    up to date before archiving"),
        "{}",
        run.stderr
    );
    assert_eq!(registry.write_requests().len(), writes);
}

/// A change of a pack folder, and what it is.
type Change = (String, Box<dyn Fn(&Path)>);

/// The changes that must each be found, on a checkout made by [`checkout`].
fn changes() -> Vec<Change> {
    let mut changes: Vec<Change> = Vec::new();
    for file in [
        "README.md",
        "logo.png",
        "manifests/hello-world.yaml",
        "pack.json",
        "values.yaml",
        "install.sh",
    ] {
        changes.push((
            format!("one byte of {file}"),
            Box::new(move |pack: &Path| change_one_byte(&pack.join(file))),
        ));
    }
    changes.push((
        "a file renamed".into(),
        Box::new(|pack: &Path| {
            fs::rename(pack.join("README.md"), pack.join("README.txt")).unwrap()
        }),
    ));
    changes.push((
        "an executable bit flipped".into(),
        Box::new(|pack: &Path| chmod(&pack.join("install.sh"), 0o644)),
    ));
    changes.push((
        "a new empty file".into(),
        Box::new(|pack: &Path| fs::write(pack.join("manifests/empty.yaml"), "").unwrap()),
    ));
    changes.push((
        "a new empty folder".into(),
        Box::new(|pack: &Path| fs::create_dir(pack.join("charts")).unwrap()),
    ));
    changes.push((
        "a link's target".into(),
        Box::new(|pack: &Path| {
            let link = pack.join("manifests/current.yaml");
            fs::remove_file(&link).unwrap();
            std::os::unix::fs::symlink("./hello-world.yaml", &link).unwrap();
        }),
    ));
    changes
}

/// Changes one byte of `file` so that it stays what the pack checks want (pack.json valid
/// JSON, logo.png a PNG).
fn change_one_byte(file: &Path) {
    let mut bytes = fs::read(file).unwrap();
    let at = if file.ends_with("pack.json") {
        let text = String::from_utf8(bytes.clone()).unwrap();
        let key = text.find("\"displayName\"").expect("displayName");
        key + text[key + 13..].find('"').unwrap() + 14
    } else {
        bytes.len() - 2
    };
    bytes[at] = if bytes[at] == b'X' { b'Y' } else { b'X' };
    fs::write(file, bytes).unwrap();
}

/// Each change, from a fresh checkout at another time, is refused (exit 6) and writes
/// nothing; an unchanged fresh checkout is up to date (the control).
fn every_change_is_found(extra: &[&str]) {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let src = tempfile::tempdir().unwrap();
    let original = checkout(src.path(), 1_600_000_000);
    let writes = first_push(&sandbox, &registry, &original, extra);

    let control = tempfile::tempdir().unwrap();
    let unchanged = checkout(control.path(), 1_650_000_000);
    let run = push(&sandbox, &registry, &unchanged, extra);
    run.assert_code(0);
    assert_eq!(pack_status(&report(&run)), "up_to_date");

    for (what, change) in changes() {
        let dir = tempfile::tempdir().unwrap();
        let pack = checkout(dir.path(), 1_650_000_000);
        change(&pack);
        let run = push(&sandbox, &registry, &pack, extra);
        assert_eq!(run.code, 6, "{what}: {}\n{}", run.stderr, run.stdout);
        let refused = report(&run);
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("different content"),
            "{what}: {refused:#}"
        );
        assert_eq!(pack_of(&refused)["archived"], "tar", "{what}: {refused:#}");
        assert_eq!(registry.write_requests().len(), writes, "{what}");
    }
}

#[test]
fn every_change_of_content_is_found_with_the_cache() {
    every_change_is_found(&[]);
}

#[test]
fn every_change_of_content_is_found_without_the_cache() {
    every_change_is_found(&["--no-cache"]);
}

/// The entries of a cache folder.
fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(cache.join("archives"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

/// What is done to the cache between two runs.
type Spoil = fn(&Path);

/// The ways a cache is spoiled between two runs, and what the warning then says (nothing
/// for a cache that was simply deleted: a first run has none either).
fn spoils() -> [(&'static str, Spoil, Option<&'static str>); 5] {
    [
        ("deleted", |c| fs::remove_dir_all(c).unwrap(), None),
        (
            "truncated",
            |c| {
                for entry in entries(c) {
                    let text = fs::read(&entry).unwrap();
                    fs::write(&entry, &text[..text.len() / 2]).unwrap();
                }
            },
            Some("is not an entry packpush wrote"),
        ),
        (
            "filled with garbage",
            |c| {
                for entry in entries(c) {
                    fs::write(&entry, b"\x00\xff\x13garbage\n").unwrap();
                }
            },
            Some("is not an entry packpush wrote"),
        ),
        (
            "naming another archive",
            |c| {
                for entry in entries(c) {
                    let text = fs::read_to_string(&entry).unwrap();
                    let at = text.find("sha256:").unwrap() + 7;
                    let lie = format!("{}{}{}", &text[..at], "0".repeat(64), &text[at + 64..]);
                    fs::write(&entry, lie).unwrap();
                }
            },
            Some("but the cache remembered sha256:0000"),
        ),
        (
            "written by another version",
            |c| {
                for entry in entries(c) {
                    let text = fs::read_to_string(&entry).unwrap();
                    let other = text.replace(env!("CARGO_PKG_VERSION"), "0.0.1-other");
                    fs::write(&entry, other).unwrap();
                }
            },
            Some("was written by packpush 0.0.1-other"),
        ),
    ]
}

#[test]
fn a_spoiled_cache_changes_no_result_and_says_it_was_ignored() {
    for (what, spoil, said) in spoils() {
        let registry = Registry::start(false);
        let sandbox = Sandbox::new();
        let cache = sandbox.home().join("cache");
        let cache_arg = path_str(&cache);
        let with_cache = ["--cache-dir", cache_arg.as_str()];
        let src = tempfile::tempdir().unwrap();
        let pack = checkout(src.path(), 1_600_000_000);
        let writes = first_push(&sandbox, &registry, &pack, &with_cache);
        assert_eq!(entries(&cache).len(), 1, "{what}");

        // Unchanged content: up to date (tar ran, the cache being of no use).
        spoil(&cache);
        touch_all(&pack, 1_700_000_000);
        let run = push(&sandbox, &registry, &pack, &with_cache);
        run.assert_code(0);
        let rerun = report(&run);
        assert_eq!(pack_status(&rerun), "up_to_date", "{what}: {rerun:#}");
        assert_eq!(pack_of(&rerun)["archived"], "tar", "{what}: {rerun:#}");
        assert_eq!(registry.write_requests().len(), writes, "{what}");
        let warned = warnings(&rerun);
        match said {
            None => assert!(warned.is_empty(), "{what}: {warned:?}"),
            Some(said) => {
                assert_eq!(warned.len(), 1, "{what}: {warned:?}");
                assert!(warned[0].contains(said), "{what}: {warned:?}");
                assert!(
                    warned[0].contains("the cache was ignored"),
                    "{what}: {warned:?}"
                );
            }
        }
        // The run put a sound entry back: the next one needs no tar.
        let run = push(&sandbox, &registry, &pack, &with_cache);
        run.assert_code(0);
        assert_found_without_tar(&report(&run));

        // Changed content with a spoiled cache: refused, nothing written.
        spoil(&cache);
        fs::write(pack.join("values.yaml"), "changed: true\n").unwrap();
        let run = push(&sandbox, &registry, &pack, &with_cache);
        assert_eq!(run.code, 6, "{what}: {}", run.stderr);
        assert_eq!(registry.write_requests().len(), writes, "{what}");
    }
}

#[test]
fn a_cache_that_cannot_be_written_changes_no_result() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let cache = sandbox.home().join("cache");
    fs::create_dir_all(&cache).unwrap();
    // Where the entries go is taken by a file (as root, modes do not stop a write).
    fs::write(cache.join("archives"), "not a folder\n").unwrap();
    let with_cache = ["--cache-dir", arg(&cache)];
    let src = tempfile::tempdir().unwrap();
    let pack = checkout(src.path(), 1_600_000_000);
    let run = push(&sandbox, &registry, &pack, &with_cache);
    run.assert_code(0);
    let first = report(&run);
    assert_eq!(pack_status(&first), "pushed");
    let warned = warnings(&first);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("cannot be written"), "{warned:?}");
    assert!(warned[0].contains("the cache was ignored"), "{warned:?}");
    run.assert_stderr_has("warning: the cache");

    touch_all(&pack, 1_700_000_000);
    let run = push(&sandbox, &registry, &pack, &with_cache);
    run.assert_code(0);
    let rerun = report(&run);
    assert_eq!(pack_status(&rerun), "up_to_date", "{rerun:#}");
    assert_eq!(pack_of(&rerun)["archived"], "tar", "{rerun:#}");
    assert_eq!(registry.manifest_puts(REPO), 1);
}

/// Two runs at once share one cache: both end well, and what they wrote is sound (a third
/// run finds both packs without tar).
#[test]
fn two_runs_at_once_share_the_cache() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let cache = sandbox.home().join("cache");
    let src = tempfile::tempdir().unwrap();
    let hello = checkout(src.path(), 1_600_000_000);
    let monitoring = src.path().join("sample-monitoring");
    copy_dir(&fixture_pack("sample-monitoring"), &monitoring);
    let args = |packs: &[&Path]| -> Vec<String> {
        let mut args: Vec<String> = packs.iter().map(|p| path_str(p)).collect();
        args.extend(["--cache-dir".into(), path_str(&cache)]);
        args
    };
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let both = [&hello, &monitoring].map(PathBuf::as_path);
        let one = [hello.as_path()];
        let handles = [both.as_slice(), one.as_slice()].map(|packs| {
            let args = args(packs);
            let sandbox = &sandbox;
            let registry = &registry;
            scope.spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let mut all = vec!["--reproducible"];
                all.extend(args);
                real::push(sandbox, registry, PROJECT, &all)
            })
        });
        handles.map(|h| h.join().unwrap()).into()
    });
    for run in &runs {
        run.assert_code(0);
        let done = report(run);
        for pack in done["packs"].as_array().unwrap() {
            let status = pack["status"].as_str().unwrap();
            assert!(status == "pushed" || status == "up_to_date", "{done:#}");
        }
        assert!(warnings(&done).is_empty(), "{done:#}");
    }
    for entry in entries(&cache) {
        let sound: Value = serde_json::from_slice(&fs::read(&entry).unwrap()).unwrap();
        assert!(sound["digest"].as_str().unwrap().starts_with("sha256:"));
    }
    let run = real::push(
        &sandbox,
        &registry,
        PROJECT,
        &[
            arg(&hello),
            arg(&monitoring),
            "--reproducible",
            "--cache-dir",
            arg(&cache),
        ],
    );
    run.assert_code(0);
    let third = report(&run);
    for pack in third["packs"].as_array().unwrap() {
        assert_eq!(pack["archived"], "none", "{third:#}");
    }
}

#[test]
fn an_output_dir_rerun_uses_the_identical_archive_and_refuses_another() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let src = tempfile::tempdir().unwrap();
    let pack = checkout(src.path(), 1_600_000_000);
    let out = tempfile::tempdir().unwrap();
    let output_dir = ["--output-dir", arg(out.path())];
    first_push(&sandbox, &registry, &pack, &output_dir);
    let archive = out.path().join(ARCHIVE);
    let digest = sha256_file(&archive);
    let written = fs::metadata(&archive).unwrap().modified().unwrap();

    // With the cache and without it (tar then runs beside it and the bytes are compared):
    // the archive there is used as it is, and nothing is left beside it.
    for extra in [&[][..], &["--no-cache"][..]] {
        touch_all(&pack, 1_700_000_000);
        let mut args = output_dir.to_vec();
        args.extend_from_slice(extra);
        let run = push(&sandbox, &registry, &pack, &args);
        run.assert_code(0);
        let rerun = report(&run);
        assert_eq!(pack_status(&rerun), "up_to_date", "{extra:?}: {rerun:#}");
        assert_eq!(
            pack_of(&rerun)["archived"],
            "reused",
            "{extra:?}: {rerun:#}"
        );
        assert_eq!(pack_of(&rerun)["archive_kept"], true);
        assert_eq!(sha256_file(&archive), digest);
        assert_eq!(fs::metadata(&archive).unwrap().modified().unwrap(), written);
        let names: Vec<_> = fs::read_dir(out.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    // Another archive under that name (one this content does not give): refused with exit
    // 5, with the cache (which knows this content's archive: tar does not run) and without.
    fs::write(&archive, b"an archive of the user's\n").unwrap();
    for extra in [&[][..], &["--no-cache"][..]] {
        let mut args = output_dir.to_vec();
        args.extend_from_slice(extra);
        let run = push(&sandbox, &registry, &pack, &args);
        run.assert_code(5);
        run.assert_stderr_has("already exists and holds another archive than this pack gives");
        let refused = report(&run);
        let tar_ran = step(&refused, "archive")["commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["argv"][1] != "manifest");
        assert_eq!(tar_ran, !extra.is_empty(), "{extra:?}: {refused:#}");
        assert_eq!(fs::read(&archive).unwrap(), b"an archive of the user's\n");
        assert_eq!(fs::read_dir(out.path()).unwrap().count(), 1);
        assert_eq!(registry.manifest_puts(REPO), 1);
    }
}
