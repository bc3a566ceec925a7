//! Trying a registry command again after a transient failure: which
//! failures are transient, the pauses between tries, and the one loop that
//! every such command goes through, whether a push's step runs it (`engine`)
//! or `packpush list` reads with it (`listing`). The caller records, says
//! and words what happened through [`Attempts`].

use std::time::{Duration, Instant};

use camino::Utf8Path;

use crate::error::Failure;
use crate::hints;
use crate::process::{Command, Outcome, RunError};
use crate::signals;
use crate::units::seconds;

/// What one try of a command came to.
pub type Tried = Result<Outcome, RunError>;

/// The first pause before a retry; each further one doubles, up to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// What to do about a command stopped by `--timeout`.
pub const TIMED_OUT_HINT: &str = "the registry may be overloaded or unreachable through a proxy; raise --timeout for large packs";
/// What to do about a command stopped by `--stall-timeout`.
pub const STALLED_HINT: &str = "nothing was read or written for that long: the registry (or a proxy \
    on the way) stopped answering; if it is only slow, raise --stall-timeout (or pass \
    --stall-timeout none to wait as long as it takes)";

/// What happened to a command that did not end by itself, said after what
/// was being done (`step 4 (...): `, `cannot read the tags of ...: `), with
/// what to do about it. `None` for a signal: each caller words that its
/// own way, as an interruption of the whole run.
pub fn stopped_words(
    error: &RunError,
    program: &Utf8Path,
) -> Option<(String, Option<&'static str>)> {
    match error {
        RunError::Spawn(e) => Some((format!("could not start {program}: {e}"), None)),
        RunError::TimedOut(limit) => Some((
            format!(
                "ran longer than --timeout {} and was stopped",
                seconds(*limit)
            ),
            Some(TIMED_OUT_HINT),
        )),
        RunError::Stalled(limit) => Some((
            format!("made no progress for {} and was stopped", seconds(*limit)),
            Some(STALLED_HINT),
        )),
        RunError::Interrupted(_) => None,
    }
}

/// A try that failed for a transient reason, and the try that follows.
#[derive(Clone, Copy, Debug)]
pub struct Retry<'a> {
    pub command: &'a Command,
    /// The transient failure, e.g. `503 Service Unavailable`.
    pub reason: &'a str,
    /// The pause before the next try.
    pub pause: Duration,
    /// The next try's number, and how many there are at most.
    pub attempt: u32,
    pub tries: u32,
}

impl Retry<'_> {
    /// `oras push: 503 Service Unavailable; retrying in 2 s, attempt 2 of 4`.
    pub fn line(&self) -> String {
        format!(
            "{}: {}; retrying in {}, attempt {} of {}",
            self.command.name(),
            self.reason,
            rounded(self.pause),
            self.attempt,
            self.tries
        )
    }
}

