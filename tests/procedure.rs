//! The strict ORAS 1.0.0 path, through the `oras` and `tar` doubles in fixtures/doubles (no
//! real 1.0.0 binary exists on these machines): the documented commands with their exact
//! argv, working folders and order (oras login, tar -czvf, the empty base-path push, the
//! read-only look-up, the pack push, the read-backs); the password on stdin only, never in
//! an argv or a child's environment; one login and one base-path push for several packs,
//! each pack's own calls in order, one pack's failure not stopping the others; the version
//! policy; the dry-run script; `--skip-login`; NAME and VERSION checks; `doctor`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::calls::{Call, call_names};
use common::digest::sha256_hex;
use common::doubles::{
    ARCHIVE, BASE_REPO, Doubles, HELLO_REPO, MONITORING_REF, MONITORING_REPO, ONE_PACK_CALLS,
    PACK_REF, REGISTRY, double, json, push_with,
};
use common::packpush::fixture_pack;
use common::testbed::PASSWORD;

// --------------------------------------------------------------- one pack, in order

#[test]
fn strict_1_0_0_path_runs_the_documented_commands_in_order() {
    let doubles = Doubles::new();
    let run = doubles.push(&[]);
    run.assert_code(0);

    let steps = doubles.steps();
    assert_eq!(
        steps.iter().map(|c| c.call.as_str()).collect::<Vec<_>>(),
        ONE_PACK_CALLS
    );
    let [login, tar, base, lookup, pack, fetch_pack, fetch_base, tags] = &steps[..] else {
        unreachable!()
    };

    // Login: the password on stdin, a private registry config in the sandbox's TMPDIR.
    let config = login
        .flag("--registry-config")
        .expect("--registry-config")
        .to_owned();
    assert!(Path::new(&config).starts_with(doubles.tmp()), "{config}");
    assert_eq!(
        login.argv,
        [
            "login",
            REGISTRY,
            "--username",
            "admin",
            "--password-stdin",
            "--plain-http",
            "--registry-config",
            &config
        ]
    );
    assert_eq!(
        login.stdin_sha256.as_deref(),
        Some(sha256_hex(PASSWORD.as_bytes()).as_str())
    );

    // tar: the documented command, run beside the pack folder.
    let archive = PathBuf::from(&tar.argv[1]);
    assert_eq!(
        tar.argv,
        ["-czvf", archive.to_str().unwrap(), "hello-world"]
    );
    assert_eq!(archive.file_name().unwrap(), ARCHIVE);
    let out_dir = archive.parent().unwrap();
    assert!(out_dir.starts_with(doubles.tmp()), "{}", out_dir.display());
    let packs = fs::canonicalize(fixture_pack("hello-world").parent().unwrap()).unwrap();
    assert_eq!(tar.cwd, packs);

    // The empty base-path artifact: no tag, no file.
    let base_export = base.flag("--export-manifest").expect("--export-manifest");
    assert_eq!(
        base.argv,
        [
            "push",
            BASE_REPO,
            "--plain-http",
            "--registry-config",
            &config,
            "--export-manifest",
            base_export
        ]
    );

    // The read-only look-up of the pack's tag, after the base path and before the pack's
    // push: the same command as the read-back by tag. The fresh registry has no such tag.
    assert_eq!(
        lookup.argv,
        [
            "manifest",
            "fetch",
            "--plain-http",
            "--registry-config",
            &config,
            PACK_REF
        ]
    );
    assert_eq!(lookup.argv, fetch_pack.argv);
    assert!(base.dir < lookup.dir && lookup.dir < pack.dir, "{steps:#?}");
    assert_eq!(
        lookup.error.as_deref(),
        Some(format!("{PACK_REF}: not found").as_str())
    );
    assert_eq!(lookup.failed, None, "{lookup:#?}");

    // The pack: bare file name, run from the archive's folder.
    let pack_export = pack.flag("--export-manifest").expect("--export-manifest");
    assert_eq!(
        pack.argv,
        [
            "push",
            PACK_REF,
            ARCHIVE,
            "--plain-http",
            "--registry-config",
            &config,
            "--export-manifest",
            pack_export
        ]
    );
    assert_eq!(pack.cwd, doubles.physical(out_dir));
    // The exported manifests go to the private folder that holds the login, one per pack.
    let work_dir = Path::new(&config).parent().unwrap();
    assert_eq!(Path::new(base_export), work_dir.join("base-manifest.json"));
    assert_eq!(
        Path::new(pack_export),
        work_dir.join("pack-0-manifest.json")
    );

    // Read back: the pack by tag, the base path by the digest of what was pushed.
    assert_eq!(
        fetch_pack.argv,
        [
            "manifest",
            "fetch",
            "--plain-http",
            "--registry-config",
            &config,
            PACK_REF
        ]
    );
    let base_digest = format!("sha256:{}", sha256_hex(&base.file("manifest.json")));
    assert_eq!(
        fetch_base.argv,
        [
            "manifest",
            "fetch",
            "--plain-http",
            "--registry-config",
            &config,
            &format!("{BASE_REPO}@{base_digest}")
        ]
    );

    // Then the pack's repository as Palette will find it: its tags, read-only, with the
    // same connection flags and login (the version's manifest is the one just read back).
    assert_eq!(
        tags.argv,
        [
            "repo",
            "tags",
            "--plain-http",
            "--registry-config",
            &config,
            &format!("{REGISTRY}/{HELLO_REPO}")
        ]
    );
    assert!(run.stdout.contains("In the registry now"), "{}", run.stdout);

    for call in doubles.calls() {
        assert_eq!(call.env_has_harbor_password, "no", "{call:#?}");
        for arg in &call.argv {
            assert!(
                arg != "--image-spec"
                    && arg != "-p"
                    && arg != "--password"
                    && !arg.starts_with("--password="),
                "{call:#?}"
            );
            assert!(!arg.contains(PASSWORD), "the password in argv: {call:#?}");
        }
    }

    let pack_manifest = pack.file("manifest.json");
    let pack_digest = format!("sha256:{}", sha256_hex(&pack_manifest));
    assert!(run.stdout.contains(PACK_REF), "{}", run.stdout);
    assert!(run.stdout.contains(&pack_digest), "{}", run.stdout);

    let stored = doubles
        .stored_by_tag(HELLO_REPO, "1.0.0")
        .expect("the registry holds the pack's tag");
    assert_eq!(stored, pack_manifest);
    let stored = json(&stored);
    assert!(stored.get("artifactType").is_none(), "{stored}");
    let layers = stored["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "{stored}");
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        ARCHIVE
    );

    assert_eq!(doubles.leftover_names(), Vec::<String>::new());
}

