//! `cargo xtask bench aoc`: aoc-verify against an equivalent jq filter on ≥ 1 GB of raw
//! advisory NDJSON (DESIGN §6: ≥ 10 × jq's throughput, work on every core, memory flat).

mod generate;

use super::json::Json;
use super::machine::{self, Machine};
use super::{measure, mib};
use crate::args::{Args, Usage};
use crate::{cmd, workspace};
use anyhow::{bail, Context, Result};
use generate::{Tally, GENERATOR_VERSION};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

const HELP: &str = "\
cargo xtask bench aoc: aoc-verify vs an equivalent jq filter on raw advisory NDJSON

usage: cargo xtask bench aoc [--size-mb N] [--runs N] [--jq-runs N] [--json FILE]

Generates (once, cached in target/bench-aoc/) N MiB of advisory_raw documents as a MongoDB
export writes them (Extended JSON v2, relaxed, one per line, 1-10 KB each: OSV, GHSA and
CSAF advisories as content.raw), with about 1 % of the documents carrying each of
ERR_AOC_001, 002, 004, 005, 006 and 007 (exactly one violation per violating document, the
expected counts saved beside the corpus) and about 10 % later revisions with `supersedes`.
Builds aoc-verify in release mode, writes the jq filter to target/bench-out/aoc/aoc.jq, and
runs, under GNU time (peak RSS, user and system CPU time), with a warm page cache:
  aoc-verify --collection advisory_raw --format json --limit 1000 CORPUS   (N runs, median)
  jq -c -f aoc.jq CORPUS                                                  (jq runs, median)
The jq filter checks the same per-document rules except the content_hash comparison (jq
cannot hash) and prints one line per violating document. jq is single-threaded and slow: a
run over the default 1 GiB takes about half a minute on a fast core with jq 1.6, and minutes
on a slow one, which is why it runs once by default.
Prints the throughput of both against the bars: aoc-verify >= 10 x jq's, its CPU use
((user+sys)/wall) > 0.75 x the cores (> 1.5 on 2 cores: the work is spread over all cores),
its peak RSS <= 64 MiB + 64 bytes per document. Checks that aoc-verify's documentsScanned
and counts.byCode, and jq's violating documents per code, are the expected ones (a
mismatch is a FAIL line). Exits 0 whether or not a bar is met (it prints FAIL).

options:
  --size-mb N    corpus size in MiB (default 1024: at least 1 GiB; 20 is a quick check)
  --runs N       timed runs of aoc-verify, after one untimed warm-up run (default 3);
                 the median is reported
  --jq-runs N    timed runs of jq (default 1); the median is reported
  --json FILE    also save the figures and the machine description as JSON
";

const DEFAULT_SIZE_MB: u64 = 1024;
const DEFAULT_RUNS: usize = 3;
const DEFAULT_JQ_RUNS: usize = 1;
const THROUGHPUT_BAR: f64 = 10.0;
/// aoc-verify's (user+sys)/wall must exceed this share of the cores.
const CPU_SHARE_BAR: f64 = 0.75;
const RSS_BASE_MIB: f64 = 64.0;
const RSS_BYTES_PER_DOCUMENT: f64 = 64.0;
/// About what jq 1.6 does on this filter (near its bare parsing speed), for the time estimate
/// printed before its run.
const JQ_ESTIMATE_MB_PER_S: f64 = 30.0;
/// Violations listed in aoc-verify's report; its counts cover them all.
const REPORT_LIMIT: &str = "1000";

const FILTER: &str = include_str!("aoc.jq");

/// GNU time: peak RSS in KiB, user and system CPU seconds, on its last stderr line.
const GNU_TIME: &str = "/usr/bin/time";
const TIME_FORMAT: &str = "%M %U %S";

#[derive(Debug)]
struct Options {
    size_mb: u64,
    runs: usize,
    jq_runs: usize,
    json: Option<PathBuf>,
}

