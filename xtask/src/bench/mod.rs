//! `cargo xtask bench …`: measurements against the performance bars of DESIGN §6.
//!
//! A bench prints its figures and PASS/FAIL per bar but exits 0 either way: it is a
//! measurement on a shared machine, not a gate (timed tests would be flaky). Each bench is one
//! module (`pack`, later `verify`, `aoc`…) built from the shared pieces here.

mod corpus;
mod json;
mod machine;
mod measure;
mod pack;

use crate::args::{Args, Usage};
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

const HELP: &str = "\
cargo xtask bench: measure the tools against the performance bars (DESIGN §6)

usage: cargo xtask bench <bench> [--scale F] [--runs N] [--json FILE]

benches:
  pack    bundle-pack vs `tar --sort=name … | pigz -6` on the reference corpus

Run `cargo xtask bench <bench> --help` for details.
";

pub fn run(mut args: Args) -> Result<ExitCode> {
    match args.subcommand().as_deref() {
        Some("pack") => pack::run(args),
        Some(other) => Err(Usage(format!("unknown bench `{other}` (known: pack)")).into()),
        None if args.help() => {
            print!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        None => Err(Usage("which bench? (known: pack)".into()).into()),
    }
}

/// Options every bench takes.
#[derive(Debug)]
pub struct Options {
    /// Corpus scale passed to `make-corpus --scale` (1 = the 1.1 GB reference corpus).
    pub scale: f64,
    /// Timed runs of each command; the median is reported.
    pub runs: usize,
    /// Where to save the figures as JSON.
    pub json: Option<PathBuf>,
}

/// The option lines of every bench's help.
pub const OPTIONS_HELP: &str = "\
options:
  --scale F      corpus scale for make-corpus (default 1: the ~1.1 GB reference corpus;
                 0.01 makes an ~11 MB corpus of the same shape for quick runs)
  --runs N       timed runs of each command, after one untimed warm-up run (default 3);
                 the median is reported
  --json FILE    also save the figures and the machine description as JSON
";

impl Options {
    pub fn parse(args: &mut Args) -> Result<Self, Usage> {
        let scale = args.parsed::<f64>("--scale")?.unwrap_or(1.0);
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Usage(format!(
                "`--scale` must be a positive number, not {scale}"
            )));
        }
        let runs = args.parsed::<usize>("--runs")?.unwrap_or(3);
        if runs == 0 {
            return Err(Usage("`--runs` must be at least 1".into()));
        }
        let json = args.value("--json")?.map(PathBuf::from);
        Ok(Self { scale, runs, json })
    }
}
