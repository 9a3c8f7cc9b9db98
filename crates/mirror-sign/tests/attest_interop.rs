//! Our in-toto provenance envelopes checked by an outside DSSE implementation: Python's
//! `securesystemslib` (`dsse.Envelope.verify` with an `SSlibKey` made from our PEM public key).
//! Installs `securesystemslib[crypto]` with pip when it is missing; fails loudly if it cannot.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use ed25519_dalek::SigningKey;
use mirror_sign::attest::{
    archive_sha256, attest, check_archive, manifest_digest, statement, PAYLOAD_TYPE,
    PREDICATE_TYPE, STATEMENT_TYPE,
};
use offline_formats::envelope::Envelope;
use offline_formats::jcs::{to_canonical_vec, to_pretty_vec};
use offline_formats::manifest::{ArchiveInfo, BundleManifest, FileEntry, SCHEMA};
use serde_json::{json, Value};
use std::fs::{self, File, OpenOptions};
use std::path::Path;
use std::process::Command;

const KEYID: &str = "release-2026";
const ARCHIVE: &str = "bootstrap.tar.gz";

/// Verifies `envelope.json` with securesystemslib and prints what it found as JSON.
/// Exit 0: verified; 1: the verification failed; anything else: the script itself failed.
const VERIFY_PY: &str = r#"
import json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey

pem_path, envelope_path, keyid = sys.argv[1:4]
with open(pem_path, "rb") as f:
    key = SSlibKey.from_crypto(load_pem_public_key(f.read()), keyid=keyid)
with open(envelope_path) as f:
    envelope = Envelope.from_dict(json.load(f))
try:
    accepted = envelope.verify([key], 1)
except VerificationError as e:
    print(json.dumps({"verified": False, "error": str(e)}))
    sys.exit(1)
print(json.dumps({
    "verified": True,
    "keyids": sorted(accepted),
    "keytype": key.keytype,
    "scheme": key.scheme,
    "public": key.keyval["public"],
    "payloadType": envelope.payload_type,
    "statement": json.loads(envelope.payload),
}))
"#;

