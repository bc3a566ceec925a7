//! Unit tests of the plan: the steps and commands a set of inputs gives (their order,
//! which are read-only, where each runs), one pack and several, with and without a login.

use semver::Version;

use super::*;
use crate::pack::PackDir;
use crate::preflight::Password;
use crate::process::Program;
use crate::tools::oras::{Mode, Tls};
use crate::tools::{FoundOras, FoundTar};

fn pack_input(name: &str) -> PackInput {
    PackInput {
        target: Target {
            registry: "r:5000".into(),
            project: "proj".into(),
            name: name.into(),
            version: "1.0.0".into(),
        },
        source: Source::Folder(PackDir {
            given: name.into(),
            path: format!("/src/{name}").into(),
            folder_name: name.into(),
            parent: "/src".into(),
        }),
        created: None,
        fixed_mtime: None,
    }
}

fn ready(mode: Mode, username: Option<&str>, packs: Vec<PackInput>) -> Ready {
    Ready {
        oras: FoundOras {
            program: Program {
                path: "/opt/oras".into(),
                display: "oras".into(),
            },
            version: Version::new(1, 0, 0),
            mode,
        },
        tar: FoundTar {
            program: Program {
                path: "/bin/tar".into(),
                display: "tar".into(),
            },
            version: "tar (GNU tar) 1.34".into(),
        },
        registry: "r:5000".into(),
        project: "proj".into(),
        packs,
        username: username.map(str::to_string),
        password: Password::NotNeeded,
        tls: Tls::PlainHttp,
        registry_config: if username.is_some() {
            RegistryConfig::Private
        } else {
            RegistryConfig::OrasDefault
        },
        compress_program: None,
        base_created: None,
        cache: None,
        warnings: Vec::new(),
    }
}

fn layout() -> Layout {
    Layout {
        work_dir: "/w".into(),
        output_dir: "/out".into(),
        archives_kept: false,
    }
}

fn plan(mode: Mode, username: Option<&str>, packs: Vec<PackInput>) -> Plan {
    Plan::build(&ready(mode, username, packs), &layout())
}

fn lines(plan: &Plan) -> Vec<String> {
    plan.ordered_steps()
        .iter()
        .flat_map(|view| view.commands.iter().map(|c| c.shell_line(false)))
        .collect()
}

#[test]
fn steps_follow_the_documented_order() {
    let p = plan(Mode::Strict, Some("admin"), vec![pack_input("mypack")]);
    let kinds: Vec<_> = p.ordered_steps().iter().map(|v| v.step.kind).collect();
    assert_eq!(
        kinds,
        [
            StepKind::Login,
            StepKind::Archive,
            StepKind::PushBase,
            StepKind::PushPack,
            StepKind::Verify
        ]
    );
    assert_eq!(
        lines(&p),
        [
            "oras login r:5000 --username admin --password-stdin --plain-http --registry-config /w/registry-config.json   # password on stdin: <redacted>",
            "tar -czvf /out/mypack-1.0.0.tar.gz mypack",
            "oras push r:5000/proj/spectro-packs/archive --plain-http --registry-config /w/registry-config.json --export-manifest /w/base-manifest.json",
            "oras manifest fetch --plain-http --registry-config /w/registry-config.json r:5000/proj/spectro-packs/archive/mypack:1.0.0",
            "oras push r:5000/proj/spectro-packs/archive/mypack:1.0.0 mypack-1.0.0.tar.gz --plain-http --registry-config /w/registry-config.json --export-manifest /w/pack-0-manifest.json",
            "oras manifest fetch --plain-http --registry-config /w/registry-config.json r:5000/proj/spectro-packs/archive/mypack:1.0.0",
            "oras manifest fetch --plain-http --registry-config /w/registry-config.json 'r:5000/proj/spectro-packs/archive@<digest from step 3>'",
        ]
    );
    assert_eq!(
        p.private_login.as_deref(),
        Some("/w/registry-config.json".into())
    );
}

#[test]
fn only_look_ups_and_read_backs_are_read_only() {
    let p = plan(Mode::Strict, Some("admin"), vec![pack_input("mypack")]);
    let read_only: Vec<(StepKind, bool)> = p
        .ordered_steps()
        .iter()
        .flat_map(|v| v.commands.iter().map(|c| (v.step.kind, c.read_only)))
        .collect();
    assert_eq!(
        read_only,
        [
            (StepKind::Login, false),
            (StepKind::Archive, false),
            (StepKind::PushBase, false),
            (StepKind::PushPack, true),
            (StepKind::PushPack, false),
            (StepKind::Verify, true),
            (StepKind::Verify, true),
        ]
    );
    let pack = &p.packs[0];
    assert!(pack.push.lookup.capture && pack.verify.fetch.capture && p.base_readback.capture);
    assert!(!pack.push.push.capture);
}

