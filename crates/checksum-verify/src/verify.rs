//! One verification from start to verdict, in the order an importer must check: the
//! manifest's signature against the trust root, the manifest itself (paths, Merkle root),
//! its age, rollback, then the content (archive, folder or sums file). Every failure is
//! collected; only an input that cannot be used at all stops the run.
//!
//! `stage` calls [`verify_bundle`] with a sink that streams each listed entry into the object
//! store while it is checked, then [`Verdict::commit_state`] once the generation is active.

use crate::archive::{self, ArchiveOptions};
use crate::cli::CheckArgs;
use crate::error::VerifyError;
use crate::folder::{self, FolderOptions};
use crate::hashing::Algos;
use crate::manifest_source::{self, LoadedManifest, ManifestArgs};
use crate::report::Findings;
use crate::sink::EntrySink;
use crate::state::{self, Override, PendingState, StateOptions};
use crate::{checks, sums};
use offline_formats::timestamp;
use offline_formats::verify_report::VerifyReport;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

/// The options every verification shares, resolved and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--now`, or the clock: the instant signatures, staleness and the state are judged at.
    pub now: i64,
    pub algos: Algos,
    /// `--algo` as given (sums files need to know whether it was).
    pub algo_arg: Option<crate::hashing::AlgoArg>,
    pub allow_unlisted: bool,
    /// `--max-age` in seconds.
    pub max_age: Option<u64>,
    pub state: Option<StateOptions>,
    pub max_expand: f64,
    pub max_size: Option<u64>,
    /// Hashing threads for folders and sums files.
    pub jobs: usize,
}

impl Settings {
    /// Resolves the shared options, refusing impossible combinations.
    pub fn from_args(checks: &CheckArgs, jobs: Option<NonZeroUsize>) -> Result<Self, VerifyError> {
        let now = match checks.now.as_deref() {
            Some(text) => timestamp::parse_unix(text)
                .map_err(|e| VerifyError::Usage(format!("--now: {e}")))?,
            None => clock()?,
        };
        let force_reason = match (checks.force, &checks.reason) {
            (true, Some(reason)) if reason.trim().is_empty() => {
                return Err(VerifyError::Usage(
                    "--reason is empty: say why the rollback is accepted".into(),
                ))
            }
            (true, Some(reason)) => Some(reason.clone()),
            (true, None) => {
                return Err(VerifyError::Usage(
                    "--force needs --reason TEXT: an accepted rollback is recorded with why".into(),
                ))
            }
            (false, Some(_)) => {
                return Err(VerifyError::Usage("--reason goes with --force".into()))
            }
            (false, None) => None,
        };
        if force_reason.is_some() && checks.state.is_none() {
            return Err(VerifyError::Usage(
                "--force overrides the rollback check of --state DIR; give --state".into(),
            ));
        }
        if !(checks.max_expand.is_finite() && checks.max_expand >= 1.0) {
            return Err(VerifyError::Usage(format!(
                "--max-expand {}: give a ratio of at least 1",
                checks.max_expand
            )));
        }
        Ok(Self {
            now,
            algos: Algos::from_arg(checks.algo),
            algo_arg: checks.algo,
            allow_unlisted: checks.allow_unlisted,
            max_age: checks.max_age,
            state: checks.state.as_ref().map(|dir| StateOptions {
                dir: dir.clone(),
                force_reason,
            }),
            max_expand: checks.max_expand,
            max_size: checks.max_size,
            jobs: jobs.map_or_else(default_jobs, NonZeroUsize::get),
        })
    }

    /// The options of an archive check.
    pub fn archive_options(&self) -> ArchiveOptions {
        ArchiveOptions {
            algos: self.algos,
            allow_unlisted: self.allow_unlisted,
            max_expand: self.max_expand,
            max_size: self.max_size,
        }
    }
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

fn clock() -> Result<i64, VerifyError> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| VerifyError::Internal(format!("clock before 1970: {e}")))
        .and_then(|d| {
            i64::try_from(d.as_secs())
                .map_err(|_| VerifyError::Internal("clock past the year 2^63".into()))
        })
}

/// The verdict of one verification.
#[derive(Debug)]
pub struct Verdict {
    /// The report for stdout.
    pub report: VerifyReport,
    /// Everything found, for `-v`.
    pub findings: Findings,
    /// The manifest checked against (none for a sums file).
    pub manifest: Option<LoadedManifest>,
    /// What `--state` will remember once the verdict is acted on.
    pub state: Option<PendingState>,
}

impl Verdict {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.report.ok
    }

    /// Records the accepted generation in the `--state` folder. Does nothing unless the
    /// verdict is ok (a failed bundle never moves the state), or without `--state`. Returns
    /// the rollback that was forced, if one was.
    pub fn commit_state(&self) -> Result<Option<&Override>, VerifyError> {
        match &self.state {
            Some(pending) if self.ok() => {
                pending.commit()?;
                Ok(pending.forced.as_ref())
            }
            _ => Ok(None),
        }
    }
}

/// What is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A bundle archive; `-` is stdin.
    Archive(PathBuf),
    /// An extracted or staged bundle.
    Folder(PathBuf),
}

impl Target {
    /// A folder when `path` is one, else an archive (`-` is stdin).
    pub fn of(path: &Path) -> Result<Self, VerifyError> {
        if path.as_os_str() == "-" {
            return Ok(Target::Archive(path.to_owned()));
        }
        let meta = std::fs::metadata(path).map_err(|e| VerifyError::io(path, e))?;
        Ok(if meta.is_dir() {
            Target::Folder(path.to_owned())
        } else {
            Target::Archive(path.to_owned())
        })
    }

