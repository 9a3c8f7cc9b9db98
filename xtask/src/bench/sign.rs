//! `cargo xtask bench sign`: mirror-sign sign, verify and attest on a real 20,004-file manifest.

use super::corpus::{self, Corpus};
use super::json::Json;
use super::machine::{self, Machine};
use super::measure::{self, Job, Sample};
use super::{mib, options_help, print_bars, Bar, Options};
use crate::args::Args;
use crate::{cmd, workspace};
use anyhow::{bail, Context, Result};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::SystemTime;

const HELP: &str = "\
cargo xtask bench sign: mirror-sign sign, verify and attest on the reference corpus's manifest

usage: cargo xtask bench sign [--scale F] [--runs N] [--json FILE]

Makes the corpus at scale F and at F/10 (as `bench pack` does, cached in
target/bench-corpus/), builds bundle-pack and mirror-sign in release mode, and packs, into
target/bench-out/sign/<name>/ (reused while newer than bundle-pack and the corpora):
  scale-F          the corpus (at scale 1: 20,004 files, a ~6 MB manifest, a ~0.9 GB archive)
  scale-F/10       the F/10 corpus (2,004 files)
  control          F's 20,000 text files with F/10's four large files: the same paths, so a
                   manifest of the same size, but an archive with a fifth of the bytes
It makes two keys with `mirror-sign keygen` and a 2-of-2 trust root signed by both, then runs
each command once untimed and N times timed, alternating, all under GNU time (peak RSS), with
stdout discarded:
  sign        mirror-sign sign --key a.key < manifest.json           (a new envelope)
  sign+1      mirror-sign sign --key b.key < env.json                (a second signature)
  verify      mirror-sign verify --trust root.dsse.json --now T < env2.json   (2 of 2)
  attest      mirror-sign attest --key a.key --archive pack.tar.gz < manifest.json, on F,
  attest 1/10 on F/10
  attest ctl  and on the control
and prints the medians against the bars of issue 3 section 7: sign, sign+1 and verify
< 100 ms; peak RSS of attest on F <= 1.5 x that on F/10 and <= 1.5 x that on the control
(memory does not grow with the artefact), and <= 128 MiB. Exits 0 whether or not a bar is met
(it prints FAIL). MIRROR_SIGN_AUDIT is removed from the commands' environment, so no run
appends to an audit log.

";

const DEFAULT_RUNS: usize = 5;
const TIME_BAR_MS: f64 = 100.0;
const RSS_RATIO_BAR: f64 = 1.5;
const RSS_BAR_MIB: f64 = 128.0;

/// The instant `verify` judges at, inside the keys' windows and before the root expires, so
/// the bench gives the same verdict whatever the clock.
const NOW: &str = "2026-11-28T12:00:00Z";
const CREATED_AT: &str = "2026-11-28T00:00:00Z";
const NOT_BEFORE: &str = "2026-01-01T00:00:00Z";
const NOT_AFTER: &str = "2027-12-31T00:00:00Z";
const KEY_IDS: [&str; 2] = ["bench-a", "bench-b"];

/// Set, it makes every `sign` and `verify` append (and fsync) an audit line: not what is timed.
const AUDIT_ENV: &str = "MIRROR_SIGN_AUDIT";

