//! ERR_AOC_003: idempotency and append-only revision chains, checked across every document
//! read (also those outside `--since`, which only limits what is reported).
//!
//! Memory stays at a fixed 56 bytes a document while reading, and 64 at the end: each
//! document is kept as 64-bit fingerprints (its chain, `_id`, `supersedes`, the first 8
//! bytes of its `content_hash`), its time and its place in the input. The strings a report
//! needs (`_id`, tenant, source, `supersedes`) go to an unnamed temporary file and are read
//! back only for the documents that violate a rule. Fingerprints are SipHash-1-3 with fixed
//! keys: two different ids share one with a chance of about n²/2⁶⁵ (10⁻⁸ for a million
//! documents).

use crate::check::{Code, IdentityFacts, Supersedes};
use std::collections::HashMap;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// Records are kept in chunks of this many, so that growing never copies (or doubles) them.
const CHUNK: usize = 1 << 16;

const IN_SCOPE: u32 = 1;
const UNIQUE: u32 = 1 << 1;
const SUPERSEDES_ID: u32 = 1 << 2;
const SUPERSEDES_INVALID: u32 = 1 << 3;
const COLLECTION_SHIFT: u32 = 16;

#[derive(Debug, Clone, Copy)]
struct Record {
    /// Fingerprint of (collection, tenant, vendor, upstream id); of the collection alone for
    /// `Unique` records.
    chain: u64,
    /// First 8 bytes of `content_hash` (revisions only).
    content: u64,
    /// Fingerprint of (collection, `_id`); 0 for a document without one.
    id: u64,
    /// Fingerprint of (collection, `supersedes`).
    supersedes: u64,
    /// Ingestion time, ms; `i64::MIN` when unknown.
    time: i64,
    /// Offset of the document's strings in the spill file.
    spill: u64,
    /// Place in the input (0-based, over all inputs).
    ordinal: u32,
    /// `IN_SCOPE`, `UNIQUE`, `SUPERSEDES_*`, and the collection index from bit 16.
    flags: u32,
}

/// A revision-chain violation, found once every document has been read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainViolation {
    /// The document's place in the input.
    pub ordinal: u64,
    /// Its collection.
    pub collection: Arc<str>,
    /// Its `_id`.
    pub document_id: String,
    /// Its tenant.
    pub tenant: Option<String>,
    /// Its source.
    pub source: Option<String>,
    /// Always ERR_AOC_003.
    pub code: Code,
    /// JSON Pointer of the offending member.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// The strings of one document, as spilled.
#[derive(Debug, Default)]
struct Strings {
    id: String,
    tenant: Option<String>,
    source: Option<String>,
    supersedes: Option<String>,
}

/// Every document's identity facts, as they are read.
#[derive(Debug)]
pub struct ChainStore {
    chunks: Vec<Vec<Record>>,
    collections: Vec<Arc<str>>,
    spill: BufWriter<File>,
    spill_len: u64,
}

/// A document's facts handed to [`ChainStore::add`].
#[derive(Debug)]
pub struct Entry<'a> {
    /// Place in the input.
    pub ordinal: u64,
    /// Collection.
    pub collection: &'a Arc<str>,
    /// `_id` key.
    pub id: Option<&'a str>,
    /// Tenant.
    pub tenant: Option<&'a str>,
    /// Source.
    pub source: Option<&'a str>,
    /// Ingestion time.
    pub time: Option<i64>,
    /// Whether violations of this document are reported.
    pub in_scope: bool,
    /// The facts.
    pub identity: &'a IdentityFacts,
}

fn fingerprint(collection: &str, key: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    collection.hash(&mut hasher);
    key.hash(&mut hasher);
    // 0 means "no id".
    hasher.finish().max(1)
}

