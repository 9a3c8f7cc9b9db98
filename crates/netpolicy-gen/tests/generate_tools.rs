//! The generated files checked by the tools that consume them: Python's
//! `kubernetes-validate --strict` for the NetworkPolicies, `nft -c -f` for the nftables
//! ruleset, `iptables-restore --test` / `ip6tables-restore --test` for the DOCKER-USER rules,
//! `sh -n` for the apply script; and for each, a mutated file the tool must reject, so a
//! checker that accepts anything cannot pass these tests.
//!
//! The tools are required: missing ones fail the tests (`.ci/run` installs them). `nft` and
//! `iptables-restore` run as root in a fresh network namespace (`unshare --net`), so the
//! check never touches the host's rules.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers of a test binary: a failed expectation is a failed test"
)]

mod generate_support;

use generate_support::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Generates every golden case into a temporary folder.
fn generated() -> Vec<(&'static str, tempfile::TempDir)> {
    CASES
        .iter()
        .map(|(case, spec)| {
            let tmp = tempfile::tempdir().unwrap();
            generate(&workspace_root().join(spec), "all", tmp.path());
            (*case, tmp)
        })
        .collect()
}

/// Writes `text` with `from` replaced by `to` (which must change it) next to `path`.
fn mutated(path: &Path, from: &str, to: &str) -> PathBuf {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{}: no `{from}` to mutate",
        path.display()
    );
    let bad = path.with_extension("mutated");
    fs::write(&bad, text.replacen(from, to, 1)).unwrap();
    bad
}

fn kubernetes_validate(files: &[PathBuf]) -> Run {
    let tool = require_tool(
        "kubernetes-validate",
        "python3 -m pip install kubernetes-validate",
    );
    run_cmd(
        Command::new(tool)
            .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
            .args(files),
    )
}

#[test]
fn kubernetes_validate_accepts_the_networkpolicies_strictly() {
    for (case, out) in generated() {
        let files: Vec<PathBuf> = read_tree(out.path())
            .into_keys()
            .filter(|p| p.starts_with("k8s/"))
            .map(|p| out.path().join(p))
            .collect();
        assert!(!files.is_empty(), "{case}");
        let run = kubernetes_validate(&files);
        let stdout = run.stdout_text();
        assert_eq!(run.code, Some(0), "{case}: {stdout}{}", run.stderr);
        // It checked every document against the schema, and skipped none.
        let documents: usize = files
            .iter()
            .map(|f| yaml_documents(&fs::read_to_string(f).unwrap()).len())
            .sum();
        assert_eq!(
            stdout
                .matches(" passed for resource networkpolicy/")
                .count(),
            documents,
            "{case}: {stdout}{}",
            run.stderr
        );
        assert!(
            !stdout.contains("WARN") && !run.stderr.contains("WARN"),
            "{case}: {stdout}{}",
            run.stderr
        );
    }
}

#[test]
fn kubernetes_validate_rejects_a_mutated_networkpolicy() {
    let (_, out) = generated().remove(0);
    let file = out.path().join("k8s/stellaops.yaml");
    for (from, to) in [
        ("  policyTypes:\n", "  policyType:\n"),
        ("      port: 53\n", "      port: {}\n"),
        ("    - protocol: UDP\n", "    - protocol: 53\n"),
    ] {
        let bad = mutated(&file, from, to);
        let run = kubernetes_validate(&[bad]);
        assert_eq!(
            run.code,
            Some(1),
            "`{from}` -> `{to}` must be rejected: {}{}",
            run.stdout_text(),
            run.stderr
        );
    }
}

