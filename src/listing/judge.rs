//! Pure judgements of what a registry holds, for `list`: where each
//! repository of the project lies, what a version's manifest says and
//! whether Palette can use it, the order of versions, and what a
//! downloaded archive holds. No I/O: bytes and text in, findings out.

use std::cmp::Ordering;

use serde_json::Value;

use super::{ArchiveRecord, Place};
use crate::error::Problem;
use crate::pack::{Findings, PackJson};
use crate::reference::NAMESPACE;
use crate::tools::oras::CREATED;
use crate::verify::{self, LAYER_TAR, Layer};

/// The project's repositories, as `oras repo ls REGISTRY/PROJECT` lists
/// them (one a line, the project's own path left out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    /// `spectro-packs/archive` itself is there.
    pub base_path: bool,
    /// Repositories under the base path, by their path under it, with
    /// where they lie (a pack, or nested deeper).
    pub under_base: Vec<(String, Place)>,
    /// Repositories elsewhere in the project, by their path under it.
    pub outside: Vec<String>,
}

/// Sorts the lines of `oras repo ls` into the base path, the repositories
/// under it and those outside it.
pub fn catalog(listed: &str) -> Catalog {
    let mut catalog = Catalog::default();
    let prefix = format!("{NAMESPACE}/");
    for line in listed.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line == NAMESPACE {
            catalog.base_path = true;
        } else if let Some(name) = line.strip_prefix(&prefix) {
            let place = if name.contains('/') {
                Place::Nested
            } else {
                Place::Pack
            };
            catalog.under_base.push((name.to_string(), place));
        } else {
            catalog.outside.push(line.to_string());
        }
    }
    catalog.under_base.sort_by(|a, b| a.0.cmp(&b.0));
    catalog.outside.sort();
    catalog
}

/// The tags of `oras repo tags`, sorted as semantic versions (ascending);
/// tags that are not semantic versions come last, in text order.
pub fn sorted_tags(listed: &str) -> Vec<String> {
    let mut tags: Vec<String> = listed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    tags.sort_by(|a, b| compare_versions(a, b));
    tags.dedup();
    tags
}

fn compare_versions(a: &str, b: &str) -> Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// What to do about a problem, said once for all the versions that have it.
pub const FIX_SHAPE: &str = "push the pack again in the manifest shape ORAS 1.0.0 writes: \
    packpush push PACK_DIR --overwrite (with a newer oras, packpush adds --image-spec v1.0)";
pub const FIX_TITLE: &str = "push the archive from its own folder under its bare name \
    NAME-VERSION.tar.gz, as packpush push does: packpush push PACK_DIR --overwrite";
pub const FIX_TAG: &str = "give the pack a semantic version (pack.json \"version\", e.g. 1.0.0) \
    and push it under that tag: Palette takes a pack's versions from its tags";
pub const FIX_PLACE: &str = "push the pack under the base path, where Palette looks: \
    packpush push PACK_DIR --registry REGISTRY --project PROJECT";
pub const FIX_ARCHIVE: &str = "push the right pack folder again (packpush check PACK_DIR first): \
    packpush push PACK_DIR --overwrite";

/// What a version's manifest says, and what keeps Palette from using it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Judged {
    pub manifest_digest: String,
    pub layer: Option<Layer>,
    pub created: Option<String>,
    pub problems: Vec<String>,
    /// What to do, one line per kind of problem.
    pub fixes: Vec<&'static str>,
}

