//! Same inputs, same bytes: the archive, the manifest and every sums file do not depend on
//! the clock, umask, file creation order, on-disk mtimes and permission bits, owner, user,
//! time zone, locale, `--jobs`, or whether the network exists (DESIGN §4, issue 2 §4).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

const NOBODY: u32 = 65534;

/// Everything one pack writes.
#[derive(Debug, PartialEq, Eq)]
struct Outputs {
    archive: Vec<u8>,
    stdout: Vec<u8>,
    manifest_file: Vec<u8>,
    sidecar: Vec<u8>,
    sums: Vec<u8>,
    b3sums: Vec<u8>,
}

impl Outputs {
    fn read(out: &Path, stdout: Vec<u8>) -> Self {
        let read = |name: &str| {
            let path = out.join(name);
            fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        Self {
            archive: read("bundle.tar.gz"),
            stdout,
            manifest_file: read("bundle.manifest.json"),
            sidecar: read("bundle.tar.gz.sha256"),
            sums: read("SHA256SUMS"),
            b3sums: read("B3SUMS"),
        }
    }

    /// Asserts byte equality file by file, so a failure says which output differs.
    fn assert_same(&self, other: &Self, label: &str) {
        let pairs = [
            ("archive", &self.archive, &other.archive),
            ("stdout manifest", &self.stdout, &other.stdout),
            ("-m manifest", &self.manifest_file, &other.manifest_file),
            (".sha256 sidecar", &self.sidecar, &other.sidecar),
            ("SHA256SUMS", &self.sums, &other.sums),
            ("B3SUMS", &self.b3sums, &other.b3sums),
        ];
        for (what, a, b) in pairs {
            assert!(
                a == b,
                "{label}: the {what} differs from the reference run ({} vs {} bytes)",
                a.len(),
                b.len()
            );
        }
    }
}

/// Arguments of a pack of `input` into `out/bundle.tar.gz` with every side output.
fn pack_args(input: &Path, out: &Path, jobs: Option<u32>) -> Vec<String> {
    let p = |path: PathBuf| path.to_str().expect("UTF-8 temp path").to_owned();
    let mut args = vec![
        "--input".to_owned(),
        p(input.to_owned()),
        "--bundle-id".to_owned(),
        "determinism".to_owned(),
        "--generation".to_owned(),
        "7".to_owned(),
        "-o".to_owned(),
        p(out.join("bundle.tar.gz")),
        "-m".to_owned(),
        p(out.join("bundle.manifest.json")),
        "--sums".to_owned(),
        p(out.join("SHA256SUMS")),
        "--b3sums".to_owned(),
        p(out.join("B3SUMS")),
        "--quiet".to_owned(),
    ];
    if let Some(jobs) = jobs {
        args.push("--jobs".to_owned());
        args.push(jobs.to_string());
    }
    args
}

/// `sh -c 'umask U; exec "$0" "$@"' program args…`: runs `program` under a umask.
fn with_umask(umask: &str, program: &Path, args: &[String]) -> Command {
    let mut cmd = command("sh");
    cmd.arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(program)
        .args(args);
    cmd
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    if fs::symlink_metadata(path).unwrap().is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid, gid);
        }
    }
}

/// Gives every folder under `path` (the folder itself included) an mtime and mode.
fn touch_folders(path: &Path, when: SystemTime, mode: u32) {
    for entry in fs::read_dir(path).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            touch_folders(&entry.path(), when, mode);
        }
    }
    fs::File::open(path).unwrap().set_modified(when).unwrap();
    set_mode(path, mode);
}

/// The second copy of the tree: created in reverse order, with other permission bits
/// (that still normalise to 0644/0755), other mtimes, owned by nobody.
fn write_scrambled_tree(root: &Path, files: &[InputFile]) {
    const PLAIN: [u32; 5] = [0o600, 0o640, 0o664, 0o444, 0o620];
    const EXEC: [u32; 5] = [0o700, 0o750, 0o744, 0o654, 0o511];
    for (i, f) in files.iter().enumerate().rev() {
        let mode = if f.exec {
            EXEC[i % EXEC.len()]
        } else {
            PLAIN[i % PLAIN.len()]
        };
        let path = write_file(root, &f.path, &f.bytes, mode);
        let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000 + 3_607 * i as u64);
        fs::File::open(&path).unwrap().set_modified(when).unwrap();
    }
    touch_folders(
        root,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_234_567_890),
        0o700,
    );
    chown_tree(root, NOBODY, NOBODY);
}

