//! A pack: a folder on disk (where it is, what tar will be given) or an
//! archive carried in, the `name` and `version` its pack.json declares, and
//! whether it is fit to push (`validate`: the pack.json rules in `rules`, the
//! rules about its files in `files`, the folder rules in `folder`, the
//! archive's in `archive`), and the fingerprint of what tar archives of a
//! folder (`fingerprint`).

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{Map, Value};

use crate::error::Problem;

mod archive;
mod discover;
mod files;
pub mod fingerprint;
mod folder;
mod rules;

pub use archive::{CarriedArchive, inspect_archive, inspect_contents};
pub use discover::{Discovered, Unusable, Walk, find_pack_folders};
pub use files::{Found, PackFiles, check_required, not_png};

/// One pack to push.
#[derive(Clone, Debug)]
pub enum Source {
    /// A folder that tar archives.
    Folder(PackDir),
    /// An archive carried in; the tar step becomes a check of it.
    Archive(CarriedArchive),
}

impl Source {
    /// The folder or the archive, as messages name it.
    pub fn describe(&self) -> String {
        self.path().to_string()
    }

    /// The absolute path of the folder or the archive.
    pub fn path(&self) -> &Utf8Path {
        match self {
            Source::Folder(dir) => &dir.path,
            Source::Archive(archive) => &archive.path,
        }
    }
}

/// A pack folder resolved for archiving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackDir {
    /// As the user gave it.
    pub given: Utf8PathBuf,
    /// Absolute, with `.`, `..` and symlinks resolved.
    pub path: Utf8PathBuf,
    /// The folder's own name: what tar is given and what the archive holds.
    pub folder_name: String,
    /// Where tar runs.
    pub parent: Utf8PathBuf,
}

/// Resolves PACK_DIR. `.`, a trailing `/` and a symlink to a folder are
/// resolved to the real folder, so the archive always holds a named folder.
pub fn locate(given: &Utf8Path) -> Result<PackDir, Problem> {
    let meta = std::fs::metadata(given).map_err(|e| {
        Problem::new(
            format!("the pack folder '{given}' cannot be read: {e}"),
            "pass the path of the folder that holds pack.json",
        )
    })?;
    if !meta.is_dir() {
        return Err(Problem::new(
            format!("'{given}' is not a folder"),
            "pass the folder that holds pack.json (not pack.json or an archive)",
        ));
    }
    let real = std::fs::canonicalize(given).map_err(|e| {
        Problem::new(
            format!("the pack folder '{given}' cannot be resolved: {e}"),
            "check the path",
        )
    })?;
    let path = Utf8PathBuf::from_path_buf(real).map_err(|p| {
        Problem::new(
            format!(
                "the pack folder's path '{}' is not valid UTF-8",
                p.display()
            ),
            "move the pack to a folder whose path is valid UTF-8",
        )
    })?;
    let (Some(folder_name), Some(parent)) = (path.file_name(), path.parent()) else {
        return Err(Problem::new(
            format!("'{given}' resolves to '{path}', which has no folder name to archive"),
            "put the pack in a folder of its own and pass that folder",
        ));
    };
    if folder_name.starts_with('-') {
        return Err(Problem::new(
            format!(
                "the pack folder's name '{folder_name}' starts with '-', which tar would read as an option"
            ),
            "rename the folder so that it starts with a letter or digit (e.g. its pack name)",
        ));
    }
    Ok(PackDir {
        given: given.to_owned(),
        folder_name: folder_name.to_string(),
        parent: parent.to_owned(),
        path,
    })
}

/// What packpush needs from pack.json, plus the whole document for checks.
#[derive(Clone, Debug, PartialEq)]
pub struct PackJson {
    pub name: String,
    pub version: String,
    pub document: Value,
}

/// Reads PACK_DIR/pack.json and its `name` and `version`; reports every
/// problem found.
pub fn read_pack_json(dir: &Utf8Path) -> Result<PackJson, Vec<Problem>> {
    let file = dir.join("pack.json");
    let document = load_document(&file).map_err(|p| vec![p])?;
    pack_json(&file, document)
}

