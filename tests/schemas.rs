//! The published JSON Schemas (`docs/schemas/`) against the documents the shared Rust types
//! write, the schemas' own validity, the readers' version checks, and the format pages'
//! examples.
#![allow(
    clippy::expect_used,
    reason = "fixtures and helpers of a test binary: a failed expectation is a failed test"
)]

use e2e_tests::{
    assert_invalid_at, assert_valid, compile, load_schema, read_json, schema_dir, schema_files,
    validation_errors, workspace_root,
};
use ed25519_dalek::{Signer as _, SigningKey};
use offline_formats::aoc_report::{self, AocCounts, AocReport, Violation, Window};
use offline_formats::approval::{self, Approval};
use offline_formats::digest::{digest_reader, sha256, sha256_prefixed};
use offline_formats::envelope::{Envelope, Signature};
use offline_formats::keys::encode_public_key_pem;
use offline_formats::manifest::{self, ArchiveInfo, BundleManifest, FileEntry};
use offline_formats::schema::Document;
use offline_formats::threshold::{
    self, encode_signature, verify_envelope, FailedSignature, FailureReason, ProblemKind,
    ThresholdReport,
};
use offline_formats::trust::{self, TrustKey, TrustRoot};
use offline_formats::verify_report::{self, Failure, FailureKind, VerifyCounts, VerifyReport};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;

const MANIFEST: &str = "bundle-manifest.v1.schema.json";
const ENVELOPE: &str = "dsse-envelope.schema.json";
const TRUST: &str = "trust-root.v1.schema.json";
const VERIFY: &str = "verify-report.v1.schema.json";
const AOC: &str = "aoc-report.v1.schema.json";
const VIOLATION: &str = "aoc-violation.v1.schema.json";
const GUARD_REJECT: &str = "aoc-guard-reject.v1.schema.json";
const AOC_RULES: &str = "aoc-rules.v1.schema.json";
const THRESHOLD: &str = "threshold-report.v1.schema.json";
const APPROVAL: &str = "approval.v1.schema.json";
const NETPOLICY_SPEC: &str = "netpolicy-spec.v1.schema.json";
const NETPOLICY_FILES: &str = "netpolicy-files.v1.schema.json";
const NETPOLICY_LINT: &str = "netpolicy-lint.v1.schema.json";
const NETPOLICY_EVAL: &str = "netpolicy-eval.v1.schema.json";
const NETPOLICY_SCAN: &str = "netpolicy-scan.v1.schema.json";

const ID_BASE: &str = "https://stellaops.invalid/schemas/";
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Every failure kind the Rust type knows, in declaration order.
const ALL_KINDS: [FailureKind; 12] = [
    FailureKind::Mismatch,
    FailureKind::Size,
    FailureKind::Missing,
    FailureKind::Unexpected,
    FailureKind::UnsafeEntry,
    FailureKind::Merkle,
    FailureKind::Signature,
    FailureKind::Stale,
    FailureKind::Rollback,
    FailureKind::Mode,
    FailureKind::Hygiene,
    FailureKind::Malformed,
];

/// Every reason a signature entry can fail to count, in declaration order.
const ALL_REASONS: [FailureReason; 9] = [
    FailureReason::BadBase64,
    FailureReason::BadLength,
    FailureReason::BadSignature,
    FailureReason::UnknownKey,
    FailureReason::Revoked,
    FailureReason::NotYetValid,
    FailureReason::ExpiredKey,
    FailureReason::DuplicateKey,
    FailureReason::WrongPayloadType,
];

/// Every problem kind of a threshold report, in declaration order.
const ALL_PROBLEMS: [ProblemKind; 4] = [
    ProblemKind::ThresholdNotMet,
    ProblemKind::WrongPayloadType,
    ProblemKind::RootExpired,
    ProblemKind::RootNotSelfSigned,
];

// ---------------------------------------------------------------------------------------
// Fixtures, built through the shared Rust types exactly as the tools build them.

fn to_value<T: Serialize>(document: &T) -> Value {
    serde_json::to_value(document).expect("document serializes")
}

/// Standard base64 of `bytes`, through the same encoder the envelope uses.
fn base64(bytes: &[u8]) -> String {
    Envelope::new("application/octet-stream", bytes).payload
}

fn file(path: &str, content: &[u8], mode: &str, media_type: &str) -> FileEntry {
    let digests = digest_reader(content).expect("in-memory read");
    FileEntry {
        path: path.to_owned(),
        size: digests.size,
        sha256: digests.sha256_hex(),
        blake3: digests.blake3_hex(),
        mode: mode.to_owned(),
        media_type: media_type.to_owned(),
    }
}

/// A bootstrap manifest as it sits inside the archive (no `archive` member).
fn embedded_manifest() -> BundleManifest {
    let mut files = vec![
        file(
            "charts/stellaops/Chart.yaml",
            b"apiVersion: v2\nname: stellaops\nversion: 1.4.2\n",
            "0644",
            "application/yaml",
        ),
        file(
            "compose/docker-compose.yaml",
            b"services:\n  scanner:\n    image: registry.local/stellaops/scanner:1.4.2\n",
            "0644",
            "application/yaml",
        ),
        file(
            "images/scanner/blobs/sha256/3f1a",
            &[0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff],
            "0644",
            "application/vnd.oci.image.layer.v1.tar+gzip",
        ),
        file(
            "scripts/verify.sh",
            b"#!/bin/sh\nset -eu\nsha256sum -c SHA256SUMS\n",
            "0755",
            "text/x-shellscript",
        ),
        file(
            "docs/.hidden/..notes...",
            b"",
            "0644",
            "text/plain; charset=utf-8",
        ),
    ];
    files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    BundleManifest {
        schema: manifest::SCHEMA.to_owned(),
        bundle_id: "stellaops-bootstrap".to_owned(),
        kind: "bootstrap".to_owned(),
        mirror_generation: 42,
        created_at: "2026-01-31T12:00:00Z".to_owned(),
        producer: "bundle-pack/0.1.0".to_owned(),
        files,
        // The Merkle module is another crate's work in progress: any well-formed root will do
        // for the schema.
        merkle_root: sha256_prefixed(&sha256(b"merkle root placeholder")),
        archive: None,
    }
}

/// The same manifest as written on stdout and beside the archive.
fn published_manifest() -> BundleManifest {
    let archive_bytes = b"not really a gzip stream, only its digests matter here";
    let digests = digest_reader(&archive_bytes[..]).expect("in-memory read");
    BundleManifest {
        archive: Some(ArchiveInfo {
            name: "bootstrap.tar.gz".to_owned(),
            size: digests.size,
            sha256: digests.sha256_hex(),
            blake3: digests.blake3_hex(),
            compression: "gzip".to_owned(),
        }),
        ..embedded_manifest()
    }
}

fn unsigned_envelope() -> Envelope {
    let payload = serde_json::to_vec(&published_manifest()).expect("manifest serializes");
    Envelope::new(manifest::PAYLOAD_TYPE, &payload)
}

fn twice_signed_envelope() -> Envelope {
    let mut envelope = unsigned_envelope();
    envelope.signatures = vec![
        Signature {
            keyid: "alice-2026".to_owned(),
            sig: base64(&[0xa1; 64]),
        },
        Signature {
            keyid: String::new(),
            sig: base64(&[0xb0; 64]),
        },
    ];
    envelope
}

/// PEM SubjectPublicKeyInfo of an Ed25519 public key.
fn ed25519_pem(public: [u8; 32]) -> String {
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend_from_slice(&public);
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64(&der)
    )
}

fn trust_key(keyid: &str, owner: &str, seed: u8, revoked: bool) -> TrustKey {
    TrustKey {
        keyid: keyid.to_owned(),
        public_key: ed25519_pem([seed; 32]),
        owner: owner.to_owned(),
        not_before: "2026-01-01T00:00:00Z".to_owned(),
        not_after: "2027-01-01T00:00:00Z".to_owned(),
        revoked,
    }
}

fn trust_root() -> TrustRoot {
    TrustRoot {
        schema: trust::SCHEMA.to_owned(),
        version: 3,
        expires: "2026-12-31T23:59:59Z".to_owned(),
        threshold: 2,
        keys: vec![
            trust_key("alice-2026", "alice@release.example", 1, false),
            trust_key("bob-2026", "bob@release.example", 2, false),
            trust_key("mallory-2025", "former approver", 3, true),
        ],
    }
}

fn failing_verify_report() -> VerifyReport {
    let failure = |path: &str, kind, expected: Option<&str>, actual: Option<&str>| Failure {
        path: path.to_owned(),
        kind,
        expected: expected.map(str::to_owned),
        actual: actual.map(str::to_owned),
    };
    VerifyReport {
        schema: verify_report::SCHEMA.to_owned(),
        ok: false,
        target: "media/bootstrap.tar.gz".to_owned(),
        manifest_digest: Some(sha256_prefixed(&sha256(b"manifest"))),
        counts: VerifyCounts {
            files: 4,
            bytes: 1_048_576,
        },
        failures: vec![
            failure(
                "charts/stellaops/Chart.yaml",
                FailureKind::Mismatch,
                Some(&hex64('a')),
                Some(&hex64('b')),
            ),
            failure(
                "compose/docker-compose.yaml",
                FailureKind::Size,
                Some("73"),
                Some("74"),
            ),
            failure("scripts/verify.sh", FailureKind::Missing, None, None),
            failure("extra/payload.bin", FailureKind::Unexpected, None, None),
            failure(
                "../../etc/cron.d/evil",
                FailureKind::UnsafeEntry,
                None,
                Some("path escapes the destination"),
            ),
            failure(
                "scripts/verify.sh",
                FailureKind::Mode,
                Some("0755"),
                Some("0644"),
            ),
            failure(
                "bootstrap.dsse.json",
                FailureKind::Signature,
                Some("2"),
                Some("1"),
            ),
        ],
    }
}

fn passing_verify_report() -> VerifyReport {
    VerifyReport {
        schema: verify_report::SCHEMA.to_owned(),
        ok: true,
        target: "/srv/offline/bootstrap".to_owned(),
        manifest_digest: None,
        counts: VerifyCounts {
            files: 20_004,
            bytes: 1_181_116_006,
        },
        failures: Vec::new(),
    }
}

fn hex64(digit: char) -> String {
    std::iter::repeat_n(digit, 64).collect()
}

