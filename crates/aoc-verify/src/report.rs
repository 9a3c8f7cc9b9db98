//! The outputs of a verify run: the AOC report (JSON), violations as NDJSON, a table for
//! people, JUnit XML for CI test views, and Prometheus text for dashboards.

use crate::check::Code;
use crate::extjson::format_millis;
use crate::verify::Summary;
use offline_formats::aoc_report::{self, AocCounts, AocReport, Window};
use offline_formats::jcs;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// An output format of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The AOC report (`stellaops.aoc-report/v1`).
    Json,
    /// One violation a line.
    Ndjson,
    /// A table for people.
    Table,
    /// JUnit XML: one test case per collection and code.
    Junit,
    /// Prometheus text exposition: `aoc_violation_total{source,tenant,code}` and more.
    Prometheus,
}

/// The AOC report document.
pub fn report(summary: &Summary) -> AocReport {
    AocReport {
        schema: aoc_report::SCHEMA.to_owned(),
        window: summary.since.map(|since| Window {
            from: Some(format_millis(since)),
            to: None,
        }),
        documents_scanned: summary.documents_scanned,
        documents_in_scope: summary.documents_in_scope,
        collections: summary.scanned_by_collection.clone(),
        skipped: summary.skipped_by_collection.clone(),
        violations_total: summary.total(),
        truncated: summary.truncated,
        counts: AocCounts {
            by_code: summary.by_code.clone(),
            by_source: summary.by_source.clone(),
            by_tenant: summary.by_tenant.clone(),
        },
        violations: summary.violations.clone(),
    }
}

/// The bytes of one format.
pub fn render(format: Format, summary: &Summary, duration: Duration) -> Vec<u8> {
    match format {
        Format::Json => jcs::to_pretty_vec(&report(summary)).unwrap_or_default(),
        Format::Ndjson => ndjson(summary),
        Format::Table => table(summary).into_bytes(),
        Format::Junit => junit(summary).into_bytes(),
        Format::Prometheus => prometheus(summary, duration).into_bytes(),
    }
}

fn ndjson(summary: &Summary) -> Vec<u8> {
    let mut out = Vec::new();
    for violation in &summary.violations {
        if let Ok(line) = jcs::to_canonical_vec(violation) {
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
    }
    out
}

fn table(summary: &Summary) -> String {
    let mut out = String::new();
    let headers = ["CODE", "COLLECTION", "DOCUMENT", "PATH", "MESSAGE"];
    let rows: Vec<[String; 5]> = summary
        .violations
        .iter()
        .map(|v| {
            [
                v.code.clone(),
                v.collection.clone(),
                clip(&v.document_id, 40),
                clip(if v.path.is_empty() { "/" } else { &v.path }, 40),
                tool_cli::sanitize(&v.message),
            ]
        })
        .collect();
    if !rows.is_empty() {
        let mut widths = headers.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row).take(4) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut line = |cells: [&str; 5]| {
            for (i, cell) in cells.iter().enumerate() {
                if i < 4 {
                    let _ = write!(out, "{cell:<width$}  ", width = widths[i]);
                } else {
                    let _ = writeln!(out, "{cell}");
                }
            }
        };
        line(headers);
        for row in &rows {
            line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} scanned, {} in scope, {}{}",
        crate::plural(summary.documents_scanned, "document"),
        summary.documents_in_scope,
        crate::plural(summary.total(), "violation"),
        if summary.truncated {
            format!(" ({} listed)", summary.violations.len())
        } else {
            String::new()
        }
    );
    for (code, count) in &summary.by_code {
        let title = Code::parse(code).map_or("", Code::title);
        let _ = writeln!(out, "  {code}  {count:>8}  {title}");
    }
    out
}

