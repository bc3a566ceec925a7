//! `packpush guide`: the documented procedure walked through at a terminal.
//!
//! It asks only for what the command line and the environment left out,
//! shows the pack and the exact plan, and after a yes runs the very push
//! `packpush push` runs (the answers become a `packpush push` command line,
//! parsed by clap and handed to `push::run_with`), with a spinner per step.
//! It ends with what to enter in Palette, or with what failed, the hint and
//! the command to retry.
//!
//! Prompts, the plan and the progress go to stderr (the terminal); the
//! closing screen goes to stdout, without escape codes unless stdout is a
//! terminal. Ctrl-C at a prompt restores the terminal and exits 130; during
//! a step the runner stops the child and the push reports where it stopped.
//! The screens, the progress display and the Ctrl-C handling are in
//! `crate::guide`.

use std::io::IsTerminal;

use camino::{Utf8Path, Utf8PathBuf};
use clap::{CommandFactory, FromArgMatches};
use dialoguer::{Confirm, Input, Password, Select};

use crate::cli::{Cli, Command, GuideArgs, PushArgs};
use crate::commands::push::{self, Hooks};
use crate::error::{Class, Failure};
use crate::guide::progress::{Display, Labels};
use crate::guide::screen::Screen;
use crate::guide::text::retry_lines;
use crate::guide::{Answers, Tls, interrupt};
use crate::inputs::Sources;
use crate::preflight;
use crate::reference;
use crate::secret::{REDACTED, Secret};
use crate::ui::{Level, Ui};

/// Runs `packpush guide` and returns the exit code.
pub fn run(args: GuideArgs, sources: &Sources<'_>) -> i32 {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        eprintln!(
            "error: packpush guide asks questions, so it needs a terminal \
             (standard input and standard error)\n\
             hint: in a script, CI or a Makefile use `packpush push` \
             (see `packpush push --help`)"
        );
        return Class::Usage.exit_code();
    }
    if let Err(e) = interrupt::install() {
        eprintln!("error: cannot catch Ctrl-C: {e}");
        return Class::Other.exit_code();
    }
    let screen = Screen::new();
    match guide(&args, sources, &screen) {
        Ok(code) => code,
        Err(failure) => {
            screen.failure(&failure, None, None);
            failure.exit_code()
        }
    }
}

fn guide(args: &GuideArgs, sources: &Sources<'_>, screen: &Screen) -> Result<i32, Failure> {
    screen
        .err(&screen.bold("packpush guide: push a Palette pack to an OCI registry, step by step."));
    screen.err_wrapped(
        "Nothing runs until you confirm the plan; Ctrl-C stops at any time.",
        "",
        "",
    );
    screen.err("");

    // A missing or wrong oras or tar is found before any question.
    let mut problems = Vec::new();
    preflight::check_tools(&args.tools, args.compress_program.is_none(), &mut problems);
    crate::error::preflight_result(problems)?;

    let answers = ask(args, sources, screen)?;
    let argv = push_argv(args, &answers);

    // The plan: the same push, as a dry run, which also runs every check.
    let (dry_args, dry_sources_matches) = parse_push(&argv, true)?;
    let quiet = Ui::new(Level::Quiet, true);
    let (plan, planned) = push::run_with(
        dry_args,
        &Sources::new(dry_sources_matches.subcommand_matches("push")),
        &quiet,
        &Hooks::default(),
    );
    if let Err(failure) = planned {
        screen.failure(&failure, None, Some(&argv));
        return Ok(failure.exit_code());
    }
    screen.plan(&plan, &answers);

    let go = prompt(
        Confirm::with_theme(screen.theme())
            .with_prompt("Run these steps now?")
            .default(true)
            .wait_for_newline(true)
            .interact(),
    )?;
    if !go {
        screen.out("Nothing was run. To push later, run this in the same folder:");
        for line in retry_lines(&argv, screen.width()) {
            screen.out(&line);
        }
        return Ok(0);
    }

    let (push_args, matches) = parse_push(&argv, false)?;
    let labels = Labels::new(&answers);
    let display = Display::new(screen, labels);
    // From here on a signal is the runner's: it stops the running child and
    // the push reports where it stopped.
    interrupt::prompts_done();
    screen.err("");
    let (report, result) = push::run_with(
        push_args,
        &Sources::new(matches.subcommand_matches("push")),
        &quiet,
        &Hooks {
            progress: Some(&display),
            secret: Some(Secret::new(answers.password.expose().to_string())),
        },
    );
    display.clear();
    match result {
        Ok(()) => {
            screen.success(&report, &answers);
            Ok(0)
        }
        Err(failure) => {
            let log = display.keep_log(&failure);
            screen.failure(&failure, log.as_deref(), Some(&argv));
            Ok(failure.exit_code())
        }
    }
}

