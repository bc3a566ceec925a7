//! Preflight checks run by the built binary with the real tools (oras 1.3 with
//! `--allow-newer-oras`, GNU tar): `doctor` reports a GNU tar without gzip, and
//! `push --archive` gives a carried-in archive the pack checks a pack folder gets
//! (exit 3 unless `--skip-pack-checks`). Dry runs only: nothing reaches a registry.

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
        let (oras, archive) = (oras(), self.path());
        let mut args = vec![
            "push",
            "--archive",
            &archive,
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
        Sandbox::new().run(&args, "")
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
