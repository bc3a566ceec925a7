//! The pack.json rules of Palette's "Add a Custom Pack" pages: the required
//! fields, the layer, the semantic version, the cloud types, the addon type
//! (loosely: a warning only), the chart and manifest files it names, and the
//! dependency constraints.

use camino::Utf8Path;
use serde_json::{Map, Value};

use super::files::{self, PackFiles};
use super::{Findings, json_kind, not_an_object, string_field};
use crate::error::Problem;

const LAYERS: &[&str] = &["kernel", "os", "k8s", "cni", "csi", "addon"];

const CLOUD_TYPES: &[&str] = &[
    "all",
    "aws",
    "azure",
    "gcp",
    "vsphere",
    "openstack",
    "baremetal",
    "maas",
    "aks",
    "eks",
    "tke",
    "edge",
    "edge-native",
    "coxedge",
    "libvirt",
];

/// The documentation's examples; Palette accepts others, so these only decide
/// whether to warn about a possible typo.
const ADDON_TYPES: &[&str] = &[
    "logging",
    "monitoring",
    "load balancer",
    "authentication",
    "ingress",
    "security",
    "servicemesh",
    "registry",
    "system app",
    "app",
];

const DEPENDENCY_TYPES: &[&str] = &["optional", "required", "notSupported"];

/// Applies the pack.json rules to `document`; `file` names it in messages and
/// `files` is where the paths it names are looked for.
pub(super) fn check(
    file: &Utf8Path,
    document: &Value,
    files: &dyn PackFiles,
    findings: &mut Findings,
) {
    let Some(object) = document.as_object() else {
        findings.errors.push(not_an_object(file));
        return;
    };
    let errors = &mut findings.errors;
    string_field(file, object, "name", errors);
    string_field(file, object, "displayName", errors);
    if let Some(version) = string_field(file, object, "version", errors) {
        check_version(file, &version, errors);
    }
    let layer = string_field(file, object, "layer", errors);
    if let Some(layer) = &layer {
        check_layer(file, layer, errors);
    }
    check_cloud_types(file, object.get("cloudTypes"), errors);
    check_files(
        files,
        file,
        object,
        "charts",
        "charts/mychart-1.0.0.tgz",
        errors,
    );
    check_files(
        files,
        file,
        object,
        "kubeManifests",
        "manifests/app.yaml",
        errors,
    );
    check_constraints(file, object.get("constraints"), errors);
    check_addon_type(
        file,
        layer.as_deref(),
        object.get("addonType"),
        &mut findings.warnings,
    );
}

fn check_version(file: &Utf8Path, version: &str, errors: &mut Vec<Problem>) {
    if let Err(e) = semver::Version::parse(version) {
        let example = suggest_version(version).unwrap_or_else(|| "1.0.0".into());
        errors.push(Problem::new(
            format!("{file}: \"version\" \"{version}\" is not a semantic version: {e}"),
            format!(
                "write MAJOR.MINOR.PATCH with an optional -PRERELEASE, e.g. \"version\": \"{example}\""
            ),
        ));
    }
}

/// The version the author most likely meant: `v1.2.3` → `1.2.3`,
/// `1.2` → `1.2.0`, `01.2.3` → `1.2.3`.
pub(super) fn suggest_version(version: &str) -> Option<String> {
    let bare = version.trim().trim_start_matches(['v', 'V']);
    if semver::Version::parse(bare).is_ok() {
        return Some(bare.to_string());
    }
    let parts: Vec<&str> = bare.split('.').collect();
    if parts.len() > 3 {
        return None;
    }
    let mut numbers = parts
        .iter()
        .map(|p| p.parse::<u64>().ok().map(|n| n.to_string()))
        .collect::<Option<Vec<_>>>()?;
    numbers.resize(3, "0".to_string());
    let candidate = numbers.join(".");
    semver::Version::parse(&candidate).ok().map(|_| candidate)
}

