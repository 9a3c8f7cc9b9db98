//! The packer: one read of every file, hashed and compressed in parallel, written as a
//! deterministic multi-member `.tar.gz` whose first entry is the manifest.
//!
//! The manifest must come first in the archive but holds every file's digest, which is
//! only known after reading. Its *length* is known before (digests are fixed-width hex),
//! so the packer reserves room for it at the start of the output, streams every file
//! after that room, and finally writes the manifest member into it as stored deflate
//! blocks, whose size does not depend on the content.

use crate::collect::PlannedFile;
use crate::config::Settings;
use crate::error::PackError;
use crate::gzip::{self, MemberEncoder};
use crate::lanes::{self, Lane, Places, ReaderEnds, Written};
use crate::output::{self, Staged};
use crate::tar_stream::{self, EntryMeta, END_OF_ARCHIVE};
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use offline_formats::digest::{Digests, DualHasher};
use offline_formats::manifest::{ArchiveInfo, BundleManifest, FileEntry, ENTRY_NAME, SCHEMA};
use offline_formats::{digest, merkle};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

/// Bytes of tar stream per gzip member. Part of the output format: changing it changes
/// the bytes of every archive, so it is fixed, not tuned per machine.
pub const SLICE_SIZE: usize = 1 << 20;

/// Most compression threads run at once; more cannot be fed by one reader anyway.
const MAX_WORKERS: usize = 16;
/// Most slices read but not yet written.
const MAX_SLICES_IN_FLIGHT: usize = 24;

/// Reports bytes read, for the progress bar.
pub trait Progress: Sync {
    /// `bytes` more were read.
    fn advance(&self, bytes: u64);
}

impl Progress for () {
    fn advance(&self, _bytes: u64) {}
}

/// What a finished pack produced.
#[derive(Debug)]
pub struct Packed {
    /// The manifest with its `archive` member.
    pub manifest: BundleManifest,
    /// Bytes of file content packed.
    pub content_bytes: u64,
    /// The finished archive under its temporary name, flushed, not yet renamed.
    pub archive: Staged,
}

/// Packs `files` into a temporary file beside `settings.output` and returns it with the
/// manifest; the caller renames it into place once every other output is ready.
pub fn pack(
    settings: &Settings,
    files: &[PlannedFile],
    progress: &dyn Progress,
) -> Result<Packed, PackError> {
    pack_with_lanes(settings, files, progress, lanes::LANE_MIN_SLICES)
}

/// [`pack`], with files of at least `lane_min_slices` whole slices in lanes of their own
/// (`u64::MAX`: none; tests compare the two).
fn pack_with_lanes(
    settings: &Settings,
    files: &[PlannedFile],
    progress: &dyn Progress,
    lane_min_slices: u64,
) -> Result<Packed, PackError> {
    let output = settings.output.as_path();
    let archive_name = output
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            PackError::Usage(format!(
                "`{}`: output needs a UTF-8 file name",
                output.display()
            ))
        })?
        .to_owned();

    let mut temp = output::temp_beside(output)?;
    let temp_path = temp.path().to_owned();
    let lanes = lanes::plan(files, settings.mtime, lane_min_slices);
    let (digests, room) = run_pipeline(
        settings,
        files,
        &lanes,
        temp.as_file_mut(),
        &temp_path,
        progress,
    )?;
    let ManifestRoom {
        meta: manifest_meta,
        header_len,
        manifest_len,
        tar_len: manifest_tar_len,
        reserved,
    } = room;

    let inner = inner_manifest(settings, files, &digests);
    drop(digests);
    // The tar entry in one buffer (header, JSON, padding), written as stored blocks
    // straight from it: a manifest of many files is large, so it is not copied again.
    let mut manifest_tar = Vec::with_capacity(manifest_tar_len);
    tar_stream::write_header(&mut manifest_tar, &manifest_meta);
    inner.write_pretty_json(&mut manifest_tar);
    if manifest_tar.len() != header_len + manifest_len {
        return Err(PackError::Internal(format!(
            "manifest is {} bytes, {manifest_len} were reserved",
            manifest_tar.len() - header_len
        )));
    }
    manifest_tar.resize(manifest_tar_len, 0);
    let framing = gzip::StoredMember::new(&manifest_tar);
    let file = temp.as_file_mut();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| write_all_vectored(file, framing.io_slices(&manifest_tar)))
        .and_then(|()| file.stream_position())
        .map_err(|e| PackError::io(&temp_path, e))
        .and_then(|end| {
            if end == reserved {
                Ok(())
            } else {
                Err(PackError::Internal(format!(
                    "manifest member is {end} bytes, {reserved} were reserved"
                )))
            }
        })?;
    drop(manifest_tar);

    // Flushing to disk and hashing the finished archive both only read it: run them side
    // by side so the flush costs no wall time.
    let file = temp.as_file();
    let archive_digests = std::thread::scope(|scope| {
        let flush = scope.spawn(|| file.sync_all());
        let digests = digest_file(&temp_path);
        let flushed = flush
            .join()
            .map_err(|_| PackError::Internal("flush thread panicked".into()))?;
        flushed.map_err(|e| PackError::io(&temp_path, e))?;
        digests
    })?;

    let mut manifest = inner;
    manifest.archive = Some(ArchiveInfo {
        name: archive_name,
        size: archive_digests.size,
        sha256: archive_digests.sha256_hex(),
        blake3: archive_digests.blake3_hex(),
        compression: "gzip".to_owned(),
    });
    Ok(Packed {
        manifest,
        content_bytes: files.iter().map(|f| f.size).sum(),
        archive: Staged::from_temp(temp, output),
    })
}

