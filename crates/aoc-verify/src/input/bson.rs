//! BSON inputs: `.bson` document streams, mongodump dump folders and `mongodump --archive` files.
//!
//! # `.bson` streams
//!
//! A mongodump `<collection>.bson` file is BSON documents back to back, each starting with
//! its int32 little-endian length (prefix and trailing `0x00` included). [`BsonStreamSource`]
//! cuts it into frames without decoding them; [`decode_document`] decodes one frame.
//!
//! # Dump folders
//!
//! [`dump_folder_files`] lists the `<collection>.bson` / `<collection>.bson.gz` files of a
//! `dump/<db>/` folder or of a `dump/` root of database folders.
//!
//! # `mongodump --archive`
//!
//! The layout is the one of mongo-tools (`common/archive/spec.md`; `prelude.go` writes and
//! reads the prelude, `multiplexer.go` writes the body, `parser.go` and `demultiplexer.go`
//! read it):
//!
//! ```text
//! archive           = magic-number header *collection-metadata terminator
//!                     *(namespace-segment | namespace-eof)
//! magic-number      = 6d e2 99 81            (0x8199e26d little-endian)
//! header            = document               {concurrent_collections, version, server_version, tool_version}
//! collection-metadata = document             {db, collection, metadata, size, type}
//! terminator        = ff ff ff ff
//! namespace-segment = namespace-header +document terminator      (header: EOF false, CRC 0)
//! namespace-eof     = eof-header terminator                        (header: EOF true, CRC)
//! namespace-header  = document               {db, collection, EOF, CRC}
//! ```
//!
//! Segments of several namespaces interleave; every namespace ends with one end-of-namespace
//! header whose `CRC` (an int64) is the CRC-64 of the concatenated bytes of all the
//! namespace's documents, as Go's `hash/crc64` computes it with the `crc64.ECMA` table
//! (reflected ECMA-182 polynomial, initial value and final xor all ones, i.e. CRC-64/XZ).
//! [`ArchiveSource`] verifies it, and, like mongorestore's demultiplexer, refuses documents
//! outside a segment, a header for a namespace that already ended, an archive that ends while
//! a namespace is still open, and one that ends before every namespace its prelude lists
//! (except `timeseries` ones, whose data lives under `system.buckets.*`) has ended. A segment
//! with no document is accepted, as mongo-tools' parser accepts it. Documents are handed out
//! as they are read, so a CRC mismatch is reported after the namespace's batches.

