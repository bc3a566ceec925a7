//! packpush running in the background, and the processes it starts, from `/proc`.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::packpush::{Run, Sandbox};

/// The most any one run in the background may take.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// packpush running in the background, its output collected by two threads. Dropping it
/// kills packpush if it still runs.
#[derive(Debug)]
pub struct Live {
    child: Child,
    started: Instant,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Live {
    /// Starts `command` with `stdin` written to it and closed.
    pub fn spawn(mut command: Command, stdin: &str) -> Live {
        let started = Instant::now();
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start packpush");
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin.as_bytes()).expect("write stdin");
        drop(input);
        let reader = |mut pipe: Box<dyn Read + Send>| {
            thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                bytes
            })
        };
        let stdout = reader(Box::new(child.stdout.take().expect("stdout")));
        let stderr = reader(Box::new(child.stderr.take().expect("stderr")));
        Live {
            child,
            started,
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// Starts packpush in `sandbox` with `args`.
    pub fn start(sandbox: &Sandbox, args: &[String], stdin: &str) -> Live {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Live::spawn(sandbox.command(&args), stdin)
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pid")
    }

    pub fn exited(&mut self) -> bool {
        self.child.try_wait().expect("poll packpush").is_some()
    }

    /// Waits for the end (at most [`RUN_LIMIT`]) and returns what packpush printed.
    pub fn finish(self) -> Run {
        self.finish_timed().0
    }

    /// Waits for the end (at most [`RUN_LIMIT`]); returns what packpush printed and how
    /// long it ran.
    pub fn finish_timed(self) -> (Run, Duration) {
        self.finish_within(RUN_LIMIT)
    }

    /// Waits for the end, at most `limit` from the start; returns what packpush printed
    /// and how long it ran.
    pub fn finish_within(mut self, limit: Duration) -> (Run, Duration) {
        let deadline = self.started + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll packpush") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("packpush ran longer than {limit:?} and was killed");
            }
            thread::sleep(Duration::from_millis(5));
        };
        let took = self.started.elapsed();
        let bytes = |handle: Option<JoinHandle<Vec<u8>>>| {
            handle.expect("reader").join().expect("reader thread")
        };
        let run = Run::new(
            status.code().unwrap_or(-1),
            &bytes(self.stdout.take()),
            &bytes(self.stderr.take()),
        );
        (run, took)
    }

    /// What a run that already ended printed, taken out of `self` (which is left spent).
    pub fn ended_output(&mut self) -> (Run, Duration) {
        let bytes = |handle: Option<JoinHandle<Vec<u8>>>| {
            handle
                .map(|h| h.join().unwrap_or_default())
                .unwrap_or_default()
        };
        let code = self
            .child
            .try_wait()
            .ok()
            .flatten()
            .and_then(|s| s.code())
            .unwrap_or(-1);
        let run = Run::new(code, &bytes(self.stdout.take()), &bytes(self.stderr.take()));
        (run, self.started.elapsed())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Parent of every process, from `/proc/*/stat`.
pub fn parents() -> HashMap<i32, i32> {
    let mut map = HashMap::new();
    for entry in fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
            continue;
        };
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            map.insert(pid, ppid);
        }
    }
    map
}

/// Every living descendant of `root`.
pub fn descendants(root: i32) -> Vec<i32> {
    let parents = parents();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (&pid, &ppid) in &parents {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
                frontier.push(pid);
            }
        }
    }
    found
}

/// Sends `signal` to `pid` (negative: a process group), asserting that kill(2) succeeded.
pub fn send_signal(pid: i32, signal: i32) {
    assert!(try_signal(pid, signal), "kill({pid}, {signal}) failed");
}

/// Sends `signal` to `pid` (negative: a process group); false when no such process exists
/// any more.
pub fn try_signal(pid: i32, signal: i32) -> bool {
    use rustix::process::{Pid, Signal, kill_process, kill_process_group};
    let Some(signal) = Signal::from_named_raw(signal) else {
        return false;
    };
    match Pid::from_raw(pid.abs()) {
        Some(target) if pid < 0 => kill_process_group(target, signal).is_ok(),
        Some(target) => kill_process(target, signal).is_ok(),
        None => false,
    }
}
