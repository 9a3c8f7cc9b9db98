//! `mirror-sign sign`, `approve` and `combine` through the real binary: new envelopes from
//! manifests, chained signatures, the no-op second signature, detached approvals and the
//! refusal of an approval over another payload.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod support;

use ed25519_dalek::Signature as Ed25519Signature;
use offline_formats::envelope::{pae, Envelope};
use offline_formats::jcs::to_canonical_vec;
use offline_formats::{manifest, trust};
use serde_json::{json, Value};
use support::*;

fn sign_with(fx: &Fixture, name: &str, input: &[u8]) -> Run {
    run_with_stdin(
        mirror_sign()
            .arg("sign")
            .arg("--key")
            .arg(fx.path(&format!("{name}.key"))),
        input,
    )
}

fn verifies(seed: u8, envelope: &Envelope, sig: &str) -> bool {
    let bytes = base64_decode(sig);
    let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
        return false;
    };
    signing_key(seed)
        .verifying_key()
        .verify_strict(
            &envelope.signed_bytes().unwrap(),
            &Ed25519Signature::from_bytes(&bytes),
        )
        .is_ok()
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[test]
fn sign_wraps_a_manifest_in_a_new_envelope_over_its_canonical_json() {
    let fx = Fixture::new();
    fx.seeded_key("alice", 1);
    let m = manifest("bootstrap");
    let out = sign_with(&fx, "alice", &to_json(&m)).ok();
    let text = out.stdout_text();
    assert!(
        text.ends_with("}\n") && text.starts_with("{\n  \""),
        "{text}"
    );
    let envelope = out.envelope();
    assert_eq!(envelope.payload_type, manifest::PAYLOAD_TYPE);
    assert_eq!(
        envelope.payload_bytes().unwrap(),
        to_canonical_vec(&m).unwrap()
    );
    assert_eq!(envelope.signatures.len(), 1);
    assert_eq!(
        envelope.signatures[0].keyid, "alice",
        "keyid is the key file's stem"
    );
    // The signature is over PAE, verified here by ed25519-dalek directly.
    let pae_bytes = pae(manifest::PAYLOAD_TYPE, &to_canonical_vec(&m).unwrap());
    assert_eq!(envelope.signed_bytes().unwrap(), pae_bytes);
    assert!(verifies(1, &envelope, &envelope.signatures[0].sig));

    // Whitespace and member order of the input do not change the payload.
    let compact = serde_json::to_vec(&m).unwrap();
    assert_eq!(sign_with(&fx, "alice", &compact).ok().stdout, out.stdout);

    // --key-id labels the signature.
    let labelled = run_with_stdin(
        mirror_sign()
            .args(["sign", "--key-id", "alice-2026", "--key"])
            .arg(fx.path("alice.key")),
        &to_json(&m),
    )
    .ok()
    .envelope();
    assert_eq!(labelled.signatures[0].keyid, "alice-2026");
}

#[test]
fn a_trust_root_gets_the_trust_payload_type() {
    let fx = Fixture::new();
    fx.seeded_key("alice", 1);
    let root = trust_root(1, vec![trust_key("alice", &fx.public_pem("alice"))]);
    let envelope = sign_with(&fx, "alice", &to_json(&root)).ok().envelope();
    assert_eq!(envelope.payload_type, trust::PAYLOAD_TYPE);
    assert_eq!(
        envelope.payload_bytes().unwrap(),
        to_canonical_vec(&root).unwrap()
    );
}

#[test]
fn signing_twice_with_the_same_key_is_a_no_op() {
    let fx = Fixture::new();
    fx.seeded_key("alice", 1);
    let once = sign_with(&fx, "alice", &to_json(&manifest("b"))).ok();
    let twice = sign_with(&fx, "alice", &once.stdout)
        .ok()
        .stderr_has(&["already signed"]);
    assert_eq!(twice.stdout, once.stdout);
    // Also under another keyid label: the key, not the label, is what signed.
    let relabelled = run_with_stdin(
        mirror_sign()
            .args(["sign", "--key-id", "someone-else", "--key"])
            .arg(fx.path("alice.key")),
        &once.stdout,
    )
    .ok();
    assert_eq!(relabelled.stdout, once.stdout);
}

