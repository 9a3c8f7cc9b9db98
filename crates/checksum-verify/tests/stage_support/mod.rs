//! Helpers of the `stage` tests: bundles made the way `bundle-pack` makes them (and tampered
//! ones), signed envelopes and trust roots, the real binary, a single-node Garage server on
//! loopback started and stopped by the test, and an S3 client to read back what was staged.
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
use offline_formats::digest::{digest_reader, sha256, sha256_prefixed};
use offline_formats::envelope::{Envelope, Signature};
use offline_formats::keys::encode_public_key_pem;
use offline_formats::manifest::{self, ArchiveInfo, BundleManifest, FileEntry};
use offline_formats::merkle;
use offline_formats::threshold::encode_signature;
use offline_formats::trust::{self, TrustKey, TrustRoot};
use serde_json::Value;
use std::fs;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_checksum-verify");

/// The instant every run is judged at (and the receipts' time).
pub const NOW: &str = "2026-06-01T00:00:00Z";

/// The operator every run names.
pub const OPERATOR: &str = "olivia@site-a";

/// `checksum-verify` with an environment that cannot leak into the result: no AWS settings
/// and no proxies unless the test sets them.
pub fn checksum_verify() -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT",
        "AWS_ENDPOINT_URL",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// What a finished run left.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics unless the run exited with `code`, showing what it printed.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        );
        self
    }

    /// The JSON document on stdout.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                String::from_utf8_lossy(&self.stdout),
                self.stderr
            )
        })
    }
}

pub fn run(cmd: &mut Command) -> Run {
    Run::from_output(cmd.output().expect("start checksum-verify"))
}

