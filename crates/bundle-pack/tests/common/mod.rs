//! Helpers shared by the CLI tests: running the real `bundle-pack` binary, building input
//! trees, and reading archives back without trusting the packer's own code.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use offline_formats::manifest::BundleManifest;
use offline_formats::schema::Document;
use sha2::Digest;
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_bundle-pack");

/// A fixed `SOURCE_DATE_EPOCH` (2023-11-14T22:13:20Z) for runs that should not warn.
pub const EPOCH: u64 = 1_700_000_000;

/// A `bundle-pack` command with an environment that cannot leak into the result: the
/// caller's `SOURCE_DATE_EPOCH` is removed and stdin is empty.
pub fn bundle_pack() -> Command {
    command(BIN)
}

/// Any program, with the same environment hygiene as [`bundle_pack`].
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_remove("SOURCE_DATE_EPOCH").stdin(Stdio::null());
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
        assert_eq!(
            self.code,
            Some(0),
            "{} failed:\n{}",
            self.what,
            self.describe()
        );
        self
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

    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    /// The manifest printed on stdout, read by the shared library's strict reader.
    pub fn manifest(&self) -> BundleManifest {
        BundleManifest::from_json_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not a bundle manifest: {e}\n{}",
                self.what,
                self.describe()
            )
        })
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

/// Runs `cmd` to completion, capturing its output.
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

/// A temporary folder that other users can traverse (tempfile makes them 0700).
pub fn temp_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("bundle-pack-test.")
        .tempdir()
        .expect("temporary folder");
    set_mode(dir.path(), 0o755);
    dir
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// Writes `bytes` to `root/rel`, creating folders, with permission bits `mode`.
pub fn write_file(root: &Path, rel: &str, bytes: &[u8], mode: u32) -> PathBuf {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
    }
    fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    set_mode(&path, mode);
    path
}

pub fn mkdir(path: &Path) -> PathBuf {
    fs::create_dir_all(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.to_owned()
}

/// Deterministic incompressible bytes (xorshift64).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// Deterministic, very compressible YAML-like text.
pub fn yaml_text(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut i = 0u64;
    while out.len() < len {
        out.extend_from_slice(
            format!(
                "- name: scanner-{}\n  image: registry.local/scanner:{}\n",
                i % 97,
                i % 13
            )
            .as_bytes(),
        );
        i += 1;
    }
    out.truncate(len);
    out
}

/// One input file of a test tree.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: String,
    pub bytes: Vec<u8>,
    pub exec: bool,
}

impl InputFile {
    pub fn new(path: impl Into<String>, bytes: impl Into<Vec<u8>>, exec: bool) -> Self {
        Self {
            path: path.into(),
            bytes: bytes.into(),
            exec,
        }
    }
}

/// A tree that exercises the packer: large files spanning several 1 MiB gzip members (two
/// adjacent 9 MiB layers that take lanes of their own, the first with a compressible end
/// so that the second guesses its place wrong, and one text file), many small files in
/// nested folders, an empty file,
/// executables, non-ASCII names, a path longer than 100 bytes that ustar can split, a
/// 150-byte file name it cannot, and a path longer than 256 bytes (both need PAX).
pub fn standard_tree() -> Vec<InputFile> {
    let mut files = vec![
        InputFile::new(
            "images/layer.bin",
            [noise(5 << 20, 42), yaml_text(4 << 20)].concat(),
            false,
        ),
        InputFile::new("images/layer2.bin", noise(9 << 20, 43), false),
        InputFile::new("docs/big.yaml", yaml_text(2 << 20), false),
        InputFile::new("empty.txt", Vec::new(), false),
        InputFile::new(
            "scripts/install.sh",
            b"#!/bin/sh\necho installed\n".to_vec(),
            true,
        ),
        InputFile::new("bin/tool", noise(70_000, 7), true),
        InputFile::new(
            "unicode/caf\u{e9}-\u{fc}ber.yaml",
            b"name: caf\xc3\xa9\n".to_vec(),
            false,
        ),
        InputFile::new("with space/a b.txt", b"spaces\n".to_vec(), false),
    ];
    let ustar_long = format!("long/{}/{}.yaml", "d".repeat(70), "n".repeat(40));
    assert!(ustar_long.len() > 100 && ustar_long.len() < 256);
    files.push(InputFile::new(
        ustar_long,
        b"ustar prefix+name\n".to_vec(),
        false,
    ));
    let long_name = format!("long/{}.txt", "x".repeat(150));
    files.push(InputFile::new(
        long_name,
        b"one long name\n".to_vec(),
        false,
    ));
    let very_long = format!("{}/leaf.yaml", vec!["p".repeat(60); 5].join("/"));
    assert!(very_long.len() > 256);
    files.push(InputFile::new(very_long, b"pax path\n".to_vec(), true));
    for i in 0..240u64 {
        let path = format!("small/{:02}/file-{i:03}.yaml", i % 17);
        let len = ((i * 977) % 3000) as usize;
        let bytes = if i % 3 == 0 {
            noise(len, i)
        } else {
            yaml_text(len)
        };
        files.push(InputFile::new(path, bytes, i % 11 == 0));
    }
    files
}

