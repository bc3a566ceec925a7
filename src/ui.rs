//! What a person sees: step announcements, commands, results. Errors are
//! printed by `main`; everything here can be silenced or moved to stderr.

use std::time::Duration;

use crate::plan::Step;
use crate::run::{Command, Echo};

/// Where human-readable progress goes, and how much of it.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    echo: Echo,
}

impl Ui {
    pub fn new(echo: Echo) -> Self {
        Ui { echo }
    }

    /// Where children's stdout goes.
    pub fn echo(&self) -> Echo {
        self.echo
    }

    /// Prints one line of progress.
    pub fn line(&self, text: &str) {
        match self.echo {
            Echo::Stdout => println!("{text}"),
            Echo::Stderr => eprintln!("{text}"),
            Echo::Hidden => {}
        }
    }

    /// Passes a child's stderr through (it was captured for error messages).
    pub fn child_stderr(&self, bytes: &[u8]) {
        if self.echo != Echo::Hidden && !bytes.is_empty() {
            eprint!("{}", String::from_utf8_lossy(bytes));
        }
    }

    pub fn announce(&self, step: &Step, total: usize) {
        self.line(&format!("[{}/{total}] {}", step.number, step.purpose));
    }

    pub fn command(&self, command: &Command) {
        self.line(&format!("  $ {}", command.shell_line(false)));
    }

    pub fn skipped(&self, step: &Step, total: usize, why: &str) {
        self.line(&format!(
            "[{}/{total}] {} - skipped ({why})",
            step.number, step.purpose
        ));
    }

    pub fn done(&self, step: &Step, took: Duration, note: &str) {
        let note = if note.is_empty() {
            String::new()
        } else {
            format!(": {note}")
        };
        self.line(&format!(
            "  ok - step {} done in {}{note}",
            step.number,
            seconds(took)
        ));
    }
}

pub fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
