//! A parsed value kept together with the exact bytes it was parsed from.

use std::ops::Deref;
use std::sync::OnceLock;

use bytes::Bytes;
use oci_digest::Digest;

/// A value parsed from JSON, with the bytes it came from.
///
/// The bytes are what gets stored, served and hashed: re-serialising the value could
/// reorder fields or change whitespace and so give the content a new digest. The value is
/// reachable through `Deref`, so `parsed.layers` reads a field of the manifest.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    value: T,
    raw: Bytes,
    digest: OnceLock<Digest>,
}

impl<T> Parsed<T> {
    /// Pairs a value with the bytes it was parsed from. The caller guarantees the pairing.
    pub(crate) fn new(value: T, raw: Bytes) -> Self {
        Parsed {
            value,
            raw,
            digest: OnceLock::new(),
        }
    }

    /// The exact bytes the value was parsed from.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// SHA-256 digest of [`raw`](Self::raw), computed once on first use.
    pub fn digest(&self) -> &Digest {
        self.digest.get_or_init(|| Digest::compute(&self.raw))
    }

    /// The parsed value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The value and the bytes, taken apart.
    pub fn into_parts(self) -> (T, Bytes) {
        (self.value, self.raw)
    }
}

impl<T> Deref for Parsed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// Equal when both the bytes and the values are; whether the digest was computed yet
/// does not matter.
impl<T: PartialEq> PartialEq for Parsed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw && self.value == other.value
    }
}

impl<T: Eq> Eq for Parsed<T> {}