fn violations() -> Vec<Violation> {
    vec![
        Violation {
            code: "ERR_AOC_001".to_owned(),
            collection: "advisory_raw".to_owned(),
            document_id: "65b9d1f2c3a4e5f607182930".to_owned(),
            tenant: Some("tenant-a".to_owned()),
            source: Some("redhat".to_owned()),
            path: "/severity".to_owned(),
            message: "derived field `severity` is forbidden in raw documents".to_owned(),
        },
        Violation {
            code: "ERR_AOC_004".to_owned(),
            collection: "vex_raw".to_owned(),
            document_id: "csaf:2026:0001".to_owned(),
            tenant: None,
            source: None,
            path: "/upstream/content~1hash".to_owned(),
            message: "provenance `upstream.content_hash` is missing".to_owned(),
        },
        Violation {
            code: "ERR_AOC_007".to_owned(),
            collection: "advisory_raw".to_owned(),
            document_id: "65b9d1f2c3a4e5f607182931".to_owned(),
            tenant: Some("tenant-a".to_owned()),
            source: Some("osv".to_owned()),
            path: String::new(),
            message: "document is not an object".to_owned(),
        },
    ]
}

fn aoc_report() -> AocReport {
    let violations = violations();
    let mut counts = AocCounts::default();
    for v in &violations {
        *counts.by_code.entry(v.code.clone()).or_default() += 1;
        if let Some(source) = &v.source {
            *counts.by_source.entry(source.clone()).or_default() += 1;
        }
        if let Some(tenant) = &v.tenant {
            *counts.by_tenant.entry(tenant.clone()).or_default() += 1;
        }
    }
    AocReport {
        schema: aoc_report::SCHEMA.to_owned(),
        window: Some(Window {
            from: Some("2026-01-01T00:00:00Z".to_owned()),
            to: Some("2026-02-01T00:00:00Z".to_owned()),
        }),
        documents_scanned: 12_345,
        documents_in_scope: 12_000,
        collections: BTreeMap::from([
            ("advisory_raw".to_owned(), 12_000),
            ("vex_raw".to_owned(), 345),
        ]),
        skipped: BTreeMap::from([("system.views".to_owned(), 2)]),
        violations_total: violations.len() as u64,
        truncated: false,
        counts,
        violations,
    }
}

fn clean_aoc_report() -> AocReport {
    AocReport {
        schema: aoc_report::SCHEMA.to_owned(),
        window: None,
        documents_scanned: 0,
        documents_in_scope: 0,
        collections: BTreeMap::new(),
        skipped: BTreeMap::new(),
        violations_total: 0,
        truncated: false,
        counts: AocCounts::default(),
        violations: Vec::new(),
    }
}

/// A copy of `document` with the value at `pointer` replaced.
fn with(document: &Value, pointer: &str, value: Value) -> Value {
    let mut copy = document.clone();
    *copy
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no value at {pointer}")) = value;
    copy
}

/// A copy of `object` with one member added.
fn with_member(object: &Value, pointer: &str, name: &str, value: Value) -> Value {
    let mut copy = object.clone();
    copy.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer}"))
        .insert(name.to_owned(), value);
    copy
}

/// 2026-06-01T00:00:00Z.
const NOW: i64 = 1_780_272_000;

fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A 2-of-3 root of real Ed25519 keys (seeds 11, 12, 13) and a revoked fourth (14).
fn signing_root() -> TrustRoot {
    let key = |keyid: &str, owner: &str, seed: u8, revoked: bool| TrustKey {
        keyid: keyid.to_owned(),
        public_key: encode_public_key_pem(&signing_key(seed).verifying_key()),
        owner: owner.to_owned(),
        not_before: "2026-01-01T00:00:00Z".to_owned(),
        not_after: "2027-01-01T00:00:00Z".to_owned(),
        revoked,
    };
    TrustRoot {
        schema: trust::SCHEMA.to_owned(),
        version: 4,
        expires: "2026-12-31T23:59:59Z".to_owned(),
        threshold: 2,
        keys: vec![
            key("alice-2026", "alice@release.example", 11, false),
            key("bob-2026", "bob@release.example", 12, false),
            key("carol-2026", "carol@release.example", 13, false),
            key("mallory-2025", "former approver", 14, true),
        ],
    }
}

/// The published manifest in an envelope signed by the given (keyid, seed) pairs.
fn signed_envelope(signers: &[(&str, u8)]) -> Envelope {
    let payload = offline_formats::jcs::to_canonical_vec(&published_manifest()).expect("JCS");
    let mut envelope = Envelope::new(manifest::PAYLOAD_TYPE, &payload);
    let signed = envelope.signed_bytes().expect("payload decodes");
    envelope.signatures = signers
        .iter()
        .map(|(keyid, seed)| Signature {
            keyid: (*keyid).to_owned(),
            sig: encode_signature(&signing_key(*seed).sign(&signed)),
        })
        .collect();
    envelope
}

fn report_for(signers: &[(&str, u8)]) -> ThresholdReport {
    verify_envelope(
        &signed_envelope(signers),
        &signing_root(),
        manifest::PAYLOAD_TYPE,
        NOW,
    )
    .expect("inputs are usable")
}

/// Alice twice, mallory (revoked) and a stranger: 1 of 2, three entries not counted.
fn failing_threshold_report() -> ThresholdReport {
    let report = report_for(&[
        ("alice-2026", 11),
        ("alice-laptop", 11),
        ("mallory-2025", 14),
        ("eve", 99),
    ]);
    assert!(!report.ok);
    report
}

fn passing_threshold_report() -> ThresholdReport {
    let report = report_for(&[("alice-2026", 11), ("carol-2026", 13)]);
    assert!(report.ok);
    report
}

fn approval() -> Approval {
    let envelope = signed_envelope(&[("alice-2026", 11)]);
    let signed = envelope.signed_bytes().expect("payload decodes");
    Approval::for_envelope(
        &envelope,
        "bob-2026",
        encode_signature(&signing_key(12).sign(&signed)),
    )
    .expect("payload decodes")
}

// ---------------------------------------------------------------------------------------
// The schemas themselves.

#[test]
fn every_published_format_has_a_schema() {
    assert_eq!(
        schema_files(),
        [
            GUARD_REJECT,
            AOC,
            AOC_RULES,
            VIOLATION,
            APPROVAL,
            MANIFEST,
            ENVELOPE,
            KEY_STATUS,
            NETPOLICY_EVAL,
            NETPOLICY_FILES,
            NETPOLICY_LINT,
            NETPOLICY_SCAN,
            NETPOLICY_SPEC,
            ROTATION,
            STAGE_INDEX,
            STAGE_RECEIPT,
            THRESHOLD,
            CHAIN,
            TRUST,
            VERIFY,
            VERIFY_STATE
        ],
        "docs/schemas/ holds exactly these schemas: give a new one its tests here"
    );
}

#[test]
fn every_schema_is_a_valid_draft_2020_12_schema_with_an_id() {
    for name in schema_files() {
        let schema = load_schema(&name);
        assert_eq!(schema["$schema"], DRAFT_2020_12, "{name}: $schema");
        assert_eq!(schema["$id"], format!("{ID_BASE}{name}"), "{name}: $id");
        for member in ["title", "description"] {
            let text = schema[member].as_str().unwrap_or_default();
            assert!(!text.is_empty(), "{name}: no {member}");
        }
        if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
            panic!("{name} is not a valid draft 2020-12 schema: {e}");
        }
        if let Err(e) = compile(&name) {
            panic!("{name} does not compile: {e}");
        }
    }
}

#[test]
fn schema_files_are_plain_utf8_json_with_a_trailing_newline() {
    for name in schema_files() {
        let text = fs::read_to_string(schema_dir().join(&name)).expect("schema is UTF-8");
        assert!(
            text.ends_with("}\n"),
            "{name}: one document and a trailing newline"
        );
        assert!(
            !text.contains('\t') && !text.contains('\r'),
            "{name}: no tabs or CRs"
        );
        for line in text.lines() {
            let indent = line.len() - line.trim_start().len();
            assert_eq!(indent % 2, 0, "{name}: 2-space indent: {line}");
        }
    }
}

/// Every object a signed document can hold refuses unknown members: a member nobody reads
/// would still be covered by the signature, and could smuggle meaning past an old reader.
#[test]
fn signed_documents_close_every_object() {
    fn walk(name: &str, at: &str, node: &Value) {
        if let Some(object) = node.as_object() {
            if object.contains_key("properties") {
                assert_eq!(
                    object.get("additionalProperties"),
                    Some(&Value::Bool(false)),
                    "{name}: {at} must set additionalProperties: false"
                );
            }
            for (key, child) in object {
                walk(name, &format!("{at}/{key}"), child);
            }
        }
    }
    for name in [MANIFEST, ENVELOPE, TRUST, APPROVAL] {
        walk(name, "#", &load_schema(name));
    }
}

#[test]
fn failure_kind_enum_matches_the_rust_type() {
    let from_rust: Vec<Value> = ALL_KINDS.iter().map(to_value).collect();
    let schema = load_schema(VERIFY);
    assert_eq!(
        schema["$defs"]["failure"]["properties"]["kind"]["enum"],
        Value::Array(from_rust)
    );
}

#[test]
fn threshold_report_enums_match_the_rust_types() {
    let schema = load_schema(THRESHOLD);
    let reasons: Vec<Value> = ALL_REASONS.iter().map(to_value).collect();
    assert_eq!(
        schema["$defs"]["failure"]["properties"]["reason"]["enum"],
        Value::Array(reasons)
    );
    let kinds: Vec<Value> = ALL_PROBLEMS.iter().map(to_value).collect();
    assert_eq!(
        schema["$defs"]["problem"]["properties"]["kind"]["enum"],
        Value::Array(kinds)
    );
}

#[test]
fn schema_consts_match_the_rust_types() {
    let cases = [
        (MANIFEST, BundleManifest::schema_id()),
        (TRUST, TrustRoot::schema_id()),
        (VERIFY, VerifyReport::schema_id()),
        (AOC, AocReport::schema_id()),
        (THRESHOLD, ThresholdReport::schema_id()),
        (APPROVAL, Approval::schema_id()),
    ];
    for (name, id) in cases {
        assert_eq!(
            load_schema(name)["properties"]["schema"]["const"],
            id,
            "{name}"
        );
    }
    assert_eq!(manifest::SCHEMA, BundleManifest::schema_id());
    assert_eq!(threshold::SCHEMA, ThresholdReport::schema_id());
    assert_eq!(approval::SCHEMA, Approval::schema_id());
}

// ---------------------------------------------------------------------------------------
// What the Rust types write validates.

#[test]
fn manifest_without_archive_validates() {
    let value = to_value(&embedded_manifest());
    assert!(
        value.get("archive").is_none(),
        "embedded copy has no archive"
    );
    assert_valid(MANIFEST, &value);
}

#[test]
fn manifest_with_archive_validates() {
    let value = to_value(&published_manifest());
    assert_eq!(value["archive"]["compression"], "gzip");
    assert_valid(MANIFEST, &value);
}

#[test]
fn manifest_with_no_files_validates() {
    let mut empty = embedded_manifest();
    empty.files.clear();
    empty.merkle_root = sha256_prefixed(&sha256(b""));
    assert_valid(MANIFEST, &to_value(&empty));
}

