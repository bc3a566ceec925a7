//! Judgements of what the registry holds, as pure functions of the bytes
//! read back: the manifest shape ORAS 1.0.0 writes, a layer that is the
//! local archive, whether a version found before a push is this very pack,
//! what step 2 does with what it knows before running tar
//! ([`before_archiving`]), and whether the read-back after a push matches
//! what was pushed.

use serde_json::Value;

pub const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const UNKNOWN_CONFIG: &str = "application/vnd.unknown.config.v1+json";
pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const TITLE: &str = "org.opencontainers.image.title";

/// What the pack's single layer must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpectedLayer<'a> {
    pub title: &'a str,
    pub digest: &'a str,
    pub size: u64,
}

/// The layer a pack manifest carries, as read back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Layer {
    pub digest: String,
    pub size: u64,
    pub title: String,
}

/// A string field as messages show it: quoted as the manifest has it, or
/// `none` when it is absent (or not a string).
pub(crate) fn shown(value: Option<&str>) -> String {
    match value {
        Some(value) => format!("\"{value}\""),
        None => "none".into(),
    }
}

/// Checks the 1.0.0 shape shared by both artifacts; returns every mismatch.
pub(crate) fn check_shape(manifest: &Value, problems: &mut Vec<String>) {
    let media_type = manifest.get("mediaType").and_then(Value::as_str);
    if media_type != Some(IMAGE_MANIFEST) {
        problems.push(format!(
            "mediaType is {}, expected \"{IMAGE_MANIFEST}\"",
            shown(media_type)
        ));
    }
    if let Some(artifact_type) = manifest.get("artifactType") {
        problems.push(format!(
            "the manifest has artifactType {artifact_type} (ORAS 1.1+ default shape); \
             ORAS 1.0.0 writes none"
        ));
    }
    let config_type = manifest
        .pointer("/config/mediaType")
        .and_then(Value::as_str);
    if config_type != Some(UNKNOWN_CONFIG) {
        problems.push(format!(
            "config mediaType is {}, expected \"{UNKNOWN_CONFIG}\"",
            shown(config_type)
        ));
    }
}

pub(crate) fn parse(bytes: &[u8], problems: &mut Vec<String>) -> Option<Value> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) if value.is_object() => Some(value),
        Ok(_) => {
            problems.push("the manifest is not a JSON object".into());
            None
        }
        Err(e) => {
            problems.push(format!("the manifest is not JSON: {e}"));
            None
        }
    }
}

