//! AOC report (`stellaops.aoc-report/v1`): Aggregation-Only Contract violations found in
//! raw advisory and VEX documents.

use crate::schema::Document;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Schema identifier written by this build.
pub const SCHEMA: &str = "stellaops.aoc-report/v1";

/// The result of checking a set of raw documents against the AOC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AocReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The time window the documents were selected from, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Documents read (every document, also those outside the window or filters).
    pub documents_scanned: u64,
    /// Documents whose violations are reported: inside the window, of the tenant and source
    /// asked for.
    #[serde(default)]
    pub documents_in_scope: u64,
    /// Documents read, by collection.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collections: BTreeMap<String, u64>,
    /// Documents not checked, by collection: of collections the rules do not know, or of an
    /// archive's collections that `--collection` left out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, u64>,
    /// Violations found (the sum of `counts.byCode`), listed or not.
    #[serde(default)]
    pub violations_total: u64,
    /// Whether `violations` lists fewer than `violationsTotal` (`--limit`).
    #[serde(default)]
    pub truncated: bool,
    /// Violation counts by code, source and tenant.
    pub counts: AocCounts,
    /// The violations, in input order (at most `--limit` of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
}

/// A half-open time window `[from, to)`, RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// Inclusive start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Exclusive end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Violation counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AocCounts {
    /// By violation code (`ERR_AOC_001` …).
    #[serde(default)]
    pub by_code: BTreeMap<String, u64>,
    /// By `source.vendor` or provider.
    #[serde(default)]
    pub by_source: BTreeMap<String, u64>,
    /// By tenant.
    #[serde(default)]
    pub by_tenant: BTreeMap<String, u64>,
}

/// One violation; also written alone as one NDJSON line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    /// `ERR_AOC_001` … `ERR_AOC_007`.
    pub code: String,
    /// `advisory_raw`, `vex_raw`, …
    pub collection: String,
    /// The document's `_id`, as a string.
    pub document_id: String,
    /// The document's tenant, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The document's source vendor or provider, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// JSON Pointer (RFC 6901) to the offending value.
    pub path: String,
    /// What is wrong, for people.
    pub message: String,
}

impl Document for AocReport {
    const SCHEMA_NAME: &'static str = "stellaops.aoc-report";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "AOC report";
}
