//! `checksum-verify stage` into a `file://` store, through the real binary: the happy path,
//! an idempotent rerun, a tampered bundle, a conflicting generation, resuming after `kill -9`,
//! quarantine, a store that is full, read-only or busy, and the content-addressed layout.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod stage_support;

use offline_formats::schema::Document as _;
use offline_formats::stage::{Decision, Layout, StageIndex, StageReceipt};
use stage_support::*;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const BUNDLE: &str = "stellaops-bootstrap";

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn receipt(store: &Path, generation: u64) -> Option<StageReceipt> {
    let path = store.join(format!("{BUNDLE}/{generation}/receipt.json"));
    fs::read(path)
        .ok()
        .map(|bytes| StageReceipt::from_json_slice(&bytes).unwrap())
}

/// Every file of `bundle` is in the store with its exact bytes and mode.
fn assert_staged(store: &Path, bundle: &Bundle) {
    let generation = bundle.manifest.mirror_generation;
    for file in &bundle.files {
        let path = store.join(format!("{BUNDLE}/{generation}/{}", file.path));
        assert_eq!(read(&path), file.content, "{}", file.path);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(format!("{mode:04o}"), file.mode, "{}", file.path);
    }
    assert_eq!(
        read(&store.join(format!("{BUNDLE}/{generation}/manifest.json"))),
        bundle.manifest.to_pretty_json(),
        "manifest.json is the outer manifest, pretty"
    );
    let receipt = receipt(store, generation).expect("receipt.json");
    assert_eq!(receipt.bundle_id, BUNDLE);
    assert_eq!(receipt.mirror_generation, generation);
    assert_eq!(receipt.manifest_digest, bundle.manifest_digest());
    assert_eq!(receipt.operator, OPERATOR);
    assert_eq!(receipt.decision, Decision::Accepted);
    assert_eq!(receipt.staged_at, NOW);
    assert!(staging_leftovers(store).is_empty(), "{:?}", tree(store));
}

#[test]
fn stages_a_signed_bundle_and_activates_it() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let store = dir.path().join("store");
    let out = run(&mut bundle.stage(&file_url(&store))).expect_code(0);
    let report = out.json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["manifestDigest"], bundle.manifest_digest());
    assert_eq!(report["counts"]["files"], 6);
    assert_eq!(report["stage"]["status"], "activated");
    assert_eq!(report["stage"]["layout"], "generation");
    assert_eq!(
        report["stage"]["generation"],
        format!("file://{}/{BUNDLE}/7/", store.display())
    );
    // Six files, then manifest.json and receipt.json.
    assert_eq!(report["stage"]["uploaded"]["objects"], 8);
    assert_eq!(report["stage"]["present"]["objects"], 0);
    assert_staged(&store, &bundle);
    let mut expected: Vec<String> = bundle
        .files
        .iter()
        .map(|f| format!("{BUNDLE}/7/{}", f.path))
        .chain(["manifest.json", "receipt.json"].map(|n| format!("{BUNDLE}/7/{n}")))
        .collect();
    expected.sort();
    assert_eq!(visible(&store), expected, "nothing else is visible");
    assert!(
        out.stderr.contains("checksum-verify: stage: file://") && out.stderr.contains("activated"),
        "{}",
        out.stderr
    );
}

#[test]
fn stage_a_plain_manifest_and_a_state_folder_work_too() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let store = dir.path().join("store");
    let state = dir.path().join("state");
    fs::create_dir(&state).unwrap();
    let stage = |now: &str| {
        let mut cmd = checksum_verify();
        cmd.arg("stage")
            .arg("--manifest")
            .arg(&bundle.manifest_path)
            .arg("--state")
            .arg(&state)
            .args(["--now", now, "--to", &file_url(&store)])
            .env("USER", "ops-bot")
            .arg(&bundle.archive);
        run(&mut cmd)
    };
    stage(NOW).expect_code(0);
    assert_eq!(
        receipt(&store, 7).unwrap().operator,
        "ops-bot",
        "$USER by default"
    );
    assert!(
        state.join(format!("{BUNDLE}.json")).is_file(),
        "state recorded"
    );
    // The same generation again is a rerun, not a rollback.
    stage("2026-06-02T00:00:00Z").expect_code(0);
}

