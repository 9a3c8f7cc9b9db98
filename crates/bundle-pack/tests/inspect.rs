//! `bundle-pack inspect`: prints the embedded manifest of a good bundle (exit 0), exits 1
//! when the bundle's first entry is not the manifest it must be, and 2 when the file is
//! not a readable bundle at all (DESIGN §4 exit codes).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod common;

use common::*;
use offline_formats::manifest::BundleManifest;
use offline_formats::schema::Document;
use std::fs;
use std::path::{Path, PathBuf};

struct Bundle {
    tmp: tempfile::TempDir,
    archive: PathBuf,
    stdout_manifest: BundleManifest,
}

fn bundle() -> Bundle {
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    write_file(&input, "charts/a.yaml", b"a: 1\n", 0o644);
    write_file(&input, "run.sh", b"#!/bin/sh\n", 0o755);
    let archive = tmp.path().join("bundle.tar.gz");
    let r = run(bundle_pack()
        .arg("--input")
        .arg(&input)
        .args(["--bundle-id", "inspect-me", "-q", "-o"])
        .arg(&archive)
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok();
    Bundle {
        stdout_manifest: r.manifest(),
        tmp,
        archive,
    }
}

fn inspect(archive: &Path) -> Run {
    run(bundle_pack().arg("inspect").arg(archive))
}

/// Asserts a failed inspection: exit `code`, one error line naming the archive and
/// `needle`, nothing on stdout.
fn assert_inspect_fails(archive: &Path, code: i32, needle: &str) {
    let r = inspect(archive).code(code);
    assert!(
        r.stdout.is_empty(),
        "inspect printed data:\n{}",
        r.describe()
    );
    assert!(
        r.stderr.starts_with("bundle-pack: error: ") && r.stderr.lines().count() == 1,
        "expected one `bundle-pack: error:` line:\n{}",
        r.describe()
    );
    for n in [archive.display().to_string().as_str(), needle] {
        assert!(
            r.stderr.contains(n),
            "the error does not name `{n}`:\n{}",
            r.describe()
        );
    }
}

#[test]
fn inspect_prints_the_embedded_manifest() {
    let b = bundle();
    let r = inspect(&b.archive).ok();
    assert!(r.stderr.is_empty(), "{}", r.describe());
    let value: serde_json::Value = serde_json::from_slice(&r.stdout).expect("valid JSON");
    assert!(
        value.get("archive").is_none(),
        "the embedded manifest has `archive`"
    );
    let m = BundleManifest::from_json_slice(&r.stdout).unwrap();
    assert_eq!(m, b.stdout_manifest.without_archive());
    assert_eq!(m.files.len(), 2);
}

#[test]
fn inspect_exits_1_when_the_first_entry_is_not_the_manifest() {
    let b = bundle();
    let x = mkdir(&b.tmp.path().join("x"));
    run(command("tar").arg("-xzf").arg(&b.archive).arg("-C").arg(&x)).ok();

    // The same files, re-packed by GNU tar in an order that puts the manifest last.
    let reordered = b.tmp.path().join("reordered.tar.gz");
    run(command("tar")
        .arg("-czf")
        .arg(&reordered)
        .arg("-C")
        .arg(&x)
        .args(["charts/a.yaml", "run.sh", "manifest.json"]))
    .ok();
    assert_inspect_fails(&reordered, 1, "`charts/a.yaml`");

    // Manifest first but as `./manifest.json` is still not the entry readers look for.
    let dotted = b.tmp.path().join("dotted.tar.gz");
    run(command("tar")
        .arg("-czf")
        .arg(&dotted)
        .arg("-C")
        .arg(&x)
        .arg("."))
    .ok();
    assert_inspect_fails(&dotted, 1, "manifest.json");

    // Manifest first, in the right place, but it is the stdout copy (with `archive`).
    let with_archive = mkdir(&b.tmp.path().join("with-archive"));
    let stdout_json = offline_formats::jcs::to_pretty_vec(&b.stdout_manifest).unwrap();
    fs::write(with_archive.join("manifest.json"), stdout_json).unwrap();
    let bad = b.tmp.path().join("with-archive.tar.gz");
    run(command("tar")
        .arg("-czf")
        .arg(&bad)
        .arg("-C")
        .arg(&with_archive)
        .arg("manifest.json"))
    .ok();
    assert_inspect_fails(&bad, 1, "archive");

    // Manifest first but not a manifest.
    fs::write(
        with_archive.join("manifest.json"),
        b"{\"schema\":\"stellaops.bundle/v2\"}",
    )
    .unwrap();
    run(command("tar")
        .arg("-czf")
        .arg(&bad)
        .arg("-C")
        .arg(&with_archive)
        .arg("manifest.json"))
    .ok();
    assert_inspect_fails(&bad, 1, "v2");

    // The original still passes (the cases above failed for their own reasons).
    inspect(&b.archive).ok();
}

#[test]
fn inspect_exits_2_when_the_file_is_not_a_bundle() {
    let b = bundle();
    let text = b.tmp.path().join("notes.txt");
    fs::write(&text, b"this is not gzip\n").unwrap();
    assert_inspect_fails(&text, 2, "gzip");

    let empty = b.tmp.path().join("empty.tar.gz");
    fs::write(&empty, b"").unwrap();
    assert_inspect_fails(&empty, 2, "empty.tar.gz");

    let missing = b.tmp.path().join("missing.tar.gz");
    assert_inspect_fails(&missing, 2, "missing.tar.gz");

    // gzip of something that is not tar.
    let not_tar = b.tmp.path().join("not-tar.gz");
    run(command("sh")
        .arg("-c")
        .arg("printf 'plain text, not a tar header' | gzip -n > \"$0\"")
        .arg(&not_tar))
    .ok();
    assert_inspect_fails(&not_tar, 2, "not-tar.gz");

    // A bundle cut in the middle of the manifest.
    let cut = b.tmp.path().join("cut.tar.gz");
    let bytes = fs::read(&b.archive).unwrap();
    fs::write(&cut, &bytes[..300]).unwrap();
    assert_inspect_fails(&cut, 2, "cut.tar.gz");
}

/// `-` means stdin (DESIGN §4): `curl … | bundle-pack inspect -`.
#[test]
fn inspect_reads_stdin_for_dash() {
    let b = bundle();
    let stdin = fs::File::open(&b.archive).unwrap();
    let r = run(bundle_pack().args(["inspect", "-"]).stdin(stdin)).ok();
    let m = BundleManifest::from_json_slice(&r.stdout).unwrap();
    assert_eq!(m, b.stdout_manifest.without_archive());

    // …and a non-bundle on stdin is refused like a non-bundle file.
    let r = run(bundle_pack()
        .args(["inspect", "-"])
        .stdin(std::process::Stdio::null()))
    .code(2);
    assert!(
        r.stderr.starts_with("bundle-pack: error: "),
        "{}",
        r.describe()
    );
}
