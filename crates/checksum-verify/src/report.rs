//! Collecting every failure of a run (never only the first), the verify report on stdout, the
//! `path: OK|FAILED` lines of `-v` and the one-line summary on stderr.

use crate::paths;
use offline_formats::verify_report::{self, Failure, FailureKind, VerifyCounts, VerifyReport};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

/// Everything a run found, in the order found.
#[derive(Debug, Default)]
pub struct Findings {
    failures: Vec<Failure>,
    /// Files whose content was checked, in the order checked.
    checked: Vec<String>,
    /// Files checked.
    pub files: u64,
    /// Bytes hashed.
    pub bytes: u64,
}

impl Findings {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a failure.
    pub fn fail(
        &mut self,
        path: impl Into<String>,
        kind: FailureKind,
        expected: Option<String>,
        actual: Option<String>,
    ) {
        self.failures.push(Failure {
            path: path.into(),
            kind,
            expected,
            actual,
        });
    }

    /// Records a failure with only the value found (an unsafe entry's reason, a malformed
    /// line's problem).
    pub fn fail_because(&mut self, path: impl Into<String>, kind: FailureKind, why: &str) {
        self.fail(path, kind, None, Some(why.to_owned()));
    }

    /// Records that the content of `path` (`size` bytes) was checked.
    pub fn checked(&mut self, path: &str, size: u64) {
        self.files += 1;
        self.bytes += size;
        self.checked.push(path.to_owned());
    }

    /// Every failure so far.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// The report of a run.
    pub fn report(&self, target: &str, manifest_digest: Option<String>) -> VerifyReport {
        VerifyReport {
            schema: verify_report::SCHEMA.to_owned(),
            ok: self.failures.is_empty(),
            target: target.to_owned(),
            manifest_digest,
            counts: VerifyCounts {
                files: self.files,
                bytes: self.bytes,
            },
            failures: self.failures.clone(),
        }
    }

    /// The `-v` lines, b3sum style: `path: OK` or `path: FAILED` for every checked file in the
    /// order checked, then `path: FAILED` for every other path a failure names (missing,
    /// unexpected and unsafe entries, documents), once each.
    pub fn verbose_lines(&self) -> String {
        let failed: HashSet<&str> = self.failures.iter().map(|f| f.path.as_str()).collect();
        let mut out = String::new();
        let mut shown: HashSet<&str> = HashSet::new();
        for path in &self.checked {
            let status = if failed.contains(path.as_str()) {
                "FAILED"
            } else {
                "OK"
            };
            let _ = writeln!(out, "{}: {status}", paths::display(path));
            shown.insert(path);
        }
        for failure in &self.failures {
            if shown.insert(&failure.path) {
                let _ = writeln!(out, "{}: FAILED", paths::display(&failure.path));
            }
        }
        out
    }
}

/// The one-line summary for people: `OK: <target>: 5 files, 16.4 KiB` or
/// `<target>: 4 failures (1 mismatch, 1 mode, …); 5 files, 16.4 KiB checked`.
pub fn summary(report: &VerifyReport) -> String {
    let target = paths::display(&report.target);
    let counted = format!(
        "{} {}, {}",
        report.counts.files,
        if report.counts.files == 1 {
            "file"
        } else {
            "files"
        },
        human_bytes(report.counts.bytes)
    );
    if report.ok {
        return format!("OK: {target}: {counted}");
    }
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for failure in &report.failures {
        let kind = kind_name(failure.kind);
        let count = by_kind.entry(kind.clone()).or_default();
        if *count == 0 {
            order.push(kind);
        }
        *count += 1;
    }
    let kinds: Vec<String> = order
        .iter()
        .map(|k| format!("{} {k}", by_kind.get(k).copied().unwrap_or_default()))
        .collect();
    let n = report.failures.len();
    format!(
        "{target}: {n} {} ({}); {counted} checked",
        if n == 1 { "failure" } else { "failures" },
        kinds.join(", ")
    )
}

/// The kind as the report spells it (`unsafe-entry`).
pub fn kind_name(kind: FailureKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{kind:?}"))
}

/// `16.4 KiB`, `1.1 GiB`, `512 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_failures_by_kind_in_order_found() {
        let mut f = Findings::new();
        f.checked("a", 2048);
        f.checked("b", 10);
        f.fail("b", FailureKind::Mismatch, None, None);
        f.fail("c", FailureKind::Missing, None, None);
        f.fail("d", FailureKind::Mismatch, None, None);
        let report = f.report("x.tar.gz", None);
        assert!(!report.ok);
        assert_eq!(
            summary(&report),
            "x.tar.gz: 3 failures (2 mismatch, 1 missing); 2 files, 2.0 KiB checked"
        );
        assert_eq!(
            f.verbose_lines(),
            "a: OK\nb: FAILED\nc: FAILED\nd: FAILED\n"
        );
    }

    #[test]
    fn passing_summary_and_sizes() {
        let mut f = Findings::new();
        f.checked("a\nb", 1);
        let report = f.report("dir", None);
        assert_eq!(summary(&report), "OK: dir: 1 file, 1 B");
        assert_eq!(f.verbose_lines(), "a\\nb: OK\n");
        assert_eq!(human_bytes(1_181_116_006), "1.1 GiB");
        assert_eq!(kind_name(FailureKind::UnsafeEntry), "unsafe-entry");
    }
}
