//! `aoc-verify` through the real binary: every code on documents built here, with its JSON
//! Pointer; the window, filters, limit and formats; malformed input; the guard; determinism.
//!
//! Fixture hashes are computed with offline-formats' RFC 8785 implementation (tested against
//! the RFC's own vectors), not with the tool's own `raw_hash`.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test binary: a failed expectation is a failed test"
)]

#[path = "support/docs.rs"]
mod docs;
#[path = "support/run.rs"]
mod run_support;

use docs::{advisory, clean, ndjson, remove, set, sha256_hex, vex};
use flate2::write::GzEncoder;
use run_support::{run, run_with_stdin, Run, BIN};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Checks `documents` as an advisory_raw export; the report and exit code.
fn check(documents: &[Value], extra: &[&str]) -> Run {
    let mut args = vec!["--collection", "advisory_raw"];
    args.extend_from_slice(extra);
    args.push("-");
    run_with_stdin(&args, &ndjson(documents))
}

fn check_vex(documents: &[Value]) -> Run {
    run_with_stdin(&["--collection", "vex_raw", "-"], &ndjson(documents))
}

/// (code, path) of the single document's violations.
fn codes(run: &Run) -> Vec<(String, String)> {
    run.violations()
        .into_iter()
        .map(|(code, _, path)| (code, path))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn a_clean_export_passes_with_a_complete_report() {
    let docs = [
        clean(),
        advisory("adv-2", "tenant-a", "ghsa", "GHSA-dddd-eeee-ffff", 3),
    ];
    let run = check(&docs, &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["schema"], "stellaops.aoc-report/v1");
    assert_eq!(report["documentsScanned"], 2);
    assert_eq!(report["documentsInScope"], 2);
    assert_eq!(report["violationsTotal"], 0);
    assert_eq!(report["truncated"], false);
    assert_eq!(report["collections"], json!({"advisory_raw": 2}));
    assert!(report.get("violations").is_none());
    assert!(run
        .stderr
        .contains("2 documents scanned (2 in scope): no violation"));
    // Upstream severity inside content.raw is the upstream's own fact: not a violation.
    assert!(docs[0].pointer("/content/raw/severity").is_some());
}

#[test]
fn err_aoc_001_forbidden_fields_outside_the_raw_payload() {
    let mut doc = clean();
    set(&mut doc, "/severity", json!("HIGH"));
    set(&mut doc, "/linkset/cvss", json!(9.8));
    set(&mut doc, "/identifiers/aliases", json!([{"risk_score": 3}]));
    set(&mut doc, "/upstream/consensus_provider", json!("nvd"));
    set(&mut doc, "/content/reachability", json!("reachable"));
    let run = check(&[doc], &[]);
    assert_eq!(run.code, Some(1));
    let mut got = codes(&run);
    got.sort();
    assert_eq!(
        got,
        pairs(&[
            ("ERR_AOC_001", "/identifiers/aliases/0/risk_score"),
            ("ERR_AOC_001", "/linkset/cvss"),
            ("ERR_AOC_001", "/severity"),
            ("ERR_AOC_001", "/upstream/consensus_provider"),
        ])
    );
    let report = run.report();
    assert_eq!(report["counts"]["byCode"], json!({"ERR_AOC_001": 4}));
    assert_eq!(report["counts"]["bySource"], json!({"osv": 4}));
    assert_eq!(report["counts"]["byTenant"], json!({"tenant-a": 4}));
    assert_eq!(report["violations"][0]["documentId"], "adv-1");
    assert_eq!(report["violations"][0]["collection"], "advisory_raw");
}

#[test]
fn err_aoc_002_merges() {
    let mut doc = clean();
    set(&mut doc, "/merged_from", json!(["adv-0", "adv-9"]));
    set(&mut doc, "/linkset/merged_from", json!(["x"]));
    let run = check(&[doc], &[]);
    let mut got = codes(&run);
    got.sort();
    assert_eq!(
        got,
        pairs(&[
            ("ERR_AOC_002", "/linkset/merged_from"),
            ("ERR_AOC_002", "/merged_from")
        ])
    );

    let mut doc = clean();
    let source = doc["source"].clone();
    set(&mut doc, "/source", json!([source.clone(), source]));
    let run = check(&[doc], &[]);
    assert_eq!(
        codes(&run),
        pairs(&[("ERR_AOC_002", "/source")]),
        "{}",
        run.text()
    );

    let mut doc = clean();
    let upstream = doc["upstream"].clone();
    set(&mut doc, "/upstream", json!([upstream]));
    let run = check(&[doc], &[]);
    assert_eq!(
        codes(&run),
        pairs(&[("ERR_AOC_002", "/upstream")]),
        "{}",
        run.text()
    );
}

#[test]
fn err_aoc_004_missing_provenance_each_required_field() {
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        ("/tenant", None, "missing `tenant`"),
        ("/tenant", Some(json!("")), "`tenant` is empty"),
        ("/tenant", Some(Value::Null), "`tenant` is null"),
        (
            "/source/vendor",
            Some(json!(7)),
            "`source.vendor` is a number",
        ),
        (
            "/upstream/upstream_id",
            None,
            "missing `upstream.upstream_id`",
        ),
        (
            "/upstream/retrieved_at",
            Some(json!("last tuesday")),
            "not an RFC 3339 date",
        ),
        (
            "/upstream/retrieved_at",
            Some(json!(1_700_000_000)),
            "is a number; it must be a date",
        ),
        (
            "/upstream/content_hash",
            Some(json!("sha256:ABC")),
            "64 lowercase hex digits",
        ),
        (
            "/upstream/content_hash",
            None,
            "missing `upstream.content_hash`",
        ),
        (
            "/upstream/signature/present",
            Some(json!("false")),
            "is a string; it must be true or false",
        ),
        (
            "/upstream/signature",
            None,
            "missing `upstream.signature.present`",
        ),
        (
            "/content/format",
            Some(json!([])),
            "`content.format` is an array",
        ),
        ("/content/raw", None, "missing `content.raw`"),
        ("/content/raw", Some(json!({})), "`content.raw` is empty"),
    ];
    for (pointer, value, message) in cases {
        let mut doc = clean();
        match &value {
            None => remove(&mut doc, pointer),
            Some(v) => set(&mut doc, pointer, v.clone()),
        }
        let run = check(&[doc], &[]);
        assert_eq!(run.code, Some(1), "{pointer}");
        let report = run.report();
        let violations = report["violations"].as_array().unwrap();
        let want_path = if pointer == "/upstream/signature" {
            "/upstream/signature/present"
        } else {
            pointer
        };
        let found = violations
            .iter()
            .find(|v| v["code"] == "ERR_AOC_004" && v["path"] == want_path)
            .unwrap_or_else(|| panic!("{pointer} {value:?}: {violations:?}"));
        assert!(
            found["message"].as_str().unwrap().contains(message),
            "{pointer}: {found}"
        );
        // Nothing but missing provenance is reported for these.
        assert!(
            violations.iter().all(|v| v["code"] == "ERR_AOC_004"),
            "{pointer}: {violations:?}"
        );
    }
}

