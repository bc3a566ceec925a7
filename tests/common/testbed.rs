//! The real components integration tests run against: a CNCF distribution registry
//! (Debian's `docker-registry`) with basic auth, real `oras` 1.2.x and 1.3.x, and `skopeo`
//! as an independent reader of what was pushed.
//!
//! `scripts/testbed setup` installs or fetches them and writes `target/testbed/env.sh`;
//! tests read the paths from the environment that file sets. A missing component is a
//! failure, never a skip: a test that silently passes without its registry proves nothing.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The registry's user and password (Harbor's defaults, as in the documented procedure).
pub const USER: &str = "admin";
pub const PASSWORD: &str = "Harbor12345";

const NOT_SET_UP: &str = "the real test components are not set up: run scripts/test \
     (or `scripts/testbed setup` and `source target/testbed/env.sh`)";

/// How long a registry may take to answer; it usually does within 50 ms.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Fresh ports to try when another process takes the chosen port first.
const START_ATTEMPTS: u32 = 5;

/// Paths of the real components, from the environment `target/testbed/env.sh` sets.
#[derive(Debug)]
pub struct Testbed {
    /// `target/testbed`.
    pub dir: PathBuf,
    /// A real `oras` reporting 1.2.x (Debian trixie).
    pub oras_1_2: PathBuf,
    /// A real `oras` reporting 1.3.x (Debian sid).
    pub oras_1_3: PathBuf,
    /// The `docker-registry` binary.
    pub registry: PathBuf,
    /// The `skopeo` binary.
    pub skopeo: PathBuf,
    /// bcrypt password file holding [`USER`] / [`PASSWORD`].
    pub htpasswd: PathBuf,
    /// Self-signed certificate for 127.0.0.1; also the CA that trusts it.
    pub cert: PathBuf,
    /// The certificate's private key.
    pub key: PathBuf,
    /// mitmproxy's `mitmdump` (the fault-and-latency proxy).
    pub mitmdump: PathBuf,
}

impl Testbed {
    /// The components, read once per test binary. Panics, listing what is missing, when
    /// the environment does not describe a complete testbed.
    pub fn get() -> &'static Testbed {
        static TESTBED: OnceLock<Testbed> = OnceLock::new();
        TESTBED.get_or_init(Testbed::from_env)
    }

    fn from_env() -> Testbed {
        let mut problems = Vec::new();
        let mut path = |name: &str| -> PathBuf {
            match std::env::var_os(name) {
                None => problems.push(format!("{name} is not set")),
                Some(value) if value.is_empty() => problems.push(format!("{name} is empty")),
                Some(value) => {
                    let path = PathBuf::from(value);
                    if !path.exists() {
                        problems.push(format!("{name}={} does not exist", path.display()));
                    }
                    return path;
                }
            }
            PathBuf::new()
        };
        let testbed = Testbed {
            dir: path("PACKPUSH_TESTBED"),
            oras_1_2: path("PACKPUSH_TEST_ORAS_1_2"),
            oras_1_3: path("PACKPUSH_TEST_ORAS_1_3"),
            registry: path("PACKPUSH_TEST_REGISTRY"),
            skopeo: path("PACKPUSH_TEST_SKOPEO"),
            htpasswd: path("PACKPUSH_TEST_HTPASSWD"),
            cert: path("PACKPUSH_TEST_CERT"),
            key: path("PACKPUSH_TEST_KEY"),
            mitmdump: path("PACKPUSH_TEST_MITMDUMP"),
        };
        if !problems.is_empty() {
            panic!("{NOT_SET_UP}\n  {}", problems.join("\n  "));
        }
        testbed
    }

    /// The real `oras` binaries with the minor version each reports, for tests that run
    /// against every one.
    pub fn orases(&self) -> [(&'static str, &Path); 2] {
        [("1.2", &self.oras_1_2), ("1.3", &self.oras_1_3)]
    }
}

/// One running registry with basic auth on a free loopback port, storage and config in its
/// own temporary directory. Dropping it kills the registry and removes the directory.
pub struct Registry {
    child: Option<Child>,
    port: u16,
    tls: bool,
    /// The user and password skopeo reads with.
    creds: (String, String),
    // Declared last: dropped after the child is gone.
    dir: TempDir,
}

