//! Bad input, one named test per case, each through the built binary with real oras 1.3
//! (`--allow-newer-oras --plain-http`), or the oras double where the case is about the oras
//! program itself.
//!
//! Each refused case proves four things: the exit code; a message that names the problem
//! and the fix (a key phrase of each, in the same reported problem); that nothing was
//! pushed; and that no file of the user's changed (the pack folder and the output folder,
//! snapshotted before and after: paths, sizes, modes, modification times and sha256 of
//! contents), with no temporary file left behind. The output folder's own modification time
//! is left out: packpush's write probe creates and removes a file in it on every run (see
//! `refused_run_leaves_the_output_folder_time_alone`).
//!
//! A case the preflight refuses (exit 3) never needs a registry: its registry address is a
//! loopback port that refuses connections and that no other program can take while the test
//! runs, so nothing can have been pushed anywhere. A case that gets past the preflight (a
//! failing archive step, the inputs that are meant to work) runs against a real registry of
//! its own, and there "nothing was pushed" means that skopeo finds neither the pack's tags
//! nor the base path and that the registry's storage holds no repository and no blob.
//!
//! Some inputs that look odd are meant to work, and are tested to: a PACK_DIR of `.`, with a
//! trailing `/`, or a symlink to the folder is resolved to the real folder, whose own name
//! goes into the archive; a folder name with spaces or non-ASCII letters reaches tar and
//! oras as one argv element, and the archive is named NAME-VERSION.tar.gz from pack.json.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::calls::calls_in;
use common::doubles::{call_log, double};
use common::fs_snapshot::Snapshot;
use common::packpush::{Run, Sandbox, fixture_pack, path_str};
use common::packs::copy_dir;
use common::real::oras_1_3;
use common::testbed::{self, ClosedPort, PASSWORD, Registry, Testbed, USER};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const PROJECT: &str = "spectro-oci-registry";
const BASE_REPO: &str = "spectro-oci-registry/spectro-packs/archive";
const PACK_REPO: &str = "spectro-oci-registry/spectro-packs/archive/hello-world";
const ARCHIVE: &str = "hello-world-1.0.0.tar.gz";
/// A file of the user's that sits in the output folder before every run.
const USER_FILE: &str = "notes.txt";

/// Bytes that gzip cannot shrink (a sha256 chain), so an archive holding them is as big.
fn incompressible(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = Sha256::digest(b"packpush bad inputs");
    while out.len() < len {
        out.extend_from_slice(&block);
        block = Sha256::digest(block);
    }
    out.truncate(len);
    out
}

/// A tmpfs mounted for one test, unmounted when dropped.
#[derive(Debug)]
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, options: &str) -> Mount {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mount -t tmpfs -o {options} {dir:?} failed (root needed)"
        );
        Mount(dir.to_owned())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Where a case's push is sent.
enum Target {
    /// A real registry, for cases that get past the preflight.
    Registry(Registry),
    /// A port nobody listens on, for cases the preflight refuses.
    Closed(ClosedPort),
}

/// One bad-input run: a registry address (see [`Target`]), a copy of the hello-world pack in
/// a temporary folder, an output folder holding a file of the user's, and the command line
/// of a push that would succeed, for the case to break.
struct Case {
    /// Declared first: unmounted before the folders are removed.
    mounts: Vec<Mount>,
    target: Target,
    sandbox: Sandbox,
    /// Holds the pack folder and the output folder: everything of the user's.
    root: TempDir,
    /// The pack folder.
    pack: PathBuf,
    /// What is passed as PACK_DIR.
    pack_arg: String,
    /// Options after PACK_DIR, in order; `None` for a bare flag.
    opts: Vec<(String, Option<String>)>,
    stdin: String,
    cwd: Option<PathBuf>,
    /// `prlimit --fsize` for packpush and its children.
    file_size_limit: Option<u64>,
}

impl Case {
    /// A case the preflight refuses: no registry, a closed port as the address.
    fn new() -> Case {
        Case::with(Target::Closed(ClosedPort::hold()))
    }

    /// A case that gets past the preflight, with a real registry of its own.
    fn with_registry() -> Case {
        Case::with(Target::Registry(Registry::start(false)))
    }

    fn with(target: Target) -> Case {
        let addr = match &target {
            Target::Registry(registry) => registry.addr(),
            Target::Closed(port) => port.addr(),
        };
        let root = tempfile::Builder::new()
            .prefix("packpush-bad-input-")
            .tempdir()
            .unwrap();
        let pack = root.path().join("hello-world");
        copy_dir(&fixture_pack("hello-world"), &pack);
        let out = root.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join(USER_FILE), "the user's own file\n").unwrap();
        let opts = [
            ("--registry", Some(addr)),
            ("--project", Some(PROJECT.to_string())),
            ("--username", Some(USER.to_string())),
            ("--password-stdin", None),
            ("--oras", Some(oras_1_3())),
            ("--allow-newer-oras", None),
            ("--plain-http", None),
            ("--output-dir", Some(path_str(&out))),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let sandbox = Sandbox::new();
        Case {
            mounts: Vec::new(),
            target,
            sandbox,
            pack_arg: path_str(&pack),
            pack,
            root,
            opts,
            stdin: PASSWORD.to_string(),
            cwd: None,
            file_size_limit: None,
        }
    }

    fn root(&self) -> &Path {
        self.root.path()
    }

    /// The registry address the push is given.
    fn addr(&self) -> String {
        match &self.target {
            Target::Registry(registry) => registry.addr(),
            Target::Closed(port) => port.addr(),
        }
    }

