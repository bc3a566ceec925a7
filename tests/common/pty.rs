//! What a program prints to a pseudo-terminal, gathered as it comes.

use std::io::Read;
use std::sync::{Arc, Mutex};

/// Reads `reader` (a pseudo-terminal's master side) to its end in a thread of its own;
/// the bytes read so far.
pub fn gather(mut reader: Box<dyn Read + Send>) -> Arc<Mutex<Vec<u8>>> {
    let output = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&output);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    output
}
