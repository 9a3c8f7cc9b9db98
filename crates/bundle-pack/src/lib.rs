//! `bundle-pack`: deterministic, hashed-while-packed `.tar.gz` bundles for air-gapped
//! sites. The binary only parses arguments and calls [`run`].

pub mod cli;
pub mod collect;
pub mod config;
pub mod error;
pub mod gzip;
pub mod inspect;
mod lanes;
pub mod media_type;
pub mod output;
pub mod pack;
pub mod tar_stream;
#[cfg(test)]
mod test_data;

use crate::cli::{Cli, Command, PackArgs};
use crate::config::{ConfigFile, Settings, Source};
use crate::error::PackError;
use offline_formats::{sums, timestamp};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Parses `args` and runs the tool, writing data to `stdout` and messages to `stderr`.
pub fn main_with_args<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match tool_cli::parse::<Cli, _, _>(TOOL, args, stdout, stderr) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    output::remove_partial_files_on_interrupt();
    match run(cli, stdout, stderr) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            tool_cli::report_error(TOOL, stderr, &e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}

/// The tool's name in messages.
const TOOL: &str = "bundle-pack";

/// Runs a parsed command line; returns the exit code for success paths.
pub fn run(cli: Cli, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<u8, PackError> {
    match cli.command {
        Some(Command::Inspect { archive }) => {
            let manifest = if archive.as_os_str() == "-" {
                inspect::read_embedded_manifest_from(Path::new("<stdin>"), std::io::stdin().lock())?
            } else {
                inspect::read_embedded_manifest(&archive)?
            };
            tool_cli::write_data(stdout, &manifest.to_pretty_json());
            Ok(0)
        }
        None => {
            let settings = resolve_settings(cli.pack)?;
            for warning in &settings.warnings {
                let _ = writeln!(stderr, "bundle-pack: warning: {warning}");
            }
            pack_bundle(&settings, stdout, stderr)?;
            Ok(0)
        }
    }
}

fn pack_bundle(
    settings: &Settings,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), PackError> {
    let started = std::time::Instant::now();
    let own_outputs = collect::OwnOutputs::of(
        [
            Some(settings.output.clone()),
            Some(sidecar_path(&settings.output)),
            settings.manifest_out.clone(),
            settings.sums.clone(),
            settings.b3sums.clone(),
        ]
        .into_iter()
        .flatten(),
    );
    let (files, skipped) =
        collect::collect(&settings.sources, settings.follow_symlinks, &own_outputs)?;
    for path in skipped {
        let _ = writeln!(
            stderr,
            "bundle-pack: warning: `{}`: is an output of this run; not packed",
            path.display()
        );
    }
    let total: u64 = files.iter().map(|f| f.size).sum();
    let bar = if !settings.quiet && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} [{bar:40}] {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Some(ProgressBar(bar))
    } else {
        None
    };
    let packed = match &bar {
        Some(bar) => pack::pack(settings, &files, bar),
        None => pack::pack(settings, &files, &()),
    };
    if let Some(bar) = &bar {
        bar.0.finish_and_clear();
    }
    let pack::Packed {
        manifest,
        content_bytes,
        archive: staged_archive,
    } = packed?;
    drop(files);
    let manifest = &manifest;
    let manifest_json = manifest.to_pretty_json();
    let archive = manifest
        .archive
        .as_ref()
        .ok_or_else(|| PackError::Internal("manifest without archive member".into()))?;

    let mut staged = Vec::new();
    staged.push(output::stage(
        &sidecar_path(&settings.output),
        sums::gnu_line(&archive.sha256, &archive.name).as_bytes(),
    )?);
    if let Some(path) = &settings.manifest_out {
        staged.push(output::stage(path, &manifest_json)?);
    }
    if let Some(path) = &settings.sums {
        let text: String = manifest
            .files
            .iter()
            .map(|f| sums::gnu_line(&f.sha256, &f.path))
            .collect();
        staged.push(output::stage(path, text.as_bytes())?);
    }
    if let Some(path) = &settings.b3sums {
        let text: String = manifest
            .files
            .iter()
            .map(|f| sums::gnu_line(&f.blake3, &f.path))
            .collect();
        staged.push(output::stage(path, text.as_bytes())?);
    }
    // Every output is complete on disk; only now does anything replace the previous run's.
    staged_archive.commit()?;
    for side in staged {
        side.commit()?;
    }
    tool_cli::write_data(stdout, &manifest_json);
    if !settings.quiet {
        let _ = writeln!(
            stderr,
            "bundle-pack: packed {} {} ({}) into {} ({}, sha256 {}) in {:.1}s",
            manifest.files.len(),
            if manifest.files.len() == 1 {
                "file"
            } else {
                "files"
            },
            human_bytes(content_bytes),
            settings.output.display(),
            human_bytes(archive.size),
            &archive.sha256[..16],
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

struct ProgressBar(indicatif::ProgressBar);

impl pack::Progress for ProgressBar {
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

fn sidecar_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Resolves flags, configuration file and environment into settings. Flags win over the
/// file; `SOURCE_DATE_EPOCH` fills in times neither gives.
fn resolve_settings(args: PackArgs) -> Result<Settings, PackError> {
    let (config, base) = match &args.config {
        Some(path) => (
            config::read_config(path)?,
            path.parent().map(Path::to_owned).unwrap_or_default(),
        ),
        None => (ConfigFile::default(), PathBuf::new()),
    };
    let mut warnings = Vec::new();
    let mut global_excludes = config.exclude.clone();
    global_excludes.extend(args.exclude.iter().cloned());

    let mut sources = Vec::new();
    for spec in &config.sources {
        let mut patterns = global_excludes.clone();
        patterns.extend(spec.exclude.iter().cloned());
        if let Some(media_type) = &spec.media_type {
            if media_type.is_empty() || !media_type.contains('/') {
                return Err(PackError::Usage(format!(
                    "source `{}`: mediaType `{media_type}` is not a type/subtype",
                    spec.from.display()
                )));
            }
        }
        sources.push(Source {
            from: base.join(&spec.from),
            to: config::normalize_prefix(&spec.to)?,
            media_type: spec.media_type.clone(),
            exclude: config::compile_globs(&patterns)?,
        });
    }
    for input in &args.inputs {
        let (from, prefix) = config::parse_input(input);
        sources.push(Source {
            from,
            to: config::normalize_prefix(&prefix)?,
            media_type: None,
            exclude: config::compile_globs(&global_excludes)?,
        });
    }
    if sources.is_empty() {
        return Err(PackError::Usage(
            "nothing to pack: give --input DIR or a --config with sources".into(),
        ));
    }

    let bundle_id = args.bundle_id.or(config.bundle_id).ok_or_else(|| {
        PackError::Usage("no bundle id: give --bundle-id or bundleId in the config".into())
    })?;
    config::validate_bundle_id(&bundle_id)?;
    let kind = args
        .kind
        .or(config.kind)
        .unwrap_or_else(|| "bootstrap".into());
    config::validate_kind(&kind)?;
    let generation = args.generation.or(config.mirror_generation).unwrap_or(1);
    let producer = args
        .producer
        .or(config.producer)
        .unwrap_or_else(|| format!("bundle-pack/{}", env!("CARGO_PKG_VERSION")));
    if producer.is_empty() {
        return Err(PackError::Usage("producer must not be empty".into()));
    }

    let source_date_epoch = source_date_epoch()?;
    let created_at = match args.created_at.or(config.created_at) {
        Some(text) => timestamp::normalize(&text)?,
        None => match source_date_epoch {
            Some(seconds) => i64::try_from(seconds)
                .ok()
                .and_then(|s| timestamp::format_unix(s).ok())
                .ok_or_else(|| {
                    PackError::Usage(format!(
                        "SOURCE_DATE_EPOCH `{seconds}` is past the year 9999, the last an RFC 3339 time can hold"
                    ))
                })?,
            None => {
                warnings.push(
                    "no --created-at, createdAt or SOURCE_DATE_EPOCH: createdAt is 1970-01-01T00:00:00Z"
                        .into(),
                );
                timestamp::format_unix(0)?
            }
        },
    };
    let mtime = args.mtime.or(source_date_epoch).unwrap_or(0);
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let output = args
        .output
        .ok_or_else(|| PackError::Usage("no output: give -o OUT.tar.gz".into()))?;
    if output.as_os_str() == "-" {
        return Err(PackError::Usage(
            "-o -: the archive cannot go to stdout (its first entry is written last, so it needs a file)"
                .into(),
        ));
    }
    if output.is_dir() {
        return Err(PackError::Usage(format!(
            "`{}`: is a folder; -o takes the archive's file name",
            output.display()
        )));
    }
    for target in [
        Some(&output),
        args.manifest.as_ref(),
        args.sums.as_ref(),
        args.b3sums.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        output::check_writable_target(target)?;
    }

    Ok(Settings {
        bundle_id,
        kind,
        generation,
        producer,
        created_at,
        mtime,
        sources,
        output,
        manifest_out: args.manifest,
        sums: args.sums,
        b3sums: args.b3sums,
        level: args.level,
        jobs,
        follow_symlinks: args.follow_symlinks,
        quiet: args.quiet,
        warnings,
    })
}

/// `SOURCE_DATE_EPOCH` (reproducible-builds.org), if set.
fn source_date_epoch() -> Result<Option<u64>, PackError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) if !text.trim().is_empty() => text.trim().parse::<u64>().map(Some).map_err(|_| {
            PackError::Usage(format!(
                "SOURCE_DATE_EPOCH `{text}` is not a non-negative integer of seconds"
            ))
        }),
        _ => Ok(None),
    }
}
