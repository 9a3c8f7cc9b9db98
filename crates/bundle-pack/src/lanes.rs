//! Large files take lanes of their own, so that several of them are read, hashed and
//! written at once (one lane per `--jobs`, at most [`MAX_LANE_WORKERS`]).
//!
//! Each file's SHA-256 is one chain that cannot be split, and on the main path the files
//! are read one after the other, so a run of large incompressible files (image layers)
//! hashed on one core while the other waited. A lane worker instead takes a whole large
//! file: it reads it once, hashes it, encodes the slices that hold nothing but its content
//! and writes their members straight to their place in the output. The archive's bytes
//! are the very same as on the main path; only who writes them changes.
//!
//! A member's place depends on the length of every member before it, known only once they
//! are written. The first lane of a run waits for the main writer to get there. A lane
//! right after another one does not wait: it places itself as if every member in between
//! were stored (the most a member can take, since deflate is used only when smaller), which
//! is exact for incompressible content. When a slice before it did compress, the main
//! writer finds the lane further on than it should be and moves the lane's members back
//! into place, so the guess only ever costs time, never bytes.
//!
//! The slices at each end of a large file also hold the neighbouring entries; the main
//! path builds those, with the file's first and last bytes handed over by the lane.

use crate::collect::PlannedFile;
use crate::error::PackError;
use crate::gzip::{self, Level, MemberEncoder};
use crate::pack::{at_end_of, write_all_vectored, Progress, SLICE_SIZE};
use crate::tar_stream::{self, EntryMeta};
use crossbeam_channel::{bounded, Receiver, Sender};
use offline_formats::digest::{Digests, DualHasher};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Files whose content fills at least this many whole slices take a lane.
pub const LANE_MIN_SLICES: u64 = 8;
/// Most lane workers at once: each holds about four slices of memory.
pub const MAX_LANE_WORKERS: usize = 4;

/// Where one large file's content lies in the stream of slices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    /// Index of the file in the pack's file list.
    pub index: usize,
    /// First slice that holds only this file's content.
    pub first_slice: u64,
    /// One past the last such slice.
    pub end_slice: u64,
    /// Content bytes before `first_slice`, at the end of the slice before it.
    pub head_len: usize,
    /// Content bytes after the slices of the lane, at the start of the next slice.
    pub tail_len: usize,
    /// The lane just before, when only tar framing lies between the two files: this lane
    /// then places itself from that one's place instead of waiting for the writer.
    pub follows: Option<usize>,
}

/// The lanes of `files`: every file whose content covers at least `min_slices` whole
/// slices of the tar stream (the stream after the manifest entry, as the main path cuts it).
pub fn plan(files: &[PlannedFile], mtime: u64, min_slices: u64) -> Vec<Lane> {
    let slice = SLICE_SIZE as u64;
    let mut lanes: Vec<Lane> = Vec::new();
    let mut at = 0u64;
    for (index, file) in files.iter().enumerate() {
        let header = tar_stream::header_len(&EntryMeta {
            path: &file.bundle_path,
            size: file.size,
            mode: file.mode,
            mtime,
        }) as u64;
        let start = at + header;
        let end = start + file.size;
        let first_slice = start.div_ceil(slice);
        let end_slice = end / slice;
        // A lane has at least one slice of its own, whatever `min_slices` says.
        if end_slice >= first_slice.saturating_add(min_slices.max(1)) {
            let follows = lanes
                .last()
                .filter(|before| before.index + 1 == index)
                .map(|_| lanes.len() - 1);
            lanes.push(Lane {
                index,
                first_slice,
                end_slice,
                head_len: (first_slice * slice - start) as usize,
                tail_len: (end - end_slice * slice) as usize,
                follows,
            });
        }
        at = end + tar_stream::padding(file.size) as u64;
    }
    lanes
}

/// Where each lane's members start in the output, as they become known.
pub struct Places {
    state: Mutex<PlacesState>,
    changed: Condvar,
}

struct PlacesState {
    starts: Vec<Option<u64>>,
    closed: bool,
}

impl Places {
    /// No place known yet for any of `count` lanes.
    pub fn new(count: usize) -> Self {
        Self {
            state: Mutex::new(PlacesState {
                starts: vec![None; count],
                closed: false,
            }),
            changed: Condvar::new(),
        }
    }

    /// Lane `lane` starts at `offset`.
    pub fn set(&self, lane: usize, offset: u64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.starts[lane] = Some(offset);
        self.changed.notify_all();
    }

