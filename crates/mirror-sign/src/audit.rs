//! Append-only, hash-chained audit trail: one RFC 8785 JSON line per signing event.
//!
//! Each line is the canonical JSON of an [`AuditEntry`] followed by `\n`. Its `prev` member is
//! `sha256:<hex>` of the previous line's bytes (without the newline); the first line's `prev`
//! is the SHA-256 of nothing ([`START_PREV`]). Changing, removing, inserting or moving any line
//! therefore breaks the `prev` of a line after it, which [`verify`] finds and names.
//!
//! The chain cannot protect its own end: the last line can be edited or the last lines removed
//! without breaking any `prev`. [`AuditSummary::head`] is the digest to record somewhere else
//! (release ticket, the next bundle's notes); [`verify_with_checkpoint`] then proves that every
//! line up to the recorded one is unchanged.
//!
//! Appends are serialized between threads and processes with an exclusive lock on the file
//! (`flock`), and each line is written with one `write` on a file opened for appending.

use offline_formats::digest::{parse_sha256_prefixed, sha256, sha256_prefixed};
use offline_formats::jcs::{canonicalize_value, to_canonical_vec};
use offline_formats::timestamp;
use offline_formats::FormatError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// `prev` of the first line: `sha256:` of the empty string.
pub const START_PREV: &str =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Longest line written or read; an audit line is a few hundred bytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Most problems [`verify`] lists; the count of the rest is kept.
pub const MAX_PROBLEMS: usize = 100;

/// Longest actor, keyid or result accepted.
const MAX_FIELD_BYTES: usize = 256;

/// Names of the actions `mirror-sign` records. Others are accepted (lowercase letters, digits
/// and `-`) so that a newer tool's log still verifies.
pub mod action {
    /// `mirror-sign sign`.
    pub const SIGN: &str = "sign";
    /// `mirror-sign approve`.
    pub const APPROVE: &str = "approve";
    /// `mirror-sign combine`.
    pub const COMBINE: &str = "combine";
    /// `mirror-sign trust rotate`.
    pub const TRUST_ROTATE: &str = "trust-rotate";
    /// `mirror-sign verify`.
    pub const VERIFY: &str = "verify";
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditEntry {
    /// When, RFC 3339 UTC with second precision.
    pub time: String,
    /// Who: `--actor`, else the login name (see [`default_actor`]). Self-declared, not proven.
    pub actor: String,
    /// What: one of [`action`], e.g. `sign`.
    pub action: String,
    /// `sha256:<hex>` of the payload acted on (the manifest's canonical bytes for `sign`).
    pub payload_digest: String,
    /// The keyid used, when a key was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
    /// Outcome, e.g. `ok`, `threshold-met`, `threshold-not-met`, `refused`.
    pub result: String,
    /// `sha256:<hex>` of the previous line's bytes, or [`START_PREV`] on the first line.
    pub prev: String,
}

/// What the caller says about an event; [`append`] adds the time (when not given) and `prev`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditEntryInput {
    /// RFC 3339 time (normalised to UTC seconds); `None` for the current time.
    pub time: Option<String>,
    /// `None` for [`default_actor`].
    pub actor: Option<String>,
    /// One of [`action`].
    pub action: String,
    /// `sha256:<hex>` of the payload acted on.
    pub payload_digest: String,
    /// The keyid used, if any.
    pub keyid: Option<String>,
    /// Outcome.
    pub result: String,
}

/// What an intact log holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditSummary {
    /// Number of lines.
    pub lines: u64,
    /// `sha256:<hex>` of the last line ([`START_PREV`] for an empty log): the `prev` of the next
    /// line, and the checkpoint to record outside the log.
    pub head: String,
    /// Time of the first line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_time: Option<String>,
    /// Time of the last line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_time: Option<String>,
    /// Line whose digest is the checkpoint given to [`verify_with_checkpoint`] (0: the start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_line: Option<u64>,
}

