//! `netpolicy-gen`: deny-all egress policies for Kubernetes (NetworkPolicy, Cilium, Calico) and
//! compose hosts (nftables, iptables `DOCKER-USER`) from one spec, a policy linter, an offline
//! evaluator, an allow-list scanner and a sealed-mode verify script.
//! The binary only parses arguments and calls [`run`].

pub mod cli;
pub mod error;
pub mod eval;
pub mod generate;
pub mod lint;
pub mod policy;
pub mod scan;
pub mod spec;
pub mod verify_script;

use crate::cli::{Cli, Command};
use crate::error::NetpolicyError;
use std::io::Write;
use std::process::ExitCode;

/// The tool's name in messages.
pub const TOOL: &str = "netpolicy-gen";

/// Parses `args` and runs the tool, writing data to `stdout` and messages to `stderr`.
pub fn main_with_args<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match tool_cli::parse::<Cli, _, _>(TOOL, args, stdout, stderr) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match run(&cli, stdout, stderr) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            tool_cli::report_error(TOOL, stderr, &e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs a parsed command line; returns the exit code of a completed command.
pub fn run(
    cli: &Cli,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, NetpolicyError> {
    match &cli.command {
        Command::Generate(args) => generate::run(args, stdout, stderr),
        Command::Lint(args) => lint::run(args, stdout, stderr),
        Command::Eval(args) => eval::run(args, stdout, stderr),
        Command::Scan(args) => scan::run(args, stdout, stderr),
        Command::VerifyScript(args) => verify_script::run(args, stdout, stderr),
    }
}
