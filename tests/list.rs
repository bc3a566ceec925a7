//! `packpush list` against a real registry (Debian's distribution registry) read through
//! real oras 1.3 and 1.2: a project holding three packs with two versions each pushed by
//! packpush, one version pushed by oras 1.3 without `--image-spec v1.0`, one whose
//! archive's pack.json does not match its tag, a pack outside `spectro-packs/archive` and
//! a repository that is no pack; another project without a base path. `list` must mark
//! exactly the wrong ones, with why, and exit 7; `--deep` also catches the archive that
//! holds another version; skopeo, not oras, confirms what list reports. Harbor's refusal
//! of the catalog comes from a proxy in front of the real registry. Through the oras
//! double, the strict 1.0.0 path runs exactly the documented read-only commands.

mod common;

use std::path::{Path, PathBuf};

use common::calls::Call;
use common::doubles::{Doubles, REGISTRY as DOUBLE_REGISTRY, double};
use common::packpush::{Run, Sandbox, path_str};
use common::packs::{copy_dir, edit_json};
use common::proxy::{FaultProxy, Faults};
use common::real::{self, DirectOras, oras_1_3};
use common::testbed::{self, PASSWORD, Registry, Testbed, USER};
use serde_json::Value;
use tempfile::TempDir;

/// The project that holds everything.
const PROJECT: &str = "spectro-oci-registry";
/// A project whose pack was pushed without the base path.
const NO_BASE: &str = "nobase";
const ARCHIVE_PATH: &str = "spectro-packs/archive";

/// A registry holding the cases of this file.
struct Populated {
    registry: Registry,
    /// The pack folders and archives (kept for the life of the test).
    _work: TempDir,
}

