//! The non-interactive contract of the command line: no prompt without a terminal or with
//! `--non-interactive` (a missing value is exit 3 naming the flag and the variable),
//! `--quiet` and `--verbose`, the examples in `--help`, shell completions and the manual
//! page. Runs go through the doubles in fixtures/doubles, whose call log shows what ran.

mod common;

use std::fs;
use std::process::{Command, Stdio};

use common::calls::{calls, view_reads_last};
use common::doubles::{ONE_PACK_CALLS, double, doubles_sandbox};
use common::packpush::{Run, Sandbox, fixture_pack, path_str};
use common::packs::copy_dir;

const PASSWORD: &str = "Harbor12345";

/// What the doubles were asked to do, after the version probes: `oras login`, `tar`, ...
/// The calls of the run after the version probes; the read of the repository's tags, which
/// runs beside step 5's read-backs, taken last.
fn steps_run(sandbox: &Sandbox) -> Vec<String> {
    let steps = calls(sandbox)
        .into_iter()
        .map(|c| c.call)
        .filter(|call| call != "version")
        .collect();
    view_reads_last(steps, |call| call == "tags")
}

/// `push hello-world` through the doubles with `args` (no registry, project, user or
/// password unless given).
fn push(sandbox: &Sandbox, args: &[&str], stdin: &str) -> Run {
    let pack = path_str(&fixture_pack("hello-world"));
    let (oras, tar) = (double("oras"), double("tar"));
    let mut all = vec!["push", &pack, "--oras", &oras, "--tar", &tar];
    all.extend_from_slice(args);
    sandbox.run(&all, stdin)
}

const FULL: &[&str] = &[
    "--registry",
    "127.0.0.1:5000",
    "--project",
    "proj",
    "--username",
    "admin",
    "--plain-http",
    "--password-stdin",
];

