//! `aoc-verify` end to end on the bundled examples (examples/aoc/), as `cargo xtask demo` and
//! a CI step run it: every document it writes — the AOC report, each NDJSON violation, each
//! guard reject line, the rule set — valid against the published JSON Schemas, and the
//! report readable by the shared library.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

use e2e_tests::{assert_invalid_at, assert_valid, workspace_root};
use offline_formats::aoc_report::AocReport;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const REPORT: &str = "aoc-report.v1.schema.json";
const VIOLATION: &str = "aoc-violation.v1.schema.json";
const REJECT: &str = "aoc-guard-reject.v1.schema.json";
const RULES: &str = "aoc-rules.v1.schema.json";

/// The built `aoc-verify` beside this test's own folder (`<target>/<profile>/deps/..`).
fn aoc_verify() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test executable");
    let Some(profile_dir) = exe.parent().and_then(Path::parent) else {
        panic!("{}: not inside <target>/<profile>/deps", exe.display());
    };
    let bin = profile_dir.join("aoc-verify");
    assert!(
        bin.is_file(),
        "{}: not found; run `cargo build -p aoc-verify` first (`cargo xtask test` does)",
        bin.display()
    );
    bin
}

fn example(name: &str) -> String {
    workspace_root()
        .join("examples/aoc")
        .join(name)
        .display()
        .to_string()
}

fn run(args: &[&str], stdin: Option<&Path>) -> Output {
    let mut cmd = Command::new(aoc_verify());
    cmd.args(args).stdin(match stdin {
        Some(path) => Stdio::from(std::fs::File::open(path).unwrap()),
        None => Stdio::null(),
    });
    cmd.output().unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn reports_of_the_examples_validate_and_read_back() {
    let clean = run(
        &[&example("advisory_raw.ndjson"), &example("vex_raw.ndjson")],
        None,
    );
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    let report = json(&clean);
    assert_valid(REPORT, &report);
    assert!(report.get("violations").is_none());

    let bad = run(
        &[
            &example("bad-advisory_raw.ndjson"),
            &example("bad-vex_raw.ndjson"),
            "--since",
            "30d",
            "--now",
            "2026-11-28T00:00:00Z",
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    let report = json(&bad);
    assert_valid(REPORT, &report);
    let codes = report["counts"]["byCode"].as_object().unwrap();
    for code in 1..=7 {
        assert!(
            codes.contains_key(&format!("ERR_AOC_00{code}")),
            "the bad examples show every code: {codes:?}"
        );
    }
    let parsed: AocReport = serde_json::from_value(report.clone()).unwrap();
    assert_eq!(parsed.violations_total, parsed.violations.len() as u64);

    // Truncated, and with unreadable documents counted.
    let dir = tempfile::tempdir().unwrap();
    let mixed = dir.path().join("advisory_raw.ndjson");
    let mut text = std::fs::read(example("bad-advisory_raw.ndjson")).unwrap();
    text.extend_from_slice(b"{not json\n");
    std::fs::write(&mixed, text).unwrap();
    let out = run(
        &[mixed.to_str().unwrap(), "--keep-going", "--limit", "2"],
        None,
    );
    let report = json(&out);
    assert_valid(REPORT, &report);
    assert_eq!(report["truncated"], true);
    assert_eq!(report["counts"]["byCode"]["ERR_AOC_PARSE"], 1);

    // The schema refuses what a reader must not accept.
    let mut broken = report.clone();
    broken["violations"][0]["code"] = json!("ERR_AOC_008");
    assert_invalid_at(REPORT, &broken, "/violations/0/code");
    let mut broken = report;
    broken["schema"] = json!("stellaops.aoc-report/v2");
    assert_invalid_at(REPORT, &broken, "/schema");
}

#[test]
fn ndjson_violations_and_report_dir_files_validate() {
    let out = run(
        &[
            &example("bad-advisory_raw.ndjson"),
            &example("bad-vex_raw.ndjson"),
            "--format",
            "ndjson",
        ],
        None,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 7);
    for line in text.lines() {
        assert_valid(VIOLATION, &serde_json::from_str(line).unwrap());
    }

    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            &example("bad-advisory_raw.ndjson"),
            "--report-dir",
            dir.path().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("aoc-report.json")).unwrap())
            .unwrap();
    assert_valid(REPORT, &report);
    for line in std::fs::read_to_string(dir.path().join("violations.ndjson"))
        .unwrap()
        .lines()
    {
        assert_valid(VIOLATION, &serde_json::from_str(line).unwrap());
    }
}

#[test]
fn guard_rejects_validate() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    let input = dir.path().join("in.ndjson");
    let mut text = std::fs::read(example("bad-advisory_raw.ndjson")).unwrap();
    text.extend_from_slice(b"{not json\n");
    std::fs::write(&input, text).unwrap();
    let out = run(
        &[
            "guard",
            "--collection",
            "advisory_raw",
            "--rejects",
            rejects.to_str().unwrap(),
        ],
        Some(&input),
    );
    assert_eq!(out.status.code(), Some(1));
    let lines = std::fs::read_to_string(&rejects).unwrap();
    assert!(lines.lines().count() >= 2);
    for line in lines.lines() {
        assert_valid(REJECT, &serde_json::from_str(line).unwrap());
    }
}

#[test]
fn rule_sets_validate() {
    let out = run(
        &["rules", "--rules", &example("rules-ingest-run.yaml")],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let rules: Value = serde_yaml::from_slice(&out.stdout).unwrap();
    assert_valid(RULES, &rules);
    let extension: Value =
        serde_yaml::from_slice(&std::fs::read(example("rules-ingest-run.yaml")).unwrap()).unwrap();
    assert_valid(RULES, &extension);
    let mut broken = rules;
    broken["forbiddenFields"] = json!("severity");
    assert_invalid_at(RULES, &broken, "/forbiddenFields");
}
