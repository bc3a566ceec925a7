//! The guide's one-line answers (the registry, the project, a folder, the
//! user name), typed on one row that scrolls sideways: a pasted URL or a
//! long path never wraps, and once answered the question is replaced by
//! one answered line that fits the screen.
//!
//! Hand-written because dialoguer's `Input` lets the terminal wrap a long
//! answer into rows it cannot clear afterwards (the question stays behind,
//! and the lines pass the screen's width), and it leaves raw mode between
//! keys, so that keys pasted quickly are echoed by the terminal itself.
//! Here the terminal stays in raw mode for the whole question; keys are
//! still read with `console`.

use console::{Key, Term};
use rustix::termios::{self, OptionalActions, Termios};

use super::screen::Screen;
use crate::error::{Class, Failure};
use crate::signals;

/// Asks `prompt` until `check` accepts the answer (trimmed), showing why it
/// did not on the row above; returns the answer, and leaves the answered
/// line in place of the question.
pub(super) fn ask(
    screen: &Screen,
    prompt: &str,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<String, Failure> {
    let term = Term::stderr();
    let raw = RawMode::start().map_err(unreadable)?;
    let mut shown = String::new();
    let _ = screen.theme().format_input_prompt(&mut shown, prompt, None);
    let mut line = Line::default();
    let mut error_above = false;
    loop {
        let room = screen
            .width()
            .saturating_sub(console::measure_text_width(&shown) + 1)
            .max(4);
        let (text, back) = line.window(room);
        let left = if back > 0 {
            format!("\x1b[{back}D")
        } else {
            String::new()
        };
        write(&term, &format!("\r\x1b[2K{shown}{text}{left}"))?;
        match term.read_key_raw().map_err(unreadable)? {
            Key::Enter => {
                let answer = line.text().trim().to_string();
                let Err(why) = check(&answer) else {
                    let up = if error_above { "\x1b[1A\r\x1b[2K" } else { "" };
                    write(&term, &format!("\r\x1b[2K{up}"))?;
                    drop(raw);
                    screen.answered(prompt, &answer);
                    return Ok(answer);
                };
                let mut error = String::new();
                let _ = screen.theme().format_error(&mut error, &why);
                let error = console::truncate_str(&error, screen.width(), "…");
                let up = if error_above { "\x1b[1A\r\x1b[2K" } else { "" };
                write(&term, &format!("\r\x1b[2K{up}{error}\r\n"))?;
                error_above = true;
            }
            Key::CtrlC => {
                drop(raw);
                signals::leave(libc::SIGINT);
            }
            key => line.edit(key),
        }
    }
}

fn write(term: &Term, text: &str) -> Result<(), Failure> {
    term.write_str(text).map_err(unreadable)
}

fn unreadable(e: std::io::Error) -> Failure {
    Failure::new(
        Class::Other,
        format!("cannot read the answer from the terminal: {e}"),
    )
}

/// The terminal in raw mode (no echo, keys one by one, Ctrl-C a key) until
/// dropped; output is processed as before, so "\n" still starts a line.
struct RawMode(Termios);

impl RawMode {
    fn start() -> std::io::Result<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin)?;
        let mut raw = saved.clone();
        raw.make_raw();
        raw.output_modes = saved.output_modes;
        termios::tcsetattr(&stdin, OptionalActions::Now, &raw)?;
        Ok(RawMode(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &self.0);
    }
}

/// The answer being typed: its characters, the cursor, and the first
/// character shown.
#[derive(Debug, Default)]
struct Line {
    chars: Vec<char>,
    cursor: usize,
    first: usize,
}

fn columns(chars: &[char]) -> usize {
    chars
        .iter()
        .map(|c| console::measure_text_width(c.encode_utf8(&mut [0; 4])))
        .sum()
}

impl Line {
    fn text(&self) -> String {
        self.chars.iter().collect()
    }

    fn edit(&mut self, key: Key) {
        match key {
            Key::Char(c) if !c.is_control() => {
                self.chars.insert(self.cursor, c);
                self.cursor += 1;
            }
            Key::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.chars.remove(self.cursor);
            }
            Key::Del if self.cursor < self.chars.len() => {
                self.chars.remove(self.cursor);
            }
            // Ctrl-U, as in a shell: everything before the cursor goes.
            Key::Char('\u{15}') => {
                self.chars.drain(..self.cursor);
                self.cursor = 0;
            }
            Key::ArrowLeft if self.cursor > 0 => self.cursor -= 1,
            Key::ArrowRight if self.cursor < self.chars.len() => self.cursor += 1,
            Key::Home => self.cursor = 0,
            Key::End => self.cursor = self.chars.len(),
            _ => {}
        }
    }

    /// What fits in `room` columns around the cursor ('…' where the text
    /// goes on), and how many columns the cursor is left of its end.
    fn window(&mut self, room: usize) -> (String, usize) {
        self.first = self.first.min(self.cursor);
        // The text up to the cursor, and the cell the cursor stands on.
        while usize::from(self.first > 0) + columns(&self.chars[self.first..self.cursor]) + 1 > room
            && self.first < self.cursor
        {
            self.first += 1;
        }
        let mut shown = String::new();
        if self.first > 0 {
            shown.push('…');
        }
        let cursor = usize::from(self.first > 0) + columns(&self.chars[self.first..self.cursor]);
        let mut used = usize::from(self.first > 0);
        let mut next = self.first;
        while let Some(&c) = self.chars.get(next) {
            let more = usize::from(next + 1 < self.chars.len());
            let width = columns(&[c]);
            if used + width + more > room {
                break;
            }
            shown.push(c);
            used += width;
            next += 1;
        }
        if next < self.chars.len() {
            shown.push('…');
            used += 1;
        }
        (shown, used.saturating_sub(cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Line {
        let mut line = Line::default();
        for c in text.chars() {
            line.edit(Key::Char(c));
        }
        line
    }

    #[test]
    fn a_long_answer_scrolls_within_its_room() {
        let url = "https://harbor.example.com/harbor/projects/3/repositories?page=1";
        let mut line = typed(url);
        let (shown, back) = line.window(20);
        assert_eq!(shown, format!("…{}", &url[url.len() - 18..]));
        assert!(columns(&shown.chars().collect::<Vec<_>>()) < 20);
        assert_eq!(back, 0);
        line.edit(Key::Home);
        let (shown, back) = line.window(20);
        assert_eq!(shown, "https://harbor.exam…");
        assert_eq!(
            (columns(&shown.chars().collect::<Vec<_>>()), back),
            (20, 20)
        );
        assert_eq!(line.text(), url);
    }

    #[test]
    fn keys_edit_the_answer() {
        let mut line = typed("harbxr.example.com");
        for _ in 0..13 {
            line.edit(Key::ArrowLeft);
        }
        line.edit(Key::Backspace);
        line.edit(Key::Char('o'));
        assert_eq!(line.text(), "harbor.example.com");
        line.edit(Key::End);
        line.edit(Key::Backspace);
        line.edit(Key::Char('\u{7}'));
        assert_eq!(line.text(), "harbor.example.co");
        line.edit(Key::Char('\u{15}'));
        assert_eq!(line.text(), "");
        let (shown, back) = line.window(10);
        assert_eq!((shown.as_str(), back), ("", 0));
    }
}