#[test]
fn password_from_harbor_password_reaches_oras_only_on_stdin() {
    let mut doubles = Doubles::new();
    doubles.env("HARBOR_PASSWORD", PASSWORD);
    let run = doubles.run(&Doubles::push_args(&[]), "");
    run.assert_code(0);
    let steps = doubles.steps();
    let login = &steps[0];
    assert_eq!(login.label(), "oras login");
    assert!(
        login.argv.iter().any(|a| a == "--password-stdin"),
        "{login:#?}"
    );
    assert_eq!(
        login.stdin_sha256.as_deref(),
        Some(sha256_hex(PASSWORD.as_bytes()).as_str())
    );
    let calls = doubles.calls();
    assert!(calls.len() >= 8, "{calls:#?}");
    for call in calls {
        assert_eq!(call.env_has_harbor_password, "no", "{call:#?}");
        assert!(!call.argv.iter().any(|a| a.contains(PASSWORD)), "{call:#?}");
    }
}

// ------------------------------------------------------------------ several packs at once

/// The fixture packs: hello-world 1.0.0 and sample-monitoring 0.2.1.
fn both_packs() -> [(PathBuf, &'static str, &'static str); 2] {
    [
        (
            fixture_pack("hello-world"),
            "hello-world-1.0.0.tar.gz",
            PACK_REF,
        ),
        (
            fixture_pack("sample-monitoring"),
            "sample-monitoring-0.2.1.tar.gz",
            MONITORING_REF,
        ),
    ]
}

