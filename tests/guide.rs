//! `packpush guide` driven as a person would: the built binary runs in a real
//! pseudo-terminal of 80x24, answers are typed at its prompts (keys, arrows,
//! Ctrl-C), and what it printed is read back, as a byte stream and as the
//! screen a terminal shows. Pushes go through real oras 1.3 to a real
//! registry, and skopeo reads the result back.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fs_snapshot::Snapshot;
use common::packpush::{Sandbox, fixture_pack};
use common::pty;
use common::testbed::{self, PASSWORD, Registry, Testbed, USER};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, SlavePty, native_pty_system};

const PROJECT: &str = "spectro-oci-registry";
const COLS: u16 = 80;
const ROWS: u16 = 24;
const UP: &str = "\x1b[A";
const DOWN: &str = "\x1b[B";
const CTRL_C: &str = "\x03";

/// One program running in its own pseudo-terminal, with everything it
/// printed kept.
struct Pty {
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    /// Kept open so that more programs can run on the same terminal afterwards.
    slave: Box<dyn SlavePty + Send>,
    writer: Box<dyn Write + Send>,
    output: Arc<Mutex<Vec<u8>>>,
    env: Vec<(String, String)>,
    /// How much of the whitespace-normalised text `expect` has consumed.
    seen: usize,
}

impl Pty {
    /// Runs packpush with `args` in `cwd`: a hermetic environment (the
    /// sandbox's HOME, TMPDIR and variables, a basic PATH) and TERM=xterm-256color.
    fn spawn(sandbox: &Sandbox, cwd: &Path, args: &[&str]) -> Pty {
        let program = env!("CARGO_BIN_EXE_packpush");
        let mut argv = vec![program.to_string()];
        argv.extend(args.iter().map(|a| a.to_string()));
        Pty::spawn_argv(sandbox, cwd, &argv)
    }

