//! Shared helpers for the integration tests; each test binary uses only part of them.
#![allow(dead_code)]

pub mod calls;
pub mod digest;
pub mod doubles;
pub mod fs_snapshot;
pub mod live;
pub mod packpush;
pub mod packs;
pub mod proxy;
pub mod pty;
pub mod real;
pub mod schema;
pub mod testbed;