use super::{
    Batch, BatchSource, Encoding, Frame, InputError, PositionKind, BATCH_BYTES, MAX_DOCUMENT_BYTES,
};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io::{BufReader, ErrorKind, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The smallest BSON document: a length prefix and the trailing `0x00`.
const MIN_DOCUMENT_BYTES: usize = 5;

/// Read buffer: large enough that small documents cost no system call each.
const READ_BUFFER_BYTES: usize = 256 << 10;

/// First bytes of a `mongodump --archive` file, as a little-endian `u32`.
const ARCHIVE_MAGIC: u32 = 0x8199_e26d;

/// Ends the archive prelude and every namespace segment.
const ARCHIVE_TERMINATOR: u32 = 0xffff_ffff;

/// Decodes one BSON document (a frame, length prefix included) into MongoDB Extended JSON v2
/// in its relaxed form.
///
/// The document's length prefix must cover exactly `bytes`. The error says what is wrong; no
/// input makes this panic.
pub fn decode_document(bytes: &[u8]) -> Result<serde_json::Value, String> {
    let Some(prefix) = bytes.first_chunk::<4>() else {
        return Err(format!(
            "{} bytes are too few for a bson document (at least {MIN_DOCUMENT_BYTES})",
            bytes.len()
        ));
    };
    let declared = i32::from_le_bytes(*prefix);
    if usize::try_from(declared).ok() != Some(bytes.len()) {
        return Err(format!(
            "bson length prefix says {declared} bytes but the document has {}",
            bytes.len()
        ));
    }
    let mut rest = bytes;
    let document = ::bson::Document::from_reader(&mut rest)
        .map_err(|error| format!("invalid bson: {error}"))?;
    if !rest.is_empty() {
        return Err(format!(
            "bson document ends {} bytes before its frame",
            rest.len()
        ));
    }
    Ok(::bson::Bson::Document(document).into_relaxed_extjson())
}

/// Reads length-prefixed BSON documents from an input and keeps count of the offset.
struct DocumentReader {
    reader: BufReader<Box<dyn Read + Send>>,
    /// Bytes consumed so far: the offset of the next byte.
    offset: u64,
    source: Arc<str>,
}

impl DocumentReader {
    fn new(reader: Box<dyn Read + Send>, source: Arc<str>) -> Self {
        Self {
            reader: BufReader::with_capacity(READ_BUFFER_BYTES, reader),
            offset: 0,
            source,
        }
    }

    fn malformed(&self, offset: u64, message: String) -> InputError {
        malformed(&self.source, offset, message)
    }

    /// Fills `buf` as far as the input goes: fewer bytes only at the end of the input.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, InputError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => {
                    return Err(InputError::Io {
                        source_name: format!(
                            "{} at offset {}",
                            self.source,
                            self.offset + filled as u64
                        ),
                        error,
                    })
                }
            }
        }
        Ok(filled)
    }

    /// The next four bytes (a length prefix, a terminator or a magic number), `None` at a
    /// clean end of the input. `what` names what is expected, for the message.
    fn read_prefix(&mut self, what: &str) -> Result<Option<[u8; 4]>, InputError> {
        let mut prefix = [0; 4];
        match self.fill(&mut prefix)? {
            0 => Ok(None),
            4 => {
                self.offset += 4;
                Ok(Some(prefix))
            }
            read => Err(self.malformed(
                self.offset,
                format!("truncated {what}: the input ends {read} bytes into its 4-byte length"),
            )),
        }
    }

    /// Reads the rest of the document whose length `prefix` was read at `start` and appends
    /// the whole document to `out`; returns where it is in `out`. On error `out` is as it was.
    fn read_document(
        &mut self,
        start: u64,
        prefix: [u8; 4],
        out: &mut Vec<u8>,
        what: &str,
    ) -> Result<Range<usize>, InputError> {
        let declared = i32::from_le_bytes(prefix);
        let length = match usize::try_from(declared) {
            Ok(length) if length < MIN_DOCUMENT_BYTES => None,
            Ok(length) if length > MAX_DOCUMENT_BYTES => {
                return Err(self.malformed(
                    start,
                    format!(
                        "{what} length {length} exceeds the limit of {MAX_DOCUMENT_BYTES} bytes"
                    ),
                ))
            }
            Ok(length) => Some(length),
            Err(_) => None,
        };
        let Some(length) = length else {
            return Err(self.malformed(
                start,
                format!("{what} length {declared} is below the bson minimum of {MIN_DOCUMENT_BYTES} bytes"),
            ));
        };
        let begin = out.len();
        out.extend_from_slice(&prefix);
        out.resize(begin + length, 0);
        let read = match self.fill(&mut out[begin + 4..]) {
            Ok(read) => read,
            Err(error) => {
                out.truncate(begin);
                return Err(error);
            }
        };
        self.offset += read as u64;
        if read < length - 4 {
            out.truncate(begin);
            return Err(self.malformed(
                start,
                format!(
                    "truncated {what}: its length says {length} bytes but the input ends after {}",
                    read + 4
                ),
            ));
        }
        let last = out[begin + length - 1];
        if last != 0 {
            out.truncate(begin);
            return Err(self.malformed(
                start,
                format!(
                    "{what} of {length} bytes does not end with a 0x00 byte (found {last:#04x})"
                ),
            ));
        }
        Ok(begin..begin + length)
    }
}

fn malformed(source: &str, offset: u64, message: String) -> InputError {
    InputError::Malformed {
        source_name: format!("{source} at offset {offset}"),
        message,
    }
}

/// The documents of one `.bson` stream (a mongodump `<collection>.bson` file, already
/// decompressed), cut into [`Batch`]es of about [`BATCH_BYTES`].
///
/// Every frame is one whole document, length prefix included; its position is its byte
/// offset in the stream. An empty stream has no documents. Damage that ends the stream (a
/// length below 5 or above [`MAX_DOCUMENT_BYTES`], a truncated document, a document not
/// ending in `0x00`) is an [`InputError::Malformed`] naming the offset, returned after the
/// batch of the documents before it.
pub struct BsonStreamSource {
    reader: DocumentReader,
    collection: Arc<str>,
    pending_error: Option<InputError>,
    finished: bool,
}

