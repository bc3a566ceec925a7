//! `--dry-run`: the plan as a shell script, every command in order, ready to
//! read, copy or run. The folders a real run creates are `mktemp -d`
//! folders held in shell variables (`$WORK` for the login and the exported
//! manifests, `$OUT` for the archives), and the base path's digest is
//! computed from the manifest oras exported (`$BASE_DIGEST`).

use std::fmt::Write;

use super::{BASE_DIGEST_PLACEHOLDER, Plan};
use crate::process::Command;
use crate::secret::REDACTED;

/// Shell variables that stand for the folders a real run creates.
pub const WORK_VAR: &str = "$WORK";
pub const OUT_VAR: &str = "$OUT";
const BASE_DIGEST_VAR: &str = "$BASE_DIGEST";

/// What the script's first line says, and where the archives go.
#[derive(Debug)]
pub struct Header<'a> {
    /// e.g. `1.0.0`.
    pub oras_version: String,
    /// `--allow-newer-oras` is in effect.
    pub newer_oras: bool,
    /// e.g. `tar (GNU tar) 1.34`.
    pub tar_version: &'a str,
    /// The archives go to `--output-dir` (else to `$OUT`, a `mktemp -d`).
    pub output_dir_given: bool,
}

/// The whole script.
pub fn render(plan: &Plan, header: &Header<'_>) -> String {
    let mut out = String::new();
    preamble(&mut out, plan, header);
    for view in plan.ordered_steps() {
        let who = view
            .pack
            .map(|p| format!(" [{}]", p.label()))
            .unwrap_or_default();
        let _ = writeln!(out, "# {}.{who} {}", view.step.number, view.step.purpose);
        if let Some(why) = &view.step.skipped {
            let _ = writeln!(out, "#    skipped: {why}");
        }
        for command in view.commands {
            if view
                .pack
                .is_some_and(|p| std::ptr::eq(command, &p.push.lookup))
            {
                let _ = writeln!(
                    out,
                    "#    read-only look-up first; an identical version is not pushed again:"
                );
                let _ = writeln!(out, "{} || true", line(command));
                continue;
            }
            if std::ptr::eq(command, &plan.base_readback) {
                let _ = writeln!(
                    out,
                    "BASE_DIGEST=sha256:$(sha256sum {} | cut -d' ' -f1)",
                    word(plan.base.manifest.as_str())
                );
            }
            let _ = writeln!(out, "{}", line(command));
        }
    }
    out
}

fn preamble(out: &mut String, plan: &Plan, header: &Header<'_>) {
    let _ = writeln!(
        out,
        "# packpush plan: {} pack(s) to {} (oras {}{}, {})",
        plan.packs.len(),
        plan.base_repository(),
        header.oras_version,
        if header.newer_oras {
            ", --allow-newer-oras"
        } else {
            ""
        },
        header.tar_version
    );
    let _ = writeln!(out, "set -e");
    let _ = writeln!(out, "umask 077");
    let _ = writeln!(
        out,
        "WORK=$(mktemp -d)   # private: the login and the exported manifests"
    );
    let _ = writeln!(out, "trap 'rm -rf \"$WORK\"' EXIT");
    if let Some(first) = plan.packs.iter().find(|p| p.archive_written) {
        if header.output_dir_given {
            let dir = first.archive.parent().map_or("", |p| p.as_str());
            let _ = writeln!(out, "mkdir -p {}", word(dir));
        } else {
            let _ = writeln!(out, "OUT=$(mktemp -d)    # the archives");
        }
    }
    if let Some(login) = &plan.private_login {
        let _ = writeln!(out, "printf '{{}}' > {}", word(login.as_str()));
    }
}

/// `cd DIR && PROGRAM ARGS` with the folder variables left for the shell to
/// expand and everything else quoted.
fn line(command: &Command) -> String {
    let argv: Vec<String> = command
        .argv()
        .iter()
        .map(|a| word(&a.replace(BASE_DIGEST_PLACEHOLDER, BASE_DIGEST_VAR)))
        .collect();
    let mut line = format!("cd {} && {}", word(command.cwd.as_str()), argv.join(" "));
    if command.stdin_secret {
        line.push_str(&format!("   # password on stdin: {REDACTED}"));
    }
    line
}

/// One shell word: `$WORK`, `$OUT` and `$BASE_DIGEST` stay variables
/// (double-quoted), the rest is quoted as needed.
pub fn word(text: &str) -> String {
    let mut result = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let next = [WORK_VAR, OUT_VAR, BASE_DIGEST_VAR]
            .iter()
            .filter_map(|v| rest.find(v).map(|i| (i, *v)))
            .min_by_key(|(i, _)| *i);
        match next {
            Some((i, var)) => {
                if i > 0 {
                    result.push_str(&shell_words::quote(&rest[..i]));
                }
                result.push('"');
                result.push_str(var);
                result.push('"');
                rest = &rest[i + var.len()..];
            }
            None => {
                result.push_str(&shell_words::quote(rest));
                rest = "";
            }
        }
    }
    if result.is_empty() {
        "''".to_string()
    } else {
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_words_keep_the_folder_variables() {
        assert_eq!(
            word("$WORK/registry-config.json"),
            "\"$WORK\"/registry-config.json"
        );
        assert_eq!(
            word("h:5/p/spectro-packs/archive@$BASE_DIGEST"),
            "h:5/p/spectro-packs/archive@\"$BASE_DIGEST\""
        );
        assert_eq!(word("/my dir/x"), "'/my dir/x'");
        assert_eq!(word("robot$p+ci"), "'robot$p+ci'");
        assert_eq!(word(""), "''");
    }
}
