//! `mirror-sign trust init|rotate|verify` and `keys status` through the real binary: making a
//! root and having it signed, every rotation rule of issue 3 §3 (a threshold of the old keys
//! AND of the new keys, distinct keys only, a rising version, no expired root), chains of
//! roots, the key schedule, and the exit codes 0, 1 and 2.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod support;

use offline_formats::envelope::Envelope;
use offline_formats::jcs;
use offline_formats::key_status::{KeyStatus, KeyStatusReport, RootStatus};
use offline_formats::rotation::{
    ChainProblemKind, ChainReport, RotationProblemKind, RotationReport,
};
use offline_formats::trust::{self, TrustKey, TrustRoot};
use std::path::{Path, PathBuf};
use support::*;

/// Key holders and the seeds of their deterministic keys.
const PEOPLE: [(&str, u8); 6] = [
    ("alice", 1),
    ("bob", 2),
    ("carol", 3),
    ("dave", 4),
    ("erin", 5),
    ("frank", 6),
];

/// A folder with `NAME.key` and `NAME.pub` for everyone in [`PEOPLE`].
fn people() -> Fixture {
    let fx = Fixture::new();
    for (name, seed) in PEOPLE {
        fx.seeded_key(name, seed);
    }
    fx
}

/// A root of `names` (keys valid through 2026), expiring 2026-12-31.
fn root(fx: &Fixture, version: u64, threshold: u32, names: &[&str]) -> TrustRoot {
    TrustRoot {
        version,
        ..trust_root(
            threshold,
            names
                .iter()
                .map(|n| trust_key(n, &fx.public_pem(n)))
                .collect(),
        )
    }
}

/// A key whose window is `[not_before, not_after]`.
fn key_between(fx: &Fixture, name: &str, not_before: &str, not_after: &str) -> TrustKey {
    TrustKey {
        not_before: not_before.to_owned(),
        not_after: not_after.to_owned(),
        ..trust_key(name, &fx.public_pem(name))
    }
}

fn trust(args: &[&str]) -> std::process::Command {
    let mut cmd = mirror_sign();
    cmd.arg("trust").args(args);
    cmd
}

fn rotate(from: &Path, to: &Path, now: &str) -> Run {
    run(trust(&["rotate", "--now", now])
        .arg("--from")
        .arg(from)
        .arg("--to")
        .arg(to))
}

fn chain(pinned: &Path, roots: &[&Path], now: &str) -> Run {
    run(trust(&["verify", "--now", now])
        .arg("--pinned")
        .arg(pinned)
        .args(roots))
}

fn rotation(run: &Run) -> RotationReport {
    serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("not a rotation report: {e}\n{}", run.describe()))
}

fn chain_report(run: &Run) -> ChainReport {
    serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("not a chain report: {e}\n{}", run.describe()))
}

fn kinds(report: &RotationReport) -> Vec<RotationProblemKind> {
    report.problems.iter().map(|p| p.kind).collect()
}

fn chain_kinds(report: &ChainReport) -> Vec<ChainProblemKind> {
    report.problems.iter().map(|p| p.kind).collect()
}

fn signers(report: &offline_formats::threshold::ThresholdReport) -> Vec<&str> {
    report.signed_by.iter().map(|s| s.keyid.as_str()).collect()
}

// ---------------------------------------------------------------------------------------
// trust init

/// `trust init` for alice, bob and carol, 2-of-3, with fixed times.
fn init_three(fx: &Fixture, extra: &[&str]) -> Run {
    run(trust(&[
        "init",
        "--threshold",
        "2",
        "--expires",
        "2026-12-31T00:00:00Z",
        "--not-before",
        "2026-01-01T00:00:00Z",
    ])
    .arg("--key")
    .arg(fx.path("carol.pub"))
    .arg("--key")
    .arg(fx.path("alice.pub"))
    .arg("--key")
    .arg(fx.path("bob.pub"))
    .args(extra))
}

