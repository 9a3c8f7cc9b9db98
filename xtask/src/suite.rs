//! `cargo xtask test`: the project's one test command (README), also what `.ci/run` runs.

use crate::args::Args;
use crate::{cmd, workspace};
use anyhow::{bail, Result};
use std::process::ExitCode;

const HELP: &str = "\
cargo xtask test: the whole test suite, stopping at the first failure

usage: cargo xtask test

Checks that the system tools the tests drive (Debian packages, the Python
kubernetes-validate and the garage S3 server) are installed, then runs
  cargo fmt --all -- --check
  cargo clippy --workspace --all-targets -- -D warnings
  cargo build --workspace --bins   (the end-to-end tests in tests/ run the built tools)
  cargo test --workspace --doc    (only with nextest, which does not run doctests)
  cargo nextest run --workspace   (or `cargo test --workspace` without cargo-nextest)
  cargo llvm-cov nextest -p aoc-verify …   (line coverage of aoc-verify's rule engine,
      failing below 90 %; target/coverage/aoc-verify.lcov and aoc-verify-summary.json)
On a fresh Debian machine, `.ci/run` installs the system tools first.
";

/// System tools the tests drive for interoperability, with the Debian package of each.
/// Missing ones fail the run: tests that need them are never skipped.
const REQUIRED_TOOLS: &[(&str, &str)] = &[
    ("tar", "tar"),
    ("gzip", "gzip"),
    ("sha256sum", "coreutils"),
    ("b3sum", "b3sum"),
    ("python3", "python3"),
    ("pigz", "pigz"),
    ("setpriv", "util-linux"),
    ("unshare", "util-linux"),
    ("mkfifo", "coreutils"),
    ("mknod", "coreutils"),
    ("openssl", "openssl"),
    ("signify-openbsd", "signify-openbsd"),
    // netpolicy-gen: `nft -c -f`, `iptables-restore --test`, data-path tests in `ip netns`.
    ("nft", "nftables"),
    ("iptables", "iptables"),
    ("iptables-restore", "iptables"),
    ("ip6tables", "iptables"),
    ("ip6tables-restore", "iptables"),
    ("ip", "iproute2"),
    // The probes of the emitted sealed-verify.sh, run in the data-path tests.
    ("nc", "netcat-openbsd"),
    ("timeout", "coreutils"),
    ("getent", "libc-bin"),
];

/// Python tools the tests drive, installed with pip (`.ci/run` does it when one is missing):
/// the command, then the pip requirement.
const PIP_TOOLS: &[(&str, &str)] = &[
    // netpolicy-gen's generated Kubernetes YAML is checked against the API schemas.
    ("kubernetes-validate", "kubernetes-validate"),
];

/// Python modules the tests import, with the pip requirement of each.
const PYTHON_MODULES: &[(&str, &str)] = &[
    // aoc-verify's BSON fixtures are encoded by pymongo's `bson` (an independent encoder).
    ("bson", "pymongo"),
];

/// aoc-verify's rule engine: the sources whose line coverage must stay at or above
/// [`COVERAGE_FLOOR`] percent. Everything else (inputs, CLI, output formats, other crates) is
/// left out of the figure by [`COVERAGE_IGNORE`].
const COVERAGE_FLOOR: &str = "90";
const COVERAGE_IGNORE: &str = "(/\\.cargo/|/rustc/|/crates/(offline-formats|tool-cli|bundle-pack|mirror-sign|checksum-verify|netpolicy-gen)/|/xtask/|/crates/aoc-verify/(tests/|src/(input/|cli\\.rs|lib\\.rs|main\\.rs|report\\.rs)))";

/// The S3 server the `checksum-verify stage` tests start on loopback, which Debian does not
/// package: installed from crates.io (`.ci/run` does it when it is missing).
const GARAGE_INSTALL: &str = "cargo install --locked garage --version 2.5.0 \
--no-default-features --features bundled-libs,sqlite";