#[test]
fn stage_a_rerun_uploads_nothing_and_keeps_the_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let store = dir.path().join("store");
    run(&mut bundle.stage(&file_url(&store))).expect_code(0);
    let first_receipt = read(&store.join(format!("{BUNDLE}/7/receipt.json")));
    let tree_before = tree(&store);

    // Another day: the receipt still says when the generation was activated.
    let mut again = bundle.stage_at(&file_url(&store), "2026-06-03T00:00:00Z");
    let out = run(&mut again).expect_code(0);
    let report = out.json();
    assert_eq!(report["stage"]["status"], "already-active");
    assert_eq!(report["stage"]["uploaded"]["objects"], 0, "uploads nothing");
    assert_eq!(report["stage"]["uploaded"]["bytes"], 0);
    assert_eq!(report["stage"]["present"]["objects"], 6);
    assert_eq!(
        read(&store.join(format!("{BUNDLE}/7/receipt.json"))),
        first_receipt
    );
    assert_eq!(tree(&store), tree_before);
}

#[test]
fn stage_a_damaged_object_of_an_active_generation_is_repaired_by_a_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let store = dir.path().join("store");
    run(&mut bundle.stage(&file_url(&store))).expect_code(0);
    let values = store.join(format!("{BUNDLE}/7/charts/app/values.yaml"));
    fs::write(&values, b"replicas: 9\n").unwrap();
    fs::remove_file(store.join(format!("{BUNDLE}/7/manifest.json"))).unwrap();
    let out = run(&mut bundle.stage(&file_url(&store))).expect_code(0);
    let report = out.json();
    assert_eq!(report["stage"]["status"], "already-active");
    // The damaged file and the missing manifest.
    assert_eq!(report["stage"]["uploaded"]["objects"], 2);
    assert_staged(&store, &bundle);
}

#[test]
fn stage_a_tampered_copy_of_an_active_bundle_leaves_the_generation_whole() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let store = dir.path().join("store");
    run(&mut bundle.stage(&file_url(&store))).expect_code(0);
    fs::write(
        store.join(format!("{BUNDLE}/7/charts/app/values.yaml")),
        b"replicas: 9\n",
    )
    .unwrap();
    // The same manifest, but the media's copy of the last file was tampered with.
    let tampered = Bundle::write_with(&dir.path().join("bad"), BUNDLE, 7, &small_files(), |tar| {
        flip_first(tar, b"#!/bin/sh")
    });
    assert_eq!(tampered.manifest_digest(), bundle.manifest_digest());
    let out = run(&mut tampered.stage(&file_url(&store))).expect_code(1);
    assert_eq!(out.json()["stage"]["status"], "not-activated");
    // The damaged file was repaired from verified bytes and kept; nothing was removed.
    assert_staged(&store, &bundle);
}

#[test]
fn stage_a_tampered_bundle_is_refused_and_nothing_is_visible() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write_with(&dir.path().join("in"), BUNDLE, 7, &small_files(), |tar| {
        flip_first(tar, b"replicas: 2")
    });
    let store = dir.path().join("store");
    let out = run(&mut bundle.stage(&file_url(&store))).expect_code(1);
    let report = out.json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["stage"]["status"], "not-activated");
    let kinds = failure_kinds(&report);
    assert!(kinds.contains(&"mismatch".to_owned()), "{report:#}");
    assert!(
        report["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "charts/app/values.yaml"),
        "the tampered file is named: {report:#}"
    );
    // The files that did verify were streamed into the store and made visible one by one;
    // the failed bundle's run removed them again, and nothing was activated.
    assert_eq!(visible(&store), Vec::<String>::new(), "{:?}", tree(&store));
    assert!(staging_leftovers(&store).is_empty());
    assert!(out.stderr.contains("NOT activated"), "{}", out.stderr);
}

