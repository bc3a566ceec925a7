//! The fixed time of `--reproducible`: every entry of a pack's archive and
//! the manifests' `org.opencontainers.image.created` get it, so that equal
//! content gives equal bytes. It comes from `SOURCE_DATE_EPOCH` when set,
//! else it is [`FIXED_EPOCH`]: never from the files, whose times a checkout
//! or a `touch` changes.

use std::time::UNIX_EPOCH;

use super::PackInput;
use crate::error::Problem;

/// The time of `--reproducible` without `SOURCE_DATE_EPOCH`:
/// 1980-01-01T00:00:00Z, the earliest time every archive format (zip
/// included) can hold, and plainly not a build time.
pub const FIXED_EPOCH: u64 = 315_532_800;

/// Gives every pack the fixed time and returns the base path's `created`.
/// `source_date_epoch`: the value of SOURCE_DATE_EPOCH, if set.
pub fn fix_times(
    inputs: &mut [PackInput],
    source_date_epoch: Option<&str>,
    problems: &mut Vec<Problem>,
) -> String {
    let epoch = epoch(source_date_epoch).unwrap_or_else(|problem| {
        problems.push(problem);
        FIXED_EPOCH
    });
    for input in inputs {
        input.created = Some(rfc3339(epoch));
        input.fixed_mtime = Some(epoch);
    }
    rfc3339(epoch)
}

/// SOURCE_DATE_EPOCH if set, else [`FIXED_EPOCH`].
fn epoch(source_date_epoch: Option<&str>) -> Result<u64, Problem> {
    let Some(value) = source_date_epoch else {
        return Ok(FIXED_EPOCH);
    };
    value.trim().parse::<u64>().map_err(|_| {
        Problem::new(
            format!("SOURCE_DATE_EPOCH is '{value}', not a number of seconds"),
            "set SOURCE_DATE_EPOCH to seconds since 1970 (e.g. $(git log -1 --format=%ct)) or unset it",
        )
    })
}

/// RFC 3339 in UTC at second resolution, as ORAS writes `created`.
pub fn rfc3339(epoch: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + std::time::Duration::from_secs(epoch))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_is_fixed_and_documented_without_source_date_epoch() {
        assert_eq!(epoch(None).unwrap(), FIXED_EPOCH);
        assert_eq!(rfc3339(FIXED_EPOCH), "1980-01-01T00:00:00Z");
    }

    #[test]
    fn source_date_epoch_wins_and_must_be_a_number() {
        assert_eq!(epoch(Some(" 42 ")).unwrap(), 42);
        let problem = epoch(Some("yesterday")).unwrap_err();
        assert!(problem.what.contains("'yesterday'"), "{problem}");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
