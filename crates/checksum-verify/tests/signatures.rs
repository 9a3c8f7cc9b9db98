//! Signed manifests: envelopes made by the real `mirror-sign` against a 2-of-3 trust root
//! it made. Enough distinct approvers pass; one approver, a key outside the root, the same
//! signature counted twice, a changed payload or an expired root fail as `signature` (or
//! `stale`) — and `checksum-verify` always agrees with `mirror-sign verify`.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod support;

use offline_formats::envelope::Envelope;
use offline_formats::verify_report::FailureKind;
use serde_json::Value;
use std::fs;
use std::path::Path;
use support::*;

fn verify_signed(envelope: &Path, root: &Path, target: &Path, now: &str) -> Run {
    run(checksum_verify()
        .args(["--now", now, "--envelope"])
        .arg(envelope)
        .arg("--trust")
        .arg(root)
        .arg(target))
}

/// `mirror-sign verify`'s exit code on the same envelope, root and instant.
fn mirror_sign_code(envelope: &Path, root: &Path, now: &str) -> Option<i32> {
    run(command(sibling("mirror-sign"))
        .args(["verify", "--now", now, "--trust"])
        .arg(root)
        .arg(envelope))
    .code
}

/// Both tools give the same verdict: exit 0 together, or 1 together.
fn agree(envelope: &Path, root: &Path, target: &Path, now: &str) -> Run {
    let ours = verify_signed(envelope, root, target, now);
    assert_eq!(
        ours.code,
        mirror_sign_code(envelope, root, now),
        "checksum-verify and mirror-sign disagree:\n{}",
        ours.describe()
    );
    ours
}

#[test]
fn two_distinct_approvers_meet_the_threshold() {
    let keys = Keys::new();
    let b = Bundle::new(1);
    let env = keys.envelope(&["alice", "bob"], &b.manifest, &b.path("env.json"));
    let run = agree(&env, &keys.root, &b.archive, NOW).ok();
    let report = run.report();
    assert!(report.ok);
    // The manifest digest is that of the signed payload.
    let payload = Envelope::from_json_slice(&fs::read(&env).unwrap())
        .unwrap()
        .payload_bytes()
        .unwrap();
    assert_eq!(
        report.manifest_digest.unwrap(),
        offline_formats::digest::sha256_prefixed(&offline_formats::digest::sha256(&payload))
    );
    // The extracted folder too.
    let x = b.extract("x");
    agree(&env, &keys.root, &x, NOW).ok();
}

#[test]
fn one_approver_is_not_enough() {
    let keys = Keys::new();
    let b = Bundle::new(1);
    let env = keys.envelope(&["alice"], &b.manifest, &b.path("env.json"));
    let run = agree(&env, &keys.root, &b.archive, NOW).code(1);
    let failure = run.has(FailureKind::Signature, &env.display().to_string());
    assert_eq!(failure.expected.as_deref(), Some("2 distinct keys"));
    assert_eq!(failure.actual.as_deref(), Some("1 distinct keys"));
    // The content was still checked, and only the signature failed.
    assert_eq!(run.failures().len(), 1);
    assert_eq!(run.report().counts.files, 4);
}

#[test]
fn the_same_signature_twice_counts_once() {
    let keys = Keys::new();
    let b = Bundle::new(1);
    let env = keys.envelope(&["alice"], &b.manifest, &b.path("env.json"));
    let mut envelope: Value = serde_json::from_slice(&fs::read(&env).unwrap()).unwrap();
    let first = envelope["signatures"][0].clone();
    let mut relabelled = first.clone();
    relabelled["keyid"] = Value::from("bob");
    let sigs = envelope["signatures"].as_array_mut().unwrap();
    sigs.push(first);
    sigs.push(relabelled);
    let doubled = b.path("doubled.json");
    fs::write(&doubled, serde_json::to_vec_pretty(&envelope).unwrap()).unwrap();
    let run = agree(&doubled, &keys.root, &b.archive, NOW).code(1);
    run.has(FailureKind::Signature, &doubled.display().to_string());
}

