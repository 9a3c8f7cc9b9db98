//! Verifying a bundle `.tar.gz` without extracting it, in one streaming pass on three
//! threads:
//!
//! ```text
//! reader ──raw chunks──▶ inflate + tar ──entries, content──▶ caller: checks, content digests, sink
//!   └─ archive sha256/blake3 (same thread, after handing the chunk on)
//! ```
//!
//! Buffers are pooled and the channels bounded, so memory stays flat (about 20 MiB) whatever
//! the archive's size. The caller's thread runs the [`EntrySink`], which therefore needs not be
//! `Send`; `stage` passes a sink that streams each listed entry into an object store.

pub mod chunk;
pub mod gzip;
pub mod stream;
pub mod tar;

use crate::error::VerifyError;
use crate::hashing::{compare, parse_digest, Algo, Algos, ContentDigests, ContentHasher};
use crate::paths;
use crate::report::Findings;
use crate::sink::EntrySink;
use chunk::{Chunk, Pool};
use gzip::{GzipReader, Limits};
use offline_formats::digest::{sha256, sha256_prefixed};
use offline_formats::manifest::{self, ArchiveInfo, BundleManifest, FileEntry};
use offline_formats::schema::Document as _;
use offline_formats::verify_report::FailureKind;
use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use stream::{Entry, Event, NameSource};
use tar::Kind;

/// Size of one read from the archive.
const RAW_CHUNK: usize = 256 * 1024;
/// Raw chunks in flight between the reader and the inflater.
const RAW_IN_FLIGHT: usize = 8;
/// Size of one window of expanded bytes.
const WINDOW: usize = 256 * 1024;
/// Events in flight between the inflater and the caller. Each holds at most one window, so
/// this bounds the expanded bytes alive at once (64 × 256 KiB).
const EVENTS_IN_FLIGHT: usize = 64;
/// Largest embedded `manifest.json` read into memory beyond the size of the expected one.
const EMBEDDED_SLACK: usize = 1024 * 1024;
/// Tar bytes a bundle may hold per entry besides its content: a header, a PAX header and its
/// records (a long path), rounded up generously.
const PER_ENTRY_OVERHEAD: u64 = 4 * 1024;
/// Tar bytes beyond the entries: end-of-archive blocks and record padding, generously.
const ARCHIVE_OVERHEAD: u64 = 64 * 1024;
/// Failures found in the stream after which reading stops: an archive this far from its
/// manifest is hostile or another bundle, and the report must not grow without bound.
pub const MAX_STREAM_FAILURES: usize = 100_000;

/// How an archive is checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArchiveOptions {
    /// Digests computed and compared, for the entries and for the archive itself.
    pub algos: Algos,
    /// Entries the manifest does not list are not failures.
    pub allow_unlisted: bool,
    /// `--max-expand`: most expanded bytes per compressed byte.
    pub max_expand: f64,
    /// `--max-size`: most expanded bytes. Unless unlisted entries are allowed, the archive
    /// may also never expand past what the manifest accounts for.
    pub max_size: Option<u64>,
}

