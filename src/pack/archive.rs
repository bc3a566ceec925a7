//! Archives built elsewhere and carried in (`--archive`): what makes one
//! pushable as a pack, and its entries seen as a pack's files so that the
//! pack rules apply to it as to a folder.

use std::collections::BTreeMap;
use std::io::Read;

use camino::{Utf8Path, Utf8PathBuf};

use crate::error::Problem;
use crate::pack::{self, Findings, Found, PackFiles, PackJson};

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

/// The fix for an archive that is not one pack folder.
const REBUILD: &str = "rebuild it with tar -czf NAME-VERSION.tar.gz PACK_FOLDER";

/// Checks a carried-in archive: named `NAME-VERSION.tar.gz`, a gzip'd tar
/// holding exactly one top-level folder with a pack.json whose name and
/// version match the file name, and no entry outside that folder. Any of
/// these failing is the `Err` case: the archive cannot be pushed as a pack.
///
/// The pack checks a folder gets are then applied to what the archive holds,
/// and returned as `Findings` for the caller to report, or to let pass with
/// `--skip-pack-checks`: the pack.json rules (`pack::check_document`), the
/// files pack.json names and the mandatory values.yaml and logo.png (as
/// entries of the archive, links inside the folder followed), and the
/// entries tar must not carry into Palette: symbolic links that are absolute,
/// leave the folder or dangle, hard links, devices and FIFOs.
pub fn inspect_archive(
    given: &Utf8Path,
) -> Result<(CarriedArchive, PackJson, Findings), Vec<Problem>> {
    let (path, file_name) = locate(given)?;
    let (folder_name, json, findings) = inspect_contents(&path, &format!("--archive {given}"))?;
    check_name(given, &file_name, &json)?;
    let dir = path
        .parent()
        .map(Utf8Path::to_owned)
        .unwrap_or_else(|| "/".into());
    let archive = CarriedArchive {
        path,
        dir,
        file_name,
        folder_name,
    };
    Ok((archive, json, findings))
}

/// What a `.tar.gz` holds, whatever its name says: one pack folder (its
/// name), its pack.json, and the pack rules it breaks (`Findings`); or why
/// it is not one pack folder. `label` names the archive in messages
/// (`--archive FILE`, or where in the registry it came from).
pub fn inspect_contents(
    path: &Utf8Path,
    label: &str,
) -> Result<(String, PackJson, Findings), Vec<Problem>> {
    let file_name = path.file_name().unwrap_or_default();
    let scan = Scan::read(label, path, file_name)?;
    let (folder_name, json, mut files, mut findings) = scan.into_pack()?;
    check_rules(&mut files, &json, &mut findings);
    Ok((folder_name, json, findings))
}

fn one(what: String, fix: &str) -> Vec<Problem> {
    vec![Problem::new(what, fix)]
}

/// The archive's absolute path and its file name, once it is a readable file.
fn locate(given: &Utf8Path) -> Result<(Utf8PathBuf, String), Vec<Problem>> {
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
    if !file_name.ends_with(".tar.gz") {
        return Err(one(
            format!("--archive {given}: the file name must be NAME-VERSION.tar.gz"),
            "rename the archive as the documentation names it, e.g. mypack-1.0.0.tar.gz",
        ));
    }
    Ok((path, file_name))
}

/// The file name must say what pack.json says.
fn check_name(given: &Utf8Path, file_name: &str, json: &PackJson) -> Result<(), Vec<Problem>> {
    let stem = file_name.strip_suffix(".tar.gz").unwrap_or(file_name);
    let expected = format!("{}-{}", json.name, json.version);
    if stem == expected {
        return Ok(());
    }
    Err(one(
        format!(
            "--archive {given}: the file name says '{stem}' but its pack.json says name '{}' and version '{}'",
            json.name, json.version
        ),
        &format!("name the archive {expected}.tar.gz, or rebuild it from the right pack folder"),
    ))
}

/// The pack rules, applied to the archive's entries.
fn check_rules(files: &mut ArchiveFiles, json: &PackJson, findings: &mut Findings) {
    files.mark_broken_links(findings);
    let label = Utf8PathBuf::from(files.label(Utf8Path::new("pack.json")));
    let rules = pack::check_document(&label, &json.document, files);
    findings.errors.extend(rules.errors);
    findings.warnings.extend(rules.warnings);
    pack::check_required(files, findings);
}