/// Parses pack.json text read from elsewhere (a carried-in archive); `file`
/// names it in messages.
pub fn parse_pack_json(text: &str, file: &str) -> Result<PackJson, Vec<Problem>> {
    let document = parse_document(text, Utf8Path::new(file), None).map_err(|p| vec![p])?;
    pack_json(Utf8Path::new(file), document)
}

/// The JSON document in pack.json's text. A UTF-8 byte order mark (some
/// editors on Windows write one) is named, with how to remove it: `on_disk`
/// is the file to fix, `None` for one inside an archive.
fn parse_document(
    text: &str,
    file: &Utf8Path,
    on_disk: Option<&Utf8Path>,
) -> Result<Value, Problem> {
    if text.starts_with('\u{feff}') {
        let remove = match on_disk {
            Some(path) => format!(
                "sed -i '1s/^\\xEF\\xBB\\xBF//' {}",
                shell_words::quote(path.as_str())
            ),
            None => "sed -i '1s/^\\xEF\\xBB\\xBF//' pack.json, then build the archive again".into(),
        };
        return Err(Problem::new(
            format!(
                "{file} starts with a UTF-8 byte order mark (the bytes EF BB BF), \
                 which a JSON text must not start with"
            ),
            format!(
                "save it as UTF-8 without a byte order mark (editors call it 'UTF-8', \
                 not 'UTF-8 with BOM'), or remove the mark: {remove}"
            ),
        ));
    }
    serde_json::from_str(text).map_err(|e| {
        Problem::new(
            format!("{file} is not valid JSON: {e}"),
            "fix the JSON syntax (a trailing comma or a missing quote is typical)",
        )
    })
}

/// Reads and parses pack.json; it must hold a JSON object.
fn load_document(file: &Utf8Path) -> Result<Value, Problem> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Problem::new(
            format!("{file} cannot be read: {e}"),
            "every pack folder needs a pack.json with at least name, displayName, version and layer",
        )
    })?;
    let document = parse_document(&text, file, Some(file))?;
    if !document.is_object() {
        return Err(not_an_object(file));
    }
    Ok(document)
}

fn not_an_object(file: &Utf8Path) -> Problem {
    Problem::new(
        format!("{file} is not a JSON object"),
        "pack.json must be an object such as {\"name\": \"mypack\", \"version\": \"1.0.0\", ...}",
    )
}

/// Takes `name` and `version` out of a parsed pack.json.
fn pack_json(file: &Utf8Path, document: Value) -> Result<PackJson, Vec<Problem>> {
    let Some(object) = document.as_object() else {
        return Err(vec![not_an_object(file)]);
    };
    let mut problems = Vec::new();
    let name = string_field(file, object, "name", &mut problems);
    let version = string_field(file, object, "version", &mut problems);
    match (name, version) {
        (Some(name), Some(version)) if problems.is_empty() => Ok(PackJson {
            name,
            version,
            document,
        }),
        _ => Err(problems),
    }
}

/// One required field that must be a non-empty string: its value, or the
/// problem recorded.
fn string_field(
    file: &Utf8Path,
    object: &Map<String, Value>,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::String(_)) => {
            problems.push(Problem::new(
                format!("{file}: \"{key}\" is empty"),
                format!("set \"{key}\" to a non-empty string"),
            ));
            None
        }
        Some(other) => {
            problems.push(Problem::new(
                format!("{file}: \"{key}\" is {}, not a string", json_kind(other)),
                format!(
                    "write \"{key}\" as a string, e.g. \"{key}\": \"{}\"",
                    example(key, other)
                ),
            ));
            None
        }
        None => {
            problems.push(Problem::new(
                format!("{file} has no \"{key}\""),
                format!("add \"{key}\" to pack.json"),
            ));
            None
        }
    }
}

/// What validation found. Errors make the pack unfit to push; warnings are
/// shown and never fail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub errors: Vec<Problem>,
    pub warnings: Vec<String>,
}