impl Options {
    fn parse(args: &mut Args) -> Result<Self, Usage> {
        let at_least_one = |name: &str, value: Option<usize>, default: usize| match value {
            Some(0) => Err(Usage(format!("`{name}` must be at least 1"))),
            v => Ok(v.unwrap_or(default)),
        };
        let size_mb = args.parsed::<u64>("--size-mb")?.unwrap_or(DEFAULT_SIZE_MB);
        if size_mb == 0 {
            return Err(Usage("`--size-mb` must be at least 1".into()));
        }
        let runs = at_least_one("--runs", args.parsed("--runs")?, DEFAULT_RUNS)?;
        let jq_runs = at_least_one("--jq-runs", args.parsed("--jq-runs")?, DEFAULT_JQ_RUNS)?;
        let json = args.value("--json")?.map(PathBuf::from);
        Ok(Self {
            size_mb,
            runs,
            jq_runs,
            json,
        })
    }
}

pub fn run(mut args: Args) -> Result<ExitCode> {
    if args.help() {
        print!("{HELP}");
        return Ok(ExitCode::SUCCESS);
    }
    let options = Options::parse(&mut args)?;
    args.finish()?;

    measure::require_gnu_time()?;
    if cmd::which("jq").is_none() {
        bail!("bench aoc needs jq on PATH (Debian: apt-get install jq)");
    }

    println!("==> corpus");
    let corpus = Corpus::ensure(options.size_mb)?;
    let tally = &corpus.tally;
    println!(
        "{} documents, {:.1} MiB, lines {}-{} bytes; {} violating ({} with a content_hash \
         mismatch jq cannot see), {} revisions",
        tally.documents,
        mib(tally.bytes),
        tally.min_line,
        tally.max_line,
        tally.violating(),
        tally.hash_mismatches(),
        tally.revisions
    );

    println!("\n==> building aoc-verify");
    workspace::build_release(&["aoc-verify"])?;

    let out = workspace::target_dir().join("bench-out").join("aoc");
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let filter = out.join("aoc.jq");
    fs::write(&filter, FILTER).with_context(|| format!("cannot write {}", filter.display()))?;
    let report_path = out.join("aoc-verify-report.json");
    let jq_path = out.join("jq-violations.ndjson");

    let aoc = Tool {
        label: "aoc-verify",
        program: workspace::release_binary("aoc-verify").into(),
        args: vec![
            "--collection".into(),
            "advisory_raw".into(),
            "--format".into(),
            "json".into(),
            "--limit".into(),
            REPORT_LIMIT.into(),
            corpus.path.clone().into(),
        ],
        // 1: violations were found, which is what this corpus must give.
        ok_status: &[0, 1],
    };
    let jq = Tool {
        label: "jq",
        program: "jq".into(),
        args: vec![
            "-c".into(),
            "-f".into(),
            filter.clone().into(),
            corpus.path.clone().into(),
        ],
        ok_status: &[0],
    };
    println!("\n==> commands");
    println!("a: {} > {}", aoc.display(), workspace::short(&report_path));
    println!("b: {} > {}", jq.display(), workspace::short(&jq_path));

    println!("\n==> warm-up (untimed): aoc-verify");
    let warm_up = aoc.run(&report_path)?;
    let first_report = Report::read(&report_path, warm_up.status);
    println!("done in {:.3} s", warm_up.wall);

    let estimate = tally.bytes as f64 / 1e6 / JQ_ESTIMATE_MB_PER_S;
    println!(
        "\n==> timed runs: aoc-verify x {}, jq x {} (a jq run takes {}: jq is single-threaded, \
         ~{JQ_ESTIMATE_MB_PER_S} MB/s with jq 1.6 on a fast core)",
        options.runs,
        options.jq_runs,
        if estimate < 90.0 {
            format!("about {:.0} s", estimate.max(1.0))
        } else {
            format!("about {:.0} min", (estimate / 60.0).ceil())
        }
    );
    let mut aoc_runs = Vec::with_capacity(options.runs);
    let mut jq_runs = Vec::with_capacity(options.jq_runs);
    let mut reports_agree = true;
    for i in 1..=options.runs.max(options.jq_runs) {
        if i <= options.jq_runs {
            // Named before it starts: a jq run can take minutes.
            progress(&format!("jq run {i}/{}: ", options.jq_runs));
            let r = jq.run(&jq_path)?;
            println!("{}", r.line(tally.bytes));
            jq_runs.push(r);
        }
        if i <= options.runs {
            progress(&format!("aoc-verify run {i}/{}: ", options.runs));
            let r = aoc.run(&report_path)?;
            println!("{}", r.line(tally.bytes));
            reports_agree &= Report::read(&report_path, r.status).counts() == first_report.counts();
            aoc_runs.push(r);
        }
    }
    let jq_found = JqFindings::read(&jq_path);

    let figures = Figures {
        aoc: Summary::of(&aoc_runs, tally.bytes),
        jq: Summary::of(&jq_runs, tally.bytes),
        aoc_runs,
        jq_runs,
    };
    let machine = machine::describe();
    let bounds = bounds(&figures, tally, &machine);
    let checks = checks(tally, &first_report, reports_agree, &jq_found);
    print(&figures, &corpus, &machine, &options, &bounds, &checks);
    if let Some(path) = &options.json {
        let doc = json(
            &figures,
            &corpus,
            &machine,
            &options,
            &bounds,
            &checks,
            [&aoc, &jq],
        );
        fs::write(path, doc.pretty())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("\nfigures saved to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints without a newline, at once.
fn progress(text: &str) {
    print!("{text}");
    let _ = std::io::Write::flush(&mut std::io::stdout());
}

// ---------------------------------------------------------------------------------------
// The corpus, cached by size and generator version.

#[derive(Debug)]
struct Corpus {
    path: PathBuf,
    expected: PathBuf,
    size_mb: u64,
    tally: Tally,
}

impl Corpus {
    /// `target/bench-aoc/advisory_raw-<N>mib-v<G>.ndjson` and, written only once the corpus is
    /// complete, its expected counts beside it (`….expected.json`).
    fn ensure(size_mb: u64) -> Result<Self> {
        let dir = workspace::target_dir().join("bench-aoc");
        let stem = format!("advisory_raw-{size_mb}mib-v{GENERATOR_VERSION}");
        let path = dir.join(format!("{stem}.ndjson"));
        let expected = dir.join(format!("{stem}.expected.json"));
        if let Some(tally) = Self::cached(&path, &expected) {
            println!("reusing {}", workspace::short(&path));
            return Ok(Self {
                path,
                expected,
                size_mb,
                tally,
            });
        }
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Self::remove_other_versions(&dir, size_mb, &stem)?;
        let partial = dir.join(format!("{stem}.ndjson.partial"));
        println!(
            "generating {size_mb} MiB of advisory_raw NDJSON in {}",
            workspace::short(&path)
        );
        let min_bytes = size_mb << 20;
        let mut next_report = min_bytes / 10;
        let start = Instant::now();
        let tally = generate::write_corpus(&partial, min_bytes, |written| {
            if written >= next_report && written < min_bytes {
                println!("  {:.0}/{size_mb} MiB", mib(written));
                next_report += min_bytes / 10;
            }
        })?;
        fs::rename(&partial, &path).with_context(|| {
            format!("cannot rename {} to {}", partial.display(), path.display())
        })?;
        fs::write(&expected, tally_json(&tally, size_mb).pretty())
            .with_context(|| format!("cannot write {}", expected.display()))?;
        println!(
            "done in {:.1} s; expected counts in {}",
            start.elapsed().as_secs_f64(),
            workspace::short(&expected)
        );
        Ok(Self {
            path,
            expected,
            size_mb,
            tally,
        })
    }

    /// The expected counts of a complete corpus of this version, if there is one.
    fn cached(path: &Path, expected: &Path) -> Option<Tally> {
        let text = fs::read(expected).ok()?;
        let doc: serde_json::Value = serde_json::from_slice(&text).ok()?;
        let tally = tally_from_json(&doc)?;
        let size = fs::metadata(path).ok()?.len();
        (doc["generatorVersion"].as_u64() == Some(u64::from(GENERATOR_VERSION))
            && size == tally.bytes)
            .then_some(tally)
    }

    /// Removes corpora of this size made by another generator version (1 GiB each).
    fn remove_other_versions(dir: &Path, size_mb: u64, stem: &str) -> Result<()> {
        let prefix = format!("advisory_raw-{size_mb}mib-v");
        for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && !name.starts_with(&format!("{stem}.")) {
                fs::remove_file(entry.path())
                    .with_context(|| format!("cannot remove {}", entry.path().display()))?;
            }
        }
        Ok(())
    }
}

fn counts_json(counts: &BTreeMap<String, u64>) -> Json {
    Json::Obj(
        counts
            .iter()
            .map(|(k, &v)| (k.clone(), Json::Int(v)))
            .collect(),
    )
}

fn tally_json(tally: &Tally, size_mb: u64) -> Json {
    Json::obj([
        ("collection", Json::str("advisory_raw")),
        ("generatorVersion", Json::Int(u64::from(GENERATOR_VERSION))),
        ("sizeMiB", Json::Int(size_mb)),
        ("bytes", Json::Int(tally.bytes)),
        ("documentsScanned", Json::Int(tally.documents)),
        ("revisions", Json::Int(tally.revisions)),
        ("violatingDocuments", Json::Int(tally.violating())),
        ("byCode", counts_json(&tally.by_code)),
        ("byVariant", counts_json(&tally.variants)),
        ("hashMismatches", Json::Int(tally.hash_mismatches())),
        ("jqViolatingDocuments", Json::Int(tally.jq_violating())),
        ("jqByCode", counts_json(&tally.jq_by_code())),
        ("minLineBytes", Json::Int(tally.min_line)),
        ("maxLineBytes", Json::Int(tally.max_line)),
    ])
}

fn tally_from_json(doc: &serde_json::Value) -> Option<Tally> {
    let counts = |key: &str| -> Option<BTreeMap<String, u64>> {
        doc[key]
            .as_object()?
            .iter()
            .map(|(k, v)| Some((k.clone(), v.as_u64()?)))
            .collect()
    };
    Some(Tally {
        documents: doc["documentsScanned"].as_u64()?,
        bytes: doc["bytes"].as_u64()?,
        revisions: doc["revisions"].as_u64()?,
        by_code: counts("byCode")?,
        variants: counts("byVariant")?,
        min_line: doc["minLineBytes"].as_u64()?,
        max_line: doc["maxLineBytes"].as_u64()?,
    })
}

// ---------------------------------------------------------------------------------------
// Running a command under GNU time with its stdout saved.

#[derive(Debug)]
struct Tool {
    label: &'static str,
    program: OsString,
    args: Vec<OsString>,
    /// Exit statuses that mean the command did its job.
    ok_status: &'static [i32],
}

/// One run.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: f64,
    user: f64,
    sys: f64,
    peak_rss_kib: u64,
    status: i32,
}

impl Run {
    fn cpu(&self) -> f64 {
        (self.user + self.sys) / self.wall
    }

    fn line(&self, bytes: u64) -> String {
        format!(
            "{:.3} s, {:.1} MB/s, CPU {:.2}, {:.1} MiB peak RSS",
            self.wall,
            bytes as f64 / 1e6 / self.wall,
            self.cpu(),
            self.peak_rss_kib as f64 / 1024.0
        )
    }
}

impl Tool {
    fn display(&self) -> String {
        let mut plain = Command::new(&self.program);
        plain.args(&self.args);
        cmd::display(&plain)
    }

    /// Runs once with stdout into `stdout_path`; fails on an exit status outside `ok_status`.
    fn run(&self, stdout_path: &Path) -> Result<Run> {
        let stdout = File::create(stdout_path)
            .with_context(|| format!("cannot create {}", stdout_path.display()))?;
        let mut command = Command::new(GNU_TIME);
        command
            .args(["-f", TIME_FORMAT])
            .arg(&self.program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped());
        let start = Instant::now();
        let output = command
            .output()
            .with_context(|| format!("cannot start {}: `{}`", self.label, self.display()))?;
        let wall = start.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let figures = lines.pop().and_then(parse_time_line);
        let status = output.status.code().unwrap_or(-1);
        match figures {
            Some((peak_rss_kib, user, sys)) if self.ok_status.contains(&status) => Ok(Run {
                wall,
                user,
                sys,
                peak_rss_kib,
                status,
            }),
            _ => {
                lines.retain(|l| !l.starts_with("Command exited with non-zero status"));
                let tail = &lines[lines.len().saturating_sub(20)..];
                bail!(
                    "{} failed ({}): `{}`\n{}",
                    self.label,
                    output.status,
                    self.display(),
                    tail.join("\n")
                )
            }
        }
    }
}

/// `%M %U %S`: KiB, seconds, seconds.
fn parse_time_line(line: &str) -> Option<(u64, f64, f64)> {
    let mut fields = line.split_whitespace();
    let rss = fields.next()?.parse().ok()?;
    let user = fields.next()?.parse().ok()?;
    let sys = fields.next()?.parse().ok()?;
    fields.next().is_none().then_some((rss, user, sys))
}

// ---------------------------------------------------------------------------------------
// What the tools found.

/// aoc-verify's report, or why it could not be read.
#[derive(Debug)]
struct Report {
    status: i32,
    parsed: Result<(u64, BTreeMap<String, u64>), String>,
}

impl Report {
    fn read(path: &Path, status: i32) -> Self {
        let parsed = fs::read(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|bytes| {
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .map_err(|e| format!("not a JSON report: {e}"))
            })
            .and_then(|doc| {
                let scanned = doc["documentsScanned"]
                    .as_u64()
                    .ok_or("no `documentsScanned` integer")?;
                let by_code = doc["counts"]["byCode"]
                    .as_object()
                    .ok_or("no `counts.byCode` object")?
                    .iter()
                    .map(|(k, v)| {
                        v.as_u64()
                            .map(|n| (k.clone(), n))
                            .ok_or_else(|| format!("`counts.byCode.{k}` is not a count"))
                    })
                    .collect::<Result<_, String>>()?;
                Ok((scanned, by_code))
            });
        Self { status, parsed }
    }

    fn counts(&self) -> Option<&(u64, BTreeMap<String, u64>)> {
        self.parsed.as_ref().ok()
    }
}

/// The jq filter's output: violating documents, and violations per code.
#[derive(Debug)]
struct JqFindings {
    parsed: Result<(u64, BTreeMap<String, u64>), String>,
}

impl JqFindings {
    fn read(path: &Path) -> Self {
        let parsed = fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| {
                let mut documents = 0;
                let mut by_code = BTreeMap::new();
                for line in text.lines() {
                    let doc: serde_json::Value = serde_json::from_str(line)
                        .map_err(|e| format!("jq printed a line that is not JSON ({e}): {line}"))?;
                    let codes = doc["codes"]
                        .as_array()
                        .ok_or_else(|| format!("no `codes` in jq's line {line}"))?;
                    documents += 1;
                    for code in codes {
                        *by_code
                            .entry(code.as_str().unwrap_or("?").to_owned())
                            .or_insert(0) += 1;
                    }
                }
                Ok((documents, by_code))
            });
        Self { parsed }
    }
}