    /// The case's real registry.
    #[track_caller]
    fn registry(&self) -> &Registry {
        match &self.target {
            Target::Registry(registry) => registry,
            Target::Closed(_) => panic!("this case has no registry: use Case::with_registry"),
        }
    }

    fn out(&self) -> PathBuf {
        self.root().join("out")
    }

    /// Sets an option (replacing its value), or adds it.
    fn opt(&mut self, flag: &str, value: impl Into<String>) -> &mut Self {
        let value = Some(value.into());
        match self.opts.iter_mut().find(|(k, _)| k == flag) {
            Some(slot) => slot.1 = value,
            None => self.opts.push((flag.to_string(), value)),
        }
        self
    }

    fn without(&mut self, flag: &str) -> &mut Self {
        self.opts.retain(|(k, _)| k != flag);
        self
    }

    fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.sandbox.env(key, value);
        self
    }

    /// The oras double, reporting `version`; every call it gets is logged in the sandbox.
    fn oras_double(&mut self, version: &str) -> &mut Self {
        let log = path_str(&call_log(&self.sandbox));
        let registry = path_str(&self.sandbox.home().join("double-registry"));
        self.opt("--oras", double("oras"));
        self.env("ORAS_DOUBLE_VERSION", version)
            .env("DOUBLE_LOG", &log)
            .env("ORAS_DOUBLE_REGISTRY", &registry)
    }

    /// The calls the oras double received, by name (`version`, `login`, ...).
    fn double_calls(&self) -> Vec<String> {
        calls_in(&call_log(&self.sandbox))
            .into_iter()
            .map(|c| c.call)
            .collect()
    }

    fn write(&self, relative: &str, contents: impl AsRef<[u8]>) {
        std::fs::write(self.pack.join(relative), contents).unwrap();
    }

    /// Rewrites the pack's pack.json through `edit`.
    fn edit_pack_json(&self, edit: impl FnOnce(&mut Value)) {
        let file = self.pack.join("pack.json");
        let mut json: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        edit(&mut json);
        std::fs::write(file, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    }

    /// Renames the pack folder, and passes the new path.
    fn rename_pack(&mut self, name: &str) -> &mut Self {
        let to = self.root().join(name);
        std::fs::rename(&self.pack, &to).unwrap();
        self.pack = to;
        self.pack_arg = path_str(&self.pack);
        self
    }

    /// An executable script in the case's folder (outside the pack), returning its path.
    fn script(&self, dir: &str, name: &str, body: &str) -> String {
        let dir = self.sandbox.home().join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path_str(&path)
    }

    fn mount_tmpfs(&mut self, relative: &str, options: &str) -> PathBuf {
        let dir = self.root().join(relative);
        self.mounts.push(Mount::tmpfs(&dir, options));
        dir
    }

    /// The command line; an empty `pack_arg` gives no PACK_DIR (e.g. for `--from`).
    fn args(&self) -> Vec<String> {
        let mut args = vec!["push".to_string()];
        args.extend((!self.pack_arg.is_empty()).then(|| self.pack_arg.clone()));
        for (flag, value) in &self.opts {
            args.push(flag.clone());
            args.extend(value.clone());
        }
        args
    }

    /// The user's folders that packpush may probe (create and remove a file in): their
    /// own modification time is left out of the snapshot, never their contents.
    fn probed(&self) -> Vec<PathBuf> {
        self.opts
            .iter()
            .filter(|(k, _)| k == "--output-dir")
            .filter_map(|(_, v)| v.as_ref())
            .filter_map(|v| {
                Path::new(v)
                    .strip_prefix(self.root())
                    .ok()
                    .map(Path::to_owned)
            })
            .collect()
    }

    fn snapshot(&self) -> Snapshot {
        let probed = self.probed();
        let probed: Vec<&Path> = probed.iter().map(PathBuf::as_path).collect();
        Snapshot::take_with(self.root(), &probed)
    }

    /// Runs packpush; the snapshots of the user's folders around the run come back with
    /// what it printed.
    fn run(&self) -> Outcome<'_> {
        let args = self.args();
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let before = self.snapshot();
        let mut command = self.sandbox.command(&arg_refs);
        if let Some(limit) = self.file_size_limit {
            let mut limited = Command::new("prlimit");
            limited
                .arg(format!("--fsize={limit}"))
                .arg("--")
                .arg(command.get_program())
                .args(command.get_args())
                .env_clear();
            for (key, value) in command.get_envs() {
                if let Some(value) = value {
                    limited.env(key, value);
                }
            }
            command = limited;
        }
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start packpush");
        // packpush may stop before reading stdin: a broken pipe is no error here.
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(self.stdin.as_bytes());
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().expect("wait for packpush");
        let run = Run::new(status.code().unwrap_or(-1), &stdout, &stderr);
        Outcome {
            case: self,
            run,
            before,
            after: self.snapshot(),
        }
    }
}

/// A finished run and the user's folders before and after it.
struct Outcome<'a> {
    case: &'a Case,
    run: Run,
    before: Snapshot,
    after: Snapshot,
}

