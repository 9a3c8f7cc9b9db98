//! `netpolicy-gen scan` through the real binary: every endpoint not on the allow-list, with
//! file:line:column, in YAML, JSON, TOML, `.env` and INI; what the spec and `--allow` let
//! through; exit codes.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test binary: a failed expectation is a failed test"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_netpolicy-gen");

fn site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/site")
}

fn sealed_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/netpolicy/sealed.yaml")
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
}

fn scan(paths: &[&Path], extra: &[&str]) -> Run {
    let spec = sealed_spec();
    let mut args = vec!["scan", "--spec", spec.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = Command::new(BIN)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("run netpolicy-gen");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// `file:line:column kind value context` of every finding, the file relative to the site.
fn findings(report: &Value) -> Vec<String> {
    let root = site().display().to_string();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            format!(
                "{}:{}:{} {} {} {}",
                file.strip_prefix(&format!("{root}/")).unwrap_or(file),
                f["line"],
                f["column"],
                f["kind"].as_str().unwrap(),
                f["value"].as_str().unwrap(),
                f["context"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn every_endpoint_off_the_allow_list_is_reported_with_its_place() {
    let run = scan(&[&site()], &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let report = run.report();
    assert_eq!(report["schema"], "stellaops.netpolicy-scan/v1");
    assert_eq!(report["ok"], false);
    assert_eq!(
        findings(&report),
        vec![
            "app.env:2:9 host pg.corp.internal key",
            "app.env:3:13 host time.cloudflare.com key",
            "app.env:5:18 ip 2001:db8::10 url",
            "compose.yaml:4:12 host registry.sealed.local image",
            "compose.yaml:9:24 host api.github.com url",
            "compose.yaml:10:23 ip 8.8.8.8 address",
            "compose.yaml:14:12 host docker.io image",
            "compose.yaml:15:31 ip 10.20.1.200 address",
            "conf/settings.ini:2:10 host mail.corp.io key",
            "conf/upstream.toml:3:4 host ntp.ubuntu.com key",
            "conf/upstream.toml:6:13 host s3.amazonaws.com host-port",
            "conf/values.json:2:16 host quay.io key",
            "conf/values.json:3:27 ip 192.0.2.44 address",
        ]
    );
    // Hidden folders and files that are not configuration are not read.
    assert_eq!(report["counts"]["files"], 5);
    assert_eq!(report["values"].as_array().unwrap().len(), 13);
    assert_eq!(report["findings"][0]["key"], "DB_HOST");
    assert!(
        run.stderr.contains("compose.yaml:15:31: address `10.20.1.200` is not on the allow-list (as an address) (key `command`)\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.ends_with(
        "netpolicy-gen: error: scan: 13 endpoints not on the allow-list (13 distinct) in 5 files\n"
    ));
}

#[test]
fn what_the_spec_allows_is_not_reported() {
    // 10.20.1.10 (mirror), 10.20.0.5 (object store), fd00:20::7 (otlp), 10.96.0.10 (resolver),
    // 172.28.0.0/24 (compose subnet), loopback, *.svc.cluster.local, example.net, comments,
    // a version and NO_PROXY are all in the fixture and none is reported.
    let run = scan(&[&site()], &[]);
    let values: Vec<String> = run.report()["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    for allowed in [
        "10.20.1.10",
        "10.20.0.5",
        "fd00:20::7",
        "10.96.0.10",
        "172.28.0.0/24",
        "127.0.0.1",
        "localhost",
        "api.stellaops.svc.cluster.local",
        "otel.example.net",
        "1.1.1.1",
        "1.2.3.4",
        "5.6.7.8",
        "github.com",
    ] {
        assert!(
            !values.contains(&allowed.to_string()),
            "{allowed} reported: {values:?}"
        );
    }
}

#[test]
fn allow_adds_addresses_networks_names_and_domains() {
    let run = scan(
        &[&site()],
        &[
            "--allow",
            "8.8.8.8",
            "--allow",
            "10.20.1.128/25",
            "--allow",
            "192.0.2.0/24",
            "--allow",
            "2001:db8::/32",
            "--allow",
            "*.sealed.local",
            "--allow",
            ".corp.internal",
            "--allow",
            "docker.io",
            "--allow",
            "quay.io",
            "--allow",
            "mail.corp.io",
            "--allow",
            "api.github.com",
            "--allow",
            "time.cloudflare.com",
            "--allow",
            "ntp.ubuntu.com",
            "--allow",
            "s3.amazonaws.com",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.report()["ok"], true);
    assert!(
        run.stderr.ends_with(
            "netpolicy-gen: scan: 0 endpoints not on the allow-list (0 distinct) in 5 files\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_single_file_can_be_scanned_and_its_syntax_comes_from_its_name() {
    let run = scan(&[&site().join("app.env")], &["--quiet"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.is_empty(), "--quiet: {}", run.stderr);
    assert_eq!(run.report()["counts"]["findings"], 3);
}

#[test]
fn bad_input_exits_2() {
    let run = scan(&[&site()], &["--allow", "not a host"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("--allow `not a host`"),
        "{}",
        run.stderr
    );
    let run = scan(&[Path::new("/nonexistent/dir")], &[]);
    assert_eq!(run.code, Some(2));
    let out = Command::new(BIN)
        .args([
            "scan",
            "--spec",
            "/nonexistent/spec.yaml",
            site().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
