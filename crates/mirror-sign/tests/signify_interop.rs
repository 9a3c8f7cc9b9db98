//! Interop with the stock OpenBSD `signify` (Debian `signify-openbsd`): our key files, signed
//! `SHA256SUMS` and embedded signatures are checked by the real tool, and its keys and
//! signatures are checked by ours. Fails loudly when the tool is missing.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use mirror_sign::signify::{
    key_number, parse_public_key_file, public_key_file, sign_embedded, sums_text, verify_embedded,
    verify_embedded_with_keynum, SignifyError,
};
use offline_formats::manifest::{ArchiveInfo, BundleManifest, FileEntry, SCHEMA};
use sha2::{Digest as _, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

const ARCHIVE: &str = "bootstrap.tar.gz";

/// The stock tool: Debian names it `signify-openbsd`; elsewhere it is `signify` (Debian's own
/// `signify` package is an unrelated e-mail signature rotator, so it is only a fallback).
fn signify() -> PathBuf {
    for name in ["signify-openbsd", "signify"] {
        let Some(path) = find_on_path(name) else {
            continue;
        };
        let usage = Command::new(&path)
            .output()
            .expect("run signify for its usage");
        if String::from_utf8_lossy(&usage.stderr).contains("-C") {
            return path;
        }
    }
    panic!(
        "the OpenBSD signify tool is required for this test and was not found on PATH \
         (install it: `apt-get install signify-openbsd`, or run `.ci/run`)"
    );
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Content of the bundle files, as they lie once the archive is extracted beside itself.
fn bundle_files() -> Vec<(&'static str, Vec<u8>)> {
    let blob: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    vec![
        ("README.md", b"# bootstrap pack\n".to_vec()),
        ("charts/legacy-[v1]/Chart.yaml", b"name: legacy\n".to_vec()),
        ("charts/app/values.yaml", b"replicas: 2\n".to_vec()),
        ("images/layer.bin", blob),
        ("scripts/verify.sh", b"#!/bin/sh\nexit 0\n".to_vec()),
    ]
}

fn manifest(files: &[(&str, Vec<u8>)], archive: &[u8]) -> BundleManifest {
    BundleManifest {
        schema: SCHEMA.to_owned(),
        bundle_id: "stellaops-bootstrap".to_owned(),
        kind: "bootstrap".to_owned(),
        mirror_generation: 7,
        created_at: "2026-11-01T00:00:00Z".to_owned(),
        producer: "bundle-pack/0.1.0".to_owned(),
        files: files
            .iter()
            .map(|(path, content)| FileEntry {
                path: (*path).to_owned(),
                size: content.len() as u64,
                sha256: sha256_hex(content),
                blake3: "0".repeat(64),
                mode: "0644".to_owned(),
                media_type: "application/octet-stream".to_owned(),
            })
            .collect(),
        merkle_root: format!("sha256:{}", "0".repeat(64)),
        archive: Some(ArchiveInfo {
            name: ARCHIVE.to_owned(),
            size: archive.len() as u64,
            sha256: sha256_hex(archive),
            blake3: "0".repeat(64),
            compression: "gzip".to_owned(),
        }),
    }
}

fn release_key() -> SigningKey {
    SigningKey::from_bytes(&[0x42; 32])
}

/// A sealed site's media folder: the archive extracted beside itself, `key.pub`,
/// `SHA256SUMS` and `SHA256SUMS.sig`, all written with the library.
fn site() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = bundle_files();
    let archive = b"not really gzip, only bytes to hash".to_vec();
    for (path, content) in &files {
        let full = dir.path().join(path);
        fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        fs::write(full, content).expect("write bundle file");
    }
    fs::write(dir.path().join(ARCHIVE), &archive).expect("write archive");
    write_signed_sums(dir.path(), &release_key(), &manifest(&files, &archive));
    dir
}

fn write_signed_sums(dir: &Path, key: &SigningKey, manifest: &BundleManifest) {
    let pubfile = public_key_file(&key.verifying_key(), "release public key").expect("pub");
    fs::write(dir.join("key.pub"), pubfile).expect("write key.pub");
    let sums = sums_text(manifest).expect("sums");
    fs::write(dir.join("SHA256SUMS"), &sums).expect("write SHA256SUMS");
    let signed = sign_embedded(key, sums.as_bytes(), "verify with key.pub").expect("sign");
    fs::write(dir.join("SHA256SUMS.sig"), signed).expect("write SHA256SUMS.sig");
}

fn signify_check(dir: &Path, files: &[&str]) -> Output {
    Command::new(signify())
        .args(["-C", "-p", "key.pub", "-x", "SHA256SUMS.sig"])
        .args(files)
        .current_dir(dir)
        .output()
        .expect("run signify -C")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_fails(output: &Output, expected_message: &str) {
    assert!(!output.status.success(), "{}", describe(output));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains(expected_message), "{}", describe(output));
}

#[test]
fn signify_checks_the_archive_and_every_file() {
    let dir = site();
    let output = signify_check(dir.path(), &[]);
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Signature Verified"),
        "{}",
        describe(&output)
    );
    assert!(stdout.contains(&format!("{ARCHIVE}: OK")), "{stdout}");
    for (path, _) in bundle_files() {
        assert!(stdout.contains(&format!("{path}: OK")), "{path}: {stdout}");
    }
}

