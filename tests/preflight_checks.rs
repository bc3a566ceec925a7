//! Preflight checks run by the built binary with the real tools (oras 1.3 with
//! `--allow-newer-oras`, GNU tar): `doctor` reports a GNU tar without gzip, and
//! `push --archive` gives a carried-in archive the pack checks a pack folder gets
//! (exit 3 unless `--skip-pack-checks`); `push --from` passes over hidden folders and
//! says so, and `--name`/`--version` follow one rule; an option given twice takes its
//! last value. Dry runs only: nothing reaches a registry.

mod common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::packpush::{Run, Sandbox, fixture_pack, path_str};
use common::packs::{copy_dir, edit_json};
use common::testbed::Testbed;
use tempfile::TempDir;

fn oras() -> String {
    path_str(&Testbed::get().oras_1_3)
}

/// `push ARGS` as a dry run to a registry that is never reached.
fn dry_run(sandbox: &Sandbox, extra: &[&str]) -> Run {
    let oras = oras();
    let mut args = vec![
        "push",
        "--registry",
        "127.0.0.1:5000",
        "--project",
        "packs",
        "--username",
        "admin",
        "--plain-http",
        "--oras",
        &oras,
        "--allow-newer-oras",
        "--dry-run",
    ];
    args.extend_from_slice(extra);
    sandbox.run(&args, "")
}

// ---------------------------------------------------------------------- gzip

/// A PATH folder holding links to the system's `programs` only.
fn path_with(root: &Path, programs: &[&str]) -> String {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for program in programs {
        let real = which(program);
        let link = bin.join(program);
        if !link.exists() {
            symlink(real, link).unwrap();
        }
    }
    path_str(&bin)
}

fn which(program: &str) -> PathBuf {
    ["/usr/local/bin", "/usr/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} is not installed"))
}

#[test]
fn doctor_reports_gnu_tar_without_gzip() {
    let mut sandbox = Sandbox::new();
    let root = tempfile::tempdir().unwrap();
    let path = path_with(root.path(), &["tar"]);
    sandbox.env("PATH", &path);
    let run = sandbox.run(&["doctor", "--oras", &oras(), "--allow-newer-oras"], "");
    run.assert_code(3);
    assert!(
        run.stderr
            .contains("gzip was not found on PATH, and GNU tar needs it for tar -czvf"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "install gzip (apt-get install gzip), or pass --compress-program with a gzip-compatible program"
        ),
        "{}",
        run.stderr
    );

    // With gzip beside it, the same tools pass.
    path_with(root.path(), &["gzip"]);
    let run = sandbox.run(&["doctor", "--oras", &oras(), "--allow-newer-oras"], "");
    run.assert_code(0);
    assert!(!run.all().contains("gzip"), "{}", run.all());
}

// ------------------------------------------------------------- push --archive

/// `hello-world-1.0.0.tar.gz`, made with the real tar from a copy of the
/// hello-world fixture changed by `change`.
struct Archive {
    root: TempDir,
}

impl Archive {
    fn new(change: impl FnOnce(&Path)) -> Archive {
        let root = tempfile::tempdir().unwrap();
        let pack = root.path().join("hello-world");
        copy_dir(&fixture_pack("hello-world"), &pack);
        change(&pack);
        let status = Command::new("tar")
            .args(["-czf", "hello-world-1.0.0.tar.gz", "hello-world"])
            .current_dir(root.path())
            .status()
            .unwrap();
        assert!(status.success());
        Archive { root }
    }

    fn path(&self) -> String {
        path_str(&self.root.path().join("hello-world-1.0.0.tar.gz"))
    }

    /// `push --archive` as a dry run, with `extra` arguments.
    fn dry_run(&self, extra: &[&str]) -> Run {
        let archive = self.path();
        let mut args = vec!["--archive", &archive];
        args.extend_from_slice(extra);
        dry_run(&Sandbox::new(), &args)
    }
}