/// One thing wrong with a log, at a 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditProblem {
    /// 1-based line number.
    pub line: u64,
    /// What is wrong.
    #[serde(flatten)]
    pub kind: ProblemKind,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// Not an audit entry (not JSON, missing or unknown members, invalid values, empty line).
    Malformed {
        /// Why.
        reason: String,
    },
    /// Valid, but not the canonical bytes `append` writes: the line was rewritten by hand.
    NotCanonical,
    /// `prev` is not the digest of the line before (or, on line 1, not [`START_PREV`]).
    #[serde(rename_all = "camelCase")]
    PrevMismatch {
        /// What `prev` should be.
        expected: String,
        /// What it is.
        found: String,
        /// The line whose digest `prev` is, if any line's is.
        #[serde(skip_serializing_if = "Option::is_none")]
        matches_line: Option<u64>,
    },
    /// The file does not end with a newline: the last line is cut short.
    Truncated,
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.line;
        match &self.kind {
            ProblemKind::Malformed { reason } => write!(f, "line {n}: not an audit entry: {reason}"),
            ProblemKind::NotCanonical => write!(
                f,
                "line {n}: not in the canonical form mirror-sign writes: the line was edited"
            ),
            ProblemKind::Truncated => write!(
                f,
                "line {n}: no newline at the end: the last line is truncated (an interrupted write, or cut)"
            ),
            ProblemKind::PrevMismatch { matches_line, .. } => match (n, *matches_line) {
                (1, None) => write!(
                    f,
                    "line 1: `prev` is not the start-of-log value: lines were deleted from the start of the log, or line 1 was edited"
                ),
                (_, None) => write!(
                    f,
                    "line {n}: `prev` does not match line {}: line {} was edited, or lines between {} and {n} were deleted",
                    n - 1,
                    n - 1,
                    n - 1
                ),
                (_, Some(j)) if j + 2 == n => write!(
                    f,
                    "line {n}: `prev` matches line {j}, not line {}: line {} was inserted or moved here",
                    n - 1,
                    n - 1
                ),
                (_, Some(j)) if j + 2 < n => write!(
                    f,
                    "line {n}: `prev` matches line {j}, not line {}: lines {}-{} were inserted or moved here",
                    n - 1,
                    j + 1,
                    n - 1
                ),
                (_, Some(j)) => write!(
                    f,
                    "line {n}: `prev` matches line {j}, which comes after it: lines were reordered"
                ),
            },
        }
    }
}