/// Verifies the bundle archive read from `input` against `manifest` (the outer manifest, with
/// its `archive` member), streaming every listed entry into `sink` as it is hashed, and records
/// every failure in `findings`. `target` names the archive in failures.
///
/// Checks, in stream order: the gzip framing (every member's CRC-32 and length, nothing after
/// the last, expansion within `--max-expand`/`--max-size`); each tar header (checksum, no
/// `..`, absolute, non-canonical or non-UTF-8 path, including names set by PAX `path` or GNU
/// long-name records; no links, devices, FIFOs, sockets or other special entries; no
/// duplicates; owner 0:0); `manifest.json` first and equal to `manifest` without `archive`;
/// entries in manifest order; each listed entry's size, mode and digests; unlisted entries;
/// then listed files never met, and the archive's own size and digests.
///
/// Returns an error only when the check cannot run (the manifest has no `archive` member, the
/// input cannot be read, the sink failed); a verdict is in `findings`.
pub fn verify_archive<R, S>(
    input: R,
    target: &str,
    manifest: &BundleManifest,
    options: &ArchiveOptions,
    sink: &mut S,
    findings: &mut Findings,
) -> Result<(), VerifyError>
where
    R: Read + Send,
    S: EntrySink,
{
    let archive = archive_member(manifest)?;
    let expected_embedded = manifest.without_archive();
    let embedded_len = expected_embedded.to_pretty_json().len();
    let mut max_size = options.max_size;
    if !options.allow_unlisted {
        let bound = tar_bound(manifest, embedded_len);
        max_size = Some(max_size.map_or(bound, |m| m.min(bound)));
    }
    let limits = Limits {
        max_ratio: options.max_expand,
        max_size,
    };
    let cancel = AtomicBool::new(false);
    let (raw_tx, raw_rx) = crossbeam_channel::bounded::<Arc<Chunk>>(RAW_IN_FLIGHT);
    let (event_tx, event_rx) = crossbeam_channel::bounded::<Event>(EVENTS_IN_FLIGHT);

    let (checked, raw) = std::thread::scope(|scope| {
        let cancel = &cancel;
        let reader = std::thread::Builder::new()
            .name("cv-read".into())
            .spawn_scoped(scope, move || {
                read_and_hash(input, archive.size, options.algos, &raw_tx, cancel)
            })
            .map_err(|e| VerifyError::Internal(format!("cannot start a thread: {e}")))?;
        let inflater = std::thread::Builder::new()
            .name("cv-inflate".into())
            .spawn_scoped(scope, move || {
                let gz = GzipReader::new(raw_rx.into_iter().map(chunk::Shared), limits);
                stream::read_entries(gz, Pool::new(WINDOW, EVENTS_IN_FLIGHT + 2), &event_tx);
            })
            .map_err(|e| VerifyError::Internal(format!("cannot start a thread: {e}")))?;
        let mut policy = Policy::new(
            manifest,
            expected_embedded,
            embedded_len,
            target,
            options,
            sink,
            findings,
        );
        let checked = policy.consume(&event_rx);
        if checked.is_err() {
            cancel.store(true, Ordering::Relaxed);
        }
        // Hanging up first lets the inflater stop wherever it is.
        drop(event_rx);
        let inflated = inflater.join();
        let raw = reader.join();
        match inflated {
            Ok(()) => Ok((checked, raw)),
            Err(_) => Ok((
                Err(VerifyError::Internal(
                    "the inflating thread panicked".into(),
                )),
                raw,
            )),
        }
    })?;
    checked?;
    let raw = raw
        .map_err(|_| VerifyError::Internal("the archive reading thread panicked".into()))?
        .map_err(|e| VerifyError::io(target, e))?;
    check_archive_member(&raw, archive, target, findings);
    Ok(())
}

/// The manifest's `archive` member, which an archive is checked against.
fn archive_member(manifest: &BundleManifest) -> Result<&ArchiveInfo, VerifyError> {
    let Some(archive) = &manifest.archive else {
        return Err(VerifyError::Usage(
            "the manifest has no `archive` member (it is the copy embedded in the bundle): give \
the manifest bundle-pack printed (stdout or -m FILE), or the signed envelope"
                .into(),
        ));
    };
    if archive.compression != "gzip" {
        return Err(VerifyError::Usage(format!(
            "the manifest's archive compression is `{}`; only `gzip` bundles are read",
            archive.compression
        )));
    }
    Ok(archive)
}

/// Most tar bytes a bundle of `manifest`'s files can take: what a decompression bomb that
/// slipped under `--max-expand` still cannot exceed.
/// `embedded_len` is the size of the embedded `manifest.json` it should hold.
pub fn tar_bound(manifest: &BundleManifest, embedded_len: usize) -> u64 {
    let embedded = (embedded_len + EMBEDDED_SLACK) as u64;
    manifest
        .files
        .iter()
        .map(|f| f.size.saturating_add(tar::padding(f.size)))
        .fold(0u64, u64::saturating_add)
        .saturating_add(embedded)
        .saturating_add((manifest.files.len() as u64 + 1).saturating_mul(PER_ENTRY_OVERHEAD))
        .saturating_add(ARCHIVE_OVERHEAD)
}

/// The archive's own digests and size as read.
#[derive(Debug)]
struct RawArchive {
    digests: ContentDigests,
    /// More bytes followed the size the manifest gives (reading stopped there).
    longer: bool,
}