#[test]
fn envelopes_with_zero_and_two_signatures_validate() {
    let unsigned = to_value(&unsigned_envelope());
    assert_eq!(unsigned["signatures"], json!([]));
    assert_valid(ENVELOPE, &unsigned);

    let signed = to_value(&twice_signed_envelope());
    assert_eq!(signed["signatures"].as_array().map(Vec::len), Some(2));
    assert!(
        signed["signatures"][1].get("keyid").is_none(),
        "an empty keyid is omitted"
    );
    assert_valid(ENVELOPE, &signed);
}

#[test]
fn envelope_payload_is_a_valid_manifest() {
    let envelope = twice_signed_envelope();
    let payload: Value =
        serde_json::from_slice(&envelope.payload_bytes().expect("payload decodes"))
            .expect("payload is JSON");
    assert_valid(MANIFEST, &payload);
}

#[test]
fn trust_root_with_a_revoked_key_validates() {
    let value = to_value(&trust_root());
    assert_eq!(value["keys"][2]["revoked"], true);
    assert!(
        value["keys"][0].get("revoked").is_none(),
        "false is omitted"
    );
    assert_valid(TRUST, &value);

    let payload = serde_json::to_vec(&trust_root()).expect("trust root serializes");
    assert_valid(
        ENVELOPE,
        &to_value(&Envelope::new(trust::PAYLOAD_TYPE, &payload)),
    );
}

#[test]
fn failing_verify_report_validates() {
    let value = to_value(&failing_verify_report());
    let kinds: Vec<&str> = value["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "mismatch",
            "size",
            "missing",
            "unexpected",
            "unsafe-entry",
            "mode",
            "signature"
        ]
    );
    assert_valid(VERIFY, &value);
}

#[test]
fn verify_report_with_every_failure_kind_validates() {
    let mut report = failing_verify_report();
    report.failures = ALL_KINDS
        .iter()
        .map(|&kind| Failure {
            path: "charts/stellaops/Chart.yaml".to_owned(),
            kind,
            expected: None,
            actual: None,
        })
        .collect();
    assert_valid(VERIFY, &to_value(&report));
}

#[test]
fn passing_verify_report_validates() {
    let value = to_value(&passing_verify_report());
    assert!(value.get("failures").is_none());
    assert_valid(VERIFY, &value);
}