/// Why the log could not be appended to or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Reading, writing, locking or syncing the log failed.
    #[error("audit log `{path}`: cannot {op}: {source}")]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    /// A value given for a new entry is not acceptable.
    #[error("audit entry: invalid `{field}` {value:?}: {reason}")]
    InvalidField {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    /// The entry cannot be written as canonical JSON.
    #[error("audit entry: {0}")]
    Canonical(#[source] FormatError),
    /// The log's end is damaged, so a new line cannot be chained to it.
    #[error("audit log `{path}`: {reason}; refusing to append (run `mirror-sign audit verify`)")]
    Damaged { path: PathBuf, reason: &'static str },
    /// The chain is broken: lines were edited, deleted, inserted, reordered or cut.
    #[error("audit log `{}`: {}{}", path.display(), problems.first().map(ToString::to_string).unwrap_or_default(), more_problems(problems.len() as u64 + omitted))]
    Tampered {
        path: PathBuf,
        /// Every problem found, up to [`MAX_PROBLEMS`], in line order.
        problems: Vec<AuditProblem>,
        /// Problems found beyond [`MAX_PROBLEMS`].
        omitted: u64,
    },
    /// The chain is intact but no line has the recorded checkpoint digest.
    #[error("audit log `{}`: no line has the recorded checkpoint `{checkpoint}`: lines up to it were changed or removed", path.display())]
    CheckpointNotFound { path: PathBuf, checkpoint: String },
}

fn more_problems(total: u64) -> String {
    match total {
        0 | 1 => String::new(),
        2 => " (and 1 more problem)".to_owned(),
        n => format!(" (and {} more problems)", n - 1),
    }
}

impl AuditError {
    fn io<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(io::Error) -> AuditError + 'a {
        move |source| AuditError::Io {
            path: path.to_owned(),
            op,
            source,
        }
    }
}

/// The actor recorded when none is given: `USER`, else `LOGNAME`, else `uid:<n>` of the
/// process, else `unknown`.
pub fn default_actor() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(value) = std::env::var(var) {
            if check_text(&value).is_ok() {
                return value;
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let Ok(meta) = std::fs::metadata("/proc/self") {
            return format!("uid:{}", meta.uid());
        }
    }
    "unknown".to_owned()
}

/// Appends one entry to the log at `path` (created with mode 0600 if missing) and returns it.
///
/// Holds an exclusive lock on the file while it reads the last line, chains the new one to it
/// and writes it with one `write_all` followed by `sync_data`, so concurrent processes never
/// interleave or fork the chain. Refuses to append to a log whose last line is cut short.
pub fn append(path: &Path, input: AuditEntryInput) -> Result<AuditEntry, AuditError> {
    let mut entry = AuditEntry {
        time: match &input.time {
            Some(time) => timestamp::normalize(time).map_err(|_| AuditError::InvalidField {
                field: "time",
                value: time.clone(),
                reason: "expected RFC 3339, e.g. 2026-01-31T12:00:00Z",
            })?,
            None => now_rfc3339(),
        },
        actor: input.actor.unwrap_or_else(default_actor),
        action: input.action,
        payload_digest: input.payload_digest,
        keyid: input.keyid,
        result: input.result,
        prev: String::new(),
    };
    validate_fields(&entry)?;

    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(AuditError::io(path, "open"))?;
    lock(&file, Lock::Exclusive).map_err(AuditError::io(path, "lock"))?;
    let result = append_locked(path, &mut file, &mut entry);
    // Closing the file releases the lock too; unlocking first makes the order explicit.
    let unlocked = unlock(&file).map_err(AuditError::io(path, "unlock"));
    result?;
    unlocked?;
    Ok(entry)
}

enum Lock {
    Exclusive,
    Shared,
}

// `File::lock` (flock on Linux) is std since Rust 1.89; the toolchain is pinned to 1.95
// (rust-toolchain.toml) while the workspace still declares an older rust-version.
fn lock(file: &File, kind: Lock) -> io::Result<()> {
    match kind {
        Lock::Exclusive => file.lock(),
        Lock::Shared => file.lock_shared(),
    }
}

fn unlock(file: &File) -> io::Result<()> {
    file.unlock()
}

fn append_locked(path: &Path, file: &mut File, entry: &mut AuditEntry) -> Result<(), AuditError> {
    let len = file
        .metadata()
        .map_err(AuditError::io(path, "read the size of"))?
        .len();
    entry.prev = match last_line(file, len).map_err(AuditError::io(path, "read"))? {
        LastLine::Empty => START_PREV.to_owned(),
        LastLine::Line(bytes) => sha256_prefixed(&sha256(&bytes)),
        LastLine::Damaged(reason) => {
            return Err(AuditError::Damaged {
                path: path.to_owned(),
                reason,
            })
        }
    };
    let mut line = to_canonical_vec(entry).map_err(AuditError::Canonical)?;
    line.push(b'\n');
    if line.len() > MAX_LINE_BYTES {
        return Err(AuditError::InvalidField {
            field: "entry",
            value: format!("{} bytes", line.len()),
            reason: "longer than an audit line may be",
        });
    }
    if let Err(source) = file.write_all(&line) {
        // Leave no half line behind: it would block every later append.
        let _ = file.set_len(len);
        return Err(AuditError::Io {
            path: path.to_owned(),
            op: "append to",
            source,
        });
    }
    file.sync_data().map_err(AuditError::io(path, "sync"))?;
    if len == 0 {
        sync_parent(path)?;
    }
    Ok(())
}

/// Makes a newly created log's directory entry durable.
fn sync_parent(path: &Path) -> Result<(), AuditError> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(AuditError::io(path, "sync the folder of"))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

enum LastLine {
    Empty,
    Line(Vec<u8>),
    Damaged(&'static str),
}

/// Reads the last line (without its newline) by scanning backwards from the end.
fn last_line(file: &mut File, len: u64) -> io::Result<LastLine> {
    if len == 0 {
        return Ok(LastLine::Empty);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] != b'\n' {
        return Ok(LastLine::Damaged(
            "the last line has no newline (truncated)",
        ));
    }
    // `line` holds the bytes between the previous newline (or the start) and the final one.
    let end = len - 1;
    let mut start = end;
    let mut line: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    while start > 0 {
        let take = usize::try_from(start.min(chunk.len() as u64)).unwrap_or(chunk.len());
        let from = start - take as u64;
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut chunk[..take])?;
        if let Some(i) = chunk[..take].iter().rposition(|&b| b == b'\n') {
            let mut found = chunk[i + 1..take].to_vec();
            found.extend_from_slice(&line);
            line = found;
            start = 0;
        } else {
            let mut found = chunk[..take].to_vec();
            found.extend_from_slice(&line);
            line = found;
            start = from;
        }
        if line.len() > MAX_LINE_BYTES {
            return Ok(LastLine::Damaged(
                "the last line is too long to be an audit entry",
            ));
        }
    }
    if line.is_empty() {
        return Ok(LastLine::Damaged("the log ends with an empty line"));
    }
    Ok(LastLine::Line(line))
}

/// Checks the whole chain. `Ok` only when every line is a canonical entry chained to the one
/// before; otherwise [`AuditError::Tampered`] lists each broken line with what is wrong.
pub fn verify(path: &Path) -> Result<AuditSummary, AuditError> {
    verify_inner(path, None)
}

/// [`verify`], and also that some line's digest is `checkpoint` (a `head` recorded earlier),
/// which proves that no line up to it was changed or removed since it was recorded.
pub fn verify_with_checkpoint(path: &Path, checkpoint: &str) -> Result<AuditSummary, AuditError> {
    let digest = parse_sha256_prefixed(checkpoint).map_err(|_| AuditError::InvalidField {
        field: "checkpoint",
        value: checkpoint.to_owned(),
        reason: "expected sha256:<64 lowercase hex>",
    })?;
    verify_inner(path, Some(digest))
}

fn verify_inner(path: &Path, checkpoint: Option<[u8; 32]>) -> Result<AuditSummary, AuditError> {
    let file = File::open(path).map_err(AuditError::io(path, "open"))?;
    // A shared lock waits for a running append, so its line is never seen half written.
    lock(&file, Lock::Shared).map_err(AuditError::io(path, "lock"))?;
    let outcome = scan(path, &file, checkpoint);
    let unlocked = unlock(&file).map_err(AuditError::io(path, "unlock"));
    let mut scan = outcome?;
    unlocked?;

    if !scan.mismatches.is_empty() {
        locate_prevs(path, &mut scan)?;
    }
    if !scan.problems.is_empty() {
        return Err(AuditError::Tampered {
            path: path.to_owned(),
            problems: scan.problems,
            omitted: scan.omitted,
        });
    }
    let checkpoint_line = match checkpoint {
        None => None,
        Some(digest) if sha256_prefixed(&digest) == START_PREV => Some(0),
        Some(digest) => match scan.checkpoint_line {
            Some(line) => Some(line),
            None => {
                return Err(AuditError::CheckpointNotFound {
                    path: path.to_owned(),
                    checkpoint: sha256_prefixed(&digest),
                })
            }
        },
    };
    Ok(AuditSummary {
        lines: scan.lines,
        head: sha256_prefixed(&scan.head),
        first_time: scan.first_time,
        last_time: scan.last_time,
        checkpoint_line,
    })
}

#[derive(Default)]
struct Scan {
    lines: u64,
    head: [u8; 32],
    first_time: Option<String>,
    last_time: Option<String>,
    checkpoint_line: Option<u64>,
    problems: Vec<AuditProblem>,
    omitted: u64,
    /// `prev` digest → indexes into `problems` of the mismatches that carry it.
    mismatches: HashMap<[u8; 32], Vec<usize>>,
}

impl Scan {
    fn problem(&mut self, line: u64, kind: ProblemKind) -> Option<usize> {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(AuditProblem { line, kind });
            Some(self.problems.len() - 1)
        } else {
            self.omitted += 1;
            None
        }
    }
}

