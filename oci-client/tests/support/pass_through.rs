//! A TCP pass-through that counts the connections made through it: how many times a client
//! tried, whatever it spoke over them (TLS included).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards every connection to `127.0.0.1:<port>` to the upstream, byte for byte.
pub struct CountingPassThrough {
    host: String,
    connections: Arc<AtomicUsize>,
    accepting: JoinHandle<()>,
}

impl CountingPassThrough {
    /// Starts forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let connections = Arc::new(AtomicUsize::new(0));
        let (counted, upstream) = (Arc::clone(&connections), upstream.to_owned());
        let accepting = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self {
            host,
            connections,
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
}

impl Drop for CountingPassThrough {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}