#[test]
fn init_then_a_threshold_of_signatures_makes_a_root_that_verifies() {
    let fx = people();
    let made = init_three(&fx, &["--owner", "alice=Alice Example <alice@example>"]).ok();
    let root: TrustRoot = serde_json::from_slice(&made.stdout).unwrap();
    assert_eq!(root.schema, trust::SCHEMA);
    assert_eq!((root.version, root.threshold), (1, 2));
    assert_eq!(root.expires, "2026-12-31T00:00:00Z");
    let ids: Vec<&str> = root.keys.iter().map(|k| k.keyid.as_str()).collect();
    assert_eq!(
        ids,
        ["alice", "bob", "carol"],
        "sorted by keyid, not flag order"
    );
    assert_eq!(root.keys[0].owner, "Alice Example <alice@example>");
    assert_eq!(root.keys[1].owner, "bob", "the owner defaults to the keyid");
    assert_eq!(root.keys[2].not_before, "2026-01-01T00:00:00Z");
    assert_eq!(
        root.keys[2].not_after, "2027-01-01T00:00:00Z",
        "a key lives 365 days by default"
    );
    assert_eq!(root.keys[0].public_key, fx.public_pem("alice"));
    // Written as every tool writes JSON.
    assert_eq!(made.stdout, to_json(&root));

    // Each key holder signs it with the ordinary `sign`.
    let signed = fx.write(
        "root.dsse.json",
        &fx.sign_all(&["alice", "bob"], &made.stdout),
    );
    assert_eq!(
        Envelope::from_json_slice(&fx.read("root.dsse.json"))
            .unwrap()
            .payload_type,
        trust::PAYLOAD_TYPE
    );
    let verified = chain(&signed, &[], NOW).ok();
    let report = chain_report(&verified);
    assert!(report.ok);
    assert!(report.steps.is_empty());
    let trusted = report.trusted.unwrap();
    assert_eq!((trusted.version, trusted.threshold), (1, 2));
    assert_eq!(trusted.keys.len(), 3);
    assert!(verified.stderr.contains("trusted: root version 1"));

    // The root counts signatures on bundles.
    fx.verify(
        &signed,
        &fx.sign_all(&["alice", "carol"], &to_json(&manifest("bootstrap"))),
        &[],
    )
    .ok();

    // One signature is not a threshold: the root is not trusted even as the pinned one.
    let half = fx.write("half.dsse.json", &fx.sign("alice", &made.stdout));
    let refused = chain(&half, &[], NOW)
        .code(1)
        .stderr_has(&["half.dsse.json", "signed by 1 of the 2"]);
    let report = chain_report(&refused);
    assert_eq!(chain_kinds(&report), [ChainProblemKind::PinnedRootInvalid]);
    assert!(report.trusted.is_none());
}

#[test]
fn init_refuses_roots_that_could_never_work() {
    let fx = people();
    let pubkey = |n: &str| fx.path(&format!("{n}.pub")).display().to_string();
    let cases: Vec<(Vec<String>, &[&str])> = vec![
        (
            vec![
                "--threshold".into(),
                "3".into(),
                "--key".into(),
                pubkey("alice"),
                "--key".into(),
                pubkey("bob"),
            ],
            &["--threshold 3 is more than the 2 distinct non-revoked keys given"],
        ),
        (
            vec![
                "--threshold".into(),
                "0".into(),
                "--key".into(),
                pubkey("alice"),
            ],
            &["--threshold must be at least 1"],
        ),
        (
            vec![
                "--threshold".into(),
                "1".into(),
                "--key".into(),
                pubkey("alice"),
                "--key".into(),
                format!("alice={}", pubkey("bob")),
            ],
            &["keyid `alice` is given twice", "bob.pub"],
        ),
        (
            // The same key under two keyids would look like two approvers.
            vec![
                "--threshold".into(),
                "2".into(),
                "--key".into(),
                pubkey("alice"),
                "--key".into(),
                format!("alice-laptop={}", pubkey("alice")),
            ],
            &["same public key", "keyid `alice`", "a key counts once"],
        ),
        (
            vec![
                "--threshold".into(),
                "1".into(),
                "--key".into(),
                fx.path("alice.key").display().to_string(),
            ],
            &["alice.key", "private key"],
        ),
        (
            vec![
                "--threshold".into(),
                "1".into(),
                "--key".into(),
                pubkey("nobody"),
            ],
            &["nobody.pub"],
        ),
        (
            vec![
                "--threshold".into(),
                "1".into(),
                "--key".into(),
                pubkey("alice"),
                "--owner".into(),
                "zoe=Zoe".into(),
            ],
            &["no key has keyid `zoe`"],
        ),
        (
            vec![
                "--threshold".into(),
                "1".into(),
                "--key".into(),
                pubkey("alice"),
                "--revoke".into(),
                "zoe".into(),
            ],
            &["--revoke `zoe`"],
        ),
        (
            vec![
                "--threshold".into(),
                "1".into(),
                "--key".into(),
                pubkey("alice"),
                "--version".into(),
                "0".into(),
            ],
            &["--version must be at least 1"],
        ),
    ];
    for (args, needles) in cases {
        run(trust(&["init", "--expires", "2026-12-31T00:00:00Z", "--now", NOW]).args(&args))
            .code(2)
            .stderr_has(needles);
    }
    // Times: an unparsable one, and a root that expires before its keys begin.
    for (expires, needle) in [
        ("soon", "--expires `soon`"),
        ("2026-05-01T00:00:00Z", "is not after the keys' notBefore"),
    ] {
        run(trust(&[
            "init",
            "--threshold",
            "1",
            "--expires",
            expires,
            "--now",
            NOW,
        ])
        .arg("--key")
        .arg(fx.path("alice.pub")))
        .code(2)
        .stderr_has(&[needle]);
    }
    // Nothing was printed for any of them.
    let out = run(trust(&["init", "--threshold", "9", "--expires", "365d"])
        .arg("--key")
        .arg(fx.path("alice.pub")))
    .code(2);
    assert!(out.stdout.is_empty());
}