#[track_caller]
fn assert_names_every_missing_value(run: &Run) {
    run.assert_code(3);
    for (flag, variable) in [
        ("--registry", "HARBOR_ADDRESS"),
        ("--project", "HARBOR_PROJECT"),
        ("--username", "HARBOR_USERNAME"),
    ] {
        assert!(
            run.stderr.contains(&format!(
                "pass {flag} or set the environment variable {variable}"
            )),
            "{flag}/{variable} not named:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("--password-stdin") && run.stderr.contains("HARBOR_PASSWORD"),
        "the password's flag and variable are not named:\n{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- never a prompt

#[test]
fn without_a_terminal_missing_values_are_exit_3_naming_flag_and_variable() {
    let sandbox = doubles_sandbox(&[]);
    let run = push(&sandbox, &[], "");
    assert_names_every_missing_value(&run);
    assert!(
        run.stderr.contains("standard input is not a terminal"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    assert_eq!(steps_run(&sandbox), Vec::<String>::new(), "nothing ran");
}

#[test]
fn non_interactive_flag_is_exit_3_naming_flag_and_variable() {
    let sandbox = doubles_sandbox(&[]);
    let run = push(&sandbox, &["--non-interactive"], "");
    assert_names_every_missing_value(&run);
    assert!(
        run.stderr.contains("--non-interactive is set"),
        "{}",
        run.stderr
    );
    assert_eq!(steps_run(&sandbox), Vec::<String>::new(), "nothing ran");
}

/// Runs packpush under a pseudo-terminal (util-linux `script`), so that its stdin is a
/// terminal, and stops it after `seconds` (a prompt would wait forever); returns the exit
/// code and everything the terminal showed.
fn at_a_terminal(sandbox: &Sandbox, args: &[&str], seconds: u32) -> (i32, String) {
    let binary = env!("CARGO_BIN_EXE_packpush");
    let seconds = seconds.to_string();
    let line = shell_words::join(
        ["timeout", seconds.as_str(), binary]
            .into_iter()
            .chain(args.iter().copied()),
    );
    let mut script = Command::new("script");
    script
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .env_clear()
        .env("HOME", sandbox.home())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("TMPDIR", sandbox.home().join("tmp"))
        .env("SHELL", "/bin/sh")
        .env("TERM", "dumb")
        .envs(sandbox.envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    fs::create_dir_all(sandbox.home().join("tmp")).unwrap();
    let output = script.output().expect("run script (util-linux)");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn non_interactive_at_a_terminal_does_not_prompt_for_the_password() {
    let sandbox = doubles_sandbox(&[]);
    let pack = path_str(&fixture_pack("hello-world"));
    let (oras, tar) = (double("oras"), double("tar"));
    let mut args = vec!["push", &pack, "--oras", &oras, "--tar", &tar];
    args.extend_from_slice(&FULL[..FULL.len() - 1]); // all but --password-stdin
    args.push("--non-interactive");
    let (code, screen) = at_a_terminal(&sandbox, &args, 20);
    assert_eq!(code, 3, "{screen}");
    assert!(screen.contains("--non-interactive is set"), "{screen}");
    assert!(!screen.contains("Password for"), "it prompted:\n{screen}");
    assert_eq!(steps_run(&sandbox), Vec::<String>::new(), "nothing ran");

    // At the same terminal without --non-interactive, packpush does ask (and waits, until
    // `timeout` stops it).
    args.pop();
    let (_, screen) = at_a_terminal(&sandbox, &args, 5);
    assert!(
        screen.contains("Password for admin at 127.0.0.1:5000"),
        "{screen}"
    );
}

#[test]
fn doctor_never_prompts() {
    let sandbox = doubles_sandbox(&[]);
    for extra in [&[][..], &["--non-interactive"][..]] {
        let (oras, tar) = (double("oras"), double("tar"));
        let mut args = vec!["doctor", "--oras", &oras, "--tar", &tar];
        args.extend_from_slice(extra);
        let run = sandbox.run(&args, "");
        run.assert_code(0);
        assert!(run.stdout.contains("ok   oras 1.0.0"), "{}", run.stdout);
    }
}

// ------------------------------------------------------------------ quiet, verbose

#[test]
fn quiet_success_prints_nothing() {
    let sandbox = doubles_sandbox(&[]);
    let mut args = FULL.to_vec();
    args.push("--quiet");
    let run = push(&sandbox, &args, PASSWORD);
    run.assert_code(0);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    assert_eq!(steps_run(&sandbox), ONE_PACK_CALLS);

    // With --output json, the document alone.
    let sandbox = doubles_sandbox(&[]);
    args.extend(["--output", "json"]);
    let run = push(&sandbox, &args, PASSWORD);
    run.assert_code(0);
    assert_eq!(run.stderr, "");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(doc["ok"], true);
}

#[test]
fn quiet_failure_still_prints_the_error() {
    let sandbox = doubles_sandbox(&[("ORAS_DOUBLE_FAIL", "push-pack")]);
    let mut args = FULL.to_vec();
    args.push("-q");
    let run = push(&sandbox, &args, PASSWORD);
    run.assert_code(6);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run.stderr.contains("401"), "oras's words: {}", run.stderr);
    assert!(!run.stderr.contains("[1/5]"), "progress: {}", run.stderr);

    // A preflight error too.
    let run = push(&doubles_sandbox(&[]), &["--quiet"], "");
    run.assert_code(3);
    assert!(run.stderr.contains("HARBOR_ADDRESS"), "{}", run.stderr);
}

#[test]
fn verbose_shows_the_read_only_look_ups_and_all_child_output() {
    let sandbox = doubles_sandbox(&[]);
    let normal = push(&sandbox, FULL, PASSWORD);
    normal.assert_code(0);
    let sandbox = doubles_sandbox(&[]);
    let mut args = FULL.to_vec();
    args.push("--verbose");
    let verbose = push(&sandbox, &args, PASSWORD);
    verbose.assert_code(0);

    // The first command shown in step 4: the read-only look-up of the tag comes before the
    // pack push, and only verbose shows it.
    let first_of_step_4 = |run: &Run| {
        run.stdout
            .lines()
            .skip_while(|l| !l.starts_with("[4/5]"))
            .find(|l| l.trim_start().starts_with("$ "))
            .unwrap_or_default()
            .to_owned()
    };
    let line = first_of_step_4(&normal);
    assert!(line.contains(" push "), "{}", normal.stdout);
    let line = first_of_step_4(&verbose);
    assert!(line.contains(" manifest fetch "), "{}", verbose.stdout);
    let fetches = |run: &Run| {
        run.stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("$ ") && l.contains(" manifest fetch "))
            .count()
    };
    // The two read-backs of step 5 are shown either way, and they are all: the read of the
    // pack's repository after the run takes its version's manifest from them, and reads
    // only its tags (shown with --verbose).
    assert_eq!(fetches(&normal), 2, "{}", normal.stdout);
    assert_eq!(fetches(&verbose), 3, "{}", verbose.stdout);
    let tags = |run: &Run| {
        run.stdout
            .lines()
            .filter(|l| l.contains(" repo tags "))
            .count()
    };
    assert_eq!(
        (tags(&normal), tags(&verbose)),
        (0, 1),
        "{}",
        verbose.stdout
    );
    // Verbose lines carry the working directory.
    assert!(
        verbose
            .stdout
            .lines()
            .any(|l| l.trim_start().starts_with("$ cd /") && l.contains("tar -czvf ")),
        "{}",
        verbose.stdout
    );
    // tar's listing and oras's own lines are passed through.
    for text in [
        "hello-world/pack.json",
        "Login Succeeded",
        "Pushed [registry]",
    ] {
        assert!(verbose.stdout.contains(text), "{text}:\n{}", verbose.stdout);
    }
}

#[test]
fn verbose_shows_the_tool_probes() {
    let sandbox = doubles_sandbox(&[]);
    let mut args = FULL.to_vec();
    args.push("--verbose");
    let run = push(&sandbox, &args, PASSWORD);
    run.assert_code(0);
    let shown = |text: &str| {
        run.all()
            .lines()
            .any(|l| l.trim_start().starts_with("$ ") && l.contains(text))
    };
    assert!(shown("oras version"), "{}", run.all());
    assert!(shown("tar --version"), "{}", run.all());
}

// ------------------------------------------------------------------- help, man

#[test]
fn help_has_examples() {
    let sandbox = Sandbox::new();
    for command in ["push", "doctor", "check", "completions", "man"] {
        let run = sandbox.run(&[command, "--help"], "");
        run.assert_code(0);
        assert!(
            run.stdout.contains("\nExamples:\n"),
            "{command} --help:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains(&format!("  packpush {command}")),
            "{command} --help has no example of itself:\n{}",
            run.stdout
        );
    }
    let run = sandbox.run(&["push", "--help"], "");
    assert!(run.stdout.contains("--password-stdin"), "{}", run.stdout);
    assert!(run.stdout.contains("--dry-run"), "{}", run.stdout);
}

/// The dry-run example of `push --help`, run as printed (in a folder holding ./mypack,
/// with the doubles as oras and tar through their variables): it must work as shown.
#[test]
fn the_dry_run_example_in_push_help_runs_as_printed() {
    let mut sandbox = doubles_sandbox(&[]);
    let help = sandbox.run(&["push", "--help"], "");
    help.assert_code(0);
    let line = help
        .stdout
        .lines()
        .skip_while(|l| !l.contains("# show the exact commands without running anything"))
        .nth(1)
        .unwrap_or_else(|| panic!("no dry-run example in:\n{}", help.stdout))
        .trim()
        .to_string();
    let words = shell_words::split(&line).unwrap();
    assert_eq!(words[..2], ["packpush", "push"], "{line}");
    assert!(words.iter().any(|w| w == "--dry-run"), "{line}");

    let here = tempfile::tempdir().unwrap();
    copy_dir(&fixture_pack("hello-world"), &here.path().join("mypack"));
    sandbox.env("PACKPUSH_ORAS", double("oras"));
    sandbox.env("PACKPUSH_TAR", double("tar"));
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let output = sandbox
        .command(&args)
        .current_dir(here.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "`{line}` failed:\n{stdout}\n--- stderr ---\n{stderr}"
    );
    assert!(
        stdout.contains("harbor.example.com/packs/spectro-packs/archive/hello-world:1.0.0"),
        "{stdout}"
    );
    assert!(
        steps_run(&sandbox).is_empty(),
        "a dry run ran {:?}",
        steps_run(&sandbox)
    );
}

/// `--timeout` limits each oras or tar command, not a step or the run, and the help
/// says so.
#[test]
fn timeout_help_says_it_limits_each_command() {
    let sandbox = Sandbox::new();
    for command in ["push", "guide"] {
        let run = sandbox.run(&[command, "--help"], "");
        run.assert_code(0);
        let flat = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("Stop any oras or tar command that runs longer than this"),
            "{command} --help:\n{}",
            run.stdout
        );
        assert!(
            !flat.contains("Stop any step"),
            "{command} --help:\n{}",
            run.stdout
        );
    }
}

#[test]
fn completions_for_bash_zsh_and_fish_know_the_commands() {
    let sandbox = Sandbox::new();
    for (shell, marker) in [
        ("bash", "complete -F _packpush"),
        ("zsh", "#compdef packpush"),
        ("fish", "complete -c packpush"),
    ] {
        let run = sandbox.run(&["completions", shell], "");
        run.assert_code(0);
        assert_eq!(run.stderr, "");
        assert!(run.stdout.contains(marker), "{shell}:\n{}", run.stdout);
        for word in [
            "push",
            "list",
            "doctor",
            "check",
            "deep",
            "password-stdin",
            "non-interactive",
        ] {
            assert!(run.stdout.contains(word), "{shell}: no {word}");
        }
    }
    // The bash script is valid bash.
    let run = sandbox.run(&["completions", "bash"], "");
    let file = sandbox.home().join("packpush.bash");
    fs::write(&file, &run.stdout).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    // An unknown shell is a usage error.
    sandbox.run(&["completions", "tcsh"], "").assert_code(2);
}

/// The `.TH` line of a page; roff's usual preamble (`.ie`/`.el` string definitions) may
/// come first, nothing else.
#[track_caller]
fn title_line(page: &str) -> &str {
    let mut lines = page.lines();
    let title = lines
        .by_ref()
        .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
        .unwrap_or_default();
    assert!(title.starts_with(".TH "), "no .TH first:\n{page}");
    title
}

#[test]
fn man_prints_roff_pages_generated_from_the_command_line() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["man"], "");
    run.assert_code(0);
    assert_eq!(
        title_line(&run.stdout),
        format!(
            ".TH packpush 1  \"packpush {}\" \"packpush manual\"",
            env!("CARGO_PKG_VERSION")
        )
    );
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH SUBCOMMANDS",
    ] {
        assert!(run.stdout.contains(section), "{section}:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("packpush\\-push(1)"), "{}", run.stdout);

    let run = sandbox.run(&["man", "push"], "");
    run.assert_code(0);
    assert!(
        title_line(&run.stdout).starts_with(".TH packpush-push 1 "),
        "{}",
        run.stdout
    );
    for option in [
        "\\-\\-password\\-stdin",
        "\\-\\-non\\-interactive",
        "HARBOR_ADDRESS",
    ] {
        assert!(run.stdout.contains(option), "{option}:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("Examples:"), "{}", run.stdout);

    let run = sandbox.run(&["man", "no-such-command"], "");
    run.assert_code(2);
    assert!(run.stderr.contains("push, doctor, check"), "{}", run.stderr);

    // --dir writes every page.
    let dir = sandbox.home().join("man/man1");
    sandbox
        .run(&["man", "--dir", &path_str(&dir)], "")
        .assert_code(0);
    let mut pages: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for page in [
        "packpush.1",
        "packpush-push.1",
        "packpush-list.1",
        "packpush-doctor.1",
        "packpush-check.1",
        "packpush-completions.1",
    ] {
        assert!(pages.iter().any(|p| p == page), "{page} not in {pages:?}");
        let text = fs::read_to_string(dir.join(page)).unwrap();
        title_line(&text);
    }
}