// ---------------------------------------------------------------------------------------
// Figures, bars and checks.

#[derive(Debug)]
struct Summary {
    wall: f64,
    mb_per_s: f64,
    cpu: f64,
    peak_rss_mib: f64,
}

impl Summary {
    fn of(runs: &[Run], bytes: u64) -> Self {
        let wall = measure::median(&runs.iter().map(|r| r.wall).collect::<Vec<_>>());
        Self {
            wall,
            mb_per_s: bytes as f64 / 1e6 / wall,
            cpu: measure::median(&runs.iter().map(Run::cpu).collect::<Vec<_>>()),
            // The bar must hold in every run, so the worst run counts.
            peak_rss_mib: runs
                .iter()
                .map(|r| r.peak_rss_kib)
                .max()
                .map_or(f64::NAN, |k| k as f64 / 1024.0),
        }
    }
}

#[derive(Debug)]
struct Figures {
    aoc_runs: Vec<Run>,
    jq_runs: Vec<Run>,
    aoc: Summary,
    jq: Summary,
}

/// Which side of its limit a measured value must be on.
#[derive(Debug, Clone, Copy)]
enum Limit {
    AtLeast(f64),
    Above(f64),
    AtMost(f64),
}

/// A performance bar. Unlike [`super::Bar`] (upper limits only) it may be a floor: the
/// throughput ratio and the CPU use must reach theirs.
#[derive(Debug)]
struct Bound {
    name: String,
    value: f64,
    limit: Limit,
}