#[test]
fn init_is_deterministic_with_source_date_epoch() {
    let fx = people();
    let make = |order: &[&str], epoch: &str| {
        let mut cmd = trust(&["init", "--threshold", "2", "--expires", "365d"]);
        cmd.env("SOURCE_DATE_EPOCH", epoch);
        for name in order {
            cmd.arg("--key").arg(fx.path(&format!("{name}.pub")));
        }
        run(&mut cmd).ok()
    };
    let first = make(&["alice", "bob", "carol"], "1780272000");
    let again = make(&["carol", "alice", "bob"], "1780272000");
    assert_eq!(first.stdout, again.stdout, "same keys, same bytes");
    assert!(first.stderr.is_empty(), "no clock note: {}", first.stderr);
    let root: TrustRoot = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(root.keys[0].not_before, NOW);
    assert_eq!(root.expires, "2027-06-01T00:00:00Z");
    assert_ne!(
        make(&["alice", "bob", "carol"], "1780272001").stdout,
        first.stdout
    );

    // An explicit flag wins over the environment.
    let flagged = run(trust(&[
        "init",
        "--threshold",
        "1",
        "--expires",
        "365d",
        "--now",
        "2026-02-01T00:00:00Z",
    ])
    .env("SOURCE_DATE_EPOCH", "1780272000")
    .arg("--key")
    .arg(fx.path("alice.pub")))
    .ok();
    let root: TrustRoot = serde_json::from_slice(&flagged.stdout).unwrap();
    assert_eq!(root.keys[0].not_before, "2026-02-01T00:00:00Z");

    // Without either, the clock is written, and a note says how to pin it.
    let clock = run(trust(&["init", "--threshold", "1", "--expires", "365d"])
        .env_remove("SOURCE_DATE_EPOCH")
        .arg("--key")
        .arg(fx.path("alice.pub")))
    .ok()
    .stderr_has(&["note: notBefore is the current time", "SOURCE_DATE_EPOCH"]);
    assert!(!clock.stdout.is_empty());

    run(trust(&["init", "--threshold", "1", "--expires", "365d"])
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .arg("--key")
        .arg(fx.path("alice.pub")))
    .code(2)
    .stderr_has(&["SOURCE_DATE_EPOCH `yesterday`"]);
}

// ---------------------------------------------------------------------------------------
// trust rotate

/// The 2-of-3 root v1 of alice, bob and carol, signed by all three.
fn old_root(fx: &Fixture) -> PathBuf {
    fx.signed_root(
        "v1.dsse.json",
        &root(fx, 1, 2, &["alice", "bob", "carol"]),
        &["alice", "bob", "carol"],
    )
}

#[test]
fn a_rotation_signed_by_a_threshold_of_old_and_of_new_keys_is_accepted() {
    let fx = people();
    let old = old_root(&fx);
    // carol leaves, dave joins; alice and bob sign for the old root, bob and dave for the new.
    let new = fx.signed_root(
        "v2.dsse.json",
        &root(&fx, 2, 2, &["bob", "carol", "dave"]),
        &["alice", "bob", "dave"],
    );
    let out = rotate(&old, &new, NOW)
        .ok()
        .stderr_has(&["accepted: root version 2"]);
    let report = rotation(&out);
    assert!(report.ok && report.problems.is_empty());
    assert_eq!((report.from.version, report.to.version), (1, 2));
    assert_eq!(signers(&report.old_keys), ["alice", "bob"]);
    assert_eq!(signers(&report.new_keys), ["bob", "dave"]);
    assert_eq!(report.old_keys.root.version, 1);
    assert_eq!(report.new_keys.root.version, 2);
    assert_eq!(
        report.old_keys.payload_digest,
        report.new_keys.payload_digest
    );
    assert!(report.old_keys_at.is_none());
    let value = out.json();
    assert_eq!(value["schema"], "stellaops.rotation-report/v1");
    assert_eq!(out.stdout, to_json(&value), "pretty JSON with sorted keys");
}