/// The kinds of every failure of a report.
pub fn failure_kinds(report: &Value) -> Vec<String> {
    report["failures"]
        .as_array()
        .map(|failures| {
            failures
                .iter()
                .map(|f| f["kind"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A deterministic Ed25519 key.
pub fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// Deterministic incompressible bytes (xorshift), so that a big entry really is big in the
/// archive too.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One file of a bundle.
#[derive(Debug, Clone)]
pub struct BundleFile {
    pub path: String,
    pub content: Vec<u8>,
    pub mode: &'static str,
}

pub fn file(path: &str, content: &[u8]) -> BundleFile {
    BundleFile {
        path: path.to_owned(),
        content: content.to_vec(),
        mode: "0644",
    }
}

/// The small bundle most tests stage: charts, a script, a blob, a name with a space.
pub fn small_files() -> Vec<BundleFile> {
    let mut script = file("scripts/verify.sh", b"#!/bin/sh\nexit 0\n");
    script.mode = "0755";
    vec![
        file("README.md", b"# bootstrap pack\n"),
        file("charts/app/Chart.yaml", b"name: app\nversion: 1.2.3\n"),
        file("charts/app/values.yaml", b"replicas: 2\n"),
        file("config/site name.yaml", b"site: a\n"),
        file("images/layer.bin", &noise(300_000, 1)),
        script,
    ]
}

/// A bundle on disk: the archive, its outer manifest, a 2-of-3 signed envelope and the trust
/// root that checks it.
#[derive(Debug)]
pub struct Bundle {
    pub archive: PathBuf,
    pub manifest_path: PathBuf,
    pub envelope: PathBuf,
    pub trust: PathBuf,
    pub manifest: BundleManifest,
    pub files: Vec<BundleFile>,
}

impl Bundle {
    /// Writes `files` as bundle `bundle_id`, generation `generation`, into `dir`.
    pub fn write(dir: &Path, bundle_id: &str, generation: u64, files: &[BundleFile]) -> Self {
        Self::write_with(dir, bundle_id, generation, files, |_| {})
    }

    /// Like [`Bundle::write`], but `tamper` may change the tar bytes after the manifest was
    /// made from the real content (and before gzip), as an attacker on the media would.
    pub fn write_with(
        dir: &Path,
        bundle_id: &str,
        generation: u64,
        files: &[BundleFile],
        tamper: impl FnOnce(&mut Vec<u8>),
    ) -> Self {
        fs::create_dir_all(dir).unwrap();
        let mut files = files.to_vec();
        files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        let entries: Vec<FileEntry> = files
            .iter()
            .map(|f| {
                let d = digest_reader(&f.content[..]).unwrap();
                FileEntry {
                    path: f.path.clone(),
                    size: d.size,
                    sha256: d.sha256_hex(),
                    blake3: d.blake3_hex(),
                    mode: f.mode.to_owned(),
                    media_type: media_type(&f.path).to_owned(),
                }
            })
            .collect();
        let leaves: Vec<merkle::Hash> = entries
            .iter()
            .map(|e| merkle::manifest_leaf(&e.path, &e.sha256, e.size))
            .collect();
        let mut manifest = BundleManifest {
            schema: manifest::SCHEMA.to_owned(),
            bundle_id: bundle_id.to_owned(),
            kind: "bootstrap".to_owned(),
            mirror_generation: generation,
            created_at: "2026-05-31T12:00:00Z".to_owned(),
            producer: "bundle-pack/0.1.0".to_owned(),
            files: entries,
            merkle_root: sha256_prefixed(&merkle::root(&leaves)),
            archive: None,
        };
        let mut tar = tar_bytes(&manifest.to_pretty_json(), &files);
        let gz = gzip(&tar);
        let d = digest_reader(&gz[..]).unwrap();
        let name = format!("{bundle_id}-{generation}.tar.gz");
        let archive = dir.join(&name);
        // A tampered archive keeps the manifest of the real one: the hashes of what was packed.
        tamper(&mut tar);
        fs::write(&archive, gzip(&tar)).unwrap();
        manifest.archive = Some(ArchiveInfo {
            name,
            size: d.size,
            sha256: d.sha256_hex(),
            blake3: d.blake3_hex(),
            compression: "gzip".to_owned(),
        });
        let manifest_path = dir.join(format!("{bundle_id}-{generation}.manifest.json"));
        fs::write(&manifest_path, manifest.to_pretty_json()).unwrap();
        let keys: Vec<(String, SigningKey)> = ["alice", "bob", "carol"]
            .iter()
            .zip([11u8, 12, 13])
            .map(|(name, seed)| ((*name).to_owned(), signing_key(seed)))
            .collect();
        let envelope = sign(
            manifest::PAYLOAD_TYPE,
            &manifest.to_canonical_json().unwrap(),
            &keys[..2],
        );
        let envelope_path = dir.join(format!("{bundle_id}-{generation}.dsse.json"));
        fs::write(&envelope_path, to_json(&envelope)).unwrap();
        let root = TrustRoot {
            schema: trust::SCHEMA.to_owned(),
            version: 1,
            expires: "2027-01-01T00:00:00Z".to_owned(),
            threshold: 2,
            keys: keys
                .iter()
                .map(|(name, key)| TrustKey {
                    keyid: name.clone(),
                    public_key: encode_public_key_pem(&key.verifying_key()),
                    owner: format!("{name}@release.example"),
                    not_before: "2026-01-01T00:00:00Z".to_owned(),
                    not_after: "2027-01-01T00:00:00Z".to_owned(),
                    revoked: false,
                })
                .collect(),
        };
        let root_envelope = sign(
            trust::PAYLOAD_TYPE,
            &offline_formats::jcs::to_canonical_vec(&root).unwrap(),
            &keys,
        );
        let trust_path = dir.join("trust.json");
        fs::write(&trust_path, to_json(&root_envelope)).unwrap();
        Self {
            archive,
            manifest_path,
            envelope: envelope_path,
            trust: trust_path,
            manifest,
            files,
        }
    }

    /// `sha256:` of the outer manifest's canonical JSON, as a receipt binds it.
    pub fn manifest_digest(&self) -> String {
        sha256_prefixed(&sha256(&self.manifest.to_canonical_json().unwrap()))
    }

    /// `checksum-verify stage` of this bundle (signed envelope and trust root) into `to`.
    pub fn stage(&self, to: &str) -> Command {
        self.stage_at(to, NOW)
    }

    /// Like [`Bundle::stage`], judged (and receipted) at `now`.
    pub fn stage_at(&self, to: &str, now: &str) -> Command {
        let mut cmd = checksum_verify();
        cmd.arg("stage")
            .arg("--envelope")
            .arg(&self.envelope)
            .arg("--trust")
            .arg(&self.trust)
            .args(["--now", now, "--operator", OPERATOR, "--to", to])
            .arg(&self.archive);
        cmd
    }
}

fn media_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("yaml") => "application/yaml",
        Some("md") => "text/markdown",
        Some("sh") => "text/x-shellscript",
        _ => "application/octet-stream",
    }
}

fn sign(payload_type: &str, payload: &[u8], keys: &[(String, SigningKey)]) -> Envelope {
    let mut envelope = Envelope::new(payload_type, payload);
    let signed = envelope.signed_bytes().unwrap();
    envelope.signatures = keys
        .iter()
        .map(|(name, key)| Signature {
            keyid: name.clone(),
            sig: encode_signature(&key.sign(&signed)),
        })
        .collect();
    envelope
}

pub fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    offline_formats::jcs::to_pretty_vec(value).unwrap()
}

/// A POSIX tar as `bundle-pack` writes it: `manifest.json` first, then the files in manifest
/// order, owners 0:0, mtime 0.
fn tar_bytes(manifest_json: &[u8], files: &[BundleFile]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut append = |path: &str, content: &[u8], mode: u32| {
        let mut header = tar::Header::new_ustar();
        header.set_path(path).unwrap();
        header.set_size(content.len() as u64);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, content).unwrap();
    };
    append(manifest::ENTRY_NAME, manifest_json, 0o644);
    for f in files {
        let mode = u32::from_str_radix(f.mode, 8).unwrap();
        append(&f.path, &f.content, mode);
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Flips one byte of `needle`'s first occurrence in the tar (content of a file).
pub fn flip_first(tar: &mut [u8], needle: &[u8]) {
    let at = tar
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle in the tar");
    tar[at] ^= 0x20;
}

// ---------------------------------------------------------------------------------------
// What a store holds.

/// Every file under `root`, relative, sorted, `.staging/` included.
pub fn tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Visible objects of a local store: everything but the store's own `.staging/` folder.
pub fn visible(root: &Path) -> Vec<String> {
    tree(root)
        .into_iter()
        .filter(|p| !p.starts_with(".staging/"))
        .collect()
}

/// Temporary files in a local store's `.staging/` folder (the lock aside).
pub fn staging_leftovers(root: &Path) -> Vec<String> {
    tree(root)
        .into_iter()
        .filter(|p| p.starts_with(".staging/") && p != ".staging/lock")
        .collect()
}

// ---------------------------------------------------------------------------------------
// Garage.

/// The `garage` binary: on PATH, or where `cargo install` puts it. Missing, the test fails:
/// it is never skipped (install it with `.ci/run` or the command below).
pub fn garage_bin() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    std::env::split_paths(&path)
        .chain(cargo_home.map(|c| c.join("bin")))
        .map(|dir| dir.join("garage"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`garage` is required by the S3 stage tests and is not on PATH (CI={}); \
                 install it: `cargo install --locked garage --version 2.5.0 \
                 --no-default-features --features bundled-libs,sqlite`, or run `.ci/run`",
                std::env::var("CI").unwrap_or_default()
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An S3 access key made with `garage key create`.
#[derive(Debug, Clone)]
pub struct S3Key {
    pub id: String,
    pub secret: String,
}

/// A single-node Garage on loopback in a temporary folder; stopped when dropped.
#[derive(Debug)]
pub struct Garage {
    bin: PathBuf,
    dir: tempfile::TempDir,
    config: PathBuf,
    child: Child,
    /// `http://127.0.0.1:<port>` of the S3 API.
    pub endpoint: String,
}

/// The region Garage is configured with.
pub const GARAGE_REGION: &str = "garage";

impl Garage {
    /// Starts the server, gives the node its role and waits until it answers.
    pub fn start() -> Self {
        let bin = garage_bin();
        let dir = tempfile::Builder::new()
            .prefix("garage-test.")
            .tempdir()
            .unwrap();
        let (rpc, s3, admin) = (free_port(), free_port(), free_port());
        let secret = hex::encode(noise(32, u64::from(rpc) ^ 0x5eed));
        let config = dir.path().join("garage.toml");
        fs::write(
            &config,
            format!(
                "metadata_dir = \"{meta}\"\n\
                 data_dir = \"{data}\"\n\
                 db_engine = \"sqlite\"\n\
                 replication_factor = 1\n\
                 rpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
                 rpc_public_addr = \"127.0.0.1:{rpc}\"\n\
                 rpc_secret = \"{secret}\"\n\
                 \n\
                 [s3_api]\n\
                 s3_region = \"{GARAGE_REGION}\"\n\
                 api_bind_addr = \"127.0.0.1:{s3}\"\n\
                 root_domain = \".s3.garage.localhost\"\n\
                 \n\
                 [admin]\n\
                 api_bind_addr = \"127.0.0.1:{admin}\"\n",
                meta = dir.path().join("meta").display(),
                data = dir.path().join("data").display(),
            ),
        )
        .unwrap();
        // Garage refuses a config holding a secret that others can read.
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).unwrap();
        let log = fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(&bin)
            .arg("-c")
            .arg(&config)
            .arg("server")
            .env("RUST_LOG", "garage=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start garage server");
        let mut garage = Self {
            bin,
            dir,
            config,
            child,
            endpoint: format!("http://127.0.0.1:{s3}"),
        };
        garage.wait_until_up();
        let node = garage.cli(&["node", "id", "-q"]);
        let node = node.trim().split('@').next().unwrap().to_owned();
        garage.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node]);
        garage.cli(&["layout", "apply", "--version", "1"]);
        garage
    }

    fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("garage server exited with {status}:\n{}", self.log());
            }
            let out = self.command(&["status"]).output().unwrap();
            if out.status.success() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "garage did not answer within 60 s: {}\n{}",
                    String::from_utf8_lossy(&out.stderr),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-c").arg(&self.config).args(args);
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs `garage -c CONFIG ARGS…`, panicking on failure; returns stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "garage {}: {}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// `garage bucket create NAME`, retried while the new layout settles.
    pub fn create_bucket(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = self.command(&["bucket", "create", name]).output().unwrap();
            if out.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "garage bucket create {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `garage key create NAME`; reads the key id and secret from its output
    /// (`Key ID:` and `Secret key:` lines in Garage 2.x).
    pub fn create_key(&self, name: &str) -> S3Key {
        let out = self.cli(&["key", "create", name]);
        let field = |label: &str| {
            out.lines()
                .find_map(|line| line.trim().strip_prefix(label))
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| panic!("no `{label}` in `garage key create` output:\n{out}"))
        };
        let key = S3Key {
            id: field("Key ID:"),
            secret: field("Secret key:"),
        };
        assert!(key.id.starts_with("GK"), "key id {:?}", key.id);
        assert_eq!(key.secret.len(), 64, "secret key of 64 hex digits");
        key
    }

    /// `garage bucket allow` with the given permissions (`--read`, `--write`, `--owner`).
    pub fn allow(&self, bucket: &str, key: &str, permissions: &[&str]) {
        let mut args = vec!["bucket", "allow"];
        args.extend_from_slice(permissions);
        args.extend_from_slice(&[bucket, "--key", key]);
        self.cli(&args);
    }

    /// A bucket and a key that may read and write it.
    pub fn bucket_with_key(&self, bucket: &str) -> S3Key {
        self.create_bucket(bucket);
        let key = self.create_key(&format!("{bucket}-rw"));
        self.allow(bucket, &key.id, &["--read", "--write", "--owner"]);
        key
    }

    /// Sets the AWS variables of `key` (and the region) on `cmd`.
    pub fn credentials(&self, cmd: &mut Command, key: &S3Key) {
        cmd.env("AWS_ACCESS_KEY_ID", &key.id)
            .env("AWS_SECRET_ACCESS_KEY", &key.secret)
            .env("AWS_REGION", GARAGE_REGION);
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- garage server log ---\n{}", self.log());
        }
    }
}

