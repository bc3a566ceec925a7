//! sha256 as the registry and the doubles write it, computed here (not by packpush) so that
//! a digest packpush reports is checked against an independent reckoning.

use sha2::{Digest, Sha256};

/// Hex sha256 of `bytes`, without the `sha256:` prefix.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}