#[test]
fn failing_threshold_report_validates() {
    let report = failing_threshold_report();
    let value = to_value(&report);
    assert_eq!(value["valid"], 1);
    let reasons: Vec<&str> = value["failed"]
        .as_array()
        .expect("failed")
        .iter()
        .filter_map(|f| f["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["duplicate-key", "revoked", "unknown-key"]);
    assert_eq!(value["problems"][0]["kind"], "threshold-not-met");
    assert_eq!(value["missing"].as_array().map(Vec::len), Some(2));
    assert_valid(THRESHOLD, &value);
}

#[test]
fn passing_threshold_report_validates() {
    let value = to_value(&passing_threshold_report());
    assert!(
        value.get("problems").is_none(),
        "ok reports carry no problems"
    );
    assert_eq!(value["failed"], json!([]), "empty lists are still written");
    assert_valid(THRESHOLD, &value);
}

#[test]
fn threshold_report_with_every_reason_and_problem_validates() {
    let mut report = failing_threshold_report();
    report.failed = ALL_REASONS
        .iter()
        .enumerate()
        .map(|(index, &reason)| FailedSignature {
            index,
            keyid: if index % 2 == 0 {
                String::new()
            } else {
                "x".to_owned()
            },
            reason,
            fingerprint: (index % 3 == 0).then(|| sha256_prefixed(&sha256(b"key"))),
        })
        .collect();
    for kind in ALL_PROBLEMS {
        if !report.has_problem(kind) {
            report.add_problem(kind, format!("{kind:?}"));
        }
    }
    let value = to_value(&report);
    assert_eq!(value["problems"].as_array().map(Vec::len), Some(4));
    assert!(
        value["failed"][0].get("keyid").is_none(),
        "an empty keyid is omitted"
    );
    assert_valid(THRESHOLD, &value);
}

#[test]
fn approval_validates() {
    let value = to_value(&approval());
    assert_eq!(value["schema"], approval::SCHEMA);
    assert_valid(APPROVAL, &value);
}

#[test]
fn aoc_report_with_violations_validates() {
    let value = to_value(&aoc_report());
    assert_eq!(value["counts"]["byCode"]["ERR_AOC_001"], 1);
    assert_valid(AOC, &value);
}

#[test]
fn clean_aoc_report_validates() {
    let value = to_value(&clean_aoc_report());
    assert!(value.get("violations").is_none());
    assert!(value.get("window").is_none());
    assert_valid(AOC, &value);
}

#[test]
fn each_violation_validates_as_one_ndjson_line() {
    let mut ndjson = String::new();
    for v in violations() {
        ndjson.push_str(&serde_json::to_string(&v).expect("violation serializes"));
        ndjson.push('\n');
    }
    let lines: Vec<&str> = ndjson.lines().collect();
    assert_eq!(lines.len(), 3);
    for line in lines {
        let value: Value = serde_json::from_str(line).expect("line is JSON");
        assert_valid(VIOLATION, &value);
    }
}

// ---------------------------------------------------------------------------------------
// What the schemas refuse.

#[test]
fn manifest_schema_refuses_malformed_members() {
    let good = to_value(&published_manifest());
    let cases = [
        ("uppercase sha256", "/files/0/sha256", json!(hex64('A'))),
        ("short sha256", "/files/0/sha256", json!(hex64('a')[..63])),
        ("uppercase blake3", "/files/1/blake3", json!(hex64('F'))),
        (
            "prefixed file digest",
            "/files/1/sha256",
            json!(format!("sha256:{}", hex64('a'))),
        ),
        (
            "uppercase archive digest",
            "/archive/sha256",
            json!(hex64('E')),
        ),
        ("unprefixed merkle root", "/merkleRoot", json!(hex64('a'))),
        (
            "uppercase merkle root",
            "/merkleRoot",
            json!(format!("sha256:{}", hex64('A'))),
        ),
        ("bad mode", "/files/0/mode", json!("0777")),
        ("octal-less mode", "/files/0/mode", json!("644")),
        ("numeric mode", "/files/0/mode", json!(420)),
        ("wrong schema", "/schema", json!("stellaops.bundle/v2")),
        (
            "other document's schema",
            "/schema",
            json!("stellaops.trust/v1"),
        ),
        ("negative generation", "/mirrorGeneration", json!(-1)),
        ("fractional generation", "/mirrorGeneration", json!(1.5)),
        ("string generation", "/mirrorGeneration", json!("42")),
        ("negative size", "/files/0/size", json!(-3)),
        (
            "offset time",
            "/createdAt",
            json!("2026-01-31T14:00:00+02:00"),
        ),
        ("space in time", "/createdAt", json!("2026-01-31 12:00:00Z")),
        (
            "impossible date",
            "/createdAt",
            json!("2026-02-30T12:00:00Z"),
        ),
        ("unknown compression", "/archive/compression", json!("zstd")),
        (
            "archive name with folder",
            "/archive/name",
            json!("out/bootstrap.tar.gz"),
        ),
        (
            "media type without subtype",
            "/files/0/mediaType",
            json!("yaml"),
        ),
        ("upper-case kind", "/kind", json!("Bootstrap")),
        ("files not an array", "/files", json!({})),
    ];
    for (what, pointer, value) in cases {
        let bad = with(&good, pointer, value);
        let errors = validation_errors(MANIFEST, &bad);
        assert!(
            errors.iter().any(|(at, _)| at == pointer),
            "{what}: expected an error at {pointer}, got {errors:?}"
        );
    }
}

#[test]
fn manifest_schema_refuses_unsafe_paths() {
    let good = to_value(&embedded_manifest());
    let unsafe_paths = [
        "../etc/passwd",
        "charts/../../etc/passwd",
        "charts/..",
        "..",
        "/etc/passwd",
        "/",
        "",
        "charts//Chart.yaml",
        "charts/",
        "./charts/Chart.yaml",
        "charts/./Chart.yaml",
        ".",
        "charts\\Chart.yaml",
        "..\\..\\windows",
        "charts/Chart.yaml\n",
        "charts/\u{0}Chart.yaml",
    ];
    for path in unsafe_paths {
        let bad = with(&good, "/files/0/path", json!(path));
        assert_invalid_at(MANIFEST, &bad, "/files/0/path");
    }
}

#[test]
fn manifest_schema_accepts_unusual_but_safe_paths() {
    let good = to_value(&embedded_manifest());
    let safe_paths = [
        "a",
        "...",
        ".hidden",
        "..hidden",
        "charts/..chart",
        "charts/v1..2/Chart.yaml",
        "docs/résumé.txt",
        "with space/and:colon",
    ];
    for path in safe_paths {
        assert_valid(MANIFEST, &with(&good, "/files/0/path", json!(path)));
    }
}

#[test]
fn manifest_schema_refuses_unknown_members() {
    let good = to_value(&published_manifest());
    assert_invalid_at(
        MANIFEST,
        &with_member(&good, "", "signedBy", json!("alice")),
        "",
    );
    assert_invalid_at(
        MANIFEST,
        &with_member(&good, "/files/0", "mtime", json!(0)),
        "/files/0",
    );
    assert_invalid_at(
        MANIFEST,
        &with_member(
            &good,
            "/archive",
            "url",
            json!("https://example.invalid/b.tar.gz"),
        ),
        "/archive",
    );
}

#[test]
fn manifest_schema_refuses_missing_members() {
    let good = to_value(&published_manifest());
    for member in ["schema", "bundleId", "files", "merkleRoot", "createdAt"] {
        let mut bad = good.clone();
        bad.as_object_mut().expect("object").remove(member);
        assert_invalid_at(MANIFEST, &bad, "");
    }
    let mut bad = good.clone();
    bad["files"][0]
        .as_object_mut()
        .expect("object")
        .remove("blake3");
    assert_invalid_at(MANIFEST, &bad, "/files/0");
}

#[test]
fn envelope_schema_refuses_malformed_envelopes() {
    let good = to_value(&twice_signed_envelope());
    assert_invalid_at(
        ENVELOPE,
        &with(&good, "/payload", json!("not base64!")),
        "/payload",
    );
    assert_invalid_at(
        ENVELOPE,
        &with(&good, "/payload", json!("YWJj\n")),
        "/payload",
    );
    assert_invalid_at(
        ENVELOPE,
        &with(&good, "/signatures/0/sig", json!("abc")),
        "/signatures/0/sig",
    );
    assert_invalid_at(
        ENVELOPE,
        &with(&good, "/signatures/0/keyid", json!("")),
        "/signatures/0/keyid",
    );
    assert_invalid_at(
        ENVELOPE,
        &with_member(&good, "", "payloadHash", json!("x")),
        "",
    );
    assert_invalid_at(
        ENVELOPE,
        &with_member(&good, "/signatures/1", "cert", json!("x")),
        "/signatures/1",
    );
    let mut unsigned = good.clone();
    unsigned
        .as_object_mut()
        .expect("object")
        .remove("signatures");
    assert_invalid_at(ENVELOPE, &unsigned, "");
}

#[test]
fn trust_root_schema_refuses_malformed_roots() {
    let good = to_value(&trust_root());
    let cases = [
        ("/schema", json!("stellaops.trust/v2")),
        ("/threshold", json!(0)),
        ("/version", json!(0)),
        ("/keys", json!([])),
        ("/expires", json!("2026-12-31")),
        ("/keys/0/notAfter", json!("2027-01-01T00:00:00.5+01:00")),
        ("/keys/0/publicKey", json!("MCowBQYDK2VwAyEA")),
        ("/keys/2/revoked", json!("yes")),
    ];
    for (pointer, value) in cases {
        assert_invalid_at(TRUST, &with(&good, pointer, value), pointer);
    }
    assert_invalid_at(
        TRUST,
        &with_member(&good, "/keys/0", "algorithm", json!("rsa")),
        "/keys/0",
    );
    assert_invalid_at(TRUST, &with_member(&good, "", "comment", json!("hi")), "");
}

#[test]
fn verify_report_schema_refuses_malformed_reports() {
    let good = to_value(&failing_verify_report());
    assert_invalid_at(
        VERIFY,
        &with(&good, "/failures/1/kind", json!("tampered")),
        "/failures/1/kind",
    );
    assert_invalid_at(
        VERIFY,
        &with(&good, "/failures/1/kind", json!("Mismatch")),
        "/failures/1/kind",
    );
    assert_invalid_at(
        VERIFY,
        &with(&good, "/manifestDigest", json!(hex64('a'))),
        "/manifestDigest",
    );
    assert_invalid_at(
        VERIFY,
        &with(&good, "/counts/bytes", json!(-1)),
        "/counts/bytes",
    );
    assert_invalid_at(
        VERIFY,
        &with(&good, "/schema", json!("stellaops.verify-report/v2")),
        "/schema",
    );
    // The verdict and the failures must agree.
    assert_invalid_at(VERIFY, &with(&good, "/ok", json!(true)), "");
    let passing = to_value(&passing_verify_report());
    assert_invalid_at(VERIFY, &with(&passing, "/ok", json!(false)), "");
    assert_invalid_at(
        VERIFY,
        &with_member(&passing, "", "failures", json!([])),
        "/failures",
    );
}

#[test]
fn aoc_schemas_refuse_malformed_reports_and_violations() {
    let good = to_value(&aoc_report());
    assert_invalid_at(
        AOC,
        &with(&good, "/violations/0/code", json!("ERR_AOC_008")),
        "/violations/0/code",
    );
    assert_invalid_at(
        AOC,
        &with(&good, "/violations/0/path", json!("severity")),
        "/violations/0/path",
    );
    assert_invalid_at(
        AOC,
        &with(&good, "/violations/0/path", json!("/a/~2b")),
        "/violations/0/path",
    );
    assert_invalid_at(
        AOC,
        &with_member(&good, "/counts/byCode", "ERR_AOC_9", json!(1)),
        "/counts/byCode",
    );
    assert_invalid_at(
        AOC,
        &with(&good, "/window/to", json!("yesterday")),
        "/window/to",
    );
    assert_invalid_at(
        AOC,
        &with(&good, "/documentsScanned", json!(-5)),
        "/documentsScanned",
    );

    let line = to_value(&violations()[0]);
    assert_invalid_at(
        VIOLATION,
        &with(&line, "/code", json!("err_aoc_001")),
        "/code",
    );
    assert_invalid_at(
        VIOLATION,
        &with(&line, "/documentId", json!("")),
        "/documentId",
    );
    let mut no_message = line.clone();
    no_message
        .as_object_mut()
        .expect("object")
        .remove("message");
    assert_invalid_at(VIOLATION, &no_message, "");
}

#[test]
fn threshold_report_schema_refuses_malformed_reports() {
    let good = to_value(&failing_threshold_report());
    let cases = [
        ("/failed/0/reason", json!("tampered")),
        ("/failed/0/index", json!(-1)),
        ("/payloadDigest", json!(hex64('a'))),
        (
            "/signedBy/0/fingerprint",
            json!(format!("sha256:{}", hex64('A'))),
        ),
        ("/problems/0/kind", json!("ThresholdNotMet")),
        ("/threshold", json!(0)),
        ("/root/expires", json!("2026-12-31")),
        ("/schema", json!("stellaops.threshold-report/v2")),
    ];
    for (pointer, value) in cases {
        assert_invalid_at(THRESHOLD, &with(&good, pointer, value), pointer);
    }
    // The verdict and the problems must agree.
    assert_invalid_at(THRESHOLD, &with(&good, "/ok", json!(true)), "");
    let passing = to_value(&passing_threshold_report());
    assert_invalid_at(THRESHOLD, &with(&passing, "/ok", json!(false)), "");
    for member in ["signedBy", "failed", "missing", "payloadDigest"] {
        let mut bad = passing.clone();
        bad.as_object_mut().expect("object").remove(member);
        assert_invalid_at(THRESHOLD, &bad, "");
    }
}

#[test]
fn approval_schema_refuses_malformed_approvals() {
    let good = to_value(&approval());
    let cases = [
        ("/payloadDigest", json!(hex64('a'))),
        ("/sig", json!(base64(&[1; 63]))),
        ("/sig", json!(base64(&[1; 65]))),
        ("/keyid", json!("")),
        ("/schema", json!("stellaops.approval/v2")),
    ];
    for (pointer, value) in cases {
        assert_invalid_at(APPROVAL, &with(&good, pointer, value), pointer);
    }
    assert_invalid_at(
        APPROVAL,
        &with_member(&good, "", "publicKey", json!("x")),
        "",
    );
    let mut no_sig = good.clone();
    no_sig.as_object_mut().expect("object").remove("sig");
    assert_invalid_at(APPROVAL, &no_sig, "");
}

#[test]
fn reports_accept_members_added_by_later_minor_versions() {
    // Reports are not signed: a v1 reader must ignore what it does not know.
    let verify = with_member(
        &to_value(&passing_verify_report()),
        "",
        "durationMs",
        json!(12),
    );
    assert_valid(VERIFY, &verify);
    let aoc = with_member(
        &to_value(&aoc_report()),
        "/violations/0",
        "severity",
        json!("hint"),
    );
    assert_valid(AOC, &aoc);
    let threshold = with_member(
        &to_value(&failing_threshold_report()),
        "/failed/0",
        "detail",
        json!("x"),
    );
    assert_valid(THRESHOLD, &threshold);
    let bytes = serde_json::to_vec(&threshold).expect("serializes");
    ThresholdReport::from_json_slice(&bytes).expect("the reader ignores unknown members");
}

// ---------------------------------------------------------------------------------------
// Readers: the version check and unknown members, through the shared Rust types.

fn round_trip<D>(document: &D)
where
    D: Document + Serialize + PartialEq + std::fmt::Debug,
{
    let bytes = serde_json::to_vec_pretty(document).expect("document serializes");
    let back = D::from_json_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", D::LABEL));
    assert_eq!(&back, document);
}

#[test]
fn documents_round_trip_through_the_readers() {
    round_trip(&embedded_manifest());
    round_trip(&published_manifest());
    round_trip(&trust_root());
    round_trip(&failing_verify_report());
    round_trip(&passing_verify_report());
    round_trip(&aoc_report());
    round_trip(&clean_aoc_report());
    round_trip(&failing_threshold_report());
    round_trip(&passing_threshold_report());
    round_trip(&approval());
    for envelope in [unsigned_envelope(), twice_signed_envelope()] {
        let bytes = serde_json::to_vec(&envelope).expect("envelope serializes");
        assert_eq!(
            Envelope::from_json_slice(&bytes).expect("envelope parses"),
            envelope
        );
    }
}

#[test]
fn a_later_major_version_is_refused_by_name() {
    let v2 = with(
        &to_value(&published_manifest()),
        "/schema",
        json!("stellaops.bundle/v2"),
    );
    let bytes = serde_json::to_vec(&v2).expect("serializes");
    let err = BundleManifest::from_json_slice(&bytes).expect_err("v2 must be refused");
    let message = err.to_string();
    assert!(message.contains("unsupported schema version"), "{message}");
    assert!(message.contains("stellaops.bundle/v2"), "{message}");
    assert!(message.contains("stellaops.bundle/v1"), "{message}");
    // The schema refuses it too.
    assert_invalid_at(MANIFEST, &v2, "/schema");

    let trust_v9 = with(
        &to_value(&trust_root()),
        "/schema",
        json!("stellaops.trust/v9"),
    );
    let err = TrustRoot::from_json_value(trust_v9).expect_err("v9 must be refused");
    assert!(err.to_string().contains("stellaops.trust/v9"), "{err}");
}

#[test]
fn another_documents_schema_is_refused() {
    let bytes = serde_json::to_vec(&trust_root()).expect("serializes");
    let err = BundleManifest::from_json_slice(&bytes).expect_err("a trust root is no manifest");
    assert!(err.to_string().contains("stellaops.trust/v1"), "{err}");
}

#[test]
fn unknown_members_in_a_manifest_are_refused() {
    let good = to_value(&published_manifest());
    for (pointer, name) in [("", "signedBy"), ("/files/0", "mtime"), ("/archive", "url")] {
        let bad = with_member(&good, pointer, name, json!("x"));
        let bytes = serde_json::to_vec(&bad).expect("serializes");
        let err =
            BundleManifest::from_json_slice(&bytes).expect_err("an unknown member must be refused");
        assert!(err.to_string().contains(name), "{pointer}: {err}");
    }
    let bad = with_member(
        &to_value(&trust_root()),
        "/keys/0",
        "algorithm",
        json!("rsa"),
    );
    let err = TrustRoot::from_json_value(bad).expect_err("an unknown member must be refused");
    assert!(err.to_string().contains("algorithm"), "{err}");
}

// ---------------------------------------------------------------------------------------
// The format pages: every example is valid and every page links its schema.

/// Fenced code blocks of a Markdown page as (info string, body).
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match current.take() {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    current = Some((info.trim().to_owned(), String::new()));
                }
            }
            Some((info, mut body)) => {
                if line.starts_with("```") {
                    blocks.push((info, body));
                } else {
                    body.push_str(line);
                    body.push('\n');
                    current = Some((info, body));
                }
            }
        }
    }
    assert!(current.is_none(), "unterminated code block");
    blocks
}

