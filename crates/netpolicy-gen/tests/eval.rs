//! `netpolicy-gen eval` through the real binary: NetworkPolicy and Cilium semantics, the
//! policies that decided each answer, the Cyclonus-style matrix, `--expect`.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test binary: a failed expectation is a failed test"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_netpolicy-gen");

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/policies")
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
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

/// Asks one question of the fixture policies; returns the answer object.
fn ask(from: &str, to: &str) -> Value {
    let dir = policies();
    let run = netpolicy(&[
        "eval",
        "--policies",
        dir.to_str().unwrap(),
        "--from",
        from,
        "--to",
        to,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["schema"], "stellaops.netpolicy-eval/v1");
    assert_eq!(report["policies"], 7);
    report["answers"][0].clone()
}

/// `verdict reason [name:path …]` of an answer.
fn summary(answer: &Value) -> String {
    let mut parts = vec![
        answer["verdict"].as_str().unwrap().to_string(),
        answer["reason"].as_str().unwrap().to_string(),
    ];
    for d in answer["decidedBy"].as_array().unwrap() {
        parts.push(format!(
            "{}:{}",
            d["name"].as_str().unwrap(),
            d["path"].as_str().unwrap()
        ));
    }
    parts.join(" ")
}

#[test]
fn networkpolicy_semantics() {
    let cases = [
        // ipBlock, protocol TCP by default, policyTypes defaulted from the egress rules.
        ("shop/app=web", "10.1.2.3:443", "allow allowed-by-rule web-out:spec.egress[0]"),
        ("shop/app=web", "10.1.2.3:443/UDP", "deny no-rule-allows default-deny:spec.podSelector web-out:spec.podSelector web-named:spec.podSelector"),
        // except
        ("shop/app=web", "10.9.0.1:443/TCP", "deny no-rule-allows default-deny:spec.podSelector web-out:spec.podSelector web-named:spec.podSelector"),
        // endPort
        ("shop/app=web", "10.1.2.3:5010/UDP", "allow allowed-by-rule web-out:spec.egress[0]"),
        ("shop/app=web", "10.1.2.3:5011/UDP", "deny no-rule-allows default-deny:spec.podSelector web-out:spec.podSelector web-named:spec.podSelector"),
        // IPv6 outside every ipBlock
        ("shop/app=web", "[fd00::1]:443/TCP", "deny no-rule-allows default-deny:spec.podSelector web-out:spec.podSelector web-named:spec.podSelector"),
        // Only the default deny selects this pod.
        ("shop/app=other", "10.1.2.3:443/TCP", "deny no-rule-allows default-deny:spec.podSelector"),
        // policyTypes: [Ingress]: the egress rules are ignored, nothing isolates.
        ("open/app=x", "1.1.1.1:443/TCP", "allow not-isolated"),
        // No policy at all in the namespace.
        ("elsewhere", "1.1.1.1:443/TCP", "allow not-isolated"),
    ];
    for (from, to, want) in cases {
        assert_eq!(summary(&ask(from, to)), want, "{from} -> {to}");
    }
}

#[test]
fn what_the_model_cannot_decide_is_noted_on_denials() {
    let named = ask("shop/app=web", "192.168.1.5:443/TCP");
    assert_eq!(named["verdict"], "deny");
    let notes = named["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].as_str().unwrap().starts_with(
            "NetworkPolicy shop/web-named spec.egress[0]: named port (TCP port https)"
        ),
        "{notes:?}"
    );
    let dns = ask("shop/app=api", "8.8.8.8:53/UDP");
    assert_eq!(dns["verdict"], "deny");
    assert!(
        dns["notes"][0]
            .as_str()
            .unwrap()
            .contains("namespaceSelector/podSelector peers select pods"),
        "{dns}"
    );
    // An allowed answer carries no notes.
    assert!(ask("shop/app=web", "10.1.2.3:443").get("notes").is_none());
}

#[test]
fn cilium_semantics() {
    let cases = [
        (
            "cil/app=y",
            "1.1.1.1:443/TCP",
            "allow allowed-by-rule cil-policy:spec.egress[0]",
        ),
        (
            "cil/app=y",
            "1.1.1.1:80/TCP",
            "deny no-rule-allows cil-policy:spec.endpointSelector",
        ),
        // toPorts without a destination: every address, protocol ANY.
        (
            "cil/app=y",
            "8.8.8.8:53/UDP",
            "allow allowed-by-rule cil-policy:spec.egress[1]",
        ),
        (
            "cil/app=y",
            "8.8.8.8:53/TCP",
            "allow allowed-by-rule cil-policy:spec.egress[1]",
        ),
        // egressDeny wins over the world allow.
        (
            "cil/app=y",
            "203.0.113.5:443/TCP",
            "deny denied-by-rule cil-policy:spec.egressDeny[0]",
        ),
        // `- {}`: default deny and nothing allowed.
        (
            "vault/app=z",
            "1.1.1.1:443/TCP",
            "deny no-rule-allows vault-deny:spec.endpointSelector",
        ),
    ];
    for (from, to, want) in cases {
        assert_eq!(summary(&ask(from, to)), want, "{from} -> {to}");
    }
}