/// Broken in four ways the folder rules would each refuse.
fn broken_archive() -> Archive {
    Archive::new(|pack| {
        edit_json(pack, |doc| {
            doc["layer"] = "plugin".into();
            doc["kubeManifests"] = serde_json::json!(["manifests/missing.yaml"]);
        });
        std::fs::write(pack.join("logo.png"), b"\xff\xd8\xff\xe0\0\x10JFIF").unwrap();
        symlink("/etc/hostname", pack.join("manifests/host")).unwrap();
    })
}

const BROKEN: [&str; 4] = [
    "hello-world-1.0.0.tar.gz:hello-world/pack.json: \"layer\" \"plugin\" is not a Palette layer",
    "hello-world-1.0.0.tar.gz:hello-world/pack.json: \"kubeManifests\"[0] names \"manifests/missing.yaml\", which is not in the archive hello-world-1.0.0.tar.gz",
    "hello-world-1.0.0.tar.gz:hello-world/logo.png is a JPEG image, not a PNG image",
    "hello-world-1.0.0.tar.gz:hello-world/manifests/host -> /etc/hostname: the symbolic link's target is an absolute path",
];

#[test]
fn a_valid_archive_passes_the_pack_checks() {
    let archive = Archive::new(|_| {});
    let run = archive.dry_run(&[]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("use the archive ") && run.stdout.contains("hello-world-1.0.0.tar.gz"),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}

#[test]
fn an_archive_that_breaks_the_pack_rules_is_refused() {
    let run = broken_archive().dry_run(&[]);
    run.assert_code(3);
    for problem in BROKEN {
        assert!(
            run.stderr.contains(problem),
            "no {problem:?} in:\n{}",
            run.stderr
        );
    }
    assert!(run.stdout.is_empty(), "a plan was printed:\n{}", run.stdout);
}

#[test]
fn skip_pack_checks_lets_a_broken_archive_through_and_says_so() {
    let run = broken_archive().dry_run(&["--skip-pack-checks"]);
    run.assert_code(0);
    for problem in BROKEN {
        assert!(
            run.stderr
                .contains(&format!("--skip-pack-checks: pushing although {problem}")),
            "no warning for {problem:?} in:\n{}",
            run.stderr
        );
    }
}

#[test]
fn an_archive_with_a_hard_link_is_refused() {
    // GNU tar stores the second name of a file as a hard link.
    let archive = Archive::new(|pack| {
        std::fs::hard_link(
            pack.join("manifests/hello-world.yaml"),
            pack.join("manifests/again.yaml"),
        )
        .unwrap();
    });
    let run = archive.dry_run(&[]);
    run.assert_code(3);
    assert!(
        run.stderr
            .contains("is a hard link (to hello-world/manifests/"),
        "{}",
        run.stderr
    );
}

// ------------------------------------------------------ push --from, and options

/// `push --output json ARGS` as a dry run: the JSON document on stdout.
fn json_dry_run(sandbox: &Sandbox, extra: &[&str]) -> Run {
    let mut args = vec!["--output", "json"];
    args.extend_from_slice(extra);
    dry_run(sandbox, &args)
}

/// The names of the packs of a JSON document, and its warnings.
fn packs_and_warnings(run: &Run) -> (Vec<String>, Vec<String>) {
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    let strings = |key: &str, field: Option<&str>| -> Vec<String> {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| field.map_or(v, |f| &v[f]).as_str().unwrap().to_string())
            .collect()
    };
    (strings("packs", Some("name")), strings("warnings", None))
}

/// A folder of packs: hello-world, and sample-monitoring inside a hidden folder.
fn packs_with_a_hidden_one() -> TempDir {
    let root = tempfile::tempdir().unwrap();
    copy_dir(
        &fixture_pack("hello-world"),
        &root.path().join("hello-world"),
    );
    copy_dir(
        &fixture_pack("sample-monitoring"),
        &root.path().join(".old/sample-monitoring"),
    );
    std::fs::create_dir(root.path().join(".git")).unwrap();
    root
}

