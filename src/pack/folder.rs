//! A pack folder on disk: its files as the pack rules see them (links
//! followed, never out of the folder), and whether tar can archive the whole
//! tree safely.
//!
//! tar stores a symbolic link as a link, so a link leaving the folder (or
//! dangling) would reach Palette pointing at nothing; tar cannot archive the
//! contents of a FIFO, socket or device; and a file or folder packpush cannot
//! open, tar cannot read either. "Cannot be read" means that opening it fails:
//! root can open any file whatever its mode bits, so under root a `chmod 000`
//! file is not reported (tar, run as root too, reads it).

use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::{Component, Path, PathBuf};

use camino::Utf8Path;

use super::files::{Found, PackFiles, check_required};
use super::{Findings, PackDir};
use crate::error::Problem;

impl PackFiles for PackDir {
    fn find(&self, relative: &Utf8Path) -> Found {
        examine(self, relative)
    }

    fn head(&self, relative: &Utf8Path) -> Result<Vec<u8>, Option<Problem>> {
        let path = self.path.join(relative);
        // An open failure is the walk's to report.
        let file = File::open(&path).map_err(|_| None)?;
        let mut head = Vec::with_capacity(16);
        file.take(16)
            .read_to_end(&mut head)
            .map_err(|e| Some(unreadable(path.as_std_path(), &e)))?;
        Ok(head)
    }

    fn label(&self, relative: &Utf8Path) -> String {
        self.path.join(relative).to_string()
    }

    fn missing(&self, relative: &Utf8Path) -> (String, String) {
        let fix = match relative.strip_prefix(&self.folder_name) {
            Ok(rest) if !rest.as_str().is_empty() && self.path.join(rest).exists() => {
                format!("paths are relative to the pack folder, not its parent: write \"{rest}\"")
            }
            _ => format!(
                "put the file at {} or correct the path in pack.json",
                self.path.join(relative)
            ),
        };
        (format!("the pack folder {}", self.path), fix)
    }

    fn relative_form(&self, value: &str) -> Option<String> {
        match Utf8Path::new(value).strip_prefix(&self.path) {
            Ok(inside) if !inside.as_str().is_empty() => Some(inside.to_string()),
            _ => None,
        }
    }
}

/// Applies the folder rules to `dir`.
pub(super) fn check(dir: &PackDir, findings: &mut Findings) {
    check_required(dir, findings);
    walk(
        dir.path.as_std_path(),
        dir.path.as_std_path(),
        &mut findings.errors,
    );
}

/// What a relative path inside the pack folder is, following links.
fn examine(dir: &PackDir, relative: &Utf8Path) -> Found {
    let path = dir.path.join(relative);
    match fs::symlink_metadata(&path) {
        Ok(_) => {}
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Found::Missing;
        }
        Err(_) => return Found::Reported,
    }
    let Ok(real) = fs::canonicalize(&path) else {
        return Found::Reported;
    };
    if !real.starts_with(&dir.path) {
        return Found::Reported;
    }
    match fs::metadata(&real) {
        Ok(meta) if meta.is_dir() => Found::Folder,
        Ok(meta) if meta.is_file() => Found::File,
        _ => Found::Reported,
    }
}

/// Checks everything under `folder` the way tar will meet it: links are
/// judged, never followed, so a link loop cannot trap the walk.
fn walk(root: &Path, folder: &Path, errors: &mut Vec<Problem>) {
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(unreadable(folder, &e));
            return;
        }
    };
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => paths.push(entry.path()),
            Err(e) => {
                errors.push(unreadable(folder, &e));
                return;
            }
        }
    }
    paths.sort();
    for path in paths {
        let kind = match fs::symlink_metadata(&path) {
            Ok(meta) => meta.file_type(),
            Err(e) => {
                errors.push(unreadable(&path, &e));
                continue;
            }
        };
        if kind.is_dir() {
            walk(root, &path, errors);
        } else if kind.is_file() {
            if let Err(e) = File::open(&path) {
                errors.push(unreadable(&path, &e));
            }
        } else if kind.is_symlink() {
            if let Some(problem) = check_link(root, &path) {
                errors.push(problem);
            }
        } else {
            let what = if kind.is_fifo() {
                "a named pipe (FIFO)"
            } else if kind.is_socket() {
                "a socket"
            } else if kind.is_block_device() {
                "a block device"
            } else if kind.is_char_device() {
                "a character device"
            } else {
                "neither a file, a folder nor a link"
            };
            errors.push(Problem::new(
                format!("{} is {what}", path.display()),
                "remove it from the pack folder: tar cannot archive its contents and Palette has no use for it",
            ));
        }
    }
}

