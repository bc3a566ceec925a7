//! The `--dry-run` script, run as printed, keeps packpush's promises. Against a real
//! registry through real oras 1.2 and 1.3 (`--allow-newer-oras`; the script from oras 1.2
//! runs under `sh`, the one from 1.3 under `bash`), read back with skopeo and counted in the
//! registry's access log: a new version is pushed; the same content again is up to date and
//! uploads nothing; changed content under the same version stops it with exit 6 and leaves
//! the registry as it was, unless `OVERWRITE=1`; `$WORK` and `$OUT` are removed (the archive
//! is kept, and said, after a refused push, as packpush keeps it); at a terminal the password
//! is asked for and not echoed. Through the oras double: the password never reaches a
//! child's environment.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::calls::call_names;
use common::doubles::{Doubles, HELLO_REPO, SCRIPT_CALLS, json};
use common::packpush::{Run, Sandbox, arg, fixture_pack, path_str, run_command};
use common::packs::copy_dir;
use common::pty;
use common::testbed::{self, PASSWORD, Registry, Testbed, USER};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const PROJECT: &str = "proj";
const REPO: &str = "proj/spectro-packs/archive/hello-world";

/// A pack folder of the test's own, and the script packpush prints for it.
struct Scripted {
    sandbox: Sandbox,
    pack: PathBuf,
    script: PathBuf,
    shell: &'static str,
}

impl Scripted {
    /// `packpush push PACK --dry-run ...` with `oras`, its stdout saved as a script.
    fn new(registry: &Registry, oras: &Path, shell: &'static str) -> Scripted {
        let sandbox = Sandbox::new();
        let pack = sandbox.home().join("src").join("hello-world");
        copy_dir(&fixture_pack("hello-world"), &pack);
        let addr = registry.addr();
        let run = sandbox.run(
            &[
                "push",
                arg(&pack),
                "--registry",
                &addr,
                "--project",
                PROJECT,
                "--username",
                USER,
                "--oras",
                arg(oras),
                "--allow-newer-oras",
                "--plain-http",
                "--dry-run",
            ],
            "",
        );
        run.assert_code(0);
        let script = sandbox.home().join("push.sh");
        fs::write(&script, &run.stdout).unwrap();
        Scripted {
            sandbox,
            pack,
            script,
            shell,
        }
    }

    /// Runs the script with `envs` added to the sandbox's environment and `stdin`.
    fn run(&self, envs: &[(&str, &str)], stdin: &str) -> Run {
        let mut command = Command::new(self.shell);
        command
            .arg(&self.script)
            .env_clear()
            .env("HOME", self.sandbox.home())
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("TMPDIR", self.tmp())
            .envs(envs.iter().copied());
        fs::create_dir_all(self.tmp()).unwrap();
        run_command(command, stdin)
    }

    fn tmp(&self) -> PathBuf {
        self.sandbox.home().join("tmp")
    }

    /// What the script left in its TMPDIR.
    fn leftovers(&self) -> Vec<PathBuf> {
        self.sandbox.leftovers()
    }
}

/// The digest of the manifest the registry holds under the pack's tag, read by skopeo.
fn held(registry: &Registry) -> String {
    let raw = testbed::inspect_raw(registry, &format!("{REPO}:1.0.0"))
        .unwrap_or_else(|e| panic!("skopeo: {e}"));
    let manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert!(manifest.get("artifactType").is_none(), "{manifest:#}");
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "hello-world-1.0.0.tar.gz"
    );
    packpush::digest::of_bytes(&raw)
}

#[test]
fn the_script_pushes_once_refuses_other_content_and_cleans_up() {
    let testbed = Testbed::get();
    for ((version, oras), shell) in testbed.orases().into_iter().zip(["sh", "bash"]) {
        let registry = Registry::start(false);
        let scripted = Scripted::new(&registry, oras, shell);
        let context = format!("oras {version}, {shell}");

        // A new version: pushed; the password from HARBOR_PASSWORD; nothing left behind.
        let run = scripted.run(&[("HARBOR_PASSWORD", PASSWORD)], "");
        run.assert_code(0);
        let first = held(&registry);
        assert_eq!(registry.manifest_puts(REPO), 1, "{context}");
        assert_eq!(scripted.leftovers(), Vec::<PathBuf>::new(), "{context}");

        // The same content again (the password on stdin): up to date, nothing uploaded.
        let run = scripted.run(&[], &format!("{PASSWORD}\n"));
        run.assert_code(0);
        assert!(
            run.stdout.contains("already up to date; nothing pushed"),
            "{context}: {}",
            run.stdout
        );
        assert_eq!(registry.manifest_puts(REPO), 1, "{context}");
        assert_eq!(held(&registry), first, "{context}");
        assert_eq!(scripted.leftovers(), Vec::<PathBuf>::new(), "{context}");

        // Changed content under the same version: exit 6, the registry as it was, the
        // archive kept and said (as packpush keeps it), $WORK removed.
        let mut values = fs::OpenOptions::new()
            .append(true)
            .open(scripted.pack.join("values.yaml"))
            .unwrap();
        writeln!(values, "# changed").unwrap();
        drop(values);
        let run = scripted.run(&[("HARBOR_PASSWORD", PASSWORD)], "");
        run.assert_code(6);
        run.assert_stderr_has("already holds this version with other content");
        run.assert_stderr_has("OVERWRITE=1");
        assert_eq!(registry.manifest_puts(REPO), 1, "{context}");
        assert_eq!(held(&registry), first, "{context}");
        let kept = scripted.leftovers();
        assert_eq!(kept.len(), 1, "{context}: {kept:?}");
        run.assert_stderr_has(&format!("the archives are kept in {}", kept[0].display()));
        assert!(kept[0].join("hello-world-1.0.0.tar.gz").is_file());
        fs::remove_dir_all(&kept[0]).unwrap();

        // Told to: replaced.
        let run = scripted.run(&[("HARBOR_PASSWORD", PASSWORD), ("OVERWRITE", "1")], "");
        run.assert_code(0);
        assert_eq!(registry.manifest_puts(REPO), 2, "{context}");
        assert_ne!(held(&registry), first, "{context}");
        assert_eq!(scripted.leftovers(), Vec::<PathBuf>::new(), "{context}");

        // A wrong password: oras login fails, exit 4 as packpush's.
        let run = scripted.run(&[("HARBOR_PASSWORD", "wrong")], "");
        run.assert_code(4);
        assert_eq!(scripted.leftovers(), Vec::<PathBuf>::new(), "{context}");
    }
}

