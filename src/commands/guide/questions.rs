//! The guide's questions: only for what the command line and the
//! environment left out, each answer checked as it is typed.

use camino::{Utf8Path, Utf8PathBuf};
use dialoguer::{Password, Select};

use super::screen::Screen;
use super::{Answers, line};
use crate::cli::GuideArgs;
use crate::error::{Class, Failure};
use crate::hints::Wording;
use crate::pack::{self, Walk};
use crate::preflight::{Provenance, password};
use crate::reference;
use crate::secret::{REDACTED, Secret};
use crate::signals;
use crate::tools::oras::{self, CaFileProblem, Tls};

/// Every answer the push needs.
pub(super) fn ask(
    args: &GuideArgs,
    provenance: &Provenance<'_>,
    screen: &Screen,
) -> Result<Answers, Failure> {
    let registry = ask_registry(args, provenance, screen)?;
    let given_tls = Tls::given(&args.target.tls);
    let tls_asked = given_tls.is_none();
    let tls = match given_tls {
        Some(tls) => tls,
        None => ask_tls(screen, registry.scheme.as_deref())?,
    };
    let project = ask_project(args, provenance, screen)?;
    let pack_dir = match &args.pack_dir {
        Some(dir) => {
            screen.given("Pack folder", dir.as_str(), "from the command line");
            dir.clone()
        }
        None => ask_pack_dir(screen)?,
    };
    let username_asked = given_username(args).is_none();
    let username = ask_username(args, provenance, screen)?;
    let password = ask_password(&username, &registry.host, screen)?;
    Ok(Answers {
        registry: registry.host,
        tls,
        project,
        pack_dir,
        username,
        password,
        wording: Wording {
            username_asked,
            tls_asked,
        },
    })
}

/// The registry: given (a pasted URL is cut down to the host, and said so)
/// or asked for.
fn ask_registry(
    args: &GuideArgs,
    provenance: &Provenance<'_>,
    screen: &Screen,
) -> Result<CleanRegistry, Failure> {
    let given = args.target.registry.as_deref().and_then(|raw| {
        let from = provenance.describe("registry", "--registry", "HARBOR_ADDRESS");
        match clean_registry(raw) {
            Ok(clean) => {
                screen.given("Registry", &clean.host, &from);
                Some(clean)
            }
            Err(why) => {
                screen.err_wrapped(
                    &format!("The registry {from} is not usable: {why}"),
                    "",
                    "  ",
                );
                None
            }
        }
    });
    let registry = match given {
        Some(clean) => clean,
        None => {
            let raw = line::ask(screen, "Registry host (e.g. harbor.example.com)", |raw| {
                clean_registry(raw).map(|_| ())
            })?;
            clean_registry(&raw).map_err(|why| Failure::new(Class::Usage, why))?
        }
    };
    if let Some(note) = &registry.note {
        screen.err_wrapped(note, "  ", "  ");
    }
    Ok(registry)
}

fn ask_project(
    args: &GuideArgs,
    provenance: &Provenance<'_>,
    screen: &Screen,
) -> Result<String, Failure> {
    let from = provenance.describe("project", "--project", "HARBOR_PROJECT");
    match &args.target.project {
        Some(project) if reference::check_component(project, "project", "").is_ok() => {
            screen.given("Harbor project", project, &from);
            return Ok(project.clone());
        }
        Some(project) => screen.err_wrapped(
            &format!(
                "The project '{project}' {from} is not usable: {}",
                component_hint(project)
            ),
            "",
            "  ",
        ),
        None => {}
    }
    line::ask(screen, "Harbor project (it must exist already)", |p| {
        reference::check_component(p, "project", "").map_err(|_| component_hint(p))
    })
}

fn ask_username(
    args: &GuideArgs,
    provenance: &Provenance<'_>,
    screen: &Screen,
) -> Result<String, Failure> {
    if let Some(user) = given_username(args) {
        screen.given(
            "User name",
            user,
            &provenance.describe("username", "--username", "HARBOR_USERNAME"),
        );
        return Ok(user.to_string());
    }
    line::ask(screen, "User name", |u| {
        if u.is_empty() {
            Err("type the registry user name".into())
        } else {
            Ok(())
        }
    })
}

/// The user name the command line or the environment gave, if not blank.
fn given_username(args: &GuideArgs) -> Option<&str> {
    args.target
        .username
        .as_deref()
        .filter(|u| !u.trim().is_empty())
}

/// As for push: HARBOR_PASSWORD, when set and not empty, is the password.
fn ask_password(username: &str, host: &str, screen: &Screen) -> Result<Secret, Failure> {
    if let Some(secret) = password::from_env() {
        screen.given(
            "Password",
            REDACTED,
            "from the environment variable HARBOR_PASSWORD",
        );
        return Ok(secret);
    }
    // The prompt stays on one row: a long user name or host is shortened.
    let question = format!("Password for {username} at {host}");
    let question = console::truncate_str(&question, screen.width().saturating_sub(16), "…");
    let value = prompt(
        Password::with_theme(screen.theme())
            .with_prompt(question)
            .interact(),
    )?;
    Ok(Secret::new(value))
}