#[test]
fn stage_a_bundle_refused_before_its_content_never_opens_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    // One approver's signature only: below the 2-of-3 threshold.
    let mut envelope: serde_json::Value = serde_json::from_slice(&read(&bundle.envelope)).unwrap();
    envelope["signatures"].as_array_mut().unwrap().truncate(1);
    fs::write(&bundle.envelope, serde_json::to_vec(&envelope).unwrap()).unwrap();
    let store = dir.path().join("store");
    let out = run(&mut bundle.stage(&file_url(&store))).expect_code(1);
    assert!(failure_kinds(&out.json()).contains(&"signature".to_owned()));
    assert!(!store.exists(), "the store was not even created");
}

#[test]
fn a_file_named_like_a_stage_document_cannot_be_staged_in_the_generation_layout() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = small_files();
    files.push(file(
        "receipt.json",
        b"{\"schema\": \"stellaops.stage-receipt/v1\"}\n",
    ));
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &files);
    let store = dir.path().join("store");
    let out = run(&mut bundle.stage(&file_url(&store))).expect_code(1);
    let report = out.json();
    assert!(
        report["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "receipt.json" && f["kind"] == "unsafe-entry"),
        "{report:#}"
    );
    assert!(!store.exists(), "refused before the store was opened");
    // Content-addressed, the same bundle has no such clash.
    run(bundle.stage(&file_url(&store)).args(["--layout", "cas"])).expect_code(0);
}

#[test]
fn stage_another_manifest_for_an_active_generation_is_a_rollback_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let store = dir.path().join("store");
    run(&mut bundle.stage(&file_url(&store))).expect_code(0);
    let before: Vec<(String, Vec<u8>)> = visible(&store)
        .into_iter()
        .map(|p| (p.clone(), read(&store.join(&p))))
        .collect();

    let mut files = small_files();
    files[2].content = b"replicas: 5\n".to_vec();
    let other = Bundle::write(&dir.path().join("other"), BUNDLE, 7, &files);
    let out = run(&mut other.stage(&file_url(&store))).expect_code(1);
    let report = out.json();
    assert_eq!(failure_kinds(&report), ["rollback"], "{report:#}");
    let failure = &report["failures"][0];
    assert!(failure["path"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{BUNDLE}/7/receipt.json")));
    let after: Vec<(String, Vec<u8>)> = visible(&store)
        .into_iter()
        .map(|p| (p.clone(), read(&store.join(&p))))
        .collect();
    assert_eq!(after, before, "the active generation is untouched");
}

#[test]
fn stage_resumes_after_kill_9_mid_upload_with_nothing_half_written_visible() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = small_files();
    files.push(file("images/big-layer.bin", &noise(96 << 20, 7)));
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &files);
    let store = dir.path().join("store");

    let mut child = bundle
        .stage(&file_url(&store))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill once the big entry is half-way into its temporary file.
    let staging = store.join(".staging");
    let in_flight = || {
        fs::read_dir(&staging).ok()?.find_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let len = entry.metadata().ok()?.len();
            (name.starts_with("tmp-") && len >= 8 << 20).then_some(len)
        })
    };
    let caught = wait_for_growth(&mut child, in_flight, 8 << 20);
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(caught, "the run ended before it could be killed mid-upload");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );

    // Killed: a temporary file is left in .staging/, but nothing half-written is visible and
    // the generation is not active.
    assert!(!staging_leftovers(&store).is_empty());
    let shown = visible(&store);
    assert!(
        !shown.iter().any(|p| p.ends_with("big-layer.bin")),
        "{shown:?}"
    );
    assert!(receipt(&store, 7).is_none());
    for path in &shown {
        let rel = path.strip_prefix(&format!("{BUNDLE}/7/")).unwrap();
        let expected = bundle.files.iter().find(|f| f.path == rel).unwrap();
        assert_eq!(read(&store.join(path)), expected.content, "{path} is whole");
    }

    let out = run(&mut bundle.stage(&file_url(&store))).expect_code(0);
    let report = out.json();
    assert_eq!(report["stage"]["status"], "activated");
    let present = report["stage"]["present"]["objects"].as_u64().unwrap();
    assert_eq!(
        present,
        shown.len() as u64,
        "what the killed run stored is kept"
    );
    assert_eq!(
        report["stage"]["uploaded"]["objects"].as_u64().unwrap(),
        bundle.files.len() as u64 - present + 2
    );
    assert_staged(&store, &bundle);
}

