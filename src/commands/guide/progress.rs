//! The guide's progress while the steps run: a spinner per step with the
//! elapsed time, then a mark and the time it took; the children's output
//! kept out of sight, in a log written on failure.

use std::sync::Mutex;
use std::time::Duration;

use camino::Utf8PathBuf;
use console::Term;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use super::Answers;
use super::screen::Screen;
use super::text::fill_text;
use crate::error::Failure;
use crate::plan::{Step, StepKind};
use crate::process::{Command, Echo};
use crate::record::{Status, StepRecord};
use crate::reference::NAMESPACE;
use crate::retry::Retry;
use crate::ui::Progress;
use crate::units::seconds;

/// Short names of the steps, with this push's values.
#[derive(Debug)]
pub(super) struct Labels {
    registry: String,
    username: String,
    project: String,
}

impl Labels {
    pub(super) fn new(answers: &Answers) -> Labels {
        Labels {
            registry: answers.registry.clone(),
            username: answers.username.clone(),
            project: answers.project.clone(),
        }
    }

    pub(super) fn of(&self, pack: Option<&str>, step: &Step) -> String {
        let pack = pack.unwrap_or_default();
        let label = match step.kind {
            StepKind::Login => format!("Log in to {} as {}", self.registry, self.username),
            StepKind::Archive => format!("Archive {}.tar.gz", pack.replacen(':', "-", 1)),
            StepKind::PushBase => format!("Create the base path {}/{NAMESPACE}", self.project),
            StepKind::PushPack => format!("Push {pack}"),
            StepKind::Verify => format!("Verify {pack} in the registry"),
        };
        format!("[{}/5] {label}", step.number)
    }
}

/// The guide's progress: a spinner with the elapsed time while a step runs
/// (plain lines on a dumb terminal), then ✔ or ✘ and the time it took. The
/// children's output is kept out of sight and in a log kept on failure.
pub(super) struct Display<'a> {
    screen: &'a Screen,
    labels: Labels,
    spin: bool,
    current: Mutex<Option<ProgressBar>>,
    log: Mutex<Vec<String>>,
}