/// One login and one base-path push, first of all; then for each pack: its tar before the
/// base-path push, and after it the look-up, the push and the read-back, in that order;
/// at the end, each pack's repository's tags read again: in the order given when
/// `one_at_a_time`, else side by side. Returns the positions of each pack's calls (tar, look-up, push,
/// read-back).
fn assert_each_pack_in_order(steps: &[Call], one_at_a_time: bool) -> Vec<[usize; 4]> {
    let view_start = steps
        .iter()
        .position(|c| c.call == "tags")
        .expect("the repositories read again at the end");
    let (steps, view) = steps.split_at(view_start);
    let view: Vec<(&str, &str)> = view
        .iter()
        .map(|c| (c.call.as_str(), c.argv.last().unwrap().as_str()))
        .collect();
    let hello = format!("{REGISTRY}/{HELLO_REPO}");
    let monitoring = format!("{REGISTRY}/{MONITORING_REPO}");
    // Each version's manifest is the one step 5 read back: only the tags are read again.
    let in_order = [("tags", hello.as_str()), ("tags", monitoring.as_str())];
    if one_at_a_time {
        assert_eq!(view, in_order);
    } else {
        // Side by side, the two repositories may come in either order.
        let mut sorted = view.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, in_order, "{view:?}");
    }
    let names = call_names(steps);
    assert_eq!(names[0], "login", "{names:?}");
    assert_eq!(
        names.iter().filter(|n| **n == "login").count(),
        1,
        "{names:?}"
    );
    let base = names
        .iter()
        .position(|n| *n == "push-base")
        .expect("a base push");
    assert_eq!(
        names.iter().filter(|n| **n == "push-base").count(),
        1,
        "{names:?}"
    );
    let base_digest = format!("sha256:{}", sha256_hex(&steps[base].file("manifest.json")));
    let base_fetch = format!("{BASE_REPO}@{base_digest}");
    // One base path, read back once per run (by the pack verified first).
    assert_eq!(steps.iter().filter(|c| c.fetches(&base_fetch)).count(), 1);
    both_packs()
        .iter()
        .map(|(_, archive, reference)| {
            let tars: Vec<usize> = (0..steps.len())
                .filter(|&i| {
                    steps[i].call == "tar" && steps[i].argv[1].ends_with(&format!("/{archive}"))
                })
                .collect();
            let fetches: Vec<usize> = (0..steps.len())
                .filter(|&i| steps[i].fetches(reference))
                .collect();
            let pushes: Vec<usize> = (0..steps.len())
                .filter(|&i| steps[i].call == "push-pack" && steps[i].reference() == Some(reference))
                .collect();
            assert_eq!((tars.len(), fetches.len(), pushes.len()), (1, 2, 1), "{names:?}");
            let order = [tars[0], fetches[0], pushes[0], fetches[1]];
            assert!(
                order[0] < base && base < order[1] && order[1] < order[2] && order[2] < order[3],
                "{reference}: tar {}, base push {base}, look-up {}, push {}, read-back {}: {names:?}",
                order[0],
                order[1],
                order[2],
                order[3]
            );
            assert_eq!(steps[order[1]].argv, steps[order[3]].argv);
            order
        })
        .collect()
}

#[test]
fn two_packs_share_one_login_and_one_base_push() {
    let doubles = Doubles::new();
    let folders: Vec<PathBuf> = both_packs().into_iter().map(|(p, _, _)| p).collect();
    let run = doubles.push_packs(&folders, &[]);
    run.assert_code(0);
    let steps = doubles.steps();
    // One job: the packs in the order given.
    assert_eq!(
        call_names(&steps),
        [
            "login",
            "tar",
            "tar",
            "push-base",
            "fetch",
            "push-pack",
            "fetch",
            "fetch",
            "fetch",
            "push-pack",
            "fetch",
            "tags",
            "tags"
        ]
    );
    // The base path is read back once, by the first pack's verification.
    let base_reads: Vec<usize> = (0..steps.len())
        .filter(|&i| {
            steps[i].call == "fetch"
                && steps[i]
                    .argv
                    .last()
                    .is_some_and(|r| r.starts_with(&format!("{BASE_REPO}@sha256:")))
        })
        .collect();
    assert_eq!(base_reads, [7], "{:?}", call_names(&steps));
    let order = assert_each_pack_in_order(&steps, true);
    assert!(
        order[0][0] < order[1][0] && order[0][3] < order[1][1],
        "{order:?}"
    );
    assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_some());
    assert!(doubles.stored_by_tag(MONITORING_REPO, "0.2.1").is_some());
    for (pack, result) in [("hello-world", "pushed"), ("sample-monitoring", "pushed")] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(pack) && l.contains(result)),
            "no summary line for {pack}: {}",
            run.stdout
        );
    }
    assert_eq!(doubles.leftover_names(), Vec::<String>::new());
}

