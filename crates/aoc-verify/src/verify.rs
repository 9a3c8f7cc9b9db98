//! `aoc-verify [INPUT…]`: every document checked, violations of the documents in scope
//! (`--since`, `--tenant`, `--source`) counted exactly and listed up to `--limit`, revision
//! chains checked against every document read.

use crate::chain::{ChainStore, ChainViolation, Entry};
use crate::check::Code;
use crate::engine::{self, location, CodeFilter, Fold, FrameResult, RunError};
use crate::input::open::Pending;
use crate::input::Batch;
use crate::rules::RuleSet;
use offline_formats::aoc_report::Violation;
use std::collections::BTreeMap;

/// What to report.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Only documents ingested at or after this time (ms); chains still use every document.
    pub since: Option<i64>,
    /// Only this tenant.
    pub tenant: Option<String>,
    /// Only this source vendor or provider.
    pub source: Option<String>,
    /// Only these codes.
    pub codes: CodeFilter,
    /// List at most this many violations (counts stay exact).
    pub limit: Option<usize>,
    /// A malformed document is an `ERR_AOC_PARSE` finding instead of the end of the run.
    pub keep_going: bool,
    /// Only this collection (`--collection`): the others of an archive are skipped.
    pub collection: Option<String>,
}

/// Label used in counts for a document without a tenant or source.
pub const NO_LABEL: &str = "(none)";

/// Everything a run found, ready for any output format.
#[derive(Debug, Default)]
pub struct Summary {
    /// `--since`, when given (ms).
    pub since: Option<i64>,
    /// Documents read, of every collection the rules know.
    pub documents_scanned: u64,
    /// Documents in scope (window, tenant, source).
    pub documents_in_scope: u64,
    /// Documents read, by collection.
    pub scanned_by_collection: BTreeMap<String, u64>,
    /// Documents of collections the rules do not know, skipped, by collection.
    pub skipped_by_collection: BTreeMap<String, u64>,
    /// Violations by code.
    pub by_code: BTreeMap<String, u64>,
    /// Violations by source.
    pub by_source: BTreeMap<String, u64>,
    /// Violations by tenant.
    pub by_tenant: BTreeMap<String, u64>,
    /// Violations by (source, tenant, code), for the Prometheus metric.
    pub by_label: BTreeMap<(String, String, String), u64>,
    /// Violations by (collection, code), for JUnit.
    pub by_collection_code: BTreeMap<(String, String), u64>,
    /// The listed violations, in input order.
    pub violations: Vec<Violation>,
    /// Whether `--limit` left violations out of the list.
    pub truncated: bool,
    /// The codes asked for (`--codes`).
    pub codes: CodeFilter,
}

impl Summary {
    /// Violations found (of the selected codes, in scope).
    pub fn total(&self) -> u64 {
        self.by_code.values().sum()
    }

    fn count(&mut self, violation: &Violation) {
        let source = violation
            .source
            .clone()
            .unwrap_or_else(|| NO_LABEL.to_owned());
        let tenant = violation
            .tenant
            .clone()
            .unwrap_or_else(|| NO_LABEL.to_owned());
        *self.by_code.entry(violation.code.clone()).or_default() += 1;
        *self.by_source.entry(source.clone()).or_default() += 1;
        *self.by_tenant.entry(tenant.clone()).or_default() += 1;
        *self
            .by_label
            .entry((source, tenant, violation.code.clone()))
            .or_default() += 1;
        *self
            .by_collection_code
            .entry((violation.collection.clone(), violation.code.clone()))
            .or_default() += 1;
    }
}

struct VerifyFold<'a> {
    scope: &'a Scope,
    summary: Summary,
    /// Listed violations with their document's place in the input.
    listed: Vec<(u64, Violation)>,
    chains: ChainStore,
}

impl VerifyFold<'_> {
    fn add(&mut self, ordinal: u64, violation: Violation) {
        self.summary.count(&violation);
        if self
            .scope
            .limit
            .is_none_or(|limit| self.listed.len() < limit)
        {
            self.listed.push((ordinal, violation));
        }
    }

    fn in_scope(&self, checked: &crate::check::Checked) -> bool {
        let scope = self.scope;
        scope
            .since
            .is_none_or(|since| checked.time.is_none_or(|t| t >= since))
            && scope
                .tenant
                .as_ref()
                .is_none_or(|t| checked.tenant.as_ref() == Some(t))
            && scope
                .source
                .as_ref()
                .is_none_or(|s| checked.source.as_ref() == Some(s))
    }
}