/// One pass over the log: parses and checks each line, and its `prev` against the line before.
fn scan(path: &Path, file: &File, checkpoint: Option<[u8; 32]>) -> Result<Scan, AuditError> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut scan = Scan {
        head: sha256(b""),
        ..Scan::default()
    };
    let mut buf = Vec::with_capacity(1024);
    let mut unknown_prev = false;
    loop {
        let line = match read_line(&mut reader, &mut buf).map_err(AuditError::io(path, "read"))? {
            None => break,
            Some(line) => line,
        };
        scan.lines += 1;
        let n = scan.lines;
        let expected_prev = scan.head;
        let prev_unknown = std::mem::replace(&mut unknown_prev, false);
        match line {
            Line::TooLong => {
                scan.problem(
                    n,
                    ProblemKind::Malformed {
                        reason: format!("longer than {MAX_LINE_BYTES} bytes"),
                    },
                );
                // The next line's `prev` cannot be checked against a line not read in full.
                unknown_prev = true;
                continue;
            }
            Line::Complete | Line::Truncated => {}
        }
        let digest = sha256(&buf);
        scan.head = digest;
        if checkpoint == Some(digest) && scan.checkpoint_line.is_none() {
            scan.checkpoint_line = Some(n);
        }
        if matches!(line, Line::Truncated) {
            scan.problem(n, ProblemKind::Truncated);
            continue;
        }
        let entry = match parse_entry(&buf) {
            Ok(entry) => entry,
            Err(kind) => {
                scan.problem(n, kind);
                continue;
            }
        };
        if scan.first_time.is_none() {
            scan.first_time = Some(entry.time.clone());
        }
        let Ok(prev) = parse_sha256_prefixed(&entry.prev) else {
            scan.problem(
                n,
                ProblemKind::Malformed {
                    reason: format!("`prev` {:?} is not sha256:<hex>", entry.prev),
                },
            );
            continue;
        };
        if prev != expected_prev && !prev_unknown {
            let index = scan.problem(
                n,
                ProblemKind::PrevMismatch {
                    expected: sha256_prefixed(&expected_prev),
                    found: entry.prev.clone(),
                    matches_line: None,
                },
            );
            if let Some(index) = index {
                scan.mismatches.entry(prev).or_default().push(index);
            }
        }
        scan.last_time = Some(entry.time);
    }
    Ok(scan)
}

