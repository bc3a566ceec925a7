//! What the guide prints outside the prompts and the progress: answers
//! that were given, the plan, and the closing screens (success, failure).

use camino::Utf8Path;
use console::{Style, Term};
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};

use super::Answers;
use super::text::{MAX_WIDTH, fill, fill_text, retry_lines, shell_units};
use crate::error::Failure;
use crate::listing::render;
use crate::plan::StepKind;
use crate::plan::script::word as script_word;
use crate::preflight::password;
use crate::record::{PackRecord, PackStatus, Status};
use crate::report::Report;
use crate::tools::oras::{Mode, Tls};

/// Where and how text is printed: prompts, plan and progress on stderr, the
/// closing screen on stdout; colours only where the stream allows them
/// (`console` honours NO_COLOR, TERM=dumb and a stream that is not a terminal).
pub(super) struct Screen {
    pub(super) theme: Box<dyn Theme + Send + Sync>,
    pub(super) dumb: bool,
    pub(super) width: usize,
    pub(super) rows: usize,
}

impl Screen {
    pub(super) fn new() -> Screen {
        let dumb = console::is_dumb();
        let theme: Box<dyn Theme + Send + Sync> = if dumb {
            Box::new(SimpleTheme)
        } else {
            Box::new(ColorfulTheme::default())
        };
        let (rows, cols) = Term::stderr().size();
        Screen {
            theme,
            dumb,
            width: usize::from(cols).clamp(40, MAX_WIDTH),
            rows: usize::from(rows).max(10),
        }
    }

    pub(super) fn theme(&self) -> &dyn Theme {
        self.theme.as_ref()
    }

    pub(super) fn width(&self) -> usize {
        self.width
    }

    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    pub(super) fn err(&self, line: &str) {
        eprintln!("{line}");
    }

    pub(super) fn out(&self, line: &str) {
        println!("{line}");
    }

    pub(super) fn err_wrapped(&self, text: &str, first: &str, rest: &str) {
        for line in fill_text(text, first, rest, self.width) {
            self.err(&line);
        }
    }

    pub(super) fn out_wrapped(&self, text: &str, first: &str, rest: &str) {
        for line in fill_text(text, first, rest, self.width) {
            self.out(&line);
        }
    }

    pub(super) fn bold(&self, text: &str) -> String {
        Style::new().for_stderr().bold().apply_to(text).to_string()
    }

    /// A value that was given, shown like an answered prompt.
    pub(super) fn given(&self, what: &str, value: &str, from: &str) {
        let mut line = self.answered_line(what, value);
        let plain = console::measure_text_width(&line);
        let note = format!(" ({from})");
        if plain + note.len() <= self.width {
            line.push_str(&Style::new().for_stderr().dim().apply_to(note).to_string());
        }
        self.err(&line);
    }

    /// A question and its answer, on one line as a prompt shows it once
    /// answered.
    pub(super) fn answered(&self, what: &str, value: &str) {
        self.err(&self.answered_line(what, value));
    }

    /// `✔ what · value`, the value shortened to fit the screen's width.
    fn answered_line(&self, what: &str, value: &str) -> String {
        let mut bare = String::new();
        let _ = self
            .theme
            .format_input_prompt_selection(&mut bare, what, "");
        let room = self
            .width
            .saturating_sub(console::measure_text_width(&bare))
            .max(1);
        let value = console::truncate_str(value, room, "…");
        let mut line = String::new();
        let _ = self
            .theme
            .format_input_prompt_selection(&mut line, what, &value);
        line
    }

    /// Marks for step results: ✔ ✘ – or words on a dumb terminal.
    pub(super) fn mark(&self, status: Status) -> String {
        let (symbol, word, style) = match status {
            Status::Ok => ("✔", "ok", Style::new().for_stderr().green()),
            Status::Failed => ("✘", "FAILED", Style::new().for_stderr().red()),
            _ => ("–", "skipped", Style::new().for_stderr().dim()),
        };
        if self.dumb {
            format!("{word:<7}")
        } else {
            style.apply_to(symbol).to_string()
        }
    }

