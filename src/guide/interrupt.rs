//! Ctrl-C (or SIGTERM) while the guide asks: the terminal is put back as it
//! was (echo on, cursor shown) and the guide exits 130 (143). A password
//! prompt turns echo off and a menu hides the cursor; dying by the signal's
//! default action would leave the terminal that way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static SAVED: OnceLock<Option<rustix::termios::Termios>> = OnceLock::new();
static PROMPTING: AtomicBool = AtomicBool::new(true);
static LEAVING: Mutex<()> = Mutex::new(());

pub(crate) fn install() -> std::io::Result<()> {
    // In the background (`timeout CMD` puts CMD in a process group of its
    // own) the terminal stops this process at the prompt; a handler would
    // then keep SIGTERM from ending it. The default actions stay.
    if !foreground() {
        return Ok(());
    }
    let _ = SAVED.set(rustix::termios::tcgetattr(std::io::stdin()).ok());
    // The runner's flag, caught from now on, so that a signal between
    // the last answer and the first step is not lost.
    crate::run::catch_signals()?;
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("guide-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if PROMPTING.load(Ordering::SeqCst) {
                    leave(signal);
                }
            }
        })?;
    Ok(())
}

/// Whether this process is in the terminal's foreground process group: only
/// then may it change the terminal's settings without being stopped.
fn foreground() -> bool {
    rustix::termios::tcgetpgrp(std::io::stdin())
        .is_ok_and(|pgrp| pgrp == rustix::process::getpgrp())
}

/// The questions are over: from now on the runner handles signals.
pub(crate) fn prompts_done() {
    PROMPTING.store(false, Ordering::SeqCst);
}

/// Restores the terminal, says that nothing ran, and exits 128 + signal.
pub(crate) fn leave(signal: i32) -> ! {
    // The first caller exits; a second (the prompt that read Ctrl-C as a
    // key, and the signal it raised) waits here until then.
    let _only_one = LEAVING.lock();
    // Only the terminal's foreground process group may change its settings:
    // from the background (e.g. under `timeout`), tcsetattr would stop this
    // process with SIGTTOU instead of letting it exit.
    if foreground() {
        if let Some(Some(termios)) = SAVED.get() {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                termios,
            );
        }
        let _ = console::Term::stderr().show_cursor();
    }
    eprintln!(
        "\n\nInterrupted: nothing was run, nothing was pushed, and your files are unchanged."
    );
    std::process::exit(128 + signal)
}