impl BsonStreamSource {
    /// Reads the documents of `collection` from `reader`; `source` names the input in
    /// batches and messages.
    pub fn new(reader: Box<dyn Read + Send>, source: Arc<str>, collection: Arc<str>) -> Self {
        Self {
            reader: DocumentReader::new(reader, source),
            collection,
            pending_error: None,
            finished: false,
        }
    }
}

impl fmt::Debug for BsonStreamSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BsonStreamSource")
            .field("source", &self.reader.source)
            .field("collection", &self.collection)
            .field("offset", &self.reader.offset)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl BatchSource for BsonStreamSource {
    fn next_batch(&mut self) -> Result<Option<Batch>, InputError> {
        if let Some(error) = self.pending_error.take() {
            return Err(error);
        }
        if self.finished {
            return Ok(None);
        }
        let mut data = Vec::new();
        let mut frames = Vec::new();
        while data.len() < BATCH_BYTES {
            let start = self.reader.offset;
            let next = match self.reader.read_prefix("document") {
                Ok(Some(prefix)) => self
                    .reader
                    .read_document(start, prefix, &mut data, "document")
                    .map(Some),
                Ok(None) => Ok(None),
                Err(error) => Err(error),
            };
            match next {
                Ok(Some(range)) => frames.push(Frame {
                    range,
                    position: start,
                }),
                Ok(None) => {
                    self.finished = true;
                    break;
                }
                Err(error) => {
                    self.finished = true;
                    if frames.is_empty() {
                        return Err(error);
                    }
                    self.pending_error = Some(error);
                    break;
                }
            }
        }
        if frames.is_empty() {
            return Ok(None);
        }
        Ok(Some(Batch {
            source: Arc::clone(&self.reader.source),
            collection: Arc::clone(&self.collection),
            encoding: Encoding::Bson,
            position_kind: PositionKind::Offset,
            data,
            frames,
        }))
    }
}

/// One collection file of a mongodump dump folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpFile {
    /// The `<collection>.bson` or `<collection>.bson.gz` file.
    pub path: PathBuf,
    /// The collection, from the file name (mongodump's `%XX` escapes undone).
    pub collection: String,
    /// Whether the file is gzip-compressed (`.bson.gz`).
    pub gzip: bool,
}

/// The collection files of a mongodump dump folder, sorted by database then collection name
/// (bytewise).
///
/// `path` is either a database folder `dump/<db>/` or a dump root `dump/` of database
/// folders; the files directly in `path` (mongodump's root-level `oplog.bson`, or a database
/// folder's collections) come first, then those of each subfolder, one level deep. A
/// collection is a `<collection>.bson` or `<collection>.bson.gz` file; `*.metadata.json(.gz)`
/// and other files are ignored, `system.*` collections are listed (the caller decides).
///
/// Symbolic links inside the folder are refused with [`InputError::Malformed`] rather than
/// followed or skipped: a dump read through a link could leave the folder, and a skipped one
/// would go unchecked. `path` itself may be a link. A folder without collection files, a
/// collection present both plain and gzip-compressed, and a file name that is not UTF-8 or
/// whose `%XX` escapes are broken are [`InputError::Malformed`] too.
pub fn dump_folder_files(path: &Path) -> Result<Vec<DumpFile>, InputError> {
    let mut found: Vec<(Vec<u8>, DumpFile)> = Vec::new();
    for entry in read_folder(path)? {
        if entry.is_dir {
            for file in read_folder(&entry.path)? {
                if let Some(dump_file) = collection_file(&file)? {
                    found.push((entry.name.as_encoded_bytes().to_vec(), dump_file));
                }
            }
        } else if let Some(dump_file) = collection_file(&entry)? {
            found.push((Vec::new(), dump_file));
        }
    }
    if found.is_empty() {
        return Err(InputError::Malformed {
            source_name: path.display().to_string(),
            message: "no `.bson` or `.bson.gz` collection file in this dump folder or its database folders".into(),
        });
    }
    found.sort_by(|(db_a, a), (db_b, b)| {
        (db_a, a.collection.as_bytes()).cmp(&(db_b, b.collection.as_bytes()))
    });
    for pair in found.windows(2) {
        if let [(db_a, a), (db_b, b)] = pair {
            if db_a == db_b && a.collection == b.collection {
                return Err(InputError::Malformed {
                    source_name: b.path.display().to_string(),
                    message: format!(
                        "collection `{}` is also in `{}`",
                        b.collection,
                        a.path.display()
                    ),
                });
            }
        }
    }
    Ok(found.into_iter().map(|(_, file)| file).collect())
}

