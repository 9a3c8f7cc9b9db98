//! `cargo xtask bench verify`: checksum-verify against `sha256sum -c`, `b3sum --check` and
//! `tar -xzf` + `sha256sum -c` on the reference corpus (DESIGN §6, issue 4 §4).

use super::corpus::{self, Corpus};
use super::json::Json;
use super::machine::{self, Machine};
use super::measure::{self, Job, Sample};
use super::{mib, options_help, print_bars, Bar, Options};
use crate::args::Args;
use crate::{cmd, workspace};
use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const HELP: &str = "\
cargo xtask bench verify: checksum-verify vs sha256sum -c, b3sum --check and tar -xzf

usage: cargo xtask bench verify [--scale F] [--runs N] [--json FILE]

Makes the corpus with ../shared/bench/make-corpus (cached in target/bench-corpus/scale-<F>/),
builds bundle-pack and checksum-verify in release mode, packs the corpus once into
target/bench-out/verify/ (bundle, manifest, SHA256SUMS, B3SUMS), then for each case runs both
commands once untimed (warm page cache) and N times timed, alternating:
  folder, sha256   checksum-verify --manifest M --algo sha256 CORPUS
                   vs  cd CORPUS && sha256sum -c --quiet SHA256SUMS
  folder, blake3   checksum-verify --manifest M --algo blake3 CORPUS
                   vs  cd CORPUS && b3sum --check --quiet B3SUMS
  .tar.gz          checksum-verify --manifest M --algo sha256 BUNDLE  (no extraction)
                   vs  tar -xzf BUNDLE -C X && cd X && sha256sum -c --quiet SHA256SUMS
                   (X emptied before each run, outside the timing)
and prints the medians against the bars: <= 0.2, <= 1.1 and <= 0.15 x the reference, peak
RSS <= 128 MiB in every case. Exits 0 whether or not a bar is met (it prints FAIL).

";

const DEFAULT_RUNS: usize = 3;
const RSS_BAR_MIB: f64 = 128.0;

/// A case: our command against the reference, with its bar.
struct Case {
    name: &'static str,
    bar: f64,
    ours: Job,
    reference: Job,
    /// Emptied before each reference run (the extraction target).
    scratch: Option<PathBuf>,
}

/// The medians of one case.
#[derive(Debug)]
struct Outcome {
    name: &'static str,
    bar: f64,
    ours_walls: Vec<f64>,
    ref_walls: Vec<f64>,
    rss_kib: Vec<u64>,
    ours_command: String,
    ref_command: String,
}

impl Outcome {
    fn ours(&self) -> f64 {
        measure::median(&self.ours_walls)
    }
    fn reference(&self) -> f64 {
        measure::median(&self.ref_walls)
    }
    fn ratio(&self) -> f64 {
        self.ours() / self.reference()
    }
    fn peak_rss_mib(&self) -> f64 {
        self.rss_kib
            .iter()
            .max()
            .map_or(f64::NAN, |&k| k as f64 / 1024.0)
    }
}