#[test]
fn err_aoc_005_hash_and_signature_mismatches() {
    let mut doc = clean();
    set(
        &mut doc,
        "/content/raw/summary",
        json!("edited after ingestion"),
    );
    let run = check(&[doc], &[]);
    assert_eq!(
        codes(&run),
        pairs(&[("ERR_AOC_005", "/upstream/content_hash")])
    );
    assert!(run.report()["violations"][0]["message"]
        .as_str()
        .unwrap()
        .contains("but content.raw hashes to sha256:"));

    let mut doc = clean();
    set(
        &mut doc,
        "/upstream/signature",
        json!({"present": true, "format": "dsse"}),
    );
    assert_eq!(
        codes(&check(&[doc], &[])),
        pairs(&[("ERR_AOC_005", "/upstream/signature/sig")])
    );
    let mut doc = clean();
    set(&mut doc, "/upstream/signature", json!({"present": true}));
    assert_eq!(
        codes(&check(&[doc], &[])),
        pairs(&[
            ("ERR_AOC_005", "/upstream/signature/format"),
            ("ERR_AOC_005", "/upstream/signature/sig")
        ])
    );
    let mut doc = clean();
    set(
        &mut doc,
        "/upstream/signature",
        json!({"present": false, "sig": "MEUCIQ"}),
    );
    assert_eq!(
        codes(&check(&[doc], &[])),
        pairs(&[("ERR_AOC_005", "/upstream/signature/sig")])
    );
    let mut doc = clean();
    set(
        &mut doc,
        "/upstream/signature",
        json!({"present": true, "format": "pgp", "key_id": "0xABCD", "sig": "iQIz"}),
    );
    assert_eq!(check(&[doc], &[]).code, Some(0));

    // A string payload hashes its UTF-8 bytes.
    let mut doc = clean();
    let text = "<?xml version=\"1.0\"?><cvrf>…</cvrf>";
    set(&mut doc, "/content/raw", json!(text));
    set(
        &mut doc,
        "/upstream/content_hash",
        json!(sha256_hex(text.as_bytes())),
    );
    assert_eq!(check(&[doc.clone()], &[]).code, Some(0));
    set(&mut doc, "/content/raw", json!(format!("{text} ")));
    assert_eq!(
        codes(&check(&[doc], &[])),
        pairs(&[("ERR_AOC_005", "/upstream/content_hash")])
    );
}