impl Findings {
    /// No errors (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Applies the pack.json rules to `document`, wherever the pack is: `file`
/// names the pack.json in messages, and `files` is where the paths it names
/// (`charts`, `kubeManifests`) are looked for. The rules of a pack folder
/// (`validate`) and of a carried-in archive both come through here.
pub fn check_document(file: &Utf8Path, document: &Value, files: &dyn PackFiles) -> Findings {
    let mut findings = Findings::default();
    rules::check(file, document, files, &mut findings);
    findings
}

/// Applies every pack.json rule and every folder rule to a pack whose
/// pack.json has been read, and reports everything found.
pub fn validate(dir: &PackDir, json: &PackJson) -> Findings {
    let mut findings = check_document(&dir.path.join("pack.json"), &json.document, dir);
    folder::check(dir, &mut findings);
    findings
}

/// Reads pack.json and validates the whole pack, reporting every problem
/// even when pack.json is unusable: a missing `name` does not hide a missing
/// logo. The `PackJson` is there when its `name` and `version` are usable.
pub fn inspect(dir: &PackDir) -> (Option<PackJson>, Findings) {
    let file = dir.path.join("pack.json");
    let (json, mut findings) = match load_document(&file) {
        Ok(document) => {
            // The document rules report unusable names and versions in the
            // same words as `pack_json`, so its own problems are not kept.
            let findings = check_document(&file, &document, dir);
            (pack_json(&file, document).ok(), findings)
        }
        Err(problem) => (
            None,
            Findings {
                errors: vec![problem],
                warnings: Vec::new(),
            },
        ),
    };
    folder::check(dir, &mut findings);
    (json, findings)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string value for `key` that the rules accept: a number written as a
/// semantic version (`1.0` → `1.0.0`) for the version.
fn example(key: &str, value: &Value) -> String {
    match (key, value) {
        ("version", Value::Number(n)) => {
            rules::suggest_version(&n.to_string()).unwrap_or_else(|| "1.0.0".into())
        }
        (_, Value::Number(n)) => n.to_string(),
        ("version", _) => "1.0.0".into(),
        _ => "mypack".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(json: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pack.json"), json).unwrap();
        dir
    }

    fn read(json: &str) -> Result<PackJson, Vec<Problem>> {
        let dir = dir_with(json);
        read_pack_json(Utf8Path::from_path(dir.path()).unwrap())
    }

    #[test]
    fn reads_name_and_version() {
        let p = read(r#"{"name":"mypack","version":"1.0.0","layer":"addon"}"#).unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("mypack", "1.0.0"));
    }

    #[test]
    fn reports_each_problem() {
        let e = read(r#"{"version": 1.0}"#).unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].what.contains("no \"name\""));
        assert!(e[1].what.contains("a number, not a string"));
        assert!(e[1].fix.contains("\"version\": \"1.0.0\""), "{}", e[1].fix);
        assert!(
            read("[1]").unwrap_err()[0]
                .what
                .contains("not a JSON object")
        );
        assert!(read("{").unwrap_err()[0].what.contains("not valid JSON"));
        assert!(
            read(r#"{"name":"","version":"1"}"#).unwrap_err()[0]
                .what
                .contains("empty")
        );
    }

    #[test]
    fn missing_pack_json() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_pack_json(Utf8Path::from_path(dir.path()).unwrap()).unwrap_err();
        assert!(e[0].what.contains("cannot be read"));
    }

    #[test]
    fn locate_resolves_dot_and_trailing_slash() {
        let root = tempfile::tempdir().unwrap();
        let pack = root.path().join("mypack");
        std::fs::create_dir(&pack).unwrap();
        let given = Utf8PathBuf::from_path_buf(pack.join(".")).unwrap();
        let found = locate(&given).unwrap();
        assert_eq!(found.folder_name, "mypack");
        let with_slash = Utf8PathBuf::from(format!("{}/", pack.display()));
        assert_eq!(locate(&with_slash).unwrap().folder_name, "mypack");
    }

    #[test]
    fn locate_refuses_files_and_dash_names() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("pack.json");
        std::fs::write(&file, "{}").unwrap();
        assert!(
            locate(Utf8Path::from_path(&file).unwrap())
                .unwrap_err()
                .what
                .contains("not a folder")
        );
        let dash = root.path().join("-pack");
        std::fs::create_dir(&dash).unwrap();
        assert!(
            locate(Utf8Path::from_path(&dash).unwrap())
                .unwrap_err()
                .what
                .contains("starts with '-'")
        );
    }

    #[test]
    fn validate_applies_both_rule_sets() {
        let pack = testing::TestPack::new();
        let json = read_pack_json(&pack.dir.path).unwrap();
        assert_eq!(validate(&pack.dir, &json), Findings::default());

        let mut document = testing::TestPack::document();
        document["layer"] = "plugin".into();
        document.as_object_mut().unwrap().remove("addonType");
        pack.write("pack.json", document.to_string());
        std::fs::remove_file(pack.path("logo.png")).unwrap();
        let json = read_pack_json(&pack.dir.path).unwrap();
        let found = validate(&pack.dir, &json);
        assert!(!found.is_ok());
        assert_eq!(found.errors.len(), 2, "{found:#?}");
        assert!(
            found.errors[0]
                .what
                .contains("\"plugin\" is not a Palette layer")
        );
        assert!(found.errors[1].what.ends_with("logo.png is missing"));
        // No addonType warning: the layer is not "addon".
        assert!(found.warnings.is_empty(), "{found:#?}");
    }

    #[test]
    fn inspect_reports_everything_even_without_a_usable_name() {
        let pack = testing::TestPack::new();
        let (json, found) = inspect(&pack.dir);
        assert_eq!(json.map(|j| j.name).as_deref(), Some("mypack"));
        assert!(found.is_ok());

        pack.write(
            "pack.json",
            r#"{"version": 1, "layer": "addon", "displayName": "x"}"#,
        );
        std::fs::remove_file(pack.path("values.yaml")).unwrap();
        let (json, found) = inspect(&pack.dir);
        assert!(json.is_none());
        let whats: Vec<_> = found.errors.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(whats.len(), 3, "{whats:#?}");
        assert!(whats[0].ends_with("has no \"name\""));
        assert!(whats[1].contains("\"version\" is a number, not a string"));
        assert!(whats[2].ends_with("values.yaml is missing"));
        assert_eq!(found.warnings.len(), 1, "{found:#?}"); // no addonType

        pack.write("pack.json", "{,}");
        let (json, found) = inspect(&pack.dir);
        assert!(json.is_none());
        assert_eq!(found.errors.len(), 2, "{found:#?}");
        assert!(found.errors[0].what.contains("not valid JSON"));
    }
}

/// A valid pack for tests to break.
#[cfg(test)]
mod testing {
    use std::path::PathBuf;

    use camino::Utf8Path;
    use serde_json::{Value, json};

    use super::{Findings, PackDir, inspect, locate};

    /// The PNG signature and the start of an IHDR chunk.
    pub(super) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    /// `mypack`, valid, alone in a temporary folder (`root`), so links can
    /// point just outside it.
    pub(super) struct TestPack {
        pub root: tempfile::TempDir,
        pub dir: PackDir,
    }

    impl TestPack {
        pub fn new() -> TestPack {
            let root = tempfile::tempdir().unwrap();
            let path = root.path().join("mypack");
            std::fs::create_dir(&path).unwrap();
            let dir = locate(Utf8Path::from_path(&path).unwrap()).unwrap();
            let pack = TestPack { root, dir };
            pack.write("pack.json", TestPack::document().to_string());
            pack.write("values.yaml", "replicas: 1\n");
            pack.write("logo.png", PNG);
            pack.write("charts/app-1.0.0.tgz", b"\x1f\x8b\x08\0");
            pack.write("manifests/app.yaml", "kind: ConfigMap\n");
            pack
        }

        /// The valid pack.json `new` writes.
        pub fn document() -> Value {
            json!({
                "name": "mypack",
                "displayName": "My Pack",
                "layer": "addon",
                "addonType": "monitoring",
                "version": "1.0.0",
                "cloudTypes": ["aws", "edge-native"],
                "charts": ["charts/app-1.0.0.tgz"],
                "kubeManifests": ["manifests/app.yaml"],
                "constraints": {
                    "dependencies": [
                        {"packName": "cert-manager", "layer": "addon", "minVersion": "1.0.0", "type": "optional"}
                    ]
                }
            })
        }

        pub fn path(&self, relative: &str) -> PathBuf {
            self.dir.path.join(relative).into_std_path_buf()
        }

        /// Writes a file in the pack, creating its folders.
        pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) {
            let path = self.path(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }

        pub fn validate(&self) -> Findings {
            inspect(&self.dir).1
        }
    }
}