/// The `packpush push` command line that the answers stand for (no password:
/// the guide hands it over directly, and a retry asks for it).
fn push_argv(args: &GuideArgs, answers: &Answers) -> Vec<String> {
    let mut argv: Vec<String> = vec!["packpush".into(), "push".into()];
    // A folder named like a flag would be read as one.
    let dir = answers.pack_dir.as_str();
    argv.push(if dir.starts_with('-') {
        format!("./{dir}")
    } else {
        dir.to_string()
    });
    for (flag, value) in [
        ("--registry", &answers.registry),
        ("--project", &answers.project),
        ("--username", &answers.username),
    ] {
        argv.push(flag.into());
        argv.push(value.clone());
    }
    match &answers.tls {
        Tls::PlainHttp => argv.push("--plain-http".into()),
        Tls::CaFile(path) => {
            argv.push("--ca-file".into());
            argv.push(path.to_string());
        }
        Tls::Insecure => argv.push("--insecure".into()),
        Tls::Verify => {}
    }
    let mut value = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            argv.push(flag.into());
            argv.push(value);
        }
    };
    value("--oras", args.tools.oras.as_ref().map(ToString::to_string));
    value("--tar", args.tools.tar.as_ref().map(ToString::to_string));
    value(
        "--output-dir",
        args.output_dir.as_ref().map(ToString::to_string),
    );
    value("--compress-program", args.compress_program.clone());
    value("--timeout", args.timeout.clone());
    for (flag, on) in [
        ("--allow-newer-oras", args.tools.allow_newer_oras),
        ("--overwrite", args.overwrite),
        ("--skip-pack-checks", args.skip_pack_checks),
        ("--reproducible", args.reproducible),
    ] {
        if on {
            argv.push(flag.into());
        }
    }
    argv
}

/// Parses a `packpush push` command line exactly as the command line would be.
fn parse_push(argv: &[String], dry_run: bool) -> Result<(PushArgs, clap::ArgMatches), Failure> {
    let mut argv = argv.to_vec();
    if dry_run {
        argv.push("--dry-run".into());
    }
    let usage = |e: clap::Error| {
        Failure::new(
            Class::Usage,
            format!(
                "the answers do not make a valid packpush push command: {}",
                e.render().to_string().lines().next().unwrap_or_default()
            ),
        )
    };
    let matches = Cli::command().try_get_matches_from(&argv).map_err(usage)?;
    let cli = Cli::from_arg_matches(&matches).map_err(usage)?;
    match cli.command {
        Command::Push(args) => Ok((*args, matches)),
        _ => Err(Failure::new(
            Class::Other,
            "the push command line did not parse as a push",
        )),
    }
}

// ---------------------------------------------------------------------------
// The questions