/// What a reader may see at any instant: every visible object of the generation whole and
/// correct, and a receipt only beside a complete generation.
fn assert_consistent(store: &Path, bundle: &Bundle) {
    let folder = format!("{BUNDLE}/{}/", bundle.manifest.mirror_generation);
    let shown = visible(store);
    for path in &shown {
        let rel = path
            .strip_prefix(&folder)
            .unwrap_or_else(|| panic!("{path}"));
        let bytes = read(&store.join(path));
        match rel {
            "manifest.json" => assert_eq!(bytes, bundle.manifest.to_pretty_json()),
            "receipt.json" => {
                StageReceipt::from_json_slice(&bytes).expect("a whole receipt");
            }
            _ => {
                let file = bundle.files.iter().find(|f| f.path == rel).unwrap();
                assert_eq!(bytes, file.content, "{path} is whole");
            }
        }
    }
    if shown.contains(&format!("{folder}receipt.json")) {
        assert_eq!(
            shown.len(),
            bundle.files.len() + 2,
            "an active generation is complete"
        );
    }
}

#[test]
fn stage_kill_9_at_any_point_then_a_rerun_completes_the_generation() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = small_files();
    files.push(file("images/mid-layer.bin", &noise(6 << 20, 11)));
    files.push(file("zz/last.yaml", b"last: true\n"));
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &files);
    let store = dir.path().join("store");
    // Kills spread over a run (startup, streaming, activation, after), each followed by a
    // look at what a reader would see.
    let mut outcomes = Vec::new();
    for delay_ms in [
        0u64, 1, 2, 3, 5, 8, 12, 16, 20, 25, 30, 40, 50, 65, 80, 100, 130, 170,
    ] {
        let mut child = bundle
            .stage(&file_url(&store))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap();
        outcomes.push(child.wait().unwrap().code());
        eprintln!(
            "killed after {delay_ms} ms: {} visible",
            visible(&store).len()
        );
        assert_consistent(&store, &bundle);
    }
    assert!(
        outcomes.iter().any(Option::is_none),
        "no run was killed: {outcomes:?}"
    );
    run(&mut bundle.stage(&file_url(&store))).expect_code(0);
    assert_staged(&store, &bundle);
}

#[test]
fn stage_quarantine_moves_a_failed_bundle_and_its_report_aside() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write_with(&dir.path().join("in"), BUNDLE, 7, &small_files(), |tar| {
        flip_first(tar, b"# bootstrap")
    });
    let archive_bytes = read(&bundle.archive);
    let store = dir.path().join("store");
    let quarantine = dir.path().join("quarantine");
    let out = run(bundle
        .stage(&file_url(&store))
        .arg("--quarantine")
        .arg(&quarantine))
    .expect_code(1);
    let report = out.json();
    let moved = quarantine.join(bundle.archive.file_name().unwrap());
    assert!(!bundle.archive.exists(), "moved, not copied");
    assert_eq!(read(&moved), archive_bytes);
    assert_eq!(report["stage"]["quarantined"], moved.display().to_string());
    let mut kept_name = moved.as_os_str().to_owned();
    kept_name.push(".report.json");
    let kept: serde_json::Value = serde_json::from_slice(&read(&PathBuf::from(kept_name))).unwrap();
    assert_eq!(kept, report, "the report beside it is the one printed");
    assert_eq!(kept["ok"], false);
    assert!(receipt(&store, 7).is_none());
    assert!(out.stderr.contains("quarantined"), "{}", out.stderr);
}

