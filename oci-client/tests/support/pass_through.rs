//! A TCP pass-through that counts the connections made through it (how many times a client
//! tried, whatever it spoke over them, TLS included) and notes which HTTP versions each TLS
//! connection's `ClientHello` offered by ALPN (sent in the clear, before encryption starts).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The TLS record type of a handshake, and the handshake type of a `ClientHello`.
const HANDSHAKE: u8 = 0x16;
const CLIENT_HELLO: u8 = 0x01;
/// The ALPN extension's type.
const ALPN: u16 = 16;

/// Forwards every connection to `127.0.0.1:<port>` to the upstream, byte for byte.
pub struct CountingPassThrough {
    host: String,
    connections: Arc<AtomicUsize>,
    offers: Arc<Mutex<Vec<Vec<String>>>>,
    accepting: JoinHandle<()>,
}

impl CountingPassThrough {
    /// Starts forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let connections = Arc::new(AtomicUsize::new(0));
        let offers = Arc::new(Mutex::new(Vec::new()));
        let (counted, noted) = (Arc::clone(&connections), Arc::clone(&offers));
        let upstream = upstream.to_owned();
        let accepting = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let (upstream, noted) = (upstream.clone(), Arc::clone(&noted));
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let Ok(first) = first_record(&mut client).await else {
                        return;
                    };
                    if let Some(offered) = alpn_offered(&first) {
                        noted.lock().unwrap().push(offered);
                    }
                    if server.write_all(&first).await.is_ok() {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self {
            host,
            connections,
            offers,
            accepting,
        }
    }

    /// `127.0.0.1:<port>`, to reach the upstream through.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// For each TLS connection so far, the protocols its `ClientHello` offered by ALPN
    /// (empty when it offered none).
    pub fn alpn_offers(&self) -> Vec<Vec<String>> {
        self.offers.lock().unwrap().clone()
    }
}

impl Drop for CountingPassThrough {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// The connection's first 5 bytes and, when they head a TLS handshake record, the rest of
/// that record (which holds the `ClientHello`).
async fn first_record(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut record = vec![0; 5];
    client.read_exact(&mut record).await?;
    if record[0] == HANDSHAKE {
        let length = usize::from(u16::from_be_bytes([record[3], record[4]]));
        record.resize(5 + length, 0);
        client.read_exact(&mut record[5..]).await?;
    }
    Ok(record)
}

/// The ALPN protocols a TLS record holding a `ClientHello` offers; `None` for anything else.
fn alpn_offered(record: &[u8]) -> Option<Vec<String>> {
    let mut hello = Reader(record.get(5..)?);
    if record[0] != HANDSHAKE || hello.u8()? != CLIENT_HELLO {
        return None;
    }
    hello.take(3 + 2 + 32)?; // handshake length, legacy version, random
    let session_id = usize::from(hello.u8()?);
    hello.take(session_id)?;
    let suites = usize::from(hello.u16()?);
    hello.take(suites)?;
    let compressions = usize::from(hello.u8()?);
    hello.take(compressions)?;
    let extensions_length = usize::from(hello.u16()?);
    let mut extensions = Reader(hello.take(extensions_length)?);
    while let Some(kind) = extensions.u16() {
        let length = usize::from(extensions.u16()?);
        let mut data = Reader(extensions.take(length)?);
        if kind != ALPN {
            continue;
        }
        let list_length = usize::from(data.u16()?);
        let mut list = Reader(data.take(list_length)?);
        let mut protocols = Vec::new();
        while let Some(name_length) = list.u8() {
            let name = list.take(usize::from(name_length))?;
            protocols.push(String::from_utf8_lossy(name).into_owned());
        }
        return Some(protocols);
    }
    Some(Vec::new())
}

/// Reads big-endian fields off the front of a byte slice; `None` past its end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.0.split_at_checked(count)?;
        self.0 = rest;
        Some(taken)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u16(&mut self) -> Option<u16> {
        let bytes = self.take(2)?;
        Some(u16::from_be_bytes([bytes[0], bytes[1]]))
    }
}
