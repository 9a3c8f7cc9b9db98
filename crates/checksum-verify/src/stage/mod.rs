//! `checksum-verify stage`: verify a bundle and load it into an object store in the same
//! streaming pass, so that nothing unverified ever becomes visible and a generation becomes
//! visible only once all of it checked.
//!
//! The order of a run:
//! 1. the manifest-level checks (signature, paths, Merkle root, age, rollback); if one fails,
//!    the archive is still verified for the report but the store is never opened;
//! 2. the store is opened (a local store is locked and cleared of an interrupted run's
//!    temporary files) and the generation's receipt read: the same manifest means "already
//!    active", another one is a `rollback` failure and nothing is written;
//! 3. the archive streams through the verifier into [`objects::StoreSink`]: each listed entry
//!    is uploaded under a temporary name (or as an uncompleted multipart upload) while it is
//!    hashed, and made visible only when the verifier and the sink's own hash both agree with
//!    the manifest; objects already stored with the right digest are not sent again;
//! 4. if the whole report is ok: `index.json` (`cas`), `manifest.json`, then `receipt.json`;
//!    then the `--state` record. If not: what this run made visible in the generation's own
//!    folder is removed again, and `--quarantine` moves the bundle and its report aside.

pub mod activate;
pub mod layout;
pub mod local;
#[cfg(test)]
mod memory;
pub mod objects;
pub mod s3;
pub mod store;
pub mod target;

use crate::cli::CheckArgs;
use crate::error::VerifyError;
use crate::manifest_source::{self, ManifestArgs};
use crate::report::{self, Findings};
use crate::sink::Discard;
use crate::verify::{self, Settings, Verdict};
use crate::{checks, state, TOOL};
use activate::{Activation, Existing};
use layout::Placement;
use offline_formats::jcs;
use offline_formats::stage::{Decision, Layout, ObjectCounts, StageStatus, StageSummary};
use offline_formats::timestamp;
use offline_formats::verify_report::{Failure, FailureKind, VerifyReport};
use std::io::Write;
use std::path::{Path, PathBuf};
use store::{Store, StoreError};
use target::Target;

/// The store `--to` names when not given (DESIGN §5: the local file system is the default).
pub const DEFAULT_TO: &str = "file:///srv/offline";

/// `--layout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LayoutArg {
    /// `<prefix>/<bundleId>/<mirrorGeneration>/<path>`.
    Generation,
    /// `<prefix>/sha256/<hex>`, shared by every bundle, plus an index per generation.
    Cas,
}

/// Options of `checksum-verify stage`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Verify a bundle .tar.gz exactly as `checksum-verify` does and, in the same \
streaming pass, load it into an object store: a local folder (file:///path, the default \
file:///srv/offline) or an S3 bucket (s3://bucket/prefix with --endpoint and the AWS_* \
variables). Each file becomes visible only after its digest matched (a temporary name renamed \
into place; an S3 multipart upload completed after the check). The generation is activated by \
writing manifest.json and then receipt.json last; readers take a generation without a receipt \
as absent. A rerun skips objects already stored with the right digest, so an interrupted run \
(even kill -9) is resumed by running it again. On any failure nothing is activated; the verify \
report on stdout says why. Exit 0 staged (or already active), 1 a check failed, 2 unusable \
input or a store error."
)]
pub struct StageArgs {
    /// The bundle .tar.gz to verify and stage (`-` reads stdin).
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,

    #[command(flatten)]
    pub source: ManifestArgs,

    #[command(flatten)]
    pub checks: CheckArgs,

    /// The object store: file:///path or s3://bucket/prefix.
    #[arg(long, value_name = "URL", default_value = DEFAULT_TO)]
    pub to: String,