/// A pause as people say it: whole seconds from 2 s on.
fn rounded(pause: Duration) -> String {
    let secs = pause.as_secs_f64();
    if secs >= 1.95 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// What the caller does around each try of a command.
pub trait Attempts {
    /// Runs one try (with the caller's secret, output and time limits).
    fn try_once(&mut self, command: &Command) -> Tried;
    /// Records how a try ended.
    fn tried(&mut self, tried: &Tried);
    /// Records and says that a try failed for a transient reason, and which
    /// try follows when.
    fn retrying(&mut self, retry: &Retry<'_>);
    /// Before the next try: whether the registry holds what the command was
    /// writing after all (a push whose answer was lost), as this manifest.
    fn recheck(&mut self) -> Result<Option<Vec<u8>>, Failure> {
        Ok(None)
    }
}

/// How a command ended once its tries were over. `gave_up` names the
/// transient reason when the last try failed for one on every try.
#[derive(Debug)]
pub enum Tries {
    /// The last try ran to its end (successfully or not).
    Ran {
        outcome: Outcome,
        gave_up: Option<String>,
    },
    /// The last try could not start or was stopped (a time limit, a stall,
    /// a signal; also a signal during a pause).
    Stopped {
        error: RunError,
        gave_up: Option<String>,
    },
    /// `recheck` found the work done: this manifest.
    AlreadyDone(Vec<u8>),
}

/// Tries `command` until it succeeds, fails for a reason that is not
/// transient, or `retries` more tries are spent, with growing pauses.
pub fn tries(
    command: &Command,
    retries: u32,
    attempts: &mut dyn Attempts,
) -> Result<Tries, Failure> {
    let tries = retries + 1;
    for attempt in 1..=tries {
        let tried = attempts.try_once(command);
        attempts.tried(&tried);
        let reason = transient(command, &tried);
        let last = attempt == tries;
        match (tried, reason) {
            (Ok(outcome), None) => {
                return Ok(Tries::Ran {
                    outcome,
                    gave_up: None,
                });
            }
            (Ok(outcome), gave_up @ Some(_)) if last => {
                return Ok(Tries::Ran { outcome, gave_up });
            }
            (Err(error), None) => {
                return Ok(Tries::Stopped {
                    error,
                    gave_up: None,
                });
            }
            (Err(error), gave_up @ Some(_)) if last => {
                return Ok(Tries::Stopped { error, gave_up });
            }
            (_, reason) => {
                let reason = reason.unwrap_or_default();
                let pause = pause_before(attempt + 1);
                attempts.retrying(&Retry {
                    command,
                    reason: &reason,
                    pause,
                    attempt: attempt + 1,
                    tries,
                });
                if let Err(sig) = pause_for(pause) {
                    return Ok(Tries::Stopped {
                        error: RunError::Interrupted(sig),
                        gave_up: None,
                    });
                }
            }
        }
        if let Some(held) = attempts.recheck()? {
            return Ok(Tries::AlreadyDone(held));
        }
    }
    unreachable!("the last try returns")
}

/// A failure that was transient on every try says so, and how to try more.
pub fn gave_up(failure: Failure, reason: Option<&str>, retries: u32) -> Failure {
    let Some(reason) = reason else {
        return failure;
    };
    let failure = failure.detail(format!(
        "a transient failure ({reason}) on every try ({} in all)",
        retries + 1
    ));
    if retries == 0 {
        failure.hint(
            "this failure may pass: --retries N tries such failures again, with pauses in between",
        )
    } else {
        failure.hint("the link or the registry kept failing: try again later, or raise --retries")
    }
}

/// Waits before a retry; a signal ends the wait (and the command).
fn pause_for(pause: Duration) -> Result<(), i32> {
    let until = Instant::now() + pause;
    while Instant::now() < until {
        if let Some(sig) = signals::pending() {
            return Err(sig);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Why a try failed in a way worth trying again, if it did: only commands
/// that talk to the registry, for a failure of the link or of an overloaded
/// registry, never for refused credentials, a missing project, a rejected
/// manifest or anything local.
fn transient(command: &Command, tried: &Tried) -> Option<String> {
    if !command.network {
        return None;
    }
    match tried {
        Ok(outcome) if outcome.exit.success() => None,
        Ok(outcome) => hints::transient(&String::from_utf8_lossy(&outcome.stderr)),
        Err(RunError::TimedOut(limit)) => {
            Some(format!("no answer within --timeout {}", seconds(*limit)))
        }
        Err(RunError::Stalled(limit)) => Some(format!(
            "no progress for {} (--stall-timeout)",
            seconds(*limit)
        )),
        Err(RunError::Spawn(_) | RunError::Interrupted(_)) => None,
    }
}

/// The pause before try `attempt` (2, 3, ...): exponential, capped, and
/// jittered (between half and all of it) so that parallel packs do not all
/// come back at once.
fn pause_before(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(2).min(16);
    let full = FIRST_PAUSE.saturating_mul(1 << doublings).min(MAX_PAUSE);
    full.mul_f64(0.5 + fastrand::f64() * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Exit, Program};

    #[test]
    fn pauses_double_up_to_a_cap_with_jitter() {
        for _ in 0..50 {
            let first = pause_before(2);
            assert!(
                first >= Duration::from_millis(500) && first <= FIRST_PAUSE,
                "{first:?}"
            );
            let third = pause_before(4);
            assert!(
                third >= Duration::from_secs(2) && third <= Duration::from_secs(4),
                "{third:?}"
            );
            let late = pause_before(40);
            assert!(late >= MAX_PAUSE / 2 && late <= MAX_PAUSE, "{late:?}");
        }
    }

    /// Tries that end as scripted, one per call, recorded.
    struct Scripted {
        answers: Vec<Tried>,
        log: Vec<String>,
    }

    fn ran(code: i32, stderr: &str) -> Tried {
        Ok(Outcome {
            exit: Exit::Code(code),
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
            duration: Duration::ZERO,
        })
    }

    impl Attempts for Scripted {
        fn try_once(&mut self, _command: &Command) -> Tried {
            self.answers.remove(0)
        }
        fn tried(&mut self, tried: &Tried) {
            self.log.push(format!("tried ok={}", tried.is_ok()));
        }
        fn retrying(&mut self, retry: &Retry<'_>) {
            self.log.push(format!(
                "retry {}/{}: {}",
                retry.attempt, retry.tries, retry.reason
            ));
        }
    }

    fn command(network: bool) -> Command {
        let program = Program {
            path: "/bin/true".into(),
            display: "oras".into(),
        };
        let command = Command::new("look", &program, vec![], "/".into());
        if network {
            command.over_the_network()
        } else {
            command
        }
    }

    #[test]
    fn lasting_failures_are_not_tried_again_and_local_commands_never() {
        let refused = "Error: response status code 401: unauthorized";
        let mut script = Scripted {
            answers: vec![ran(1, refused)],
            log: vec![],
        };
        let ended = tries(&command(true), 3, &mut script).unwrap();
        assert!(
            matches!(ended, Tries::Ran { gave_up: None, .. }),
            "{ended:?}"
        );
        assert_eq!(script.log, ["tried ok=true"]);

        let mut script = Scripted {
            answers: vec![ran(1, "connection refused")],
            log: vec![],
        };
        tries(&command(false), 3, &mut script).unwrap();
        assert_eq!(script.log.len(), 1, "{:?}", script.log);
    }

    #[test]
    fn a_transient_failure_on_every_try_gives_up_naming_it() {
        let refused = "dial tcp 127.0.0.1:1: connect: connection refused";
        let mut script = Scripted {
            answers: vec![ran(1, refused), ran(1, refused)],
            log: vec![],
        };
        let ended = tries(&command(true), 1, &mut script).unwrap();
        let Tries::Ran { gave_up, .. } = ended else {
            panic!("{ended:?}")
        };
        assert_eq!(gave_up.as_deref(), Some("could not connect"));
        assert_eq!(
            script.log,
            [
                "tried ok=true",
                "retry 2/2: could not connect",
                "tried ok=true"
            ]
        );
        let failure = gave_up_failure(gave_up.as_deref(), 1);
        assert!(failure.details[0].contains("on every try (2 in all)"));
        assert!(failure.hints[0].contains("raise --retries"));
        assert!(gave_up_failure(Some("x"), 0).hints[0].contains("--retries N"));
    }

    fn gave_up_failure(reason: Option<&str>, retries: u32) -> Failure {
        gave_up(
            Failure::new(crate::error::Class::Verify, "it failed"),
            reason,
            retries,
        )
    }

    #[test]
    fn a_retry_that_succeeds_ends_the_tries() {
        let mut script = Scripted {
            answers: vec![
                ran(1, "response status code 503: Service Unavailable"),
                ran(0, ""),
            ],
            log: vec![],
        };
        let ended = tries(&command(true), 3, &mut script).unwrap();
        assert!(
            matches!(ended, Tries::Ran { gave_up: None, .. }),
            "{ended:?}"
        );
        assert_eq!(script.log[1], "retry 2/4: 503 Service Unavailable");
    }
}