/// One pass over the archive's entries.
struct Scan<'a> {
    /// How messages name the archive.
    label: &'a str,
    file_name: &'a str,
    /// The one top-level folder's name.
    top: Option<String>,
    pack_json: Option<String>,
    /// Why the archive is not one pack folder.
    problems: Vec<Problem>,
    /// The pack rules it breaks.
    findings: Findings,
    files: ArchiveFiles,
}

/// An entry's path split as the pack sees it.
struct EntryPath {
    /// As the archive holds it.
    full: String,
    /// The top-level component (the pack folder's name).
    top: String,
    /// The components inside the pack folder.
    rest: Vec<String>,
}

impl EntryPath {
    fn of(full: String) -> EntryPath {
        let mut parts = full
            .trim_start_matches("./")
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".");
        let top = parts.next().unwrap_or_default().to_string();
        let rest = parts.map(str::to_string).collect();
        EntryPath { full, top, rest }
    }

    /// Whether it is the folder the archive was made in (`./`, from
    /// `tar -czf X .`) or a pack.json at the top: the pack's files
    /// archived without their folder.
    fn is_the_pack_folders_inside(&self) -> bool {
        let bare = self.full.trim_end_matches('/');
        bare == "." || (self.top == "pack.json" && self.rest.is_empty())
    }

    /// Whether unpacking it would write outside the pack folder.
    fn escapes(&self) -> bool {
        self.full.starts_with('/')
            || self.top == ".."
            || self.rest.iter().any(|p| p == "..")
            || self.top.is_empty()
    }
}

