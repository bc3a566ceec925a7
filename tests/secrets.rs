//! The password is never leaked: not in any child's argv or environment, not in anything
//! packpush prints in any mode or on any error path, and not in any file left behind. The
//! default login file is private (mode 0600 in a 0700 folder under TMPDIR) and goes away on
//! success, on failure and on SIGINT/SIGTERM; `~/.docker` is never created; with
//! `--registry-config FILE`, that file alone holds the credential.
//!
//! A fresh canary password is used per test. The doubles pause every child (ORAS_DOUBLE_SLEEP,
//! TAR_DOUBLE_SLEEP); while one pauses, the test reads `/proc/PID/cmdline` and
//! `/proc/PID/environ` of that child and of every descendant of packpush, then ends the pause
//! by killing the double's `sleep`. One test runs real oras 1.3 against a real registry, whose
//! password is fixed, and samples `/proc` while the run lasts.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use common::calls::{calls, sleepers, view_reads_last, wait_until_asleep};
use common::doubles::{self, ONE_PACK_CALLS, push_args};
use common::live::{Live, RUN_LIMIT, descendants, parents, send_signal, try_signal};
use common::packpush::{Run, Sandbox, fixture_pack, path_str};
use common::testbed::{PASSWORD, Registry, Testbed, USER};
use sha2::{Digest, Sha256};

const REGISTRY: &str = "127.0.0.1:5000";
/// How long a stalled double would sleep if nobody ended its pause.
const STALL: &str = "30";

// ------------------------------------------------------------------ secrets

/// A password and the forms it must never take anywhere: itself, and the base64 that a
/// credentials file holds (`user:password`, and the password alone).
struct Secret {
    password: String,
    forms: Vec<(&'static str, String)>,
}

impl Secret {
    fn new(password: &str) -> Secret {
        Secret {
            password: password.to_owned(),
            forms: vec![
                ("the password", password.to_owned()),
                (
                    "base64 of user:password",
                    base64(format!("{USER}:{password}").as_bytes()),
                ),
                ("base64 of the password", base64(password.as_bytes())),
            ],
        }
    }

    /// A password no other test or run uses: `canary-Pa55-<random hex>`.
    fn canary() -> Secret {
        let seed = format!(
            "{:?} {} {:?}",
            SystemTime::now(),
            std::process::id(),
            thread::current().id()
        );
        let hex = format!("{:x}", Sha256::digest(seed.as_bytes()));
        Secret::new(&format!("canary-Pa55-{}", &hex[..16]))
    }

    /// The credential the login writes into a registry config: base64 of `user:password`.
    fn credential(&self) -> &str {
        &self.forms[1].1
    }

