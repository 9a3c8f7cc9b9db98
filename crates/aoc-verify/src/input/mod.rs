//! Inputs: every kind of export is cut into [`Batch`]es of undecoded documents ("frames") by
//! one reader thread, so that decoding and checking can run on every core while the next
//! batch is read (and, for `.gz` inputs, inflated).
//!
//! A frame is the bytes of one document: a JSON text (NDJSON line, JSON-array element,
//! PostgreSQL `jsonb::text`) or a BSON document (`.bson` file, dump folder, `mongodump
//! --archive`). Decoding a frame is the workers' job, so that a malformed document is a
//! per-document finding (`--keep-going`) rather than the end of the input. Only damage that
//! makes the rest of an input unreadable (a truncated BSON length, a bad archive magic, a JSON
//! array that never closes) is an [`InputError`].

pub mod bson;
pub mod json;
pub mod open;
pub mod postgres;

use std::ops::Range;
use std::sync::Arc;
use thiserror::Error;

/// How the bytes of a frame are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// A JSON text: MongoDB Extended JSON v2 (relaxed or canonical), or plain JSON.
    Json,
    /// One BSON document, length prefix included.
    Bson,
}

/// What a frame's `position` counts, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionKind {
    /// 1-based line number (NDJSON).
    Line,
    /// 0-based byte offset in the (decompressed) input (JSON array element, BSON document).
    Offset,
    /// 1-based row number in the query result (PostgreSQL).
    Row,
}

/// One document's bytes inside [`Batch::data`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Where the document's bytes are in [`Batch::data`].
    pub range: Range<usize>,
    /// Its line, offset or row (see [`Batch::position_kind`]).
    pub position: u64,
}

/// Documents of one collection from one input, in input order.
#[derive(Debug)]
pub struct Batch {
    /// The input as people name it: a path, `<stdin>`, `archive.gz#db.collection`,
    /// `postgres:advisory_raw`.
    pub source: Arc<str>,
    /// The collection the documents belong to (`advisory_raw`, `vex_raw`, …).
    pub collection: Arc<str>,
    /// How every frame of this batch is encoded.
    pub encoding: Encoding,
    /// What [`Frame::position`] counts.
    pub position_kind: PositionKind,
    /// The frames' bytes.
    pub data: Vec<u8>,
    /// The documents, in input order.
    pub frames: Vec<Frame>,
}

/// A reader of one input, handing out batches in input order until it is exhausted.
pub trait BatchSource: Send {
    /// The next batch, `Ok(None)` at the end of the input.
    fn next_batch(&mut self) -> Result<Option<Batch>, InputError>;
}

/// Aim for batches of about this many bytes: big enough to keep every core busy, small
/// enough that a few of them in flight stay far below the memory bar.
pub const BATCH_BYTES: usize = 4 << 20;

/// Largest single document accepted (MongoDB's own limit is 16 MiB; PostgreSQL's `jsonb` is
/// bounded at 255 MiB, far beyond any advisory).
pub const MAX_DOCUMENT_BYTES: usize = 64 << 20;

/// An input that cannot be read any further. Names the input and, where it helps, the
/// offset or line.
#[derive(Debug, Error)]
pub enum InputError {
    /// The input could not be opened or read.
    #[error("{source_name}: {error}")]
    Io {
        /// The input.
        source_name: String,
        /// What the system said.
        #[source]
        error: std::io::Error,
    },
    /// The input's framing is broken (truncated, bad magic, oversized document, …).
    #[error("{source_name}: {message}")]
    Malformed {
        /// The input, with line or offset where known.
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// The input is fine but the tool was not told enough to read it (no collection, …).
    #[error("{0}")]
    Usage(String),
    /// A database input could not be reached or queried, or is not shaped as asked (missing
    /// table or column, a column that is not JSON). The message never holds a password.
    #[error("{source_name}: {message}")]
    Database {
        /// The input (`postgres:<table>`).
        source_name: String,
        /// What went wrong, naming the redacted URL, table or column where it helps.
        message: String,
    },
}