/// A registry address as oras wants it, and what was cut away.
#[derive(Debug)]
pub(super) struct CleanRegistry {
    pub(super) host: String,
    /// `http` or `https`, if one was pasted.
    scheme: Option<String>,
    /// What was corrected, for the person.
    note: Option<String>,
}

/// `https://harbor.example.com/harbor/projects` becomes
/// `harbor.example.com`, with a note saying why; anything still wrong is an
/// error that fits one line.
fn clean_registry(raw: &str) -> Result<CleanRegistry, String> {
    let trimmed = raw.trim();
    let (scheme, rest) = match trimmed.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, trimmed),
    };
    let (host, path) = match rest.split_once('/') {
        Some((host, path)) => (host, Some(path)),
        None => (rest, None),
    };
    if let Some(scheme) = &scheme
        && scheme != "http"
        && scheme != "https"
    {
        return Err(format!(
            "'{scheme}://' is not a registry scheme; type the host name"
        ));
    }
    reference::check_registry(host, "as typed").map_err(|p| p.what)?;
    let mut cut = Vec::new();
    if let Some(scheme) = &scheme {
        cut.push(format!("'{scheme}://'"));
    }
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        cut.push(format!("the path '/{path}'"));
    } else if path.is_some() {
        cut.push("the trailing '/'".to_string());
    }
    let note = (!cut.is_empty()).then(|| {
        format!(
            "Using {host}: oras takes the registry's host (and port) alone, so {} {} dropped.",
            cut.join(" and "),
            if cut.len() == 1 { "is" } else { "are" }
        )
    });
    Ok(CleanRegistry {
        host: host.to_string(),
        scheme,
        note,
    })
}

/// A short fix for a project name the registry would refuse.
fn component_hint(value: &str) -> String {
    let suggestion = reference::check_component(value, "project", "")
        .err()
        .and_then(|p| {
            p.fix
                .split_once("e.g. '")
                .and_then(|(_, rest)| rest.split_once('\'').map(|(s, _)| s.to_string()))
        });
    match suggestion {
        Some(s) => format!("use lower-case letters, digits, '.', '_' or '-', e.g. '{s}'"),
        None => "use lower-case letters, digits, '.', '_' or '-' (not at the ends)".into(),
    }
}

/// The ways to reach a registry, short enough that the answered line
/// (`✔ How is the registry reached? · ...`) fits 80 columns.
const TLS_CHOICES: [&str; 4] = [
    "plain HTTP (no TLS)",
    "HTTPS with a CA file (private or self-signed)",
    "HTTPS skipping certificate verification",
    "HTTPS (a trusted certificate)",
];
const TLS_QUESTION: &str = "How is the registry reached?";

fn ask_tls(screen: &Screen, scheme: Option<&str>) -> Result<Tls, Failure> {
    let default = if scheme == Some("http") { 0 } else { 3 };
    let choice = prompt(
        Select::with_theme(screen.theme())
            .with_prompt(TLS_QUESTION)
            .items(TLS_CHOICES)
            .default(default)
            .report(false)
            .interact(),
    )?;
    screen.answered(TLS_QUESTION, TLS_CHOICES[choice.min(3)]);
    Ok(match choice {
        0 => Tls::PlainHttp,
        1 => {
            // The push preflight's test, made here too so that a wrong file
            // is asked for again at once.
            let path = line::ask(
                screen,
                "CA certificate file (PEM)",
                |p| match oras::check_ca_file(&expand_home(p)) {
                    Ok(()) => Ok(()),
                    Err(CaFileProblem::NoCertificate) => {
                        Err("that file holds no PEM certificate".to_string())
                    }
                    Err(CaFileProblem::Unreadable(e)) => Err(format!("cannot read it: {e}")),
                },
            )?;
            Tls::CaFile(expand_home(&path))
        }
        2 => Tls::Insecure,
        _ => Tls::Verify,
    })
}

/// A path typed at a prompt, where no shell expands `~`: `~` and `~/...`
/// are the home folder (HOME), as a shell would make them.
fn expand_home(typed: &str) -> Utf8PathBuf {
    let home = || std::env::var("HOME").ok().filter(|h| !h.is_empty());
    match typed.strip_prefix('~') {
        Some("") => home().map_or_else(|| typed.into(), Utf8PathBuf::from),
        Some(rest) if rest.starts_with('/') => home().map_or_else(
            || typed.into(),
            |h| Utf8PathBuf::from(format!("{}{rest}", h.trim_end_matches('/'))),
        ),
        _ => typed.into(),
    }
}