/// Reads the archive in chunks, hands each to the inflater, then hashes it. Stops after
/// `expected + 1` bytes: an archive longer than the manifest says is already wrong, and an
/// endless stdin must not keep us reading.
fn read_and_hash<R: Read>(
    mut input: R,
    expected: u64,
    algos: Algos,
    tx: &crossbeam_channel::Sender<Arc<Chunk>>,
    cancel: &AtomicBool,
) -> io::Result<RawArchive> {
    let pool = Pool::new(RAW_CHUNK, RAW_IN_FLIGHT + 2);
    let mut hasher = ContentHasher::new(algos);
    let mut forwarding = true;
    let mut longer = false;
    loop {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let mut buffer = pool.take();
        let n = offline_formats::digest::read_full(&mut input, &mut buffer)?;
        if n == 0 {
            break;
        }
        let chunk = pool.chunk(buffer, n);
        if forwarding && tx.send(Arc::clone(&chunk)).is_err() {
            // The inflater stopped (a fault, or the caller hung up); keep hashing so the
            // report can still say whether the archive is the one the manifest names.
            forwarding = false;
        }
        hasher.update(&chunk);
        if hasher.size() > expected {
            longer = true;
            break;
        }
    }
    Ok(RawArchive {
        digests: hasher.finish(),
        longer,
    })
}

fn check_archive_member(
    raw: &RawArchive,
    archive: &ArchiveInfo,
    target: &str,
    findings: &mut Findings,
) {
    let size = raw.digests.size;
    if raw.longer || size != archive.size {
        let actual = if raw.longer {
            format!("more than {}", archive.size)
        } else {
            size.to_string()
        };
        findings.fail(
            target,
            FailureKind::Size,
            Some(archive.size.to_string()),
            Some(actual),
        );
        return;
    }
    let expected = |algo: Algo| {
        parse_digest(match algo {
            Algo::Sha256 => &archive.sha256,
            Algo::Blake3 => &archive.blake3,
        })
    };
    if let Some(m) = compare(&raw.digests, expected) {
        findings.fail(
            target,
            FailureKind::Mismatch,
            Some(m.expected),
            Some(m.actual),
        );
    }
}

/// What the caller is doing with the current entry's content.
enum Current {
    /// Nothing: not an entry with content we check.
    Skip,
    /// A listed file: hashing it and streaming it into the sink.
    Listed {
        index: usize,
        hasher: Box<ContentHasher>,
        /// The header's size equals the manifest's.
        size_ok: bool,
        /// The sink wants the bytes.
        deliver: bool,
    },
    /// The embedded `manifest.json`: collected to compare.
    Embedded { bytes: Vec<u8>, overflow: bool },
}

/// The caller's side: every rule an entry must keep, the content digests, the sink.
struct Policy<'a, S> {
    manifest: &'a BundleManifest,
    by_path: HashMap<&'a str, usize>,
    target: &'a str,
    options: &'a ArchiveOptions,
    sink: &'a mut S,
    findings: &'a mut Findings,
    /// Listed files met (whatever their verdict).
    met: Vec<bool>,
    /// BLAKE3 of the paths met, to find duplicates in little memory whatever the names.
    seen: HashSet<[u8; 32]>,
    /// The furthest manifest position met so far.
    furthest: Option<usize>,
    embedded_met: bool,
    /// What the embedded `manifest.json` must equal, and the most of it we keep in memory.
    expected_embedded: BundleManifest,
    embedded_cap: usize,
    current: Current,
}