#[test]
fn several_packs_share_login_and_base_and_keep_the_order() {
    let p = plan(
        Mode::Strict,
        Some("admin"),
        vec![pack_input("a"), pack_input("b")],
    );
    let order: Vec<(Option<String>, usize)> = p
        .ordered_steps()
        .iter()
        .map(|v| (v.pack.map(|p| p.target.name.clone()), v.step.number))
        .collect();
    let a = || Some("a".to_string());
    let b = || Some("b".to_string());
    assert_eq!(
        order,
        [
            (None, 1),
            (a(), 2),
            (b(), 2),
            (None, 3),
            (a(), 4),
            (a(), 5),
            (b(), 4),
            (b(), 5)
        ]
    );
    assert_ne!(p.packs[0].push.manifest, p.packs[1].push.manifest);
    // One base path, read back once: listed under the first pack's verification.
    let reads: Vec<usize> = p
        .ordered_steps()
        .iter()
        .filter(|v| v.step.kind == StepKind::Verify)
        .map(|v| v.commands.len())
        .collect();
    assert_eq!(reads, [2, 1]);
}

#[test]
fn pack_push_runs_beside_the_archive_with_a_bare_name() {
    let p = plan(Mode::Strict, Some("admin"), vec![pack_input("mypack")]);
    let push = &p.packs[0].push.push;
    assert_eq!(push.cwd, "/out");
    assert_eq!(push.args[2], "mypack-1.0.0.tar.gz");
    assert_eq!(p.packs[0].archive_step.tar.as_ref().unwrap().cwd, "/src");
}

#[test]
fn newer_oras_pushes_with_image_spec_v1_0() {
    let p = plan(Mode::Newer, Some("admin"), vec![pack_input("mypack")]);
    for push in [&p.base.push, &p.packs[0].push.push] {
        assert!(
            push.args.windows(2).any(|w| w == ["--image-spec", "v1.0"]),
            "{:?}",
            push.args
        );
    }
    let login = p.login.login.as_ref().unwrap();
    assert!(!login.args.contains(&"--image-spec".to_string()));
}

#[test]
fn each_pack_archives_with_its_own_fixed_time() {
    let mut a = pack_input("a");
    a.fixed_mtime = Some(1_600_000_000);
    let mut b = pack_input("b");
    b.fixed_mtime = Some(1_700_000_000);
    let p = plan(Mode::Strict, Some("admin"), vec![a, b]);
    let mtime = |i: usize| {
        p.packs[i]
            .archive_step
            .tar
            .as_ref()
            .unwrap()
            .args
            .iter()
            .find(|a| a.starts_with("--mtime="))
            .cloned()
    };
    assert_eq!(mtime(0).as_deref(), Some("--mtime=@1600000000"));
    assert_eq!(mtime(1).as_deref(), Some("--mtime=@1700000000"));
}

#[test]
fn skip_login_has_no_login_command_and_no_private_login() {
    let p = plan(Mode::Strict, None, vec![pack_input("mypack")]);
    assert!(p.login.login.is_none());
    assert!(p.login.step.skipped.is_some());
    assert!(p.private_login.is_none());
    assert!(!p.base.push.args.contains(&"--registry-config".to_string()));
}

#[test]
fn the_base_read_back_is_completed_with_the_digest() {
    let p = plan(Mode::Strict, Some("admin"), vec![pack_input("mypack")]);
    let filled = p
        .base_readback
        .filled(BASE_DIGEST_PLACEHOLDER, "sha256:abc");
    assert_eq!(
        filled.args.last().map(String::as_str),
        Some("r:5000/proj/spectro-packs/archive@sha256:abc")
    );
}

#[test]
fn with_the_cache_a_folder_is_recalled_before_tar_by_the_look_up_of_step_4() {
    let mut input = pack_input("mypack");
    input.fixed_mtime = Some(315_532_800);
    let mut with_cache = ready(
        Mode::Strict,
        Some("admin"),
        vec![input, pack_input("other")],
    );
    with_cache.cache = Some(crate::preflight::CacheSetup {
        dir: "/cache".into(),
        shapers: "tools\n".into(),
    });
    let p = Plan::build(&with_cache, &layout());
    assert_eq!(p.cache_dir.as_deref(), Some("/cache".into()));
    let recall = p.packs[0].archive_step.recall.as_ref().unwrap();
    assert_eq!(recall.lookup, p.packs[0].push.lookup);
    assert!(recall.lookup.read_only);
    assert_eq!(recall.view, View::Content);
    assert_eq!(recall.folder, "/src/mypack");
    // Where the archive goes does not shape it; the flags and the tools do.
    assert!(recall.context.starts_with("tools\n"), "{}", recall.context);
    assert!(recall.context.contains("--sort=name"), "{}", recall.context);
    assert!(!recall.context.contains("/out/"), "{}", recall.context);
    assert_eq!(
        p.packs[1].archive_step.recall.as_ref().unwrap().view,
        View::Full
    );
    // The look-up is listed first in step 2, read-only, before tar.
    let archive = &p.ordered_steps()[1];
    assert_eq!(archive.step.kind, StepKind::Archive);
    assert_eq!(archive.commands.len(), 2);
    assert!(archive.commands[0].read_only && !archive.commands[1].read_only);
    // Without the cache, nothing is recalled.
    let p = plan(Mode::Strict, Some("admin"), vec![pack_input("mypack")]);
    assert!(p.packs[0].archive_step.recall.is_none() && p.cache_dir.is_none());
}
