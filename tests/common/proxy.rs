//! A fault-and-latency proxy in front of a real test registry: mitmproxy's `mitmdump` in
//! reverse-proxy mode with the addon `fault_proxy.py` (latency on every request, 503
//! answers, connections closed before or in the middle of a body, answers lost after the
//! registry carried the request out, or a stall). mitmproxy is used rather than a
//! TCP-level proxy such as toxiproxy (or its Rust port noxious) because the faults a
//! registry's users meet are HTTP ones too: a load balancer's 503, an answer lost after
//! the manifest was stored.
//!
//! Random faults are drawn from a seed: [`Faults::seed`] takes `PACKPUSH_TEST_SEED` when
//! set, else a new one; a test prints it at the start, so that a failing run shows it.

use std::fs::{self, File};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::testbed::{Testbed, free_port};

/// What the proxy does to the requests it passes on.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Added to every request.
    pub latency_ms: u32,
    /// Shares of requests answered 503, closed after their head, cut in the middle of
    /// their answer, and lost after the registry carried them out.
    pub p503: f64,
    pub reset: f64,
    pub cut: f64,
    pub lost: f64,
    /// Hold every request forever.
    pub stall: bool,
    /// Draw faults only for requests whose "METHOD PATH" matches this regular expression.
    pub only: Option<String>,
    /// The fault `aimed.1` for the first `aimed.2` requests whose "METHOD PATH" matches
    /// the regular expression `aimed.0`.
    pub aimed: Option<(String, String, u32)>,
    pub seed: u64,
}

impl Faults {
    /// `PACKPUSH_TEST_SEED` when set, else a seed of its own.
    pub fn seed() -> u64 {
        std::env::var("PACKPUSH_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64 % 1_000_000_007)
                    .unwrap_or(1)
            })
    }

    fn options(&self) -> Vec<String> {
        let mut options = vec![
            format!("fault_seed={}", self.seed),
            format!("fault_latency_ms={}", self.latency_ms),
            format!("fault_503={}", self.p503),
            format!("fault_reset={}", self.reset),
            format!("fault_cut={}", self.cut),
            format!("fault_lost={}", self.lost),
            format!("fault_stall={}", self.stall),
        ];
        if let Some(pattern) = &self.only {
            options.push(format!("fault_where={pattern}"));
        }
        if let Some((pattern, kind, count)) = &self.aimed {
            options.push(format!("fault_match={pattern}"));
            options.push(format!("fault_match_kind={kind}"));
            options.push(format!("fault_match_count={count}"));
        }
        options
    }
}

/// A running proxy; dropping it stops it.
pub struct FaultProxy {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl FaultProxy {
    /// Starts the proxy in front of `upstream` (`127.0.0.1:PORT`, plain HTTP) and waits
    /// until it listens.
    pub fn start(upstream: &str, faults: &Faults) -> FaultProxy {
        let testbed = Testbed::get();
        let dir = tempfile::Builder::new()
            .prefix("packpush-proxy-")
            .tempdir()
            .expect("a folder for the proxy");
        let addon = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/fault_proxy.py");
        for _ in 0..5 {
            let port = free_port();
            let log = File::create(dir.path().join("proxy.log")).expect("the proxy's log");
            let mut command = Command::new(&testbed.mitmdump);
            command
                .arg("--mode")
                .arg(format!("reverse:http://{upstream}"))
                .args(["--listen-host", "127.0.0.1", "--listen-port"])
                .arg(port.to_string())
                .arg("--scripts")
                .arg(&addon)
                .args(["--set", "keep_host_header=true"])
                // Its own folder for mitmproxy's state, not the user's ~/.mitmproxy.
                .arg("--set")
                .arg(format!("confdir={}", dir.path().join("conf").display()))
                .args(["--set", "termlog_verbosity=warn"]);
            for option in faults.options() {
                command.arg("--set").arg(option);
            }
            let mut child = command
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone the log's handle"))
                .stderr(log)
                .spawn()
                .expect("start mitmdump");
            match wait_until_listening(&mut child, port, &dir.path().join("proxy.log")) {
                Ok(()) => return FaultProxy { child, port, dir },
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    if !why.contains("address already in use") {
                        panic!("the fault proxy did not start: {why}");
                    }
                }
            }
        }
        panic!("the fault proxy found no free port");
    }

    /// `127.0.0.1:PORT`: the registry, as packpush is to reach it.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("proxy.log")
    }

    /// The faults the proxy gave so far, as it logged them: `KIND METHOD PATH`.
    pub fn faults(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|l| l.split_once("fault ").map(|(_, rest)| rest))
            .filter_map(|rest| rest.split_once(' ').map(|(_, what)| what.to_string()))
            .collect()
    }
}

fn wait_until_listening(child: &mut Child, port: u16, log: &Path) -> Result<(), String> {
    let log = || fs::read_to_string(log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("poll mitmdump") {
            return Err(format!("mitmdump exited ({status}):\n{}", log()));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("mitmdump did not listen within 30 s:\n{}", log()))
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