/// A folder entry, its type read without following links.
struct FolderEntry {
    path: PathBuf,
    name: OsString,
    is_dir: bool,
}

fn read_folder(path: &Path) -> Result<Vec<FolderEntry>, InputError> {
    let io_error = |error| InputError::Io {
        source_name: path.display().to_string(),
        error,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        let file_type = entry.file_type().map_err(|error| InputError::Io {
            source_name: entry.path().display().to_string(),
            error,
        })?;
        if file_type.is_symlink() {
            return Err(InputError::Malformed {
                source_name: entry.path().display().to_string(),
                message: "symbolic link in a dump folder: links are not followed, copy the file or folder in instead".into(),
            });
        }
        entries.push(FolderEntry {
            path: entry.path(),
            name: entry.file_name(),
            is_dir: file_type.is_dir(),
        });
    }
    Ok(entries)
}

/// The collection a folder entry holds, if it is a `.bson` or `.bson.gz` file.
fn collection_file(entry: &FolderEntry) -> Result<Option<DumpFile>, InputError> {
    if entry.is_dir {
        return Ok(None);
    }
    let bad_name = |message: String| InputError::Malformed {
        source_name: entry.path.display().to_string(),
        message,
    };
    let lossy = entry.name.to_string_lossy();
    let (stem, gzip) = if let Some(stem) = lossy.strip_suffix(".bson.gz") {
        (stem, true)
    } else if let Some(stem) = lossy.strip_suffix(".bson") {
        (stem, false)
    } else {
        return Ok(None);
    };
    if entry.name.to_str().is_none() {
        return Err(bad_name("collection file name is not valid UTF-8".into()));
    }
    if stem.is_empty() {
        return Err(bad_name(
            "collection file name has no collection name".into(),
        ));
    }
    let collection = unescape_collection(stem).ok_or_else(|| {
        bad_name(format!(
            "collection file name `{stem}` has a broken `%XX` escape"
        ))
    })?;
    Ok(Some(DumpFile {
        path: entry.path.clone(),
        collection,
        gzip,
    }))
}

/// Undoes mongodump's escaping of collection names in file names (Go's `url.PathEscape`).
fn unescape_collection(stem: &str) -> Option<String> {
    let bytes = stem.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = bytes.get(index + 1..index + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// CRC-64 as Go's `hash/crc64` computes it with the `crc64.ECMA` table (CRC-64/XZ).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Crc64(u64);

impl Crc64 {
    /// The ECMA-182 polynomial, bit-reversed.
    const POLYNOMIAL: u64 = 0xc96c_5795_d787_0f42;

    const TABLE: [u64; 256] = {
        let mut table = [0; 256];
        let mut index = 0;
        while index < 256 {
            let mut crc = index as u64;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ Self::POLYNOMIAL
                } else {
                    crc >> 1
                };
                bit += 1;
            }
            table[index] = crc;
            index += 1;
        }
        table
    };

    fn update(&mut self, bytes: &[u8]) {
        let mut crc = !self.0;
        for &byte in bytes {
            crc = Self::TABLE[usize::from((crc as u8) ^ byte)] ^ (crc >> 8);
        }
        self.0 = !crc;
    }
}

/// A namespace met in an archive's body.
#[derive(Debug)]
struct Namespace {
    /// `<db>.<collection>`, for messages.
    name: String,
    /// `<archive>#<db>.<collection>`.
    source: Arc<str>,
    collection: Arc<str>,
    crc: Crc64,
    ended: bool,
}

