//! Command-line arguments.

use crate::report::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Inputs: NDJSON or JSON-array exports in MongoDB Extended JSON (relaxed or canonical), \
`<collection>.bson` files, dump folders (`dump/` or `dump/<db>/`), `mongodump --archive` \
files, each plain or gzip; `-` is stdin; `--postgres URL` reads jsonb tables. The collection \
comes from the file name (`advisory_raw.ndjson.gz`) or --collection.

Exit status: 0 no violation, 1 violations (guard: documents rejected), 2 unusable input or \
usage. See docs/aoc-verify.md for every code and its fix.";

/// Checks raw advisory and VEX documents against the Aggregation-Only Contract.
#[derive(Debug, Parser)]
#[command(
    name = "aoc-verify",
    version,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub verify: VerifyArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Filter a stream inside an ingestion pipeline: clean documents to stdout byte for
    /// byte, rejected ones (with their violations) to --rejects; exit 1 when any was rejected.
    Guard(GuardArgs),
    /// Print the rule set in effect (built in, extended by --rules) as YAML.
    Rules(RulesArgs),
}

/// Options shared by every command.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Extend the built-in rules with this YAML file (repeatable; see `aoc-verify rules`).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// Threads that decode and check documents (default: every core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Exports, dump folders or archives to check (`-` for stdin).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// The collection of every input (default: from each file's name).
    #[arg(long, value_name = "NAME")]
    pub collection: Option<String>,

    /// Read from PostgreSQL (postgresql://user@host:port/db), with a server-side cursor.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,

    /// Table to read with --postgres (default: one table per collection, named after it).
    #[arg(long, value_name = "TABLE", requires = "postgres")]
    pub table: Option<String>,

    /// The jsonb column holding the documents.
    #[arg(
        long,
        value_name = "COLUMN",
        default_value = "document",
        requires = "postgres"
    )]
    pub column: String,

    /// Report only documents ingested since then: a duration back from now (`24h`, `7d`,
    /// `90m`, `30s`) or an RFC 3339 time. Revision chains still use every document read.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// The time `--since 24h` counts back from (RFC 3339; default: the clock).
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,

    /// Report only this tenant's documents.
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,

    /// Report only this source's documents (`source.vendor`, or `providerId` for VEX).
    #[arg(long, value_name = "VENDOR")]
    pub source: Option<String>,

    /// Report only these codes (`ERR_AOC_001,004` or `1,4`; PARSE for unreadable documents).
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub codes: Vec<String>,

    /// List at most N violations (counts stay exact; the report says `truncated`).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,

    /// Also write aoc-report.json, violations.ndjson, junit.xml and aoc.prom here.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,

    /// Report a malformed document as ERR_AOC_PARSE and go on, instead of stopping (exit 2).
    #[arg(long)]
    pub keep_going: bool,

    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct GuardArgs {
    /// The collection the documents are written to.
    #[arg(long, value_name = "NAME")]
    pub collection: String,

    /// Write each rejected document, with its violations, here (one JSON line each).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// NDJSON to filter (default: stdin).
    #[arg(value_name = "INPUT", default_value = "-")]
    pub input: PathBuf,

    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Extend the built-in rules with this YAML file (repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
}
