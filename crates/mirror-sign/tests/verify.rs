//! `mirror-sign verify` and `status` through the real binary: every threshold rule of issue 3
//! §2 at the command line, and the exit codes 0 (met), 1 (not met) and 2 (unusable input).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod support;

use offline_formats::envelope::{Envelope, Signature};
use offline_formats::threshold::{FailureReason, ProblemKind, ThresholdReport};
use offline_formats::trust::{self, TrustRoot};
use offline_formats::{jcs, manifest};
use serde_json::json;
use support::*;

fn reasons(report: &ThresholdReport) -> Vec<FailureReason> {
    report.failed.iter().map(|f| f.reason).collect()
}

fn signed_by(report: &ThresholdReport) -> Vec<&str> {
    report.signed_by.iter().map(|s| s.keyid.as_str()).collect()
}

/// The bundle envelope signed by `signers` (CLI `sign`, in order).
fn envelope(fx: &Fixture, signers: &[&str]) -> Vec<u8> {
    fx.sign_all(signers, &to_json(&manifest("bootstrap")))
}

fn parse(bytes: &[u8]) -> Envelope {
    Envelope::from_json_slice(bytes).unwrap()
}

#[test]
fn two_of_three_is_met_by_any_two_and_failed_by_any_one() {
    let fx = Fixture::new();
    let root = fx.standard_root();
    let people = ["alice", "bob", "carol"];
    for (i, first) in people.iter().enumerate() {
        for second in &people[i + 1..] {
            let run = fx.verify(&root, &envelope(&fx, &[first, second]), &[]).ok();
            let report = run.report();
            assert!(report.ok);
            assert_eq!(report.valid, 2);
            assert_eq!(report.threshold, 2);
            assert_eq!(report.missing.len(), 1);
            assert!(run.stderr.is_empty(), "{}", run.stderr);
        }
        let run = fx
            .verify(&root, &envelope(&fx, &[first]), &[])
            .code(1)
            .stderr_has(&["mirror-sign: error: threshold not met: 1 of the 2"]);
        let report = run.report();
        assert!(!report.ok);
        assert_eq!(report.valid, 1);
        assert_eq!(signed_by(&report), [*first]);
        assert_eq!(report.missing.len(), 2);
        assert!(report
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::ThresholdNotMet));
    }
    let unsigned = to_json(&Envelope::new(
        manifest::PAYLOAD_TYPE,
        &jcs::to_canonical_vec(&manifest("bootstrap")).unwrap(),
    ));
    assert_eq!(fx.verify(&root, &unsigned, &[]).code(1).report().valid, 0);
}

#[test]
fn the_same_key_twice_counts_once() {
    let fx = Fixture::new();
    let root = fx.standard_root();
    let mut env = parse(&envelope(&fx, &["alice"]));
    let alice = env.signatures[0].clone();
    // The same entry twice, and alice's signature labelled as bob's and as nobody's.
    env.signatures.push(alice.clone());
    env.signatures.push(Signature {
        keyid: "bob".to_owned(),
        sig: alice.sig.clone(),
    });
    env.signatures.push(Signature {
        keyid: String::new(),
        sig: alice.sig.clone(),
    });
    let report = fx.verify(&root, &to_json(&env), &[]).code(1).report();
    assert_eq!(report.valid, 1);
    assert_eq!(signed_by(&report), ["alice"]);
    assert_eq!(reasons(&report), [FailureReason::DuplicateKey; 3]);
}