/// The room the manifest entry takes at the start of the archive.
struct ManifestRoom {
    meta: EntryMeta<'static>,
    header_len: usize,
    manifest_len: usize,
    /// Header, JSON and padding.
    tar_len: usize,
    /// Bytes of the stored gzip member that holds the entry.
    reserved: u64,
}

impl ManifestRoom {
    /// The manifest's length does not depend on the digests (fixed-width hex), so a
    /// manifest with placeholder digests gives it before any file is read.
    fn of(settings: &Settings, files: &[PlannedFile]) -> Self {
        let manifest_len = placeholder_manifest_len(settings, files);
        let meta = EntryMeta {
            path: ENTRY_NAME,
            size: manifest_len as u64,
            mode: 0o644,
            mtime: settings.mtime,
        };
        let header_len = tar_stream::header_len(&meta);
        let tar_len = header_len + manifest_len + tar_stream::padding(manifest_len as u64);
        Self {
            meta,
            header_len,
            manifest_len,
            tar_len,
            reserved: gzip::stored_member_len(tar_len) as u64,
        }
    }
}

/// Length of the pretty manifest of `files`, measured on placeholder manifests of a few
/// thousand files at a time so that sizing a manifest of many files does not hold a second
/// copy of it. Once the file list is not empty, each entry adds its own bytes and one
/// separator whatever the others are, so each further part is measured beside one file
/// and that one file's share taken off again.
fn placeholder_manifest_len(settings: &Settings, files: &[PlannedFile]) -> usize {
    const PART: usize = 4096;
    let measure = |part: &[PlannedFile]| {
        let digests = vec![
            Digests {
                sha256: [0; 32],
                blake3: [0; 32],
                size: 0
            };
            part.len()
        ];
        inner_manifest(settings, part, &digests)
            .to_pretty_json()
            .len()
    };
    let mut parts = files.chunks(PART);
    let Some(first) = parts.next() else {
        return measure(files);
    };
    let one = &first[..1];
    let with_one = measure(one);
    let mut len = measure(first);
    let mut beside_one = Vec::with_capacity(PART + 1);
    for part in parts {
        beside_one.clear();
        beside_one.extend_from_slice(one);
        beside_one.extend_from_slice(part);
        len += measure(&beside_one) - with_one;
    }
    len
}

/// The manifest as embedded in the archive (no `archive` member).
fn inner_manifest(
    settings: &Settings,
    files: &[PlannedFile],
    digests: &[Digests],
) -> BundleManifest {
    let entries: Vec<FileEntry> = files
        .iter()
        .zip(digests)
        .map(|(f, d)| FileEntry {
            path: f.bundle_path.clone(),
            size: f.size,
            sha256: d.sha256_hex(),
            blake3: d.blake3_hex(),
            mode: format!("{:04o}", f.mode),
            media_type: f.media_type.clone(),
        })
        .collect();
    let leaves: Vec<merkle::Hash> = entries
        .iter()
        .map(|e| merkle::manifest_leaf(&e.path, &e.sha256, e.size))
        .collect();
    BundleManifest {
        schema: SCHEMA.to_owned(),
        bundle_id: settings.bundle_id.clone(),
        kind: settings.kind.clone(),
        mirror_generation: settings.generation,
        created_at: settings.created_at.clone(),
        producer: settings.producer.clone(),
        files: entries,
        merkle_root: digest::sha256_prefixed(&merkle::root(&leaves)),
        archive: None,
    }
}

