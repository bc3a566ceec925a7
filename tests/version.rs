//! `packpush --version` and `packpush doctor` say which packpush this is: the version on the
//! first line (scripts read it), then the commit it was built from and whether it is static.
//! The tests' binary is an ordinary build; scripts/build-static and scripts/check-release
//! check that the release binary says "static".

mod common;

use std::path::Path;
use std::process::Command;

use common::doubles::double;
use common::packpush::Sandbox;

/// The first 12 hex digits of HEAD, when the tests run in a git checkout of packpush.
fn checkout_commit() -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    Some(git(&["rev-parse", "--verify", "HEAD"])?[..12].to_string())
}

#[test]
fn version_names_the_version_the_commit_and_the_build() {
    let run = Sandbox::new().run(&["--version"], "");
    run.assert_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert_eq!(lines[0], format!("packpush {}", env!("CARGO_PKG_VERSION")));

    let commit = lines[1].strip_prefix("commit: ").expect("a commit line");
    match checkout_commit() {
        Some(head) => assert!(
            commit == head || commit == format!("{head}-modified"),
            "HEAD is {head}, --version says {commit}"
        ),
        None => {
            let hex = commit.strip_suffix("-modified").unwrap_or(commit);
            assert!(
                commit == "unknown"
                    || (hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit())),
                "{commit}"
            );
        }
    }

    let build = lines[2].strip_prefix("build:  ").expect("a build line");
    assert!(
        build.starts_with("dynamic (uses the system's shared libraries), "),
        "{build}"
    );
    assert!(build.ends_with("-linux-gnu"), "{build}");
}

#[test]
fn short_version_is_one_line() {
    let run = Sandbox::new().run(&["-V"], "");
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        format!("packpush {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn doctor_says_which_packpush_it_is() {
    let (oras, tar) = (double("oras"), double("tar"));
    let run = Sandbox::new().run(&["doctor", "--oras", &oras, "--tar", &tar], "");
    run.assert_code(0);
    let first = run.stdout.lines().next().unwrap_or_default();
    let expected = format!("packpush {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(first.starts_with(&expected), "{}", run.stdout);
    assert!(first.contains(", dynamic build, "), "{first}");

    // --quiet keeps to errors.
    let run = Sandbox::new().run(&["doctor", "--oras", &oras, "--tar", &tar, "--quiet"], "");
    run.assert_code(0);
    assert!(!run.stdout.contains(&expected), "{}", run.stdout);
}