    fn spawn_argv(sandbox: &Sandbox, cwd: &Path, argv: &[String]) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pseudo-terminal");
        let tmp = sandbox.home().join("tmp");
        std::fs::create_dir_all(&tmp).expect("sandbox tmp");
        let mut env: Vec<(String, String)> = vec![
            ("HOME".into(), sandbox.home().to_string_lossy().into_owned()),
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("TMPDIR".into(), tmp.to_string_lossy().into_owned()),
            ("TERM".into(), "xterm-256color".into()),
        ];
        env.extend(sandbox.envs.iter().cloned());
        let output = pty::gather(pair.master.try_clone_reader().expect("pty reader"));
        let child = start(pair.slave.as_ref(), &env, cwd, argv);
        Pty {
            child,
            writer: pair.master.take_writer().expect("pty writer"),
            _master: pair.master,
            slave: pair.slave,
            output,
            env,
            seen: 0,
        }
    }

    /// Types `keys` (written as a terminal would send them).
    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("type");
        self.writer.flush().expect("flush");
        // Let the prompt read one key press before the next arrives.
        std::thread::sleep(Duration::from_millis(60));
    }

    /// Types a line and Enter. It waits a moment first: a password prompt
    /// discards what was typed before it set the terminal up (TCSAFLUSH).
    fn answer(&mut self, text: &str) {
        std::thread::sleep(Duration::from_millis(100));
        self.send(text);
        self.send("\r");
    }

    fn raw(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// What was printed, without escape codes, white space runs made one space
    /// (so a wrapped line still matches).
    fn text(&self) -> String {
        normalise(&console::strip_ansi_codes(&self.raw()))
    }

    /// Waits until `needle` appears after what earlier calls consumed;
    /// returns the text before it.
    #[track_caller]
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.text();
            if let Some(at) = text.get(self.seen..).and_then(|t| t.find(needle)) {
                let before = text[self.seen..self.seen + at].to_string();
                self.seen += at + needle.len();
                return before;
            }
            if Instant::now() > deadline {
                panic!(
                    "'{needle}' did not appear within 30 s; the screen:\n{}\n--- all output ---\n{}",
                    self.screen(),
                    console::strip_ansi_codes(&self.raw())
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the program to end; returns its exit code (it must not die by a signal).
    #[track_caller]
    fn exit_code(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // What it wrote last reaches the reader thread a moment later.
                std::thread::sleep(Duration::from_millis(200));
                assert_eq!(
                    status.signal(),
                    None,
                    "died by a signal; output:\n{}",
                    self.text()
                );
                return status.exit_code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("still running after 60 s; the screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The 80x24 screen a terminal would show now.
    fn screen(&self) -> String {
        let mut parser = vt100::Parser::new(
            ROWS.try_into().expect("rows"),
            COLS.try_into().expect("columns"),
            0,
        );
        parser.process(&self.output.lock().unwrap());
        parser.screen().contents()
    }

    /// The terminal echoes and reads lines again, as before packpush ran.
    #[track_caller]
    fn assert_terminal_restored(&mut self, cwd: &Path) {
        let settings = self.stty(cwd);
        assert!(
            settings.iter().any(|s| s == "echo") && settings.iter().any(|s| s == "icanon"),
            "the terminal was left as {settings:?}"
        );
    }

    /// The terminal's settings, as `stty -a` run on it after packpush prints them.
    fn stty(&mut self, cwd: &Path) -> Vec<String> {
        let mut stty = start(
            self.slave.as_ref(),
            &self.env,
            cwd,
            &["stty".to_string(), "-a".to_string()],
        );
        stty.wait().expect("stty");
        self.expect("speed");
        let rest = self.expect("-extproc");
        rest.split_whitespace().map(str::to_string).collect()
    }
}

/// Starts `argv` on the terminal whose slave side is `slave`.
fn start(
    slave: &dyn SlavePty,
    env: &[(String, String)],
    cwd: &Path,
    argv: &[String],
) -> Box<dyn Child + Send + Sync> {
    let mut command = CommandBuilder::new(&argv[0]);
    command.args(&argv[1..]);
    command.env_clear();
    for (key, value) in env {
        command.env(key, value);
    }
    command.cwd(cwd);
    slave.spawn_command(command).expect("start in the pty")
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every line the guide printed fits 80 columns (escape codes aside; a
/// carriage return starts the line again).
#[track_caller]
fn assert_fits_80_columns(raw: &str) {
    for line in raw.split('\n') {
        for part in line.split('\r') {
            let width = console::measure_text_width(part);
            assert!(
                width <= usize::from(COLS),
                "a line of {width} columns:\n{}\n--- all output ---\n{}",
                console::strip_ansi_codes(part),
                console::strip_ansi_codes(raw)
            );
        }
    }
}

/// A colour or text attribute (SGR: ESC [ ... m).
fn has_sgr(raw: &str) -> bool {
    regex::Regex::new(r"\x1b\[[0-9;]*m").unwrap().is_match(raw)
}

fn oras() -> String {
    Testbed::get().oras_1_3.to_string_lossy().into_owned()
}

fn packs_dir() -> PathBuf {
    fixture_pack("hello-world").parent().unwrap().to_path_buf()
}

fn pack_repo(name: &str) -> String {
    format!("{PROJECT}/spectro-packs/archive/{name}")
}

/// The guide with every value given but the password.
fn guide_args<'a>(registry: &'a str, oras: &'a str) -> Vec<&'a str> {
    vec![
        "guide",
        "hello-world",
        "--registry",
        registry,
        "--project",
        PROJECT,
        "--username",
        USER,
        "--plain-http",
        "--oras",
        oras,
        "--allow-newer-oras",
    ]
}

#[test]
fn a_guided_push_asks_shows_the_plan_runs_and_ends_with_palette_values() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let cwd = packs_dir();
    let before = Snapshot::take(&cwd);
    let oras = oras();
    let addr = registry.addr();
    let mut pty = Pty::spawn(
        &sandbox,
        &cwd,
        &["guide", "--oras", &oras, "--allow-newer-oras"],
    );

    pty.expect("Registry host");
    pty.answer(&format!("https://{addr}/"));
    // The pasted URL is corrected, and the person told why.
    pty.expect(&format!(
        "Using {addr}: oras takes the registry's host (and port) alone, so 'https://' and the trailing '/' are dropped."
    ));
    pty.expect("How is the registry reached?");
    pty.expect("HTTPS (a trusted certificate)");
    pty.send(UP);
    pty.send(UP);
    pty.send(UP);
    pty.send("\r");
    pty.expect("plain HTTP (no TLS)");
    pty.expect("Harbor project");
    pty.answer(PROJECT);
    // Both fixture packs are offered, read from their pack.json.
    pty.expect("Pack folder");
    pty.expect("hello-world (hello-world 1.0.0)");
    pty.expect("sample-monitoring (sample-monitoring 0.2.1)");
    pty.send(DOWN);
    pty.send("\r");
    pty.expect("User name");
    pty.answer(USER);
    pty.expect(&format!("Password for {USER} at {addr}"));
    pty.answer(PASSWORD);

    let plan = pty.expect("Run these steps now?");
    assert!(
        plan.contains("Pack sample-monitoring 0.2.1 from sample-monitoring/pack.json"),
        "{plan}"
    );
    let squeezed: String = plan.split_whitespace().collect();
    assert!(
        squeezed.contains(&format!(
            "Target{addr}/{PROJECT}/spectro-packs/archive/sample-monitoring:0.2.1"
        )),
        "{plan}"
    );
    for command in [
        format!("oras login {addr} --username {USER} --password-stdin --plain-http"),
        "tar -czvf".to_string(),
        "sample-monitoring-0.2.1.tar.gz sample-monitoring".to_string(),
        format!("oras push {addr}/{PROJECT}/spectro-packs/archive --plain-http"),
    ] {
        assert!(
            plan.contains(&command),
            "'{command}' not in the plan:\n{plan}"
        );
    }
    assert!(
        squeezed.contains(&format!(
            "oraspush{addr}/{PROJECT}/spectro-packs/archive/sample-monitoring:0.2.1sample-monitoring-0.2.1.tar.gz"
        )),
        "{plan}"
    );
    pty.send("y");
    pty.send("\r");

    pty.expect("is in the registry, read back and verified");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    let text = pty.text();
    for step in [
        format!("✔ [1/5] Log in to {addr} as {USER}"),
        "✔ [2/5] Archive sample-monitoring-0.2.1.tar.gz".to_string(),
        format!("✔ [3/5] Create the base path {PROJECT}/spectro-packs/archive"),
        "✔ [4/5] Push sample-monitoring:0.2.1".to_string(),
        "✔ [5/5] Verify sample-monitoring:0.2.1 in the registry".to_string(),
    ] {
        assert!(text.contains(&step), "'{step}' missing:\n{text}");
    }
    assert!(!pty.raw().contains(PASSWORD), "the password was shown");
    // Then the pack's repository as Palette will find it, as `packpush list` shows it.
    // (`text` has its white space run together.)
    assert!(
        text.contains("In the registry now: sample-monitoring ")
            && text.contains(" VERSION PALETTE SIZE CREATED DIGEST 0.2.1 ok "),
        "{text}"
    );

    // The last screen holds the Palette side, filled in.
    let screen = normalise(&pty.screen());
    for line in [
        "In Palette, add the registry (once):".to_string(),
        "Provider Pack".to_string(),
        format!("Endpoint {addr}"),
        format!("Base Content Path {PROJECT}"),
        format!("Authentication Basic: user {USER}"),
        "Profiles > Add Cluster Profile > name it, type Add-on > Add Pack".to_string(),
        "sample-monitoring 0.2.1 is listed.".to_string(),
    ] {
        assert!(
            screen.contains(&line),
            "'{line}' not on the screen:\n{screen}"
        );
    }

    // skopeo finds the pack the guide pushed, with the digest it showed.
    let reference = format!("{}:0.2.1", pack_repo("sample-monitoring"));
    let raw = testbed::inspect_raw(&registry, &reference).expect("skopeo reads the pack");
    let digest = packpush::digest::of_bytes(&raw);
    assert!(text.contains(&format!("digest {digest}")), "{text}");
    assert_eq!(
        testbed::list_tags(&registry, &pack_repo("sample-monitoring")).unwrap(),
        ["0.2.1"]
    );
    assert!(
        testbed::list_tags(&registry, &pack_repo("hello-world")).is_err(),
        "the pack not chosen was pushed"
    );

    assert_fits_80_columns(&pty.raw());
    // With colours allowed, the guide does colour (so the NO_COLOR test can fail).
    assert!(has_sgr(&pty.raw()));
    assert_eq!(sandbox.leftovers(), Vec::<PathBuf>::new());
    Snapshot::take(&cwd).assert_unchanged_since(&before, "the pack folders");
}

#[test]
fn ctrl_c_at_the_password_prompt_exits_130_restores_the_terminal_and_pushes_nothing() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let cwd = packs_dir();
    let before = Snapshot::take(&cwd);
    let (addr, oras) = (registry.addr(), oras());
    let mut pty = Pty::spawn(&sandbox, &cwd, &guide_args(&addr, &oras));

    // Everything but the password was given, so only the password is asked for.
    let asked = pty.expect(&format!("Password for {USER} at {addr}"));
    assert!(
        asked.contains(&format!("Registry · {addr} (from --registry)")),
        "{asked}"
    );
    assert!(!asked.contains("Registry host"), "{asked}");
    assert!(!asked.contains("How is the registry reached?"), "{asked}");
    pty.send("Harb");
    pty.send(CTRL_C);

    pty.expect("Interrupted: nothing was run, nothing was pushed, and your files are unchanged.");
    assert_eq!(pty.exit_code(), 130);
    // The password prompt had turned echo off; the guide turned it back on.
    pty.assert_terminal_restored(&cwd);

    assert!(testbed::list_tags(&registry, &pack_repo("hello-world")).is_err());
    assert!(
        !registry.log().contains("PUT /v2/"),
        "something was pushed:\n{}",
        registry.log()
    );
    assert_eq!(sandbox.leftovers(), Vec::<PathBuf>::new());
    Snapshot::take(&cwd).assert_unchanged_since(&before, "the pack folders");
}

#[test]
fn a_failed_push_says_what_went_wrong_the_hint_and_the_command_to_retry() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let cwd = packs_dir();
    let (addr, oras) = (registry.addr(), oras());
    let out = sandbox.home().join("stdout.txt");
    // stdout goes to a file, as with `packpush guide > file`: no escape codes there.
    let mut argv: Vec<String> = vec![
        "/bin/sh".into(),
        "-c".into(),
        "out=$1; shift; exec \"$@\" > \"$out\"".into(),
        "sh".into(),
        out.to_string_lossy().into_owned(),
        env!("CARGO_BIN_EXE_packpush").into(),
    ];
    argv.extend(guide_args(&addr, &oras).iter().map(|s| s.to_string()));
    let mut pty = Pty::spawn_argv(&sandbox, &cwd, &argv);

    pty.expect(&format!("Password for {USER} at {addr}"));
    pty.answer("wrong-password");
    pty.expect("Run these steps now?");
    pty.send("y");
    pty.send("\r");
    pty.expect(&format!("✘ [1/5] Log in to {addr} as {USER}"));
    assert_eq!(pty.exit_code(), 4, "{}", pty.text());

    let closing = std::fs::read_to_string(&out).unwrap();
    assert!(
        !closing.contains('\x1b'),
        "escape codes in stdout:\n{closing:?}"
    );
    assert_fits_80_columns(&closing);
    let lines: Vec<&str> = closing.lines().collect();
    // One sentence: what went wrong.
    let sentence = lines
        .iter()
        .find(|l| l.starts_with("✘ "))
        .expect("the error line");
    assert_eq!(*sentence, format!("✘ step 1 failed: log in to {addr}"));
    let all = normalise(&closing);
    assert!(
        all.contains("Error response from registry: unauthorized"),
        "{closing}"
    );
    assert!(
        all.contains(
            "hint: the registry refused the credentials: check --username and the password"
        ),
        "{closing}"
    );
    // The retry command: every flag filled in, no password, ready to paste.
    let at = lines
        .iter()
        .position(|l| l.starts_with("To retry, run this in the same folder"))
        .unwrap_or_else(|| panic!("no retry command:\n{closing}"));
    let command: String = lines[at + 1..]
        .iter()
        .map(|l| l.trim().trim_end_matches('\\').trim())
        .collect::<Vec<_>>()
        .join(" ");
    let retry = shell_words::split(&command).unwrap();
    let mut expected: Vec<String> = vec!["packpush".into(), "push".into()];
    expected.extend(guide_args(&addr, &oras)[1..].iter().map(|s| s.to_string()));
    assert_eq!(retry, expected, "{closing}");
    assert!(!pty.raw().contains("wrong-password") && !closing.contains("wrong-password"));

    // The log of the run is kept and named; nothing else is left behind.
    let log_line = lines
        .iter()
        .find(|l| l.starts_with("The whole run, command by command: "))
        .unwrap_or_else(|| panic!("no log named:\n{closing}"));
    let log = PathBuf::from(log_line.trim_start_matches("The whole run, command by command: "));
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("oras login"), "{log_text}");
    assert!(!log_text.contains("wrong-password"));
    assert_eq!(sandbox.leftovers(), vec![log]);
    assert!(testbed::list_tags(&registry, &pack_repo("hello-world")).is_err());

    // The retry command, run as printed (the password from the environment), pushes.
    let mut retry_sandbox = Sandbox::new();
    retry_sandbox.env("HARBOR_PASSWORD", PASSWORD);
    let result = retry_sandbox
        .command(&retry[1..].iter().map(String::as_str).collect::<Vec<_>>())
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(
        testbed::list_tags(&registry, &pack_repo("hello-world")).unwrap(),
        ["1.0.0"]
    );
}

#[test]
fn every_line_fits_an_80_column_terminal() {
    let registry = Registry::start(false);
    let mut sandbox = Sandbox::new();
    let cwd = packs_dir();
    let addr = registry.addr();
    let project = "a-rather-long-project-name-for-palette-packs";
    // Values from the environment, a URL pasted into HARBOR_ADDRESS.
    sandbox
        .env(
            "HARBOR_ADDRESS",
            format!("https://{addr}/harbor/projects/3"),
        )
        .env("HARBOR_PROJECT", project)
        .env("HARBOR_USERNAME", USER)
        .env("PACKPUSH_ORAS", oras());
    let mut pty = Pty::spawn(
        &sandbox,
        &cwd,
        &[
            "guide",
            "sample-monitoring",
            "--plain-http",
            "--allow-newer-oras",
        ],
    );
    pty.expect(&format!(
        "Registry · {addr} (from the environment variable HARBOR_ADDRESS)"
    ));
    pty.expect("'https://' and the path '/harbor/projects/3' are dropped.");
    pty.expect("Password for");
    pty.answer(PASSWORD);
    pty.expect("Run these steps now?");
    pty.answer("y");
    pty.expect("is in the registry, read back and verified");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    assert!(pty.text().contains(&format!("Base Content Path {project}")));
    assert_fits_80_columns(&pty.raw());
    let reference = format!("{project}/spectro-packs/archive/sample-monitoring:0.2.1");
    testbed::inspect_raw(&registry, &reference).expect("skopeo reads the pack");
}

#[test]
fn no_color_and_a_dumb_terminal_get_no_colours_and_no_spinner() {
    let registry = Registry::start(false);
    let cwd = packs_dir();
    let (addr, oras) = (registry.addr(), oras());
    for (variable, value) in [("NO_COLOR", "1"), ("TERM", "dumb")] {
        let mut sandbox = Sandbox::new();
        sandbox.env(variable, value);
        let mut pty = Pty::spawn(&sandbox, &cwd, &guide_args(&addr, &oras));
        pty.expect("Password for");
        pty.answer(PASSWORD);
        pty.expect("Run these steps now?");
        pty.answer("y");
        pty.expect("Base Content Path");
        assert_eq!(pty.exit_code(), 0, "{variable}={value}: {}", pty.text());
        let raw = pty.raw();
        assert!(!has_sgr(&raw), "{variable}={value}: colours in {raw:?}");
        assert_fits_80_columns(&raw);
        if variable == "TERM" {
            // Plain lines instead of a spinner: no spinner frames (braille
            // patterns), a line as each step starts, words for marks.
            let spinner = |c: char| ('\u{2800}'..='\u{28ff}').contains(&c);
            assert!(
                !raw.chars().any(spinner),
                "a spinner on a dumb terminal: {raw:?}"
            );
            assert!(!raw.contains('✔'), "{raw:?}");
            let text = pty.text();
            assert!(
                text.contains(&format!(
                    "[1/5] Log in to {addr} as {USER} ... ok [1/5] Log in"
                )),
                "{text}"
            );
        }
    }
}

#[test]
fn without_a_terminal_the_guide_refuses_and_points_to_push() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["guide"], "");
    run.assert_code(2);
    assert!(run.stderr.contains("needs a terminal"), "{}", run.stderr);
    assert!(run.stderr.contains("packpush push"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn ctrl_c_during_a_step_stops_it_exits_130_and_says_where_the_run_stopped() {
    // A registry that accepts connections and never answers: `oras login` hangs.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for connection in listener.incoming() {
            held.push(connection);
        }
    });
    let sandbox = Sandbox::new();
    let cwd = packs_dir();
    let before = Snapshot::take(&cwd);
    let oras = oras();
    let mut pty = Pty::spawn(&sandbox, &cwd, &guide_args(&addr, &oras));
    pty.expect("Password for");
    pty.answer(PASSWORD);
    pty.expect("Run these steps now?");
    pty.answer("y");
    pty.expect(&format!("[1/5] Log in to {addr} as {USER}"));
    std::thread::sleep(Duration::from_millis(500));
    pty.send(CTRL_C);

    pty.expect(&format!("✘ [1/5] Log in to {addr} as {USER}"));
    pty.expect(&format!(
        "✘ interrupted by SIGINT during step 1 (log in to {addr})"
    ));
    assert_eq!(pty.exit_code(), 130, "{}", pty.text());
    // The spinner's line went: the step is on the screen once, as the ✘ line.
    let screen = pty.screen();
    let rows: Vec<&str> = screen
        .lines()
        .filter(|row| row.contains(&format!("[1/5] Log in to {addr}")))
        .collect();
    assert_eq!(rows.len(), 1, "{rows:#?}\n{screen}");
    assert!(rows[0].starts_with("✘ [1/5]"), "{screen}");
    let text = pty.text();
    for line in [
        "registry state: nothing was pushed to the registry",
        "the running command was stopped; temporary files are removed; your files are unchanged",
        "To retry, run this in the same folder",
    ] {
        assert!(text.contains(line), "'{line}' missing:\n{text}");
    }
    // Only the log of the run is left, and named.
    let leftovers = sandbox.leftovers();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    assert!(
        text.contains(&leftovers[0].to_string_lossy().into_owned()),
        "{text}"
    );
    Snapshot::take(&cwd).assert_unchanged_since(&before, "the pack folders");
}

