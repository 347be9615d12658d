//! Saving and restoring a [`Digester`]'s state, so hashing can resume in another process
//! (a registry resuming a chunked upload after a restart).
//!
//! The saved blob is:
//!
//! | bytes | content |
//! |---|---|
//! | 6 | magic `OCIDS` and format version `1` |
//! | 1 | length of the algorithm name |
//! | n | algorithm name, e.g. `sha256` |
//! | 8 | bytes hashed so far, little-endian |
//! | rest | sha2's own serialised state (`SerializableState`) |
//!
//! sha2 0.11 promises that its serialised state stays readable across 0.11.x releases.
//! On restore, the block counter inside sha2's state is checked against the bytes-hashed
//! field, which catches corruption and keeps later length arithmetic inside sha2 from
//! overflowing on a crafted blob.

use sha2::digest::common::hazmat::{SerializableState, SerializedState};

use crate::digester::Hasher;
use crate::{Algorithm, DigestError, Digester};

const MAGIC: &[u8; 6] = b"OCIDS\x01";

/// SHA-2 limits a message to 2^64 bits; sha2 multiplies the byte count by 8 when finishing.
const MAX_MESSAGE_BYTES: u64 = 1 << 61;

/// Where sha2 0.11 keeps the block counter and the buffered-byte count in its state.
struct StateLayout {
    /// Size of the chaining value, which comes first.
    chaining_len: usize,
    /// Size of the little-endian count of compressed blocks that follows it.
    counter_len: usize,
    /// Block size; after the counter comes one byte with the number of buffered bytes.
    block_len: u64,
}

const SHA256_LAYOUT: StateLayout = StateLayout {
    chaining_len: 32,
    counter_len: 8,
    block_len: 64,
};
const SHA512_LAYOUT: StateLayout = StateLayout {
    chaining_len: 64,
    counter_len: 16,
    block_len: 128,
};

impl StateLayout {
    /// The number of bytes hashed that `state` records, if it can be read.
    fn bytes_hashed(&self, state: &[u8]) -> Option<u128> {
        let counter = state.get(self.chaining_len..self.chaining_len + self.counter_len)?;
        let mut le = [0u8; 16];
        le[..counter.len()].copy_from_slice(counter);
        let blocks = u128::from_le_bytes(le);
        let buffered = *state.get(self.chaining_len + self.counter_len)?;
        blocks
            .checked_mul(u128::from(self.block_len))?
            .checked_add(u128::from(buffered))
    }
}

impl Digester {
    /// Saves the hashing state as an opaque blob for [`Digester::restore_state`].
    ///
    /// The blob holds the algorithm and the number of bytes hashed. It reveals a little
    /// about the data hashed so far (like any unfinished hash state): store it as you would
    /// store the partial upload itself.
    pub fn save_state(&self) -> Vec<u8> {
        let name = self.algorithm.as_str().as_bytes();
        let hasher_state = match &self.hasher {
            Hasher::Sha256(hasher) => hasher.serialize().to_vec(),
            Hasher::Sha512(hasher) => hasher.serialize().to_vec(),
        };
        let mut blob = Vec::with_capacity(MAGIC.len() + 1 + name.len() + 8 + hasher_state.len());
        blob.extend_from_slice(MAGIC);
        // Algorithm names of computable algorithms are a handful of bytes.
        blob.push(name.len() as u8);
        blob.extend_from_slice(name);
        blob.extend_from_slice(&self.bytes_hashed.to_le_bytes());
        blob.extend_from_slice(&hasher_state);
        blob
    }

    /// Rebuilds a digester from a [`save_state`](Digester::save_state) blob.
    ///
    /// Fails with [`DigestError::UnsupportedAlgorithm`] when `algorithm` is not computable, and
    /// with [`DigestError::InvalidState`] when the blob is damaged, truncated, of another
    /// format, or was saved for another algorithm than `algorithm`.
    pub fn restore_state(algorithm: &Algorithm, state: &[u8]) -> Result<Digester, DigestError> {
        // Refuse what we cannot compute before looking at the blob at all.
        Digester::new(algorithm)?;
        let invalid = || DigestError::InvalidState;

        let rest = state.strip_prefix(MAGIC.as_slice()).ok_or_else(invalid)?;
        let (&name_len, rest) = rest.split_first().ok_or_else(invalid)?;
        let (name, rest) = rest
            .split_at_checked(usize::from(name_len))
            .ok_or_else(invalid)?;
        if name != algorithm.as_str().as_bytes() {
            return Err(invalid());
        }
        let (bytes_hashed, hasher_state) = rest.split_first_chunk::<8>().ok_or_else(invalid)?;
        let bytes_hashed = u64::from_le_bytes(*bytes_hashed);
        if bytes_hashed >= MAX_MESSAGE_BYTES {
            return Err(invalid());
        }

        let (hasher, layout) = match algorithm {
            Algorithm::Sha256 => (Hasher::Sha256(deserialize(hasher_state)?), SHA256_LAYOUT),
            Algorithm::Sha512 => (Hasher::Sha512(deserialize(hasher_state)?), SHA512_LAYOUT),
            Algorithm::Other(name) => return Err(DigestError::UnsupportedAlgorithm(name.clone())),
        };
        if layout.bytes_hashed(hasher_state) != Some(u128::from(bytes_hashed)) {
            return Err(invalid());
        }
        Ok(Digester::from_hasher(hasher, bytes_hashed))
    }
}