#[test]
fn approvers_chain_sign_through_a_pipe() {
    let fx = Fixture::new();
    let root = fx.standard_root();
    let m = fx.write("m.json", &to_json(&manifest("chain")));
    // Exactly as the issue writes it.
    let script = "\"$0\" sign --key \"$1\" < \"$3\" | \"$0\" sign --key \"$2\" > \"$4\"";
    run(command("/bin/sh")
        .arg("-c")
        .arg(script)
        .arg(BIN)
        .arg(fx.path("alice.key"))
        .arg(fx.path("bob.key"))
        .arg(&m)
        .arg(fx.path("env.json")))
    .ok();
    let bytes = fx.read("env.json");
    let envelope = Envelope::from_json_slice(&bytes).unwrap();
    assert_eq!(
        envelope
            .signatures
            .iter()
            .map(|s| s.keyid.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    assert!(verifies(1, &envelope, &envelope.signatures[0].sig));
    assert!(verifies(2, &envelope, &envelope.signatures[1].sig));
    fx.verify(&root, &bytes, &[]).ok();
}

#[test]
fn signing_an_envelope_keeps_its_payload_and_signatures() {
    let fx = Fixture::new();
    fx.seeded_key("alice", 1);
    fx.seeded_key("bob", 2);
    let first = sign_with(&fx, "alice", &to_json(&manifest("b")))
        .ok()
        .envelope();
    let second = sign_with(&fx, "bob", &to_json(&first)).ok().envelope();
    assert_eq!(second.payload, first.payload);
    assert_eq!(second.payload_type, first.payload_type);
    assert_eq!(second.signatures[0], first.signatures[0]);
    assert_eq!(second.signatures.len(), 2);
}

#[test]
fn sign_refuses_what_it_cannot_read() {
    let fx = Fixture::new();
    fx.seeded_key("alice", 1);
    let mut v2 = serde_json::to_value(manifest("b")).unwrap();
    v2["schema"] = json!("stellaops.bundle/v2");
    let mut extra = serde_json::to_value(manifest("b")).unwrap();
    extra["signedBy"] = json!("alice");
    let other_type = {
        let mut e = Envelope::new("application/vnd.in-toto+json", b"{}");
        e.signatures.clear();
        to_json(&e)
    };
    let not_a_manifest = {
        let e = Envelope::new(manifest::PAYLOAD_TYPE, b"{\"hello\":1}");
        to_json(&e)
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            br#"{"schema":"stellaops.verify-report/v1","ok":true}"#.to_vec(),
            "stellaops.verify-report/v1",
        ),
        (br#"{"bundleId":"x"}"#.to_vec(), "neither"),
        (to_json(&v2), "unsupported schema version"),
        (to_json(&extra), "signedBy"),
        (other_type, "application/vnd.in-toto+json"),
        (not_a_manifest, "envelope payload"),
        (b"not json".to_vec(), "not JSON"),
        (b"[1,2]".to_vec(), "not a JSON object"),
        (Vec::new(), "empty input"),
    ];
    for (input, needle) in cases {
        let refused = sign_with(&fx, "alice", &input)
            .code(2)
            .stderr_has(&["mirror-sign: error: `<stdin>`: ", needle]);
        assert!(refused.stdout.is_empty());
    }
}

#[test]
fn sign_refuses_a_trust_root_with_a_small_order_key() {
    let fx = Fixture::new();
    fx.seeded_key("alice", 1);
    let mut weak = trust_key("weak", &fx.public_pem("alice"));
    weak.public_key = small_order_pem();
    let root = trust_root(1, vec![trust_key("alice", &fx.public_pem("alice")), weak]);
    sign_with(&fx, "alice", &to_json(&root))
        .code(2)
        .stderr_has(&["`weak`", "small-order"]);
}

/// PEM SPKI of the identity point, a small-order Ed25519 public key.
pub fn small_order_pem() -> String {
    use base64::Engine as _;
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, 0x01,
    ];
    der.extend_from_slice(&[0u8; 31]);
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

#[test]
fn approve_and_combine_meet_the_threshold() {
    let fx = Fixture::new();
    let root = fx.standard_root();
    let env = fx.write("env.json", &fx.sign("alice", &to_json(&manifest("b"))));
    fx.verify(&root, &fx.read("env.json"), &[]).code(1);

    for name in ["bob", "carol"] {
        let approval = run_with_stdin(
            mirror_sign()
                .args(["approve", "--key"])
                .arg(fx.path(&format!("{name}.key"))),
            &fx.read("env.json"),
        )
        .ok();
        let value = approval.json();
        assert_eq!(value["schema"], "stellaops.approval/v1");
        assert_eq!(value["keyid"], name);
        assert_eq!(value["payloadType"], manifest::PAYLOAD_TYPE);
        let envelope = Envelope::from_json_slice(&fx.read("env.json")).unwrap();
        let digest = format!(
            "sha256:{}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                envelope.payload_bytes().unwrap()
            ))
        );
        assert_eq!(value["payloadDigest"], digest.as_str());
        fx.write(&format!("{name}.approval.json"), &approval.stdout);
    }
    let combined = run(mirror_sign()
        .arg("combine")
        .arg(&env)
        .arg(fx.path("bob.approval.json"))
        .arg(fx.path("carol.approval.json")))
    .ok();
    let envelope = combined.envelope();
    assert_eq!(envelope.signatures.len(), 3);
    assert_eq!(
        envelope.payload,
        Envelope::from_json_slice(&fx.read("env.json"))
            .unwrap()
            .payload
    );
    let report = fx.verify(&root, &combined.stdout, &[]).ok().report();
    assert_eq!(report.valid, 3);

    // Combining the same approval again adds nothing.
    let combined_path = fx.write("combined.json", &combined.stdout);
    let again = run(mirror_sign()
        .arg("combine")
        .arg(&combined_path)
        .arg(fx.path("bob.approval.json")))
    .ok()
    .stderr_has(&["bob.approval.json", "already holds this signature"]);
    assert_eq!(again.stdout, combined.stdout);
}

