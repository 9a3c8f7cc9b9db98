//! `netpolicy-gen verify-script` through the real binary: the script is POSIX sh (sh -n,
//! dash -n, shellcheck when installed), deterministic, and its verdicts and exit codes are
//! right — checked here with stub `nc`, `getent` and `nft` on PATH, so no root is needed (the
//! data-path tests run it for real in network namespaces).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test binary: a failed expectation is a failed test"
)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_netpolicy-gen");

const SPEC: &str = "\
mode: sealed
namespaces: [stellaops]
allow:
  - name: object-store
    cidr: 10.20.0.5/32
    ports: [{port: 9000, protocol: TCP}]
  - name: ntp
    cidr: 10.30.0.1/32
    ports: [{port: 123, protocol: UDP}]
  - name: otlp
    cidr: \"fd00:20::5/128\"
    ports: [{port: 4317, protocol: TCP}]
compose:
  networks:
    - {name: stellaops, bridge: br-stellaops, subnet: 172.28.0.0/24}
";

/// `nc`: `-h` shows `-z`; `nc -z -w T HOST PORT` connects when HOST:PORT is in $STUB_OPEN.
const STUB_NC: &str = r#"#!/bin/sh
[ "$1" = -h ] && { echo "usage: nc [-z] [-w timeout] host port" >&2; exit 1; }
for o in $STUB_OPEN; do [ "$o" = "$4:$5" ] && exit 0; done
exit 1
"#;

/// `getent`: resolves the names in $STUB_RESOLVES, exits 2 (not found) otherwise.
const STUB_GETENT: &str = r#"#!/bin/sh
for n in $STUB_RESOLVES; do [ "$n" = "$2" ] && { echo "203.0.113.80 $2"; exit 0; }; done
exit 2
"#;

/// `nft`: the table exists when $STUB_TABLE is set.
const STUB_NFT: &str = r#"#!/bin/sh
[ "$1 $2" = "list tables" ] && exit 0
[ "$1 $2 $3 $4" = "list table inet $STUB_TABLE" ] && exit 0
exit 1
"#;

struct Fixture {
    dir: tempfile::TempDir,
    script: PathBuf,
    bin: PathBuf,
}

