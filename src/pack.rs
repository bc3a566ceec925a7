//! The pack folder on disk: where it is, what tar will be given, and the
//! `name` and `version` its pack.json declares.

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;

use crate::error::Problem;

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
    let text = std::fs::read_to_string(&file).map_err(|e| {
        vec![Problem::new(
            format!("{file} cannot be read: {e}"),
            "every pack folder needs a pack.json with at least name, displayName, version and layer",
        )]
    })?;
    parse_pack_json(&text, file.as_str())
}

/// Parses pack.json text; `file` names it in messages.
pub fn parse_pack_json(text: &str, file: &str) -> Result<PackJson, Vec<Problem>> {
    let document: Value = serde_json::from_str(text).map_err(|e| {
        vec![Problem::new(
            format!("{file} is not valid JSON: {e}"),
            "fix the JSON syntax (a trailing comma or a missing quote is typical)",
        )]
    })?;
    let Some(object) = document.as_object() else {
        return Err(vec![Problem::new(
            format!("{file} is not a JSON object"),
            "pack.json must be an object such as {\"name\": \"mypack\", \"version\": \"1.0.0\", ...}",
        )]);
    };
    let mut problems = Vec::new();
    let mut field = |key: &str| match object.get(key) {
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
    };
    let name = field("name");
    let version = field("version");
    match (name, version) {
        (Some(name), Some(version)) if problems.is_empty() => Ok(PackJson {
            name,
            version,
            document,
        }),
        _ => Err(problems),
    }
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

fn example(key: &str, value: &Value) -> String {
    match (key, value) {
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
        assert!(e[1].fix.contains("\"version\": \"1.0\""), "{}", e[1].fix);
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
}