    /// The pack, where it goes, and the exact commands, before the question.
    pub(super) fn plan(&self, report: &Report, answers: &Answers) {
        let w = self.width;
        self.err("");
        for pack in &report.packs {
            for line in fill_text(
                &format!(
                    "{} {}   from {}/pack.json",
                    pack.name, pack.version, answers.pack_dir
                ),
                "Pack     ",
                "         ",
                w,
            ) {
                self.err(&line);
            }
            for line in fill(
                vec![pack.reference.clone()],
                "Target   ",
                "         ",
                w,
                true,
            ) {
                self.err(&line);
            }
        }
        if let (Some(oras), Some(tar)) = (&report.tools.oras, &report.tools.tar) {
            let newer = if report.tools.oras_mode.as_deref() == Some(Mode::Newer.name()) {
                " (--allow-newer-oras)"
            } else {
                ""
            };
            self.err_wrapped(
                &format!("oras {}{newer}, {}", oras.version, tar.version),
                "Tools    ",
                "         ",
            );
        }
        for warning in &report.warnings {
            self.err_wrapped(warning, "warning: ", "         ");
        }
        self.err("");
        self.err(&self.bold("The plan, in order ($WORK, $OUT: folders made at run time):"));
        for step in &report.steps {
            let number = format!(" {}. ", step.number);
            let writes: Vec<_> = step.commands.iter().filter(|c| !c.read_only).collect();
            if writes.is_empty() {
                let what = if step.kind == StepKind::Verify {
                    "read-only: oras manifest fetch of the tag (also before step 4, to find \
                     a version already there) and of the base path"
                } else {
                    step.note.as_deref().unwrap_or("nothing to run")
                };
                self.err_wrapped(what, &number, "      ");
            }
            for command in writes {
                let mut words = Vec::new();
                if matches!(step.kind, StepKind::Archive | StepKind::PushPack) {
                    words.push(format!("cd {} &&", script_word(&command.cwd)));
                }
                let mut argv = command.argv.iter().map(|a| script_word(a));
                words.extend(argv.next());
                words.extend(shell_units(argv));
                for line in fill(words, &number, "      ", w, true) {
                    self.err(&line);
                }
            }
        }
    }

    /// The closing screen of a push that worked: the result, then Palette.
    pub(super) fn success(&self, report: &Report, answers: &Answers) {
        self.out("");
        for pack in &report.packs {
            self.pushed(pack);
        }
        self.registry_view(report);
        self.out("");
        self.add_registry(answers);
        self.out("");
        let names: Vec<String> = report
            .packs
            .iter()
            .map(|p| format!("{} {}", p.name, p.version))
            .collect();
        self.see_packs(&names);
    }

    /// One pack: what happened, its reference and digest.
    fn pushed(&self, pack: &PackRecord) {
        let good = Style::new().green().bold();
        let what = match pack.status {
            PackStatus::UpToDate => "was already in the registry (nothing pushed)",
            _ => "is in the registry, read back and verified",
        };
        let mark = if self.dumb { "ok:" } else { "✔" };
        self.out_wrapped(
            &format!(
                "{} {} {} {what}",
                good.apply_to(mark),
                pack.name,
                pack.version
            ),
            "",
            "  ",
        );
        for line in fill(vec![pack.reference.clone()], "  ", "  ", self.width, true) {
            self.out(&line);
        }
        if let Some(digest) = &pack.manifest_digest {
            self.out_wrapped(&format!("digest {digest}"), "  ", "    ");
        }
    }

