//! The hash-chained audit log through the library API: concurrent appends from threads and
//! from processes keep one intact chain, and every kind of tampering is found and named.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

use mirror_sign::audit::{
    action, append, verify, verify_with_checkpoint, AuditEntryInput, AuditError, AuditProblem,
    ProblemKind, START_PREV,
};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "MIRROR_SIGN_AUDIT_TEST_CHILD";
const WORKERS: usize = 8;
const PER_WORKER: usize = 50;

fn digest(n: usize) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(n.to_be_bytes())))
}

fn event(actor: &str, n: usize) -> AuditEntryInput {
    AuditEntryInput {
        time: Some("2026-11-01T10:00:00Z".to_owned()),
        actor: Some(actor.to_owned()),
        action: [action::SIGN, action::APPROVE, action::VERIFY][n % 3].to_owned(),
        payload_digest: digest(n),
        keyid: n.is_multiple_of(2).then(|| format!("{actor}-key")),
        result: "ok".to_owned(),
    }
}

/// A log of `n` lines in a fresh folder.
fn log_with(n: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    for i in 0..n {
        append(&path, event("alice", i)).expect("append");
    }
    (dir, path)
}

fn read_lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .expect("read log")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(path, text).expect("write log");
}

/// The problems `verify` reports; panics when it reports none.
fn problems(path: &Path) -> (Vec<AuditProblem>, String) {
    match verify(path) {
        Err(err @ AuditError::Tampered { .. }) => {
            let message = err.to_string();
            let AuditError::Tampered { problems, .. } = err else {
                unreachable!()
            };
            (problems, message)
        }
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

fn count_actors(path: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for line in read_lines(path) {
        let value: serde_json::Value = serde_json::from_str(&line).expect("json line");
        let actor = value["actor"].as_str().expect("actor").to_owned();
        *counts.entry(actor).or_insert(0) += 1;
    }
    counts
}

#[test]
fn lines_are_sorted_compact_json_chained_from_the_empty_string() {
    let (_dir, path) = log_with(3);
    let lines = read_lines(&path);
    assert_eq!(lines.len(), 3);
    assert!(fs::read(&path).expect("read").ends_with(b"\n"));
    let first: serde_json::Value = serde_json::from_str(&lines[0]).expect("json");
    assert_eq!(first["prev"], START_PREV);
    assert_eq!(
        START_PREV,
        format!("sha256:{}", hex::encode(Sha256::digest(b"")))
    );
    for pair in lines.windows(2) {
        let next: serde_json::Value = serde_json::from_str(&pair[1]).expect("json");
        assert_eq!(
            next["prev"],
            format!("sha256:{}", hex::encode(Sha256::digest(pair[0].as_bytes())))
        );
    }
    assert!(lines[0].starts_with(
        r#"{"action":"sign","actor":"alice","keyid":"alice-key","payloadDigest":"sha256:"#
    ));
    assert!(!lines[0].contains(": ") && !lines[0].contains(", "));
    assert!(!lines[1].contains("keyid"), "keyid is omitted when absent");
    let summary = verify(&path).expect("intact");
    assert_eq!(summary.lines, 3);
    assert_eq!(
        summary.head,
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(lines[2].as_bytes()))
        )
    );
    assert_eq!(summary.first_time.as_deref(), Some("2026-11-01T10:00:00Z"));
}

#[cfg(unix)]
#[test]
fn a_new_log_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_dir, path) = log_with(1);
    let mode = fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

#[test]
fn an_empty_log_is_intact() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    fs::write(&path, b"").expect("write");
    let summary = verify(&path).expect("intact");
    assert_eq!(summary.lines, 0);
    assert_eq!(summary.head, START_PREV);
    assert_eq!(
        verify_with_checkpoint(&path, START_PREV)
            .expect("start")
            .checkpoint_line,
        Some(0)
    );
}