#[test]
fn a_rotation_is_refused_for_each_broken_rule() {
    let fx = people();
    let old = old_root(&fx);
    let next = root(&fx, 2, 2, &["dave", "erin", "frank"]);
    let mut expired = root(&fx, 2, 2, &["alice", "bob", "dave"]);
    expired.expires = "2026-05-31T23:59:59Z".to_owned();
    let unsigned_old = fx.signed_root(
        "v1-alice-only.dsse.json",
        &root(&fx, 1, 2, &["alice", "bob", "carol"]),
        &["alice"],
    );
    let higher_old = fx.signed_root(
        "v3.dsse.json",
        &root(&fx, 3, 2, &["alice", "bob", "carol"]),
        &["alice", "bob"],
    );
    let cases: Vec<(&str, PathBuf, PathBuf, RotationProblemKind, &str)> = vec![
        (
            "only the old keys signed",
            old.clone(),
            fx.signed_root("a.json", &next, &["alice", "bob", "carol"]),
            RotationProblemKind::NewThresholdNotMet,
            "signed by 0 of the 2 of its own keys",
        ),
        (
            "only the new keys signed",
            old.clone(),
            fx.signed_root("b.json", &next, &["dave", "erin", "frank"]),
            RotationProblemKind::OldThresholdNotMet,
            "signed by 0 of the 2 keys of old root version 1",
        ),
        (
            "the same version",
            old.clone(),
            fx.signed_root(
                "c.json",
                &root(&fx, 1, 2, &["alice", "bob", "dave"]),
                &["alice", "bob", "dave"],
            ),
            RotationProblemKind::VersionNotHigher,
            "version 1 is not higher than old root version 1",
        ),
        (
            "a lower version",
            higher_old,
            fx.signed_root(
                "d.json",
                &root(&fx, 2, 2, &["alice", "bob", "dave"]),
                &["alice", "bob", "dave"],
            ),
            RotationProblemKind::VersionNotHigher,
            "version 2 is not higher than old root version 3",
        ),
        (
            "an expired new root",
            old.clone(),
            fx.signed_root("e.json", &expired, &["alice", "bob", "dave"]),
            RotationProblemKind::NewRootExpired,
            "new root version 2 expired at 2026-05-31T23:59:59Z",
        ),
        (
            "an old root its own threshold did not sign",
            unsigned_old,
            fx.signed_root(
                "f.json",
                &root(&fx, 2, 2, &["alice", "bob", "dave"]),
                &["alice", "bob", "dave"],
            ),
            RotationProblemKind::OldRootInvalid,
            "old root version 1 is signed by 1 of the 2 of its own keys",
        ),
    ];
    for (what, from, to, kind, message) in cases {
        let out = rotate(&from, &to, NOW).code(1).stderr_has(&[message]);
        let report = rotation(&out);
        assert!(!report.ok, "{what}");
        assert_eq!(kinds(&report), [kind], "{what}");
        assert!(!out.stderr.contains("accepted"), "{what}");
    }
}

#[test]
fn the_same_key_twice_counts_once_in_each_threshold() {
    let fx = people();
    fx.seeded_key("alice-laptop", 1); // alice's key under a second keyid
                                      // Old: alice (twice), bob; new: alice (twice), carol. Both 2 of 2 distinct keys.
    let old = fx.signed_root(
        "v1.dsse.json",
        &root(&fx, 1, 2, &["alice", "alice-laptop", "bob"]),
        &["alice", "bob"],
    );
    let new_doc = root(&fx, 2, 2, &["alice", "alice-laptop", "carol"]);
    let write = |rel: &str, env: &Envelope| fx.write(rel, &to_json(env));

    // alice signs under both keyids and a third label: one key in each root.
    let mut env = Envelope::from_json_slice(&fx.sign("alice", &to_json(&new_doc))).unwrap();
    env.signatures.push(raw_signature(1, "alice-laptop", &env));
    let alice_sig = env.signatures[0].clone();
    env.signatures.push(alice_sig);
    let report = rotation(&rotate(&old, &write("1.json", &env), NOW).code(1));
    assert_eq!((report.old_keys.valid, report.new_keys.valid), (1, 1));
    assert_eq!(
        kinds(&report),
        [
            RotationProblemKind::OldThresholdNotMet,
            RotationProblemKind::NewThresholdNotMet
        ]
    );
    assert_eq!(report.old_keys.failed.len(), 2);
    assert_eq!(report.new_keys.failed.len(), 2);

    // bob is a second old key: the old threshold is met, the new one still is not.
    env.signatures.push(raw_signature(2, "bob", &env));
    let report = rotation(&rotate(&old, &write("2.json", &env), NOW).code(1));
    assert_eq!(kinds(&report), [RotationProblemKind::NewThresholdNotMet]);

    // carol is a second new key: accepted.
    env.signatures.push(raw_signature(3, "carol", &env));
    let report = rotation(&rotate(&old, &write("3.json", &env), NOW).ok());
    assert_eq!((report.old_keys.valid, report.new_keys.valid), (2, 2));
}

