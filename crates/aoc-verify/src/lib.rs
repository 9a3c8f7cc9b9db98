//! `aoc-verify`: checks raw advisory and VEX documents against the Aggregation-Only Contract
//! (raw upstream facts with provenance, nothing derived), from MongoDB exports, BSON dumps and
//! PostgreSQL; `aoc-verify guard` filters an ingestion stream.
//!
//! The library is the tool: [`main_with_args`] is what the binary runs.

pub mod chain;
pub mod check;
pub mod cli;
pub mod doc;
pub mod engine;
pub mod extjson;
pub mod guard;
pub mod input;
pub mod raw_hash;
pub mod report;
pub mod rules;
pub mod verify;

use crate::check::Code;
use crate::cli::{Cli, Command, Common, GuardArgs, VerifyArgs};
use crate::engine::{CodeFilter, RunError};
use crate::input::open::{collection_from_name, plan, Pending};
use crate::input::InputError;
use crate::rules::{RuleSet, RulesError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use thiserror::Error;

const TOOL: &str = "aoc-verify";

/// Exit code when violations were found (or documents rejected).
pub const EXIT_VIOLATIONS: u8 = 1;

/// Why a command could not complete (exit 2).
#[derive(Debug, Error)]
pub enum AocError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// A rule file.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// An input.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Writing an output.
    #[error("{what}: {error}")]
    Output {
        /// Which output.
        what: String,
        /// The system's words.
        #[source]
        error: std::io::Error,
    },
}

impl From<InputError> for AocError {
    fn from(e: InputError) -> Self {
        AocError::Run(RunError::Input(e))
    }
}

/// Runs the tool with these arguments; returns its exit code.
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
            ExitCode::from(tool_cli::EXIT_UNUSABLE)
        }
    }
}