#[test]
fn concurrent_threads_keep_one_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    std::thread::scope(|scope| {
        for worker in 0..WORKERS {
            let path = &path;
            scope.spawn(move || {
                for i in 0..PER_WORKER {
                    append(path, event(&format!("thread-{worker}"), i)).expect("append");
                }
            });
        }
    });
    let summary = verify(&path).expect("the chain is intact");
    assert_eq!(summary.lines, (WORKERS * PER_WORKER) as u64);
    let counts = count_actors(&path);
    assert_eq!(counts.len(), WORKERS);
    assert!(counts.values().all(|&n| n == PER_WORKER), "{counts:?}");
}

#[test]
fn concurrent_processes_keep_one_chain() {
    // Run as one of the appending processes when started by this same test.
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let (path, worker) = spec.rsplit_once('|').expect("child spec");
        for i in 0..PER_WORKER {
            append(Path::new(path), event(&format!("process-{worker}"), i)).expect("append");
        }
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..WORKERS)
        .map(|worker| {
            Command::new(&exe)
                .args([
                    "concurrent_processes_keep_one_chain",
                    "--exact",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, format!("{}|{worker}", path.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start an appending process")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "an appending process failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let summary = verify(&path).expect("the chain is intact");
    assert_eq!(summary.lines, (WORKERS * PER_WORKER) as u64);
    let counts = count_actors(&path);
    assert_eq!(counts.len(), WORKERS, "{counts:?}");
    assert!(counts.values().all(|&n| n == PER_WORKER), "{counts:?}");
}

#[test]
fn an_edited_line_is_named() {
    let (_dir, path) = log_with(10);
    let mut lines = read_lines(&path);
    assert!(lines[3].contains(r#""result":"ok""#));
    lines[3] = lines[3].replace(r#""result":"ok""#, r#""result":"refused""#);
    write_lines(&path, &lines);
    let (problems, message) = problems(&path);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 5);
    assert!(matches!(
        problems[0].kind,
        ProblemKind::PrevMismatch {
            matches_line: None,
            ..
        }
    ));
    assert!(message.contains("line 4 was edited"), "{message}");
}

#[test]
fn a_hand_edited_line_is_named_itself() {
    let (_dir, path) = log_with(10);
    let mut lines = read_lines(&path);
    lines[3] = lines[3].replacen(':', ": ", 1);
    write_lines(&path, &lines);
    let (problems, message) = problems(&path);
    assert_eq!(problems[0].line, 4);
    assert_eq!(problems[0].kind, ProblemKind::NotCanonical);
    assert_eq!(problems[1].line, 5);
    assert!(
        message.contains("line 4: not in the canonical form"),
        "{message}"
    );
}

#[test]
fn a_garbage_line_is_named() {
    let (_dir, path) = log_with(5);
    let mut lines = read_lines(&path);
    lines[2] = "{\"not\": \"an entry\"".to_owned();
    write_lines(&path, &lines);
    let (problems, message) = problems(&path);
    assert_eq!(problems[0].line, 3);
    assert!(matches!(problems[0].kind, ProblemKind::Malformed { .. }));
    assert!(message.contains("line 3: not an audit entry"), "{message}");
}

#[test]
fn a_deleted_line_is_named() {
    let (_dir, path) = log_with(10);
    let mut lines = read_lines(&path);
    lines.remove(4);
    write_lines(&path, &lines);
    let (problems, message) = problems(&path);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 5);
    assert!(
        message.contains("lines between 4 and 5 were deleted"),
        "{message}"
    );
}

#[test]
fn a_deleted_first_line_is_named() {
    let (_dir, path) = log_with(4);
    let mut lines = read_lines(&path);
    lines.remove(0);
    write_lines(&path, &lines);
    let (problems, message) = problems(&path);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 1);
    assert!(message.contains("deleted from the start"), "{message}");
}

#[test]
fn an_inserted_line_is_named() {
    // The forger even chains the new line correctly to the one before it.
    let (_dir, path) = log_with(10);
    let mut lines = read_lines(&path);
    let scratch = tempfile::tempdir().expect("temp dir");
    let forged_log = scratch.path().join("forged.jsonl");
    write_lines(&forged_log, &lines[..3]);
    append(&forged_log, event("mallory", 99)).expect("append");
    let forged = read_lines(&forged_log).pop().expect("forged line");
    lines.insert(3, forged);
    write_lines(&path, &lines);
    let (problems, message) = problems(&path);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 5);
    assert!(matches!(
        problems[0].kind,
        ProblemKind::PrevMismatch {
            matches_line: Some(3),
            ..
        }
    ));
    assert!(
        message.contains("line 4 was inserted or moved here"),
        "{message}"
    );
}

#[test]
fn a_duplicated_line_is_named() {
    let (_dir, path) = log_with(6);
    let mut lines = read_lines(&path);
    lines.insert(3, lines[2].clone());
    write_lines(&path, &lines);
    let (problems, _) = problems(&path);
    assert_eq!(problems[0].line, 4);
    assert!(matches!(
        problems[0].kind,
        ProblemKind::PrevMismatch {
            matches_line: Some(2),
            ..
        }
    ));
}

#[test]
fn reordered_lines_are_named() {
    let (_dir, path) = log_with(10);
    let mut lines = read_lines(&path);
    lines.swap(5, 6);
    write_lines(&path, &lines);
    let (problems, message) = problems(&path);
    assert_eq!(problems[0].line, 6);
    assert!(matches!(
        problems[0].kind,
        ProblemKind::PrevMismatch {
            matches_line: Some(7),
            ..
        }
    ));
    assert!(
        message
            .contains("line 6: `prev` matches line 7, which comes after it: lines were reordered"),
        "{message}"
    );
    assert!(
        problems.iter().all(|p| (6..=8).contains(&p.line)),
        "{problems:?}"
    );
}

#[test]
fn a_truncated_last_line_is_named_and_blocks_appends() {
    let (_dir, path) = log_with(5);
    let bytes = fs::read(&path).expect("read");
    fs::write(&path, &bytes[..bytes.len() - 30]).expect("truncate");
    let (problems, message) = problems(&path);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 5);
    assert_eq!(problems[0].kind, ProblemKind::Truncated);
    assert!(
        message.contains("line 5: no newline at the end"),
        "{message}"
    );

    let err = append(&path, event("alice", 9)).expect_err("refuses to append");
    assert!(matches!(err, AuditError::Damaged { .. }), "{err}");
    assert_eq!(
        fs::read(&path).expect("read"),
        &bytes[..bytes.len() - 30],
        "nothing was written"
    );
}

#[test]
fn a_checkpoint_protects_the_end_of_the_log() {
    let (_dir, path) = log_with(10);
    let recorded = verify(&path).expect("intact").head;
    append(&path, event("bob", 10)).expect("append");
    let summary = verify_with_checkpoint(&path, &recorded).expect("intact since the checkpoint");
    assert_eq!(summary.checkpoint_line, Some(10));
    assert_eq!(summary.lines, 11);

    // Editing the last line recorded breaks only the `prev` after it...
    let mut lines = read_lines(&path);
    let original = lines.clone();
    lines[9] = lines[9].replace(r#""result":"ok""#, r#""result":"refused""#);
    write_lines(&path, &lines);
    let (problems, _) = problems(&path);
    assert_eq!(problems[0].line, 11);

    // ...and when the lines after it go too, only the checkpoint notices.
    lines.truncate(10);
    write_lines(&path, &lines);
    verify(&path).expect("the chain alone cannot see a changed last line");
    let err = verify_with_checkpoint(&path, &recorded).expect_err("the checkpoint can");
    assert!(
        matches!(err, AuditError::CheckpointNotFound { .. }),
        "{err}"
    );

    // Cutting the log before the checkpoint is found too.
    write_lines(&path, &original[..8]);
    verify(&path).expect("a shorter chain is still a chain");
    assert!(matches!(
        verify_with_checkpoint(&path, &recorded),
        Err(AuditError::CheckpointNotFound { .. })
    ));
    assert!(matches!(
        verify_with_checkpoint(&path, "sha256:nothex"),
        Err(AuditError::InvalidField { .. })
    ));
}

#[test]
fn a_missing_log_is_an_io_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = verify(&dir.path().join("none.jsonl")).expect_err("missing");
    assert!(matches!(err, AuditError::Io { .. }), "{err}");
}