/// A link is fine when it resolves to something inside the pack folder
/// through a relative target, so that it still does once unpacked elsewhere.
fn check_link(root: &Path, link: &Path) -> Option<Problem> {
    let target = match fs::read_link(link) {
        Ok(target) => target,
        Err(e) => return Some(unreadable(link, &e)),
    };
    let shown = format!("{} -> {}", link.display(), target.display());
    let real = match fs::canonicalize(link) {
        Ok(real) => real,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Some(Problem::new(
                format!("{shown}: the symbolic link is dangling (its target does not exist)"),
                "remove the link or point it at a file inside the pack folder; \
                 tar would archive a link to nothing",
            ));
        }
        Err(e) => {
            return Some(Problem::new(
                format!("{shown}: the symbolic link cannot be resolved: {e}"),
                "remove the link or fix its target (a loop of links is the usual cause)",
            ));
        }
    };
    if !real.starts_with(root) {
        let resolved = if real == target {
            String::new()
        } else {
            format!(" (to {})", real.display())
        };
        return Some(Problem::new(
            format!("{shown}: the symbolic link points outside the pack folder{resolved}"),
            format!(
                "replace the link with a copy of what it points at (cp -L), or move that into \
                 the pack folder: tar stores the link, not {}, so Palette would get a link to \
                 something it does not have",
                real.display()
            ),
        ));
    }
    if target.is_absolute() {
        let relative = relative_path(link.parent().unwrap_or(root), &real);
        return Some(Problem::new(
            format!("{shown}: the symbolic link's target is an absolute path"),
            format!(
                "make it relative, so that it still points into the pack once Palette unpacks it \
                 elsewhere: ln -sfn {} {}",
                relative.display(),
                link.display()
            ),
        ));
    }
    None
}

/// The relative path from folder `from` to `to`; both absolute and resolved.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut relative: PathBuf = std::iter::repeat_n(Component::ParentDir, from.len() - common)
        .chain(to[common..].iter().copied())
        .collect();
    if relative.as_os_str().is_empty() {
        relative.push(".");
    }
    relative
}