#[test]
fn err_aoc_006_and_007() {
    let mut doc = clean();
    set(&mut doc, "/effective_severity", json!("high"));
    set(&mut doc, "/linkset/effective_purls", json!([]));
    set(&mut doc, "/triage_notes", json!("looked at it"));
    set(&mut doc, "/content/effective_x", json!(1));
    let run = check(&[doc], &[]);
    let mut got = codes(&run);
    got.sort();
    assert_eq!(
        got,
        pairs(&[
            ("ERR_AOC_006", "/effective_severity"),
            ("ERR_AOC_006", "/linkset/effective_purls"),
            ("ERR_AOC_007", "/triage_notes"),
        ])
    );
}

fn revision(id: &str, revision: u32, supersedes: Option<&str>) -> Value {
    let mut doc = advisory(id, "tenant-a", "osv", "GHSA-aaaa-bbbb-cccc", revision);
    set(
        &mut doc,
        "/supersedes",
        supersedes.map_or(Value::Null, |s| json!(s)),
    );
    doc
}

#[test]
fn err_aoc_003_revision_chains() {
    // A good chain, read out of order: clean.
    let chain = [
        revision("r3", 3, Some("r2")),
        revision("r1", 1, None),
        revision("r2", 2, Some("r1")),
    ];
    let run = check(&chain, &[]);
    assert_eq!(run.code, Some(0), "{}", run.text());

    // (documents, expected (code, documentId, path), what every message says)
    type Case = (
        Vec<Value>,
        Vec<(&'static str, &'static str, &'static str)>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            vec![revision("r1", 1, None), revision("r1-again", 1, None)],
            vec![("ERR_AOC_003", "r1-again", "/upstream/content_hash")],
            "duplicate of `r1`",
        ),
        (
            vec![revision("r1", 1, None), revision("r2", 2, None)],
            vec![("ERR_AOC_003", "r2", "/supersedes")],
            "does not name the revision it supersedes",
        ),
        (
            vec![revision("r1", 1, None), revision("r2", 2, Some("gone"))],
            vec![("ERR_AOC_003", "r2", "/supersedes")],
            "not among the documents read",
        ),
        (
            vec![
                revision("r1", 1, None),
                revision("r2", 2, Some("r1")),
                revision("r3", 3, Some("r1")),
            ],
            vec![("ERR_AOC_003", "r3", "/supersedes")],
            "which `r2` already supersedes",
        ),
        (
            vec![revision("r1", 1, Some("r2")), revision("r2", 2, Some("r1"))],
            vec![
                ("ERR_AOC_003", "r1", "/supersedes"),
                ("ERR_AOC_003", "r2", "/supersedes"),
            ],
            "revision cycle",
        ),
        (
            vec![revision("r1", 1, Some("r1"))],
            vec![("ERR_AOC_003", "r1", "/supersedes")],
            "revision cycle",
        ),
        (
            vec![revision("r1", 1, Some("r2")), revision("r2", 2, None)],
            vec![("ERR_AOC_003", "r1", "/supersedes")],
            "a later revision",
        ),
        (
            vec![
                revision("r1", 1, None),
                advisory("other", "tenant-a", "osv", "GHSA-zzzz-zzzz-zzzz", 1),
                revision("r2", 2, Some("other")),
            ],
            vec![("ERR_AOC_003", "r2", "/supersedes")],
            "another chain",
        ),
        (
            vec![revision("r1", 1, None), {
                let mut d = revision("r2", 2, None);
                set(&mut d, "/supersedes", json!(17));
                d
            }],
            vec![("ERR_AOC_003", "r2", "/supersedes")],
            "supersedes is a number",
        ),
    ];
    for (docs, want, message) in cases {
        let run = check(&docs, &[]);
        assert_eq!(run.code, Some(1), "{message}: {}", run.text());
        let got = run.violations();
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(c, i, p)| ((*c).to_owned(), (*i).to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(got, want, "{message}");
        let report = run.report();
        assert!(
            report["violations"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["message"].as_str().unwrap().contains(message)),
            "{message}: {report}"
        );
    }
}

#[test]
fn chains_are_per_tenant_vendor_and_upstream_id() {
    // The same upstream document for two tenants, and from two vendors: four first
    // revisions, no violation.
    let docs = [
        advisory("a", "tenant-a", "osv", "GHSA-1", 1),
        advisory("b", "tenant-b", "osv", "GHSA-1", 1),
        advisory("c", "tenant-a", "ghsa", "GHSA-1", 1),
        advisory("d", "tenant-a", "osv", "GHSA-2", 1),
    ];
    assert_eq!(check(&docs, &[]).code, Some(0));
}

#[test]
fn vex_raw_digest_id_and_uniqueness() {
    let good = vex("{\"document\": {\"category\": \"csaf_vex\"}}");
    let run = check_vex(std::slice::from_ref(&good));
    assert_eq!(run.code, Some(0), "{}", run.text());

    let mut tampered = good.clone();
    set(&mut tampered, "/content", json!("{\"document\": {}}"));
    assert_eq!(
        codes(&check_vex(&[tampered])),
        pairs(&[("ERR_AOC_005", "/digest")])
    );

    let mut renamed = good.clone();
    set(&mut renamed, "/_id", json!("vex-1"));
    assert_eq!(
        codes(&check_vex(&[renamed])),
        pairs(&[("ERR_AOC_005", "/_id")])
    );

    let run = check_vex(&[good.clone(), good.clone()]);
    assert_eq!(codes(&run), pairs(&[("ERR_AOC_003", "/_id")]));

    let mut bad = good.clone();
    set(&mut bad, "/format", json!("spdx"));
    set(&mut bad, "/retrievedAt", json!("2026-13-45"));
    set(&mut bad, "/metadata", json!({"etag": 5}));
    remove(&mut bad, "/providerId");
    set(&mut bad, "/effective_status", json!("fixed"));
    set(&mut bad, "/cvss", json!(5.0));
    let mut got = codes(&check_vex(&[bad]));
    got.sort();
    assert_eq!(
        got,
        pairs(&[
            ("ERR_AOC_001", "/cvss"),
            ("ERR_AOC_004", "/format"),
            ("ERR_AOC_004", "/metadata/etag"),
            ("ERR_AOC_004", "/providerId"),
            ("ERR_AOC_004", "/retrievedAt"),
            ("ERR_AOC_006", "/effective_status"),
        ])
    );

    // Binary content, as a BSON export carries it.
    let bytes = b"binary csaf";
    let digest = sha256_hex(bytes);
    let mut binary = good;
    set(&mut binary, "/_id", json!(digest));
    set(&mut binary, "/digest", json!(digest));
    set(
        &mut binary,
        "/content",
        json!({"$binary": {"base64": "YmluYXJ5IGNzYWY=", "subType": "00"}}),
    );
    let run = check_vex(&[binary]);
    assert_eq!(run.code, Some(0), "{}", run.text());
}

#[test]
fn canonical_extended_json_is_read_like_relaxed() {
    // The same document as mongoexport --jsonFormat=canonical writes it: numbers and dates
    // wrapped; the content hash still matches the upstream JSON.
    let mut doc = clean();
    set(
        &mut doc,
        "/_id",
        json!({"$oid": "6543210fedcba98765432100"}),
    );
    set(
        &mut doc,
        "/content/raw/database_specific",
        json!({
            "cwe_ids": ["CWE-1321"],
            "github_reviewed": true,
            "score": {"$numberDouble": "9.8"},
            "count": {"$numberInt": "12"}
        }),
    );
    set(
        &mut doc,
        "/upstream/retrieved_at",
        json!({"$date": {"$numberLong": "1795860000000"}}),
    );
    let run = check(&[doc], &[]);
    assert_eq!(run.code, Some(0), "{}", run.text());
}

#[test]
fn since_window_reports_only_recent_documents_but_chains_see_everything() {
    // r1 is old (outside the window), r2 supersedes it correctly; r2b is a recent revision
    // without supersedes; an old document with a violation is not reported.
    let mut old_bad = advisory("old", "tenant-a", "osv", "GHSA-old", 1);
    set(&mut old_bad, "/severity", json!("LOW"));
    let docs = [
        revision("r1", 1, None),
        revision("r2", 20, Some("r1")),
        revision("r2b", 21, None),
        old_bad,
    ];
    let run = check(&docs, &["--since", "48h", "--now", "2026-11-23T00:00:00Z"]);
    assert_eq!(run.code, Some(1));
    let report = run.report();
    assert_eq!(report["window"], json!({"from": "2026-11-21T00:00:00Z"}));
    assert_eq!(report["documentsScanned"], 4);
    assert_eq!(report["documentsInScope"], 2);
    assert_eq!(
        run.violations(),
        [("ERR_AOC_003".into(), "r2b".into(), "/supersedes".into())]
    );
    // An RFC 3339 --since far back reports everything.
    let run = check(&docs, &["--since", "2000-01-01T00:00:00Z"]);
    assert_eq!(run.report()["violationsTotal"], 2);
}

#[test]
fn window_falls_back_to_retrieved_at_then_object_id_time() {
    let mut doc = clean();
    remove(&mut doc, "/ingested_at");
    set(&mut doc, "/severity", json!("x"));
    // retrieved_at 2026-11-02.
    let run = check(&[doc.clone()], &["--since", "2026-11-03T00:00:00Z"]);
    assert_eq!(
        (run.code, run.report()["documentsInScope"].clone()),
        (Some(0), json!(0))
    );
    let run = check(&[doc.clone()], &["--since", "2026-11-01T00:00:00Z"]);
    assert_eq!(run.code, Some(1));
    // Neither date: the ObjectId's time (0x6543210f = 2023-11-02T04:09:51Z).
    remove(&mut doc, "/upstream/retrieved_at");
    set(
        &mut doc,
        "/_id",
        json!({"$oid": "6543210fedcba98765432100"}),
    );
    let run = check(
        &[doc.clone()],
        &["--since", "2023-11-02T04:09:52Z", "--codes", "1"],
    );
    assert_eq!(run.code, Some(0), "{}", run.text());
    let run = check(&[doc], &["--since", "2023-11-02T04:09:51Z", "--codes", "1"]);
    assert_eq!(run.code, Some(1));
}

#[test]
fn tenant_source_codes_and_limit() {
    let mut docs = Vec::new();
    for i in 0..10 {
        let tenant = if i % 2 == 0 { "tenant-a" } else { "tenant-b" };
        let vendor = if i < 5 { "osv" } else { "ghsa" };
        let mut doc = advisory(&format!("d{i}"), tenant, vendor, &format!("GHSA-{i}"), 1);
        set(&mut doc, "/severity", json!("HIGH"));
        set(&mut doc, "/triage", json!(true));
        docs.push(doc);
    }
    let run = check(&docs, &["--limit", "3"]);
    let report = run.report();
    assert_eq!(report["violationsTotal"], 20);
    assert_eq!(report["truncated"], true);
    assert_eq!(report["violations"].as_array().unwrap().len(), 3);
    assert_eq!(
        report["counts"]["byCode"],
        json!({"ERR_AOC_001": 10, "ERR_AOC_007": 10})
    );
    assert_eq!(
        report["counts"]["byTenant"],
        json!({"tenant-a": 10, "tenant-b": 10})
    );

    let run = check(&docs, &["--tenant", "tenant-b", "--source", "osv"]);
    let report = run.report();
    assert_eq!(report["documentsInScope"], 2);
    assert_eq!(report["violationsTotal"], 4);

    let run = check(&docs, &["--codes", "ERR_AOC_007"]);
    assert_eq!(run.report()["counts"]["byCode"], json!({"ERR_AOC_007": 10}));
    let run = check(&docs, &["--codes", "3,5"]);
    assert_eq!(run.code, Some(0));

    let run = check(&docs, &["--codes", "ERR_AOC_009"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("`ERR_AOC_009` is not a code"),
        "{}",
        run.stderr
    );
}

#[test]
fn output_formats_and_report_dir() {
    let mut bad = clean();
    set(&mut bad, "/severity", json!("HIGH"));
    set(&mut bad, "/tenant", json!("tenant-\"q\""));
    let docs = [bad, advisory("ok", "tenant-a", "osv", "GHSA-2", 1)];

    let run = check(&docs, &["--format", "ndjson"]);
    let lines: Vec<Value> = run
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["code"], "ERR_AOC_001");
    assert_eq!(lines[0]["tenant"], "tenant-\"q\"");

    let run = check(&docs, &["--format", "table"]);
    let text = run.text();
    assert!(text.starts_with("CODE"), "{text}");
    assert!(text.contains("ERR_AOC_001  advisory_raw  adv-1"), "{text}");
    assert!(
        text.contains("2 documents scanned, 2 in scope, 1 violation\n"),
        "{text}"
    );

    let run = check(&docs, &["--format", "prometheus"]);
    let text = run.text();
    assert!(
        text.contains("aoc_violation_total{source=\"osv\",tenant=\"tenant-\\\"q\\\"\",code=\"ERR_AOC_001\"} 1"),
        "{text}"
    );
    assert!(text.contains("aoc_documents_scanned_total{collection=\"advisory_raw\"} 2"));
    assert!(text.contains("# TYPE aoc_verify_duration_seconds gauge\naoc_verify_duration_seconds "));
    assert!(text.contains("verify_runs_total{tool=\"aoc-verify\",result=\"violations\"} 1"));

    let run = check(&docs, &["--format", "junit"]);
    let text = run.text();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"aoc-verify\" tests=\"8\" failures=\"1\">"), "{text}");
    assert!(
        text.contains("<failure type=\"ERR_AOC_001\" message=\"1 violation\">"),
        "{text}"
    );
    assert!(text
        .contains("<testcase classname=\"aoc.advisory_raw\" name=\"ERR_AOC_002 merge attempt\"/>"));

    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("artefacts");
    let run = check(
        &docs,
        &[
            "--report-dir",
            reports.to_str().unwrap(),
            "--format",
            "table",
        ],
    );
    assert_eq!(run.code, Some(1));
    let mut names: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "aoc-report.json",
            "aoc.prom",
            "junit.xml",
            "violations.ndjson"
        ]
    );
    let json_report: Value =
        serde_json::from_slice(&std::fs::read(reports.join("aoc-report.json")).unwrap()).unwrap();
    assert_eq!(json_report["violationsTotal"], 1);
    assert_eq!(
        std::fs::read(reports.join("violations.ndjson")).unwrap(),
        check(&docs, &["--format", "ndjson"]).stdout
    );
}

