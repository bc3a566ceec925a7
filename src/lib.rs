//! packpush: pushes Spectro Cloud Palette packs to an OCI registry by
//! driving `oras` and `tar` through the documented procedure, then proves the
//! result by reading back what the registry holds.

//!
//! The layout shows the flow of `packpush push`: `cli` parses, `commands`
//! has one module per subcommand; `preflight` checks every input; `plan`
//! turns them into the steps as data; `engine` walks the plan, starting
//! every program through `process` (with `signals` owning SIGINT/SIGTERM),
//! the commands built by `tools` (`oras`, `tar`), registry commands tried
//! again after transient failures by `retry`; `verify` judges what the
//! registry holds; `report` records it; `hints` explains known errors.
//! `packpush list` (and the end of a push) reads the registry as Palette
//! will through `listing`.

pub mod build_info;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod digest;
pub mod engine;
pub mod error;
pub mod fsutil;
pub mod hints;
pub mod listing;
pub mod pack;
pub mod parallel;
pub mod plan;
pub mod preflight;
pub mod process;
pub mod record;
pub mod reference;
pub mod report;
pub mod retry;
pub mod secret;
pub mod signals;
pub mod tools;
pub mod ui;
pub mod units;
pub mod verify;
pub mod workdir;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, Format, OutputArgs};
use crate::error::Failure;
use crate::preflight::Provenance;
use crate::report::Report;
use crate::ui::{Level, Ui};

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> i32 {
    let matches = match Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(e) => return usage_error(&e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::Push(args) => {
            let ui = ui_for(&args.report);
            let provenance = Provenance::new(matches.subcommand_matches("push"));
            let format = args.report.output;
            let (report, result) = commands::push::cmd_push(*args, &provenance, &ui);
            finish(format, &report, result)
        }
        Command::Check(args) => {
            let ui = ui_for(&args.report);
            let format = args.report.output;
            let (report, result) = commands::check::cmd_check(args, &ui);
            finish(format, &report, result)
        }
        Command::Doctor(args) => {
            let ui = ui_for(&args.report);
            let format = args.report.output;
            let (report, result) = commands::doctor::cmd_doctor(args, &ui);
            finish(format, &report, result)
        }
        Command::List(args) => {
            let ui = ui_for(&args.report);
            let provenance = Provenance::new(matches.subcommand_matches("list"));
            let format = args.report.output;
            let (report, result) = commands::list::cmd_list(*args, &provenance, &ui);
            finish(format, &report, result)
        }
        Command::Guide(args) => {
            commands::guide::cmd_guide(*args, &Provenance::new(matches.subcommand_matches("guide")))
        }
        Command::Completions { shell } => commands::completions::completions(shell),
        Command::Man { command, dir } => {
            commands::completions::man(command.as_deref(), dir.as_deref())
        }
    }
}

fn ui_for(output: &OutputArgs) -> Ui {
    let level = if output.quiet {
        Level::Quiet
    } else if output.verbose {
        Level::Verbose
    } else {
        Level::Normal
    };
    Ui::new(level, output.output == Format::Json)
}

/// Prints the error (always on stderr) and the JSON report, and returns the exit code.
fn finish(format: Format, report: &Report, result: Result<(), Failure>) -> i32 {
    if let Err(failure) = &result {
        eprintln!("error: {failure}");
    }
    if format == Format::Json {
        println!("{}", report.to_json());
    }
    result.map_or_else(|f| f.exit_code(), |()| 0)
}

/// A command line clap rejects: clap's message (on stderr; help and version
/// on stdout) and its exit code, 2 for a usage error. With `--output json`
/// stdout also gets the JSON document, error class `usage`, so a script that
/// parses stdout always has one.
fn usage_error(error: &clap::Error) -> i32 {
    let _ = error.print();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // The last --output counts, as it does when the command line parses.
    let wants_json = args
        .iter()
        .zip(args.iter().skip(1).map(Some).chain([None]))
        .filter_map(|(arg, next)| match arg.strip_prefix("--output") {
            Some("") => next.map(String::as_str),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        })
        .last()
        == Some("json");
    if !error.use_stderr() || !wants_json {
        return error.exit_code();
    }
    let command = Cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .find(|name| args.contains(name))
        .map_or("packpush", |name| &*name.leak());
    let text = error.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let message = lines
        .next()
        .map(|l| l.strip_prefix("error: ").unwrap_or(l).to_string())
        .unwrap_or_else(|| "the command line is wrong".into());
    let mut failure = Failure::new(crate::error::Class::Usage, message);
    for line in lines {
        failure = failure.detail(line);
    }
    let mut report = Report::new(command);
    report.finish(Some(&failure));
    println!("{}", report.to_json());
    error.exit_code()
}