/// Over plain HTTP: three packs with two versions each, pushed by packpush in one run;
/// then with oras
/// directly: hello-world 1.2.0 in oras 1.3's own shape, sample-monitoring 0.4.0 whose
/// archive holds 0.3.0, hello-world outside the base path, a README outside it (no pack),
/// and hello-world in a project without a base path.
fn populate() -> Populated {
    let registry = Registry::start(false);
    let work = tempfile::tempdir().expect("a work folder");
    let mut folders = Vec::new();
    for (name, from, versions) in [
        ("hello-world", "hello-world", ["1.0.0", "1.1.0"]),
        ("sample-monitoring", "sample-monitoring", ["0.2.1", "0.3.0"]),
        ("nginx-demo", "hello-world", ["1.0.0", "2.0.0"]),
    ] {
        for version in versions {
            folders.push(pack_folder(work.path(), name, from, version));
        }
    }
    let sandbox = Sandbox::new();
    let args: Vec<String> = folders.iter().map(|f| path_str(f)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    real::push(&sandbox, &registry, PROJECT, &args).assert_code(0);

    let oras = DirectOras::login(&registry);
    let out = work.path().join("archives");
    std::fs::create_dir_all(&out).unwrap();
    let newer = pack_folder(work.path(), "hello-world", "hello-world", "1.2.0");
    let file = real::archive(&newer, &out, "hello-world-1.2.0");
    oras.push(
        &format!("{PROJECT}/{ARCHIVE_PATH}/hello-world:1.2.0"),
        &file,
        false,
    );
    let other = folders[3].clone(); // sample-monitoring 0.3.0
    let file = real::archive(&other, &out, "sample-monitoring-0.4.0");
    oras.push(
        &format!("{PROJECT}/{ARCHIVE_PATH}/sample-monitoring:0.4.0"),
        &file,
        true,
    );
    let file = real::archive(&folders[0], &out, "hello-world-1.0.0");
    oras.push(&format!("{PROJECT}/hello-world:1.0.0"), &file, true);
    oras.push(
        &format!("{NO_BASE}/{ARCHIVE_PATH}/hello-world:1.0.0"),
        &file,
        true,
    );
    let readme = out.join("README.md");
    std::fs::write(&readme, "not a pack\n").unwrap();
    oras.push(&format!("{PROJECT}/docs/readme:1"), &readme, true);
    Populated {
        registry,
        _work: work,
    }
}

/// A copy of the fixture pack `from` named `name` at version `version`, in a folder of
/// its own (so that several versions of one pack can be pushed in one run).
fn pack_folder(work: &Path, name: &str, from: &str, version: &str) -> PathBuf {
    let folder = work.join(format!("{name}-{version}")).join(name);
    copy_dir(&common::packpush::fixture_pack(from), &folder);
    edit_json(&folder, |json| {
        json["name"] = name.into();
        json["version"] = version.into();
    });
    folder
}

/// `packpush list` with oras `oras` (newer, so `--allow-newer-oras`) against `addr`,
/// logged in with the password on stdin, then `extra`.
fn list_at(addr: &str, registry: &Registry, oras: &Path, extra: &[&str]) -> Run {
    let mut args = real::connection_args("list", addr, registry, &path_str(oras));
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Sandbox::new().run(&args, PASSWORD)
}

/// `packpush list --project PROJECT ... --output json` with oras 1.3; the run and its document.
fn list_json(populated: &Populated, extra: &[&str]) -> (Run, Value) {
    let mut args = vec!["--project", PROJECT, "--output", "json"];
    args.extend_from_slice(extra);
    let registry = &populated.registry;
    let run = list_at(&registry.addr(), registry, &Testbed::get().oras_1_3, &args);
    let doc = real::report(&run);
    (run, doc)
}

/// `(repository name, place, tag, usable)` of every version listed.
fn verdicts(doc: &Value) -> Vec<(String, String, String, bool)> {
    let mut found = Vec::new();
    for repository in doc["listing"]["repositories"]
        .as_array()
        .expect("repositories")
    {
        for version in repository["versions"].as_array().expect("versions") {
            found.push((
                repository["name"].as_str().unwrap().to_owned(),
                repository["place"].as_str().unwrap().to_owned(),
                version["tag"].as_str().unwrap().to_owned(),
                version["usable"].as_bool().unwrap(),
            ));
        }
    }
    found
}

fn verdict(name: &str, place: &str, tag: &str, usable: bool) -> (String, String, String, bool) {
    (name.into(), place.into(), tag.into(), usable)
}

fn version<'a>(doc: &'a Value, name: &str, tag: &str) -> &'a Value {
    doc["listing"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == name && r["place"] == "pack")
        .flat_map(|r| r["versions"].as_array().unwrap())
        .find(|v| v["tag"] == tag)
        .unwrap_or_else(|| panic!("no {name}:{tag} in {doc:#}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

// ----------------------------------------------------------------- what is wrong, and why

#[test]
fn list_marks_exactly_the_wrong_versions_with_why_and_exits_7() {
    let populated = populate();
    let before = populated.registry.write_requests();
    let (run, doc) = list_json(&populated, &[]);
    run.assert_code(7);
    assert_eq!(doc["command"], "list");
    assert_eq!(doc["error"]["class"], "verify", "{doc:#}");
    let listing = &doc["listing"];
    assert_eq!(listing["base_path_status"], "present", "{listing:#}");
    assert_eq!(listing["catalog"]["status"], "listed");
    assert_eq!(
        verdicts(&doc),
        [
            verdict("hello-world", "pack", "1.0.0", true),
            verdict("hello-world", "pack", "1.1.0", true),
            verdict("hello-world", "pack", "1.2.0", false),
            verdict("nginx-demo", "pack", "1.0.0", true),
            verdict("nginx-demo", "pack", "2.0.0", true),
            verdict("sample-monitoring", "pack", "0.2.1", true),
            verdict("sample-monitoring", "pack", "0.3.0", true),
            // Its archive holds 0.3.0, which only --deep can tell.
            verdict("sample-monitoring", "pack", "0.4.0", true),
            verdict("hello-world", "outside", "1.0.0", false),
        ]
    );
    // The README outside the base path is no pack: not Palette's business.
    assert_eq!(strings(&listing["other_repositories"]), ["docs/readme"]);

    let problems = strings(&listing["problems"]);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with("hello-world:1.2.0: ")
            && problems[0].contains("artifactType")
            && problems[0].contains("config mediaType"),
        "{problems:#?}"
    );
    let outside = format!("{}/{PROJECT}/hello-world", populated.registry.addr());
    assert!(
        problems[1].starts_with(&format!("hello-world ({outside}): "))
            && problems[1].contains("outside spectro-packs/archive"),
        "{problems:#?}"
    );
    let details = strings(&doc["error"]["details"]);
    assert_eq!(details, problems);
    let hints = strings(&doc["error"]["hints"]).join("\n");
    assert!(
        hints.contains("--overwrite") && hints.contains("--image-spec v1.0"),
        "{hints}"
    );
    assert!(hints.contains("under the base path"), "{hints}");
    assert!(
        run.stderr
            .contains("error: Palette cannot use 2 of the 9 versions listed"),
        "{}",
        run.stderr
    );

    // Nothing was written to the registry.
    assert_eq!(populated.registry.write_requests(), before);
}

#[test]
fn what_list_reports_is_what_skopeo_reads() {
    let populated = populate();
    let (run, doc) = list_json(&populated, &["hello-world"]);
    run.assert_code(7);
    for tag in ["1.0.0", "1.1.0", "1.2.0"] {
        let reference = format!("{PROJECT}/{ARCHIVE_PATH}/hello-world:{tag}");
        let raw =
            testbed::inspect_raw(&populated.registry, &reference).unwrap_or_else(|e| panic!("{e}"));
        let manifest: Value = serde_json::from_slice(&raw).unwrap();
        let listed = version(&doc, "hello-world", tag);
        assert_eq!(
            listed["manifest_digest"],
            packpush::digest::of_bytes(&raw).as_str(),
            "{tag}"
        );
        assert_eq!(
            listed["layer"]["digest"], manifest["layers"][0]["digest"],
            "{tag}"
        );
        assert_eq!(
            listed["layer"]["size"], manifest["layers"][0]["size"],
            "{tag}"
        );
        assert_eq!(
            listed["layer"]["title"],
            format!("hello-world-{tag}.tar.gz").as_str()
        );
        assert_eq!(
            listed["created"],
            manifest["annotations"]["org.opencontainers.image.created"]
        );
    }
    let tags = testbed::list_tags(
        &populated.registry,
        &format!("{PROJECT}/{ARCHIVE_PATH}/hello-world"),
    )
    .unwrap();
    assert_eq!(tags.len(), 3, "{tags:?}");
}

#[test]
fn deep_also_catches_the_archive_that_holds_another_version() {
    let populated = populate();
    let (run, doc) = list_json(&populated, &["--deep"]);
    run.assert_code(7);
    let wrong = version(&doc, "sample-monitoring", "0.4.0");
    assert_eq!(wrong["usable"], false, "{wrong:#}");
    assert_eq!(wrong["archive"]["ok"], false);
    assert_eq!(wrong["archive"]["pack_name"], "sample-monitoring");
    assert_eq!(wrong["archive"]["pack_version"], "0.3.0");
    assert_eq!(
        strings(&wrong["archive"]["problems"]),
        [
            "its pack.json says name 'sample-monitoring' and version '0.3.0', but the repository \
          is 'sample-monitoring' and the tag '0.4.0'"
        ]
    );
    for (name, tag) in [
        ("hello-world", "1.0.0"),
        ("hello-world", "1.1.0"),
        ("nginx-demo", "1.0.0"),
        ("nginx-demo", "2.0.0"),
        ("sample-monitoring", "0.2.1"),
        ("sample-monitoring", "0.3.0"),
    ] {
        let good = version(&doc, name, tag);
        assert_eq!(good["usable"], true, "{good:#}");
        assert_eq!(good["archive"]["ok"], true, "{good:#}");
        assert_eq!(good["archive"]["pack_name"], name);
        assert_eq!(good["archive"]["pack_version"], tag);
    }
    let problems = strings(&doc["listing"]["problems"]);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[1].starts_with("sample-monitoring:0.4.0: its pack.json says"),
        "{problems:#?}"
    );
    // The archives were downloaded into the private folder, and are gone with it.
    assert!(
        doc["listing"]["commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["argv"][1] == "blob" && c["argv"][2] == "fetch")
    );
}

#[test]
fn the_table_for_people_marks_the_wrong_versions_with_oras_1_2() {
    let populated = populate();
    let registry = &populated.registry;
    let run = list_at(
        &registry.addr(),
        registry,
        &Testbed::get().oras_1_2,
        &["--project", PROJECT, "--deep"],
    );
    run.assert_code(7);
    let row = |tag: &str| {
        run.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{tag} ")))
            .unwrap_or_else(|| panic!("no row for {tag}:\n{}", run.stdout))
            .to_owned()
    };
    for (tag, mark) in [
        ("1.1.0", "ok"),
        ("1.2.0", "NO"),
        ("0.4.0", "NO"),
        ("2.0.0", "ok"),
    ] {
        let row = row(tag);
        let words: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(words[1], mark, "{tag}:\n{}", run.stdout);
    }
    for text in [
        &format!(
            "base path  {}/{PROJECT}/{ARCHIVE_PATH}  present",
            registry.addr()
        ),
        "the manifest has artifactType",
        "its pack.json says name 'sample-monitoring' and version '0.3.0'",
        "it holds a pack outside spectro-packs/archive",
        "not packs, not Palette's: docs/readme",
        "Palette cannot use 3 of the 9 versions listed.",
    ] {
        assert!(run.stdout.contains(text), "{text}:\n{}", run.stdout);
    }
    run.assert_stderr_has("error: Palette cannot use 3 of the 9 versions listed");
    run.assert_stderr_has("hint: push the pack again in the manifest shape ORAS 1.0.0 writes");
    assert!(!run.all().contains(PASSWORD));
}

#[test]
fn a_project_without_a_base_path_is_named() {
    let populated = populate();
    let registry = &populated.registry;
    let run = list_at(
        &registry.addr(),
        registry,
        &Testbed::get().oras_1_3,
        &["--project", NO_BASE, "--output", "json"],
    );
    run.assert_code(7);
    let doc = real::report(&run);
    let listing = &doc["listing"];
    assert_eq!(listing["base_path_status"], "missing");
    let base = format!("{}/{NO_BASE}/{ARCHIVE_PATH}", registry.addr());
    assert_eq!(
        strings(&listing["problems"]),
        [format!("the base path {base} does not exist")]
    );
    assert!(
        strings(&listing["hints"])[0].contains("oras push REGISTRY/PROJECT/spectro-packs/archive")
    );
    // The version itself has the right shape.
    assert_eq!(
        verdicts(&doc),
        [verdict("hello-world", "pack", "1.0.0", true)]
    );
    assert_eq!(
        doc["error"]["message"],
        format!("1 problem with what Palette will find in {base}").as_str()
    );
}

#[test]
fn named_packs_only_and_one_that_is_missing() {
    let populated = populate();
    let (run, doc) = list_json(&populated, &["nginx-demo", "readme", "nginx-demo"]);
    run.assert_code(7);
    let repositories = doc["listing"]["repositories"].as_array().unwrap();
    let names: Vec<(&str, &str)> = repositories
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("nginx-demo", "found"), ("readme", "not_found")]);
    assert!(repositories[0]["usable"].as_bool().unwrap());
    let missing = &repositories[1];
    assert_eq!(
        strings(&missing["notes"]),
        ["the project has a repository 'docs/readme', which is not where Palette looks"]
    );
    assert_eq!(
        strings(&doc["listing"]["problems"]),
        [format!(
            "readme ({}/{PROJECT}/{ARCHIVE_PATH}/readme): there is no repository {0}/{PROJECT}/{ARCHIVE_PATH}/readme",
            populated.registry.addr()
        )]
    );
}

