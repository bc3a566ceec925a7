//! The archive cache: for a pack's fingerprint (`pack::fingerprint`, which
//! covers what tar puts into the archive and the tools and flags that shape
//! it), the digest and size of the archive tar made of it. With it, a re-run
//! of an unchanged pack learns which archive it would make without running
//! tar, and finds it up to date when the registry holds that archive.
//!
//! One small JSON file per fingerprint in `DIR/archives/`: no credentials, no
//! registry address, no path. Beside them, in `DIR/packs/`, an empty file
//! per pack version (named by the sha256 of `NAME:VERSION`) an entry was
//! written for: a version the cache never saw cannot have an entry (its
//! pack.json, and so its fingerprint, is another), so its fingerprint need
//! not be known before tar runs. Files are written whole under another name
//! and renamed, so a reader (another run at the same time, say) sees a
//! whole entry or none. The cache can make a run faster, never wrong: an
//! entry that is missing, unreadable, truncated, written by another version
//! or otherwise not what this version writes is ignored (with a warning, but
//! for a missing one) and the pack is archived as ever; a cache that cannot
//! be written is ignored too. Entries not used for long are removed once
//! there are more than [`MAX_ENTRIES`].

use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

/// The version of the entries' format; bumped when their meaning changes.
pub const FORMAT: u32 = 1;
/// Past this many entries, the oldest are removed.
pub const MAX_ENTRIES: usize = 1000;
/// How many entries a clean-up keeps.
const KEEP_ENTRIES: usize = MAX_ENTRIES * 3 / 4;
/// Temporary files older than this were left by a run that was killed.
const STALE_TEMPORARY: Duration = Duration::from_secs(24 * 3600);

/// The archive tar made of some content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// `sha256:<hex>`.
    pub digest: String,
    pub size: u64,
}

impl From<(String, u64)> for Known {
    fn from((digest, size): (String, u64)) -> Known {
        Known { digest, size }
    }
}

/// One entry as stored.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    format: u32,
    packpush: String,
    fingerprint: String,
    digest: String,
    size: u64,
}

/// The cache of one run (shared by the packs that run side by side).
#[derive(Debug)]
pub struct Cache {
    dir: Utf8PathBuf,
    /// What went wrong with the cache, each said once.
    warnings: Mutex<Vec<String>>,
}

impl Cache {
    /// The cache in `dir` (created when the first entry is written).
    pub fn new(dir: &Utf8Path) -> Cache {
        Cache {
            dir: dir.to_owned(),
            warnings: Mutex::new(Vec::new()),
        }
    }

    fn entries(&self) -> Utf8PathBuf {
        self.dir.join("archives")
    }

    fn path(&self, fingerprint: &str) -> Utf8PathBuf {
        self.entries().join(format!("{fingerprint}.json"))
    }

    fn versions(&self) -> Utf8PathBuf {
        self.dir.join("packs")
    }

    fn version_mark(&self, label: &str) -> Utf8PathBuf {
        self.versions()
            .join(crate::digest::of_bytes(label.as_bytes()).replace("sha256:", ""))
    }

    /// Whether an entry was ever written for the pack version `label`
    /// (`NAME:VERSION`): if not, no entry can match its content.
    pub fn knows_version(&self, label: &str) -> bool {
        self.version_mark(label).exists()
    }