pub fn run(mut args: Args) -> Result<ExitCode> {
    if args.help() {
        print!("{HELP}{}", options_help(DEFAULT_RUNS));
        return Ok(ExitCode::SUCCESS);
    }
    let options = Options::parse(&mut args, DEFAULT_RUNS)?;
    args.finish()?;

    measure::require_gnu_time()?;
    if cmd::which("python3").is_none() {
        bail!("bench sign needs python3 on PATH (to make the corpus)");
    }

    println!("==> corpora");
    let full = corpus::ensure(options.scale)?;
    println!("{} files, {:.1} MiB", full.files, mib(full.bytes));
    let small = corpus::ensure(options.scale / 10.0)?;
    println!("{} files, {:.1} MiB", small.files, mib(small.bytes));

    println!("\n==> building bundle-pack and mirror-sign");
    workspace::build_release(&["bundle-pack", "mirror-sign"])?;

    let out = workspace::target_dir().join("bench-out").join("sign");
    println!("\n==> packing");
    let full_pack = Packed::ensure(
        &out,
        &format!("scale-{}", full.scale),
        &[full.dir.as_os_str()],
        &[&full],
    )?;
    let small_pack = Packed::ensure(
        &out,
        &format!("scale-{}", small.scale),
        &[small.dir.as_os_str()],
        &[&small],
    )?;
    // The control: the full corpus's paths (so a manifest of the same size), with the large
    // files taken from the small corpus, so only the archive's bytes differ from `full_pack`.
    let mixed_pack = Packed::ensure(
        &out,
        &format!("scale-{}-blobs-{}", full.scale, small.scale),
        &[
            &prefixed(&full.dir, "charts"),
            &prefixed(&small.dir, "layers"),
        ],
        &[&full, &small],
    )?;

    println!("\n==> keys, trust root and envelopes");
    let setup = Setup::make(&out, &full_pack.manifest)?;

    let key_a = setup.keys[0].as_os_str();
    let key_b = setup.keys[1].as_os_str();
    let attest = |label: &str, packed: &Packed| {
        ms_job(
            label,
            &[
                "attest".as_ref(),
                "--key".as_ref(),
                key_a,
                "--archive".as_ref(),
                packed.archive.as_os_str(),
            ],
            &packed.manifest,
        )
    };
    let jobs = [
        ms_job(
            "sign",
            &["sign".as_ref(), "--key".as_ref(), key_a],
            &full_pack.manifest,
        ),
        ms_job(
            "sign+1",
            &["sign".as_ref(), "--key".as_ref(), key_b],
            &setup.env,
        ),
        ms_job(
            "verify",
            &[
                "verify".as_ref(),
                "--trust".as_ref(),
                setup.root.as_os_str(),
                "--now".as_ref(),
                NOW.as_ref(),
            ],
            &setup.env2,
        ),
        attest("attest", &full_pack),
        attest("attest 1/10", &small_pack),
        attest("attest ctl", &mixed_pack),
    ];
    println!("\n==> commands");
    for job in &jobs {
        println!("{:<13}{}", job.label, job.display());
    }

    println!("\n==> warm-up (untimed)");
    for job in &jobs {
        job.run()?;
    }
    println!("done");

    println!("\n==> {} timed runs of each, alternating", options.runs);
    let mut samples: Vec<Vec<Sample>> = vec![Vec::with_capacity(options.runs); jobs.len()];
    for i in 1..=options.runs {
        let mut line = Vec::with_capacity(jobs.len());
        for (job, taken) in jobs.iter().zip(&mut samples) {
            let sample = job.run()?;
            line.push(format!(
                "{} {:.1} ms {:.1} MiB",
                job.label,
                sample.wall.as_secs_f64() * 1e3,
                rss_mib(sample.peak_rss_kib)
            ));
            taken.push(sample);
        }
        println!("run {i}/{}: {}", options.runs, line.join(" | "));
    }

    let figures = Figures {
        packs: [full_pack, small_pack, mixed_pack],
        envelope_bytes: size(&setup.env2)?,
        timings: jobs
            .iter()
            .zip(&samples)
            .map(|(job, s)| Timing::new(job, s))
            .collect(),
    };
    let machine = machine::describe();
    figures.print(&machine, &options);
    if let Some(path) = &options.json {
        fs::write(path, figures.json(&machine, &options).pretty())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("\nfigures saved to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// A timed `mirror-sign ARGS < stdin`.
fn ms_job(label: &str, args: &[&OsStr], stdin: &Path) -> Job {
    Job {
        label: label.into(),
        program: workspace::release_binary("mirror-sign").into(),
        args: args.iter().map(|&a| a.to_owned()).collect(),
        rss: true,
        stdin: Some(stdin.to_path_buf()),
        env_remove: vec![AUDIT_ENV],
    }
}

/// bundle-pack's `--input DIR/SUB=SUB`: one folder of a corpus, under the same bundle path.
fn prefixed(dir: &Path, sub: &str) -> OsString {
    let mut arg = dir.join(sub).into_os_string();
    arg.push(format!("={sub}"));
    arg
}

fn size(path: &Path) -> Result<u64> {
    path.metadata()
        .map(|m| m.len())
        .with_context(|| format!("cannot stat {}", path.display()))
}

/// A bundle packed by the release bundle-pack: the archive and its manifest (with `archive`).
struct Packed {
    name: String,
    archive: PathBuf,
    manifest: PathBuf,
    archive_bytes: u64,
    manifest_bytes: u64,
    files: u64,
}

impl Packed {
    /// Packs `inputs` into `out/NAME/`, unless a completed earlier pack is newer than both
    /// bundle-pack and the corpora (bundle-pack is deterministic, so it would be the same).
    fn ensure(out: &Path, name: &str, inputs: &[&OsStr], corpora: &[&Corpus]) -> Result<Self> {
        let dir = out.join(name);
        let archive = dir.join("pack.tar.gz");
        let manifest = dir.join("manifest.json");
        let stamp = dir.join("complete");
        let bundle_pack = workspace::release_binary("bundle-pack");
        let stamp_time = modified(&stamp);
        let current = stamp_time.is_some()
            && stamp_time >= modified(&bundle_pack)
            && corpora
                .iter()
                .all(|c| stamp_time >= modified(&c.dir.with_file_name("complete")))
            && archive.is_file()
            && manifest.is_file();
        if current {
            println!("reusing {}", workspace::short(&archive));
        } else {
            if dir.exists() {
                fs::remove_dir_all(&dir)
                    .with_context(|| format!("cannot remove {}", dir.display()))?;
            }
            fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let mut pack = Command::new(&bundle_pack);
            for input in inputs {
                pack.arg("--input").arg(input);
            }
            pack.args(["--bundle-id", "bench", "--created-at", CREATED_AT, "-o"])
                .arg(&archive)
                .arg("-m")
                .arg(&manifest)
                .stdout(Stdio::null());
            cmd::run(&mut pack)?;
            fs::write(&stamp, "").with_context(|| format!("cannot write {}", stamp.display()))?;
        }
        let text = fs::read_to_string(&manifest)
            .with_context(|| format!("cannot read {}", manifest.display()))?;
        Ok(Self {
            name: name.to_owned(),
            archive_bytes: size(&archive)?,
            manifest_bytes: text.len() as u64,
            // Every file entry has exactly one `"path"` member; the archive member has none.
            files: text.matches("\"path\":").count() as u64,
            archive,
            manifest,
        })
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// Keys, a 2-of-2 trust root and the envelopes that `sign+1` and `verify` read.
struct Setup {
    keys: [PathBuf; 2],
    root: PathBuf,
    /// The manifest signed by key a.
    env: PathBuf,
    /// The manifest signed by keys a and b.
    env2: PathBuf,
}

impl Setup {
    fn make(out: &Path, manifest: &Path) -> Result<Self> {
        let mirror_sign = workspace::release_binary("mirror-sign");
        let keys_dir = out.join("keys");
        // keygen refuses to overwrite a key, and new keys cost nothing.
        if keys_dir.exists() {
            fs::remove_dir_all(&keys_dir)
                .with_context(|| format!("cannot remove {}", keys_dir.display()))?;
        }
        let mut public_keys = Vec::with_capacity(KEY_IDS.len());
        for id in KEY_IDS {
            let mut keygen = Command::new(&mirror_sign);
            keygen
                .args(["keygen", "--key-id", id, "--out"])
                .arg(&keys_dir)
                .stdout(Stdio::null());
            cmd::run(&mut keygen)?;
            let public = keys_dir.join(format!("{id}.pub"));
            public_keys.push(
                fs::read_to_string(&public)
                    .with_context(|| format!("cannot read {}", public.display()))?,
            );
        }
        let keys = KEY_IDS.map(|id| keys_dir.join(format!("{id}.key")));

        let root_json = out.join("root.json");
        fs::write(&root_json, trust_root(&public_keys).pretty())
            .with_context(|| format!("cannot write {}", root_json.display()))?;
        let root_a = out.join("root.a.dsse.json");
        let root = out.join("root.dsse.json");
        pipe(
            &mirror_sign,
            &["sign", "--key"],
            &keys[0],
            &root_json,
            &root_a,
        )?;
        pipe(&mirror_sign, &["sign", "--key"], &keys[1], &root_a, &root)?;

        let env = out.join("env.json");
        let env2 = out.join("env2.json");
        pipe(&mirror_sign, &["sign", "--key"], &keys[0], manifest, &env)?;
        pipe(&mirror_sign, &["sign", "--key"], &keys[1], &env, &env2)?;
        // The timed verify must be a real pass, not a fast refusal.
        pipe(
            &mirror_sign,
            &["verify", "--now", NOW, "--trust"],
            &root,
            &env2,
            &out.join("verify-report.json"),
        )?;
        Ok(Self {
            keys,
            root,
            env,
            env2,
        })
    }
}

/// The `stellaops.trust/v1` document: both keys, threshold 2, valid at [`NOW`].
fn trust_root(public_keys: &[String]) -> Json {
    let keys = KEY_IDS
        .iter()
        .zip(public_keys)
        .map(|(id, pem)| {
            Json::obj([
                ("keyid", Json::str(*id)),
                ("publicKey", Json::str(pem.as_str())),
                ("owner", Json::str(format!("{id}, cargo xtask bench sign"))),
                ("notBefore", Json::str(NOT_BEFORE)),
                ("notAfter", Json::str(NOT_AFTER)),
            ])
        })
        .collect();
    Json::obj([
        ("schema", Json::str("stellaops.trust/v1")),
        ("version", Json::Int(1)),
        ("expires", Json::str(NOT_AFTER)),
        ("threshold", Json::Int(KEY_IDS.len() as u64)),
        ("keys", Json::Arr(keys)),
    ])
}

/// `mirror-sign ARGS PATH < input > output`, which must exit 0.
fn pipe(program: &Path, fixed: &[&str], path: &Path, input: &Path, output: &Path) -> Result<()> {
    let mut command = Command::new(program);
    command.args(fixed).arg(path).env_remove(AUDIT_ENV);
    let shown = format!(
        "{} < {} > {}",
        cmd::display(&command),
        workspace::short(input),
        workspace::short(output)
    );
    println!("$ {shown}");
    let stdin = File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let stdout =
        File::create(output).with_context(|| format!("cannot create {}", output.display()))?;
    let status = command
        .stdin(stdin)
        .stdout(stdout)
        .status()
        .with_context(|| format!("cannot start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// One command's runs.
struct Timing {
    label: String,
    command: String,
    walls: Vec<f64>,
    rss_kib: Vec<u64>,
    median_ms: f64,
    /// The worst run: a memory bar must hold on every run.
    max_rss_mib: f64,
}

impl Timing {
    fn new(job: &Job, samples: &[Sample]) -> Self {
        let walls: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64()).collect();
        let rss_kib: Vec<u64> = samples.iter().filter_map(|s| s.peak_rss_kib).collect();
        Self {
            label: job.label.clone(),
            command: job.display(),
            median_ms: measure::median(&walls) * 1e3,
            max_rss_mib: rss_mib(rss_kib.iter().copied().max()),
            walls,
            rss_kib,
        }
    }
}

struct Figures {
    /// The scale-F bundle, the scale-F/10 one, and the control (F's paths, F/10's blobs).
    packs: [Packed; 3],
    /// The manifest signed by both keys, as `verify` reads it.
    envelope_bytes: u64,
    /// In the order sign, sign+1, verify, attest, attest 1/10, attest ctl.
    timings: Vec<Timing>,
}

impl Figures {
    fn bars(&self) -> [Bar; 6] {
        let t = &self.timings;
        let time = |name, timing: &Timing| Bar {
            name,
            value: timing.median_ms,
            limit: TIME_BAR_MS,
            strict: true,
        };
        [
            time("sign (new envelope), median ms", &t[0]),
            time("sign+1 (2nd signature), median ms", &t[1]),
            time("verify (2 of 2), median ms", &t[2]),
            Bar {
                name: "attest peak RSS, F / F/10 corpus",
                value: t[3].max_rss_mib / t[4].max_rss_mib,
                limit: RSS_RATIO_BAR,
                strict: false,
            },
            Bar {
                name: "attest peak RSS, F / control",
                value: t[3].max_rss_mib / t[5].max_rss_mib,
                limit: RSS_RATIO_BAR,
                strict: false,
            },
            Bar {
                name: "attest peak RSS on F, MiB",
                value: t[3].max_rss_mib,
                limit: RSS_BAR_MIB,
                strict: false,
            },
        ]
    }

    fn print(&self, machine: &Machine, options: &Options) {
        println!("\n==> bench sign: results");
        println!("machine: {machine}");
        println!(
            "median of {} warm runs; peak RSS is the largest",
            options.runs
        );
        println!();
        println!(
            "{:<22}{:>8}{:>15}{:>15}",
            "bundle", "files", "manifest", "archive"
        );
        for p in &self.packs {
            println!(
                "{:<22}{:>8}{:>11.1} MiB{:>11.1} MiB",
                p.name,
                p.files,
                mib(p.manifest_bytes),
                mib(p.archive_bytes)
            );
        }
        println!(
            "(the control has F's paths and F/10's large files; the 2-signature envelope of F \
             is {:.1} MiB)",
            mib(self.envelope_bytes)
        );
        println!();
        println!(
            "{:<14}{:>14}{:>16}",
            "command", "wall (median)", "peak RSS (max)"
        );
        for t in &self.timings {
            println!(
                "{:<14}{:>11.1} ms{:>12.1} MiB",
                t.label, t.median_ms, t.max_rss_mib
            );
        }
        println!();
        print_bars(&self.bars());
    }

    fn json(&self, machine: &Machine, options: &Options) -> Json {
        let bundles = self
            .packs
            .iter()
            .map(|p| {
                Json::obj([
                    ("name", Json::str(p.name.as_str())),
                    ("files", Json::Int(p.files)),
                    ("manifestBytes", Json::Int(p.manifest_bytes)),
                    ("archiveBytes", Json::Int(p.archive_bytes)),
                ])
            })
            .collect();
        let commands = self
            .timings
            .iter()
            .map(|t| {
                Json::obj([
                    ("label", Json::str(t.label.as_str())),
                    ("command", Json::str(t.command.as_str())),
                    (
                        "wallSeconds",
                        Json::Arr(t.walls.iter().map(|&x| Json::Num(x)).collect()),
                    ),
                    ("medianWallSeconds", Json::Num(t.median_ms / 1e3)),
                    (
                        "peakRssKiB",
                        Json::Arr(t.rss_kib.iter().map(|&k| Json::Int(k)).collect()),
                    ),
                ])
            })
            .collect();
        Json::obj([
            ("bench", Json::str("sign")),
            (
                "machine",
                Json::obj([
                    ("nproc", Json::Int(machine.nproc as u64)),
                    ("cpu", Json::str(&machine.cpu)),
                    ("kernel", Json::str(&machine.kernel)),
                    ("memTotalMiB", Json::Int(machine.mem_total_mib)),
                ]),
            ),
            ("bundles", Json::Arr(bundles)),
            ("envelopeBytes", Json::Int(self.envelope_bytes)),
            ("now", Json::str(NOW)),
            ("runs", Json::Int(options.runs as u64)),
            ("commands", Json::Arr(commands)),
            (
                "bars",
                Json::Arr(self.bars().iter().map(Bar::json).collect()),
            ),
        ])
    }
}

fn rss_mib(kib: Option<u64>) -> f64 {
    kib.map_or(f64::NAN, |k| k as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_root_is_a_two_of_two_root_valid_at_now() {
        let doc = trust_root(&["PEM A\n".to_owned(), "PEM B\n".to_owned()]).pretty();
        assert!(doc.contains("\"schema\": \"stellaops.trust/v1\""));
        assert!(doc.contains("\"threshold\": 2"));
        assert!(doc.contains("\"keyid\": \"bench-b\""));
        assert!(doc.contains("\"publicKey\": \"PEM A\\n\""));
        // RFC 3339 UTC strings compare in time order.
        assert!(NOT_BEFORE < NOW && NOW < NOT_AFTER);
    }
}