#[test]
fn sha256sum_reads_the_same_sums_file() {
    let dir = site();
    let output = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(dir.path())
        .output()
        .expect("run sha256sum (coreutils)");
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).lines().count(),
        bundle_files().len() + 1
    );
}

#[test]
fn the_archive_alone_is_checked_before_extraction() {
    let dir = site();
    for (path, _) in bundle_files() {
        fs::remove_file(dir.path().join(path)).expect("remove");
    }
    let output = signify_check(dir.path(), &[ARCHIVE]);
    assert!(output.status.success(), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&format!("{ARCHIVE}: OK")),
        "{}",
        describe(&output)
    );
    // Without naming the archive, the files that are not extracted yet fail.
    assert_fails(&signify_check(dir.path(), &[]), "README.md: FAIL");
}

#[test]
fn a_changed_file_fails() {
    let dir = site();
    fs::write(dir.path().join("charts/app/values.yaml"), b"replicas: 3\n").expect("tamper");
    assert_fails(
        &signify_check(dir.path(), &[]),
        "charts/app/values.yaml: FAIL",
    );
    // The archive line still passes on its own.
    assert!(signify_check(dir.path(), &[ARCHIVE]).status.success());
}

#[test]
fn a_changed_archive_fails() {
    let dir = site();
    fs::write(dir.path().join(ARCHIVE), b"another archive").expect("tamper");
    assert_fails(
        &signify_check(dir.path(), &[ARCHIVE]),
        &format!("{ARCHIVE}: FAIL"),
    );
}

#[test]
fn a_missing_file_fails() {
    let dir = site();
    fs::remove_file(dir.path().join("images/layer.bin")).expect("remove");
    assert_fails(&signify_check(dir.path(), &[]), "images/layer.bin: FAIL");
}

#[test]
fn a_changed_sums_line_in_the_signature_file_fails() {
    // The attacker changes a file and the matching line of the signed message.
    let dir = site();
    let path = "charts/app/values.yaml";
    let evil = b"replicas: 0\n";
    fs::write(dir.path().join(path), evil).expect("tamper");
    let sig_path = dir.path().join("SHA256SUMS.sig");
    let signed = fs::read_to_string(&sig_path).expect("read sig");
    let old = sha256_hex(b"replicas: 2\n");
    assert!(signed.contains(&old));
    fs::write(&sig_path, signed.replace(&old, &sha256_hex(evil))).expect("write sig");
    assert_fails(
        &signify_check(dir.path(), &[]),
        "signature verification failed",
    );
}

#[test]
fn a_changed_signature_fails() {
    let dir = site();
    let sig_path = dir.path().join("SHA256SUMS.sig");
    let signed = fs::read_to_string(&sig_path).expect("read sig");
    let mut lines: Vec<String> = signed.split('\n').map(str::to_owned).collect();
    let mut raw = STANDARD.decode(&lines[1]).expect("base64");
    raw[20] ^= 0x01; // inside the Ed25519 signature, after "Ed" and the key number
    lines[1] = STANDARD.encode(&raw);
    fs::write(&sig_path, lines.join("\n")).expect("write sig");
    assert_fails(
        &signify_check(dir.path(), &[]),
        "signature verification failed",
    );
}