#[test]
fn an_expired_old_root_still_hands_over_as_of_its_last_instant() {
    let fx = people();
    // Everything in v1 ended at 2026-12-31; v2 is in force in 2027.
    let old = old_root(&fx);
    let mut next = root(&fx, 2, 2, &[]);
    next.expires = "2027-12-31T00:00:00Z".to_owned();
    next.keys = ["alice", "dave", "erin"]
        .iter()
        .map(|n| key_between(&fx, n, "2026-12-01T00:00:00Z", "2027-12-31T00:00:00Z"))
        .collect();
    let new = fx.signed_root("v2.dsse.json", &next, &["alice", "bob", "dave"]);
    let later = "2027-03-01T00:00:00Z";
    let out = rotate(&old, &new, later)
        .ok()
        .stderr_has(&["old root version 1 expired at 2026-12-31T00:00:00Z"]);
    let report = rotation(&out);
    assert_eq!(report.old_keys_at.as_deref(), Some("2026-12-31T00:00:00Z"));
    assert_eq!(signers(&report.old_keys), ["alice", "bob"]);
    // The keys are counted then, not now: `verify` counts alice and bob in June 2026 and
    // none of them at `later`.
    let counted_before = fx
        .verify(&old, &fx.read("v2.dsse.json"), &["--payload-type", "trust"])
        .ok();
    assert_eq!(counted_before.report().valid, 2);
    let at_later = run_with_stdin(
        mirror_sign()
            .args([
                "verify",
                "--payload-type",
                "trust",
                "--now",
                later,
                "--trust",
            ])
            .arg(&old),
        &fx.read("v2.dsse.json"),
    )
    .code(1);
    assert_eq!(at_later.report().valid, 0);
}

#[test]
fn rotate_refuses_unusable_input_with_exit_2() {
    let fx = people();
    let old = old_root(&fx);
    let bundle = fx.write(
        "bundle.dsse.json",
        &fx.sign_all(&["alice", "bob"], &to_json(&manifest("bootstrap"))),
    );
    rotate(&old, &bundle, NOW)
        .code(2)
        .stderr_has(&["bundle.dsse.json", "is not a trust root"]);
    rotate(&old, &fx.path("missing.json"), NOW)
        .code(2)
        .stderr_has(&["missing.json"]);
    // A bare, unsigned root is not an envelope.
    let bare = fx.write("bare.json", &to_json(&root(&fx, 2, 2, &["alice", "bob"])));
    rotate(&old, &bare, NOW).code(2).stderr_has(&["bare.json"]);
    run(trust(&["rotate", "--now", "later"])
        .arg("--from")
        .arg(&old)
        .arg("--to")
        .arg(&old))
    .code(2)
    .stderr_has(&["--now"]);
}

#[test]
fn init_from_a_root_keeps_its_keys_and_the_rotation_goes_through() {
    let fx = people();
    let old = old_root(&fx);
    // The next root: carol is revoked (kept, never counted), dave joins.
    let made = run(trust(&[
        "init",
        "--revoke",
        "carol",
        "--expires",
        "2027-06-01T00:00:00Z",
        "--not-before",
        "2026-05-01T00:00:00Z",
        "--owner",
        "dave=dave@release.example",
    ])
    .arg("--from")
    .arg(&old)
    .arg("--key")
    .arg(fx.path("dave.pub")))
    .ok()
    .stderr_has(&["starting from root version 1"]);
    let next: TrustRoot = serde_json::from_slice(&made.stdout).unwrap();
    assert_eq!((next.version, next.threshold), (2, 2));
    let ids: Vec<(&str, bool)> = next
        .keys
        .iter()
        .map(|k| (k.keyid.as_str(), k.revoked))
        .collect();
    assert_eq!(
        ids,
        [
            ("alice", false),
            ("bob", false),
            ("carol", true),
            ("dave", false)
        ]
    );
    assert_eq!(next.keys[0].not_before, "2026-01-01T00:00:00Z", "kept");
    assert_eq!(next.keys[3].not_before, "2026-05-01T00:00:00Z");
    assert_eq!(next.keys[3].owner, "dave@release.example");

    // carol's signature no longer counts for the new root.
    let new = fx.write(
        "v2.dsse.json",
        &fx.sign_all(&["carol", "alice", "dave"], &made.stdout),
    );
    let report = rotation(&rotate(&old, &new, NOW).ok());
    assert_eq!(signers(&report.old_keys), ["alice", "carol"]);
    assert_eq!(signers(&report.new_keys), ["alice", "dave"]);
    assert_eq!(
        report.new_keys.failed[0].reason,
        offline_formats::threshold::FailureReason::Revoked
    );

    // --from refuses a version that would not rise.
    run(
        trust(&["init", "--version", "1", "--expires", "365d", "--now", NOW])
            .arg("--from")
            .arg(&old),
    )
    .code(2)
    .stderr_has(&["--version 1 is not higher"]);
}