fn check_layer(file: &Utf8Path, layer: &str, errors: &mut Vec<Problem>) {
    if !LAYERS.contains(&layer) {
        errors.push(Problem::new(
            format!("{file}: \"layer\" \"{layer}\" is not a Palette layer"),
            format!(
                "use one of: {}{}",
                LAYERS.join(", "),
                did_you_mean(layer, LAYERS)
            ),
        ));
    }
}

fn check_cloud_types(file: &Utf8Path, value: Option<&Value>, errors: &mut Vec<Problem>) {
    let allowed = CLOUD_TYPES.join(", ");
    match value {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if CLOUD_TYPES.contains(&s.as_str()) => {}
                    Value::String(s) => errors.push(Problem::new(
                        format!(
                            "{file}: \"cloudTypes\"[{i}] \"{s}\" is not a cloud type Palette knows"
                        ),
                        format!("use values from: {allowed}{}", did_you_mean(s, CLOUD_TYPES)),
                    )),
                    other => errors.push(Problem::new(
                        format!(
                            "{file}: \"cloudTypes\"[{i}] is {}, not a string",
                            json_kind(other)
                        ),
                        format!("write each cloud type as a string, one of: {allowed}"),
                    )),
                }
            }
        }
        Some(other) => {
            let example = match other {
                Value::String(s) if CLOUD_TYPES.contains(&s.as_str()) => s.as_str(),
                _ => "all",
            };
            errors.push(Problem::new(
                format!(
                    "{file}: \"cloudTypes\" is {}, not an array",
                    json_kind(other)
                ),
                format!(
                    "write it as an array, e.g. \"cloudTypes\": [\"{example}\"] (values from: {allowed})"
                ),
            ));
        }
    }
}

/// `addonType` is loose in Palette's own examples, so nothing here fails.
fn check_addon_type(
    file: &Utf8Path,
    layer: Option<&str>,
    value: Option<&Value>,
    warnings: &mut Vec<String>,
) {
    let known = ADDON_TYPES.join(", ");
    match value {
        None if layer == Some("addon") => warnings.push(format!(
            "{file}: the addon pack has no \"addonType\"; add one such as \"monitoring\" \
             (usual values: {known})"
        )),
        None => {}
        Some(Value::String(s)) => {
            let wanted = loose(s);
            if !ADDON_TYPES.iter().any(|t| loose(t) == wanted) {
                warnings.push(format!(
                    "{file}: \"addonType\" \"{s}\" is not one of the usual values ({known}); \
                     Palette accepts it, but check the spelling"
                ));
            }
        }
        Some(other) => warnings.push(format!(
            "{file}: \"addonType\" is {}, not a string (usual values: {known})",
            json_kind(other)
        )),
    }
}

/// `charts` and `kubeManifests`: arrays of paths to files inside the pack.
fn check_files(
    files: &dyn PackFiles,
    file: &Utf8Path,
    object: &Map<String, Value>,
    key: &str,
    example: &str,
    errors: &mut Vec<Problem>,
) {
    match object.get(key) {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let field = format!("\"{key}\"[{i}]");
                match item {
                    Value::String(path) => {
                        if let Some(problem) =
                            files::check_reference(files, file, &field, path, example)
                        {
                            errors.push(problem);
                        }
                    }
                    other => errors.push(Problem::new(
                        format!("{file}: {field} is {}, not a string", json_kind(other)),
                        format!("write each path as a string, e.g. \"{example}\""),
                    )),
                }
            }
        }
        Some(other) => errors.push(Problem::new(
            format!("{file}: \"{key}\" is {}, not an array", json_kind(other)),
            format!("write it as an array of paths, e.g. \"{key}\": [\"{example}\"]"),
        )),
    }
}

