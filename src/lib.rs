//! packpush: pushes Spectro Cloud Palette packs to an OCI registry by
//! driving `oras` and `tar` through the documented procedure, then proves the
//! result by reading back what the registry holds.

pub mod cli;
pub mod commands;
pub mod digest;
pub mod error;
pub mod oras;
pub mod pack;
pub mod plan;
pub mod preflight;
pub mod reference;
pub mod run;
pub mod secret;
pub mod tar;
pub mod ui;
pub mod verify;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};
use crate::commands::push::Sources;
use crate::run::Echo;
use crate::ui::Ui;

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> i32 {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let ui = Ui::new(Echo::Stdout);
    let result = match cli.command {
        Command::Push(args) => {
            let sources = Sources::new(matches.subcommand_matches("push"));
            commands::push::run(*args, &sources, &ui)
        }
        Command::Doctor(args) => commands::doctor::run(args, &ui),
        Command::Check(args) => commands::check::run(args, &ui),
    };
    match result {
        Ok(()) => 0,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}
