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

    let total = steps.len();
    for (i, step) in steps.iter().enumerate() {
        println!("\n==> [{}/{total}] cargo {}", i + 1, step.join(" "));
        cmd::run(cmd::cargo().current_dir(workspace::root()).args(step))?;
    }
    println!("\ntest: all {total} steps passed");
    Ok(ExitCode::SUCCESS)
}
