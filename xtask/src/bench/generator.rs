//! Blob content made on the fly: a 1 MiB pseudo-random block, repeated.
//!
//! A benchmark blob is never held in memory: its bytes are slices of one shared block, handed out
//! as they are sent. The seed picks the block, so every run pushes a blob with its own digest.
//! Pushing hashes the bytes as they leave ([`hashing_body`]), as a real client would.

use std::convert::Infallible;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures_util::StreamExt;
use oci_digest::{Digest, Digester};

/// Length of the repeated block, and so the largest chunk handed out.
const BLOCK_LEN: usize = 1024 * 1024;

/// The content of one benchmark blob, of any length.
#[derive(Debug, Clone)]
pub struct Pattern {
    block: Bytes,
}

impl Pattern {
    /// The pattern for `seed` (xorshift64*, which is plenty for content nobody compresses).
    pub fn new(seed: u64) -> Pattern {
        let mut state = seed | 1;
        let mut block = Vec::with_capacity(BLOCK_LEN);
        while block.len() < BLOCK_LEN {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            block.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
        }
        Pattern {
            block: Bytes::from(block),
        }
    }

    /// The bytes at offsets `range` of the blob, as chunks of at most 1 MiB that share the block.
    pub fn chunks(&self, range: Range<u64>) -> Chunks {
        Chunks {
            block: self.block.clone(),
            next: range.start,
            end: range.end,
        }
    }
}

/// Iterator over a range of a [`Pattern`]; see [`Pattern::chunks`].
#[derive(Debug)]
pub struct Chunks {
    block: Bytes,
    next: u64,
    end: u64,
}

impl Iterator for Chunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.next >= self.end {
            return None;
        }
        let block_len = self.block.len() as u64;
        let start = self.next % block_len;
        let len = (block_len - start).min(self.end - self.next);
        self.next += len;
        // Both bounds are below `BLOCK_LEN`, so the casts cannot truncate.
        Some(self.block.slice(start as usize..(start + len) as usize))
    }
}

/// A digest computed across several request bodies, as they are sent.
#[derive(Debug, Clone)]
pub struct SharedDigester(Arc<Mutex<Digester>>);

impl SharedDigester {
    /// A fresh SHA-256 digester.
    pub fn sha256() -> SharedDigester {
        SharedDigester(Arc::new(Mutex::new(Digester::sha256())))
    }

    fn update(&self, chunk: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .update(chunk);
    }

    /// The digest of everything hashed so far.
    pub fn digest(&self) -> Digest {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .finish()
    }
}

/// A streaming request body of `chunks` that feeds every chunk to `digester` as it is sent.
pub fn hashing_body(chunks: Chunks, digester: SharedDigester) -> reqwest::Body {
    let stream = futures_util::stream::iter(chunks).map(move |chunk| {
        digester.update(&chunk);
        Ok::<_, Infallible>(chunk)
    });
    reqwest::Body::wrap_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(pattern: &Pattern, range: Range<u64>) -> Vec<u8> {
        pattern
            .chunks(range)
            .flat_map(|chunk| chunk.to_vec())
            .collect()
    }

    #[test]
    fn ranges_join_into_the_whole_blob() {
        let pattern = Pattern::new(7);
        let len = 3 * BLOCK_LEN as u64 + 12_345;
        let whole = collect(&pattern, 0..len);
        assert_eq!(whole.len() as u64, len);
        let cut = BLOCK_LEN as u64 + 99;
        let mut joined = collect(&pattern, 0..cut);
        joined.extend(collect(&pattern, cut..len));
        assert_eq!(joined, whole);
        assert!(pattern.chunks(0..len).all(|chunk| chunk.len() <= BLOCK_LEN));
        assert!(collect(&pattern, 5..5).is_empty());
    }

    #[test]
    fn seeds_give_different_blobs() {
        let a = collect(&Pattern::new(1), 0..4096);
        let b = collect(&Pattern::new(2), 0..4096);
        assert_ne!(a, b);
        assert_eq!(
            a,
            collect(&Pattern::new(1), 0..4096),
            "same seed, same bytes"
        );
    }

    #[test]
    fn shared_digester_hashes_across_pieces() {
        let pattern = Pattern::new(3);
        let digester = SharedDigester::sha256();
        for chunk in pattern.chunks(0..5000) {
            digester.update(&chunk);
        }
        assert_eq!(
            digester.digest(),
            Digest::compute(&collect(&pattern, 0..5000))
        );
    }
}