#[test]
fn from_passes_over_hidden_folders_and_says_what_it_skipped() {
    let root = packs_with_a_hidden_one();
    let run = json_dry_run(&Sandbox::new(), &["--from", &path_str(root.path())]);
    run.assert_code(0);
    let (packs, warnings) = packs_and_warnings(&run);
    assert_eq!(packs, ["hello-world"], "{}", run.stdout);
    let said = format!(
        "--from {}: skipped 1 pack folder inside hidden folders (.old/sample-monitoring); \
         pass one as PACK_DIR to push it",
        root.path().display()
    );
    assert_eq!(warnings, std::slice::from_ref(&said), "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!("warning: {said}")),
        "{}",
        run.stderr
    );

    // Named as the warning says, the hidden pack is pushed.
    let hidden = path_str(&root.path().join(".old/sample-monitoring"));
    let run = json_dry_run(&Sandbox::new(), &[&hidden]);
    run.assert_code(0);
    assert_eq!(packs_and_warnings(&run).0, ["sample-monitoring"]);
}

#[test]
fn from_with_only_hidden_packs_finds_none_and_names_them() {
    let root = packs_with_a_hidden_one();
    std::fs::remove_dir_all(root.path().join("hello-world")).unwrap();
    let run = json_dry_run(&Sandbox::new(), &["--from", &path_str(root.path())]);
    run.assert_code(3);
    assert!(
        run.stderr.contains(
            "no pack folder (a folder holding pack.json) was found: skipped 1 pack folder \
             inside hidden folders (.old/sample-monitoring)"
        ),
        "{}",
        run.stderr
    );
}

/// `--name`/`--version` apply to one pack named on the command line: with `--from` they
/// are refused whether it finds one pack or two (NAME and VERSION from the environment are
/// ignored the same way: see tests/makefile.rs).
#[test]
fn name_and_version_flags_do_not_apply_to_from_whatever_it_finds() {
    let root = tempfile::tempdir().unwrap();
    copy_dir(
        &fixture_pack("hello-world"),
        &root.path().join("hello-world"),
    );
    for second in [false, true] {
        if second {
            copy_dir(
                &fixture_pack("sample-monitoring"),
                &root.path().join("sample-monitoring"),
            );
        }
        let run = json_dry_run(
            &Sandbox::new(),
            &["--from", &path_str(root.path()), "--name", "hello-world"],
        );
        run.assert_code(3);
        assert!(
            run.stderr.contains(
                "--name applies to one pack named on the command line, not to the packs --from finds"
            ),
            "{}",
            run.stderr
        );
    }
    // Named on the command line, the one pack is checked against it.
    let pack = path_str(&root.path().join("hello-world"));
    json_dry_run(&Sandbox::new(), &[&pack, "--name", "hello-world"]).assert_code(0);
}

/// An option given twice takes its last value, so a flag set earlier (in PACKPUSH_FLAGS,
/// say) can be overridden later on the command line.
#[test]
fn the_last_output_option_wins() {
    let pack = path_str(&fixture_pack("hello-world"));
    let run = json_dry_run(&Sandbox::new(), &[&pack, "--output", "human"]);
    run.assert_code(0);
    assert!(
        run.stdout.starts_with("#!/bin/sh\n# packpush plan:"),
        "not the script:\n{}",
        run.stdout
    );
    let run = json_dry_run(
        &Sandbox::new(),
        &[&pack, "--output", "human", "--output=json"],
    );
    run.assert_code(0);
    assert_eq!(packs_and_warnings(&run).0, ["hello-world"]);
    // A usage error's JSON document follows the last --output too.
    let run = json_dry_run(
        &Sandbox::new(),
        &[&pack, "--jobs", "0", "--output", "human"],
    );
    run.assert_code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}
