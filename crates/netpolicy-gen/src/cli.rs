//! Command-line interface of `netpolicy-gen`.

use clap::{Parser, Subcommand};

/// Deny-all egress policies from one spec, a linter, an evaluator and a sealed-mode verifier.
#[derive(Debug, Parser)]
#[command(
    name = "netpolicy-gen",
    version,
    about = "Deny-all egress policies for Kubernetes and compose hosts from one spec; lint, evaluate, scan and verify them",
    long_about = "Turn one small sealed-mode spec into the egress policies for every place the \
platform runs (Kubernetes NetworkPolicy, Cilium, Calico, nftables, iptables DOCKER-USER), check \
existing policies for holes, answer allow/deny questions offline, find endpoints that are not on \
the allow-list, and emit a script that proves egress is blocked on the real data path. Data on \
stdout (JSON), messages on stderr. Exit 0 ok, 1 findings (lint, scan, leak), 2 usage, input, I/O \
or internal error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the policies for a target from a spec; print the list of files written (JSON).
    #[command(
        long_about = "Write the policies for TARGET from the spec into DIR and print the list of \
    files written as JSON (stellaops.netpolicy-files/v1): each file's path (relative to DIR), \
    sha256 and size, and policyHash = sha256 of the SHA256SUMS text of those files (sorted by path), \
    ready to feed bundle-pack. Output is deterministic. Each file is written to a temporary name \
    and renamed into place; files already in DIR that this run did not write are left alone and \
    named on stderr."
    )]
    Generate(crate::generate::GenerateArgs),
    /// Find holes in existing NetworkPolicy and Cilium YAML; exit 1 on findings.
    Lint(crate::lint::LintArgs),
    /// Answer allow or deny for a flow against a folder of policies, offline.
    Eval(crate::eval::EvalArgs),
    /// Find host names and IP addresses in configuration files that are not on the allow-list.
    Scan(crate::scan::ScanArgs),
    /// Print a POSIX sh script that proves sealed mode on the data path.
    VerifyScript(crate::verify_script::VerifyScriptArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