impl Outcome<'_> {
    fn context(&self) -> String {
        format!(
            "packpush {}\nexit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            shell_words::join(self.case.args()),
            self.run.code,
            self.run.stdout,
            self.run.stderr
        )
    }

    /// Exit `code`, nothing pushed, no file of the user's changed, nothing left behind.
    #[track_caller]
    fn refused(&self, code: i32) -> &Self {
        self.run.assert_code(code);
        self.after
            .assert_unchanged_since(&self.before, &self.context());
        match &self.case.target {
            Target::Registry(registry) => assert_nothing_pushed(registry, &self.context()),
            // Nothing listens at the address: nothing can have been pushed.
            Target::Closed(_) => assert_eq!(
                code, 3,
                "only a case the preflight refuses can do without a registry"
            ),
        }
        assert_eq!(
            self.case.sandbox.leftovers(),
            Vec::<PathBuf>::new(),
            "temporary files left behind\n{}",
            self.context()
        );
        self
    }

    /// The preflight's list: each problem (`- WHAT`) with its fix (`fix: FIX`).
    fn problems(&self) -> Vec<(String, String)> {
        let lines: Vec<&str> = self.run.stderr.lines().collect();
        let mut found = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if let Some(what) = line.strip_prefix("  - ") {
                let fix = lines
                    .get(i + 1)
                    .and_then(|l| l.trim_start().strip_prefix("fix: "))
                    .unwrap_or_default();
                found.push((what.to_string(), fix.to_string()));
            }
        }
        found
    }

    /// One reported problem names `what` and its fix names `fix`.
    #[track_caller]
    fn problem(&self, what: &str, fix: &str) -> &Self {
        assert!(
            self.problems()
                .iter()
                .any(|(w, f)| w.contains(what) && f.contains(fix)),
            "no problem naming {what:?} with a fix naming {fix:?}\n{}",
            self.context()
        );
        self
    }

    /// The error output holds `text`.
    #[track_caller]
    fn says(&self, text: &str) -> &Self {
        assert!(
            self.run.stderr.contains(text),
            "{text:?} not in the error output\n{}",
            self.context()
        );
        self
    }
}

/// The registry holds nothing: neither the pack's tags nor the base path (skopeo), and its
/// storage has no repository and no blob (nothing was uploaded, not even untagged).
#[track_caller]
fn assert_nothing_pushed(registry: &Registry, context: &str) {
    for repo in [PACK_REPO, BASE_REPO] {
        if let Ok(tags) = testbed::list_tags(registry, repo) {
            assert!(tags.is_empty(), "{repo} has tags {tags:?}\n{context}");
        }
    }
    assert!(
        testbed::inspect_raw(registry, &format!("{PACK_REPO}:1.0.0")).is_err(),
        "{PACK_REPO}:1.0.0 exists\n{context}"
    );
    let storage = registry.dir().join("data/docker/registry/v2");
    for what in ["repositories", "blobs"] {
        let dir = storage.join(what);
        let held: Vec<_> = walkdir::WalkDir::new(&dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.path().to_owned())
            .collect();
        assert!(held.is_empty(), "the registry stored {held:?}\n{context}");
    }
}