/// `packpush push` asks for the password itself when stdin is a terminal: Ctrl-C
/// there must leave the terminal as it was, too.
#[test]
fn ctrl_c_at_the_push_password_prompt_restores_the_terminal() {
    let registry = Registry::start(false);
    let sandbox = Sandbox::new();
    let cwd = packs_dir();
    let (addr, oras) = (registry.addr(), oras());
    let mut pty = Pty::spawn(
        &sandbox,
        &cwd,
        &[
            "push",
            "hello-world",
            "--registry",
            &addr,
            "--project",
            PROJECT,
            "--username",
            USER,
            "--plain-http",
            "--oras",
            &oras,
            "--allow-newer-oras",
        ],
    );
    pty.expect(&format!("Password for {USER} at {addr}"));
    pty.send("Harb");
    pty.send(CTRL_C);
    pty.expect("Interrupted: nothing was run, nothing was pushed");
    assert_eq!(pty.exit_code(), 130);
    pty.assert_terminal_restored(&cwd);
    assert!(
        !registry.log().contains("PUT /v2/"),
        "something was pushed:\n{}",
        registry.log()
    );
    assert_eq!(sandbox.leftovers(), Vec::<PathBuf>::new());
}

/// The rows of the 80x24 screen that hold `text`.
fn rows_with(screen: &str, text: &str) -> Vec<String> {
    screen
        .lines()
        .filter(|row| row.contains(text))
        .map(str::to_string)
        .collect()
}

