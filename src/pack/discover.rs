//! Finding pack folders under a folder: for `push --from`, and for the
//! guide's list of packs to offer.

use camino::{Utf8Path, Utf8PathBuf};

/// How far and where to look.
#[derive(Clone, Copy, Debug)]
pub struct Walk {
    /// How many levels below the root (`None`: all).
    pub max_depth: Option<usize>,
    /// Pass over folders whose names start with '.'.
    pub skip_hidden: bool,
}

/// A folder the walk could not use.
#[derive(Debug)]
pub enum Unusable {
    Unreadable(walkdir::Error),
    NotUtf8(std::path::PathBuf),
}

/// Every pack folder (a folder holding a pack.json) under `root`, sorted by
/// name; a pack folder's own subfolders are not searched. What could not be
/// read is passed over and returned beside them.
pub fn find_pack_folders(root: &Utf8Path, walk: Walk) -> (Vec<Utf8PathBuf>, Vec<Unusable>) {
    let mut found = Vec::new();
    let mut unusable = Vec::new();
    let mut walker = walkdir::WalkDir::new(root)
        .max_depth(walk.max_depth.unwrap_or(usize::MAX))
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || !walk.skip_hidden || !e.file_name().to_string_lossy().starts_with('.')
        });
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                unusable.push(Unusable::Unreadable(e));
                continue;
            }
        };
        if !entry.file_type().is_dir() || !entry.path().join("pack.json").is_file() {
            continue;
        }
        walker.skip_current_dir();
        match Utf8PathBuf::from_path_buf(entry.into_path()) {
            Ok(path) => found.push(path),
            Err(path) => unusable.push(Unusable::NotUtf8(path)),
        }
    }
    (found, unusable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(root: &std::path::Path, walk: Walk) -> Vec<String> {
        let root = Utf8Path::from_path(root).unwrap();
        let (found, unusable) = find_pack_folders(root, walk);
        assert!(unusable.is_empty(), "{unusable:?}");
        found
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string())
            .collect()
    }

    #[test]
    fn finds_pack_folders_without_descending_into_them() {
        let root = tempfile::tempdir().unwrap();
        for dir in ["b", "a", "a/nested", "x/deep/c", "empty", ".hidden/h"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        for pack in ["a", "a/nested", "b", "x/deep/c", ".hidden/h"] {
            std::fs::write(root.path().join(pack).join("pack.json"), "{}").unwrap();
        }
        let everything = Walk {
            max_depth: None,
            skip_hidden: false,
        };
        assert_eq!(
            names(root.path(), everything),
            [".hidden/h", "a", "b", "x/deep/c"]
        );
        let shallow = Walk {
            max_depth: Some(2),
            skip_hidden: true,
        };
        assert_eq!(names(root.path(), shallow), ["a", "b"]);
        assert!(names(&root.path().join("empty"), everything).is_empty());
    }
}