/// One `#[test]` per refused case: set-up, exit code, and (problem, fix) phrases that one
/// reported problem must hold.
macro_rules! refused {
    ($(
        $(#[$attr:meta])*
        $name:ident: exit $code:literal, $setup:expr, [$(($what:expr, $fix:expr)),+ $(,)?];
    )+) => {$(
        $(#[$attr])*
        #[test]
        fn $name() {
            let mut case = Case::new();
            let setup: fn(&mut Case) = $setup;
            setup(&mut case);
            let outcome = case.run();
            outcome.refused($code);
            $(outcome.problem($what, $fix);)+
        }
    )+};
}

refused! {
    // ---- PACK_DIR
    pack_dir_missing: exit 3,
        |c: &mut Case| c.pack_arg = path_str(&c.root().join("no-such-pack")),
        [("no-such-pack' cannot be read", "pass the path of the folder that holds pack.json")];
    pack_dir_is_a_file: exit 3,
        |c: &mut Case| c.pack_arg = path_str(&c.pack.join("pack.json")),
        [("pack.json' is not a folder", "not pack.json or an archive")];
    pack_dir_is_a_dangling_symlink: exit 3,
        |c: &mut Case| {
            let link = c.root().join("gone");
            std::os::unix::fs::symlink(c.root().join("nowhere"), &link).unwrap();
            c.pack_arg = path_str(&link);
        },
        [("gone' cannot be read", "pass the path of the folder that holds pack.json")];
    pack_folder_name_starts_with_a_dash: exit 3,
        |c: &mut Case| { c.rename_pack("-hello-world"); },
        [("'-hello-world' starts with '-'", "rename the folder")];

    // ---- pack.json
    pack_json_missing: exit 3,
        |c: &mut Case| std::fs::remove_file(c.pack.join("pack.json")).unwrap(),
        [("pack.json cannot be read", "every pack folder needs a pack.json")];
    pack_json_not_json: exit 3,
        |c: &mut Case| c.write("pack.json", "{\"name\": \"hello-world\",}"),
        [("pack.json is not valid JSON", "fix the JSON syntax")];
    pack_json_not_an_object: exit 3,
        |c: &mut Case| c.write("pack.json", "[\"hello-world\", \"1.0.0\"]"),
        [("pack.json is not a JSON object", "pack.json must be an object")];
    pack_json_without_name: exit 3,
        |c: &mut Case| c.edit_pack_json(|j| { j.as_object_mut().unwrap().remove("name"); }),
        [("pack.json has no \"name\"", "add \"name\" to pack.json")];
    pack_json_name_empty: exit 3,
        |c: &mut Case| c.edit_pack_json(|j| j["name"] = "  ".into()),
        [("\"name\" is empty", "set \"name\" to a non-empty string")];
    pack_json_version_not_a_string: exit 3,
        |c: &mut Case| c.write("pack.json", r#"{"name": "hello-world", "displayName": "Hello World",
            "layer": "addon", "version": 1.0, "kubeManifests": ["manifests/hello-world.yaml"]}"#),
        [("\"version\" is a number, not a string", "e.g. \"version\": \"1.0.0\"")];
    pack_json_with_a_byte_order_mark: exit 3,
        |c: &mut Case| {
            let json = std::fs::read_to_string(c.pack.join("pack.json")).unwrap();
            c.write("pack.json", format!("\u{feff}{json}"));
        },
        [("pack.json starts with a UTF-8 byte order mark (the bytes EF BB BF)", "sed -i '1s/^\\xEF\\xBB\\xBF//' ")];
    pack_json_without_version: exit 3,
        |c: &mut Case| c.edit_pack_json(|j| { j.as_object_mut().unwrap().remove("version"); }),
        [("pack.json has no \"version\"", "add \"version\" to pack.json")];
    pack_breaks_a_pack_rule: exit 3,
        |c: &mut Case| std::fs::remove_file(c.pack.join("logo.png")).unwrap(),
        [("logo.png is missing", "add the pack's logo as logo.png")];

    // ---- NAME and VERSION against pack.json
    name_flag_not_matching: exit 3,
        |c: &mut Case| { c.opt("--name", "hello"); },
        [("the name 'hello' (from --name) does not match pack.json", "pass --name hello-world")];
    name_env_not_matching: exit 3,
        |c: &mut Case| { c.env("NAME", "buildhost-7"); },
        [("from the environment variable NAME", "unset it or pass --name hello-world")];
    version_flag_not_matching: exit 3,
        |c: &mut Case| { c.opt("--version", "1.0.1"); },
        [("the version '1.0.1' (from --version) does not match pack.json", "pass --version 1.0.0")];
    version_env_not_matching: exit 3,
        |c: &mut Case| { c.env("VERSION", "2"); },
        [("from the environment variable VERSION", "unset it or pass --version 1.0.0")];

    // ---- project and pack name as repository components
    project_with_upper_case: exit 3,
        |c: &mut Case| { c.opt("--project", "Spectro-OCI"); },
        [("the project 'Spectro-OCI' (from --project) has upper-case letters", "e.g. 'spectro-oci'")];
    project_with_a_slash: exit 3,
        |c: &mut Case| { c.opt("--project", "team/packs"); },
        [("the project 'team/packs' (from --project) contains '/'", "lower-case letters, digits")];
    pack_name_with_upper_case: exit 3,
        |c: &mut Case| c.edit_pack_json(|j| j["name"] = "Hello-World".into()),
        [("the pack name 'Hello-World' (from pack.json \"name\") has upper-case letters", "e.g. 'hello-world'")];
    pack_name_with_a_slash: exit 3,
        |c: &mut Case| c.edit_pack_json(|j| j["name"] = "hello/world".into()),
        [("the pack name 'hello/world' (from pack.json \"name\") contains '/'", "e.g. 'hello-world'")];

    // ---- registry address
    registry_with_a_scheme: exit 3,
        |c: &mut Case| { let addr = c.addr(); c.opt("--registry", format!("http://{addr}")); },
        [("has a scheme prefix 'http://'", "give the host only, as oras expects: --registry 127.0.0.1:")];
    registry_from_env_with_a_scheme: exit 3,
        |c: &mut Case| { let addr = c.addr(); c.without("--registry").env("HARBOR_ADDRESS", &format!("https://{addr}/")); },
        [("(from the environment variable HARBOR_ADDRESS) has a scheme prefix", "--registry 127.0.0.1:")];
    registry_with_a_path: exit 3,
        |c: &mut Case| { let addr = c.addr(); c.opt("--registry", format!("{addr}/{PROJECT}")); },
        [("has a path '/spectro-oci-registry'", "the project goes in --project")];
    registry_with_a_bad_port: exit 3,
        |c: &mut Case| { c.opt("--registry", "127.0.0.1:99999"); },
        [("the registry port '99999'", "use a port from 1 to 65535")];

    // ---- the version as a tag
    version_not_a_valid_tag: exit 3,
        |c: &mut Case| c.edit_pack_json(|j| j["version"] = "1.0.0+build.5".into()),
        [("the version '1.0.0+build.5' (from pack.json \"version\") is not a valid OCI tag", "'1.0.0-build.5'")];

    // ---- credentials
    password_stdin_empty: exit 3,
        |c: &mut Case| c.stdin = String::new(),
        [("--password-stdin: standard input held no password", "printf '%s' \"$PASS\" | packpush push")];
    password_env_empty: exit 3,
        |c: &mut Case| { c.without("--password-stdin").env("HARBOR_PASSWORD", ""); },
        [("HARBOR_PASSWORD is set but empty, which counts as unset", "set HARBOR_PASSWORD")];
    password_nowhere_and_stdin_not_a_terminal: exit 3,
        |c: &mut Case| { c.without("--password-stdin"); },
        [("no password: standard input is not a terminal", "pass --password-stdin")];
    username_empty: exit 3,
        |c: &mut Case| { c.opt("--username", ""); },
        [("the user name is empty", "pass --username (or set HARBOR_USERNAME)")];

    // ---- required values, run without a terminal
    registry_missing: exit 3,
        |c: &mut Case| { c.without("--registry"); },
        [("the registry host is missing", "pass --registry or set the environment variable HARBOR_ADDRESS")];
    project_missing: exit 3,
        |c: &mut Case| { c.without("--project"); },
        [("the Harbor project is missing", "pass --project or set the environment variable HARBOR_PROJECT")];
    username_missing: exit 3,
        |c: &mut Case| { c.without("--username"); },
        [("the registry user name is missing", "pass --username or set the environment variable HARBOR_USERNAME")];

    // ---- TLS material
    ca_file_missing: exit 3,
        |c: &mut Case| { let ca = path_str(&c.root().join("ca.pem")); c.without("--plain-http").opt("--ca-file", ca); },
        [("ca.pem cannot be read", "pass the path of the registry's CA certificate (PEM)")];
    ca_file_not_pem: exit 3,
        |c: &mut Case| {
            let ca = c.root().join("ca.pem");
            std::fs::write(&ca, "this is not a certificate\n").unwrap();
            let ca = path_str(&ca);
            c.without("--plain-http").opt("--ca-file", ca);
        },
        [("ca.pem holds no PEM certificate", "-----BEGIN CERTIFICATE-----")];
    registry_config_folder_missing: exit 3,
        |c: &mut Case| { let file = path_str(&c.root().join("no-dir/config.json")); c.opt("--registry-config", file); },
        [("the folder of --registry-config", "leave --registry-config out")];

    // ---- the oras program
    oras_missing: exit 3,
        |c: &mut Case| { c.opt("--oras", "/nonexistent/oras"); },
        [("--oras/PACKPUSH_ORAS names '/nonexistent/oras', which is not an executable program", "point --oras at the oras binary")];
    oras_not_on_path: exit 3,
        |c: &mut Case| {
            let empty = path_str(&c.sandbox.home().join("empty-bin"));
            std::fs::create_dir_all(&empty).unwrap();
            c.without("--oras").opt("--tar", "/usr/bin/tar").env("PATH", &empty);
        },
        [("oras was not found on PATH", "install ORAS 1.0.0")];
    oras_too_old: exit 3,
        |c: &mut Case| { c.oras_double("0.16.0").without("--allow-newer-oras"); },
        [("oras 0.16.0 is not supported", "install ORAS 1.0.0")];
    oras_too_old_even_with_allow_newer: exit 3,
        |c: &mut Case| { c.oras_double("0.16.0"); },
        [("oras 0.16.0 is not supported", "install ORAS 1.0.0")];
    oras_1_0_patch_release: exit 3,
        |c: &mut Case| { c.oras_double("1.0.1").without("--allow-newer-oras"); },
        [("oras 1.0.1 is not supported", "install ORAS 1.0.0")];
    oras_too_new_without_allow_newer: exit 3,
        |c: &mut Case| { c.without("--allow-newer-oras"); },
        [("oras 1.3.", "pass --allow-newer-oras")];
    oras_prints_no_version_line: exit 3,
        |c: &mut Case| { c.oras_double("garbage"); },
        [("does not look like oras: no 'Version:' line", "point --oras (PACKPUSH_ORAS) at an ORAS 1.0.0 binary")];
    oras_is_something_else: exit 3,
        |c: &mut Case| {
            let fake = c.script("fake-bin", "oras", "#!/bin/sh\necho hello\n");
            c.opt("--oras", fake);
        },
        [("does not look like oras", "point --oras (PACKPUSH_ORAS) at an ORAS 1.0.0 binary")];
    oras_that_fails: exit 3,
        |c: &mut Case| {
            let fake = c.script("fake-bin", "oras", "#!/bin/sh\necho 'segmentation fault' >&2\nexit 139\n");
            c.opt("--oras", fake);
        },
        [("does not behave like oras", "point --oras (PACKPUSH_ORAS) at an ORAS 1.0.0 binary")];

    // ---- the tar program
    tar_missing: exit 3,
        |c: &mut Case| { c.opt("--tar", "/nonexistent/tar"); },
        [("--tar/PACKPUSH_TAR names '/nonexistent/tar', which is not an executable program", "point --tar at the tar binary")];
    tar_that_fails: exit 3,
        |c: &mut Case| {
            let fake = c.script("fake-bin", "tar", "#!/bin/sh\nexit 64\n");
            c.opt("--tar", fake);
        },
        [("does not behave like tar", "point --tar (PACKPUSH_TAR) at GNU tar or bsdtar")];
    tar_is_something_else: exit 3,
        |c: &mut Case| {
            let fake = c.script("fake-bin", "tar", "#!/bin/sh\necho hello\n");
            c.opt("--tar", fake);
        },
        [("does not name tar", "point --tar (PACKPUSH_TAR) at GNU tar or bsdtar")];

    // ---- the output folder
    output_dir_is_a_file: exit 3,
        |c: &mut Case| { let file = path_str(&c.out().join(USER_FILE)); c.opt("--output-dir", file); },
        [("is not a folder", "pass a folder (it is created if missing)")];
    output_dir_read_only: exit 3,
        |c: &mut Case| { let dir = path_str(&c.mount_tmpfs("read-only", "ro,size=64k")); c.opt("--output-dir", dir); },
        [("is not writable: Read-only file system", "pass an --output-dir you can write to")];
    tmpdir_missing: exit 3,
        |c: &mut Case| { let gone = path_str(&c.root().join("no-such-tmp")); c.env("TMPDIR", &gone); },
        [("no-such-tmp (TMPDIR) cannot be used: No such file or directory", "point TMPDIR at a folder you can write to")];
    tmpdir_missing_in_a_dry_run: exit 3,
        |c: &mut Case| {
            let gone = path_str(&c.root().join("no-such-tmp"));
            c.env("TMPDIR", &gone).opts.push(("--dry-run".into(), None));
        },
        [("no-such-tmp (TMPDIR) cannot be used", "point TMPDIR at a folder you can write to")];
    tmpdir_read_only: exit 3,
        |c: &mut Case| { let ro = path_str(&c.mount_tmpfs("ro-tmp", "ro,size=64k")); c.env("TMPDIR", &ro); },
        [("ro-tmp (TMPDIR) is not writable: Read-only file system", "or unset TMPDIR to use /tmp")];
    compress_program_with_arguments: exit 3,
        |c: &mut Case| { c.opt("--compress-program", "pigz -p 1"); },
        [("--compress-program 'pigz -p 1' has arguments", "exec pigz -p 1 \"$@\"")];
    archive_name_taken_by_a_folder: exit 3,
        |c: &mut Case| std::fs::create_dir(c.out().join(ARCHIVE)).unwrap(),
        [("hello-world-1.0.0.tar.gz already exists and is not a file; packpush never overwrites it", "move or remove")];
}

/// An archive of the user's under the archive's name in --output-dir, with other bytes than
/// this pack gives: step 2 makes the archive beside it, compares, and refuses (exit 5); the
/// user's file is untouched, nothing is left beside it, nothing is pushed.
#[test]
fn another_archive_in_the_output_dir_is_refused() {
    let case = Case::with_registry();
    std::fs::write(case.out().join(ARCHIVE), "an older archive of the user's\n").unwrap();
    case.run()
        .refused(5)
        .says("hello-world-1.0.0.tar.gz already exists and holds another archive than this pack gives")
        .says("packpush never overwrites a file")
        .says("hint: move or remove");
}

/// Many problems in one run: each is reported, in one message, with its fix.
#[test]
fn several_problems_are_all_reported_at_once() {
    let mut case = Case::new();
    let addr = case.addr();
    case.opt("--registry", format!("https://{addr}"))
        .opt("--project", "Packs")
        .opt("--version", "9.9.9")
        .opt("--oras", "/nonexistent/oras");
    case.without("--username");
    case.stdin = String::new();
    case.edit_pack_json(|j| j["layer"] = "plugin".into());
    let outcome = case.run();
    outcome
        .refused(3)
        .says("preflight found 7 problems; nothing was run")
        .problem("which is not an executable program", "point --oras")
        .problem("has a scheme prefix 'https://'", "--registry 127.0.0.1:")
        .problem("has upper-case letters", "e.g. 'packs'")
        .problem("\"layer\" \"plugin\" is not a Palette layer", "use one of")
        .problem(
            "the version '9.9.9' (from --version)",
            "pass --version 1.0.0",
        )
        .problem("held no password", "--password-stdin")
        .problem("the registry user name is missing", "HARBOR_USERNAME");
    assert_eq!(outcome.problems().len(), 7, "{}", outcome.context());
}

/// A full output folder (a 64 KiB tmpfs, a pack of 200 KB that does not compress): the tar
/// step fails with exit 5, the message names the step and the disk, no partial archive is
/// left, and the base path was never pushed (step 3 comes after every archive).
#[test]
fn output_dir_full() {
    let mut case = Case::with_registry();
    case.write("blob.bin", incompressible(200_000));
    let full = path_str(&case.mount_tmpfs("full", "size=64k"));
    case.opt("--output-dir", full);
    let outcome = case.run();
    outcome
        .refused(5)
        .says("step 2 failed: archive the pack folder 'hello-world' as hello-world-1.0.0.tar.gz")
        .says("No space left on device")
        .says(&format!(
            "the partial archive {}/full/{ARCHIVE} was removed",
            case.root().display()
        ));
}

/// The same, and the message says what to do about it.
#[test]
fn output_dir_full_names_the_fix() {
    let mut case = Case::with_registry();
    case.write("blob.bin", incompressible(200_000));
    let full = path_str(&case.mount_tmpfs("full", "size=64k"));
    case.opt("--output-dir", full);
    let outcome = case.run();
    outcome.refused(5).says("hint: ").says("--output-dir");
}

/// A file-size limit (`ulimit -f` 64 KiB, set with prlimit): tar's gzip is stopped by
/// SIGXFSZ; exit 5, the limit named, no partial archive, nothing pushed.
#[test]
fn file_size_limit_stops_the_archive() {
    let mut case = Case::with_registry();
    case.write("blob.bin", incompressible(200_000));
    case.file_size_limit = Some(64 * 1024);
    let outcome = case.run();
    outcome
        .refused(5)
        .says("step 2 failed: archive the pack folder 'hello-world'")
        .says("File size limit exceeded");
    assert!(
        !outcome.run.stderr.contains("the archive is kept"),
        "{}",
        outcome.context()
    );
}

/// The same should be a preflight problem, like an existing read-only --output-dir is
/// (exit 3): the user's mistake is the same, and nothing needs to run to find it.
#[test]
fn output_dir_cannot_be_created_is_a_preflight_problem() {
    let mut case = Case::new();
    let ro = case.mount_tmpfs("read-only", "ro,size=64k");
    case.opt("--output-dir", path_str(&ro.join("archives")));
    case.run()
        .refused(3)
        .problem("archives", "pass an --output-dir you can write to");
}

/// A program named tar that answers `--version` like GNU tar but writes nothing: the
/// archive step must fail (exit 5) rather than push the empty file packpush created.
#[test]
fn tar_that_writes_no_archive() {
    let mut case = Case::with_registry();
    let fake = case.script(
        "fake-bin",
        "tar",
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'tar (GNU tar) 1.34'; fi\nexit 0\n",
    );
    case.opt("--tar", fake);
    case.run()
        .refused(5)
        .says("is not a gzip archive")
        .says("was removed");
}

/// A refused run does not touch the output folder at all, not even its modification time.
#[test]
fn refused_run_leaves_the_output_folder_time_alone() {
    let mut case = Case::new();
    case.opt("--project", "Bad");
    let out = case.out();
    let before = Snapshot::take(&out);
    case.run().refused(3);
    Snapshot::take(&out).assert_unchanged_since(&before, "a refused run");
}

/// The snapshot sees every kind of change the refused cases rule out: contents of the
/// same size, mode, modification time, a new file, a removed one, a changed link.
#[test]
fn snapshot_sees_every_kind_of_change() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a");
    let link = dir.path().join("l");
    std::fs::write(&file, "1234").unwrap();
    std::fs::write(dir.path().join("gone"), "x").unwrap();
    std::os::unix::fs::symlink("a", &link).unwrap();
    let before = Snapshot::take(dir.path());
    assert!(Snapshot::take(dir.path()).changes_since(&before).is_empty());

    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::write(&file, "5678").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let after = Snapshot::take(dir.path());
    assert_eq!(
        after.changes_since(&before).len(),
        1,
        "same size and time, other bytes"
    );

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_file(dir.path().join("gone")).unwrap();
    std::fs::write(dir.path().join("new"), "").unwrap();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("b", &link).unwrap();
    let changes = Snapshot::take(dir.path()).changes_since(&before);
    for wanted in ["changed a", "removed gone", "added new", "changed l"] {
        assert!(
            changes.iter().any(|c| c.starts_with(wanted)),
            "{wanted:?} not in {changes:#?}"
        );
    }
}

/// The oras double proves the preflight stopped at `oras version`: no login, no push.
#[test]
fn oras_too_old_runs_nothing_but_the_version_probe() {
    let mut case = Case::new();
    case.oras_double("0.16.0").without("--allow-newer-oras");
    let outcome = case.run();
    outcome.refused(3);
    let calls = case.double_calls();
    assert!(
        !calls.is_empty() && calls.iter().all(|c| c == "version"),
        "calls: {calls:?}\n{}",
        outcome.context()
    );
}

// ---- inputs that look odd but are meant to work

/// Checks a push that succeeded: the pack folder is unchanged, the output folder gained the
/// archive and nothing else, the archive holds `folder`/pack.json etc., the registry holds
/// hello-world:1.0.0 titled hello-world-1.0.0.tar.gz, and no temporary file was left.
#[track_caller]
fn assert_pushed_from_folder(case: &Case, outcome: &Outcome<'_>, folder: &str) {
    outcome.run.assert_code(0);
    let context = outcome.context();
    let archive = case.out().join(ARCHIVE);
    let mut changes = outcome.after.changes_since(&outcome.before);
    changes.sort();
    assert_eq!(changes, [format!("added out/{ARCHIVE}")], "{context}");

    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(listing.status.success(), "{context}");
    let listing = String::from_utf8_lossy(&listing.stdout);
    for entry in [
        "pack.json",
        "values.yaml",
        "logo.png",
        "manifests/hello-world.yaml",
    ] {
        let wanted = format!("{folder}/{entry}");
        assert!(
            listing.lines().any(|l| l == wanted),
            "{wanted} not in the archive:\n{listing}\n{context}"
        );
    }
    assert!(
        listing
            .lines()
            .all(|l| l.starts_with(&format!("{folder}/"))),
        "the archive holds more than {folder}/:\n{listing}"
    );

    let raw = testbed::inspect_raw(case.registry(), &format!("{PACK_REPO}:1.0.0"))
        .unwrap_or_else(|e| panic!("{e}\n{context}"));
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"], ARCHIVE,
        "{manifest}"
    );
    let (digest, _) =
        packpush::digest::of_file(camino::Utf8Path::from_path(&archive).unwrap()).unwrap();
    assert_eq!(manifest["layers"][0]["digest"], digest.as_str());
    assert_eq!(case.sandbox.leftovers(), Vec::<PathBuf>::new(), "{context}");
    assert!(
        outcome
            .run
            .stdout
            .contains(&format!("archive the pack folder '{folder}'")),
        "the step does not name the folder '{folder}'\n{context}"
    );
}