impl<'a> Display<'a> {
    pub(super) fn new(screen: &'a Screen, labels: Labels) -> Display<'a> {
        Display {
            spin: !screen.dumb && Term::stderr().is_term(),
            screen,
            labels,
            current: Mutex::new(None),
            log: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn log(&self, line: String) {
        if let Ok(mut log) = self.log.lock() {
            log.push(line);
        }
    }

    /// Prints a line without tearing the spinner.
    pub(super) fn print(&self, line: &str) {
        let current = self.current.lock().ok().and_then(|c| c.clone());
        match current {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub(super) fn clear(&self) {
        if let Some(bar) = self.current.lock().ok().and_then(|mut c| c.take()) {
            bar.finish_and_clear();
        }
    }

    /// On failure, the log goes to a file (no secret is ever in it).
    pub(super) fn keep_log(&self, failure: &Failure) -> Option<Utf8PathBuf> {
        use std::io::Write;
        let mut lines = self.log.lock().ok()?.clone();
        lines.push(format!("error: {failure}"));
        let file = tempfile::Builder::new()
            .prefix("packpush-guide-")
            .suffix(".log")
            .tempfile()
            .ok()?;
        let (mut file, path) = file.keep().ok()?;
        file.write_all(lines.join("\n").as_bytes()).ok()?;
        file.write_all(b"\n").ok()?;
        Utf8PathBuf::from_path_buf(path).ok()
    }
}

/// The terminal (stderr) as the spinner sees it: a few columns narrower
/// than the screen. indicatif pads a spinner's line with spaces to the
/// width it is given; on a full-width line, the "^C" the terminal echoes at
/// Ctrl-C would wrap to the next row, and the spinner's line, left above it,
/// could no longer be erased.
#[derive(Debug)]
struct Narrow {
    term: Term,
    width: u16,
}

impl Narrow {
    fn stderr(screen_width: usize) -> Narrow {
        let width = u16::try_from(screen_width.saturating_sub(4)).unwrap_or(u16::MAX);
        Narrow {
            term: Term::stderr(),
            width,
        }
    }
}

impl TermLike for Narrow {
    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.term.size().0
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.term.move_cursor_up(n)
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.term.move_cursor_down(n)
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.term.move_cursor_right(n)
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.term.move_cursor_left(n)
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.term.write_line(s)
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.term.write_str(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.term.clear_line()
    }

    fn flush(&self) -> std::io::Result<()> {
        self.term.flush()
    }
}

impl Progress for Display<'_> {
    fn echo(&self) -> Echo {
        Echo::Hidden
    }

    fn step_started(&self, pack: Option<&str>, step: &Step) {
        let label = self.labels.of(pack, step);
        self.log(format!("{label}: {}", step.purpose));
        self.clear();
        if self.spin {
            let narrow = Narrow::stderr(self.screen.width);
            // The message, the spinner and the elapsed time fit the narrow width.
            let room = usize::from(narrow.width).saturating_sub(10);
            let style = ProgressStyle::with_template("{spinner} {msg}  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let target = ProgressDrawTarget::term_like(Box::new(narrow));
            let bar = ProgressBar::with_draw_target(None, target)
                .with_style(style)
                .with_message(console::truncate_str(&label, room, "…").into_owned());
            bar.enable_steady_tick(Duration::from_millis(100));
            if let Ok(mut current) = self.current.lock() {
                *current = Some(bar);
            }
        } else {
            self.print(&console::truncate_str(
                &format!("  {label} ..."),
                self.screen.width,
                "…",
            ));
        }
    }

    fn command(&self, command: &Command, _verbose_only: bool) {
        let kind = if command.read_only {
            " (read-only)"
        } else {
            ""
        };
        self.log(format!("  ${kind} {}", command.shell_line(true)));
    }

    fn child_stderr(&self, bytes: &[u8]) {
        for line in String::from_utf8_lossy(bytes).lines() {
            self.log(format!("    {line}"));
        }
    }

    fn child_stdout(&self, bytes: &[u8]) {
        self.child_stderr(bytes);
    }

    fn step_finished(&self, pack: Option<&str>, step: &Step, record: &StepRecord) {
        self.clear();
        let label = self.labels.of(pack, step);
        let took = seconds(Duration::from_millis(record.duration_ms));
        self.log(format!(
            "  {:?} after {took}{}",
            record.status,
            record
                .note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        ));
        for command in &record.commands {
            let end = match (command.exit_code, command.signal) {
                (Some(code), _) => format!("exit status {code}"),
                (None, Some(sig)) => format!("signal {sig}"),
                (None, None) => "not started".to_string(),
            };
            self.log(format!(
                "    {} -> {end}",
                command.argv.first().map_or("", String::as_str)
            ));
        }
        let mark = self.screen.mark(record.status);
        let width = self.screen.width;
        let right = match record.status {
            Status::Ok | Status::Failed => took,
            _ => String::new(),
        };
        let room = width.saturating_sub(console::measure_text_width(&mark) + right.len() + 3);
        let left = console::truncate_str(&label, room, "…");
        let pad = room.saturating_sub(console::measure_text_width(&left));
        self.print(format!("{mark} {left}{} {right}", " ".repeat(pad + 1)).trim_end());
        if record.status == Status::Skipped
            && let Some(note) = &record.note
        {
            for line in fill_text(note, "    ", "    ", width) {
                self.print(&line);
            }
        }
    }

    fn retrying(&self, pack: Option<&str>, retry: &Retry<'_>) {
        let line = retry.line();
        self.log(format!("  {} {line}", pack.unwrap_or("")));
        for line in fill_text(&line, "    ", "      ", self.screen.width) {
            self.print(&line);
        }
    }
}
