//! Bundle manifest (`stellaops.bundle/v1`): what a bundle holds, file by file.

use crate::schema::Document;
use serde::{Deserialize, Serialize};

/// Schema identifier written by this build.
pub const SCHEMA: &str = "stellaops.bundle/v1";
/// DSSE payload type of a signed manifest.
pub const PAYLOAD_TYPE: &str = "application/vnd.stellaops.mirror+json;version=1";
/// Name of the manifest entry inside every bundle archive (always the first entry).
pub const ENTRY_NAME: &str = "manifest.json";

/// The bundle manifest. The copy inside the archive has no `archive` member; the copy on
/// stdout and beside the archive has it, so a signature over it covers the archive too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleManifest {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Stable name of the bundle, e.g. `stellaops-bootstrap`.
    pub bundle_id: String,
    /// `bootstrap`, `mirror`, `offline-kit`, …
    pub kind: String,
    /// Monotonic generation; importers refuse a generation that does not rise.
    pub mirror_generation: u64,
    /// RFC 3339 UTC; never the wall clock unless the user asked for it.
    pub created_at: String,
    /// What made the bundle, e.g. `bundle-pack/0.1.0`.
    pub producer: String,
    /// Every file, sorted by path bytes.
    pub files: Vec<FileEntry>,
    /// RFC 6962 Merkle tree hash over `files`, as `sha256:<hex>`.
    pub merkle_root: String,
    /// The archive that carries this manifest (absent in the embedded copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveInfo>,
}

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileEntry {
    /// Relative path inside the bundle, `/`-separated, UTF-8.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    /// Lowercase hex BLAKE3 of the content.
    pub blake3: String,
    /// Normalised mode as four octal digits: `0644` or `0755`.
    pub mode: String,
    /// IANA-style media type, inferred from the extension unless configured.
    pub media_type: String,
}

/// The archive a manifest describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArchiveInfo {
    /// File name of the archive (no folders), e.g. `bootstrap.tar.gz`.
    pub name: String,
    /// Size of the archive in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the archive bytes.
    pub sha256: String,
    /// Lowercase hex BLAKE3 of the archive bytes.
    pub blake3: String,
    /// `gzip` (the only compression written today).
    pub compression: String,
}

impl Document for BundleManifest {
    const SCHEMA_NAME: &'static str = "stellaops.bundle";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "bundle manifest";
}

impl BundleManifest {
    /// The same manifest without its `archive` member: the bytes embedded in the archive.
    pub fn without_archive(&self) -> Self {
        Self {
            archive: None,
            ..self.clone()
        }
    }
}
