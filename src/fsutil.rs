//! File-system helpers shared by the preflight, the push and the guide:
//! absolute UTF-8 paths, private temporary folders and files, and asking
//! the kernel whether a folder is writable.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

use camino::{Utf8Path, Utf8PathBuf};
use tempfile::TempDir;

use crate::error::{Class, Failure};

/// `path` made absolute (not resolved: links stay links).
pub fn absolute(path: &Utf8Path) -> Result<Utf8PathBuf, Failure> {
    let abs = std::path::absolute(path)
        .map_err(|e| Failure::new(Class::Other, format!("cannot resolve {path}: {e}")))?;
    Utf8PathBuf::from_path_buf(abs).map_err(|p| {
        Failure::new(
            Class::Other,
            format!("the path {} is not valid UTF-8", p.display()),
        )
    })
}

/// A temporary folder only this user can enter (mode 0700), removed when
/// the `TempDir` is dropped, and its absolute path. `what` names it in errors.
pub fn private_dir(prefix: &str, what: &str) -> Result<(TempDir, Utf8PathBuf), Failure> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| Failure::new(Class::Other, format!("cannot create {what}: {e}")))?;
    let path = Utf8Path::from_path(dir.path())
        .ok_or_else(|| Failure::new(Class::Other, "the temporary folder's path is not UTF-8"))?;
    let path = absolute(path)?;
    Ok((dir, path))
}

/// Creates `path` (which must not exist) with mode 0600, holding `contents`.
pub fn create_private_file(path: &Utf8Path, contents: &[u8]) -> Result<(), Failure> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Failure::new(Class::Other, format!("cannot create {path}: {e}")))?;
    file.write_all(contents)
        .map_err(|e| Failure::new(Class::Other, format!("cannot write {path}: {e}")))
}

/// access(2) with W_OK: permission bits for ordinary users, and a read-only
/// file system for everyone (root included). Asked of the kernel, not
/// probed by writing.
pub fn writable(dir: &Utf8Path) -> std::io::Result<()> {
    rustix::fs::access(dir.as_std_path(), rustix::fs::Access::WRITE_OK).map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_folders_and_files_are_private() {
        let (dir, path) = private_dir("fsutil-test-", "a test folder").unwrap();
        let mode = |p: &Utf8Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o700);
        let file = path.join("f");
        create_private_file(&file, b"{}").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"{}");
        // Never overwritten.
        assert!(create_private_file(&file, b"x").is_err());
        assert!(writable(&path).is_ok());
        drop(dir);
        assert!(!path.exists());
    }
}
