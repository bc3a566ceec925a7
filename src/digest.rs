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
    stream(std::fs::File::open(path)?, || false)
}

/// Streams `reader` through sha256. At the end of the input, `more` says
/// whether more may still come (a file another process is writing): then
/// it waits a little and reads again.
fn stream(mut reader: impl Read, more: impl Fn() -> bool) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        // Asked before reading: once no more can come, one more read to the
        // end sees everything that was written.
        let finished = !more();
        let n = reader.read(&mut buffer)?;
        if n > 0 {
            hasher.update(&buffer[..n]);
            size += n as u64;
        } else if finished {
            break;
        } else {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    Ok((format!("sha256:{:x}", hasher.finalize()), size))
}

/// Hashes a file while another process is still writing it, so that the
/// digest is ready when the writer finishes instead of costing a second pass
/// over the file afterwards. The writer must append sequentially (tar does).
#[derive(Debug)]
pub struct Follower {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<std::io::Result<(String, u64)>>>,
}

impl Follower {
    /// Starts hashing `path`, which the writer may not have created yet:
    /// the file is awaited until it appears or the writer has finished.
    pub fn start(path: &Utf8Path) -> Follower {
        let path = path.to_owned();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer_done = std::sync::Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            let finished = || writer_done.load(std::sync::atomic::Ordering::SeqCst);
            let file = loop {
                // Asked before opening: once the writer is done, a missing
                // file will not come.
                let over = finished();
                match std::fs::File::open(&path) {
                    Ok(file) => break file,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && !over => {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    Err(e) => return Err(e),
                }
            };
            stream(file, || !finished())
        });
        Follower {
            done,
            thread: Some(thread),
        }
    }

    /// Says the writer has finished and waits for the digest and size.
    pub fn finish(mut self) -> std::io::Result<(String, u64)> {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread
            .take()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("the hashing thread panicked")))
            })
            .unwrap_or_else(|| Err(std::io::Error::other("the digest was already taken")))
    }
}

impl Drop for Follower {
    /// An abandoned follower (the run stopped) reads to the end once and stops.
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
    }
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

    #[test]
    fn follower_hashes_a_file_as_it_grows() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8Path::from_path(dir.path()).unwrap().join("growing");
        let mut file = std::fs::File::create(&path).unwrap();
        let follower = Follower::start(&path);
        let mut all = Vec::new();
        for i in 0..50u8 {
            let chunk = vec![i; 10_000];
            file.write_all(&chunk).unwrap();
            all.extend_from_slice(&chunk);
            if i % 10 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(7));
            }
        }
        file.flush().unwrap();
        assert_eq!(
            follower.finish().unwrap(),
            (of_bytes(&all), all.len() as u64)
        );
    }

    #[test]
    fn follower_waits_for_the_writer_to_create_the_file() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8Path::from_path(dir.path()).unwrap().join("later");
        let follower = Follower::start(&path);
        std::thread::sleep(std::time::Duration::from_millis(30));
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(b"written after the follower started")
            .unwrap();
        drop(file);
        assert_eq!(
            follower.finish().unwrap(),
            (of_bytes(b"written after the follower started"), 34)
        );
    }

    #[test]
    fn a_file_the_writer_never_made_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8Path::from_path(dir.path()).unwrap().join("never");
        let follower = Follower::start(&path);
        std::thread::sleep(std::time::Duration::from_millis(10));
        let error = follower.finish().unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    }
}
