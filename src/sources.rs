//! Where packs come from: pack folders (given, or found under `--from`) and
//! archives built elsewhere (`--archive`), and the fixed time that
//! `--reproducible` uses.

use std::io::Read;
use std::time::UNIX_EPOCH;

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::Problem;
use crate::pack::{self, PackDir, PackJson};

/// One pack to push.
#[derive(Clone, Debug)]
pub enum Source {
    /// A folder that tar archives.
    Folder(PackDir),
    /// An archive carried in; the tar step becomes a check of it.
    Archive(CarriedArchive),
}

/// A `NAME-VERSION.tar.gz` built elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CarriedArchive {
    /// Absolute path.
    pub path: Utf8PathBuf,
    /// The folder it sits in: where `oras push` runs.
    pub dir: Utf8PathBuf,
    /// Its file name: what `oras push` is given.
    pub file_name: String,
    /// The one top-level folder inside it.
    pub folder_name: String,
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Folder(dir) => dir.path.to_string(),
            Source::Archive(archive) => archive.path.to_string(),
        }
    }
}

/// Every pack folder under `root` (a folder holding a pack.json), sorted;
/// a pack folder's own subfolders are not searched.
pub fn find_packs(root: &Utf8Path) -> Result<Vec<Utf8PathBuf>, Problem> {
    if !root.is_dir() {
        return Err(Problem::new(
            format!("--from {root} is not a folder"),
            "pass the folder that holds your pack folders",
        ));
    }
    let mut found = Vec::new();
    let mut walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        let entry = entry.map_err(|e| {
            Problem::new(
                format!("--from {root}: cannot read {e}"),
                "make the folder readable",
            )
        })?;
        if entry.file_type().is_dir() && entry.path().join("pack.json").is_file() {
            let path = Utf8PathBuf::from_path_buf(entry.path().to_path_buf()).map_err(|p| {
                Problem::new(format!("{} is not valid UTF-8", p.display()), "rename it")
            })?;
            found.push(path);
            walker.skip_current_dir();
        }
    }
    if found.is_empty() {
        return Err(Problem::new(
            format!("--from {root}: no pack folder (a folder holding pack.json) was found"),
            "check the folder, or pass pack folders directly",
        ));
    }
    Ok(found)
}

/// Checks a carried-in archive: named `NAME-VERSION.tar.gz`, a gzip'd tar
/// holding exactly one top-level folder with a pack.json whose name and
/// version match the file name, and no entry outside that folder.
pub fn inspect_archive(given: &Utf8Path) -> Result<(CarriedArchive, PackJson), Vec<Problem>> {
    let one = |what: String, fix: &str| vec![Problem::new(what, fix)];
    let meta = std::fs::metadata(given).map_err(|e| {
        one(
            format!("--archive {given} cannot be read: {e}"),
            "pass the path of a NAME-VERSION.tar.gz file",
        )
    })?;
    if !meta.is_file() {
        return Err(one(
            format!("--archive {given} is not a file"),
            "pass the path of a NAME-VERSION.tar.gz file",
        ));
    }
    let path = std::path::absolute(given)
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
        .ok_or_else(|| {
            one(
                format!("--archive {given}: the path cannot be resolved"),
                "pass a valid UTF-8 path",
            )
        })?;
    let file_name = path.file_name().unwrap_or_default().to_string();
    let Some(stem) = file_name.strip_suffix(".tar.gz") else {
        return Err(one(
            format!("--archive {given}: the file name must be NAME-VERSION.tar.gz"),
            "rename the archive as the documentation names it, e.g. mypack-1.0.0.tar.gz",
        ));
    };

    let file = std::fs::File::open(&path).map_err(|e| {
        one(
            format!("--archive {given} cannot be opened: {e}"),
            "check the file",
        )
    })?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let entries = archive.entries().map_err(|e| {
        one(
            format!("--archive {given} is not a tar.gz archive: {e}"),
            "pass an archive made with tar -czf",
        )
    })?;
    let mut top: Option<String> = None;
    let mut pack_json: Option<String> = None;
    let mut problems = Vec::new();
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                return Err(one(
                    format!("--archive {given} is not a readable tar.gz archive: {e}"),
                    "rebuild it with tar -czf NAME-VERSION.tar.gz PACK_FOLDER",
                ));
            }
        };
        let entry_path = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut parts = entry_path
            .trim_start_matches("./")
            .split('/')
            .filter(|p| !p.is_empty());
        let first = parts.next().unwrap_or_default().to_string();
        let rest: Vec<&str> = parts.collect();
        if entry_path.starts_with('/') || first == ".." || rest.contains(&"..") || first.is_empty()
        {
            problems.push(Problem::new(
                format!("--archive {given}: the entry '{entry_path}' points outside the pack folder"),
                "rebuild the archive from the pack folder's parent: tar -czf NAME-VERSION.tar.gz PACK_FOLDER",
            ));
            continue;
        }
        match &top {
            None => top = Some(first.clone()),
            Some(t) if *t != first => {
                problems.push(Problem::new(
                    format!("--archive {given} holds more than one top-level entry ('{t}' and '{first}')"),
                    "an archive holds exactly one pack folder: tar -czf NAME-VERSION.tar.gz PACK_FOLDER",
                ));
                break;
            }
            Some(_) => {}
        }
        if rest == ["pack.json"] {
            let mut text = String::new();
            if entry
                .by_ref()
                .take(4 * 1024 * 1024)
                .read_to_string(&mut text)
                .is_err()
            {
                problems.push(Problem::new(
                    format!("--archive {given}: pack.json is not readable text"),
                    "fix pack.json",
                ));
            }
            pack_json = Some(text);
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (Some(folder_name), Some(text)) = (top, pack_json) else {
        return Err(one(
            format!("--archive {given} holds no PACK_FOLDER/pack.json"),
            "an archive holds one pack folder with its pack.json: tar -czf NAME-VERSION.tar.gz PACK_FOLDER",
        ));
    };
    let json = pack::parse_pack_json(&text, &format!("{file_name}:{folder_name}/pack.json"))?;
    let expected = format!("{}-{}", json.name, json.version);
    if stem != expected {
        return Err(one(
            format!(
                "--archive {given}: the file name says '{stem}' but its pack.json says name '{}' and version '{}'",
                json.name, json.version
            ),
            &format!(
                "name the archive {expected}.tar.gz, or rebuild it from the right pack folder"
            ),
        ));
    }
    let dir = path
        .parent()
        .map(Utf8Path::to_owned)
        .unwrap_or_else(|| "/".into());
    Ok((
        CarriedArchive {
            path,
            dir,
            file_name,
            folder_name,
        },
        json,
    ))
}