/// Runs `program args…` as root in a fresh network namespace, `stdin` from a file.
fn in_netns(program: &str, package: &str, args: &[&str], stdin: Option<&Path>) -> Run {
    require_root("netfilter checks talk to the kernel");
    let unshare = require_tool("unshare", "apt-get install util-linux");
    let tool = require_tool(program, &format!("apt-get install {package}"));
    let mut cmd = Command::new(unshare);
    cmd.arg("--net").arg(tool).args(args);
    let out = match stdin {
        Some(path) => cmd.stdin(fs::File::open(path).unwrap()).output(),
        None => cmd.stdin(std::process::Stdio::null()).output(),
    }
    .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn nft_check(path: &Path) -> Run {
    in_netns(
        "nft",
        "nftables",
        &["-c", "-f", path.to_str().unwrap()],
        None,
    )
}

#[test]
fn nft_accepts_the_ruleset() {
    for (case, out) in generated() {
        let run = nft_check(&out.path().join("nftables/sealed-egress.nft"));
        assert_eq!(run.code, Some(0), "{case}: {}", run.stderr);
    }
}

#[test]
fn nft_rejects_a_mutated_ruleset() {
    let (_, out) = generated().remove(0);
    let file = out.path().join("nftables/sealed-egress.nft");
    for (from, to) in [
        (
            "ct state established,related accept",
            "ct state established,related acept",
        ),
        ("priority filter - 1", "priority filtre - 1"),
        ("tcp dport 9000", "tcp dport 90000"),
    ] {
        let run = nft_check(&mutated(&file, from, to));
        assert_ne!(run.code, Some(0), "`{from}` -> `{to}` must be rejected");
        assert!(run.stderr.contains("Error"), "{}", run.stderr);
    }
}

fn restore_test(tool: &str, path: &Path) -> Run {
    in_netns(tool, "iptables", &["--test", "--noflush"], Some(path))
}

#[test]
fn iptables_restore_and_ip6tables_restore_accept_their_files() {
    for (case, out) in generated() {
        for (tool, rel) in [
            ("iptables-restore", "iptables/sealed-egress.v4.rules"),
            ("ip6tables-restore", "iptables/sealed-egress.v6.rules"),
        ] {
            let run = restore_test(tool, &out.path().join(rel));
            assert_eq!(run.code, Some(0), "{case}: {tool} {rel}: {}", run.stderr);
        }
    }
    // Each file is for its own family: the other tool refuses it.
    let (_, out) = generated().remove(0);
    let run = restore_test(
        "iptables-restore",
        &out.path().join("iptables/sealed-egress.v6.rules"),
    );
    assert_ne!(
        run.code,
        Some(0),
        "IPv6 addresses given to iptables-restore"
    );
}

#[test]
fn iptables_restore_rejects_mutated_files() {
    let (_, out) = generated().remove(0);
    let v4 = "iptables/sealed-egress.v4.rules";
    let v6 = "iptables/sealed-egress.v6.rules";
    for (tool, rel, from, to) in [
        ("iptables-restore", v4, "--dport 9000", "--dprot 9000"),
        (
            "iptables-restore",
            v4,
            "--ctstate RELATED,ESTABLISHED",
            "--ctstate RELATED,ESTABLISHD",
        ),
        ("iptables-restore", v4, "COMMIT\n", "COMIT\n"),
        ("ip6tables-restore", v6, "--dport 4317", "--dprot 4317"),
        (
            "ip6tables-restore",
            v6,
            "-d fd00:20::/64",
            "-d fd00:20::/129",
        ),
    ] {
        let run = restore_test(tool, &mutated(&out.path().join(rel), from, to));
        assert_ne!(
            run.code,
            Some(0),
            "{tool}: `{from}` -> `{to}` must be rejected"
        );
    }
}

#[test]
fn the_apply_script_is_valid_posix_sh() {
    for (case, out) in generated() {
        let script = out.path().join("iptables/apply.sh");
        let run = run_cmd(Command::new("sh").arg("-n").arg(&script));
        assert_eq!(run.code, Some(0), "{case}: {}", run.stderr);
        let bad = mutated(&script, "    fi\n", "    fy\n");
        let run = run_cmd(Command::new("sh").arg("-n").arg(&bad));
        assert_ne!(
            run.code,
            Some(0),
            "{case}: sh -n must reject a broken script"
        );
    }
}
