//! NDJSON and JSON-array exports (`mongoexport`, `mongoexport --jsonArray`, plain JSON), cut
//! into frames without decoding them: NDJSON at newlines (memchr), a JSON array by a small
//! scanner that follows strings and nesting to find each element's end.

use super::MAX_DOCUMENT_BYTES;
use super::{Batch, BatchSource, Encoding, Frame, InputError, PositionKind, BATCH_BYTES};
use std::io::Read;
use std::sync::Arc;

/// How much is read from the input at a time.
const READ_BYTES: usize = 1 << 20;

/// Opens a JSON export: a JSON array when its first non-blank byte is `[`, else NDJSON.
pub fn open(
    mut reader: Box<dyn Read + Send>,
    source: Arc<str>,
    collection: Arc<str>,
) -> Result<Box<dyn BatchSource>, InputError> {
    let mut buffer: Vec<u8> = Vec::with_capacity(READ_BYTES);
    let mut eof = false;
    let first = loop {
        if let Some(&b) = buffer.iter().find(|b| !b.is_ascii_whitespace()) {
            break Some(b);
        }
        if eof {
            break None;
        }
        eof = fill(&mut reader, &mut buffer, &source)?;
    };
    let input = Input {
        reader,
        buffer,
        eof,
        source,
        collection,
    };
    Ok(match first {
        Some(b'[') => Box::new(ArraySource::new(input)),
        _ => Box::new(NdjsonSource { input, line: 1 }),
    })
}

/// Reads up to [`READ_BYTES`] more; true at the end of the input. (`read_to_end` appends
/// into spare capacity without zeroing it first.)
fn fill(reader: &mut dyn Read, buffer: &mut Vec<u8>, source: &str) -> Result<bool, InputError> {
    buffer.reserve(READ_BYTES);
    match reader.take(READ_BYTES as u64).read_to_end(buffer) {
        Ok(n) => Ok(n == 0),
        Err(error) => Err(InputError::Io {
            source_name: source.to_owned(),
            error,
        }),
    }
}

struct Input {
    reader: Box<dyn Read + Send>,
    /// Bytes read and not yet handed out.
    buffer: Vec<u8>,
    eof: bool,
    source: Arc<str>,
    collection: Arc<str>,
}

impl Input {
    fn batch(&self, data: Vec<u8>, frames: Vec<Frame>, kind: PositionKind) -> Batch {
        Batch {
            source: Arc::clone(&self.source),
            collection: Arc::clone(&self.collection),
            encoding: Encoding::Json,
            position_kind: kind,
            data,
            frames,
        }
    }
}

/// One document a line; blank lines are skipped.
struct NdjsonSource {
    input: Input,
    /// Line number of `input.buffer[0]`.
    line: u64,
}

impl BatchSource for NdjsonSource {
    fn next_batch(&mut self) -> Result<Option<Batch>, InputError> {
        loop {
            let complete = memchr::memrchr(b'\n', &self.input.buffer).map_or(0, |i| i + 1);
            let enough = complete >= BATCH_BYTES;
            if !enough && !self.input.eof {
                let partial = self.input.buffer.len() - complete;
                if partial > MAX_DOCUMENT_BYTES {
                    return Err(InputError::Malformed {
                        source_name: format!("{}:{}", self.input.source, self.line_at(complete)),
                        message: format!(
                            "a line longer than {} MiB: not NDJSON, or not a document",
                            MAX_DOCUMENT_BYTES >> 20
                        ),
                    });
                }
                self.input.eof = fill(
                    &mut self.input.reader,
                    &mut self.input.buffer,
                    &self.input.source,
                )?;
                continue;
            }
            // At the end of the input a last line without a newline is still a line.
            let cut = if self.input.eof {
                self.input.buffer.len()
            } else {
                complete
            };
            if cut == 0 {
                return Ok(None);
            }
            let rest = self.input.buffer.split_off(cut);
            let data = std::mem::replace(&mut self.input.buffer, rest);
            let mut frames = Vec::with_capacity(data.len() / 2048 + 1);
            let mut start = 0;
            let mut line = self.line;
            let ends = memchr::memchr_iter(b'\n', &data).chain((cut > complete).then_some(cut));
            for end in ends {
                let text = &data[start..end];
                if text.iter().any(|b| !b.is_ascii_whitespace()) {
                    frames.push(Frame {
                        range: start..end,
                        position: line,
                    });
                }
                line += 1;
                start = end + 1;
            }
            self.line = line;
            if frames.is_empty() && !self.input.eof {
                continue;
            }
            return Ok(Some(self.input.batch(data, frames, PositionKind::Line)));
        }
    }
}