impl ChainStore {
    /// An empty store with its spill file in the system's temporary folder.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            chunks: Vec::new(),
            collections: Vec::new(),
            spill: BufWriter::with_capacity(64 << 10, tempfile::tempfile()?),
            spill_len: 0,
        })
    }

    /// Records one document.
    pub fn add(&mut self, entry: &Entry<'_>) -> std::io::Result<()> {
        let collection_index = match self.collections.iter().position(|c| c == entry.collection) {
            Some(i) => i,
            None => {
                self.collections.push(Arc::clone(entry.collection));
                self.collections.len() - 1
            }
        };
        let mut flags = (collection_index as u32) << COLLECTION_SHIFT;
        if entry.in_scope {
            flags |= IN_SCOPE;
        }
        let collection: &str = entry.collection;
        let (chain, content, supersedes, supersedes_text) = match entry.identity {
            IdentityFacts::Revision {
                chain,
                content,
                supersedes,
            } => {
                let (fp, text) = match supersedes {
                    Supersedes::Nothing => (0, None),
                    Supersedes::Id(id) => {
                        flags |= SUPERSEDES_ID;
                        (fingerprint(collection, id), Some(id.as_str()))
                    }
                    Supersedes::Invalid(kind) => {
                        flags |= SUPERSEDES_INVALID;
                        (0, Some(*kind))
                    }
                };
                (fingerprint(collection, chain), *content, fp, text)
            }
            IdentityFacts::Unique => {
                flags |= UNIQUE;
                (fingerprint(collection, "\0unique"), 0, 0, None)
            }
        };
        let spill = self.spill_len;
        for text in [
            entry.id.unwrap_or(""),
            entry.tenant.unwrap_or("\0"),
            entry.source.unwrap_or("\0"),
            supersedes_text.unwrap_or(""),
        ] {
            let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
            self.spill.write_all(&len.to_le_bytes())?;
            self.spill.write_all(&text.as_bytes()[..len as usize])?;
            self.spill_len += 4 + u64::from(len);
        }
        let record = Record {
            chain,
            content,
            id: entry.id.map_or(0, |id| fingerprint(collection, id)),
            supersedes,
            time: entry.time.unwrap_or(i64::MIN),
            spill,
            ordinal: u32::try_from(entry.ordinal).unwrap_or(u32::MAX),
            flags,
        };
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(record),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(record);
                self.chunks.push(chunk);
            }
        }
        Ok(())
    }

    /// Checks every chain; violations of in-scope documents, in input order.
    pub fn finish(self) -> std::io::Result<Vec<ChainViolation>> {
        let Self {
            chunks,
            collections,
            spill,
            ..
        } = self;
        let spill = spill.into_inner().map_err(|e| e.into_error())?;
        let total = chunks.iter().map(Vec::len).sum();
        let mut records = Vec::with_capacity(total);
        for chunk in chunks {
            records.extend_from_slice(&chunk);
        }
        let mut ids: Vec<u64> = records.iter().map(|r| r.id).filter(|&id| id != 0).collect();
        ids.sort_unstable();
        records.sort_unstable_by_key(|r| (r.chain, r.flags & UNIQUE, r.time, r.ordinal));

        let mut found = Vec::new();
        let mut checker = Checker {
            spill: &spill,
            collections: &collections,
            ids: &ids,
            found: &mut found,
        };
        let mut start = 0;
        while start < records.len() {
            let chain = records[start].chain;
            let end = start
                + records[start..]
                    .iter()
                    .take_while(|r| r.chain == chain)
                    .count();
            let group = &mut records[start..end];
            if group[0].flags & UNIQUE != 0 {
                checker.unique(group)?;
            } else {
                checker.revisions(group)?;
            }
            start = end;
        }
        found.sort_by_key(|v| v.ordinal);
        Ok(found)
    }
}

struct Checker<'a> {
    spill: &'a File,
    collections: &'a [Arc<str>],
    ids: &'a [u64],
    found: &'a mut Vec<ChainViolation>,
}

