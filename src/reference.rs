//! Registry address, project, pack name and tag: validation and the
//! references the documented procedure pushes to.
//!
//! Palette only finds packs under `PROJECT/spectro-packs/archive`, so the
//! namespace is built here, once, and never typed by a user.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::Problem;

/// The fixed namespace Palette expects under the project.
pub const NAMESPACE: &str = "spectro-packs/archive";

/// One OCI repository path component (distribution's grammar).
static COMPONENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$").expect("valid regex"));
/// An OCI tag.
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("valid regex"));
/// One DNS label of a registry host name.
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$")
        .expect("valid regex")
});

/// The longest repository name distribution and Harbor accept.
const MAX_REPOSITORY_LEN: usize = 255;

/// Checks a registry address: `host[:port]`, no scheme, no path.
/// `source` says where the value came from, for the message.
pub fn check_registry(value: &str, source: &str) -> Result<(), Problem> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Problem::new(
            format!("the registry ({source}) is empty"),
            "pass the registry host, e.g. --registry harbor.example.com (no https://)",
        ));
    }
    if let Some((scheme, rest)) = trimmed.split_once("://") {
        let host = rest.split('/').next().unwrap_or_default();
        // http:// says the registry speaks plain HTTP, which oras is told
        // with a flag; https:// is what oras assumes.
        let plain = if scheme.eq_ignore_ascii_case("http") {
            " and add --plain-http, as the registry speaks plain HTTP"
        } else {
            ""
        };
        return Err(Problem::new(
            format!("the registry '{value}' ({source}) has a scheme prefix '{scheme}://'"),
            format!("give the host only, as oras expects: --registry {host}{plain}"),
        ));
    }
    if let Some((host, path)) = trimmed.split_once('/') {
        return Err(Problem::new(
            format!("the registry '{value}' ({source}) has a path '/{path}'"),
            format!(
                "give the host only: --registry {host}; the project goes in --project \
                 and the spectro-packs/archive namespace is added by packpush"
            ),
        ));
    }
    if trimmed != value {
        return Err(Problem::new(
            format!("the registry '{value}' ({source}) has surrounding white space"),
            format!("--registry {trimmed}"),
        ));
    }
    let (host, port) = split_host_port(value);
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        inner.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        HOST.is_match(host)
    };
    if !host_ok {
        return Err(Problem::new(
            format!("the registry host '{host}' ({source}) is not a valid host name or IP address"),
            "use a host name such as harbor.example.com or an address such as 10.0.0.5:5000",
        ));
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !valid {
            return Err(Problem::new(
                format!("the registry port '{port}' in '{value}' ({source}) is not a port number"),
                format!("use a port from 1 to 65535, e.g. --registry {host}:443, or leave it out"),
            ));
        }
    }
    Ok(())
}

fn split_host_port(value: &str) -> (&str, Option<&str>) {
    if value.starts_with('[') {
        // [v6] or [v6]:port
        match value.rfind("]:") {
            Some(i) => (&value[..=i], Some(&value[i + 2..])),
            None => (value, None),
        }
    } else {
        match value.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        }
    }
}

/// Checks one repository path component (the project or the pack name).
pub fn check_component(value: &str, what: &str, source: &str) -> Result<(), Problem> {
    if COMPONENT.is_match(value) {
        return Ok(());
    }
    let suggestion = suggest_component(value);
    let fix = match suggestion {
        Some(s) if s != value => format!(
            "use lower-case letters, digits and single '.', '_' or '-' separators, \
             e.g. '{s}'"
        ),
        _ => "use lower-case letters, digits and single '.', '_' or '-' separators".to_string(),
    };
    let why = if value.is_empty() {
        "is empty".to_string()
    } else if value.contains('/') {
        "contains '/'".to_string()
    } else if value.chars().any(|c| c.is_ascii_uppercase()) {
        "has upper-case letters".to_string()
    } else {
        "is not a valid OCI repository name component".to_string()
    };
    Err(Problem::new(
        format!("the {what} '{value}' ({source}) {why}"),
        fix,
    ))
}

fn suggest_component(value: &str) -> Option<String> {
    let lowered: String = value
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = lowered
        .trim_matches(|c: char| "._-".contains(c))
        .to_string();
    COMPONENT.is_match(&trimmed).then_some(trimmed)
}

/// Checks that the pack version can be used as an OCI tag.
pub fn check_tag(value: &str, source: &str) -> Result<(), Problem> {
    if TAG.is_match(value) {
        return Ok(());
    }
    let fix = if value.contains('+') {
        format!(
            "OCI tags cannot hold '+': use a version such as '{}' in pack.json",
            value.replace('+', "-")
        )
    } else {
        "use a version made of letters, digits, '.', '_' and '-' (at most 128 characters, \
         not starting with '.' or '-'), e.g. 1.0.0"
            .to_string()
    };
    Err(Problem::new(
        format!("the version '{value}' ({source}) is not a valid OCI tag"),
        fix,
    ))
}

