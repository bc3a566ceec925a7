//! The command line: clap definitions and help text only.

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand};

const PUSH_EXAMPLES: &str = "\
Examples:
  # a person at a terminal (prompts for the password)
  packpush push ./mypack --registry harbor.example.com --project spectro-oci-registry --username admin

  # CI or a Makefile: everything from the environment, password on stdin
  export HARBOR_ADDRESS=harbor.example.com HARBOR_PROJECT=spectro-oci-registry HARBOR_USERNAME='robot$packs+ci'
  printf '%s' \"$HARBOR_PASSWORD\" | packpush push ./mypack --password-stdin

  # show the exact commands without running anything
  packpush push ./mypack --registry harbor.example.com --project packs --username admin --dry-run";

const DOCTOR_EXAMPLES: &str = "\
Examples:
  # oras and tar from PATH (exactly ORAS 1.0.0 is accepted)
  packpush doctor

  # a newer oras, named explicitly; the result as JSON for a script
  packpush doctor --oras /opt/oras-1.2.0/oras --allow-newer-oras --output json";

const CHECK_EXAMPLES: &str = "\
Examples:
  # check a pack before anyone has registry credentials
  packpush check ./mypack

  # in CI: errors only, the findings as JSON on stdout
  packpush check ./mypack --quiet --output json";

const LIST_EXAMPLES: &str = "\
Examples:
  # every pack and version Palette will find in the project
  packpush list --registry harbor.example.com --project spectro-oci-registry --username admin

  # two packs only, their archives downloaded and checked too; JSON for CI
  printf '%s' \"$HARBOR_PASSWORD\" | packpush list mypack otherpack --deep --password-stdin --output json";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  packpush completions bash > ~/.local/share/bash-completion/completions/packpush
  packpush completions zsh > ~/.zfunc/_packpush      # a folder on $fpath
  packpush completions fish > ~/.config/fish/completions/packpush.fish";

const MAN_EXAMPLES: &str = "\
Examples:
  packpush man | man -l -                   # read it now
  packpush man push | man -l -              # the page of `packpush push`
  packpush man --dir ~/.local/share/man/man1   # install every page";

const GUIDE_EXAMPLES: &str = "\
Examples:
  # asks for everything, offering the pack folders found here
  packpush guide

  # asks only for the password
  packpush guide ./mypack --registry harbor.example.com --project packs --username admin";

/// Push Spectro Cloud Palette packs to an OCI registry, exactly as Palette's
/// documentation prescribes: ORAS 1.0.0, tar, an empty base-path artifact,
/// then the pack, verified by reading back what the registry holds.
///
/// An option given twice takes its last value (`--output json --output
/// human` is human), so a flag set in a variable such as PACKPUSH_FLAGS can
/// be overridden later on the command line.
#[derive(Debug, Parser)]
#[command(
    name = "packpush",
    version,
    long_version = crate::build_info::long_version(),
    propagate_version = false,
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Archive a pack folder and push it to REGISTRY/PROJECT/spectro-packs/archive/NAME:VERSION.
    #[command(after_help = PUSH_EXAMPLES)]
    Push(Box<PushArgs>),
    /// Check that oras and tar are present and usable (the preflight alone).
    #[command(after_help = DOCTOR_EXAMPLES)]
    Doctor(DoctorArgs),
    /// Check a pack folder without pushing it (the pack checks of the preflight).
    ///
    /// Checks pack.json's fields, values.yaml, logo.png, the files pack.json
    /// names, and that tar can archive every file: no links leaving the
    /// folder, none dangling, no special files. Exit 0 (warnings allowed) or 3.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Show what Palette will find in the registry: every pack, every version, and whether Palette can use it.
    ///
    /// Reads, through oras and without changing anything, every pack
    /// repository under REGISTRY/PROJECT/spectro-packs/archive (or only the
    /// NAMEs given) and each version's manifest: its digest, its layer's
    /// title and size, its creation time, and whether it has the shape
    /// Palette expects. Also whether the base path exists, and which
    /// repositories lie outside it. Exit 0 when Palette can use every
    /// version, 7 when it cannot use one (each is named, with why).
    #[command(after_help = LIST_EXAMPLES)]
    List(Box<ListArgs>),
    /// Push a pack step by step at a terminal, asking for what is missing.
    ///
    /// Asks for what the command line and the environment leave out, shows
    /// the plan, runs the same push as `packpush push` with live progress, and
    /// ends with what to enter in Palette. Needs a terminal; scripts use
    /// `packpush push`.
    #[command(
        after_help = GUIDE_EXAMPLES,
        mut_arg("registry", |a| a.help(
            "The registry host, with an optional port (a pasted https://... is corrected)"
        )),
        mut_arg("username", |a| a.help(
            "The registry user name. The password is asked for (hidden), unless HARBOR_PASSWORD is set"
        )),
    )]
    Guide(Box<GuideArgs>),
    /// Print a shell completion script for packpush on stdout.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print packpush's manual page (roff) on stdout, or write every page into a folder.
    #[command(after_help = MAN_EXAMPLES)]
    Man {
        /// The command whose page to print (e.g. push); default: packpush itself.
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
        /// Write every page (packpush.1, packpush-push.1, ...) into this folder.
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        dir: Option<Utf8PathBuf>,
    },
}

