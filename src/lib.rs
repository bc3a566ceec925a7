//! packpush: pushes Spectro Cloud Palette packs to an OCI registry by
//! driving `oras` and `tar` through the documented procedure, then proves the
//! result by reading back what the registry holds.

pub mod cli;
pub mod commands;
pub mod digest;
pub mod engine;
pub mod error;
pub mod inputs;
pub mod oras;
pub mod pack;
pub mod plan;
pub mod preflight;
pub mod reference;
pub mod report;
pub mod run;
pub mod secret;
pub mod sources;
pub mod tar;
pub mod ui;
pub mod verify;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, Format, OutputArgs};
use crate::error::Failure;
use crate::inputs::Sources;
use crate::report::Report;
use crate::ui::{Level, Ui};

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> i32 {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::Push(args) => {
            let ui = ui_for(&args.report);
            let sources = Sources::new(matches.subcommand_matches("push"));
            let format = args.report.output;
            let (report, result) = commands::push::run(*args, &sources, &ui);
            finish(format, &report, result)
        }
        Command::Check(args) => {
            let ui = ui_for(&args.report);
            let format = args.report.output;
            let (report, result) = commands::check::run(args, &ui);
            finish(format, &report, result)
        }
        Command::Doctor(args) => {
            let ui = ui_for(&args.report);
            let format = args.report.output;
            let (report, result) = commands::doctor::run(args, &ui);
            finish(format, &report, result)
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