#[test]
fn a_key_listed_twice_in_the_root_under_two_keyids_counts_once() {
    let fx = Fixture::new();
    fx.seeded_key("alice", 1);
    fx.seeded_key("alice-laptop", 1); // the same key under a second name
    fx.seeded_key("bob", 2);
    let root_doc = trust_root(
        2,
        vec![
            trust_key("alice", &fx.public_pem("alice")),
            trust_key("alice-laptop", &fx.public_pem("alice-laptop")),
            trust_key("bob", &fx.public_pem("bob")),
        ],
    );
    let root = fx.signed_root("root.json", &root_doc, &["alice", "bob"]);

    // `sign` sees that the key already signed, whatever the label; force the second entry.
    let mut env = parse(&envelope(&fx, &["alice"]));
    env.signatures.push(raw_signature(1, "alice-laptop", &env));
    let report = fx.verify(&root, &to_json(&env), &[]).code(1).report();
    assert_eq!(report.valid, 1);
    assert_eq!(reasons(&report), [FailureReason::DuplicateKey]);
    assert_eq!(
        report
            .missing
            .iter()
            .map(|m| m.keyid.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
    fx.verify(&root, &envelope(&fx, &["alice-laptop", "bob"]), &[])
        .ok();

    // A root of these entries with threshold 3 counts listings, not keys: refused.
    let three = TrustRoot {
        threshold: 3,
        ..root_doc
    };
    run_with_stdin(
        mirror_sign()
            .args(["sign", "--key"])
            .arg(fx.path("alice.key")),
        &to_json(&three),
    )
    .code(2)
    .stderr_has(&["threshold 3", "2 distinct"]);
}

#[test]
fn another_payload_type_or_a_changed_payload_fails() {
    let fx = Fixture::new();
    let root = fx.standard_root();

    // The trust root envelope, signed by everyone, is not a bundle.
    let report = fx
        .verify(&root, &fx.read("root.json"), &[])
        .code(1)
        .report();
    assert_eq!(report.valid, 0);
    assert_eq!(reasons(&report), [FailureReason::WrongPayloadType; 3]);
    assert!(report
        .problems
        .iter()
        .any(|p| p.kind == ProblemKind::WrongPayloadType));
    // Checked as what it is, it passes.
    fx.verify(&root, &fx.read("root.json"), &["--payload-type", "trust"])
        .ok();

    // A bundle envelope relabelled as a trust root: the signatures covered the old type.
    let mut relabelled = parse(&envelope(&fx, &["alice", "bob"]));
    relabelled.payload_type = trust::PAYLOAD_TYPE.to_owned();
    let report = fx
        .verify(
            &root,
            &to_json(&relabelled),
            &["--payload-type", trust::PAYLOAD_TYPE],
        )
        .code(1)
        .report();
    assert_eq!(reasons(&report), [FailureReason::BadSignature; 2]);

    // A changed payload (one more generation), signatures kept.
    let good = parse(&envelope(&fx, &["alice", "bob"]));
    let mut newer = manifest("bootstrap");
    newer.mirror_generation += 1;
    let mut changed = good.clone();
    changed.payload = Envelope::new(
        manifest::PAYLOAD_TYPE,
        &jcs::to_canonical_vec(&newer).unwrap(),
    )
    .payload;
    let report = fx.verify(&root, &to_json(&changed), &[]).code(1).report();
    assert_eq!(report.valid, 0);
    assert_eq!(reasons(&report), [FailureReason::BadSignature; 2]);
    assert_ne!(
        report.payload_digest,
        fx.verify(&root, &to_json(&good), &[])
            .ok()
            .report()
            .payload_digest
    );
}

#[test]
fn revoked_expired_not_yet_valid_and_unknown_keys_do_not_count() {
    let fx = Fixture::new();
    for (name, seed) in [
        ("alice", 1),
        ("bob", 2),
        ("revoked", 4),
        ("expired", 5),
        ("early", 6),
        ("stranger", 9),
    ] {
        fx.seeded_key(name, seed);
    }
    let mut revoked = trust_key("revoked", &fx.public_pem("revoked"));
    revoked.revoked = true;
    let mut expired = trust_key("expired", &fx.public_pem("expired"));
    expired.not_before = "2025-01-01T00:00:00Z".to_owned();
    expired.not_after = "2026-05-01T00:00:00Z".to_owned();
    let mut early = trust_key("early", &fx.public_pem("early"));
    early.not_before = "2026-07-01T00:00:00Z".to_owned();
    let root_doc = trust_root(
        2,
        vec![
            trust_key("alice", &fx.public_pem("alice")),
            trust_key("bob", &fx.public_pem("bob")),
            revoked,
            expired,
            early,
        ],
    );
    let root = fx.signed_root("root.json", &root_doc, &["alice", "bob"]);
    let env = envelope(&fx, &["alice", "revoked", "expired", "early", "stranger"]);
    let report = fx.verify(&root, &env, &[]).code(1).report();
    assert_eq!(report.valid, 1);
    assert_eq!(signed_by(&report), ["alice"]);
    assert_eq!(
        reasons(&report),
        [
            FailureReason::Revoked,
            FailureReason::ExpiredKey,
            FailureReason::NotYetValid,
            FailureReason::UnknownKey,
        ]
    );
    assert_eq!(report.failed[3].keyid, "stranger");
    // Only bob could still make it count.
    assert_eq!(
        report
            .missing
            .iter()
            .map(|m| m.keyid.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
    // In July the early key counts, and the expired one is still expired.
    let in_july = run_with_stdin(
        mirror_sign()
            .arg("verify")
            .arg("--trust")
            .arg(&root)
            .args(["--now", "2026-07-02T00:00:00Z"]),
        &env,
    )
    .ok()
    .report();
    assert_eq!(signed_by(&in_july), ["alice", "early"]);
}

#[test]
fn a_non_canonical_base64_signature_is_rejected() {
    let fx = Fixture::new();
    let root = fx.standard_root();
    let good = parse(&envelope(&fx, &["alice", "bob"]));
    fx.verify(&root, &to_json(&good), &[]).ok();
    let sig = good.signatures[0].sig.clone();
    // The last data character carries 4 unused bits: flip one of them.
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let last = sig.as_bytes()[85] as char;
    let pos = alphabet.find(last).unwrap();
    let twin = alphabet.as_bytes()[pos ^ 1] as char;
    for (variant, reason) in [
        (format!("{}{twin}==", &sig[..85]), FailureReason::BadBase64),
        (
            sig.trim_end_matches('=').to_owned(),
            FailureReason::BadBase64,
        ),
        (format!("{sig}\n"), FailureReason::BadBase64),
        (sig[..84].to_owned(), FailureReason::BadLength),
    ] {
        let mut env = good.clone();
        env.signatures[0].sig = variant;
        let report = fx.verify(&root, &to_json(&env), &[]).code(1).report();
        assert_eq!(report.valid, 1);
        assert_eq!(signed_by(&report), ["bob"]);
        assert_eq!(reasons(&report), [reason]);
    }
}

#[test]
fn a_small_order_public_key_in_the_root_is_rejected() {
    let fx = Fixture::new();
    fx.seeded_key("alice", 1);
    let mut weak = trust_key("weak", &fx.public_pem("alice"));
    weak.public_key = {
        use base64::Engine as _;
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, 0x01,
        ];
        der.extend_from_slice(&[0u8; 31]);
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    };
    let root_doc = trust_root(1, vec![trust_key("alice", &fx.public_pem("alice")), weak]);
    // `sign` refuses such a root, so build its envelope by hand.
    let mut root_env = Envelope::new(
        trust::PAYLOAD_TYPE,
        &jcs::to_canonical_vec(&root_doc).unwrap(),
    );
    root_env
        .signatures
        .push(raw_signature(1, "alice", &root_env));
    let root = fx.write("root.json", &to_json(&root_env));
    let env = envelope(&fx, &["alice"]);
    let refused =
        fx.verify(&root, &env, &[])
            .code(2)
            .stderr_has(&["root.json", "`weak`", "small-order"]);
    assert!(refused.stdout.is_empty());
}

#[test]
fn an_expired_root_fails() {
    let fx = Fixture::new();
    let root = fx.standard_root();
    let env = envelope(&fx, &["alice", "bob", "carol"]);
    let run = run_with_stdin(
        mirror_sign()
            .arg("verify")
            .arg("--trust")
            .arg(&root)
            .args(["--now", "2026-12-31T00:00:01Z"]),
        &env,
    )
    .code(1)
    .stderr_has(&["expired"]);
    let report = run.report();
    assert_eq!(report.valid, 3);
    let kinds: Vec<ProblemKind> = report.problems.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [ProblemKind::RootExpired]);

    // Long after, the keys have expired with the root: the expiry is named, once.
    let later = run_with_stdin(
        mirror_sign()
            .arg("status")
            .arg("--trust")
            .arg(&root)
            .args(["--now", "2027-06-01T00:00:00Z"]),
        &env,
    )
    .code(1);
    let text = later.stdout_text();
    assert!(
        text.contains("trust root version 1 expired at 2026-12-31T00:00:00Z"),
        "{text}"
    );
    assert!(!text.contains("of its own keys"), "{text}");
    assert!(
        text.ends_with("2 of 3 required, 0 signed: FAILED\n"),
        "{text}"
    );
}

#[test]
fn a_root_not_signed_by_a_threshold_of_its_own_keys_fails() {
    let fx = Fixture::new();
    for (name, seed) in [("alice", 1), ("bob", 2), ("carol", 3), ("dave", 4)] {
        fx.seeded_key(name, seed);
    }
    let root_doc = trust_root(
        2,
        ["alice", "bob", "carol"]
            .iter()
            .map(|n| trust_key(n, &fx.public_pem(n)))
            .collect(),
    );
    // One root key and one outsider: 1 of 2.
    let root = fx.signed_root("root.json", &root_doc, &["alice", "dave"]);
    let env = envelope(&fx, &["alice", "bob", "carol"]);
    let report = fx
        .verify(&root, &env, &[])
        .code(1)
        .stderr_has(&["trust root version 1 is signed by 1 of the 2"])
        .report();
    assert!(report
        .problems
        .iter()
        .any(|p| p.kind == ProblemKind::RootNotSelfSigned));
    assert_eq!(report.valid, 3, "the envelope itself is fine");

    // A root envelope whose payload was edited after signing verifies nothing either.
    let good_root = fx.signed_root("good.json", &root_doc, &["alice", "bob"]);
    fx.verify(&good_root, &env, &[]).ok();
    let mut edited = parse(&fx.read("good.json"));
    let mut lowered = root_doc.clone();
    lowered.threshold = 1;
    edited.payload = Envelope::new(
        trust::PAYLOAD_TYPE,
        &jcs::to_canonical_vec(&lowered).unwrap(),
    )
    .payload;
    let edited_path = fx.write("edited.json", &to_json(&edited));
    fx.verify(&edited_path, &envelope(&fx, &["carol"]), &[])
        .code(1)
        .stderr_has(&["signed by 0 of the 1"]);
}

#[test]
fn unusable_input_exits_2() {
    let fx = Fixture::new();
    let root = fx.standard_root();
    let env = envelope(&fx, &["alice", "bob"]);
    let bad_base64 = to_json(&json!({
        "payloadType": manifest::PAYLOAD_TYPE,
        "payload": "not base64!",
        "signatures": []
    }));
    let cases: Vec<(Vec<&str>, Vec<u8>, &str)> = vec![
        (vec![], b"{".to_vec(), "<stdin>"),
        (vec![], b"".to_vec(), "empty input"),
        (vec![], bad_base64, "invalid base64"),
        (
            vec![],
            br#"{"payloadType":"x","payload":"","sigs":[]}"#.to_vec(),
            "sigs",
        ),
        (vec!["--now", "yesterday"], env.clone(), "--now"),
    ];
    for (extra, input, needle) in cases {
        let run = fx
            .verify(&root, &input, &extra)
            .code(2)
            .stderr_has(&[needle]);
        assert!(run.stdout.is_empty());
    }
    // The root file: missing, not an envelope, an envelope of a bundle.
    fx.verify(&fx.path("missing.json"), &env, &[])
        .code(2)
        .stderr_has(&["missing.json"]);
    let plain = fx.write("plain.json", &to_json(&trust_root(1, vec![])));
    fx.verify(&plain, &env, &[])
        .code(2)
        .stderr_has(&["plain.json", "not a trust root envelope"]);
    let bundle = fx.write("bundle.json", &env);
    fx.verify(&bundle, &env, &[])
        .code(2)
        .stderr_has(&["bundle.json", "is not a trust root"]);
    // Usage errors.
    run(mirror_sign().arg("verify"))
        .code(2)
        .stderr_has(&["--trust"]);
    run(mirror_sign().args(["verify", "--bogus"])).code(2);
    // The envelope may also be named.
    let env_path = fx.write("env.json", &env);
    run(mirror_sign()
        .arg("verify")
        .arg("--trust")
        .arg(&root)
        .args(["--now", NOW])
        .arg(&env_path))
    .ok();
}

#[test]
fn the_report_is_the_same_bytes_every_time() {
    let fx = Fixture::new();
    let root = fx.standard_root();
    let env = envelope(&fx, &["carol", "alice"]);
    let first = fx.verify(&root, &env, &[]).ok().stdout;
    let second = fx.verify(&root, &env, &[]).ok().stdout;
    assert_eq!(first, second);
    let text = String::from_utf8(first).unwrap();
    assert!(text.ends_with("}\n"));
    // Signers are listed in root order, whatever the signing order.
    let report: ThresholdReport = serde_json::from_str(&text).unwrap();
    assert_eq!(signed_by(&report), ["alice", "carol"]);
}

#[test]
fn status_tells_people_who_signed_who_failed_and_who_is_missing() {
    let fx = Fixture::new();
    let root = fx.standard_root();
    let status = |env: &[u8]| {
        run_with_stdin(
            mirror_sign()
                .arg("status")
                .arg("--trust")
                .arg(&root)
                .args(["--now", NOW]),
            env,
        )
    };
    let ok = status(&envelope(&fx, &["alice", "bob"])).ok();
    let text = ok.stdout_text();
    assert!(text.contains("alice (alice@release.example)"), "{text}");
    assert!(text.contains("missing  carol"), "{text}");
    assert!(text.ends_with("2 of 3 required, 2 signed: OK\n"), "{text}");

    fx.seeded_key("mallory", 9);
    let mut env = parse(&envelope(&fx, &["alice"]));
    env.signatures
        .push(raw_signature(9, "evil\u{1b}[2Jkeyid", &env));
    let failed = status(&to_json(&env)).code(1);
    let text = failed.stdout_text();
    assert!(text.contains("not in the trust root"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "control characters are escaped: {text:?}"
    );
    assert!(text.contains("evil\\u{1b}[2Jkeyid"), "{text}");
    assert!(
        text.ends_with("2 of 3 required, 1 signed: FAILED\n"),
        "{text}"
    );
}
