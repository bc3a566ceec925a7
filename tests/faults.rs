//! Nothing lost: SIGINT and SIGTERM during tar and during each push stop the child, remove
//! the temporary files, leave the user's files alone and exit 130 / 143 with the step and
//! the registry's state; a child killed by a signal is reported as such; `--timeout` bounds
//! a step, also against a real registry address that accepts connections and never answers;
//! two runs at once against one registry share no temporary state.
//!
//! The doubles stall a chosen child (ORAS_DOUBLE_SLEEP, TAR_DOUBLE_SLEEP) and record the
//! signal that ended it; the stalled registry and the concurrent runs use real oras 1.3.

mod common;

use std::fs;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use common::doubles::{ARCHIVE, Doubles};
use common::live::{Live, descendants, send_signal};
use common::packpush::{Sandbox, fixture_pack, path_str};
use common::testbed::{self, PASSWORD, Registry, Testbed, USER};
use serde_json::Value;

/// The project of the pushes to a real registry.
const PROJECT: &str = "spectro-oci-registry";

// ---------------------------------------------------------------- processes

/// Whether `pid` still exists as a process that has not been reaped (zombies count as gone).
fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|at| stat[at + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

// ---------------------------------------------------------------- doubles

/// Where the stall happens.
#[derive(Clone, Copy, Debug)]
enum During {
    Tar,
    BasePush,
    PackPush,
}

impl During {
    fn stall(self) -> (&'static str, &'static str) {
        match self {
            During::Tar => ("TAR_DOUBLE_SLEEP", "30"),
            During::BasePush => ("ORAS_DOUBLE_SLEEP", "push-base:30"),
            During::PackPush => ("ORAS_DOUBLE_SLEEP", "push-pack:30"),
        }
    }

    fn call(self) -> &'static str {
        match self {
            During::Tar => "tar",
            During::BasePush => "push-base",
            During::PackPush => "push-pack",
        }
    }

    /// What the message must say about the registry.
    fn registry_state(self) -> &'static str {
        match self {
            During::Tar => "registry state: nothing was pushed",
            During::BasePush => {
                "registry state: the empty base-path artifact may or may not have been pushed"
            }
            During::PackPush => {
                "registry state: the base-path artifact is in the registry; the pack's tag may be missing or complete"
            }
        }
    }

    fn step(self) -> usize {
        match self {
            During::Tar => 2,
            During::BasePush => 3,
            During::PackPush => 4,
        }
    }
}

/// Who gets the signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum To {
    /// packpush alone (`kill PID`): it must stop the child itself.
    Packpush,
    /// packpush's process group, as a terminal's Ctrl-C does: packpush runs in a group of
    /// its own, and the child gets the signal too.
    Group,
}