impl Fold for VerifyFold<'_> {
    fn wants(&self, collection: &str) -> bool {
        self.scope
            .collection
            .as_deref()
            .is_none_or(|only| only == collection)
    }

    fn skipped(&mut self, batch: &Batch) {
        *self
            .summary
            .skipped_by_collection
            .entry(batch.collection.to_string())
            .or_default() += batch.frames.len() as u64;
    }

    fn batch(&mut self, batch: &Batch, results: Vec<FrameResult>) -> Result<(), RunError> {
        *self
            .summary
            .scanned_by_collection
            .entry(batch.collection.to_string())
            .or_default() += results.len() as u64;
        for (frame, result) in batch.frames.iter().zip(results) {
            let ordinal = self.summary.documents_scanned;
            self.summary.documents_scanned += 1;
            let checked = match result {
                Ok(checked) => checked,
                Err(message) => {
                    let at = location(batch, frame);
                    if !self.scope.keep_going {
                        return Err(RunError::Document {
                            location: at,
                            message,
                        });
                    }
                    if self.scope.codes.selects(Code::Parse) {
                        self.add(
                            ordinal,
                            Violation {
                                code: Code::Parse.as_str().to_owned(),
                                collection: batch.collection.to_string(),
                                document_id: at,
                                tenant: None,
                                source: None,
                                path: String::new(),
                                message,
                            },
                        );
                    }
                    continue;
                }
            };
            let in_scope = self.in_scope(&checked);
            let document_id = checked.id.clone().unwrap_or_else(|| location(batch, frame));
            if let Some(identity) = &checked.identity {
                self.chains
                    .add(&Entry {
                        ordinal,
                        collection: &batch.collection,
                        id: Some(document_id.as_str()),
                        tenant: checked.tenant.as_deref(),
                        source: checked.source.as_deref(),
                        time: checked.time,
                        in_scope,
                        identity,
                    })
                    .map_err(|error| RunError::Io {
                        what: "temporary file for revision chains".into(),
                        error,
                    })?;
            }
            if !in_scope {
                continue;
            }
            self.summary.documents_in_scope += 1;
            for finding in checked.findings {
                if self.scope.codes.selects(finding.code) {
                    self.add(
                        ordinal,
                        Violation {
                            code: finding.code.as_str().to_owned(),
                            collection: batch.collection.to_string(),
                            document_id: document_id.clone(),
                            tenant: checked.tenant.clone(),
                            source: checked.source.clone(),
                            path: finding.path,
                            message: finding.message,
                        },
                    );
                }
            }
        }
        Ok(())
    }
}

/// Reads and checks every input.
pub fn verify(
    rules: &RuleSet,
    inputs: &[Pending],
    scope: &Scope,
    pool: Option<&rayon::ThreadPool>,
) -> Result<Summary, RunError> {
    let mut fold = VerifyFold {
        scope,
        summary: Summary {
            since: scope.since,
            codes: scope.codes.clone(),
            ..Summary::default()
        },
        listed: Vec::new(),
        chains: ChainStore::new().map_err(|error| RunError::Io {
            what: "temporary file for revision chains".into(),
            error,
        })?,
    };
    engine::run(rules, inputs, pool, &mut fold)?;
    let VerifyFold {
        mut summary,
        mut listed,
        chains,
        ..
    } = fold;
    let chain_violations = chains.finish().map_err(|error| RunError::Io {
        what: "temporary file for revision chains".into(),
        error,
    })?;
    if scope.codes.selects(Code::Revision) {
        for found in chain_violations {
            let ChainViolation {
                ordinal,
                collection,
                document_id,
                tenant,
                source,
                code,
                path,
                message,
            } = found;
            let violation = Violation {
                code: code.as_str().to_owned(),
                collection: collection.to_string(),
                document_id,
                tenant,
                source,
                path,
                message,
            };
            summary.count(&violation);
            listed.push((ordinal, violation));
        }
    }
    // Input order; within a document, per-document findings before chain findings.
    listed.sort_by_key(|(ordinal, _)| *ordinal);
    let total = summary.total();
    if let Some(limit) = scope.limit {
        listed.truncate(limit);
    }
    summary.truncated = (listed.len() as u64) < total;
    summary.violations = listed.into_iter().map(|(_, v)| v).collect();
    Ok(summary)
}