// ------------------------------------------------------------- a catalog Harbor refuses

#[test]
fn when_the_catalog_is_refused_the_named_packs_are_still_checked() {
    let populated = populate();
    let registry = &populated.registry;
    // Harbor refuses the catalog to most accounts; the distribution registry does not.
    let proxy = FaultProxy::start(
        &registry.addr(),
        &Faults {
            aimed: Some(("^GET /v2/_catalog".into(), "refuse".into(), 1000)),
            ..Faults::default()
        },
    );
    let oras = &Testbed::get().oras_1_3;

    // Nothing named: nothing can be read, and the output says why and what to do.
    let run = list_at(
        &proxy.addr(),
        registry,
        oras,
        &["--project", PROJECT, "--output", "json"],
    );
    run.assert_code(7);
    assert!(
        proxy
            .faults()
            .iter()
            .any(|f| f.starts_with("refuse GET /v2/_catalog"))
    );
    let doc = real::report(&run);
    let listing = &doc["listing"];
    assert_eq!(listing["catalog"]["status"], "refused", "{listing:#}");
    let said = listing["catalog"]["error"]["message"].as_str().unwrap();
    assert_eq!(
        said,
        format!(
            "the registry does not let this account list the repositories of {}/{PROJECT}",
            proxy.addr()
        )
    );
    assert!(
        strings(&listing["catalog"]["error"]["details"])
            .join("\n")
            .contains("unauthorized to list catalog"),
        "{listing:#}"
    );
    let hints = strings(&listing["hints"]).join("\n");
    assert!(hints.contains("name the packs to check"), "{hints}");
    assert!(strings(&listing["problems"])[0].starts_with("the repositories could not be listed"));
    run.assert_stderr_has(&format!(
        "error: cannot tell what Palette will find: the registry does not let this account \
         list the repositories of {}/{PROJECT}",
        proxy.addr()
    ));
    run.assert_stderr_has("name the packs to check");

    // Named: they are read without the catalog; the rest is said to be unknown.
    let run = list_at(
        &proxy.addr(),
        registry,
        oras,
        &["--project", PROJECT, "nginx-demo", "sample-monitoring"],
    );
    run.assert_code(0);
    for text in [
        "catalog    the registry does not let this account list the repositories of",
        "note: the repositories could not be listed",
        "only the packs named were read",
        "hint: name the packs to check",
        "Palette can use all 5 versions listed.",
    ] {
        assert!(run.stdout.contains(text), "{text}:\n{}", run.stdout);
    }
    // Without the catalog, the distribution registry cannot tell a base path that holds
    // only the untagged artifact from a missing one; list says so rather than guess.
    assert!(
        run.stdout.contains("spectro-packs/archive  unknown"),
        "{}",
        run.stdout
    );
}

