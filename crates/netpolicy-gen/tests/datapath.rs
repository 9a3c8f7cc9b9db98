//! Data-path tests: the generated nftables ruleset and iptables DOCKER-USER rules applied to a
//! compose host in network namespaces, with real connections; the emitted sealed-verify.sh
//! run inside a container; and `eval` agreeing with what the packets do.
//!
//! Needs root. Without root these tests say so and pass when CI is unset; with CI set they
//! fail (CI runs as root).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test binary: a failed expectation is a failed test"
)]

mod datapath_support;

use datapath_support::{
    helper_main, output, parse_task, privileged, Endpoint, HelperTask, Outcome, Site, BIN,
    BRIDGE_TABLE, HELPER_ENV, OUTSIDE_TABLE,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The helper process behind every listener and probe (see `datapath_support`). Run by the
/// test runner, it checks its own task parsing and the DNS answers it would give.
#[test]
fn helper_process() {
    if let Ok(task) = std::env::var(HELPER_ENV) {
        helper_main(&task);
        return;
    }
    assert_eq!(
        parse_task("serve tcp:10.0.0.1:80 dns:[fd00::1]:53").unwrap(),
        HelperTask::Serve(vec![
            Endpoint::Tcp("10.0.0.1:80".parse().unwrap()),
            Endpoint::Dns("[fd00::1]:53".parse().unwrap()),
        ])
    );
    assert!(parse_task("probe dns:10.0.0.1:53").is_err());
    assert!(parse_task("listen tcp:10.0.0.1:80").is_err());
    // A query for example.com A: one answer, 203.0.113.80; AAAA: none.
    let mut query = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    query.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
    let answer = datapath_support::dns_answer(&query).unwrap();
    assert_eq!(&answer[..2], &[0x12, 0x34]);
    assert_eq!(answer[7], 1, "one answer");
    assert_eq!(&answer[answer.len() - 4..], &[203, 0, 113, 80]);
    let qtype = query.len() - 3;
    query[qtype] = 28;
    assert_eq!(datapath_support::dns_answer(&query).unwrap()[7], 0);
}

fn all_targets() -> Vec<&'static str> {
    OUTSIDE_TABLE
        .iter()
        .map(|(a, _)| *a)
        .chain(BRIDGE_TABLE.iter().copied())
        .collect()
}

/// Before any rule: every destination answers from container c1, so a closed one later is the
/// rules' doing (the tests' own positive control).
fn assert_all_open(site: &Site) {
    let seen = site.probe(&site.c1, &all_targets());
    for (target, outcome) in &seen {
        assert_eq!(outcome, &Outcome::Open, "baseline {target}: {seen:?}");
    }
}

/// With the rules loaded: allowed destinations and the bridge answer (replies included), every
/// other one times out (dropped, not rejected), IPv4 and IPv6.
fn assert_sealed(site: &Site) {
    let seen = site.probe(&site.c1, &all_targets());
    for (target, allowed) in OUTSIDE_TABLE {
        let expected = if *allowed {
            Outcome::Open
        } else {
            Outcome::Timeout
        };
        assert_eq!(seen[*target], expected, "{target}: {seen:?}");
    }
    for target in BRIDGE_TABLE {
        assert_eq!(
            seen[*target],
            Outcome::Open,
            "intra-bridge {target}: {seen:?}"
        );
    }
}

#[test]
fn nftables_ruleset_seals_the_bridge_and_counts_drops() {
    if !privileged("nftables_ruleset_seals_the_bridge_and_counts_drops") {
        return;
    }
    let site = Site::new("nft");
    assert_all_open(&site);
    let out = site.generate("nftables");
    site.apply_nftables(&out);
    let (v4, v6) = (site.nft_drops("ipv4"), site.nft_drops("ipv6"));
    assert_sealed(&site);
    assert!(
        site.nft_drops("ipv4") > v4,
        "IPv4 drop counter did not rise"
    );
    assert!(
        site.nft_drops("ipv6") > v6,
        "IPv6 drop counter did not rise"
    );
}

#[test]
fn nftables_block_survives_accepts_in_other_chains() {
    if !privileged("nftables_block_survives_accepts_in_other_chains") {
        return;
    }
    let site = Site::new("nfa");
    // Someone else's table accepts everything from the bridge, before and after ours.
    let other = site.dir.path().join("other.nft");
    std::fs::write(
        &other,
        "table inet filter {\n\
         \tchain early { type filter hook forward priority filter - 10; policy accept; iifname \"br-stellaops\" accept; }\n\
         \tchain late { type filter hook forward priority filter; policy accept; accept; }\n\
         }\n",
    )
    .unwrap();
    site.ok(&site.host, &["nft", "-f", other.to_str().unwrap()]);
    assert_all_open(&site);
    let out = site.generate("nftables");
    site.apply_nftables(&out);
    assert_sealed(&site);
}