    /// The S3 API endpoint (http://host:port or https://host); required with s3://.
    #[arg(
        long,
        value_name = "URL",
        long_help = "The S3 API endpoint, e.g. https://s3.site.internal or http://127.0.0.1:3900. \
Required with an s3:// store: no default endpoint is ever contacted (sealed mode). Credentials \
come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); the region from \
AWS_REGION or AWS_DEFAULT_REGION [default: us-east-1]. Plain http is used only to a loopback \
address unless --allow-http."
    )]
    pub endpoint: Option<String>,

    /// Allow a plain http:// endpoint that is not a loopback address.
    #[arg(long)]
    pub allow_http: bool,

    /// Where files go: under their generation, or content-addressed (`sha256/<hex>`) with an index.
    #[arg(long, value_enum, default_value = "generation", value_name = "LAYOUT")]
    pub layout: LayoutArg,

    /// Who is staging, recorded in the receipt [default: $USER].
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,

    /// On a failed verification, move the bundle into DIR with its report beside it.
    #[arg(long, value_name = "DIR")]
    pub quarantine: Option<PathBuf>,

    /// Print `path: OK` or `path: FAILED` for every file on stderr.
    #[arg(short, long)]
    pub verbose: bool,

    /// No summary lines on stderr (the report still goes to stdout).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// Runs `checksum-verify stage`: the verify report (with its `stage` member) on stdout, a
