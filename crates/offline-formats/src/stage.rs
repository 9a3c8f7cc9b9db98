//! What `checksum-verify stage` writes into an object store beside a bundle's objects: the
//! receipt that activates a generation (`stellaops.stage-receipt/v1`), the object index of the
//! content-addressed layout (`stellaops.stage-index/v1`), and the `stage` member it adds to the
//! verify report it prints.
//!
//! Readers of a store take a generation as present only when its `receipt.json` exists, names
//! the generation and matches the digest of the `manifest.json` beside it: the receipt is the
//! last object a stage run writes.

use crate::schema::Document;
use serde::{Deserialize, Serialize};

/// Schema identifier of a receipt written by this build.
pub const RECEIPT_SCHEMA: &str = "stellaops.stage-receipt/v1";
/// Schema identifier of an index written by this build.
pub const INDEX_SCHEMA: &str = "stellaops.stage-index/v1";

/// Name of the receipt object in a generation's folder.
pub const RECEIPT_NAME: &str = "receipt.json";
/// Name of the outer manifest object in a generation's folder.
pub const MANIFEST_NAME: &str = "manifest.json";
/// Name of the object index in a generation's folder (content-addressed layout only).
pub const INDEX_NAME: &str = "index.json";

/// How a bundle's files are laid out in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `<prefix>/<bundleId>/<mirrorGeneration>/<path>`.
    Generation,
    /// `<prefix>/sha256/<hex>`, shared by every bundle and generation, plus an index per
    /// generation.
    Cas,
}

impl Layout {
    /// The name used on the command line and in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generation => "generation",
            Self::Cas => "cas",
        }
    }
}

/// Why a generation was activated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Every check passed.
    Accepted,
    /// Every check passed but the rollback check, which the operator overrode with
    /// `--force --reason`.
    Forced,
}

/// The receipt that activates one generation of a bundle in an object store. Written last;
/// a generation without one is absent to readers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StageReceipt {
    /// Always [`RECEIPT_SCHEMA`].
    pub schema: String,
    /// The manifest's `bundleId`.
    pub bundle_id: String,
    /// The manifest's `mirrorGeneration`.
    pub mirror_generation: u64,
    /// `sha256:<hex>` of the RFC 8785 canonical JSON of the outer manifest (the one with its
    /// `archive` member) stored beside the receipt as `manifest.json`.
    pub manifest_digest: String,
    /// Where the files are.
    pub layout: Layout,
    /// `sha256:<hex>` of the canonical JSON of the generation's `index.json` (`cas` layout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    /// Who staged it (`--operator`).
    pub operator: String,
    /// Why it was activated.
    pub decision: Decision,
    /// The operator's written reason, when the decision is [`Decision::Forced`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was activated, RFC 3339 UTC (`--now` or the clock).
    pub staged_at: String,
    /// The tool that wrote it, e.g. `checksum-verify/0.1.0`.
    pub tool: String,
}

impl Document for StageReceipt {
    const SCHEMA_NAME: &'static str = "stellaops.stage-receipt";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "stage receipt";
}

/// The object index of one generation in the content-addressed layout: where each file of
/// the manifest is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StageIndex {
    /// Always [`INDEX_SCHEMA`].
    pub schema: String,
    /// The manifest's `bundleId`.
    pub bundle_id: String,
    /// The manifest's `mirrorGeneration`.
    pub mirror_generation: u64,
    /// `sha256:<hex>` of the canonical JSON of the outer manifest.
    pub manifest_digest: String,
    /// One entry per manifest file, in manifest order.
    pub objects: Vec<IndexEntry>,
}

/// Where one file of a bundle is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexEntry {
    /// The file's path in the bundle.
    pub path: String,
    /// The object's key relative to the store prefix: `sha256/<hex>`.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
}

impl Document for StageIndex {
    const SCHEMA_NAME: &'static str = "stellaops.stage-index";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "stage index";
}

/// The `stage` member of the verify report `checksum-verify stage` prints: what happened in
/// the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageSummary {
    /// The store, as given with `--to`.
    pub to: String,
    /// The layout used.
    pub layout: Layout,
    /// The generation's folder in the store (where its manifest and receipt are).
    pub generation: String,
    /// Where the generation stands after this run.
    pub status: StageStatus,
    /// Objects this run wrote.
    pub uploaded: ObjectCounts,
    /// Objects already stored with the right digest, left as they were.
    pub present: ObjectCounts,
    /// Where `--quarantine` moved the bundle, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantined: Option<String>,
}

/// Where a generation stands after a stage run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageStatus {
    /// This run wrote the receipt.
    Activated,
    /// The receipt was already there for the same manifest; nothing was rewritten.
    AlreadyActive,
    /// A check failed: no receipt was written.
    NotActivated,
}

/// A number of objects and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectCounts {
    /// Objects.
    pub objects: u64,
    /// Bytes of those objects.
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> StageReceipt {
        StageReceipt {
            schema: RECEIPT_SCHEMA.to_owned(),
            bundle_id: "stellaops-bootstrap".to_owned(),
            mirror_generation: 7,
            manifest_digest: format!("sha256:{}", "ab".repeat(32)),
            layout: Layout::Generation,
            index_digest: None,
            operator: "alice".to_owned(),
            decision: Decision::Accepted,
            reason: None,
            staged_at: "2026-11-01T00:00:00Z".to_owned(),
            tool: "checksum-verify/0.1.0".to_owned(),
        }
    }

    #[test]
    fn receipt_round_trips_and_omits_empty_members() {
        let value = serde_json::to_value(receipt()).unwrap();
        assert!(value.get("reason").is_none() && value.get("indexDigest").is_none());
        assert_eq!(value["decision"], "accepted");
        assert_eq!(value["layout"], "generation");
        let bytes = serde_json::to_vec(&value).unwrap();
        assert_eq!(StageReceipt::from_json_slice(&bytes).unwrap(), receipt());
        assert_eq!(StageReceipt::schema_id(), RECEIPT_SCHEMA);
        assert_eq!(StageIndex::schema_id(), INDEX_SCHEMA);
    }

    #[test]
    fn receipt_reader_refuses_a_later_major_version_and_unknown_members() {
        let mut value = serde_json::to_value(receipt()).unwrap();
        value["schema"] = "stellaops.stage-receipt/v2".into();
        let bytes = serde_json::to_vec(&value).unwrap();
        assert!(matches!(
            StageReceipt::from_json_slice(&bytes),
            Err(crate::FormatError::UnsupportedVersion { .. })
        ));
        let mut value = serde_json::to_value(receipt()).unwrap();
        value["activatedBy"] = "mallory".into();
        let bytes = serde_json::to_vec(&value).unwrap();
        assert!(StageReceipt::from_json_slice(&bytes).is_err());
    }
}