/// `packpush push .` inside the pack folder: resolved to the folder's real name.
#[test]
fn pack_dir_dot_is_the_folder_itself() {
    let mut case = Case::with_registry();
    case.cwd = Some(case.pack.clone());
    case.pack_arg = ".".into();
    let outcome = case.run();
    assert_pushed_from_folder(&case, &outcome, "hello-world");
}

/// `packpush push mypack/` (shell completion adds the slash): resolved to the folder.
#[test]
fn pack_dir_with_a_trailing_slash() {
    let mut case = Case::with_registry();
    case.cwd = Some(case.root().to_owned());
    case.pack_arg = "hello-world/".into();
    let outcome = case.run();
    assert_pushed_from_folder(&case, &outcome, "hello-world");
    // The refused cases' proof that nothing was pushed fails after a push.
    let registry = std::panic::AssertUnwindSafe(case.registry());
    assert!(std::panic::catch_unwind(|| assert_nothing_pushed(&registry, "")).is_err());
}

/// A symlink to the pack folder: the archive holds the real folder, under its own name,
/// and the step says which folder it archives.
#[test]
fn pack_dir_symlink_is_resolved_to_the_real_folder() {
    let mut case = Case::with_registry();
    let link = case.root().join("current");
    std::os::unix::fs::symlink(&case.pack, &link).unwrap();
    case.pack_arg = path_str(&link);
    let outcome = case.run();
    assert_pushed_from_folder(&case, &outcome, "hello-world");
}