impl Registry {
    /// Starts a registry (HTTPS with the testbed's self-signed certificate when `tls`) and
    /// waits until it serves. Panics with the tail of its log when it does not come up.
    pub fn start(tls: bool) -> Registry {
        Registry::launch(tls, &[])
    }

    /// Like [`Registry::start`], but the registry knows exactly `users` (name, password),
    /// e.g. a Harbor robot account whose name holds a `$`; skopeo reads as the first one.
    pub fn start_with_users(tls: bool, users: &[(&str, &str)]) -> Registry {
        assert!(
            !users.is_empty(),
            "start_with_users needs at least one user"
        );
        Registry::launch(tls, users)
    }

    fn launch(tls: bool, users: &[(&str, &str)]) -> Registry {
        let testbed = Testbed::get();
        let dir = tempfile::Builder::new()
            .prefix("packpush-registry-")
            .tempdir()
            .expect("create a temporary directory for the registry");
        let config = dir.path().join("config.yml");
        let log = dir.path().join("registry.log");
        let (htpasswd, creds) = match users.first() {
            None => (
                testbed.htpasswd.clone(),
                (USER.to_owned(), PASSWORD.to_owned()),
            ),
            Some((user, password)) => (
                write_htpasswd(dir.path(), users),
                ((*user).to_owned(), (*password).to_owned()),
            ),
        };
        if tls {
            // skopeo trusts every *.crt in its --cert-dir.
            let cert_dir = dir.path().join("skopeo-certs");
            fs::create_dir_all(&cert_dir).expect("create skopeo's certificate directory");
            fs::copy(&testbed.cert, cert_dir.join("ca.crt")).expect("copy the test certificate");
        }

        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            fs::write(
                &config,
                registry_config(testbed, dir.path(), port, tls, &htpasswd),
            )
            .expect("write the registry's config");
            let log_file = File::create(&log).expect("create the registry's log");
            let mut child = serve(&config, log_file);

            match wait_until_serving(&mut child, port, tls, &log) {
                Ok(()) => {
                    return Registry {
                        child: Some(child),
                        port,
                        tls,
                        creds,
                        dir,
                    };
                }
                Err(reason) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log_text = fs::read_to_string(&log).unwrap_or_default();
                    failures.push(format!("127.0.0.1:{port}: {reason}"));
                    // Lost the port to another process between choosing and binding it.
                    if !log_text.contains("address already in use") {
                        panic!(
                            "the registry ({}) did not come up: {}\nconfig {}:\n{}\nlog {} (tail):\n{}",
                            if tls { "TLS" } else { "plain HTTP" },
                            failures.join("; "),
                            config.display(),
                            fs::read_to_string(&config).unwrap_or_default(),
                            log.display(),
                            tail(&log_text, 20),
                        );
                    }
                }
            }
        }
        panic!(
            "the registry did not come up after {START_ATTEMPTS} ports: {}\nlast log (tail):\n{}",
            failures.join("; "),
            tail(&fs::read_to_string(&log).unwrap_or_default(), 20)
        );
    }

    /// `127.0.0.1:PORT`, as used in references.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The certificate the registry serves (self-signed: it is its own CA).
    pub fn cert(&self) -> &'static Path {
        &Testbed::get().cert
    }

    /// The registry's own temporary directory (config, storage, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the registry logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Manifest writes the registry served under `repo` (after the host), from its access
    /// log (one line per request): a push uploads one; a look-up or a read-back none.
    pub fn manifest_puts(&self, repo: &str) -> usize {
        let needle = format!("\"PUT /v2/{repo}/manifests/");
        self.log().lines().filter(|l| l.contains(&needle)).count()
    }

    /// The requests that would change the registry (uploads, manifests, deletes), from its
    /// access log.
    pub fn write_requests(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| {
                ["\"PUT ", "\"POST ", "\"PATCH ", "\"DELETE "]
                    .iter()
                    .any(|m| l.contains(m))
            })
            .map(str::to_owned)
            .collect()
    }

    /// The flags every `oras` command needs to reach this registry and trust it:
    /// `--plain-http`, or `--ca-file CERT`.
    pub fn oras_tls_args(&self) -> Vec<OsString> {
        if self.tls {
            vec!["--ca-file".into(), self.cert().into()]
        } else {
            vec!["--plain-http".into()]
        }
    }

    /// Starts the registry again after [`Registry::stop`], on the same port with the same
    /// storage and config, and waits until it serves.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the registry is still running");
        let config = self.dir.path().join("config.yml");
        let log = self.dir.path().join("registry.log");
        let log_file = fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("open the registry's log");
        let mut child = serve(&config, log_file);
        if let Err(reason) = wait_until_serving(&mut child, self.port, self.tls, &log) {
            let _ = child.kill();
            panic!(
                "the registry did not come back on {}: {reason}",
                self.addr()
            );
        }
        self.child = Some(child);
    }

    /// [`Registry::oras_tls_args`] as strings, for packpush's command line (the same flags).
    pub fn tls_flags(&self) -> Vec<String> {
        self.oras_tls_args()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    /// Kills the registry and waits for it; afterwards its port refuses connections.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A `127.0.0.1:PORT` where nothing listens, for connection-refused tests.
    pub fn closed_port() -> String {
        format!("127.0.0.1:{}", free_port())
    }

    fn skopeo_cert_dir(&self) -> PathBuf {
        self.dir.path().join("skopeo-certs")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback port that refuses connections for as long as this value lives: a socket is
/// bound to it but never listens, and (without SO_REUSEADDR) no other program can take the
/// port meanwhile. For runs that must never reach a registry: whatever they do, nothing can
/// be pushed there.
#[derive(Debug)]
pub struct ClosedPort {
    /// Held, never read: it keeps the port taken.
    socket: OwnedFd,
    port: u16,
}

impl ClosedPort {
    pub fn hold() -> ClosedPort {
        use rustix::net::{AddressFamily, SocketAddrV4, SocketFlags, SocketType};
        let socket = rustix::net::socket_with(
            AddressFamily::INET,
            SocketType::STREAM,
            SocketFlags::CLOEXEC,
            None,
        )
        .expect("socket");
        rustix::net::bind(&socket, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let address = rustix::net::getsockname(&socket).expect("getsockname");
        let port = SocketAddrV4::try_from(address)
            .expect("an IPv4 address")
            .port();
        ClosedPort { socket, port }
    }

    /// `127.0.0.1:PORT`, as used in references.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn registry_config(testbed: &Testbed, dir: &Path, port: u16, tls: bool, htpasswd: &Path) -> String {
    // Debug formatting yields a double-quoted string with escapes, which YAML reads alike.
    let quoted = |path: &Path| format!("{:?}", path.to_str().expect("UTF-8 path"));
    let tls_line = if tls {
        format!(
            "  tls: {{certificate: {}, key: {}}}\n",
            quoted(&testbed.cert),
            quoted(&testbed.key)
        )
    } else {
        String::new()
    };
    format!(
        "version: 0.1\n\
         log: {{level: info}}\n\
         storage:\n  filesystem: {{rootdirectory: {data}}}\n  delete: {{enabled: true}}\n\
         http:\n  addr: 127.0.0.1:{port}\n{tls_line}\
         auth:\n  htpasswd: {{realm: basic-realm, path: {htpasswd}}}\n",
        data = quoted(&dir.join("data")),
        htpasswd = quoted(htpasswd),
    )
}

/// Writes `DIR/htpasswd` holding `users` (bcrypt, as the registry requires), with `htpasswd`.
fn write_htpasswd(dir: &Path, users: &[(&str, &str)]) -> PathBuf {
    let mut text = String::new();
    for (user, password) in users {
        let output = Command::new("htpasswd")
            .args(["-Bbn", user, password])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|error| panic!("could not run htpasswd (apache2-utils): {error}"));
        assert!(
            output.status.success(),
            "htpasswd -Bbn {user} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        text.push_str(String::from_utf8_lossy(&output.stdout).trim_end());
        text.push('\n');
    }
    let path = dir.join("htpasswd");
    fs::write(&path, text).expect("write the registry's htpasswd");
    path
}

/// A port the kernel just handed out and nobody holds now.
/// `docker-registry serve CONFIG`, its output into `log`.
fn serve(config: &Path, log: File) -> Child {
    let registry = &Testbed::get().registry;
    let mut command = Command::new(registry);
    command
        .arg("serve")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone the log's handle"))
        .stderr(log);
    // REGISTRY_* variables would override the config file.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("REGISTRY_") {
            command.env_remove(name);
        }
    }
    command
        .spawn()
        .unwrap_or_else(|error| panic!("could not start {}: {error}", registry.display()))
}

pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// Waits until the registry answers `GET /v2/` and its log says it holds the port (so the
/// answer cannot come from another process that took the port).
fn wait_until_serving(child: &mut Child, port: u16, tls: bool, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("poll the registry") {
            return Err(format!("exited at start ({})", describe(status)));
        }
        let last = match status_line(port) {
            Ok(line) => {
                // Plain HTTP: 401 (auth required). HTTPS: Go answers a plain-HTTP request on a
                // TLS port with 400 "Client sent an HTTP request to an HTTPS server"; the TLS
                // handshake itself is proven by the tests that use the registry.
                let expected = if tls { " 400 " } else { " 401 " };
                let listening = fs::read_to_string(log)
                    .map(|text| text.contains("listening on"))
                    .unwrap_or(false);
                if line.contains(expected) && listening {
                    return Ok(());
                }
                format!("answered {line:?}")
            }
            Err(error) => error,
        };
        if Instant::now() >= deadline {
            return Err(format!("not serving after {START_TIMEOUT:?}: {last}"));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The first line of the answer to a plain-HTTP `GET /v2/` on 127.0.0.1:PORT.
fn status_line(port: u16) -> Result<String, String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let timeout = Duration::from_secs(2);
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|error| format!("connect: {error}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|error| error.to_string())?;
    write!(
        stream,
        "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .map_err(|error| format!("send: {error}"))?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 512];
    while !answer.contains(&b'\n') {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(error) => return Err(format!("read: {error}")),
        }
    }
    let text = String::from_utf8_lossy(&answer);
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

fn describe(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => format!("{status}"),
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The raw manifest bytes of `docker://ADDR/REFERENCE` (reference = `repo:tag` or
/// `repo@digest`, without the host), read by skopeo. `Err` carries skopeo's stderr.
pub fn inspect_raw(registry: &Registry, reference: &str) -> Result<Vec<u8>, String> {
    skopeo(registry, &["inspect", "--raw"], reference)
}

/// The tags of `docker://ADDR/REPO`, read by skopeo. `Err` carries skopeo's stderr.
pub fn list_tags(registry: &Registry, repo: &str) -> Result<Vec<String>, String> {
    let out = skopeo(registry, &["list-tags"], repo)?;
    let json: serde_json::Value = serde_json::from_slice(&out).map_err(|error| {
        format!(
            "skopeo list-tags printed no JSON ({error}): {}",
            String::from_utf8_lossy(&out)
        )
    })?;
    let tags = json["Tags"]
        .as_array()
        .ok_or_else(|| format!("skopeo list-tags printed no Tags array: {json}"))?;
    Ok(tags
        .iter()
        .map(|tag| tag.as_str().unwrap_or_default().to_owned())
        .collect())
}

fn skopeo(registry: &Registry, subcommand: &[&str], reference: &str) -> Result<Vec<u8>, String> {
    let testbed = Testbed::get();
    let image = format!(
        "docker://{}/{}",
        registry.addr(),
        reference.trim_start_matches('/')
    );
    let home = registry.dir().join("skopeo-home");
    fs::create_dir_all(&home).expect("create skopeo's home");
    let mut command = Command::new(&testbed.skopeo);
    command
        .args(subcommand)
        .arg("--creds")
        .arg(format!("{}:{}", registry.creds.0, registry.creds.1));
    if registry.tls() {
        command.arg("--cert-dir").arg(registry.skopeo_cert_dir());
    } else {
        command.arg("--tls-verify=false");
    }
    command
        .arg(&image)
        .stdin(Stdio::null())
        // Credentials come only from --creds: no auth files of the person running the tests.
        .env("HOME", &home)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG");
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("could not run {}: {error}", testbed.skopeo.display()));
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!(
            "skopeo {} {image} failed ({}): {}",
            subcommand.join(" "),
            describe(output.status),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