/// The time `--reproducible` fixes: SOURCE_DATE_EPOCH if set, else the newest
/// modification time in the pack folder.
pub fn reproducible_epoch(folder: &Utf8Path) -> Result<u64, Problem> {
    if let Ok(value) = std::env::var("SOURCE_DATE_EPOCH") {
        return value.trim().parse::<u64>().map_err(|_| {
            Problem::new(
                format!("SOURCE_DATE_EPOCH is '{value}', not a number of seconds"),
                "set SOURCE_DATE_EPOCH to seconds since 1970 (e.g. $(git log -1 --format=%ct)) or unset it",
            )
        });
    }
    let mut newest = 0;
    for entry in walkdir::WalkDir::new(folder).follow_links(false) {
        let entry = entry.map_err(|e| {
            Problem::new(
                format!("cannot read {folder}: {e}"),
                "make the pack folder readable",
            )
        })?;
        let meta = entry.metadata().map_err(|e| {
            Problem::new(
                format!("cannot read {}: {e}", entry.path().display()),
                "make it readable",
            )
        })?;
        if let Ok(modified) = meta.modified()
            && let Ok(since) = modified.duration_since(UNIX_EPOCH)
        {
            newest = newest.max(since.as_secs());
        }
    }
    Ok(newest)
}

/// RFC 3339 in UTC at second resolution, as ORAS writes `created`.
pub fn rfc3339(epoch: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + std::time::Duration::from_secs(epoch))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8(p: &std::path::Path) -> &Utf8Path {
        Utf8Path::from_path(p).unwrap()
    }

    #[test]
    fn finds_pack_folders_without_descending_into_them() {
        let root = tempfile::tempdir().unwrap();
        for dir in ["b", "a", "a/nested", "x/deep/c", "empty"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        for pack in ["a", "a/nested", "b", "x/deep/c"] {
            std::fs::write(root.path().join(pack).join("pack.json"), "{}").unwrap();
        }
        let found = find_packs(utf8(root.path())).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(utf8(root.path())).unwrap().to_string())
            .collect();
        assert_eq!(names, ["a", "b", "x/deep/c"]);
        assert!(find_packs(utf8(&root.path().join("empty"))).is_err());
    }

    fn make_archive(dir: &std::path::Path, name: &str, folder: &str, json: &str) -> Utf8PathBuf {
        let src = dir.join("src").join(folder);
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("pack.json"), json).unwrap();
        let out = dir.join(name);
        let status = std::process::Command::new("tar")
            .arg("-czf")
            .arg(&out)
            .arg(folder)
            .current_dir(dir.join("src"))
            .status()
            .unwrap();
        assert!(status.success());
        Utf8PathBuf::from_path_buf(out).unwrap()
    }

    #[test]
    fn accepts_a_matching_archive() {
        let dir = tempfile::tempdir().unwrap();
        let path = make_archive(
            dir.path(),
            "p-1.0.0.tar.gz",
            "p",
            r#"{"name":"p","version":"1.0.0"}"#,
        );
        let (archive, json) = inspect_archive(&path).unwrap();
        assert_eq!(
            (archive.file_name.as_str(), archive.folder_name.as_str()),
            ("p-1.0.0.tar.gz", "p")
        );
        assert_eq!(json.name, "p");
    }

    #[test]
    fn refuses_mismatched_or_misnamed_archives() {
        let dir = tempfile::tempdir().unwrap();
        let wrong = make_archive(
            dir.path(),
            "p-2.0.0.tar.gz",
            "p",
            r#"{"name":"p","version":"1.0.0"}"#,
        );
        assert!(
            inspect_archive(&wrong).unwrap_err()[0]
                .fix
                .contains("p-1.0.0.tar.gz")
        );
        let misnamed = make_archive(
            dir.path(),
            "p.tgz",
            "q",
            r#"{"name":"p","version":"1.0.0"}"#,
        );
        assert!(
            inspect_archive(&misnamed).unwrap_err()[0]
                .what
                .contains("NAME-VERSION.tar.gz")
        );
        let not_gzip = dir.path().join("p-1.0.0.tar.gz");
        std::fs::write(&not_gzip, b"plain text").unwrap();
        assert!(inspect_archive(utf8(&not_gzip)).is_err());
    }

    #[test]
    fn epoch_is_the_newest_file_time() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "x").unwrap();
        let epoch = reproducible_epoch(utf8(dir.path())).unwrap();
        assert!(epoch > 1_600_000_000);
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