fn ask(args: &GuideArgs, sources: &Sources<'_>, screen: &Screen) -> Result<Answers, Failure> {
    let theme = screen.theme();

    // Registry: a pasted URL is cut down to the host, and said so.
    let given = args.registry.as_deref().and_then(|raw| {
        let from = sources.describe("registry", "--registry", "HARBOR_ADDRESS");
        match clean_registry(raw) {
            Ok(clean) => {
                screen.given("Registry", &clean.host, &from);
                Some(clean)
            }
            Err(why) => {
                screen.err_wrapped(
                    &format!("The registry {from} is not usable: {why}"),
                    "",
                    "  ",
                );
                None
            }
        }
    });
    let registry = match given {
        Some(clean) => clean,
        None => {
            let raw: String = prompt(
                Input::<String>::with_theme(theme)
                    .with_prompt("Registry host (e.g. harbor.example.com)")
                    .validate_with(|raw: &String| {
                        clean_registry(raw)
                            .map(|_| ())
                            .map_err(|why| console::truncate_str(&why, 76, "…").into_owned())
                    })
                    .interact_text(),
            )?;
            clean_registry(&raw).map_err(|why| Failure::new(Class::Usage, why))?
        }
    };
    if let Some(note) = &registry.note {
        screen.err_wrapped(note, "  ", "  ");
    }

    let tls = if args.tls.plain_http {
        Tls::PlainHttp
    } else if args.tls.insecure {
        Tls::Insecure
    } else if let Some(ca) = &args.tls.ca_file {
        Tls::CaFile(ca.clone())
    } else {
        ask_tls(screen, registry.scheme.as_deref())?
    };

    let project = match &args.project {
        Some(project) if reference::check_component(project, "project", "").is_ok() => {
            screen.given(
                "Harbor project",
                project,
                &sources.describe("project", "--project", "HARBOR_PROJECT"),
            );
            project.clone()
        }
        given => {
            if let Some(project) = given {
                let from = sources.describe("project", "--project", "HARBOR_PROJECT");
                screen.err_wrapped(
                    &format!(
                        "The project '{project}' {from} is not usable: {}",
                        component_hint(project)
                    ),
                    "",
                    "  ",
                );
            }
            prompt(
                Input::<String>::with_theme(theme)
                    .with_prompt("Harbor project (it must exist already)")
                    .validate_with(|p: &String| {
                        reference::check_component(p.trim(), "project", "")
                            .map_err(|_| component_hint(p.trim()))
                    })
                    .interact_text(),
            )?
            .trim()
            .to_string()
        }
    };

    let pack_dir = match &args.pack_dir {
        Some(dir) => {
            screen.given("Pack folder", dir.as_str(), "from the command line");
            dir.clone()
        }
        None => ask_pack_dir(screen)?,
    };

    let username = match args.username.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(user) => {
            screen.given(
                "User name",
                user,
                &sources.describe("username", "--username", "HARBOR_USERNAME"),
            );
            user.to_string()
        }
        None => prompt(
            Input::<String>::with_theme(theme)
                .with_prompt("User name")
                .validate_with(|u: &String| {
                    if u.trim().is_empty() {
                        Err("type the registry user name")
                    } else {
                        Ok(())
                    }
                })
                .interact_text(),
        )?
        .trim()
        .to_string(),
    };

    // As for push: HARBOR_PASSWORD, when set, is the password.
    let from_env = std::env::var("HARBOR_PASSWORD")
        .ok()
        .filter(|v| !v.is_empty());
    let password = match from_env {
        Some(value) => {
            screen.given(
                "Password",
                REDACTED,
                "from the environment variable HARBOR_PASSWORD",
            );
            Secret::new(value)
        }
        None => Secret::new(prompt(
            Password::with_theme(theme)
                .with_prompt(format!("Password for {username} at {}", registry.host))
                .interact(),
        )?),
    };

    Ok(Answers {
        registry: registry.host,
        tls,
        project,
        pack_dir,
        username,
        password,
    })
}

/// A registry address as oras wants it, and what was cut away.
#[derive(Debug)]
struct CleanRegistry {
    host: String,
    /// `http` or `https`, if one was pasted.
    scheme: Option<String>,
    /// What was corrected, for the person.
    note: Option<String>,
}

