//! Pushes with real oras 1.3 (`--allow-newer-oras --plain-http`) to a real registry, with
//! `--output json`.

use serde_json::Value;

use super::packpush::{Run, Sandbox, path_str};
use super::testbed::{PASSWORD, Registry, Testbed, USER};

/// The real oras 1.3 binary.
pub fn oras_1_3() -> String {
    path_str(&Testbed::get().oras_1_3)
}

/// `push`, the registry's flags, `project` and `extra` (pack folders, `--from`,
/// `--archive`, ...), always with `--output json`: the JSON document on stdout, human text
/// on stderr.
pub fn push(sandbox: &Sandbox, registry: &Registry, project: &str, extra: &[&str]) -> Run {
    push_to(sandbox, &registry.addr(), project, extra)
}

/// [`push`] to the registry at `addr` (e.g. a proxy in front of one).
pub fn push_to(sandbox: &Sandbox, addr: &str, project: &str, extra: &[&str]) -> Run {
    let oras = oras_1_3();
    let mut args = vec![
        "push",
        "--registry",
        addr,
        "--project",
        project,
        "--username",
        USER,
        "--password-stdin",
        "--oras",
        &oras,
        "--allow-newer-oras",
        "--plain-http",
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
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
