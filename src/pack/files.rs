//! Where the files of a pack are looked for (a folder on disk or the entries
//! of an archive, behind one trait), and the rules about files written once
//! against it: the mandatory values.yaml and logo.png (a real PNG), and the
//! files pack.json names.

use camino::{Utf8Component, Utf8Path, Utf8PathBuf};

use super::Findings;
use crate::error::Problem;

/// The first bytes of every PNG file.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// What a path inside a pack turns out to be, links followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Missing,
    Folder,
    File,
    /// Something another rule reports: a dangling link or one leaving the
    /// pack, a special file, an unreadable folder on the way. It is not
    /// reported a second time.
    Reported,
}

/// Where the files of a pack are looked for: a pack folder on disk, or the
/// entries of an archive. The rules about the files pack.json names and the
/// mandatory files are written once against this.
pub trait PackFiles {
    /// What `relative` (inside the pack, `.` and `..` resolved) is.
    fn find(&self, relative: &Utf8Path) -> Found;
    /// The first bytes (up to 16) of the file at `relative`, which `find`
    /// said is a file. `Err(None)` when another rule reports why it cannot
    /// be read.
    fn head(&self, relative: &Utf8Path) -> Result<Vec<u8>, Option<Problem>>;
    /// How messages name `relative`.
    fn label(&self, relative: &Utf8Path) -> String;
    /// Where a missing `relative` was looked for (e.g. "the pack folder
    /// /src/mypack"), and how to fix its absence.
    fn missing(&self, relative: &Utf8Path) -> (String, String);
    /// `value`, an absolute path, written relative to the pack, when it
    /// points inside it.
    fn relative_form(&self, value: &str) -> Option<String>;
}

/// The files every pack must hold: values.yaml, and logo.png as a PNG image.
pub fn check_required(files: &dyn PackFiles, findings: &mut Findings) {
    let errors = &mut findings.errors;
    required(
        files,
        "values.yaml",
        "create values.yaml in the pack folder (it may be empty); Palette requires it in every pack",
        errors,
    );
    let logo = Utf8Path::new("logo.png");
    if required(
        files,
        logo.as_str(),
        "add the pack's logo as logo.png (a PNG image); Palette requires it in every pack",
        errors,
    ) {
        match files.head(logo) {
            Ok(head) => {
                if let Some(what) = not_png(&head) {
                    errors.push(Problem::new(
                        format!("{} {what}", files.label(logo)),
                        "save the logo in PNG format (renaming a file does not convert it), \
                         e.g. `convert logo.jpg logo.png`",
                    ));
                }
            }
            Err(Some(problem)) => errors.push(problem),
            Err(None) => {}
        }
    }
}

/// Checks one path that pack.json's `field` names: it must be relative, stay
/// inside the pack and name a regular file there. `None` when it does, or
/// when another rule reports why it does not (a link leaving the folder, a
/// dangling link, a special file), so that one cause gives one problem.
pub(super) fn check_reference(
    files: &dyn PackFiles,
    file: &Utf8Path,
    field: &str,
    value: &str,
    example: &str,
) -> Option<Problem> {
    let relative = match relative_inside(value) {
        Ok(relative) => relative,
        Err(why) => {
            let fix = match files.relative_form(value) {
                Some(inside) => format!("write it relative to the pack folder: \"{inside}\""),
                None => format!("write a path relative to the pack folder, e.g. \"{example}\""),
            };
            return Some(Problem::new(
                format!("{file}: {field} \"{value}\" {why}"),
                fix,
            ));
        }
    };
    match files.find(&relative) {
        Found::File | Found::Reported => None,
        Found::Folder => Some(Problem::new(
            format!("{file}: {field} names \"{value}\", which is a folder, not a file"),
            format!("list each file on its own, e.g. \"{example}\""),
        )),
        Found::Missing => {
            let (place, fix) = files.missing(&relative);
            Some(Problem::new(
                format!("{file}: {field} names \"{value}\", which is not in {place}"),
                fix,
            ))
        }
    }
}

/// `value` relative to the pack folder with `.` and inner `..` resolved, or
/// why it cannot be one.
fn relative_inside(value: &str) -> Result<Utf8PathBuf, &'static str> {
    if value.trim().is_empty() {
        return Err("is empty");
    }
    let mut parts = Vec::new();
    for component in Utf8Path::new(value).components() {
        match component {
            Utf8Component::Prefix(_) | Utf8Component::RootDir => {
                return Err("is an absolute path; pack paths are relative to the pack folder");
            }
            Utf8Component::CurDir => {}
            Utf8Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err("leaves the pack folder through '..'");
                }
            }
            Utf8Component::Normal(part) => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err("names the pack folder itself, not a file in it");
    }
    Ok(parts.iter().collect())
}

/// A file every pack must hold: whether it is a regular file.
fn required(files: &dyn PackFiles, name: &str, fix: &str, errors: &mut Vec<Problem>) -> bool {
    let relative = Utf8Path::new(name);
    match files.find(relative) {
        Found::File => true,
        Found::Reported => false,
        Found::Missing => {
            errors.push(Problem::new(
                format!("{} is missing", files.label(relative)),
                fix,
            ));
            false
        }
        Found::Folder => {
            errors.push(Problem::new(
                format!("{} is a folder, not a file", files.label(relative)),
                format!("replace the folder with the file: {fix}"),
            ));
            false
        }
    }
}

/// Why the first bytes of a logo show it is not a PNG image, if they do.
pub fn not_png(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(PNG_SIGNATURE) {
        return None;
    }
    Some(if head.is_empty() {
        "is empty, not a PNG image"
    } else if head.starts_with(b"\xff\xd8\xff") {
        "is a JPEG image, not a PNG image"
    } else if head.starts_with(b"GIF8") {
        "is a GIF image, not a PNG image"
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        "is a WebP image, not a PNG image"
    } else if head.trim_ascii_start().starts_with(b"<") {
        "is text (SVG or XML?), not a PNG image"
    } else {
        "does not start with the PNG signature (89 50 4E 47 0D 0A 1A 0A): it is not a PNG image"
    })
}