/// `https://harbor.example.com/harbor/projects` becomes
/// `harbor.example.com`, with a note saying why; anything still wrong is an
/// error that fits one line.
fn clean_registry(raw: &str) -> Result<CleanRegistry, String> {
    let trimmed = raw.trim();
    let (scheme, rest) = match trimmed.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, trimmed),
    };
    let (host, path) = match rest.split_once('/') {
        Some((host, path)) => (host, Some(path)),
        None => (rest, None),
    };
    if let Some(scheme) = &scheme
        && scheme != "http"
        && scheme != "https"
    {
        return Err(format!(
            "'{scheme}://' is not a registry scheme; type the host name"
        ));
    }
    reference::check_registry(host, "as typed").map_err(|p| p.what)?;
    let mut cut = Vec::new();
    if let Some(scheme) = &scheme {
        cut.push(format!("'{scheme}://'"));
    }
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        cut.push(format!("the path '/{path}'"));
    } else if path.is_some() {
        cut.push("the trailing '/'".to_string());
    }
    let note = (!cut.is_empty()).then(|| {
        format!(
            "Using {host}: oras takes the registry's host (and port) alone, so {} {} dropped.",
            cut.join(" and "),
            if cut.len() == 1 { "is" } else { "are" }
        )
    });
    Ok(CleanRegistry {
        host: host.to_string(),
        scheme,
        note,
    })
}

/// A short fix for a project name the registry would refuse.
fn component_hint(value: &str) -> String {
    let suggestion = reference::check_component(value, "project", "")
        .err()
        .and_then(|p| {
            p.fix
                .split_once("e.g. '")
                .and_then(|(_, rest)| rest.split_once('\'').map(|(s, _)| s.to_string()))
        });
    match suggestion {
        Some(s) => format!("use lower-case letters, digits, '.', '_' or '-', e.g. '{s}'"),
        None => "use lower-case letters, digits, '.', '_' or '-' (not at the ends)".into(),
    }
}

const TLS_CHOICES: [&str; 4] = [
    "plain HTTP (no TLS)",
    "HTTPS with a CA file (a self-signed or private CA)",
    "HTTPS skipping certificate verification",
    "HTTPS (a trusted certificate)",
];

fn ask_tls(screen: &Screen, scheme: Option<&str>) -> Result<Tls, Failure> {
    let default = if scheme == Some("http") { 0 } else { 3 };
    let choice = prompt(
        Select::with_theme(screen.theme())
            .with_prompt("How is the registry reached?")
            .items(TLS_CHOICES)
            .default(default)
            .interact(),
    )?;
    Ok(match choice {
        0 => Tls::PlainHttp,
        1 => {
            // The same test as the push preflight's (`inputs::tls`), made here
            // too so that a wrong file is asked for again at once; the two
            // must stay alike.
            let path: String = prompt(
                Input::<String>::with_theme(screen.theme())
                    .with_prompt("CA certificate file (PEM)")
                    .validate_with(|p: &String| match std::fs::read(p.trim()) {
                        Ok(bytes)
                            if String::from_utf8_lossy(&bytes)
                                .contains("-----BEGIN CERTIFICATE-----") =>
                        {
                            Ok(())
                        }
                        Ok(_) => Err("that file holds no PEM certificate".to_string()),
                        Err(e) => Err(format!("cannot read it: {e}")),
                    })
                    .interact_text(),
            )?;
            Tls::CaFile(path.trim().into())
        }
        2 => Tls::Insecure,
        _ => Tls::Verify,
    })
}

/// Offers the folders under the current one that hold a pack.json.
fn ask_pack_dir(screen: &Screen) -> Result<Utf8PathBuf, Failure> {
    let found = packs_here();
    let other = "another folder (type its path)";
    if !found.is_empty() {
        let width = screen.width().saturating_sub(6);
        let items: Vec<String> = found
            .iter()
            .map(|(dir, what)| {
                console::truncate_str(&format!("{dir}  ({what})"), width, "…").into_owned()
            })
            .chain([other.to_string()])
            .collect();
        let choice = prompt(
            Select::with_theme(screen.theme())
                .with_prompt("Pack folder")
                .items(&items)
                .default(0)
                .max_length(screen.rows().saturating_sub(4).clamp(3, 12))
                .interact(),
        )?;
        if let Some((dir, _)) = found.get(choice) {
            return Ok(dir.clone());
        }
    }
    let path: String = prompt(
        Input::<String>::with_theme(screen.theme())
            .with_prompt("Pack folder (the folder holding pack.json)")
            .validate_with(|p: &String| {
                let p = Utf8Path::new(p.trim());
                if !p.is_dir() {
                    Err(format!("'{p}' is not a folder"))
                } else if !p.join("pack.json").is_file() {
                    Err(format!("there is no pack.json in '{p}'"))
                } else {
                    Ok(())
                }
            })
            .interact_text(),
    )?;
    Ok(path.trim().into())
}

