//! Every refusal of issue 2 §3 through the real binary: exit 2, one `bundle-pack: error:`
//! message naming the offending path or value, and an output folder left exactly as it was
//! (no archive, no sidecar, no `*.partial` temporary file).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod common;

use common::*;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// An input folder holding one good file, and an empty output folder.
struct Setup {
    tmp: tempfile::TempDir,
    input: PathBuf,
    out: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let tmp = temp_dir();
        let input = mkdir(&tmp.path().join("in"));
        write_file(&input, "ok.yaml", b"fine: true\n", 0o644);
        let out = mkdir(&tmp.path().join("out"));
        Self { tmp, input, out }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn archive(&self) -> PathBuf {
        self.out.join("bundle.tar.gz")
    }

    /// `bundle-pack … -o out/bundle.tar.gz --sums out/SHA256SUMS -m out/m.json` with a
    /// fixed SOURCE_DATE_EPOCH (so no warning precedes the error).
    fn pack(&self) -> Command {
        let mut cmd = bundle_pack();
        cmd.arg("-o")
            .arg(self.archive())
            .arg("--sums")
            .arg(self.out.join("SHA256SUMS"))
            .arg("-m")
            .arg(self.out.join("m.json"))
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string());
        cmd
    }

    /// A pack of the input folder with `--bundle-id t` and `extra` arguments.
    fn pack_input(&self, extra: &[&OsStr]) -> Command {
        let mut cmd = self.pack();
        cmd.arg("--input")
            .arg(&self.input)
            .args(["--bundle-id", "t"])
            .args(extra);
        cmd
    }

    /// Runs `cmd` and asserts the refusal; the output folder must stay as it was.
    fn refused(&self, cmd: &mut Command, needles: &[&str]) -> Run {
        let before = listing(&self.out);
        let r = run(cmd);
        assert_refused(&r, &self.out, &before, needles);
        r
    }
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn symlinks_are_refused_unless_followed() {
    let s = Setup::new();
    std::os::unix::fs::symlink("ok.yaml", s.input.join("link.yaml")).unwrap();
    let link = shown(&s.input.join("link.yaml"));
    s.refused(&mut s.pack_input(&[]), &[&link, "symbolic link"]);

    // --follow-symlinks packs the target's bytes under the link's name, as a regular file.
    let r = run(&mut s.pack_input(&[os("--follow-symlinks"), os("-q")])).ok();
    let m = r.manifest();
    let linked = m
        .files
        .iter()
        .find(|f| f.path == "link.yaml")
        .expect("link.yaml packed");
    assert_eq!(linked.sha256, sha256_hex(b"fine: true\n"));
    let entries = read_archive(&s.archive());
    let e = entries.iter().find(|e| e.path == "link.yaml").unwrap();
    assert_eq!(
        (e.kind, e.data.as_slice()),
        (b'0', b"fine: true\n".as_slice())
    );

    // A link to a folder inside a source, and a source that is itself a link.
    let s = Setup::new();
    let target = mkdir(&s.path("target"));
    write_file(&target, "t.yaml", b"t\n", 0o644);
    std::os::unix::fs::symlink(&target, s.input.join("dir-link")).unwrap();
    let dir_link = shown(&s.input.join("dir-link"));
    s.refused(&mut s.pack_input(&[]), &[&dir_link, "symbolic link"]);
    let r = run(&mut s.pack_input(&[os("--follow-symlinks"), os("-q")])).ok();
    let m = r.manifest();
    assert!(m.files.iter().any(|f| f.path == "dir-link/t.yaml"), "{m:?}");
    fs::remove_file(s.archive()).unwrap();
    fs::remove_file(s.out.join("bundle.tar.gz.sha256")).unwrap();
    fs::remove_file(s.out.join("SHA256SUMS")).unwrap();
    fs::remove_file(s.out.join("m.json")).unwrap();

    let source_link = s.path("source-link");
    std::os::unix::fs::symlink(&target, &source_link).unwrap();
    let mut cmd = s.pack();
    cmd.arg("--input")
        .arg(&source_link)
        .args(["--bundle-id", "t"]);
    s.refused(&mut cmd, &[&shown(&source_link), "symbolic link"]);

    // A dangling link cannot be followed.
    let s = Setup::new();
    std::os::unix::fs::symlink("nowhere", s.input.join("dangling")).unwrap();
    let dangling = shown(&s.input.join("dangling"));
    s.refused(&mut s.pack_input(&[os("--follow-symlinks")]), &[&dangling]);
}