/// A namespace header of an archive's body.
struct NamespaceHeader {
    db: String,
    collection: String,
    eof: bool,
    crc: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArchiveState {
    /// Before the magic number.
    Start,
    /// Before a namespace header or the end of the archive.
    BlockStart,
    /// Inside a segment of `namespaces[.0]`.
    Segment(usize),
    /// Done, or stopped by an error.
    Finished,
}

/// The documents of a `mongodump --archive` file (already decompressed), cut into
/// [`Batch`]es of about [`BATCH_BYTES`] that never mix namespaces.
///
/// A batch's `collection` is its namespace's collection, its `source` is
/// `<source>#<db>.<collection>`, each frame's position is the document's byte offset in the
/// archive. A bad magic number, a truncated prelude or segment, a length out of range, a
/// namespace CRC mismatch or any other break of the format (see the module documentation) is
/// an [`InputError::Malformed`] naming the offset, returned after the batch of the documents
/// before it.
pub struct ArchiveSource {
    reader: DocumentReader,
    state: ArchiveState,
    namespaces: Vec<Namespace>,
    by_name: HashMap<(String, String), usize>,
    /// Namespaces the prelude lists that must end in the body: `(db, collection)`.
    listed: Vec<(String, String)>,
    pending_error: Option<InputError>,
}

impl ArchiveSource {
    /// Reads the archive from `reader`; `source` names it in batches and messages.
    pub fn new(reader: Box<dyn Read + Send>, source: Arc<str>) -> Self {
        Self {
            reader: DocumentReader::new(reader, source),
            state: ArchiveState::Start,
            namespaces: Vec::new(),
            by_name: HashMap::new(),
            listed: Vec::new(),
            pending_error: None,
        }
    }

    fn malformed(&self, offset: u64, message: String) -> InputError {
        self.reader.malformed(offset, message)
    }

    /// Reads the magic number, the header and the collection metadata up to the terminator.
    fn read_prelude(&mut self) -> Result<(), InputError> {
        let mut magic = [0; 4];
        let read = self.reader.fill(&mut magic)?;
        if read < 4 {
            return Err(self.malformed(
                0,
                format!("not a mongodump archive: {read} bytes, too short for its magic number"),
            ));
        }
        self.reader.offset = 4;
        let magic = u32::from_le_bytes(magic);
        if magic != ARCHIVE_MAGIC {
            return Err(self.malformed(
                0,
                format!(
                    "not a mongodump archive: magic number {magic:#010x} instead of {ARCHIVE_MAGIC:#010x}"
                ),
            ));
        }
        let mut buf = Vec::new();
        let start = self.reader.offset;
        match self.reader.read_prefix("archive header")? {
            None => {
                return Err(self.malformed(
                    start,
                    "truncated archive: it ends after its magic number, before its header".into(),
                ))
            }
            Some(prefix) if u32::from_le_bytes(prefix) == ARCHIVE_TERMINATOR => {
                return Err(self.malformed(
                    start,
                    "archive header missing: a terminator follows the magic number".into(),
                ))
            }
            Some(prefix) => {
                let range = self
                    .reader
                    .read_document(start, prefix, &mut buf, "archive header")?;
                parse_document(&buf[range])
                    .map_err(|error| self.malformed(start, format!("archive header: {error}")))?;
            }
        }
        loop {
            buf.clear();
            let start = self.reader.offset;
            let Some(prefix) = self.reader.read_prefix("collection metadata")? else {
                return Err(self.malformed(
                    start,
                    "truncated archive: it ends inside its prelude, before the terminator".into(),
                ));
            };
            if u32::from_le_bytes(prefix) == ARCHIVE_TERMINATOR {
                return Ok(());
            }
            let range =
                self.reader
                    .read_document(start, prefix, &mut buf, "collection metadata")?;
            let metadata = parse_document(&buf[range]).and_then(|document| {
                let db = string_field(&document, "db")?;
                let collection = string_field(&document, "collection")?;
                let kind = match document.get("type") {
                    Some(::bson::Bson::String(kind)) => kind.clone(),
                    _ => String::new(),
                };
                Ok((db, collection, kind))
            });
            let (db, collection, kind) = metadata
                .map_err(|error| self.malformed(start, format!("collection metadata: {error}")))?;
            if kind != "timeseries" {
                self.listed.push((db, collection));
            }
        }
    }