#[test]
fn nftables_applied_twice_leaves_one_copy() {
    if !privileged("nftables_applied_twice_leaves_one_copy") {
        return;
    }
    let site = Site::new("nf2");
    let out = site.generate("nftables");
    site.apply_nftables(&out);
    let once = site.ok(&site.host, &["nft", "list", "ruleset"]);
    site.apply_nftables(&out);
    let twice = site.ok(&site.host, &["nft", "list", "ruleset"]);
    assert_eq!(once, twice, "a second load changed the ruleset");
    assert_eq!(
        twice.matches("table inet sealed_egress").count(),
        1,
        "{twice}"
    );
    assert_eq!(twice.matches("jump from_compose").count(), 1, "{twice}");
    assert_sealed(&site);
}

#[test]
fn iptables_docker_user_rules_seal_the_bridge_and_count_drops() {
    if !privileged("iptables_docker_user_rules_seal_the_bridge_and_count_drops") {
        return;
    }
    let site = Site::new("ipt");
    site.docker_like_forward();
    assert_all_open(&site);
    let out = site.generate("iptables");
    site.apply_iptables(&out);
    let (v4, v6) = (
        site.iptables_drops("iptables"),
        site.iptables_drops("ip6tables"),
    );
    assert_sealed(&site);
    assert!(
        site.iptables_drops("iptables") > v4,
        "IPv4 drops did not rise"
    );
    assert!(
        site.iptables_drops("ip6tables") > v6,
        "IPv6 drops did not rise"
    );
}

#[test]
fn iptables_block_survives_an_accept_already_in_docker_user() {
    if !privileged("iptables_block_survives_an_accept_already_in_docker_user") {
        return;
    }
    let site = Site::new("ipa");
    site.docker_like_forward();
    for tool in ["iptables", "ip6tables"] {
        site.ok(
            &site.host,
            &[
                tool,
                "-w",
                "-I",
                "DOCKER-USER",
                "1",
                "-i",
                "br-stellaops",
                "-j",
                "ACCEPT",
            ],
        );
    }
    assert_all_open(&site);
    let out = site.generate("iptables");
    site.apply_iptables(&out);
    assert_sealed(&site);
}

#[test]
fn iptables_block_survives_an_accept_ahead_of_the_docker_user_jump() {
    if !privileged("iptables_block_survives_an_accept_ahead_of_the_docker_user_jump") {
        return;
    }
    let site = Site::new("ipf");
    site.docker_like_forward();
    for tool in ["iptables", "ip6tables"] {
        site.ok(
            &site.host,
            &[
                tool,
                "-w",
                "-I",
                "FORWARD",
                "1",
                "-i",
                "br-stellaops",
                "-j",
                "ACCEPT",
            ],
        );
    }
    let out = site.generate("iptables");
    site.apply_iptables(&out);
    // An ACCEPT ahead of the jump ends FORWARD before DOCKER-USER is reached: the applied
    // rules must put the sealing jump back in front (as Docker's own start-up does for
    // `-j DOCKER-USER`), or filter from a place such an accept cannot skip.
    for tool in ["iptables", "ip6tables"] {
        let forward = site.ok(&site.host, &[tool, "-w", "-S", "FORWARD"]);
        let first = forward.lines().nth(1).unwrap_or_default();
        assert!(
            first.ends_with("-j DOCKER-USER") || first.ends_with("-j SEALED-EGRESS"),
            "{tool}: after apply.sh the first FORWARD rule is `{first}`, an ACCEPT ahead of \
             DOCKER-USER: nothing of ours is reached\n{forward}"
        );
    }
    assert_sealed(&site);
}

#[test]
fn iptables_applied_twice_leaves_one_copy() {
    if !privileged("iptables_applied_twice_leaves_one_copy") {
        return;
    }
    let site = Site::new("ip2");
    site.docker_like_forward();
    let out = site.generate("iptables");
    let rules = |site: &Site| {
        let v4 = site.ok(&site.host, &["iptables", "-w", "-S"]);
        let v6 = site.ok(&site.host, &["ip6tables", "-w", "-S"]);
        (v4, v6)
    };
    site.apply_iptables(&out);
    let once = rules(&site);
    site.apply_iptables(&out);
    let twice = rules(&site);
    assert_eq!(once, twice, "a second apply changed the rules");
    for text in [&twice.0, &twice.1] {
        assert_eq!(
            text.matches("-A DOCKER-USER -j SEALED-EGRESS").count(),
            1,
            "{text}"
        );
    }
    assert_sealed(&site);
}

