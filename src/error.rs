//! Failure classes, their documented exit codes, and the error a run ends with.
//!
//! Every failure that reaches the user belongs to one class; the class alone
//! decides the exit code, so scripts can tell "fix your input" from "the
//! registry said no" without parsing text.

use std::fmt;

use serde::Serialize;

/// Which kind of failure ended the run. The numbers are part of the public
/// interface (README, Makefiles): never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Something unexpected (exit 1).
    Other,
    /// The command line itself is wrong (exit 2; clap uses the same code).
    Usage,
    /// A local check failed before anything touched the network or disk (exit 3).
    Preflight,
    /// `oras login` failed (exit 4).
    Login,
    /// `tar` failed, or the archive could not be written (exit 5).
    Archive,
    /// One of the `oras push` steps failed, or the registry holds a different pack (exit 6).
    Push,
    /// The registry does not hold what was pushed (exit 7).
    Verify,
    /// A signal stopped the run (exit 128 + signal: 130 for SIGINT, 143 for SIGTERM).
    Interrupted(i32),
}

impl Serialize for Class {
    /// The class's name, as the README documents it (`"interrupted"`, not
    /// the signal: that is in the exit code).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Other => "other",
            Class::Usage => "usage",
            Class::Preflight => "preflight",
            Class::Login => "login",
            Class::Archive => "archive",
            Class::Push => "push",
            Class::Verify => "verify",
            Class::Interrupted(_) => "interrupted",
        }
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Class::Other => 1,
            Class::Usage => 2,
            Class::Preflight => 3,
            Class::Login => 4,
            Class::Archive => 5,
            Class::Push => 6,
            Class::Verify => 7,
            Class::Interrupted(signal) => 128 + signal,
        }
    }
}

/// The error a run ends with: what went wrong, the supporting facts, and what
/// to do about it.
#[derive(Clone, Debug)]
pub struct Failure {
    pub class: Class,
    /// One sentence: what failed.
    pub message: String,
    /// Supporting lines: the command, the exit status, the tail of stderr, or
    /// one line per problem found by a preflight.
    pub details: Vec<String>,
    /// What to do about it.
    pub hints: Vec<String>,
    /// For the record of the step that failed: what happened, without
    /// naming the step again (`None`: the message says it).
    pub note: Option<Box<str>>,
}

impl Failure {
    pub fn new(class: Class, message: impl Into<String>) -> Self {
        Failure {
            class,
            message: message.into(),
            details: Vec::new(),
            hints: Vec::new(),
            note: None,
        }
    }

    pub fn detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }

    pub fn hint(mut self, line: impl Into<String>) -> Self {
        self.hints.push(line.into());
        self
    }

    pub fn exit_code(&self) -> i32 {
        self.class.exit_code()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        for line in &self.details {
            write!(f, "\n  {line}")?;
        }
        for line in &self.hints {
            write!(f, "\nhint: {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// One problem a preflight found, with the fix. Preflights collect these and
/// report them all at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub what: String,
    pub fix: String,
}

impl Problem {
    pub fn new(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem {
            what: what.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n    fix: {}", self.what, self.fix)
    }
}

/// Turns a list of problems into one preflight failure, or `Ok` when empty.
pub fn preflight_result(problems: Vec<Problem>) -> Result<(), Failure> {
    if problems.is_empty() {
        return Ok(());
    }
    let count = problems.len();
    let noun = if count == 1 { "problem" } else { "problems" };
    let mut failure = Failure::new(
        Class::Preflight,
        format!("preflight found {count} {noun}; nothing was run"),
    );
    for problem in problems {
        failure = failure.detail(format!("- {problem}"));
    }
    Err(failure)
}

/// A doubt that does not stop a run. Most are printed unless `--quiet`; a
/// pack pushed against its rules is said even then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// Printed unless `--quiet`.
    Note(String),
    /// `--skip-pack-checks` let a broken rule through: always printed.
    PushedAgainstRule(String),
}

impl Warning {
    /// Whether `--quiet` may hide it.
    pub fn quiet_may_hide(&self) -> bool {
        matches!(self, Warning::Note(_))
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Note(text) => f.write_str(text),
            Warning::PushedAgainstRule(what) => {
                write!(f, "--skip-pack-checks: pushing although {what}")
            }
        }
    }
}
