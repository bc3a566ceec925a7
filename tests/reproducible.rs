//! `--reproducible` and `--compress-program` against real programs: GNU tar, gzip and
//! pigz build the archives, real oras 1.3.x (`--allow-newer-oras --plain-http`) pushes them
//! into real registries, and skopeo reads back the manifests whose digests must match.
//! pigz is part of the test components: a machine without it fails these tests.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::digest::sha256_file;
use common::packpush::{Sandbox, arg, fixture_pack};
use common::packs::copy_dir;
use common::real::{push, report};
use common::testbed::{self, Registry};
use serde_json::Value;

const HELLO: &str = "hello-world";
const ARCHIVE: &str = "hello-world-1.0.0.tar.gz";
const CREATED: &str = "org.opencontainers.image.created";
/// 2023-11-14T22:13:20Z.
const EPOCH: u64 = 1_700_000_000;
const EPOCH_RFC3339: &str = "2023-11-14T22:13:20Z";
/// The time of `--reproducible` without SOURCE_DATE_EPOCH.
const FIXED_EPOCH: u64 = 315_532_800;
const FIXED_RFC3339: &str = "1980-01-01T00:00:00Z";

/// A "checkout" of hello-world at `parent/hello-world`: a fresh copy whose every file and
/// folder has the modification time `mtime` (seconds since the epoch).
fn checkout(parent: &Path, mtime: u64) -> PathBuf {
    let pack = parent.join(HELLO);
    copy_dir(&fixture_pack(HELLO), &pack);
    touch_all(&pack, mtime);
    pack
}

fn touch_all(dir: &Path, mtime: u64) {
    let paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .collect();
    let status = Command::new("touch")
        .arg("-h")
        .arg("-d")
        .arg(format!("@{mtime}"))
        .args(&paths)
        .status()
        .expect("run touch");
    assert!(status.success());
}

/// The pack manifest and its digest, as skopeo reads them from `registry`.
fn pack_manifest(registry: &Registry, project: &str) -> (Value, String) {
    let reference = format!("{project}/spectro-packs/archive/hello-world:1.0.0");
    let raw = testbed::inspect_raw(registry, &reference)
        .unwrap_or_else(|e| panic!("skopeo cannot read {reference}: {e}"));
    (
        serde_json::from_slice(&raw).unwrap(),
        packpush::digest::of_bytes(&raw),
    )
}

/// The base-path manifest packpush reported, read by skopeo by that digest.
fn base_manifest(registry: &Registry, project: &str, report: &Value) -> (Value, String) {
    let digest = report["packs"][0]["base_digest"]
        .as_str()
        .unwrap_or_else(|| panic!("no base_digest: {report:#}"));
    let reference = format!("{project}/spectro-packs/archive@{digest}");
    let raw = testbed::inspect_raw(registry, &reference)
        .unwrap_or_else(|e| panic!("skopeo cannot read {reference}: {e}"));
    assert_eq!(packpush::digest::of_bytes(&raw), digest);
    (serde_json::from_slice(&raw).unwrap(), digest.to_owned())
}

fn pack_status(report: &Value) -> &str {
    report["packs"][0]["status"].as_str().unwrap_or_default()
}

/// Blob uploads and manifest writes the registry served under a repository.
fn writes_to(registry: &Registry, repo: &str) -> usize {
    let put = format!("\"PUT /v2/{repo}/");
    let post = format!("\"POST /v2/{repo}/");
    registry
        .log()
        .lines()
        .filter(|l| l.contains(&put) || l.contains(&post))
        .count()
}

/// The entries of a .tar.gz: (path, mtime, uid, gid, mode).
fn entries(archive: &Path) -> Vec<(String, u64, u64, u64, u32)> {
    let file = fs::File::open(archive).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    tar.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                e.path().unwrap().to_string_lossy().into_owned(),
                h.mtime().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                h.mode().unwrap(),
            )
        })
        .collect()
}