#[test]
fn of_several_offenders_the_first_by_name_bytes_is_named_whatever_their_creation_order() {
    // Created in reverse order, so a walk in directory order would likely meet `z` first.
    // Names that sort differently by bytes than by their first letter's case or length.
    let s = Setup::new();
    let nested = mkdir(&s.input.join("B"));
    for name in ["z-link", "b-link", "a-link", "a-link-2"] {
        std::os::unix::fs::symlink("ok.yaml", s.input.join(name)).unwrap();
    }
    std::os::unix::fs::symlink("../ok.yaml", nested.join("link")).unwrap();
    // `B` (0x42) sorts before every lower-case name, so its link is met first.
    let first = shown(&nested.join("link"));
    let r = s.refused(&mut s.pack_input(&[]), &[&first, "symbolic link"]);
    for later in ["z-link", "b-link", "a-link"] {
        let path = shown(&s.input.join(later));
        assert!(!r.stderr.contains(&format!("`{path}`")), "{}", r.stderr);
    }
}

#[test]
fn fifos_sockets_and_devices_are_refused() {
    let s = Setup::new();
    let fifo = s.input.join("pipe");
    run(command("mkfifo").arg(&fifo)).ok();
    s.refused(&mut s.pack_input(&[]), &[&shown(&fifo), "FIFO"]);

    let s = Setup::new();
    let sock = s.input.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    s.refused(&mut s.pack_input(&[]), &[&shown(&sock), "socket"]);

    require_root("it creates a character device with mknod");
    let s = Setup::new();
    let dev = s.input.join("sub/null");
    mkdir(dev.parent().unwrap());
    run(command("mknod").arg(&dev).args(["c", "1", "3"])).ok();
    s.refused(&mut s.pack_input(&[]), &[&shown(&dev), "character device"]);

    // A special file given directly as a source is refused too.
    let mut cmd = s.pack();
    cmd.arg("--input").arg(&dev).args(["--bundle-id", "t"]);
    s.refused(&mut cmd, &[&shown(&dev), "character device"]);
}

#[test]
fn two_sources_for_one_bundle_path_are_refused_naming_both() {
    let s = Setup::new();
    let a = mkdir(&s.path("a"));
    let b = mkdir(&s.path("b"));
    write_file(&a, "charts/x.yaml", b"from a", 0o644);
    write_file(&b, "charts/x.yaml", b"from b", 0o644);
    let mut cmd = s.pack();
    cmd.arg("--input")
        .arg(&a)
        .arg("--input")
        .arg(&b)
        .args(["--bundle-id", "t"]);
    let first = shown(&a.join("charts/x.yaml"));
    let second = shown(&b.join("charts/x.yaml"));
    s.refused(&mut cmd, &["`charts/x.yaml`", &first, &second]);

    // The same clash through prefixes: a file source mapped onto a folder's file.
    let mut cmd = s.pack();
    cmd.arg("--input")
        .arg(format!("{}=charts", a.join("charts/x.yaml").display()))
        .arg("--input")
        .arg(&b)
        .args(["--bundle-id", "t"]);
    s.refused(&mut cmd, &["`charts/x.yaml`", &first, &second]);
}

#[test]
fn a_file_that_is_also_a_folder_is_refused() {
    let s = Setup::new();
    let a = mkdir(&s.path("a"));
    let b = mkdir(&s.path("b"));
    write_file(&a, "x", b"a file", 0o644);
    write_file(&b, "x/y", b"a file in a folder of the same name", 0o644);
    let mut cmd = s.pack();
    cmd.arg("--input")
        .arg(&a)
        .arg("--input")
        .arg(&b)
        .args(["--bundle-id", "t"]);
    s.refused(&mut cmd, &["`x`", "`x/y`"]);
}

#[test]
fn non_utf8_names_are_refused() {
    let s = Setup::new();
    let bad = s.input.join(OsStr::from_bytes(b"bad\xff.yaml"));
    fs::write(&bad, b"x").unwrap();
    s.refused(&mut s.pack_input(&[]), &[&shown(&bad), "not valid UTF-8"]);

    let s = Setup::new();
    let bad_dir = s.input.join(OsStr::from_bytes(b"dir\xfe"));
    mkdir(&bad_dir);
    fs::write(bad_dir.join("a.yaml"), b"x").unwrap();
    s.refused(
        &mut s.pack_input(&[]),
        &[&shown(&bad_dir), "not valid UTF-8"],
    );
}