/// Where oras and tar are, and which oras versions are accepted.
#[derive(Debug, Args, Clone)]
pub struct ToolArgs {
    #[command(flatten)]
    pub oras: OrasArgs,
    /// The tar program to use (default: `tar` on PATH).
    #[arg(long, env = "PACKPUSH_TAR", value_name = "PATH")]
    pub tar: Option<Utf8PathBuf>,
}

/// Where oras is, and which oras versions are accepted.
#[derive(Debug, Args, Clone)]
pub struct OrasArgs {
    /// The oras program to use (default: `oras` on PATH).
    #[arg(long = "oras", id = "oras", env = "PACKPUSH_ORAS", value_name = "PATH")]
    pub program: Option<Utf8PathBuf>,
    /// Accept ORAS 1.1.0 or later and make it write 1.0.0-shaped manifests
    /// (`oras push --image-spec v1.0`). Without it, exactly ORAS 1.0.0 is required.
    #[arg(long)]
    pub allow_newer_oras: bool,
}

/// The registry, the project, the user and how oras reaches the registry:
/// the same flags and environment variables for every command that talks
/// to the registry (push, list, guide).
#[derive(Debug, Args, Clone)]
pub struct RegistryArgs {
    /// The registry host, with an optional port and no scheme (e.g. harbor.example.com).
    #[arg(long, env = "HARBOR_ADDRESS", value_name = "HOST[:PORT]")]
    pub registry: Option<String>,
    /// The Harbor project that holds the packs (it must exist already).
    #[arg(long, env = "HARBOR_PROJECT")]
    pub project: Option<String>,
    /// The registry user name (a Harbor robot account looks like 'robot$PROJECT+NAME').
    #[arg(long, env = "HARBOR_USERNAME")]
    pub username: Option<String>,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// The registry and how packpush logs in without asking: push and list.
#[derive(Debug, Args, Clone)]
pub struct ConnectionArgs {
    #[command(flatten)]
    pub target: RegistryArgs,
    /// Read the password from standard input. Otherwise the HARBOR_PASSWORD
    /// environment variable is used, or a hidden prompt when stdin is a terminal.
    #[arg(long)]
    pub password_stdin: bool,
    /// The file where oras keeps the login. Default: a private temporary file,
    /// deleted when packpush exits, so nothing is left on the host.
    #[arg(long, value_name = "FILE")]
    pub registry_config: Option<Utf8PathBuf>,
    /// Do not log in; use the credentials already in --registry-config (or oras's default store).
    #[arg(long)]
    pub skip_login: bool,
    /// Never prompt; a missing value is an error.
    #[arg(long)]
    pub non_interactive: bool,
}

/// How oras reaches the registry; passed to every oras call.
#[derive(Debug, Args, Clone)]
pub struct TlsArgs {
    /// The registry speaks plain HTTP (no TLS).
    #[arg(long, conflicts_with_all = ["insecure", "ca_file"])]
    pub plain_http: bool,
    /// Use TLS but do not verify the registry's certificate.
    #[arg(long, conflicts_with = "ca_file")]
    pub insecure: bool,
    /// Trust the registry's certificate through this CA certificate (PEM).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<Utf8PathBuf>,
}

/// How long each command may take, and how often a command that failed
/// for a transient reason is tried again.
#[derive(Debug, Args, Clone, PartialEq, Eq)]
pub struct LimitArgs {
    /// Stop a command (oras, tar, and everything it started) that reads and
    /// writes nothing for this long, e.g. a registry that accepts the
    /// connection and never answers (e.g. 30s, 5m; at least 1s); the command
    /// is then tried again like any transient failure. `none` waits as long
    /// as it takes.
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_STALL_TIMEOUT, value_parser = Limit::parse)]
    pub stall_timeout: Limit,
    /// Stop any oras or tar command that runs longer than this, whatever it
    /// does (e.g. 30m, 2h; at least 1s). The limit applies to each try of
    /// each command on its own, not to a whole step or run. Default: none.
    #[arg(long, value_name = "DURATION", default_value = "none", value_parser = Limit::parse)]
    pub timeout: Limit,
    /// Try a registry command again this many times after a transient
    /// failure (could not connect, connection reset or closed, TLS handshake
    /// time-out, HTTP 408, 429, 500, 502, 503, 504, a stalled or timed-out
    /// command), with growing pauses (about 1 s, 2 s, 4 s, ... up to 30 s).
    /// Never for refused credentials, a missing project, an immutable tag, a
    /// rejected manifest or anything local.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RETRIES, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: u32,
}