/// A slice of the tar stream. Its buffer goes back to the pool when the last holder
/// (compressor or writer) drops it, which bounds memory to the pool size.
struct Slice {
    seq: u64,
    /// Always full length (zeroed once when the pool is made), so filling it never
    /// re-zeroes memory; `len` says how much is used.
    data: Vec<u8>,
    len: usize,
    home: Sender<Vec<u8>>,
}

impl Slice {
    fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

impl Drop for Slice {
    fn drop(&mut self) {
        let data = std::mem::take(&mut self.data);
        // The pool is gone only when the reader stopped; then the buffer is just freed.
        let _ = self.home.send(data);
    }
}

/// A compressed slice on its way to the writer; holds its input so that the pool bounds
/// everything in flight.
struct Member {
    seq: u64,
    /// The deflated member in its first `len` bytes (a reused buffer, longer than that).
    bytes: Vec<u8>,
    /// 0 when the slice is written as stored blocks.
    len: usize,
    /// Framing of a stored member; its payload is the input slice itself.
    stored: Option<gzip::StoredMember>,
    input: Arc<Slice>,
}

fn run_pipeline(
    settings: &Settings,
    files: &[PlannedFile],
    lanes: &[Lane],
    out: &mut File,
    out_path: &Path,
    progress: &dyn Progress,
) -> Result<(Vec<Digests>, ManifestRoom), PackError> {
    // Memory is bounded by the pool (two slice-sized buffers per entry, input and member),
    // one compressor per worker and four slices per lane worker, so all are capped
    // whatever --jobs or the core count.
    let jobs = settings.jobs.clamp(1, MAX_WORKERS);
    let pool_size = (2 * jobs + 4).min(MAX_SLICES_IN_FLIGHT);
    let (pool_tx, pool_rx) = bounded::<Vec<u8>>(pool_size);
    for _ in 0..pool_size {
        let _ = pool_tx.send(vec![0u8; SLICE_SIZE]);
    }
    let (work_tx, work_rx) = bounded::<Arc<Slice>>(pool_size);
    let (done_tx, done_rx) = bounded::<Member>(pool_size);
    let (spare_tx, spare_rx) = unbounded::<Vec<u8>>();
    let places = Places::new(lanes.len());
    let (lane_work, lane_ends, lane_written) =
        lanes::connect(lanes, files, &places, settings.level, out_path, progress);
    let lane_workers = jobs.min(lanes::MAX_LANE_WORKERS).min(lanes.len());

    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            read_files(
                files,
                settings.mtime,
                (lanes, lane_ends),
                &pool_rx,
                pool_tx,
                &work_tx,
                progress,
            )
        });
        let lane_work = &lane_work;
        let lane_threads: Vec<_> = (0..lane_workers)
            .map(|_| scope.spawn(move || lane_work.run()))
            .collect();
        for _ in 0..jobs {
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            let spare_rx = spare_rx.clone();
            let level = settings.level;
            scope.spawn(move || compress_slices(level, &work_rx, &done_tx, &spare_rx));
        }
        drop(done_tx);
        drop(work_rx);
        // Sizing the manifest's room takes a few hundredths of a second for tens of
        // thousands of files: do it here, while the first slices are read and compressed.
        let room = ManifestRoom::of(settings, files);
        let written = MemberWriter {
            out: &mut *out,
            out_path,
            offset: room.reserved,
            lanes,
            lane_written,
            places: &places,
        }
        .run(&done_rx, &spare_tx);
        drop(done_rx);
        let read = reader
            .join()
            .map_err(|_| PackError::Internal("reader thread panicked".into()))?;
        let mut laned = Vec::new();
        let mut lane_errors = Vec::new();
        for thread in lane_threads {
            match thread.join() {
                Ok(Ok(packed)) => laned.extend(packed),
                Ok(Err(e)) => lane_errors.push(e),
                Err(_) => lane_errors.push(PackError::Internal("lane thread panicked".into())),
            }
        }
        // An error of the reader or of a lane explains a writer that stopped early, and a
        // writer's error explains their closed channels: report the first error that is
        // not only a closed channel.
        let (mut digests, end) = match (read, written) {
            (Ok(digests), Ok(end)) if lane_errors.is_empty() => (digests, end),
            (read, written) => {
                let errors = read
                    .err()
                    .into_iter()
                    .chain(lane_errors)
                    .chain(written.err());
                return Err(first_cause(errors));
            }
        };
        // A lane moved back leaves its old last bytes past the end.
        out.set_len(end).map_err(|e| PackError::io(out_path, e))?;
        for (index, lane_digests) in laned {
            digests[index] = lane_digests;
        }
        Ok((digests, room))
    })
}