pub fn run(mut args: Args) -> Result<ExitCode> {
    if args.help() {
        print!("{HELP}{}", options_help(DEFAULT_RUNS));
        return Ok(ExitCode::SUCCESS);
    }
    let options = Options::parse(&mut args, DEFAULT_RUNS)?;
    args.finish()?;

    measure::require_gnu_time()?;
    let missing: Vec<&str> = ["python3", "bash", "tar", "sha256sum", "b3sum"]
        .into_iter()
        .filter(|tool| cmd::which(tool).is_none())
        .collect();
    if !missing.is_empty() {
        bail!(
            "bench verify needs these tools on PATH: {}",
            missing.join(", ")
        );
    }

    println!("==> corpus");
    let corpus = corpus::ensure(options.scale)?;
    println!("{} files, {:.1} MiB", corpus.files, mib(corpus.bytes));

    println!("\n==> building bundle-pack and checksum-verify");
    workspace::build_release(&["bundle-pack", "checksum-verify"])?;

    let out = workspace::target_dir().join("bench-out").join("verify");
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let inputs = pack_once(&corpus, &out)?;

    let cases = cases(&corpus, &inputs, &out);
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in &cases {
        outcomes.push(measure_case(case, options.runs)?);
    }

    let machine = machine::describe();
    print(&outcomes, &corpus, &machine, &options);
    if let Some(path) = &options.json {
        let doc = json(&outcomes, &corpus, &machine, &options);
        fs::write(path, doc.pretty())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("\nfigures saved to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// What `bundle-pack` made for the bench to verify.
struct Inputs {
    bundle: PathBuf,
    manifest: PathBuf,
    sha256sums: PathBuf,
    b3sums: PathBuf,
}

fn pack_once(corpus: &Corpus, out: &Path) -> Result<Inputs> {
    let inputs = Inputs {
        bundle: out.join("bundle.tar.gz"),
        manifest: out.join("manifest.json"),
        sha256sums: out.join("SHA256SUMS"),
        b3sums: out.join("B3SUMS"),
    };
    println!("\n==> packing the corpus once");
    for stale in [
        &inputs.bundle,
        &inputs.manifest,
        &inputs.sha256sums,
        &inputs.b3sums,
    ] {
        if stale.exists() {
            fs::remove_file(stale).with_context(|| format!("cannot remove {}", stale.display()))?;
        }
    }
    let mut pack = Command::new(workspace::release_binary("bundle-pack"));
    pack.arg("--input")
        .arg(&corpus.dir)
        .args(["--bundle-id", "bench-verify", "-o"])
        .arg(&inputs.bundle)
        .arg("-m")
        .arg(&inputs.manifest)
        .arg("--sums")
        .arg(&inputs.sha256sums)
        .arg("--b3sums")
        .arg(&inputs.b3sums)
        .stdout(std::process::Stdio::null());
    cmd::run(&mut pack)?;
    println!(
        "{} ({:.1} MiB)",
        workspace::short(&inputs.bundle),
        mib(fs::metadata(&inputs.bundle)
            .with_context(|| format!("cannot stat {}", inputs.bundle.display()))?
            .len())
    );
    Ok(inputs)
}

fn checksum_verify(label: &str, manifest: &Path, algo: &str, target: &Path) -> Job {
    Job {
        label: label.into(),
        program: workspace::release_binary("checksum-verify").into(),
        args: vec![
            "--manifest".into(),
            manifest.into(),
            "--algo".into(),
            algo.into(),
            target.into(),
        ],
        rss: true,
        stdin: None,
        env_remove: Vec::new(),
    }
}

fn bash(label: &str, script: &str, params: &[&Path]) -> Job {
    let mut args: Vec<OsString> = vec!["-c".into(), script.into(), "bench".into()];
    args.extend(params.iter().map(OsString::from));
    Job {
        label: label.into(),
        program: "bash".into(),
        args,
        rss: false,
        stdin: None,
        env_remove: Vec::new(),
    }
}

fn cases(corpus: &Corpus, inputs: &Inputs, out: &Path) -> Vec<Case> {
    let extracted = out.join("extracted");
    vec![
        Case {
            name: "folder, sha256",
            bar: 0.2,
            ours: checksum_verify(
                "checksum-verify (folder, sha256)",
                &inputs.manifest,
                "sha256",
                &corpus.dir,
            ),
            reference: bash(
                "sha256sum -c",
                "cd \"$1\" && sha256sum -c --quiet \"$2\"",
                &[&corpus.dir, &inputs.sha256sums],
            ),
            scratch: None,
        },
        Case {
            name: "folder, blake3",
            bar: 1.1,
            ours: checksum_verify(
                "checksum-verify (folder, blake3)",
                &inputs.manifest,
                "blake3",
                &corpus.dir,
            ),
            reference: bash(
                "b3sum --check",
                "cd \"$1\" && b3sum --check --quiet \"$2\"",
                &[&corpus.dir, &inputs.b3sums],
            ),
            scratch: None,
        },
        Case {
            name: ".tar.gz, no extraction",
            bar: 0.15,
            ours: checksum_verify(
                "checksum-verify (.tar.gz)",
                &inputs.manifest,
                "sha256",
                &inputs.bundle,
            ),
            reference: bash(
                "tar -xzf + sha256sum -c",
                "set -o pipefail; tar -xzf \"$1\" -C \"$2\" && cd \"$2\" && sha256sum -c --quiet \"$3\"",
                &[&inputs.bundle, &extracted, &inputs.sha256sums],
            ),
            scratch: Some(extracted),
        },
    ]
}

fn empty_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

fn run_reference(case: &Case) -> Result<Sample> {
    if let Some(dir) = &case.scratch {
        empty_dir(dir)?;
    }
    case.reference.run()
}

fn measure_case(case: &Case, runs: usize) -> Result<Outcome> {
    println!("\n==> {}", case.name);
    println!("a: {}", case.ours.display());
    println!("b: {}", case.reference.display());
    case.ours.run()?;
    run_reference(case)?;
    let mut ours = Vec::with_capacity(runs);
    let mut reference = Vec::with_capacity(runs);
    for i in 1..=runs {
        let a = case.ours.run()?;
        let b = run_reference(case)?;
        println!(
            "run {i}/{runs}: checksum-verify {:.3} s, {:.1} MiB peak RSS | reference {:.3} s",
            a.wall.as_secs_f64(),
            a.peak_rss_kib.map_or(f64::NAN, |k| k as f64 / 1024.0),
            b.wall.as_secs_f64()
        );
        ours.push(a);
        reference.push(b);
    }
    if let Some(dir) = &case.scratch {
        fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    Ok(Outcome {
        name: case.name,
        bar: case.bar,
        ours_walls: ours.iter().map(|s| s.wall.as_secs_f64()).collect(),
        ref_walls: reference.iter().map(|s| s.wall.as_secs_f64()).collect(),
        rss_kib: ours.iter().filter_map(|s| s.peak_rss_kib).collect(),
        ours_command: case.ours.display(),
        ref_command: case.reference.display(),
    })
}

fn bars(outcomes: &[Outcome]) -> Vec<Bar> {
    let mut bars: Vec<Bar> = outcomes
        .iter()
        .map(|o| Bar {
            name: o.name,
            value: o.ratio(),
            limit: o.bar,
            strict: false,
        })
        .collect();
    bars.push(Bar {
        name: "peak RSS, any case, MiB",
        value: outcomes
            .iter()
            .map(Outcome::peak_rss_mib)
            .fold(f64::NAN, f64::max),
        limit: RSS_BAR_MIB,
        strict: false,
    });
    bars
}

fn print(outcomes: &[Outcome], corpus: &Corpus, machine: &Machine, options: &Options) {
    println!("\n==> bench verify: results");
    println!("machine: {machine}");
    println!(
        "corpus:  scale {} ({} files, {:.1} MiB), median of {} warm runs",
        corpus.scale,
        corpus.files,
        mib(corpus.bytes),
        options.runs
    );
    println!();
    println!(
        "{:<24}{:>18}{:>14}{:>10}{:>12}",
        "case", "checksum-verify", "reference", "ratio", "peak RSS"
    );
    for o in outcomes {
        println!(
            "{:<24}{:>16.3} s{:>12.3} s{:>10.3}{:>8.1} MiB",
            o.name,
            o.ours(),
            o.reference(),
            o.ratio(),
            o.peak_rss_mib()
        );
    }
    println!();
    print_bars(&bars(outcomes));
}

fn json(outcomes: &[Outcome], corpus: &Corpus, machine: &Machine, options: &Options) -> Json {
    let secs = |v: &[f64]| Json::Arr(v.iter().map(|&x| Json::Num(x)).collect());
    let cases = outcomes
        .iter()
        .map(|o| {
            Json::obj([
                ("name", Json::str(o.name)),
                ("command", Json::str(&o.ours_command)),
                ("reference", Json::str(&o.ref_command)),
                ("wallSeconds", secs(&o.ours_walls)),
                ("referenceWallSeconds", secs(&o.ref_walls)),
                ("ratio", Json::Num(o.ratio())),
                (
                    "peakRssKiB",
                    Json::Arr(o.rss_kib.iter().map(|&k| Json::Int(k)).collect()),
                ),
            ])
        })
        .collect();
    Json::obj([
        ("bench", Json::str("verify")),
        (
            "machine",
            Json::obj([
                ("nproc", Json::Int(machine.nproc as u64)),
                ("cpu", Json::str(&machine.cpu)),
                ("kernel", Json::str(&machine.kernel)),
                ("memTotalMiB", Json::Int(machine.mem_total_mib)),
                ("sha256sum", Json::str(machine::tool_version("sha256sum"))),
                ("b3sum", Json::str(machine::tool_version("b3sum"))),
                ("tar", Json::str(machine::tool_version("tar"))),
            ]),
        ),
        (
            "corpus",
            Json::obj([
                ("scale", Json::Num(corpus.scale)),
                ("files", Json::Int(corpus.files)),
                ("bytes", Json::Int(corpus.bytes)),
            ]),
        ),
        ("runs", Json::Int(options.runs as u64)),
        ("cases", Json::Arr(cases)),
        (
            "bars",
            Json::Arr(bars(outcomes).iter().map(Bar::json).collect()),
        ),
    ])
}