#[test]
fn two_packs_with_two_jobs_keep_each_pack_in_order() {
    let doubles = Doubles::new();
    let from = fixture_pack("hello-world").parent().unwrap().to_owned();
    let mut args = Doubles::push_args_for(&[], &["--password-stdin", "--jobs", "2"]);
    args.extend(["--from".to_owned(), from.to_str().unwrap().to_owned()]);
    let run = doubles.run(&args, &format!("{PASSWORD}\n"));
    run.assert_code(0);
    let steps = doubles.steps();
    // login, 2 tars, base push, 2 × (look-up, push, read-back), one base read-back, then
    // each repository's tags as list reads them.
    assert_eq!(steps.len(), 13, "{:?}", call_names(&steps));
    let base_reads = steps
        .iter()
        .filter(|c| {
            c.call == "fetch"
                && c.argv
                    .last()
                    .is_some_and(|r| r.starts_with(&format!("{BASE_REPO}@sha256:")))
        })
        .count();
    assert_eq!(base_reads, 1, "{:?}", call_names(&steps));
    assert_each_pack_in_order(&steps, false);
    assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_some());
    assert!(doubles.stored_by_tag(MONITORING_REPO, "0.2.1").is_some());
}

#[test]
fn one_pack_failing_does_not_stop_the_other() {
    let mut doubles = Doubles::new();
    doubles
        .env("ORAS_DOUBLE_FAIL", "push-pack")
        .env("ORAS_DOUBLE_FAIL_REF", "/hello-world:");
    let folders: Vec<PathBuf> = both_packs().into_iter().map(|(p, _, _)| p).collect();
    let run = doubles.push_packs(&folders, &[]);
    run.assert_code(6);
    let steps = doubles.steps();
    let pushes: Vec<(&str, Option<&str>)> = steps
        .iter()
        .filter(|c| c.call == "push-pack")
        .map(|c| (c.reference().unwrap(), c.failed.as_deref()))
        .collect();
    assert_eq!(
        pushes,
        [(PACK_REF, Some("push-pack")), (MONITORING_REF, None)]
    );
    // The second pack was looked up, pushed and read back, and its repository's tags read
    // again at the end (the failed pack's are not).
    assert_eq!(
        steps.iter().filter(|c| c.fetches(MONITORING_REF)).count(),
        2
    );
    let listed: Vec<&str> = steps
        .iter()
        .filter(|c| c.call == "tags")
        .map(|c| c.argv.last().unwrap().as_str())
        .collect();
    assert_eq!(listed, [format!("{REGISTRY}/{MONITORING_REPO}")]);
    assert!(doubles.stored_by_tag(HELLO_REPO, "1.0.0").is_none());
    assert!(doubles.stored_by_tag(MONITORING_REPO, "0.2.1").is_some());
    // The summary table names both.
    let header = run
        .stdout
        .lines()
        .position(|l| l.starts_with("PACK") && l.contains("RESULT"))
        .unwrap_or_else(|| panic!("no summary table: {}", run.stdout));
    let table: Vec<&str> = run.stdout.lines().skip(header + 1).take(2).collect();
    assert!(
        table[0].starts_with("hello-world") && table[0].contains("FAILED"),
        "{}",
        run.stdout
    );
    assert!(
        table[1].starts_with("sample-monitoring") && table[1].contains("pushed"),
        "{}",
        run.stdout
    );
    run.assert_stderr_has("1 of 2 packs failed");
    run.assert_stderr_has("step 4");
}

// -------------------------------------------------------------------- version policy

#[test]
fn newer_oras_without_allow_newer_oras_runs_nothing() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_VERSION", "1.2.0")], &[]);
    run.assert_code(3);
    run.assert_stderr_has("--allow-newer-oras");
    assert_eq!(doubles.step_labels(), Vec::<String>::new());
}

#[test]
fn newer_oras_with_allow_newer_oras_pushes_with_image_spec_v1_0() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_VERSION", "1.2.0")], &["--allow-newer-oras"]);
    run.assert_code(0);
    let steps = doubles.steps();
    let pushes: Vec<&Call> = steps.iter().filter(|c| c.label() == "oras push").collect();
    assert_eq!(pushes.len(), 2);
    for push in pushes {
        assert!(
            push.argv.windows(2).any(|w| w == ["--image-spec", "v1.0"]),
            "{push:#?}"
        );
        assert!(
            json(&push.file("manifest.json"))
                .get("artifactType")
                .is_none()
        );
    }
    for call in steps.iter().filter(|c| c.label() != "oras push") {
        assert!(!call.argv.iter().any(|a| a == "--image-spec"), "{call:#?}");
    }
}