impl Bound {
    fn pass(&self) -> bool {
        match self.limit {
            Limit::AtLeast(l) => self.value >= l,
            Limit::Above(l) => self.value > l,
            Limit::AtMost(l) => self.value <= l,
        }
    }

    fn limit_text(&self) -> String {
        match self.limit {
            Limit::AtLeast(l) => format!(">= {}", round3(l)),
            Limit::Above(l) => format!("> {}", round3(l)),
            Limit::AtMost(l) => format!("<= {}", round3(l)),
        }
    }

    fn json(&self) -> Json {
        let (op, limit) = match self.limit {
            Limit::AtLeast(l) => (">=", l),
            Limit::Above(l) => (">", l),
            Limit::AtMost(l) => ("<=", l),
        };
        Json::obj([
            ("name", Json::str(&self.name)),
            ("value", Json::Num(self.value)),
            ("limit", Json::Num(limit)),
            ("op", Json::str(op)),
            ("pass", Json::Bool(self.pass())),
        ])
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A correctness check: what a tool reported against what the corpus holds.
#[derive(Debug)]
struct Check {
    name: String,
    expected: String,
    actual: String,
}

impl Check {
    fn new(name: impl Into<String>, expected: impl ToString, actual: impl ToString) -> Self {
        Self {
            name: name.into(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        }
    }

    fn pass(&self) -> bool {
        self.expected == self.actual
    }

    fn json(&self) -> Json {
        Json::obj([
            ("name", Json::str(&self.name)),
            ("expected", Json::str(&self.expected)),
            ("actual", Json::str(&self.actual)),
            ("pass", Json::Bool(self.pass())),
        ])
    }
}

fn bounds(figures: &Figures, tally: &Tally, machine: &Machine) -> Vec<Bound> {
    let rss_limit =
        RSS_BASE_MIB + RSS_BYTES_PER_DOCUMENT * tally.documents as f64 / (1024.0 * 1024.0);
    vec![
        Bound {
            name: "throughput, aoc-verify / jq".into(),
            value: figures.aoc.mb_per_s / figures.jq.mb_per_s,
            limit: Limit::AtLeast(THROUGHPUT_BAR),
        },
        Bound {
            name: format!("CPU use of aoc-verify, {} cores", machine.nproc),
            value: figures.aoc.cpu,
            limit: Limit::Above(CPU_SHARE_BAR * machine.nproc as f64),
        },
        Bound {
            name: "peak RSS of aoc-verify, MiB".into(),
            value: figures.aoc.peak_rss_mib,
            limit: Limit::AtMost(rss_limit),
        },
    ]
}

/// Every code either side names, with 0 for a code one side lacks.
fn code_checks(
    tool: &str,
    expected: &BTreeMap<String, u64>,
    actual: Result<&BTreeMap<String, u64>, &String>,
) -> Vec<Check> {
    let mut codes: Vec<&String> = expected.keys().collect();
    if let Ok(actual) = actual {
        codes.extend(actual.keys().filter(|k| !expected.contains_key(*k)));
    }
    codes
        .into_iter()
        .map(|code| {
            let want = expected.get(code).copied().unwrap_or(0);
            let got = match actual {
                Ok(actual) => actual.get(code).copied().unwrap_or(0).to_string(),
                Err(_) => "-".to_owned(),
            };
            Check::new(format!("{tool} {code}"), want, got)
        })
        .collect()
}

fn checks(tally: &Tally, report: &Report, reports_agree: bool, jq: &JqFindings) -> Vec<Check> {
    let mut checks = Vec::new();
    let expected_status = if tally.violating() > 0 { 1 } else { 0 };
    checks.push(Check::new(
        "aoc-verify exit status",
        expected_status,
        report.status,
    ));
    match &report.parsed {
        Ok((scanned, _)) => checks.push(Check::new(
            "aoc-verify documentsScanned",
            tally.documents,
            scanned,
        )),
        Err(why) => checks.push(Check::new(
            "aoc-verify report",
            "a stellaops.aoc-report/v1",
            why,
        )),
    }
    checks.extend(code_checks(
        "aoc-verify",
        &tally.by_code,
        report.parsed.as_ref().map(|(_, by_code)| by_code),
    ));
    checks.push(Check::new(
        "aoc-verify same counts in every run",
        "yes",
        if reports_agree { "yes" } else { "no" },
    ));
    match &jq.parsed {
        Ok((documents, _)) => checks.push(Check::new(
            "jq violating documents",
            tally.jq_violating(),
            documents,
        )),
        Err(why) => checks.push(Check::new("jq output", "one JSON line per document", why)),
    }
    checks.extend(code_checks(
        "jq",
        &tally.jq_by_code(),
        jq.parsed.as_ref().map(|(_, by_code)| by_code),
    ));
    checks
}

// ---------------------------------------------------------------------------------------
// Report.

fn print(
    figures: &Figures,
    corpus: &Corpus,
    machine: &Machine,
    options: &Options,
    bounds: &[Bound],
    checks: &[Check],
) {
    let tally = &corpus.tally;
    println!("\n==> bench aoc: results");
    println!("machine: {machine}");
    println!(
        "corpus:  {} ({:.1} MiB, {} documents of {}-{} bytes, mean {:.0}), warm page cache",
        workspace::short(&corpus.path),
        mib(tally.bytes),
        tally.documents,
        tally.min_line,
        tally.max_line,
        tally.bytes as f64 / tally.documents as f64
    );
    println!(
        "runs:    median of {} aoc-verify runs, {} jq run(s) ({})",
        options.runs,
        options.jq_runs,
        machine::tool_version("jq")
    );
    println!();
    println!("{:<26}{:>16}{:>16}", "", "aoc-verify", "jq");
    println!(
        "{:<26}{:>14.3} s{:>14.3} s",
        "wall time (median)", figures.aoc.wall, figures.jq.wall
    );
    println!(
        "{:<26}{:>11.1} MB/s{:>11.1} MB/s",
        "throughput", figures.aoc.mb_per_s, figures.jq.mb_per_s
    );
    println!(
        "{:<26}{:>16.2}{:>16.2}",
        "CPU, (user+sys)/wall", figures.aoc.cpu, figures.jq.cpu
    );
    println!(
        "{:<26}{:>12.1} MiB{:>12.1} MiB",
        "peak RSS (max)", figures.aoc.peak_rss_mib, figures.jq.peak_rss_mib
    );
    println!();
    let width = bounds.iter().map(|b| b.name.len()).max().unwrap_or(0) + 2;
    println!(
        "{:<width$}{:>10}{:>12}   verdict",
        "bar", "measured", "limit"
    );
    for b in bounds {
        println!(
            "{:<width$}{:>10.3}{:>12}   {}",
            b.name,
            b.value,
            b.limit_text(),
            verdict(b.pass())
        );
    }
    println!();
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0) + 2;
    println!(
        "{:<width$}{:>10}{:>10}   verdict",
        "check", "expected", "actual"
    );
    for c in checks {
        println!(
            "{:<width$}{:>10}{:>10}   {}",
            c.name,
            c.expected,
            c.actual,
            verdict(c.pass())
        );
    }
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "FAIL"
    }
}

fn json(
    figures: &Figures,
    corpus: &Corpus,
    machine: &Machine,
    options: &Options,
    bounds: &[Bound],
    checks: &[Check],
    tools: [&Tool; 2],
) -> Json {
    let tool = |tool: &Tool, runs: &[Run], summary: &Summary| {
        let each = |f: fn(&Run) -> f64| Json::Arr(runs.iter().map(|r| Json::Num(f(r))).collect());
        Json::obj([
            ("command", Json::str(tool.display())),
            ("wallSeconds", each(|r| r.wall)),
            ("userSeconds", each(|r| r.user)),
            ("systemSeconds", each(|r| r.sys)),
            (
                "peakRssKiB",
                Json::Arr(runs.iter().map(|r| Json::Int(r.peak_rss_kib)).collect()),
            ),
            ("medianWallSeconds", Json::Num(summary.wall)),
            ("mbPerSecond", Json::Num(summary.mb_per_s)),
            ("cpuUtilisation", Json::Num(summary.cpu)),
        ])
    };
    let mut corpus_json = tally_json(&corpus.tally, corpus.size_mb);
    if let Json::Obj(map) = &mut corpus_json {
        map.insert("path".into(), Json::str(workspace::short(&corpus.path)));
        map.insert(
            "expectedCounts".into(),
            Json::str(workspace::short(&corpus.expected)),
        );
    }
    Json::obj([
        ("bench", Json::str("aoc")),
        (
            "machine",
            Json::obj([
                ("nproc", Json::Int(machine.nproc as u64)),
                ("cpu", Json::str(&machine.cpu)),
                ("kernel", Json::str(&machine.kernel)),
                ("memTotalMiB", Json::Int(machine.mem_total_mib)),
                ("jq", Json::str(machine::tool_version("jq"))),
            ]),
        ),
        ("corpus", corpus_json),
        ("runs", Json::Int(options.runs as u64)),
        ("jqRuns", Json::Int(options.jq_runs as u64)),
        ("aocVerify", tool(tools[0], &figures.aoc_runs, &figures.aoc)),
        ("jq", tool(tools[1], &figures.jq_runs, &figures.jq)),
        ("bars", Json::Arr(bounds.iter().map(Bound::json).collect())),
        (
            "checks",
            Json::Arr(checks.iter().map(Check::json).collect()),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_line_is_rss_user_sys() {
        assert_eq!(
            parse_time_line("40960 3.21 0.45"),
            Some((40960, 3.21, 0.45))
        );
        assert_eq!(
            parse_time_line("Command exited with non-zero status 1"),
            None
        );
        assert_eq!(parse_time_line("1 2"), None);
    }

    #[test]
    fn floors_and_ceilings() {
        let bound = |value, limit| Bound {
            name: "x".into(),
            value,
            limit,
        };
        assert!(bound(10.0, Limit::AtLeast(10.0)).pass());
        assert!(!bound(9.99, Limit::AtLeast(10.0)).pass());
        assert!(!bound(1.5, Limit::Above(1.5)).pass());
        assert!(bound(1.51, Limit::Above(1.5)).pass());
        assert!(bound(64.0, Limit::AtMost(64.0)).pass());
        assert!(!bound(f64::NAN, Limit::AtLeast(0.0)).pass());
    }

    #[test]
    fn expected_counts_survive_the_round_trip() {
        let dir = std::env::temp_dir().join(format!("xtask-aoc-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.ndjson");
        let tally = generate::write_corpus(&path, 1 << 20, |_| {}).unwrap();
        let text = tally_json(&tally, 1).pretty();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(tally_from_json(&doc), Some(tally.clone()));
        assert_eq!(
            doc["jqByCode"]["ERR_AOC_005"].as_u64().unwrap() + tally.hash_mismatches(),
            tally.by_code["ERR_AOC_005"]
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_code_in_the_report_is_a_failed_check() {
        let expected: BTreeMap<String, u64> =
            [("ERR_AOC_001".to_owned(), 3), ("ERR_AOC_002".to_owned(), 2)].into();
        let actual: BTreeMap<String, u64> =
            [("ERR_AOC_001".to_owned(), 3), ("ERR_AOC_003".to_owned(), 1)].into();
        let checks = code_checks("t", &expected, Ok(&actual));
        let verdicts: Vec<(&str, bool)> =
            checks.iter().map(|c| (c.name.as_str(), c.pass())).collect();
        assert_eq!(
            verdicts,
            [
                ("t ERR_AOC_001", true),
                ("t ERR_AOC_002", false),
                ("t ERR_AOC_003", false)
            ]
        );
        let why = "no report".to_owned();
        assert!(code_checks("t", &expected, Err(&why))
            .iter()
            .all(|c| !c.pass()));
    }

    #[test]
    fn the_filter_names_the_generator_s_rules() {
        for code in generate::CODES {
            assert!(FILTER.contains(&format!("\"{code}\"")), "{code}");
        }
        assert!(
            !FILTER.contains("ERR_AOC_003"),
            "003 is not a per-document rule"
        );
        for name in generate::FORBIDDEN.iter().chain(&generate::KNOWN_TOP_LEVEL) {
            assert!(FILTER.contains(&format!("\"{name}\": true")), "{name}");
        }
    }
}
