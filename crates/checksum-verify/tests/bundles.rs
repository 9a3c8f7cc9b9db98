//! Real bundles made by the built `bundle-pack`: archives (file and stdin) and extracted
//! folders pass; every kind of damage an operator can meet fails with the failure that names
//! it; the manifest-level checks (Merkle root, embedded copy, staleness, rollback) and the
//! exit codes for unusable input.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod support;

use offline_formats::verify_report::FailureKind;
use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use support::*;

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn verify_with(manifest: &Path, target: &Path, extra: &[&str]) -> Run {
    let mut args: Vec<&OsStr> = vec![os("--manifest"), manifest.as_os_str()];
    args.extend(extra.iter().map(|s| os(s)));
    args.push(target.as_os_str());
    verify(&args)
}

#[test]
fn a_packed_bundle_verifies_as_archive_stdin_and_folder() {
    let b = Bundle::new(1);
    let manifest = b.manifest();
    let total: u64 = manifest.files.iter().map(|f| f.size).sum();

    let run = verify_with(&b.manifest, &b.archive, &["-v"]).ok();
    let report = run.report();
    assert!(report.ok);
    assert_eq!(report.target, b.archive.display().to_string());
    assert_eq!(report.counts.files, manifest.files.len() as u64);
    assert_eq!(report.counts.bytes, total);
    assert!(report.manifest_digest.unwrap().starts_with("sha256:"));
    for file in &manifest.files {
        assert!(
            run.stderr.contains(&format!("{}: OK\n", file.path)),
            "{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("checksum-verify: OK: "),
        "{}",
        run.stderr
    );

    // The same archive on stdin.
    let bytes = fs::read(&b.archive).unwrap();
    let run = run_with_stdin(
        checksum_verify()
            .args(["--now", NOW, "--manifest"])
            .arg(&b.manifest)
            .arg("-"),
        &bytes,
    )
    .ok();
    assert_eq!(run.report().target, "<stdin>");

    // Extracted by GNU tar: the folder passes too (its root manifest.json is the embedded copy).
    let x = b.extract("x");
    let run = verify_with(&b.manifest, &x, &[]).ok();
    assert_eq!(run.report().counts.files, manifest.files.len() as u64);

    // Each algorithm alone.
    for algo in ["sha256", "blake3", "both"] {
        verify_with(&b.manifest, &b.archive, &["--algo", algo]).ok();
        verify_with(&b.manifest, &x, &["--algo", algo]).ok();
    }
}

#[test]
fn a_tampered_byte_in_the_archive_fails() {
    let b = Bundle::new(1);
    let mut bytes = fs::read(&b.archive).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    let tampered = b.path("tampered.tar.gz");
    fs::write(&tampered, &bytes).unwrap();
    let run = verify_with(&b.manifest, &tampered, &[]).code(1);
    let archive = run.has(FailureKind::Mismatch, &tampered.display().to_string());
    assert_eq!(
        archive.expected.unwrap(),
        format!("sha256:{}", b.manifest().archive.unwrap().sha256)
    );
    assert!(
        run.stderr.contains("checksum-verify: error: "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_tampered_missing_extra_or_re_moded_file_in_a_folder_fails() {
    let b = Bundle::new(1);
    let x = b.extract("x");
    // Tampered: same size, one byte changed.
    let values = x.join("charts/app/values.yaml");
    let mut content = fs::read(&values).unwrap();
    content[0] ^= 1;
    fs::write(&values, &content).unwrap();
    // Missing, extra, mode, link.
    fs::remove_file(x.join("charts/app/Chart.yaml")).unwrap();
    fs::write(x.join("charts/app/extra.yaml"), b"x: 1\n").unwrap();
    set_mode(&x.join("scripts/verify.sh"), 0o644);
    std::os::unix::fs::symlink("/etc/passwd", x.join("images/passwd")).unwrap();

    let run = verify_with(&b.manifest, &x, &["-v"]).code(1);
    let mismatch = run.has(FailureKind::Mismatch, "charts/app/values.yaml");
    assert!(mismatch.expected.unwrap().starts_with("sha256:"));
    run.has(FailureKind::Missing, "charts/app/Chart.yaml");
    run.has(FailureKind::Unexpected, "charts/app/extra.yaml");
    let mode = run.has(FailureKind::Mode, "scripts/verify.sh");
    assert_eq!(mode.actual.as_deref(), Some("0644"));
    run.has(FailureKind::UnsafeEntry, "images/passwd");
    assert_eq!(
        run.failures().len(),
        5,
        "every failure listed:\n{}",
        run.describe()
    );
    assert!(run.stderr.contains("charts/app/values.yaml: FAILED\n"));
    assert!(run.stderr.contains("images/layer.bin: OK\n"));

    // --allow-unlisted relaxes only the extra file.
    let run = verify_with(&b.manifest, &x, &["--allow-unlisted"]).code(1);
    assert!(run
        .failures()
        .iter()
        .all(|f| f.kind != FailureKind::Unexpected));
    assert_eq!(run.failures().len(), 4);
}

#[test]
fn blake3_alone_catches_what_sha256_would() {
    let b = Bundle::new(1);
    let x = b.extract("x");
    let layer = x.join("images/layer.bin");
    let mut content = fs::read(&layer).unwrap();
    let n = content.len();
    content[n - 1] ^= 0xff;
    fs::write(&layer, &content).unwrap();
    let run = verify_with(&b.manifest, &x, &["--algo", "blake3", "--jobs", "1"]).code(1);
    let m = run.has(FailureKind::Mismatch, "images/layer.bin");
    assert!(m.actual.unwrap().starts_with("blake3:"));
}

#[test]
fn reports_are_the_same_whatever_the_thread_count() {
    let b = Bundle::new(1);
    let x = b.extract("x");
    fs::write(x.join("extra-1"), b"1").unwrap();
    fs::write(x.join("charts/extra-2"), b"2").unwrap();
    fs::write(x.join("images/layer.bin"), b"truncated").unwrap();
    let one = verify_with(&b.manifest, &x, &["--jobs", "1"]).code(1);
    let four = verify_with(&b.manifest, &x, &["--jobs", "4"]).code(1);
    assert_eq!(one.stdout, four.stdout);
}

#[test]
fn an_archive_whose_embedded_manifest_differs_fails() {
    // Two packs of the same files with different generations: the files and their digests
    // agree, the embedded manifests do not.
    let one = Bundle::new(1);
    let two = Bundle::new(2);
    let mut crossed = two.manifest();
    crossed.archive = one.manifest().archive;
    let manifest = one.write_manifest("crossed.json", &crossed);
    let run = verify_with(&manifest, &one.archive, &[]).code(1);
    run.has(FailureKind::Mismatch, "manifest.json");
    assert_eq!(run.failures().len(), 1, "{}", run.describe());
}

#[test]
fn a_wrong_merkle_root_or_an_extra_listed_file_fails() {
    let b = Bundle::new(1);
    let mut m = b.manifest();
    m.merkle_root = format!("sha256:{}", "00".repeat(32));
    let path = b.write_manifest("merkle.json", &m);
    let run = verify_with(&path, &b.archive, &[]).code(1);
    let merkle = run.has(FailureKind::Merkle, &path.display().to_string());
    assert_eq!(merkle.actual.unwrap(), b.manifest().merkle_root);

    // A file listed that the archive lacks (the Merkle root and embedded copy differ too).
    let mut m = b.manifest();
    let mut ghost = m.files[0].clone();
    ghost.path = "zz/ghost.txt".into();
    m.files.push(ghost);
    let path = b.write_manifest("ghost.json", &m);
    let run = verify_with(&path, &b.archive, &[]).code(1);
    run.has(FailureKind::Missing, "zz/ghost.txt");
    run.has(FailureKind::Merkle, &path.display().to_string());
}

#[test]
fn staleness_against_created_at() {
    let b = Bundle::new(1);
    // createdAt is two days before NOW.
    verify_with(&b.manifest, &b.archive, &["--max-age", "72h"]).ok();
    let run = verify_with(&b.manifest, &b.archive, &["--max-age", "24h"]).code(1);
    let stale = run.has(FailureKind::Stale, &b.manifest.display().to_string());
    assert!(
        stale.actual.unwrap().contains("2d old"),
        "{}",
        run.describe()
    );
    run_with_stdin(
        checksum_verify()
            .args([
                "--now",
                "2026-06-01T00:00:00Z",
                "--max-age",
                "soon",
                "--manifest",
            ])
            .arg(&b.manifest)
            .arg(&b.archive),
        b"",
    )
    .code(2)
    .stderr_has(&["checksum-verify: error: invalid value 'soon'"]);
}

#[test]
fn rollback_is_refused_unless_forced_with_a_reason_and_the_override_is_recorded() {
    let two = Bundle::new(2);
    let one = Bundle::new(1);
    let three = Bundle::new(3);
    let state = two.path("state");
    fs::create_dir(&state).unwrap();
    let s = state.to_str().unwrap();
    let state_file = state.join("test-bundle.json");

    verify_with(&two.manifest, &two.archive, &["--state", s]).ok();
    let recorded: serde_json::Value =
        serde_json::from_slice(&fs::read(&state_file).unwrap()).unwrap();
    assert_eq!(recorded["mirrorGeneration"], 2);
    assert_eq!(recorded["schema"], "stellaops.verify-state/v1");
    assert_eq!(recorded["acceptedAt"], NOW);

    // The same bundle again (after transfer, or by `stage`): not a rollback.
    verify_with(&two.manifest, &two.archive, &["--state", s]).ok();

    // An older generation: refused, and the state is left as it was.
    let before = fs::read(&state_file).unwrap();
    let run = verify_with(&one.manifest, &one.archive, &["--state", s]).code(1);
    let rollback = run.has(FailureKind::Rollback, &one.manifest.display().to_string());
    assert_eq!(rollback.actual.as_deref(), Some("mirrorGeneration 1"));
    assert_eq!(fs::read(&state_file).unwrap(), before);

    // --force needs --reason.
    verify_with(&one.manifest, &one.archive, &["--state", s, "--force"])
        .code(2)
        .stderr_has(&["--reason"]);
    let run = verify_with(
        &one.manifest,
        &one.archive,
        &[
            "--state",
            s,
            "--force",
            "--reason",
            "generation 2 withdrawn (INC-42)",
        ],
    )
    .ok()
    .stderr_has(&["rollback from mirrorGeneration 2 to 1 accepted with --force"]);
    assert!(run.report().ok);
    let recorded: serde_json::Value =
        serde_json::from_slice(&fs::read(&state_file).unwrap()).unwrap();
    assert_eq!(recorded["mirrorGeneration"], 1);
    assert_eq!(
        recorded["overrides"][0]["reason"],
        "generation 2 withdrawn (INC-42)"
    );
    assert_eq!(recorded["overrides"][0]["fromGeneration"], 2);

    // A failed verification never moves the state.
    let mut bytes = fs::read(&three.archive).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 1;
    let broken = three.path("broken.tar.gz");
    fs::write(&broken, bytes).unwrap();
    verify_with(&three.manifest, &broken, &["--state", s]).code(1);
    let after: serde_json::Value = serde_json::from_slice(&fs::read(&state_file).unwrap()).unwrap();
    assert_eq!(after["mirrorGeneration"], 1);
    // A rising generation passes, and the override history is kept.
    verify_with(&three.manifest, &three.archive, &["--state", s]).ok();
    let after: serde_json::Value = serde_json::from_slice(&fs::read(&state_file).unwrap()).unwrap();
    assert_eq!(after["mirrorGeneration"], 3);
    assert_eq!(after["overrides"].as_array().map(Vec::len), Some(1));

    // A damaged state file stops the run rather than forgetting the history.
    fs::write(&state_file, b"{").unwrap();
    verify_with(&three.manifest, &three.archive, &["--state", s])
        .code(2)
        .stderr_has(&["test-bundle.json"]);
    // And a missing state folder is an error, not "no history".
    verify_with(
        &three.manifest,
        &three.archive,
        &["--state", "/nonexistent/state"],
    )
    .code(2);
}

#[test]
fn unusable_inputs_exit_2_naming_them() {
    let b = Bundle::new(1);
    verify_with(Path::new("/nonexistent/m.json"), &b.archive, &[])
        .code(2)
        .stderr_has(&["checksum-verify: error: `/nonexistent/m.json`"]);
    verify_with(&b.manifest, Path::new("/nonexistent/b.tar.gz"), &[])
        .code(2)
        .stderr_has(&["`/nonexistent/b.tar.gz`"]);
    let bad = b.path("bad.json");
    fs::write(&bad, b"{not json").unwrap();
    verify_with(&bad, &b.archive, &[])
        .code(2)
        .stderr_has(&["bad.json"]);
    let v2 = b.path("v2.json");
    fs::write(
        &v2,
        fs::read_to_string(&b.manifest)
            .unwrap()
            .replace("stellaops.bundle/v1", "stellaops.bundle/v2"),
    )
    .unwrap();
    verify_with(&v2, &b.archive, &[])
        .code(2)
        .stderr_has(&["unsupported schema version `stellaops.bundle/v2`"]);
    // The embedded copy has no `archive` member to check the archive against.
    let embedded = b.write_manifest("embedded.json", &b.manifest().without_archive());
    verify_with(&embedded, &b.archive, &[])
        .code(2)
        .stderr_has(&["no `archive` member"]);
    // No manifest at all, and no target.
    verify(&[b.archive.as_os_str()])
        .code(2)
        .stderr_has(&["--manifest"]);
    verify(&[]).code(2);
    // Both from stdin.
    run(checksum_verify().args(["--manifest", "-", "-"]))
        .code(2)
        .stderr_has(&["stdin"]);
}

#[test]
fn help_and_version_go_to_stdout() {
    let run = run(checksum_verify().arg("--help")).ok();
    let text = String::from_utf8(run.stdout).unwrap();
    for flag in [
        "--manifest",
        "--envelope",
        "--trust",
        "--sums",
        "--max-expand",
        "--state",
    ] {
        assert!(text.contains(flag), "{flag}:\n{text}");
    }
    support::run(checksum_verify().arg("--version")).ok();
}