fn unreadable(path: &Path, e: &std::io::Error) -> Problem {
    Problem::new(
        format!("{} cannot be read: {e}", path.display()),
        "make it readable by the user running packpush (chmod u+r, and u+x for a folder), \
         or remove it from the pack folder",
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use serde_json::json;

    use super::super::files::check_reference;
    use super::super::testing::{PNG, TestPack};
    use super::*;

    fn whats(pack: &TestPack) -> Vec<String> {
        pack.validate().errors.into_iter().map(|p| p.what).collect()
    }

    #[track_caller]
    fn one_error(pack: &TestPack) -> Problem {
        let errors = pack.validate().errors;
        assert_eq!(errors.len(), 1, "{errors:#?}");
        errors.into_iter().next().unwrap()
    }

    #[test]
    fn a_valid_folder_passes() {
        let pack = TestPack::new();
        pack.write("README.md", "# My pack\n");
        pack.write("schema.yaml", "");
        pack.write("values.yaml", ""); // may be empty
        assert_eq!(pack.validate(), Findings::default());
    }

    #[test]
    fn values_yaml_is_required() {
        let pack = TestPack::new();
        fs::remove_file(pack.path("values.yaml")).unwrap();
        let p = one_error(&pack);
        assert!(p.what.ends_with("mypack/values.yaml is missing"), "{p}");
        assert!(p.fix.contains("create values.yaml"), "{p}");

        fs::create_dir(pack.path("values.yaml")).unwrap();
        assert!(
            one_error(&pack)
                .what
                .contains("values.yaml is a folder, not a file")
        );
    }

    #[test]
    fn logo_png_is_required_and_must_be_a_png() {
        let pack = TestPack::new();
        fs::remove_file(pack.path("logo.png")).unwrap();
        assert!(one_error(&pack).what.ends_with("logo.png is missing"));
        for (bytes, what) in [
            (&b"\xff\xd8\xff\xe0\0\x10JFIF"[..], "is a JPEG image"),
            (b"GIF89a", "is a GIF image"),
            (b"RIFF\0\0\0\0WEBPVP8 ", "is a WebP image"),
            (b"  <svg xmlns=", "is text (SVG or XML?)"),
            (b"", "is empty"),
            (b"\x89PNG", "does not start with the PNG signature"),
        ] {
            pack.write("logo.png", bytes);
            let p = one_error(&pack);
            assert!(p.what.contains(what), "{what}: {p}");
            assert!(p.fix.contains("PNG format"), "{p}");
        }
        pack.write("logo.png", PNG);
        assert!(whats(&pack).is_empty());
    }

    #[test]
    fn links_inside_the_folder_are_fine() {
        let pack = TestPack::new();
        symlink("app.yaml", pack.path("manifests/same.yaml")).unwrap();
        symlink("manifests", pack.path("alias")).unwrap();
        symlink(".", pack.path("self")).unwrap();
        symlink(
            "../../mypack/values.yaml",
            pack.path("manifests/values.yaml"),
        )
        .unwrap();
        // A link may stand for a mandatory or referenced file.
        fs::rename(pack.path("logo.png"), pack.path("manifests/logo.png")).unwrap();
        symlink("manifests/logo.png", pack.path("logo.png")).unwrap();
        let mut document = TestPack::document();
        document["kubeManifests"] = json!(["alias/same.yaml"]);
        pack.write("pack.json", document.to_string());
        assert_eq!(pack.validate(), Findings::default());
    }

    #[test]
    fn a_link_leaving_the_folder_is_an_error() {
        let pack = TestPack::new();
        fs::write(pack.root.path().join("secret.txt"), "x").unwrap();
        symlink("../../secret.txt", pack.path("manifests/secret.txt")).unwrap();
        let p = one_error(&pack);
        assert!(
            p.what.contains("manifests/secret.txt -> ../../secret.txt: the symbolic link points outside the pack folder"),
            "{p}"
        );
        assert!(p.fix.contains("cp -L"), "{p}");

        let pack = TestPack::new();
        symlink("/etc", pack.path("etc")).unwrap();
        assert!(
            one_error(&pack)
                .what
                .contains("etc -> /etc: the symbolic link points outside")
        );

        let pack = TestPack::new();
        symlink("..", pack.path("up")).unwrap();
        assert!(
            one_error(&pack)
                .what
                .contains("up -> ..: the symbolic link points outside")
        );
    }

    #[test]
    fn an_absolute_link_into_the_folder_is_an_error() {
        let pack = TestPack::new();
        symlink(
            pack.path("manifests/app.yaml"),
            pack.path("manifests/copy.yaml"),
        )
        .unwrap();
        let p = one_error(&pack);
        assert!(p.what.contains("target is an absolute path"), "{p}");
        assert!(p.fix.contains("ln -sfn app.yaml "), "{p}");
        assert_eq!(
            relative_path(Path::new("/a/b/c"), Path::new("/a/d/e")),
            Path::new("../../d/e")
        );
        assert_eq!(
            relative_path(Path::new("/a"), Path::new("/a")),
            Path::new(".")
        );
    }

    #[test]
    fn dangling_and_looping_links_are_errors() {
        let pack = TestPack::new();
        symlink("nowhere.yaml", pack.path("manifests/gone.yaml")).unwrap();
        let p = one_error(&pack);
        assert!(
            p.what
                .contains("gone.yaml -> nowhere.yaml: the symbolic link is dangling"),
            "{p}"
        );

        let pack = TestPack::new();
        symlink("b", pack.path("a")).unwrap();
        symlink("a", pack.path("b")).unwrap();
        let e = whats(&pack);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e.iter().all(|w| w.contains("cannot be resolved")), "{e:?}");
    }

    #[test]
    fn special_files_are_errors() {
        let pack = TestPack::new();
        let fifo = pack.path("manifests/pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let _socket = std::os::unix::net::UnixListener::bind(pack.path("sock")).unwrap();
        let e = whats(&pack);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].ends_with("manifests/pipe is a named pipe (FIFO)"),
            "{e:?}"
        );
        assert!(e[1].ends_with("sock is a socket"), "{e:?}");
    }

    #[test]
    fn unreadable_files_and_folders_are_errors() {
        let pack = TestPack::new();
        let file = pack.path("manifests/app.yaml");
        let folder = pack.path("private");
        fs::create_dir(&folder).unwrap();
        fs::write(folder.join("x"), "x").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o000)).unwrap();
        let errors = whats(&pack);
        // Root opens anything whatever its mode; then nothing is unreadable.
        let root = File::open(&file).is_ok();
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)).unwrap();
        if root {
            assert!(errors.is_empty(), "{errors:?}");
        } else {
            assert_eq!(errors.len(), 2, "{errors:?}");
            assert!(errors[0].contains("app.yaml cannot be read"), "{errors:?}");
            assert!(errors[1].contains("private cannot be read"), "{errors:?}");
        }
    }

    #[test]
    fn an_open_failure_is_reported() {
        // Opening through a dangling link fails for root too.
        let pack = TestPack::new();
        symlink("missing", pack.path("broken")).unwrap();
        let p = unreadable(
            &pack.path("broken"),
            &File::open(pack.path("broken")).unwrap_err(),
        );
        assert!(
            p.what.contains("broken cannot be read: No such file"),
            "{p}"
        );
        assert!(p.fix.contains("chmod u+r"), "{p}");
    }

    #[test]
    fn referenced_paths_must_be_relative_and_inside() {
        let pack = TestPack::new();
        let check = |value: &str| {
            let file = pack.dir.path.join("pack.json");
            check_reference(&pack.dir, &file, "\"charts\"[0]", value, "charts/x.tgz")
        };
        assert_eq!(check("charts/app-1.0.0.tgz"), None);
        assert_eq!(check("./charts/../charts/app-1.0.0.tgz"), None);

        let p = check("../mypack/charts/app-1.0.0.tgz").unwrap();
        assert!(
            p.what.contains("leaves the pack folder through '..'"),
            "{p}"
        );
        let p = check("charts/../../x.tgz").unwrap();
        assert!(p.what.contains("leaves the pack folder"), "{p}");

        let absolute = pack.dir.path.join("charts/app-1.0.0.tgz");
        let p = check(absolute.as_str()).unwrap();
        assert!(p.what.contains("is an absolute path"), "{p}");
        assert!(p.fix.contains("\"charts/app-1.0.0.tgz\""), "{p}");
        assert!(
            check("/etc/passwd")
                .unwrap()
                .fix
                .contains("e.g. \"charts/x.tgz\"")
        );

        assert!(check("").unwrap().what.contains("\"\" is empty"));
        assert!(
            check("charts/..")
                .unwrap()
                .what
                .contains("the pack folder itself")
        );
    }

    #[test]
    fn referenced_paths_must_be_files_that_exist() {
        let pack = TestPack::new();
        let check = |value: &str| {
            let file = pack.dir.path.join("pack.json");
            check_reference(&pack.dir, &file, "\"charts\"[0]", value, "charts/x.tgz").unwrap()
        };
        let p = check("charts/app-2.0.0.tgz");
        assert!(
            p.what
                .contains("names \"charts/app-2.0.0.tgz\", which is not in the pack folder"),
            "{p}"
        );
        assert!(p.fix.contains("put the file at"), "{p}");
        let p = check("mypack/charts/app-1.0.0.tgz");
        assert!(p.fix.contains("write \"charts/app-1.0.0.tgz\""), "{p}");
        assert!(
            check("charts")
                .what
                .contains("which is a folder, not a file")
        );
        assert!(
            check("values.yaml/x")
                .what
                .contains("not in the pack folder")
        );
    }

    #[test]
    fn a_broken_link_is_reported_once() {
        // The walk names the link; the reference does not repeat it.
        let pack = TestPack::new();
        fs::remove_file(pack.path("charts/app-1.0.0.tgz")).unwrap();
        symlink("/nonexistent/app.tgz", pack.path("charts/app-1.0.0.tgz")).unwrap();
        let p = one_error(&pack);
        assert!(
            p.what.contains("app-1.0.0.tgz -> /nonexistent/app.tgz"),
            "{p}"
        );
        let pack = TestPack::new();
        fs::remove_file(pack.path("values.yaml")).unwrap();
        symlink("/etc/passwd", pack.path("values.yaml")).unwrap();
        assert!(
            one_error(&pack)
                .what
                .contains("points outside the pack folder")
        );
    }
}