/// The first error that says more than "pipeline closed".
fn first_cause(errors: impl Iterator<Item = PackError>) -> PackError {
    let mut first = None;
    for error in errors {
        if !matches!(error, PackError::Internal(_)) {
            return error;
        }
        first.get_or_insert(error);
    }
    first.unwrap_or_else(|| PackError::Internal("pipeline stopped".into()))
}

/// Builds the tar stream slice by slice, reading each file exactly once.
fn read_files(
    files: &[PlannedFile],
    mtime: u64,
    (lanes, lane_ends): (&[Lane], ReaderEnds),
    pool: &Receiver<Vec<u8>>,
    home: Sender<Vec<u8>>,
    work: &Sender<Arc<Slice>>,
    progress: &dyn Progress,
) -> Result<Vec<Digests>, PackError> {
    let closed = || PackError::Internal("pipeline closed".into());
    let mut builder = SliceBuilder {
        current: None,
        next_seq: 0,
        pool,
        home,
        work,
    };
    let mut header = Vec::with_capacity(3 * tar_stream::BLOCK);
    let mut digests = Vec::with_capacity(files.len());
    let mut lanes = lanes
        .iter()
        .zip(lane_ends.head.iter().zip(&lane_ends.tail))
        .peekable();
    for (index, file) in files.iter().enumerate() {
        header.clear();
        tar_stream::write_header(
            &mut header,
            &EntryMeta {
                path: &file.bundle_path,
                size: file.size,
                mode: file.mode,
                mtime,
            },
        );
        builder.append(&header).ok_or_else(closed)?;
        if let Some((lane, (head, tail))) = lanes.next_if(|(lane, _)| lane.index == index) {
            // A lane worker reads this file; the slices at its two ends are built here
            // from the bytes it hands over, the slices in between are its own.
            let head = head.recv().map_err(|_| closed())?;
            builder.append(&head).ok_or_else(closed)?;
            if !builder
                .jump(lane.first_slice, lane.end_slice)
                .ok_or_else(closed)?
            {
                return Err(PackError::Internal(format!(
                    "`{}` does not reach its lane at slice {}",
                    file.bundle_path, lane.first_slice
                )));
            }
            let tail = tail.recv().map_err(|_| closed())?;
            builder.append(&tail).ok_or_else(closed)?;
            // Its digests come from the lane.
            digests.push(Digests {
                sha256: [0; 32],
                blake3: [0; 32],
                size: file.size,
            });
            let pad = tar_stream::padding(file.size);
            builder.append(&END_OF_ARCHIVE[..pad]).ok_or_else(closed)?;
            continue;
        }
        let mut handle = File::open(&file.source).map_err(|e| PackError::io(&file.source, e))?;
        // Both digests are taken here, on bytes the read just brought into this core's
        // cache: another core reading them again was measured slower on this machine.
        let mut hasher = DualHasher::new();
        let mut remaining = file.size;
        // The last read asks for one byte more than is left when the slice has room: a
        // short answer then shows the end of the file, which saves a read call per file.
        let mut end_seen = false;
        while remaining > 0 {
            let slice = builder.room().ok_or_else(closed)?;
            let start = slice.len;
            let room = SLICE_SIZE - start;
            let left = usize::try_from(remaining).unwrap_or(usize::MAX);
            let want = if left < room { left + 1 } else { room };
            let n = match handle.read(&mut slice.data[start..start + want]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(PackError::io(&file.source, e)),
            };
            // No bytes before the planned size: the file shrank while packing; a byte
            // past it: it grew.
            if n == 0 || n > left {
                return Err(PackError::Changed {
                    path: file.source.clone(),
                    expected: file.size,
                });
            }
            slice.len = start + n;
            hasher.update(&slice.data[start..start + n]);
            remaining -= n as u64;
            end_seen = remaining == 0 && n < want;
            progress.advance(n as u64);
        }
        if !end_seen && !at_end_of(&mut handle).map_err(|e| PackError::io(&file.source, e))? {
            return Err(PackError::Changed {
                path: file.source.clone(),
                expected: file.size,
            });
        }
        digests.push(hasher.finalize());
        let pad = tar_stream::padding(file.size);
        builder.append(&END_OF_ARCHIVE[..pad]).ok_or_else(closed)?;
    }
    builder.append(&END_OF_ARCHIVE).ok_or_else(closed)?;
    builder.finish().ok_or_else(closed)?;
    Ok(digests)
}

