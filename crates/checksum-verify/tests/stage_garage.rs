//! `checksum-verify stage` into a real S3 server: a single-node Garage on loopback, started
//! by each test in a temporary folder and stopped when it ends, its bucket and keys made with
//! the `garage` CLI. Everything staged is read back with an independent S3 client.
//!
//! Garage must be installed (`.ci/run` does it); without it these tests fail, never skip.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod stage_support;

use offline_formats::schema::Document as _;
use offline_formats::stage::{Decision, Layout, StageIndex, StageReceipt};
use stage_support::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BUNDLE: &str = "stellaops-bootstrap";
const BUCKET: &str = "offline-bundles";
const PREFIX: &str = "site-a/stage";

fn to() -> String {
    format!("s3://{BUCKET}/{PREFIX}")
}

/// `stage` of `bundle` into the bucket through `endpoint` with `key`.
fn stage(bundle: &Bundle, garage: &Garage, endpoint: &str, key: &S3Key) -> Command {
    let mut cmd = bundle.stage(&to());
    cmd.args(["--endpoint", endpoint]);
    garage.credentials(&mut cmd, key);
    cmd
}

fn generation_keys(bundle: &Bundle) -> Vec<String> {
    let generation = bundle.manifest.mirror_generation;
    let mut keys: Vec<String> = bundle
        .files
        .iter()
        .map(|f| format!("{PREFIX}/{BUNDLE}/{generation}/{}", f.path))
        .chain(
            ["manifest.json", "receipt.json"]
                .map(|n| format!("{PREFIX}/{BUNDLE}/{generation}/{n}")),
        )
        .collect();
    keys.sort();
    keys
}

fn read_receipt(reader: &S3Reader, generation: u64) -> Option<StageReceipt> {
    reader
        .get(&format!("{PREFIX}/{BUNDLE}/{generation}/receipt.json"))
        .map(|bytes| StageReceipt::from_json_slice(&bytes).unwrap())
}

/// Every object of `bundle`'s generation reads back with its exact bytes, and the receipt
/// binds the manifest stored beside it.
fn assert_staged(reader: &S3Reader, bundle: &Bundle) {
    let generation = bundle.manifest.mirror_generation;
    for file in &bundle.files {
        let key = format!("{PREFIX}/{BUNDLE}/{generation}/{}", file.path);
        assert_eq!(
            reader.get(&key).as_deref(),
            Some(&file.content[..]),
            "{key}"
        );
    }
    let manifest = reader
        .get(&format!("{PREFIX}/{BUNDLE}/{generation}/manifest.json"))
        .expect("manifest.json");
    assert_eq!(manifest, bundle.manifest.to_pretty_json());
    let receipt = read_receipt(reader, generation).expect("receipt.json");
    assert_eq!(receipt.bundle_id, BUNDLE);
    assert_eq!(receipt.mirror_generation, generation);
    assert_eq!(receipt.manifest_digest, bundle.manifest_digest());
    assert_eq!(
        receipt.manifest_digest,
        offline_formats::digest::sha256_prefixed(&offline_formats::digest::sha256(
            &offline_formats::manifest::BundleManifest::from_json_slice(&manifest)
                .unwrap()
                .to_canonical_json()
                .unwrap()
        ))
    );
    assert_eq!(receipt.operator, OPERATOR);
    assert_eq!(receipt.decision, Decision::Accepted);
    assert_eq!(receipt.staged_at, NOW);
}

#[test]
fn stages_into_garage_then_a_rerun_uploads_nothing() {
    let garage = Garage::start();
    let key = garage.bucket_with_key(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    let mut files = small_files();
    // Larger than one part: goes up as a multipart upload.
    files.push(file("images/big-layer.bin", &noise(20 << 20, 3)));
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &files);

    let started = Instant::now();
    let out = run(&mut stage(&bundle, &garage, &garage.endpoint, &key)).expect_code(0);
    eprintln!("first stage into garage: {:?}", started.elapsed());
    let report = out.json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["stage"]["status"], "activated");
    assert_eq!(
        report["stage"]["generation"],
        format!("s3://{BUCKET}/{PREFIX}/{BUNDLE}/7/")
    );
    assert_eq!(report["stage"]["uploaded"]["objects"], 7 + 2);
    let reader = S3Reader::new(&garage, BUCKET, &key);
    assert_eq!(
        reader.keys(),
        generation_keys(&bundle),
        "nothing else in the bucket"
    );
    assert_staged(&reader, &bundle);
    // The garage CLI sees the same objects.
    let info = garage.cli(&["bucket", "info", BUCKET]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Objects:") && l.split_whitespace().nth(1) == Some("9")),
        "{info}"
    );

    let receipt_before = reader
        .get(&format!("{PREFIX}/{BUNDLE}/7/receipt.json"))
        .unwrap();
    let out = run(&mut stage(&bundle, &garage, &garage.endpoint, &key)).expect_code(0);
    let report = out.json();
    assert_eq!(report["stage"]["status"], "already-active");
    assert_eq!(report["stage"]["uploaded"]["objects"], 0, "uploads nothing");
    assert_eq!(report["stage"]["present"]["objects"], 7);
    assert_eq!(
        reader
            .get(&format!("{PREFIX}/{BUNDLE}/7/receipt.json"))
            .unwrap(),
        receipt_before
    );
}