#[test]
fn malformed_documents_stop_the_run_or_count_with_keep_going() {
    let mut input = ndjson(&[clean()]);
    input.extend_from_slice(b"{\"_id\": \"broken\", \"tenant\": \n");
    input.extend_from_slice(b"[1, 2]\n");
    let run = run_with_stdin(&["--collection", "advisory_raw", "-"], &input);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("aoc-verify: error: <stdin>:2: "),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    let run = run_with_stdin(
        &["--collection", "advisory_raw", "--keep-going", "-"],
        &input,
    );
    assert_eq!(run.code, Some(1));
    let report = run.report();
    assert_eq!(report["counts"]["byCode"], json!({"ERR_AOC_PARSE": 2}));
    assert_eq!(report["violations"][0]["documentId"], "<stdin>:2");
    assert!(report["violations"][1]["message"]
        .as_str()
        .unwrap()
        .contains("not a document: an array"));
}

#[test]
fn inputs_gzip_json_array_files_and_collection_from_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = clean();
    set(&mut bad, "/severity", json!("HIGH"));
    let docs = [clean(), bad];

    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&ndjson(&docs)).unwrap();
    let gz_path = write(dir.path(), "advisory_raw.ndjson.gz", &gz.finish().unwrap());
    let array = serde_json::to_vec_pretty(&docs).unwrap();
    let array_path = write(dir.path(), "prod.advisory_raw.json", &array);
    let vex_path = write(dir.path(), "vex_raw.jsonl", &ndjson(&[vex("{}")]));

    let run = run(&[
        gz_path.to_str().unwrap(),
        array_path.to_str().unwrap(),
        vex_path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let report = run.report();
    assert_eq!(
        report["collections"],
        json!({"advisory_raw": 4, "vex_raw": 1})
    );
    // The four advisory documents are one revision (one content hash) written four times.
    assert_eq!(
        report["counts"]["byCode"],
        json!({"ERR_AOC_001": 2, "ERR_AOC_003": 3})
    );

    let unnamed = write(dir.path(), "export.ndjson", &ndjson(&docs));
    let run = self::run(&[unnamed.to_str().unwrap()]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("cannot tell which collection"),
        "{}",
        run.stderr
    );
    let run = self::run(&["--collection", "advisories", unnamed.to_str().unwrap()]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("unknown collection `advisories`"),
        "{}",
        run.stderr
    );
    let run = self::run(&[
        dir.path().join("missing.ndjson").to_str().unwrap(),
        "--collection",
        "vex_raw",
    ]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("missing.ndjson"), "{}", run.stderr);
    let run = self::run(&[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("nothing to check"), "{}", run.stderr);
}

#[test]
fn output_is_identical_for_any_thread_count() {
    let mut docs = Vec::new();
    for i in 0..3000 {
        let mut doc = advisory(
            &format!("d{i}"),
            "tenant-a",
            "osv",
            &format!("GHSA-{}", i / 3),
            i % 3 + 1,
        );
        if i % 3 != 0 {
            set(&mut doc, "/supersedes", json!(format!("d{}", i - 1)));
        }
        if i % 7 == 0 {
            set(&mut doc, "/severity", json!("HIGH"));
        }
        if i % 11 == 0 {
            set(&mut doc, "/supersedes", Value::Null);
        }
        docs.push(doc);
    }
    let one = check(&docs, &["--jobs", "1"]);
    let two = check(&docs, &["--jobs", "2"]);
    let four = check(&docs, &["--jobs", "4"]);
    assert_eq!(one.code, Some(1));
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.stdout, four.stdout);
    let report = one.report();
    assert_eq!(report["counts"]["byCode"]["ERR_AOC_001"], 429);
    assert!(report["counts"]["byCode"]["ERR_AOC_003"].as_u64().unwrap() > 0);
}

#[test]
fn rules_extension_and_rules_command() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(
        dir.path(),
        "next.yaml",
        b"schema: stellaops.aoc-rules/v1\nforbiddenFields: [kev]\ncollections:\n  advisory_raw:\n    topLevel: [ingest_run]\n    required:\n      - {path: /ingest_run, type: string}\n",
    );
    let mut doc = clean();
    set(&mut doc, "/linkset/kev", json!(true));
    let run = check(&[doc.clone()], &["--rules", rules.to_str().unwrap()]);
    let mut got = codes(&run);
    got.sort();
    assert_eq!(
        got,
        pairs(&[
            ("ERR_AOC_001", "/linkset/kev"),
            ("ERR_AOC_004", "/ingest_run")
        ])
    );
    set(&mut doc, "/ingest_run", json!("run-7"));
    // Without the extension the new field is unknown, with it the document is clean but kev.
    assert_eq!(
        codes(&check(&[doc.clone()], &[])),
        pairs(&[("ERR_AOC_007", "/ingest_run")])
    );

    let printed = self::run(&["rules", "--rules", rules.to_str().unwrap()]);
    assert_eq!(printed.code, Some(0));
    let yaml: serde_yaml::Value = serde_yaml::from_slice(&printed.stdout).unwrap();
    assert!(yaml["forbiddenFields"]
        .as_sequence()
        .unwrap()
        .contains(&serde_yaml::Value::from("kev")));

    let broken = write(
        dir.path(),
        "broken.yaml",
        b"schema: stellaops.aoc-rules/v1\nforbidden: [x]\n",
    );
    let run = check(&[doc], &["--rules", broken.to_str().unwrap()]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("broken.yaml: unknown field `forbidden`"),
        "{}",
        run.stderr
    );
}

