//! Platforms (`os/arch[/variant]`): parsing, normalisation and matching.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::PlatformError;

/// The platform an image runs on, as in an index entry or an image configuration. Fields
/// it does not know are kept in [`extra`](Self::extra); [`matches`](Self::matches) ignores
/// them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture in Go's naming: `amd64`, `arm64`, `arm`, `386`, `ppc64le`, `s390x`, ...
    pub architecture: String,
    /// Operating system in Go's naming: `linux`, `windows`, ...
    pub os: String,
    /// Operating system version, e.g. `10.0.17763.1879` for Windows.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required operating system features, e.g. `win32k`.
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    /// CPU variant, e.g. `v7` for `arm` or `v8` for `arm64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Reserved by the OCI spec; Docker manifest lists may carry CPU features here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// Fields this crate does not know, kept so they survive a round-trip.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Platform {
    /// A platform with just an operating system and an architecture, normalised
    /// (e.g. `x86_64` becomes `amd64`).
    pub fn new(os: &str, architecture: &str) -> Self {
        let (architecture, variant) = normalize_architecture(architecture, None);
        Platform {
            os: os.to_ascii_lowercase(),
            architecture,
            variant,
            ..Platform::default()
        }
    }

    /// The platform this program was compiled for (without a CPU variant).
    pub fn host() -> Self {
        Platform::new(std::env::consts::OS, std::env::consts::ARCH)
    }

    /// The variant, or the variant the architecture implies when none is written:
    /// `v8` for `arm64`, `v7` for `arm`, `v1` for `amd64`.
    pub fn effective_variant(&self) -> Option<String> {
        let (architecture, variant) =
            normalize_architecture(&self.architecture, self.variant.as_deref());
        variant.or_else(|| default_variant(&architecture).map(str::to_owned))
    }

    /// Whether an image built for `self` satisfies a request for `wanted`.
    ///
    /// The OS and the architecture must agree after normalisation, and so must the
    /// variants, a missing one standing for the architecture's default (so `linux/arm64`
    /// matches `linux/arm64/v8`, but `linux/arm` does not match `linux/arm/v6`). When
    /// `wanted` names an OS version or OS features, `self` must have them too.
    pub fn matches(&self, wanted: &Platform) -> bool {
        let (own_arch, _) = normalize_architecture(&self.architecture, None);
        let (wanted_arch, _) = normalize_architecture(&wanted.architecture, None);
        let os_version_ok = wanted.os_version.is_none() || wanted.os_version == self.os_version;
        let os_features_ok = wanted
            .os_features
            .iter()
            .flatten()
            .all(|feature| self.os_features.iter().flatten().any(|own| own == feature));
        self.os.eq_ignore_ascii_case(&wanted.os)
            && own_arch == wanted_arch
            && self.effective_variant() == wanted.effective_variant()
            && os_version_ok
            && os_features_ok
    }
}

/// Maps the usual aliases to Go's architecture names and spells variants as `v<N>`.
/// An alias may imply a variant (`armhf` is `arm/v7`), which an explicit one overrides.
fn normalize_architecture(architecture: &str, variant: Option<&str>) -> (String, Option<String>) {
    let lower = architecture.to_ascii_lowercase();
    let (name, implied) = match lower.as_str() {
        "x86_64" | "x86-64" => ("amd64", None),
        "aarch64" => ("arm64", None),
        "armhf" => ("arm", Some("v7")),
        "armel" => ("arm", Some("v6")),
        "i386" | "i686" | "x86" => ("386", None),
        other => (other, None),
    };
    let variant = variant
        .map(str::to_ascii_lowercase)
        .or(implied.map(str::to_owned));
    let variant = match (name, variant) {
        ("arm" | "arm64", Some(digits)) if digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(format!("v{digits}"))
        }
        (_, variant) => variant,
    };
    (name.to_owned(), variant)
}