#[test]
fn same_inputs_give_identical_bytes_whatever_the_order_mtimes_modes_umask_owner_locale_and_jobs() {
    require_root("it packs as user nobody with setpriv and chowns the second input tree");
    require_tool("setpriv");
    let tmp = temp_dir();
    let files = standard_tree();

    // Reference: tree written in order, modes 0644/0755, mtimes now, owner root.
    let tree_a = mkdir(&tmp.path().join("a"));
    write_tree(&tree_a, &files);
    let out_a = mkdir(&tmp.path().join("out-a"));
    let run_a = run(
        with_umask("022", Path::new(BIN), &pack_args(&tree_a, &out_a, Some(1)))
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
            .env("TZ", "UTC")
            .env("LC_ALL", "C"),
    )
    .ok();
    let reference = Outputs::read(&out_a, run_a.stdout.clone());

    // The reference is a real bundle of these files, spanning several gzip members, so
    // that thread count could matter.
    let manifest = run_a.manifest();
    let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, sorted_paths(&files));
    let members = gzip_members(&reference.archive);
    assert!(
        members >= 5,
        "only {members} gzip members; the test needs several"
    );

    // Second copy of the tree, scrambled in every way that must not matter.
    let tree_b = mkdir(&tmp.path().join("b"));
    write_scrambled_tree(&tree_b, &files);
    let sample = tree_b.join(&files[0].path);
    let meta_b = fs::metadata(&sample).unwrap();
    let meta_a = fs::metadata(tree_a.join(&files[0].path)).unwrap();
    assert_ne!(meta_a.mtime(), meta_b.mtime(), "mtimes were not changed");
    assert_ne!(
        meta_a.permissions().mode() & 0o777,
        meta_b.permissions().mode() & 0o777
    );
    assert_eq!((meta_b.uid(), meta_b.gid()), (NOBODY, NOBODY));

    // Packed by user nobody, umask 077, another time zone and locale, two threads.
    let out_b = mkdir(&tmp.path().join("out-b"));
    set_mode(&out_b, 0o777);
    let bin = public_binary(tmp.path());
    let mut cmd = command("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "sh",
        "-c",
        "umask 077; exec \"$0\" \"$@\"",
    ])
    .arg(&bin)
    .args(pack_args(&tree_b, &out_b, Some(2)))
    .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
    .env("TZ", "Pacific/Chatham")
    .env("LC_ALL", "C.UTF-8")
    .env("LANG", "de_DE.UTF-8");
    let run_b = run(&mut cmd).ok();
    let archive_owner = fs::metadata(out_b.join("bundle.tar.gz")).unwrap().uid();
    assert_eq!(
        archive_owner, NOBODY,
        "the second pack did not run as user nobody"
    );
    Outputs::read(&out_b, run_b.stdout).assert_same(&reference, "nobody, umask 077, --jobs 2");

    // Three threads, and the default (every core), on each tree.
    for (label, tree, jobs) in [
        ("--jobs 3", &tree_a, Some(3)),
        ("default --jobs", &tree_b, None),
        ("--jobs 2 on the reference tree", &tree_a, Some(2)),
    ] {
        let out = mkdir(&tmp.path().join(format!("out-{}", label.replace(' ', "_"))));
        let r = run(bundle_pack()
            .args(pack_args(tree, &out, jobs))
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
            .env("TZ", "America/St_Johns"))
        .ok();
        Outputs::read(&out, r.stdout).assert_same(&reference, label);
    }
}

/// The comparison above can fail: a different bundle id gives different bytes.
#[test]
fn a_different_input_gives_different_bytes() {
    let tmp = temp_dir();
    let mut files = standard_tree();
    files.truncate(20);
    let tree = mkdir(&tmp.path().join("a"));
    write_tree(&tree, &files);
    let out_a = mkdir(&tmp.path().join("out-a"));
    let out_b = mkdir(&tmp.path().join("out-b"));
    let a = run(bundle_pack()
        .args(pack_args(&tree, &out_a, Some(1)))
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok();
    let a = Outputs::read(&out_a, a.stdout);
    // One byte of one file changed.
    let script = files
        .iter()
        .find(|f| f.path == "scripts/install.sh")
        .unwrap();
    let victim = tree.join(&script.path);
    let mut bytes = fs::read(&victim).unwrap();
    bytes[0] ^= 1;
    fs::write(&victim, &bytes).unwrap();
    let b = run(bundle_pack()
        .args(pack_args(&tree, &out_b, Some(1)))
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok();
    let b = Outputs::read(&out_b, b.stdout);
    assert_ne!(a.archive, b.archive);
    assert_ne!(a.stdout, b.stdout);
    assert_ne!(a.sums, b.sums);
    assert_ne!(a.b3sums, b.b3sums);
    assert_ne!(a.sidecar, b.sidecar);
}

#[test]
fn packing_needs_no_network() {
    require_root("it runs the pack in a new network namespace with unshare --net");
    require_tool("unshare");
    let tmp = temp_dir();
    let files = standard_tree();
    let tree = mkdir(&tmp.path().join("in"));
    write_tree(&tree, &files);

    // The namespace really has no network: only the loopback device, and it is down.
    let probe = run(command("unshare").args(["--net", "--", "cat", "/proc/net/dev"]));
    assert_eq!(
        probe.code,
        Some(0),
        "`unshare --net` does not work here; this test needs it (CI runs as root):\n{}",
        probe.describe()
    );
    let devices: Vec<String> = probe
        .stdout_text()
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next().map(|d| d.trim().to_owned()))
        .collect();
    assert_eq!(devices, ["lo"], "the new network namespace is not empty");

    let out_net = mkdir(&tmp.path().join("out-net"));
    let normal = run(bundle_pack()
        .args(pack_args(&tree, &out_net, None))
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok();
    let out_sealed = mkdir(&tmp.path().join("out-sealed"));
    let sealed = run(command("unshare")
        .args(["--net", "--"])
        .arg(BIN)
        .args(pack_args(&tree, &out_sealed, None))
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok();
    Outputs::read(&out_sealed, sealed.stdout)
        .assert_same(&Outputs::read(&out_net, normal.stdout), "unshare --net");
}