/// Pack folders under the current folder (three levels deep, hidden folders
/// skipped), with what their pack.json says.
fn packs_here() -> Vec<(Utf8PathBuf, String)> {
    packs_under(Utf8Path::new("."))
}

/// Pack folders under `root`, named relative to it. A folder that cannot be
/// read is passed over: the walk goes on to the next one.
fn packs_under(root: &Utf8Path) -> Vec<(Utf8PathBuf, String)> {
    let mut found = Vec::new();
    let mut walker = walkdir::WalkDir::new(root)
        .max_depth(3)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    while let Some(entry) = walker.next() {
        let Ok(entry) = entry else {
            continue;
        };
        if !entry.file_type().is_dir() || !entry.path().join("pack.json").is_file() {
            continue;
        }
        walker.skip_current_dir();
        let Some(path) = Utf8Path::from_path(entry.path()) else {
            continue;
        };
        let dir: Utf8PathBuf = match path.strip_prefix(root) {
            Ok(rel) if !rel.as_str().is_empty() => rel.into(),
            _ => ".".into(),
        };
        let what = match crate::pack::read_pack_json(path) {
            Ok(json) => format!("{} {}", json.name, json.version),
            Err(_) => "pack.json has a problem".to_string(),
        };
        found.push((dir, what));
    }
    found
}

/// The answer, or the exit for Ctrl-C (some prompts read Ctrl-C as a key).
fn prompt<T>(result: dialoguer::Result<T>) -> Result<T, Failure> {
    result.map_err(|dialoguer::Error::IO(e)| {
        if e.kind() == std::io::ErrorKind::Interrupted {
            interrupt::leave(libc::SIGINT);
        }
        Failure::new(
            Class::Other,
            format!("cannot read the answer from the terminal: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_urls_are_cut_to_the_host() {
        let c = clean_registry("https://harbor.example.com/harbor/projects").unwrap();
        assert_eq!(c.host, "harbor.example.com");
        assert_eq!(c.scheme.as_deref(), Some("https"));
        let note = c.note.unwrap();
        assert!(
            note.contains("'https://'") && note.contains("'/harbor/projects'"),
            "{note}"
        );
        let c = clean_registry(" 10.0.0.5:5000 ").unwrap();
        assert_eq!((c.host.as_str(), c.note), ("10.0.0.5:5000", None));
        assert!(clean_registry("ftp://x").is_err());
        assert!(clean_registry("https://bad host/").is_err());
    }

    #[test]
    fn an_unreadable_folder_does_not_end_the_offered_packs() {
        use std::os::unix::fs::PermissionsExt;

        let root = tempfile::tempdir().unwrap();
        let at = |p: &str| root.path().join(p);
        for (dir, name) in [("a-pack", "a"), ("b-locked/inner", "b"), ("c-pack", "c")] {
            std::fs::create_dir_all(at(dir)).unwrap();
            std::fs::write(
                at(dir).join("pack.json"),
                format!(r#"{{"name":"{name}","version":"1.0.0"}}"#),
            )
            .unwrap();
        }
        let open = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(root.path(), open.clone()).unwrap();
        std::fs::set_permissions(at("b-locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
        let root_path = Utf8PathBuf::from_path_buf(root.path().to_path_buf()).unwrap();
        // Root reads any folder whatever its mode: the walk runs in a thread
        // that is another user (on Linux a thread's user is its own).
        let found = std::thread::spawn(move || {
            if rustix::process::getuid().is_root() {
                rustix::thread::set_thread_uid(rustix::process::Uid::from_raw(65534))
                    .expect("become nobody in this thread");
            }
            packs_under(&root_path)
        })
        .join()
        .unwrap();
        std::fs::set_permissions(at("b-locked"), open).unwrap();
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|(dir, what)| (dir.as_str(), what.as_str()))
            .collect();
        assert_eq!(names, [("a-pack", "a 1.0.0"), ("c-pack", "c 1.0.0")]);
    }
}
