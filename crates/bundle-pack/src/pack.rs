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
use crate::output::{self, Staged};
use crate::tar_stream::{self, EntryMeta, END_OF_ARCHIVE};
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use offline_formats::digest::Digests;
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
    let (digests, room) = run_pipeline(settings, files, temp.as_file_mut(), &temp_path, progress)?;
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
/// (hasher or writer) drops it, which bounds memory to the pool size.
struct Slice {
    seq: u64,
    /// Always full length (zeroed once when the pool is made), so filling it never
    /// re-zeroes memory; `len` says how much is used.
    data: Vec<u8>,
    len: usize,
    /// File content inside `data`: (file index, start, end).
    segments: Vec<(usize, usize, usize)>,
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
    out: &mut File,
    out_path: &Path,
    progress: &dyn Progress,
) -> Result<(Vec<Digests>, ManifestRoom), PackError> {
    // Memory is bounded by the pool (two slice-sized buffers per entry, input and member)
    // and one compressor per worker, so both are capped whatever --jobs or the core count.
    let jobs = settings.jobs.clamp(1, MAX_WORKERS);
    let pool_size = (2 * jobs + 4).min(MAX_SLICES_IN_FLIGHT);
    let (pool_tx, pool_rx) = bounded::<Vec<u8>>(pool_size);
    for _ in 0..pool_size {
        let _ = pool_tx.send(vec![0u8; SLICE_SIZE]);
    }
    let (work_tx, work_rx) = bounded::<Arc<Slice>>(pool_size);
    let (blake_tx, blake_rx) = bounded::<Arc<Slice>>(pool_size);
    let (done_tx, done_rx) = bounded::<Member>(pool_size);
    let (spare_tx, spare_rx) = unbounded::<Vec<u8>>();

    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            read_files(
                files,
                settings.mtime,
                &pool_rx,
                pool_tx,
                &work_tx,
                &[blake_tx],
                progress,
            )
        });
        // SHA-256 runs in the reader, on bytes the read just brought into this core's
        // cache (measured here: ≈2 GB/s there against ≈1.3 GB/s on another core); BLAKE3,
        // far faster, runs on a thread of its own.
        let blake = scope.spawn(move || hash_slices::<Blake3Stream>(files.len(), &blake_rx));
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
        let written = out
            .seek(SeekFrom::Start(room.reserved))
            .map_err(|e| PackError::io(out_path, e))
            .and_then(|_| write_members(out, out_path, &done_rx, &spare_tx));
        drop(done_rx);
        let read = reader
            .join()
            .map_err(|_| PackError::Internal("reader thread panicked".into()))?;
        let blake = blake
            .join()
            .map_err(|_| PackError::Internal("hasher thread panicked".into()))?;
        // A reader error explains a writer that stopped early, not the other way round,
        // except when the writer failed first (then the reader only saw a closed pipe).
        match (read, written) {
            (Err(PackError::Internal(_)), Err(w)) => Err(w),
            (Err(r), _) => Err(r),
            (Ok(_), Err(w)) => Err(w),
            (Ok(sha), Ok(())) => Ok((
                files
                    .iter()
                    .zip(sha.into_iter().zip(blake))
                    .map(|(file, (sha256, blake3))| Digests {
                        sha256,
                        blake3,
                        size: file.size,
                    })
                    .collect(),
                room,
            )),
        }
    })
}

/// Builds the tar stream slice by slice, reading each file exactly once.
fn read_files(
    files: &[PlannedFile],
    mtime: u64,
    pool: &Receiver<Vec<u8>>,
    home: Sender<Vec<u8>>,
    work: &Sender<Arc<Slice>>,
    hash: &[Sender<Arc<Slice>>],
    progress: &dyn Progress,
) -> Result<Vec<[u8; 32]>, PackError> {
    let closed = || PackError::Internal("pipeline closed".into());
    let mut builder = SliceBuilder {
        current: None,
        next_seq: 0,
        pool,
        home,
        work,
        hash,
    };
    let mut header = Vec::with_capacity(3 * tar_stream::BLOCK);
    let mut sha256s = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let mut sha = Sha256Stream::default();
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
        let mut handle = File::open(&file.source).map_err(|e| PackError::io(&file.source, e))?;
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
            sha.update(&slice.data[start..start + n]);
            slice.segments.push((index, start, start + n));
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
        sha256s.push(sha.finish());
        let pad = tar_stream::padding(file.size);
        builder.append(&END_OF_ARCHIVE[..pad]).ok_or_else(closed)?;
    }
    builder.append(&END_OF_ARCHIVE).ok_or_else(closed)?;
    builder.finish().ok_or_else(closed)?;
    Ok(sha256s)
}