/// Second pass, only for a broken chain: finds which line each mismatched `prev` belongs to,
/// which tells an insertion (an earlier line) from a reordering (a later one).
fn locate_prevs(path: &Path, scan: &mut Scan) -> Result<(), AuditError> {
    let file = File::open(path).map_err(AuditError::io(path, "open"))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut buf = Vec::with_capacity(1024);
    let mut n = 0u64;
    while let Some(line) = read_line(&mut reader, &mut buf).map_err(AuditError::io(path, "read"))? {
        n += 1;
        if matches!(line, Line::TooLong) {
            continue;
        }
        if let Some(indexes) = scan.mismatches.get(&sha256(&buf)) {
            for &i in indexes {
                if let Some(ProblemKind::PrevMismatch { matches_line, .. }) =
                    scan.problems.get_mut(i).map(|p| &mut p.kind)
                {
                    matches_line.get_or_insert(n);
                }
            }
        }
    }
    Ok(())
}

enum Line {
    Complete,
    Truncated,
    TooLong,
}

/// Reads one line into `buf` (without its newline); a line over [`MAX_LINE_BYTES`] is skipped
/// without being kept in memory.
fn read_line<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
    buf.clear();
    let limit = MAX_LINE_BYTES as u64 + 1;
    let n = reader.by_ref().take(limit).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        return Ok(Some(Line::Complete));
    }
    if n as u64 == limit {
        // Skip the rest of the long line.
        loop {
            let available = reader.fill_buf()?;
            if available.is_empty() {
                break;
            }
            if let Some(i) = available.iter().position(|&b| b == b'\n') {
                reader.consume(i + 1);
                break;
            }
            let len = available.len();
            reader.consume(len);
        }
        buf.clear();
        return Ok(Some(Line::TooLong));
    }
    Ok(Some(Line::Truncated))
}

fn parse_entry(line: &[u8]) -> Result<AuditEntry, ProblemKind> {
    if line.is_empty() {
        return Err(ProblemKind::Malformed {
            reason: "empty line".to_owned(),
        });
    }
    let value: Value = serde_json::from_slice(line).map_err(|e| ProblemKind::Malformed {
        reason: format!("not JSON: {e}"),
    })?;
    let entry: AuditEntry =
        serde_json::from_value(value.clone()).map_err(|e| ProblemKind::Malformed {
            reason: e.to_string(),
        })?;
    validate_stored(&entry).map_err(|reason| ProblemKind::Malformed { reason })?;
    match canonicalize_value(&value) {
        Ok(canonical) if canonical == line => Ok(entry),
        _ => Err(ProblemKind::NotCanonical),
    }
}

/// Checks a line read back: the rules [`append`] enforces, as the reason text.
fn validate_stored(entry: &AuditEntry) -> Result<(), String> {
    if timestamp::normalize(&entry.time).ok().as_deref() != Some(entry.time.as_str()) {
        return Err(format!("`time` {:?} is not RFC 3339 UTC", entry.time));
    }
    validate_fields(entry).map_err(|e| match e {
        AuditError::InvalidField {
            field,
            value,
            reason,
        } => format!("`{field}` {value:?}: {reason}"),
        other => other.to_string(),
    })
}