/// Reads a bucket back through `object_store`, independently of the tool.
pub struct S3Reader {
    runtime: tokio::runtime::Runtime,
    store: object_store::aws::AmazonS3,
}

impl S3Reader {
    pub fn new(garage: &Garage, bucket: &str, key: &S3Key) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .unwrap();
        let store = {
            let _guard = runtime.enter();
            object_store::aws::AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_endpoint(&garage.endpoint)
                .with_region(GARAGE_REGION)
                .with_access_key_id(&key.id)
                .with_secret_access_key(&key.secret)
                .with_allow_http(true)
                .build()
                .unwrap()
        };
        Self { runtime, store }
    }

    /// Every key in the bucket, sorted (walked folder by folder with delimiter listings,
    /// which needs no stream adapter).
    pub fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let mut folders: Vec<Option<object_store::path::Path>> = vec![None];
        while let Some(folder) = folders.pop() {
            let listing = self
                .runtime
                .block_on(object_store::ObjectStore::list_with_delimiter(
                    &self.store,
                    folder.as_ref(),
                ))
                .unwrap();
            keys.extend(listing.objects.into_iter().map(|o| o.location.to_string()));
            folders.extend(listing.common_prefixes.into_iter().map(Some));
        }
        keys.sort();
        keys
    }

    /// The bytes of `key`, `None` when absent.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        use object_store::ObjectStoreExt as _;
        let path = object_store::path::Path::parse(key).unwrap();
        match self.runtime.block_on(self.store.get(&path)) {
            Ok(result) => Some(self.runtime.block_on(result.bytes()).unwrap().to_vec()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("get {key}: {e}"),
        }
    }
}

