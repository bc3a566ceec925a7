//! scripts/packs.mk, the Makefile include, run by real GNU make against a real registry
//! with real oras 1.3: `push-all` pushes every fixture pack as a Harbor robot account
//! whose name holds a `$` (given through the environment, on make's command line, and in
//! an including Makefile), `push` and `plan` one pack, `doctor` the tools; missing values
//! fail with packpush's exit 3, naming the flag and the variable; with GNU tar the targets
//! push reproducibly, so a fresh checkout of unchanged packs is up to date.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::packpush::{Run, Sandbox};
use common::testbed::{self, Registry, Testbed};

const ROBOT: &str = "robot$packs+ci";
/// As a Makefile or make's command line must spell it.
const ROBOT_FOR_MAKE: &str = "robot$$packs+ci";
/// A password with a `$` too: it must reach oras intact from the environment.
const ROBOT_PASSWORD: &str = "s3cret$HOME+x";
const PROJECT: &str = "spectro-oci-registry";
const PACKS: [(&str, &str); 2] = [("hello-world", "1.0.0"), ("sample-monitoring", "0.2.1")];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn packs_mk() -> String {
    root().join("scripts/packs.mk").to_str().unwrap().to_owned()
}

/// `make -f MAKEFILE ARGS` from the repository's root, in the sandbox's hermetic
/// environment (as packpush gets it), with `stdin`.
fn make(sandbox: &Sandbox, makefile: &str, args: &[String], stdin: &str) -> Run {
    let tmp = sandbox.home().join("tmp");
    std::fs::create_dir_all(&tmp).expect("sandbox tmp");
    let mut command = Command::new("make");
    command
        .args(["--no-print-directory", "-f", makefile])
        .args(args)
        .current_dir(root())
        .env_clear()
        .env("HOME", sandbox.home())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("TMPDIR", &tmp)
        .env("NO_COLOR", "1")
        .envs(sandbox.envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run make (GNU make)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().expect("wait for make");
    Run::new(
        output.status.code().unwrap_or(-1),
        &output.stdout,
        &output.stderr,
    )
}

/// The variables every target gets on make's command line: packpush, the registry,
/// the project, and real oras 1.3 over plain HTTP.
fn common_args(registry: &Registry) -> Vec<String> {
    let oras = Testbed::get().oras_1_3.to_str().unwrap().to_owned();
    vec![
        format!("PACKPUSH={}", env!("CARGO_BIN_EXE_packpush")),
        format!("HARBOR_ADDRESS={}", registry.addr()),
        format!("HARBOR_PROJECT={PROJECT}"),
        format!("PACKPUSH_FLAGS=--plain-http --allow-newer-oras --oras {oras}"),
    ]
}

fn robot_registry() -> Registry {
    Registry::start_with_users(false, &[(ROBOT, ROBOT_PASSWORD)])
}

/// skopeo, logged in as the robot, finds every fixture pack at its version.
#[track_caller]
fn assert_all_packs_pushed(registry: &Registry) {
    for (name, version) in PACKS {
        let repo = format!("{PROJECT}/spectro-packs/archive/{name}");
        let tags = testbed::list_tags(registry, &repo)
            .unwrap_or_else(|e| panic!("{name} is not in the registry: {e}"));
        assert_eq!(tags, [version], "{repo}");
    }
}

#[test]
fn push_all_with_the_robot_account_from_the_environment() {
    let registry = robot_registry();
    let mut sandbox = Sandbox::new();
    sandbox.env("HARBOR_USERNAME", ROBOT);
    sandbox.env("HARBOR_PASSWORD", ROBOT_PASSWORD);
    let mut args = common_args(&registry);
    args.extend([
        "push-all".into(),
        "PACKS_DIR=fixtures/packs".into(),
        "JOBS=2".into(),
    ]);
    let run = make(&sandbox, &packs_mk(), &args, "");
    run.assert_code(0);
    assert!(!run.all().contains(ROBOT_PASSWORD), "{}", run.all());
    // packpush's own summary names both packs.
    for (name, _) in PACKS {
        assert!(run.stdout.contains(name), "{}", run.stdout);
    }
    assert_all_packs_pushed(&registry);
    assert!(sandbox.leftovers().is_empty(), "{:?}", sandbox.leftovers());
}

#[test]
fn push_all_with_the_robot_account_on_the_make_command_line_and_the_password_piped() {
    let registry = robot_registry();
    let sandbox = Sandbox::new();
    let mut args = common_args(&registry);
    let flags = args.pop().unwrap();
    args.extend([
        "push-all".into(),
        "PACKS_DIR=fixtures/packs".into(),
        format!("HARBOR_USERNAME={ROBOT_FOR_MAKE}"),
        format!("{flags} --password-stdin"),
    ]);
    let run = make(&sandbox, &packs_mk(), &args, &format!("{ROBOT_PASSWORD}\n"));
    run.assert_code(0);
    assert!(
        run.stdout.contains(&format!("--username '{ROBOT}'")),
        "the robot's name reaches oras intact:\n{}",
        run.stdout
    );
    assert_all_packs_pushed(&registry);
}

#[test]
fn an_including_makefile_sets_the_robot_and_keeps_its_default_goal() {
    let registry = robot_registry();
    let mut sandbox = Sandbox::new();
    sandbox.env("HARBOR_PASSWORD", ROBOT_PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let makefile: PathBuf = dir.path().join("Makefile");
    std::fs::write(
        &makefile,
        format!(
            "HARBOR_USERNAME = {ROBOT_FOR_MAKE}\n\
             include {}\n\
             PACKS_DIR = fixtures/packs\n\
             \n\
             own-goal:\n\
             \t@echo the including Makefile keeps its default goal\n",
            packs_mk()
        ),
    )
    .unwrap();
    let makefile = makefile.to_str().unwrap();
    let run = make(&sandbox, makefile, &[], "");
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "the including Makefile keeps its default goal\n"
    );

    let mut args = common_args(&registry);
    args.push("push-all".into());
    let run = make(&sandbox, makefile, &args, "");
    run.assert_code(0);
    assert_all_packs_pushed(&registry);
}

#[test]
fn push_plan_and_doctor_for_one_pack() {
    let registry = robot_registry();
    let mut sandbox = Sandbox::new();
    sandbox.env("HARBOR_USERNAME", ROBOT);
    sandbox.env("HARBOR_PASSWORD", ROBOT_PASSWORD);
    let args = |target: &str| {
        let mut args = common_args(&registry);
        args.extend([target.into(), "PACK=fixtures/packs/hello-world".into()]);
        args
    };

    // doctor: gets the tool flags of PACKPUSH_FLAGS (not --plain-http, which it refuses).
    let run = make(&sandbox, &packs_mk(), &args("doctor"), "");
    run.assert_code(0);
    assert!(run.stdout.contains("ok   oras 1.3.3"), "{}", run.stdout);

    // plan: the exact commands, the robot's name intact; nothing reaches the registry.
    let run = make(&sandbox, &packs_mk(), &args("plan"), "");
    run.assert_code(0);
    assert!(
        run.stdout.contains(&format!("--username '{ROBOT}'")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("hello-world-1.0.0.tar.gz"),
        "{}",
        run.stdout
    );
    assert!(
        testbed::list_tags(
            &registry,
            &format!("{PROJECT}/spectro-packs/archive/hello-world")
        )
        .is_err(),
        "plan pushed something"
    );

    // plan-all: every pack under PACKS_DIR.
    let mut all = common_args(&registry);
    all.extend(["plan-all".into(), "PACKS_DIR=fixtures/packs".into()]);
    let run = make(&sandbox, &packs_mk(), &all, "");
    run.assert_code(0);
    for (name, version) in PACKS {
        assert!(
            run.stdout.contains(&format!("{name}-{version}.tar.gz")),
            "{}",
            run.stdout
        );
    }

    // push: that pack only.
    let run = make(&sandbox, &packs_mk(), &args("push"), "");
    run.assert_code(0);
    let tags = testbed::list_tags(
        &registry,
        &format!("{PROJECT}/spectro-packs/archive/hello-world"),
    )
    .unwrap();
    assert_eq!(tags, ["1.0.0"]);
    assert!(
        testbed::list_tags(
            &registry,
            &format!("{PROJECT}/spectro-packs/archive/sample-monitoring")
        )
        .is_err()
    );

    // push without PACK: make says which variable is missing.
    let mut no_pack = common_args(&registry);
    no_pack.push("push".into());
    let run = make(&sandbox, &packs_mk(), &no_pack, "");
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("PACK is not set"), "{}", run.stderr);
}

#[test]
fn missing_values_fail_with_exit_3_naming_flag_and_variable() {
    let sandbox = Sandbox::new();
    let oras = Testbed::get().oras_1_3.to_str().unwrap().to_owned();
    let run = make(
        &sandbox,
        &packs_mk(),
        &[
            format!("PACKPUSH={}", env!("CARGO_BIN_EXE_packpush")),
            format!("PACKPUSH_FLAGS=--plain-http --allow-newer-oras --oras {oras}"),
            "push-all".into(),
            "PACKS_DIR=fixtures/packs".into(),
        ],
        "",
    );
    // make stops with its own code 2 and reports packpush's exit 3.
    run.assert_code(2);
    assert!(run.stderr.contains("Error 3"), "{}", run.stderr);
    for (flag, variable) in [
        ("--registry", "HARBOR_ADDRESS"),
        ("--project", "HARBOR_PROJECT"),
        ("--username", "HARBOR_USERNAME"),
    ] {
        assert!(
            run.stderr.contains(&format!(
                "pass {flag} or set the environment variable {variable}"
            )),
            "{}",
            run.stderr
        );
    }
    // Unset, not empty: packs.mk does not hand packpush empty variables.
    assert!(!run.stderr.contains("is empty"), "{}", run.stderr);
    assert!(
        run.stderr.contains("--non-interactive is set") && run.stderr.contains("HARBOR_PASSWORD"),
        "{}",
        run.stderr
    );
}

/// Where GNU tar is present, the targets push with --reproducible: a second `push-all` from a
/// fresh copy of the packs (new file times, as a CI checkout has) finds every pack up to date
/// without running tar. `REPRODUCIBLE=no` pushes the documented way.
#[test]
fn push_all_is_reproducible_by_default_so_a_fresh_checkout_is_up_to_date() {
    let registry = robot_registry();
    let mut sandbox = Sandbox::new();
    sandbox.env("HARBOR_USERNAME", ROBOT);
    sandbox.env("HARBOR_PASSWORD", ROBOT_PASSWORD);
    let checkout = |at: &str| {
        let dir = sandbox.home().join(at);
        for (name, _) in PACKS {
            common::packs::copy_pack(name, &dir);
        }
        dir.to_str().unwrap().to_owned()
    };
    let push_all = |dir: &str, extra: &[&str]| {
        let mut args = common_args(&registry);
        args.extend(["push-all".into(), format!("PACKS_DIR={dir}")]);
        args.extend(extra.iter().map(|a| a.to_string()));
        let run = make(&sandbox, &packs_mk(), &args, "");
        run.assert_code(0);
        run
    };
    push_all(&checkout("first"), &[]);
    assert_all_packs_pushed(&registry);
    // A moment later, so that the copy's file times differ.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = push_all(&checkout("second"), &[]);
    assert!(
        run.stdout
            .contains("2 of 2 found up to date before archiving: tar did not run"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(" -czvf "), "{}", run.stdout);

    // The plan shows the reproducible tar flags, unless told otherwise.
    let plan = |extra: &[&str]| {
        let mut args = common_args(&registry);
        args.extend(["plan".into(), "PACK=fixtures/packs/hello-world".into()]);
        args.extend(extra.iter().map(|a| a.to_string()));
        let run = make(&sandbox, &packs_mk(), &args, "");
        run.assert_code(0);
        run.stdout
    };
    assert!(plan(&[]).contains("--sort=name"));
    assert!(!plan(&["REPRODUCIBLE=no"]).contains("--sort=name"));
}

/// NAME and VERSION in the environment (a shell may set NAME on its own) are one rule for
/// `plan-all`/`push-all`: ignored, and said, whether PACKS_DIR holds one pack or two.
#[test]
fn name_and_version_from_the_environment_are_ignored_by_push_all_for_one_pack_or_two() {
    let mut sandbox = Sandbox::new();
    sandbox.env("NAME", "buildhost-7").env("VERSION", "2");
    sandbox.env("HARBOR_USERNAME", ROBOT);
    let oras = Testbed::get().oras_1_3.to_str().unwrap().to_owned();
    let packs = tempfile::tempdir().unwrap();
    for (count, (name, version)) in PACKS.iter().enumerate() {
        common::packs::copy_pack(name, packs.path());
        let run = make(
            &sandbox,
            &packs_mk(),
            &[
                format!("PACKPUSH={}", env!("CARGO_BIN_EXE_packpush")),
                "HARBOR_ADDRESS=127.0.0.1:5000".into(),
                format!("HARBOR_PROJECT={PROJECT}"),
                format!("PACKPUSH_FLAGS=--plain-http --allow-newer-oras --oras {oras}"),
                "plan-all".into(),
                format!("PACKS_DIR={}", packs.path().display()),
            ],
            "",
        );
        run.assert_code(0);
        assert!(
            run.stdout.contains(&format!("{name}-{version}.tar.gz")),
            "{} pack(s): {}",
            count + 1,
            run.stdout
        );
        for variable in ["NAME", "VERSION"] {
            assert!(
                run.stderr.contains(&format!(
                    "warning: the environment variable {variable} is ignored: it applies only \
                     to a push of one pack named on the command line, not to the packs --from finds"
                )),
                "{} pack(s): {}",
                count + 1,
                run.stderr
            );
        }
    }
}
