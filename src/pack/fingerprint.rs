//! The fingerprint of a pack folder: one sha256 over exactly what tar puts
//! into the archive, so that an equal fingerprint (with the same tar,
//! compressor and flags, which the caller adds as `context`) means an equal
//! archive.
//!
//! Two views, as tar is told to archive:
//! - [`View::Content`] (`--reproducible`): the entries' names, types,
//!   contents, link targets and executable bits, in name order. Times,
//!   owners and the other mode bits are not in it, as tar is told to leave
//!   them out.
//! - [`View::Full`] (the documented `tar -czvf`): also every entry's mode,
//!   owner, group and modification time, hard links, in the order the folder
//!   lists its entries (the order tar meets them).
//!
//! While hashing, the status of every entry (inode, size, times, mode) is
//! noted; [`Fingerprint::still_matches`] looks again after tar has run, so
//! that a file changed meanwhile never ties a fingerprint to an archive of
//! other content.

use std::fs::Metadata;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use camino::Utf8Path;
use sha2::{Digest, Sha256};

/// What of each entry counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Names, types, contents, link targets, executable bits.
    Content,
    /// Everything tar records: also modes, owners, times and hard links.
    Full,
}

/// The fingerprint of a pack folder, and what its entries looked like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// Lowercase hex sha256.
    pub hex: String,
    view: View,
    seen: Vec<Seen>,
}

/// The status of one entry, to tell whether it changed since.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    path: PathBuf,
    dev: u64,
    ino: u64,
    mode: u32,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Seen {
    fn of(path: &Path, meta: &Metadata) -> Seen {
        Seen {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
            mode: meta.mode(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// One entry as found by the walk, its contents not yet hashed.
struct Entry {
    /// As the archive names it: the pack folder's name, then the path inside.
    name: Vec<u8>,
    path: PathBuf,
    meta: Metadata,
}

/// How many files are hashed at a time.
fn hashing_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

impl Fingerprint {
    /// The fingerprint of the pack folder `dir` (named `folder_name` in the
    /// archive) in `view`, `context` (the tools and flags) hashed first.
    pub fn compute(
        dir: &Utf8Path,
        folder_name: &str,
        view: View,
        context: &[u8],
    ) -> std::io::Result<Fingerprint> {
        let entries = walk(dir.as_std_path(), folder_name, view)?;
        let contents = hash_contents(&entries)?;
        let mut hasher = Sha256::new();
        field(&mut hasher, b"packpush fingerprint 1");
        field(&mut hasher, context);
        for (entry, content) in entries.iter().zip(&contents) {
            describe(&mut hasher, entry, content.as_ref(), view)?;
        }
        Ok(Fingerprint {
            hex: format!("{:x}", hasher.finalize()),
            view,
            seen: entries.iter().map(|e| Seen::of(&e.path, &e.meta)).collect(),
        })
    }

    /// Whether every entry of `dir` still has the status it had while it
    /// was hashed (and no entry came or went).
    pub fn still_matches(&self, dir: &Utf8Path, folder_name: &str) -> bool {
        walk(dir.as_std_path(), folder_name, self.view).is_ok_and(|entries| {
            entries.len() == self.seen.len()
                && entries
                    .iter()
                    .zip(&self.seen)
                    .all(|(entry, seen)| Seen::of(&entry.path, &entry.meta) == *seen)
        })
    }
}

/// Every entry under `dir`, `dir` itself first, links not followed: sorted
/// by name for the content view (as `tar --sort=name`), else in the order
/// the folders list them (as tar meets them).
fn walk(dir: &Path, folder_name: &str, view: View) -> std::io::Result<Vec<Entry>> {
    let mut walker = walkdir::WalkDir::new(dir).follow_links(false);
    if view == View::Content {
        walker = walker.sort_by_file_name();
    }
    let mut entries = Vec::new();
    for entry in walker {
        let entry = entry.map_err(std::io::Error::from)?;
        let mut name = folder_name.as_bytes().to_vec();
        let inside = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        if !inside.as_os_str().is_empty() {
            name.push(b'/');
            name.extend_from_slice(inside.as_os_str().as_bytes());
        }
        let meta = entry.path().symlink_metadata()?;
        entries.push(Entry {
            name,
            path: entry.into_path(),
            meta,
        });
    }
    Ok(entries)
}

/// The sha256 of every regular file's contents (`None` for other entries),
/// several files at a time.
fn hash_contents(entries: &[Entry]) -> std::io::Result<Vec<Option<[u8; 32]>>> {
    let files: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].meta.file_type().is_file())
        .collect();
    let threads = hashing_threads().min(files.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<std::io::Result<[u8; 32]>>>> =
        files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let slot = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&index) = files.get(slot) else { break };
                    let hashed = hash_file(&entries[index].path);
                    *results[slot].lock().expect("hash slot") = Some(hashed);
                }
            });
        }
    });
    let mut contents = vec![None; entries.len()];
    for (slot, result) in results.into_iter().enumerate() {
        let hashed = result
            .into_inner()
            .expect("hash slot")
            .unwrap_or_else(|| Err(std::io::Error::other("a file was not hashed")))?;
        contents[files[slot]] = Some(hashed);
    }
    Ok(contents)
}