impl NdjsonSource {
    fn line_at(&self, end: usize) -> u64 {
        self.line + memchr::memchr_iter(b'\n', &self.input.buffer[..end]).count() as u64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    Start,
    /// After `[` (`first`) or `,`.
    ExpectValue { first: bool },
    /// Inside an object or array element.
    Container,
    /// Inside a string element.
    Text,
    /// Inside a number, `true`, `false` or `null` element.
    Scalar,
    /// After an element.
    AfterValue,
    /// After the closing `]`.
    End,
}

/// A JSON array of documents, one frame an element.
struct ArraySource {
    input: Input,
    /// Offset of `input.buffer[0]` in the input.
    offset: u64,
    state: State,
    /// Where scanning goes on in `input.buffer`.
    scan: usize,
    /// Start of the element being scanned.
    element: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
    finished: bool,
}

impl ArraySource {
    fn new(input: Input) -> Self {
        Self {
            input,
            offset: 0,
            state: State::Start,
            scan: 0,
            element: 0,
            depth: 0,
            in_string: false,
            escaped: false,
            finished: false,
        }
    }

    fn malformed(&self, at: usize, message: String) -> InputError {
        InputError::Malformed {
            source_name: format!("{}: offset {}", self.input.source, self.offset + at as u64),
            message,
        }
    }

    /// Scans what is buffered; complete elements are appended to `frames`.
    fn scan(&mut self, frames: &mut Vec<Frame>) -> Result<(), InputError> {
        let buffer = std::mem::take(&mut self.input.buffer);
        let result = self.scan_bytes(&buffer, frames);
        self.input.buffer = buffer;
        result
    }

