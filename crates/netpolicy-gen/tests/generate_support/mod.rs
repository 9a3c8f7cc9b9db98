//! Helpers for the `generate` tests: running the real binary, reading a generated folder,
//! golden files, and the system tools the checks drive.
#![allow(dead_code)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers of a test binary: a failed expectation is a failed test"
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_netpolicy-gen");

/// Golden cases: name and spec (relative to the workspace root).
pub const CASES: &[(&str, &str)] = &[
    ("sealed", "examples/netpolicy/sealed.yaml"),
    ("constrained", "examples/netpolicy/constrained.yaml"),
];

/// Every target but `all`, with the folders its files go to.
pub const TARGETS: &[(&str, &[&str])] = &[
    ("k8s", &["k8s/"]),
    ("cilium", &["cilium/"]),
    ("calico", &["calico/"]),
    ("nftables", &["nftables/", "compose/"]),
    ("iptables", &["iptables/", "compose/"]),
];

/// The Kubernetes version generated NetworkPolicies are validated against.
pub const KUBERNETES_VERSION: &str = "1.33.0";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

pub fn golden_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(case)
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.stdout_text()))
    }

    /// Panics unless the run exited 0.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code,
            Some(0),
            "netpolicy-gen failed\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        );
        self
    }
}

pub fn run_cmd(cmd: &mut Command) -> Run {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `netpolicy-gen` with `args` from the workspace root.
pub fn netpolicy_gen(args: &[&str]) -> Run {
    run_cmd(Command::new(BIN).args(args).current_dir(workspace_root()))
}

/// `netpolicy-gen generate --spec SPEC --target TARGET --out OUT`, which must succeed.
pub fn generate(spec: &Path, target: &str, out: &Path) -> Run {
    netpolicy_gen(&[
        "generate",
        "--spec",
        spec.to_str().expect("UTF-8 path"),
        "--target",
        target,
        "--out",
        out.to_str().expect("UTF-8 path"),
    ])
    .ok()
}

/// Every regular file under `dir`, by `/`-separated relative path.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let meta = fs::symlink_metadata(&path).expect("metadata");
        if meta.is_dir() {
            walk(root, &path, files);
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(rel, fs::read(&path).expect("read file"));
        }
    }
}

/// True when golden files are to be rewritten rather than compared.
pub fn updating_golden() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Compares `actual` (relative path → bytes) with the golden files of `case`, or rewrites
/// them when `UPDATE_GOLDEN=1`.
pub fn check_golden(case: &str, actual: &BTreeMap<String, Vec<u8>>, stdout: &[u8]) {
    let dir = golden_dir(case);
    let files_dir = dir.join("files");
    if updating_golden() {
        let _ = fs::remove_dir_all(&files_dir);
        for (rel, bytes) in actual {
            let path = files_dir.join(rel);
            fs::create_dir_all(path.parent().expect("parent")).expect("create golden folder");
            fs::write(&path, bytes).expect("write golden file");
        }
        fs::write(dir.join("stdout.json"), stdout).expect("write golden stdout");
        return;
    }
    let golden = read_tree(&files_dir);
    assert!(
        !golden.is_empty(),
        "no golden files for case `{case}`: run `UPDATE_GOLDEN=1 cargo nextest run -p netpolicy-gen --test generate` and review them"
    );
    let golden_names: Vec<&String> = golden.keys().collect();
    let actual_names: Vec<&String> = actual.keys().collect();
    assert_eq!(
        actual_names, golden_names,
        "case `{case}`: the generated file list differs from the golden one (UPDATE_GOLDEN=1 rewrites it)"
    );
    for (rel, bytes) in actual {
        if golden[rel] != *bytes {
            panic!(
                "case `{case}`: `{rel}` differs from its golden file (UPDATE_GOLDEN=1 rewrites it)\n--- golden\n{}\n--- generated\n{}",
                String::from_utf8_lossy(&golden[rel]),
                String::from_utf8_lossy(bytes)
            );
        }
    }
    let golden_stdout = fs::read(dir.join("stdout.json")).expect("golden stdout.json");
    assert_eq!(
        String::from_utf8_lossy(stdout),
        String::from_utf8_lossy(&golden_stdout),
        "case `{case}`: stdout differs from golden stdout.json"
    );
}

/// Absolute path of a system tool, or a loud failure naming how to install it: the tests
/// that need one are never skipped (CI installs them with `.ci/run`).
pub fn require_tool(name: &str, install: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{name}` is required by this test and is not on PATH (CI={}); install it: `{install}` \
         (or run `.ci/run` as root)",
        std::env::var("CI").unwrap_or_default()
    );
}

/// Panics unless running as root (`nft -c` and `iptables-restore --test` talk to netfilter).
pub fn require_root(why: &str) {
    let uid = fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .expect("/proc/self");
    assert_eq!(
        uid, 0,
        "this test must run as root ({why}); it runs as uid {uid}. CI runs the suite as root"
    );
}

/// Splits a multi-document YAML file into its documents (the header comment is not one).
pub fn yaml_documents(text: &str) -> Vec<serde_yaml::Value> {
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = <serde_yaml::Value as serde::Deserialize>::deserialize(doc)
            .unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"));
        if !value.is_null() {
            docs.push(value);
        }
    }
    docs
}