fn check_constraints(file: &Utf8Path, value: Option<&Value>, errors: &mut Vec<Problem>) {
    let Some(value) = value else { return };
    let Some(constraints) = value.as_object() else {
        errors.push(Problem::new(
            format!(
                "{file}: \"constraints\" is {}, not an object",
                json_kind(value)
            ),
            "write it as an object, e.g. \"constraints\": {\"dependencies\": [...]}, or remove it",
        ));
        return;
    };
    let Some(dependencies) = constraints.get("dependencies") else {
        return;
    };
    let Some(dependencies) = dependencies.as_array() else {
        errors.push(Problem::new(
            format!(
                "{file}: \"constraints.dependencies\" is {}, not an array",
                json_kind(dependencies)
            ),
            "write it as an array of objects with packName, layer, minVersion, maxVersion and type",
        ));
        return;
    };
    let allowed = DEPENDENCY_TYPES.join(", ");
    for (i, dependency) in dependencies.iter().enumerate() {
        let field = format!("\"constraints.dependencies\"[{i}]");
        let Some(dependency) = dependency.as_object() else {
            errors.push(Problem::new(
                format!(
                    "{file}: {field} is {}, not an object",
                    json_kind(dependency)
                ),
                "write each dependency as an object, e.g. \
                 {\"packName\": \"cert-manager\", \"layer\": \"addon\", \"type\": \"required\"}",
            ));
            continue;
        };
        let pack = match dependency.get("packName") {
            Some(Value::String(name)) => format!(" (packName \"{name}\")"),
            _ => String::new(),
        };
        match dependency.get("type") {
            None => {}
            Some(Value::String(t)) if DEPENDENCY_TYPES.contains(&t.as_str()) => {}
            Some(Value::String(t)) => errors.push(Problem::new(
                format!("{file}: {field}.type \"{t}\"{pack} is not a dependency type"),
                format!("use one of: {allowed}{}", did_you_mean(t, DEPENDENCY_TYPES)),
            )),
            Some(other) => errors.push(Problem::new(
                format!(
                    "{file}: {field}.type{pack} is {}, not a string",
                    json_kind(other)
                ),
                format!("use one of: {allowed}"),
            )),
        }
    }
}