    /// Waits until lane `lane`'s start is known; `None` once the pack has stopped.
    fn wait(&self, lane: usize) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(start) = state.starts[lane] {
                return Some(start);
            }
            if state.closed {
                return None;
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The pack stopped: wakes and stops every lane still waiting.
    pub fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.closed = true;
        self.changed.notify_all();
    }
}

/// Closes [`Places`] when dropped, on every way out of the writer.
pub struct CloseOnDrop<'a>(pub &'a Places);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// What a lane wrote: its members start at `start` and take `len` bytes.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub start: u64,
    pub len: u64,
}

/// A lane's sending ends, taken by the worker that packs it.
struct LaneSenders {
    head: Sender<Vec<u8>>,
    tail: Sender<Vec<u8>>,
    written: Sender<Written>,
}

/// The main reader's ends: each lane's first and last content bytes.
pub struct ReaderEnds {
    pub head: Vec<Receiver<Vec<u8>>>,
    pub tail: Vec<Receiver<Vec<u8>>>,
}

/// The lane workers' side of every lane.
pub struct Work<'a> {
    pub lanes: &'a [Lane],
    pub files: &'a [PlannedFile],
    pub places: &'a Places,
    pub level: Level,
    /// The output, opened again by each worker so that it has its own file position.
    pub out_path: &'a Path,
    pub progress: &'a dyn Progress,
    senders: Vec<Mutex<Option<LaneSenders>>>,
    next: AtomicUsize,
}

/// Channels between the lanes, the main reader and the main writer.
pub fn connect<'a>(
    lanes: &'a [Lane],
    files: &'a [PlannedFile],
    places: &'a Places,
    level: Level,
    out_path: &'a Path,
    progress: &'a dyn Progress,
) -> (Work<'a>, ReaderEnds, Vec<Receiver<Written>>) {
    let mut senders = Vec::with_capacity(lanes.len());
    let mut ends = ReaderEnds {
        head: Vec::with_capacity(lanes.len()),
        tail: Vec::with_capacity(lanes.len()),
    };
    let mut written = Vec::with_capacity(lanes.len());
    for _ in lanes {
        let (head_tx, head_rx) = bounded(1);
        let (tail_tx, tail_rx) = bounded(1);
        let (written_tx, written_rx) = bounded(1);
        senders.push(Mutex::new(Some(LaneSenders {
            head: head_tx,
            tail: tail_tx,
            written: written_tx,
        })));
        ends.head.push(head_rx);
        ends.tail.push(tail_rx);
        written.push(written_rx);
    }
    let work = Work {
        lanes,
        files,
        places,
        level,
        out_path,
        progress,
        senders,
        next: AtomicUsize::new(0),
    };
    (work, ends, written)
}

