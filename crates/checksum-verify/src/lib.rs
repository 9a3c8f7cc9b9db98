//! `checksum-verify`: decides whether a bundle (archive or folder) or a sums file is exactly
//! what was packed and approved, strictly — every file's size, digests and mode, nothing
//! missing, nothing added, nothing hostile in the archive — and fast. `stage` loads a verified
//! bundle into an object store. The binary only parses arguments and calls [`run`].
//!
//! The archive verifier is reusable: [`verify::verify_bundle`] runs every check and streams
//! each listed entry into an [`sink::EntrySink`] while it is hashed.

pub mod archive;
pub mod checks;
pub mod cli;
pub mod error;
pub mod folder;
pub mod hashing;
pub mod manifest_source;
pub mod paths;
pub mod report;
pub mod sink;
pub mod stage;
pub mod state;
pub mod sums;
pub mod verify;

use crate::cli::{Cli, Command, VerifyArgs};
use crate::error::VerifyError;
use crate::verify::{Settings, Target, Verdict};
use offline_formats::jcs;
use std::io::Write;
use std::process::ExitCode;

/// The tool's name in messages.
pub const TOOL: &str = "checksum-verify";

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
    match run(cli, stdout, stderr) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            tool_cli::report_error(TOOL, stderr, &e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs a parsed command line; returns the exit code of a completed run (0 ok, 1 a check
/// failed).
pub fn run(cli: Cli, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<u8, VerifyError> {
    match cli.command {
        Some(Command::Stage(args)) => crate::stage::run(&args, stdout, stderr),
        None => verify_command(&cli.verify, stdout, stderr),
    }
}

/// `checksum-verify [OPTIONS] TARGET`.
fn verify_command(
    args: &VerifyArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, VerifyError> {
    let settings = Settings::from_args(&args.checks, args.jobs)?;
    let verdict = match (&args.sums, &args.target) {
        (Some(sums), target) => {
            if target.as_deref().is_some_and(|t| t.as_os_str() == "-") {
                return Err(VerifyError::Usage(
                    "with --sums, TARGET is the folder the paths are relative to, not `-`".into(),
                ));
            }
            verify::verify_sums(sums, target.as_deref(), &settings)?
        }
        (None, Some(target)) => match Target::of(target)? {
            Target::Archive(path) => {
                verify::verify_bundle(&path, &args.source, &settings, &mut sink::Discard)?
            }
            Target::Folder(path) => verify::verify_folder(&path, &args.source, &settings)?,
        },
        (None, None) => {
            return Err(VerifyError::Usage(
                "give a TARGET (bundle .tar.gz, `-`, or folder), or --sums FILE".into(),
            ))
        }
    };
    if let Some(forced) = verdict.commit_state()? {
        let _ = writeln!(
            stderr,
            "{TOOL}: warning: rollback from mirrorGeneration {} to {} accepted with --force: {}",
            forced.from_generation,
            forced.to_generation,
            tool_cli::sanitize(&forced.reason)
        );
    }
    print_verdict(&verdict, args.verbose, args.quiet, stdout, stderr)?;
    Ok(exit_code(&verdict))
}

/// Writes the report on stdout, the `-v` lines and the summary on stderr.
pub fn print_verdict(
    verdict: &Verdict,
    verbose: bool,
    quiet: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), VerifyError> {
    let json = jcs::to_pretty_vec(&verdict.report)
        .map_err(|e| VerifyError::Internal(format!("verify report: {e}")))?;
    tool_cli::write_data(stdout, &json);
    if verbose {
        let _ = stderr.write_all(verdict.findings.verbose_lines().as_bytes());
    }
    if !quiet {
        let line = report::summary(&verdict.report);
        let _ = if verdict.ok() {
            writeln!(stderr, "{TOOL}: {line}")
        } else {
            writeln!(stderr, "{TOOL}: error: {line}")
        };
    }
    Ok(())
}

/// 0 when the verdict is ok, 1 otherwise.
pub fn exit_code(verdict: &Verdict) -> u8 {
    u8::from(!verdict.ok())
}