/// Where one pack goes: `REGISTRY/PROJECT/spectro-packs/archive/NAME:VERSION`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    pub registry: String,
    pub project: String,
    pub name: String,
    pub version: String,
}

/// The base-path repository that the empty artifact creates:
/// `REGISTRY/PROJECT/spectro-packs/archive`.
pub fn base_repository(registry: &str, project: &str) -> String {
    format!("{registry}/{project}/{NAMESPACE}")
}

impl Target {
    /// The base-path repository that the empty artifact creates.
    pub fn base_repository(&self) -> String {
        base_repository(&self.registry, &self.project)
    }

    /// The pack's repository, without tag.
    pub fn pack_repository(&self) -> String {
        format!("{}/{}", self.base_repository(), self.name)
    }

    /// The pack's reference, with its tag.
    pub fn pack_reference(&self) -> String {
        format!("{}:{}", self.pack_repository(), self.version)
    }

    /// The archive's file name, exactly as the documentation names it.
    pub fn archive_name(&self) -> String {
        format!("{}-{}.tar.gz", self.name, self.version)
    }

    /// The repository path without the registry must fit distribution's limit.
    pub fn check_length(&self) -> Result<(), Problem> {
        let path = format!("{}/{NAMESPACE}/{}", self.project, self.name);
        if path.len() > MAX_REPOSITORY_LEN {
            return Err(Problem::new(
                format!(
                    "the repository path '{path}' is {} characters long; registries accept at most {MAX_REPOSITORY_LEN}",
                    path.len()
                ),
                "use a shorter project or pack name",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_accepts_hosts_and_ports() {
        for ok in [
            "harbor.example.com",
            "127.0.0.1:5005",
            "localhost",
            "my-harbor:443",
            "[::1]:5000",
            "Harbor.Example.COM",
        ] {
            assert_eq!(check_registry(ok, "--registry"), Ok(()), "{ok}");
        }
    }

    #[test]
    fn registry_refuses_scheme_and_shows_the_host() {
        let p = check_registry("https://harbor.example.com/", "--registry").unwrap_err();
        assert!(p.what.contains("scheme"), "{p}");
        assert!(p.fix.ends_with("--registry harbor.example.com"), "{p}");
        assert!(!p.fix.contains("--plain-http"), "{p}");
        let p = check_registry("http://10.0.0.5:5000", "--registry").unwrap_err();
        assert!(
            p.fix
                .contains("--registry 10.0.0.5:5000 and add --plain-http"),
            "{p}"
        );
    }

    #[test]
    fn registry_refuses_path() {
        let p = check_registry("harbor.example.com/proj", "HARBOR_ADDRESS").unwrap_err();
        assert!(p.what.contains("path '/proj'"), "{p}");
        assert!(p.what.contains("HARBOR_ADDRESS"), "{p}");
        assert!(p.fix.contains("--registry harbor.example.com;"), "{p}");
    }

    #[test]
    fn registry_refuses_bad_ports_and_hosts() {
        for bad in [
            "h:0", "h:65536", "h:", "h:80x", "-h", "h_x", "a..b", "[::zz]:1", " h",
        ] {
            assert!(check_registry(bad, "--registry").is_err(), "{bad}");
        }
    }

    #[test]
    fn components_follow_the_oci_grammar() {
        for ok in ["mypack", "my-pack", "my__pack", "a.b", "prom-2", "a--b"] {
            assert_eq!(check_component(ok, "name", "x"), Ok(()), "{ok}");
        }
        for bad in [
            "MyPack", "a/b", "", "-a", "a-", "a..b", "a___b", "päck", "a b",
        ] {
            assert!(check_component(bad, "name", "x").is_err(), "{bad}");
        }
        let p = check_component("My Pack", "name", "--name").unwrap_err();
        assert!(p.fix.contains("'my-pack'"), "{p}");
    }

    #[test]
    fn tags_follow_the_oci_grammar() {
        for ok in ["1.0.0", "1.0.0-rc.1", "v2", "_x"] {
            assert_eq!(check_tag(ok, "x"), Ok(()), "{ok}");
        }
        let p = check_tag("1.0.0+build.5", "pack.json").unwrap_err();
        assert!(p.fix.contains("1.0.0-build.5"), "{p}");
        for bad in ["", ".1", "-1", "1 0", &"1".repeat(129)] {
            assert!(check_tag(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn target_builds_the_documented_references() {
        let t = Target {
            registry: "h:5000".into(),
            project: "proj".into(),
            name: "mypack".into(),
            version: "1.0.0".into(),
        };
        assert_eq!(t.base_repository(), "h:5000/proj/spectro-packs/archive");
        assert_eq!(
            t.pack_reference(),
            "h:5000/proj/spectro-packs/archive/mypack:1.0.0"
        );
        assert_eq!(t.archive_name(), "mypack-1.0.0.tar.gz");
    }
}