    /// The name in the report.
    pub fn label(&self) -> String {
        let (Target::Archive(p) | Target::Folder(p)) = self;
        manifest_source::display_name(p).display().to_string()
    }
}

/// The manifest-level checks every bundle and folder verification runs first.
struct Prepared {
    loaded: LoadedManifest,
    checkable: Vec<bool>,
    state: Option<PendingState>,
}

fn prepare(
    source: &ManifestArgs,
    settings: &Settings,
    findings: &mut Findings,
) -> Result<Prepared, VerifyError> {
    let loaded = manifest_source::load(source, settings.now, findings)?;
    checks::validate(&loaded)?;
    let checkable = checks::check_paths(&loaded.manifest, findings);
    checks::check_merkle(&loaded, findings);
    checks::check_staleness(&loaded, settings.now, settings.max_age, findings)?;
    let state = match &settings.state {
        Some(options) => Some(state::check(options, &loaded, settings.now, findings)?),
        None => None,
    };
    Ok(Prepared {
        loaded,
        checkable,
        state,
    })
}

/// Verifies a bundle archive (`-` reads stdin) against the manifest `source` names,
/// streaming every listed entry into `sink` as it is checked. See
/// [`archive::verify_archive`] for the archive checks.
pub fn verify_bundle<S: EntrySink>(
    archive_path: &Path,
    source: &ManifestArgs,
    settings: &Settings,
    sink: &mut S,
) -> Result<Verdict, VerifyError> {
    if archive_path.as_os_str() == "-" && source.manifest.as_deref() == Some(Path::new("-")) {
        return Err(VerifyError::Usage(
            "the archive and the manifest cannot both come from stdin".into(),
        ));
    }
    let target = Target::Archive(archive_path.to_owned());
    let label = target.label();
    let mut findings = Findings::new();
    let prepared = prepare(source, settings, &mut findings)?;
    if prepared.loaded.manifest.archive.is_none() {
        return Err(VerifyError::document(
            &prepared.loaded.source,
            "has no `archive` member (it is the copy embedded in the bundle): give the manifest \
bundle-pack printed (stdout or -m FILE), or the signed envelope",
        ));
    }
    let options = settings.archive_options();
    let manifest = &prepared.loaded.manifest;
    if archive_path.as_os_str() == "-" {
        archive::verify_archive(
            std::io::stdin(),
            &label,
            manifest,
            &options,
            sink,
            &mut findings,
        )?;
    } else {
        let file =
            std::fs::File::open(archive_path).map_err(|e| VerifyError::io(archive_path, e))?;
        archive::verify_archive(file, &label, manifest, &options, sink, &mut findings)?;
    }
    Ok(finish(&label, findings, prepared))
}

/// Verifies a folder against the manifest `source` names.
pub fn verify_folder(
    root: &Path,
    source: &ManifestArgs,
    settings: &Settings,
) -> Result<Verdict, VerifyError> {
    let label = Target::Folder(root.to_owned()).label();
    let mut findings = Findings::new();
    // The walk needs no manifest: it runs while the manifest is read and checked.
    let (prepared, tree) = std::thread::scope(|scope| {
        let walker = scope.spawn(|| folder::walk(root, true));
        let prepared = prepare(source, settings, &mut findings);
        let tree = walker
            .join()
            .unwrap_or_else(|_| Err(VerifyError::Internal("the walking thread panicked".into())));
        (prepared, tree)
    });
    let prepared = prepared?;
    let tree = tree?;
    let options = FolderOptions {
        algos: settings.algos,
        allow_unlisted: settings.allow_unlisted,
        jobs: settings.jobs,
    };
    folder::verify_folder(
        root,
        &tree,
        &prepared.loaded.manifest,
        &prepared.checkable,
        &options,
        &mut findings,
    )?;
    Ok(finish(&label, findings, prepared))
}

fn finish(label: &str, findings: Findings, prepared: Prepared) -> Verdict {
    let report = findings.report(label, Some(prepared.loaded.digest.clone()));
    Verdict {
        report,
        findings,
        manifest: Some(prepared.loaded),
        state: prepared.state,
    }
}

/// Verifies a sums file (`-` reads stdin) against the files below `base` (by default the
/// sums file's folder).
pub fn verify_sums(
    sums_path: &Path,
    base: Option<&Path>,
    settings: &Settings,
) -> Result<Verdict, VerifyError> {
    let text = manifest_source::read_document(sums_path)?;
    let base = match base {
        Some(base) => base.to_owned(),
        None if sums_path.as_os_str() == "-" => PathBuf::from("."),
        None => match sums_path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        },
    };
    let options = sums::SumsOptions {
        sums: sums_path.to_owned(),
        base,
        gnu_algo: sums::gnu_algo(sums_path, settings.algo_arg)?,
        allow_unlisted: settings.allow_unlisted,
        jobs: settings.jobs,
    };
    let mut findings = Findings::new();
    sums::verify_sums(&text, &options, &mut findings)?;
    let label = manifest_source::display_name(sums_path)
        .display()
        .to_string();
    let report = findings.report(&label, None);
    Ok(Verdict {
        report,
        findings,
        manifest: None,
        state: None,
    })
}