/// Offers the folders under the current one that hold a pack.json.
fn ask_pack_dir(screen: &Screen) -> Result<Utf8PathBuf, Failure> {
    let found = packs_under(Utf8Path::new("."));
    let other = "another folder (type its path)";
    if !found.is_empty() {
        let width = screen.width().saturating_sub(6);
        let items: Vec<String> = found
            .iter()
            .map(|(dir, what)| {
                console::truncate_str(&format!("{dir}  ({what})"), width, "…").into_owned()
            })
            .chain([other.to_string()])
            .collect();
        let choice = prompt(
            Select::with_theme(screen.theme())
                .with_prompt("Pack folder")
                .items(&items)
                .default(0)
                .max_length(screen.rows().saturating_sub(4).clamp(3, 12))
                .report(false)
                .interact(),
        )?;
        if let Some((dir, _)) = found.get(choice) {
            screen.answered("Pack folder", dir.as_str());
            return Ok(dir.clone());
        }
    }
    let path = line::ask(screen, "Pack folder (the folder holding pack.json)", |p| {
        let p = expand_home(p);
        if !p.is_dir() {
            Err(format!("'{p}' is not a folder"))
        } else if !p.join("pack.json").is_file() {
            Err(format!("there is no pack.json in '{p}'"))
        } else {
            Ok(())
        }
    })?;
    Ok(expand_home(&path))
}

/// Pack folders under `root` (three levels deep, hidden folders skipped),
/// named relative to it, with what their pack.json says. A folder that
/// cannot be read is passed over.
fn packs_under(root: &Utf8Path) -> Vec<(Utf8PathBuf, String)> {
    let walk = Walk {
        max_depth: Some(3),
        skip_hidden: true,
    };
    pack::find_pack_folders(root, walk)
        .folders
        .into_iter()
        .map(|path| {
            let dir: Utf8PathBuf = match path.strip_prefix(root) {
                Ok(rel) if !rel.as_str().is_empty() => rel.into(),
                _ => ".".into(),
            };
            let what = match pack::read_pack_json(&path) {
                Ok(json) => format!("{} {}", json.name, json.version),
                Err(_) => "pack.json has a problem".to_string(),
            };
            (dir, what)
        })
        .collect()
}

/// The answer, or the exit for Ctrl-C (some prompts read Ctrl-C as a key).
pub(super) fn prompt<T>(result: dialoguer::Result<T>) -> Result<T, Failure> {
    result.map_err(|dialoguer::Error::IO(e)| {
        if e.kind() == std::io::ErrorKind::Interrupted {
            signals::leave(libc::SIGINT);
        }
        Failure::new(
            Class::Other,
            format!("cannot read the answer from the terminal: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_urls_are_cut_to_the_host() {
        let c = clean_registry("https://harbor.example.com/harbor/projects").unwrap();
        assert_eq!(c.host, "harbor.example.com");
        assert_eq!(c.scheme.as_deref(), Some("https"));
        let note = c.note.unwrap();
        assert!(
            note.contains("'https://'") && note.contains("'/harbor/projects'"),
            "{note}"
        );
        let c = clean_registry(" 10.0.0.5:5000 ").unwrap();
        assert_eq!((c.host.as_str(), c.note), ("10.0.0.5:5000", None));
        assert!(clean_registry("ftp://x").is_err());
        assert!(clean_registry("https://bad host/").is_err());
    }

    #[test]
    fn a_typed_tilde_is_the_home_folder() {
        let home = std::env::var("HOME").unwrap();
        let home = home.trim_end_matches('/');
        assert_eq!(expand_home("~/packs/x"), format!("{home}/packs/x"));
        assert_eq!(expand_home("~"), Utf8PathBuf::from(home));
        for kept in ["packs/~x", "~other/x", "./~/x", "/abs"] {
            assert_eq!(expand_home(kept), kept);
        }
    }

    #[test]
    fn an_unreadable_folder_does_not_end_the_offered_packs() {
        use std::os::unix::fs::PermissionsExt;

        let root = tempfile::tempdir().unwrap();
        let at = |p: &str| root.path().join(p);
        for (dir, name) in [("a-pack", "a"), ("b-locked/inner", "b"), ("c-pack", "c")] {
            std::fs::create_dir_all(at(dir)).unwrap();
            std::fs::write(
                at(dir).join("pack.json"),
                format!(r#"{{"name":"{name}","version":"1.0.0"}}"#),
            )
            .unwrap();
        }
        let open = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(root.path(), open.clone()).unwrap();
        std::fs::set_permissions(at("b-locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
        let root_path = Utf8PathBuf::from_path_buf(root.path().to_path_buf()).unwrap();
        // Root reads any folder whatever its mode: the walk runs in a thread
        // that is another user (on Linux a thread's user is its own).
        let found = std::thread::spawn(move || {
            if rustix::process::getuid().is_root() {
                rustix::thread::set_thread_uid(rustix::process::Uid::from_raw(65534))
                    .expect("become nobody in this thread");
            }
            packs_under(&root_path)
        })
        .join()
        .unwrap();
        std::fs::set_permissions(at("b-locked"), open).unwrap();
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|(dir, what)| (dir.as_str(), what.as_str()))
            .collect();
        assert_eq!(names, [("a-pack", "a 1.0.0"), ("c-pack", "c 1.0.0")]);
    }
}