/// The sha256 of the uncompressed tar stream inside a .tar.gz (compared as a digest so
/// that a failure prints two lines, not two archives).
fn gunzip_digest(archive: &Path) -> String {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(archive).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    assert!(
        out.len() > 1024,
        "{}: {} bytes",
        archive.display(),
        out.len()
    );
    packpush::digest::of_bytes(&out)
}

/// The MTIME field of a gzip header (bytes 4..8, little-endian).
fn gzip_mtime(archive: &Path) -> u32 {
    let bytes = fs::read(archive).unwrap();
    assert_eq!(&bytes[..2], [0x1f, 0x8b], "not gzip: {}", archive.display());
    u32::from_le_bytes(bytes[4..8].try_into().unwrap())
}

fn tar_listing(archive: &Path) -> Vec<String> {
    let out = Command::new("tar")
        .arg("-tzf")
        .arg(archive)
        .output()
        .unwrap();
    assert!(out.status.success(), "tar -tzf {}", archive.display());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn gzip_test(archive: &Path) {
    let out = Command::new("gzip")
        .arg("-t")
        .arg(archive)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gzip -t {}: {}",
        archive.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// pigz's path; its absence fails the test (the testbed installs it).
fn pigz() -> PathBuf {
    which::which_in("pigz", Some("/usr/local/bin:/usr/bin:/bin"), "/").unwrap_or_else(|_| {
        panic!(
            "pigz is not installed: it is one of the test components \
             (scripts/testbed setup installs it; or apt-get install pigz)"
        )
    })
}

/// The argv of the archive step's tar command.
fn tar_argv(report: &Value) -> Vec<String> {
    let step = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "archive")
        .unwrap_or_else(|| panic!("no archive step: {report:#}"));
    step["commands"][0]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn two_runs_give_the_same_archive_and_the_second_uploads_nothing() {
    let registry = Registry::start(false);
    let mut sandbox = Sandbox::new();
    sandbox.env("SOURCE_DATE_EPOCH", EPOCH.to_string());
    let src = tempfile::tempdir().unwrap();
    let pack = checkout(src.path(), 1_600_000_000);
    let (out1, out2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    let first = push(
        &sandbox,
        &registry,
        "repro",
        &[
            arg(&pack),
            "--reproducible",
            "--output-dir",
            arg(out1.path()),
        ],
    );
    first.assert_code(0);
    let first = report(&first);
    assert_eq!(pack_status(&first), "pushed", "{first:#}");
    let (_, digest1) = pack_manifest(&registry, "repro");
    let repo = "repro/spectro-packs/archive/hello-world";
    let writes_after_first = writes_to(&registry, repo);
    assert!(writes_after_first > 0);

    // The files are touched (as a fresh checkout or a build step would): same content.
    touch_all(&pack, 1_650_000_000);
    let second = push(
        &sandbox,
        &registry,
        "repro",
        &[
            arg(&pack),
            "--reproducible",
            "--output-dir",
            arg(out2.path()),
        ],
    );
    second.assert_code(0);
    let second = report(&second);
    assert_eq!(pack_status(&second), "up_to_date", "{second:#}");

    assert_eq!(
        sha256_file(&out1.path().join(ARCHIVE)),
        sha256_file(&out2.path().join(ARCHIVE))
    );
    let (_, digest2) = pack_manifest(&registry, "repro");
    assert_eq!(digest1, digest2);
    assert_eq!(first["packs"][0]["manifest_digest"], digest1.as_str());
    assert_eq!(second["packs"][0]["manifest_digest"], digest1.as_str());
    assert_eq!(
        writes_to(&registry, repo),
        writes_after_first,
        "the second run uploaded something"
    );
}

#[test]
fn two_checkouts_with_different_times_give_the_same_archive_and_manifests() {
    let (registry_a, registry_b) = (Registry::start(false), Registry::start(false));
    let mut sandbox = Sandbox::new();
    sandbox.env("SOURCE_DATE_EPOCH", EPOCH.to_string());
    let (src_a, src_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pack_a = checkout(src_a.path(), 1_600_000_000);
    let pack_b = checkout(src_b.path(), 1_650_000_000);
    let (out_a, out_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    let run_a = push(
        &sandbox,
        &registry_a,
        "repro",
        &[
            arg(&pack_a),
            "--reproducible",
            "--output-dir",
            arg(out_a.path()),
        ],
    );
    run_a.assert_code(0);
    let run_b = push(
        &sandbox,
        &registry_b,
        "repro",
        &[
            arg(&pack_b),
            "--reproducible",
            "--output-dir",
            arg(out_b.path()),
        ],
    );
    run_b.assert_code(0);
    let (report_a, report_b) = (report(&run_a), report(&run_b));

    let (archive_a, archive_b) = (out_a.path().join(ARCHIVE), out_b.path().join(ARCHIVE));
    assert_eq!(sha256_file(&archive_a), sha256_file(&archive_b));
    let (manifest_a, digest_a) = pack_manifest(&registry_a, "repro");
    let (_, digest_b) = pack_manifest(&registry_b, "repro");
    assert_eq!(digest_a, digest_b, "{manifest_a:#}");
    assert_eq!(report_a["packs"][0]["manifest_digest"], digest_a.as_str());
    assert_eq!(report_b["packs"][0]["manifest_digest"], digest_a.as_str());
    assert_eq!(
        manifest_a["annotations"][CREATED], EPOCH_RFC3339,
        "{manifest_a:#}"
    );
    assert_eq!(
        manifest_a["layers"][0]["digest"],
        sha256_file(&archive_a).as_str()
    );
    // The base path too: same created time, same digest in both registries.
    let (base_a, base_digest_a) = base_manifest(&registry_a, "repro", &report_a);
    let (_, base_digest_b) = base_manifest(&registry_b, "repro", &report_b);
    assert_eq!(base_digest_a, base_digest_b);
    assert_eq!(base_a["annotations"][CREATED], EPOCH_RFC3339, "{base_a:#}");

    // What makes the archive reproducible: sorted entries, the fixed time, owner and
    // group 0, no time in the gzip header.
    let listed = entries(&archive_a);
    let names: Vec<&String> = listed.iter().map(|e| &e.0).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(
        names.iter().any(|n| *n == "hello-world/pack.json"),
        "{names:?}"
    );
    for (path, mtime, uid, gid, _) in &listed {
        assert_eq!((*mtime, *uid, *gid), (EPOCH, 0, 0), "{path}");
    }
    assert_eq!(gzip_mtime(&archive_a), 0);

    // The control: without --reproducible the two checkouts give different archives.
    let (plain_a, plain_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    push(
        &sandbox,
        &registry_a,
        "plain",
        &[arg(&pack_a), "--output-dir", arg(plain_a.path())],
    )
    .assert_code(0);
    push(
        &sandbox,
        &registry_b,
        "plain",
        &[arg(&pack_b), "--output-dir", arg(plain_b.path())],
    )
    .assert_code(0);
    assert_ne!(
        sha256_file(&plain_a.path().join(ARCHIVE)),
        sha256_file(&plain_b.path().join(ARCHIVE))
    );
    assert_ne!(
        pack_manifest(&registry_a, "plain").1,
        pack_manifest(&registry_b, "plain").1
    );
}

/// The proof that `--reproducible` depends on content only: two checkouts made at different
/// times, with other modes (a set-group-id folder too, but the same executable bits), another
/// owner, a file that is a second name of another in one of them, no SOURCE_DATE_EPOCH: the same archive bytes and the same manifest digest, every entry at the
/// documented fixed time, 1980-01-01T00:00:00Z, which is also the manifests' created time.
#[test]
fn two_checkouts_at_different_times_without_source_date_epoch_give_the_same_archive() {
    let (registry_a, registry_b) = (Registry::start(false), Registry::start(false));
    let sandbox = Sandbox::new();
    let (src_a, src_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pack_a = checkout(src_a.path(), 1_600_000_000);
    let pack_b = checkout(src_b.path(), 1_650_000_000);
    // The same content: a copy in one checkout, a second name of the same file in the other.
    fs::copy(pack_a.join("values.yaml"), pack_a.join("extra.yaml")).unwrap();
    fs::hard_link(pack_b.join("values.yaml"), pack_b.join("extra.yaml")).unwrap();
    for (path, mode) in [
        ("values.yaml", 0o600),
        ("manifests", 0o2750),
        ("pack.json", 0o664),
    ] {
        let mut perms = fs::metadata(pack_b.join(path)).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, mode);
        fs::set_permissions(pack_b.join(path), perms).unwrap();
    }
    let status = Command::new("chown")
        .args(["-R", "1234:4321"])
        .arg(&pack_b)
        .status()
        .expect("run chown");
    assert!(status.success());
    let (out_a, out_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    let mut reports = Vec::new();
    for (pack, registry, out) in [
        (&pack_a, &registry_a, &out_a),
        (&pack_b, &registry_b, &out_b),
    ] {
        let run = push(
            &sandbox,
            registry,
            "repro",
            &[arg(pack), "--reproducible", "--output-dir", arg(out.path())],
        );
        run.assert_code(0);
        reports.push(report(&run));
    }
    let (archive_a, archive_b) = (out_a.path().join(ARCHIVE), out_b.path().join(ARCHIVE));
    assert_eq!(sha256_file(&archive_a), sha256_file(&archive_b));
    let (manifest, digest_a) = pack_manifest(&registry_a, "repro");
    assert_eq!(pack_manifest(&registry_b, "repro").1, digest_a);
    for report in &reports {
        assert_eq!(report["packs"][0]["manifest_digest"], digest_a.as_str());
    }
    assert_eq!(
        manifest["annotations"][CREATED], FIXED_RFC3339,
        "{manifest:#}"
    );
    let (base, _) = base_manifest(&registry_a, "repro", &reports[0]);
    assert_eq!(base["annotations"][CREATED], FIXED_RFC3339, "{base:#}");
    for (path, mtime, uid, gid, mode) in entries(&archive_a) {
        assert_eq!((mtime, uid, gid), (FIXED_EPOCH, 0, 0), "{path}");
        assert!(mode == 0o644 || mode == 0o755, "{path}: {mode:o}");
    }
}

#[test]
fn pigz_gives_a_valid_gzip_archive_with_the_same_content() {
    let pigz = pigz();
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let (out_pigz, out_plain) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    let run = push(
        &sandbox,
        &registry,
        "pigz",
        &[
            arg(&fixture_pack(HELLO)),
            "--compress-program",
            "pigz",
            "--output-dir",
            arg(out_pigz.path()),
        ],
    );
    run.assert_code(0);
    let argv = tar_argv(&report(&run));
    assert!(
        argv.windows(2).any(|w| w[0] == "-I" && w[1] == arg(&pigz)),
        "tar was not given -I {}: {argv:?}",
        pigz.display()
    );
    push(
        &sandbox,
        &registry,
        "plain",
        &[
            arg(&fixture_pack(HELLO)),
            "--output-dir",
            arg(out_plain.path()),
        ],
    )
    .assert_code(0);

    let (with_pigz, documented) = (
        out_pigz.path().join(ARCHIVE),
        out_plain.path().join(ARCHIVE),
    );
    gzip_test(&with_pigz);
    assert_eq!(tar_listing(&with_pigz), tar_listing(&documented));
    assert!(
        tar_listing(&with_pigz).contains(&"hello-world/pack.json".to_owned()),
        "{:?}",
        tar_listing(&with_pigz)
    );
    // The same tar stream, compressed by another program.
    assert_eq!(gunzip_digest(&with_pigz), gunzip_digest(&documented));
    let (manifest, _) = pack_manifest(&registry, "pigz");
    assert_eq!(
        manifest["layers"][0]["digest"],
        sha256_file(&with_pigz).as_str()
    );
}

#[test]
fn reproducible_pigz_output_is_identical_across_runs() {
    pigz();
    let registry = Registry::start(false);
    let mut sandbox = Sandbox::new();
    sandbox.env("SOURCE_DATE_EPOCH", EPOCH.to_string());
    let (src_a, src_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pack_a = checkout(src_a.path(), 1_600_000_000);
    let pack_b = checkout(src_b.path(), 1_650_000_000);
    let outs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();

    let mut reports = Vec::new();
    for (pack, out) in [(&pack_a, &outs[0]), (&pack_b, &outs[1])] {
        let run = push(
            &sandbox,
            &registry,
            "pigz",
            &[
                arg(pack),
                "--reproducible",
                "--compress-program",
                "pigz",
                "--output-dir",
                arg(out.path()),
            ],
        );
        run.assert_code(0);
        reports.push(report(&run));
    }
    let (a, b) = (outs[0].path().join(ARCHIVE), outs[1].path().join(ARCHIVE));
    gzip_test(&a);
    assert_eq!(sha256_file(&a), sha256_file(&b));
    assert_eq!(gzip_mtime(&a), 0, "pigz wrote a time into the gzip header");
    assert_eq!(pack_status(&reports[0]), "pushed");
    assert_eq!(pack_status(&reports[1]), "up_to_date", "{:#}", reports[1]);
    assert_eq!(
        reports[0]["packs"][0]["manifest_digest"],
        reports[1]["packs"][0]["manifest_digest"]
    );
    assert!(tar_argv(&reports[0]).iter().any(|a| a.ends_with("pigz -n")));

    // The same tar stream as the reproducible gzip archive.
    push(
        &sandbox,
        &registry,
        "gzip",
        &[
            arg(&pack_a),
            "--reproducible",
            "--output-dir",
            arg(outs[2].path()),
        ],
    )
    .assert_code(0);
    assert_eq!(
        gunzip_digest(&a),
        gunzip_digest(&outs[2].path().join(ARCHIVE))
    );
}

#[test]
fn reproducible_is_refused_with_a_tar_that_is_not_gnu_tar() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let bin = tempfile::tempdir().unwrap();
    for version in [
        "bsdtar 3.6.2 - libarchive 3.6.2 zlib/1.2.13 liblzma/5.4.1 bz2lib/1.0.8",
        "BusyBox v1.36.1 (Debian 1:1.36.1-9) multi-call binary.",
        "tar (GNU tar) 1.27.1",
    ] {
        let fake = bin.path().join("tar");
        fs::write(
            &fake,
            format!(
                "#!/bin/sh\nif [ \"$1\" = --version ]; then echo '{version}'; exit 0; fi\nexec /bin/tar \"$@\"\n"
            ),
        )
        .unwrap();
        let mut perms = fs::metadata(&fake).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        fs::set_permissions(&fake, perms).unwrap();

        let run = push(
            &sandbox,
            &registry,
            "repro",
            &[
                arg(&fixture_pack(HELLO)),
                "--tar",
                arg(&fake),
                "--reproducible",
            ],
        );
        run.assert_code(3);
        let error = &run.stderr[run.stderr.find("error: ").expect("error line")..];
        assert!(
            error.contains("--reproducible needs GNU tar 1.28 or later"),
            "{version}: {error}"
        );
        assert!(error.contains(version), "{version}: {error}");
        assert!(!run.stderr.contains("[1/5]"), "{}", run.stderr);

        // The flag alone is the reason: without it, the same tar passes the preflight.
        push(
            &sandbox,
            &registry,
            "repro",
            &[arg(&fixture_pack(HELLO)), "--tar", arg(&fake), "--dry-run"],
        )
        .assert_code(0);
    }
    assert!(
        testbed::list_tags(&registry, "repro/spectro-packs/archive/hello-world").is_err(),
        "something was pushed"
    );
}