fn hash_file(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().into())
}

/// Adds one entry as the view sees it.
fn describe(
    hasher: &mut Sha256,
    entry: &Entry,
    content: Option<&[u8; 32]>,
    view: View,
) -> std::io::Result<()> {
    let meta = &entry.meta;
    let kind = meta.file_type();
    let tag: &[u8] = if kind.is_dir() {
        b"dir"
    } else if kind.is_file() {
        b"file"
    } else if kind.is_symlink() {
        b"link"
    } else if kind.is_fifo() {
        b"fifo"
    } else if kind.is_socket() {
        b"socket"
    } else if kind.is_block_device() {
        b"block"
    } else {
        b"char"
    };
    field(hasher, tag);
    field(hasher, &entry.name);
    if let Some(content) = content {
        number(hasher, meta.size());
        field(hasher, content);
        if view == View::Content {
            number(hasher, u64::from(meta.mode() & 0o111 != 0));
        }
    }
    if kind.is_symlink() {
        let target = std::fs::read_link(&entry.path)?;
        field(hasher, target.as_os_str().as_bytes());
    }
    if view == View::Full {
        for value in [
            u64::from(meta.mode()),
            u64::from(meta.uid()),
            u64::from(meta.gid()),
            meta.mtime() as u64,
            meta.mtime_nsec() as u64,
            meta.rdev(),
        ] {
            number(hasher, value);
        }
        // tar stores a second name of a file as a hard link to the first.
        if kind.is_file() && meta.nlink() > 1 {
            number(hasher, meta.dev());
            number(hasher, meta.ino());
        }
    }
    Ok(())
}

/// A length-prefixed field, so that no two sequences of fields run together.
fn field(hasher: &mut Sha256, bytes: &[u8]) {
    number(hasher, bytes.len() as u64);
    hasher.update(bytes);
}