#[test]
fn trust_rotate_appends_to_the_audit_log() {
    let fx = people();
    let old = old_root(&fx);
    let new = fx.signed_root(
        "v2.dsse.json",
        &root(&fx, 2, 2, &["alice", "bob"]),
        &["alice", "bob"],
    );
    let log = fx.path("audit.log");
    let out = run(trust(&["rotate", "--now", NOW, "--actor", "ceremony"])
        .arg("--audit")
        .arg(&log)
        .arg("--from")
        .arg(&old)
        .arg("--to")
        .arg(&new))
    .ok();
    let text = String::from_utf8(fx.read("audit.log")).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(line["action"], "trust-rotate");
    assert_eq!(line["actor"], "ceremony");
    assert_eq!(line["result"], "accepted version 1 to 2");
    assert_eq!(
        line["payloadDigest"].as_str(),
        Some(rotation(&out).new_keys.payload_digest.as_str())
    );
}

// ---------------------------------------------------------------------------------------
// trust verify: chains

/// v1 (alice, bob, carol) → v2 (bob, carol, dave) → v4 (dave, erin, frank), each signed by a
/// threshold of the root before it and of its own keys. Version 3 was never published.
fn three_roots(fx: &Fixture) -> [PathBuf; 3] {
    let r1 = old_root(fx);
    let r2 = fx.signed_root(
        "v2.dsse.json",
        &root(fx, 2, 2, &["bob", "carol", "dave"]),
        &["alice", "bob", "dave"],
    );
    let r4 = fx.signed_root(
        "v4.dsse.json",
        &root(fx, 4, 2, &["dave", "erin", "frank"]),
        &["bob", "carol", "dave", "erin"],
    );
    [r1, r2, r4]
}

#[test]
fn a_chain_of_three_roots_verifies_to_the_last() {
    let fx = people();
    let [r1, r2, r4] = three_roots(&fx);
    let out = chain(&r1, &[&r2, &r4], NOW).ok();
    let report = chain_report(&out);
    assert!(report.ok);
    assert_eq!(report.pinned.version, 1);
    assert_eq!(report.steps.len(), 2);
    assert!(report.steps.iter().all(|s| s.ok));
    assert_eq!(
        (report.steps[1].from.version, report.steps[1].to.version),
        (2, 4),
        "versions may skip numbers"
    );
    let trusted = report.trusted.unwrap();
    assert_eq!(trusted.version, 4);
    let ids: Vec<&str> = trusted.keys.iter().map(|k| k.keyid.as_str()).collect();
    assert_eq!(ids, ["dave", "erin", "frank"]);
    assert!(trusted.keys[0].fingerprint.starts_with("sha256:"));
    assert_eq!(out.json()["schema"], "stellaops.trust-chain-report/v1");

    // The order matters: v2 then v1 goes back in version.
    let backwards = chain(&r2, &[&r1], NOW).code(1);
    let report = chain_report(&backwards);
    assert!(report.steps[0].has_problem(RotationProblemKind::VersionNotHigher));
}

