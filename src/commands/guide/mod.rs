//! `packpush guide`: the documented procedure walked through at a terminal.
//!
//! It asks only for what the command line and the environment left out
//! (`questions`), shows the pack and the exact plan (`screen`), and after a
//! yes runs the very push `packpush push` runs (the answers become a
//! `packpush push` command line, parsed by clap and handed to
//! `push::push_with`), with a spinner per step (`progress`). It ends with
//! what to enter in Palette, or with what failed, the hint and the command
//! to retry (laid out by `text`).
//!
//! Prompts, the plan and the progress go to stderr (the terminal); the
//! closing screen goes to stdout, without escape codes unless stdout is a
//! terminal. Ctrl-C at a prompt restores the terminal and exits 130; during
//! a step the runner stops the child and the push reports where it stopped.

mod line;
mod progress;
mod questions;
mod screen;
mod text;

use std::io::IsTerminal;

use camino::Utf8PathBuf;
use clap::{CommandFactory, FromArgMatches};
use dialoguer::Confirm;

use crate::cli::{Cli, Command, GuideArgs, LimitArgs, PushArgs};
use crate::commands::push::{self, Supplied};
use crate::error::{Class, Failure, preflight_result};
use crate::hints::Wording;
use crate::preflight::Provenance;
use crate::secret::Secret;
use crate::signals;
use crate::tools::oras::Tls;
use crate::tools::{self, Found};
use crate::ui::{Level, Ui};
use progress::{Display, Labels};
use questions::prompt;
use screen::Screen;
use text::retry_lines;

/// Everything the push needs, from the command line, the environment or the person.
#[derive(Debug)]
struct Answers {
    registry: String,
    tls: Tls,
    project: String,
    pack_dir: Utf8PathBuf,
    username: String,
    password: Secret,
    /// What the guide asked for (hints name those as answers).
    wording: Wording,
}

/// Runs `packpush guide` and returns the exit code.
pub fn cmd_guide(args: GuideArgs, provenance: &Provenance<'_>) -> i32 {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        eprintln!(
            "error: packpush guide asks questions, so it needs a terminal \
             (standard input and standard error)\n\
             hint: in a script, CI or a Makefile use `packpush push` \
             (see `packpush push --help`)"
        );
        return Class::Usage.exit_code();
    }
    let prompting = match signals::prompting() {
        Ok(prompting) => prompting,
        Err(e) => {
            eprintln!("error: cannot catch Ctrl-C: {e}");
            return Class::Other.exit_code();
        }
    };
    let screen = Screen::new();
    match guide(&args, provenance, &screen, prompting) {
        Ok(code) => code,
        Err(failure) => {
            screen.failure(&failure, None, None);
            failure.exit_code()
        }
    }
}

fn guide(
    args: &GuideArgs,
    provenance: &Provenance<'_>,
    screen: &Screen,
    prompting: signals::Prompting,
) -> Result<i32, Failure> {
    welcome(screen);
    // A missing or wrong oras or tar is found before any question, once.
    let mut problems = Vec::new();
    let needs_gzip = args.compress_program.is_none();
    let timeout = args.limits.timeout.0;
    let tools = tools::discover(&args.tools, needs_gzip, timeout, &mut problems);
    preflight_result(problems)?;

    let answers = questions::ask(args, provenance, screen)?;
    let argv = push_argv(args, &answers);
    let quiet = Ui::new(Level::Quiet, true);
    // The plan: the same push, as a dry run, which also runs every check.
    let (dry_args, matches) = parse_push(&argv, true)?;
    let dry = Supplied {
        tools: Some(tools.clone()),
        ..Supplied::default()
    };
    let (plan, planned) = push::push_with(&dry_args, &provenance_of(&matches), &quiet, dry);
    if let Err(failure) = planned {
        screen.failure(&failure, None, Some(&argv));
        return Ok(failure.exit_code());
    }
    screen.plan(&plan, &answers);
    if !confirmed(screen, &argv)? {
        return Ok(0);
    }
    // From here on a signal is the runner's: it stops the running child and
    // the push reports where it stopped.
    drop(prompting);
    screen.err("");
    push_now(&argv, answers, tools, screen, &quiet)
}

fn welcome(screen: &Screen) {
    screen
        .err(&screen.bold("packpush guide: push a Palette pack to an OCI registry, step by step."));
    screen.err_wrapped(
        "Nothing runs until you confirm the plan; Ctrl-C stops at any time.",
        "",
        "",
    );
    screen.err("");
}

/// Asks before running; without a yes, says how to push later.
fn confirmed(screen: &Screen, argv: &[String]) -> Result<bool, Failure> {
    let go = prompt(
        Confirm::with_theme(screen.theme())
            .with_prompt("Run these steps now?")
            .default(true)
            .wait_for_newline(true)
            .interact(),
    )?;
    if !go {
        screen.out("Nothing was run. To push later, run this in the same folder:");
        for line in retry_lines(argv, screen.width()) {
            screen.out(&line);
        }
    }
    Ok(go)
}

/// The push itself, with the spinners, and its closing screen.
fn push_now(
    argv: &[String],
    answers: Answers,
    tools: Found,
    screen: &Screen,
    quiet: &Ui,
) -> Result<i32, Failure> {
    let (push_args, matches) = parse_push(argv, false)?;
    let display = Display::new(screen, Labels::new(&answers));
    let supplied = Supplied {
        progress: Some(&display),
        secret: Some(Secret::new(answers.password.expose().to_string())),
        tools: Some(tools),
        wording: answers.wording,
    };
    let (report, result) = push::push_with(&push_args, &provenance_of(&matches), quiet, supplied);
    display.clear();
    match result {
        Ok(()) => {
            screen.success(&report, &answers);
            Ok(0)
        }
        Err(failure) => {
            let log = display.keep_log(&failure);
            screen.failure(&failure, log.as_deref(), Some(argv));
            Ok(failure.exit_code())
        }
    }
}

fn provenance_of(matches: &clap::ArgMatches) -> Provenance<'_> {
    Provenance::new(matches.subcommand_matches("push"))
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
    argv.extend(answers.tls.flags());
    let mut value = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            argv.push(flag.into());
            argv.push(value);
        }
    };
    value(
        "--oras",
        args.tools.oras.program.as_ref().map(ToString::to_string),
    );
    value("--tar", args.tools.tar.as_ref().map(ToString::to_string));
    value(
        "--output-dir",
        args.output_dir.as_ref().map(ToString::to_string),
    );
    value("--compress-program", args.compress_program.clone());
    let limits = &args.limits;
    let defaults = LimitArgs::default();
    if limits.stall_timeout != defaults.stall_timeout {
        value("--stall-timeout", Some(limits.stall_timeout.to_string()));
    }
    if limits.timeout != defaults.timeout {
        value("--timeout", Some(limits.timeout.to_string()));
    }
    if limits.retries != defaults.retries {
        value("--retries", Some(limits.retries.to_string()));
    }
    for (flag, on) in [
        ("--allow-newer-oras", args.tools.oras.allow_newer_oras),
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
