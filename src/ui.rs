//! What a person sees while a push runs. The engine reports events through
//! [`Progress`]; [`Ui`] prints them as plain lines (for a terminal, a log or
//! stderr beside JSON), and the guided workflow draws them its own way.

use std::time::Duration;

use crate::error::Warning;
use crate::plan::Step;
use crate::process::{Command, Echo};
use crate::record::{Status, StepRecord};
use crate::retry::Retry;
use crate::units::seconds;

/// Events of a run, in the order they happen (from several threads with `--jobs`).
pub trait Progress: Sync {
    /// Where children's stdout goes.
    fn echo(&self) -> Echo;
    fn step_started(&self, pack: Option<&str>, step: &Step);
    /// A command is about to run; `verbose_only`: a look-up worth showing
    /// only to those who asked for every command.
    fn command(&self, command: &Command, verbose_only: bool);
    /// A finished child's stderr (captured for error messages).
    fn child_stderr(&self, bytes: &[u8]);
    /// A finished child's stdout, when `echo()` kept it out of sight
    /// (`Echo::Hidden`): for a log, not for the screen.
    fn child_stdout(&self, _bytes: &[u8]) {}
    fn step_finished(&self, pack: Option<&str>, step: &Step, record: &StepRecord);
    /// A try failed for a transient reason; another follows.
    fn retrying(&self, pack: Option<&str>, retry: &Retry<'_>);
}

/// How much to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Quiet,
    Normal,
    Verbose,
}

/// Plain-line progress.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    level: Level,
    /// Human text goes to stderr (stdout is kept for JSON).
    to_stderr: bool,
    /// Several packs run at once: children's output would interleave, so it
    /// is kept out of sight (shown on failure), and lines name their pack.
    parallel: bool,
}

impl Ui {
    pub fn new(level: Level, to_stderr: bool) -> Self {
        Ui {
            level,
            to_stderr,
            parallel: false,
        }
    }

    pub fn parallel(mut self, parallel: bool) -> Self {
        self.parallel = parallel;
        self
    }

    pub fn level(&self) -> Level {
        self.level
    }

    /// Whether stdout is reserved for a JSON document.
    pub fn json(&self) -> bool {
        self.to_stderr
    }

    /// Prints one line of progress (nothing when quiet).
    pub fn line(&self, text: &str) {
        if self.level == Level::Quiet {
            return;
        }
        self.always(text);
    }

    /// Prints a line even when quiet (results a script asked for). A closed
    /// stdout (`| head`) does not stop a push half-way: the line is dropped.
    pub fn always(&self, text: &str) {
        use std::io::Write;
        let _ = if self.to_stderr {
            writeln!(std::io::stderr().lock(), "{text}")
        } else {
            writeln!(std::io::stdout().lock(), "{text}")
        };
    }

    /// A warning on stderr: unless quiet, or always for those `--quiet`
    /// may not hide.
    pub fn warning(&self, warning: &Warning) {
        if self.level != Level::Quiet || !warning.quiet_may_hide() {
            eprintln!("warning: {warning}");
        }
    }

    /// A warning that is plain text (unless quiet).
    pub fn warn(&self, text: &str) {
        self.warning(&Warning::Note(text.to_string()));
    }

    /// Text printed as it is on stdout (a script). A closed stdout is not
    /// an error of what was printed.
    pub fn print_raw(&self, text: &str) {
        use std::io::Write;
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }

    /// With `--verbose`, output that was captured because packs ran side by
    /// side is shown once the command has finished, marked as a child's.
    fn captured(&self, bytes: &[u8]) {
        if self.level == Level::Verbose && self.parallel {
            for line in String::from_utf8_lossy(bytes).lines() {
                self.line(&format!("    | {line}"));
            }
        }
    }

    fn prefix(pack: Option<&str>) -> String {
        pack.map(|p| format!("{p}: ")).unwrap_or_default()
    }
}

impl Progress for Ui {
    fn echo(&self) -> Echo {
        match (self.level, self.parallel, self.to_stderr) {
            (Level::Quiet, _, _) | (_, true, _) => Echo::Hidden,
            (_, false, true) => Echo::Stderr,
            (_, false, false) => Echo::Stdout,
        }
    }

    fn step_started(&self, pack: Option<&str>, step: &Step) {
        self.line(&format!(
            "[{}/5] {}{}",
            step.number,
            Self::prefix(pack),
            step.purpose
        ));
    }

    fn command(&self, command: &Command, verbose_only: bool) {
        if !verbose_only || self.level == Level::Verbose {
            self.line(&format!(
                "  $ {}",
                command.shell_line(self.level == Level::Verbose)
            ));
        }
    }

    fn child_stderr(&self, bytes: &[u8]) {
        if self.echo() != Echo::Hidden && !bytes.is_empty() {
            eprint!("{}", String::from_utf8_lossy(bytes));
        } else {
            self.captured(bytes);
        }
    }

    fn child_stdout(&self, bytes: &[u8]) {
        self.captured(bytes);
    }

    fn step_finished(&self, pack: Option<&str>, step: &Step, record: &StepRecord) {
        let took = seconds(Duration::from_millis(record.duration_ms));
        let note = record
            .note
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        let who = Self::prefix(pack);
        match record.status {
            Status::Ok => self.line(&format!(
                "  ok - {who}step {} done in {took}{note}",
                step.number
            )),
            Status::Skipped => self.line(&format!("  skipped - {who}step {}{note}", step.number)),
            Status::Failed => self.line(&format!(
                "  FAILED - {who}step {} after {took}{note}",
                step.number
            )),
            Status::NotRun | Status::Planned => {}
        }
    }

    fn retrying(&self, pack: Option<&str>, retry: &Retry<'_>) {
        self.line(&format!("  {}{}", Self::prefix(pack), retry.line()));
    }
}