#[test]
fn dot_dot_in_a_prefix_is_refused() {
    let s = Setup::new();
    for prefix in ["../x", "a/../../x", "..", "a/./b"] {
        let mut cmd = s.pack();
        cmd.arg("--input")
            .arg(format!("{}={prefix}", s.input.display()))
            .args(["--bundle-id", "t"]);
        s.refused(&mut cmd, &[&format!("`{prefix}`")]);
    }

    let config = s.path("pack.yaml");
    fs::write(
        &config,
        "bundleId: t\nsources:\n  - from: in\n    to: ../escape\n",
    )
    .unwrap();
    let mut cmd = s.pack();
    cmd.arg("--config").arg(&config);
    s.refused(&mut cmd, &["`../escape`", "`..`"]);
}

#[test]
fn a_file_named_manifest_json_at_the_root_is_refused() {
    let s = Setup::new();
    let m = write_file(&s.input, "manifest.json", b"{}", 0o644);
    let r = s.refused(&mut s.pack_input(&[]), &["manifest.json"]);
    assert!(r.stderr.contains("reserved"), "{}", r.describe());

    // A source file named manifest.json is refused the same way.
    let mut cmd = s.pack();
    cmd.arg("--input").arg(&m).args(["--bundle-id", "t"]);
    s.refused(&mut cmd, &["manifest.json"]);

    // Under a prefix it is an ordinary file.
    let mut cmd = s.pack();
    cmd.arg("--input")
        .arg(format!("{}=sub", s.input.display()))
        .args(["--bundle-id", "t", "-q"]);
    let r = run(&mut cmd).ok();
    assert!(r
        .manifest()
        .files
        .iter()
        .any(|f| f.path == "sub/manifest.json"));
}

#[test]
fn unknown_config_keys_are_refused_naming_the_key_and_the_file() {
    let s = Setup::new();
    let config = s.path("pack.yaml");
    fs::write(
        &config,
        "bundleId: t\nbundleID: typo\nsources:\n  - from: in\n",
    )
    .unwrap();
    let mut cmd = s.pack();
    cmd.arg("--config").arg(&config);
    s.refused(&mut cmd, &["bundleID", &shown(&config)]);

    fs::write(&config, "bundleId: t\nsources:\n  - form: in\n").unwrap();
    let mut cmd = s.pack();
    cmd.arg("--config").arg(&config);
    s.refused(&mut cmd, &["form", &shown(&config)]);

    // A config that is not YAML of the right shape, and one that does not exist.
    fs::write(&config, "- just\n- a list\n").unwrap();
    let mut cmd = s.pack();
    cmd.arg("--config").arg(&config);
    s.refused(&mut cmd, &[&shown(&config)]);
    let missing = s.path("missing.yaml");
    let mut cmd = s.pack();
    cmd.arg("--config").arg(&missing);
    s.refused(&mut cmd, &[&shown(&missing)]);
}

#[test]
fn a_missing_source_is_refused_naming_it() {
    let s = Setup::new();
    let missing = s.path("no-such-folder");
    let mut cmd = s.pack();
    cmd.arg("--input").arg(&missing).args(["--bundle-id", "t"]);
    s.refused(&mut cmd, &[&shown(&missing)]);

    let config = s.path("pack.yaml");
    fs::write(
        &config,
        "bundleId: t\nsources:\n  - from: in\n  - from: gone/\n",
    )
    .unwrap();
    let mut cmd = s.pack();
    cmd.arg("--config").arg(&config);
    s.refused(&mut cmd, &["gone"]);
}

#[test]
fn bad_times_are_refused() {
    let s = Setup::new();
    for epoch in ["yesterday", "-5", "1.5", "1700000000x"] {
        let mut cmd = s.pack_input(&[]);
        cmd.env("SOURCE_DATE_EPOCH", epoch);
        s.refused(&mut cmd, &["SOURCE_DATE_EPOCH", &format!("`{epoch}`")]);
    }
    for when in [
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-01-31 12:00:00",
        "2026-01-31",
    ] {
        s.refused(
            &mut s.pack_input(&[os("--created-at"), os(when)]),
            &[&format!("`{when}`")],
        );
    }
    let config = s.path("pack.yaml");
    fs::write(
        &config,
        "bundleId: t\ncreatedAt: soon\nsources:\n  - from: in\n",
    )
    .unwrap();
    let mut cmd = s.pack();
    cmd.arg("--config").arg(&config);
    s.refused(&mut cmd, &["`soon`"]);
}

/// A `SOURCE_DATE_EPOCH` too large for a timestamp must not wrap around to 1969.
#[test]
fn source_date_epoch_beyond_any_timestamp_is_refused() {
    let s = Setup::new();
    for epoch in [
        "18446744073709551615",
        "9223372036854775808",
        "253402300800",
    ] {
        let mut cmd = s.pack_input(&[]);
        cmd.env("SOURCE_DATE_EPOCH", epoch);
        s.refused(&mut cmd, &["SOURCE_DATE_EPOCH", epoch]);
    }
}