/// Writes `files` under `root` in the given order with modes 0644/0755.
pub fn write_tree(root: &Path, files: &[InputFile]) {
    for f in files {
        write_file(root, &f.path, &f.bytes, if f.exec { 0o755 } else { 0o644 });
    }
}

/// The files of `files` sorted by path bytes, as the manifest and archive list them.
pub fn sorted_paths(files: &[InputFile]) -> Vec<String> {
    let mut paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    paths.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    paths
}

/// One entry of an archive as an independent reader (the `tar` crate) sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: u8,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub uname: Vec<u8>,
    pub gname: Vec<u8>,
    pub mtime: u64,
    pub data: Vec<u8>,
}

/// Every entry of a `.tar.gz`, decompressed with flate2's multi-member decoder and read
/// with the `tar` crate (which applies PAX records).
pub fn read_archive(path: &Path) -> Vec<Entry> {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    read_archive_bytes(&bytes)
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut tar_bytes = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut tar_bytes)
        .expect("archive decompresses");
    tar_bytes
}

pub fn read_archive_bytes(bytes: &[u8]) -> Vec<Entry> {
    let tar_bytes = gunzip(bytes);
    let mut archive = tar::Archive::new(tar_bytes.as_slice());
    let mut out = Vec::new();
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        let header = entry.header().clone();
        let path = String::from_utf8(entry.path_bytes().into_owned()).expect("UTF-8 entry path");
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("entry data");
        out.push(Entry {
            path,
            kind: header.entry_type().as_byte(),
            mode: header.mode().expect("mode"),
            uid: header.uid().expect("uid"),
            gid: header.gid().expect("gid"),
            uname: header.username_bytes().unwrap_or_default().to_vec(),
            gname: header.groupname_bytes().unwrap_or_default().to_vec(),
            mtime: header.mtime().expect("mtime"),
            data,
        });
    }
    out
}

/// Number of gzip members in `bytes` (each decoded on its own).
pub fn gzip_members(bytes: &[u8]) -> usize {
    let mut rest = bytes;
    let mut count = 0;
    while !rest.is_empty() {
        let mut decoder = flate2::bufread::GzDecoder::new(rest);
        std::io::copy(&mut decoder, &mut std::io::sink()).expect("gzip member");
        rest = decoder.into_inner();
        count += 1;
    }
    count
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

pub fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Names in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Asserts that a run was refused the documented way: exit 2, one `bundle-pack: error:`
/// message naming every needle, and nothing left in `out_dir` that was not there before.
pub fn assert_refused(run: &Run, out_dir: &Path, before: &[String], needles: &[&str]) {
    assert_eq!(
        run.code,
        Some(2),
        "{}: expected exit 2:\n{}",
        run.what,
        run.describe()
    );
    assert!(
        run.stderr.starts_with("bundle-pack: error: "),
        "{}: stderr must start with `bundle-pack: error: `:\n{}",
        run.what,
        run.describe()
    );
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "{}: the error does not name `{needle}`:\n{}",
            run.what,
            run.describe()
        );
    }
    assert!(
        run.stdout.is_empty(),
        "{}: a refusal printed data:\n{}",
        run.what,
        run.describe()
    );
    let after = listing(out_dir);
    let partial: Vec<&String> = after.iter().filter(|n| n.contains(".partial")).collect();
    assert!(
        partial.is_empty(),
        "{}: temporary files left: {partial:?}",
        run.what
    );
    assert_eq!(after, before, "{}: the output folder changed", run.what);
}

/// Effective uid of this process (the owner of `/proc/self`).
pub fn euid() -> u32 {
    fs::metadata("/proc/self").expect("/proc/self").uid()
}

/// Panics unless running as root: CI runs as root, and these tests are never skipped.
pub fn require_root(why: &str) {
    let uid = euid();
    assert_eq!(
        uid, 0,
        "this test must run as root ({why}); it runs as uid {uid}. CI runs the suite as root; \
         run it with sudo or in the CI container rather than skipping it"
    );
}

/// Panics unless `program` can be started (`--version`).
pub fn require_tool(program: &str) {
    let ok = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{program}` is required by this test and is not installed or does not run"
    );
}

/// A copy of the binary in a folder every user can reach: the target folder may sit
/// under a home folder that user nobody cannot enter.
pub fn public_binary(dir: &Path) -> PathBuf {
    let bin_dir = mkdir(&dir.join("bin"));
    let copy = bin_dir.join("bundle-pack");
    fs::copy(BIN, &copy).unwrap_or_else(|e| panic!("copy {BIN}: {e}"));
    set_mode(&copy, 0o755);
    copy
}

/// `setpriv` running `program` as user and group nobody (65534) with no other groups.
pub fn as_nobody(program: &Path) -> Command {
    let mut cmd = command("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(program);
    cmd
}