/// Long answers (a pasted URL longer than the screen, a long project name) stay on one
/// row while typed and leave one answered line each; an answer refused on the way says why
/// and goes when a good one comes; paths typed as `~/...` are the home folder's; the TLS
/// choices fit once answered. Nothing runs: the plan is declined.
#[test]
fn long_answers_stay_on_one_row_and_typed_paths_start_at_home() {
    let sandbox = Sandbox::new();
    let home = sandbox.home().to_path_buf();
    common::packs::copy_pack("hello-world", &home.join("packs"));
    std::fs::create_dir(home.join("certs")).unwrap();
    std::fs::copy(&Testbed::get().cert, home.join("certs/ca.pem")).unwrap();
    // A folder without packs: the pack folder is typed, not chosen.
    let cwd = tempfile::tempdir().unwrap();
    let oras = oras();
    let mut pty = Pty::spawn(
        &sandbox,
        cwd.path(),
        &["guide", "--oras", &oras, "--allow-newer-oras"],
    );

    pty.expect("Registry host");
    pty.answer(&format!("ftp://harbor.example.com/{}", "x".repeat(90)));
    pty.expect("'ftp://' is not a registry scheme; type the host name");
    // Ctrl-U clears the line, as in a shell; then a URL longer than the screen.
    pty.send("\u{15}");
    let url = format!(
        "https://127.0.0.1:5999/harbor/projects/12/repositories/{}",
        "a".repeat(60)
    );
    pty.answer(&url);
    pty.expect("How is the registry reached?");
    pty.expect("HTTPS (a trusted certificate)");
    let screen = pty.screen();
    let asked = rows_with(&screen, "Registry host");
    assert_eq!(asked.len(), 1, "{screen}");
    assert!(asked[0].starts_with("✔ Registry host"), "{screen}");
    assert!(
        rows_with(&screen, "not a registry scheme").is_empty(),
        "{screen}"
    );
    assert!(
        screen.contains("Using 127.0.0.1:5999: oras takes the registry's host"),
        "{screen}"
    );

    pty.send(UP);
    pty.send(UP);
    pty.send("\r");
    pty.expect("CA certificate file (PEM)");
    let screen = pty.screen();
    assert!(
        screen.contains(
            "✔ How is the registry reached? · HTTPS with a CA file (private or self-signed)"
        ),
        "{screen}"
    );
    pty.answer("~/certs/ca.pem");
    pty.expect("Harbor project");
    // Long, though short enough for the retry command's `--project VALUE` to fit a line.
    let project = format!("packs-{}end", "long-".repeat(10));
    pty.answer(&project);
    pty.expect("Pack folder (the folder holding pack.json)");
    pty.answer("~/packs/hello-world");
    pty.expect("User name");
    let screen = pty.screen();
    assert_eq!(rows_with(&screen, "Harbor project").len(), 1, "{screen}");
    assert_eq!(rows_with(&screen, "Pack folder").len(), 1, "{screen}");
    pty.answer(USER);
    pty.expect("Password for");
    pty.answer(PASSWORD);

    let plan = pty.expect("Run these steps now?");
    let home = home.to_string_lossy().into_owned();
    assert!(
        plan.contains(&format!(
            "Pack hello-world 1.0.0 from {home}/packs/hello-world/pack.json"
        )),
        "{plan}"
    );
    pty.answer("n");
    pty.expect("Nothing was run.");
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    let text = pty.text();
    assert!(
        text.contains(&format!("--ca-file {home}/certs/ca.pem")),
        "{text}"
    );
    assert!(
        text.contains(&format!("packpush push {home}/packs/hello-world")),
        "{text}"
    );
    assert_fits_80_columns(&pty.raw());
}

