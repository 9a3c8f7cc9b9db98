//! Command-line interface of `checksum-verify`.

use crate::hashing::AlgoArg;
use crate::manifest_source::ManifestArgs;
use clap::{Args, Parser, Subcommand};
use std::num::NonZeroUsize;
use std::path::PathBuf;

/// Verify bundles, folders and sums files strictly; stage verified bundles.
#[derive(Debug, Parser)]
#[command(
    name = "checksum-verify",
    version,
    about = "Verify a bundle .tar.gz, a folder or a sums file strictly, without extracting",
    long_about = "Verify a bundle .tar.gz (streamed, never extracted), an extracted or staged \
folder, or a SHA256SUMS/B3SUMS file against a manifest — plain (--manifest) or signed \
(--envelope with --trust, counted by the same rules as `mirror-sign verify`). Every file's \
size, digests and mode, files missing and files not listed, the Merkle root, the archive's \
own digests, tar hygiene and hostile entries, staleness (--max-age) and rollback (--state). \
The verify report (stellaops.verify-report/v1) goes to stdout with every failure listed, a \
one-line summary to stderr. Exit 0 when everything checks, 1 when anything failed, 2 when an \
input is unusable.",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify a bundle and stage it into an object store; nothing unverified becomes visible.
    Stage(crate::stage::StageArgs),
}

/// Options of the default (verify) command.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle .tar.gz (`-` reads stdin) or folder to verify; with --sums, the folder its paths are relative to [default: the sums file's folder]
    #[arg(value_name = "TARGET", required_unless_present = "sums")]
    pub target: Option<PathBuf>,

    /// Check a sums file (GNU `hex  path` or BSD `SHA256 (path) = hex` lines) instead of a manifest.
    #[arg(long, value_name = "FILE|-", conflicts_with_all = ["manifest", "envelope", "trust", "state", "max_age"])]
    pub sums: Option<PathBuf>,

    #[command(flatten)]
    pub source: ManifestArgs,

    #[command(flatten)]
    pub checks: CheckArgs,

    /// Print `path: OK` or `path: FAILED` for every file on stderr.
    #[arg(short, long)]
    pub verbose: bool,

    /// No summary line on stderr (the report still goes to stdout).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Hashing threads for folders and sums files [default: all cores].
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
}

/// The checks' options, shared with `stage`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Digests to check [default: every digest the manifest carries, sha256 first]
    #[arg(long, value_enum, value_name = "ALGO")]
    pub algo: Option<AlgoArg>,

    /// Files present but not listed are not failures (they are by default, unlike `sha256sum -c`).
    #[arg(long)]
    pub allow_unlisted: bool,

    /// Fail when the bundle's createdAt is older than this at --now: 30m, 72h, 7d, 1h30m.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_age: Option<u64>,

    /// The instant signatures, staleness and --state are judged at (RFC 3339) [default: the clock]
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    /// Remember the accepted mirrorGeneration per bundleId in DIR and refuse a rollback.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// Accept a generation that does not rise (needs --reason; recorded in the --state folder).
    #[arg(long)]
    pub force: bool,

    /// Why --force is used, recorded with the override.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Refuse an archive that expands more than RATIO times its compressed size.
    #[arg(long, value_name = "RATIO", default_value = "1000", value_parser = parse_ratio)]
    pub max_expand: f64,

    /// Refuse an archive that expands past BYTES (suffixes K, M, G, T: powers of 1024) [default: what the manifest accounts for]
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_size: Option<u64>,
}

/// Parses `30m`, `72h`, `7d`, `2w`, `90s`, `1h30m` (or plain seconds) into seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}`: expected a duration such as 30m, 72h, 7d or 1h30m");
    if text.is_empty() {
        return Err(bad());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| bad());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        number.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// Parses `1048576`, `512K`, `512M`, `10G`, `1T` (also `10GiB`, `10g`) into bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}`: expected bytes such as 1048576, 512M or 10G");
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    n.checked_mul(1u64 << shift).ok_or_else(bad)
}

/// Parses a ratio of at least 1 (`1000`, `2.5`).
pub fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 1.0 => Ok(r),
        _ => Err(format!(
            "`{text}`: expected a ratio of at least 1, such as 1000"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("72h"), Ok(72 * 3600));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("7d"), Ok(7 * 86_400));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("45"), Ok(45));
        for bad in ["", "h", "72x", "1.5h", "72h5", "-1h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_and_ratios() {
        assert_eq!(parse_size("10G"), Ok(10 << 30));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4kib"), Ok(4096));
        assert_eq!(parse_size("123"), Ok(123));
        for bad in ["", "G", "10Q", "99999999999T", "-1"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_ratio("2.5"), Ok(2.5));
        assert!(parse_ratio("0.5").is_err() && parse_ratio("nan").is_err());
    }

    #[test]
    fn verify_and_stage_parse() {
        let cli = Cli::try_parse_from([
            "checksum-verify",
            "--envelope",
            "e.json",
            "--trust",
            "t.json",
            "--max-age",
            "72h",
            "b.tar.gz",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.verify.checks.max_age, Some(72 * 3600));
        assert!(Cli::try_parse_from(["checksum-verify", "--envelope", "e", "b"]).is_err());
        assert!(
            Cli::try_parse_from(["checksum-verify", "--sums", "S", "--manifest", "m"]).is_err()
        );
        let sums = Cli::try_parse_from(["checksum-verify", "--sums", "SHA256SUMS"]).unwrap();
        assert!(sums.verify.target.is_none());
        assert!(Cli::try_parse_from(["checksum-verify"]).is_err());
    }
}