/// summary on stderr. Returns the exit code of a verdict (0 staged, 1 a check failed); an
/// error is exit 2 (an unusable input or a store error, named).
pub fn run(
    args: &StageArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, VerifyError> {
    run_with_env(args, &|name| std::env::var(name).ok(), stdout, stderr)
}

/// [`run`] with the environment read through `env`.
pub fn run_with_env(
    args: &StageArgs,
    env: target::EnvLookup<'_>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, VerifyError> {
    let stdin = Some(Path::new("-"));
    if [
        &args.source.manifest,
        &args.source.envelope,
        &args.source.trust,
    ]
    .iter()
    .any(|p| p.as_deref() == stdin)
    {
        return Err(VerifyError::Usage(
            "stage reads the manifest before and while it stages: give --manifest, --envelope \
             and --trust as files, not `-`"
                .into(),
        ));
    }
    let settings = Settings::from_args(&args.checks, None)?;
    let target = target::parse_target(&args.to).map_err(usage)?;
    let s3 = match (&target, &args.endpoint) {
        (Target::S3 { bucket, prefix }, Some(endpoint)) => {
            Some(target::s3_config(bucket, prefix, endpoint, args.allow_http, env).map_err(usage)?)
        }
        (Target::S3 { .. }, None) => {
            return Err(usage(target::TargetError::NoEndpoint {
                url: args.to.clone(),
            }))
        }
        (Target::Local { .. }, Some(_)) => {
            return Err(usage(target::TargetError::EndpointWithoutS3 {
                url: args.to.clone(),
            }))
        }
        (Target::Local { .. }, None) => None,
    };
    let operator = operator(args, env)?;
    let layout = match args.layout {
        LayoutArg::Generation => Layout::Generation,
        LayoutArg::Cas => Layout::Cas,
    };

    // 1. The manifest-level checks, before the store is touched.
    let mut early = Findings::new();
    let loaded = manifest_source::load(&args.source, settings.now, &mut early)?;
    checks::validate(&loaded)?;
    checks::check_paths(&loaded.manifest, &mut early);
    checks::check_merkle(&loaded, &mut early);
    checks::check_staleness(&loaded, settings.now, settings.max_age, &mut early)?;
    if let Some(options) = &settings.state {
        state::check(options, &loaded, settings.now, &mut early)?;
    }
    let placement = Placement::new(layout, &loaded.manifest)
        .map_err(|e| VerifyError::document(&loaded.source, e.to_string()))?;
    let mut summary = StageSummary {
        to: args.to.clone(),
        layout,
        generation: String::new(),
        status: StageStatus::NotActivated,
        uploaded: ObjectCounts::default(),
        present: ObjectCounts::default(),
        quarantined: None,
    };
    // A file that has no place in the store (a reserved name) is known before any upload.
    let unplaceable: Vec<Failure> = loaded
        .manifest
        .files
        .iter()
        .filter_map(|file| match placement.object_key(file) {
            Ok(_) => None,
            Err(e) => Some(Failure {
                path: file.path.clone(),
                kind: FailureKind::UnsafeEntry,
                expected: None,
                actual: Some(format!("stage: {e}")),
            }),
        })
        .collect();
    if !early.ok() || !unplaceable.is_empty() {
        // Never open the store for a bundle already known bad: verify it for the report only.
        summary.generation = generation_url(&args.to, &placement);
        let verdict = verify::verify_bundle(&args.bundle, &args.source, &settings, &mut Discard)?;
        return refuse(args, verdict, unplaceable, summary, stdout, stderr);
    }

    // 2. The store, and what it already holds for this generation.
    let mut store: Box<dyn Store> = match &s3 {
        Some(config) => Box::new(s3::S3Store::open(config).map_err(sink)?),
        None => match &target {
            Target::Local { root } => Box::new(local::LocalStore::open(root).map_err(sink)?),
            Target::S3 { .. } => {
                return Err(VerifyError::Internal(
                    "s3 store without its settings".into(),
                ))
            }
        },
    };
    summary.generation = store.url(&format!("{}/", placement.generation_dir()));
    let existing = activate::existing(store.as_mut(), &placement, &loaded.manifest, &loaded.digest)
        .map_err(sink)?;
    if let Existing::Conflict(receipt) = &existing {
        // Another manifest owns this generation: its objects must not be touched.
        let verdict = verify::verify_bundle(&args.bundle, &args.source, &settings, &mut Discard)?;
        let conflict = Failure {
            path: store.url(&placement.receipt_key()),
            kind: FailureKind::Rollback,
            expected: Some(format!(
                "a mirrorGeneration above {} (active with manifest {})",
                receipt.mirror_generation, receipt.manifest_digest
            )),
            actual: Some(format!(
                "mirrorGeneration {} with manifest {}",
                loaded.manifest.mirror_generation, loaded.digest
            )),
        };
        return refuse(args, verdict, vec![conflict], summary, stdout, stderr);
    }

    // 3. Verify and upload in one pass.
    let mut sink_state = objects::StoreSink::new(store, placement.clone());
    let verified = verify::verify_bundle(&args.bundle, &args.source, &settings, &mut sink_state);
    // An unfinished upload is dropped either way; a verification error matters more.
    let finished = sink_state.finish_sink();
    let verdict = verified?;
    let (mut store, outcome) = finished.map_err(sink)?;
    summary.uploaded = outcome.uploaded;
    summary.present = outcome.present;
    let mut failures = outcome.failures;
    let same_manifest = verdict
        .manifest
        .as_ref()
        .is_some_and(|m| m.digest == loaded.digest);
    if !same_manifest {
        failures.push(Failure {
            path: loaded.source.clone(),
            kind: FailureKind::Mismatch,
            expected: Some(loaded.digest.clone()),
            actual: Some("the manifest changed while the bundle was staged".to_owned()),
        });
    }
    if verdict.ok() && failures.is_empty() {
        if let Some(missing) = loaded
            .manifest
            .files
            .iter()
            .find(|f| !outcome.stored.contains_key(&f.path))
        {
            failures.push(Failure {
                path: missing.path.clone(),
                kind: FailureKind::Missing,
                expected: Some("stored with the manifest's digest".to_owned()),
                actual: Some("stage: not stored".to_owned()),
            });
        }
    }
    if !(verdict.ok() && failures.is_empty()) {
        // In an active generation what this run wrote were verified repairs: they stay.
        if existing == Existing::Absent {
            activate::roll_back(store.as_mut(), &placement, &outcome.written).map_err(sink)?;
        }
        return refuse(args, verdict, failures, summary, stdout, stderr);
    }

    // 4. Activate: index, manifest, receipt last; then the state.
    let activation = match &existing {
        Existing::Active(_) => None,
        _ => Some(Activation {
            operator,
            decision: match verdict.state.as_ref().and_then(|s| s.forced.as_ref()) {
                Some(_) => Decision::Forced,
                None => Decision::Accepted,
            },
            reason: verdict
                .state
                .as_ref()
                .and_then(|s| s.forced.as_ref())
                .map(|o| o.reason.clone()),
            staged_at: timestamp::format_unix(settings.now)
                .map_err(|e| VerifyError::Usage(format!("--now: {e}")))?,
        }),
    };
    let (receipt, documents) = activate::activate(
        store.as_mut(),
        &placement,
        &loaded.manifest,
        &loaded.digest,
        &outcome.stored,
        activation.as_ref(),
    )
    .map_err(sink)?;
    summary.uploaded.objects += documents.objects;
    summary.uploaded.bytes += documents.bytes;
    summary.status = if receipt.is_some() {
        StageStatus::Activated
    } else {
        StageStatus::AlreadyActive
    };
    drop(store);
    if let Some(forced) = verdict.commit_state()? {
        let _ = writeln!(
            stderr,
            "{TOOL}: warning: rollback from mirrorGeneration {} to {} accepted with --force: {}",
            forced.from_generation,
            forced.to_generation,
            tool_cli::sanitize(&forced.reason)
        );
    }
    emit(
        args,
        &verdict.report,
        &verdict.findings,
        &summary,
        stdout,
        stderr,
    )?;
    Ok(0)
}

/// A failed bundle: the report with the stage's own failures, quarantine, exit 1.
fn refuse(
    args: &StageArgs,
    verdict: Verdict,
    extra: Vec<Failure>,
    mut summary: StageSummary,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, VerifyError> {
    let mut report = verdict.report;
    for failure in extra {
        // The verifier may have named the same path for the same reason in its own words.
        let known = report
            .failures
            .iter()
            .any(|f| f.path == failure.path && f.kind == failure.kind);
        if !known {
            report.failures.push(failure);
        }
    }
    report.ok = false;
    summary.status = StageStatus::NotActivated;
    if let Some(dir) = &args.quarantine {
        let moved = quarantine(&args.bundle, dir, &report, &mut summary);
        if let Err(e) = moved {
            emit(args, &report, &verdict.findings, &summary, stdout, stderr)?;
            return Err(e);
        }
    }
    emit(args, &report, &verdict.findings, &summary, stdout, stderr)?;
    Ok(1)
}

/// The verify report with its `stage` member, as printed and quarantined.
#[derive(serde::Serialize)]
struct StageReport<'a> {
    #[serde(flatten)]
    report: &'a VerifyReport,
    stage: &'a StageSummary,
}

fn report_bytes(report: &VerifyReport, summary: &StageSummary) -> Result<Vec<u8>, VerifyError> {
    jcs::to_pretty_vec(&StageReport {
        report,
        stage: summary,
    })
    .map_err(|e| VerifyError::Internal(format!("stage report: {e}")))
}

fn emit(
    args: &StageArgs,
    report: &VerifyReport,
    findings: &Findings,
    summary: &StageSummary,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), VerifyError> {
    let bytes = report_bytes(report, summary)?;
    if args.verbose {
        let _ = stderr.write_all(findings.verbose_lines().as_bytes());
    }
    if !args.quiet {
        // The house format: `checksum-verify: OK: …`, or `checksum-verify: error: …`.
        let lead = if report.ok {
            format!("{TOOL}: ")
        } else {
            format!("{TOOL}: error: ")
        };
        let _ = writeln!(stderr, "{lead}{}", report::summary(report));
        let _ = writeln!(stderr, "{lead}{}", tool_cli::sanitize(&stage_line(summary)));
    }
    tool_cli::write_data(stdout, &bytes);
    Ok(())
}

/// `staged: <generation>: activated; 4 objects uploaded (1.2 MiB), 2 already present`.
fn stage_line(summary: &StageSummary) -> String {
    let status = match summary.status {
        StageStatus::Activated => "activated",
        StageStatus::AlreadyActive => "already active",
        StageStatus::NotActivated => "NOT activated",
    };
    let mut line = format!(
        "stage: {}: {status}; {} {} uploaded ({}), {} already present",
        summary.generation,
        summary.uploaded.objects,
        if summary.uploaded.objects == 1 {
            "object"
        } else {
            "objects"
        },
        report::human_bytes(summary.uploaded.bytes),
        summary.present.objects,
    );
    if let Some(path) = &summary.quarantined {
        line.push_str(&format!("; bundle quarantined to {path}"));
    }
    line
}

/// `--operator`, else the login name; refused when neither is there or it is blank.
fn operator(args: &StageArgs, env: target::EnvLookup<'_>) -> Result<String, VerifyError> {
    let name = args
        .operator
        .clone()
        .or_else(|| env("USER"))
        .or_else(|| env("LOGNAME"))
        .unwrap_or_default();
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(VerifyError::Usage(
            "--operator NAME: the receipt records who staged the bundle (no $USER to default to)"
                .into(),
        ));
    }
    Ok(name.to_owned())
}