/// Waits until `path` exists and holds at least `bytes` bytes, or `child` ended.
pub fn wait_for_growth(child: &mut Child, find: impl Fn() -> Option<u64>, bytes: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if matches!(find(), Some(n) if n >= bytes) {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// Reads a whole file.
pub fn read(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    fs::File::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A TCP relay in front of a server that stops relaying (holds every connection open, sends
/// nothing more) once `limit` bytes went from clients to the server: a way to freeze a client
/// in the middle of an upload, deterministically, and kill it there.
#[derive(Debug)]
pub struct StallingRelay {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    stalled: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl StallingRelay {
    pub fn start(upstream: &str, limit: u64) -> Self {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::sync::Arc;
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let stalled = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let flag = stalled.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                    return;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (flag_up, sent_up) = (flag.clone(), sent.clone());
                // Client to server, counted; stops for good at the limit.
                std::thread::spawn(move || {
                    let (mut from, mut to) = (client, server);
                    let mut buffer = vec![0u8; 64 * 1024];
                    loop {
                        if flag_up.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_secs(3600));
                        }
                        let n = match from.read(&mut buffer) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let total = sent_up.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                        if total >= limit {
                            flag_up.store(true, Ordering::SeqCst);
                            continue;
                        }
                        if to.write_all(&buffer[..n]).is_err() {
                            return;
                        }
                    }
                });
                // Server to client, unless stalled.
                let flag_down = flag.clone();
                std::thread::spawn(move || {
                    let (mut from, mut to) = (s2, c2);
                    let mut buffer = vec![0u8; 64 * 1024];
                    loop {
                        let n = match from.read(&mut buffer) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        while flag_down.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_secs(3600));
                        }
                        if to.write_all(&buffer[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { endpoint, stalled }
    }

    /// True once the relay stopped relaying.
    pub fn stalled(&self) -> bool {
        self.stalled.load(std::sync::atomic::Ordering::SeqCst)
    }
}
