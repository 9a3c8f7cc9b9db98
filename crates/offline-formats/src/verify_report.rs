//! Verify report (`stellaops.verify-report/v1`): the verdict of a verification, every
//! failure listed.

use crate::schema::Document;
use serde::{Deserialize, Serialize};

/// Schema identifier written by this build.
pub const SCHEMA: &str = "stellaops.verify-report/v1";

/// The verdict of verifying a bundle, folder or sums file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// True when no failure was found.
    pub ok: bool,
    /// What was verified (archive path, folder or sums file).
    pub target: String,
    /// `sha256:<hex>` of the manifest's canonical JSON, when a manifest was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// How much was checked.
    pub counts: VerifyCounts,
    /// Every failure, in the order found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
}

/// How much a verification checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyCounts {
    /// Files checked.
    pub files: u64,
    /// Bytes hashed.
    pub bytes: u64,
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// The file, entry or document concerned.
    pub path: String,
    /// What went wrong.
    pub kind: FailureKind,
    /// What the manifest or policy expected, when there is one value to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

/// Kinds of failure a verify report names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FailureKind {
    /// A digest differs.
    Mismatch,
    /// A size differs.
    Size,
    /// A listed file is absent.
    Missing,
    /// A file is present that the manifest does not list.
    Unexpected,
    /// An archive entry is hostile or malformed.
    UnsafeEntry,
    /// The Merkle root differs.
    Merkle,
    /// Signatures do not meet the trust root's threshold.
    Signature,
    /// The bundle is older than allowed.
    Stale,
    /// The generation did not rise.
    Rollback,
    /// A mode differs.
    Mode,
    /// An archive breaks the bundle profile without being dangerous: an owner other than
    /// 0:0, entries out of manifest order, `manifest.json` not the first entry.
    Hygiene,
    /// A line of a sums file cannot be read, or lists a path twice.
    Malformed,
}

impl Document for VerifyReport {
    const SCHEMA_NAME: &'static str = "stellaops.verify-report";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "verify report";
}
