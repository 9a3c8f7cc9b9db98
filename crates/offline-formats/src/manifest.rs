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
    /// The on-disk form, byte for byte what [`crate::jcs::to_pretty_vec`] writes for this
    /// manifest, but written directly: a manifest of a bundle with many small files is
    /// written twice per pack, and going through `serde_json::Value` costs a map per file.
    pub fn to_pretty_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.files.len() * 400);
        self.write_pretty_json(&mut out);
        out
    }

    /// RFC 8785 canonical bytes of this manifest, byte for byte what
    /// [`crate::jcs::to_canonical_vec`] gives, written directly (signing a manifest of many
    /// files would otherwise spend most of its time building a `serde_json::Value`).
    pub fn to_canonical_json(&self) -> Result<Vec<u8>, crate::FormatError> {
        const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
        let sizes = self
            .files
            .iter()
            .map(|f| f.size)
            .chain(self.archive.as_ref().map(|a| a.size))
            .chain([self.mirror_generation]);
        if let Some(big) = sizes.into_iter().find(|&n| n > MAX_SAFE_INTEGER) {
            return Err(crate::FormatError::NotCanonical {
                reason: format!("{big} is beyond 2^53, which I-JSON numbers cannot hold exactly"),
            });
        }
        let mut out = Vec::with_capacity(256 + self.files.len() * 330);
        self.write_json(&mut out, false);
        Ok(out)
    }

    /// Appends [`BundleManifest::to_pretty_json`]'s bytes to `out`.
    pub fn write_pretty_json(&self, out: &mut Vec<u8>) {
        self.write_json(out, true);
    }

    fn write_json(&self, out: &mut Vec<u8>, pretty: bool) {
        let mut w = PrettyWriter { out, pretty };
        w.open(b'{');
        // Member names in JCS order (all ASCII here, so byte order).
        if let Some(archive) = &self.archive {
            w.name(1, "archive", true);
            w.open(b'{');
            w.string_member(2, "blake3", &archive.blake3, true);
            w.string_member(2, "compression", &archive.compression, false);
            w.string_member(2, "name", &archive.name, false);
            w.string_member(2, "sha256", &archive.sha256, false);
            w.number_member(2, "size", archive.size, false);
            w.close(1, b'}');
        }
        w.string_member(1, "bundleId", &self.bundle_id, self.archive.is_none());
        w.string_member(1, "createdAt", &self.created_at, false);
        w.name(1, "files", false);
        if self.files.is_empty() {
            w.out.extend_from_slice(b"[]");
        } else {
            w.open(b'[');
            for (i, file) in self.files.iter().enumerate() {
                if i > 0 {
                    w.out.push(b',');
                }
                w.indent(2);
                w.open(b'{');
                w.string_member(3, "blake3", &file.blake3, true);
                w.string_member(3, "mediaType", &file.media_type, false);
                w.string_member(3, "mode", &file.mode, false);
                w.string_member(3, "path", &file.path, false);
                w.string_member(3, "sha256", &file.sha256, false);
                w.number_member(3, "size", file.size, false);
                w.close(2, b'}');
            }
            w.close(1, b']');
        }
        w.string_member(1, "kind", &self.kind, false);
        w.string_member(1, "merkleRoot", &self.merkle_root, false);
        w.number_member(1, "mirrorGeneration", self.mirror_generation, false);
        w.string_member(1, "producer", &self.producer, false);
        w.string_member(1, "schema", &self.schema, false);
        w.close(0, b'}');
        if pretty {
            w.out.push(b'\n');
        }
    }

    /// The same manifest without its `archive` member: the bytes embedded in the archive.
    pub fn without_archive(&self) -> Self {
        Self {
            archive: None,
            ..self.clone()
        }
    }
}

/// Writes the pretty on-disk layout (2-space indent, `": "`) member by member.
struct PrettyWriter<'a> {
    out: &'a mut Vec<u8>,
    /// The on-disk layout; false for RFC 8785 canonical form (no whitespace at all).
    pretty: bool,
}

impl PrettyWriter<'_> {
    fn open(&mut self, bracket: u8) {
        self.out.push(bracket);
    }

    fn close(&mut self, depth: usize, bracket: u8) {
        self.indent(depth);
        self.out.push(bracket);
    }

    fn indent(&mut self, depth: usize) {
        if self.pretty {
            self.out.push(b'\n');
            self.out.resize(self.out.len() + 2 * depth, b' ');
        }
    }

    fn name(&mut self, depth: usize, name: &str, first: bool) {
        if !first {
            self.out.push(b',');
        }
        self.indent(depth);
        crate::jcs::write_string(self.out, name);
        self.out
            .extend_from_slice(if self.pretty { b": " } else { b":" });
    }

    fn string_member(&mut self, depth: usize, name: &str, value: &str, first: bool) {
        self.name(depth, name, first);
        crate::jcs::write_string(self.out, value);
    }

    fn number_member(&mut self, depth: usize, name: &str, value: u64, first: bool) {
        self.name(depth, name, first);
        self.out.extend_from_slice(value.to_string().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry() -> impl Strategy<Value = FileEntry> {
        (
            "[a-z0-9/._é\\\"\u{1}-]{1,40}",
            0u64..(1 << 53),
            "[0-9a-f]{64}",
            "[0-9a-f]{64}",
            prop_oneof![Just("0644".to_owned()), Just("0755".to_owned())],
            "[a-z]{1,10}/[a-z.+-]{1,20}",
        )
            .prop_map(|(path, size, sha256, blake3, mode, media_type)| FileEntry {
                path,
                size,
                sha256,
                blake3,
                mode,
                media_type,
            })
    }

    fn manifest() -> impl Strategy<Value = BundleManifest> {
        (
            proptest::collection::vec(entry(), 0..8),
            "[a-zA-Z0-9._-]{1,20}",
            0u64..(1 << 53),
            any::<bool>(),
            "\\PC{0,12}",
        )
            .prop_map(|(files, bundle_id, generation, with_archive, producer)| {
                BundleManifest {
                    schema: SCHEMA.to_owned(),
                    bundle_id,
                    kind: "bootstrap".to_owned(),
                    mirror_generation: generation,
                    created_at: "2026-11-01T00:00:00Z".to_owned(),
                    producer,
                    merkle_root: format!("sha256:{}", "ab".repeat(32)),
                    archive: with_archive.then(|| ArchiveInfo {
                        name: "b.tar.gz".to_owned(),
                        size: generation,
                        sha256: "cd".repeat(32),
                        blake3: "ef".repeat(32),
                        compression: "gzip".to_owned(),
                    }),
                    files,
                }
            })
    }

    proptest! {
        #[test]
        fn direct_canonical_form_equals_the_generic_one(m in manifest()) {
            prop_assert_eq!(
                String::from_utf8(m.to_canonical_json().unwrap()).unwrap(),
                String::from_utf8(crate::jcs::to_canonical_vec(&m).unwrap()).unwrap()
            );
        }

        #[test]
        fn direct_pretty_form_equals_the_generic_one(m in manifest()) {
            prop_assert_eq!(
                String::from_utf8(m.to_pretty_json()).unwrap(),
                String::from_utf8(crate::jcs::to_pretty_vec(&m).unwrap()).unwrap()
            );
        }
    }
}