pub const DEFAULT_STALL_TIMEOUT: &str = "60s";
pub const DEFAULT_RETRIES: u32 = 3;

impl Default for LimitArgs {
    /// The defaults the command line has.
    fn default() -> Self {
        LimitArgs {
            stall_timeout: Limit::parse(DEFAULT_STALL_TIMEOUT).unwrap_or(Limit(None)),
            timeout: Limit(None),
            retries: DEFAULT_RETRIES,
        }
    }
}

/// A time limit, or none (`none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Option<std::time::Duration>);

impl Limit {
    /// `none`, or a duration of at least one second (`90s`, `10m`, `1h`).
    pub fn parse(value: &str) -> Result<Limit, String> {
        if matches!(value.trim(), "none" | "off") {
            return Ok(Limit(None));
        }
        let duration = humantime::parse_duration(value.trim()).map_err(|e| {
            format!("'{value}' is not a duration: {e} (write e.g. 90s, 10m or 1h, or none)")
        })?;
        if duration < std::time::Duration::from_secs(1) {
            return Err(format!(
                "'{value}' is shorter than one second, which no command can finish in \
                 (write e.g. 90s or 10m, or none for no limit)"
            ));
        }
        Ok(Limit(Some(duration)))
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => f.write_str("none"),
            Some(duration) => write!(f, "{}", humantime::format_duration(duration)),
        }
    }
}