    /// Which forms of the secret `bytes` hold.
    fn found_in(&self, bytes: &[u8]) -> Vec<&'static str> {
        self.forms
            .iter()
            .filter(|(_, form)| contains(bytes, form.as_bytes()))
            .map(|(label, _)| *label)
            .collect()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Standard base64 with padding, as `base64 -w0` and Go's encoder write it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Files under `root` whose name or content holds a form of the secret, except `allowed`.
fn files_holding(root: &Path, secret: &Secret, allowed: Option<&Path>) -> Vec<String> {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if Some(path) == allowed {
            continue;
        }
        let mut forms = secret.found_in(path.as_os_str().as_encoded_bytes());
        if entry.file_type().is_file() {
            let bytes = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            forms.extend(secret.found_in(&bytes));
        }
        if !forms.is_empty() {
            found.push(format!("{}: {}", path.display(), forms.join(", ")));
        }
    }
    found
}

/// Asserts that a finished run printed no form of the secret and left none in the sandbox
/// (but in `allowed`), and that `~/.docker` does not exist.
#[track_caller]
fn assert_nothing_leaked(what: &str, run: &Run, sandbox: &Sandbox, secret: &Secret) {
    let printed = secret.found_in(run.all().as_bytes());
    assert!(
        printed.is_empty(),
        "{what}: the output holds {printed:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        run.stdout,
        run.stderr
    );
    let files = files_holding(sandbox.home(), secret, None);
    assert!(
        files.is_empty(),
        "{what}: files hold the secret: {files:#?}"
    );
    assert_no_docker_dir(what, sandbox);
}

#[track_caller]
fn assert_no_docker_dir(what: &str, sandbox: &Sandbox) {
    let docker = sandbox.home().join(".docker");
    assert!(!docker.exists(), "{what}: {} was created", docker.display());
}

// ---------------------------------------------------------------- processes

fn proc_file(pid: i32, name: &str) -> Option<Vec<u8>> {
    fs::read(format!("/proc/{pid}/{name}")).ok()
}

/// Problems with the secret in `/proc` of packpush and of all its descendants.
/// `own_environ_may_hold_it`: packpush's own environment may carry HARBOR_PASSWORD (the
/// user put it there); its children's must not. A child caught between fork and exec still
/// runs packpush's program with packpush's environment (exec replaces it): it counts as
/// packpush.
fn process_leaks(packpush: i32, secret: &Secret, own_environ_may_hold_it: bool) -> Vec<String> {
    let exe = |pid: i32| fs::read_link(format!("/proc/{pid}/exe")).ok();
    let own_exe = exe(packpush);
    let mut problems = Vec::new();
    let mut check = |pid: i32, name: &str, who: &str| {
        if let Some(bytes) = proc_file(pid, name) {
            let forms = secret.found_in(&bytes);
            if !forms.is_empty() {
                let text = String::from_utf8_lossy(&bytes).replace('\0', " ");
                problems.push(format!(
                    "{who} {pid}: /proc/{pid}/{name} holds {forms:?}: {text}"
                ));
            }
        }
    };
    let mut processes = vec![(packpush, "packpush")];
    for pid in descendants(packpush) {
        let forked = own_exe.is_some() && exe(pid) == own_exe;
        processes.push((pid, if forked { "packpush (forked)" } else { "child" }));
    }
    for (pid, who) in processes {
        check(pid, "cmdline", who);
        if who == "child" || !own_environ_may_hold_it {
            check(pid, "environ", who);
        }
    }
    problems
}

// ------------------------------------------------------------- a live run

// ---------------------------------------------------------------- doubles

/// How packpush gets the password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// `--password-stdin`.
    Stdin,
    /// `HARBOR_PASSWORD` in packpush's environment.
    Env,
}

/// A sandbox whose runs use the doubles; the call log and the fake registry live in its
/// HOME (outside TMPDIR), so they are scanned too.
fn doubles_sandbox(source: Source, secret: &Secret, env: &[(&str, &str)]) -> Sandbox {
    let mut sandbox = doubles::doubles_sandbox(&[]);
    if source == Source::Env {
        sandbox.env("HARBOR_PASSWORD", &secret.password);
    }
    for (key, value) in env {
        sandbox.env(key, value);
    }
    sandbox
}

/// `packpush push hello-world` through the doubles, plus `extra`; and its stdin.
fn doubles_push(
    source: Source,
    secret: &Secret,
    registry: &str,
    extra: &[&str],
) -> (Vec<String>, String) {
    let mut args = push_args(&[fixture_pack("hello-world")], registry, "proj", extra);
    match source {
        Source::Stdin => {
            args.push("--password-stdin".into());
            (args, format!("{}\n", secret.password))
        }
        Source::Env => (args, String::new()),
    }
}

