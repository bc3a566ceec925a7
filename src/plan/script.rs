//! `--dry-run`: the plan as a shell script, every command in order, ready to
//! read, copy or run. The folders a real run creates are `mktemp -d`
//! folders held in shell variables (`$WORK` for the login and the exported
//! manifests, `$OUT` for the archives), and the base path's digest is
//! computed from the manifest oras exported (`$BASE_DIGEST`).
//!
//! The script keeps packpush's promises: the password comes from
//! `HARBOR_PASSWORD` or a prompt that does not echo it (or standard input),
//! and never reaches a command line or a child's environment; a version the
//! registry holds with other content is not replaced (exit 6) unless
//! `OVERWRITE=1`, and the same archive is not pushed again; an existing
//! file is never overwritten; the exit codes are packpush's; and what it
//! creates is removed when it ends (the archives are kept when a push or a
//! read-back failed, as packpush keeps them).

use std::fmt::Write;

use super::{BASE_DIGEST_PLACEHOLDER, PackPlan, Plan, StepKind, StepView};
use crate::error::Class;
use crate::process::Command;

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

/// The end of the script, whatever ends it: the terminal's echo back on,
/// `$WORK` removed, and `$OUT` unless a push or a read-back failed.
const FINISH: &str = r#"finish() {
  status=$?
  [ -z "${ECHO_OFF:-}" ] || stty echo
  rm -rf "$WORK"
  if [ -n "${OUT:-}" ]; then
    if [ "$status" -ne 0 ] && [ -n "${KEEP:-}" ]; then
      echo "the archives are kept in $OUT" >&2
    else
      rm -rf "$OUT"
    fi
  fi
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM"#;

/// The password, as packpush gets it, in a variable that is not exported.
const PASSWORD: &str = r#"# The password: HARBOR_PASSWORD, else asked for at a terminal (not shown), else
# standard input; never in a command line or a child's environment.
unset LOGIN_PASSWORD
LOGIN_PASSWORD=${HARBOR_PASSWORD:-}
unset HARBOR_PASSWORD
if [ -z "$LOGIN_PASSWORD" ] && [ -t 0 ]; then
  printf '%s' "Password for $LOGIN_USER at $LOGIN_REGISTRY: " >&2
  ECHO_OFF=1
  stty -echo
  IFS= read -r LOGIN_PASSWORD || true
  stty echo
  ECHO_OFF=
  echo >&2
elif [ -z "$LOGIN_PASSWORD" ]; then
  LOGIN_PASSWORD=$(cat)
fi
[ -n "$LOGIN_PASSWORD" ] || { echo "no password: set HARBOR_PASSWORD, or type it" >&2; exit 3; }"#;

/// What the look-up before a pack push found, as packpush judges it.
const HELD: &str = r#"# What the look-up found under a tag ($1.json, or $1.failed and $1.err) for the
# archive $2 titled $3: "same" (this archive, in the 1.0.0 shape: nothing to push) or
# "new". Another version stops the script (exit 6) unless OVERWRITE=1; so does a
# look-up that failed.
held() {
  if [ -e "$1.failed" ]; then
    if grep -qiE ': not found$|manifest unknown|name unknown|status code 404: not found' "$1.err"; then
      echo new
      return 0
    fi
    cat "$1.err" >&2
    return 6
  fi
  manifest=$(tr -d ' \t\r\n' < "$1.json")
  digest=sha256:$(sha256sum "$2" | cut -d' ' -f1)
  size=$(wc -c < "$2" | tr -d ' ')
  layer="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$digest\",\"size\":$size,\"annotations\":{\"org.opencontainers.image.title\":\"$3\"}}"
  case $manifest in
    *'"artifactType"'*) ;;
    *'"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.unknown.config.v1+json"'*"\"layers\":[$layer]"*)
      echo same
      return 0
      ;;
  esac
  if [ "${OVERWRITE:-}" = 1 ]; then
    echo new
    return 0
  fi
  echo "the registry already holds this version with other content; nothing was pushed (OVERWRITE=1 replaces it)" >&2
  return 6
}"#;

/// The whole script.
pub fn render(plan: &Plan, header: &Header<'_>) -> String {
    let mut out = String::new();
    preamble(&mut out, plan, header);
    let keeps_out = uses_out(plan, header);
    for view in plan.ordered_steps() {
        if view.step.kind == StepKind::PushBase && keeps_out {
            let _ = writeln!(
                out,
                "KEEP=1              # the archives are made: kept if a push fails"
            );
        }
        let who = view
            .pack
            .map(|p| format!(" [{}]", p.label()))
            .unwrap_or_default();
        let _ = writeln!(out, "# {}.{who} {}", view.step.number, view.step.purpose);
        if let Some(why) = &view.step.skipped {
            let _ = writeln!(out, "#    skipped: {why}");
        }
        match (view.step.kind, view.pack) {
            (StepKind::Archive, Some(pack)) => archive(&mut out, pack, header),
            (StepKind::PushPack, Some(pack)) => push_pack(&mut out, plan, pack),
            _ => step(&mut out, plan, &view),
        }
    }
    out
}

/// The `$OUT` folder is made (archives written, no `--output-dir`).
fn uses_out(plan: &Plan, header: &Header<'_>) -> bool {
    !header.output_dir_given && plan.packs.iter().any(|p| p.archive_written)
}