// -------------------------------------------------------------------- TLS, push's view

#[test]
fn list_reaches_a_tls_registry_through_its_ca_file() {
    let registry = Registry::start(true);
    let sandbox = Sandbox::new();
    let pack = path_str(&common::packpush::fixture_pack("hello-world"));
    let pushed = real::push(&sandbox, &registry, PROJECT, &[&pack]);
    pushed.assert_code(0);
    // The push's In Palette block names the CA certificate to upload.
    let cert = path_str(registry.cert());
    pushed.assert_stderr_has(&format!("CA certificate: upload {cert}"));
    let run = list_at(
        &registry.addr(),
        &registry,
        &Testbed::get().oras_1_3,
        &["--project", PROJECT],
    );
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("Palette can use the one version listed."),
        "{}",
        run.stdout
    );
}

#[test]
fn a_push_ends_with_every_version_of_its_pack_as_palette_sees_them() {
    let populated = populate();
    let work = tempfile::tempdir().unwrap();
    let folder = pack_folder(work.path(), "hello-world", "hello-world", "1.3.0");
    let sandbox = Sandbox::new();
    let run = real::push(
        &sandbox,
        &populated.registry,
        PROJECT,
        &[&path_str(&folder)],
    );
    run.assert_code(0);
    // The push is fine; the version oras 1.3 pushed in its own shape is named.
    run.assert_stderr_has("In the registry now");
    let row = run
        .stderr
        .lines()
        .find(|l| l.trim_start().starts_with("1.2.0 "))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(row.contains(" NO "), "{row}");
    run.assert_stderr_has("the manifest has artifactType");
    run.assert_stderr_has("Plain HTTP here: no CA certificate, Insecure Skip TLS Verify off");
    let doc = real::report(&run);
    let tags: Vec<&str> = doc["listing"]["repositories"][0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["1.0.0", "1.1.0", "1.2.0", "1.3.0"]);
    assert_eq!(doc["listing"]["usable"], false);
    assert_eq!(doc["ok"], true);
}