/// The generation folder's URL without opening the store (for a bundle refused early).
fn generation_url(to: &str, placement: &Placement) -> String {
    format!(
        "{}/{}/",
        to.trim_end_matches('/'),
        placement.generation_dir()
    )
}

fn usage(e: target::TargetError) -> VerifyError {
    VerifyError::Usage(e.to_string())
}

fn sink(e: StoreError) -> VerifyError {
    VerifyError::Sink(Box::new(e))
}

/// Moves the bundle into `dir` (created if needed) under a free name and writes the report
/// beside it as `<name>.report.json`; a bundle read from stdin leaves only its report.
fn quarantine(
    bundle: &Path,
    dir: &Path,
    report: &VerifyReport,
    summary: &mut StageSummary,
) -> Result<(), VerifyError> {
    std::fs::create_dir_all(dir).map_err(|e| VerifyError::io(dir, e))?;
    let from_stdin = bundle.as_os_str() == "-";
    let name = match bundle.file_name() {
        Some(name) if !from_stdin => name.to_string_lossy().into_owned(),
        _ => "stdin.tar.gz".to_owned(),
    };
    let mut destination = dir.join(&name);
    let mut n = 1;
    while destination.exists() || report_path(&destination).exists() {
        destination = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    if !from_stdin {
        move_file(bundle, &destination)?;
        summary.quarantined = Some(destination.display().to_string());
    }
    let bytes = report_bytes(report, summary)?;
    let report_file = report_path(&destination);
    write_durably(&report_file, &bytes)?;
    sync_dir(dir)?;
    Ok(())
}

fn report_path(destination: &Path) -> PathBuf {
    let mut name = destination.as_os_str().to_owned();
    name.push(".report.json");
    PathBuf::from(name)
}

/// Renames, or copies, syncs and removes across file systems.
fn move_file(from: &Path, to: &Path) -> Result<(), VerifyError> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(18) => {
            // EXDEV: the quarantine folder is on another file system.
            let mut source = std::fs::File::open(from).map_err(|e| VerifyError::io(from, e))?;
            let mut target = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(to)
                .map_err(|e| VerifyError::io(to, e))?;
            std::io::copy(&mut source, &mut target).map_err(|e| VerifyError::io(to, e))?;
            target.sync_all().map_err(|e| VerifyError::io(to, e))?;
            std::fs::remove_file(from).map_err(|e| VerifyError::io(from, e))
        }
        Err(e) => Err(VerifyError::io(from, e)),
    }
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), VerifyError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".checksum-verify.")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| VerifyError::io(dir, e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| VerifyError::io(path, e))?;
    temp.persist(path)
        .map_err(|e| VerifyError::io(path, e.error))?;
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), VerifyError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| VerifyError::io(dir, e))
}