/// Checks the base-path artifact: 1.0.0 shape and no layers.
pub fn check_base(bytes: &[u8]) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if let Some(manifest) = parse(bytes, &mut problems) {
        check_shape(&manifest, &mut problems);
        match manifest.get("layers").and_then(Value::as_array) {
            Some(layers) if layers.is_empty() => {}
            Some(layers) => problems.push(format!(
                "the base-path artifact has {} layer(s); ORAS 1.0.0 writes none",
                layers.len()
            )),
            None => problems.push("the base-path artifact has no \"layers\" array".into()),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Checks the pack manifest: 1.0.0 shape and exactly the expected layer.
pub fn check_pack(bytes: &[u8], expected: &ExpectedLayer<'_>) -> Result<Layer, Vec<String>> {
    let mut problems = Vec::new();
    let mut found = None;
    if let Some(manifest) = parse(bytes, &mut problems) {
        check_shape(&manifest, &mut problems);
        match manifest
            .get("layers")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            Some([layer]) => found = Some(check_layer(layer, expected, &mut problems)),
            Some(layers) => problems.push(format!(
                "the pack manifest has {} layers, expected exactly one (the archive)",
                layers.len()
            )),
            None => problems.push("the pack manifest has no \"layers\" array".into()),
        }
    }
    match found {
        Some(layer) if problems.is_empty() => Ok(layer),
        _ => Err(problems),
    }
}

fn check_layer(layer: &Value, expected: &ExpectedLayer<'_>, problems: &mut Vec<String>) -> Layer {
    let media_type = layer.get("mediaType").and_then(Value::as_str);
    if media_type != Some(LAYER_TAR) {
        problems.push(format!(
            "layer mediaType is {}, expected \"{LAYER_TAR}\"",
            shown(media_type)
        ));
    }
    let found = layer_of(layer);
    if found.title != expected.title {
        problems.push(format!(
            "layer title is \"{}\", expected \"{}\"",
            found.title, expected.title
        ));
    }
    if found.digest != expected.digest {
        problems.push(format!(
            "layer digest is {}, but the local archive is {}",
            found.digest, expected.digest
        ));
    }
    if found.size != expected.size {
        problems.push(format!(
            "layer size is {}, but the local archive has {} bytes",
            found.size, expected.size
        ));
    }
    found
}

/// A layer's digest, size and title as its descriptor has them (empty or
/// zero when absent).
pub(crate) fn layer_of(layer: &Value) -> Layer {
    Layer {
        digest: layer
            .get("digest")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        size: layer
            .get("size")
            .and_then(Value::as_u64)
            .unwrap_or_default(),
        title: layer
            .pointer(&format!("/annotations/{}", TITLE.replace('/', "~1")))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}

/// What the look-up before a pack push found under the tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Nothing: the version is new.
    Absent,
    /// Exactly what this push would produce: the 1.0.0 shape and one layer
    /// that is the local archive. Nothing needs pushing.
    Identical { digest: String, layer: Layer },
    /// This archive, but not in the manifest shape Palette expects.
    WrongShape { registry_layer: String },
    /// Other content.
    Different { registry_layer: Option<String> },
}

/// Judges the manifest a look-up found (`None`: the tag does not exist).
pub fn judge_existing(held: Option<&[u8]>, expected: &ExpectedLayer<'_>) -> Existing {
    let Some(bytes) = held else {
        return Existing::Absent;
    };
    if let Ok(layer) = check_pack(bytes, expected) {
        return Existing::Identical {
            digest: crate::digest::of_bytes(bytes),
            layer,
        };
    }
    match single_layer_digest(bytes) {
        Some(digest) if digest == expected.digest => Existing::WrongShape {
            registry_layer: digest,
        },
        registry_layer => Existing::Different { registry_layer },
    }
}

/// Why a version the registry holds is not replaced without `--overwrite`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What the registry holds, for the sentence "the registry {what}: REF".
    pub what: &'static str,
    /// The step's short note.
    pub note: &'static str,
    pub hint: &'static str,
}

impl Existing {
    /// Why this may not be replaced silently; `None` when pushing is fine.
    /// `reproducible`: the archive was made with `--reproducible`, so file
    /// times cannot be what differs.
    pub fn refusal(&self, reproducible: bool) -> Option<Refusal> {
        match self {
            Existing::Absent | Existing::Identical { .. } => None,
            Existing::WrongShape { .. } => Some(Refusal {
                what: "holds this archive, but not in the manifest shape Palette expects",
                note: "wrong manifest shape in the registry",
                hint: "it was probably pushed by ORAS newer than 1.0.0 without --image-spec v1.0: \
                       pass --overwrite to push it again in the 1.0.0 shape",
            }),
            Existing::Different { .. } => Some(Refusal {
                what: "already holds this version with different content",
                note: "different content in the registry",
                hint: if reproducible {
                    "give the changed pack a new version in pack.json, or pass --overwrite to \
                     replace this version; with --reproducible file times and owners do not count, \
                     so a file's bytes, name, executable bit or link target differs, or the version \
                     in the registry was pushed without --reproducible (or with another \
                     SOURCE_DATE_EPOCH): then --overwrite once makes later pushes match"
                } else {
                    "give the changed pack a new version in pack.json, or pass --overwrite to \
                     replace this version; if only file times changed (a fresh checkout), push \
                     with --reproducible so that equal content gives an equal archive"
                },
            }),
        }
    }

    /// The layer digest the registry holds, for messages.
    pub fn registry_layer(&self) -> Option<&str> {
        match self {
            Existing::WrongShape { registry_layer } => Some(registry_layer),
            Existing::Different { registry_layer } => registry_layer.as_deref(),
            Existing::Identical { layer, .. } => Some(&layer.digest),
            Existing::Absent => None,
        }
    }
}

/// What step 2 knows before it runs tar.
#[derive(Clone, Copy, Debug)]
pub struct KnownBeforeTar<'a> {
    /// The archive this content gives, as the cache remembers it.
    pub cached: Option<ExpectedLayer<'a>>,
    /// The archive already at the archive's path (`--output-dir`): digest
    /// and size.
    pub on_disk: Option<(&'a str, u64)>,
    /// What the look-up before archiving found under the tag: `None` when
    /// it did not run (or failed), `Some(None)` when the tag is absent.
    pub held: Option<Option<&'a [u8]>>,
}

