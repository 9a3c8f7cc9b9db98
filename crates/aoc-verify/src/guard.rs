//! `aoc-verify guard`: a filter inside an ingestion pipeline. Clean documents pass through
//! byte for byte; each violating (or unreadable) one goes to the rejects file with its
//! violations, in the platform guard's error shape `{code, message, violations[]}`.
//!
//! The guard applies the per-document rules, and of ERR_AOC_003 what one stream can tell: a
//! document repeating an earlier one of the stream (same tenant, vendor, upstream id and
//! content hash; for vex_raw the same `_id`). Revision chains against what is already stored
//! are `aoc-verify`'s job on the store.

use crate::check::{Code, Finding, IdentityFacts};
use crate::engine::{self, location, Fold, FrameResult, RunError};
use crate::input::open::Pending;
use crate::input::{Batch, Encoding};
use crate::rules::RuleSet;
use offline_formats::jcs;
use serde::Serialize;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;

/// What the guard did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GuardSummary {
    /// Documents read.
    pub documents: u64,
    /// Documents passed through.
    pub passed: u64,
    /// Documents rejected.
    pub rejected: u64,
}

#[derive(Serialize)]
struct RejectedViolation<'a> {
    code: &'static str,
    path: &'a str,
    message: &'a str,
}

struct GuardFold<'a> {
    out: &'a mut dyn Write,
    rejects: &'a mut dyn Write,
    seen: HashSet<u64>,
    summary: GuardSummary,
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |error| RunError::Io {
        what: what.to_owned(),
        error,
    }
}

impl GuardFold<'_> {
    fn reject(
        &mut self,
        batch: &Batch,
        frame_text: &[u8],
        at: &str,
        document_id: Option<&str>,
        findings: &[Finding],
        readable: bool,
    ) -> Result<(), RunError> {
        self.summary.rejected += 1;
        let violations: Vec<RejectedViolation<'_>> = findings
            .iter()
            .map(|f| RejectedViolation {
                code: f.code.as_str(),
                path: &f.path,
                message: &f.message,
            })
            .collect();
        let first = findings.first().map_or(Code::Parse, |f| f.code);
        let message = if findings.len() == 1 {
            findings[0].message.clone()
        } else {
            format!("{} AOC violations", findings.len())
        };
        let mut line = Vec::with_capacity(frame_text.len() + 256);
        line.extend_from_slice(b"{\"code\":");
        line.extend_from_slice(&jcs::to_canonical_vec(first.as_str()).unwrap_or_default());
        line.extend_from_slice(b",\"collection\":");
        line.extend_from_slice(&jcs::to_canonical_vec(&*batch.collection).unwrap_or_default());
        // Members in sorted order, as every JSON document the tools write.
        if readable {
            // The document as it came (it parsed as JSON), so nothing of it is lost.
            line.extend_from_slice(b",\"document\":");
            line.extend_from_slice(frame_text.trim_ascii());
        }
        if let Some(id) = document_id {
            line.extend_from_slice(b",\"documentId\":");
            line.extend_from_slice(&jcs::to_canonical_vec(id).unwrap_or_default());
        }
        if !readable {
            line.extend_from_slice(b",\"documentText\":");
            let text = String::from_utf8_lossy(frame_text);
            line.extend_from_slice(&jcs::to_canonical_vec(text.as_ref()).unwrap_or_default());
        }
        line.extend_from_slice(b",\"location\":");
        line.extend_from_slice(&jcs::to_canonical_vec(at).unwrap_or_default());
        line.extend_from_slice(b",\"message\":");
        line.extend_from_slice(&jcs::to_canonical_vec(&message).unwrap_or_default());
        line.extend_from_slice(b",\"violations\":");
        line.extend_from_slice(&jcs::to_canonical_vec(&violations).unwrap_or_default());
        line.extend_from_slice(b"}\n");
        self.rejects.write_all(&line).map_err(io("rejects"))
    }

    fn fingerprint(collection: &str, key: &str, content: u64) -> u64 {
        let mut hasher = DefaultHasher::new();
        (collection, key, content).hash(&mut hasher);
        hasher.finish()
    }
}

impl Fold for GuardFold<'_> {
    fn skipped(&mut self, _batch: &Batch) {}

    fn batch(&mut self, batch: &Batch, results: Vec<FrameResult>) -> Result<(), RunError> {
        if batch.encoding != Encoding::Json {
            return Err(RunError::Document {
                location: batch.source.to_string(),
                message: "guard filters JSON documents (NDJSON or a JSON array), not BSON".into(),
            });
        }
        for (frame, result) in batch.frames.iter().zip(results) {
            self.summary.documents += 1;
            let text = &batch.data[frame.range.clone()];
            let at = location(batch, frame);
            let mut checked = match result {
                Ok(checked) => checked,
                Err(message) => {
                    let finding = Finding {
                        code: Code::Parse,
                        path: String::new(),
                        message,
                    };
                    self.reject(batch, text, &at, None, &[finding], false)?;
                    continue;
                }
            };
            let key = match &checked.identity {
                Some(IdentityFacts::Revision { chain, content, .. }) => Some((
                    Self::fingerprint(&batch.collection, chain, *content),
                    "/upstream/content_hash",
                    "repeats an earlier document of this stream (same tenant, source.vendor, upstream.upstream_id and content_hash)",
                )),
                Some(IdentityFacts::Unique) => checked.id.as_deref().map(|id| {
                    (
                        Self::fingerprint(&batch.collection, id, 0),
                        "/_id",
                        "repeats the _id of an earlier document of this stream",
                    )
                }),
                None => None,
            };
            if let Some((key, path, message)) = key {
                if !self.seen.insert(key) {
                    checked.findings.push(Finding {
                        code: Code::Revision,
                        path: path.to_owned(),
                        message: message.to_owned(),
                    });
                }
            }
            if checked.findings.is_empty() {
                self.summary.passed += 1;
                // The line with its own newline, when it had one: byte for byte.
                let end = if batch.data.get(frame.range.end) == Some(&b'\n') {
                    frame.range.end + 1
                } else {
                    frame.range.end
                };
                let bytes = &batch.data[frame.range.start..end];
                self.out.write_all(bytes).map_err(io("standard output"))?;
                if end == frame.range.end {
                    self.out.write_all(b"\n").map_err(io("standard output"))?;
                }
            } else {
                let id = checked.id.clone();
                self.reject(batch, text, &at, id.as_deref(), &checked.findings, true)?;
            }
        }
        Ok(())
    }
}

/// Filters one input: clean documents to `out`, rejected ones to `rejects`.
pub fn guard(
    rules: &RuleSet,
    input: &Pending,
    pool: Option<&rayon::ThreadPool>,
    out: &mut dyn Write,
    rejects: &mut dyn Write,
) -> Result<GuardSummary, RunError> {
    let mut fold = GuardFold {
        out,
        rejects,
        seen: HashSet::new(),
        summary: GuardSummary::default(),
    };
    engine::run(rules, std::slice::from_ref(input), pool, &mut fold)?;
    fold.out.flush().map_err(io("standard output"))?;
    fold.rejects.flush().map_err(io("rejects"))?;
    Ok(fold.summary)
}