/// `bundle-pack --input IN -o OUT` run as user nobody, who may write the output folder.
fn pack_input_as_nobody(s: &Setup) -> Command {
    set_mode(&s.out, 0o777);
    let bin = public_binary(s.tmp.path());
    let mut cmd = as_nobody(&bin);
    cmd.arg("--input")
        .arg(&s.input)
        .args(["--bundle-id", "t", "-o"])
        .arg(s.archive())
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string());
    cmd
}

/// Files and folders the packing user cannot read are refused naming them, also when
/// the failure comes after the archive was started (the temporary file is removed).
#[test]
fn unreadable_files_and_folders_are_refused() {
    require_root("it packs as user nobody with setpriv");
    let s = Setup::new();
    write_file(&s.input, "big.bin", &noise(3 << 20, 3), 0o644);
    let secret = write_file(&s.input, "z-secret.yaml", b"key: x\n", 0o600);
    let mut cmd = pack_input_as_nobody(&s);
    s.refused(&mut cmd, &[&shown(&secret), "ermission denied"]);

    set_mode(&secret, 0o644);
    let locked = mkdir(&s.input.join("locked"));
    write_file(&locked, "f.yaml", b"f\n", 0o644);
    set_mode(&locked, 0o700);
    s.refused(&mut cmd, &[&shown(&locked), "ermission denied"]);

    // Readable again: the same command works (the refusals were about access).
    set_mode(&locked, 0o755);
    run(&mut cmd).ok();
}

/// Large files are read by lanes of their own: an unreadable one is still named, whether it
/// waits for the writer (the first of a run) or places itself after another.
#[test]
fn unreadable_large_files_are_refused() {
    require_root("it packs as user nobody with setpriv");
    let s = Setup::new();
    let layers = mkdir(&s.input.join("layers"));
    let first = write_file(&layers, "a.bin", &noise(10 << 20, 1), 0o644);
    let second = write_file(&layers, "b.bin", &noise(10 << 20, 2), 0o644);
    let mut cmd = pack_input_as_nobody(&s);
    for locked in [&second, &first] {
        set_mode(locked, 0o600);
        s.refused(&mut cmd, &[&shown(locked), "ermission denied"]);
        set_mode(locked, 0o644);
    }
    run(&mut cmd).ok();
}

#[test]
fn bundle_ids_are_required_and_checked() {
    let s = Setup::new();
    let mut cmd = s.pack();
    cmd.arg("--input").arg(&s.input);
    s.refused(&mut cmd, &["bundle id", "--bundle-id"]);

    for id in ["../evil", "a/b", ".hidden", "", "with space"] {
        let mut cmd = s.pack();
        cmd.arg("--input").arg(&s.input).args(["--bundle-id", id]);
        s.refused(&mut cmd, &[&format!("`{id}`")]);
    }
    let config = s.path("pack.yaml");
    fs::write(&config, "bundleId: ../evil\nsources:\n  - from: in\n").unwrap();
    let mut cmd = s.pack();
    cmd.arg("--config").arg(&config);
    s.refused(&mut cmd, &["`../evil`"]);
}

#[test]
fn an_output_that_is_a_folder_or_in_a_missing_folder_is_refused() {
    let s = Setup::new();
    let mut cmd = bundle_pack();
    cmd.arg("--input")
        .arg(&s.input)
        .args(["--bundle-id", "t", "-o"])
        .arg(&s.out);
    cmd.env("SOURCE_DATE_EPOCH", EPOCH.to_string());
    s.refused(&mut cmd, &[&shown(&s.out)]);

    let nowhere = s.out.join("missing/bundle.tar.gz");
    let mut cmd = bundle_pack();
    cmd.arg("--input")
        .arg(&s.input)
        .args(["--bundle-id", "t", "-o"])
        .arg(&nowhere);
    cmd.env("SOURCE_DATE_EPOCH", EPOCH.to_string());
    s.refused(&mut cmd, &["missing"]);
}

/// Usage errors found by the argument parser follow the same `bundle-pack: error:` form
/// as every other error (DESIGN §4), and name the bad value.
#[test]
fn argument_errors_use_the_tool_error_format() {
    let s = Setup::new();
    for level in ["10", "fast", "-1"] {
        s.refused(
            &mut s.pack_input(&[os("--level"), os(level)]),
            &["--level", level],
        );
    }
    s.refused(
        &mut s.pack_input(&[os("--jobs"), os("0")]),
        &["--jobs", "0"],
    );
    let mut cmd = bundle_pack();
    cmd.arg("--input").arg(&s.input).args(["--bundle-id", "t"]);
    s.refused(&mut cmd, &["--output"]);
}

