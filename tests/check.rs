//! `packpush check PACK_DIR` run as a user would: the built binary, in a
//! hermetic environment, on the fixture packs (valid) and on copies of one
//! broken in a single way each (exit 3, and the message names the problem).

mod common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use common::packpush::{Run, Sandbox, fixture_pack};
use common::packs::{copy_dir, edit_json};
use serde_json::json;
use tempfile::TempDir;

/// A copy of the hello-world fixture in a temporary folder, then `break_it`.
struct Broken {
    _root: TempDir,
    pack: PathBuf,
}

impl Broken {
    fn new(break_it: impl FnOnce(&Path)) -> Broken {
        let root = tempfile::tempdir().unwrap();
        let pack = root.path().join("hello-world");
        copy_dir(&fixture_pack("hello-world"), &pack);
        break_it(&pack);
        Broken { _root: root, pack }
    }

    fn check(&self) -> Run {
        check(&self.pack)
    }
}

fn check(pack: &Path) -> Run {
    Sandbox::new().run(&["check", pack.to_str().unwrap()], "")
}

/// Exit 3, the preflight's report on stderr, and every `needle` in it.
#[track_caller]
fn fails_with(broken: Broken, needles: &[&str]) -> Run {
    let run = broken.check();
    run.assert_code(3);
    assert!(
        run.stderr.contains("error: the pack in '"),
        "{}",
        run.stderr
    );
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "no {needle:?} in:\n{}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("\n    fix: "), "{}", run.stderr);
    run
}

#[test]
fn the_fixture_packs_pass() {
    for (name, version) in [("hello-world", "1.0.0"), ("sample-monitoring", "0.2.1")] {
        let run = check(&fixture_pack(name));
        run.assert_code(0);
        assert!(
            run.stdout
                .starts_with(&format!("ok   pack.json: {name} {version}, layer addon\n")),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("tar can archive every file"),
            "{}",
            run.stdout
        );
        assert!(!run.all().contains("warning"), "{}", run.all());
        assert_eq!(run.stderr, "");
    }
}