// -------------------------------------------------- the strict 1.0.0 path, through the double

#[test]
fn list_runs_the_documented_read_only_commands_of_oras_1_0_0() {
    let doubles = Doubles::new();
    doubles.push(&[]).assert_code(0);
    let before = doubles.calls().len();
    let registry_files = snapshot(&doubles.registry());
    let run = doubles.run(
        &[
            "list".into(),
            "--registry".into(),
            DOUBLE_REGISTRY.into(),
            "--project".into(),
            "proj".into(),
            "--username".into(),
            USER.into(),
            "--password-stdin".into(),
            "--plain-http".into(),
            "--oras".into(),
            double("oras"),
            "--deep".into(),
        ],
        &format!("{PASSWORD}\n"),
    );
    run.assert_code(0);
    // list probes oras alone (it needs no tar).
    let calls: Vec<Call> = doubles.calls().into_iter().skip(before).collect();
    assert_eq!(calls[0].label(), "oras version");
    let calls = &calls[1..];
    let labels: Vec<String> = calls.iter().map(Call::label).collect();
    assert_eq!(
        labels,
        [
            "oras login",
            "oras repo ls",
            "oras repo tags",
            "oras manifest fetch",
            "oras blob fetch"
        ]
    );
    let config = calls[0].flag("--registry-config").unwrap().to_owned();
    assert!(Path::new(&config).starts_with(doubles.tmp()), "{config}");
    let repo = format!("{DOUBLE_REGISTRY}/proj/{ARCHIVE_PATH}/hello-world");
    let read = |sub: &[&str], rest: &[&str]| -> Vec<String> {
        let connection = ["--plain-http", "--registry-config", config.as_str()];
        sub.iter()
            .chain(&connection)
            .chain(rest)
            .map(|a| a.to_string())
            .collect()
    };
    let project = format!("{DOUBLE_REGISTRY}/proj");
    let version = format!("{repo}:1.0.0");
    assert_eq!(calls[1].argv, read(&["repo", "ls"], &[&project]));
    assert_eq!(calls[2].argv, read(&["repo", "tags"], &[&repo]));
    assert_eq!(calls[3].argv, read(&["manifest", "fetch"], &[&version]));
    let output = &calls[4].argv[6];
    assert!(
        output.ends_with("/archives/hello-world-1.0.0.tar.gz"),
        "{:?}",
        calls[4]
    );
    assert!(Path::new(output).starts_with(doubles.tmp()), "{output}");
    let blob = &calls[4].argv[7];
    assert!(blob.starts_with(&format!("{repo}@sha256:")), "{blob}");
    assert_eq!(
        calls[4].argv,
        read(&["blob", "fetch"], &["--output", output, blob])
    );
    for call in calls {
        assert!(
            !call
                .argv
                .iter()
                .any(|a| a == "--image-spec" || a.contains(PASSWORD)),
            "{call:#?}"
        );
        assert_eq!(call.env_has_harbor_password, "no");
    }
    assert!(calls[0].stdin_sha256.is_some());
    // Read-only: the registry's files are as the push left them (the double notes fetched
    // tags in _fetched, which is its own bookkeeping).
    assert_eq!(snapshot(&doubles.registry()), registry_files);
    assert_eq!(doubles.leftover_names(), Vec::<String>::new());
    assert!(
        run.stdout
            .contains("Palette can use the one version listed."),
        "{}",
        run.stdout
    );
}