#[test]
fn guard_passes_clean_lines_byte_for_byte_and_rejects_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = revision("bad", 2, Some("r1"));
    set(&mut bad, "/severity", json!("HIGH"));
    // Odd but valid spacing and key order must survive the pass-through.
    let clean_line = format!(
        "{{ \"tenant\" : \"tenant-a\",   {}\r\n",
        &serde_json::to_string(&clean()).unwrap()[1..].replacen("\"tenant\":\"tenant-a\",", "", 1)
    );
    let mut input = clean_line.clone().into_bytes();
    input.extend_from_slice(&ndjson(&[bad]));
    input.extend_from_slice(b"not json\n");
    input.extend_from_slice(clean_line.as_bytes()); // an exact repeat: ERR_AOC_003
    let other = serde_json::to_string(&advisory("z", "tenant-a", "osv", "GHSA-9", 1)).unwrap();
    input.extend_from_slice(other.as_bytes()); // last line without a newline

    let rejects = dir.path().join("rejects.ndjson");
    let run = run_with_stdin(
        &[
            "guard",
            "--collection",
            "advisory_raw",
            "--rejects",
            rejects.to_str().unwrap(),
        ],
        &input,
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let mut want = clean_line.into_bytes();
    want.extend_from_slice(other.as_bytes());
    want.push(b'\n');
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&want)
    );
    assert!(
        run.stderr.contains("5 documents: 2 passed, 3 rejected"),
        "{}",
        run.stderr
    );

    let rejected: Vec<Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejected.len(), 3);
    assert_eq!(rejected[0]["code"], "ERR_AOC_001");
    assert_eq!(rejected[0]["documentId"], "bad");
    assert_eq!(rejected[0]["location"], "<stdin>:2");
    assert_eq!(rejected[0]["violations"][0]["path"], "/severity");
    assert_eq!(rejected[0]["document"]["severity"], "HIGH");
    assert_eq!(rejected[1]["code"], "ERR_AOC_PARSE");
    assert_eq!(rejected[1]["documentText"], "not json");
    assert_eq!(rejected[2]["code"], "ERR_AOC_003");

    // All clean: exit 0, no rejects.
    let run = run_with_stdin(
        &["guard", "--collection", "advisory_raw"],
        &ndjson(&[clean()]),
    );
    assert_eq!(run.code, Some(0));
    assert_eq!(run.stdout, ndjson(&[clean()]));
    // vex_raw duplicates in one stream.
    let v = vex("{}");
    let run = run_with_stdin(
        &["guard", "--collection", "vex_raw"],
        &ndjson(&[v.clone(), v.clone()]),
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, ndjson(&[v]));
    // Unknown collection.
    let run = run_with_stdin(&["guard", "--collection", "nope"], b"");
    assert_eq!(run.code, Some(2));

    // Rejects into a FIFO (as into /dev/stdout): written as the stream goes, never renamed
    // over the pipe.
    let fifo = dir.path().join("rejects.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let mut bad = clean();
    set(&mut bad, "/severity", json!("HIGH"));
    let run = run_with_stdin(
        &[
            "guard",
            "--collection",
            "advisory_raw",
            "--rejects",
            fifo.to_str().unwrap(),
        ],
        &ndjson(&[bad]),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let through_pipe = reader.join().unwrap();
    assert!(
        through_pipe.contains("\"code\":\"ERR_AOC_001\""),
        "{through_pipe}"
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());

    // Rejects through a symbolic link: the file it names is replaced, the link stays.
    let target = dir.path().join("target.ndjson");
    std::fs::write(&target, b"old\n").unwrap();
    let link = dir.path().join("link.ndjson");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut bad = clean();
    set(&mut bad, "/severity", json!("HIGH"));
    let run = run_with_stdin(
        &[
            "guard",
            "--collection",
            "advisory_raw",
            "--rejects",
            link.to_str().unwrap(),
        ],
        &ndjson(&[bad]),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let through_link = std::fs::read_to_string(&target).unwrap();
    assert!(
        through_link.starts_with("{\"code\":\"ERR_AOC_001\""),
        "{through_link}"
    );
}

#[test]
fn hostile_documents_never_crash_the_tool() {
    // Deep nesting, huge keys, odd Extended JSON: exit 1 or 2, never a crash.
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let inputs = [
        format!("{{\"_id\": \"x\", \"tenant\": {deep}}}\n"),
        format!("{{\"{}\": 1}}\n", "k".repeat(100_000)),
        "{\"_id\": {\"$oid\": 5}, \"upstream\": {\"retrieved_at\": {\"$date\": {\"$numberLong\": \"x\"}}}}\n".to_owned(),
        "{\"content\": {\"raw\": {\"$numberDouble\": \"NaN\"}}, \"upstream\": {\"content_hash\": \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"}}\n".to_owned(),
        "{\"supersedes\": {\"$oid\": \"zz\"}}\n".to_owned(),
    ];
    for input in inputs {
        let run = run_with_stdin(&["--collection", "advisory_raw", "-"], input.as_bytes());
        assert!(
            matches!(run.code, Some(1 | 2)),
            "{input:.80}: {:?} {}",
            run.code,
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn works_sealed_in_a_network_namespace_without_interfaces() {
    // CI runs as root; `unshare --net` gives a namespace with only a down loopback.
    let probe = Command::new("unshare")
        .args(["--net", "--", "cat", "/proc/net/dev"])
        .output()
        .expect("unshare (util-linux) is needed for this test");
    assert!(
        probe.status.success(),
        "`unshare --net` does not work here (this test needs root): {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let mut bad = clean();
    set(&mut bad, "/severity", json!("HIGH"));
    let input = write(dir.path(), "advisory_raw.ndjson", &ndjson(&[clean(), bad]));
    let sealed = Command::new("unshare")
        .args(["--net", "--", BIN, "--format", "ndjson"])
        .arg(&input)
        .output()
        .unwrap();
    let open = run(&["--format", "ndjson", input.to_str().unwrap()]);
    assert_eq!(
        sealed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&sealed.stderr)
    );
    assert_eq!(sealed.stdout, open.stdout);
}