/// A folder name with spaces: one argv element for tar; the archive is still named from
/// pack.json and holds the folder under its real name.
#[test]
fn pack_folder_name_with_spaces() {
    let mut case = Case::with_registry();
    case.rename_pack("hello world pack");
    let outcome = case.run();
    assert_pushed_from_folder(&case, &outcome, "hello world pack");
}

/// A folder name with non-ASCII letters.
#[test]
fn pack_folder_name_not_ascii() {
    let mut case = Case::with_registry();
    case.rename_pack("héllo-wörld-パック");
    let outcome = case.run();
    assert_pushed_from_folder(&case, &outcome, "héllo-wörld-パック");
}

// ---- fixes that hints and problems name, followed

/// `--registry https://HOST`: the fix is the host alone; plain HTTP is not the point.
#[test]
fn registry_with_https_is_told_the_host_alone() {
    let mut case = Case::new();
    let addr = case.addr();
    case.opt("--registry", format!("https://{addr}/"));
    let outcome = case.run();
    outcome.refused(3).problem(
        "has a scheme prefix 'https://'",
        &format!("give the host only, as oras expects: --registry {addr}"),
    );
    assert!(
        !outcome
            .problems()
            .iter()
            .any(|(_, fix)| fix.contains("--plain-http")),
        "{}",
        outcome.context()
    );
}