fn python_has_securesystemslib() -> bool {
    Command::new("python3")
        .args([
            "-c",
            "import securesystemslib.dsse, securesystemslib.signer, cryptography",
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or_else(|e| {
            panic!("python3 is required for the securesystemslib interop test: {e}")
        })
}

/// Installs securesystemslib once, even when several test processes start together.
// `File::lock` is std since 1.89 (the pinned toolchain is 1.95; the declared rust-version lags).
#[allow(clippy::incompatible_msrv)]
fn ensure_securesystemslib() {
    if python_has_securesystemslib() {
        return;
    }
    let lock_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("securesystemslib-install.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .expect("open the pip install lock file");
    lock.lock().expect("lock the pip install lock file");
    if !python_has_securesystemslib() {
        let output = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "securesystemslib[crypto]",
            ])
            .output()
            .expect("run python3 -m pip");
        assert!(
            output.status.success() && python_has_securesystemslib(),
            "securesystemslib is required for this test and could not be installed with \
             `python3 -m pip install 'securesystemslib[crypto]'` (run `.ci/run`):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

struct PythonVerdict {
    verified: bool,
    report: Value,
}

fn python_verify(pem: &str, envelope: &Envelope, keyid: &str) -> PythonVerdict {
    ensure_securesystemslib();
    let dir = tempfile::tempdir().expect("temp dir");
    let pem_path = dir.path().join("key.pub.pem");
    let env_path = dir.path().join("bundle.intoto.json");
    let script = dir.path().join("verify.py");
    fs::write(&pem_path, pem).expect("write pem");
    fs::write(&env_path, to_pretty_vec(envelope).expect("envelope json")).expect("write env");
    fs::write(&script, VERIFY_PY).expect("write script");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&pem_path)
        .arg(&env_path)
        .arg(keyid)
        .output()
        .expect("run python3");
    let code = output.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "the securesystemslib script failed (exit {code:?}):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "unexpected output from the script ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    PythonVerdict {
        verified: code == Some(0),
        report,
    }
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[0x17; 32])
}

fn pem_of(key: &SigningKey) -> String {
    key.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("PEM SPKI")
}

/// A bundle on disk: the archive bytes and the manifest that describes them.
fn bundle(dir: &Path) -> BundleManifest {
    let archive: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    fs::write(dir.join(ARCHIVE), &archive).expect("write archive");
    let (sha256, size) =
        archive_sha256(File::open(dir.join(ARCHIVE)).expect("open archive")).expect("hash");
    BundleManifest {
        schema: SCHEMA.to_owned(),
        bundle_id: "stellaops-bootstrap".to_owned(),
        kind: "bootstrap".to_owned(),
        mirror_generation: 12,
        created_at: "2026-11-01T00:00:00Z".to_owned(),
        producer: "bundle-pack/0.1.0".to_owned(),
        files: vec![FileEntry {
            path: "charts/app/values.yaml".to_owned(),
            size: 12,
            sha256: "a".repeat(64),
            blake3: "b".repeat(64),
            mode: "0644".to_owned(),
            media_type: "application/yaml".to_owned(),
        }],
        merkle_root: format!("sha256:{}", "c".repeat(64)),
        archive: Some(ArchiveInfo {
            name: ARCHIVE.to_owned(),
            size,
            sha256,
            blake3: "d".repeat(64),
            compression: "gzip".to_owned(),
        }),
    }
}

/// What `mirror-sign attest --key K --archive bootstrap.tar.gz < manifest.json` does.
fn attest_bundle(dir: &Path, key: &SigningKey) -> (Value, Envelope) {
    let manifest = bundle(dir);
    let (sha256, size) =
        archive_sha256(File::open(dir.join(ARCHIVE)).expect("open archive")).expect("hash");
    check_archive(&manifest, ARCHIVE, &sha256, size).expect("the archive is the manifest's");
    let digest = manifest_digest(&manifest).expect("manifest digest");
    let statement = statement(&manifest, &digest, ARCHIVE, &sha256);
    let envelope = attest(key, KEYID, &statement).expect("attest");
    (statement, envelope)
}

#[test]
fn securesystemslib_verifies_our_attestation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (statement, envelope) = attest_bundle(dir.path(), &key());
    let verdict = python_verify(&pem_of(&key()), &envelope, KEYID);
    assert!(verdict.verified, "{}", verdict.report);
    let r = &verdict.report;
    assert_eq!(r["keyids"], json!([KEYID]));
    assert_eq!(r["keytype"], "ed25519");
    assert_eq!(r["scheme"], "ed25519");
    assert_eq!(
        r["public"],
        hex::encode(key().verifying_key().as_bytes()),
        "Python read the same public key from the PEM"
    );
    assert_eq!(r["payloadType"], PAYLOAD_TYPE);
    assert_eq!(
        r["statement"], statement,
        "Python decoded the same statement"
    );

    let manifest = bundle(dir.path());
    let s = &r["statement"];
    assert_eq!(s["_type"], STATEMENT_TYPE);
    assert_eq!(s["predicateType"], PREDICATE_TYPE);
    assert_eq!(s["subject"][0]["name"], ARCHIVE);
    assert_eq!(
        s["subject"][0]["digest"]["sha256"],
        manifest.archive.as_ref().expect("archive").sha256
    );
    assert_eq!(
        s["predicate"]["manifestDigest"],
        manifest_digest(&manifest).expect("digest")
    );
    assert_eq!(s["predicate"]["mirrorGeneration"], 12);
    assert_eq!(s["predicate"]["files"], 1);
}

#[test]
fn securesystemslib_rejects_a_changed_payload() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut statement, mut envelope) = attest_bundle(dir.path(), &key());
    statement["subject"][0]["digest"]["sha256"] = json!("0".repeat(64));
    let forged = to_canonical_vec(&statement).expect("canonical");
    envelope.payload = Envelope::new(PAYLOAD_TYPE, &forged).payload;
    let verdict = python_verify(&pem_of(&key()), &envelope, KEYID);
    assert!(!verdict.verified, "{}", verdict.report);
    assert!(
        verdict.report["error"]
            .as_str()
            .is_some_and(|e| e.contains("threshold")),
        "{}",
        verdict.report
    );
}

#[test]
fn securesystemslib_rejects_another_payload_type() {
    // PAE binds the payload type: the same bytes under another type do not verify.
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, mut envelope) = attest_bundle(dir.path(), &key());
    envelope.payload_type = "application/json".to_owned();
    let verdict = python_verify(&pem_of(&key()), &envelope, KEYID);
    assert!(!verdict.verified, "{}", verdict.report);
}

#[test]
fn securesystemslib_rejects_another_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, envelope) = attest_bundle(dir.path(), &key());
    let other = SigningKey::from_bytes(&[0x18; 32]);
    let verdict = python_verify(&pem_of(&other), &envelope, KEYID);
    assert!(!verdict.verified, "{}", verdict.report);
}