    /// Reads a namespace header and what must follow an end-of-namespace one. Returns
    /// `false` at the end of the archive.
    fn read_block_header(&mut self) -> Result<bool, InputError> {
        let start = self.reader.offset;
        let Some(prefix) = self.reader.read_prefix("namespace header")? else {
            self.check_complete(start)?;
            return Ok(false);
        };
        if u32::from_le_bytes(prefix) == ARCHIVE_TERMINATOR {
            return Err(self.malformed(
                start,
                "a terminator where a namespace header was expected".into(),
            ));
        }
        let mut buf = Vec::new();
        let range = self
            .reader
            .read_document(start, prefix, &mut buf, "namespace header")?;
        let header = parse_namespace_header(&buf[range])
            .map_err(|error| self.malformed(start, format!("namespace header: {error}")))?;
        let key = (header.db, header.collection);
        let index = match self.by_name.get(&key) {
            Some(&index) => index,
            None => {
                let name = format!("{}.{}", key.0, key.1);
                self.namespaces.push(Namespace {
                    source: format!("{}#{name}", self.reader.source).into(),
                    collection: key.1.as_str().into(),
                    name,
                    crc: Crc64::default(),
                    ended: false,
                });
                let index = self.namespaces.len() - 1;
                self.by_name.insert(key, index);
                index
            }
        };
        let namespace = &self.namespaces[index];
        if namespace.ended {
            return Err(self.malformed(
                start,
                format!(
                    "namespace header for `{}` after its end-of-namespace header",
                    namespace.name
                ),
            ));
        }
        if !header.eof {
            self.state = ArchiveState::Segment(index);
            return Ok(true);
        }
        let computed = namespace.crc.0 as i64;
        if computed != header.crc {
            return Err(self.malformed(
                start,
                format!(
                    "CRC mismatch for namespace `{}`: its documents give {computed}, the end-of-namespace header says {}",
                    namespace.name, header.crc
                ),
            ));
        }
        let name = namespace.name.clone();
        self.namespaces[index].ended = true;
        let after = self.reader.offset;
        match self.reader.read_prefix("terminator")? {
            Some(prefix) if u32::from_le_bytes(prefix) == ARCHIVE_TERMINATOR => Ok(true),
            Some(_) => Err(self.malformed(
                after,
                format!("document after the end-of-namespace header of `{name}`"),
            )),
            None => Err(self.malformed(
                after,
                format!("truncated archive: it ends after the end-of-namespace header of `{name}`, before its terminator"),
            )),
        }
    }

    /// At the end of the archive: every namespace met and every one the prelude lists ended.
    fn check_complete(&self, end: u64) -> Result<(), InputError> {
        if let Some(open) = self.namespaces.iter().find(|namespace| !namespace.ended) {
            return Err(self.malformed(
                end,
                format!(
                    "truncated archive: it ends while namespace `{}` has no end-of-namespace header",
                    open.name
                ),
            ));
        }
        if let Some((db, collection)) = self
            .listed
            .iter()
            .find(|key| !self.by_name.contains_key(*key))
        {
            return Err(self.malformed(
                end,
                format!("truncated archive: it ends before namespace `{db}.{collection}` listed in its prelude"),
            ));
        }
        Ok(())
    }

    /// Reads until a batch is ready (its namespace returned) or the archive ends (`None`).
    fn fill_batch(
        &mut self,
        data: &mut Vec<u8>,
        frames: &mut Vec<Frame>,
    ) -> Result<Option<usize>, InputError> {
        loop {
            match self.state {
                ArchiveState::Start => {
                    self.read_prelude()?;
                    self.state = ArchiveState::BlockStart;
                }
                ArchiveState::BlockStart => {
                    if !self.read_block_header()? {
                        self.state = ArchiveState::Finished;
                        return Ok(None);
                    }
                }
                ArchiveState::Segment(index) => {
                    let start = self.reader.offset;
                    let Some(prefix) = self.reader.read_prefix("document")? else {
                        return Err(self.malformed(
                            start,
                            format!(
                                "truncated archive: it ends inside a segment of `{}`",
                                self.namespaces[index].name
                            ),
                        ));
                    };
                    if u32::from_le_bytes(prefix) == ARCHIVE_TERMINATOR {
                        self.state = ArchiveState::BlockStart;
                        if !frames.is_empty() {
                            return Ok(Some(index));
                        }
                        continue;
                    }
                    let range = self.reader.read_document(start, prefix, data, "document")?;
                    self.namespaces[index].crc.update(&data[range.clone()]);
                    frames.push(Frame {
                        range,
                        position: start,
                    });
                    if data.len() >= BATCH_BYTES {
                        return Ok(Some(index));
                    }
                }
                ArchiveState::Finished => return Ok(None),
            }
        }
    }