#[test]
fn combine_writes_in_place_with_o_and_explains_an_emptied_file() {
    let fx = Fixture::new();
    fx.standard_root();
    let env = fx.write("env.json", &fx.sign("alice", &to_json(&manifest("b"))));
    let approval = run_with_stdin(
        mirror_sign()
            .args(["approve", "--key"])
            .arg(fx.path("bob.key")),
        &fx.read("env.json"),
    )
    .ok();
    let approval_path = fx.write("bob.approval.json", &approval.stdout);
    set_mode(&env, 0o640);
    let out = run(mirror_sign()
        .arg("combine")
        .arg(&env)
        .arg(&approval_path)
        .arg("-o")
        .arg(&env))
    .ok();
    assert!(out.stdout.is_empty());
    let envelope = Envelope::from_json_slice(&fx.read("env.json")).unwrap();
    assert_eq!(envelope.signatures.len(), 2);
    assert_eq!(mode_of(&env), 0o640, "the file keeps its mode");
    let leftovers: Vec<_> = std::fs::read_dir(fx.dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // `combine env.json … > env.json` empties env.json before combine reads it.
    let emptied = fx.write("emptied.json", b"");
    run(mirror_sign()
        .arg("combine")
        .arg(&emptied)
        .arg(&approval_path))
    .code(2)
    .stderr_has(&["emptied.json", "empty file", "-o"]);
}

#[test]
fn combine_rejects_an_approval_over_another_payload() {
    let fx = Fixture::new();
    fx.standard_root();
    let env = fx.write(
        "env.json",
        &fx.sign("alice", &to_json(&manifest("release-7"))),
    );
    let other = fx.sign("alice", &to_json(&manifest("release-8")));
    let approval = run_with_stdin(
        mirror_sign()
            .args(["approve", "--key"])
            .arg(fx.path("bob.key")),
        &other,
    )
    .ok();
    let approval_path = fx.write("bob.approval.json", &approval.stdout);
    let before = fx.read("env.json");
    let refused = run(mirror_sign()
        .arg("combine")
        .arg(&env)
        .arg(&approval_path)
        .arg("-o")
        .arg(&env))
    .code(2)
    .stderr_has(&["bob.approval.json", "another payload"]);
    assert!(refused.stdout.is_empty());
    assert_eq!(fx.read("env.json"), before, "nothing was written");

    // Also when a good approval comes first: all or nothing.
    let good = run_with_stdin(
        mirror_sign()
            .args(["approve", "--key"])
            .arg(fx.path("carol.key")),
        &before,
    )
    .ok();
    let good_path = fx.write("carol.approval.json", &good.stdout);
    run(mirror_sign()
        .arg("combine")
        .arg(&env)
        .arg(&good_path)
        .arg(&approval_path))
    .code(2)
    .stderr_has(&["bob.approval.json"]);
}

#[test]
fn combine_rejects_an_approval_for_another_payload_type_or_with_a_bad_signature() {
    let fx = Fixture::new();
    fx.standard_root();
    let env = fx.write("env.json", &fx.sign("alice", &to_json(&manifest("b"))));
    let approval: Value = run_with_stdin(
        mirror_sign()
            .args(["approve", "--key"])
            .arg(fx.path("bob.key")),
        &fx.read("env.json"),
    )
    .ok()
    .json();

    let mut other_type = approval.clone();
    other_type["payloadType"] = json!(trust::PAYLOAD_TYPE);
    let path = fx.write("type.approval.json", &to_json(&other_type));
    run(mirror_sign().arg("combine").arg(&env).arg(&path))
        .code(2)
        .stderr_has(&["type.approval.json", "payloadType"]);

    let sig = approval["sig"].as_str().unwrap().to_owned();
    for (name, bad) in [
        ("short", sig[..84].to_owned() + "=="),
        ("unpadded", sig.trim_end_matches('=').to_owned()),
    ] {
        let mut broken = approval.clone();
        broken["sig"] = json!(bad);
        let path = fx.write(&format!("{name}.approval.json"), &to_json(&broken));
        run(mirror_sign().arg("combine").arg(&env).arg(&path))
            .code(2)
            .stderr_has(&[&format!("{name}.approval.json"), "approval signature"]);
    }

    let mut extra = approval.clone();
    extra["publicKey"] = json!("-----BEGIN PUBLIC KEY-----");
    let path = fx.write("extra.approval.json", &to_json(&extra));
    run(mirror_sign().arg("combine").arg(&env).arg(&path))
        .code(2)
        .stderr_has(&["extra.approval.json", "publicKey"]);

    // An approval needs an envelope, not a manifest.
    run_with_stdin(
        mirror_sign()
            .args(["approve", "--key"])
            .arg(fx.path("bob.key")),
        &to_json(&manifest("b")),
    )
    .code(2)
    .stderr_has(&["not an envelope"]);
}
