//! What happened, as the JSON report records it: a step, each command it
//! ran and every try of it, a pack's result, a failure, the tools found.
//! The engine, `list` and the guide write these; `report` puts them in one
//! document (and `report::Report` is that document).

use std::time::Duration;

use serde::Serialize;

use crate::error::{Class, Failure};
use crate::plan::StepKind;
use crate::process::{Command, Exit, Outcome, RunError};
use crate::tools::Found;
use crate::units::millis;
use crate::verify::Layer;

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    /// Not run by choice (`--skip-login`, a carried-in archive, an up-to-date pack).
    Skipped,
    /// Not reached, because an earlier step failed.
    NotRun,
    /// `--dry-run`: what would run.
    Planned,
}

/// One command a step ran. `exit_code`, `signal` and `duration_ms` are its
/// last try's; `attempts` lists every try.
#[derive(Clone, Debug, Serialize)]
pub struct CommandRecord {
    /// Program and arguments; secrets are never in them.
    pub argv: Vec<String>,
    pub cwd: String,
    /// The password went to stdin (it is not recorded).
    pub stdin_secret: bool,
    /// A look-up that changes nothing in the registry.
    pub read_only: bool,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration_ms: Option<u64>,
    pub attempts: Vec<AttemptRecord>,
}

/// One try of a command.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AttemptRecord {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration_ms: u64,
    /// Why it did not end by itself: `could not start`, `interrupted`,
    /// `timed out`, `stalled`.
    pub stopped: Option<&'static str>,
    /// Why it is tried again: the transient failure it met.
    pub retried_because: Option<String>,
    /// The pause before the next try.
    pub retry_in_ms: Option<u64>,
}

impl CommandRecord {
    pub fn planned(command: &Command) -> Self {
        CommandRecord {
            argv: command.argv(),
            cwd: command.cwd.to_string(),
            stdin_secret: command.stdin_secret,
            read_only: command.read_only,
            exit_code: None,
            signal: None,
            duration_ms: None,
            attempts: Vec::new(),
        }
    }

    /// Records one try.
    pub fn tried(&mut self, tried: &Result<Outcome, RunError>) {
        let mut attempt = AttemptRecord::default();
        match tried {
            Ok(outcome) => {
                match outcome.exit {
                    Exit::Code(code) => attempt.exit_code = Some(code),
                    Exit::Signal(sig) => attempt.signal = Some(sig),
                }
                attempt.duration_ms = millis(outcome.duration);
            }
            Err(error) => {
                attempt.stopped = Some(match error {
                    RunError::Spawn(_) => "could not start",
                    RunError::Interrupted(_) => "interrupted",
                    RunError::TimedOut(_) => "timed out",
                    RunError::Stalled(_) => "stalled",
                });
                attempt.duration_ms = match error {
                    RunError::TimedOut(limit) | RunError::Stalled(limit) => millis(*limit),
                    _ => 0,
                };
            }
        }
        self.exit_code = attempt.exit_code;
        self.signal = attempt.signal;
        self.duration_ms = Some(attempt.duration_ms);
        self.attempts.push(attempt);
    }

    /// The last try met a transient failure; the next follows after `pause`.
    pub fn retrying(&mut self, reason: &str, pause: Duration) {
        if let Some(last) = self.attempts.last_mut() {
            last.retried_because = Some(reason.to_string());
            last.retry_in_ms = Some(millis(pause));
        }
    }
}

/// One step of the run.
#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    pub number: usize,
    pub kind: StepKind,
    /// `name:version` for per-pack steps; absent for login and the base path.
    pub pack: Option<String>,
    pub purpose: String,
    pub status: Status,
    /// Why a step was skipped, or what it found (e.g. "up to date").
    pub note: Option<String>,
    pub duration_ms: u64,
    pub commands: Vec<CommandRecord>,
}

/// A failure, as JSON.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorRecord {
    pub class: Class,
    pub exit_code: i32,
    pub message: String,
    pub details: Vec<String>,
    pub hints: Vec<String>,
}

impl From<&Failure> for ErrorRecord {
    fn from(f: &Failure) -> Self {
        ErrorRecord {
            class: f.class,
            exit_code: f.exit_code(),
            message: f.message.clone(),
            details: f.details.clone(),
            hints: f.hints.clone(),
        }
    }
}

/// How one pack ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackStatus {
    Pushed,
    /// The registry already held this version with the same archive.
    UpToDate,
    Failed,
    NotRun,
    Planned,
}

/// How a run got a pack's archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Archived {
    /// tar made it in this run.
    Tar,
    /// The identical archive already in `--output-dir` was used.
    Reused,
    /// Built elsewhere (`--archive`).
    CarriedIn,
    /// None was needed: the pack was found up to date before archiving.
    None,
}

/// One pack's result.
#[derive(Clone, Debug, Serialize)]
pub struct PackRecord {
    pub name: String,
    pub version: String,
    pub reference: String,
    pub source: String,
    pub archive: String,
    /// Whether the archive is still on disk after the run.
    pub archive_kept: bool,
    /// How the run got the archive; `none` with `up_to_date`: found up to
    /// date before archiving (tar did not run).
    pub archived: Option<Archived>,
    pub status: PackStatus,
    pub manifest_digest: Option<String>,
    pub base_digest: Option<String>,
    pub layer: Option<Layer>,
    pub duration_ms: u64,
    pub error: Option<ErrorRecord>,
}

/// A tool as found by the preflight.
#[derive(Clone, Debug, Serialize)]
pub struct ToolRecord {
    pub path: String,
    pub version: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Tools {
    pub oras: Option<ToolRecord>,
    /// `strict` (ORAS 1.0.0) or `newer` (1.1.0+, pushes add --image-spec v1.0).
    pub oras_mode: Option<String>,
    pub tar: Option<ToolRecord>,
}

impl From<&Found> for Tools {
    fn from(found: &Found) -> Self {
        Tools {
            oras: found.oras.as_ref().map(|o| ToolRecord {
                path: o.program.path.to_string(),
                version: o.version.to_string(),
            }),
            oras_mode: found.oras.as_ref().map(|o| o.mode.name().to_string()),
            tar: found.tar.as_ref().map(|t| ToolRecord {
                path: t.program.path.to_string(),
                version: t.version.clone(),
            }),
        }
    }
}