impl<'a> Scan<'a> {
    fn read(label: &'a str, path: &Utf8Path, file_name: &'a str) -> Result<Self, Vec<Problem>> {
        let file = std::fs::File::open(path)
            .map_err(|e| one(format!("{label} cannot be opened: {e}"), "check the file"))?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let entries = archive.entries().map_err(|e| {
            one(
                format!("{label} is not a tar.gz archive: {e}"),
                "pass an archive made with tar -czf",
            )
        })?;
        let mut scan = Scan {
            label,
            file_name,
            top: None,
            pack_json: None,
            problems: Vec::new(),
            findings: Findings::default(),
            files: ArchiveFiles {
                file_name: file_name.to_string(),
                folder_name: String::new(),
                entries: BTreeMap::new(),
            },
        };
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                one(
                    format!("{label} is not a readable tar.gz archive: {e}"),
                    REBUILD,
                )
            })?;
            if !scan.entry(&mut entry)? {
                break;
            }
        }
        Ok(scan)
    }

    /// Takes one entry in; `false` when the scan must stop.
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<bool, Vec<Problem>> {
        let path = EntryPath::of(
            entry
                .path()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        if path.is_the_pack_folders_inside() {
            self.problems.push(Problem::new(
                format!(
                    "{} holds the pack's files (the entry '{}'), not the pack's folder: \
                     it was made inside the folder (tar -czf {} .)",
                    self.label, path.full, self.file_name
                ),
                format!(
                    "an archive holds the pack's folder itself: from the folder's parent, run \
                     tar -czf {} PACK_FOLDER (e.g. cd .. && tar -czf {} mypack)",
                    self.file_name, self.file_name
                ),
            ));
            return Ok(false);
        }
        if path.escapes() {
            self.problems.push(Problem::new(
                format!("{}: the entry '{}' points outside the pack folder", self.label, path.full),
                "rebuild the archive from the pack folder's parent: tar -czf NAME-VERSION.tar.gz PACK_FOLDER",
            ));
            return Ok(true);
        }
        match &self.top {
            None => self.top = Some(path.top.clone()),
            Some(top) if *top != path.top => {
                self.problems.push(Problem::new(
                    format!("{} holds more than one top-level entry ('{top}' and '{}')", self.label, path.top),
                    "an archive holds exactly one pack folder: tar -czf NAME-VERSION.tar.gz PACK_FOLDER",
                ));
                return Ok(false);
            }
            Some(_) => {}
        }
        let shown = format!("{}:{}", self.file_name, path.full);
        let kind = entry.header().entry_type();
        if path.rest.is_empty() {
            if !kind.is_dir() {
                self.findings.errors.push(Problem::new(
                    format!("{shown} is the archive's top-level entry but not a folder"),
                    "rebuild the archive from the pack folder: tar -czf NAME-VERSION.tar.gz PACK_FOLDER",
                ));
            }
            return Ok(true);
        }
        if let Some(archived) = self.classify(entry, &path, &shown)? {
            self.files.add(&path.rest, archived);
        }
        Ok(true)
    }

    /// What an entry inside the pack folder is; `None` for the entries
    /// that only carry metadata of others.
    fn classify<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        path: &EntryPath,
        shown: &str,
    ) -> Result<Option<Archived>, Vec<Problem>> {
        let kind = entry.header().entry_type();
        let archived = if kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse() {
            self.file(entry, path)?
        } else if kind.is_dir() {
            Archived::Folder
        } else if kind.is_symlink() {
            self.symlink(entry, path, shown)
        } else if kind.is_hard_link() {
            self.findings.errors.push(Problem::new(
                format!("{shown} is a hard link (to {})", link_name(entry)),
                "rebuild the archive without hard links: copy the file instead of linking it, \
                 or pass --hard-dereference to GNU tar",
            ));
            Archived::Reported
        } else if kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink()
        {
            return Ok(None);
        } else {
            self.findings.errors.push(Problem::new(
                format!("{shown} is {}", special_kind(kind)),
                "remove it from the pack folder and rebuild the archive: Palette has no use for it",
            ));
            Archived::Reported
        };
        Ok(Some(archived))
    }

    /// A regular file: its first bytes, and the whole text of pack.json.
    fn file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        path: &EntryPath,
    ) -> Result<Archived, Vec<Problem>> {
        let mut head = Vec::with_capacity(16);
        let read = if path.rest == ["pack.json"] {
            let mut text = String::new();
            if entry
                .by_ref()
                .take(4 * 1024 * 1024)
                .read_to_string(&mut text)
                .is_err()
            {
                self.problems.push(Problem::new(
                    format!("{}: pack.json is not readable text", self.label),
                    "fix pack.json",
                ));
            }
            head.extend(text.as_bytes().iter().take(16));
            self.pack_json = Some(text);
            Ok(0)
        } else {
            entry.by_ref().take(16).read_to_end(&mut head)
        };
        read.map_err(|e| {
            one(
                format!("{}: '{}' cannot be read: {e}", self.label, path.full),
                REBUILD,
            )
        })?;
        Ok(Archived::File(head))
    }

    fn symlink<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        path: &EntryPath,
        shown: &str,
    ) -> Archived {
        let target = link_name(entry);
        match link_target(&path.rest, &target) {
            Ok(resolved) => Archived::Link(resolved),
            Err(why) => {
                self.findings.errors.push(Problem::new(
                    format!("{shown} -> {target}: {why}"),
                    "replace the link with a copy of what it points at (cp -L) and rebuild \
                     the archive: tar stores the link, so Palette would get a link to \
                     something it does not have",
                ));
                Archived::Reported
            }
        }
    }

    /// The pack folder's name, its pack.json, its files and the rules it
    /// broke so far; or why the archive is not one pack folder.
    fn into_pack(mut self) -> Result<(String, PackJson, ArchiveFiles, Findings), Vec<Problem>> {
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        let (Some(folder_name), Some(text)) = (self.top, self.pack_json) else {
            return Err(one(
                format!("{} holds no PACK_FOLDER/pack.json", self.label),
                "an archive holds one pack folder with its pack.json: tar -czf NAME-VERSION.tar.gz PACK_FOLDER",
            ));
        };
        self.files.folder_name = folder_name.clone();
        let label = self.files.label(Utf8Path::new("pack.json"));
        let json = pack::parse_pack_json(&text, &label)?;
        Ok((folder_name, json, self.files, self.findings))
    }
}