// ---- sealed-verify.sh ------------------------------------------------------------------

/// Generates the verify script for the test site.
fn verify_script(site: &Site, extra: &[&str]) -> PathBuf {
    let spec = site.spec();
    let mut args = vec![
        BIN,
        "verify-script",
        "--spec",
        spec.to_str().unwrap(),
        "--outside",
        "198.51.100.7:443",
        "--outside",
        "10.20.0.6:9000",
        "--outside",
        "[2001:db8:ff::7]:443",
        "--outside-name",
        "example.com",
        "--timeout",
        "1",
    ];
    args.extend_from_slice(extra);
    let run = output(&args);
    assert!(
        run.status.success(),
        "verify-script: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let path = site
        .dir
        .path()
        .join(format!("sealed-verify-{}.sh", extra.len()));
    std::fs::write(&path, &run.stdout).unwrap();
    let check = output(&["sh", "-n", path.to_str().unwrap()]);
    assert!(check.status.success(), "sh -n: {check:?}");
    path
}

/// What a run of the script printed: exit code and the JSON line of each check.
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

fn run_script(ns: &str, script: &Path, args: &[&str], path_env: Option<&Path>) -> ScriptRun {
    let ip = datapath_support::which("ip").expect("ip on PATH");
    let mut cmd = std::process::Command::new(ip);
    cmd.args(["netns", "exec", ns, "sh", script.to_str().unwrap()])
        .args(args);
    if let Some(dir) = path_env {
        cmd.env("PATH", dir);
    }
    let out = cmd.output().expect("run sealed-verify.sh");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 stdout");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line: {l}: {e}")))
        .collect();
    for line in &lines {
        for key in [
            "check", "dst", "expected", "observed", "port", "proto", "verdict",
        ] {
            assert!(line.get(key).is_some(), "{key} missing from {line}");
        }
    }
    ScriptRun {
        code: out.status.code(),
        lines,
        tap: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A folder holding only the tools the script needs plus `tool` (nc, bash or python3), to
/// make it pick that probe method.
fn tool_path(site: &Site, tool: &str) -> Option<PathBuf> {
    let which = datapath_support::which;
    let target = if tool == "python3" {
        // pyenv and friends put a shell shim on PATH: link the interpreter itself.
        let out = output(&["python3", "-c", "import sys; print(sys.executable)"]);
        out.status
            .success()
            .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))?
    } else {
        which(tool)?
    };
    let dir = site.dir.path().join(format!("bin-{tool}"));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["sh", "timeout", "grep", "awk", "getent", "cat"] {
        if let Some(p) = which(name) {
            std::os::unix::fs::symlink(p, dir.join(name)).unwrap();
        }
    }
    std::os::unix::fs::symlink(target, dir.join(tool)).unwrap();
    Some(dir)
}

