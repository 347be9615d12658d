//! The blocking verifying reader against real readers: byte slices, an endless reader and a file.

use std::io::{self, Read, Write};

use oci_digest::{Algorithm, Digest, DigestError, VerifyingReader};

const CONTENT: &[u8] = b"the quick brown fox jumps over the lazy dog";

fn digest_error(error: &io::Error) -> &DigestError {
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    DigestError::from_io(error).expect("a DigestError inside")
}

/// Reads with a small buffer, so content arrives over many reads.
fn read_in_pieces<R: Read>(reader: &mut R, piece: usize) -> (Vec<u8>, io::Result<()>) {
    let mut out = Vec::new();
    let mut buffer = vec![0; piece];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return (out, Ok(())),
            Ok(n) => out.extend_from_slice(&buffer[..n]),
            Err(error) => return (out, Err(error)),
        }
    }
}

#[test]
fn matching_content_passes_through() {
    for size in [Some(CONTENT.len() as u64), None] {
        let mut reader = VerifyingReader::new(CONTENT, Digest::compute(CONTENT), size).unwrap();
        let (out, outcome) = read_in_pieces(&mut reader, 5);
        outcome.unwrap();
        assert_eq!(out, CONTENT);
        assert!(reader.is_verified());
        assert_eq!(reader.bytes_read(), CONTENT.len() as u64);
        // End-of-stream keeps being reported.
        assert_eq!(reader.read(&mut [0; 8]).unwrap(), 0);
    }
}

#[test]
fn sha512_content_verifies() {
    let expected = Digest::compute_with(&Algorithm::Sha512, CONTENT).unwrap();
    let mut reader = VerifyingReader::new(CONTENT, expected, None).unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    assert!(reader.is_verified());
}

#[test]
fn digest_mismatch_fails_at_the_end() {
    let expected = Digest::compute(b"something else entirely, same length as nothing");
    let mut reader = VerifyingReader::new(CONTENT, expected.clone(), None).unwrap();
    let (out, outcome) = read_in_pieces(&mut reader, 7);
    assert_eq!(out, CONTENT, "all content is handed out before the verdict");
    let error = outcome.unwrap_err();
    assert_eq!(
        digest_error(&error),
        &DigestError::Mismatch {
            expected,
            found: Digest::compute(CONTENT),
        }
    );
    assert!(!reader.is_verified());
    // The verdict sticks.
    let again = reader.read(&mut [0; 8]).unwrap_err();
    assert!(matches!(digest_error(&again), DigestError::Mismatch { .. }));
}

#[test]
fn short_content_fails_with_size_mismatch() {
    let expected_size = CONTENT.len() as u64 + 10;
    let mut reader =
        VerifyingReader::new(CONTENT, Digest::compute(CONTENT), Some(expected_size)).unwrap();
    let error = reader.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(
        digest_error(&error),
        &DigestError::SizeMismatch {
            expected: expected_size,
            found: CONTENT.len() as u64,
        }
    );
}

#[test]
fn over_long_content_fails_on_the_read_that_crosses_the_size() {
    // 43 bytes against a limit of 10, read 4 at a time: 4 + 4 pass, the read reaching 12 fails.
    let mut reader =
        VerifyingReader::new(CONTENT, Digest::compute(&CONTENT[..10]), Some(10)).unwrap();
    let (out, outcome) = read_in_pieces(&mut reader, 4);
    assert_eq!(out, &CONTENT[..8]);
    assert_eq!(
        digest_error(&outcome.unwrap_err()),
        &DigestError::SizeExceeded { expected: 10 }
    );
    assert_eq!(reader.bytes_read(), 8);
}

#[test]
fn endless_content_fails_early_instead_of_running_forever() {
    let limit = 1 << 20;
    let mut reader =
        VerifyingReader::new(io::repeat(7), Digest::compute(b""), Some(limit)).unwrap();
    let error = io::copy(&mut reader, &mut io::sink()).unwrap_err();
    assert_eq!(
        digest_error(&error),
        &DigestError::SizeExceeded { expected: limit }
    );
    assert!(reader.bytes_read() <= limit);
}

#[test]
fn empty_buffer_is_not_end_of_stream() {
    let mut reader = VerifyingReader::new(CONTENT, Digest::compute(CONTENT), None).unwrap();
    assert_eq!(reader.read(&mut []).unwrap(), 0);
    assert!(!reader.is_verified());
    reader.read_to_end(&mut Vec::new()).unwrap();
    assert!(reader.is_verified());
}

#[test]
fn uncomputable_algorithm_is_refused_up_front() {
    let expected = Digest::parse("blake3:abcdef").unwrap();
    let result = VerifyingReader::new(CONTENT, expected, None);
    assert_eq!(
        result.err(),
        Some(DigestError::UnsupportedAlgorithm("blake3".into()))
    );
}

#[test]
fn a_file_streams_through() {
    let mut file = tempfile::tempfile().unwrap();
    let block: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
    let mut whole = oci_digest::Digester::sha256();
    for _ in 0..48 {
        file.write_all(&block).unwrap();
        whole.update(&block);
    }
    let size = whole.bytes_hashed();
    let expected = whole.finish();
    io::Seek::rewind(&mut file).unwrap();

    let mut reader = VerifyingReader::new(file, expected, Some(size)).unwrap();
    assert_eq!(io::copy(&mut reader, &mut io::sink()).unwrap(), size);
    assert!(reader.is_verified());
}
