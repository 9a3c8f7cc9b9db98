//! `netpolicy-gen lint` through the real binary: every hole it knows, reported with file,
//! line and document index; generated policies lint clean; unreadable input exits 2.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test binary: a failed expectation is a failed test"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_netpolicy-gen");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lint")
        .join(name)
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/netpolicy")
        .join(name)
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn report(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// (code, document, line, path) of every finding, in report order.
    fn findings(&self) -> Vec<(String, u64, u64, String)> {
        self.report()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["document"].as_u64().unwrap(),
                    f["line"].as_u64().unwrap(),
                    f["path"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

fn netpolicy(args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run netpolicy-gen");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

fn lint(paths: &[&Path], extra: &[&str]) -> Run {
    let mut args: Vec<&str> = vec!["lint"];
    args.extend_from_slice(extra);
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    netpolicy(&args)
}

fn f(code: &str, document: u64, line: u64, path: &str) -> (String, u64, u64, String) {
    (code.to_string(), document, line, path.to_string())
}

#[test]
fn every_networkpolicy_hole_is_reported_with_file_line_and_document() {
    let run = lint(&[&fixture("holes.yaml")], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(
        run.findings(),
        vec![
            f("egress-allow-all", 1, 24, "spec.egress[0]"),
            f("reopens-egress", 1, 24, "spec.egress[0]"),
            f("egress-rules-ignored", 2, 34, "spec.policyTypes"),
            f(
                "egress-any-address",
                3,
                51,
                "spec.egress[0].to[0].ipBlock.cidr"
            ),
            f("reopens-egress", 3, 51, "spec.egress[0].to[0].ipBlock.cidr"),
            f("egress-any-destination", 3, 55, "spec.egress[1]"),
            f("reopens-egress", 3, 55, "spec.egress[1]"),
            f("no-default-deny", 4, 59, ""),
            f("egress-deny-ineffective", 4, 66, "spec.egress"),
            f("host-network", 5, 81, "spec.template.spec.hostNetwork"),
        ]
    );
    let report = run.report();
    assert_eq!(report["schema"], "stellaops.netpolicy-lint/v1");
    assert_eq!(report["ok"], false);
    assert_eq!(report["counts"]["findings"], 10);
    assert_eq!(report["counts"]["documents"], 6);
    assert_eq!(report["counts"]["policies"], 5);
    // The re-opening names the policy it re-opens.
    let reopen = &report["findings"][1];
    assert_eq!(reopen["related"][0]["name"], "default-deny");
    assert_eq!(reopen["related"][0]["document"], 0);
    assert_eq!(
        report["namespaces"],
        serde_json::json!([
            {"name": "apps", "defaultDeny": true},
            {"name": "legacy", "defaultDeny": false}
        ])
    );
    // One line per finding on stderr, `file:line: code: …`, then the summary.
    let first = run.stderr.lines().next().unwrap();
    assert!(
        first.ends_with("holes.yaml:24: egress-allow-all: allows all egress: no peer and no port (`egress: [{}]`) means every destination on every port (NetworkPolicy apps/allow-all, document 1)"),
        "{first}"
    );
    assert!(
        run.stderr.ends_with(
            "netpolicy-gen: error: lint: 10 findings in 1 file (6 documents, 5 policies)\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn cilium_holes_are_reported_with_cilium_semantics() {
    let run = lint(&[&fixture("cilium.yaml")], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(
        run.findings(),
        vec![
            f("cilium-empty-section", 1, 22, "spec.egress"),
            f("egress-any-address", 2, 34, "spec.egress[0].toEntities[0]"),
            f("reopens-egress", 2, 34, "spec.egress[0].toEntities[0]"),
            f(
                "egress-any-address",
                2,
                38,
                "spec.egress[1].toCIDRSet[0].cidr"
            ),
            f("reopens-egress", 2, 38, "spec.egress[1].toCIDRSet[0].cidr"),
            f("egress-any-destination", 3, 50, "spec.egress[0]"),
            f("reopens-egress", 3, 50, "spec.egress[0]"),
            f(
                "cilium-fqdn-without-dns-proxy",
                3,
                52,
                "spec.egress[1].toFQDNs"
            ),
        ]
    );
    // `- {}` in the cluster-wide policy allows nothing: it only turns on default deny, so
    // every namespace here has one.
    let report = run.report();
    for ns in report["namespaces"].as_array().unwrap() {
        assert_eq!(ns["defaultDeny"], true, "{ns}");
    }
}

#[test]
fn list_items_and_json_are_read_with_their_item_index() {
    let run = lint(&[&fixture("list.json")], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let report = run.report();
    let codes: Vec<(&str, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["item"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("egress-allow-all", 1),
            ("reopens-egress", 1),
            ("invalid-ip-block", 1)
        ]
    );
    assert!(
        run.stderr.contains("document 0, items[1])"),
        "{}",
        run.stderr
    );
}

#[test]
fn generated_policies_lint_clean() {
    for spec in ["sealed.yaml", "constrained.yaml"] {
        let tmp = tempfile::tempdir().unwrap();
        let run = netpolicy(&[
            "generate",
            "--spec",
            example(spec).to_str().unwrap(),
            "--target",
            "all",
            "--out",
            tmp.path().to_str().unwrap(),
        ]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let run = lint(&[tmp.path()], &[]);
        assert_eq!(run.code, Some(0), "{spec}: {}", run.stdout);
        let report = run.report();
        assert_eq!(report["ok"], true);
        assert!(
            report["counts"]["policies"].as_u64().unwrap() >= 3,
            "{report}"
        );
        for ns in report["namespaces"].as_array().unwrap() {
            assert_eq!(ns["defaultDeny"], true, "{spec}: {ns}");
        }
    }
}

#[test]
fn folders_are_read_recursively_in_path_order() {
    let run = lint(&[&fixture("")], &["--quiet"]);
    // broken.yaml and bad-port.yaml are in the folder: the run cannot complete.
    assert_eq!(run.code, Some(2));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("b")).unwrap();
    std::fs::copy(fixture("holes.yaml"), tmp.path().join("b/holes.yml")).unwrap();
    std::fs::copy(fixture("list.json"), tmp.path().join("a.json")).unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "egress: [{}]\n").unwrap();
    let run = lint(&[tmp.path()], &["--quiet"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.is_empty(), "--quiet: {}", run.stderr);
    let report = run.report();
    assert_eq!(report["counts"]["files"], 2);
    let files: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    assert!(files[0].ends_with("a.json"), "{files:?}");
    assert!(files.last().unwrap().ends_with("b/holes.yml"), "{files:?}");
}

#[test]
fn ignore_drops_a_code_and_namespace_sets_the_default() {
    let run = lint(
        &[&fixture("holes.yaml")],
        &["--ignore", "host-network", "--ignore", "reopens-egress"],
    );
    let codes: Vec<String> = run.findings().into_iter().map(|f| f.0).collect();
    assert!(
        !codes
            .iter()
            .any(|c| c == "host-network" || c == "reopens-egress"),
        "{codes:?}"
    );
    assert_eq!(codes.len(), 6);

    // Objects without a namespace are in --namespace.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("p.yaml");
    std::fs::write(
        &file,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: dd}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n",
    )
    .unwrap();
    let run = lint(&[&file], &["-n", "team-a"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.report()["namespaces"][0]["name"], "team-a");
}

#[test]
fn unreadable_input_exits_2_naming_file_and_line() {
    let run = lint(&[&fixture("broken.yaml")], &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.starts_with("netpolicy-gen: error: `")
            && run.stderr.contains("broken.yaml`:6: document 1: did not find expected ',' or ']' at line 6 column 1, while parsing a flow sequence at line 5 column 7"),
        "{}",
        run.stderr
    );
    let run = lint(&[&fixture("bad-port.yaml")], &[]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("bad-port.yaml`:11: document 0: NetworkPolicy: spec.egress[0].ports: endPort 8000 is below port 9000"),
        "{}",
        run.stderr
    );
    let run = lint(&[&fixture("missing.yaml")], &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("missing.yaml"), "{}", run.stderr);
    let run = netpolicy(&["lint"]);
    assert_eq!(run.code, Some(2), "FILE is required");
}

#[test]
fn stdin_is_read_for_dash() {
    let out = Command::new(BIN)
        .args(["lint", "-"])
        .stdin(std::fs::File::open(fixture("holes.yaml")).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["file"], "-");
}
