//! Copies of the fixture packs, to change or break one way at a time.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::packpush::fixture_pack;

/// Copies a folder tree (files and folders only, as the fixture packs have).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the fixture pack `name` at `parent/NAME`.
pub fn copy_pack(name: &str, parent: &Path) -> PathBuf {
    let to = parent.join(name);
    copy_dir(&fixture_pack(name), &to);
    to
}

/// Rewrites the pack's pack.json.
pub fn edit_json(pack: &Path, change: impl FnOnce(&mut Value)) {
    let file = pack.join("pack.json");
    let mut document: Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
    change(&mut document);
    fs::write(file, document.to_string()).unwrap();
}
