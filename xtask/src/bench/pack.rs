//! `cargo xtask bench pack`: bundle-pack against `tar --sort=name … | pigz -6` (DESIGN §6).

use super::corpus::{self, Corpus};
use super::json::Json;
use super::machine::{self, Machine};
use super::measure::{self, Job, Sample};
use super::{mib, options_help, print_bars, Bar, Options};
use crate::args::Args;
use crate::{cmd, workspace};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode};

const HELP: &str = "\
cargo xtask bench pack: bundle-pack vs `tar | pigz -6` on the reference corpus

usage: cargo xtask bench pack [--scale F] [--runs N] [--json FILE] [--level L]

Makes the corpus with ../shared/bench/make-corpus (or $OFFLINE_OPS_SHARED/bench/make-corpus),
cached in target/bench-corpus/scale-<F>/, builds bundle-pack in release mode, then runs
each command once untimed (so both are measured with a warm page cache) and N times timed,
alternating, each run after its previous output is removed and `sync` has returned (so that
no run pays for writing back or discarding what an earlier one left):
  bundle-pack --input CORPUS --bundle-id bench -o target/bench-out/pack.tar.gz  (under GNU time)
  cd CORPUS && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - . \\
    | pigz -6 > target/bench-out/ref.tar.gz
and prints the medians against the bars: wall <= 0.25 x the pipeline, output <= 1.02 x its
size, peak RSS <= 128 MiB. Exits 0 whether or not a bar is met (it prints FAIL).
--level L passes `--level L` to bundle-pack (default: its own default, auto), to see what
another compression level costs; the bars are defined for the default.

";

const DEFAULT_RUNS: usize = 3;
const WALL_BAR: f64 = 0.25;
const SIZE_BAR: f64 = 1.02;
const RSS_BAR_MIB: f64 = 128.0;

/// The reference pipeline. bash for `pipefail`, so a failing tar cannot pass as a fast run.
const REFERENCE: &str = "set -o pipefail; cd \"$1\" && tar --sort=name --owner=0 --group=0 \
                         --numeric-owner --mtime=@0 -cf - . | pigz -6 > \"$2\"";

