//! `sums`, `attest`, `audit verify` and `--audit` through the real binary: what a sealed site
//! checks with signify, what an in-toto verifier reads, and the trail every approval leaves.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "tests: a failed expectation is a failed test"
)]

mod support;

use base64::Engine as _;
use offline_formats::manifest::BundleManifest;
use sha2::{Digest as _, Sha256};
use std::fs;
use support::*;

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A manifest whose files and archive really exist in `fx`'s folder.
fn real_manifest(fx: &Fixture) -> BundleManifest {
    fs::create_dir_all(fx.path("sub")).unwrap();
    let files = [
        ("a.txt", b"hello\n".as_slice()),
        ("sub/b.yaml", b"k: v\n".as_slice()),
    ];
    let mut manifest = manifest("publish");
    manifest.files = files
        .iter()
        .map(|(path, bytes)| {
            fx.write(path, bytes);
            offline_formats::manifest::FileEntry {
                path: (*path).to_owned(),
                size: bytes.len() as u64,
                sha256: sha256_hex(bytes),
                blake3: blake3::hash(bytes).to_hex().to_string(),
                mode: "0644".to_owned(),
                media_type: "text/plain".to_owned(),
            }
        })
        .collect();
    let archive = b"not really a tar.gz, but bytes with a digest".to_vec();
    fx.write("bundle.tar.gz", &archive);
    if let Some(info) = manifest.archive.as_mut() {
        info.name = "bundle.tar.gz".to_owned();
        info.size = archive.len() as u64;
        info.sha256 = sha256_hex(&archive);
    }
    manifest
}

#[test]
fn sums_are_checked_by_the_real_signify() {
    let signify = require_tool("signify-openbsd", "signify-openbsd");
    let fx = Fixture::new();
    let key = fx.seeded_key("alice", 7);
    let manifest = real_manifest(&fx);
    let out = run_with_stdin(
        mirror_sign()
            .args(["sums", "--key"])
            .arg(&key)
            .arg("--out")
            .arg(fx.dir()),
        &to_json(&manifest),
    )
    .ok();
    assert_eq!(out.json()["entries"], 3, "{}", out.describe());
    let public = run(mirror_sign()
        .args(["pub", "--format", "signify", "--key"])
        .arg(&key))
    .ok();
    fx.write("alice.signify.pub", public.stdout_text().as_bytes());

    let check = || {
        std::process::Command::new(&signify)
            .args(["-C", "-p", "alice.signify.pub", "-x", "SHA256SUMS.sig"])
            .current_dir(fx.dir())
            .output()
            .unwrap()
    };
    let good = check();
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    fx.write("sub/b.yaml", b"k: w\n");
    assert!(
        !check().status.success(),
        "signify must notice a changed file"
    );
}

#[test]
fn attest_names_the_archive_and_refuses_another_one() {
    let fx = Fixture::new();
    let key = fx.seeded_key("alice", 7);
    let manifest = real_manifest(&fx);
    let out = run_with_stdin(
        mirror_sign()
            .args(["attest", "--key"])
            .arg(&key)
            .arg("--archive")
            .arg(fx.path("bundle.tar.gz")),
        &to_json(&manifest),
    )
    .ok();
    let envelope = out.envelope();
    assert_eq!(envelope.payload_type, "application/vnd.in-toto+json");
    let statement: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(&envelope.payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["subject"][0]["name"], "bundle.tar.gz");
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        sha256_hex(&fx.read("bundle.tar.gz"))
    );

    fx.write("bundle.tar.gz", b"another archive");
    run_with_stdin(
        mirror_sign()
            .args(["attest", "--key"])
            .arg(&key)
            .arg("--archive")
            .arg(fx.path("bundle.tar.gz")),
        &to_json(&manifest),
    )
    .code(2);
}

#[test]
fn every_approval_is_in_the_audit_log_and_tampering_is_caught() {
    let fx = Fixture::new();
    let alice = fx.seeded_key("alice", 1);
    let bob = fx.seeded_key("bob", 2);
    let log = fx.path("audit.jsonl");
    let manifest = to_json(&manifest("audited"));
    let first = run_with_stdin(
        mirror_sign()
            .args(["sign", "--actor", "alice@site", "--audit"])
            .arg(&log)
            .arg("--key")
            .arg(&alice),
        &manifest,
    )
    .ok();
    // The environment variable names the log too.
    run_with_stdin(
        mirror_sign()
            .env("MIRROR_SIGN_AUDIT", &log)
            .args(["sign", "--key"])
            .arg(&bob),
        first.stdout_text().as_bytes(),
    )
    .ok();
    let verified = run(mirror_sign().args(["audit", "verify"]).arg(&log)).ok();
    assert_eq!(verified.json()["lines"], 2, "{}", verified.describe());
    let text = String::from_utf8(fx.read("audit.jsonl")).unwrap();
    assert!(text
        .lines()
        .next()
        .unwrap()
        .contains("\"actor\":\"alice@site\""));
    assert!(text.contains("\"action\":\"sign\""));

    // Change who signed the first line: the chain breaks and the line is named.
    fs::write(&log, text.replacen("alice@site", "mallory", 1)).unwrap();
    run(mirror_sign().args(["audit", "verify"]).arg(&log))
        .code(1)
        .stderr_has(&["line 1"]);
}
