//! Pushes with real oras 1.3 (`--allow-newer-oras`, and `--plain-http` or the registry's
//! `--ca-file`) to a real registry, with `--output json`; and oras 1.3 run directly, for
//! what packpush itself never pushes.

use serde_json::Value;

use super::packpush::{Run, Sandbox, path_str};
use super::testbed::{PASSWORD, Registry, Testbed, USER};

/// The real oras 1.3 binary.
pub fn oras_1_3() -> String {
    path_str(&Testbed::get().oras_1_3)
}

/// `COMMAND --registry ADDR --username admin --password-stdin --oras ORAS
/// --allow-newer-oras` and `registry`'s TLS flags: the connection `push` and `list` both
/// take (ADDR: the registry's, or a proxy's in front of it).
pub fn connection_args(command: &str, addr: &str, registry: &Registry, oras: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        command,
        "--registry",
        addr,
        "--username",
        USER,
        "--password-stdin",
        "--oras",
        oras,
        "--allow-newer-oras",
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(registry.tls_flags());
    args
}

/// `push`, the registry's flags, `project` and `extra` (pack folders, `--from`,
/// `--archive`, ...), always with `--output json`: the JSON document on stdout, human text
/// on stderr.
pub fn push(sandbox: &Sandbox, registry: &Registry, project: &str, extra: &[&str]) -> Run {
    push_to(sandbox, &registry.addr(), registry, project, extra)
}

/// [`push`] to `addr`: a proxy in front of `registry`.
pub fn push_to(
    sandbox: &Sandbox,
    addr: &str,
    registry: &Registry,
    project: &str,
    extra: &[&str],
) -> Run {
    let mut args = connection_args("push", addr, registry, &oras_1_3());
    args.extend(["--project", project, "--output", "json"].map(str::to_owned));
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sandbox.run(&args, PASSWORD)
}

/// The JSON document on stdout.
pub fn report(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON document on stdout ({e}):\n{}\n--- stderr ---\n{}",
            run.stdout, run.stderr
        )
    })
}

/// The first step of `kind` (`archive`, `push_pack`, ...) in a JSON report.
#[track_caller]
pub fn step<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} step: {report:#}"))
}

/// Real oras 1.3 run directly, as a person might run it (not through packpush), logged in
/// to one registry through a registry config file of its own: for what packpush itself
/// never pushes (a manifest of the newer default shape, an archive under the wrong tag, a
/// repository outside the base path).
pub struct DirectOras {
    home: tempfile::TempDir,
    addr: String,
    tls_args: Vec<std::ffi::OsString>,
}

impl DirectOras {
    /// `oras login` to `registry` with the testbed's user.
    pub fn login(registry: &Registry) -> DirectOras {
        let oras = DirectOras {
            home: tempfile::tempdir().expect("a home for oras"),
            addr: registry.addr(),
            tls_args: registry.oras_tls_args(),
        };
        let mut login = oras.command();
        login.args(["login", "--username", USER, "--password-stdin"]);
        login.arg(&oras.addr);
        oras.run(login, PASSWORD);
        oras
    }

    /// `oras push ADDR/REFERENCE FILE_NAME`, run in FILE's folder, with `--image-spec v1.0`
    /// (the shape ORAS 1.0.0 writes) or without it (oras 1.3's own default shape).
    pub fn push(&self, reference: &str, file: &std::path::Path, image_spec_v1_0: bool) {
        let mut push = self.command();
        push.current_dir(file.parent().expect("the file's folder"));
        push.arg("push");
        if image_spec_v1_0 {
            push.args(["--image-spec", "v1.0"]);
        }
        push.arg(format!("{}/{reference}", self.addr));
        push.arg(file.file_name().expect("a file name"));
        self.run(push, "");
    }

    fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(oras_1_3());
        command.env("HOME", self.home.path());
        command
    }

    /// Runs an oras command (its flags for the login file and TLS added last).
    fn run(&self, mut command: std::process::Command, stdin: &str) {
        command
            .arg("--registry-config")
            .arg(self.home.path().join("config.json"))
            .args(&self.tls_args);
        let run = super::packpush::run_command(command, stdin);
        assert_eq!(run.code, 0, "oras failed:\n{}\n{}", run.stdout, run.stderr);
    }
}

/// `tar -czf OUT/NAME.tar.gz FOLDER` run in FOLDER's parent, as the documentation does.
pub fn archive(folder: &std::path::Path, out: &std::path::Path, name: &str) -> std::path::PathBuf {
    let file = out.join(format!("{name}.tar.gz"));
    let status = std::process::Command::new("tar")
        .current_dir(folder.parent().expect("the folder's parent"))
        .arg("-czf")
        .arg(&file)
        .arg(folder.file_name().expect("a folder name"))
        .status()
        .expect("run tar");
    assert!(status.success(), "tar failed for {}", folder.display());
    file
}