/// Whether a read finds no more bytes.
pub(crate) fn at_end_of(handle: &mut File) -> std::io::Result<bool> {
    let mut probe = [0u8; 1];
    loop {
        match handle.read(&mut probe) {
            Ok(n) => return Ok(n == 0),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

struct SliceBuilder<'a> {
    current: Option<Slice>,
    next_seq: u64,
    pool: &'a Receiver<Vec<u8>>,
    home: Sender<Vec<u8>>,
    work: &'a Sender<Arc<Slice>>,
}

impl SliceBuilder<'_> {
    /// The slice being filled, with room for at least one byte; ships a full one first.
    fn room(&mut self) -> Option<&mut Slice> {
        if self.current.as_ref().is_some_and(|s| s.len >= SLICE_SIZE) {
            self.ship()?;
        }
        if self.current.is_none() {
            let data = self.pool.recv().ok()?;
            self.current = Some(Slice {
                seq: self.next_seq,
                data,
                len: 0,
                home: self.home.clone(),
            });
            self.next_seq += 1;
        }
        self.current.as_mut()
    }

    fn append(&mut self, mut bytes: &[u8]) -> Option<()> {
        while !bytes.is_empty() {
            let slice = self.room()?;
            let start = slice.len;
            let n = (SLICE_SIZE - start).min(bytes.len());
            slice.data[start..start + n].copy_from_slice(&bytes[..n]);
            slice.len = start + n;
            bytes = &bytes[n..];
        }
        Some(())
    }

    fn ship(&mut self) -> Option<()> {
        if let Some(slice) = self.current.take() {
            let slice = Arc::new(slice);
            self.work.send(slice).ok()?;
        }
        Some(())
    }

    /// Ships the slice that ends exactly at slice `from` and goes on at slice `to`, the
    /// slices in between being a lane's. `Some(false)` when the stream is not at `from`.
    fn jump(&mut self, from: u64, to: u64) -> Option<bool> {
        let at = match &self.current {
            Some(slice) => slice.seq * SLICE_SIZE as u64 + slice.len as u64,
            None => self.next_seq * SLICE_SIZE as u64,
        };
        if at != from * SLICE_SIZE as u64 {
            return Some(false);
        }
        self.ship()?;
        self.next_seq = to;
        Some(true)
    }

    fn finish(mut self) -> Option<()> {
        self.ship()
    }
}

fn compress_slices(
    level: gzip::Level,
    work: &Receiver<Arc<Slice>>,
    done: &Sender<Member>,
    spare: &Receiver<Vec<u8>>,
) {
    let mut encoder = MemberEncoder::new(level);
    for slice in work {
        let mut bytes = spare.try_recv().unwrap_or_default();
        let (len, stored) = match encoder.deflate_into(slice.bytes(), &mut bytes) {
            Some(len) => (len, None),
            None => (0, Some(gzip::StoredMember::new(slice.bytes()))),
        };
        let member = Member {
            seq: slice.seq,
            bytes,
            len,
            stored,
            input: slice,
        };
        if done.send(member).is_err() {
            return;
        }
    }
}

/// Writes members in order, and puts each lane's members in their place between them.
struct MemberWriter<'a> {
    out: &'a mut File,
    out_path: &'a Path,
    /// Where the next member goes.
    offset: u64,
    lanes: &'a [Lane],
    lane_written: Vec<Receiver<Written>>,
    places: &'a Places,
}