/// `--compress-program 'pigz -p 1'` is refused with how to pass arguments: a script,
/// which then works.
#[test]
fn compress_program_arguments_go_into_the_script_the_fix_describes() {
    let mut case = Case::with_registry();
    case.opt("--compress-program", "pigz -p 1");
    case.run().refused(3).problem(
        "has arguments",
        "pass the program alone (--compress-program pigz)",
    );
    let script = case.script("wrappers", "pigz-1", "#!/bin/sh\nexec pigz -p 1 \"$@\"\n");
    case.opt("--compress-program", script);
    let outcome = case.run();
    assert_pushed_from_folder(&case, &outcome, "hello-world");
}

/// A plain-HTTP registry reached with a TLS flag: the hint says which flag to replace
/// (the two conflict, so "add --plain-http" would be a usage error); done, the push works.
#[test]
fn a_tls_flag_to_a_plain_http_registry_is_to_be_replaced_by_plain_http() {
    let cert = path_str(&Testbed::get().cert);
    for (flag, value) in [("--insecure", None), ("--ca-file", Some(cert))] {
        let mut case = Case::with_registry();
        case.without("--plain-http");
        case.opts.push((flag.to_string(), value.clone()));
        let outcome = case.run();
        let given = match &value {
            Some(v) => format!("{flag} {v}"),
            None => flag.to_string(),
        };
        outcome
            .refused(4)
            .says(&format!("replace {given} with --plain-http"));
        assert!(
            !outcome.run.stderr.contains("add --plain-http"),
            "{}",
            outcome.context()
        );
        case.without(flag);
        case.opts.push(("--plain-http".into(), None));
        let outcome = case.run();
        assert_pushed_from_folder(&case, &outcome, "hello-world");
    }
}