pub fn run(mut args: Args) -> Result<ExitCode> {
    if args.help() {
        print!("{HELP}{}", options_help(DEFAULT_RUNS));
        return Ok(ExitCode::SUCCESS);
    }
    let options = Options::parse(&mut args, DEFAULT_RUNS)?;
    let level = args.value("--level")?;
    args.finish()?;

    measure::require_gnu_time()?;
    let missing: Vec<&str> = ["python3", "bash", "tar", "pigz"]
        .into_iter()
        .filter(|tool| cmd::which(tool).is_none())
        .collect();
    if !missing.is_empty() {
        bail!(
            "bench pack needs these tools on PATH: {}",
            missing.join(", ")
        );
    }

    println!("==> corpus");
    let corpus = corpus::ensure(options.scale)?;
    println!("{} files, {:.1} MiB", corpus.files, mib(corpus.bytes));

    println!("\n==> building bundle-pack");
    workspace::build_release(&["bundle-pack"])?;

    let out = workspace::target_dir().join("bench-out");
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let pack_out = out.join("pack.tar.gz");
    let ref_out = out.join("ref.tar.gz");

    let mut pack_args: Vec<std::ffi::OsString> = vec![
        "--input".into(),
        corpus.dir.clone().into(),
        "--bundle-id".into(),
        "bench".into(),
        "-o".into(),
        pack_out.clone().into(),
    ];
    if let Some(level) = &level {
        pack_args.extend(["--level".into(), level.into()]);
    }
    let pack = Job {
        label: "bundle-pack".into(),
        program: workspace::release_binary("bundle-pack").into(),
        args: pack_args,
        rss: true,
        stdin: None,
        env_remove: Vec::new(),
    };
    let reference = Job {
        label: "tar | pigz -6".into(),
        program: "bash".into(),
        args: vec![
            "-c".into(),
            REFERENCE.into(),
            "bench".into(),
            corpus.dir.clone().into(),
            ref_out.clone().into(),
        ],
        rss: false,
        stdin: None,
        env_remove: Vec::new(),
    };
    println!("\n==> commands");
    println!("a: {}", pack.display());
    println!("b: {}", reference.display());

    println!("\n==> warm-up (untimed)");
    run_fresh(&pack, &pack_out)?;
    run_fresh(&reference, &ref_out)?;
    println!("done");

    println!("\n==> {} timed runs of each, alternating", options.runs);
    let mut pack_samples = Vec::with_capacity(options.runs);
    let mut ref_samples = Vec::with_capacity(options.runs);
    for i in 1..=options.runs {
        let a = run_fresh(&pack, &pack_out)?;
        let b = run_fresh(&reference, &ref_out)?;
        println!(
            "run {i}/{}: bundle-pack {:.3} s, {:.1} MiB peak RSS | tar | pigz -6 {:.3} s",
            options.runs,
            a.wall.as_secs_f64(),
            a.peak_rss_kib.map_or(f64::NAN, |k| k as f64 / 1024.0),
            b.wall.as_secs_f64()
        );
        pack_samples.push(a);
        ref_samples.push(b);
    }

    let figures = Figures::new(&corpus, &pack_samples, &ref_samples, &pack_out, &ref_out)?;
    let machine = machine::describe();
    figures.print(&machine, &options);
    if let Some(path) = &options.json {
        let doc = figures.json(&machine, &options, &pack, &reference);
        fs::write(path, doc.pretty())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("\nfigures saved to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a job after removing its previous output, so no run overwrites in place, and after
/// `sync`, so that no run pays for writing back or discarding what an earlier run left:
/// the pipeline leaves its output unflushed, and removing a flushed archive on a file
/// system mounted with `discard` queues a discard of all its blocks.
fn run_fresh(job: &Job, output: &Path) -> Result<Sample> {
    for stale in [output.to_path_buf(), output.with_extension("gz.sha256")] {
        if stale.exists() {
            fs::remove_file(&stale)
                .with_context(|| format!("cannot remove {}", stale.display()))?;
        }
    }
    let synced = Command::new("sync")
        .status()
        .context("cannot start `sync`")?;
    if !synced.success() {
        bail!("`sync` failed ({synced})");
    }
    job.run()
}

#[derive(Debug)]
struct Figures<'a> {
    corpus: &'a Corpus,
    pack_walls: Vec<f64>,
    ref_walls: Vec<f64>,
    rss_kib: Vec<u64>,
    pack_wall: f64,
    ref_wall: f64,
    pack_size: u64,
    ref_size: u64,
    peak_rss_mib: f64,
}

impl<'a> Figures<'a> {
    fn new(
        corpus: &'a Corpus,
        pack: &[Sample],
        reference: &[Sample],
        pack_out: &Path,
        ref_out: &Path,
    ) -> Result<Self> {
        let walls = |samples: &[Sample]| {
            samples
                .iter()
                .map(|s| s.wall.as_secs_f64())
                .collect::<Vec<_>>()
        };
        let size = |p: &Path| {
            p.metadata()
                .map(|m| m.len())
                .with_context(|| format!("cannot stat {}", p.display()))
        };
        let pack_walls = walls(pack);
        let ref_walls = walls(reference);
        let rss_kib: Vec<u64> = pack.iter().filter_map(|s| s.peak_rss_kib).collect();
        Ok(Self {
            corpus,
            pack_wall: measure::median(&pack_walls),
            ref_wall: measure::median(&ref_walls),
            pack_walls,
            ref_walls,
            // The bar must hold in every run, so the worst run counts.
            peak_rss_mib: rss_kib
                .iter()
                .max()
                .map_or(f64::NAN, |&k| k as f64 / 1024.0),
            rss_kib,
            pack_size: size(pack_out)?,
            ref_size: size(ref_out)?,
        })
    }

    fn bars(&self) -> [Bar; 3] {
        [
            Bar {
                name: "wall, bundle-pack / pipeline",
                value: self.pack_wall / self.ref_wall,
                limit: WALL_BAR,
                strict: false,
            },
            Bar {
                name: "size, bundle-pack / pipeline",
                value: self.pack_size as f64 / self.ref_size as f64,
                limit: SIZE_BAR,
                strict: false,
            },
            Bar {
                name: "peak RSS of bundle-pack, MiB",
                value: self.peak_rss_mib,
                limit: RSS_BAR_MIB,
                strict: false,
            },
        ]
    }

    fn print(&self, machine: &Machine, options: &Options) {
        println!("\n==> bench pack: results");
        println!("machine: {machine}");
        println!(
            "corpus:  scale {} ({} files, {:.1} MiB), median of {} warm runs",
            self.corpus.scale,
            self.corpus.files,
            mib(self.corpus.bytes),
            options.runs
        );
        println!();
        println!("{:<22}{:>16}{:>18}", "", "bundle-pack", "tar | pigz -6");
        println!(
            "{:<22}{:>14.3} s{:>16.3} s",
            "wall time (median)", self.pack_wall, self.ref_wall
        );
        println!(
            "{:<22}{:>12.1} MiB{:>14.1} MiB",
            "output size",
            mib(self.pack_size),
            mib(self.ref_size)
        );
        println!(
            "{:<22}{:>12.1} MiB{:>18}",
            "peak RSS (max)", self.peak_rss_mib, "-"
        );
        println!();
        print_bars(&self.bars());
    }

    fn json(&self, machine: &Machine, options: &Options, pack: &Job, reference: &Job) -> Json {
        let secs = |v: &[f64]| Json::Arr(v.iter().map(|&x| Json::Num(x)).collect());
        let bars = self.bars().iter().map(Bar::json).collect();
        Json::obj([
            ("bench", Json::str("pack")),
            (
                "machine",
                Json::obj([
                    ("nproc", Json::Int(machine.nproc as u64)),
                    ("cpu", Json::str(&machine.cpu)),
                    ("kernel", Json::str(&machine.kernel)),
                    ("memTotalMiB", Json::Int(machine.mem_total_mib)),
                    ("tar", Json::str(machine::tool_version("tar"))),
                    ("pigz", Json::str(machine::tool_version("pigz"))),
                ]),
            ),
            (
                "corpus",
                Json::obj([
                    ("scale", Json::Num(self.corpus.scale)),
                    ("files", Json::Int(self.corpus.files)),
                    ("bytes", Json::Int(self.corpus.bytes)),
                ]),
            ),
            ("runs", Json::Int(options.runs as u64)),
            (
                "bundlePack",
                Json::obj([
                    ("command", Json::str(pack.display())),
                    ("wallSeconds", secs(&self.pack_walls)),
                    ("medianWallSeconds", Json::Num(self.pack_wall)),
                    ("outputBytes", Json::Int(self.pack_size)),
                    (
                        "peakRssKiB",
                        Json::Arr(self.rss_kib.iter().map(|&k| Json::Int(k)).collect()),
                    ),
                ]),
            ),
            (
                "reference",
                Json::obj([
                    ("command", Json::str(reference.display())),
                    ("wallSeconds", secs(&self.ref_walls)),
                    ("medianWallSeconds", Json::Num(self.ref_wall)),
                    ("outputBytes", Json::Int(self.ref_size)),
                ]),
            ),
            ("bars", Json::Arr(bars)),
        ])
    }
}