#[test]
fn format_pages_link_their_schema_and_their_examples_validate() {
    let pages = [
        ("bundle-manifest.md", MANIFEST),
        ("dsse-envelope.md", ENVELOPE),
        ("trust-root.md", TRUST),
        ("verify-report.md", VERIFY),
        ("aoc-report.md", AOC),
    ];
    let mut checked: BTreeMap<&str, usize> = BTreeMap::new();
    for (page, schema) in pages {
        let path = workspace_root().join("docs/formats").join(page);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            text.contains(&format!("](../schemas/{schema})")),
            "{page} must link ../schemas/{schema}"
        );
        for (info, body) in fenced_blocks(&text) {
            match info.as_str() {
                "json" => {
                    let value: Value = serde_json::from_str(&body)
                        .unwrap_or_else(|e| panic!("{page}: example is not JSON: {e}\n{body}"));
                    assert!(body.ends_with("}\n"), "{page}: one document per block");
                    let pretty = serde_json::to_string_pretty(&value).expect("serializes");
                    assert_eq!(
                        body.trim_end(),
                        pretty,
                        "{page}: examples are written as tools write them"
                    );
                    assert_valid(schema, &value);
                    check_example_with_reader(page, &value);
                    *checked.entry(page).or_default() += 1;
                }
                "ndjson" => {
                    for line in body.lines() {
                        let value: Value = serde_json::from_str(line)
                            .unwrap_or_else(|e| panic!("{page}: NDJSON line: {e}\n{line}"));
                        assert_valid(VIOLATION, &value);
                        serde_json::from_value::<Violation>(value).expect("violation parses");
                    }
                    *checked.entry(page).or_default() += 1;
                }
                _ => {}
            }
        }
    }
    for (page, _) in pages {
        assert!(
            checked.get(page).copied().unwrap_or(0) > 0,
            "{page} has no JSON example"
        );
    }
}

/// The example also parses with the reader the tools use, and an envelope's payload is a
/// valid document of the kind its payloadType names.
fn check_example_with_reader(page: &str, value: &Value) {
    let bytes = serde_json::to_vec(value).expect("serializes");
    let parsed = match page {
        "bundle-manifest.md" => BundleManifest::from_json_slice(&bytes).map(drop),
        "trust-root.md" => TrustRoot::from_json_slice(&bytes).map(drop),
        "verify-report.md" => VerifyReport::from_json_slice(&bytes).map(drop),
        "aoc-report.md" => AocReport::from_json_slice(&bytes).map(drop),
        "dsse-envelope.md" => {
            let envelope = Envelope::from_json_slice(&bytes).expect("envelope parses");
            let payload: Value =
                serde_json::from_slice(&envelope.payload_bytes().expect("payload decodes"))
                    .expect("payload is JSON");
            let schema = match envelope.payload_type.as_str() {
                manifest::PAYLOAD_TYPE => MANIFEST,
                trust::PAYLOAD_TYPE => TRUST,
                other => panic!("{page}: unexpected payloadType {other}"),
            };
            assert_valid(schema, &payload);
            Ok(())
        }
        other => panic!("no reader for {other}"),
    };
    if let Err(e) = parsed {
        panic!("{page}: example refused by the reader: {e}");
    }
}

#[test]
fn schema_dir_points_into_the_workspace() {
    let dir = schema_dir();
    assert!(dir.ends_with("docs/schemas"), "{}", dir.display());
    assert!(read_json(&dir.join(MANIFEST)).is_object());
}

// ---------------------------------------------------------------------------------------
// Trust-root rotation, trust chains and the key schedule (`mirror-sign trust`, `keys status`).

use offline_formats::key_status::{
    self, key_status, KeyPolicy, KeyStatus, KeyStatusReport, RootStatus,
};
use offline_formats::rotation::{
    self, check_rotation, verify_chain, ChainProblemKind, ChainReport, NewRootExpiry,
    RotationProblemKind, RotationReport, SignedRoot,
};

const ROTATION: &str = "rotation-report.v1.schema.json";
const CHAIN: &str = "trust-chain-report.v1.schema.json";
const KEY_STATUS: &str = "key-status.v1.schema.json";

/// Every problem kind of a rotation report, in declaration order.
const ALL_ROTATION_PROBLEMS: [RotationProblemKind; 5] = [
    RotationProblemKind::OldRootInvalid,
    RotationProblemKind::OldThresholdNotMet,
    RotationProblemKind::NewThresholdNotMet,
    RotationProblemKind::VersionNotHigher,
    RotationProblemKind::NewRootExpired,
];

/// Every problem kind of a chain report, in declaration order.
const ALL_CHAIN_PROBLEMS: [ChainProblemKind; 3] = [
    ChainProblemKind::PinnedRootInvalid,
    ChainProblemKind::StepRefused,
    ChainProblemKind::RootExpired,
];

/// Every key status, in declaration order.
const ALL_KEY_STATUSES: [KeyStatus; 6] = [
    KeyStatus::Ok,
    KeyStatus::Warn,
    KeyStatus::Expired,
    KeyStatus::Revoked,
    KeyStatus::NotYetValid,
    KeyStatus::TooOld,
];

/// Every root status of a key status report, in declaration order.
const ALL_ROOT_STATUSES: [RootStatus; 3] = [RootStatus::Ok, RootStatus::Warn, RootStatus::Expired];

fn seeded_key(keyid: &str, seed: u8, not_before: &str, not_after: &str) -> TrustKey {
    TrustKey {
        keyid: keyid.to_owned(),
        public_key: encode_public_key_pem(&signing_key(seed).verifying_key()),
        owner: format!("{keyid}@release.example"),
        not_before: not_before.to_owned(),
        not_after: not_after.to_owned(),
        revoked: false,
    }
}

/// `root` in an envelope signed by the keys of the given seeds.
fn signed_root(root: &TrustRoot, seeds: &[u8]) -> SignedRoot {
    let payload = offline_formats::jcs::to_canonical_vec(root).expect("JCS");
    let mut envelope = Envelope::new(trust::PAYLOAD_TYPE, &payload);
    let signed = envelope.signed_bytes().expect("payload decodes");
    envelope.signatures = seeds
        .iter()
        .map(|&seed| Signature {
            keyid: format!("key-{seed}"),
            sig: encode_signature(&signing_key(seed).sign(&signed)),
        })
        .collect();
    SignedRoot::from_envelope(envelope).expect("a valid trust root")
}

/// The root after [`signing_root`] (v4): alice leaves, dave (seed 15) joins, mallory stays
/// revoked.
fn next_root() -> TrustRoot {
    let mut root = signing_root();
    root.version = 5;
    root.keys.remove(0);
    root.keys.push(seeded_key(
        "dave-2026",
        15,
        "2026-01-01T00:00:00Z",
        "2027-01-01T00:00:00Z",
    ));
    root
}

fn passing_rotation_report() -> RotationReport {
    let report = check_rotation(
        &signed_root(&signing_root(), &[11, 12]),
        &signed_root(&next_root(), &[11, 12, 15]),
        NOW,
        NewRootExpiry::Refuse,
    )
    .expect("inputs are usable");
    assert!(report.ok, "{:?}", report.problems);
    report
}

/// Every rule broken at once: an old root alice alone signed, a new root dave alone signed,
/// numbered below the old one and already expired.
fn failing_rotation_report() -> RotationReport {
    let mut next = next_root();
    next.version = 3;
    next.expires = "2026-05-31T00:00:00Z".to_owned();
    let report = check_rotation(
        &signed_root(&signing_root(), &[11]),
        &signed_root(&next, &[15]),
        NOW,
        NewRootExpiry::Refuse,
    )
    .expect("inputs are usable");
    let kinds: Vec<RotationProblemKind> = report.problems.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, ALL_ROTATION_PROBLEMS);
    report
}

/// A step between two roots that have both expired since, as a chain walks it.
fn expired_step_report() -> RotationReport {
    let report = check_rotation(
        &signed_root(&signing_root(), &[11, 12]),
        &signed_root(&next_root(), &[11, 12, 15]),
        NOW + 400 * 86_400,
        NewRootExpiry::Allow,
    )
    .expect("inputs are usable");
    assert!(report.ok, "{:?}", report.problems);
    assert!(report.old_keys_at.is_some() && report.new_keys_at.is_some());
    report
}

fn passing_chain_report() -> ChainReport {
    let report = verify_chain(
        &[
            signed_root(&signing_root(), &[11, 12]),
            signed_root(&next_root(), &[11, 12, 15]),
        ],
        NOW,
    )
    .expect("inputs are usable");
    assert!(report.ok && report.trusted.is_some());
    report
}

fn chain_report_with(chain: &[SignedRoot], now: i64, kind: ChainProblemKind) -> ChainReport {
    let report = verify_chain(chain, now).expect("inputs are usable");
    let kinds: Vec<ChainProblemKind> = report.problems.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [kind]);
    report
}

/// One failing chain report per problem kind.
fn failing_chain_reports() -> Vec<ChainReport> {
    let old = signed_root(&signing_root(), &[11, 12]);
    vec![
        chain_report_with(
            &[signed_root(&signing_root(), &[13])],
            NOW,
            ChainProblemKind::PinnedRootInvalid,
        ),
        chain_report_with(
            &[old.clone(), signed_root(&next_root(), &[15])],
            NOW,
            ChainProblemKind::StepRefused,
        ),
        chain_report_with(
            &[old, signed_root(&next_root(), &[11, 12, 15])],
            NOW + 400 * 86_400,
            ChainProblemKind::RootExpired,
        ),
    ]
}

/// One key in each state, at [`NOW`].
fn key_status_report_with_every_status() -> KeyStatusReport {
    let mut revoked = seeded_key(
        "mallory",
        14,
        "2025-01-01T00:00:00Z",
        "2025-12-31T00:00:00Z",
    );
    revoked.revoked = true;
    let root = TrustRoot {
        keys: vec![
            seeded_key("alice", 11, "2026-05-01T00:00:00Z", "2027-05-01T00:00:00Z"),
            seeded_key("bob", 12, "2025-08-01T00:00:00Z", "2026-07-15T00:00:00Z"),
            seeded_key("carol", 13, "2025-05-01T00:00:00Z", "2026-05-01T00:00:00Z"),
            revoked,
            seeded_key("dave", 15, "2026-07-01T00:00:00Z", "2027-06-01T00:00:00Z"),
            seeded_key("erin", 16, "2025-05-01T00:00:00Z", "2027-05-01T00:00:00Z"),
        ],
        threshold: 1,
        ..signing_root()
    };
    let report = key_status(&root, NOW, KeyPolicy::default()).expect("a valid root");
    let statuses: Vec<KeyStatus> = report.keys.iter().map(|k| k.status).collect();
    assert_eq!(statuses, ALL_KEY_STATUSES);
    assert!(!report.ok);
    report
}