/// Reads sha2's state for hasher `H`, which must be exactly the right size.
fn deserialize<H: SerializableState>(raw: &[u8]) -> Result<H, DigestError> {
    let state = <&SerializedState<H>>::try_from(raw).map_err(|_| DigestError::InvalidState)?;
    H::deserialize(state).map_err(|_| DigestError::InvalidState)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Digest;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 256) as u8).collect()
    }

    #[test]
    fn resume_gives_the_same_digest_at_every_split() {
        let data = data(700);
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            let whole = Digest::compute_with(&algorithm, &data).unwrap();
            // Splits around block edges and inside blocks.
            for split in [0, 1, 63, 64, 65, 127, 128, 129, 500, 700] {
                let mut first = Digester::new(&algorithm).unwrap();
                first.update(&data[..split]);
                let blob = first.save_state();
                let mut second = Digester::restore_state(&algorithm, &blob).unwrap();
                assert_eq!(second.bytes_hashed(), split as u64);
                second.update(&data[split..]);
                assert_eq!(second.finish(), whole, "{algorithm} split at {split}");
            }
        }
    }

    #[test]
    fn wrong_algorithm_is_refused() {
        let blob = Digester::sha256().save_state();
        assert_eq!(
            Digester::restore_state(&Algorithm::Sha512, &blob).err(),
            Some(DigestError::InvalidState)
        );
        assert_eq!(
            Digester::restore_state(&Algorithm::Other("blake3".into()), &blob).err(),
            Some(DigestError::UnsupportedAlgorithm("blake3".into()))
        );
    }

    #[test]
    fn damaged_blobs_are_refused() {
        let mut digester = Digester::sha256();
        digester.update(&data(100));
        let blob = digester.save_state();
        let restore = |bytes: &[u8]| Digester::restore_state(&Algorithm::Sha256, bytes).err();

        for cut in [0, 3, 6, 7, 13, 20, blob.len() - 1] {
            assert_eq!(
                restore(&blob[..cut]),
                Some(DigestError::InvalidState),
                "cut {cut}"
            );
        }
        let mut longer = blob.clone();
        longer.push(0);
        assert_eq!(restore(&longer), Some(DigestError::InvalidState));

        let mut bad_magic = blob.clone();
        bad_magic[0] ^= 1;
        assert_eq!(restore(&bad_magic), Some(DigestError::InvalidState));

        let bytes_hashed_at = MAGIC.len() + 1 + "sha256".len();
        let mut lying_count = blob.clone();
        lying_count[bytes_hashed_at] ^= 1;
        assert_eq!(restore(&lying_count), Some(DigestError::InvalidState));

        let counter_at = bytes_hashed_at + 8 + SHA256_LAYOUT.chaining_len;
        let mut huge_counter = blob.clone();
        huge_counter[counter_at..counter_at + 8].fill(0xff);
        assert_eq!(restore(&huge_counter), Some(DigestError::InvalidState));

        let buffered_at = counter_at + SHA256_LAYOUT.counter_len;
        let mut bad_buffer = blob.clone();
        bad_buffer[buffered_at] = 200;
        assert_eq!(restore(&bad_buffer), Some(DigestError::InvalidState));

        assert!(restore(&blob).is_none());
    }

    #[test]
    fn oversized_count_is_refused_even_when_consistent() {
        let mut blob = Digester::sha256().save_state();
        let bytes_hashed_at = MAGIC.len() + 1 + "sha256".len();
        blob[bytes_hashed_at..bytes_hashed_at + 8]
            .copy_from_slice(&MAX_MESSAGE_BYTES.to_le_bytes());
        let counter_at = bytes_hashed_at + 8 + SHA256_LAYOUT.chaining_len;
        blob[counter_at..counter_at + 8].copy_from_slice(&(MAX_MESSAGE_BYTES / 64).to_le_bytes());
        assert_eq!(
            Digester::restore_state(&Algorithm::Sha256, &blob).err(),
            Some(DigestError::InvalidState)
        );
    }
}
