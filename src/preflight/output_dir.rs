//! `--output-dir`: where archives are kept. It must be a folder that can be
//! written (or created), outside every pack folder. packpush never
//! overwrites a file: an archive of this run found there is used when it has
//! the very bytes this run would write, and refused otherwise (step 2
//! compares them); anything else under that name (a folder, a link) is
//! refused here.

use camino::{Utf8Path, Utf8PathBuf};

use super::Checks;
use super::PackInput;
use crate::error::Problem;
use crate::fsutil;
use crate::pack::Source;

pub fn verify(dir: &Utf8Path, packs: &[PackInput], checks: &mut Checks) {
    verify_outside_packs(dir, packs, checks);
    if dir.exists() && !dir.is_dir() {
        checks.problem(Problem::new(
            format!("--output-dir {dir} is not a folder"),
            "pass a folder (it is created if missing)",
        ));
        return;
    }
    verify_no_archive_there(dir, packs, checks);
    verify_writable(dir, checks);
}

/// The archive must not end up inside the folder tar is archiving.
fn verify_outside_packs(dir: &Utf8Path, packs: &[PackInput], checks: &mut Checks) {
    let Ok(out) = fsutil::absolute(dir) else {
        return;
    };
    let out = std::fs::canonicalize(&out)
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
        .unwrap_or(out);
    for input in packs {
        if let Source::Folder(pack) = &input.source
            && out.starts_with(&pack.path)
        {
            checks.problem(Problem::new(
                format!("--output-dir {dir} is inside the pack folder {}: tar would archive the archive", pack.path),
                "pass an --output-dir outside the pack folder",
            ));
        }
    }
}

fn verify_no_archive_there(dir: &Utf8Path, packs: &[PackInput], checks: &mut Checks) {
    for input in packs
        .iter()
        .filter(|i| matches!(i.source, Source::Folder(_)))
    {
        let archive = dir.join(input.target.archive_name());
        if archive.symlink_metadata().is_ok_and(|m| !m.is_file()) {
            checks.problem(Problem::new(
                format!("{archive} already exists and is not a file; packpush never overwrites it"),
                format!("move or remove {archive}, or pass another --output-dir"),
            ));
        }
    }
}

/// The folder, or the nearest folder above it that exists (where it will
/// be created), must be writable.
fn verify_writable(dir: &Utf8Path, checks: &mut Checks) {
    let existing = dir
        .ancestors()
        .find(|a| a.as_str().is_empty() || a.is_dir());
    if let Some(existing) = existing.filter(|a| !a.as_str().is_empty())
        && let Err(e) = fsutil::writable(existing)
    {
        let what = if existing == dir {
            format!("--output-dir {dir} is not writable: {e}")
        } else {
            format!("--output-dir {dir} cannot be created: {existing} is not writable: {e}")
        };
        checks.problem(Problem::new(what, "pass an --output-dir you can write to"));
    }
}