fn preamble(out: &mut String, plan: &Plan, header: &Header<'_>) {
    let _ = writeln!(out, "#!/bin/sh");
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
    let _ = writeln!(
        out,
        "# Exit codes as packpush's: 4 login, 5 tar, 6 a push (or another version under a tag:\n\
         # OVERWRITE=1 replaces it), 7 a read-back."
    );
    let _ = writeln!(out, "set -e");
    let _ = writeln!(out, "umask 077");
    let _ = writeln!(
        out,
        "WORK=$(mktemp -d)   # private: the login and the exported manifests"
    );
    if let Some(first) = plan.packs.iter().find(|p| p.archive_written) {
        if header.output_dir_given {
            let dir = first.archive.parent().map_or("", |p| p.as_str());
            let _ = writeln!(out, "mkdir -p {}", word(dir));
        } else {
            let _ = writeln!(out, "OUT=$(mktemp -d)    # the archives");
        }
    }
    let _ = writeln!(out, "{FINISH}");
    if !plan.packs.is_empty() {
        let _ = writeln!(out, "{HELD}");
    }
    if let Some(login) = &plan.private_login {
        let _ = writeln!(out, "printf '{{}}' > {}", word(login.as_str()));
    }
}

/// A step whose commands run one after the other, each stopping the
/// script with the step's exit code when it fails.
fn step(out: &mut String, plan: &Plan, view: &StepView<'_>) {
    let code = view.step.kind.failure_class().exit_code();
    for command in &view.commands {
        if command.stdin_secret {
            login(out, &plan.registry, command);
            continue;
        }
        if std::ptr::eq(*command, &plan.base_readback) {
            let _ = writeln!(
                out,
                "BASE_DIGEST=sha256:$(sha256sum {} | cut -d' ' -f1)",
                word(plan.base.manifest.as_str())
            );
        }
        let _ = writeln!(out, "{} || exit {code}", line(command));
    }
}

/// The login, the password on its stdin from a variable.
fn login(out: &mut String, registry: &str, command: &Command) {
    let user = command
        .args
        .iter()
        .skip_while(|a| *a != "--username")
        .nth(1)
        .map_or("", String::as_str);
    let _ = writeln!(
        out,
        "LOGIN_USER={} LOGIN_REGISTRY={}",
        word(user),
        word(registry)
    );
    let _ = writeln!(out, "{PASSWORD}");
    let (cd, argv) = parts(command);
    let _ = writeln!(
        out,
        "{cd} && printf '%s' \"$LOGIN_PASSWORD\" | {argv} || exit {}",
        Class::Login.exit_code()
    );
}

/// Step 2: tar (never over an existing file; a partial archive removed),
/// or nothing for a carried-in archive. packpush's look-up before tar
/// needs its cache: the script only says so.
fn archive(out: &mut String, pack: &PackPlan, header: &Header<'_>) {
    if pack.archive_step.recall.is_some() {
        let _ = writeln!(
            out,
            "#    packpush first fingerprints the folder: when its cache knows the archive of this\n\
             #    content and the registry holds that archive (the read-only look-up of step 4),\n\
             #    tar does not run. This script has no cache: tar runs."
        );
    }
    let Some(tar) = &pack.archive_step.tar else {
        return;
    };
    let code = Class::Archive.exit_code();
    let archive = word(pack.archive.as_str());
    if header.output_dir_given {
        let refusal = format!(
            "{} already exists: packpush never overwrites a file",
            pack.archive
        );
        let _ = writeln!(
            out,
            "[ ! -e {archive} ] || {{ echo {} >&2; exit {code}; }}",
            word(&refusal)
        );
        let _ = writeln!(out, "{} || {{ rm -f {archive}; exit {code}; }}", line(tar));
    } else {
        let _ = writeln!(out, "{} || exit {code}", line(tar));
    }
}

/// Step 4: the look-up, judged by `held`; the push unless the registry
/// holds this very archive.
fn push_pack(out: &mut String, plan: &Plan, pack: &PackPlan) {
    let index = plan
        .packs
        .iter()
        .position(|p| std::ptr::eq(p, pack))
        .unwrap_or_default();
    let held = format!("{WORK_VAR}/pack-{index}-held");
    let _ = writeln!(
        out,
        "#    read-only look-up first: the same archive is not pushed again, another version\n\
         #    is not replaced (exit 6) unless OVERWRITE=1:"
    );
    let _ = writeln!(
        out,
        "{} >{} 2>{} || : >{}",
        line(&pack.push.lookup),
        word(&format!("{held}.json")),
        word(&format!("{held}.err")),
        word(&format!("{held}.failed"))
    );
    let _ = writeln!(
        out,
        "HELD=$(held {} {} {}) || exit $?",
        word(&held),
        word(pack.archive.as_str()),
        word(&pack.target.archive_name())
    );
    let _ = writeln!(out, "if [ \"$HELD\" = same ]; then");
    let _ = writeln!(
        out,
        "  echo {}",
        word(&format!(
            "{}: already up to date; nothing pushed",
            pack.target.pack_reference()
        ))
    );
    let _ = writeln!(out, "else");
    let _ = writeln!(
        out,
        "  {} || exit {}",
        line(&pack.push.push),
        Class::Push.exit_code()
    );
    let _ = writeln!(out, "fi");
}

/// `cd DIR && PROGRAM ARGS` with the folder variables left for the shell to
/// expand and everything else quoted.
fn line(command: &Command) -> String {
    let (cd, argv) = parts(command);
    format!("{cd} && {argv}")
}

/// `cd DIR` and `PROGRAM ARGS`, as [`line`] writes them.
fn parts(command: &Command) -> (String, String) {
    let argv: Vec<String> = command
        .argv()
        .iter()
        .map(|a| word(&a.replace(BASE_DIGEST_PLACEHOLDER, BASE_DIGEST_VAR)))
        .collect();
    (format!("cd {}", word(command.cwd.as_str())), argv.join(" "))
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