/// Lower-case letters and digits only: "Load-Balancer" and "load balancer"
/// compare equal.
fn loose(value: &str) -> String {
    value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// ` (did you mean "k8s"?)` when `value` differs from an allowed value only
/// in case or punctuation.
fn did_you_mean(value: &str, allowed: &[&str]) -> String {
    let wanted = loose(value);
    allowed
        .iter()
        .find(|a| loose(a) == wanted)
        .map(|a| format!(" (did you mean \"{a}\"?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::PackDir;
    use super::super::testing::TestPack;
    use super::*;

    /// The rules applied to `document` as the pack.json of `dir`.
    fn check(dir: &PackDir, document: &Value, found: &mut Findings) {
        super::check(&dir.path.join("pack.json"), document, dir, found);
    }

    /// The errors' `what` lines and the warnings after `change` is applied to
    /// a valid pack.json.
    fn findings(change: impl FnOnce(&mut Map<String, Value>)) -> (Vec<String>, Vec<String>) {
        let pack = TestPack::new();
        let mut document = TestPack::document();
        change(document.as_object_mut().unwrap());
        let mut found = Findings::default();
        check(&pack.dir, &document, &mut found);
        (
            found.errors.iter().map(|p| p.what.clone()).collect(),
            found.warnings,
        )
    }

    fn errors(change: impl FnOnce(&mut Map<String, Value>)) -> Vec<String> {
        findings(change).0
    }

    fn set(key: &str, value: Value) -> impl FnOnce(&mut Map<String, Value>) {
        let key = key.to_string();
        move |o| {
            o.insert(key, value);
        }
    }

    fn remove(key: &str) -> impl FnOnce(&mut Map<String, Value>) {
        let key = key.to_string();
        move |o| {
            o.remove(&key);
        }
    }

    #[test]
    fn a_valid_pack_json_passes_without_warnings() {
        assert_eq!(findings(|_| {}), (vec![], vec![]));
    }

    #[test]
    fn not_an_object() {
        let pack = TestPack::new();
        let mut found = Findings::default();
        check(&pack.dir, &json!(["name"]), &mut found);
        assert!(found.errors[0].what.contains("not a JSON object"));
    }

    #[test]
    fn required_fields_must_be_non_empty_strings() {
        for key in ["name", "displayName", "version", "layer"] {
            let e = errors(remove(key));
            assert_eq!(e.len(), 1, "{key}: {e:?}");
            assert!(e[0].ends_with(&format!("has no \"{key}\"")), "{e:?}");
            let e = errors(set(key, json!(" ")));
            assert!(e[0].contains(&format!("\"{key}\" is empty")), "{e:?}");
            let e = errors(set(key, json!(7)));
            assert!(e[0].contains("is a number, not a string"), "{e:?}");
        }
    }

    #[test]
    fn version_must_be_semantic() {
        for ok in ["1.0.0", "0.2.1", "1.2.3-rc.1", "10.20.30+build.5"] {
            assert_eq!(
                errors(set("version", json!(ok))),
                Vec::<String>::new(),
                "{ok}"
            );
        }
        let pack = TestPack::new();
        for (bad, example) in [
            ("1.0", "1.0.0"),
            ("v1.2.3", "1.2.3"),
            ("01.2.3", "1.2.3"),
            ("latest", "1.0.0"),
        ] {
            let mut document = TestPack::document();
            document["version"] = json!(bad);
            let mut found = Findings::default();
            check(&pack.dir, &document, &mut found);
            let p = &found.errors[0];
            assert!(
                p.what
                    .contains(&format!("\"{bad}\" is not a semantic version")),
                "{p}"
            );
            assert!(
                p.fix.contains(&format!("e.g. \"version\": \"{example}\"")),
                "{p}"
            );
        }
    }

    #[test]
    fn layer_must_be_known() {
        for ok in LAYERS {
            assert!(errors(set("layer", json!(ok))).is_empty(), "{ok}");
        }
        let pack = TestPack::new();
        let mut document = TestPack::document();
        document["layer"] = json!("K8S");
        let mut found = Findings::default();
        check(&pack.dir, &document, &mut found);
        let p = &found.errors[0];
        assert!(p.what.contains("\"K8S\" is not a Palette layer"), "{p}");
        assert!(p.fix.contains("kernel, os, k8s, cni, csi, addon"), "{p}");
        assert!(p.fix.contains("did you mean \"k8s\"?"), "{p}");
    }

    #[test]
    fn cloud_types_must_be_known_strings() {
        assert!(errors(remove("cloudTypes")).is_empty());
        assert!(errors(set("cloudTypes", json!(CLOUD_TYPES))).is_empty());
        let e = errors(set("cloudTypes", json!(["aws", "amazon", 3])));
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains("\"cloudTypes\"[1] \"amazon\" is not a cloud type"));
        assert!(e[1].contains("\"cloudTypes\"[2] is a number"));
        let e = errors(set("cloudTypes", json!("aws")));
        assert!(
            e[0].contains("\"cloudTypes\" is a string, not an array"),
            "{e:?}"
        );

        let pack = TestPack::new();
        let mut document = TestPack::document();
        document["cloudTypes"] = json!(["edge_native"]);
        let mut found = Findings::default();
        check(&pack.dir, &document, &mut found);
        let fix = &found.errors[0].fix;
        assert!(fix.contains("all, aws, azure, gcp, vsphere"), "{fix}");
        assert!(fix.contains("did you mean \"edge-native\"?"), "{fix}");
    }

    #[test]
    fn addon_type_is_only_ever_a_warning() {
        for ok in [
            "monitoring",
            "Load Balancer",
            "load-balancer",
            "system app",
            "app",
        ] {
            assert_eq!(
                findings(set("addonType", json!(ok))),
                (vec![], vec![]),
                "{ok}"
            );
        }
        let (e, w) = findings(set("addonType", json!("monitorng")));
        assert!(e.is_empty(), "{e:?}");
        assert!(
            w[0].contains("\"addonType\" \"monitorng\" is not one of the usual"),
            "{w:?}"
        );
        let (e, w) = findings(set("addonType", json!(["logging"])));
        assert!(
            e.is_empty() && w[0].contains("an array, not a string"),
            "{w:?}"
        );
        let (e, w) = findings(remove("addonType"));
        assert!(
            e.is_empty() && w[0].contains("has no \"addonType\""),
            "{w:?}"
        );
        // Other layers need none.
        let (e, w) = findings(|o| {
            o.remove("addonType");
            o.insert("layer".into(), json!("cni"));
        });
        assert!(e.is_empty() && w.is_empty(), "{e:?} {w:?}");
    }

    #[test]
    fn charts_and_manifests_must_be_arrays_of_strings() {
        let e = errors(set("kubeManifests", json!("manifests/app.yaml")));
        assert!(
            e[0].contains("\"kubeManifests\" is a string, not an array"),
            "{e:?}"
        );
        let e = errors(set("charts", json!([{"path": "charts/x.tgz"}])));
        assert!(
            e[0].contains("\"charts\"[0] is an object, not a string"),
            "{e:?}"
        );
        // Each path is checked against the folder (see `folder`'s tests).
        let e = errors(set("charts", json!(["charts/missing.tgz"])));
        assert!(
            e[0].contains("\"charts\"[0] names \"charts/missing.tgz\""),
            "{e:?}"
        );
    }

    #[test]
    fn dependency_types_must_be_known() {
        let deps = |types: Value| {
            set(
                "constraints",
                json!({"dependencies": types.as_array().unwrap().iter().map(|t| {
                    json!({"packName": "cert-manager", "layer": "addon", "type": t})
                }).collect::<Vec<_>>()}),
            )
        };
        assert!(errors(deps(json!(["optional", "required", "notSupported"]))).is_empty());
        assert!(errors(set("constraints", json!({"resources": []}))).is_empty());
        assert!(
            errors(set(
                "constraints",
                json!({"dependencies": [{"packName": "x"}]})
            ))
            .is_empty()
        );

        let pack = TestPack::new();
        let mut document = TestPack::document();
        document["constraints"] =
            json!({"dependencies": [{"packName": "cert-manager", "type": "not_supported"}]});
        let mut found = Findings::default();
        check(&pack.dir, &document, &mut found);
        let p = &found.errors[0];
        assert!(
            p.what.contains("\"constraints.dependencies\"[0].type \"not_supported\" (packName \"cert-manager\") is not a dependency type"),
            "{p}"
        );
        assert!(p.fix.contains("optional, required, notSupported"), "{p}");
        assert!(p.fix.contains("did you mean \"notSupported\"?"), "{p}");

        assert!(
            errors(deps(json!([true])))[0]
                .contains("].type (packName \"cert-manager\") is a boolean")
        );
        assert!(
            errors(set("constraints", json!([])))[0]
                .contains("\"constraints\" is an array, not an object")
        );
        assert!(
            errors(set("constraints", json!({"dependencies": {}})))[0].contains("not an array")
        );
        assert!(
            errors(set("constraints", json!({"dependencies": ["x"]})))[0]
                .contains("[0] is a string, not an object")
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = errors(|o| {
            o.remove("displayName");
            o.insert("layer".into(), json!("addons"));
            o.insert("version".into(), json!("1"));
            o.insert("cloudTypes".into(), json!(["aws", "moon"]));
        });
        assert_eq!(e.len(), 4, "{e:?}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest_version("V2.0.1").as_deref(), Some("2.0.1"));
        assert_eq!(suggest_version("3").as_deref(), Some("3.0.0"));
        assert_eq!(suggest_version("1.2.3.4"), None);
        assert_eq!(suggest_version("one"), None);
        assert_eq!(did_you_mean("Addon", LAYERS), " (did you mean \"addon\"?)");
        assert_eq!(did_you_mean("moon", LAYERS), "");
    }
}
