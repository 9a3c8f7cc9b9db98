//! The tar layer of the pipeline: reads the expanded stream block by block, applies PAX and
//! GNU long-name records to the entry they precede, and emits one event per entry followed by
//! its content in shared buffers. It judges nothing but the stream's own structure; what an
//! entry may be is decided by the consumer.

use super::chunk::{Chunk, Pool};
use super::gzip::{GzipFault, GzipReader};
use super::tar::{self, Kind, Overrides, BLOCK, MAX_META};
use crate::paths;
use crossbeam_channel::Sender;
use std::ops::Range;
use std::sync::Arc;

/// Where an entry's name came from: the consumer names the record that smuggled a hostile
/// path, since `tar tvf` on some systems shows the header's name instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameSource {
    Header,
    Pax,
    GnuLongName,
}

/// One archive entry, extended headers applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position among the archive's entries (extended headers not counted), from 0.
    pub index: u64,
    /// The name an extractor would use.
    pub path: Vec<u8>,
    pub name_source: NameSource,
    pub kind: Kind,
    /// Content bytes that follow.
    pub size: u64,
    /// The header's whole mode field.
    pub mode: u64,
    pub uid: u64,
    pub gid: u64,
    /// Link target of a link entry.
    pub link: Vec<u8>,
    /// PAX keys the entry carried that a bundle may not use.
    pub refused_keys: Vec<String>,
}

/// Why the stream stops early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The entry being read when it happened, if any.
    pub entry: Option<String>,
    pub reason: String,
}

/// What the tar layer tells the consumer, in archive order.
#[derive(Debug)]
pub enum Event {
    /// An entry begins. Its content follows as [`Event::Data`] for regular files only.
    Entry(Box<Entry>),
    /// Content of the current regular file.
    Data(Arc<Chunk>, Range<usize>),
    /// The current entry is complete.
    EntryEnd,
    /// The stream cannot be read on; nothing follows.
    Fault(Fault),
    /// The archive ended cleanly: end-of-archive blocks, only zeros after them, every gzip
    /// member complete. Nothing follows.
    End,
}

/// A range of a shared window.
type Slice = (Arc<Chunk>, Range<usize>);

/// The expanded stream in shared windows, so content goes to the consumer without a copy.
struct Expanded<I, B> {
    gz: GzipReader<I, B>,
    pool: Pool,
    window: Option<Arc<Chunk>>,
    pos: usize,
    /// A fault met while filling the last window: reported once its bytes are used.
    pending: Option<GzipFault>,
}

impl<I, B> Expanded<I, B>
where
    I: Iterator<Item = B>,
    B: AsRef<[u8]>,
{
    /// True when the window holds unread bytes; fills a new one when it does not.
    fn ensure(&mut self) -> Result<bool, GzipFault> {
        if let Some(window) = &self.window {
            if self.pos < window.len() {
                return Ok(true);
            }
        }
        self.window = None;
        if let Some(fault) = self.pending.take() {
            return Err(fault);
        }
        let mut buffer = self.pool.take();
        let mut filled = 0;
        while filled < buffer.len() {
            match self.gz.read(&mut buffer[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(fault) if filled > 0 => {
                    self.pending = Some(fault);
                    break;
                }
                Err(fault) => return Err(fault),
            }
        }
        if filled == 0 {
            return Ok(false);
        }
        self.window = Some(self.pool.chunk(buffer, filled));
        self.pos = 0;
        Ok(true)
    }

    /// The next at most `max` bytes, as a range of a shared window; `None` at the end.
    fn take(&mut self, max: u64) -> Result<Option<Slice>, GzipFault> {
        if max == 0 || !self.ensure()? {
            return Ok(None);
        }
        let Some(window) = &self.window else {
            return Ok(None);
        };
        let start = self.pos;
        let available = (window.len() - start) as u64;
        let n = available.min(max) as usize;
        self.pos += n;
        Ok(Some((Arc::clone(window), start..start + n)))
    }

    /// Fills `out` as far as the stream goes; returns how many bytes were read.
    fn read_exact_or_end(&mut self, out: &mut [u8]) -> Result<usize, GzipFault> {
        let mut filled = 0;
        while filled < out.len() {
            let Some((window, range)) = self.take((out.len() - filled) as u64)? else {
                break;
            };
            let n = range.len();
            out[filled..filled + n].copy_from_slice(&window[range]);
            filled += n;
        }
        Ok(filled)
    }

    /// Skips `n` bytes; returns how many were there.
    fn skip(&mut self, n: u64) -> Result<u64, GzipFault> {
        let mut skipped = 0;
        while skipped < n {
            let Some((_, range)) = self.take(n - skipped)? else {
                break;
            };
            skipped += range.len() as u64;
        }
        Ok(skipped)
    }
}

/// Reads the archive to its end and sends its events; returns when the stream ended, failed
/// or the consumer stopped listening.
pub fn read_entries<I, B>(gz: GzipReader<I, B>, pool: Pool, events: &Sender<Event>)
where
    I: Iterator<Item = B>,
    B: AsRef<[u8]>,
{
    let mut reader = Reader {
        input: Expanded {
            gz,
            pool,
            window: None,
            pos: 0,
            pending: None,
        },
        events,
    };
    let last = match reader.entries() {
        Ok(()) => Event::End,
        Err(Stop::Fault(fault)) => Event::Fault(fault),
        Err(Stop::Gone) => return,
    };
    let _ = events.send(last);
}

/// Why reading stopped before the end.
enum Stop {
    Fault(Fault),
    /// The consumer hung up (it failed, or has seen enough).
    Gone,
}

struct Reader<'a, I, B> {
    input: Expanded<I, B>,
    events: &'a Sender<Event>,
}