    fn batch(&self, index: usize, data: Vec<u8>, frames: Vec<Frame>) -> Batch {
        let namespace = &self.namespaces[index];
        Batch {
            source: Arc::clone(&namespace.source),
            collection: Arc::clone(&namespace.collection),
            encoding: Encoding::Bson,
            position_kind: PositionKind::Offset,
            data,
            frames,
        }
    }
}

impl fmt::Debug for ArchiveSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArchiveSource")
            .field("source", &self.reader.source)
            .field("offset", &self.reader.offset)
            .field("state", &self.state)
            .field("namespaces", &self.namespaces)
            .finish_non_exhaustive()
    }
}

impl BatchSource for ArchiveSource {
    fn next_batch(&mut self) -> Result<Option<Batch>, InputError> {
        if let Some(error) = self.pending_error.take() {
            return Err(error);
        }
        let mut data = Vec::new();
        let mut frames = Vec::new();
        match self.fill_batch(&mut data, &mut frames) {
            Ok(Some(index)) => Ok(Some(self.batch(index, data, frames))),
            Ok(None) => Ok(None),
            Err(error) => {
                let state = std::mem::replace(&mut self.state, ArchiveState::Finished);
                match state {
                    ArchiveState::Segment(index) if !frames.is_empty() => {
                        self.pending_error = Some(error);
                        Ok(Some(self.batch(index, data, frames)))
                    }
                    _ => Err(error),
                }
            }
        }
    }
}

fn parse_document(bytes: &[u8]) -> Result<::bson::Document, String> {
    ::bson::Document::from_reader(bytes).map_err(|error| format!("invalid bson: {error}"))
}

fn string_field(document: &::bson::Document, key: &str) -> Result<String, String> {
    match document.get(key) {
        Some(::bson::Bson::String(value)) => Ok(value.clone()),
        Some(other) => Err(format!(
            "`{key}` is a {:?}, not a string",
            other.element_type()
        )),
        None => Err(format!("no `{key}` field")),
    }
}

fn parse_namespace_header(bytes: &[u8]) -> Result<NamespaceHeader, String> {
    let document = parse_document(bytes)?;
    let db = string_field(&document, "db")?;
    let collection = string_field(&document, "collection")?;
    if collection.is_empty() {
        return Err("empty `collection`".into());
    }
    // mongo-tools always writes both; Go's decoder leaves absent fields at their zero value.
    let eof = match document.get("EOF") {
        None => false,
        Some(::bson::Bson::Boolean(eof)) => *eof,
        Some(other) => {
            return Err(format!(
                "`EOF` is a {:?}, not a boolean",
                other.element_type()
            ))
        }
    };
    let crc = match document.get("CRC") {
        None => 0,
        Some(::bson::Bson::Int64(crc)) => *crc,
        Some(::bson::Bson::Int32(crc)) => i64::from(*crc),
        Some(other) => {
            return Err(format!(
                "`CRC` is a {:?}, not an integer",
                other.element_type()
            ))
        }
    };
    Ok(NamespaceHeader {
        db,
        collection,
        eof,
        crc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_matches_the_crc64_xz_check_value() {
        let mut crc = Crc64::default();
        crc.update(b"123456789");
        assert_eq!(crc.0, 0x995d_c9bb_df19_39fa);
    }

    #[test]
    fn crc64_is_incremental_like_go_hash_crc64() {
        let mut whole = Crc64::default();
        whole.update(b"hello, archive");
        let mut parts = Crc64::default();
        parts.update(b"hello, ");
        parts.update(b"");
        parts.update(b"archive");
        assert_eq!(whole, parts);
        assert_eq!(Crc64::default().0, 0, "an empty namespace has CRC 0");
    }

    #[test]
    fn unescapes_mongodump_collection_file_names() {
        assert_eq!(
            unescape_collection("advisory_raw").as_deref(),
            Some("advisory_raw")
        );
        assert_eq!(unescape_collection("a%2Fb%25c").as_deref(), Some("a/b%c"));
        assert_eq!(unescape_collection("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(unescape_collection("bad%2"), None);
        assert_eq!(unescape_collection("bad%zz"), None);
        assert_eq!(unescape_collection("bad%FF"), None, "not UTF-8");
    }
}
