//! The one owner of SIGINT and SIGTERM.
//!
//! Two phases need them differently:
//! - **while a prompt is on screen** (the guide's questions, push's hidden
//!   password prompt), a signal puts the terminal back as it was (echo on,
//!   cursor shown) and exits 130 (143): nothing has run yet. A password
//!   prompt turns echo off and a menu hides the cursor; dying by the
//!   signal's default action would leave the terminal that way;
//! - **while commands run**, a signal is only recorded ([`pending`]): the
//!   runner stops the running child and the caller unwinds, so that
//!   temporary files are removed and the report says where the run stopped.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static PENDING: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
static SAVED_TERMINAL: OnceLock<Option<rustix::termios::Termios>> = OnceLock::new();
static PROMPTING: AtomicBool = AtomicBool::new(false);
static PROMPT_HANDLER: Once = Once::new();
static LEAVING: Mutex<()> = Mutex::new(());

/// Catches SIGINT and SIGTERM from here on; [`pending`] reports them.
pub fn catch() -> io::Result<()> {
    let flag = PENDING.get_or_init(|| Arc::new(AtomicUsize::new(0)));
    for sig in [SIGINT, SIGTERM] {
        signal_hook::flag::register_usize(sig, Arc::clone(flag), sig as usize)?;
    }
    Ok(())
}

/// The signal received since [`catch`], if any.
pub fn pending() -> Option<i32> {
    let value = PENDING.get()?.load(Ordering::SeqCst);
    (value != 0).then_some(value as i32)
}

/// The name of a signal, for messages.
pub fn name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGKILL => "SIGKILL",
        libc::SIGHUP => "SIGHUP",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        _ => "signal",
    }
}

/// Prompts are on screen until this is dropped: a signal meanwhile restores
/// the terminal and exits (see [`leave`]).
#[derive(Debug)]
pub struct Prompting(());

impl Drop for Prompting {
    fn drop(&mut self) {
        PROMPTING.store(false, Ordering::SeqCst);
    }
}

/// Starts the prompt phase. In the background (`timeout CMD` puts CMD in a
/// process group of its own) the terminal would stop this process at the
/// prompt, and a handler would keep SIGTERM from ending it: there the
/// default actions stay.
pub fn prompting() -> io::Result<Prompting> {
    if !foreground() {
        return Ok(Prompting(()));
    }
    let _ = SAVED_TERMINAL.set(rustix::termios::tcgetattr(io::stdin()).ok());
    // Caught from now on, so that a signal between the last answer and the
    // first command is not lost.
    catch()?;
    let mut started = Ok(());
    PROMPT_HANDLER.call_once(|| started = spawn_prompt_handler());
    started?;
    PROMPTING.store(true, Ordering::SeqCst);
    Ok(Prompting(()))
}

fn spawn_prompt_handler() -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("prompt-signals".into())
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
    rustix::termios::tcgetpgrp(io::stdin()).is_ok_and(|pgrp| pgrp == rustix::process::getpgrp())
}

/// Restores the terminal, says that nothing ran, and exits 128 + signal.
pub fn leave(signal: i32) -> ! {
    // The first caller exits; a second (the prompt that read Ctrl-C as a
    // key, and the signal it raised) waits here until then.
    let _only_one = LEAVING.lock();
    // From the background (e.g. under `timeout`), tcsetattr would stop this
    // process with SIGTTOU instead of letting it exit.
    if foreground() {
        if let Some(Some(termios)) = SAVED_TERMINAL.get() {
            let _ = rustix::termios::tcsetattr(
                io::stdin(),
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
