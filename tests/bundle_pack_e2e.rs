//! `bundle-pack` end to end, as `cargo xtask demo` and a release pipeline run it: the
//! example Bootstrap Pack config packed by the built binary, every manifest it writes
//! valid against the published JSON Schema and readable by the shared library, and the
//! archive checked by the system's `tar` and `sha256sum`.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

use e2e_tests::{assert_invalid_at, assert_valid, workspace_root};
use offline_formats::manifest::BundleManifest;
use offline_formats::schema::Document;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MANIFEST_SCHEMA: &str = "bundle-manifest.v1.schema.json";

/// The built `bundle-pack` beside this test's own folder: the test runs from
/// `<target>/debug/deps/`, the binary is `<target>/debug/bundle-pack`.
fn bundle_pack_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test executable");
    let Some(profile_dir) = exe.parent().and_then(Path::parent) else {
        panic!("{}: not inside <target>/<profile>/deps", exe.display());
    };
    let bin = profile_dir.join("bundle-pack");
    assert!(
        bin.is_file(),
        "{}: not found; run `cargo build -p bundle-pack` first (`cargo xtask test` does)",
        bin.display()
    );
    bin
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn the_example_bootstrap_pack_writes_schema_valid_manifests() {
    let bin = bundle_pack_bin();
    let config = workspace_root().join("examples").join("bootstrap.yaml");
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("bootstrap.tar.gz");
    let manifest_file = tmp.path().join("bootstrap.manifest.json");
    let sums = tmp.path().join("SHA256SUMS");
    let packed = run(Command::new(&bin)
        .arg("--config")
        .arg(&config)
        .arg("-o")
        .arg(&archive)
        .arg("-m")
        .arg(&manifest_file)
        .arg("--sums")
        .arg(&sums));
    let stderr = String::from_utf8_lossy(&packed.stderr);
    assert!(
        !stderr.contains("warning"),
        "the example sets createdAt:\n{stderr}"
    );

    // The stdout manifest: valid against the published schema, read by the library.
    let stdout: Value = serde_json::from_slice(&packed.stdout).expect("stdout is JSON");
    assert_valid(MANIFEST_SCHEMA, &stdout);
    let manifest = BundleManifest::from_json_slice(&packed.stdout).expect("library reads it");
    assert!(manifest.archive.is_some());
    assert_eq!(fs::read(&manifest_file).unwrap(), packed.stdout);

    // What the example promises: its id and time, the .bak excluded, the compose file
    // with its configured media type under its prefix, the OCI layout recognised.
    assert_eq!(manifest.bundle_id, "stellaops-bootstrap");
    assert_eq!(manifest.created_at, "2026-11-01T00:00:00Z");
    let media_type = |path: &str| {
        manifest
            .files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.media_type.as_str())
            .unwrap_or_else(|| panic!("`{path}` is not in the bundle"))
    };
    assert_eq!(
        media_type("compose/docker-compose.yaml"),
        "application/vnd.docker.compose+yaml"
    );
    assert_eq!(
        media_type("images/scanner/index.json"),
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(media_type("scripts/verify.sh"), "text/x-shellscript");
    assert!(manifest.files.iter().all(|f| !f.path.ends_with(".bak")));
    let on_disk = walk(&workspace_root().join("examples").join("bootstrap"));
    assert_eq!(
        manifest.files.len(),
        on_disk.len() - 1,
        "every file but the .bak"
    );

    // The embedded manifest, as `inspect` prints it and as GNU tar extracts it.
    let inspected = run(Command::new(&bin).arg("inspect").arg(&archive));
    let extracted = run(Command::new("tar")
        .arg("-xzOf")
        .arg(&archive)
        .arg("manifest.json"));
    assert_eq!(inspected.stdout, extracted.stdout);
    let embedded: Value = serde_json::from_slice(&extracted.stdout).expect("embedded JSON");
    assert_valid(MANIFEST_SCHEMA, &embedded);
    assert!(embedded.get("archive").is_none());
    let embedded_manifest = BundleManifest::from_json_slice(&extracted.stdout).unwrap();
    assert_eq!(embedded_manifest, manifest.without_archive());

    // The validation is real: an unknown member and a bad digest are refused.
    let mut extra = stdout.clone();
    extra["signedBy"] = Value::from("someone");
    assert_invalid_at(MANIFEST_SCHEMA, &extra, "");
    let mut bad_digest = embedded.clone();
    bad_digest["files"][0]["sha256"] = Value::from("ABC");
    assert_invalid_at(MANIFEST_SCHEMA, &bad_digest, "/files/0/sha256");

    // The operator's check: extract, then `sha256sum -c`; and the archive's own sum.
    let x = tmp.path().join("x");
    fs::create_dir(&x).unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&x));
    run(Command::new("sha256sum")
        .arg("-c")
        .arg(&sums)
        .current_dir(&x));
    run(Command::new("sha256sum")
        .args(["-c", "bootstrap.tar.gz.sha256"])
        .current_dir(tmp.path()));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