pub fn run(mut args: Args) -> Result<ExitCode> {
    if args.help() {
        print!("{HELP}");
        return Ok(ExitCode::SUCCESS);
    }
    args.finish()?;

    let names: Vec<&str> = REQUIRED_TOOLS.iter().map(|(tool, _)| *tool).collect();
    println!("==> system tools the tests use: {}", names.join(" "));
    let missing: Vec<&(&str, &str)> = REQUIRED_TOOLS
        .iter()
        .filter(|(tool, _)| cmd::which(tool).is_none())
        .collect();
    if !missing.is_empty() {
        let tools: Vec<&str> = missing.iter().map(|(tool, _)| *tool).collect();
        let mut packages: Vec<&str> = missing.iter().map(|(_, package)| *package).collect();
        packages.dedup();
        bail!(
            "missing system tools: {} (install them: `apt-get install {}`, or run `.ci/run` \
             as root on a fresh Debian machine)",
            tools.join(", "),
            packages.join(" ")
        );
    }
    let names: Vec<&str> = PIP_TOOLS.iter().map(|(tool, _)| *tool).collect();
    println!("==> Python tools the tests use: {}", names.join(" "));
    let missing: Vec<&(&str, &str)> = PIP_TOOLS
        .iter()
        .filter(|(tool, _)| cmd::which(tool).is_none())
        .collect();
    if !missing.is_empty() {
        let tools: Vec<&str> = missing.iter().map(|(tool, _)| *tool).collect();
        let reqs: Vec<&str> = missing.iter().map(|(_, req)| *req).collect();
        bail!(
            "missing Python tools: {} (install them: `python3 -m pip install {}`, or run \
             `.ci/run`)",
            tools.join(", "),
            reqs.join(" ")
        );
    }
    let names: Vec<&str> = PYTHON_MODULES.iter().map(|(module, _)| *module).collect();
    println!("==> Python modules the tests import: {}", names.join(" "));
    for (module, requirement) in PYTHON_MODULES {
        let found = std::process::Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            bail!(
                "missing Python module `{module}` (install it: `python3 -m pip install \
                 {requirement}`, or run `.ci/run`)"
            );
        }
    }
    println!("==> PostgreSQL the aoc-verify --postgres tests start: initdb, postgres");
    let postgres = std::fs::read_dir("/usr/lib/postgresql")
        .map(|versions| {
            versions.flatten().any(|v| {
                v.path().join("bin/initdb").is_file() && v.path().join("bin/postgres").is_file()
            })
        })
        .unwrap_or(false);
    if !postgres && std::env::var_os("AOC_TEST_PG_BINDIR").is_none() {
        bail!(
            "missing PostgreSQL server binaries under /usr/lib/postgresql/<version>/bin \
             (install them: `apt-get install postgresql`, or run `.ci/run`)"
        );
    }
    println!("==> coverage tool: cargo llvm-cov");
    let llvm_cov = cmd::cargo()
        .args(["llvm-cov", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !llvm_cov {
        bail!(
            "missing cargo-llvm-cov (aoc-verify's rule-engine coverage): install it with \
             `cargo install --locked cargo-llvm-cov` and `rustup component add llvm-tools`, or \
             run `.ci/run`"
        );
    }
    println!("==> S3 server the stage tests start: garage");
    if cmd::which("garage").is_none() {
        bail!(
            "missing `garage` (the stage tests run a real S3 server): install it with \
             `{GARAGE_INSTALL}`, or run `.ci/run`"
        );
    }
    println!("all found");

    let nextest = cmd::which("cargo-nextest").is_some();
    let mut steps: Vec<Vec<&str>> = vec![
        vec!["fmt", "--all", "--", "--check"],
        vec![
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        // The workspace end-to-end tests (tests/) run the built binaries, which
        // `cargo test` builds only for the tool's own package.
        vec!["build", "--workspace", "--bins"],
    ];
    if nextest {
        // Doctests first, so that the run ends on nextest's summary of every test.
        steps.push(vec!["test", "--workspace", "--doc"]);
        steps.push(vec!["nextest", "run", "--workspace"]);
    } else {
        println!("(cargo-nextest is not installed: using `cargo test`)");
        steps.push(vec!["test", "--workspace"]);
    }

    let coverage_dir = workspace::root().join("target/coverage");
    std::fs::create_dir_all(&coverage_dir)?;
    let lcov = coverage_dir.join("aoc-verify.lcov");
    let summary = coverage_dir.join("aoc-verify-summary.json");
    let (lcov, summary) = (lcov.display().to_string(), summary.display().to_string());
    let runner = if nextest { "nextest" } else { "test" };
    // One instrumented run of aoc-verify's tests: the lcov file and the floor, then the JSON
    // summary from the same profile data.
    steps.push(vec![
        "llvm-cov",
        runner,
        "-p",
        "aoc-verify",
        "--ignore-filename-regex",
        COVERAGE_IGNORE,
        "--fail-under-lines",
        COVERAGE_FLOOR,
        "--lcov",
        "--output-path",
        &lcov,
    ]);
    steps.push(vec![
        "llvm-cov",
        "report",
        "--ignore-filename-regex",
        COVERAGE_IGNORE,
        "--json",
        "--summary-only",
        "--output-path",
        &summary,
    ]);

    let total = steps.len();
    for (i, step) in steps.iter().enumerate() {
        println!("\n==> [{}/{total}] cargo {}", i + 1, step.join(" "));
        cmd::run(cmd::cargo().current_dir(workspace::root()).args(step))?;
    }
    let lines = std::fs::read(&summary)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|report| report.pointer("/data/0/totals/lines").cloned());
    match lines {
        Some(lines) => println!(
            "\naoc-verify rule engine: {} of {} lines covered, {:.1} % (floor {COVERAGE_FLOOR} %); \
             artefacts: {lcov}, {summary}",
            lines["covered"], lines["count"], lines["percent"].as_f64().unwrap_or(0.0)
        ),
        None => println!("\ncoverage artefacts of aoc-verify's rule engine: {lcov}, {summary}"),
    }
    println!("\ntest: all {total} steps passed");
    Ok(ExitCode::SUCCESS)
}