#[test]
fn another_key_fails() {
    let dir = site();
    let other = SigningKey::from_bytes(&[0x43; 32]).verifying_key();
    fs::write(
        dir.path().join("key.pub"),
        public_key_file(&other, "someone else").expect("pub"),
    )
    .expect("write key.pub");
    assert_fails(&signify_check(dir.path(), &[]), "wrong key");

    // Another key that claims the release key's number: the signature itself fails.
    let mut raw = b"Ed".to_vec();
    raw.extend_from_slice(&key_number(&release_key().verifying_key()));
    raw.extend_from_slice(other.as_bytes());
    fs::write(
        dir.path().join("key.pub"),
        format!("untrusted comment: impostor\n{}\n", STANDARD.encode(&raw)),
    )
    .expect("write key.pub");
    assert_fails(
        &signify_check(dir.path(), &[]),
        "signature verification failed",
    );
}

#[test]
fn signify_verifies_our_embedded_signature_of_any_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = release_key();
    let message: Vec<u8> = (0..=255u8)
        .chain(b"\nlast line\n".iter().copied())
        .collect();
    fs::write(
        dir.path().join("key.pub"),
        public_key_file(&key.verifying_key(), "release public key").expect("pub"),
    )
    .expect("write key.pub");
    fs::write(
        dir.path().join("msg.sig"),
        sign_embedded(&key, &message, "verify with key.pub").expect("sign"),
    )
    .expect("write sig");
    let output = Command::new(signify())
        .args([
            "-V", "-e", "-p", "key.pub", "-x", "msg.sig", "-m", "msg.out",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run signify -V");
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(
        fs::read(dir.path().join("msg.out")).expect("read msg"),
        message
    );
}

#[test]
fn signify_made_keys_and_signatures_verify_with_the_library() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let output = Command::new(signify())
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run signify");
        assert!(output.status.success(), "{args:?}: {}", describe(&output));
    };
    run(&["-G", "-n", "-c", "site", "-p", "site.pub", "-s", "site.sec"]);
    let message = b"SHA256 (a) = 00\nany bytes \x00\xff\n";
    fs::write(dir.path().join("msg"), message).expect("write msg");
    run(&["-S", "-e", "-s", "site.sec", "-m", "msg", "-x", "msg.sig"]);

    let pubfile = fs::read_to_string(dir.path().join("site.pub")).expect("read pub");
    assert!(pubfile.starts_with("untrusted comment: site public key\n"));
    let (key, keynum) = parse_public_key_file(&pubfile).expect("parse signify's public key");
    let signed = fs::read(dir.path().join("msg.sig")).expect("read sig");
    assert_eq!(
        verify_embedded_with_keynum(&key, &keynum, &signed).expect("verify"),
        message
    );
    // signify picks a random key number, not ours, and that is checked.
    assert!(matches!(
        verify_embedded(&key, &signed),
        Err(SignifyError::WrongKey { .. })
    ));
    let mut changed = signed.clone();
    *changed.last_mut().expect("non-empty") ^= 1;
    assert!(matches!(
        verify_embedded_with_keynum(&key, &keynum, &changed),
        Err(SignifyError::BadSignature)
    ));
    let other = SigningKey::from_bytes(&[1; 32]).verifying_key();
    assert!(matches!(
        verify_embedded_with_keynum(&other, &keynum, &signed),
        Err(SignifyError::BadSignature)
    ));
}

#[test]
fn our_public_key_file_round_trips_and_matches_what_signify_reads() {
    let key = release_key().verifying_key();
    let text = public_key_file(&key, "release public key").expect("pub");
    assert_eq!(
        parse_public_key_file(&text).expect("parse"),
        (key, key_number(&key))
    );
    // The number is the one signify compares: a signature of ours passes `-V` with this file
    // (see signify_verifies_our_embedded_signature_of_any_message) and it is stable.
    assert_eq!(
        public_key_file(&key, "release public key").expect("pub"),
        text
    );
}
