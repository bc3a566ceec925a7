//! sha256 as the registry and the doubles write it, computed here (not by packpush) so that
//! a digest packpush reports is checked against an independent reckoning.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Hex sha256 of `bytes`, without the `sha256:` prefix.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// `sha256:<hex>` of a file's bytes, streamed.
pub fn sha256_file(path: &Path) -> String {
    let mut file = File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = file
            .read(&mut buffer)
            .unwrap_or_else(|e| panic!("hash {}: {e}", path.display()));
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    format!("sha256:{:x}", hasher.finalize())
}