    /// The pushed packs' repositories as Palette will find them (as
    /// `packpush list` shows them).
    fn registry_view(&self, report: &Report) {
        let Some(view) = &report.listing else { return };
        self.out("");
        self.out(&self.heading("In the registry now:"));
        for repository in &view.repositories {
            for line in render::repository(repository, false) {
                // Rows keep their columns; a long line (a reason) is wrapped.
                let line = format!("  {line}");
                if console::measure_text_width(&line) <= self.width {
                    self.out(&line);
                } else {
                    let indent = " ".repeat(line.len() - line.trim_start().len());
                    self.out_wrapped(line.trim_start(), &indent, &format!("{indent}  "));
                }
            }
        }
    }

    /// What to enter in Palette to add this registry.
    fn add_registry(&self, answers: &Answers) {
        self.out(&self.heading("In Palette, add the registry (once):"));
        self.out_wrapped(
            "Tenant Settings > Registries > OCI Registries > Add New OCI Registry",
            "  ",
            "    ",
        );
        let mut fields = vec![
            ("Provider", "Pack".to_string()),
            ("Endpoint", answers.registry.clone()),
            ("Base Content Path", answers.project.clone()),
            (
                "Authentication",
                format!("Basic: user {}, and its password", answers.username),
            ),
        ];
        match &answers.tls {
            Tls::CaFile(ca) => fields.push(("CA certificate", format!("upload {ca}"))),
            Tls::Insecure => fields.push(("Insecure Skip TLS Verify", "on".to_string())),
            Tls::PlainHttp | Tls::Verify => {}
        }
        for (name, value) in fields {
            let label = format!("  {name:<19}");
            let pad = " ".repeat(console::measure_text_width(&label));
            self.out_wrapped(
                &format!("{}", Style::new().bold().apply_to(&value)),
                &label,
                &pad,
            );
        }
    }

    /// Where the packs show up in Palette.
    fn see_packs(&self, names: &[String]) {
        self.out(&self.heading("Then see the pack there:"));
        self.out_wrapped(
            &format!(
                "Profiles > Add Cluster Profile > name it, type Add-on > Add Pack > \
                 pick this registry in the Registry list: {} {} listed.",
                names.join(", "),
                if names.len() == 1 { "is" } else { "are" }
            ),
            "  ",
            "  ",
        );
        self.out_wrapped(
            "Palette syncs registries on its own; Sync in the registry's \u{22ee} menu syncs it now.",
            "  ",
            "  ",
        );
    }

    /// A bold heading for stdout.
    fn heading(&self, text: &str) -> String {
        Style::new().bold().apply_to(text).to_string()
    }

    /// The closing screen of a push that failed or was stopped: one
    /// sentence, the facts, the hints, and the command to run it again.
    pub(super) fn failure(
        &self,
        failure: &Failure,
        log: Option<&Utf8Path>,
        argv: Option<&[String]>,
    ) {
        let bad = Style::new().red().bold();
        let mark = if self.dumb { "error:" } else { "✘" };
        self.out("");
        self.out_wrapped(
            &format!("{} {}", bad.apply_to(mark), failure.message),
            "",
            "  ",
        );
        for detail in &failure.details {
            // The command line is in the plan above and in the log.
            if detail.starts_with("command: ") {
                continue;
            }
            for line in detail.lines() {
                let depth = line.len() - line.trim_start().len();
                let indent = " ".repeat(2 + depth.min(8));
                self.out_wrapped(line.trim_start(), &indent, &format!("{indent}  "));
            }
        }
        for hint in &failure.hints {
            self.out_wrapped(
                &format!("{} {hint}", Style::new().yellow().apply_to("hint:")),
                "",
                "      ",
            );
        }
        if let Some(log) = log {
            self.out_wrapped(
                &format!("The whole run, command by command: {log}"),
                "",
                "  ",
            );
        }
        if let Some(argv) = argv {
            self.out("");
            let asks = if password::from_env().is_some() {
                "the password comes from HARBOR_PASSWORD"
            } else {
                "it asks for the password"
            };
            self.out_wrapped(
                &format!("To retry, run this in the same folder ({asks}):"),
                "",
                "",
            );
            for line in retry_lines(argv, self.width) {
                self.out(&line);
            }
        }
    }
}
