//! Where the password comes from: standard input (`--password-stdin`), the
//! `HARBOR_PASSWORD` variable (an empty one counts as unset, as every other
//! variable does), or a hidden prompt at a terminal.

use std::io::{IsTerminal, Read};

use crate::cli::ConnectionArgs;
use crate::error::{Class, Failure, Problem};
use crate::secret::Secret;

/// How the password will be had.
#[derive(Debug)]
pub enum Password {
    NotNeeded,
    Given(Secret),
    /// Asked for once everything else checked out.
    Prompt,
}

/// The password in HARBOR_PASSWORD, the one rule for push and the guide: a
/// variable that is set but empty counts as unset.
pub fn from_env() -> Option<Secret> {
    std::env::var("HARBOR_PASSWORD")
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

/// The password's source; a missing or unusable one is a problem.
pub fn source(args: &ConnectionArgs, problems: &mut Vec<Problem>) -> Password {
    if args.password_stdin {
        return from_stdin(problems);
    }
    if let Some(secret) = from_env() {
        return Password::Given(secret);
    }
    let empty_variable = std::env::var_os("HARBOR_PASSWORD").is_some();
    if std::io::stdin().is_terminal() && !args.non_interactive {
        return Password::Prompt;
    }
    let why = if args.non_interactive {
        "--non-interactive is set"
    } else {
        "standard input is not a terminal"
    };
    let empty = if empty_variable {
        " (HARBOR_PASSWORD is set but empty, which counts as unset)"
    } else {
        ""
    };
    problems.push(Problem::new(
        format!("no password: {why}, so packpush cannot ask for it{empty}"),
        "pass --password-stdin with the password on standard input, or set HARBOR_PASSWORD, \
         or use --skip-login with stored credentials",
    ));
    Password::NotNeeded
}

fn from_stdin(problems: &mut Vec<Problem>) -> Password {
    let pipe_hint = "pipe the password into packpush, e.g. printf '%s' \"$PASS\" | packpush push ... --password-stdin";
    // Read into a buffer that is wiped when dropped; the password then
    // moves into the Secret without another copy.
    let mut text = zeroize::Zeroizing::new(String::new());
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        problems.push(Problem::new(
            format!("--password-stdin: standard input cannot be read: {e}"),
            pipe_hint,
        ));
        return Password::NotNeeded;
    }
    // One trailing newline (as `echo` adds) is not part of the password.
    let mut len = text.len();
    if text[..len].ends_with('\n') {
        len -= 1;
        if text[..len].ends_with('\r') {
            len -= 1;
        }
    }
    text.truncate(len);
    let secret = Secret::new(std::mem::take(&mut *text));
    if secret.is_empty() {
        problems.push(Problem::new(
            "--password-stdin: standard input held no password",
            pipe_hint,
        ));
    }
    Password::Given(secret)
}

/// The password itself: given, asked for now (at the terminal, hidden,
/// with Ctrl-C restoring it), or not needed.
pub fn take(
    password: &Password,
    username: &str,
    registry: &str,
) -> Result<Option<Secret>, Failure> {
    match password {
        Password::NotNeeded => Ok(None),
        Password::Given(secret) => Ok(Some(secret.copy())),
        Password::Prompt => {
            // Ctrl-C at the hidden prompt must not leave the terminal
            // without echo: restored, and exit 130.
            let _prompting = crate::signals::prompting()
                .map_err(|e| Failure::new(Class::Other, format!("cannot catch signals: {e}")))?;
            prompt(username, registry).map(Some)
        }
    }
}

/// Asks for the password at the terminal (hidden).
pub fn prompt(username: &str, registry: &str) -> Result<Secret, Failure> {
    let value = dialoguer::Password::new()
        .with_prompt(format!("Password for {username} at {registry}"))
        .interact()
        .map_err(|e| Failure::new(Class::Preflight, format!("cannot read the password: {e}")))?;
    if value.is_empty() {
        return Err(Failure::new(Class::Preflight, "the password is empty")
            .hint("type the registry password"));
    }
    Ok(Secret::new(value))
}