/// What step 2 does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Archiving {
    /// The registry holds the archive this content gives, in the 1.0.0
    /// shape: nothing to archive or push. `digest`: the manifest's.
    UpToDate { digest: String, layer: Layer },
    /// The file on disk is the archive this content gives: used as it is.
    UseOnDisk,
    /// The file on disk is another archive than this content gives: it is
    /// never overwritten.
    RefuseOnDisk,
    /// tar runs; with `compare`, into another name, and the result is
    /// compared with the file on disk.
    Build { compare: bool },
}

/// What step 2 does with what it knows: the cache can only spare work,
/// never change a result. Without a cache entry, tar runs as ever.
pub fn before_archiving(known: &KnownBeforeTar<'_>) -> Archiving {
    let on_disk_matches = match (known.cached, known.on_disk) {
        (Some(cached), Some((digest, size))) => {
            Some(cached.digest == digest && cached.size == size)
        }
        _ => None,
    };
    if on_disk_matches == Some(false) {
        return Archiving::RefuseOnDisk;
    }
    if let (Some(cached), Some(held)) = (known.cached, known.held)
        && let Existing::Identical { digest, layer } = judge_existing(held, &cached)
    {
        return Archiving::UpToDate { digest, layer };
    }
    match on_disk_matches {
        Some(_) => Archiving::UseOnDisk,
        None => Archiving::Build {
            compare: known.on_disk.is_some(),
        },
    }
}

