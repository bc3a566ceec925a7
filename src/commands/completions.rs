//! `packpush completions SHELL` and `packpush man`: shell completions and
//! manual pages generated from the clap definition, so they never drift
//! from the real command line.

use std::io::{self, Write};

use camino::Utf8Path;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "packpush", &mut script);
    emit(&script)
}

/// Prints the manual page of packpush, or of one of its commands, as roff
/// on stdout; with `dir`, writes every page (packpush.1, packpush-push.1,
/// ...) into that folder instead.
pub fn man(command: Option<&str>, dir: Option<&Utf8Path>) -> i32 {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    if let Some(dir) = dir {
        return match write_pages(&cli, dir) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: cannot write the manual pages into {dir}: {e}");
                1
            }
        };
    }
    let page = match command {
        None => cli,
        Some(name) => match cli.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let known: Vec<&str> = pages(&cli).skip(1).map(|c| c.get_name()).collect();
                eprintln!(
                    "error: packpush has no command '{name}'\nhint: pick one of: {}",
                    known.join(", ")
                );
                return 2;
            }
        },
    };
    let mut roff = Vec::new();
    if let Err(e) = manual(page).render(&mut roff) {
        eprintln!("error: cannot render the manual page: {e}");
        return 1;
    }
    emit(&roff)
}

/// packpush itself, then each visible command.
fn pages(cli: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    std::iter::once(cli).chain(cli.get_subcommands().filter(|s| !s.is_hide_set()))
}

/// One page; every page names packpush's version as its source.
fn manual(page: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(page)
        .source(format!("packpush {}", env!("CARGO_PKG_VERSION")))
        .manual("packpush manual")
}

fn write_pages(cli: &clap::Command, dir: &Utf8Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for page in pages(cli) {
        manual(page.clone()).generate_to(dir)?;
    }
    Ok(())
}

/// Writes `bytes` to stdout. A reader that stops early (`| head`) is not an
/// error.
fn emit(bytes: &[u8]) -> i32 {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            1
        }
    }
}