/// Runs a parsed command line; returns the exit code of a completed command.
pub fn run(cli: &Cli, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<u8, AocError> {
    match &cli.command {
        Some(Command::Guard(args)) => run_guard(args, stdout, stderr),
        Some(Command::Rules(args)) => {
            let rules = load_rule_files(&args.rules)?;
            let yaml = serde_yaml::to_string(rules.as_file()).map_err(|e| {
                AocError::Usage(format!("the rule set cannot be written as YAML: {e}"))
            })?;
            tool_cli::write_data(stdout, yaml.as_bytes());
            Ok(0)
        }
        None => run_verify(&cli.verify, stdout, stderr),
    }
}

fn load_rules(common: &Common) -> Result<RuleSet, AocError> {
    load_rule_files(&common.rules)
}

fn load_rule_files(files: &[PathBuf]) -> Result<RuleSet, AocError> {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    Ok(RuleSet::load(&paths)?)
}

/// The pool of `--jobs` threads, or `None` for rayon's global pool (one thread per core).
fn pool(common: &Common) -> Result<Option<rayon::ThreadPool>, AocError> {
    match common.jobs {
        None => Ok(None),
        Some(0) => Err(AocError::Usage("--jobs must be at least 1".into())),
        Some(jobs) => rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build()
            .map(Some)
            .map_err(|e| AocError::Usage(format!("cannot start {jobs} threads: {e}"))),
    }
}

fn known_collection(rules: &RuleSet, name: &str) -> Result<(), AocError> {
    if rules.collection(name).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = rules.collection_names().collect();
    Err(AocError::Usage(format!(
        "unknown collection `{name}` (the rules know {}; --rules can add one)",
        known.join(", ")
    )))
}

fn run_verify(
    args: &VerifyArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, AocError> {
    let started = Instant::now();
    let rules = load_rules(&args.common)?;
    if let Some(collection) = &args.collection {
        known_collection(&rules, collection)?;
    }
    let codes = if args.codes.is_empty() {
        CodeFilter::all()
    } else {
        let mut selected = Vec::new();
        for text in &args.codes {
            selected.push(Code::parse(text).ok_or_else(|| {
                AocError::Usage(format!(
                    "--codes: `{text}` is not a code (ERR_AOC_001 … ERR_AOC_007, PARSE)"
                ))
            })?);
        }
        CodeFilter::only(selected)
    };
    let since = args
        .since
        .as_deref()
        .map(|since| parse_since(since, args.now.as_deref()))
        .transpose()?;
    let known: Vec<&str> = rules.collection_names().collect();
    let mut inputs = plan(&args.inputs, args.collection.as_deref(), &known)?;
    if let Some(url) = &args.postgres {
        inputs.extend(postgres_inputs(&rules, args, url)?);
    }
    if inputs.is_empty() {
        return Err(AocError::Usage(
            "nothing to check: name an export, a dump folder or archive, `-` for stdin, or --postgres URL"
                .into(),
        ));
    }
    let scope = verify::Scope {
        since,
        tenant: args.tenant.clone(),
        source: args.source.clone(),
        codes,
        limit: args.limit,
        keep_going: args.keep_going,
        collection: args.collection.clone(),
    };
    let pool = pool(&args.common)?;
    let summary = verify::verify(&rules, &inputs, &scope, pool.as_ref())?;
    let duration = started.elapsed();
    if let Some(dir) = &args.report_dir {
        report::write_report_dir(dir, &summary, duration).map_err(|error| AocError::Output {
            what: dir.display().to_string(),
            error,
        })?;
    }
    tool_cli::write_data(stdout, &report::render(args.format, &summary, duration));
    for (collection, count) in &summary.skipped_by_collection {
        let _ = writeln!(
            stderr,
            "{TOOL}: note: skipped {} of `{}`, a collection the rules do not know or --collection left out",
            plural(*count, "document"),
            tool_cli::sanitize(collection)
        );
    }
    let total = summary.total();
    let by_code: Vec<String> = summary
        .by_code
        .iter()
        .map(|(code, n)| format!("{code} {n}"))
        .collect();
    let _ = writeln!(
        stderr,
        "{TOOL}: {} scanned ({} in scope): {}",
        plural(summary.documents_scanned, "document"),
        summary.documents_in_scope,
        if total == 0 {
            "no violation".to_owned()
        } else {
            format!("{} ({})", plural(total, "violation"), by_code.join(", "))
        }
    );
    Ok(if total == 0 { 0 } else { EXIT_VIOLATIONS })
}

fn postgres_inputs(
    rules: &RuleSet,
    args: &VerifyArgs,
    url: &str,
) -> Result<Vec<Pending>, AocError> {
    let pending = |table: &str, collection: &str| Pending::Postgres {
        url: url.to_owned(),
        table: table.to_owned(),
        column: args.column.clone(),
        collection: collection.to_owned(),
    };
    match (&args.table, &args.collection) {
        (Some(table), Some(collection)) => Ok(vec![pending(table, collection)]),
        (Some(table), None) => {
            let known: Vec<&str> = rules.collection_names().collect();
            let last = table.rsplit('.').next().unwrap_or(table);
            let collection = collection_from_name(Path::new(last), &known).ok_or_else(|| {
                AocError::Usage(format!(
                    "--table {table}: cannot tell which collection it holds from its name; pass --collection"
                ))
            })?;
            Ok(vec![pending(table, &collection)])
        }
        (None, Some(collection)) => Ok(vec![pending(collection, collection)]),
        (None, None) => Ok(rules
            .collection_names()
            .map(|collection| pending(collection, collection))
            .collect()),
    }
}

/// `1 document`, `2 documents`.
pub fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `--since`: `24h`, `7d`, `90m`, `30s` back from `--now` (or the clock), or RFC 3339.
fn parse_since(since: &str, now: Option<&str>) -> Result<i64, AocError> {
    if let Some(at) = extjson::parse_rfc3339_millis(since) {
        return Ok(at);
    }
    let bad = || {
        AocError::Usage(format!(
            "--since `{since}`: give a duration (24h, 7d, 90m, 30s) or an RFC 3339 time"
        ))
    };
    let (number, unit) = since.split_at(since.len().saturating_sub(1));
    let amount: i64 = number.parse().map_err(|_| bad())?;
    let unit_ms: i64 = match unit {
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Err(bad()),
    };
    if amount < 0 {
        return Err(bad());
    }
    let now = match now {
        Some(text) => extjson::parse_rfc3339_millis(text)
            .ok_or_else(|| AocError::Usage(format!("--now `{text}` is not an RFC 3339 time")))?,
        None => {
            let since_epoch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
        }
    };
    Ok(now.saturating_sub(amount.saturating_mul(unit_ms)))
}

fn run_guard(
    args: &GuardArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, AocError> {
    let rules = load_rules(&args.common)?;
    known_collection(&rules, &args.collection)?;
    let pool = pool(&args.common)?;
    let pool = pool.as_ref();
    let input = Pending::File {
        path: args.input.clone(),
        collection: Some(args.collection.clone()),
        bson: false,
    };
    let summary = match &args.rejects {
        None => guard::guard(&rules, &input, pool, stdout, &mut std::io::sink())?,
        // Not a regular file (a FIFO, a terminal, `/dev/stderr` on a pipe): written as the
        // stream goes, since renaming over it would replace the device or pipe with a file.
        Some(path) if path.exists() && !path.is_file() => {
            let output = |error| AocError::Output {
                what: path.display().to_string(),
                error,
            };
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(output)?;
            let mut writer = std::io::BufWriter::new(file);
            guard::guard(&rules, &input, pool, stdout, &mut writer)?
        }
        Some(path) => {
            // Written beside its final name and renamed when the stream has ended, so a
            // rejects file is never seen half-written. A symbolic link is followed to the
            // file it names, which is replaced: the link itself stays (also `/dev/stderr`
            // when stderr goes to a file).
            let resolved;
            let path = match std::fs::symlink_metadata(path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    resolved = std::fs::canonicalize(path).map_err(|error| AocError::Output {
                        what: path.display().to_string(),
                        error,
                    })?;
                    resolved.as_path()
                }
                _ => path.as_path(),
            };
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            let output = |error| AocError::Output {
                what: path.display().to_string(),
                error,
            };
            let mut temp = report::temp_file_in(&folder).map_err(output)?;
            let summary = {
                let mut writer = std::io::BufWriter::new(temp.as_file_mut());
                guard::guard(&rules, &input, pool, stdout, &mut writer)?
            };
            temp.as_file().sync_all().map_err(output)?;
            temp.persist(path).map_err(|e| output(e.error))?;
            summary
        }
    };
    let _ = writeln!(
        stderr,
        "{TOOL} guard: {}: {} passed, {} rejected",
        plural(summary.documents, "document"),
        summary.passed,
        summary.rejected
    );
    Ok(if summary.rejected == 0 {
        0
    } else {
        EXIT_VIOLATIONS
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn since_takes_durations_and_times() {
        let now = Some("2026-11-28T12:00:00Z");
        let at = |t: &str| extjson::parse_rfc3339_millis(t).unwrap();
        assert_eq!(parse_since("24h", now).unwrap(), at("2026-11-27T12:00:00Z"));
        assert_eq!(parse_since("7d", now).unwrap(), at("2026-11-21T12:00:00Z"));
        assert_eq!(parse_since("90m", now).unwrap(), at("2026-11-28T10:30:00Z"));
        assert_eq!(parse_since("30s", now).unwrap(), at("2026-11-28T11:59:30Z"));
        assert_eq!(
            parse_since("2026-01-01T00:00:00Z", None).unwrap(),
            at("2026-01-01T00:00:00Z")
        );
        for bad in ["24", "h", "-1h", "1y", "yesterday", ""] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
        assert!(parse_since("1h", Some("noon")).is_err());
    }
}
