//! Checks that what the registry holds is what Palette expects: the
//! manifest shape ORAS 1.0.0 writes, and a layer that is the local archive.

use serde_json::Value;

pub const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const UNKNOWN_CONFIG: &str = "application/vnd.unknown.config.v1+json";
pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const TITLE: &str = "org.opencontainers.image.title";

/// What the pack's single layer must be.
#[derive(Clone, Debug, PartialEq, Eq)]
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
fn shown(value: Option<&str>) -> String {
    match value {
        Some(value) => format!("\"{value}\""),
        None => "none".into(),
    }
}

/// Checks the 1.0.0 shape shared by both artifacts; returns every mismatch.
fn check_shape(manifest: &Value, problems: &mut Vec<String>) {
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

fn parse(bytes: &[u8], problems: &mut Vec<String>) -> Option<Value> {
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
    let found = Layer {
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
    };
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
}
