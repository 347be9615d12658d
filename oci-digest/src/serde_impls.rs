//! Serde support: [`Digest`] and [`Algorithm`] travel as their strings and are validated on
//! the way in.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::{Algorithm, Digest, DigestError};

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParsedStr::<Digest>(PhantomData))
    }
}

impl Serialize for Algorithm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Algorithm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParsedStr::<Algorithm>(PhantomData))
    }
}

/// Visits a string and parses it with `T::from_str`, borrowing when the format allows.
struct ParsedStr<T>(PhantomData<T>);

impl<T: FromStr<Err = DigestError>> Visitor<'_> for ParsedStr<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OCI digest string such as \"sha256:<64 hex digits>\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EMPTY_SHA256;

    #[test]
    fn digest_is_a_json_string() {
        let digest = Digest::parse(EMPTY_SHA256).unwrap();
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(json, format!("\"{EMPTY_SHA256}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), digest);
        // Escaped strings take the owned path.
        let escaped = json.replace("sha256", "sha\\u0032\\u00356");
        assert_eq!(serde_json::from_str::<Digest>(&escaped).unwrap(), digest);
    }

    #[test]
    fn invalid_digest_is_a_serde_error() {
        let error = serde_json::from_str::<Digest>("\"sha256:xyz\"").unwrap_err();
        assert!(error.to_string().contains("sha256:xyz"), "{error}");
        assert!(serde_json::from_str::<Digest>("42").is_err());
    }

    #[test]
    fn algorithm_is_a_json_string() {
        assert_eq!(
            serde_json::to_string(&Algorithm::Sha512).unwrap(),
            "\"sha512\""
        );
        assert_eq!(
            serde_json::from_str::<Algorithm>("\"sha256\"").unwrap(),
            Algorithm::Sha256
        );
        assert!(serde_json::from_str::<Algorithm>("\"SHA256\"").is_err());
    }
}