fn clip(text: &str, max: usize) -> String {
    let clean = tool_cli::sanitize(text);
    if clean.chars().count() <= max {
        clean
    } else {
        let cut: String = clean.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// Escapes text for XML attribute values and character data; drops the characters XML 1.0
/// cannot carry at all.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a test suite per collection read, a test case per code; a code with violations
/// is a failure listing them (those in the report).
fn junit(summary: &Summary) -> String {
    let mut collections: Vec<&String> = summary.scanned_by_collection.keys().collect();
    for (collection, _) in summary.by_collection_code.keys() {
        if !collections.contains(&collection) {
            collections.push(collection);
        }
    }
    collections.sort();
    let codes: Vec<Code> = Code::ALL
        .into_iter()
        .filter(|code| summary.codes.selects(*code))
        .collect();
    let failures_total: usize = summary.by_collection_code.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"aoc-verify\" tests=\"{}\" failures=\"{failures_total}\">",
        collections.len() * codes.len()
    );
    for collection in collections {
        let failures = summary
            .by_collection_code
            .keys()
            .filter(|(c, _)| c == collection)
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
            xml(collection),
            codes.len()
        );
        let _ = writeln!(
            out,
            "    <properties><property name=\"documentsScanned\" value=\"{}\"/></properties>",
            summary
                .scanned_by_collection
                .get(collection)
                .copied()
                .unwrap_or(0)
        );
        for &code in &codes {
            let name = format!("{} {}", code.as_str(), code.title());
            let count = summary
                .by_collection_code
                .get(&(collection.clone(), code.as_str().to_owned()))
                .copied()
                .unwrap_or(0);
            if count == 0 {
                let _ = writeln!(
                    out,
                    "    <testcase classname=\"aoc.{}\" name=\"{}\"/>",
                    xml(collection),
                    xml(&name)
                );
                continue;
            }
            let _ = writeln!(
                out,
                "    <testcase classname=\"aoc.{}\" name=\"{}\">",
                xml(collection),
                xml(&name)
            );
            let _ = write!(
                out,
                "      <failure type=\"{}\" message=\"{count} violation{}\">",
                code.as_str(),
                if count == 1 { "" } else { "s" }
            );
            for v in summary
                .violations
                .iter()
                .filter(|v| &v.collection == collection && v.code == code.as_str())
            {
                let _ = write!(
                    out,
                    "\n{} {}: {}",
                    xml(&v.document_id),
                    xml(if v.path.is_empty() { "/" } else { &v.path }),
                    xml(&v.message)
                );
            }
            out.push_str("</failure>\n    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// A Prometheus label value (backslash, quote and newline escaped).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn prometheus(summary: &Summary, duration: Duration) -> String {
    let mut out = String::new();
    out.push_str(
        "# HELP aoc_violation_total Aggregation-Only Contract violations found, by source, tenant and code.\n\
         # TYPE aoc_violation_total counter\n",
    );
    for ((source, tenant, code), count) in &summary.by_label {
        let _ = writeln!(
            out,
            "aoc_violation_total{{source=\"{}\",tenant=\"{}\",code=\"{}\"}} {count}",
            label(source),
            label(tenant),
            label(code)
        );
    }
    out.push_str(
        "# HELP aoc_documents_scanned_total Documents read, by collection.\n\
         # TYPE aoc_documents_scanned_total counter\n",
    );
    for (collection, count) in &summary.scanned_by_collection {
        let _ = writeln!(
            out,
            "aoc_documents_scanned_total{{collection=\"{}\"}} {count}",
            label(collection)
        );
    }
    out.push_str(
        "# HELP aoc_documents_in_scope Documents inside the window and filters of the run.\n\
         # TYPE aoc_documents_in_scope gauge\n",
    );
    let _ = writeln!(out, "aoc_documents_in_scope {}", summary.documents_in_scope);
    out.push_str(
        "# HELP aoc_verify_duration_seconds Wall time of the run.\n\
         # TYPE aoc_verify_duration_seconds gauge\n",
    );
    let _ = writeln!(
        out,
        "aoc_verify_duration_seconds {:.3}",
        duration.as_secs_f64()
    );
    out.push_str(
        "# HELP verify_runs_total Verify runs, by result.\n\
         # TYPE verify_runs_total counter\n",
    );
    let result = if summary.total() == 0 {
        "clean"
    } else {
        "violations"
    };
    let _ = writeln!(
        out,
        "verify_runs_total{{tool=\"aoc-verify\",result=\"{result}\"}} 1"
    );
    out
}

/// A temporary file in `dir` for an output renamed into place when complete, readable by
/// all like any file the tool writes (tempfile's own default is 0600), within the umask.
pub fn temp_file_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix(".aoc-verify.")
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
}

/// Writes `aoc-report.json`, `violations.ndjson`, `junit.xml` and `aoc.prom` into `dir`, each
/// through a temporary file renamed into place.
pub fn write_report_dir(dir: &Path, summary: &Summary, duration: Duration) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, format) in [
        ("aoc-report.json", Format::Json),
        ("violations.ndjson", Format::Ndjson),
        ("junit.xml", Format::Junit),
        ("aoc.prom", Format::Prometheus),
    ] {
        let bytes = render(format, summary, duration);
        let mut temp = temp_file_in(dir)?;
        std::io::Write::write_all(&mut temp, &bytes)?;
        temp.as_file().sync_all()?;
        temp.persist(dir.join(name)).map_err(|e| e.error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_and_label_escaping() {
        assert_eq!(xml("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;\\u{1}");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