/// Every recorded call saw no HARBOR_PASSWORD and no secret in its argv.
#[track_caller]
fn assert_calls_clean(what: &str, sandbox: &Sandbox, secret: &Secret) {
    for call in calls(sandbox) {
        assert_eq!(
            call.env_has_harbor_password,
            "no",
            "{what}: {} had HARBOR_PASSWORD in its environment",
            call.dir.display()
        );
        let forms = secret.found_in(&call.file("argv"));
        assert!(forms.is_empty(), "{what}: {:?} has {forms:?}", call.argv);
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// The default registry config a login call was given: mode 0600, in a folder of its own
/// directly under the sandbox's TMPDIR that nobody else can write to. (That the folder is
/// 0700 is asserted by `the_login_folder_is_private`.)
#[track_caller]
fn assert_private_config(sandbox: &Sandbox, config: &Path) {
    assert_eq!(mode(config), 0o600, "mode of {}", config.display());
    let folder = config.parent().expect("the config's folder");
    assert_eq!(
        mode(folder) & 0o022,
        0,
        "{} is writable by others",
        folder.display()
    );
    let tmp = sandbox
        .home()
        .join("tmp")
        .canonicalize()
        .expect("sandbox tmp");
    assert_eq!(
        folder
            .parent()
            .map(|p| p.canonicalize().expect("canonical")),
        Some(tmp),
        "{} is not directly under the sandbox's TMPDIR",
        folder.display()
    );
}

/// Ends a double's pause: kills its `sleep` (the double's only child while it pauses).
fn end_pause(double: i32) {
    // The double may still be starting its `sleep` (or running a short-lived
    // helper): kill the `sleep` child once it is there.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sleeps: Vec<i32> = parents()
            .into_iter()
            .filter(|&(pid, ppid)| {
                ppid == double
                    && fs::read_to_string(format!("/proc/{pid}/comm"))
                        .is_ok_and(|c| c.trim() == "sleep")
            })
            .map(|(pid, _)| pid)
            .collect();
        if sleeps.into_iter().any(|pid| try_signal(pid, libc::SIGKILL)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the paused double {double} has no sleep"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// What was seen during one pause.
struct Paused {
    call: String,
    /// Processes whose /proc was read (packpush and its descendants).
    processes: usize,
}

/// Lets a run whose children all pause go through, checking `/proc` at every pause (and the
/// registry config from the first pause after the login on). Returns the pauses in order.
fn walk_pauses(live: &mut Live, sandbox: &Sandbox, secret: &Secret, source: Source) -> Vec<Paused> {
    let deadline = Instant::now() + RUN_LIMIT;
    let mut done: BTreeSet<PathBuf> = BTreeSet::new();
    let mut paused = Vec::new();
    let mut config: Option<PathBuf> = None;
    loop {
        assert_no_docker_dir("during the run", sandbox);
        for call in sleepers(sandbox) {
            if done.contains(&call.dir) {
                continue;
            }
            let pid = call.pid().expect("a pid");
            let name = call.call.clone();
            let family = descendants(live.pid());
            assert!(
                family.contains(&pid),
                "the paused {name} ({pid}) is not a descendant of packpush"
            );
            // The paused child's /proc is there to be read.
            for file in ["cmdline", "environ"] {
                assert!(
                    proc_file(pid, file).is_some_and(|b| !b.is_empty()),
                    "cannot read /proc/{pid}/{file} of the paused {name}"
                );
            }
            let problems = process_leaks(live.pid(), secret, source == Source::Env);
            assert!(problems.is_empty(), "while {name} paused: {problems:#?}");

            // The login's file: private from the start; the credential in it once logged in.
            if name == "login" {
                let path =
                    PathBuf::from(call.flag("--registry-config").expect("--registry-config"));
                assert_private_config(sandbox, &path);
                config = Some(path);
            } else if let Some(path) = &config {
                assert_private_config(sandbox, path);
                let held = fs::read_to_string(path).expect("the registry config");
                assert!(
                    held.contains(secret.credential()),
                    "while {name} paused, the login's file holds no credential: {held}"
                );
            }
            paused.push(Paused {
                call: name,
                processes: family.len() + 1,
            });
            done.insert(call.dir.clone());
            end_pause(pid);
        }
        if live.exited() {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not end");
        thread::sleep(Duration::from_millis(5));
    }
    if let Some(path) = &config {
        assert!(!path.exists(), "{} is left behind", path.display());
        assert!(
            !path.parent().expect("folder").exists(),
            "the private folder of {} is left behind",
            path.display()
        );
    }
    paused
}

const ALL_STALL: &[(&str, &str)] = &[
    (
        "ORAS_DOUBLE_SLEEP",
        "login:30,push-base:30,push-pack:30,fetch:30,tags:30",
    ),
    ("TAR_DOUBLE_SLEEP", STALL),
];

fn paused_push_leaks_nothing(source: Source) {
    let secret = Secret::canary();
    let sandbox = doubles_sandbox(source, &secret, ALL_STALL);
    let (args, stdin) = doubles_push(source, &secret, REGISTRY, &[]);
    let mut live = Live::start(&sandbox, &args, &stdin);
    let paused = walk_pauses(&mut live, &sandbox, &secret, source);
    let run = live.finish();
    run.assert_code(0);

    // Every child paused and was looked at: the look-up and both read-backs are fetches;
    // the read of the repository's tags runs beside the read-backs, so it is taken last.
    let order = view_reads_last(paused.iter().map(|p| p.call.as_str()).collect(), |call| {
        *call == "tags"
    });
    assert_eq!(order, ONE_PACK_CALLS, "{source:?}");
    assert!(paused.iter().all(|p| p.processes >= 2));
    assert_calls_clean("paused push", &sandbox, &secret);
    assert_nothing_leaked("paused push", &run, &sandbox, &secret);
    assert!(sandbox.leftovers().is_empty(), "{:?}", sandbox.leftovers());
}

#[test]
fn no_child_sees_the_password_from_stdin() {
    paused_push_leaks_nothing(Source::Stdin);
}

#[test]
fn no_child_sees_the_password_from_harbor_password() {
    paused_push_leaks_nothing(Source::Env);
}

/// A run that ends otherwise than by success, or in another mode.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    registry: &'static str,
    code: i32,
}

const fn case(name: &'static str, args: &'static [&'static str], code: i32) -> Case {
    Case {
        name,
        args,
        env: &[],
        registry: REGISTRY,
        code,
    }
}

const fn failing(
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    code: i32,
) -> Case {
    Case {
        name,
        args: &[],
        env,
        registry: REGISTRY,
        code,
    }
}

const MODES: &[Case] = &[
    case("default", &[], 0),
    case("--verbose", &["--verbose"], 0),
    case("--quiet", &["--quiet"], 0),
    case("--output json", &["--output", "json"], 0),
    case(
        "--output json --verbose",
        &["--output", "json", "--verbose"],
        0,
    ),
    case("--dry-run", &["--dry-run"], 0),
    case("--dry-run --verbose", &["--dry-run", "--verbose"], 0),
    case(
        "--dry-run --output json",
        &["--dry-run", "--output", "json"],
        0,
    ),
];

const FAILURES: &[Case] = &[
    failing("login fails", &[("ORAS_DOUBLE_FAIL", "login")], 4),
    failing("tar fails", &[("TAR_DOUBLE_FAIL", "1")], 5),
    failing("base push fails", &[("ORAS_DOUBLE_FAIL", "push-base")], 6),
    failing("pack push fails", &[("ORAS_DOUBLE_FAIL", "push-pack")], 6),
    failing(
        "pack push killed",
        &[("ORAS_DOUBLE_SELF_KILL", "push-pack:9")],
        6,
    ),
    failing("read-back fails", &[("ORAS_DOUBLE_FAIL", "fetch")], 7),
    failing("wrong manifest shape", &[("ORAS_DOUBLE_SHAPE", "newer")], 7),
    Case {
        name: "preflight: registry with a scheme",
        args: &[],
        env: &[],
        registry: "https://127.0.0.1:5000/v2",
        code: 3,
    },
];

fn run_case(case: &Case, extra: &[&str], source: Source) {
    let secret = Secret::canary();
    let sandbox = doubles_sandbox(source, &secret, case.env);
    let mut all: Vec<&str> = case.args.to_vec();
    all.extend_from_slice(extra);
    let (args, stdin) = doubles_push(source, &secret, case.registry, &all);
    let run = Live::start(&sandbox, &args, &stdin).finish();
    let what = format!("{} {} ({source:?})", case.name, extra.join(" "));
    assert_eq!(
        run.code, case.code,
        "{what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        run.stdout, run.stderr
    );
    assert_calls_clean(&what, &sandbox, &secret);
    assert_nothing_leaked(&what, &run, &sandbox, &secret);
    // The login's file and its private folder are gone (an archive kept after a failed
    // push may stay).
    for call in calls(&sandbox) {
        if call.call == "login"
            && let Some(config) = call.flag("--registry-config")
        {
            assert!(
                !Path::new(config).exists(),
                "{what}: {config} is left behind"
            );
        }
    }
    let work_dirs: Vec<PathBuf> = sandbox
        .leftovers()
        .into_iter()
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("packpush-archive-"))
        })
        .collect();
    assert!(work_dirs.is_empty(), "{what}: left behind {work_dirs:?}");
}

/// Runs `work` for every item on a few threads at once.
fn in_parallel<T: Sync>(items: &[T], work: impl Fn(&T) + Sync) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let at = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(item) = items.get(at) else { break };
                    work(item);
                }
            });
        }
    });
}

