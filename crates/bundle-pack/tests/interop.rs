//! Third-party tools read what `bundle-pack` writes: GNU tar, Python's tarfile, gzip,
//! `sha256sum -c` and `b3sum --check` (DESIGN §5, issue 2 §4). Each check has a negative
//! twin showing that the tool really checks something.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Extracts with Python's tarfile (the `data` filter where the Python has it) and prints
/// every member's header fields as JSON.
const PYTHON_EXTRACT: &str = r#"
import json, sys, tarfile
src, dest = sys.argv[1], sys.argv[2]
with tarfile.open(src, "r:gz") as tf:
    members = tf.getmembers()
    if hasattr(tarfile, "data_filter"):
        tf.extractall(dest, filter="data")
    else:
        tf.extractall(dest)
json.dump([{"name": m.name, "uid": m.uid, "gid": m.gid, "uname": m.uname,
            "gname": m.gname, "mode": m.mode, "mtime": m.mtime,
            "type": m.type.decode()} for m in members], sys.stdout)
"#;

struct Packed {
    _tmp: tempfile::TempDir,
    files: Vec<InputFile>,
    out: PathBuf,
    archive: PathBuf,
    root: PathBuf,
}

fn pack_standard_tree() -> Packed {
    let tmp = temp_dir();
    let files = standard_tree();
    let input = mkdir(&tmp.path().join("in"));
    write_tree(&input, &files);
    let out = mkdir(&tmp.path().join("out"));
    let archive = out.join("bundle.tar.gz");
    run(bundle_pack()
        .arg("--input")
        .arg(&input)
        .args(["--bundle-id", "interop", "-q", "-o"])
        .arg(&archive)
        .arg("--sums")
        .arg(out.join("SHA256SUMS"))
        .arg("--b3sums")
        .arg(out.join("B3SUMS"))
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok();
    Packed {
        root: tmp.path().to_owned(),
        _tmp: tmp,
        files,
        out,
        archive,
    }
}

/// Every regular file under `dir`, by `/`-separated relative path.
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let ft = entry.file_type().unwrap();
            if ft.is_dir() {
                walk(base, &path, out);
            } else {
                assert!(ft.is_file(), "{}: extracted a non-file", path.display());
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The extracted tree holds exactly the inputs plus `manifest.json`, byte for byte.
fn assert_extracted_equals_inputs(dir: &Path, files: &[InputFile], extractor: &str) {
    let mut tree = read_tree(dir);
    let manifest = tree
        .remove("manifest.json")
        .unwrap_or_else(|| panic!("{extractor}: no manifest.json extracted"));
    assert!(serde_json::from_slice::<Value>(&manifest).is_ok());
    let expected: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|f| (f.path.clone(), f.bytes.clone()))
        .collect();
    let got: Vec<&String> = tree.keys().collect();
    let want: Vec<&String> = expected.keys().collect();
    assert_eq!(
        got, want,
        "{extractor}: extracted file names differ from the inputs"
    );
    for (path, bytes) in &expected {
        assert!(
            &tree[path] == bytes,
            "{extractor}: `{path}` extracted with other bytes"
        );
    }
}

#[test]
fn gnu_tar_extracts_and_lists_root_owned_sorted_entries_with_the_manifest_first() {
    let p = pack_standard_tree();
    let x = mkdir(&p.root.join("x"));
    let extract = run(command("tar").arg("-xzf").arg(&p.archive).arg("-C").arg(&x)).ok();
    assert!(
        extract.stderr.is_empty(),
        "GNU tar warned:\n{}",
        extract.describe()
    );
    assert_extracted_equals_inputs(&x, &p.files, "GNU tar");

    let listing = run(command("tar")
        .args(["--quoting-style=literal", "-tvzf"])
        .arg(&p.archive)
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC"))
    .ok();
    assert!(
        listing.stderr.is_empty(),
        "GNU tar warned:\n{}",
        listing.describe()
    );
    let mut names = Vec::new();
    for line in listing.stdout_text().lines() {
        // -rw-r--r-- 0/0   1234 2023-11-14 22:13 path with spaces
        let mut rest = line;
        let mut fields = Vec::new();
        for _ in 0..5 {
            rest = rest.trim_start();
            let end = rest.find(' ').expect("tar -tv line has 6 fields");
            fields.push(&rest[..end]);
            rest = &rest[end..];
        }
        let name = &rest[1..];
        assert_eq!(fields[1], "0/0", "owner of `{name}` in `{line}`");
        let exec = p.files.iter().any(|f| f.path == name && f.exec);
        let want_mode = if exec { "-rwxr-xr-x" } else { "-rw-r--r--" };
        assert_eq!(fields[0], want_mode, "mode of `{name}`");
        names.push(name.to_owned());
    }
    let mut expected = vec!["manifest.json".to_owned()];
    expected.extend(sorted_paths(&p.files));
    assert_eq!(
        names, expected,
        "tar -tv: manifest.json first, then sorted by path bytes"
    );
}

#[test]
fn python_tarfile_extracts_the_same_names_and_bytes() {
    let p = pack_standard_tree();
    let x = mkdir(&p.root.join("py"));
    let out = run(command("python3")
        .args(["-c", PYTHON_EXTRACT])
        .arg(&p.archive)
        .arg(&x))
    .ok();
    assert!(out.stderr.is_empty(), "python warned:\n{}", out.describe());
    let members: Vec<Value> = serde_json::from_slice(&out.stdout).expect("python JSON");
    let names: Vec<&str> = members
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    let mut expected = vec!["manifest.json".to_owned()];
    expected.extend(sorted_paths(&p.files));
    assert_eq!(names, expected);
    for m in &members {
        let name = m["name"].as_str().unwrap();
        assert_eq!(m["type"], "0", "{name}: not a regular file");
        assert_eq!(
            (&m["uid"], &m["gid"]),
            (&Value::from(0), &Value::from(0)),
            "{name}"
        );
        assert_eq!(
            (&m["uname"], &m["gname"]),
            (&Value::from(""), &Value::from("")),
            "{name}"
        );
        assert_eq!(m["mtime"], Value::from(EPOCH), "{name}");
        let exec = p.files.iter().any(|f| f.path == name && f.exec);
        assert_eq!(
            m["mode"],
            Value::from(if exec { 0o755 } else { 0o644 }),
            "{name}"
        );
    }
    assert_extracted_equals_inputs(&x, &p.files, "python tarfile");

    // The tar stream the same reader sees in our own decoder agrees.
    let entries = read_archive(&p.archive);
    let ours: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(ours, names);
}

#[test]
fn gzip_t_passes_and_fails_on_a_truncated_archive() {
    let p = pack_standard_tree();
    run(command("gzip").arg("-t").arg(&p.archive)).ok();
    run(command("pigz").arg("-t").arg(&p.archive)).ok();

    let cut = mkdir(&p.root.join("cut"));
    let bytes = fs::read(&p.archive).unwrap();
    for keep in [bytes.len() - 1, bytes.len() - 9, bytes.len() / 2] {
        let truncated = cut.join("bundle.tar.gz");
        fs::write(&truncated, &bytes[..keep]).unwrap();
        let t = run(command("gzip").arg("-t").arg(&truncated));
        assert_ne!(
            t.code,
            Some(0),
            "gzip -t accepted an archive cut to {keep} bytes"
        );
        let x = run(command("tar")
            .arg("-xzf")
            .arg(&truncated)
            .arg("-C")
            .arg(&cut));
        assert_ne!(
            x.code,
            Some(0),
            "tar -xzf accepted an archive cut to {keep} bytes"
        );
    }
}

#[test]
fn sums_files_check_with_sha256sum_and_b3sum_after_extraction() {
    let p = pack_standard_tree();
    let x = mkdir(&p.root.join("x"));
    run(command("tar").arg("-xzf").arg(&p.archive).arg("-C").arg(&x)).ok();
    let sums = p.out.join("SHA256SUMS");
    let b3sums = p.out.join("B3SUMS");

    for (tool, flag, list) in [("sha256sum", "-c", &sums), ("b3sum", "--check", &b3sums)] {
        let ok = run(command(tool).arg(flag).arg(list).current_dir(&x)).ok();
        let checked = ok
            .stdout_text()
            .lines()
            .filter(|l| l.ends_with(": OK"))
            .count();
        assert_eq!(
            checked,
            p.files.len(),
            "{tool}: not every file was checked:\n{}",
            ok.describe()
        );
        assert!(
            !ok.stdout_text().contains("manifest.json"),
            "{tool}: the sums list the manifest, which is not a bundle file"
        );
    }

    // The archive's own checksum, in the output folder as the sidecar names it.
    let sidecar = run(command("sha256sum")
        .args(["-c", "bundle.tar.gz.sha256"])
        .current_dir(&p.out))
    .ok();
    assert_eq!(sidecar.stdout_text(), "bundle.tar.gz: OK\n");

    // Negative: one flipped byte in one extracted file fails both checks, naming it.
    let victim = &p
        .files
        .iter()
        .find(|f| f.path.starts_with("small/") && f.bytes.len() > 100)
        .unwrap()
        .path;
    let victim_path = x.join(victim);
    let mut bytes = fs::read(&victim_path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    fs::write(&victim_path, &bytes).unwrap();
    for (tool, flag, list) in [("sha256sum", "-c", &sums), ("b3sum", "--check", &b3sums)] {
        let bad = run(command(tool).arg(flag).arg(list).current_dir(&x)).code(1);
        assert!(
            bad.stdout_text().contains(&format!("{victim}: FAILED")),
            "{tool} did not name the tampered file:\n{}",
            bad.describe()
        );
    }

    // Negative: a missing file fails too.
    fs::remove_file(&victim_path).unwrap();
    let missing = run(command("sha256sum").arg("-c").arg(&sums).current_dir(&x));
    assert_ne!(
        missing.code,
        Some(0),
        "sha256sum -c passed with a file missing"
    );

    // Negative: the sidecar catches a changed archive.
    let mut archive = fs::read(&p.archive).unwrap();
    let last = archive.len() - 1;
    archive[last] ^= 1;
    fs::write(&p.archive, &archive).unwrap();
    let bad = run(command("sha256sum")
        .args(["-c", "bundle.tar.gz.sha256"])
        .current_dir(&p.out))
    .code(1);
    assert!(bad.stdout_text().contains("bundle.tar.gz: FAILED"));
}

/// Paths at the edges of the ustar `name` (100 bytes) and `prefix` (155 bytes) fields and
/// of the 256-byte limit, multi-byte characters across the cut, read back by GNU tar,
/// Python and the `tar` crate under their full names.
#[test]
fn paths_at_the_ustar_limits_read_back_everywhere() {
    let paths = [
        "a".repeat(99),
        "b".repeat(100),
        "c".repeat(101),
        format!("{}/{}", "d".repeat(155), "e".repeat(100)),
        format!("{}/{}", "f".repeat(156), "g".repeat(99)),
        format!("{}/{}", "h".repeat(154), "i".repeat(101)),
        format!("{}/{}/{}", "j".repeat(50), "k".repeat(50), "l".repeat(100)),
        format!("{}/{}", "m".repeat(200), "n".repeat(56)),
        format!("{}/{}", "o".repeat(200), "p".repeat(57)),
        format!("q/{}", "\u{e9}".repeat(60)),
        format!("{}/{}", "\u{fc}".repeat(60), "\u{e9}".repeat(49)),
        format!("{}/{}.yaml", "\u{4e2d}".repeat(40), "r".repeat(95)),
    ];
    let files: Vec<InputFile> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| InputFile::new(p.clone(), format!("{i}: {p}\n"), i % 2 == 0))
        .collect();
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    write_tree(&input, &files);
    let archive = tmp.path().join("limits.tar.gz");
    run(bundle_pack()
        .arg("--input")
        .arg(&input)
        .args(["--bundle-id", "limits", "-q", "-o"])
        .arg(&archive)
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok();
    let mut expected = vec!["manifest.json".to_owned()];
    expected.extend(sorted_paths(&files));

    let ours: Vec<String> = read_archive(&archive).into_iter().map(|e| e.path).collect();
    assert_eq!(ours, expected, "tar crate");

    let gnu = run(command("tar")
        .args(["--quoting-style=literal", "-tzf"])
        .arg(&archive)
        .env("LC_ALL", "C.UTF-8"))
    .ok();
    assert!(gnu.stderr.is_empty(), "GNU tar warned:\n{}", gnu.describe());
    let gnu: Vec<String> = gnu.stdout_text().lines().map(str::to_owned).collect();
    assert_eq!(gnu, expected, "GNU tar");

    let x = mkdir(&tmp.path().join("py"));
    let py = run(command("python3")
        .args(["-c", PYTHON_EXTRACT])
        .arg(&archive)
        .arg(&x))
    .ok();
    let members: Vec<Value> = serde_json::from_slice(&py.stdout).unwrap();
    let names: Vec<&str> = members
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, expected, "python tarfile");
    assert_extracted_equals_inputs(&x, &files, "python tarfile");
}