/// Judges the manifest of `NAME:TAG` as Palette reads it: the 1.0.0 shape,
/// exactly one tar layer titled `NAME-TAG.tar.gz`, and a tag that is a
/// semantic version (the version Palette shows).
pub fn version(name: &str, tag: &str, manifest: &[u8]) -> Judged {
    let mut judged = Judged {
        manifest_digest: crate::digest::of_bytes(manifest),
        ..Judged::default()
    };
    if let Err(e) = semver::Version::parse(tag) {
        judged.problems.push(format!(
            "the tag '{tag}' is not a pack version (a semantic version such as 1.0.0): {e}"
        ));
        judged.fixes.push(FIX_TAG);
    }
    let Some(document) = verify::parse(manifest, &mut judged.problems) else {
        judged.fixes.push(FIX_SHAPE);
        return judged;
    };
    let before = judged.problems.len();
    verify::check_shape(&document, &mut judged.problems);
    judged.created = document
        .pointer(&format!("/annotations/{CREATED}"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let layers = document.get("layers").and_then(Value::as_array);
    let title_wrong = match layers.map(Vec::as_slice) {
        Some([layer]) => judge_layer(name, tag, layer, &mut judged),
        Some(layers) => {
            judged.problems.push(format!(
                "the manifest has {} layers; a pack version has exactly one, its archive",
                layers.len()
            ));
            false
        }
        None => {
            judged
                .problems
                .push("the manifest has no \"layers\" array".into());
            false
        }
    };
    if judged.problems.len() - before > usize::from(title_wrong) {
        judged.fixes.push(FIX_SHAPE);
    }
    if title_wrong {
        judged.fixes.push(FIX_TITLE);
    }
    judged
}

/// The single layer: a tar layer titled `NAME-TAG.tar.gz`. Whether the
/// title is wrong.
fn judge_layer(name: &str, tag: &str, layer: &Value, judged: &mut Judged) -> bool {
    let media_type = layer.get("mediaType").and_then(Value::as_str);
    if media_type != Some(LAYER_TAR) {
        judged.problems.push(format!(
            "the layer's mediaType is {}, expected \"{LAYER_TAR}\"",
            verify::shown(media_type)
        ));
    }
    let found = verify::layer_of(layer);
    let expected = format!("{}-{tag}.tar.gz", last_component(name));
    let title_wrong = found.title != expected;
    if title_wrong {
        let title = if found.title.is_empty() {
            "none".to_string()
        } else {
            format!("'{}'", found.title)
        };
        judged.problems.push(format!(
            "the layer's title is {title}, expected '{expected}' (Palette looks for NAME-VERSION.tar.gz)"
        ));
    }
    judged.layer = Some(found);
    title_wrong
}

/// The last component of a repository path: the pack's own name.
fn last_component(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Whether a manifest looks like a pack's: exactly one layer, titled
/// `*.tar.gz`. Used for repositories outside the base path, which may hold
/// anything.
pub fn looks_like_a_pack(manifest: &[u8]) -> bool {
    let Ok(document) = serde_json::from_slice::<Value>(manifest) else {
        return false;
    };
    match document
        .get("layers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([layer]) => verify::layer_of(layer).title.ends_with(".tar.gz"),
        _ => false,
    }
}

/// What a downloaded archive is, against its layer and its tag.
#[derive(Debug)]
pub struct Downloaded<'a> {
    pub name: &'a str,
    pub tag: &'a str,
    pub layer: &'a Layer,
    /// sha256 and size of the bytes the registry served.
    pub digest: &'a str,
    pub size: u64,
    /// What `pack::inspect_contents` made of it.
    pub contents: Result<(PackJson, Findings), Vec<Problem>>,
}

/// `--deep`: the archive is the layer's bytes, one pack folder whose
/// pack.json names this repository and tag, within the pack rules.
pub fn archive(downloaded: Downloaded<'_>) -> (ArchiveRecord, Vec<&'static str>) {
    let mut record = ArchiveRecord {
        ok: false,
        pack_name: None,
        pack_version: None,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let mut fixes = Vec::new();
    let layer = downloaded.layer;
    if downloaded.digest != layer.digest || downloaded.size != layer.size {
        record.problems.push(format!(
            "the registry served {} bytes with digest {}, but the manifest names {} bytes with digest {}",
            downloaded.size, downloaded.digest, layer.size, layer.digest
        ));
        fixes.push(FIX_ARCHIVE);
    }
    match downloaded.contents {
        Err(problems) => {
            record
                .problems
                .extend(problems.iter().map(|p| p.what.clone()));
            fixes.push(FIX_ARCHIVE);
        }
        Ok((json, findings)) => {
            let name = last_component(downloaded.name);
            if json.name != name || json.version != downloaded.tag {
                record.problems.push(format!(
                    "its pack.json says name '{}' and version '{}', but the repository is '{name}' \
                     and the tag '{}'",
                    json.name, json.version, downloaded.tag
                ));
                fixes.push(FIX_ARCHIVE);
            }
            if !findings.errors.is_empty() {
                fixes.push(FIX_ARCHIVE);
            }
            record
                .problems
                .extend(findings.errors.iter().map(|p| p.what.clone()));
            record.warnings = findings.warnings;
            record.pack_name = Some(json.name);
            record.pack_version = Some(json.version);
        }
    }
    record.ok = record.problems.is_empty();
    fixes.dedup();
    (record, fixes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oras");

    fn fixture(version: &str, name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}/{version}/{name}")).unwrap()
    }

    #[test]
    fn the_catalog_is_sorted_into_base_path_packs_and_the_rest() {
        let listed = "mypack\nspectro-packs/archive\nspectro-packs/archive/b\n\
                      spectro-packs/archive/a\nspectro-packs/archive/x/y\nspectro-packs/other\n";
        let found = catalog(listed);
        assert!(found.base_path);
        assert_eq!(
            found.under_base,
            [
                ("a".to_string(), Place::Pack),
                ("b".to_string(), Place::Pack),
                ("x/y".to_string(), Place::Nested)
            ]
        );
        assert_eq!(found.outside, ["mypack", "spectro-packs/other"]);
        assert!(!catalog("spectro-packs/archive/a\n").base_path);
        assert_eq!(catalog(""), Catalog::default());
    }

    #[test]
    fn versions_sort_as_semantic_versions_then_the_rest() {
        assert_eq!(
            sorted_tags("1.10.0\nlatest\n1.2.0\n1.2.0-rc.1\n0.9.0\nbeta\n\n1.2.0\n"),
            ["0.9.0", "1.2.0-rc.1", "1.2.0", "1.10.0", "beta", "latest"]
        );
    }

    #[test]
    fn what_oras_1_0_0_wrote_is_usable() {
        let manifest = fixture("1.0.0", "manifest-pack.json");
        let judged = version("mypack", "1.0.0", &manifest);
        assert_eq!(judged.problems, Vec::<String>::new());
        assert_eq!(judged.manifest_digest, crate::digest::of_bytes(&manifest));
        let layer = judged.layer.unwrap();
        assert_eq!(layer.title, "mypack-1.0.0.tar.gz");
        assert_eq!(layer.size, 331);
        assert!(judged.created.is_some());
    }

    #[test]
    fn the_default_shape_of_newer_oras_is_not() {
        for version_ in ["1.1.0", "1.2.0", "1.3.3"] {
            let judged = version("mypack", "1.0.0", &fixture(version_, "manifest-pack.json"));
            assert!(
                judged.problems.iter().any(|p| p.contains("artifactType")),
                "{version_}: {judged:#?}"
            );
            assert!(
                judged
                    .problems
                    .iter()
                    .any(|p| p.contains("config mediaType")),
                "{version_}: {judged:#?}"
            );
            assert_eq!(judged.fixes, [FIX_SHAPE], "{version_}");
        }
    }

    #[test]
    fn a_wrong_title_and_a_tag_that_is_no_version_are_named() {
        let manifest = fixture("1.0.0", "manifest-abs.json");
        let judged = version("mypack", "1.0.0", &manifest);
        assert_eq!(judged.problems.len(), 1, "{judged:#?}");
        assert!(
            judged.problems[0]
                .starts_with("the layer's title is '$TESTBED/work/mypack-1.0.0.tar.gz'"),
            "{judged:#?}"
        );
        assert_eq!(judged.fixes, [FIX_TITLE]);

        let judged = version("mypack", "latest", &fixture("1.0.0", "manifest-pack.json"));
        assert!(judged.problems[0].contains("'latest' is not a pack version"));
        // The title says 1.0.0, the tag latest.
        assert!(judged.problems[1].contains("expected 'mypack-latest.tar.gz'"));
        assert_eq!(judged.fixes, [FIX_TAG, FIX_TITLE]);
    }

    #[test]
    fn garbage_and_empty_manifests_are_not_usable() {
        let judged = version("a", "1.0.0", b"not json");
        assert!(judged.problems[0].starts_with("the manifest is not JSON"));
        let base = fixture("1.0.0", "manifest-empty.json");
        let judged = version("a", "1.0.0", &base);
        assert_eq!(
            judged.problems,
            ["the manifest has 0 layers; a pack version has exactly one, its archive"]
        );
        assert!(judged.layer.is_none());
    }

    #[test]
    fn packs_are_told_from_other_content() {
        assert!(looks_like_a_pack(&fixture("1.0.0", "manifest-pack.json")));
        assert!(looks_like_a_pack(&fixture("1.3.3", "manifest-pack.json")));
        assert!(!looks_like_a_pack(&fixture("1.0.0", "manifest-empty.json")));
        assert!(!looks_like_a_pack(
            b"{\"layers\":[{\"digest\":\"sha256:1\"}]}"
        ));
        assert!(!looks_like_a_pack(b"garbage"));
    }

    fn layer() -> Layer {
        Layer {
            digest: "sha256:aa".into(),
            size: 10,
            title: "a-1.0.0.tar.gz".into(),
        }
    }

    fn pack_json(name: &str, version_: &str) -> PackJson {
        crate::pack::parse_pack_json(
            &format!("{{\"name\":\"{name}\",\"version\":\"{version_}\"}}"),
            "a-1.0.0.tar.gz:a/pack.json",
        )
        .unwrap()
    }

    #[test]
    fn an_archive_must_be_the_layer_and_hold_this_pack() {
        let layer = layer();
        let downloaded = |digest, name, version_| Downloaded {
            name: "a",
            tag: "1.0.0",
            layer: &layer,
            digest,
            size: 10,
            contents: Ok((pack_json(name, version_), Findings::default())),
        };
        let (record, fixes) = archive(downloaded("sha256:aa", "a", "1.0.0"));
        assert!(record.ok && fixes.is_empty(), "{record:#?}");
        assert_eq!(record.pack_version.as_deref(), Some("1.0.0"));

        let (record, fixes) = archive(downloaded("sha256:aa", "a", "2.0.0"));
        assert!(!record.ok);
        assert_eq!(
            record.problems,
            [
                "its pack.json says name 'a' and version '2.0.0', but the repository is 'a' and the tag '1.0.0'"
            ]
        );
        assert_eq!(fixes, [FIX_ARCHIVE]);

        let (record, _) = archive(downloaded("sha256:bb", "a", "1.0.0"));
        assert!(
            record.problems[0].starts_with("the registry served 10 bytes with digest sha256:bb")
        );

        let broken = Downloaded {
            contents: Err(vec![Problem::new("it is not a tar.gz archive", "rebuild")]),
            ..downloaded("sha256:aa", "a", "1.0.0")
        };
        let (record, _) = archive(broken);
        assert_eq!(record.problems, ["it is not a tar.gz archive"]);
        assert_eq!(record.pack_name, None);
    }

    #[test]
    fn an_archive_that_breaks_a_pack_rule_is_not_usable_and_its_warnings_are_kept() {
        let layer = layer();
        let warning = "addonType 'odd' is unusual".to_string();
        let judged = |errors: Vec<Problem>| {
            archive(Downloaded {
                name: "a",
                tag: "1.0.0",
                layer: &layer,
                digest: "sha256:aa",
                size: 10,
                contents: Ok((
                    pack_json("a", "1.0.0"),
                    Findings {
                        errors,
                        warnings: vec![warning.clone()],
                    },
                )),
            })
        };
        let (record, fixes) = judged(vec![Problem::new("logo.png is missing", "add a PNG logo")]);
        assert!(!record.ok);
        assert_eq!(record.problems, ["logo.png is missing"]);
        assert_eq!(record.warnings, std::slice::from_ref(&warning));
        assert_eq!(fixes, [FIX_ARCHIVE]);
        // Warnings alone leave it usable.
        let (record, fixes) = judged(Vec::new());
        assert!(record.ok && fixes.is_empty(), "{record:#?}");
    }
}
