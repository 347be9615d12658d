//! [`Digester`]: incremental hashing that ends in a [`Digest`].

use std::fmt;
use std::io::{self, Read, Write};

use sha2::Digest as _;

use crate::{Algorithm, Digest, DigestError};

/// Size of the buffer [`Digester::update_reader`] reads into: big enough that the hash, not
/// the system calls, sets the pace.
const READ_CHUNK: usize = 256 * 1024;

/// Incremental hasher for the computable [`Algorithm`]s.
///
/// Feed it with [`update`](Digester::update) (or as an [`io::Write`]), then
/// [`finish`](Digester::finish) it into a [`Digest`]. sha2 picks the fastest backend at run
/// time (SHA-NI on x86-64, the SHA2 extensions on AArch64). Its state can be saved and
/// restored, see [`save_state`](Digester::save_state).
#[derive(Clone)]
pub struct Digester {
    pub(crate) algorithm: Algorithm,
    pub(crate) hasher: Hasher,
    pub(crate) bytes_hashed: u64,
}

/// The sha2 hasher behind a [`Digester`].
#[derive(Clone)]
pub(crate) enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Digester {
    /// A digester for `algorithm`; [`Algorithm::Other`] gives
    /// [`DigestError::UnsupportedAlgorithm`].
    pub fn new(algorithm: &Algorithm) -> Result<Digester, DigestError> {
        let hasher = match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
            Algorithm::Other(name) => return Err(DigestError::UnsupportedAlgorithm(name.clone())),
        };
        Ok(Digester::from_hasher(hasher, 0))
    }

    /// A SHA-256 digester, the OCI default.
    pub fn sha256() -> Digester {
        Digester::from_hasher(Hasher::Sha256(sha2::Sha256::new()), 0)
    }

    pub(crate) fn from_hasher(hasher: Hasher, bytes_hashed: u64) -> Digester {
        let algorithm = match hasher {
            Hasher::Sha256(_) => Algorithm::Sha256,
            Hasher::Sha512(_) => Algorithm::Sha512,
        };
        Digester {
            algorithm,
            hasher,
            bytes_hashed,
        }
    }

    /// The algorithm this digester computes.
    pub fn algorithm(&self) -> &Algorithm {
        &self.algorithm
    }

    /// Hashes `data`.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.hasher {
            Hasher::Sha256(hasher) => hasher.update(data),
            Hasher::Sha512(hasher) => hasher.update(data),
        }
        self.bytes_hashed += data.len() as u64;
    }

    /// Reads `reader` to its end, hashing everything, and returns how many bytes it read.
    /// Reads in chunks; the content is never held whole.
    pub fn update_reader<R: Read>(&mut self, mut reader: R) -> io::Result<u64> {
        let mut buffer = vec![0; READ_CHUNK];
        let mut total = 0;
        loop {
            match reader.read(&mut buffer) {
                Ok(0) => return Ok(total),
                Ok(n) => {
                    self.update(&buffer[..n]);
                    total += n as u64;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// How many bytes have been hashed so far (including those before a restore).
    pub fn bytes_hashed(&self) -> u64 {
        self.bytes_hashed
    }

    /// Ends the hash and returns the digest.
    pub fn finish(self) -> Digest {
        let encoded = match self.hasher {
            Hasher::Sha256(hasher) => lower_hex(&hasher.finalize()),
            Hasher::Sha512(hasher) => lower_hex(&hasher.finalize()),
        };
        Digest::from_computed(self.algorithm, &encoded)
    }
}

impl Write for Digester {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for Digester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Digester")
            .field("algorithm", &self.algorithm)
            .field("bytes_hashed", &self.bytes_hashed)
            .finish_non_exhaustive()
    }
}

fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_equals_whole() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            let mut digester = Digester::new(&algorithm).unwrap();
            for chunk in data.chunks(333) {
                digester.update(chunk);
            }
            assert_eq!(digester.bytes_hashed(), data.len() as u64);
            assert_eq!(digester.algorithm(), &algorithm);
            let whole = Digest::compute_with(&algorithm, &data).unwrap();
            assert_eq!(digester.finish(), whole);
        }
    }

    #[test]
    fn other_algorithm_is_unsupported() {
        let result = Digester::new(&Algorithm::Other("blake3".into()));
        assert_eq!(
            result.err(),
            Some(DigestError::UnsupportedAlgorithm("blake3".into()))
        );
    }

    #[test]
    fn write_and_update_reader() {
        let mut written = Digester::sha256();
        written.write_all(b"hello ").unwrap();
        written.write_all(b"world").unwrap();
        written.flush().unwrap();

        let mut read = Digester::sha256();
        assert_eq!(read.update_reader(&b"hello world"[..]).unwrap(), 11);
        assert_eq!(written.finish(), read.finish());
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(lower_hex(&[0x00, 0xab, 0xff, 0x10]), "00abff10");
    }

    #[test]
    fn debug_shows_progress_not_state() {
        let mut digester = Digester::sha256();
        digester.update(b"abc");
        let text = format!("{digester:?}");
        assert!(text.contains("bytes_hashed: 3"), "{text}");
    }
}