    /// The archive remembered for `fingerprint`, if there is a sound entry.
    pub fn recall(&self, fingerprint: &str) -> Option<Known> {
        let path = self.path(fingerprint);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            // No entry, or no cache folder (writing it says why).
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                return None;
            }
            Err(e) => {
                self.note(format!("the cache entry {path} cannot be read ({e})"));
                return None;
            }
        };
        match check(&bytes, fingerprint) {
            Ok(known) => Some(known),
            Err(why) => {
                self.note(format!("the cache entry {path} {why}"));
                None
            }
        }
    }

    /// Remembers that `fingerprint` (of the pack version `label`) gives the
    /// archive `known`.
    pub fn remember(&self, fingerprint: &str, label: &str, known: &Known) {
        let entry = Entry {
            format: FORMAT,
            packpush: env!("CARGO_PKG_VERSION").into(),
            fingerprint: fingerprint.into(),
            digest: known.digest.clone(),
            size: known.size,
        };
        if let Err(e) = self
            .write(fingerprint, &entry)
            .and_then(|()| self.mark(label))
        {
            self.note(format!("the cache {} cannot be written ({e})", self.dir));
            return;
        }
        tidy(&self.entries());
        tidy(&self.versions());
    }

    /// Notes that an entry was written for the pack version `label`.
    fn mark(&self, label: &str) -> std::io::Result<()> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(self.versions())?;
        let mark = self.version_mark(label);
        std::fs::File::options()
            .create(true)
            .append(true)
            .open(&mark)?
            .set_modified(SystemTime::now())
    }

    /// Writes an entry under a temporary name, then renames it into place.
    fn write(&self, fingerprint: &str, entry: &Entry) -> std::io::Result<()> {
        let entries = self.entries();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&entries)?;
        let mut file = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&entries)?;
        let text = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        // Not synced: after a crash an entry may be empty, and so ignored.
        file.write_all(&text)?;
        file.persist(self.path(fingerprint))
            .map_err(|e| e.error)
            .map(drop)
    }

    /// Marks an entry (and its pack version) as used now, so that a
    /// clean-up keeps it.
    pub fn used(&self, fingerprint: &str, label: &str) {
        for path in [self.path(fingerprint), self.version_mark(label)] {
            if let Ok(file) = std::fs::File::options().append(true).open(path) {
                let _ = file.set_modified(SystemTime::now());
            }
        }
    }

    /// Notes a problem with the cache (said once, as a warning).
    pub fn note(&self, problem: String) {
        let text = format!("{problem}: the cache was ignored (results do not depend on it)");
        let mut warnings = self.warnings.lock().expect("cache warnings");
        if !warnings.contains(&text) {
            warnings.push(text);
        }
    }

    /// What went wrong with the cache during the run, each said once.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().expect("cache warnings").clone()
    }
}

/// Removes the files of `dir` not used for longest when there are too
/// many, and temporary files a killed run left. Best effort: a failure here
/// harms nothing.
fn tidy(dir: &Utf8Path) {
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    let (temporary, entries): (Vec<_>, Vec<_>) =
        list.flatten().map(|item| item.path()).partition(|path| {
            path.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
        });
    let modified = |path: &std::path::Path| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    let now = SystemTime::now();
    for path in temporary {
        if now.duration_since(modified(&path)).unwrap_or_default() > STALE_TEMPORARY {
            let _ = std::fs::remove_file(path);
        }
    }
    if entries.len() <= MAX_ENTRIES {
        return;
    }
    let mut aged: Vec<_> = entries.into_iter().map(|p| (modified(&p), p)).collect();
    aged.sort();
    for (_, path) in &aged[..aged.len() - KEEP_ENTRIES] {
        let _ = std::fs::remove_file(path);
    }
}

/// The entry's archive, or why the entry is not one this version wrote for
/// `fingerprint`.
fn check(bytes: &[u8], fingerprint: &str) -> Result<Known, String> {
    let entry: Entry = serde_json::from_slice(bytes)
        .map_err(|e| format!("is not an entry packpush wrote ({e})"))?;
    if entry.format != FORMAT || entry.packpush != env!("CARGO_PKG_VERSION") {
        return Err(format!(
            "was written by packpush {} (format {})",
            entry.packpush, entry.format
        ));
    }
    let hex = entry.digest.strip_prefix("sha256:").unwrap_or_default();
    let sound_digest = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if entry.fingerprint != fingerprint || !sound_digest || entry.size == 0 {
        return Err("does not hold what its name says".into());
    }
    Ok(Known {
        digest: entry.digest,
        size: entry.size,
    })
}

