//! A record of a folder tree (paths, kinds, sizes, modes, modification times, link
//! targets and sha256 of file contents), for proving that a run changed none of the
//! user's files.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// One entry of a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `file`, `dir`, `symlink` or `other`.
    pub kind: &'static str,
    pub size: u64,
    pub mode: u32,
    /// Nanoseconds since the epoch; `None` when the snapshot leaves it out.
    pub mtime_ns: Option<i128>,
    /// sha256 of a file's bytes, or a link's target.
    pub content: String,
}

/// Every entry under a root, by path relative to it (the root itself is "").
#[derive(Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub root: PathBuf,
    pub entries: BTreeMap<PathBuf, Entry>,
}

impl Snapshot {
    /// Records `root` and everything under it, links not followed. A missing root gives
    /// an empty snapshot.
    pub fn take(root: &Path) -> Snapshot {
        Snapshot::take_with(root, &[])
    }

    /// As `take`, but the folders listed (relative paths) are recorded without their
    /// modification time: a folder's time changes when a file is created and removed
    /// in it again, which leaves every file as it was.
    pub fn take_with(root: &Path, no_dir_mtime: &[&Path]) -> Snapshot {
        let mut entries = BTreeMap::new();
        if root.symlink_metadata().is_err() {
            return Snapshot {
                root: root.to_owned(),
                entries,
            };
        }
        for item in walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
        {
            let item = item.unwrap_or_else(|e| panic!("walk {}: {e}", root.display()));
            let meta = item
                .path()
                .symlink_metadata()
                .unwrap_or_else(|e| panic!("stat {}: {e}", item.path().display()));
            let relative = item
                .path()
                .strip_prefix(root)
                .expect("under the root")
                .to_owned();
            let file_type = meta.file_type();
            let (kind, content) = if file_type.is_symlink() {
                let target = std::fs::read_link(item.path()).expect("read link");
                ("symlink", target.to_string_lossy().into_owned())
            } else if file_type.is_dir() {
                ("dir", String::new())
            } else if file_type.is_file() {
                let bytes = std::fs::read(item.path())
                    .unwrap_or_else(|e| panic!("read {}: {e}", item.path().display()));
                ("file", format!("{:x}", Sha256::digest(&bytes)))
            } else {
                ("other", String::new())
            };
            let keep_mtime = !(kind == "dir" && no_dir_mtime.iter().any(|p| *p == relative));
            let mtime_ns = keep_mtime
                .then(|| i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()));
            entries.insert(
                relative,
                Entry {
                    kind,
                    size: if kind == "dir" { 0 } else { meta.len() },
                    mode: meta.mode(),
                    mtime_ns,
                    content,
                },
            );
        }
        Snapshot {
            root: root.to_owned(),
            entries,
        }
    }

    /// What differs from `before`, one line per path; empty when nothing does.
    pub fn changes_since(&self, before: &Snapshot) -> Vec<String> {
        let show = |path: &Path| {
            if path.as_os_str().is_empty() {
                ".".to_string()
            } else {
                path.display().to_string()
            }
        };
        let mut changes = Vec::new();
        for (path, old) in &before.entries {
            match self.entries.get(path) {
                None => changes.push(format!("removed {}", show(path))),
                Some(new) if new != old => {
                    changes.push(format!("changed {}: {old:?} -> {new:?}", path.display()))
                }
                Some(_) => {}
            }
        }
        for path in self.entries.keys() {
            if !before.entries.contains_key(path) {
                changes.push(format!("added {}", show(path)));
            }
        }
        changes
    }

    /// Panics, listing every difference, unless the tree is as `before` recorded it.
    #[track_caller]
    pub fn assert_unchanged_since(&self, before: &Snapshot, context: &str) {
        let changes = self.changes_since(before);
        assert!(
            changes.is_empty(),
            "{context}: {} changed:\n  {}",
            self.root.display(),
            changes.join("\n  ")
        );
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "snapshot of {}:", self.root.display())?;
        for (path, entry) in &self.entries {
            writeln!(f, "  {} {entry:?}", path.display())?;
        }
        Ok(())
    }
}