/// A link entry's target, as stored.
fn link_name<R: Read>(entry: &tar::Entry<'_, R>) -> String {
    entry
        .link_name()
        .ok()
        .flatten()
        .map(|t| t.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// How messages name an entry that is neither a file, a folder nor a link.
fn special_kind(kind: tar::EntryType) -> String {
    if kind.is_fifo() {
        "a named pipe (FIFO)".to_string()
    } else if kind.is_character_special() {
        "a character device".to_string()
    } else if kind.is_block_special() {
        "a block device".to_string()
    } else {
        format!("a tar entry of type '{}'", kind.as_byte().escape_ascii())
    }
}

/// A symbolic link's target, relative to the pack folder, from the link's
/// own path in it (`rest`: the components after the folder's name); why not,
/// when the target is absolute or leaves the folder.
fn link_target(rest: &[String], target: &str) -> Result<Vec<String>, &'static str> {
    if target.is_empty() {
        return Err("the symbolic link has no target");
    }
    if target.starts_with('/') {
        return Err("the symbolic link's target is an absolute path");
    }
    let mut resolved: Vec<String> = rest[..rest.len() - 1].to_vec();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if resolved.pop().is_none() {
                    return Err("the symbolic link points outside the pack folder");
                }
            }
            part => resolved.push(part.to_string()),
        }
    }
    Ok(resolved)
}

/// One entry of a carried-in archive, as far as the pack checks care.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Archived {
    /// A regular file and its first bytes.
    File(Vec<u8>),
    Folder,
    /// A symbolic link inside the folder, and its target relative to it.
    Link(Vec<String>),
    /// An entry a finding already names.
    Reported,
}

/// What a carried-in archive's pack folder holds, by path relative to it.
#[derive(Debug)]
struct ArchiveFiles {
    file_name: String,
    folder_name: String,
    entries: BTreeMap<String, Archived>,
}

/// How looking a path up in an archive ended.
enum Resolved<'a> {
    /// The pack folder itself.
    Root,
    Entry(&'a Archived),
    Missing,
    /// A link loop (or a chain of links too long to follow).
    Loop,
}

impl ArchiveFiles {
    /// Records an entry; the folders on its way exist even when the archive
    /// has no entry of their own.
    fn add(&mut self, rest: &[String], archived: Archived) {
        for end in 1..rest.len() {
            self.entries
                .entry(rest[..end].join("/"))
                .or_insert(Archived::Folder);
        }
        self.entries.insert(rest.join("/"), archived);
    }

    /// Follows `parts` through folders and links, as unpacking would.
    fn resolve(&self, parts: &[String]) -> Resolved<'_> {
        let mut pending: std::collections::VecDeque<String> = parts.iter().cloned().collect();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop_front() {
            match part.as_str() {
                "" | "." => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            done.push(part);
            match self.entries.get(&done.join("/")) {
                None => return Resolved::Missing,
                Some(Archived::Link(target)) => {
                    hops += 1;
                    if hops > 40 {
                        return Resolved::Loop;
                    }
                    done.clear();
                    for part in target.iter().rev() {
                        pending.push_front(part.clone());
                    }
                }
                Some(Archived::File(_) | Archived::Reported) if !pending.is_empty() => {
                    return Resolved::Missing;
                }
                Some(_) => {}
            }
        }
        if done.is_empty() {
            return Resolved::Root;
        }
        match self.entries.get(&done.join("/")) {
            Some(found) => Resolved::Entry(found),
            None => Resolved::Missing,
        }
    }

    fn lookup(&self, relative: &Utf8Path) -> Resolved<'_> {
        let parts: Vec<String> = relative.components().map(|c| c.to_string()).collect();
        self.resolve(&parts)
    }

    /// Reports the links whose target is not in the archive (or that loop),
    /// as the folder rules do, and marks them so that nothing reached
    /// through them is reported again.
    fn mark_broken_links(&mut self, findings: &mut Findings) {
        let mut broken = Vec::new();
        for (path, archived) in &self.entries {
            let Archived::Link(target) = archived else {
                continue;
            };
            let parts: Vec<String> = path.split('/').map(str::to_string).collect();
            let why = match self.resolve(&parts) {
                Resolved::Missing => {
                    "the symbolic link is dangling (its target is not in the archive)"
                }
                Resolved::Loop => "the symbolic link cannot be resolved (a loop of links)",
                _ => continue,
            };
            broken.push(path.clone());
            findings.errors.push(Problem::new(
                format!(
                    "{}:{}/{path} -> {}: {why}",
                    self.file_name,
                    self.folder_name,
                    target.join("/")
                ),
                "remove the link or point it at a file inside the pack folder, and rebuild the archive",
            ));
        }
        for path in broken {
            self.entries.insert(path, Archived::Reported);
        }
    }
}

