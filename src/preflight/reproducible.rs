//! The fixed time of `--reproducible`: every entry of a pack's archive and
//! the manifests' `org.opencontainers.image.created` get it, so that equal
//! content gives equal bytes.

use std::time::UNIX_EPOCH;

use camino::Utf8Path;

use crate::error::Problem;
use crate::plan::PackInput;

/// Gives each pack its own fixed time (its archive must not depend on which
/// other packs share the run) and returns the base path's: the newest.
/// `source_date_epoch`: the value of SOURCE_DATE_EPOCH, if set.
pub fn fix_times(
    inputs: &mut [PackInput],
    source_date_epoch: Option<&str>,
    problems: &mut Vec<Problem>,
) -> String {
    let mut newest = 0;
    for input in inputs {
        match epoch(input.source.path(), source_date_epoch) {
            Ok(epoch) => {
                newest = newest.max(epoch);
                input.created = Some(rfc3339(epoch));
                input.fixed_mtime = Some(epoch);
            }
            Err(p) => problems.push(p),
        }
    }
    rfc3339(newest)
}

/// SOURCE_DATE_EPOCH if set, else the newest modification time under `path`.
fn epoch(path: &Utf8Path, source_date_epoch: Option<&str>) -> Result<u64, Problem> {
    if let Some(value) = source_date_epoch {
        return value.trim().parse::<u64>().map_err(|_| {
            Problem::new(
                format!("SOURCE_DATE_EPOCH is '{value}', not a number of seconds"),
                "set SOURCE_DATE_EPOCH to seconds since 1970 (e.g. $(git log -1 --format=%ct)) or unset it",
            )
        });
    }
    let mut newest = 0;
    for entry in walkdir::WalkDir::new(path).follow_links(false) {
        let entry = entry.map_err(|e| {
            Problem::new(
                format!("cannot read {path}: {e}"),
                "make the pack folder readable",
            )
        })?;
        let meta = entry.metadata().map_err(|e| {
            Problem::new(
                format!("cannot read {}: {e}", entry.path().display()),
                "make it readable",
            )
        })?;
        if let Ok(modified) = meta.modified()
            && let Ok(since) = modified.duration_since(UNIX_EPOCH)
        {
            newest = newest.max(since.as_secs());
        }
    }
    Ok(newest)
}

/// RFC 3339 in UTC at second resolution, as ORAS writes `created`.
pub fn rfc3339(epoch: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + std::time::Duration::from_secs(epoch))
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    fn touch(path: &std::path::Path, epoch: u64) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(epoch))
            .unwrap();
    }

    #[test]
    fn the_time_is_the_newest_file_time() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        for (name, epoch) in [("old", 1_600_000_000), ("sub/new", 1_700_000_000)] {
            std::fs::write(root.join(name), "x").unwrap();
            touch(root.join(name).as_std_path(), epoch);
        }
        // The folders themselves are newer; only the files count here.
        let folder = std::fs::File::open(root.join("sub")).unwrap();
        folder
            .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000))
            .unwrap();
        let top = std::fs::File::open(root).unwrap();
        top.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000))
            .unwrap();
        assert_eq!(epoch(root, None).unwrap(), 1_700_000_000);
    }

    #[test]
    fn source_date_epoch_wins_and_must_be_a_number() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        assert_eq!(epoch(root, Some(" 42 ")).unwrap(), 42);
        let problem = epoch(root, Some("yesterday")).unwrap_err();
        assert!(problem.what.contains("'yesterday'"), "{problem}");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