#[test]
fn verify_script_passes_when_sealed_and_reports_the_leak_without_rules() {
    if !privileged("verify_script_passes_when_sealed_and_reports_the_leak_without_rules") {
        return;
    }
    let site = Site::new("vs");
    let script = verify_script(&site, &[]);

    // No rules: the leaks are reported, exit 1; the control and the allowed entries pass.
    let open = run_script(&site.c1, &script, &[], None);
    assert_eq!(open.code, Some(1), "{}", open.tap);
    let v = open.verdicts();
    for leak in [
        "port 10.20.0.5:9001",
        "port fd00:20::5:4318",
        "outside 198.51.100.7:443",
        "outside 10.20.0.6:9000",
        "outside 2001:db8:ff::7:443",
        "dns example.com:53",
    ] {
        assert_eq!(v[leak], "leak", "{leak}: {v:?}\n{}", open.tap);
    }
    for pass in [
        "control 10.20.0.5:9000",
        "allow 10.20.0.5:9000",
        "allow fd00:20::5:4317",
    ] {
        assert_eq!(v[pass], "pass", "{pass}: {v:?}");
    }
    assert!(open.tap.contains("not ok"), "{}", open.tap);
    assert!(open.tap.contains("\n1..10\n"), "{}", open.tap);

    // The host rules check: nothing loaded yet.
    let host = run_script(
        &site.host,
        &script,
        &["--rules", "nft", "--rules-only"],
        None,
    );
    assert_eq!(host.code, Some(1), "{}", host.tap);

    // Sealed: every check passes (the rules are not visible from the container: skipped).
    let out = site.generate("nftables");
    site.apply_nftables(&out);
    let sealed = run_script(&site.c1, &script, &[], None);
    assert_eq!(
        sealed.code,
        Some(0),
        "{:?}\n{}",
        sealed.verdicts(),
        sealed.tap
    );
    let v = sealed.verdicts();
    assert_eq!(v.len(), 10, "{v:?}");
    for (check, verdict) in &v {
        let want = if check.starts_with("rules ") {
            "skip"
        } else {
            "pass"
        };
        assert_eq!(verdict, want, "{check}: {v:?}");
    }
    let host = run_script(
        &site.host,
        &script,
        &["--rules", "nft", "--rules-only"],
        None,
    );
    assert_eq!(host.code, Some(0), "{}", host.tap);
    assert_eq!(host.verdicts().into_values().collect::<Vec<_>>(), ["pass"]);

    // Every probe method the script knows reaches the same verdicts.
    for tool in ["nc", "bash", "python3"] {
        let Some(dir) = tool_path(&site, tool) else {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            assert!(!ci, "probe method {tool}: not installed and CI is set (nc: apt-get install netcat-openbsd)");
            eprintln!("probe method {tool}: not installed here, not tried");
            continue;
        };
        let run = run_script(&site.c1, &script, &[], Some(&dir));
        assert!(run.tap.contains(&format!("(probe: {tool},")), "{}", run.tap);
        assert_eq!(
            run.code,
            Some(0),
            "{tool}: {:?}\n{}",
            run.verdicts(),
            run.tap
        );
    }
}

#[test]
fn verify_script_is_inconclusive_when_the_positive_control_fails() {
    if !privileged("verify_script_is_inconclusive_when_the_positive_control_fails") {
        return;
    }
    let site = Site::new("vc");
    let out = site.generate("nftables");
    site.apply_nftables(&out);
    // A control nothing can reach: with the rules loaded nothing leaks, so the run proves
    // nothing (exit 3).
    let script = verify_script(&site, &["--control", "10.20.0.5:9002"]);
    let run = run_script(&site.c1, &script, &[], None);
    assert_eq!(run.code, Some(3), "{:?}\n{}", run.verdicts(), run.tap);
    assert!(run.tap.contains("INCONCLUSIVE"), "{}", run.tap);
    // A leak is still a leak when the control fails.
    site.ok(
        &site.host,
        &["nft", "delete", "table", "inet", "sealed_egress"],
    );
    let run = run_script(&site.c1, &script, &[], None);
    assert_eq!(run.code, Some(1), "{}", run.tap);
}

// ---- eval against the data path --------------------------------------------------------

#[test]
fn eval_agrees_with_the_data_path() {
    if !privileged("eval_agrees_with_the_data_path") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let k8s = datapath_support::generate_in(tmp.path(), "k8s");
    let targets: Vec<&str> = OUTSIDE_TABLE.iter().map(|(a, _)| *a).collect();
    let mut args = vec![
        BIN,
        "eval",
        "--policies",
        k8s.to_str().unwrap(),
        "--from",
        "stellaops/app=scanner",
        "--matrix",
    ];
    for t in &targets {
        args.extend(["--to", t]);
    }
    let run = output(&args);
    assert!(
        run.status.success(),
        "eval: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    let row = &report["matrix"]["rows"][0];
    let evaluated: BTreeMap<&str, bool> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| (*t, row[i] == "allow"))
        .collect();
    for backend in ["nftables", "iptables"] {
        let site = Site::new(&format!("e{}", &backend[..2]));
        let out = site.generate(backend);
        if backend == "iptables" {
            site.docker_like_forward();
            site.apply_iptables(&out);
        } else {
            site.apply_nftables(&out);
        }
        let seen = site.probe(&site.c1, &targets);
        for t in &targets {
            let open = seen[*t] == Outcome::Open;
            assert_eq!(
                open,
                evaluated[t],
                "{backend}: {t}: data path {:?}, eval {}",
                seen[*t],
                if evaluated[t] { "allow" } else { "deny" }
            );
        }
    }
    // The table is the one the spec means, not a trivially agreeing one.
    let expected: BTreeMap<&str, bool> = OUTSIDE_TABLE.iter().copied().collect();
    assert_eq!(evaluated, expected);
}