impl MemberWriter<'_> {
    /// Returns the end of the archive.
    fn run(mut self, done: &Receiver<Member>, spare: &Sender<Vec<u8>>) -> Result<u64, PackError> {
        // However the writer stops, lanes waiting for their place must stop too.
        let _close = lanes::CloseOnDrop(self.places);
        self.out
            .seek(SeekFrom::Start(self.offset))
            .map_err(|e| PackError::io(self.out_path, e))?;
        let mut next = 0u64;
        let mut next_lane = 0usize;
        let mut waiting: BTreeMap<u64, Member> = BTreeMap::new();
        for member in done {
            waiting.insert(member.seq, member);
            while let Some(member) = waiting.remove(&next) {
                let len = match &member.stored {
                    None => self
                        .out
                        .write_all(&member.bytes[..member.len])
                        .map(|()| member.len),
                    Some(framing) => {
                        let input = member.input.bytes();
                        write_all_vectored(self.out, framing.io_slices(input))
                            .map(|()| gzip::stored_member_len(input.len()))
                    }
                }
                .map_err(|e| PackError::io(self.out_path, e))?;
                self.offset += len as u64;
                let Member { bytes, .. } = member;
                let _ = spare.send(bytes);
                next += 1;
                while let Some(lane) = self.lanes.get(next_lane).filter(|l| l.first_slice == next) {
                    self.place_lane(next_lane, lane)?;
                    next = lane.end_slice;
                    next_lane += 1;
                }
            }
        }
        if waiting.is_empty() && next_lane == self.lanes.len() {
            Ok(self.offset)
        } else {
            Err(PackError::Internal(
                "pipeline ended with slices unwritten".into(),
            ))
        }
    }

    /// Every member before the lane is written: tells the lane its place if it waits for
    /// it, waits for it to finish, and moves its members back if it had to guess too far.
    fn place_lane(&mut self, number: usize, lane: &Lane) -> Result<(), PackError> {
        if lane.follows.is_none() {
            self.places.set(number, self.offset);
        }
        let written = self.lane_written[number]
            .recv()
            .map_err(|_| PackError::Internal("pipeline closed".into()))?;
        if written.start != self.offset {
            lanes::move_back(
                self.out,
                self.out_path,
                written.start,
                self.offset,
                written.len,
            )?;
        }
        self.offset += written.len;
        self.out
            .seek(SeekFrom::Start(self.offset))
            .map_err(|e| PackError::io(self.out_path, e))?;
        Ok(())
    }
}