/// After a failure, the hints name the guide's answers (how the registry is reached,
/// the user name typed) rather than flags never typed; the retry command is as ever.
#[test]
fn after_a_failure_the_hints_speak_of_the_answers() {
    let registry = Registry::start(false);
    let cwd = packs_dir();
    let (addr, oras) = (registry.addr(), oras());
    // Reached over HTTPS without verification, while the registry speaks plain HTTP;
    // then over plain HTTP with a wrong password.
    for (tls_ups, password, hint) in [
        (
            1,
            PASSWORD,
            format!(
                "hint: {addr} speaks plain HTTP: answer 'plain HTTP (no TLS)' to 'How is the \
                 registry reached?' (only for a registry you trust on a private network), or \
                 replace --insecure with --plain-http in the command below"
            ),
        ),
        (
            3,
            "wrong-password",
            "hint: the registry refused the credentials: check the user name and the password \
             you typed"
                .to_string(),
        ),
    ] {
        let sandbox = Sandbox::new();
        let mut pty = Pty::spawn(
            &sandbox,
            &cwd,
            &[
                "guide",
                "hello-world",
                "--registry",
                &addr,
                "--project",
                PROJECT,
                "--oras",
                &oras,
                "--allow-newer-oras",
            ],
        );
        pty.expect("How is the registry reached?");
        pty.expect("HTTPS (a trusted certificate)");
        for _ in 0..tls_ups {
            pty.send(UP);
        }
        pty.send("\r");
        pty.expect("User name");
        pty.answer(USER);
        pty.expect("Password for");
        pty.answer(password);
        pty.expect("Run these steps now?");
        pty.answer("y");
        pty.expect("To retry, run this in the same folder");
        assert_eq!(pty.exit_code(), 4, "{}", pty.text());
        let text = pty.text();
        assert!(text.contains(&hint), "{hint}\nnot in:\n{text}");
        let (closing, retry) = text
            .split_once("To retry, run this in the same folder")
            .unwrap();
        let hints = &closing[closing.find("hint: ").unwrap()..];
        assert!(!hints.contains("--username"), "{text}");
        assert!(retry.contains("--username admin"), "{text}");
        assert_fits_80_columns(&pty.raw());
    }
}

/// Ctrl-C while an answer is typed on its one row (kept in raw mode) exits 130 with the
/// terminal as it was.
#[test]
fn ctrl_c_at_a_typed_answer_restores_the_terminal() {
    let sandbox = Sandbox::new();
    let cwd = packs_dir();
    let oras = oras();
    let mut pty = Pty::spawn(
        &sandbox,
        &cwd,
        &["guide", "--oras", &oras, "--allow-newer-oras"],
    );
    pty.expect("Registry host");
    pty.send("harbor.exa");
    pty.send(CTRL_C);
    pty.expect("Interrupted: nothing was run, nothing was pushed, and your files are unchanged.");
    assert_eq!(pty.exit_code(), 130);
    pty.assert_terminal_restored(&cwd);
    assert_eq!(sandbox.leftovers(), Vec::<PathBuf>::new());
}
