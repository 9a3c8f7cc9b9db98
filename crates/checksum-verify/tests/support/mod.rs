//! Helpers shared by the CLI tests: the real `checksum-verify`, `bundle-pack` and
//! `mirror-sign` binaries, bundles and signed envelopes made the way users make them, and a
//! writer of raw (also hostile) tar.gz archives with a manifest that describes them.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers: a failed expectation is a failed test"
)]

use offline_formats::manifest::{self, ArchiveInfo, BundleManifest, FileEntry};
use offline_formats::merkle;
use offline_formats::schema::Document as _;
use offline_formats::verify_report::{Failure, FailureKind, VerifyReport};
use serde_json::Value;
use sha2::Digest as _;
use std::ffi::OsStr;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_checksum-verify");

/// The instant every verification is judged at: inside the keys' windows, before the root
/// expires, two days after [`CREATED_AT`].
pub const NOW: &str = "2026-06-01T00:00:00Z";
/// `createdAt` of the bundles made here.
pub const CREATED_AT: &str = "2026-05-30T00:00:00Z";

/// Another tool of the workspace, built beside the binary under test (`cargo build
/// --workspace --bins`, which the project's test command runs first).
pub fn sibling(name: &str) -> PathBuf {
    let dir = Path::new(BIN).parent().expect("binary folder");
    let bin = dir.join(name);
    assert!(
        bin.is_file(),
        "{}: not found; run `cargo build -p {name}` first (`cargo xtask test` builds every binary)",
        bin.display()
    );
    bin
}

/// A `checksum-verify` command with an environment that cannot leak into the result.
pub fn checksum_verify() -> Command {
    command(BIN)
}

/// Any program with an empty stdin and no `SOURCE_DATE_EPOCH`.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MIRROR_SIGN_AUDIT")
        .env_remove("MIRROR_SIGN_PASSPHRASE")
        .stdin(Stdio::null());
    cmd
}

/// What a finished process left behind.
#[derive(Debug)]
pub struct Run {
    pub what: String,
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    /// Panics unless the process exited 0.
    pub fn ok(self) -> Self {
        self.code(0)
    }

    /// Panics unless the process exited with `code`.
    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "{}: expected exit {code}:\n{}",
            self.what,
            self.describe()
        );
        self
    }

    /// Panics unless stderr contains every needle.
    pub fn stderr_has(self, needles: &[&str]) -> Self {
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "{}: stderr lacks {needle:?}:\n{}",
                self.what,
                self.describe()
            );
        }
        self
    }

    /// The verify report on stdout, read by the shared library's reader.
    pub fn report(&self) -> VerifyReport {
        VerifyReport::from_json_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not a verify report: {e}\n{}",
                self.what,
                self.describe()
            )
        })
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not JSON: {e}\n{}",
                self.what,
                self.describe()
            )
        })
    }

    /// The failures of the report.
    pub fn failures(&self) -> Vec<Failure> {
        self.report().failures
    }

    /// Panics unless the report has a failure of `kind` at `path`; returns it.
    pub fn has(&self, kind: FailureKind, path: &str) -> Failure {
        self.failures()
            .into_iter()
            .find(|f| f.kind == kind && f.path == path)
            .unwrap_or_else(|| {
                panic!(
                    "{}: no {kind:?} failure at `{path}`:\n{}",
                    self.what,
                    self.describe()
                )
            })
    }

    /// The report's failures as `(kind, path)`, in order.
    pub fn kinds(&self) -> Vec<(FailureKind, String)> {
        self.failures()
            .into_iter()
            .map(|f| (f.kind, f.path))
            .collect()
    }

    pub fn describe(&self) -> String {
        format!(
            "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        )
    }
}