#[test]
fn an_existing_archive_is_replaced_only_on_success() {
    let s = Setup::new();
    write_file(&s.input, "big.bin", &noise(3 << 20, 5), 0o644);
    run(&mut s.pack_input(&[os("-q")])).ok();
    let sidecar = s.out.join("bundle.tar.gz.sha256");
    let old: Vec<(String, Vec<u8>)> = listing(&s.out)
        .into_iter()
        .map(|n| {
            let bytes = fs::read(s.out.join(&n)).unwrap();
            (n, bytes)
        })
        .collect();
    assert_eq!(old.len(), 4, "archive, sidecar, -m and --sums: {old:?}");
    let unchanged = || {
        for (name, bytes) in &old {
            assert!(
                &fs::read(s.out.join(name)).unwrap() == bytes,
                "`{name}` was changed by a failed pack"
            );
        }
    };

    // Refused while planning.
    let fifo = s.input.join("pipe");
    run(command("mkfifo").arg(&fifo)).ok();
    s.refused(&mut s.pack_input(&[]), &[&shown(&fifo)]);
    unchanged();
    fs::remove_file(&fifo).unwrap();

    // Refused while packing, after megabytes were written: a file whose size changes
    // between planning and reading (a /proc file says 0 bytes, then has content).
    s.refused(
        &mut s.pack_input(&[os("--input"), os("/proc/version=zz")]),
        &["/proc/version", "changed"],
    );
    unchanged();

    // A successful pack replaces everything.
    write_file(&s.input, "new.yaml", b"new\n", 0o644);
    let r = run(&mut s.pack_input(&[os("-q")])).ok();
    let archive = fs::read(s.archive()).unwrap();
    assert_ne!(
        archive,
        old.iter().find(|o| o.0 == "bundle.tar.gz").unwrap().1
    );
    let sha = &r.manifest().archive.unwrap().sha256;
    assert_eq!(sha, &sha256_hex(&archive));
    assert_eq!(
        fs::read_to_string(&sidecar).unwrap(),
        format!("{sha}  bundle.tar.gz\n")
    );
    assert_eq!(listing(&s.out).len(), 4);
}

/// A side output (`-m`, `--sums`, `--b3sums`) that cannot be written fails the pack, and a
/// failed pack leaves the previous bundle, its sidecar and its manifest as they were: the
/// archive must not be replaced before everything else is known to succeed.
#[test]
fn a_side_output_that_cannot_be_written_leaves_the_old_bundle_untouched() {
    let s = Setup::new();
    run(&mut s.pack_input(&[os("-q")])).ok();
    let old: Vec<(String, Vec<u8>)> = listing(&s.out)
        .into_iter()
        .map(|n| {
            let bytes = fs::read(s.out.join(&n)).unwrap();
            (n, bytes)
        })
        .collect();
    write_file(&s.input, "new.yaml", b"new: true\n", 0o644);
    for flag in ["-m", "--sums", "--b3sums"] {
        let target = s.out.join("no-such-folder").join("side-output");
        let mut cmd = bundle_pack();
        cmd.arg("--input")
            .arg(&s.input)
            .args(["--bundle-id", "t", "-o"])
            .arg(s.archive())
            .arg(flag)
            .arg(&target)
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string());
        s.refused(&mut cmd, &["no-such-folder"]);
        for (name, bytes) in &old {
            assert!(
                &fs::read(s.out.join(name)).unwrap() == bytes,
                "{flag}: `{name}` was replaced by a pack that failed"
            );
        }
    }
}

/// Ctrl-C or SIGTERM in the middle of a pack exits 130 and removes the unfinished archive:
/// nothing half-written is left beside the output.
#[test]
fn an_interrupted_pack_leaves_no_partial_file() {
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    // A large sparse file reads fast but takes seconds to hash, so the signal lands mid-pack.
    std::fs::File::create(input.join("disk.img"))
        .and_then(|f| f.set_len(16 << 30))
        .unwrap();
    let out = mkdir(&tmp.path().join("out"));
    let mut child = bundle_pack()
        .arg("--input")
        .arg(&input)
        .args(["--bundle-id", "t", "-q", "-o"])
        .arg(out.join("b.tar.gz"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let partial_seen = std::fs::read_dir(&out).unwrap().count();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(
        partial_seen, 1,
        "the pack should have been writing its temporary archive"
    );
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