#[test]
fn oras_older_than_1_0_0_is_refused() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_VERSION", "0.16.0")], &[]);
    run.assert_code(3);
    run.assert_stderr_has("0.16.0");
    assert_eq!(doubles.step_labels(), Vec::<String>::new());
}

#[test]
fn a_program_without_a_version_line_is_not_oras() {
    let (doubles, run) = push_with(&[("ORAS_DOUBLE_VERSION", "garbage")], &[]);
    run.assert_code(3);
    run.assert_stderr_has("does not look like oras");
    assert_eq!(doubles.step_labels(), Vec::<String>::new());
}

// ------------------------------------------------------------------ dry run, skip login

#[test]
fn dry_run_prints_the_seven_commands_and_runs_none() {
    let doubles = Doubles::new();
    let out = doubles.home().join("out");
    let run = doubles.run(
        &Doubles::push_args(&["--dry-run", "--output-dir", out.to_str().unwrap()]),
        "",
    );
    run.assert_code(0);
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines[0], "#!/bin/sh");
    assert!(
        lines[1].starts_with(&format!(
            "# packpush plan: 1 pack(s) to {BASE_REPO} (oras 1.0.0, tar "
        )),
        "{}",
        run.stdout
    );
    let headers: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("# "))
        .collect();
    let expected_headers = [
        format!("# 1. log in to {REGISTRY}"),
        "# 2. [hello-world:1.0.0] archive ".to_owned(),
        format!("# 3. create the base path {BASE_REPO}"),
        format!("# 4. [hello-world:1.0.0] push the pack to {PACK_REF}"),
        format!("# 5. [hello-world:1.0.0] verify what the registry holds for {PACK_REF}"),
    ];
    let steps: Vec<&str> = headers
        .iter()
        .copied()
        .filter(|l| l.as_bytes().get(2).is_some_and(u8::is_ascii_digit))
        .collect();
    assert_eq!(steps.len(), expected_headers.len(), "{}", run.stdout);
    for (line, expected) in steps.iter().zip(&expected_headers) {
        assert!(
            line.starts_with(expected.as_str()),
            "{line:?} is not {expected:?}"
        );
    }

    // The plan is a script: the folders a real run creates are shell variables,
    // and the look-up may fail (not found) without stopping it.
    for prologue in [
        "set -e",
        "umask 077",
        "WORK=$(mktemp -d)",
        "trap finish EXIT",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(prologue)),
            "no {prologue:?} in:\n{}",
            run.stdout
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("BASE_DIGEST=sha256:$(sha256sum \"$WORK\"/base-manifest.json")),
        "{}",
        run.stdout
    );
    let commands: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_start())
        .filter(|l| l.starts_with("cd "))
        .map(|l| l.split(" || ").next().unwrap_or(l))
        .map(|l| l.split(" >").next().unwrap_or(l))
        .collect();
    assert_eq!(commands.len(), 7, "{}", run.stdout);
    let oras = double("oras");
    let expect = [
        format!("{oras} login {REGISTRY} --username admin --password-stdin --plain-http"),
        format!(
            "{} -czvf {} hello-world",
            double("tar"),
            out.join(ARCHIVE).display()
        ),
        format!("{oras} push {BASE_REPO} --plain-http"),
        format!("{oras} manifest fetch --plain-http"),
        format!("{oras} push {PACK_REF} {ARCHIVE} --plain-http"),
        format!("{oras} manifest fetch --plain-http"),
        format!("{oras} manifest fetch --plain-http"),
    ];
    for (line, expected) in commands.iter().zip(&expect) {
        assert!(
            line.contains(expected.as_str()),
            "{line:?} lacks {expected:?}"
        );
    }
    // The look-up comes right after its comment (its answer judged by `held`), and is the
    // very command of the read-back by tag.
    let comment = lines
        .iter()
        .position(|l| l.contains("read-only look-up first"))
        .expect("the look-up's comment");
    assert!(
        lines[comment + 2].starts_with(&format!("{} >", commands[3])),
        "{}",
        run.stdout
    );
    assert!(
        lines[comment + 3].starts_with("HELD=$(held "),
        "{}",
        run.stdout
    );
    assert!(commands[3].ends_with(PACK_REF), "{}", commands[3]);
    assert_eq!(commands[3], commands[5]);
    assert!(
        commands[6].contains(&format!("{BASE_REPO}@\"$BASE_DIGEST\"")),
        "{}",
        commands[6]
    );
    assert!(!commands.iter().any(|l| l.contains("--image-spec")));
    assert!(
        commands[4].contains("pack-0-manifest.json"),
        "{}",
        commands[4]
    );

    assert_eq!(doubles.step_labels(), Vec::<String>::new());
    assert!(!out.exists(), "--dry-run created --output-dir");
    assert!(!doubles.registry().exists());
    assert_eq!(doubles.leftover_names(), Vec::<String>::new());
}