impl Checker<'_> {
    fn strings(&self, record: &Record) -> std::io::Result<Strings> {
        let mut offset = record.spill;
        let mut read = || -> std::io::Result<String> {
            let mut len = [0u8; 4];
            self.spill.read_exact_at(&mut len, offset)?;
            let len = u32::from_le_bytes(len);
            let mut bytes = vec![0u8; len as usize];
            self.spill.read_exact_at(&mut bytes, offset + 4)?;
            offset += 4 + u64::from(len);
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        };
        let id = read()?;
        let tenant = read()?;
        let source = read()?;
        let supersedes = read()?;
        let present = |s: String| (s != "\0").then_some(s);
        Ok(Strings {
            id,
            tenant: present(tenant),
            source: present(source),
            supersedes: (!supersedes.is_empty()).then_some(supersedes),
        })
    }

    fn report(&mut self, record: &Record, path: &str, message: String) -> std::io::Result<()> {
        if record.flags & IN_SCOPE == 0 {
            return Ok(());
        }
        let strings = self.strings(record)?;
        let collection = self
            .collections
            .get((record.flags >> COLLECTION_SHIFT) as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from(""));
        self.found.push(ChainViolation {
            ordinal: u64::from(record.ordinal),
            collection,
            document_id: strings.id,
            tenant: strings.tenant,
            source: strings.source,
            code: Code::Revision,
            path: path.to_owned(),
            message,
        });
        Ok(())
    }

    fn id_of(&self, record: &Record) -> std::io::Result<String> {
        self.strings(record).map(|s| s.id)
    }

    /// vex_raw: a repeated `_id`.
    fn unique(&mut self, group: &mut [Record]) -> std::io::Result<()> {
        group.sort_unstable_by_key(|r| (r.id, r.time, r.ordinal));
        for i in 1..group.len() {
            if group[i].id != 0 && group[i].id == group[i - 1].id {
                let record = group[i];
                let id = self.id_of(&record)?;
                self.report(
                    &record,
                    "/_id",
                    format!("_id `{id}` is repeated; a document is written once"),
                )?;
            }
        }
        Ok(())
    }

    /// advisory_raw: one chain (tenant, vendor, upstream id), in ingestion order.
    fn revisions(&mut self, group: &[Record]) -> std::io::Result<()> {
        let by_id: HashMap<u64, usize> = group
            .iter()
            .enumerate()
            .filter(|(_, r)| r.id != 0)
            .map(|(i, r)| (r.id, i))
            .collect();
        // Position in the group of what each member supersedes, when it is in the group.
        let target: Vec<Option<usize>> = group
            .iter()
            .map(|r| {
                (r.flags & SUPERSEDES_ID != 0)
                    .then(|| by_id.get(&r.supersedes).copied())
                    .flatten()
            })
            .collect();
        let in_cycle = cycles(&target);
        let mut first_of_content: HashMap<u64, usize> = HashMap::new();
        let mut superseded_by: HashMap<usize, usize> = HashMap::new();
        let mut root: Option<usize> = None;
        for (i, record) in group.iter().enumerate() {
            let duplicate_of = match first_of_content.get(&record.content) {
                Some(&first) => Some(first),
                None => {
                    first_of_content.insert(record.content, i);
                    None
                }
            };
            if let Some(first) = duplicate_of {
                let other = self.id_of(&group[first])?;
                self.report(
                    record,
                    "/upstream/content_hash",
                    format!(
                        "duplicate of `{other}`: same tenant, source.vendor, upstream.upstream_id and content_hash"
                    ),
                )?;
            }
            if record.flags & SUPERSEDES_INVALID != 0 {
                let kind = self.strings(record)?.supersedes.unwrap_or_default();
                self.report(
                    record,
                    "/supersedes",
                    format!(
                        "supersedes is {kind}; it must be null or the _id of the previous revision"
                    ),
                )?;
                continue;
            }
            if record.flags & SUPERSEDES_ID == 0 {
                if duplicate_of.is_none() {
                    match root {
                        None => root = Some(i),
                        Some(first) => {
                            let other = self.id_of(&group[first])?;
                            self.report(
                                record,
                                "/supersedes",
                                format!(
                                    "new revision of the upstream document in `{other}` (another content_hash) does not name the revision it supersedes"
                                ),
                            )?;
                        }
                    }
                }
                continue;
            }
            let named = self.strings(record)?.supersedes.unwrap_or_default();
            match target[i] {
                None if self.ids.binary_search(&record.supersedes).is_ok() => {
                    self.report(
                        record,
                        "/supersedes",
                        format!("supersedes `{named}`, a document of another chain (other tenant, vendor or upstream_id)"),
                    )?;
                }
                None => {
                    self.report(
                        record,
                        "/supersedes",
                        format!("supersedes `{named}`, which is not among the documents read"),
                    )?;
                }
                Some(_) if in_cycle[i] => {
                    self.report(
                        record,
                        "/supersedes",
                        format!("supersedes `{named}`, which leads back to this document (a revision cycle)"),
                    )?;
                }
                Some(p) if group[p].time > record.time => {
                    self.report(
                        record,
                        "/supersedes",
                        format!("supersedes `{named}`, a later revision"),
                    )?;
                }
                Some(p) => {
                    match superseded_by.get(&p) {
                        Some(&earlier) => {
                            let other = self.id_of(&group[earlier])?;
                            self.report(
                            record,
                            "/supersedes",
                            format!("supersedes `{named}`, which `{other}` already supersedes (a fork)"),
                        )?;
                        }
                        None => {
                            superseded_by.insert(p, i);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Which nodes of a functional graph (each node names at most one other) lie on a cycle.
fn cycles(target: &[Option<usize>]) -> Vec<bool> {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; target.len()];
    let mut on_cycle = vec![false; target.len()];
    for start in 0..target.len() {
        let mut path = Vec::new();
        let mut node = Some(start);
        while let Some(n) = node {
            match state[n] {
                NEW => {
                    state[n] = ON_PATH;
                    path.push(n);
                    node = target[n];
                }
                ON_PATH => {
                    if let Some(at) = path.iter().position(|&p| p == n) {
                        for &member in &path[at..] {
                            on_cycle[member] = true;
                        }
                    }
                    break;
                }
                _ => break,
            }
        }
        for n in path {
            state[n] = DONE;
        }
    }
    on_cycle
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cycles_in_a_functional_graph() {
        // 0 → 1 → 2 → 0, 3 → 0, 4 → 4, 5
        let target = [Some(1), Some(2), Some(0), Some(0), Some(4), None];
        assert_eq!(cycles(&target), [true, true, true, false, true, false]);
    }
}
