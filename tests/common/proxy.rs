//! A loopback HTTP proxy in front of a test registry that answers the catalog
//! (`GET /v2/_catalog`) as Harbor answers it to most accounts — 401 with
//! `unauthorized to list catalog` — and passes every other request through. The
//! distribution registry lets every account it knows list its catalog, so this is the one
//! way to meet Harbor's refusal here; everything else still comes from the real registry.
//! Each connection carries one request (`Connection: close` both ways), which is all
//! oras's reads need.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

/// Harbor's answer to a catalog request from an account that may not list it.
const REFUSAL: &str = r#"{"errors":[{"code":"UNAUTHORIZED","message":"unauthorized to list catalog: unauthorized to list catalog"}]}"#;

/// The running proxy; dropping it stops accepting connections.
#[derive(Debug)]
pub struct CatalogRefusingProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    /// How many catalog requests it refused.
    refused: Arc<AtomicUsize>,
}

impl CatalogRefusingProxy {
    /// Starts a proxy on a free loopback port in front of `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> CatalogRefusingProxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicUsize::new(0));
        let (stopping, counting) = (Arc::clone(&stop), Arc::clone(&refused));
        thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let counting = Arc::clone(&counting);
                thread::spawn(move || {
                    let _ = serve(client, upstream, &counting);
                });
            }
        });
        CatalogRefusingProxy {
            port,
            stop,
            refused,
        }
    }

    /// `127.0.0.1:PORT`, as used in references.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// How many catalog requests were refused so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

impl Drop for CatalogRefusingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so that it sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
    }
}

/// One connection: one request, refused or passed through.
fn serve(client: TcpStream, upstream: u16, refused: &AtomicUsize) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head: Vec<String> = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let Some(request_line) = head.first() else {
        return Ok(());
    };
    let mut client = client;
    if request_line
        .split_whitespace()
        .nth(1)
        .is_some_and(|path| path.starts_with("/v2/_catalog"))
    {
        refused.fetch_add(1, Ordering::SeqCst);
        write!(
            client,
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json; charset=utf-8\r\n\
             Docker-Distribution-Api-Version: registry/2.0\r\n\
             Www-Authenticate: Basic realm=\"basic-realm\"\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{REFUSAL}",
            REFUSAL.len()
        )?;
        return client.shutdown(Shutdown::Both);
    }
    let length = head
        .iter()
        .find_map(|h| {
            let (name, value) = h.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<u64>().ok())?
        })
        .unwrap_or(0);
    let mut upstream = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream))?;
    let mut forwarded = String::new();
    for line in head
        .iter()
        .filter(|h| !h.to_ascii_lowercase().starts_with("connection:"))
    {
        forwarded.push_str(line);
        forwarded.push_str("\r\n");
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    upstream.write_all(forwarded.as_bytes())?;
    io::copy(&mut (&mut reader).take(length), &mut upstream)?;
    io::copy(&mut upstream, &mut client)?;
    client.shutdown(Shutdown::Both)
}
