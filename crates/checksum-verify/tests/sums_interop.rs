//! `--sums`: files written by the system's `sha256sum` and `b3sum` (GNU lines, `--tag` BSD
//! lines, backslash-escaped names) and by `bundle-pack --sums/--b3sums` are read as those
//! tools read them — and checked more strictly: a file no line lists, a malformed line and a
//! path listed twice are failures.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod support;

use offline_formats::verify_report::FailureKind;
use std::fs;
use std::path::{Path, PathBuf};
use support::*;

/// A folder with awkward names: a space, a backslash, a newline, UTF-8, a subfolder.
fn awkward_folder() -> (tempfile::TempDir, PathBuf, Vec<&'static str>) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    fs::create_dir_all(root.join("sub")).unwrap();
    let names = vec![
        "plain.txt",
        "with space.txt",
        "back\\slash",
        "new\nline",
        "sub/é.yaml",
    ];
    for (i, name) in names.iter().enumerate() {
        fs::write(root.join(name), format!("content {i}\n").repeat(i + 1)).unwrap();
    }
    (dir, root, names)
}

/// Runs a system tool over `names` in `root` and writes its output to `out`.
fn system_sums(tool: &str, package: &str, args: &[&str], root: &Path, names: &[&str], out: &Path) {
    let run = run(command(require_tool(tool, package))
        .args(args)
        .args(names)
        .current_dir(root))
    .ok();
    fs::write(out, run.stdout).unwrap();
}

fn check(sums: &Path, base: Option<&Path>, extra: &[&str]) -> Run {
    let mut cmd = checksum_verify();
    cmd.arg("--sums").arg(sums).args(extra);
    if let Some(base) = base {
        cmd.arg(base);
    }
    run(&mut cmd)
}

#[test]
fn sha256sum_and_b3sum_files_with_escaped_names_are_read() {
    let (dir, root, names) = awkward_folder();
    let gnu = dir.path().join("SHA256SUMS");
    system_sums("sha256sum", "coreutils", &[], &root, &names, &gnu);
    assert!(
        fs::read_to_string(&gnu)
            .unwrap()
            .contains("\\back\\\\slash")
            || fs::read_to_string(&gnu).unwrap().contains("back\\\\slash"),
        "sha256sum escaped the backslash"
    );
    let run = check(&gnu, Some(&root), &["-v"]).ok();
    assert_eq!(run.report().counts.files, 5);
    assert!(run.stderr.contains("new\\nline: OK"), "{}", run.stderr);

    let tagged = dir.path().join("SHA256SUMS.tag");
    system_sums("sha256sum", "coreutils", &["--tag"], &root, &names, &tagged);
    check(&tagged, Some(&root), &[]).ok();

    let binary = dir.path().join("SHA256SUMS.bin");
    system_sums(
        "sha256sum",
        "coreutils",
        &["--binary"],
        &root,
        &names,
        &binary,
    );
    assert!(fs::read_to_string(&binary).unwrap().contains(" *plain.txt"));
    check(&binary, Some(&root), &[]).ok();

    let b3 = dir.path().join("B3SUMS");
    system_sums("b3sum", "b3sum", &[], &root, &names, &b3);
    let run = check(&b3, Some(&root), &[]).ok();
    assert_eq!(run.report().counts.files, 5);
    // The name says BLAKE3; a GNU line does not, so --algo decides for other names.
    let renamed = dir.path().join("checksums.txt");
    fs::copy(&b3, &renamed).unwrap();
    let wrong = check(&renamed, Some(&root), &[]).code(1);
    assert!(wrong
        .failures()
        .iter()
        .all(|f| f.kind == FailureKind::Mismatch));
    check(&renamed, Some(&root), &["--algo", "blake3"]).ok();
}