#[test]
fn a_key_outside_the_root_does_not_count() {
    let keys = Keys::new();
    let b = Bundle::new(1);
    let env = keys.envelope(&["alice", "mallory"], &b.manifest, &b.path("env.json"));
    let run = agree(&env, &keys.root, &b.archive, NOW).code(1);
    run.has(FailureKind::Signature, &env.display().to_string());
}

#[test]
fn a_changed_payload_breaks_every_signature() {
    let keys = Keys::new();
    let b = Bundle::new(1);
    let env = keys.envelope(&["alice", "bob"], &b.manifest, &b.path("env.json"));
    let mut envelope = Envelope::from_json_slice(&fs::read(&env).unwrap()).unwrap();
    let mut manifest: Value = serde_json::from_slice(&envelope.payload_bytes().unwrap()).unwrap();
    // An attacker changes what the manifest says of a file.
    manifest["files"][0]["size"] = Value::from(1);
    envelope.payload = Envelope::new(
        &envelope.payload_type,
        &serde_json::to_vec(&manifest).unwrap(),
    )
    .payload;
    let forged = b.path("forged.json");
    fs::write(&forged, serde_json::to_vec_pretty(&envelope).unwrap()).unwrap();
    let run = agree(&forged, &keys.root, &b.archive, NOW).code(1);
    run.has(FailureKind::Signature, &forged.display().to_string());
    // …and the content no longer matches what the forged manifest lists.
    assert!(run.failures().iter().any(|f| f.kind == FailureKind::Size));
}

#[test]
fn an_expired_root_is_stale() {
    let keys = Keys::new();
    let b = Bundle::new(1);
    let env = keys.envelope(&["alice", "bob"], &b.manifest, &b.path("env.json"));
    let later = "2027-02-01T00:00:00Z";
    let run = agree(&env, &keys.root, &b.archive, later).code(1);
    run.has(FailureKind::Stale, &keys.root.display().to_string());
}

#[test]
fn a_root_not_signed_by_its_own_threshold_fails() {
    let keys = Keys::new();
    let b = Bundle::new(1);
    let env = keys.envelope(&["alice", "bob"], &b.manifest, &b.path("env.json"));
    let mut root: Value = serde_json::from_slice(&fs::read(&keys.root).unwrap()).unwrap();
    root["signatures"].as_array_mut().unwrap().truncate(1);
    let weak = b.path("weak-root.json");
    fs::write(&weak, serde_json::to_vec_pretty(&root).unwrap()).unwrap();
    let run = agree(&env, &weak, &b.archive, NOW).code(1);
    run.has(FailureKind::Signature, &weak.display().to_string());
}

#[test]
fn unusable_trust_roots_and_envelopes_exit_2() {
    let keys = Keys::new();
    let b = Bundle::new(1);
    let env = keys.envelope(&["alice", "bob"], &b.manifest, &b.path("env.json"));
    // A manifest is not a trust root.
    verify_signed(&env, &b.manifest, &b.archive, NOW)
        .code(2)
        .stderr_has(&["not a trust root envelope"]);
    // An envelope given as --manifest.
    run(checksum_verify()
        .args(["--now", NOW, "--manifest"])
        .arg(&env)
        .arg(&b.archive))
    .code(2)
    .stderr_has(&["--envelope"]);
    // --envelope without --trust.
    run(checksum_verify()
        .args(["--now", NOW, "--envelope"])
        .arg(&env)
        .arg(&b.archive))
    .code(2);
    // A wrong payloadType is a signature failure, not an unusable input.
    let run = run(checksum_verify()
        .args(["--now", NOW, "--payload-type", "trust", "--envelope"])
        .arg(&env)
        .arg("--trust")
        .arg(&keys.root)
        .arg(&b.archive))
    .code(1);
    let found = format!("payloadType {}", offline_formats::manifest::PAYLOAD_TYPE);
    assert!(
        run.failures()
            .iter()
            .any(|f| f.kind == FailureKind::Signature && f.actual.as_deref() == Some(&found)),
        "{}",
        run.describe()
    );
}