impl<I, B> Reader<'_, I, B>
where
    I: Iterator<Item = B>,
    B: AsRef<[u8]>,
{
    fn send(&self, event: Event) -> Result<(), Stop> {
        self.events.send(event).map_err(|_| Stop::Gone)
    }

    fn entries(&mut self) -> Result<(), Stop> {
        let mut global = Overrides::default();
        let mut global_bytes: u64 = 0;
        let mut pending = Overrides::default();
        let mut pending_source = NameSource::Header;
        let mut meta_pending = false;
        let mut index: u64 = 0;
        loop {
            let mut block = [0u8; BLOCK];
            let n = self.input.read_exact_or_end(&mut block).map_err(gz(None))?;
            if n == 0 {
                return Err(fault(None, "truncated archive: no end-of-archive marker"));
            }
            if n < BLOCK {
                return Err(fault(None, "truncated archive: ends inside a header block"));
            }
            if tar::is_zero_block(&block) {
                if meta_pending {
                    return Err(fault(
                        None,
                        "an extended header or long name is followed by no entry",
                    ));
                }
                return self.end_of_archive();
            }
            let header = tar::parse_header(&block).map_err(|e| {
                let name = pending.path.as_deref().unwrap_or(&[]);
                let name = (!name.is_empty()).then(|| paths::lossy(name));
                fault(name, &e.to_string())
            })?;
            let meta = match header.typeflag {
                b'x' => Some("PAX extended header"),
                b'g' => Some("PAX global header"),
                b'L' => Some("GNU long name"),
                b'K' => Some("GNU long link name"),
                _ => None,
            };
            if let Some(what) = meta {
                if header.size > MAX_META {
                    return Err(fault(
                        Some(paths::lossy(&header.name)),
                        &format!("oversized {what} ({} bytes)", header.size),
                    ));
                }
                let mut data = vec![0u8; header.size as usize];
                let got = self.input.read_exact_or_end(&mut data).map_err(gz(None))?;
                if got < data.len() {
                    return Err(fault(
                        None,
                        &format!("truncated archive: ends inside a {what}"),
                    ));
                }
                self.skip_padding(header.size, None)?;
                let bad = |why: String| fault(None, &format!("malformed {what}: {why}"));
                match header.typeflag {
                    b'x' => {
                        let records = tar::parse_pax(&data).map_err(bad)?;
                        if records.path.is_some() {
                            pending_source = NameSource::Pax;
                        }
                        pending.merge(&records);
                    }
                    b'g' => {
                        global_bytes += header.size;
                        if global_bytes > MAX_META {
                            return Err(fault(None, "oversized PAX global headers"));
                        }
                        global.merge(&tar::parse_pax(&data).map_err(bad)?);
                    }
                    b'L' => {
                        pending.path = Some(tar::gnu_long_name(&data));
                        pending_source = NameSource::GnuLongName;
                    }
                    _ => pending.linkpath = Some(tar::gnu_long_name(&data)),
                }
                meta_pending = header.typeflag != b'g' || meta_pending;
                continue;
            }

            let mut effective = global.clone();
            effective.merge(&pending);
            let name_source = match (&pending.path, &global.path) {
                (Some(_), _) => pending_source,
                (None, Some(_)) => NameSource::Pax,
                (None, None) => NameSource::Header,
            };
            let entry = Entry {
                index,
                path: effective.path.unwrap_or(header.name),
                name_source,
                kind: Kind::of(header.typeflag, header.mode),
                size: effective.size.unwrap_or(header.size),
                mode: header.mode,
                uid: effective.uid.unwrap_or(header.uid),
                gid: effective.gid.unwrap_or(header.gid),
                link: effective.linkpath.unwrap_or(header.linkname),
                refused_keys: effective.refused_keys,
            };
            pending = Overrides::default();
            pending_source = NameSource::Header;
            meta_pending = false;
            index += 1;
            let (size, regular) = (entry.size, entry.kind == Kind::Regular);
            let name = paths::lossy(&entry.path);
            self.send(Event::Entry(Box::new(entry)))?;
            if regular {
                self.content(size, &name)?;
            } else {
                let skipped = self.input.skip(size).map_err(gz(Some(&name)))?;
                if skipped < size {
                    return Err(truncated_entry(&name, size, skipped));
                }
            }
            self.skip_padding(size, Some(&name))?;
            self.send(Event::EntryEnd)?;
        }
    }

    /// Sends `size` bytes of content.
    fn content(&mut self, size: u64, name: &str) -> Result<(), Stop> {
        let mut sent = 0;
        while sent < size {
            let Some((window, range)) = self.input.take(size - sent).map_err(gz(Some(name)))?
            else {
                return Err(truncated_entry(name, size, sent));
            };
            sent += range.len() as u64;
            self.send(Event::Data(window, range))?;
        }
        Ok(())
    }

    fn skip_padding(&mut self, size: u64, name: Option<&str>) -> Result<(), Stop> {
        let padding = tar::padding(size);
        let skipped = self.input.skip(padding).map_err(gz(name))?;
        if skipped < padding {
            return Err(fault(
                name.map(str::to_owned),
                "truncated archive: ends inside the padding after an entry",
            ));
        }
        Ok(())
    }

    /// After the first zero block: a second one, then nothing but zeros to the end of the
    /// gzip stream (record padding). An entry hidden after the marker is what `tar -i`
    /// would extract and a plain reader never shows.
    fn end_of_archive(&mut self) -> Result<(), Stop> {
        let mut second = [0u8; BLOCK];
        let n = self
            .input
            .read_exact_or_end(&mut second)
            .map_err(gz(None))?;
        if n < BLOCK {
            return Err(fault(
                None,
                "truncated archive: one end-of-archive block instead of two",
            ));
        }
        if !tar::is_zero_block(&second) {
            return Err(fault(None, "data after the end-of-archive marker"));
        }
        while let Some((window, range)) = self.input.take(u64::MAX).map_err(gz(None))? {
            if window[range].iter().any(|&b| b != 0) {
                return Err(fault(None, "data after the end-of-archive marker"));
            }
        }
        Ok(())
    }
}

fn fault(entry: Option<String>, reason: &str) -> Stop {
    Stop::Fault(Fault {
        entry,
        reason: reason.to_owned(),
    })
}

fn truncated_entry(name: &str, size: u64, present: u64) -> Stop {
    fault(
        Some(name.to_owned()),
        &format!(
            "truncated archive: the header says {size} bytes, the archive ends after {present}"
        ),
    )
}

/// Maps a gzip fault met while reading `entry` (if any) to a stop.
fn gz(entry: Option<&str>) -> impl Fn(GzipFault) -> Stop + '_ {
    move |e| fault(entry.map(str::to_owned), &e.to_string())
}
