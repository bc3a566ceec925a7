//! Durations as packpush writes them: whole milliseconds in the JSON
//! report, seconds with two decimals for people.

use std::time::Duration;

/// Whole milliseconds (saturating).
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `1.25 s`.
pub fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
