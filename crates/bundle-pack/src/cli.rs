//! Command-line interface of `bundle-pack`.

use clap::{Args, Parser, Subcommand};
use std::num::NonZeroUsize;
use std::path::PathBuf;

/// Deterministic `.tar.gz` bundles for air-gapped sites, hashed while packed.
#[derive(Debug, Parser)]
#[command(
    name = "bundle-pack",
    version,
    about = "Pack folders into a deterministic .tar.gz bundle with a manifest",
    long_about = "Pack folders and files into a deterministic .tar.gz bundle for an air-gapped \
site. Every file is read once, hashed (SHA-256 and BLAKE3) and compressed in parallel. The \
archive's first entry is manifest.json; the manifest with the archive's own digests is printed \
on stdout. The same inputs always give the same bytes, whatever the clock, umask, user, file \
order on disk or --jobs.",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub pack: PackArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the manifest embedded in a bundle and check that it is the first entry.
    Inspect {
        /// The bundle (`.tar.gz`).
        archive: PathBuf,
    },
}

/// Options of the default (pack) command.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// Pack configuration (YAML): bundleId, kind, mirrorGeneration, producer, createdAt, sources.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Folder or file to pack; its contents go to the bundle root, or under PREFIX.
    #[arg(short, long = "input", value_name = "DIR[=PREFIX]")]
    pub inputs: Vec<String>,

    /// Bundle id (overrides the configuration's bundleId).
    #[arg(long, value_name = "ID")]
    pub bundle_id: Option<String>,

    /// Bundle kind: bootstrap, mirror, offline-kit, … [default: bootstrap]
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,

    /// Mirror generation; must rise with every release of the same bundle [default: 1]
    #[arg(long, value_name = "N")]
    pub generation: Option<u64>,

    /// Producer recorded in the manifest [default: bundle-pack/<version>]
    #[arg(long, value_name = "TEXT")]
    pub producer: Option<String>,

    /// Creation time (RFC 3339) [default: SOURCE_DATE_EPOCH, else 1970-01-01T00:00:00Z]
    #[arg(long, value_name = "TIME")]
    pub created_at: Option<String>,

    /// Modification time of every entry, seconds since the epoch [default: SOURCE_DATE_EPOCH, else 0]
    #[arg(long, value_name = "SECONDS")]
    pub mtime: Option<u64>,

    /// Leave out paths matching this glob (relative to each source; `**` crosses folders).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// The archive to write (written to a temporary name, renamed when complete).
    #[arg(short, long, value_name = "OUT.tar.gz", required = true)]
    pub output: Option<PathBuf>,

    /// Also write the manifest (with its `archive` member) to this file.
    #[arg(short, long = "manifest", value_name = "FILE")]
    pub manifest: Option<PathBuf>,

    /// Write a SHA256SUMS file (GNU format) of the bundle's files, for `sha256sum -c`.
    #[arg(long, value_name = "FILE")]
    pub sums: Option<PathBuf>,

    /// Write a B3SUMS file (GNU format) of the bundle's files, for `b3sum --check`.
    #[arg(long, value_name = "FILE")]
    pub b3sums: Option<PathBuf>,

    /// Compression: 0 (stored) to 9, or auto (6 where data compresses, stored where not).
    #[arg(long, value_name = "0-9|auto", default_value = "auto", allow_hyphen_values = true, value_parser = crate::config::parse_level)]
    pub level: crate::gzip::Level,

    /// Compression threads [default: all cores]. The output is the same for every value.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// Pack the targets of symbolic links instead of refusing them.
    #[arg(long)]
    pub follow_symlinks: bool,

    /// No progress bar and no summary line on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