fn passing_key_status_report() -> KeyStatusReport {
    let report = key_status(&signing_root(), NOW, KeyPolicy::default()).expect("a valid root");
    assert!(report.ok);
    report
}

#[test]
fn rotation_chain_and_key_status_schemas_match_the_rust_types() {
    for (name, id) in [
        (ROTATION, RotationReport::schema_id()),
        (CHAIN, ChainReport::schema_id()),
        (KEY_STATUS, KeyStatusReport::schema_id()),
    ] {
        assert_eq!(
            load_schema(name)["properties"]["schema"]["const"],
            id,
            "{name}"
        );
    }
    assert_eq!(rotation::SCHEMA, RotationReport::schema_id());
    assert_eq!(rotation::CHAIN_SCHEMA, ChainReport::schema_id());
    assert_eq!(key_status::SCHEMA, KeyStatusReport::schema_id());

    let values = |items: &[Value]| Value::Array(items.to_vec());
    let rotation_kinds: Vec<Value> = ALL_ROTATION_PROBLEMS.iter().map(to_value).collect();
    assert_eq!(
        load_schema(ROTATION)["$defs"]["problem"]["properties"]["kind"]["enum"],
        values(&rotation_kinds)
    );
    let chain_kinds: Vec<Value> = ALL_CHAIN_PROBLEMS.iter().map(to_value).collect();
    assert_eq!(
        load_schema(CHAIN)["$defs"]["problem"]["properties"]["kind"]["enum"],
        values(&chain_kinds)
    );
    let key_statuses: Vec<Value> = ALL_KEY_STATUSES.iter().map(to_value).collect();
    let schema = load_schema(KEY_STATUS);
    assert_eq!(
        schema["$defs"]["key"]["properties"]["status"]["enum"],
        values(&key_statuses)
    );
    let root_statuses: Vec<Value> = ALL_ROOT_STATUSES.iter().map(to_value).collect();
    assert_eq!(
        schema["properties"]["root"]["properties"]["status"]["enum"],
        values(&root_statuses)
    );
}

#[test]
fn rotation_reports_validate() {
    let passing = to_value(&passing_rotation_report());
    assert!(passing.get("problems").is_none());
    assert!(passing.get("oldKeysAt").is_none());
    assert_eq!(passing["oldKeys"]["schema"], threshold::SCHEMA);
    assert_valid(ROTATION, &passing);

    let failing = to_value(&failing_rotation_report());
    assert_eq!(failing["problems"].as_array().map(Vec::len), Some(5));
    assert_valid(ROTATION, &failing);

    let expired = to_value(&expired_step_report());
    assert_eq!(expired["oldKeysAt"], "2026-12-31T23:59:59Z");
    assert_valid(ROTATION, &expired);
}

#[test]
fn chain_reports_validate() {
    let passing = to_value(&passing_chain_report());
    assert_eq!(passing["trusted"]["version"], 5);
    assert_eq!(passing["trusted"]["keys"][2]["revoked"], true);
    assert!(passing["trusted"]["keys"][0].get("revoked").is_none());
    assert_valid(CHAIN, &passing);
    for report in failing_chain_reports() {
        let value = to_value(&report);
        assert!(value.get("trusted").is_none());
        assert_valid(CHAIN, &value);
    }
}

#[test]
fn key_status_reports_validate() {
    let every = to_value(&key_status_report_with_every_status());
    assert_eq!(
        every["keys"][4]["ageDays"], -30,
        "negative before notBefore"
    );
    assert_valid(KEY_STATUS, &every);
    let passing = to_value(&passing_key_status_report());
    assert_eq!(passing["root"]["status"], "ok");
    assert_valid(KEY_STATUS, &passing);
    for status in ALL_ROOT_STATUSES {
        assert_valid(KEY_STATUS, &with(&every, "/root/status", to_value(&status)));
    }
}

#[test]
fn rotation_chain_and_key_status_schemas_refuse_malformed_reports() {
    let passing = to_value(&passing_rotation_report());
    let failing = to_value(&failing_rotation_report());
    // The verdict and the problems must agree.
    assert_invalid_at(ROTATION, &with(&passing, "/ok", json!(false)), "");
    assert_invalid_at(ROTATION, &with(&failing, "/ok", json!(true)), "");
    for (pointer, value) in [
        ("/problems/0/kind", json!("old-root-expired")),
        ("/to/version", json!(0)),
        ("/from/expires", json!("2026-12-31")),
        ("/schema", json!("stellaops.rotation-report/v2")),
        ("/newKeys/payloadDigest", json!(hex64('a'))),
    ] {
        assert_invalid_at(ROTATION, &with(&failing, pointer, value), pointer);
    }
    assert_invalid_at(
        ROTATION,
        &with_member(&passing, "", "oldKeysAt", json!("yesterday")),
        "/oldKeysAt",
    );
    for member in ["oldKeys", "newKeys", "from"] {
        let mut bad = passing.clone();
        bad.as_object_mut().expect("object").remove(member);
        assert_invalid_at(ROTATION, &bad, "");
    }

    let chain = to_value(&passing_chain_report());
    // ok without `trusted`, and `trusted` on a chain that is not ok, are both refused.
    let mut untrusted = chain.clone();
    untrusted.as_object_mut().expect("object").remove("trusted");
    assert_invalid_at(CHAIN, &untrusted, "");
    let refused = to_value(&failing_chain_reports()[1]);
    assert_invalid_at(
        CHAIN,
        &with_member(&refused, "", "trusted", chain["trusted"].clone()),
        "",
    );
    for (pointer, value) in [
        ("/problems/0/kind", json!("chain-broken")),
        ("/problems/0/step", json!(-1)),
        ("/steps/0/problems/0/kind", json!("threshold-not-met")),
        ("/pinned/version", json!(0)),
    ] {
        assert_invalid_at(CHAIN, &with(&refused, pointer, value), pointer);
    }
    for (pointer, value) in [
        ("/trusted/keys/0/fingerprint", json!(hex64('a'))),
        ("/trusted/keys/2/revoked", json!(false)),
        ("/trusted/threshold", json!(0)),
    ] {
        assert_invalid_at(CHAIN, &with(&chain, pointer, value), pointer);
    }

    let every = to_value(&key_status_report_with_every_status());
    // ok is refused while a key is expired, and while the root is.
    assert_invalid_at(
        KEY_STATUS,
        &with(&every, "/ok", json!(true)),
        "/keys/2/status",
    );
    let passing = to_value(&passing_key_status_report());
    assert_invalid_at(
        KEY_STATUS,
        &with(&passing, "/root/status", json!("expired")),
        "/root/status",
    );
    for (pointer, value) in [
        ("/keys/0/status", json!("stale")),
        ("/keys/0/ageDays", json!(1.5)),
        ("/keys/0/replaceBy", json!("2027-05-01")),
        ("/policy/maxAgeSeconds", json!(0)),
        ("/at", json!("now")),
        ("/schema", json!("stellaops.key-status/v2")),
    ] {
        assert_invalid_at(KEY_STATUS, &with(&every, pointer, value), pointer);
    }
}

#[test]
fn rotation_chain_and_key_status_reports_round_trip_and_accept_later_members() {
    round_trip(&passing_rotation_report());
    round_trip(&failing_rotation_report());
    round_trip(&expired_step_report());
    round_trip(&passing_chain_report());
    for report in failing_chain_reports() {
        round_trip(&report);
    }
    round_trip(&key_status_report_with_every_status());
    round_trip(&passing_key_status_report());

    // Reports are not signed: a v1 reader ignores what a later minor version adds.
    for (schema, value) in [
        (ROTATION, to_value(&passing_rotation_report())),
        (CHAIN, to_value(&passing_chain_report())),
        (KEY_STATUS, to_value(&passing_key_status_report())),
    ] {
        let later = with_member(&value, "", "durationMs", json!(3));
        assert_valid(schema, &later);
    }
    let later = with_member(
        &to_value(&passing_chain_report()),
        "",
        "durationMs",
        json!(3),
    );
    let bytes = serde_json::to_vec(&later).expect("serializes");
    ChainReport::from_json_slice(&bytes).expect("the reader ignores unknown members");
}

// ---------------------------------------------------------------------------------------
// `checksum-verify stage`: the receipt that activates a generation, the index of the `cas`
// layout, and the `stage` member of the report it prints.

use offline_formats::stage::{
    self as stage_format, Decision, IndexEntry, Layout, ObjectCounts, StageIndex, StageReceipt,
    StageStatus, StageSummary,
};

const STAGE_RECEIPT: &str = "stage-receipt.v1.schema.json";
const STAGE_INDEX: &str = "stage-index.v1.schema.json";

fn stage_receipt(layout: Layout, decision: Decision) -> StageReceipt {
    StageReceipt {
        schema: stage_format::RECEIPT_SCHEMA.to_owned(),
        bundle_id: "stellaops-bootstrap".to_owned(),
        mirror_generation: 7,
        manifest_digest: format!("sha256:{}", hex64('a')),
        layout,
        index_digest: (layout == Layout::Cas).then(|| format!("sha256:{}", hex64('b'))),
        operator: "olivia@site-a".to_owned(),
        decision,
        reason: (decision == Decision::Forced)
            .then(|| "generation 8 was withdrawn upstream (CHG-1234)".to_owned()),
        staged_at: "2026-06-01T00:00:00Z".to_owned(),
        tool: "checksum-verify/0.1.0".to_owned(),
    }
}

fn stage_index() -> StageIndex {
    StageIndex {
        schema: stage_format::INDEX_SCHEMA.to_owned(),
        bundle_id: "stellaops-bootstrap".to_owned(),
        mirror_generation: 7,
        manifest_digest: format!("sha256:{}", hex64('a')),
        objects: vec![
            IndexEntry {
                path: "charts/app/values.yaml".to_owned(),
                key: format!("sha256/{}", hex64('c')),
                size: 12,
                sha256: hex64('c'),
            },
            IndexEntry {
                path: "images/layer.bin".to_owned(),
                key: format!("sha256/{}", hex64('d')),
                size: 300_000,
                sha256: hex64('d'),
            },
        ],
    }
}

/// The report `checksum-verify stage` prints: the verify report with a `stage` member.
fn stage_report(report: &VerifyReport, status: StageStatus) -> Value {
    let mut value = to_value(report);
    let summary = StageSummary {
        to: "s3://offline/site-a".to_owned(),
        layout: Layout::Generation,
        generation: "s3://offline/site-a/stellaops-bootstrap/7/".to_owned(),
        status,
        uploaded: ObjectCounts {
            objects: 4,
            bytes: 1_234_567,
        },
        present: ObjectCounts {
            objects: 2,
            bytes: 20,
        },
        quarantined: (status == StageStatus::NotActivated)
            .then(|| "/srv/quarantine/bootstrap.tar.gz".to_owned()),
    };
    value
        .as_object_mut()
        .expect("object")
        .insert("stage".to_owned(), to_value(&summary));
    value
}