/// `--plain-http` to an HTTPS registry: oras says only "400 Bad Request"; the hint names
/// the mismatch. Without the flag (and with the registry's CA), the push works.
#[test]
fn plain_http_to_an_https_registry_is_named() {
    let mut case = Case::with(Target::Registry(Registry::start(true)));
    let outcome = case.run();
    outcome.refused(4).says("400 Bad Request").says(
        "answered plain HTTP with 400 Bad Request, as an HTTPS server does: leave out --plain-http",
    );
    case.without("--plain-http")
        .opt("--ca-file", path_str(&Testbed::get().cert));
    let outcome = case.run();
    assert_pushed_from_folder(&case, &outcome, "hello-world");
}

/// A refused login is about the credentials only (the project plays no part in it), and
/// its status line names the step once.
#[test]
fn a_refused_login_is_about_the_credentials_alone() {
    let mut case = Case::with_registry();
    case.stdin = "wrong-password".into();
    let outcome = case.run();
    outcome
        .refused(4)
        .says("hint: the registry refused the credentials: check --username and the password");
    assert!(
        !outcome.run.stderr.contains("does not exist"),
        "{}",
        outcome.context()
    );
    let status = outcome
        .run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("FAILED - "))
        .unwrap_or_else(|| panic!("no status line\n{}", outcome.context()));
    assert_eq!(status.matches("step 1").count(), 1, "{status}");
    assert!(status.ends_with(": exit status 1"), "{status}");
}

// ---- pack folders found or named more than once

/// A link to a pack folder under `--from` is pushed as a linked PACK_DIR is: the real
/// folder, under its own name, and said.
#[test]
fn a_linked_pack_folder_under_from_is_resolved_like_a_linked_pack_dir() {
    let mut case = Case::with_registry();
    let packs = case.root().join("packs");
    std::fs::create_dir(&packs).unwrap();
    std::os::unix::fs::symlink(&case.pack, packs.join("current")).unwrap();
    case.pack_arg = String::new();
    case.opt("--from", path_str(&packs));
    let outcome = case.run();
    assert_pushed_from_folder(&case, &outcome, "hello-world");
    let warning = format!(
        "warning: '{}/current' is the folder {}: the archive holds it as 'hello-world/'",
        packs.display(),
        case.pack.canonicalize().unwrap().display()
    );
    outcome.says(&warning);
}

/// The same folder named twice (`A ./A/`, or found again by `--from`) is pushed once, and
/// the run says so, once.
#[test]
fn the_same_folder_twice_is_pushed_once() {
    let mut case = Case::with_registry();
    case.cwd = Some(case.root().to_owned());
    case.pack_arg = "hello-world".into();
    case.opts.push(("./hello-world/".into(), None));
    case.opt("--from", path_str(case.root()));
    let outcome = case.run();
    assert_pushed_from_folder(&case, &outcome, "hello-world");
    let said = |text: &str| outcome.run.stderr.matches(text).count();
    assert_eq!(
        said("'./hello-world/' and 'hello-world' are the same folder: it is pushed once"),
        1,
        "{}",
        outcome.context()
    );
    assert_eq!(
        said("are the same folder: it is pushed once"),
        2,
        "{}",
        outcome.context()
    );
    assert!(
        outcome.run.stdout.contains("1 pack to"),
        "{}",
        outcome.context()
    );
}