/// How results are reported.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// `human`: progress for people; `json`: one JSON document on stdout at the
    /// end (human text then goes to stderr).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub output: Format,
    /// Print errors only.
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print every command, including read-only look-ups and tool probes, and
    /// all of the children's output.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Pack folders (each holding pack.json, values.yaml, logo.png, ...).
    #[arg(value_name = "PACK_DIR", required_unless_present_any = ["from", "archive"])]
    pub pack_dirs: Vec<Utf8PathBuf>,
    /// Also push every pack folder found under DIR (folders holding a pack.json).
    #[arg(long, value_name = "DIR")]
    pub from: Option<Utf8PathBuf>,
    /// Push an archive built elsewhere (named NAME-VERSION.tar.gz, holding one
    /// pack folder whose pack.json matches); the tar step becomes a check. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub archive: Vec<Utf8PathBuf>,
    /// How many packs to archive and push at the same time.
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The pack name; default: pack.json "name". If given, it must equal pack.json.
    #[arg(long, env = "NAME")]
    pub name: Option<String>,
    /// The pack version; default: pack.json "version". If given, it must equal pack.json.
    #[arg(long, env = "VERSION")]
    pub version: Option<String>,

    #[command(flatten)]
    pub tools: ToolArgs,

    /// Where the archive is written and kept. Default: a temporary folder,
    /// removed after a successful push (kept, and its path printed, when a push fails).
    /// An archive already there is used if it has the very bytes this run would
    /// write, and refused otherwise.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<Utf8PathBuf>,
    /// Print the plan (the exact commands, in order) and exit: runs nothing, touches nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace a version that the registry holds with different content.
    /// Without it, such a push is refused (exit 6).
    #[arg(long)]
    pub overwrite: bool,
    /// Push even if the pack breaks a pack.json or folder rule (the output says so).
    #[arg(long)]
    pub skip_pack_checks: bool,
    /// Byte-identical archives for identical pack content: only names, contents,
    /// link targets and executable bits count, not file times, owners or other
    /// mode bits (GNU tar only). Times come from SOURCE_DATE_EPOCH, else
    /// 1980-01-01T00:00:00Z, also for the manifests' creation time.
    #[arg(long)]
    pub reproducible: bool,
    /// Compress with this program instead of gzip (e.g. pigz, a parallel gzip),
    /// passed to tar as `-I PROG`.
    #[arg(long, value_name = "PROG")]
    pub compress_program: Option<String>,
    /// Where packpush remembers which archive each pack content gave, so that an
    /// unchanged pack the registry holds is not archived again. Default:
    /// $XDG_CACHE_HOME/packpush, else ~/.cache/packpush.
    #[arg(long, env = "PACKPUSH_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<Utf8PathBuf>,
    /// Use no archive cache: every pack folder is archived (wins over --cache-dir).
    #[arg(long)]
    pub no_cache: bool,
    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub report: OutputArgs,
}

#[derive(Debug, Args)]
pub struct GuideArgs {
    /// The pack folder. Default: choose among the folders here that hold a pack.json.
    #[arg(value_name = "PACK_DIR")]
    pub pack_dir: Option<Utf8PathBuf>,
    #[command(flatten)]
    pub target: RegistryArgs,
    #[command(flatten)]
    pub tools: ToolArgs,
    /// Where the archive is written and kept (as for push).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<Utf8PathBuf>,
    /// Replace a version that the registry holds with different content.
    #[arg(long)]
    pub overwrite: bool,
    /// Push even if the pack breaks a pack.json or folder rule.
    #[arg(long)]
    pub skip_pack_checks: bool,
    /// Byte-identical archives and manifests for identical pack content (as for push).
    #[arg(long)]
    pub reproducible: bool,
    /// Compress with this program instead of gzip (e.g. pigz).
    #[arg(long, value_name = "PROG")]
    pub compress_program: Option<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only these packs (repository names under spectro-packs/archive).
    /// Default: every repository the registry lists.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub oras: OrasArgs,
    /// Also download each version's archive and check it: its digest and
    /// size, one pack folder whose pack.json name and version are the
    /// repository's and the tag's, and the rules of `packpush check`.
    #[arg(long)]
    pub deep: bool,
    /// How many repositories to read at the same time.
    #[arg(long, short, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub report: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The pack folder (holding pack.json, values.yaml, logo.png, ...).
    #[arg(value_name = "PACK_DIR")]
    pub pack_dir: Utf8PathBuf,
    #[command(flatten)]
    pub report: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub tools: ToolArgs,
    /// Never prompt (doctor never does; accepted for symmetry with push).
    #[arg(long)]
    pub non_interactive: bool,
    #[command(flatten)]
    pub report: OutputArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn limits_are_none_or_at_least_a_second() {
        assert_eq!(Limit::parse("none"), Ok(Limit(None)));
        assert_eq!(
            Limit::parse("90s"),
            Ok(Limit(Some(std::time::Duration::from_secs(90))))
        );
        assert_eq!(Limit::parse("1s").unwrap().to_string(), "1s");
        assert_eq!(Limit::parse("1h 30m").unwrap().to_string(), "1h 30m");
        for short in ["0s", "1ms", "999ms"] {
            assert!(
                Limit::parse(short)
                    .unwrap_err()
                    .contains("shorter than one second"),
                "{short}"
            );
        }
        assert!(Limit::parse("soon").unwrap_err().contains("not a duration"));
    }
}