/// The variant an architecture stands for when none is given.
fn default_variant(architecture: &str) -> Option<&'static str> {
    match architecture {
        "arm64" => Some("v8"),
        "arm" => Some("v7"),
        "amd64" => Some("v1"),
        _ => None,
    }
}

/// Whether a component of `os/arch/variant` is made of the characters Go and
/// Docker use there.
fn is_component(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

impl FromStr for Platform {
    type Err = PlatformError;

    /// Parses `os/arch[/variant]`, normalising case and architecture aliases.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let malformed = || PlatformError::Malformed {
            input: input.to_owned(),
        };
        let parts: Vec<&str> = input.split('/').collect();
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(|part| is_component(part)) {
            return Err(malformed());
        }
        let (architecture, variant) = normalize_architecture(parts[1], parts.get(2).copied());
        Ok(Platform {
            os: parts[0].to_ascii_lowercase(),
            architecture,
            variant,
            ..Platform::default()
        })
    }
}

impl fmt::Display for Platform {
    /// Writes `os/arch[/variant]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(variant) => write!(f, "/{variant}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(text: &str) -> Platform {
        text.parse().unwrap()
    }

    #[test]
    fn parsing_normalises_aliases_and_variants() {
        assert_eq!(platform("Linux/x86_64"), Platform::new("linux", "amd64"));
        assert_eq!(platform("linux/aarch64/8").variant.as_deref(), Some("v8"));
        assert_eq!(platform("linux/armhf").to_string(), "linux/arm/v7");
        assert_eq!(platform("linux/armhf/v6").to_string(), "linux/arm/v6");
        assert_eq!(platform("windows/amd64").to_string(), "windows/amd64");
    }

    #[test]
    fn malformed_platforms_are_refused() {
        for bad in [
            "",
            "linux",
            "linux/",
            "/amd64",
            "linux/arm/v7/x",
            "linux/am d64",
            "linux//v7",
        ] {
            assert_eq!(
                bad.parse::<Platform>(),
                Err(PlatformError::Malformed { input: bad.into() })
            );
        }
    }

    #[test]
    fn a_missing_variant_stands_for_the_default() {
        assert!(platform("linux/arm64/v8").matches(&platform("linux/arm64")));
        assert!(platform("linux/arm64").matches(&platform("linux/arm64/v8")));
        assert!(platform("linux/arm").matches(&platform("linux/arm/v7")));
        assert!(!platform("linux/arm/v6").matches(&platform("linux/arm")));
        assert!(!platform("linux/amd64/v3").matches(&platform("linux/amd64")));
        assert!(!platform("linux/amd64").matches(&platform("linux/arm64")));
        assert!(!platform("windows/amd64").matches(&platform("linux/amd64")));
    }

    #[test]
    fn os_version_and_features_are_required_only_when_wanted() {
        let mut server = platform("windows/amd64");
        server.os_version = Some("10.0.17763.1879".into());
        server.os_features = Some(vec!["win32k".into()]);
        assert!(server.matches(&platform("windows/amd64")));
        let mut wanted = platform("windows/amd64");
        wanted.os_features = Some(vec!["win32k".into()]);
        assert!(server.matches(&wanted));
        wanted.os_version = Some("10.0.20348.1".into());
        assert!(!server.matches(&wanted));
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let text = r#"{"architecture":"amd64","os":"linux","x-vendor":{"tier":2}}"#;
        let platform: Platform = serde_json::from_str(text).unwrap();
        assert_eq!(platform.extra["x-vendor"]["tier"], 2);
        assert!(platform.matches(&Platform::new("linux", "amd64")));
        assert_eq!(serde_json::to_string(&platform).unwrap(), text);
    }

    #[test]
    fn serde_uses_the_dotted_names() {
        let json = r#"{"architecture":"amd64","os":"windows","os.version":"10.0","os.features":["win32k"]}"#;
        let parsed: Platform = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.os_version.as_deref(), Some("10.0"));
        assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
    }
}
