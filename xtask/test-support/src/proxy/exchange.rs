//! One client connection through the proxy: its request read, matched against the faults,
//! logged, and then forwarded (whole or harmed) or answered by the proxy itself.

use std::io;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::wire::{self, Head, Request};
use super::{Action, Shared};

/// The pause between two pieces of a trickled answer: the fault itself (a slow link), not
/// a synchronisation.
const TRICKLE_PAUSE: Duration = Duration::from_millis(1);

/// A request counted in flight until its answer starts back (or the proxy gives up on it).
struct InFlight<'a> {
    shared: &'a Shared,
    counted: bool,
}

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.most_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight {
            shared,
            counted: true,
        }
    }

    /// Counted out before the answer leaves, so a client that waits for it sees the slot
    /// free.
    fn leave(&mut self) {
        if std::mem::take(&mut self.counted) {
            self.shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}

pub(super) async fn serve(mut client: TcpStream, shared: &Shared) -> io::Result<()> {
    let Some(request) = wire::read_request(&mut client).await? else {
        return Ok(());
    };
    let fault = shared.claim(&request.method, &request.path);
    shared.record(&request, fault.clone());
    let mut in_flight = InFlight::enter(shared);
    match fault {
        Some(Action::Cut { after }) if !request.is_read() => {
            cut_request(client, &request, &shared.upstream, after).await
        }
        Some(Action::Refuse {
            status,
            code,
            retry_after,
        }) => {
            wire::drain_body(&mut client, &request).await?;
            in_flight.leave();
            wire::refuse(&mut client, &request, status, code, retry_after).await
        }
        Some(Action::Stall) => {
            // Take whatever the client sends, answer nothing, end when it leaves.
            tokio::io::copy(&mut client, &mut tokio::io::sink()).await?;
            Ok(())
        }
        answer => forward(client, &request, shared, answer, in_flight).await,
    }
}

/// Sends the request upstream with `after` bytes of its body, then drops both connections.
async fn cut_request(
    mut client: TcpStream,
    request: &Request,
    upstream: &str,
    after: usize,
) -> io::Result<()> {
    let mut server = send_head(upstream, request).await?;
    let allowed = after.min(request.body_start.len());
    server.write_all(&request.body_start[..allowed]).await?;
    let mut rest = (&mut client).take((after - allowed) as u64);
    tokio::io::copy(&mut rest, &mut server).await?;
    // Dropping both sockets here breaks the exchange mid-way.
    Ok(())
}

/// Connects to the registry and sends the request's head.
async fn send_head(upstream: &str, request: &Request) -> io::Result<TcpStream> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&request.head).await?;
    Ok(server)
}

/// Forwards the request (its body streaming on meanwhile) and hands the registry's answer
/// back as `fault` says: whole when there is none.
async fn forward(
    client: TcpStream,
    request: &Request,
    shared: &Shared,
    fault: Option<Action>,
    mut in_flight: InFlight<'_>,
) -> io::Result<()> {
    let mut server = send_head(&shared.upstream, request).await?;
    server.write_all(&request.body_start).await?;
    if let Some(Action::Trickle { .. }) = fault {
        // Each piece leaves as a segment of its own instead of waiting to be coalesced.
        client.set_nodelay(true)?;
    }
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let body = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    });
    let answered = async {
        let Some(answer) = wire::read_head(&mut server_read).await? else {
            // The registry closed without answering: so does the proxy.
            return Ok(());
        };
        if let Some(Action::LoseAnswer { status }) = fault {
            // Let the registry finish the request before its answer is dropped.
            read_rest(&mut server_read).await?;
            in_flight.leave();
            return wire::refuse(&mut client_write, request, status, "UNKNOWN", None).await;
        }
        if let Some(Action::Overwrite { content_type, body }) = &fault {
            // The registry answers a manifest PUT once it is done, so the write has landed.
            let rest = read_rest(&mut server_read).await?;
            overwrite(&shared.upstream, &request.path, content_type, body).await?;
            in_flight.leave();
            client_write.write_all(&answer.head).await?;
            client_write.write_all(&answer.body_start).await?;
            return client_write.write_all(&rest).await;
        }
        in_flight.leave();
        pass_back(answer, &mut server_read, &mut client_write, fault).await
    }
    .await;
    body.abort();
    answered
}

/// Hands an answer whose head is read back to the client, harmed as `fault` says.
async fn pass_back(
    answer: Head,
    server: &mut OwnedReadHalf,
    client: &mut OwnedWriteHalf,
    fault: Option<Action>,
) -> io::Result<()> {
    let Head {
        head,
        mut body_start,
    } = answer;
    match fault {
        Some(Action::Cut { after }) => {
            client.write_all(&head).await?;
            let allowed = after.min(body_start.len());
            client.write_all(&body_start[..allowed]).await?;
            let mut rest = server.take((after - allowed) as u64);
            tokio::io::copy(&mut rest, client).await?;
            // Returning drops both connections mid-body.
            Ok(())
        }
        Some(Action::Corrupt) => {
            client.write_all(&head).await?;
            if body_start.is_empty() {
                let mut first = [0u8; 1];
                if server.read(&mut first).await? == 1 {
                    body_start.push(first[0]);
                }
            }
            if let Some(first) = body_start.first_mut() {
                *first ^= 0xff;
            }
            client.write_all(&body_start).await?;
            tokio::io::copy(server, client).await?;
            client.shutdown().await
        }
        Some(Action::Trickle { piece }) => {
            let piece = piece.max(1);
            let mut answer = head;
            answer.extend_from_slice(&body_start);
            for bytes in answer.chunks(piece) {
                trickle_piece(client, bytes).await?;
            }
            let mut buffer = vec![0u8; piece];
            loop {
                let read = server.read(&mut buffer).await?;
                if read == 0 {
                    return client.shutdown().await;
                }
                trickle_piece(client, &buffer[..read]).await?;
            }
        }
        _ => {
            client.write_all(&head).await?;
            client.write_all(&body_start).await?;
            tokio::io::copy(server, client).await?;
            client.shutdown().await
        }
    }
}

async fn trickle_piece(client: &mut OwnedWriteHalf, piece: &[u8]) -> io::Result<()> {
    client.write_all(piece).await?;
    client.flush().await?;
    tokio::time::sleep(TRICKLE_PAUSE).await;
    Ok(())
}

/// The rest of an answer, up to the registry closing the connection.
async fn read_rest(server: &mut OwnedReadHalf) -> io::Result<Vec<u8>> {
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).await?;
    Ok(rest)
}

/// Another writer's `PUT` of `body` to `path` on `upstream`; fails unless it succeeds.
async fn overwrite(upstream: &str, path: &str, content_type: &str, body: &[u8]) -> io::Result<()> {
    let mut server = TcpStream::connect(upstream).await?;
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {upstream}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    server.write_all(head.as_bytes()).await?;
    server.write_all(body).await?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).await?;
    let status = wire::status_of(&answer);
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "the other writer's PUT {path} answered {status}"
        )))
    }
}