#[test]
fn no_output_mode_prints_the_password() {
    let runs: Vec<(&Case, Source)> = MODES
        .iter()
        .flat_map(|c| [(c, Source::Stdin), (c, Source::Env)])
        .collect();
    in_parallel(&runs, |(case, source)| run_case(case, &[], *source));
}

#[test]
fn no_error_path_prints_the_password() {
    let runs: Vec<(&Case, &[&str], Source)> = FAILURES
        .iter()
        .flat_map(|c| {
            let plain: &[&str] = &[];
            let loud: &[&str] = &["--verbose", "--output", "json"];
            [
                (c, plain, Source::Stdin),
                (c, loud, Source::Stdin),
                (c, plain, Source::Env),
                (c, loud, Source::Env),
            ]
        })
        .collect();
    in_parallel(&runs, |(case, extra, source)| {
        run_case(case, extra, *source)
    });
}

/// SIGINT or SIGTERM while tar pauses, after the login wrote the credential.
fn interrupted_after_login(signal: i32) {
    let secret = Secret::canary();
    let sandbox = doubles_sandbox(Source::Stdin, &secret, &[("TAR_DOUBLE_SLEEP", STALL)]);
    let (args, stdin) = doubles_push(Source::Stdin, &secret, REGISTRY, &["--verbose"]);
    let mut live = Live::start(&sandbox, &args, &stdin);
    let tar = wait_until_asleep(&mut live, &sandbox, "tar");
    let login = calls(&sandbox)
        .into_iter()
        .find(|c| c.call == "login")
        .expect("the login ran before tar");
    let config = PathBuf::from(login.flag("--registry-config").expect("--registry-config"));
    assert_private_config(&sandbox, &config);
    assert!(
        fs::read_to_string(&config)
            .expect("config")
            .contains(secret.credential())
    );
    let problems = process_leaks(live.pid(), &secret, false);
    assert!(problems.is_empty(), "{problems:#?}");
    send_signal(live.pid(), signal);
    let run = live.finish();
    run.assert_code(128 + signal);
    assert_eq!(
        tar.text("signal").unwrap_or_default(),
        if signal == libc::SIGINT {
            "INT"
        } else {
            "TERM"
        }
    );
    assert!(!config.exists(), "{} is left behind", config.display());
    assert!(sandbox.leftovers().is_empty(), "{:?}", sandbox.leftovers());
    assert_nothing_leaked("interrupted", &run, &sandbox, &secret);
}