/// The single layer's digest of a manifest, if it has exactly one.
fn single_layer_digest(manifest: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(manifest).ok()?;
    match value.get("layers")?.as_array()?.as_slice() {
        [layer] => layer.get("digest")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// What was read back after a push, judged against what was pushed.
#[derive(Debug)]
pub struct ReadBack<'a> {
    /// The pack's manifest as the registry serves it under the tag.
    pub pack_manifest: &'a [u8],
    /// The digest of the manifest oras pushed.
    pub pushed_digest: &'a str,
    pub version: &'a str,
    pub expected: ExpectedLayer<'a>,
    /// The base path's manifest, when this pack's read-back includes it.
    pub base_manifest: Option<&'a [u8]>,
}

/// The pack's layer when everything matches; else every mismatch, each
/// saying whether it is the base path's or the pack's.
pub fn judge_readback(read: &ReadBack<'_>) -> Result<Layer, Vec<String>> {
    let mut problems = Vec::new();
    if let Some(base) = read.base_manifest
        && let Err(found) = check_base(base)
    {
        problems.extend(found.into_iter().map(|p| format!("base path: {p}")));
    }
    let held = crate::digest::of_bytes(read.pack_manifest);
    if held != read.pushed_digest {
        problems.push(format!(
            "the tag {} points at {held}, not at the manifest just pushed ({})",
            read.version, read.pushed_digest
        ));
    }
    let layer = check_pack(read.pack_manifest, &read.expected)
        .map_err(|found| problems.extend(found.into_iter().map(|p| format!("pack: {p}"))))
        .ok();
    match layer {
        Some(layer) if problems.is_empty() => Ok(layer),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/oras");
    const LAYER_DIGEST: &str =
        "sha256:3875a528bf355049310c349ca62d8e1e5daf7276353f01f190c0462786e89fc5";

    fn fixture(version: &str, name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}/{version}/{name}")).unwrap()
    }

    fn expected() -> ExpectedLayer<'static> {
        ExpectedLayer {
            title: "mypack-1.0.0.tar.gz",
            digest: LAYER_DIGEST,
            size: 331,
        }
    }

    #[test]
    fn accepts_what_oras_1_0_0_wrote() {
        assert_eq!(check_base(&fixture("1.0.0", "manifest-empty.json")), Ok(()));
        let layer = check_pack(&fixture("1.0.0", "manifest-pack.json"), &expected()).unwrap();
        assert_eq!(layer.title, "mypack-1.0.0.tar.gz");
    }

    #[test]
    fn refuses_the_default_shape_of_newer_oras() {
        for version in ["1.1.0", "1.2.0", "1.3.3"] {
            let base = check_base(&fixture(version, "manifest-empty.json")).unwrap_err();
            assert!(
                base.iter().any(|p| p.contains("artifactType")),
                "{version}: {base:?}"
            );
            assert!(
                base.iter().any(|p| p.contains("layer(s)")),
                "{version}: {base:?}"
            );
            let pack =
                check_pack(&fixture(version, "manifest-pack.json"), &expected()).unwrap_err();
            assert!(
                pack.iter().any(|p| p.contains("config mediaType")),
                "{version}: {pack:?}"
            );
        }
    }

    #[test]
    fn messages_show_bare_values_or_none() {
        let pack = check_pack(&fixture("1.3.3", "manifest-pack.json"), &expected()).unwrap_err();
        assert!(
            pack.contains(
                &"config mediaType is \"application/vnd.oci.empty.v1+json\", \
                  expected \"application/vnd.unknown.config.v1+json\""
                    .to_string()
            ),
            "{pack:#?}"
        );
        let base = check_base(br#"{"layers": [], "config": {}}"#).unwrap_err();
        assert_eq!(
            base,
            [
                "mediaType is none, expected \"application/vnd.oci.image.manifest.v1+json\"",
                "config mediaType is none, expected \"application/vnd.unknown.config.v1+json\"",
            ]
        );
        let layer = check_pack(
            br#"{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                 "config": {"mediaType": "application/vnd.unknown.config.v1+json"},
                 "layers": [{"mediaType": 7}]}"#,
            &expected(),
        )
        .unwrap_err();
        assert!(
            layer[0].starts_with("layer mediaType is none, expected"),
            "{layer:#?}"
        );
        for problem in pack.iter().chain(&base).chain(&layer) {
            assert!(!problem.contains("Some("), "{problem}");
            assert!(!problem.contains("None"), "{problem}");
        }
    }

    #[test]
    fn refuses_an_absolute_title_and_a_different_archive() {
        let abs = check_pack(&fixture("1.0.0", "manifest-abs.json"), &expected()).unwrap_err();
        assert!(abs.iter().any(|p| p.contains("layer title")), "{abs:?}");
        let other = ExpectedLayer {
            digest: "sha256:00",
            size: 1,
            ..expected()
        };
        let diff = check_pack(&fixture("1.0.0", "manifest-pack.json"), &other).unwrap_err();
        assert_eq!(diff.len(), 2, "{diff:?}");
    }

    #[test]
    fn refuses_garbage() {
        assert!(check_base(b"not json").is_err());
        assert!(check_pack(b"[]", &expected()).is_err());
        assert!(check_base(b"{}").unwrap_err().len() >= 3);
    }

    fn identical_layer() -> Layer {
        Layer {
            digest: LAYER_DIGEST.into(),
            size: 331,
            title: "mypack-1.0.0.tar.gz".into(),
        }
    }

    #[test]
    fn an_existing_version_is_absent_identical_wrong_shaped_or_different() {
        assert_eq!(judge_existing(None, &expected()), Existing::Absent);
        assert_eq!(Existing::Absent.refusal(false), None);

        let same = fixture("1.0.0", "manifest-pack.json");
        let found = judge_existing(Some(&same), &expected());
        assert_eq!(
            found,
            Existing::Identical {
                digest: crate::digest::of_bytes(&same),
                layer: identical_layer(),
            }
        );
        assert_eq!(found.refusal(false), None);

        // The same archive in the 1.1+ default shape.
        let mut shape: Value = serde_json::from_slice(&same).unwrap();
        shape["artifactType"] = "application/vnd.unknown.artifact.v1".into();
        let shape = serde_json::to_vec(&shape).unwrap();
        let found = judge_existing(Some(&shape), &expected());
        assert_eq!(
            found,
            Existing::WrongShape {
                registry_layer: LAYER_DIGEST.into()
            }
        );
        assert!(found.refusal(false).unwrap().hint.contains("--overwrite"));

        let other = ExpectedLayer {
            digest: "sha256:00",
            ..expected()
        };
        let found = judge_existing(Some(&same), &other);
        assert_eq!(
            found,
            Existing::Different {
                registry_layer: Some(LAYER_DIGEST.into())
            }
        );
        assert_eq!(found.registry_layer(), Some(LAYER_DIGEST));
        assert_eq!(
            found.refusal(false).unwrap().note,
            "different content in the registry"
        );
        // With --reproducible, pushing with --reproducible is no advice.
        let plain = found.refusal(false).unwrap().hint;
        let reproducible = found.refusal(true).unwrap().hint;
        assert!(plain.contains("push with --reproducible"), "{plain}");
        assert!(
            !reproducible.contains("push with --reproducible"),
            "{reproducible}"
        );
        assert!(
            reproducible.contains("pushed without --reproducible"),
            "{reproducible}"
        );
        let garbage = judge_existing(Some(b"not json"), &expected());
        assert_eq!(
            garbage,
            Existing::Different {
                registry_layer: None
            }
        );
    }

    #[test]
    fn before_archiving_the_cache_only_spares_work() {
        let same = fixture("1.0.0", "manifest-pack.json");
        let cached = Some(expected());
        let known = |on_disk, held| KnownBeforeTar {
            cached,
            on_disk,
            held,
        };
        let up_to_date = Archiving::UpToDate {
            digest: crate::digest::of_bytes(&same),
            layer: identical_layer(),
        };
        // The registry holds the archive the cache names: nothing to do.
        assert_eq!(
            before_archiving(&known(None, Some(Some(&same)))),
            up_to_date
        );
        let archive = Some((LAYER_DIGEST, 331));
        assert_eq!(
            before_archiving(&known(archive, Some(Some(&same)))),
            up_to_date
        );
        // Absent, other content, a look-up that did not run: tar runs (or
        // the identical file on disk is used).
        for held in [None, Some(None), Some(Some(&b"{}"[..]))] {
            assert_eq!(
                before_archiving(&known(None, held)),
                Archiving::Build { compare: false }
            );
            assert_eq!(
                before_archiving(&known(archive, held)),
                Archiving::UseOnDisk
            );
            // Another file on disk than this content gives is never used or replaced.
            assert_eq!(
                before_archiving(&known(Some(("sha256:00", 331)), held)),
                Archiving::RefuseOnDisk
            );
        }
        assert_eq!(
            before_archiving(&known(Some((LAYER_DIGEST, 330)), None)),
            Archiving::RefuseOnDisk
        );
        // Without a cache entry, nothing is known: tar runs, and what it makes is
        // compared with the file on disk.
        let unknown = |on_disk| KnownBeforeTar {
            cached: None,
            on_disk,
            held: Some(Some(&same[..])),
        };
        assert_eq!(
            before_archiving(&unknown(None)),
            Archiving::Build { compare: false }
        );
        assert_eq!(
            before_archiving(&unknown(archive)),
            Archiving::Build { compare: true }
        );
    }

    fn readback<'a>(pack: &'a [u8], pushed: &'a str, base: Option<&'a [u8]>) -> ReadBack<'a> {
        ReadBack {
            pack_manifest: pack,
            pushed_digest: pushed,
            version: "1.0.0",
            expected: expected(),
            base_manifest: base,
        }
    }

    #[test]
    fn a_read_back_matches_what_was_pushed_or_says_every_mismatch() {
        let pack = fixture("1.0.0", "manifest-pack.json");
        let base = fixture("1.0.0", "manifest-empty.json");
        let pushed = crate::digest::of_bytes(&pack);
        assert_eq!(
            judge_readback(&readback(&pack, &pushed, Some(&base))),
            Ok(identical_layer())
        );
        assert_eq!(
            judge_readback(&readback(&pack, &pushed, None)),
            Ok(identical_layer())
        );

        let newer_base = fixture("1.3.3", "manifest-empty.json");
        let problems =
            judge_readback(&readback(&pack, "sha256:other", Some(&newer_base))).unwrap_err();
        assert!(problems[0].starts_with("base path: "), "{problems:#?}");
        assert!(
            problems.contains(&format!(
                "the tag 1.0.0 points at {pushed}, not at the manifest just pushed (sha256:other)"
            )),
            "{problems:#?}"
        );

        let newer_pack = fixture("1.3.3", "manifest-pack.json");
        let pushed = crate::digest::of_bytes(&newer_pack);
        let problems = judge_readback(&readback(&newer_pack, &pushed, None)).unwrap_err();
        assert!(
            problems.iter().all(|p| p.starts_with("pack: ")),
            "{problems:#?}"
        );
    }
}
