//! Helpers shared by the CLI tests: running the real `mirror-sign` binary, key files, manifests
//! and signed trust roots made the way users make them.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers: a failed expectation is a failed test"
)]

use ed25519_dalek::{Signer as _, SigningKey};
use offline_formats::envelope::{Envelope, Signature};
use offline_formats::keys::encode_public_key_pem;
use offline_formats::manifest::{self, ArchiveInfo, BundleManifest, FileEntry};
use offline_formats::threshold::{encode_signature, ThresholdReport};
use offline_formats::trust::{self, TrustKey, TrustRoot};
use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mirror-sign");

/// The instant every verification in the tests is judged at.
pub const NOW: &str = "2026-06-01T00:00:00Z";

/// A `mirror-sign` command whose environment cannot leak into the result.
pub fn mirror_sign() -> Command {
    command(BIN)
}

/// Any program, with the same environment hygiene.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_remove("MIRROR_SIGN_PASSPHRASE")
        .env_remove("MIRROR_SIGN_AUDIT")
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

    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
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

    pub fn envelope(&self) -> Envelope {
        Envelope::from_json_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not an envelope: {e}\n{}",
                self.what,
                self.describe()
            )
        })
    }

    pub fn report(&self) -> ThresholdReport {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not a threshold report: {e}\n{}",
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

/// Runs `cmd` to completion with `stdin` as its input.
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
        // The tool may refuse before reading; a closed pipe is then expected.
        let _ = input.write_all(stdin);
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    Run {
        what,
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `cmd` to completion with an empty stdin.
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

pub fn mode_of(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// A deterministic signing key.
pub fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A bundle manifest as `bundle-pack` prints it, told apart by `bundle_id`.
pub fn manifest(bundle_id: &str) -> BundleManifest {
    let file = |path: &str, sha: char, size: u64| FileEntry {
        path: path.to_owned(),
        size,
        sha256: std::iter::repeat_n(sha, 64).collect(),
        blake3: std::iter::repeat_n('b', 64).collect(),
        mode: "0644".to_owned(),
        media_type: "application/yaml".to_owned(),
    };
    BundleManifest {
        schema: manifest::SCHEMA.to_owned(),
        bundle_id: bundle_id.to_owned(),
        kind: "bootstrap".to_owned(),
        mirror_generation: 7,
        created_at: "2026-05-30T12:00:00Z".to_owned(),
        producer: "bundle-pack/0.1.0".to_owned(),
        files: vec![
            file("charts/stellaops/Chart.yaml", 'a', 48),
            file("compose/docker-compose.yaml", 'c', 73),
        ],
        merkle_root: format!("sha256:{}", "d".repeat(64)),
        archive: Some(ArchiveInfo {
            name: "bootstrap.tar.gz".to_owned(),
            size: 4096,
            sha256: "e".repeat(64),
            blake3: "f".repeat(64),
            compression: "gzip".to_owned(),
        }),
    }
}

/// A key of a trust root, valid through 2026.
pub fn trust_key(keyid: &str, public_pem: &str) -> TrustKey {
    TrustKey {
        keyid: keyid.to_owned(),
        public_key: public_pem.to_owned(),
        owner: format!("{keyid}@release.example"),
        not_before: "2026-01-01T00:00:00Z".to_owned(),
        not_after: "2027-01-01T00:00:00Z".to_owned(),
        revoked: false,
    }
}

/// A trust root document.
pub fn trust_root(threshold: u32, keys: Vec<TrustKey>) -> TrustRoot {
    TrustRoot {
        schema: trust::SCHEMA.to_owned(),
        version: 1,
        expires: "2026-12-31T00:00:00Z".to_owned(),
        threshold,
        keys,
    }
}

/// Pretty JSON of any document, as the tools write it.
pub fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    offline_formats::jcs::to_pretty_vec(value).expect("serializes")
}

/// Signs an envelope in-process (for envelopes the CLI would refuse to make).
pub fn raw_signature(seed: u8, keyid: &str, envelope: &Envelope) -> Signature {
    let signed = envelope.signed_bytes().expect("payload decodes");
    Signature {
        keyid: keyid.to_owned(),
        sig: encode_signature(&signing_key(seed).sign(&signed)),
    }
}

/// A temporary folder with key files, manifests and trust roots.
#[derive(Debug)]
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("mirror-sign-test.")
            .tempdir()
            .expect("temporary folder");
        Self { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(rel);
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        let path = self.path(rel);
        fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Makes `name.key` and `name.pub` with `mirror-sign keygen`; returns the private key path.
    pub fn keygen(&self, name: &str) -> PathBuf {
        run(mirror_sign()
            .args(["keygen", "--key-id", name, "--out"])
            .arg(self.dir()))
        .ok();
        self.path(&format!("{name}.key"))
    }

    /// Writes a deterministic key pair `name.key` (0600) and `name.pub` from `seed`.
    pub fn seeded_key(&self, name: &str, seed: u8) -> PathBuf {
        let key = signing_key(seed);
        let pem = mirror_sign::keys::encode_private_key_pem(&key, None).expect("encodes");
        let path = self.write(&format!("{name}.key"), pem.as_bytes());
        set_mode(&path, 0o600);
        self.write(
            &format!("{name}.pub"),
            encode_public_key_pem(&key.verifying_key()).as_bytes(),
        );
        path
    }

    /// The PEM public key written beside `name.key`.
    pub fn public_pem(&self, name: &str) -> String {
        String::from_utf8(self.read(&format!("{name}.pub"))).expect("PEM is text")
    }

    /// `mirror-sign sign --key name.key` over `input`; returns stdout.
    pub fn sign(&self, name: &str, input: &[u8]) -> Vec<u8> {
        run_with_stdin(
            mirror_sign()
                .arg("sign")
                .arg("--key")
                .arg(self.path(&format!("{name}.key"))),
            input,
        )
        .ok()
        .stdout
    }

    /// Signs `input` with each key in turn, as approvers chain `sign`.
    pub fn sign_all(&self, names: &[&str], input: &[u8]) -> Vec<u8> {
        names
            .iter()
            .fold(input.to_vec(), |doc, name| self.sign(name, &doc))
    }

    /// Writes the trust root, signed with `signers` through the CLI, as `rel`.
    pub fn signed_root(&self, rel: &str, root: &TrustRoot, signers: &[&str]) -> PathBuf {
        let envelope = self.sign_all(signers, &to_json(root));
        self.write(rel, &envelope)
    }

    /// A 2-of-3 root of `alice`, `bob` and `carol` (keys made here from seeds 1, 2 and 3),
    /// signed by all three, at `root.json`.
    pub fn standard_root(&self) -> PathBuf {
        for (name, seed) in [("alice", 1), ("bob", 2), ("carol", 3)] {
            self.seeded_key(name, seed);
        }
        let root = trust_root(
            2,
            ["alice", "bob", "carol"]
                .iter()
                .map(|n| trust_key(n, &self.public_pem(n)))
                .collect(),
        );
        self.signed_root("root.json", &root, &["alice", "bob", "carol"])
    }

    /// `mirror-sign verify --trust ROOT --now NOW` with `envelope` on stdin.
    pub fn verify(&self, root: &Path, envelope: &[u8], extra: &[&str]) -> Run {
        run_with_stdin(
            mirror_sign()
                .arg("verify")
                .arg("--trust")
                .arg(root)
                .args(["--now", NOW])
                .args(extra),
            envelope,
        )
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}