/// Where the cache is by default: `$XDG_CACHE_HOME/packpush`, else
/// `$HOME/.cache/packpush` (relative values are ignored, as the XDG base
/// directory specification says). `None` without either.
pub fn default_dir(xdg_cache_home: Option<&str>, home: Option<&str>) -> Option<Utf8PathBuf> {
    let absolute = |value: Option<&str>| {
        value
            .map(Utf8Path::new)
            .filter(|p| p.is_absolute())
            .map(Utf8Path::to_owned)
    };
    absolute(xdg_cache_home)
        .or_else(|| absolute(home).map(|home| home.join(".cache")))
        .map(|base| base.join("packpush"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINT: &str = "ab12";
    const LABEL: &str = "mypack:1.0.0";

    fn known() -> Known {
        Known {
            digest: format!("sha256:{}", "0".repeat(64)),
            size: 331,
        }
    }

    fn cache() -> (tempfile::TempDir, Cache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(Utf8Path::from_path(dir.path()).unwrap());
        (dir, cache)
    }

    #[test]
    fn remembers_and_recalls() {
        let (_dir, cache) = cache();
        assert_eq!(cache.recall(PRINT), None);
        assert!(!cache.knows_version(LABEL));
        cache.remember(PRINT, LABEL, &known());
        assert_eq!(cache.recall(PRINT), Some(known()));
        assert!(cache.knows_version(LABEL));
        assert!(!cache.knows_version("mypack:1.0.1"));
        assert_eq!(cache.recall("other"), None);
        assert!(cache.warnings().is_empty(), "{:?}", cache.warnings());
        let text = std::fs::read_to_string(cache.path(PRINT)).unwrap();
        assert!(!text.contains('/'), "no path, no address: {text}");
    }

    #[test]
    fn unsound_entries_are_ignored_and_said_once() {
        let (_dir, written) = cache();
        written.remember(PRINT, LABEL, &known());
        let whole = std::fs::read(written.path(PRINT)).unwrap();
        let other_version = String::from_utf8(whole.clone())
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "0.0.1-other");
        let wrong_name = String::from_utf8(whole.clone())
            .unwrap()
            .replace(PRINT, "cd34");
        for (bad, said) in [
            (&whole[..whole.len() / 2], "is not an entry packpush wrote"),
            (&b""[..], "is not an entry packpush wrote"),
            (&b"\x00\xffgarbage"[..], "is not an entry packpush wrote"),
            (
                other_version.as_bytes(),
                "was written by packpush 0.0.1-other",
            ),
            (wrong_name.as_bytes(), "does not hold what its name says"),
        ] {
            let (_dir, cache) = cache();
            cache.remember(PRINT, LABEL, &known());
            std::fs::write(cache.path(PRINT), bad).unwrap();
            assert_eq!(cache.recall(PRINT), None);
            assert_eq!(cache.recall(PRINT), None);
            let warnings = cache.warnings();
            let matching: Vec<_> = warnings.iter().filter(|w| w.contains(said)).collect();
            assert_eq!(matching.len(), 1, "{said}: {warnings:?}");
            assert!(
                matching[0].contains("the cache was ignored"),
                "{warnings:?}"
            );
        }
    }

    #[test]
    fn a_cache_that_cannot_be_written_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = Utf8Path::from_path(dir.path())
            .unwrap()
            .join("not-a-folder");
        std::fs::write(&file, "x").unwrap();
        let cache = Cache::new(&file);
        cache.remember(PRINT, LABEL, &known());
        assert_eq!(cache.recall(PRINT), None);
        let warnings = cache.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("cannot be written"), "{warnings:?}");
    }

    #[test]
    fn too_many_entries_are_trimmed_oldest_first() {
        let (_dir, cache) = cache();
        for i in 0..MAX_ENTRIES {
            let print = format!("{i:04}");
            cache.remember(&print, LABEL, &known());
            let age = Duration::from_secs((MAX_ENTRIES - i) as u64 + 10);
            std::fs::File::options()
                .append(true)
                .open(cache.path(&print))
                .unwrap()
                .set_modified(SystemTime::now() - age)
                .unwrap();
        }
        cache.remember("newest", LABEL, &known());
        let left = std::fs::read_dir(cache.entries()).unwrap().count();
        assert_eq!(left, KEEP_ENTRIES);
        assert_eq!(cache.recall("0000"), None);
        assert!(cache.recall("newest").is_some());
        assert!(cache.recall(&format!("{:04}", MAX_ENTRIES - 1)).is_some());
    }

    #[test]
    fn the_default_folder_follows_xdg() {
        assert_eq!(
            default_dir(Some("/x/cache"), Some("/home/u")).unwrap(),
            "/x/cache/packpush"
        );
        assert_eq!(
            default_dir(None, Some("/home/u")).unwrap(),
            "/home/u/.cache/packpush"
        );
        assert_eq!(
            default_dir(Some("relative"), Some("/home/u")).unwrap(),
            "/home/u/.cache/packpush"
        );
        assert_eq!(default_dir(None, None), None);
    }
}