#[test]
fn stage_a_tampered_bundle_leaves_nothing_in_the_bucket() {
    let garage = Garage::start();
    let key = garage.bucket_with_key(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write_with(&dir.path().join("in"), BUNDLE, 7, &small_files(), |tar| {
        flip_first(tar, b"#!/bin/sh")
    });
    let out = run(&mut stage(&bundle, &garage, &garage.endpoint, &key)).expect_code(1);
    let report = out.json();
    assert_eq!(report["stage"]["status"], "not-activated");
    assert!(
        report["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "scripts/verify.sh" && f["kind"] == "mismatch"),
        "{report:#}"
    );
    let reader = S3Reader::new(&garage, BUCKET, &key);
    assert_eq!(reader.keys(), Vec::<String>::new());
}

#[test]
fn stage_resumes_after_kill_9_in_the_middle_of_a_multipart_upload() {
    let garage = Garage::start();
    let key = garage.bucket_with_key(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    let mut files = small_files();
    files.push(file("images/big-layer.bin", &noise(40 << 20, 5)));
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &files);

    // Freeze the upload once 20 MiB went through: two or so parts of the big layer are in,
    // the upload is not complete; then kill -9.
    let relay = StallingRelay::start(&garage.endpoint, 20 << 20);
    let mut child = stage(&bundle, &garage, &relay.endpoint, &key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !relay.stalled() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be frozen mid-upload"
        );
        assert!(Instant::now() < deadline, "the upload never reached 20 MiB");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let reader = S3Reader::new(&garage, BUCKET, &key);
    let shown = reader.keys();
    assert!(
        !shown.iter().any(|k| k.ends_with("big-layer.bin")),
        "an uncompleted multipart upload is invisible: {shown:?}"
    );
    assert!(read_receipt(&reader, 7).is_none(), "not active");
    for k in &shown {
        let rel = k.strip_prefix(&format!("{PREFIX}/{BUNDLE}/7/")).unwrap();
        let expected = bundle.files.iter().find(|f| f.path == rel).unwrap();
        assert_eq!(reader.get(k).unwrap(), expected.content, "{k} is whole");
    }

    let out = run(&mut stage(&bundle, &garage, &garage.endpoint, &key)).expect_code(0);
    let report = out.json();
    assert_eq!(report["stage"]["status"], "activated");
    assert_eq!(
        report["stage"]["present"]["objects"].as_u64().unwrap(),
        shown.len() as u64,
        "what the killed run completed is kept"
    );
    assert_eq!(reader.keys(), generation_keys(&bundle));
    assert_staged(&reader, &bundle);
}

#[test]
fn stage_cas_layout_in_garage() {
    let garage = Garage::start();
    let key = garage.bucket_with_key(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let out = run(stage(&bundle, &garage, &garage.endpoint, &key).args(["--layout", "cas"]))
        .expect_code(0);
    assert_eq!(out.json()["stage"]["layout"], "cas");
    let reader = S3Reader::new(&garage, BUCKET, &key);
    let mut expected: Vec<String> = bundle
        .files
        .iter()
        .map(|f| {
            format!(
                "{PREFIX}/sha256/{}",
                hex::encode(offline_formats::digest::sha256(&f.content))
            )
        })
        .chain(
            ["index.json", "manifest.json", "receipt.json"]
                .map(|n| format!("{PREFIX}/{BUNDLE}/7/{n}")),
        )
        .collect();
    expected.sort();
    assert_eq!(reader.keys(), expected);
    let index = StageIndex::from_json_slice(
        &reader
            .get(&format!("{PREFIX}/{BUNDLE}/7/index.json"))
            .unwrap(),
    )
    .unwrap();
    for (entry, file) in index.objects.iter().zip(&bundle.files) {
        assert_eq!(entry.path, file.path);
        assert_eq!(
            reader.get(&format!("{PREFIX}/{}", entry.key)).unwrap(),
            file.content
        );
    }
    let receipt = read_receipt(&reader, 7).unwrap();
    assert_eq!(receipt.layout, Layout::Cas);
    assert!(receipt.index_digest.is_some());
}

#[test]
fn stage_a_read_only_key_is_an_error_naming_the_object_and_nothing_is_active() {
    let garage = Garage::start();
    let owner = garage.bucket_with_key(BUCKET);
    let read_only = garage.create_key("auditor");
    garage.allow(BUCKET, &read_only.id, &["--read"]);
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let out = run(&mut stage(&bundle, &garage, &garage.endpoint, &read_only)).expect_code(2);
    eprintln!("{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "checksum-verify: error: `s3://{BUCKET}/{PREFIX}/{BUNDLE}/7/README.md`: cannot commit"
        )),
        "the error names the object: {}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    let reader = S3Reader::new(&garage, BUCKET, &owner);
    assert_eq!(reader.keys(), Vec::<String>::new());
}

#[test]
fn stage_a_full_bucket_is_an_error_naming_the_object_and_nothing_is_active() {
    let garage = Garage::start();
    let key = garage.bucket_with_key(BUCKET);
    garage.cli(&["bucket", "set-quotas", "--max-size", "100KiB", BUCKET]);
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let out = run(&mut stage(&bundle, &garage, &garage.endpoint, &key)).expect_code(2);
    eprintln!("{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "`s3://{BUCKET}/{PREFIX}/{BUNDLE}/7/images/layer.bin`: cannot commit"
        )),
        "the error names the object: {}",
        out.stderr
    );
    let reader = S3Reader::new(&garage, BUCKET, &key);
    let keys = reader.keys();
    assert!(
        !keys
            .iter()
            .any(|k| k.ends_with("receipt.json") || k.ends_with("layer.bin")),
        "{keys:?}"
    );
}
