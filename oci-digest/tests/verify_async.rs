//! The async verifying adapters on a tokio runtime, fed through a real in-memory pipe.
#![cfg(feature = "async")]

use std::io;

use bytes::Bytes;
use futures_util::StreamExt;
use oci_digest::{Digest, DigestError, VerifyStreamError, VerifyingAsyncRead, VerifyingStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CONTENT: &[u8] = b"the quick brown fox jumps over the lazy dog";

fn digest_error(error: &io::Error) -> &DigestError {
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    DigestError::from_io(error).expect("a DigestError inside")
}

/// A pipe whose writer sends `content` in `piece`-sized writes from another task.
fn piped(content: &'static [u8], piece: usize) -> tokio::io::DuplexStream {
    let (mut writer, reader) = tokio::io::duplex(piece);
    tokio::spawn(async move {
        for chunk in content.chunks(piece) {
            if writer.write_all(chunk).await.is_err() {
                return; // The reader gave up, which some tests do on purpose.
            }
        }
    });
    reader
}

#[tokio::test]
async fn async_read_matching_content() {
    let size = Some(CONTENT.len() as u64);
    let mut reader =
        VerifyingAsyncRead::new(piped(CONTENT, 5), Digest::compute(CONTENT), size).unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.unwrap();
    assert_eq!(out, CONTENT);
    assert!(reader.is_verified());
    assert_eq!(reader.bytes_read(), CONTENT.len() as u64);
}

#[tokio::test]
async fn async_read_digest_mismatch() {
    let expected = Digest::compute(b"other");
    let mut reader = VerifyingAsyncRead::new(piped(CONTENT, 5), expected.clone(), None).unwrap();
    let error = reader.read_to_end(&mut Vec::new()).await.unwrap_err();
    assert_eq!(
        digest_error(&error),
        &DigestError::Mismatch {
            expected,
            found: Digest::compute(CONTENT),
        }
    );
    assert!(!reader.is_verified());
}

#[tokio::test]
async fn async_read_short_content() {
    let mut reader = VerifyingAsyncRead::new(CONTENT, Digest::compute(CONTENT), Some(100)).unwrap();
    let error = reader.read_to_end(&mut Vec::new()).await.unwrap_err();
    assert_eq!(
        digest_error(&error),
        &DigestError::SizeMismatch {
            expected: 100,
            found: CONTENT.len() as u64,
        }
    );
}

#[tokio::test]
async fn async_read_over_long_fails_early_and_hands_out_nothing_extra() {
    let mut reader =
        VerifyingAsyncRead::new(piped(CONTENT, 4), Digest::compute(&CONTENT[..10]), Some(10))
            .unwrap();
    let mut out = Vec::new();
    let error = reader.read_to_end(&mut out).await.unwrap_err();
    assert_eq!(
        digest_error(&error),
        &DigestError::SizeExceeded { expected: 10 }
    );
    assert!(out.len() <= 10, "{} bytes handed out", out.len());
    assert_eq!(out, &CONTENT[..out.len()]);
}

#[tokio::test]
async fn async_read_endless_content_fails_early() {
    let limit = 1 << 20;
    let mut reader =
        VerifyingAsyncRead::new(tokio::io::repeat(1), Digest::compute(b""), Some(limit)).unwrap();
    let error = tokio::io::copy(&mut reader, &mut tokio::io::sink())
        .await
        .unwrap_err();
    assert_eq!(
        digest_error(&error),
        &DigestError::SizeExceeded { expected: limit }
    );
}

fn chunks(pieces: &[&'static [u8]]) -> Vec<Result<Bytes, io::Error>> {
    pieces
        .iter()
        .map(|piece| Ok(Bytes::from_static(piece)))
        .collect()
}

async fn collect<S>(stream: S) -> Vec<Result<Bytes, VerifyStreamError<io::Error>>>
where
    S: futures_util::Stream<Item = Result<Bytes, VerifyStreamError<io::Error>>>,
{
    stream.collect().await
}

#[tokio::test]
async fn stream_matching_content() {
    let inner = futures_util::stream::iter(chunks(&[&CONTENT[..10], b"", &CONTENT[10..]]));
    let mut stream =
        VerifyingStream::new(inner, Digest::compute(CONTENT), Some(CONTENT.len() as u64)).unwrap();
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        out.extend_from_slice(&item.unwrap());
    }
    assert_eq!(out, CONTENT);
    assert!(stream.is_verified());
    assert!(futures_util::stream::FusedStream::is_terminated(&stream));
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn stream_digest_mismatch_is_the_last_item() {
    let inner = futures_util::stream::iter(chunks(&[&CONTENT[..10], &CONTENT[10..]]));
    let expected = Digest::compute(b"other");
    let items = collect(VerifyingStream::new(inner, expected.clone(), None).unwrap()).await;
    assert_eq!(items.len(), 3);
    assert!(items[..2].iter().all(Result::is_ok));
    match &items[2] {
        Err(VerifyStreamError::Verify(DigestError::Mismatch { expected: e, found })) => {
            assert_eq!(e, &expected);
            assert_eq!(found, &Digest::compute(CONTENT));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn stream_short_content() {
    let inner = futures_util::stream::iter(chunks(&[CONTENT]));
    let items =
        collect(VerifyingStream::new(inner, Digest::compute(CONTENT), Some(50)).unwrap()).await;
    assert!(matches!(
        items.last(),
        Some(Err(VerifyStreamError::Verify(DigestError::SizeMismatch {
            expected: 50,
            found: 43
        })))
    ));
}

#[tokio::test]
async fn stream_over_long_stops_at_the_offending_chunk() {
    // An endless stream: only failing early lets this test finish.
    let inner =
        futures_util::stream::repeat_with(|| Ok::<_, io::Error>(Bytes::from_static(b"0123456789")));
    let items = collect(VerifyingStream::new(inner, Digest::compute(b""), Some(25)).unwrap()).await;
    assert_eq!(items.len(), 3);
    assert!(items[..2].iter().all(Result::is_ok));
    assert!(matches!(
        items[2],
        Err(VerifyStreamError::Verify(DigestError::SizeExceeded {
            expected: 25
        }))
    ));
}

#[tokio::test]
async fn stream_passes_inner_errors_through() {
    let inner = futures_util::stream::iter(vec![
        Ok(Bytes::from_static(b"abc")),
        Err(io::Error::other("connection reset")),
    ]);
    let items = collect(VerifyingStream::new(inner, Digest::compute(b"abc"), None).unwrap()).await;
    assert!(
        matches!(&items[1], Err(VerifyStreamError::Inner(error)) if error.to_string() == "connection reset")
    );
    // The inner stream ended after its error, and the content so far matched.
    assert_eq!(items.len(), 2);
}