#[test]
fn sigint_removes_the_login_file() {
    interrupted_after_login(libc::SIGINT);
}

#[test]
fn sigterm_removes_the_login_file() {
    interrupted_after_login(libc::SIGTERM);
}

/// The folder that holds the default login (and the exported manifests) is private: mode
/// 0700, whatever the umask.
#[test]
fn the_login_folder_is_private() {
    let secret = Secret::canary();
    let sandbox = doubles_sandbox(Source::Stdin, &secret, &[("ORAS_DOUBLE_SLEEP", "login:30")]);
    let (args, stdin) = doubles_push(Source::Stdin, &secret, REGISTRY, &[]);
    let mut live = Live::start(&sandbox, &args, &stdin);
    let login = wait_until_asleep(&mut live, &sandbox, "login");
    let config = PathBuf::from(login.flag("--registry-config").expect("--registry-config"));
    let folder = config.parent().expect("folder").to_owned();
    let folder_mode = mode(&folder);
    end_pause(login.pid().expect("pid"));
    live.finish().assert_code(0);
    assert_eq!(
        folder_mode,
        0o700,
        "mode of {} is {folder_mode:o}",
        folder.display()
    );
}

#[test]
fn a_given_registry_config_alone_holds_the_credential() {
    for source in [Source::Stdin, Source::Env] {
        let secret = Secret::canary();
        let sandbox = doubles_sandbox(source, &secret, &[]);
        let config = sandbox.home().join("my-oras").join("config.json");
        fs::create_dir(config.parent().expect("folder")).expect("create the config's folder");
        let config_arg = path_str(&config);
        let (args, stdin) = doubles_push(
            source,
            &secret,
            REGISTRY,
            &["--verbose", "--registry-config", &config_arg],
        );
        let run = Live::start(&sandbox, &args, &stdin).finish();
        run.assert_code(0);
        // Every oras call used that file.
        for call in calls(&sandbox) {
            if call.program == "oras" && !call.is_probe() {
                assert_eq!(
                    call.flag("--registry-config"),
                    Some(config_arg.as_str()),
                    "{:?}",
                    call.argv
                );
            }
        }
        let held = fs::read_to_string(&config).expect("the given registry config is kept");
        assert!(held.contains(secret.credential()), "{source:?}: {held}");
        let files = files_holding(sandbox.home(), &secret, Some(&config));
        assert!(files.is_empty(), "{source:?}: {files:#?}");
        assert!(
            secret.found_in(run.all().as_bytes()).is_empty(),
            "{}",
            run.all()
        );
        assert_calls_clean("--registry-config", &sandbox, &secret);
        assert_no_docker_dir("--registry-config", &sandbox);
        assert!(sandbox.leftovers().is_empty(), "{:?}", sandbox.leftovers());
    }
}

