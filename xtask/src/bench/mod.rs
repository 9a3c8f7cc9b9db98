//! `cargo xtask bench …`: measurements against the performance bars of DESIGN §6.
//!
//! A bench prints its figures and PASS/FAIL per bar but exits 0 either way: it is a
//! measurement on a shared machine, not a gate (timed tests would be flaky). Each bench is one
//! module (`pack`, `sign`, later `verify`, `aoc`…) built from the shared pieces here.

mod aoc;
mod corpus;
mod json;
mod machine;
mod measure;
mod pack;
mod sign;
mod verify;

use crate::args::{Args, Usage};
use anyhow::Result;
use json::Json;
use std::path::PathBuf;
use std::process::ExitCode;

const HELP: &str = "\
cargo xtask bench: measure the tools against the performance bars (DESIGN §6)

usage: cargo xtask bench <bench> [--scale F] [--runs N] [--json FILE]

benches:
  aoc     aoc-verify vs an equivalent jq filter on >= 1 GiB of generated raw advisory NDJSON
          (single-threaded jq takes ~30 s per GiB on a fast core, minutes on a slow one)
  pack    bundle-pack vs `tar --sort=name … | pigz -6` on the reference corpus
  sign    mirror-sign sign, verify and attest on the reference corpus's 20,004-file manifest
  verify  checksum-verify vs `sha256sum -c`, `b3sum --check` and `tar -xzf` + `sha256sum -c`

Run `cargo xtask bench <bench> --help` for details.
";

pub fn run(mut args: Args) -> Result<ExitCode> {
    match args.subcommand().as_deref() {
        Some("aoc") => aoc::run(args),
        Some("pack") => pack::run(args),
        Some("sign") => sign::run(args),
        Some("verify") => verify::run(args),
        Some(other) => Err(Usage(format!(
            "unknown bench `{other}` (known: aoc, pack, sign, verify)"
        ))
        .into()),
        None if args.help() => {
            print!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        None => Err(Usage("which bench? (known: aoc, pack, sign, verify)".into()).into()),
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

/// The option lines of every bench's help; `default_runs` as the bench passes to [`Options::parse`].
pub fn options_help(default_runs: usize) -> String {
    format!(
        "\
options:
  --scale F      corpus scale for make-corpus (default 1: the ~1.1 GB reference corpus;
                 0.01 makes an ~11 MB corpus of the same shape for quick runs)
  --runs N       timed runs of each command, after one untimed warm-up run (default {default_runs});
                 the median is reported
  --json FILE    also save the figures and the machine description as JSON
"
    )
}

impl Options {
    pub fn parse(args: &mut Args, default_runs: usize) -> Result<Self, Usage> {
        let scale = args.parsed::<f64>("--scale")?.unwrap_or(1.0);
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Usage(format!(
                "`--scale` must be a positive number, not {scale}"
            )));
        }
        let runs = args.parsed::<usize>("--runs")?.unwrap_or(default_runs);
        if runs == 0 {
            return Err(Usage("`--runs` must be at least 1".into()));
        }
        let json = args.value("--json")?.map(PathBuf::from);
        Ok(Self { scale, runs, json })
    }
}

/// A performance bar: a measured value against its limit.
#[derive(Debug)]
pub struct Bar {
    pub name: &'static str,
    pub value: f64,
    pub limit: f64,
    /// The value must stay strictly below the limit (`<`), not merely reach it (`<=`).
    pub strict: bool,
}

impl Bar {
    pub fn pass(&self) -> bool {
        if self.strict {
            self.value < self.limit
        } else {
            self.value <= self.limit
        }
    }

    fn limit_text(&self) -> String {
        format!("{} {}", if self.strict { "<" } else { "<=" }, self.limit)
    }

    pub fn json(&self) -> Json {
        Json::obj([
            ("name", Json::str(self.name)),
            ("value", Json::Num(self.value)),
            ("limit", Json::Num(self.limit)),
            ("strict", Json::Bool(self.strict)),
            ("pass", Json::Bool(self.pass())),
        ])
    }
}

/// The table of bars with PASS/FAIL, as every bench ends its report.
pub fn print_bars(bars: &[Bar]) {
    let width = bars.iter().map(|b| b.name.len()).max().unwrap_or(0).max(3) + 2;
    println!(
        "{:<width$}{:>10}{:>10}   verdict",
        "bar", "measured", "limit"
    );
    for bar in bars {
        println!(
            "{:<width$}{:>10.3}{:>10}   {}",
            bar.name,
            bar.value,
            bar.limit_text(),
            if bar.pass() { "PASS" } else { "FAIL" }
        );
    }
}

/// Bytes as MiB, for reports.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strict_bar_fails_at_its_limit() {
        let bar = |value, strict| Bar {
            name: "x",
            value,
            limit: 100.0,
            strict,
        };
        assert!(bar(100.0, false).pass());
        assert!(!bar(100.0, true).pass());
        assert!(bar(99.9, true).pass());
        assert!(!bar(f64::NAN, false).pass());
    }
}
