//! Shared helpers for the integration tests; each test binary uses only part of them.
#![allow(dead_code)]

pub mod fs_snapshot;
pub mod packpush;
pub mod testbed;