#[test]
fn stage_a_busy_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let store = dir.path().join("store");
    fs::create_dir_all(store.join(".staging")).unwrap();
    let lock = fs::File::create(store.join(".staging/lock")).unwrap();
    lock.try_lock().unwrap();
    let out = run(&mut bundle.stage(&file_url(&store))).expect_code(2);
    assert!(
        out.stderr
            .contains("another `checksum-verify stage` is writing to this store"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    drop(lock);
    run(&mut bundle.stage(&file_url(&store))).expect_code(0);
}

#[test]
fn stage_cas_layout_stores_each_content_once_with_an_index_per_generation() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut files = small_files();
    files.push(file("charts/copy/values.yaml", b"replicas: 2\n"));
    let seven = Bundle::write(&dir.path().join("7"), BUNDLE, 7, &files);
    let out = run(seven.stage(&file_url(&store)).args(["--layout", "cas"])).expect_code(0);
    let report = out.json();
    assert_eq!(report["stage"]["layout"], "cas");
    // Seven files, six contents: the copy is found present; then index, manifest, receipt.
    assert_eq!(report["stage"]["uploaded"]["objects"], 6 + 3);
    assert_eq!(report["stage"]["present"]["objects"], 1);
    for f in &seven.files {
        let hex = hex::encode(offline_formats::digest::sha256(&f.content));
        assert_eq!(read(&store.join(format!("sha256/{hex}"))), f.content);
    }
    let index_bytes = read(&store.join(format!("{BUNDLE}/7/index.json")));
    let index = StageIndex::from_json_slice(&index_bytes).unwrap();
    assert_eq!(index.objects.len(), 7);
    assert_eq!(index.manifest_digest, seven.manifest_digest());
    let receipt7 = receipt(&store, 7).unwrap();
    assert_eq!(receipt7.layout, Layout::Cas);
    let canonical = offline_formats::jcs::to_canonical_vec(&index).unwrap();
    assert_eq!(
        receipt7.index_digest.as_deref(),
        Some(
            offline_formats::digest::sha256_prefixed(&offline_formats::digest::sha256(&canonical))
                .as_str()
        )
    );

    // Generation 8 changes one file: only its content is new.
    let mut files8 = files.clone();
    files8[0].content = b"# bootstrap pack, generation 8\n".to_vec();
    let eight = Bundle::write(&dir.path().join("8"), BUNDLE, 8, &files8);
    let out = run(eight.stage(&file_url(&store)).args(["--layout", "cas"])).expect_code(0);
    let report = out.json();
    assert_eq!(report["stage"]["uploaded"]["objects"], 1 + 3);
    assert_eq!(report["stage"]["present"]["objects"], 6);
    assert!(receipt(&store, 7).is_some() && receipt(&store, 8).is_some());
    let objects = visible(&store)
        .into_iter()
        .filter(|p| p.starts_with("sha256/"))
        .count();
    assert_eq!(objects, 7, "six contents of generation 7 and one new one");
}