impl<'a, S: EntrySink> Policy<'a, S> {
    fn new(
        manifest: &'a BundleManifest,
        expected_embedded: BundleManifest,
        embedded_len: usize,
        target: &'a str,
        options: &'a ArchiveOptions,
        sink: &'a mut S,
        findings: &'a mut Findings,
    ) -> Self {
        let by_path = manifest
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.as_str(), i))
            .collect();
        Self {
            manifest,
            by_path,
            target,
            options,
            sink,
            findings,
            met: vec![false; manifest.files.len()],
            seen: HashSet::new(),
            furthest: None,
            embedded_met: false,
            expected_embedded,
            embedded_cap: embedded_len + EMBEDDED_SLACK,
            current: Current::Skip,
        }
    }

    fn consume(&mut self, events: &crossbeam_channel::Receiver<Event>) -> Result<(), VerifyError> {
        let mut ended = false;
        let before = self.findings.failures().len();
        for event in events {
            match event {
                Event::Entry(entry) => {
                    self.entry(&entry)?;
                    if self.findings.failures().len() - before > MAX_STREAM_FAILURES {
                        self.abandon_current()?;
                        self.findings.fail_because(
                            self.target,
                            FailureKind::UnsafeEntry,
                            &format!(
                                "more than {MAX_STREAM_FAILURES} failures: stopped reading (a hostile archive, or not this bundle)"
                            ),
                        );
                        ended = true;
                        break;
                    }
                }
                Event::Data(window, range) => self.data(&window[range])?,
                Event::EntryEnd => self.entry_end()?,
                Event::Fault(fault) => {
                    self.abandon_current()?;
                    let path = fault.entry.unwrap_or_else(|| self.target.to_owned());
                    self.findings
                        .fail_because(path, FailureKind::UnsafeEntry, &fault.reason);
                    ended = true;
                    break;
                }
                Event::End => {
                    ended = true;
                    break;
                }
            }
        }
        if !ended {
            return Err(VerifyError::Internal(
                "the inflating thread stopped without a verdict".into(),
            ));
        }
        if !self.embedded_met {
            self.findings.fail(
                manifest::ENTRY_NAME,
                FailureKind::Missing,
                Some("first entry".into()),
                None,
            );
        }
        for (file, met) in self.manifest.files.iter().zip(&self.met) {
            if !met {
                self.findings
                    .fail(file.path.clone(), FailureKind::Missing, None, None);
            }
        }
        Ok(())
    }

    fn entry(&mut self, entry: &Entry) -> Result<(), VerifyError> {
        self.current = Current::Skip;
        let raw = if entry.kind == Kind::Directory {
            entry.path.strip_suffix(b"/").unwrap_or(&entry.path)
        } else {
            &entry.path[..]
        };
        let shown = paths::lossy(raw);
        let path = match paths::check(raw) {
            Ok(path) => path.to_owned(),
            Err(why) => {
                let from = match entry.name_source {
                    NameSource::Header => "",
                    NameSource::Pax => ", from a PAX `path` record",
                    NameSource::GnuLongName => ", from a GNU long-name record",
                };
                self.unsafe_entry(&shown, &format!("{why}{from}"));
                self.not_first(entry.index, &shown);
                return Ok(());
            }
        };
        if let Some(danger) = entry.kind.danger() {
            let what = match entry.kind {
                Kind::Symlink | Kind::HardLink => {
                    format!("{danger} to `{}`", paths::lossy(&entry.link))
                }
                _ => danger,
            };
            self.unsafe_entry(&path, &what);
            self.not_first(entry.index, &path);
            return Ok(());
        }
        if !self.seen.insert(*blake3::hash(raw).as_bytes()) {
            self.unsafe_entry(&path, "duplicate entry (an extractor keeps the last copy)");
            return Ok(());
        }
        for key in &entry.refused_keys {
            self.unsafe_entry(
                &path,
                &format!("PAX record `{key}` is not allowed in a bundle"),
            );
        }
        if entry.uid != 0 || entry.gid != 0 {
            self.findings.fail(
                path.clone(),
                FailureKind::Hygiene,
                Some("owner 0:0".into()),
                Some(format!("owner {}:{}", entry.uid, entry.gid)),
            );
        }
        if entry.kind == Kind::Regular && path == manifest::ENTRY_NAME && !self.embedded_met {
            self.embedded_met = true;
            if entry.index != 0 {
                self.findings.fail(
                    path,
                    FailureKind::Hygiene,
                    Some("first entry".into()),
                    Some(format!("entry #{}", entry.index + 1)),
                );
            }
            let cap = self.embedded_cap;
            self.current = Current::Embedded {
                bytes: Vec::with_capacity(usize::try_from(entry.size).unwrap_or(cap).min(cap)),
                overflow: false,
            };
            return Ok(());
        }
        self.not_first(entry.index, &path);
        if entry.kind == Kind::Directory {
            if !self.options.allow_unlisted {
                self.findings.fail(
                    path,
                    FailureKind::Unexpected,
                    None,
                    Some("directory entry".into()),
                );
            }
            return Ok(());
        }
        let Some(&index) = self.by_path.get(path.as_str()) else {
            if !self.options.allow_unlisted {
                self.findings
                    .fail(path, FailureKind::Unexpected, None, None);
            }
            return Ok(());
        };
        let file = &self.manifest.files[index];
        if let Some(furthest) = self.furthest {
            if index < furthest {
                self.findings.fail(
                    path.clone(),
                    FailureKind::Hygiene,
                    Some("manifest order".into()),
                    Some(format!("after `{}`", self.manifest.files[furthest].path)),
                );
            }
        }
        self.furthest = Some(self.furthest.map_or(index, |f| f.max(index)));
        self.met[index] = true;
        let mode = format!("{:04o}", entry.mode & 0o7777);
        if mode != file.mode {
            self.findings.fail(
                path.clone(),
                FailureKind::Mode,
                Some(file.mode.clone()),
                Some(mode),
            );
        }
        let size_ok = entry.size == file.size;
        if !size_ok {
            self.findings.fail(
                path,
                FailureKind::Size,
                Some(file.size.to_string()),
                Some(entry.size.to_string()),
            );
        }
        let deliver = self.sink.begin(file).map_err(sink_error)?;
        self.current = Current::Listed {
            index,
            hasher: Box::new(ContentHasher::new(self.options.algos)),
            size_ok,
            deliver,
        };
        Ok(())
    }

    fn data(&mut self, bytes: &[u8]) -> Result<(), VerifyError> {
        match &mut self.current {
            Current::Skip => {}
            Current::Listed {
                hasher, deliver, ..
            } => {
                hasher.update(bytes);
                if *deliver {
                    self.sink.data(bytes).map_err(sink_error)?;
                }
            }
            Current::Embedded {
                bytes: kept,
                overflow,
            } => {
                if kept.len() + bytes.len() > self.embedded_cap {
                    *overflow = true;
                } else if !*overflow {
                    kept.extend_from_slice(bytes);
                }
            }
        }
        Ok(())
    }

    fn entry_end(&mut self) -> Result<(), VerifyError> {
        match std::mem::replace(&mut self.current, Current::Skip) {
            Current::Skip => {}
            Current::Listed {
                index,
                hasher,
                size_ok,
                ..
            } => {
                let file = &self.manifest.files[index];
                let digests = hasher.finish();
                let mut verified = size_ok && digests.size == file.size;
                if verified {
                    if let Some(m) = compare(&digests, |algo| expected_digest(file, algo)) {
                        self.findings.fail(
                            file.path.clone(),
                            FailureKind::Mismatch,
                            Some(m.expected),
                            Some(m.actual),
                        );
                        verified = false;
                    }
                }
                self.findings.checked(&file.path, digests.size);
                self.sink.finish(verified).map_err(sink_error)?;
            }
            Current::Embedded { bytes, overflow } => self.check_embedded(&bytes, overflow),
        }
        Ok(())
    }

    /// The stream failed inside the current entry: a listed one is not verified.
    fn abandon_current(&mut self) -> Result<(), VerifyError> {
        if let Current::Listed { .. } = std::mem::replace(&mut self.current, Current::Skip) {
            self.sink.finish(false).map_err(sink_error)?;
        }
        Ok(())
    }

    fn unsafe_entry(&mut self, path: &str, why: &str) {
        self.findings
            .fail_because(path.to_owned(), FailureKind::UnsafeEntry, why);
    }

    /// The first entry must be `manifest.json`.
    fn not_first(&mut self, index: u64, path: &str) {
        if index == 0 {
            self.findings.fail(
                manifest::ENTRY_NAME,
                FailureKind::Hygiene,
                Some("first entry".into()),
                Some(format!("first entry is `{path}`")),
            );
        }
    }

    /// The embedded copy must be the outer manifest without its `archive` member.
    fn check_embedded(&mut self, bytes: &[u8], overflow: bool) {
        let expected = &self.expected_embedded;
        let digest = |m: &BundleManifest| {
            m.to_canonical_json()
                .map(|json| sha256_prefixed(&sha256(&json)))
                .unwrap_or_else(|e| format!("not canonicalizable: {e}"))
        };
        let actual = if overflow {
            Err("larger than the manifest it should equal".to_owned())
        } else {
            BundleManifest::from_json_slice(bytes)
                .map_err(|e| format!("not a bundle manifest: {e}"))
        };
        let found = match actual {
            Ok(found) if &found == expected => return,
            Ok(found) => digest(&found),
            Err(why) => why,
        };
        self.findings.fail(
            manifest::ENTRY_NAME,
            FailureKind::Mismatch,
            Some(digest(expected)),
            Some(found),
        );
    }
}

/// The manifest's digest of `file` for `algo`.
pub fn expected_digest(file: &FileEntry, algo: Algo) -> Option<[u8; 32]> {
    parse_digest(match algo {
        Algo::Sha256 => &file.sha256,
        Algo::Blake3 => &file.blake3,
    })
}

fn sink_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> VerifyError {
    VerifyError::Sink(Box::new(e))
}