#[test]
fn a_tampered_middle_root_breaks_the_chain() {
    let fx = people();
    let [r1, _, r4] = three_roots(&fx);
    // Lower the middle root's threshold to 1 and keep its signatures.
    let mut env = Envelope::from_json_slice(&fx.read("v2.dsse.json")).unwrap();
    let mut doc = root(&fx, 2, 2, &["bob", "carol", "dave"]);
    doc.threshold = 1;
    env.payload = Envelope::new(trust::PAYLOAD_TYPE, &jcs::to_canonical_vec(&doc).unwrap()).payload;
    let tampered = fx.write("v2-tampered.dsse.json", &to_json(&env));
    let out = chain(&r1, &[&tampered, &r4], NOW).code(1).stderr_has(&[
        "v2-tampered.dsse.json",
        "step 1 (root version 1 to 2) refused",
    ]);
    let report = chain_report(&out);
    assert_eq!(chain_kinds(&report), [ChainProblemKind::StepRefused]);
    assert_eq!(report.problems[0].step, Some(0));
    assert_eq!(report.steps.len(), 1, "the walk stops at the broken step");
    assert_eq!(report.steps[0].old_keys.valid, 0);
    assert_eq!(report.steps[0].new_keys.valid, 0);
    assert!(report.trusted.is_none());
}

#[test]
fn a_root_going_back_in_version_breaks_the_chain() {
    let fx = people();
    let [r1, r2, _] = three_roots(&fx);
    // Properly signed by v2's keys and its own, but numbered below v2 (then equal to it).
    for (version, rel) in [(1, "back.dsse.json"), (2, "same.dsse.json")] {
        let back = fx.signed_root(
            rel,
            &root(&fx, version, 2, &["bob", "carol", "dave"]),
            &["bob", "carol"],
        );
        let out = chain(&r1, &[&r2, &back], NOW)
            .code(1)
            .stderr_has(&[rel, "is not higher than old root version 2"]);
        let report = chain_report(&out);
        assert_eq!(report.problems[0].step, Some(1));
        assert_eq!(
            kinds(&report.steps[1]),
            [RotationProblemKind::VersionNotHigher]
        );
    }
}

#[test]
fn an_expired_final_root_is_refused_but_expired_intermediates_are_walked_past() {
    let fx = people();
    let [r1, r2, _] = three_roots(&fx);
    // Both expire 2026-12-31.
    let after = "2027-01-15T00:00:00Z";
    let out = chain(&r1, &[&r2], after).code(1).stderr_has(&[
        "v2.dsse.json",
        "trust root version 2 expired at 2026-12-31T00:00:00Z",
    ]);
    let report = chain_report(&out);
    assert_eq!(chain_kinds(&report), [ChainProblemKind::RootExpired]);
    assert!(report.steps[0].ok, "the step itself was sound");
    assert!(report.trusted.is_none());
    chain(&r1, &[], after).code(1);

    // A third root in force in 2027 takes over from the expired ones.
    let mut v3 = root(&fx, 3, 2, &[]);
    v3.expires = "2027-12-31T00:00:00Z".to_owned();
    v3.keys = ["dave", "erin"]
        .iter()
        .map(|n| key_between(&fx, n, "2026-12-01T00:00:00Z", "2027-12-31T00:00:00Z"))
        .collect();
    let r3 = fx.signed_root("v3.dsse.json", &v3, &["bob", "carol", "dave", "erin"]);
    let report = chain_report(&chain(&r1, &[&r2, &r3], after).ok());
    assert_eq!(report.trusted.unwrap().version, 3);
    assert_eq!(
        report.steps[0].new_keys_at.as_deref(),
        Some("2026-12-31T00:00:00Z")
    );
    assert_eq!(
        report.steps[1].old_keys_at.as_deref(),
        Some("2026-12-31T00:00:00Z")
    );
}

// ---------------------------------------------------------------------------------------
// keys status

fn keys_status(root: &Path, now: &str, extra: &[&str]) -> Run {
    run(mirror_sign()
        .args(["keys", "status", "--now", now])
        .arg("--trust")
        .arg(root)
        .args(extra))
}

fn key_report(run: &Run) -> KeyStatusReport {
    serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("not a key status report: {e}\n{}", run.describe()))
}

fn statuses(report: &KeyStatusReport) -> Vec<(&str, KeyStatus)> {
    report
        .keys
        .iter()
        .map(|k| (k.keyid.as_str(), k.status))
        .collect()
}