#[test]
fn stage_s3_settings_are_checked_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    let out = run(&mut bundle.stage("s3://offline-bundles/site-a")).expect_code(2);
    assert!(out.stderr.contains("needs --endpoint"), "{}", out.stderr);
    let out = run(bundle
        .stage("s3://offline-bundles/site-a")
        .args(["--endpoint", "http://10.1.2.3:3900"])
        .env("AWS_ACCESS_KEY_ID", "GK1")
        .env("AWS_SECRET_ACCESS_KEY", "s"))
    .expect_code(2);
    assert!(out.stderr.contains("--allow-http"), "{}", out.stderr);
    let out = run(bundle
        .stage("s3://offline-bundles/site-a")
        .args(["--endpoint", "http://127.0.0.1:9"]))
    .expect_code(2);
    assert!(out.stderr.contains("AWS_ACCESS_KEY_ID"), "{}", out.stderr);
    let out = run(bundle
        .stage(&format!("file://{}", dir.path().join("s").display()))
        .args(["--endpoint", "http://127.0.0.1:9"]))
    .expect_code(2);
    assert!(
        out.stderr.contains("only used with an s3://"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------
// A store that is full or read-only: a small tmpfs mounted in a private mount namespace.

/// Runs `script` (sh) in a private mount namespace with `$MNT` a fresh tmpfs of `size` and
/// `$BIN` the binary; returns the run and the files left on the tmpfs. As root plainly
/// (`unshare -m`), else in a user namespace (`unshare -rm`).
fn in_private_tmpfs(size: &str, script: &str) -> (Run, Vec<String>) {
    let mnt = tempfile::tempdir().unwrap();
    let listing = tempfile::NamedTempFile::new().unwrap();
    let root = fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let mut cmd = Command::new("unshare");
    cmd.arg(if root { "-m" } else { "-rm" })
        .args(["--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o size={size},mode=0755 tmpfs \"$MNT\" || exit 99\n\
             {script}\n\
             rc=$?\n\
             (cd \"$MNT\" && find . -type f | sort) > \"$LIST\"\n\
             exit $rc"
        ))
        .env("MNT", mnt.path())
        .env("BIN", BIN)
        .env("LIST", listing.path());
    let out = run(&mut cmd);
    assert_ne!(
        out.code,
        Some(99),
        "cannot mount a tmpfs (needs root or user namespaces): {}",
        out.stderr
    );
    let files = fs::read_to_string(listing.path())
        .unwrap()
        .lines()
        .map(|l| l.trim_start_matches("./").to_owned())
        .collect();
    (out, files)
}

fn sh_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// `"$BIN" stage … --to file://$MNT/store` for `bundle`, as one shell command line.
fn stage_line(bundle: &Bundle) -> String {
    let args = [
        "--envelope".to_owned(),
        bundle.envelope.display().to_string(),
        "--trust".to_owned(),
        bundle.trust.display().to_string(),
        "--now".to_owned(),
        NOW.to_owned(),
        "--operator".to_owned(),
        OPERATOR.to_owned(),
        bundle.archive.display().to_string(),
    ];
    let quoted: Vec<String> = args.iter().map(|a| sh_quote(a)).collect();
    format!(
        "\"$BIN\" stage {} --to \"file://$MNT/store\"",
        quoted.join(" ")
    )
}

#[test]
fn stage_a_full_store_is_an_error_naming_the_object_and_nothing_is_active() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = Bundle::write(&dir.path().join("in"), BUNDLE, 7, &small_files());
    // 256 KiB cannot hold the 300 kB layer.
    let (out, files) = in_private_tmpfs("256k", &stage_line(&bundle));
    let out = out.expect_code(2);
    assert!(
        out.stderr
            .contains(&format!("{BUNDLE}/7/images/layer.bin`: cannot")),
        "the error names the object: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("No space left on device"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.is_empty(),
        "no report: the check could not finish"
    );
    assert!(
        !files
            .iter()
            .any(|f| f.ends_with("receipt.json") || f.ends_with("manifest.json")),
        "nothing active: {files:?}"
    );
    assert!(
        !files.iter().any(|f| f.ends_with("layer.bin")),
        "no half-written layer: {files:?}"
    );
}

#[test]
fn stage_a_read_only_store_is_an_error_naming_it_and_the_active_generation_stays() {
    let dir = tempfile::tempdir().unwrap();
    let six = Bundle::write(&dir.path().join("6"), BUNDLE, 6, &small_files());
    let mut files = small_files();
    files[0].content = b"# generation 7\n".to_vec();
    let seven = Bundle::write(&dir.path().join("7"), BUNDLE, 7, &files);
    // Generation 6 is staged, the store is made read-only, then generation 7 is tried.
    let script = format!(
        "{} > /dev/null || exit 97\nmount -o remount,ro \"$MNT\" || exit 98\n{}",
        stage_line(&six),
        stage_line(&seven)
    );
    let (out, files) = in_private_tmpfs("4m", &script);
    let out = out.expect_code(2);
    assert!(
        out.stderr
            .contains("store/.staging/lock`: cannot lock the store: Read-only file system"),
        "the error names the store's object: {}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    assert!(
        files.contains(&format!("store/{BUNDLE}/6/receipt.json")),
        "{files:?}"
    );
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with(&format!("store/{BUNDLE}/7"))),
        "nothing of generation 7: {files:?}"
    );
}