fn file_time(path: &Path) -> SystemTime {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Interrupts a push while `during` stalls; checks the exit code, the message, that the
/// child got the signal and is gone, that TMPDIR is empty, and that the user's
/// `--output-dir` keeps its unrelated file and holds no partial archive.
fn interrupt(during: During, signal: i32, to: To) {
    let (key, value) = during.stall();
    let doubles = Doubles::with_env(&[(key, value)]);
    let out = doubles.home().join("my-archives");
    fs::create_dir(&out).expect("create the user's folder");
    let notes = out.join("notes.txt");
    fs::write(&notes, "the user's own file\n").expect("write the user's file");
    let notes_time = file_time(&notes);

    let out_arg = path_str(&out);
    let args = Doubles::push_args(&["--password-stdin", "--output-dir", &out_arg]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = doubles.sandbox.command(&args);
    if to == To::Group {
        command.process_group(0);
    }
    let mut live = Live::spawn(command, &Doubles::stdin());
    let call = doubles.wait_until_asleep(&mut live, during.call());
    let child = call.pid().expect("pid");
    let family = descendants(live.pid());
    assert!(
        family.contains(&child),
        "the stalled {} is not packpush's",
        during.call()
    );
    match to {
        To::Packpush => send_signal(live.pid(), signal),
        // With process_group(0), the group's id is packpush's pid.
        To::Group => send_signal(-live.pid(), signal),
    }
    let run = live.finish();
    let what = format!("{during:?}, signal {signal}, to {to:?}");

    assert_eq!(
        run.code,
        128 + signal,
        "{what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        run.stdout,
        run.stderr
    );
    let name = if signal == libc::SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    };
    let expected = format!("interrupted by {name} during step {}", during.step());
    assert!(
        run.stderr.contains(&expected),
        "{what}: no '{expected}' in:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(during.registry_state()),
        "{what}: no '{}' in:\n{}",
        during.registry_state(),
        run.stderr
    );
    assert!(!run.all().contains("None"), "{what}:\n{}", run.all());

    // The child got the signal and stopped; nothing packpush started is left running.
    let recorded = call.text("signal").unwrap_or_default();
    assert_eq!(
        recorded,
        &name[3..],
        "{what}: the stalled child recorded {recorded:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while family.iter().any(|&pid| alive(pid)) {
        assert!(
            Instant::now() < deadline,
            "{what}: still running: {:?}",
            family.iter().filter(|&&pid| alive(pid)).collect::<Vec<_>>()
        );
        thread::sleep(Duration::from_millis(10));
    }

    // Temporary files are gone; the user's folder keeps its file, and holds no partial
    // archive (after tar) or the complete one (after a push, as --output-dir promises).
    assert!(
        doubles.sandbox.leftovers().is_empty(),
        "{what}: {:?}",
        doubles.sandbox.leftovers()
    );
    assert_eq!(
        fs::read_to_string(&notes).expect("the user's file"),
        "the user's own file\n"
    );
    assert_eq!(
        file_time(&notes),
        notes_time,
        "{what}: the user's file was touched"
    );
    match during {
        During::Tar => assert_eq!(names_in(&out), ["notes.txt"], "{what}"),
        During::BasePush | During::PackPush => {
            assert_eq!(names_in(&out), [ARCHIVE, "notes.txt"], "{what}");
            let listed = Command::new("tar")
                .arg("-tzf")
                .arg(out.join(ARCHIVE))
                .output()
                .expect("run tar");
            assert!(
                listed.status.success(),
                "{what}: the kept archive is not whole"
            );
        }
    }
}

#[test]
fn sigint_during_tar() {
    interrupt(During::Tar, libc::SIGINT, To::Packpush);
}

#[test]
fn sigterm_during_tar() {
    interrupt(During::Tar, libc::SIGTERM, To::Packpush);
}

#[test]
fn sigint_during_base_push() {
    interrupt(During::BasePush, libc::SIGINT, To::Packpush);
}

#[test]
fn sigterm_during_base_push() {
    interrupt(During::BasePush, libc::SIGTERM, To::Packpush);
}

#[test]
fn sigint_during_pack_push() {
    interrupt(During::PackPush, libc::SIGINT, To::Packpush);
}

#[test]
fn sigterm_during_pack_push() {
    interrupt(During::PackPush, libc::SIGTERM, To::Packpush);
}

#[test]
fn ctrl_c_to_the_process_group_during_tar() {
    interrupt(During::Tar, libc::SIGINT, To::Group);
}

#[test]
fn sigterm_to_the_process_group_during_tar() {
    interrupt(During::Tar, libc::SIGTERM, To::Group);
}

#[test]
fn ctrl_c_to_the_process_group_during_base_push() {
    interrupt(During::BasePush, libc::SIGINT, To::Group);
}

#[test]
fn sigterm_to_the_process_group_during_base_push() {
    interrupt(During::BasePush, libc::SIGTERM, To::Group);
}

#[test]
fn ctrl_c_to_the_process_group_during_pack_push() {
    interrupt(During::PackPush, libc::SIGINT, To::Group);
}

#[test]
fn sigterm_to_the_process_group_during_pack_push() {
    interrupt(During::PackPush, libc::SIGTERM, To::Group);
}

// ------------------------------------------------------- children killed

#[test]
fn a_child_killed_by_a_signal_is_reported_as_such() {
    let doubles = Doubles::with_env(&[("ORAS_DOUBLE_SELF_KILL", "push-pack:9")]);
    let run = doubles.start(&["--output", "json"]).finish();
    run.assert_code(6);
    assert!(
        run.stderr.contains("killed by signal 9 (SIGKILL)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("step 4"), "{}", run.stderr);
    assert!(!run.all().contains("None"), "{}", run.all());

    let report: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(report["error"]["class"], "push", "{report}");
    let push = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["kind"] == "push_pack")
        .expect("the pack push step");
    assert_eq!(push["status"], "failed", "{push}");
    let killed = push["commands"]
        .as_array()
        .expect("commands")
        .last()
        .expect("the push command");
    assert_eq!(killed["signal"], 9, "{killed}");
    assert_eq!(killed["exit_code"], Value::Null, "{killed}");
}

// ---------------------------------------------------------------- timeouts

#[test]
fn timeout_stops_a_stalled_pack_push() {
    let doubles = Doubles::with_env(&[("ORAS_DOUBLE_SLEEP", "push-pack:30")]);
    // One try: this is about the time limit (tries after a time-out are tests/flaky_links.rs's).
    let (run, took) = doubles
        .start(&["--timeout", "1s", "--retries", "0"])
        .finish_timed();
    run.assert_code(6);
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(run.stderr.contains("--timeout"), "{}", run.stderr);
    assert!(run.stderr.contains("step 4"), "{}", run.stderr);
    assert!(run.stderr.contains("registry state: "), "{}", run.stderr);

    // The push was asked to stop (SIGTERM), and did.
    let stalled = doubles
        .calls()
        .into_iter()
        .find(|c| c.call == "push-pack")
        .expect("the pack push was recorded");
    assert_eq!(stalled.text("signal").unwrap_or_default(), "TERM");
    // Only the archive is left, kept because the push failed; the login's folder is gone.
    let left = doubles.sandbox.leftovers();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0]
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("packpush-archive-")),
        "{left:?}"
    );
    assert_eq!(names_in(&left[0]), [ARCHIVE]);
}

