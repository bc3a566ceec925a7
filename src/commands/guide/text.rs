//! Text laid out for the guide's screens: words filled into lines of at
//! most 80 columns, and commands wrapped so that they stay readable (the
//! plan) or can be pasted into a shell (the retry command).

/// The widest line the guide prints, whatever the terminal's width.
pub(super) const MAX_WIDTH: usize = 80;

/// The retry command, ready to paste: a flag and its value stay together,
/// lines end with ` \`.
pub(super) fn retry_lines(argv: &[String], width: usize) -> Vec<String> {
    let mut words = argv.iter().map(|a| shell_words::quote(a).into_owned());
    let program: Vec<String> = words.by_ref().take(2).collect();
    let mut units = vec![program.join(" ")];
    units.extend(shell_units(words));
    let mut lines = fill(units, "  ", "      ", width.saturating_sub(2), false);
    let last = lines.len().saturating_sub(1);
    for line in &mut lines[..last] {
        line.push_str(" \\");
    }
    lines
}

/// Shell words with each `--flag` and its value kept together, so that a
/// wrapped command still reads flag by flag.
pub(super) fn shell_units(words: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut units = Vec::new();
    let mut pending: Option<String> = None;
    for word in words {
        match pending.take() {
            Some(flag) if !word.starts_with('-') => units.push(format!("{flag} {word}")),
            Some(flag) => {
                units.push(flag);
                pending = word.starts_with("--").then(|| word.clone());
                if pending.is_none() {
                    units.push(word);
                }
            }
            None if word.starts_with("--") => pending = Some(word),
            None => units.push(word),
        }
    }
    units.extend(pending);
    units
}

/// Words laid out in lines of at most `width` columns; the first line starts
/// with `first`, the others with `rest`. With `break_words`, a word too long
/// for a line is cut after a '/' or ':' (or anywhere, as a last resort);
/// without, it overflows (a shell word cut in two would change the command).
pub(super) fn fill(
    words: impl IntoIterator<Item = String>,
    first: &str,
    rest: &str,
    width: usize,
    break_words: bool,
) -> Vec<String> {
    let measure = console::measure_text_width;
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for mut word in words {
        loop {
            let need = measure(&word) + usize::from(!empty);
            if measure(&line) + need <= width {
                if !empty {
                    line.push(' ');
                }
                line.push_str(&word);
                empty = false;
                break;
            }
            if !empty {
                lines.push(std::mem::replace(&mut line, rest.to_string()));
                empty = true;
                continue;
            }
            if !break_words {
                line.push_str(&word);
                empty = false;
                break;
            }
            let room = width.saturating_sub(measure(&line)).max(8);
            let (head, tail) = split_word(&word, room);
            line.push_str(head);
            let tail = tail.to_string();
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            word = tail;
        }
    }
    if !empty || lines.is_empty() {
        lines.push(line);
    }
    lines
}

pub(super) fn fill_text(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    fill(
        text.split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string),
        first,
        rest,
        width,
        true,
    )
}

/// Cuts `word` to at most `room` columns, after the last '/' (else ':') if there is one.
pub(super) fn split_word(word: &str, room: usize) -> (&str, &str) {
    let mut end = 0;
    let (mut slash, mut colon) = (None, None);
    for (i, c) in word.char_indices() {
        if console::measure_text_width(&word[..i + c.len_utf8()]) > room {
            break;
        }
        end = i + c.len_utf8();
        if end < word.len() {
            match c {
                '/' => slash = Some(end),
                ':' => colon = Some(end),
                _ => {}
            }
        }
    }
    let at = slash
        .or(colon)
        .unwrap_or(end.max(word.chars().next().map_or(0, char::len_utf8)));
    word.split_at(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fit_and_long_words_break_after_a_slash() {
        let lines = fill_text(
            "Target 127.0.0.1:5999/spectro-oci-registry/spectro-packs/archive/sample-monitoring:0.2.1",
            "  ",
            "  ",
            40,
        );
        assert!(
            lines.iter().all(|l| console::measure_text_width(l) <= 40),
            "{lines:?}"
        );
        assert_eq!(lines[1], "  127.0.0.1:5999/spectro-oci-registry/");
        assert_eq!(
            lines.concat().replace(' ', ""),
            "Target127.0.0.1:5999/spectro-oci-registry/spectro-packs/archive/sample-monitoring:0.2.1"
        );
    }

    #[test]
    fn the_retry_command_is_one_shell_command() {
        let argv: Vec<String> = [
            "packpush",
            "push",
            "my pack",
            "--registry",
            "r.example.com",
            "--project",
            "p",
            "--username",
            "robot$p+ci",
            "--plain-http",
            "--oras",
            "/opt/oras/bin/oras",
            "--allow-newer-oras",
        ]
        .map(String::from)
        .to_vec();
        let lines = retry_lines(&argv, 40);
        assert!(lines.len() > 1);
        let joined = lines
            .iter()
            .map(|l| l.trim().trim_end_matches('\\').trim())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(shell_words::split(&joined).unwrap(), argv);
        assert!(
            lines.iter().any(|l| l.contains("--username 'robot$p+ci'")),
            "{lines:?}"
        );
    }
}