#[test]
fn keys_status_names_each_state_and_fails_on_expired_and_too_old_keys() {
    let fx = people();
    let mut revoked = key_between(&fx, "dave", "2025-01-01T00:00:00Z", "2025-12-31T00:00:00Z");
    revoked.revoked = true;
    let mut doc = root(&fx, 1, 1, &[]);
    doc.keys = vec![
        key_between(&fx, "alice", "2026-05-01T00:00:00Z", "2027-05-01T00:00:00Z"),
        key_between(&fx, "bob", "2025-08-01T00:00:00Z", "2026-07-15T00:00:00Z"),
        key_between(&fx, "carol", "2025-05-01T00:00:00Z", "2026-05-01T00:00:00Z"),
        revoked,
        key_between(&fx, "erin", "2025-05-01T00:00:00Z", "2027-05-01T00:00:00Z"),
    ];
    let signed = fx.signed_root("root.dsse.json", &doc, &["alice"]);
    let out = keys_status(&signed, NOW, &[]).code(1).stderr_has(&[
        "warning: key `bob` (bob@release.example) must be replaced within 44 day(s), by 2026-07-15T00:00:00Z",
        "error: key `carol` (carol@release.example) expired at 2026-05-01T00:00:00Z",
        "error: key `erin` (erin@release.example) is 396 days old, more than the 365-day maximum",
    ]);
    assert!(!out.stderr.contains("`alice`") && !out.stderr.contains("`dave`"));
    let report = key_report(&out);
    assert!(!report.ok);
    assert_eq!(
        statuses(&report),
        [
            ("alice", KeyStatus::Ok),
            ("bob", KeyStatus::Warn),
            ("carol", KeyStatus::Expired),
            ("dave", KeyStatus::Revoked),
            ("erin", KeyStatus::TooOld),
        ]
    );
    assert_eq!(report.keys[0].age_days, 31);
    assert_eq!(report.keys[0].days_left, 334);
    assert_eq!(report.keys[4].replace_by, "2026-05-01T00:00:00Z");
    assert_eq!(report.at, NOW);
    assert_eq!(out.json()["schema"], "stellaops.key-status/v1");

    // Without the expired and too-old keys: a warning, exit 0.
    doc.keys.remove(4);
    doc.keys.remove(2);
    let signed = fx.signed_root("ok.dsse.json", &doc, &["alice"]);
    let out = keys_status(&signed, NOW, &[])
        .ok()
        .stderr_has(&["warning: key `bob`"]);
    assert!(key_report(&out).ok);
    // A narrower warning window: bob is fine, nothing on stderr.
    let out = keys_status(&signed, NOW, &["--warn", "48h", "--max-age", "12mo"]).ok();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let report = key_report(&out);
    assert_eq!(report.keys[1].status, KeyStatus::Ok);
    assert_eq!(report.policy.max_age_seconds, 360 * 86_400);
}

#[test]
fn keys_status_fails_on_an_expired_root_and_a_key_not_yet_valid() {
    let fx = people();
    // The unsigned document `trust init` prints is accepted too: a draft can be checked.
    let mut doc = root(&fx, 1, 1, &["alice"]);
    let draft = fx.write("draft.json", &to_json(&doc));
    let report = key_report(&keys_status(&draft, NOW, &[]).ok());
    assert_eq!(report.root.status, RootStatus::Ok);

    let out = keys_status(&draft, "2026-12-31T00:00:01Z", &[])
        .code(1)
        .stderr_has(&["error: trust root version 1 expired at 2026-12-31T00:00:00Z"]);
    assert_eq!(key_report(&out).root.status, RootStatus::Expired);
    keys_status(&draft, "2026-11-15T00:00:00Z", &[])
        .ok()
        .stderr_has(&["warning: trust root version 1 expires in 46 day(s)"]);

    doc.keys.push(key_between(
        &fx,
        "bob",
        "2026-07-01T00:00:00Z",
        "2027-06-01T00:00:00Z",
    ));
    let draft = fx.write("draft2.json", &to_json(&doc));
    let out = keys_status(&draft, NOW, &[]).code(1).stderr_has(&[
        "error: key `bob` (bob@release.example) is not valid before 2026-07-01T00:00:00Z",
    ]);
    assert_eq!(key_report(&out).keys[1].status, KeyStatus::NotYetValid);
}

#[test]
fn keys_status_refuses_unusable_input_with_exit_2() {
    let fx = people();
    let root_path = old_root(&fx);
    for bad in ["12", "12m", "-1d", "1.5d", "0d"] {
        let out = keys_status(&root_path, NOW, &["--max-age", bad]).code(2);
        assert!(out.stdout.is_empty(), "{bad}");
    }
    keys_status(&root_path, NOW, &["--warn", "2 months"])
        .code(2)
        .stderr_has(&["2 months"]);
    let manifest_path = fx.write("m.json", &to_json(&manifest("bootstrap")));
    keys_status(&manifest_path, NOW, &[])
        .code(2)
        .stderr_has(&["m.json", "stellaops.bundle/v1"]);
    keys_status(&fx.path("missing.json"), NOW, &[])
        .code(2)
        .stderr_has(&["missing.json"]);
}