impl Work<'_> {
    /// One lane worker: packs lanes in order until none is left; returns the digests of
    /// the files it packed, by file index.
    pub fn run(&self) -> Result<Vec<(usize, Digests)>, PackError> {
        let result = self.run_lanes();
        if result.is_err() {
            // Nobody will pack the lanes not yet taken: let the reader and the writer see
            // their channels close instead of waiting for them.
            for slot in &self.senders {
                drop(slot.lock().unwrap_or_else(|e| e.into_inner()).take());
            }
        }
        result
    }

    fn run_lanes(&self) -> Result<Vec<(usize, Digests)>, PackError> {
        let mut buffers = Buffers {
            encoder: MemberEncoder::new(self.level),
            slice: vec![0u8; SLICE_SIZE],
            member: Vec::new(),
        };
        let mut packed = Vec::new();
        loop {
            let number = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(lane) = self.lanes.get(number) else {
                return Ok(packed);
            };
            let taken = self.senders[number]
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let Some(senders) = taken else {
                // Another worker failed and closed the lanes.
                return Err(closed());
            };
            let digests = self.pack_lane(number, lane, &senders, &mut buffers)?;
            packed.push((lane.index, digests));
        }
    }

    fn pack_lane(
        &self,
        number: usize,
        lane: &Lane,
        senders: &LaneSenders,
        buffers: &mut Buffers,
    ) -> Result<Digests, PackError> {
        let file = &self.files[lane.index];
        let mut source = Source::open(&file.source, file.size, self.progress)?;

        let mut head = vec![0u8; lane.head_len];
        source.fill(&mut head)?;
        senders.head.send(head).map_err(|_| closed())?;

        let mut out: Option<File> = None;
        let mut start = 0u64;
        let mut len = 0u64;
        for _ in lane.first_slice..lane.end_slice {
            let Buffers {
                encoder,
                slice,
                member,
            } = &mut *buffers;
            source.fill(slice)?;
            let deflated = encoder.deflate_into(slice, member);
            let out = match &mut out {
                Some(out) => out,
                None => {
                    start = self.place(number, lane)?;
                    let mut opened = File::options()
                        .write(true)
                        .open(self.out_path)
                        .map_err(|e| PackError::io(self.out_path, e))?;
                    opened
                        .seek(SeekFrom::Start(start))
                        .map_err(|e| PackError::io(self.out_path, e))?;
                    out.insert(opened)
                }
            };
            let written = match deflated {
                Some(n) => out.write_all(&member[..n]).map(|()| n),
                None => {
                    let framing = gzip::StoredMember::new(slice);
                    write_all_vectored(out, framing.io_slices(slice))
                        .map(|()| gzip::stored_member_len(slice.len()))
                }
            }
            .map_err(|e| PackError::io(self.out_path, e))?;
            len += written as u64;
        }

        let mut tail = vec![0u8; lane.tail_len];
        source.fill(&mut tail)?;
        let digests = source.finish()?;
        senders.tail.send(tail).map_err(|_| closed())?;
        senders
            .written
            .send(Written { start, len })
            .map_err(|_| closed())?;
        Ok(digests)
    }

    /// Where the lane's first member goes: given by the writer for the first lane of a
    /// run; for a lane that follows another, that lane's start plus the most the members
    /// in between can take, published for the lane after.
    fn place(&self, number: usize, lane: &Lane) -> Result<u64, PackError> {
        match lane.follows {
            None => self.places.wait(number).ok_or_else(closed),
            Some(before) => {
                let base = self.places.wait(before).ok_or_else(closed)?;
                let between = lane.first_slice - self.lanes[before].first_slice;
                let start = base + between * gzip::stored_member_len(SLICE_SIZE) as u64;
                self.places.set(number, start);
                Ok(start)
            }
        }
    }
}

/// A lane worker's compressor and buffers, kept from one lane to the next.
struct Buffers {
    encoder: MemberEncoder,
    slice: Vec<u8>,
    member: Vec<u8>,
}

/// One large file read once, front to back, with both digests taken on the way.
struct Source<'a> {
    path: &'a Path,
    handle: File,
    planned: u64,
    hasher: DualHasher,
    progress: &'a dyn Progress,
}

impl<'a> Source<'a> {
    fn open(path: &'a Path, planned: u64, progress: &'a dyn Progress) -> Result<Self, PackError> {
        let handle = File::open(path).map_err(|e| PackError::io(path, e))?;
        Ok(Self {
            path,
            handle,
            planned,
            hasher: DualHasher::new(),
            progress,
        })
    }

    fn changed(&self) -> PackError {
        PackError::Changed {
            path: self.path.to_path_buf(),
            expected: self.planned,
        }
    }

    /// Fills `buffer` from the file; a file that ends first shrank while being packed.
    fn fill(&mut self, buffer: &mut [u8]) -> Result<(), PackError> {
        match self.handle.read_exact(buffer) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(self.changed()),
            Err(e) => return Err(PackError::io(self.path, e)),
        }
        self.hasher.update(buffer);
        self.progress.advance(buffer.len() as u64);
        Ok(())
    }

    /// The digests, once the file is read to its planned size and has nothing more.
    fn finish(mut self) -> Result<Digests, PackError> {
        let ended = at_end_of(&mut self.handle).map_err(|e| PackError::io(self.path, e))?;
        if !ended || self.hasher.size() != self.planned {
            return Err(self.changed());
        }
        Ok(self.hasher.finalize())
    }
}

fn closed() -> PackError {
    PackError::Internal("pipeline closed".into())
}

/// Moves `len` bytes of `file` from `from` back to `to` (`to < from`), front to back, so
/// that overlapping ranges are safe.
pub fn move_back(file: &File, path: &Path, from: u64, to: u64, len: u64) -> Result<(), PackError> {
    if to > from {
        return Err(PackError::Internal(format!(
            "a lane was placed at {from}, before its real place {to}"
        )));
    }
    let mut buffer = vec![0u8; SLICE_SIZE];
    let mut done = 0u64;
    while done < len {
        let n = usize::try_from(len - done)
            .unwrap_or(usize::MAX)
            .min(buffer.len());
        file.read_exact_at(&mut buffer[..n], from + done)
            .and_then(|()| file.write_all_at(&buffer[..n], to + done))
            .map_err(|e| PackError::io(path, e))?;
        done += n as u64;
    }
    Ok(())
}
