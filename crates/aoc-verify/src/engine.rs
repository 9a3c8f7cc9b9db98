//! The pipeline: one thread reads (and inflates) the inputs into batches; every core decodes
//! and checks a batch's documents; the results are folded in input order, so the report is
//! the same whatever the number of threads.

use crate::check::{self, Checked, Code};
use crate::doc::Node;
use crate::input::open::{open, Pending};
use crate::input::{bson as bson_input, Batch, Encoding, Frame, InputError, PositionKind};
use crate::rules::RuleSet;
use crossbeam_channel::bounded;
use rayon::prelude::*;

/// The result of decoding and checking one frame.
pub type FrameResult = Result<Checked, String>;

/// Decodes one frame into a document, which must be an object.
pub fn decode<'b>(batch: &'b Batch, frame: &Frame) -> Result<Node<'b>, String> {
    let bytes = batch.data.get(frame.range.clone()).unwrap_or_default();
    let value = match batch.encoding {
        Encoding::Json => Node::parse(bytes)?,
        Encoding::Bson => Node::from(&bson_input::decode_document(bytes)?),
    };
    if value.is_object() {
        Ok(value)
    } else {
        Err(format!(
            "not a document: {} where a JSON object was expected",
            crate::extjson::type_name(&value)
        ))
    }
}

/// Where a frame is, for messages: `file:line`, `file: offset N`, `postgres:t: row N`.
pub fn location(batch: &Batch, frame: &Frame) -> String {
    match batch.position_kind {
        PositionKind::Line => format!("{}:{}", batch.source, frame.position),
        PositionKind::Offset => format!("{}: offset {}", batch.source, frame.position),
        PositionKind::Row => format!("{}: row {}", batch.source, frame.position),
    }
}

/// Receives each batch with its checked documents, in input order. Returning an error stops
/// the run.
pub trait Fold {
    /// Whether the documents of `collection` are wanted (all are, unless told otherwise).
    fn wants(&self, _collection: &str) -> bool {
        true
    }
    /// A batch of a collection the rules do not know (a dump folder's other collections),
    /// or one not wanted.
    fn skipped(&mut self, batch: &Batch);
    /// A checked batch: `results[i]` belongs to `batch.frames[i]`.
    fn batch(&mut self, batch: &Batch, results: Vec<FrameResult>) -> Result<(), RunError>;
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An input could not be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A document could not be read (without `--keep-going`).
    #[error("{location}: {message}")]
    Document {
        /// Where.
        location: String,
        /// What.
        message: String,
    },
    /// Writing an output or the temporary store failed.
    #[error("{what}: {error}")]
    Io {
        /// What was being written.
        what: String,
        /// The system's words.
        #[source]
        error: std::io::Error,
    },
}

/// Reads every input in order and hands each checked batch to `fold`.
/// Documents are checked on `pool` (rayon's global pool, one thread per core, when `None`).
pub fn run(
    rules: &RuleSet,
    inputs: &[Pending],
    pool: Option<&rayon::ThreadPool>,
    fold: &mut dyn Fold,
) -> Result<(), RunError> {
    // Two batches in flight besides the one being checked: enough to hide reading and
    // inflating, and a bounded amount of memory (about 3 × BATCH_BYTES of raw bytes).
    let (sender, receiver) = bounded::<Result<Batch, InputError>>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for pending in inputs {
                let mut source = match open(pending) {
                    Ok(source) => source,
                    Err(e) => {
                        let _ = sender.send(Err(e));
                        return;
                    }
                };
                loop {
                    match source.next_batch() {
                        Ok(Some(batch)) => {
                            if sender.send(Ok(batch)).is_err() {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            let _ = sender.send(Err(e));
                            return;
                        }
                    }
                }
            }
        });
        // Owned here, so that it is dropped (ending the reader at its next send) before the
        // scope waits for the reader, also when a fold error ends the run early.
        let receiver = receiver;
        let result = (|| {
            for message in &receiver {
                let batch = message?;
                let known = rules.collection(&batch.collection);
                let Some(collection) = known.filter(|_| fold.wants(&batch.collection)) else {
                    fold.skipped(&batch);
                    continue;
                };
                let check_all = || -> Vec<FrameResult> {
                    batch
                        .frames
                        .par_iter()
                        .with_min_len(8)
                        .map(|frame| {
                            decode(&batch, frame)
                                .map(|doc| check::check_document(rules, collection, &doc))
                        })
                        .collect()
                };
                let results = match pool {
                    Some(pool) => pool.install(check_all),
                    None => check_all(),
                };
                fold.batch(&batch, results)?;
            }
            Ok(())
        })();
        drop(receiver);
        result
    })
}

/// Codes selected by `--codes` (all when none were given).
#[derive(Debug, Clone, Default)]
pub struct CodeFilter(Option<Vec<Code>>);

impl CodeFilter {
    /// Every code.
    pub fn all() -> Self {
        Self(None)
    }

    /// Only these.
    pub fn only(codes: Vec<Code>) -> Self {
        Self(Some(codes))
    }

    /// Whether `code` is selected.
    pub fn selects(&self, code: Code) -> bool {
        self.0.as_ref().is_none_or(|codes| codes.contains(&code))
    }
}