fn write_exec(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn which(name: &str) -> Option<PathBuf> {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn generate(dir: &Path, spec: &str, extra: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    let spec_path = dir.join("spec.yaml");
    std::fs::write(&spec_path, spec).unwrap();
    let out = Command::new(BIN)
        .args(["verify-script", "--spec", spec_path.to_str().unwrap()])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        out.stdout,
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The script for [`SPEC`] with two outside addresses and one outside name, and a PATH
/// folder holding the stubs and the few real tools the script uses.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (code, script, stderr) = generate(
        dir.path(),
        SPEC,
        &[
            "--outside",
            "198.51.100.7:443",
            "--outside",
            "[2001:db8:ff::7]:443/TCP",
            "--outside-name",
            "example.com",
            "--timeout",
            "1",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    let path = dir.path().join("sealed-verify.sh");
    std::fs::write(&path, script).unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in ["sh", "grep", "awk", "timeout"] {
        let real = which(tool).unwrap_or_else(|| panic!("`{tool}` is needed"));
        std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
    }
    write_exec(&bin.join("nc"), STUB_NC);
    write_exec(&bin.join("getent"), STUB_GETENT);
    write_exec(&bin.join("nft"), STUB_NFT);
    Fixture {
        script: path,
        bin,
        dir,
    }
}

struct ScriptRun {
    code: Option<i32>,
    lines: Vec<Value>,
    tap: String,
}

impl ScriptRun {
    fn verdicts(&self) -> BTreeMap<String, String> {
        self.lines
            .iter()
            .map(|l| {
                (
                    format!(
                        "{} {}:{}",
                        l["check"].as_str().unwrap(),
                        l["dst"].as_str().unwrap(),
                        l["port"]
                    ),
                    l["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

fn run(f: &Fixture, args: &[&str], open: &str, resolves: &str) -> ScriptRun {
    let sh = f.bin.join("sh");
    let out = Command::new(sh)
        .arg(&f.script)
        .args(args)
        .env_clear()
        .env("PATH", &f.bin)
        .env("STUB_OPEN", open)
        .env("STUB_RESOLVES", resolves)
        .env("STUB_TABLE", "sealed_egress")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    ScriptRun {
        code: out.status.code(),
        lines,
        tap: String::from_utf8(out.stderr).unwrap(),
    }
}

const ALLOWED: &str = "10.20.0.5:9000 fd00:20::5:4317";

#[test]
fn sealed_egress_passes_with_one_json_line_per_check_and_tap() {
    let f = fixture();
    let r = run(&f, &["--rules", "none"], ALLOWED, "");
    assert_eq!(r.code, Some(0), "{}", r.tap);
    let want: BTreeMap<String, String> = [
        ("rules -:0", "skip"),
        ("control 10.20.0.5:9000", "pass"),
        ("allow 10.20.0.5:9000", "pass"),
        ("port 10.20.0.5:9001", "pass"),
        ("allow 10.30.0.1:123", "skip"),
        ("port 10.30.0.1:124", "pass"),
        ("allow fd00:20::5:4317", "pass"),
        ("port fd00:20::5:4318", "pass"),
        ("outside 198.51.100.7:443", "pass"),
        ("outside 2001:db8:ff::7:443", "pass"),
        ("dns example.com:53", "pass"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(r.verdicts(), want);
    // The JSON line has exactly the documented members, keys sorted.
    assert_eq!(
        serde_json::to_string(&r.lines[1]).unwrap(),
        r#"{"check":"control","dst":"10.20.0.5","expected":"open","note":"allow-list entry object-store","observed":"open","port":9000,"proto":"tcp","verdict":"pass"}"#
    );
    assert_eq!(r.lines[5]["expected"], "closed");
    assert_eq!(r.lines[10]["expected"], "unresolved");
    // TAP on stderr: one test line per check, the plan, a summary.
    assert!(
        r.tap.starts_with(
            "ok 1 - rules - rules/0 # SKIP --rules none\nok 2 - control 10.20.0.5 tcp/9000: open"
        ),
        "{}",
        r.tap
    );
    assert!(r.tap.contains("\nok 3 - allow 10.30.0.1 udp/123 # SKIP allow-list entry ntp: UDP has no handshake to observe\n"), "{}", r.tap);
    assert!(r.tap.contains("\n1..11\n# sealed-verify: 9 passed, 0 leaks, 0 failed, 2 skipped (probe: nc, timeout 1s)\n"), "{}", r.tap);
    assert!(!r.tap.contains("not ok"));
}

#[test]
fn a_leak_exits_1_and_names_the_destination() {
    let f = fixture();
    let r = run(
        &f,
        &["--rules", "none"],
        &format!("{ALLOWED} 2001:db8:ff::7:443 10.20.0.5:9001"),
        "",
    );
    assert_eq!(r.code, Some(1), "{}", r.tap);
    let v = r.verdicts();
    assert_eq!(v["outside 2001:db8:ff::7:443"], "leak");
    assert_eq!(v["port 10.20.0.5:9001"], "leak");
    assert_eq!(v["outside 198.51.100.7:443"], "pass");
    assert!(
        r.tap.contains(
            "not ok 10 - outside 2001:db8:ff::7 tcp/443: LEAK, open (outside address (IPv6))"
        ),
        "{}",
        r.tap
    );
    assert!(r.tap.contains("# LEAK:"), "{}", r.tap);

    // A name that resolves is a leak too.
    let r = run(&f, &["--rules", "none"], ALLOWED, "example.com");
    assert_eq!(r.code, Some(1));
    assert_eq!(r.verdicts()["dns example.com:53"], "leak");
}

#[test]
fn a_failed_positive_control_is_inconclusive_unless_something_leaked() {
    let f = fixture();
    // Nothing connects: the blocks prove nothing.
    let r = run(&f, &["--rules", "none"], "", "");
    assert_eq!(r.code, Some(3), "{}", r.tap);
    assert_eq!(r.verdicts()["control 10.20.0.5:9000"], "fail");
    assert!(r.tap.contains("# INCONCLUSIVE"), "{}", r.tap);
    // Something outside connects although the control did not: a leak all the same.
    let r = run(&f, &["--rules", "none"], "198.51.100.7:443", "");
    assert_eq!(r.code, Some(1), "{}", r.tap);
    // The control connects but an allowed entry does not: a failed check.
    let r = run(&f, &["--rules", "none"], "10.20.0.5:9000", "");
    assert_eq!(r.code, Some(1), "{}", r.tap);
    assert_eq!(r.verdicts()["allow fd00:20::5:4317"], "fail");
}

#[test]
fn the_rules_check_on_the_host() {
    let f = fixture();
    let r = run(&f, &["--rules", "nft", "--rules-only"], "", "");
    assert_eq!(r.code, Some(0), "{}", r.tap);
    assert_eq!(r.lines.len(), 1);
    assert_eq!(r.lines[0]["observed"], "loaded");
    // Auto finds it too.
    let r = run(&f, &["--rules-only"], "", "");
    assert_eq!(r.lines[0]["verdict"], "pass");
    // Not loaded: a failed check with --rules nft, a skip with auto (another namespace).
    let out = Command::new(f.bin.join("sh"))
        .arg(&f.script)
        .args(["--rules=nft", "--rules-only"])
        .env_clear()
        .env("PATH", &f.bin)
        .env("STUB_TABLE", "other")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#""observed":"missing""#));
    // iptables is not installed in the stub PATH: a failed check when asked for.
    let r = run(&f, &["--rules", "iptables", "--rules-only"], "", "");
    assert_eq!(r.code, Some(1));
    assert_eq!(r.lines[0]["observed"], "unknown");
}

#[test]
fn usage_errors_and_a_missing_probe_tool_exit_2() {
    let f = fixture();
    for args in [
        &["--bogus"][..],
        &["--timeout", "x"],
        &["--timeout", "0"],
        &["--rules", "ufw"],
        &["--rules"],
    ] {
        let r = run(&f, args, "", "");
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.tap);
        assert!(r.lines.is_empty());
    }
    let r = run(&f, &["--help"], "", "");
    assert_eq!(r.code, Some(0));
    assert!(r.tap.contains("usage:"));

    // Only sh: no nc, no bash with timeout, no python3.
    let bare = f.dir.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    std::os::unix::fs::symlink(which("sh").unwrap(), bare.join("sh")).unwrap();
    let out = Command::new(bare.join("sh"))
        .arg(&f.script)
        .args(["--rules", "none"])
        .env_clear()
        .env("PATH", &bare)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: no probe tool"));
}

#[test]
fn the_script_is_posix_sh_deterministic_and_never_pings() {
    let f = fixture();
    let text = std::fs::read_to_string(&f.script).unwrap();
    assert!(text.starts_with("#!/bin/sh\n"));
    assert!(
        !text.contains("ping"),
        "ping proves nothing about TCP/UDP egress"
    );
    for shell in ["sh", "dash", "bash", "busybox"] {
        let Some(path) = which(shell) else { continue };
        let mut cmd = Command::new(path);
        if shell == "busybox" {
            cmd.arg("sh");
        }
        let out = cmd.arg("-n").arg(&f.script).output().unwrap();
        assert!(
            out.status.success(),
            "{shell} -n: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // shellcheck is optional (not installed in CI): when present, it has nothing to say.
    if let Some(shellcheck) = which("shellcheck") {
        let out = Command::new(shellcheck)
            .args(["-s", "sh"])
            .arg(&f.script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "shellcheck: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let again = tempfile::tempdir().unwrap();
    let (_, second, _) = generate(
        again.path(),
        SPEC,
        &[
            "--outside",
            "198.51.100.7:443",
            "--outside",
            "[2001:db8:ff::7]:443/TCP",
            "--outside-name",
            "example.com",
            "--timeout",
            "1",
        ],
    );
    assert_eq!(text.as_bytes(), second.as_slice(), "same spec, same script");
}

#[test]
fn generation_refuses_what_cannot_be_probed() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = generate(dir.path(), SPEC, &["--outside", "1.1.1.1:53/UDP"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("only TCP can be probed"), "{stderr}");
    let (code, _, stderr) = generate(dir.path(), SPEC, &["--outside-name", "bad name"]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, _, _) = generate(dir.path(), SPEC, &["--timeout", "0"]);
    assert_eq!(code, Some(2));
    // No entry with one address and a TCP port: a warning, and a script that says so.
    let wide = "mode: sealed\nnamespaces: [a]\nallow:\n  - {name: mirror, cidr: 10.20.1.0/24, ports: [{port: 443}]}\n";
    let (code, script, stderr) = generate(dir.path(), wide, &[]);
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("warning: no allow-list entry has one address and a TCP port"),
        "{stderr}"
    );
    let script = String::from_utf8(script).unwrap();
    assert!(!script.contains("\ntcp control "), "{script}");
    assert!(
        script.contains("\nno_control 'no allow-list entry has one address and a TCP port"),
        "{script}"
    );
    // The default outside set covers IPv4 and IPv6.
    assert!(script.contains("\ntcp outside '1.1.1.1' 443 closed"));
    assert!(script.contains("\ntcp outside '2606:4700:4700::1111' 443 closed"));
    // A control can be named.
    let (_, script, _) = generate(dir.path(), wide, &["--control", "10.20.1.10:443"]);
    assert!(String::from_utf8(script)
        .unwrap()
        .contains("\ntcp control '10.20.1.10' 443 open 'given with --control'\n"));
}