/// The registry folder's files and their contents, its bookkeeping of fetches aside.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walk(dir)
        .into_iter()
        .filter(|p| !p.components().any(|c| c.as_os_str() == "_fetched"))
        .map(|p| (path_str(&p), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

// ------------------------------------------------------------------------- preflight

#[test]
fn missing_values_and_a_bad_name_are_refused_before_anything_runs() {
    let doubles = Doubles::new();
    let run = doubles.run(
        &[
            "list".into(),
            "Bad_Name".into(),
            "--oras".into(),
            double("oras"),
            "--non-interactive".into(),
        ],
        "",
    );
    run.assert_code(3);
    for text in [
        "pass --registry or set the environment variable HARBOR_ADDRESS",
        "pass --project or set the environment variable HARBOR_PROJECT",
        "pass --username or set the environment variable HARBOR_USERNAME",
        "the pack name 'Bad_Name' (on the command line) has upper-case letters",
        "--password-stdin",
    ] {
        run.assert_stderr_has(text);
    }
    let labels: Vec<String> = doubles.calls().iter().map(Call::label).collect();
    assert_eq!(labels, ["oras version"]);
}

#[test]
fn an_unusable_temporary_folder_is_refused_before_anything_runs() {
    let mut doubles = Doubles::new();
    let gone = path_str(&doubles.home().join("no-such-tmp"));
    doubles.env("TMPDIR", &gone);
    let run = doubles.run(
        &[
            "list".into(),
            "--registry".into(),
            "127.0.0.1:5000".into(),
            "--project".into(),
            "proj".into(),
            "--skip-login".into(),
            "--plain-http".into(),
            "--oras".into(),
            double("oras"),
        ],
        "",
    );
    run.assert_code(3);
    run.assert_stderr_has("no-such-tmp (TMPDIR) cannot be used: No such file or directory");
    run.assert_stderr_has("point TMPDIR at a folder you can write to");
    let labels: Vec<String> = doubles.calls().iter().map(Call::label).collect();
    assert_eq!(labels, ["oras version"]);
}

#[test]
fn a_refused_login_is_exit_4_with_the_hint_and_no_password_anywhere() {
    let registry = Registry::start(false);
    let mut args = real::connection_args("list", &registry.addr(), &registry, &oras_1_3());
    args.extend(["--project", PROJECT, "--output", "json"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let wrong = "not-the-password";
    let run = Sandbox::new().run(&args, wrong);
    run.assert_code(4);
    let doc = real::report(&run);
    assert_eq!(doc["error"]["class"], "login");
    assert_eq!(
        doc["error"]["message"],
        format!("cannot log in to {}", registry.addr()).as_str()
    );
    let hints = strings(&doc["error"]["hints"]).join("\n");
    assert!(hints.contains("refused the credentials"), "{hints}");
    assert!(!run.all().contains(wrong), "the password was printed");
    assert!(doc["listing"].is_null());
}
