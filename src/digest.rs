//! sha256 digests in the `sha256:<hex>` form registries use.

use std::io::Read;

use camino::Utf8Path;
use sha2::{Digest, Sha256};

pub fn of_bytes(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Streams a file through sha256 (never holding it in memory); returns the
/// digest and the size in bytes.
pub fn of_file(path: &Utf8Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((format!("sha256:{:x}", hasher.finalize()), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // The config blob every ORAS 1.0.0 manifest references is "{}".
        assert_eq!(
            of_bytes(b"{}"),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"{}").unwrap();
        let (digest, size) = of_file(Utf8Path::from_path(&path).unwrap()).unwrap();
        assert_eq!((digest, size), (of_bytes(b"{}"), 2));
    }
}