#[test]
fn decided_by_names_file_line_and_document() {
    let answer = ask("shop/app=web", "10.1.2.3:443");
    let by = &answer["decidedBy"][0];
    assert!(
        by["file"].as_str().unwrap().ends_with("policies/shop.yaml"),
        "{by}"
    );
    assert_eq!(by["document"], 1);
    assert_eq!(by["line"], 17, "{by}");
    assert_eq!(by["kind"], "NetworkPolicy");
    assert_eq!(by["namespace"], "shop");
}

#[test]
fn the_matrix_answers_every_source_for_every_destination() {
    let dir = policies();
    let args = [
        "eval",
        "--policies",
        dir.to_str().unwrap(),
        "--from",
        "shop/app=web",
        "--from",
        "open/app=x",
        "--to",
        "10.1.2.3:443",
        "--to",
        "10.9.0.1:443",
        "--to",
        "[fd00::1]:443",
        "--matrix",
    ];
    let run = netpolicy(&args);
    assert_eq!(run.code, Some(0));
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        report["matrix"],
        serde_json::json!({
            "sources": ["shop/app=web", "open/app=x"],
            "destinations": ["10.1.2.3:443/TCP", "10.9.0.1:443/TCP", "[fd00::1]:443/TCP"],
            "rows": [["allow", "deny", "deny"], ["allow", "allow", "allow"]],
        })
    );
    assert_eq!(report["answers"].as_array().unwrap().len(), 6);
    assert_eq!(
        run.stderr,
        "netpolicy-gen: eval: 4 allowed, 2 denied (7 policies)\n"
    );

    let mut text_args = args.to_vec();
    text_args.extend(["--format", "text"]);
    let run = netpolicy(&text_args);
    assert_eq!(
        run.stdout,
        "+--------------+------------------+------------------+-------------------+\n\
         | from \\ to    | 10.1.2.3:443/TCP | 10.9.0.1:443/TCP | [fd00::1]:443/TCP |\n\
         +--------------+------------------+------------------+-------------------+\n\
         | shop/app=web | .                | X                | X                 |\n\
         | open/app=x   | .                | .                | .                 |\n\
         +--------------+------------------+------------------+-------------------+\n\
         . allowed, X denied\n"
    );
    // Without --matrix, text is one line per answer.
    let run = netpolicy(&[
        "eval",
        "--policies",
        dir.to_str().unwrap(),
        "--from",
        "shop/app=web",
        "--to",
        "10.9.0.1:443",
        "--format",
        "text",
    ]);
    assert!(
        run.stdout.starts_with("deny  shop/app=web -> 10.9.0.1:443/TCP: isolated by NetworkPolicy shop/default-deny spec.podSelector ("),
        "{}",
        run.stdout
    );
}

#[test]
fn expect_turns_a_different_answer_into_exit_1() {
    let dir = policies();
    let dir = dir.to_str().unwrap();
    let run = netpolicy(&[
        "eval",
        "--policies",
        dir,
        "--from",
        "shop/app=web",
        "--to",
        "1.1.1.1:443",
        "--expect",
        "deny",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run = netpolicy(&[
        "eval",
        "--policies",
        dir,
        "--from",
        "shop/app=web",
        "--from",
        "open/app=x",
        "--to",
        "1.1.1.1:443",
        "--expect",
        "deny",
    ]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("error: eval: not every answer is deny"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_questions_exit_2() {
    let dir = policies();
    let dir = dir.to_str().unwrap();
    for (from, to) in [
        ("shop/app=web", "1.1.1.1"),
        ("shop/app", "1.1.1.1:443"),
        ("shop/app=web", "fd00::1:443/TCP"),
        ("shop/app=web", "1.1.1.1:443/ICMP"),
    ] {
        let run = netpolicy(&["eval", "--policies", dir, "--from", from, "--to", to]);
        assert_eq!(run.code, Some(2), "{from} {to}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("netpolicy-gen: error: "),
            "{}",
            run.stderr
        );
    }
    let run = netpolicy(&[
        "eval",
        "--policies",
        "/nonexistent",
        "--from",
        "a",
        "--to",
        "1.1.1.1:443",
    ]);
    assert_eq!(run.code, Some(2));
}