/// A loopback "registry" that accepts connections and never answers. Bounded: its thread
/// checks a flag every 10 ms; [`Stall::stop`] (or dropping it) ends the thread and closes
/// every connection.
struct Stall {
    port: u16,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Stall {
    fn start() -> Stall {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let stop = Arc::clone(&stop);
            let accepted = Arc::clone(&accepted);
            thread::spawn(move || {
                let mut held: Vec<TcpStream> = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            accepted.fetch_add(1, Ordering::SeqCst);
                            held.push(stream);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(10));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Stall {
            port,
            stop,
            accepted,
            thread: Some(thread),
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the server; returns how many connections it accepted.
    fn stop(mut self) -> usize {
        self.shut();
        self.accepted.load(Ordering::SeqCst)
    }

    fn shut(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the stall server's thread");
        }
    }
}

impl Drop for Stall {
    fn drop(&mut self) {
        self.shut();
    }
}

#[test]
fn timeout_stops_a_login_to_a_registry_that_never_answers() {
    let testbed = Testbed::get();
    let stall = Stall::start();
    let sandbox = Sandbox::new();
    let args: Vec<String> = [
        "push",
        &path_str(&fixture_pack("hello-world")),
        "--registry",
        &stall.addr(),
        "--project",
        PROJECT,
        "--username",
        USER,
        "--password-stdin",
        "--plain-http",
        "--allow-newer-oras",
        "--oras",
        &path_str(&testbed.oras_1_3),
        "--timeout",
        "2s",
        "--retries",
        "0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (run, took) = Live::start(&sandbox, &args, &format!("{PASSWORD}\n")).finish_timed();
    let accepted = stall.stop();
    run.assert_code(4);
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(took >= Duration::from_secs(2), "took only {took:?}");
    assert!(accepted >= 1, "oras never connected");
    assert!(run.stderr.contains("--timeout 2"), "{}", run.stderr);
    assert!(run.stderr.contains("step 1"), "{}", run.stderr);
    assert!(sandbox.leftovers().is_empty(), "{:?}", sandbox.leftovers());
    assert!(!sandbox.home().join(".docker").exists());
}

// ------------------------------------------------------------- concurrency

/// The `--registry-config` of a JSON report's login command.
fn login_config(report: &Value) -> PathBuf {
    let login = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["kind"] == "login")
        .expect("the login step");
    let argv: Vec<&str> = login["commands"][0]["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .map(|a| a.as_str().expect("a string"))
        .collect();
    let at = argv
        .iter()
        .position(|a| *a == "--registry-config")
        .expect("--registry-config");
    PathBuf::from(argv[at + 1])
}

#[test]
fn two_runs_at_once_share_no_temporary_state() {
    let testbed = Testbed::get();
    let registry = Registry::start(false);
    // One HOME and one TMPDIR for both: what they must not share is packpush's own.
    let sandbox = Sandbox::new();
    let start = |pack: &str| {
        let args: Vec<String> = [
            "push",
            &path_str(&fixture_pack(pack)),
            "--registry",
            &registry.addr(),
            "--project",
            PROJECT,
            "--username",
            USER,
            "--password-stdin",
            "--plain-http",
            "--allow-newer-oras",
            "--oras",
            &path_str(&testbed.oras_1_3),
            "--output",
            "json",
            "--verbose",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Live::start(&sandbox, &args, &format!("{PASSWORD}\n"))
    };
    let first = start("hello-world");
    let second = start("sample-monitoring");
    let first = first.finish();
    let second = second.finish();
    first.assert_code(0);
    second.assert_code(0);

    let reports: Vec<Value> = [&first, &second]
        .iter()
        .map(|run| serde_json::from_str(&run.stdout).expect("one JSON document"))
        .collect();
    let configs: Vec<PathBuf> = reports.iter().map(login_config).collect();
    let folders: Vec<&Path> = configs
        .iter()
        .map(|c| c.parent().expect("the login's folder"))
        .collect();
    assert_ne!(
        folders[0],
        folders[1],
        "both runs used {}",
        folders[0].display()
    );
    let archives: Vec<&Path> = reports
        .iter()
        .map(|r| {
            Path::new(r["packs"][0]["archive"].as_str().expect("archive"))
                .parent()
                .expect("the archive's folder")
        })
        .collect();
    assert_ne!(archives[0], archives[1]);
    let tmp = sandbox.home().join("tmp");
    for folder in folders.iter().chain(&archives) {
        assert!(
            folder.starts_with(&tmp),
            "{} is not in TMPDIR",
            folder.display()
        );
    }
    assert!(sandbox.leftovers().is_empty(), "{:?}", sandbox.leftovers());

    for (pack, version) in [("hello-world", "1.0.0"), ("sample-monitoring", "0.2.1")] {
        let repo = format!("{PROJECT}/spectro-packs/archive/{pack}");
        let tags = testbed::list_tags(&registry, &repo).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tags, [version], "{repo}");
    }
}