/// Real oras 1.3 against the real registry, whose password is fixed: it appears in no
/// output, no file of the sandbox, and no `/proc` of packpush's descendants sampled while
/// the run lasts; `~/.docker` never appears.
#[test]
fn real_oras_leaves_the_password_nowhere() {
    let testbed = Testbed::get();
    let registry = Registry::start(false);
    let secret = Secret::new(PASSWORD);
    let mut sandbox = Sandbox::new();
    let mut sampled = BTreeSet::new();
    for (source, extra) in [
        (Source::Stdin, vec!["--verbose"]),
        (Source::Env, vec!["--verbose", "--output", "json"]),
    ] {
        if source == Source::Env {
            sandbox.env("HARBOR_PASSWORD", PASSWORD);
        }
        let mut args: Vec<String> = vec![
            "push".into(),
            path_str(&fixture_pack("hello-world")),
            "--registry".into(),
            registry.addr(),
            "--project".into(),
            "spectro-oci-registry".into(),
            "--username".into(),
            USER.into(),
            "--plain-http".into(),
            "--allow-newer-oras".into(),
            "--oras".into(),
            path_str(&testbed.oras_1_3),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let stdin = if source == Source::Stdin {
            args.push("--password-stdin".into());
            format!("{PASSWORD}\n")
        } else {
            String::new()
        };
        let mut live = Live::start(&sandbox, &args, &stdin);
        loop {
            assert_no_docker_dir("during the run", &sandbox);
            for pid in descendants(live.pid()) {
                sampled.insert(pid);
            }
            let problems = process_leaks(live.pid(), &secret, source == Source::Env);
            assert!(problems.is_empty(), "{problems:#?}");
            if live.exited() {
                break;
            }
            thread::sleep(Duration::from_millis(2));
        }
        let run = live.finish();
        run.assert_code(0);
        assert_nothing_leaked(&format!("real oras {extra:?}"), &run, &sandbox, &secret);
        assert!(sandbox.leftovers().is_empty(), "{:?}", sandbox.leftovers());
    }
    // The sampling saw the children (several oras calls per run).
    assert!(
        sampled.len() >= 4,
        "only {} children sampled",
        sampled.len()
    );
}

#[test]
fn base64_matches_the_encoders_of_oras_and_coreutils() {
    assert_eq!(base64(b"admin:Harbor12345"), "YWRtaW46SGFyYm9yMTIzNDU=");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"abc"), "YWJj");
    let out = Command::new("base64")
        .arg("-w0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"admin:canary-Pa55-0123abcd")?;
            child.wait_with_output()
        })
        .expect("run base64");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        base64(b"admin:canary-Pa55-0123abcd")
    );
}