#[test]
fn skip_login_uses_the_given_registry_config_on_every_call() {
    let doubles = Doubles::new();
    // Credentials as an earlier `oras login --registry-config` stored them.
    let config = doubles.home().join("auth.json");
    fs::write(
        &config,
        format!(r#"{{"auths":{{"{REGISTRY}":{{"auth":"YWRtaW46SGFyYm9yMTIzNDU="}}}}}}"#),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let run = doubles.run(
        &Doubles::push_args(&["--skip-login", "--registry-config", config]),
        "",
    );
    run.assert_code(0);
    let steps = doubles.steps();
    assert_eq!(
        steps.iter().map(Call::label).collect::<Vec<_>>(),
        [
            "tar",
            "oras push",
            "oras manifest fetch",
            "oras push",
            "oras manifest fetch",
            "oras manifest fetch",
            "oras repo tags"
        ]
    );
    for call in steps.iter().filter(|c| c.program == "oras") {
        assert_eq!(call.flag("--registry-config"), Some(config), "{call:#?}");
        assert_eq!(
            call.argv
                .iter()
                .filter(|a| *a == "--registry-config")
                .count(),
            1,
            "{call:#?}"
        );
    }
}

#[test]
fn skip_login_without_stored_credentials_fails_at_the_base_push() {
    let doubles = Doubles::new();
    let run = doubles.run(&Doubles::push_args(&["--skip-login"]), "");
    run.assert_code(6);
    assert_eq!(doubles.step_labels(), ["tar", "oras push"]);
    let base = &doubles.steps()[1];
    assert!(base.flag("--registry-config").is_none(), "{base:#?}");
    run.assert_stderr_has("credential required for basic auth");
}

// ---------------------------------------------------------------- name and version checks

#[test]
fn a_stray_name_variable_is_named_in_the_error() {
    let mut doubles = Doubles::new();
    doubles.env("NAME", "myhost");
    let run = doubles.push(&[]);
    run.assert_code(3);
    run.assert_stderr_has("environment variable NAME");
    run.assert_stderr_has("unset");
    assert_eq!(doubles.step_labels(), Vec::<String>::new());

    let doubles = Doubles::new();
    let run = doubles.push(&["--name", "other"]);
    run.assert_code(3);
    run.assert_stderr_has("--name");
    run.assert_stderr_has("'other'");
    assert!(
        !run.stderr.contains("environment variable NAME"),
        "{}",
        run.stderr
    );
    assert_eq!(doubles.step_labels(), Vec::<String>::new());
}

// ------------------------------------------------------------------------------ doctor

#[test]
fn doctor_reports_the_versions_and_refuses_a_newer_oras() {
    let doubles = Doubles::new();
    let args = vec![
        "doctor".to_owned(),
        "--oras".to_owned(),
        double("oras"),
        "--tar".to_owned(),
        double("tar"),
    ];
    let run = doubles.run(&args, "");
    run.assert_code(0);
    assert!(run.stdout.contains("oras 1.0.0"), "{}", run.stdout);
    let real_tar = Command::new("/bin/tar").arg("--version").output().unwrap();
    let tar_line = String::from_utf8_lossy(&real_tar.stdout)
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert!(run.stdout.contains(&tar_line), "{}", run.stdout);

    let mut doubles = Doubles::new();
    doubles.env("ORAS_DOUBLE_VERSION", "1.3.3");
    let run = doubles.run(&args, "");
    run.assert_code(3);
    run.assert_stderr_has("1.3.3");
    run.assert_stderr_has("--allow-newer-oras");
}