#[test]
fn tampered_missing_and_unlisted_files_and_malformed_lines_fail() {
    let (dir, root, names) = awkward_folder();
    let sums = dir.path().join("SHA256SUMS");
    system_sums("sha256sum", "coreutils", &[], &root, &names, &sums);
    // Tamper, remove, add.
    fs::write(root.join("plain.txt"), b"changed\n").unwrap();
    fs::remove_file(root.join("sub/é.yaml")).unwrap();
    fs::write(root.join("sub/new.yaml"), b"x\n").unwrap();
    // A malformed line and a path listed twice.
    let mut text = fs::read_to_string(&sums).unwrap();
    let first = text.lines().next().unwrap().to_owned();
    text.push_str("this is not a checksum line\n");
    text.push_str(&first);
    text.push('\n');
    fs::write(&sums, text).unwrap();

    let run = check(&sums, Some(&root), &[]).code(1);
    let mismatch = run.has(FailureKind::Mismatch, "plain.txt");
    assert!(mismatch.actual.unwrap().starts_with("sha256:"));
    run.has(FailureKind::Missing, "sub/é.yaml");
    run.has(FailureKind::Unexpected, "sub/new.yaml");
    let label = sums.display().to_string();
    run.has(FailureKind::Malformed, &format!("{label}:6"));
    let twice = run.has(FailureKind::Malformed, &format!("{label}:7"));
    assert!(twice.actual.unwrap().contains("listed twice"));
    assert_eq!(run.failures().len(), 5, "{}", run.describe());
    // sha256sum -c notices the change and the removal, never the new file.
    let reference = support::run(
        command(require_tool("sha256sum", "coreutils"))
            .args(["-c", "--quiet"])
            .arg(&sums)
            .current_dir(&root),
    );
    assert_eq!(reference.code, Some(1));
    assert!(!reference.stderr.contains("new.yaml"));
}

#[test]
fn unsafe_paths_in_a_sums_file_are_never_opened() {
    let (_dir, root, names) = awkward_folder();
    let sums = root.join("SHA256SUMS");
    system_sums("sha256sum", "coreutils", &[], &root, &names, &sums);
    let mut text = fs::read_to_string(&sums).unwrap();
    text.push_str(&format!("{}  ../outside\n", "0".repeat(64)));
    text.push_str(&format!("{}  /etc/hostname\n", "0".repeat(64)));
    fs::write(&sums, text).unwrap();
    // Without TARGET the sums file's own folder is the base, and the sums file itself is
    // not an unlisted file.
    let run = check(&sums, None, &[]).code(1);
    run.has(FailureKind::UnsafeEntry, "../outside");
    run.has(FailureKind::UnsafeEntry, "/etc/hostname");
    assert_eq!(run.failures().len(), 2, "{}", run.describe());
}

#[test]
fn bundle_pack_sums_files_check_the_extracted_bundle() {
    let b = Bundle::new(1);
    let x = b.extract("x");
    // bundle-pack's SHA256SUMS lists the bundle's files; the extracted manifest.json is the
    // one file beside them it does not list, and a sums file cannot vouch for it.
    check(&b.sums, Some(&x), &["--allow-unlisted"]).ok();
    check(&b.b3sums, Some(&x), &["--allow-unlisted"]).ok();
    let strict = check(&b.sums, Some(&x), &[]).code(1);
    assert_eq!(
        strict.kinds(),
        [(FailureKind::Unexpected, "manifest.json".to_owned())]
    );
    assert_eq!(strict.report().counts.files, 4);
}

#[test]
fn a_sums_file_with_no_usable_line_is_unusable_input() {
    let dir = tempfile::tempdir().unwrap();
    let sums = dir.path().join("SHA256SUMS");
    fs::write(&sums, "garbage\nmore garbage\n").unwrap();
    check(&sums, None, &[])
        .code(2)
        .stderr_has(&["no well-formed line (line 1"]);
    fs::write(&sums, "").unwrap();
    check(&sums, None, &[]).code(2);
    check(Path::new("/nonexistent/SHA256SUMS"), None, &[]).code(2);
    check(&sums, None, &["--algo", "both"]).code(2);
}