fn number(hasher: &mut Sha256, value: u64) {
    hasher.update(value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, SystemTime};

    use super::*;

    struct Pack {
        _dir: tempfile::TempDir,
        root: camino::Utf8PathBuf,
    }

    fn pack() -> Pack {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap().join("mypack");
        std::fs::create_dir_all(root.join("charts")).unwrap();
        std::fs::write(root.join("pack.json"), "{}").unwrap();
        std::fs::write(root.join("values.yaml"), "a: 1\n").unwrap();
        std::fs::write(root.join("charts/app.yaml"), "kind: x\n").unwrap();
        std::os::unix::fs::symlink("app.yaml", root.join("charts/alias.yaml")).unwrap();
        Pack { _dir: dir, root }
    }

    fn print(pack: &Pack, view: View) -> String {
        Fingerprint::compute(&pack.root, "mypack", view, b"ctx")
            .unwrap()
            .hex
    }

    fn touch_all(root: &Utf8Path, epoch: u64) {
        let when = SystemTime::UNIX_EPOCH + Duration::from_secs(epoch);
        for entry in walkdir::WalkDir::new(root) {
            let entry = entry.unwrap();
            if entry.file_type().is_symlink() {
                continue;
            }
            let file = std::fs::File::open(entry.path()).unwrap();
            file.set_modified(when).unwrap();
        }
    }

    fn chmod(path: &Utf8Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn times_count_only_in_the_full_view() {
        let pack = pack();
        let (content, full) = (print(&pack, View::Content), print(&pack, View::Full));
        touch_all(&pack.root, 1_600_000_000);
        assert_eq!(print(&pack, View::Content), content);
        assert_ne!(print(&pack, View::Full), full);
    }

    #[test]
    fn only_the_executable_bit_of_a_mode_counts_in_the_content_view() {
        let pack = pack();
        let file = pack.root.join("values.yaml");
        chmod(&file, 0o644);
        let before = print(&pack, View::Content);
        chmod(&file, 0o600);
        assert_eq!(print(&pack, View::Content), before, "a read bit");
        chmod(&file, 0o744);
        let executable = print(&pack, View::Content);
        assert_ne!(executable, before, "the executable bit");
        chmod(&file, 0o711);
        assert_eq!(print(&pack, View::Content), executable, "x for whom");
        chmod(&pack.root.join("charts"), 0o700);
        assert_eq!(print(&pack, View::Content), executable, "a folder's mode");
    }

    #[test]
    fn every_change_of_content_counts_in_both_views() {
        type Change = fn(&Utf8Path);
        let changes: [(&str, Change); 6] = [
            ("a byte", |r| {
                std::fs::write(r.join("charts/app.yaml"), "kind: y\n").unwrap()
            }),
            ("a name", |r| {
                std::fs::rename(r.join("values.yaml"), r.join("values.yml")).unwrap()
            }),
            ("an empty file", |r| {
                std::fs::write(r.join("charts/empty"), "").unwrap()
            }),
            ("an empty folder", |r| {
                std::fs::create_dir(r.join("charts/empty")).unwrap()
            }),
            ("a link target", |r| {
                std::fs::remove_file(r.join("charts/alias.yaml")).unwrap();
                std::os::unix::fs::symlink("./app.yaml", r.join("charts/alias.yaml")).unwrap();
            }),
            ("a file turned into a link", |r| {
                std::fs::remove_file(r.join("values.yaml")).unwrap();
                std::os::unix::fs::symlink("pack.json", r.join("values.yaml")).unwrap();
            }),
        ];
        for (what, change) in changes {
            for view in [View::Content, View::Full] {
                let pack = pack();
                let before = print(&pack, view);
                change(&pack.root);
                assert_ne!(print(&pack, view), before, "{what} ({view:?})");
            }
        }
    }

    #[test]
    fn the_context_and_the_folder_name_count() {
        let pack = pack();
        let one = |context: &[u8], name: &str| {
            Fingerprint::compute(&pack.root, name, View::Content, context)
                .unwrap()
                .hex
        };
        assert_eq!(one(b"a", "mypack"), one(b"a", "mypack"));
        assert_ne!(one(b"a", "mypack"), one(b"b", "mypack"));
        assert_ne!(one(b"a", "mypack"), one(b"a", "other"));
        assert_eq!(one(b"a", "mypack").len(), 64);
    }

    #[test]
    fn a_second_look_sees_any_change_since_the_first() {
        let pack = pack();
        let print = Fingerprint::compute(&pack.root, "mypack", View::Content, b"").unwrap();
        assert!(print.still_matches(&pack.root, "mypack"));
        std::fs::write(pack.root.join("values.yaml"), "a: 2\n").unwrap();
        assert!(!print.still_matches(&pack.root, "mypack"));
        let print = Fingerprint::compute(&pack.root, "mypack", View::Content, b"").unwrap();
        std::fs::write(pack.root.join("new"), "").unwrap();
        assert!(!print.still_matches(&pack.root, "mypack"));
    }
}