#[test]
fn stage_schemas_match_the_rust_types() {
    assert_eq!(
        load_schema(STAGE_RECEIPT)["properties"]["schema"]["const"],
        StageReceipt::schema_id()
    );
    assert_eq!(
        load_schema(STAGE_INDEX)["properties"]["schema"]["const"],
        StageIndex::schema_id()
    );
    assert_eq!(stage_format::RECEIPT_SCHEMA, StageReceipt::schema_id());
    assert_eq!(stage_format::INDEX_SCHEMA, StageIndex::schema_id());
    let layouts: Vec<Value> = [Layout::Generation, Layout::Cas]
        .iter()
        .map(to_value)
        .collect();
    let receipt = load_schema(STAGE_RECEIPT);
    assert_eq!(
        receipt["properties"]["layout"]["enum"],
        Value::Array(layouts.clone())
    );
    let decisions: Vec<Value> = [Decision::Accepted, Decision::Forced]
        .iter()
        .map(to_value)
        .collect();
    assert_eq!(
        receipt["properties"]["decision"]["enum"],
        Value::Array(decisions)
    );
    let verify = load_schema(VERIFY);
    assert_eq!(
        verify["$defs"]["stage"]["properties"]["layout"]["enum"],
        Value::Array(layouts)
    );
    let statuses: Vec<Value> = [
        StageStatus::Activated,
        StageStatus::AlreadyActive,
        StageStatus::NotActivated,
    ]
    .iter()
    .map(to_value)
    .collect();
    assert_eq!(
        verify["$defs"]["stage"]["properties"]["status"]["enum"],
        Value::Array(statuses)
    );
}

#[test]
fn stage_receipts_and_indexes_validate_and_round_trip() {
    for (layout, decision) in [
        (Layout::Generation, Decision::Accepted),
        (Layout::Cas, Decision::Accepted),
        (Layout::Generation, Decision::Forced),
    ] {
        let receipt = stage_receipt(layout, decision);
        assert_valid(STAGE_RECEIPT, &to_value(&receipt));
        round_trip(&receipt);
    }
    let plain = to_value(&stage_receipt(Layout::Generation, Decision::Accepted));
    assert!(plain.get("reason").is_none() && plain.get("indexDigest").is_none());
    assert_valid(STAGE_INDEX, &to_value(&stage_index()));
    round_trip(&stage_index());
}

#[test]
fn stage_schemas_refuse_malformed_documents() {
    let receipt = to_value(&stage_receipt(Layout::Generation, Decision::Accepted));
    for (pointer, value) in [
        ("/manifestDigest", json!(hex64('a'))),
        ("/mirrorGeneration", json!(-1)),
        ("/bundleId", json!("../etc")),
        ("/bundleId", json!("..")),
        ("/decision", json!("approved")),
        ("/layout", json!("flat")),
        ("/stagedAt", json!("2026-06-01 00:00")),
        ("/schema", json!("stellaops.stage-receipt/v2")),
    ] {
        assert_invalid_at(STAGE_RECEIPT, &with(&receipt, pointer, value), pointer);
    }
    // A receipt is read by importers: nothing unknown rides along.
    assert_invalid_at(
        STAGE_RECEIPT,
        &with_member(&receipt, "", "activatedBy", json!("mallory")),
        "",
    );
    // A forced decision carries its reason, a cas receipt its index digest, and not otherwise.
    assert_invalid_at(
        STAGE_RECEIPT,
        &with(&receipt, "/decision", json!("forced")),
        "",
    );
    let forced = to_value(&stage_receipt(Layout::Generation, Decision::Forced));
    assert_invalid_at(
        STAGE_RECEIPT,
        &with(&forced, "/decision", json!("accepted")),
        "",
    );
    assert_invalid_at(STAGE_RECEIPT, &with(&receipt, "/layout", json!("cas")), "");
    let cas = to_value(&stage_receipt(Layout::Cas, Decision::Accepted));
    assert_invalid_at(
        STAGE_RECEIPT,
        &with(&cas, "/layout", json!("generation")),
        "",
    );

    let index = to_value(&stage_index());
    for (pointer, value) in [
        ("/objects/0/key", json!("charts/app/values.yaml")),
        ("/objects/0/sha256", json!(hex64('C'))),
        ("/objects/1/size", json!(-1)),
    ] {
        assert_invalid_at(STAGE_INDEX, &with(&index, pointer, value), pointer);
    }
    assert_invalid_at(
        STAGE_INDEX,
        &with_member(&index, "/objects/0", "mode", json!("0644")),
        "/objects/0",
    );
}

#[test]
fn stage_reports_validate_as_verify_reports() {
    let activated = stage_report(&passing_verify_report(), StageStatus::Activated);
    assert_valid(VERIFY, &activated);
    assert_valid(
        VERIFY,
        &stage_report(&passing_verify_report(), StageStatus::AlreadyActive),
    );
    let refused = stage_report(&failing_verify_report(), StageStatus::NotActivated);
    assert_eq!(refused["stage"]["status"], "not-activated");
    assert_valid(VERIFY, &refused);
    for (pointer, value) in [
        ("/stage/status", json!("half-done")),
        ("/stage/uploaded/objects", json!(-1)),
        ("/stage/layout", json!("flat")),
    ] {
        assert_invalid_at(VERIFY, &with(&activated, pointer, value), pointer);
    }
    // A plain verify reader still reads it.
    let bytes = serde_json::to_vec(&activated).expect("serializes");
    VerifyReport::from_json_slice(&bytes).expect("the reader ignores the stage member");
}

// ---------------------------------------------------------------------------------------
// `checksum-verify`: reports and `--state` files written by the built binary.

const VERIFY_STATE: &str = "verify-state.v1.schema.json";

/// A tool built beside this test (`<target>/<profile>/deps/` holds the test, the tools are one
/// folder up); `cargo build --workspace --bins` builds them first.
fn built_tool(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("path of the test executable");
    let Some(profile_dir) = exe.parent().and_then(std::path::Path::parent) else {
        panic!("{}: not inside <target>/<profile>/deps", exe.display());
    };
    let bin = profile_dir.join(name);
    assert!(
        bin.is_file(),
        "{}: not found; run `cargo build -p {name}` first (`cargo xtask test` does)",
        bin.display()
    );
    bin
}

/// Runs a built tool; returns its exit code and stdout.
fn run_tool(cmd: &mut std::process::Command) -> (Option<i32>, Vec<u8>) {
    let out = cmd
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    (out.status.code(), out.stdout)
}

/// Packs `src` as generation `generation` of `schema-test` into `dir`; returns (archive,
/// manifest).
fn pack(
    src: &std::path::Path,
    dir: &std::path::Path,
    generation: u64,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let archive = dir.join(format!("g{generation}.tar.gz"));
    let manifest = dir.join(format!("g{generation}.manifest.json"));
    let (code, _) = run_tool(
        std::process::Command::new(built_tool("bundle-pack"))
            .arg("--input")
            .arg(src)
            .args([
                "--bundle-id",
                "schema-test",
                "--generation",
                &generation.to_string(),
            ])
            .args(["--created-at", "2026-05-30T00:00:00Z", "--quiet", "-o"])
            .arg(&archive)
            .arg("-m")
            .arg(&manifest),
    );
    assert_eq!(code, Some(0), "bundle-pack failed");
    (archive, manifest)
}

#[test]
fn checksum_verify_reports_and_state_files_validate() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("charts")).expect("mkdir");
    fs::write(src.join("charts/values.yaml"), b"replicas: 1\n").expect("write");
    fs::write(src.join("readme.txt"), b"hello\n").expect("write");
    let state = tmp.path().join("state");
    fs::create_dir(&state).expect("mkdir");
    let (g2, m2) = pack(&src, tmp.path(), 2);
    let (g1, m1) = pack(&src, tmp.path(), 1);
    let verify = |manifest: &std::path::Path, target: &std::path::Path, extra: &[&str]| {
        run_tool(
            std::process::Command::new(built_tool("checksum-verify"))
                .args(["--now", "2026-06-01T00:00:00Z", "--manifest"])
                .arg(manifest)
                .arg("--state")
                .arg(&state)
                .args(extra)
                .arg(target),
        )
    };

    // A passing report, and the state it records.
    let (code, stdout) = verify(&m2, &g2, &[]);
    assert_eq!(code, Some(0));
    let report: Value = serde_json::from_slice(&stdout).expect("report is JSON");
    assert_eq!(report["ok"], true);
    assert_valid(VERIFY, &report);
    VerifyReport::from_json_slice(&stdout).expect("the library reads it");
    let state_file = state.join("schema-test.json");
    let recorded = read_json(&state_file);
    assert_eq!(recorded["mirrorGeneration"], 2);
    assert_valid(VERIFY_STATE, &recorded);
    assert_eq!(
        load_schema(VERIFY_STATE)["properties"]["schema"]["const"],
        "stellaops.verify-state/v1"
    );

    // A failing report: a rollback, with the archive of another generation.
    let (code, stdout) = verify(&m1, &g2, &[]);
    assert_eq!(code, Some(1));
    let report: Value = serde_json::from_slice(&stdout).expect("report is JSON");
    let kinds: Vec<&str> = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"rollback") && kinds.contains(&"mismatch"),
        "{kinds:?}"
    );
    assert_valid(VERIFY, &report);

    // A forced rollback is recorded with its reason.
    let (code, _) = verify(&m1, &g1, &["--force", "--reason", "generation 2 withdrawn"]);
    assert_eq!(code, Some(0));
    let recorded = read_json(&state_file);
    assert_eq!(recorded["overrides"][0]["reason"], "generation 2 withdrawn");
    assert_valid(VERIFY_STATE, &recorded);
    let mut extra = recorded.clone();
    extra["note"] = json!("x");
    assert_invalid_at(VERIFY_STATE, &extra, "");
    assert_invalid_at(
        VERIFY_STATE,
        &with(&recorded, "/manifestDigest", json!("sha256:ABC")),
        "/manifestDigest",
    );

    // The kinds a sums file adds (`malformed`), from the binary too.
    let sums = tmp.path().join("SHA256SUMS");
    let mut text = String::from("not a line\n");
    text.push_str(&format!("{}  readme.txt\n", "0".repeat(64)));
    fs::write(&sums, text).expect("write");
    let (code, stdout) = run_tool(
        std::process::Command::new(built_tool("checksum-verify"))
            .arg("--sums")
            .arg(&sums)
            .arg("--allow-unlisted")
            .arg(&src),
    );
    assert_eq!(code, Some(1));
    let report: Value = serde_json::from_slice(&stdout).expect("report is JSON");
    assert_eq!(report["failures"][0]["kind"], "malformed");
    assert_valid(VERIFY, &report);
}