fn validate_fields(entry: &AuditEntry) -> Result<(), AuditError> {
    let invalid =
        |field: &'static str, value: &str, reason: &'static str| AuditError::InvalidField {
            field,
            value: value.to_owned(),
            reason,
        };
    check_text(&entry.actor).map_err(|reason| invalid("actor", &entry.actor, reason))?;
    check_text(&entry.result).map_err(|reason| invalid("result", &entry.result, reason))?;
    if let Some(keyid) = &entry.keyid {
        check_text(keyid).map_err(|reason| invalid("keyid", keyid, reason))?;
    }
    if entry.action.is_empty()
        || entry.action.len() > 64
        || !entry
            .action
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(invalid(
            "action",
            &entry.action,
            "expected lowercase letters, digits and `-`, e.g. sign",
        ));
    }
    parse_sha256_prefixed(&entry.payload_digest).map_err(|_| {
        invalid(
            "payloadDigest",
            &entry.payload_digest,
            "expected sha256:<64 lowercase hex>",
        )
    })?;
    Ok(())
}

fn check_text(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        Err("empty")
    } else if value.len() > MAX_FIELD_BYTES {
        Err("longer than 256 bytes")
    } else if value.chars().any(char::is_control) {
        Err("contains a control character")
    } else {
        Ok(())
    }
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // The current time always formats; the fallback only keeps this free of `expect`.
    timestamp::format_unix(now).unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(n: u32) -> AuditEntryInput {
        AuditEntryInput {
            time: Some("2026-01-31T12:00:00+01:00".to_owned()),
            actor: Some("alice".to_owned()),
            action: action::SIGN.to_owned(),
            payload_digest: sha256_prefixed(&sha256(&n.to_be_bytes())),
            keyid: Some("alice-2026".to_owned()),
            result: "ok".to_owned(),
        }
    }

    #[test]
    fn start_prev_is_the_sha256_of_nothing() {
        assert_eq!(START_PREV, sha256_prefixed(&sha256(b"")));
    }

    #[test]
    fn lines_are_canonical_and_chained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let first = append(&path, input(1)).unwrap();
        assert_eq!(first.prev, START_PREV);
        assert_eq!(first.time, "2026-01-31T11:00:00Z");
        let mut no_key = input(2);
        no_key.keyid = None;
        let second = append(&path, no_key).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            format!(
                r#"{{"action":"sign","actor":"alice","keyid":"alice-2026","payloadDigest":"{}","prev":"{START_PREV}","result":"ok","time":"2026-01-31T11:00:00Z"}}"#,
                first.payload_digest
            )
        );
        assert_eq!(second.prev, sha256_prefixed(&sha256(lines[0].as_bytes())));
        assert!(!lines[1].contains("keyid"));
        let summary = verify(&path).unwrap();
        assert_eq!(summary.lines, 2);
        assert_eq!(summary.head, sha256_prefixed(&sha256(lines[1].as_bytes())));
    }

    #[test]
    fn invalid_inputs_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        type Change = fn(&mut AuditEntryInput);
        let cases: Vec<(&str, Change)> = vec![
            ("time", |i| i.time = Some("yesterday".into())),
            ("actor", |i| i.actor = Some(String::new())),
            ("actor", |i| i.actor = Some("a\nb".into())),
            ("action", |i| i.action = "Sign".into()),
            ("action", |i| i.action = String::new()),
            ("payloadDigest", |i| i.payload_digest = "abc".into()),
            ("keyid", |i| i.keyid = Some("x".repeat(257))),
            ("result", |i| i.result = String::new()),
        ];
        for (field, change) in cases {
            let mut i = input(1);
            change(&mut i);
            match append(&path, i) {
                Err(AuditError::InvalidField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(!path.exists());
    }

    #[test]
    fn default_actor_is_never_empty() {
        assert!(check_text(&default_actor()).is_ok());
    }

    #[test]
    fn problem_messages_name_the_lines() {
        let mismatch = |line, matches_line| AuditProblem {
            line,
            kind: ProblemKind::PrevMismatch {
                expected: String::new(),
                found: String::new(),
                matches_line,
            },
        };
        assert_eq!(
            mismatch(5, None).to_string(),
            "line 5: `prev` does not match line 4: line 4 was edited, or lines between 4 and 5 were deleted"
        );
        assert_eq!(
            mismatch(5, Some(3)).to_string(),
            "line 5: `prev` matches line 3, not line 4: line 4 was inserted or moved here"
        );
        assert_eq!(
            mismatch(6, Some(2)).to_string(),
            "line 6: `prev` matches line 2, not line 5: lines 3-5 were inserted or moved here"
        );
        assert_eq!(
            mismatch(4, Some(5)).to_string(),
            "line 4: `prev` matches line 5, which comes after it: lines were reordered"
        );
        assert!(mismatch(1, None)
            .to_string()
            .contains("deleted from the start"));
    }
}