impl PackFiles for ArchiveFiles {
    fn find(&self, relative: &Utf8Path) -> Found {
        match self.lookup(relative) {
            Resolved::Root | Resolved::Entry(Archived::Folder) => Found::Folder,
            Resolved::Entry(Archived::File(_)) => Found::File,
            Resolved::Missing => Found::Missing,
            Resolved::Loop | Resolved::Entry(Archived::Link(_) | Archived::Reported) => {
                Found::Reported
            }
        }
    }

    fn head(&self, relative: &Utf8Path) -> Result<Vec<u8>, Option<Problem>> {
        match self.lookup(relative) {
            Resolved::Entry(Archived::File(head)) => Ok(head.clone()),
            _ => Err(None),
        }
    }

    fn label(&self, relative: &Utf8Path) -> String {
        format!("{}:{}/{relative}", self.file_name, self.folder_name)
    }

    fn missing(&self, relative: &Utf8Path) -> (String, String) {
        let fix = match relative.strip_prefix(&self.folder_name) {
            Ok(rest) if !rest.as_str().is_empty() && self.find(rest) != Found::Missing => {
                format!("paths are relative to the pack folder, not its parent: write \"{rest}\"")
            }
            _ => format!(
                "put the file at {}/{relative} in the pack folder and rebuild the archive, \
                 or correct the path in pack.json",
                self.folder_name
            ),
        };
        (format!("the archive {}", self.file_name), fix)
    }