    fn scan_bytes(&mut self, buffer: &[u8], frames: &mut Vec<Frame>) -> Result<(), InputError> {
        let mut i = self.scan;
        while i < buffer.len() {
            let b = buffer[i];
            match self.state {
                State::Start => match b {
                    b'[' => self.state = State::ExpectValue { first: true },
                    b if b.is_ascii_whitespace() => {}
                    _ => return Err(self.malformed(i, "expected `[`".into())),
                },
                State::ExpectValue { first } => match b {
                    b if b.is_ascii_whitespace() => {}
                    b']' if first => self.state = State::End,
                    b']' => return Err(self.malformed(i, "a `,` before the closing `]`".into())),
                    b',' => return Err(self.malformed(i, "an empty array element".into())),
                    _ => {
                        self.element = i;
                        self.state = match b {
                            b'{' | b'[' => {
                                self.depth = 1;
                                self.in_string = false;
                                State::Container
                            }
                            b'"' => {
                                self.escaped = false;
                                State::Text
                            }
                            _ => State::Scalar,
                        };
                    }
                },
                State::Container => {
                    if self.in_string {
                        if self.escaped {
                            self.escaped = false;
                        } else if b == b'\\' {
                            self.escaped = true;
                        } else if b == b'"' {
                            self.in_string = false;
                        }
                    } else {
                        match b {
                            b'"' => {
                                self.in_string = true;
                                self.escaped = false;
                            }
                            b'{' | b'[' => self.depth += 1,
                            b'}' | b']' => {
                                self.depth -= 1;
                                if self.depth == 0 {
                                    self.push(frames, i + 1);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                State::Text => {
                    if self.escaped {
                        self.escaped = false;
                    } else if b == b'\\' {
                        self.escaped = true;
                    } else if b == b'"' {
                        self.push(frames, i + 1);
                    }
                }
                State::Scalar => {
                    if b.is_ascii_whitespace() || b == b',' || b == b']' {
                        self.push(frames, i);
                        continue;
                    }
                }
                State::AfterValue => match b {
                    b if b.is_ascii_whitespace() => {}
                    b',' => self.state = State::ExpectValue { first: false },
                    b']' => self.state = State::End,
                    _ => {
                        return Err(self.malformed(i, "expected `,` or `]` after an element".into()))
                    }
                },
                State::End => {
                    if !b.is_ascii_whitespace() {
                        return Err(self.malformed(i, "data after the array's closing `]`".into()));
                    }
                }
            }
            i += 1;
        }
        self.scan = i;
        if matches!(self.state, State::Container | State::Text | State::Scalar)
            && i - self.element > MAX_DOCUMENT_BYTES
        {
            return Err(self.malformed(
                self.element,
                format!("an element larger than {} MiB", MAX_DOCUMENT_BYTES >> 20),
            ));
        }
        Ok(())
    }

    fn push(&mut self, frames: &mut Vec<Frame>, end: usize) {
        frames.push(Frame {
            range: self.element..end,
            position: self.offset + self.element as u64,
        });
        self.state = State::AfterValue;
    }
}

impl BatchSource for ArraySource {
    fn next_batch(&mut self) -> Result<Option<Batch>, InputError> {
        if self.finished {
            return Ok(None);
        }
        let mut frames = Vec::new();
        loop {
            self.scan(&mut frames)?;
            let cut = frames.last().map_or(0, |f| f.range.end);
            if cut >= BATCH_BYTES || self.input.eof {
                if self.input.eof {
                    match self.state {
                        State::End => self.finished = true,
                        State::Start => {
                            // Nothing but whitespace: no documents.
                            self.finished = true;
                        }
                        _ => {
                            return Err(self.malformed(
                                self.input.buffer.len(),
                                "the JSON array ends before its closing `]` (truncated?)".into(),
                            ))
                        }
                    }
                }
                if frames.is_empty() {
                    return Ok(None);
                }
                let rest = self.input.buffer.split_off(cut);
                let data = std::mem::replace(&mut self.input.buffer, rest);
                self.scan -= cut;
                self.element = self.element.saturating_sub(cut);
                self.offset += cut as u64;
                return Ok(Some(self.input.batch(data, frames, PositionKind::Offset)));
            }
            self.input.eof = fill(
                &mut self.input.reader,
                &mut self.input.buffer,
                &self.input.source,
            )?;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn frames(text: &str) -> Result<Vec<(String, u64)>, InputError> {
        let mut source = open(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            Arc::from("t.json"),
            Arc::from("advisory_raw"),
        )?;
        let mut out = Vec::new();
        while let Some(batch) = source.next_batch()? {
            for frame in &batch.frames {
                out.push((
                    String::from_utf8(batch.data[frame.range.clone()].to_vec()).unwrap(),
                    frame.position,
                ));
            }
        }
        Ok(out)
    }

    #[test]
    fn ndjson_lines_with_numbers_blank_lines_and_no_final_newline() {
        let got = frames("{\"a\":1}\n\n  \n{\"b\":2}\r\n{\"c\":3}").unwrap();
        assert_eq!(
            got,
            [
                ("{\"a\":1}".into(), 1),
                ("{\"b\":2}\r".into(), 4),
                ("{\"c\":3}".into(), 5)
            ]
        );
        assert!(frames("").unwrap().is_empty());
        assert!(frames("\n\n").unwrap().is_empty());
    }

    #[test]
    fn json_array_elements_with_strings_that_look_like_structure() {
        let text = " [ {\"a\": \"]},\\\"[\"}, [1, {\"b\": []}] ,\"s\\\"x\", 12 ,true]\n";
        let got = frames(text).unwrap();
        let want: Vec<(String, u64)> = vec![
            ("{\"a\": \"]},\\\"[\"}".into(), 3),
            ("[1, {\"b\": []}]".into(), 20),
            ("\"s\\\"x\"".into(), 36),
            ("12".into(), 44),
            ("true".into(), 48),
        ];
        assert_eq!(got, want);
        assert!(frames("[]").unwrap().is_empty());
        assert!(frames("  ").unwrap().is_empty());
    }

    #[test]
    fn broken_arrays_name_the_offset() {
        for (text, want) in [
            (
                "[{\"a\":1}",
                "offset 8: the JSON array ends before its closing `]`",
            ),
            ("[{\"a\":1},]", "offset 9: a `,` before the closing `]`"),
            ("[{\"a\":1} {\"b\":2}]", "offset 9: expected `,` or `]`"),
            (
                "[{\"a\":1}] x",
                "offset 10: data after the array's closing `]`",
            ),
            ("[,{}]", "offset 1: an empty array element"),
            (
                "[{\"a\": \"unterminated}]",
                "the JSON array ends before its closing `]`",
            ),
        ] {
            let err = frames(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.starts_with("t.json: offset"), "{err}");
        }
    }

    #[test]
    fn batches_split_on_document_boundaries() {
        let line = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(1000));
        let count = BATCH_BYTES / line.len() * 3;
        let mut batches = 0;
        let mut seen = 0;
        let mut source = open(
            Box::new(std::io::Cursor::new(line.repeat(count).into_bytes())),
            Arc::from("t"),
            Arc::from("c"),
        )
        .unwrap();
        while let Some(batch) = source.next_batch().unwrap() {
            batches += 1;
            for frame in &batch.frames {
                seen += 1;
                assert_eq!(frame.position, seen);
                assert_eq!(&batch.data[frame.range.clone()], line.trim_end().as_bytes());
            }
        }
        assert_eq!(seen as usize, count);
        assert!(batches >= 3, "{batches}");

        let array = format!("[{}]", vec![line.trim_end(); count].join(","));
        let mut source = open(
            Box::new(std::io::Cursor::new(array.into_bytes())),
            Arc::from("t"),
            Arc::from("c"),
        )
        .unwrap();
        let (mut batches, mut seen) = (0, 0);
        while let Some(batch) = source.next_batch().unwrap() {
            batches += 1;
            for frame in &batch.frames {
                seen += 1;
                assert_eq!(&batch.data[frame.range.clone()], line.trim_end().as_bytes());
            }
        }
        assert_eq!(seen, count);
        assert!(batches >= 3, "{batches}");
    }
}
