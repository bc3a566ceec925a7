//! Finding pack folders under a folder: for `push --from`, and for the
//! guide's list of packs to offer.

use camino::{Utf8Path, Utf8PathBuf};

/// How far and where to look.
#[derive(Clone, Copy, Debug)]
pub struct Walk {
    /// How many levels below the root (`None`: all).
    pub max_depth: Option<usize>,
    /// Pass over folders whose names start with '.' (as git and most tools
    /// do); they are returned beside the packs found.
    pub skip_hidden: bool,
}

/// A folder the walk could not use.
#[derive(Debug)]
pub enum Unusable {
    Unreadable(walkdir::Error),
    NotUtf8(std::path::PathBuf),
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Discovered {
    /// The pack folders, sorted by name: folders holding a pack.json, and
    /// links to such folders (which the push resolves, as it does a linked
    /// PACK_DIR).
    pub folders: Vec<Utf8PathBuf>,
    /// Hidden folders passed over (with `skip_hidden`).
    pub hidden: Vec<Utf8PathBuf>,
    /// What could not be read, passed over.
    pub unusable: Vec<Unusable>,
}

/// Every pack folder under `root`; a pack folder's own subfolders are not
/// searched, nor are links followed below it.
pub fn find_pack_folders(root: &Utf8Path, walk: Walk) -> Discovered {
    let mut found = Discovered::default();
    let mut walker = walkdir::WalkDir::new(root)
        .max_depth(walk.max_depth.unwrap_or(usize::MAX))
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                found.unusable.push(Unusable::Unreadable(e));
                continue;
            }
        };
        let kind = entry.file_type();
        // A link counts when it leads to a folder (metadata follows it).
        let folder = kind.is_dir() || (kind.is_symlink() && entry.path().is_dir());
        if !folder {
            continue;
        }
        let skipped = walk.skip_hidden
            && entry.depth() > 0
            && entry.file_name().to_string_lossy().starts_with('.');
        if !skipped && !entry.path().join("pack.json").is_file() {
            continue;
        }
        walker.skip_current_dir();
        let list = if skipped {
            &mut found.hidden
        } else {
            &mut found.folders
        };
        match Utf8PathBuf::from_path_buf(entry.into_path()) {
            Ok(path) => list.push(path),
            Err(path) => found.unusable.push(Unusable::NotUtf8(path)),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relative(root: &Utf8Path, paths: &[Utf8PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string())
            .collect()
    }

    fn names(root: &std::path::Path, walk: Walk) -> (Vec<String>, Vec<String>) {
        let root = Utf8Path::from_path(root).unwrap();
        let found = find_pack_folders(root, walk);
        assert!(found.unusable.is_empty(), "{:?}", found.unusable);
        (
            relative(root, &found.folders),
            relative(root, &found.hidden),
        )
    }

    #[test]
    fn finds_pack_folders_without_descending_into_them() {
        let root = tempfile::tempdir().unwrap();
        for dir in [
            "b",
            "a",
            "a/nested",
            "x/deep/c",
            "empty",
            ".hidden/h",
            ".git",
        ] {
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
            names(root.path(), everything).0,
            [".hidden/h", "a", "b", "x/deep/c"]
        );
        let shallow = Walk {
            max_depth: Some(2),
            skip_hidden: true,
        };
        assert_eq!(
            names(root.path(), shallow),
            (
                vec!["a".into(), "b".into()],
                vec![".git".into(), ".hidden".into()]
            )
        );
        assert!(names(&root.path().join("empty"), everything).0.is_empty());
        // The root itself is never hidden.
        assert_eq!(names(&root.path().join(".hidden"), shallow).0, ["h"]);
    }

    #[test]
    fn links_to_pack_folders_are_found_and_not_followed_further() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let real = elsewhere.path().join("real");
        std::fs::create_dir_all(real.join("inner")).unwrap();
        std::fs::write(real.join("pack.json"), "{}").unwrap();
        std::fs::write(real.join("inner/pack.json"), "{}").unwrap();
        let plain = elsewhere.path().join("plain");
        std::fs::create_dir_all(plain.join("p")).unwrap();
        std::fs::write(plain.join("p/pack.json"), "{}").unwrap();
        std::os::unix::fs::symlink(&real, root.path().join("linked")).unwrap();
        // A link to a folder that is no pack folder is not followed.
        std::os::unix::fs::symlink(&plain, root.path().join("parent-link")).unwrap();
        std::os::unix::fs::symlink(root.path().join("nowhere"), root.path().join("dangling"))
            .unwrap();
        let walk = Walk {
            max_depth: None,
            skip_hidden: true,
        };
        assert_eq!(names(root.path(), walk).0, ["linked"]);
    }
}