    fn relative_form(&self, _value: &str) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8(p: &std::path::Path) -> &Utf8Path {
        Utf8Path::from_path(p).unwrap()
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
        let (archive, json, _) = inspect_archive(&path).unwrap();
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

    /// One entry of an archive a test writes: its path and what it is.
    enum Item<'a> {
        File(&'static str, &'a [u8]),
        Dir(&'static str),
        Symlink(&'static str, &'static str),
        HardLink(&'static str, &'static str),
        Special(&'static str, tar::EntryType),
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn document() -> serde_json::Value {
        serde_json::json!({
            "name": "p",
            "displayName": "P",
            "layer": "addon",
            "addonType": "monitoring",
            "version": "1.0.0",
            "charts": ["charts/app-1.0.0.tgz"],
            "kubeManifests": ["manifests/app.yaml"]
        })
    }

    /// The entries of a valid pack `p` with `document` as its pack.json:
    /// the folders are written only where a test names them.
    fn valid_pack() -> Vec<Item<'static>> {
        vec![
            Item::Dir("p/"),
            Item::File("p/values.yaml", b"replicas: 1\n"),
            Item::File("p/logo.png", PNG),
            Item::File("p/charts/app-1.0.0.tgz", b"\x1f\x8b\x08\0"),
            Item::File("p/manifests/app.yaml", b"kind: ConfigMap\n"),
        ]
    }

    /// Writes p-1.0.0.tar.gz holding `items` and `document` as p/pack.json,
    /// built with the tar crate so that any entry type can be written.
    fn write_archive(
        dir: &tempfile::TempDir,
        document: &serde_json::Value,
        items: &[Item<'_>],
    ) -> Utf8PathBuf {
        let path = dir.path().join("p-1.0.0.tar.gz");
        let file = std::fs::File::create(&path).unwrap();
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        let json = document.to_string();
        let pack_json = Item::File("p/pack.json", json.as_bytes());
        for item in std::iter::once(&pack_json).chain(items) {
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o644);
            header.set_size(0);
            match *item {
                Item::File(path, bytes) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(bytes.len() as u64);
                    builder.append_data(&mut header, path, bytes).unwrap();
                }
                Item::Dir(path) => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    builder.append_data(&mut header, path, &[][..]).unwrap();
                }
                Item::Symlink(path, target) => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    builder.append_link(&mut header, path, target).unwrap();
                }
                Item::HardLink(path, target) => {
                    header.set_entry_type(tar::EntryType::Link);
                    builder.append_link(&mut header, path, target).unwrap();
                }
                Item::Special(path, kind) => {
                    header.set_entry_type(kind);
                    builder.append_data(&mut header, path, &[][..]).unwrap();
                }
            }
        }
        builder.into_inner().unwrap().finish().unwrap();
        Utf8PathBuf::from_path_buf(path).unwrap()
    }

    /// The findings' error lines and warnings for an archive of `items`.
    fn findings_for(
        document: &serde_json::Value,
        items: &[Item<'_>],
    ) -> (Vec<Problem>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = write_archive(&dir, document, items);
        let (_, _, findings) = inspect_archive(&path).unwrap();
        (findings.errors, findings.warnings)
    }

    #[track_caller]
    fn one_error(document: &serde_json::Value, items: &[Item<'_>]) -> Problem {
        let (errors, _) = findings_for(document, items);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        errors.into_iter().next().unwrap()
    }

    fn with<'a>(mut items: Vec<Item<'a>>, more: Vec<Item<'a>>) -> Vec<Item<'a>> {
        items.extend(more);
        items
    }

    fn without<'a>(items: Vec<Item<'a>>, path: &str) -> Vec<Item<'a>> {
        items
            .into_iter()
            .filter(|i| !matches!(i, Item::File(p, _) if *p == path))
            .collect()
    }

    #[test]
    fn a_valid_archive_has_no_findings() {
        assert_eq!(findings_for(&document(), &valid_pack()), (vec![], vec![]));
        // Folders need no entries of their own.
        let implicit: Vec<Item<'_>> = valid_pack()
            .into_iter()
            .filter(|i| !matches!(i, Item::Dir(_)))
            .collect();
        assert_eq!(findings_for(&document(), &implicit), (vec![], vec![]));
    }

    #[test]
    fn an_archive_gets_the_pack_json_rules() {
        let mut doc = document();
        doc["layer"] = "plugin".into();
        doc["cloudTypes"] = serde_json::json!(["moon"]);
        doc.as_object_mut().unwrap().remove("displayName");
        let (errors, warnings) = findings_for(&doc, &valid_pack());
        let whats: Vec<&str> = errors.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(
            whats,
            [
                "p-1.0.0.tar.gz:p/pack.json has no \"displayName\"",
                "p-1.0.0.tar.gz:p/pack.json: \"layer\" \"plugin\" is not a Palette layer",
                "p-1.0.0.tar.gz:p/pack.json: \"cloudTypes\"[0] \"moon\" is not a cloud type Palette knows",
            ],
            "{errors:#?}"
        );
        assert!(warnings.is_empty(), "{warnings:?}");

        let mut doc = document();
        doc.as_object_mut().unwrap().remove("addonType");
        let (errors, warnings) = findings_for(&doc, &valid_pack());
        assert!(errors.is_empty(), "{errors:#?}");
        assert!(warnings[0].contains("has no \"addonType\""), "{warnings:?}");
    }

    #[test]
    fn values_yaml_and_logo_png_must_be_files_in_the_archive() {
        let p = one_error(&document(), &without(valid_pack(), "p/values.yaml"));
        assert_eq!(p.what, "p-1.0.0.tar.gz:p/values.yaml is missing");
        assert!(p.fix.contains("create values.yaml"), "{p}");

        let p = one_error(&document(), &without(valid_pack(), "p/logo.png"));
        assert_eq!(p.what, "p-1.0.0.tar.gz:p/logo.png is missing");

        let folder = with(
            without(valid_pack(), "p/values.yaml"),
            vec![Item::Dir("p/values.yaml/")],
        );
        let p = one_error(&document(), &folder);
        assert_eq!(
            p.what,
            "p-1.0.0.tar.gz:p/values.yaml is a folder, not a file"
        );
    }

    #[test]
    fn logo_png_must_start_with_the_png_signature() {
        for (bytes, what) in [
            (&b"\xff\xd8\xff\xe0\0\x10JFIF"[..], "is a JPEG image"),
            (b"<svg xmlns=", "is text (SVG or XML?)"),
            (b"", "is empty"),
            (b"\x89PNG", "does not start with the PNG signature"),
        ] {
            let items = with(
                without(valid_pack(), "p/logo.png"),
                vec![Item::File("p/logo.png", bytes)],
            );
            let p = one_error(&document(), &items);
            assert_eq!(
                p.what,
                format!("p-1.0.0.tar.gz:p/logo.png {}", not_png_text(what)),
            );
            assert!(p.fix.contains("PNG format"), "{p}");
        }
        // A link inside the folder may stand for the logo; its target is read.
        let linked = with(
            without(valid_pack(), "p/logo.png"),
            vec![
                Item::File("p/images/logo.png", PNG),
                Item::Symlink("p/logo.png", "images/logo.png"),
            ],
        );
        assert_eq!(findings_for(&document(), &linked), (vec![], vec![]));
        let linked_jpeg = with(
            without(valid_pack(), "p/logo.png"),
            vec![
                Item::File("p/images/logo.jpg", b"\xff\xd8\xff\xe0"),
                Item::Symlink("p/logo.png", "images/logo.jpg"),
            ],
        );
        assert!(
            one_error(&document(), &linked_jpeg)
                .what
                .contains("is a JPEG image")
        );
    }

    /// `not_png`'s whole text that starts with `start`.
    fn not_png_text(start: &str) -> String {
        [&b"\xff\xd8\xff"[..], b"<", b"", b"\x89PNG"]
            .iter()
            .filter_map(|h| pack::not_png(h))
            .find(|t| t.starts_with(start))
            .unwrap()
            .to_string()
    }

    #[test]
    fn the_files_pack_json_names_must_be_entries() {
        let mut doc = document();
        doc["charts"] = serde_json::json!(["charts/missing.tgz", "p/manifests/app.yaml"]);
        doc["kubeManifests"] = serde_json::json!(["/abs/app.yaml", "manifests"]);
        let (errors, _) = findings_for(&doc, &valid_pack());
        let whats: Vec<&str> = errors.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(
            whats,
            [
                "p-1.0.0.tar.gz:p/pack.json: \"charts\"[0] names \"charts/missing.tgz\", which is not in the archive p-1.0.0.tar.gz",
                "p-1.0.0.tar.gz:p/pack.json: \"charts\"[1] names \"p/manifests/app.yaml\", which is not in the archive p-1.0.0.tar.gz",
                "p-1.0.0.tar.gz:p/pack.json: \"kubeManifests\"[0] \"/abs/app.yaml\" is an absolute path; pack paths are relative to the pack folder",
                "p-1.0.0.tar.gz:p/pack.json: \"kubeManifests\"[1] names \"manifests\", which is a folder, not a file",
            ],
            "{errors:#?}"
        );
        assert!(
            errors[0]
                .fix
                .contains("put the file at p/charts/missing.tgz"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].fix.contains(
                "relative to the pack folder, not its parent: write \"manifests/app.yaml\""
            ),
            "{}",
            errors[1]
        );

        // Through a link to a folder inside the pack, as tar would unpack it.
        let mut doc = document();
        doc["kubeManifests"] =
            serde_json::json!(["alias/app.yaml", "./manifests/../manifests/app.yaml"]);
        let items = with(valid_pack(), vec![Item::Symlink("p/alias", "manifests")]);
        assert_eq!(findings_for(&doc, &items), (vec![], vec![]));
    }

    #[test]
    fn links_must_stay_inside_the_folder_and_resolve() {
        let p = one_error(
            &document(),
            &with(valid_pack(), vec![Item::Symlink("p/etc", "/etc")]),
        );
        assert_eq!(
            p.what,
            "p-1.0.0.tar.gz:p/etc -> /etc: the symbolic link's target is an absolute path"
        );
        assert!(p.fix.contains("cp -L"), "{p}");

        let p = one_error(
            &document(),
            &with(
                valid_pack(),
                vec![Item::Symlink("p/manifests/secret", "../../secret.txt")],
            ),
        );
        assert_eq!(
            p.what,
            "p-1.0.0.tar.gz:p/manifests/secret -> ../../secret.txt: the symbolic link points outside the pack folder"
        );

        let p = one_error(
            &document(),
            &with(
                valid_pack(),
                vec![Item::Symlink("p/gone.yaml", "nowhere.yaml")],
            ),
        );
        assert!(
            p.what
                .ends_with("p/gone.yaml -> nowhere.yaml: the symbolic link is dangling (its target is not in the archive)"),
            "{p}"
        );

        let (errors, _) = findings_for(
            &document(),
            &with(
                valid_pack(),
                vec![Item::Symlink("p/a", "b"), Item::Symlink("p/b", "a")],
            ),
        );
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors.iter().all(|p| p.what.contains("a loop of links")));

        // Inside the folder, relative: fine.
        let fine = with(
            valid_pack(),
            vec![
                Item::Symlink("p/manifests/same.yaml", "app.yaml"),
                Item::Symlink("p/manifests/values.yaml", "../values.yaml"),
                Item::Symlink("p/self", "."),
            ],
        );
        assert_eq!(findings_for(&document(), &fine), (vec![], vec![]));
    }

    #[test]
    fn a_link_to_a_mandatory_or_named_file_is_reported_once() {
        // The link leaving the folder is the one problem; logo.png and the
        // chart are not also "missing".
        let mut items = without(
            without(valid_pack(), "p/logo.png"),
            "p/charts/app-1.0.0.tgz",
        );
        items.push(Item::Symlink("p/logo.png", "/usr/share/logo.png"));
        items.push(Item::Symlink("p/charts/app-1.0.0.tgz", "../../app.tgz"));
        let (errors, _) = findings_for(&document(), &items);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].what.contains("logo.png -> /usr/share/logo.png"));
        assert!(errors[1].what.contains("app-1.0.0.tgz -> ../../app.tgz"));
    }

    #[test]
    fn hard_links_devices_and_fifos_are_refused() {
        let p = one_error(
            &document(),
            &with(
                valid_pack(),
                vec![Item::HardLink(
                    "p/manifests/copy.yaml",
                    "p/manifests/app.yaml",
                )],
            ),
        );
        assert_eq!(
            p.what,
            "p-1.0.0.tar.gz:p/manifests/copy.yaml is a hard link (to p/manifests/app.yaml)"
        );
        assert!(p.fix.contains("--hard-dereference"), "{p}");

        for (kind, what) in [
            (tar::EntryType::Fifo, "is a named pipe (FIFO)"),
            (tar::EntryType::Char, "is a character device"),
            (tar::EntryType::Block, "is a block device"),
        ] {
            let p = one_error(
                &document(),
                &with(valid_pack(), vec![Item::Special("p/dev", kind)]),
            );
            assert_eq!(p.what, format!("p-1.0.0.tar.gz:p/dev {what}"));
        }
        // A named file that is a device is reported once, as a device.
        let items = with(
            without(valid_pack(), "p/values.yaml"),
            vec![Item::Special("p/values.yaml", tar::EntryType::Fifo)],
        );
        assert!(
            one_error(&document(), &items)
                .what
                .ends_with("values.yaml is a named pipe (FIFO)")
        );
    }

    #[test]
    fn the_folder_and_the_archive_share_the_pack_json_rules() {
        // The same broken pack.json gives the same problems, named after the
        // archive instead of the folder.
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("src/p");
        for item in valid_pack() {
            if let Item::File(path, bytes) = item {
                let file = dir.path().join("src").join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, bytes).unwrap();
            }
        }
        let mut doc = document();
        doc["layer"] = "K8S".into();
        doc["displayName"] = 3.into();
        doc["cloudTypes"] = serde_json::json!(["edge_native"]);
        doc["constraints"] = serde_json::json!({"dependencies": [{"type": "must"}]});
        std::fs::write(folder.join("pack.json"), doc.to_string()).unwrap();
        let pack_dir = pack::locate(utf8(&folder)).unwrap();
        let (_, from_folder) = pack::inspect(&pack_dir);
        let from_archive = findings_for(&doc, &valid_pack()).0;
        let strip = |problems: Vec<Problem>, prefix: &str| -> Vec<(String, String)> {
            problems
                .into_iter()
                .map(|p| (p.what.replace(prefix, "PACK.JSON"), p.fix))
                .collect()
        };
        let folder_label = format!("{}/pack.json", pack_dir.path);
        assert_eq!(
            strip(from_archive, "p-1.0.0.tar.gz:p/pack.json"),
            strip(from_folder.errors, &folder_label)
        );
    }
}