/// Writes every part, retrying short writes (`Write::write_all_vectored` is not stable).
pub(crate) fn write_all_vectored(
    out: &mut File,
    mut parts: Vec<std::io::IoSlice<'_>>,
) -> std::io::Result<()> {
    let mut parts = parts.as_mut_slice();
    while !parts.is_empty() {
        match out.write_vectored(parts) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => std::io::IoSlice::advance_slices(&mut parts, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// SHA-256 and BLAKE3 of the finished archive. It is re-read from the page cache because
/// its first bytes are only known at the end; one thread reads it and takes BLAKE3 while
/// this one takes SHA-256 (see [`digest::digest_reader_on_two_threads`] for the measured
/// choice of buffers).
fn digest_file(path: &Path) -> Result<Digests, PackError> {
    File::open(path)
        .and_then(digest::digest_reader_on_two_threads)
        .map_err(|e| PackError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gzip::Level;
    use crate::test_data::noise;
    use std::path::PathBuf;

    fn settings(output: PathBuf) -> Settings {
        Settings {
            bundle_id: "test".into(),
            kind: "bootstrap-pack".into(),
            generation: 1,
            producer: "test".into(),
            created_at: "1970-01-01T00:00:00Z".into(),
            mtime: 0,
            sources: Vec::new(),
            output,
            manifest_out: None,
            sums: None,
            b3sums: None,
            level: Level::Auto,
            jobs: 2,
            follow_symlinks: false,
            quiet: true,
            warnings: Vec::new(),
        }
    }

    /// Packs one file of `actual` bytes that was planned at `planned` bytes.
    fn pack_one(planned: u64, actual: usize) -> (Result<Packed, PackError>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("data.bin");
        std::fs::write(&source, vec![b'x'; actual]).unwrap();
        let files = [PlannedFile {
            bundle_path: "data.bin".into(),
            source,
            size: planned,
            mode: 0o644,
            media_type: "application/octet-stream".into(),
        }];
        let result = pack(&settings(dir.path().join("out.tar.gz")), &files, &());
        (result, dir)
    }

    fn assert_changed(result: Result<Packed, PackError>, dir: &Path) {
        match result {
            Err(PackError::Changed { expected, .. }) => assert!(expected > 0),
            other => panic!("expected a changed-file error, got {other:?}"),
        }
        // Nothing half-written is left beside the output.
        let left: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|name| name != "data.bin")
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// File content that ends exactly at the end of a slice (after the 512-byte header),
    /// where the end of the file is checked with a read of its own.
    const FILLS_SLICE: usize = SLICE_SIZE - tar_stream::BLOCK;

    #[test]
    fn the_manifest_room_fits_the_manifest_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let file = |i: usize| PlannedFile {
            // Paths of different lengths, some with characters JSON escapes.
            bundle_path: format!(
                "d{}/f{i}{}",
                i % 7,
                if i.is_multiple_of(5) { "\"\\ü" } else { "" }
            ),
            source: dir.path().join("unused"),
            size: (i as u64) * 1_000_003,
            mode: if i.is_multiple_of(3) { 0o755 } else { 0o644 },
            media_type: if i.is_multiple_of(2) {
                "text/yaml"
            } else {
                "application/octet-stream"
            }
            .into(),
        };
        let settings = settings(dir.path().join("out.tar.gz"));
        for count in [0usize, 1, 2, 4095, 4096, 4097, 9000] {
            let files: Vec<PlannedFile> = (0..count).map(file).collect();
            let digests: Vec<Digests> = (0..count)
                .map(|i| Digests {
                    sha256: [i as u8; 32],
                    blake3: [!(i as u8); 32],
                    size: files[i].size,
                })
                .collect();
            let real = inner_manifest(&settings, &files, &digests)
                .to_pretty_json()
                .len();
            assert_eq!(
                placeholder_manifest_len(&settings, &files),
                real,
                "{count} files"
            );
        }
    }

    #[test]
    fn a_file_that_grew_is_refused() {
        let (result, dir) = pack_one(5, 10);
        assert_changed(result, dir.path());
        let (result, dir) = pack_one(FILLS_SLICE as u64, FILLS_SLICE + 1);
        assert_changed(result, dir.path());
    }

    #[test]
    fn a_file_that_shrank_is_refused() {
        let (result, dir) = pack_one(10, 5);
        assert_changed(result, dir.path());
        let (result, dir) = pack_one(FILLS_SLICE as u64 + 3, FILLS_SLICE);
        assert_changed(result, dir.path());
    }

    fn text(len: usize) -> Vec<u8> {
        b"replicas: 3\nimage: registry.local/app\n"
            .iter()
            .copied()
            .cycle()
            .take(len)
            .collect()
    }

    /// Writes `contents` as files `f000`… in a new folder and plans them in that order.
    fn plan_files(contents: &[Vec<u8>]) -> (tempfile::TempDir, Vec<PlannedFile>) {
        let dir = tempfile::tempdir().unwrap();
        let files = contents
            .iter()
            .enumerate()
            .map(|(i, content)| {
                let source = dir.path().join(format!("f{i:03}"));
                std::fs::write(&source, content).unwrap();
                PlannedFile {
                    bundle_path: format!("f{i:03}"),
                    source,
                    size: content.len() as u64,
                    mode: 0o644,
                    media_type: "application/octet-stream".into(),
                }
            })
            .collect();
        (dir, files)
    }

    /// The archive's bytes and the manifest, packed with lanes for files of at least
    /// `lane_min_slices` slices (`u64::MAX`: no lanes).
    fn pack_bytes(
        files: &[PlannedFile],
        level: Level,
        jobs: usize,
        lane_min_slices: u64,
    ) -> (Vec<u8>, BundleManifest) {
        let out = tempfile::tempdir().unwrap();
        let mut settings = settings(out.path().join("out.tar.gz"));
        settings.level = level;
        settings.jobs = jobs;
        let packed = pack_with_lanes(&settings, files, &(), lane_min_slices).unwrap();
        packed.archive.commit().unwrap();
        (std::fs::read(&settings.output).unwrap(), packed.manifest)
    }

    fn assert_lanes_change_nothing(contents: &[Vec<u8>], expect_lanes: usize) {
        assert_lanes_change_nothing_at(contents, expect_lanes, Level::Auto);
    }

    fn assert_lanes_change_nothing_at(contents: &[Vec<u8>], expect_lanes: usize, level: Level) {
        let (_dir, files) = plan_files(contents);
        assert_eq!(
            lanes::plan(&files, 0, 2).len(),
            expect_lanes,
            "lanes planned"
        );
        let (plain, plain_manifest) = pack_bytes(&files, level, 2, u64::MAX);
        for jobs in [1, 2, 3] {
            let (laned, manifest) = pack_bytes(&files, level, jobs, 2);
            assert!(
                laned == plain,
                "archive differs with lanes, --jobs {jobs}, {level:?}"
            );
            assert_eq!(manifest, plain_manifest, "--jobs {jobs}, {level:?}");
        }
        for (file, entry) in contents.iter().zip(&plain_manifest.files) {
            assert_eq!(entry.sha256, hex::encode(digest::sha256(file)));
            assert_eq!(entry.blake3, blake3::hash(file).to_hex().as_str());
        }
    }

    const MIB: usize = SLICE_SIZE;

    #[test]
    fn lanes_of_incompressible_files_give_the_same_archive() {
        // Small files, then a run of large ones, then small files again.
        let mut contents: Vec<Vec<u8>> = (0..5).map(|i| text(1000 + 700 * i)).collect();
        contents.extend((0..4).map(|i| noise(3 * MIB + 1000 * i, i as u64)));
        contents.extend((0..3).map(|i| text(300 + i)));
        assert_lanes_change_nothing(&contents, 4);
    }

    #[test]
    fn a_lane_placed_too_far_is_moved_back() {
        // The first large file has compressible slices, so the one after it guesses its
        // place too far on; a compressible large file is deflated in its own lane.
        let mut half_text = noise(2 * MIB, 1);
        half_text.extend(text(3 * MIB));
        let contents = vec![
            text(10),
            half_text,
            noise(4 * MIB, 2),
            text(5 * MIB),
            noise(3 * MIB, 3),
            text(20),
        ];
        for level in [Level::Auto, Level::Store, Level::Fixed(1)] {
            assert_lanes_change_nothing_at(&contents, 4, level);
        }
    }

    #[test]
    fn lanes_at_the_ends_and_on_slice_boundaries() {
        // First file is large; the second starts its content exactly on a slice boundary
        // (one header before it) and ends on one; the last file is large.
        let first = noise(3 * MIB, 4);
        // `first` (one header, no padding) ends at 3 MiB + 512; the filler's header and
        // MIB - 1536 bytes end at 4 MiB - 512, so after one more header the next content
        // starts at exactly 4 MiB.
        let filler = text(MIB - 1536);
        let aligned = noise(3 * MIB, 5);
        let last = noise(3 * MIB + 77, 6);
        let contents = vec![first, filler, aligned, last];
        let (_dir, files) = plan_files(&contents);
        let planned = lanes::plan(&files, 0, 2);
        assert_eq!(planned.len(), 3);
        assert_eq!(planned[1].head_len, 0, "{planned:?}");
        assert_eq!(planned[1].tail_len, 0, "{planned:?}");
        assert_eq!(planned[1].follows, None);
        assert_lanes_change_nothing(&contents, 3);
    }

    #[test]
    fn only_adjacent_large_files_place_themselves() {
        let contents = vec![
            noise(3 * MIB, 7),
            noise(3 * MIB, 8),
            text(100),
            noise(3 * MIB, 9),
        ];
        let (_dir, files) = plan_files(&contents);
        let planned = lanes::plan(&files, 0, 2);
        let follows: Vec<_> = planned.iter().map(|l| l.follows).collect();
        assert_eq!(follows, [None, Some(0), None]);
        assert_eq!(planned[0].first_slice, 1);
        assert_eq!(planned[0].head_len, MIB - 512);
        assert_lanes_change_nothing(&contents, 3);
    }

    #[test]
    fn a_large_file_that_changed_size_is_refused() {
        for (planned, actual) in [(10 * MIB, 10 * MIB + 1), (10 * MIB, 9 * MIB)] {
            let dir = tempfile::tempdir().unwrap();
            let source = dir.path().join("data.bin");
            std::fs::write(&source, noise(actual, 10)).unwrap();
            let files = [PlannedFile {
                bundle_path: "data.bin".into(),
                source,
                size: planned as u64,
                mode: 0o644,
                media_type: "application/octet-stream".into(),
            }];
            assert_eq!(lanes::plan(&files, 0, lanes::LANE_MIN_SLICES).len(), 1);
            let result = pack(&settings(dir.path().join("out.tar.gz")), &files, &());
            assert_changed(result, dir.path());
        }
    }

    #[test]
    fn moving_back_overlapping_ranges_keeps_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data = noise(3 * MIB + 5, 11);
        let mut file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        file.write_all(&[0u8; 100]).unwrap();
        file.write_all(&data).unwrap();
        lanes::move_back(&file, &path, 100, 3, data.len() as u64).unwrap();
        let back = std::fs::read(&path).unwrap();
        assert!(back[3..3 + data.len()] == data[..]);
        assert!(lanes::move_back(&file, &path, 3, 100, 10).is_err());
    }

    #[test]
    fn files_of_the_planned_size_pack_whatever_the_slice_boundary() {
        for size in [
            0,
            1,
            FILLS_SLICE - 1,
            FILLS_SLICE,
            FILLS_SLICE + 1,
            3 * SLICE_SIZE,
        ] {
            let (result, _dir) = pack_one(size as u64, size);
            let packed = result.unwrap_or_else(|e| panic!("{size} bytes: {e}"));
            assert_eq!(packed.manifest.files[0].size, size as u64);
            assert_eq!(
                packed.manifest.files[0].sha256,
                hex::encode(digest::sha256(&vec![b'x'; size]))
            );
        }
    }
}
