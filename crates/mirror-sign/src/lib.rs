//! `mirror-sign`: Ed25519 keys, DSSE signatures, K-of-N approvals, trust roots,
//! signify-compatible signed sums, in-toto provenance and a hash-chained audit trail.
//! The binary only parses arguments and calls [`run`].

pub mod attest;
pub mod audit;
pub mod cli;
pub mod document;
pub mod error;
pub mod key_status;
pub mod keys;
pub mod publish;
pub mod sign;
pub mod signify;
pub mod trust;
pub mod verify;

use crate::cli::{AuditCommand, Cli, Command, PubFormat};
use crate::document::read_input;
use crate::error::SignError;
use crate::sign::{Combined, Signed};
use offline_formats::jcs;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

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

/// The tool's name in messages.
const TOOL: &str = "mirror-sign";

/// Escapes control characters in a message for people (keyids, owners and file names may
/// be hostile).
pub use tool_cli::sanitize;

/// Runs a parsed command line; returns the exit code of a completed command.
pub fn run(cli: Cli, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<u8, SignError> {
    match cli.command {
        Command::Keygen(args) => {
            let output = keys::keygen(&args)?;
            write_json(stdout, &output)?;
            Ok(0)
        }
        Command::Pub(args) => {
            let key = keys::load_public_key(&args.key, &args.passphrase)?;
            let text = match args.format {
                PubFormat::Pem => keys::pem_public_key(&key),
                PubFormat::Raw => format!("{}\n", keys::raw_public_key(&key)),
                PubFormat::Signify => signify::public_key_file(&key, &signify_comment(&args.key))?,
            };
            write_data(stdout, text.as_bytes());
            Ok(0)
        }
        Command::Sign(args) => {
            let keyid = key_id(args.key_id.as_deref(), &args.key)?;
            let key = keys::load_signing_key(&args.key, &args.passphrase)?;
            let input = read_input(Path::new("-"))?;
            let (envelope, outcome) = sign::sign(input, &key, &keyid)?;
            drop(key);
            let result = match outcome {
                Signed::AlreadySigned => "already-signed",
                _ => "signed",
            };
            publish::record(
                &args.audit,
                audit::action::SIGN,
                &publish::payload_digest(&envelope)?,
                Some(&keyid),
                result,
            )?;
            if outcome == Signed::AlreadySigned {
                let _ = writeln!(
                    stderr,
                    "mirror-sign: `{}` already signed this envelope; unchanged",
                    sanitize(&args.key.display().to_string())
                );
            }
            write_json(stdout, &envelope)?;
            Ok(0)
        }
        Command::Approve(args) => {
            let keyid = key_id(args.key_id.as_deref(), &args.key)?;
            let key = keys::load_signing_key(&args.key, &args.passphrase)?;
            let envelope = document::read_envelope(Path::new("-"), "approve")?;
            let approval = sign::approve(&envelope, &key, &keyid)?;
            drop(key);
            publish::record(
                &args.audit,
                audit::action::APPROVE,
                &publish::payload_digest(&envelope)?,
                Some(&keyid),
                "approved",
            )?;
            write_json(stdout, &approval)?;
            Ok(0)
        }
        Command::Combine(args) => {
            let (envelope, outcomes) = sign::combine(&args.envelope, &args.approvals)?;
            for (path, outcome) in args.approvals.iter().zip(&outcomes) {
                if *outcome == Combined::AlreadyPresent {
                    let _ = writeln!(
                        stderr,
                        "mirror-sign: `{}`: the envelope already holds this signature; skipped",
                        sanitize(&path.display().to_string())
                    );
                }
            }
            let added = outcomes
                .iter()
                .filter(|o| **o != Combined::AlreadyPresent)
                .count();
            publish::record(
                &args.audit,
                audit::action::COMBINE,
                &publish::payload_digest(&envelope)?,
                None,
                &format!("added {added} of {}", outcomes.len()),
            )?;
            let bytes = pretty(&envelope)?;
            match &args.output {
                Some(path) => write_file_atomically(path, &bytes)?,
                None => write_data(stdout, &bytes),
            }
            Ok(0)
        }
        Command::Verify(args) => {
            let report = verify::verify(&args)?.report;
            publish::record_verdict(&args.audit, &report)?;
            write_json(stdout, &report)?;
            for problem in &report.problems {
                let _ = writeln!(stderr, "mirror-sign: error: {}", sanitize(&problem.message));
            }
            Ok(verify::exit_code(&report))
        }
        Command::Status(args) => {
            let verdict = verify::verify(&args)?;
            let report = &verdict.report;
            publish::record_verdict(&args.audit, report)?;
            let text = verify::render_status(report, verdict.root_keys);
            write_data(stdout, text.as_bytes());
            Ok(verify::exit_code(report))
        }
        Command::Trust(command) => trust::run(&command, stdout, stderr),
        Command::Keys(command) => key_status::run(&command, stdout, stderr),
        Command::Sums(args) => {
            let manifest = publish::read_manifest_stdin()?;
            let output = publish::sums(&args, &manifest)?;
            write_json(stdout, &output)?;
            Ok(0)
        }
        Command::Attest(args) => {
            let manifest = publish::read_manifest_stdin()?;
            let envelope = publish::attest(&args, &manifest)?;
            write_json(stdout, &envelope)?;
            Ok(0)
        }
        Command::Audit(AuditCommand::Verify { file, checkpoint }) => {
            let (verdict, code) = publish::audit_verify(&file, checkpoint.as_deref())?;
            if let Some(problem) = &verdict.problem {
                let _ = writeln!(stderr, "mirror-sign: error: {}", sanitize(problem));
            }
            write_json(stdout, &verdict)?;
            Ok(code)
        }
    }
}

/// The comment of a signify public key file: `mirror-sign public key <keyid>` when the key
/// file's name is a valid keyid, so `signify` users can tell their keys apart.
fn signify_comment(key: &Path) -> String {
    match keys::default_key_id(key) {
        Ok(id) if keys::validate_key_id(&id).is_ok() => format!("mirror-sign public key {id}"),
        _ => "mirror-sign public key".to_owned(),
    }
}

pub(crate) fn key_id(given: Option<&str>, key: &Path) -> Result<String, SignError> {
    match given {
        Some(id) => {
            keys::validate_key_id(id)?;
            Ok(id.to_owned())
        }
        None => keys::default_key_id(key),
    }
}

fn pretty<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, SignError> {
    jcs::to_pretty_vec(value).map_err(|e| SignError::Internal(e.to_string()))
}

fn write_json<T: serde::Serialize>(stdout: &mut dyn Write, value: &T) -> Result<(), SignError> {
    write_data(stdout, &pretty(value)?);
    Ok(())
}

use tool_cli::write_data;

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`, so
/// `path` is either the old or the new document, never half of one.
pub(crate) fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), SignError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".mirror-sign.")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| SignError::io(dir, e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| SignError::io(temp.path(), e))?;
    // Keep the mode of the file replaced (or 0644 for a new one), not the temporary file's 0600.
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => std::os::unix::fs::PermissionsExt::from_mode(0o644),
    };
    let _ = temp.as_file().set_permissions(permissions);
    temp.persist(path)
        .map_err(|e| SignError::io(path, e.error))?;
    Ok(())
}