#[test]
fn the_pack_folder_may_be_given_as_dot() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .command(&["check", "."])
        .current_dir(fixture_pack("hello-world"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn warnings_do_not_fail() {
    let run = Broken::new(|pack| edit_json(pack, |d| d["addonType"] = json!("monitorng"))).check();
    run.assert_code(0);
    assert!(
        run.all().contains("warning: ")
            && run
                .all()
                .contains("\"addonType\" \"monitorng\" is not one of the usual values"),
        "{}",
        run.all()
    );
    assert!(run.all().contains("ok   pack.json: hello-world 1.0.0"));

    let run = Broken::new(|pack| {
        edit_json(pack, |d| {
            d.as_object_mut().unwrap().remove("addonType");
        })
    })
    .check();
    run.assert_code(0);
    assert!(run.all().contains("has no \"addonType\""), "{}", run.all());
}

#[test]
fn warnings_are_shown_when_the_check_fails_too() {
    let run = fails_with(
        Broken::new(|pack| {
            edit_json(pack, |d| d["addonType"] = json!("monitorng"));
            std::fs::remove_file(pack.join("values.yaml")).unwrap();
        }),
        &["values.yaml is missing"],
    );
    assert!(run.all().contains("warning: "), "{}", run.all());
    assert!(!run.stdout.contains("ok "), "{}", run.all());
}

#[test]
fn an_unbroken_copy_passes() {
    Broken::new(|_| {}).check().assert_code(0);
}

#[test]
fn missing_pack_json() {
    fails_with(
        Broken::new(|pack| std::fs::remove_file(pack.join("pack.json")).unwrap()),
        &["pack.json cannot be read", "1 problem;"],
    );
}

#[test]
fn pack_json_is_not_json() {
    fails_with(
        Broken::new(|pack| std::fs::write(pack.join("pack.json"), "{\"name\": \"x\",}").unwrap()),
        &["pack.json is not valid JSON", "trailing comma"],
    );
}

#[test]
fn missing_display_name() {
    fails_with(
        Broken::new(|pack| {
            edit_json(pack, |d| {
                d.as_object_mut().unwrap().remove("displayName");
            })
        }),
        &[
            "pack.json has no \"displayName\"",
            "add \"displayName\" to pack.json",
        ],
    );
}

#[test]
fn unknown_layer() {
    fails_with(
        Broken::new(|pack| edit_json(pack, |d| d["layer"] = json!("Addon"))),
        &[
            "\"layer\" \"Addon\" is not a Palette layer",
            "kernel, os, k8s, cni, csi, addon",
            "did you mean \"addon\"?",
        ],
    );
}

#[test]
fn version_not_semantic() {
    fails_with(
        Broken::new(|pack| edit_json(pack, |d| d["version"] = json!("v1.2"))),
        &[
            "\"version\" \"v1.2\" is not a semantic version",
            "e.g. \"version\": \"1.2.0\"",
        ],
    );
}

/// The fix of a number written for the version, applied as written, passes.
#[test]
fn a_numeric_version_gets_a_fix_that_passes() {
    let broken = Broken::new(|pack| edit_json(pack, |d| d["version"] = json!(1.0)));
    let run = broken.check();
    run.assert_code(3);
    assert!(
        run.stderr.contains("\"version\" is a number, not a string"),
        "{}",
        run.stderr
    );
    let fix = run
        .stderr
        .split("e.g. ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no example in the fix:\n{}", run.stderr));
    assert_eq!(fix, "\"version\": \"1.0.0\"", "{}", run.stderr);
    let fixed: serde_json::Value = serde_json::from_str(&format!("{{{fix}}}")).unwrap();
    edit_json(&broken.pack, |d| d["version"] = fixed["version"].clone());
    broken.check().assert_code(0);
}

/// A pack.json that starts with a UTF-8 byte order mark: the mark is named, and the
/// command the fix gives removes it.
#[test]
fn a_byte_order_mark_is_named_and_the_fix_removes_it() {
    let broken = Broken::new(|pack| {
        let file = pack.join("pack.json");
        let json = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, format!("\u{feff}{json}")).unwrap();
    });
    let run = broken.check();
    run.assert_code(3);
    assert!(
        run.stderr
            .contains("pack.json starts with a UTF-8 byte order mark (the bytes EF BB BF)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("trailing comma"), "{}", run.stderr);
    let command = run
        .stderr
        .split("or remove the mark: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no command in the fix:\n{}", run.stderr));
    let status = std::process::Command::new("sh")
        .args(["-c", command])
        .status()
        .unwrap();
    assert!(status.success(), "{command}");
    broken.check().assert_code(0);
}

#[test]
fn version_not_an_oci_tag() {
    fails_with(
        Broken::new(|pack| edit_json(pack, |d| d["version"] = json!("1.0.0+build.7"))),
        &["is not a valid OCI tag", "'1.0.0-build.7'"],
    );
}

#[test]
fn name_not_an_oci_name() {
    fails_with(
        Broken::new(|pack| edit_json(pack, |d| d["name"] = json!("Hello-World"))),
        &["the pack name 'Hello-World'", "has upper-case letters"],
    );
}

#[test]
fn unknown_cloud_type() {
    fails_with(
        Broken::new(|pack| edit_json(pack, |d| d["cloudTypes"] = json!(["aws", "amazon"]))),
        &[
            "\"cloudTypes\"[1] \"amazon\" is not a cloud type Palette knows",
            "all, aws, azure, gcp, vsphere, openstack, baremetal, maas, aks, eks, tke, edge, edge-native, coxedge, libvirt",
        ],
    );
}

#[test]
fn manifest_missing() {
    fails_with(
        Broken::new(|pack| std::fs::remove_file(pack.join("manifests/hello-world.yaml")).unwrap()),
        &[
            "\"kubeManifests\"[0] names \"manifests/hello-world.yaml\", which is not in the pack folder",
        ],
    );
}

#[test]
fn manifest_path_absolute() {
    fails_with(
        Broken::new(|pack| {
            let absolute = pack.join("manifests/hello-world.yaml");
            edit_json(pack, |d| d["kubeManifests"] = json!([absolute]));
        }),
        &[
            "is an absolute path",
            "write it relative to the pack folder: \"manifests/hello-world.yaml\"",
        ],
    );
}

#[test]
fn chart_path_leaves_the_folder() {
    fails_with(
        Broken::new(|pack| {
            std::fs::write(pack.parent().unwrap().join("x.tgz"), "x").unwrap();
            edit_json(pack, |d| d["charts"] = json!(["charts/../../x.tgz"]));
        }),
        &["\"charts\"[0] \"charts/../../x.tgz\" leaves the pack folder through '..'"],
    );
}

#[test]
fn unknown_dependency_type() {
    fails_with(
        Broken::new(|pack| {
            edit_json(
                pack,
                |d| d["constraints"] = json!({"dependencies": [{"packName": "nginx", "layer": "addon", "type": "mandatory"}]}),
            )
        }),
        &[
            "\"constraints.dependencies\"[0].type \"mandatory\" (packName \"nginx\") is not a dependency type",
            "optional, required, notSupported",
        ],
    );
}

#[test]
fn values_yaml_missing() {
    fails_with(
        Broken::new(|pack| std::fs::remove_file(pack.join("values.yaml")).unwrap()),
        &["hello-world/values.yaml is missing", "it may be empty"],
    );
}

#[test]
fn logo_missing() {
    fails_with(
        Broken::new(|pack| std::fs::remove_file(pack.join("logo.png")).unwrap()),
        &["hello-world/logo.png is missing"],
    );
}

#[test]
fn logo_not_a_png() {
    fails_with(
        Broken::new(|pack| {
            std::fs::write(pack.join("logo.png"), b"\xff\xd8\xff\xe0\0\x10JFIF\0").unwrap()
        }),
        &["logo.png is a JPEG image, not a PNG image", "PNG format"],
    );
}

#[test]
fn link_leaving_the_folder() {
    fails_with(
        Broken::new(|pack| symlink("/etc/passwd", pack.join("manifests/passwd.yaml")).unwrap()),
        &[
            "manifests/passwd.yaml -> /etc/passwd: the symbolic link points outside the pack folder",
            "cp -L",
        ],
    );
}

#[test]
fn dangling_link() {
    fails_with(
        Broken::new(|pack| symlink("old.yaml", pack.join("manifests/current.yaml")).unwrap()),
        &["manifests/current.yaml -> old.yaml: the symbolic link is dangling"],
    );
}

#[test]
fn fifo_in_the_folder() {
    fails_with(
        Broken::new(|pack| {
            let status = std::process::Command::new("mkfifo")
                .arg(pack.join("manifests/pipe"))
                .status()
                .unwrap();
            assert!(status.success());
        }),
        &["manifests/pipe is a named pipe (FIFO)", "remove it"],
    );
}

#[test]
fn socket_in_the_folder() {
    fails_with(
        Broken::new(|pack| {
            // The socket file stays after the listener is dropped.
            std::os::unix::net::UnixListener::bind(pack.join("agent.sock")).unwrap();
        }),
        &["agent.sock is a socket"],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let run = fails_with(
        Broken::new(|pack| {
            edit_json(pack, |d| {
                d["layer"] = json!("plugin");
                d["version"] = json!("1");
            });
            std::fs::remove_file(pack.join("logo.png")).unwrap();
            symlink("nowhere", pack.join("dangling")).unwrap();
        }),
        &[
            "has 4 problems",
            "\"plugin\" is not a Palette layer",
            "\"1\" is not a semantic version",
            "logo.png is missing",
            "dangling -> nowhere",
        ],
    );
    assert_eq!(run.stderr.matches("\n  - ").count(), 4, "{}", run.stderr);
}

#[test]
fn pack_dir_must_be_a_folder() {
    let run = check(&fixture_pack("hello-world").join("pack.json"));
    run.assert_code(3);
    assert!(run.stderr.contains("is not a folder"), "{}", run.stderr);
    let run = check(Path::new("/nonexistent/pack"));
    run.assert_code(3);
    assert!(run.stderr.contains("cannot be read"), "{}", run.stderr);
}

#[test]
fn pack_dir_is_required() {
    Sandbox::new().run(&["check"], "").assert_code(2);
}
