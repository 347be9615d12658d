//! Turning bytes plus a `Content-Type` into a [`Manifest`], strictly or leniently.

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::ManifestError;
use crate::manifest::Manifest;
use crate::manifest::docker::is_schema1;
use crate::manifest::parsed::Parsed;
use crate::manifest::validate::validate_descriptors;
use crate::media_type::MediaType;

/// How much a parse forgives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// For manifests a client pushes: everything the specs require is checked.
    Strict,
    /// For manifests already stored: anything the types can hold is accepted.
    Lenient,
}

/// The few top-level fields that decide what kind of manifest the bytes are. Reading
/// them first keeps kind detection apart from the full parse.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Probe {
    pub(crate) schema_version: Option<serde_json::Value>,
    pub(crate) media_type: Option<MediaType>,
    config: Option<IgnoredAny>,
    layers: Option<IgnoredAny>,
    manifests: Option<IgnoredAny>,
    pub(crate) fs_layers: Option<IgnoredAny>,
}

impl Probe {
    fn has_image_fields(&self) -> bool {
        self.config.is_some() || self.layers.is_some()
    }
}

/// Parses `bytes` as a manifest in the given mode. Never panics: serde_json's recursion
/// limit turns deep nesting into an error rather than a stack overflow.
pub(crate) fn parse(
    bytes: Bytes,
    content_type: Option<&str>,
    mode: Mode,
) -> Result<Manifest, ManifestError> {
    let probe = probe(&bytes)?;
    let content_type = content_type
        .map(MediaType::from_content_type)
        .filter(|media_type| !is_generic(media_type));
    if is_schema1(&probe, content_type.as_ref()) {
        return Err(ManifestError::Schema1Unsupported);
    }
    let kind = match mode {
        Mode::Strict => {
            let kind = strict_kind(&probe, content_type)?;
            check_schema_version(&probe)?;
            kind
        }
        Mode::Lenient => lenient_kind(&probe, content_type)?,
    };
    let manifest = match kind {
        MediaType::OciImageIndex => Manifest::Index(typed(bytes)?),
        MediaType::DockerManifestList => Manifest::DockerList(typed(bytes)?),
        MediaType::DockerManifestV2 => Manifest::DockerV2(typed(bytes)?),
        _ => Manifest::Image(typed(bytes)?),
    };
    if mode == Mode::Strict {
        validate_descriptors(&manifest)?;
    }
    Ok(manifest)
}

/// Reads the deciding fields, telling "not JSON" apart from "JSON but not an object"
/// (serde would otherwise read a struct from a JSON array, field by field).
fn probe(bytes: &[u8]) -> Result<Probe, ManifestError> {
    let is_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !is_object {
        return Err(match serde_json::from_slice::<IgnoredAny>(bytes) {
            Ok(_) => ManifestError::NotAnObject,
            Err(error) => ManifestError::InvalidJson(error),
        });
    }
    serde_json::from_slice(bytes).map_err(json_error)
}

/// Parses the full manifest type and pairs it with its bytes.
fn typed<T: DeserializeOwned>(bytes: Bytes) -> Result<Parsed<T>, ManifestError> {
    let value = serde_json::from_slice(&bytes).map_err(json_error)?;
    Ok(Parsed::new(value, bytes))
}

/// Syntax errors mean the bytes are not JSON; data errors mean JSON of the wrong shape.
fn json_error(error: serde_json::Error) -> ManifestError {
    match error.classify() {
        serde_json::error::Category::Data => ManifestError::Invalid(error.to_string()),
        _ => ManifestError::InvalidJson(error),
    }
}

/// Content types that say nothing about the kind of manifest.
fn is_generic(media_type: &MediaType) -> bool {
    matches!(
        media_type.as_str(),
        "" | "application/json" | "application/octet-stream"
    )
}

/// The kind of a pushed manifest: the `Content-Type` when specific, which the `mediaType`
/// field must then agree with; else the `mediaType` field; else the fields present.
fn strict_kind(probe: &Probe, content_type: Option<MediaType>) -> Result<MediaType, ManifestError> {
    let declared = probe.media_type.clone();
    let kind = match (content_type, declared) {
        (Some(content_type), _) if !content_type.is_any_manifest() => {
            return Err(ManifestError::UnsupportedMediaType(content_type));
        }
        (Some(content_type), Some(declared)) if declared != content_type => {
            return Err(ManifestError::MediaTypeMismatch {
                declared,
                content_type,
            });
        }
        (Some(content_type), _) => content_type,
        (None, Some(declared)) if !declared.is_any_manifest() => {
            return Err(ManifestError::UnsupportedMediaType(declared));
        }
        (None, Some(declared)) => declared,
        (None, None) => kind_from_shape(probe)?,
    };
    if probe.manifests.is_some() && probe.has_image_fields() {
        return Err(ManifestError::Hybrid);
    }
    Ok(kind)
}

/// The kind of a stored manifest: the first manifest type among the `mediaType` field and
/// the `Content-Type` that the fields present fit, else the first of them, else the
/// fields present. The body comes first because it is part of the digested content, while
/// the `Content-Type` is whatever a descriptor or a server said about it (image layouts in
/// the wild name a Docker v2 manifest as OCI in `index.json`, and registries refuse it
/// when pushed under the descriptor's type).
fn lenient_kind(
    probe: &Probe,
    content_type: Option<MediaType>,
) -> Result<MediaType, ManifestError> {
    let candidates: Vec<MediaType> = probe
        .media_type
        .clone()
        .into_iter()
        .chain(content_type)
        .filter(MediaType::is_any_manifest)
        .collect();
    let fitting = candidates.iter().find(|kind| fits_shape(kind, probe));
    match fitting.or(candidates.first()) {
        Some(kind) => Ok(kind.clone()),
        None => kind_from_shape(probe),
    }
}

/// Whether the fields present are those of `kind`: `manifests` for an index or list,
/// `config` or `layers` for an image.
fn fits_shape(kind: &MediaType, probe: &Probe) -> bool {
    if kind.is_index() {
        probe.manifests.is_some()
    } else {
        probe.has_image_fields()
    }
}

/// An object with `config` is an image manifest, one with `manifests` an index.
fn kind_from_shape(probe: &Probe) -> Result<MediaType, ManifestError> {
    if probe.config.is_some() {
        Ok(MediaType::OciImageManifest)
    } else if probe.manifests.is_some() {
        Ok(MediaType::OciImageIndex)
    } else {
        Err(ManifestError::UnknownKind)
    }
}

/// Strict mode wants `schemaVersion: 2` written out.
fn check_schema_version(probe: &Probe) -> Result<(), ManifestError> {
    match &probe.schema_version {
        Some(version) if version.as_u64() == Some(2) => Ok(()),
        found => Err(ManifestError::SchemaVersion {
            found: found.clone(),
        }),
    }
}