/// At a terminal, the script asks for the password, and what is typed is not echoed.
#[test]
fn at_a_terminal_the_script_asks_for_the_password_without_echo() {
    let registry = Registry::start(false);
    let scripted = Scripted::new(&registry, &Testbed::get().oras_1_3, "sh");
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pseudo-terminal");
    let mut command = CommandBuilder::new("sh");
    command.arg(&scripted.script);
    command.env_clear();
    command.env("HOME", scripted.sandbox.home());
    command.env("PATH", "/usr/local/bin:/usr/bin:/bin");
    command.env("TMPDIR", scripted.tmp());
    fs::create_dir_all(scripted.tmp()).unwrap();
    command.cwd(scripted.sandbox.home());
    let mut child = pair.slave.spawn_command(command).expect("start in the pty");
    let output = pty::gather(pair.master.try_clone_reader().expect("pty reader"));
    let text = || String::from_utf8_lossy(&output.lock().unwrap()).into_owned();
    let prompt = format!("Password for {USER} at {}: ", registry.addr());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !text().contains(&prompt) {
        assert!(Instant::now() < deadline, "no prompt:\n{}", text());
        std::thread::sleep(Duration::from_millis(20));
    }
    // stty -echo runs just before read: give it a moment.
    std::thread::sleep(Duration::from_millis(300));
    let mut writer = pair.master.take_writer().expect("pty writer");
    writer
        .write_all(format!("{PASSWORD}\r").as_bytes())
        .unwrap();
    writer.flush().unwrap();
    let status = child.wait().expect("wait for the script");
    // Let the reader take the last output.
    std::thread::sleep(Duration::from_millis(200));
    let screen = text();
    assert!(status.success(), "{status:?}:\n{screen}");
    assert!(
        !screen.contains(PASSWORD),
        "the password was echoed:\n{screen}"
    );
    assert_eq!(registry.manifest_puts(REPO), 1, "{screen}");
    assert_eq!(scripted.leftovers(), Vec::<PathBuf>::new());
}

/// HARBOR_PASSWORD in the script's environment reaches `oras login` on its stdin only: no
/// child (the oras and tar doubles record it) has it in its environment.
#[test]
fn the_script_keeps_the_password_out_of_every_childs_environment() {
    let doubles = Doubles::new();
    let run = doubles.run(&Doubles::push_args(&["--dry-run"]), "");
    run.assert_code(0);
    let script = doubles.home().join("push.sh");
    fs::write(&script, &run.stdout).unwrap();
    let mut command = doubles_command(&doubles, &script);
    command.env("HARBOR_PASSWORD", PASSWORD);
    run_command(command, "").assert_code(0);
    let calls = doubles.steps();
    assert_eq!(call_names(&calls), SCRIPT_CALLS);
    for call in &calls {
        assert_eq!(call.env_has_harbor_password, "no", "{call:#?}");
    }
    let stored = doubles.stored_by_tag(HELLO_REPO, "1.0.0").unwrap();
    assert_eq!(json(&stored)["layers"].as_array().unwrap().len(), 1);
    assert_eq!(doubles.leftover_names(), Vec::<String>::new());
}

/// `sh SCRIPT` in the doubles' sandbox environment.
fn doubles_command(doubles: &Doubles, script: &Path) -> Command {
    let variables = double_variables(doubles);
    let mut command = Command::new("sh");
    command
        .arg(script)
        .env_clear()
        .env("HOME", doubles.home())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("TMPDIR", doubles.tmp())
        .envs(variables);
    fs::create_dir_all(doubles.tmp()).unwrap();
    command
}

/// The variables the doubles read (their call log and fake registry).
fn double_variables(doubles: &Doubles) -> Vec<(String, String)> {
    vec![
        (
            "DOUBLE_LOG".to_owned(),
            path_str(&doubles.home().join(common::doubles::CALL_LOG)),
        ),
        (
            "ORAS_DOUBLE_REGISTRY".to_owned(),
            path_str(&doubles.registry()),
        ),
    ]
}