/// Runs `cmd` to completion.
pub fn run(cmd: &mut Command) -> Run {
    let what = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    Run {
        what,
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `cmd` with `stdin` as its input.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Run {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    {
        let mut input = child.stdin.take().expect("stdin is piped");
        let _ = input.write_all(stdin);
    }
    let out = child.wait_with_output().expect("wait");
    Run {
        what,
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `checksum-verify --now NOW ARGS…`.
pub fn verify(args: &[&OsStr]) -> Run {
    run(checksum_verify().arg("--now").arg(NOW).args(args))
}

/// Absolute path of a system tool, or a loud failure naming its Debian package.
pub fn require_tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("`{name}` is required by this test and is not on PATH (install it: `apt-get install {package}`)");
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// A bundle made by the real `bundle-pack` from a small source tree.
#[derive(Debug)]
pub struct Bundle {
    pub dir: tempfile::TempDir,
    pub src: PathBuf,
    pub archive: PathBuf,
    pub manifest: PathBuf,
    pub sums: PathBuf,
    pub b3sums: PathBuf,
}

impl Bundle {
    /// A bundle of a few files: text, an executable script, a nested binary blob of 1.5 MiB
    /// (several gzip members), generation `generation`.
    pub fn new(generation: u64) -> Bundle {
        Bundle::with_files(generation, &default_files())
    }

    /// A bundle of `files` (path, content, executable).
    pub fn with_files(generation: u64, files: &[(String, Vec<u8>, bool)]) -> Bundle {
        let dir = tempfile::tempdir().expect("temporary folder");
        let src = dir.path().join("src");
        for (path, content, executable) in files {
            let p = src.join(path);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(&p, content).expect("write source");
            set_mode(&p, if *executable { 0o755 } else { 0o644 });
        }
        let archive = dir.path().join("bundle.tar.gz");
        let manifest = dir.path().join("bundle.manifest.json");
        let sums = dir.path().join("SHA256SUMS");
        let b3sums = dir.path().join("B3SUMS");
        run(command(sibling("bundle-pack"))
            .arg("--input")
            .arg(&src)
            .args(["--bundle-id", "test-bundle", "--kind", "mirror"])
            .args(["--generation", &generation.to_string()])
            .args(["--created-at", CREATED_AT, "--quiet", "-o"])
            .arg(&archive)
            .arg("-m")
            .arg(&manifest)
            .arg("--sums")
            .arg(&sums)
            .arg("--b3sums")
            .arg(&b3sums))
        .ok();
        Bundle {
            dir,
            src,
            archive,
            manifest,
            sums,
            b3sums,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The manifest bundle-pack printed.
    pub fn manifest(&self) -> BundleManifest {
        BundleManifest::from_json_slice(&fs::read(&self.manifest).expect("manifest"))
            .expect("bundle-pack's manifest reads")
    }

    /// Extracts the archive with the system's `tar` into `rel`.
    pub fn extract(&self, rel: &str) -> PathBuf {
        let out = self.path(rel);
        fs::create_dir_all(&out).expect("mkdir");
        run(command(require_tool("tar", "tar"))
            .arg("-xzf")
            .arg(&self.archive)
            .arg("-C")
            .arg(&out))
        .ok();
        out
    }

    /// Writes `manifest` (pretty, as tools write it) to `rel` and returns its path.
    pub fn write_manifest(&self, rel: &str, manifest: &BundleManifest) -> PathBuf {
        let path = self.path(rel);
        fs::write(&path, manifest.to_pretty_json()).expect("write manifest");
        path
    }
}

/// The files of [`Bundle::new`].
pub fn default_files() -> Vec<(String, Vec<u8>, bool)> {
    let mut blob = Vec::with_capacity(1_500_000);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while blob.len() < 1_500_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        blob.extend_from_slice(&x.to_le_bytes());
    }
    vec![
        (
            "charts/app/Chart.yaml".into(),
            b"apiVersion: v2\nname: app\n".to_vec(),
            false,
        ),
        (
            "charts/app/values.yaml".into(),
            "replicas: 1\n".repeat(2000).into_bytes(),
            false,
        ),
        ("images/layer.bin".into(), blob, false),
        (
            "scripts/verify.sh".into(),
            b"#!/bin/sh\nexit 0\n".to_vec(),
            true,
        ),
    ]
}

/// Approvers' keys and a 2-of-3 trust root signed by all three, made with `mirror-sign`.
#[derive(Debug)]
pub struct Keys {
    pub dir: tempfile::TempDir,
    /// The signed trust root envelope.
    pub root: PathBuf,
}

impl Keys {
    /// Keys `alice`, `bob`, `carol` in a 2-of-3 root, and `mallory`, who is not in it.
    pub fn new() -> Keys {
        let dir = tempfile::tempdir().expect("temporary folder");
        let ms = sibling("mirror-sign");
        for id in ["alice", "bob", "carol", "mallory"] {
            run(command(&ms)
                .args(["keygen", "--key-id", id, "--out"])
                .arg(dir.path()))
            .ok();
        }
        let mut init = command(&ms);
        init.args(["trust", "init", "--threshold", "2"]);
        for id in ["alice", "bob", "carol"] {
            init.arg("--key").arg(dir.path().join(format!("{id}.pub")));
        }
        init.args([
            "--expires",
            "2027-01-01T00:00:00Z",
            "--not-before",
            "2026-01-01T00:00:00Z",
            "--not-after",
            "2027-01-01T00:00:00Z",
        ]);
        let unsigned = run(&mut init).ok().stdout;
        let keys = Keys {
            root: dir.path().join("trust.json"),
            dir,
        };
        let signed = keys.sign(&["alice", "bob", "carol"], &unsigned);
        fs::write(&keys.root, signed).expect("write root");
        keys
    }

    pub fn key(&self, id: &str) -> PathBuf {
        self.dir.path().join(format!("{id}.key"))
    }

    /// `mirror-sign sign` by each of `signers` in turn, as approvers chain it.
    pub fn sign(&self, signers: &[&str], input: &[u8]) -> Vec<u8> {
        let ms = sibling("mirror-sign");
        let mut bytes = input.to_vec();
        for id in signers {
            bytes = run_with_stdin(
                command(&ms).arg("sign").arg("--key").arg(self.key(id)),
                &bytes,
            )
            .ok()
            .stdout;
        }
        bytes
    }

    /// Signs the manifest file at `manifest` and writes the envelope to `out`.
    pub fn envelope(&self, signers: &[&str], manifest: &Path, out: &Path) -> PathBuf {
        let bytes = self.sign(signers, &fs::read(manifest).expect("manifest"));
        fs::write(out, bytes).expect("write envelope");
        out.to_owned()
    }
}

// ---------------------------------------------------------------------------------------
// Raw archives: tar headers written byte by byte, so hostile ones can be made.

/// One raw tar entry to write.
#[derive(Debug, Clone)]
pub struct RawEntry {
    pub name: Vec<u8>,
    pub typeflag: u8,
    pub mode: u64,
    pub uid: u64,
    pub gid: u64,
    pub linkname: Vec<u8>,
    pub content: Vec<u8>,
    /// The size written in the header when it differs from the content's.
    pub size_field: Option<u64>,
    /// PAX records written in an `x` header before this entry.
    pub pax: Vec<(String, Vec<u8>)>,
    /// A GNU `L` long name written before this entry.
    pub gnu_long_name: Option<Vec<u8>>,
}

impl RawEntry {
    /// A regular file, mode 0644, owner 0:0.
    pub fn file(name: &str, content: &[u8]) -> RawEntry {
        RawEntry {
            name: name.as_bytes().to_vec(),
            typeflag: b'0',
            mode: 0o644,
            uid: 0,
            gid: 0,
            linkname: Vec::new(),
            content: content.to_vec(),
            size_field: None,
            pax: Vec::new(),
            gnu_long_name: None,
        }
    }

    /// A special entry (link, device, FIFO…) with no content.
    pub fn special(name: &str, typeflag: u8, link: &str) -> RawEntry {
        RawEntry {
            typeflag,
            linkname: link.as_bytes().to_vec(),
            ..RawEntry::file(name, b"")
        }
    }
}

/// A header block with a correct checksum.
pub fn header_block(
    name: &[u8],
    size: u64,
    typeflag: u8,
    mode: u64,
    owner: (u64, u64),
    link: &[u8],
) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    octal(&mut h[100..108], mode);
    octal(&mut h[108..116], owner.0);
    octal(&mut h[116..124], owner.1);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = typeflag;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    fix_checksum(&mut h);
    h
}

/// Recomputes a header block's checksum.
pub fn fix_checksum(h: &mut [u8; 512]) {
    h[148..156].copy_from_slice(b"        ");
    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
    h[148..154].copy_from_slice(format!("{sum:06o}").as_bytes());
    h[154] = 0;
    h[155] = b' ';
}

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    field[..width].copy_from_slice(format!("{value:0width$o}").as_bytes());
    field[width] = 0;
}

/// One PAX record, its length counting itself.
pub fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut out = format!("{len} {key}=").into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

fn pad(out: &mut Vec<u8>) {
    let rem = out.len() % 512;
    if rem != 0 {
        out.resize(out.len() + 512 - rem, 0);
    }
}

/// The tar bytes of `entries`, with the end-of-archive blocks when `end` is set.
pub fn tar_bytes(entries: &[RawEntry], end: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        if !e.pax.is_empty() {
            let records: Vec<u8> = e.pax.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
            out.extend_from_slice(&header_block(
                b"PaxHeaders/x",
                records.len() as u64,
                b'x',
                0o644,
                (0, 0),
                b"",
            ));
            out.extend_from_slice(&records);
            pad(&mut out);
        }
        if let Some(long) = &e.gnu_long_name {
            let mut data = long.clone();
            data.push(0);
            out.extend_from_slice(&header_block(
                b"././@LongLink",
                data.len() as u64,
                b'L',
                0o644,
                (0, 0),
                b"",
            ));
            out.extend_from_slice(&data);
            pad(&mut out);
        }
        out.extend_from_slice(&header_block(
            &e.name,
            e.size_field.unwrap_or(e.content.len() as u64),
            e.typeflag,
            e.mode,
            (e.uid, e.gid),
            &e.linkname,
        ));
        out.extend_from_slice(&e.content);
        pad(&mut out);
    }
    if end {
        out.extend_from_slice(&[0u8; 1024]);
    }
    out
}

/// gzip of `data` as one member.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// A manifest entry for `content`.
pub fn file_entry(path: &str, content: &[u8], mode: &str) -> FileEntry {
    FileEntry {
        path: path.to_owned(),
        size: content.len() as u64,
        sha256: hex::encode(sha2::Sha256::digest(content)),
        blake3: blake3::hash(content).to_hex().to_string(),
        mode: mode.to_owned(),
        media_type: "application/octet-stream".to_owned(),
    }
}

/// A manifest listing `files`, with a correct Merkle root and no `archive` member.
pub fn manifest_of(files: Vec<FileEntry>) -> BundleManifest {
    let leaves: Vec<merkle::Hash> = files
        .iter()
        .map(|f| merkle::manifest_leaf(&f.path, &f.sha256, f.size))
        .collect();
    BundleManifest {
        schema: manifest::SCHEMA.to_owned(),
        bundle_id: "raw-bundle".to_owned(),
        kind: "mirror".to_owned(),
        mirror_generation: 1,
        created_at: CREATED_AT.to_owned(),
        producer: "checksum-verify tests".to_owned(),
        merkle_root: format!("sha256:{}", hex::encode(merkle::root(&leaves))),
        files,
        archive: None,
    }
}

/// `manifest` with an `archive` member describing `archive` exactly.
pub fn with_archive(manifest: &BundleManifest, archive: &[u8]) -> BundleManifest {
    BundleManifest {
        archive: Some(ArchiveInfo {
            name: "raw.tar.gz".to_owned(),
            size: archive.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(archive)),
            blake3: blake3::hash(archive).to_hex().to_string(),
            compression: "gzip".to_owned(),
        }),
        ..manifest.clone()
    }
}

/// The `manifest.json` entry a bundle of `manifest` starts with.
pub fn embedded_entry(manifest: &BundleManifest) -> RawEntry {
    RawEntry::file(
        manifest::ENTRY_NAME,
        &manifest.without_archive().to_pretty_json(),
    )
}

/// A raw archive in a temporary folder, with the manifest that describes it.
#[derive(Debug)]
pub struct RawBundle {
    pub dir: tempfile::TempDir,
    pub archive: PathBuf,
    pub manifest: PathBuf,
}

impl RawBundle {
    /// Writes `archive` and a manifest of `listed` whose `archive` member matches it.
    pub fn new(listed: &BundleManifest, archive: &[u8]) -> RawBundle {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("raw.tar.gz");
        fs::write(&path, archive).expect("write archive");
        let manifest = dir.path().join("manifest.json");
        fs::write(&manifest, with_archive(listed, archive).to_pretty_json()).expect("manifest");
        RawBundle {
            dir,
            archive: path,
            manifest,
        }
    }

    /// `checksum-verify --manifest manifest.json raw.tar.gz` plus `extra`, run in the
    /// bundle's folder so the report names the archive `raw.tar.gz`.
    pub fn verify(&self, extra: &[&str]) -> Run {
        run(checksum_verify()
            .current_dir(self.dir.path())
            .args(["--now", NOW, "--manifest", "manifest.json"])
            .args(extra)
            .arg("raw.tar.gz"))
    }
}

/// The usual good content of a raw bundle: two listed files.
pub fn good_files() -> (Vec<RawEntry>, BundleManifest) {
    let a = b"alpha\n".to_vec();
    let b = b"beta\n".repeat(300);
    let manifest = manifest_of(vec![
        file_entry("a.txt", &a, "0644"),
        file_entry("dir/b.txt", &b, "0644"),
    ]);
    let entries = vec![
        embedded_entry(&manifest),
        RawEntry::file("a.txt", &a),
        RawEntry::file("dir/b.txt", &b),
    ];
    (entries, manifest)
}