/// Whether a read finds no more bytes.
fn at_end_of(handle: &mut File) -> std::io::Result<bool> {
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
    hash: &'a [Sender<Arc<Slice>>],
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
                segments: Vec::new(),
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
            if !slice.segments.is_empty() {
                for hasher in self.hash {
                    hasher.send(Arc::clone(&slice)).ok()?;
                }
            }
            self.work.send(slice).ok()?;
        }
        Some(())
    }

    fn finish(mut self) -> Option<()> {
        self.ship()
    }
}

/// One digest computed over each file's content in stream order.
trait StreamDigest: Default {
    fn update(&mut self, bytes: &[u8]);
    fn finish(self) -> [u8; 32];
}

#[derive(Default)]
struct Sha256Stream(sha2::Sha256);

impl StreamDigest for Sha256Stream {
    fn update(&mut self, bytes: &[u8]) {
        sha2::Digest::update(&mut self.0, bytes);
    }
    fn finish(self) -> [u8; 32] {
        sha2::Digest::finalize(self.0).into()
    }
}

#[derive(Default)]
struct Blake3Stream(blake3::Hasher);

impl StreamDigest for Blake3Stream {
    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(self) -> [u8; 32] {
        *self.0.finalize().as_bytes()
    }
}

/// Hashes file content in stream order; files without content get the empty digest.
fn hash_slices<D: StreamDigest>(file_count: usize, slices: &Receiver<Arc<Slice>>) -> Vec<[u8; 32]> {
    let mut digests = Vec::with_capacity(file_count);
    let mut current = D::default();
    for slice in slices {
        for &(index, start, end) in &slice.segments {
            while digests.len() < index {
                digests.push(std::mem::take(&mut current).finish());
            }
            current.update(&slice.data[start..end]);
        }
    }
    while digests.len() < file_count {
        digests.push(std::mem::take(&mut current).finish());
    }
    digests
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

fn write_members(
    out: &mut File,
    out_path: &Path,
    done: &Receiver<Member>,
    spare: &Sender<Vec<u8>>,
) -> Result<(), PackError> {
    let mut next = 0u64;
    let mut waiting: BTreeMap<u64, Member> = BTreeMap::new();
    for member in done {
        waiting.insert(member.seq, member);
        while let Some(member) = waiting.remove(&next) {
            match &member.stored {
                None => out.write_all(&member.bytes[..member.len]),
                Some(framing) => write_all_vectored(out, framing.io_slices(member.input.bytes())),
            }
            .map_err(|e| PackError::io(out_path, e))?;
            let Member { bytes, .. } = member;
            let _ = spare.send(bytes);
            next += 1;
        }
    }
    if waiting.is_empty() {
        Ok(())
    } else {
        Err(PackError::Internal(
            "pipeline ended with slices unwritten".into(),
        ))
    }
}

/// Writes every part, retrying short writes (`Write::write_all_vectored` is not stable).
fn write_all_vectored(out: &mut File, mut parts: Vec<std::io::IoSlice<'_>>) -> std::io::Result<()> {
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
/// its first bytes are only known at the end. Each digest reads the file on its own
/// thread: handing buffers from one core to the other cost more here (measured: 0.69–0.80 s
/// against 0.60 s for the 0.9 GB reference archive) than the second copy from the cache,
/// and SHA-256, the slower digest, runs on bytes its own read just brought into its cache.
fn digest_file(path: &Path) -> Result<Digests, PackError> {
    let read = |digest: fn(File) -> std::io::Result<([u8; 32], u64)>| {
        File::open(path)
            .and_then(digest)
            .map_err(|e| PackError::io(path, e))
    };
    std::thread::scope(|scope| {
        let blake = scope.spawn(|| read(digest::blake3_reader));
        let sha = read(digest::sha256_reader);
        let blake = blake
            .join()
            .map_err(|_| PackError::Internal("hash thread panicked".into()))?;
        let (sha256, size) = sha?;
        let (blake3, blake_size) = blake?;
        if size != blake_size {
            return Err(PackError::Internal(format!(
                "`{}` changed while it was hashed ({size} and {blake_size} bytes)",
                path.display()
            )));
        }
        Ok(Digests {
            sha256,
            blake3,
            size,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gzip::Level;
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