// ---------------------------------------------------------------------------------------
// netpolicy-gen: the spec (YAML, validated as the JSON it maps to) and generate's stdout.

/// The spec examples under `examples/netpolicy/`, as JSON values.
fn netpolicy_examples() -> Vec<(String, Value)> {
    let dir = workspace_root().join("examples/netpolicy");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "examples/netpolicy/ holds no spec");
    names
        .into_iter()
        .map(|name| {
            let text = fs::read_to_string(dir.join(&name)).expect("example is UTF-8");
            let value: Value = serde_yaml::from_str(&text)
                .unwrap_or_else(|e| panic!("examples/netpolicy/{name}: {e}"));
            (name, value)
        })
        .collect()
}

#[test]
fn netpolicy_spec_examples_validate() {
    for (name, value) in netpolicy_examples() {
        assert_valid(NETPOLICY_SPEC, &value);
        assert_eq!(value["schema"], "stellaops.netpolicy-spec/v1", "{name}");
    }
}

#[test]
fn netpolicy_spec_schema_refuses_impossible_specs() {
    let (_, sealed) = netpolicy_examples()
        .into_iter()
        .find(|(name, _)| name == "sealed.yaml")
        .expect("examples/netpolicy/sealed.yaml");
    let cases = [
        ("/allow/0/ports/0/port", json!(0)),
        ("/allow/0/ports/0/port", json!(65536)),
        ("/allow/0/ports/0/protocol", json!("ICMP")),
        ("/allow/0/cidr", json!("10.20.0.5")),
        ("/allow/0/cidr", json!("10.20.0.300/32")),
        ("/allow/0/cidr", json!("10.20.0.0/33")),
        ("/allow/0/name", json!("Object_Store")),
        ("/compose/networks/0/bridge", json!("br-much-too-long")),
        ("/dns/nodeLocal", json!("169.254.20")),
        ("/mode", json!("open")),
        ("/namespaces/0", json!("kube-system")),
        ("/schema", json!("stellaops.netpolicy-spec/v2")),
    ];
    for (pointer, value) in cases {
        assert_invalid_at(NETPOLICY_SPEC, &with(&sealed, pointer, value), pointer);
    }
    assert_invalid_at(
        NETPOLICY_SPEC,
        &with_member(&sealed, "/allow/0", "prot", json!(1)),
        "/allow/0",
    );
    // NTP belongs to constrained mode.
    let ntp = with_member(&sealed, "", "ntp", json!({"servers": ["10.0.0.1"]}));
    assert_invalid_at(NETPOLICY_SPEC, &ntp, "/mode");
    assert_valid(NETPOLICY_SPEC, &with(&ntp, "/mode", json!("constrained")));
}

/// generate's stdout for each golden case of crates/netpolicy-gen/tests/golden/ (the golden
/// test there checks the tool prints exactly these bytes).
fn netpolicy_generate_outputs() -> Vec<(String, Value)> {
    let dir = workspace_root().join("crates/netpolicy-gen/tests/golden");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path().join("stdout.json");
        if path.is_file() {
            out.push((path.display().to_string(), read_json(&path)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        !out.is_empty(),
        "no golden stdout.json under {}",
        dir.display()
    );
    out
}

#[test]
fn netpolicy_generate_output_validates() {
    for (path, value) in netpolicy_generate_outputs() {
        assert_valid(NETPOLICY_FILES, &value);
        assert_eq!(
            load_schema(NETPOLICY_FILES)["properties"]["schema"]["const"],
            value["schema"],
            "{path}"
        );
    }
}

#[test]
fn netpolicy_files_schema_refuses_malformed_output() {
    let (_, output) = netpolicy_generate_outputs().remove(0);
    let cases = [
        ("/policyHash", json!("25d4d375")),
        ("/files/0/path", json!("../etc/passwd")),
        ("/files/0/path", json!("/etc/passwd")),
        ("/files/0/sha256", json!("ABC")),
        ("/files/0/bytes", json!(-1)),
        ("/target", json!("docker")),
        ("/mode", json!("connected")),
    ];
    for (pointer, value) in cases {
        assert_invalid_at(NETPOLICY_FILES, &with(&output, pointer, value), pointer);
    }
    assert_invalid_at(
        NETPOLICY_FILES,
        &with_member(&output, "", "generatedAt", json!("2026-01-01T00:00:00Z")),
        "",
    );
}

// ---------------------------------------------------------------------------------------
// netpolicy-gen lint, eval and scan: reports written by the built binary on the crate's
// fixtures.

/// Runs the built netpolicy-gen with `args` (paths relative to the workspace root); returns
/// its exit code and stdout as JSON.
fn netpolicy_report(args: &[&str]) -> (Option<i32>, Value) {
    let root = workspace_root();
    let (code, stdout) = run_tool(
        std::process::Command::new(built_tool("netpolicy-gen"))
            .current_dir(&root)
            .args(args),
    );
    let report = serde_json::from_slice(&stdout)
        .unwrap_or_else(|e| panic!("netpolicy-gen {args:?}: stdout is not JSON: {e}"));
    (code, report)
}

const NETPOLICY_FIXTURES: &str = "crates/netpolicy-gen/tests/fixtures";

#[test]
fn netpolicy_lint_reports_validate() {
    let holes = format!("{NETPOLICY_FIXTURES}/lint/holes.yaml");
    let cilium = format!("{NETPOLICY_FIXTURES}/lint/cilium.yaml");
    let list = format!("{NETPOLICY_FIXTURES}/lint/list.json");
    // Each file on its own: the cluster-wide Cilium default deny would otherwise close the
    // namespace holes.yaml leaves open.
    let mut seen: Vec<Value> = Vec::new();
    let mut reports = Vec::new();
    for file in [&holes, &cilium, &list] {
        let (code, report) = netpolicy_report(&["lint", "--quiet", file]);
        assert_eq!(code, Some(1), "{file}");
        assert_valid(NETPOLICY_LINT, &report);
        assert_eq!(
            load_schema(NETPOLICY_LINT)["properties"]["schema"]["const"],
            report["schema"]
        );
        seen.extend(
            report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| f["code"].clone()),
        );
        reports.push(report);
    }
    // Every code the schema lists occurs in the fixtures, and no other.
    let listed =
        load_schema(NETPOLICY_LINT)["$defs"]["finding"]["properties"]["code"]["enum"].clone();
    seen.sort_by_key(|v| v.to_string());
    seen.dedup();
    let mut listed_sorted = listed.as_array().expect("enum").clone();
    listed_sorted.sort_by_key(|v| v.to_string());
    assert_eq!(seen, listed_sorted, "the fixtures exercise every lint code");
    let report = reports.remove(0);

    // A clean report (the generated policies).
    let tmp = tempfile::tempdir().expect("temporary folder");
    let (code, _) = run_tool(
        std::process::Command::new(built_tool("netpolicy-gen"))
            .current_dir(workspace_root())
            .args([
                "generate",
                "--spec",
                "examples/netpolicy/sealed.yaml",
                "--target",
                "all",
                "--out",
            ])
            .arg(tmp.path()),
    );
    assert_eq!(code, Some(0));
    let (code, clean) = netpolicy_report(&["lint", "--quiet", tmp.path().to_str().expect("UTF-8")]);
    assert_eq!(code, Some(0));
    assert_valid(NETPOLICY_LINT, &clean);

    for (pointer, value) in [
        ("/findings/0/code", json!("egress-open")),
        ("/findings/0/line", json!(0)),
        ("/findings/0/document", json!(-1)),
        ("/counts/files", json!(-1)),
        ("/schema", json!("stellaops.netpolicy-lint/v2")),
    ] {
        assert_invalid_at(NETPOLICY_LINT, &with(&report, pointer, value), pointer);
    }
    assert_valid(
        NETPOLICY_LINT,
        &with_member(&report, "/findings/0", "severity", json!("high")),
    );
}

#[test]
fn netpolicy_eval_reports_validate() {
    let policies = format!("{NETPOLICY_FIXTURES}/eval/policies");
    let (code, report) = netpolicy_report(&[
        "eval",
        "--policies",
        &policies,
        "--matrix",
        "--from",
        "shop/app=web",
        "--from",
        "shop/app=api",
        "--from",
        "cil/app=y",
        "--from",
        "open",
        "--to",
        "10.1.2.3:443",
        "--to",
        "8.8.8.8:53/UDP",
        "--to",
        "203.0.113.5:443",
        "--to",
        "[fd00::1]:443/SCTP",
    ]);
    assert_eq!(code, Some(0));
    assert_valid(NETPOLICY_EVAL, &report);
    let reasons: std::collections::BTreeSet<&str> = report["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .filter_map(|a| a["reason"].as_str())
        .collect();
    assert_eq!(reasons.len(), 4, "every reason occurs: {reasons:?}");
    assert!(report["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .any(|a| a.get("notes").is_some()));
    for (pointer, value) in [
        ("/answers/0/verdict", json!("maybe")),
        ("/answers/0/to", json!("10.1.2.3")),
        ("/matrix/rows/0/0", json!(true)),
        ("/schema", json!("stellaops.netpolicy-eval/v2")),
    ] {
        assert_invalid_at(NETPOLICY_EVAL, &with(&report, pointer, value), pointer);
    }
}

#[test]
fn netpolicy_scan_reports_validate() {
    let site = format!("{NETPOLICY_FIXTURES}/scan/site");
    let (code, report) = netpolicy_report(&[
        "scan",
        "--quiet",
        "--spec",
        "examples/netpolicy/sealed.yaml",
        &site,
    ]);
    assert_eq!(code, Some(1));
    assert_valid(NETPOLICY_SCAN, &report);
    let contexts: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["context"].as_str())
        .collect();
    assert_eq!(contexts.len(), 5, "every context occurs: {contexts:?}");
    for (pointer, value) in [
        ("/findings/0/kind", json!("url")),
        ("/findings/0/column", json!(0)),
        ("/schema", json!("stellaops.netpolicy-scan/v2")),
    ] {
        assert_invalid_at(NETPOLICY_SCAN, &with(&report, pointer, value), pointer);
    }
    let repeated = with(&report, "/values/1", report["values"][0].clone());
    assert_invalid_at(NETPOLICY_SCAN, &repeated, "/values");
    let (code, clean) = netpolicy_report(&[
        "scan",
        "--quiet",
        "--spec",
        "examples/netpolicy/sealed.yaml",
        "--allow",
        "0.0.0.0/0",
        "--allow",
        "::/0",
        "--allow",
        "*.com",
        "--allow",
        "*.io",
        "--allow",
        "*.internal",
        "--allow",
        "*.local",
        &site,
    ]);
    assert_eq!(code, Some(0), "{clean}");
    assert_valid(NETPOLICY_SCAN, &clean);
}
