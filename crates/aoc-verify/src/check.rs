//! The per-document rules (ERR_AOC_001, 002, 004, 005, 006, 007) and the facts the
//! cross-document rules (ERR_AOC_003, in [`crate::chain`]) need from each document.

use crate::doc::Node;
use crate::extjson::{self, push_token, type_name};
use crate::raw_hash;
use crate::rules::{CollectionRules, FieldRule, FieldType, Identity, RuleSet};
use sha2::{Digest, Sha256};
use std::fmt;

/// A violation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// Forbidden derived field.
    Forbidden,
    /// Merge attempt.
    Merge,
    /// Idempotency / append-only broken.
    Revision,
    /// Missing provenance.
    Provenance,
    /// Signature or checksum mismatch.
    Mismatch,
    /// Derived finding (`effective_*`).
    Derived,
    /// Unknown top-level field.
    Unknown,
    /// A document that could not be read (only with `--keep-going`).
    Parse,
}

impl Code {
    /// Every code, in order.
    pub const ALL: [Code; 8] = [
        Code::Forbidden,
        Code::Merge,
        Code::Revision,
        Code::Provenance,
        Code::Mismatch,
        Code::Derived,
        Code::Unknown,
        Code::Parse,
    ];

    /// `ERR_AOC_001` …
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Forbidden => "ERR_AOC_001",
            Code::Merge => "ERR_AOC_002",
            Code::Revision => "ERR_AOC_003",
            Code::Provenance => "ERR_AOC_004",
            Code::Mismatch => "ERR_AOC_005",
            Code::Derived => "ERR_AOC_006",
            Code::Unknown => "ERR_AOC_007",
            Code::Parse => "ERR_AOC_PARSE",
        }
    }

    /// What the code means, in a few words.
    pub fn title(self) -> &'static str {
        match self {
            Code::Forbidden => "forbidden derived field",
            Code::Merge => "merge attempt",
            Code::Revision => "idempotency or append-only broken",
            Code::Provenance => "missing provenance",
            Code::Mismatch => "signature or checksum mismatch",
            Code::Derived => "derived finding",
            Code::Unknown => "unknown top-level field",
            Code::Parse => "unreadable document",
        }
    }

    /// A code from `ERR_AOC_001`, `001`, `1` or `PARSE` (any case).
    pub fn parse(text: &str) -> Option<Code> {
        let upper = text.trim().to_ascii_uppercase();
        let short = upper.strip_prefix("ERR_AOC_").unwrap_or(&upper);
        Code::ALL.into_iter().find(|code| {
            let own = &code.as_str()["ERR_AOC_".len()..];
            own == short || (own.trim_start_matches('0') == short && !short.is_empty())
        })
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One violation in one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which rule.
    pub code: Code,
    /// JSON Pointer to the offending value (`""` for the whole document).
    pub path: String,
    /// What is wrong, for people.
    pub message: String,
}

impl Finding {
    fn new(code: Code, path: impl Into<String>, message: String) -> Self {
        Self {
            code,
            path: path.into(),
            message,
        }
    }
}

/// What the cross-document rules need to know of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityFacts {
    /// advisory_raw: one revision of the chain (tenant, vendor, upstream id).
    Revision {
        /// `tenant`, `source.vendor` and `upstream.upstream_id`, NUL-separated.
        chain: String,
        /// The first 8 bytes of `upstream.content_hash`.
        content: u64,
        /// What `supersedes` names.
        supersedes: Supersedes,
    },
    /// vex_raw: `_id` must be unique.
    Unique,
}

/// A `supersedes` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Supersedes {
    /// Absent or null: the first revision.
    Nothing,
    /// The `_id` of another document (string, or ObjectId hex).
    Id(String),
    /// A value that cannot name a document (a number, an object).
    Invalid(&'static str),
}

/// A checked document: its findings and the facts reports and chains need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checked {
    /// `_id` as a string key (ObjectId as hex).
    pub id: Option<String>,
    /// `tenant`.
    pub tenant: Option<String>,
    /// `source.vendor` or `providerId`.
    pub source: Option<String>,
    /// Ingestion time in milliseconds: `ingested_at`, else `upstream.retrieved_at` or
    /// `retrievedAt`, else the ObjectId's time.
    pub time: Option<i64>,
    /// Facts for the cross-document rules, when the document has them all.
    pub identity: Option<IdentityFacts>,
    /// The per-document violations, in document order.
    pub findings: Vec<Finding>,
}

/// Checks one document of a collection against the rules.
pub fn check_document(
    rules: &RuleSet,
    collection: &CollectionRules,
    document: &Node<'_>,
) -> Checked {
    let mut checked = Checked {
        id: document.get("_id").and_then(extjson::id_key),
        tenant: non_empty_string(document.pointer("/tenant")),
        source: non_empty_string(document.pointer("/source/vendor"))
            .or_else(|| non_empty_string(document.pointer("/providerId"))),
        time: ingestion_time(document),
        ..Checked::default()
    };
    let mut walker = Walker {
        rules,
        collection,
        findings: &mut checked.findings,
    };
    walker.walk(document, &mut String::with_capacity(64), 0);
    let arrays: Vec<&str> = collection
        .single_record
        .iter()
        .filter(|p| document.pointer(p).is_some_and(Node::is_array))
        .map(String::as_str)
        .collect();
    for rule in &collection.required {
        if !under_any(&rule.path, &arrays) {
            check_field(document, rule, true, &mut checked.findings);
        }
    }
    for rule in &collection.optional {
        if !under_any(&rule.path, &arrays) {
            check_field(document, rule, false, &mut checked.findings);
        }
    }
    match collection.identity {
        Some(Identity::Revisions) => {
            check_revision(document, &mut checked);
        }
        Some(Identity::Digest) => {
            check_digest(document, &mut checked.findings);
            checked.identity = Some(IdentityFacts::Unique);
        }
        Some(Identity::None) | None => {}
    }
    checked
}

/// The ingestion time used by `--since`.
pub fn ingestion_time(document: &Node<'_>) -> Option<i64> {
    ["/ingested_at", "/upstream/retrieved_at", "/retrievedAt"]
        .iter()
        .find_map(|p| document.pointer(p).and_then(extjson::date_millis))
        .or_else(|| document.get("_id").and_then(extjson::object_id_time))
}

fn non_empty_string(value: Option<&Node<'_>>) -> Option<String> {
    match value {
        Some(Node::String(s)) if !s.is_empty() => Some(s.to_string()),
        _ => None,
    }
}

fn under_any(path: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The walk for ERR_AOC_001, 002, 006 and 007: every member outside the raw payload.
struct Walker<'a> {
    rules: &'a RuleSet,
    collection: &'a CollectionRules,
    findings: &'a mut Vec<Finding>,
}

impl Walker<'_> {
    fn walk(&mut self, value: &Node<'_>, path: &mut String, depth: usize) {
        match value {
            Node::Object(members) => {
                for (key, member) in members {
                    let len = path.len();
                    push_token(path, key);
                    self.member(key, member, path, depth);
                    path.truncate(len);
                }
            }
            Node::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let len = path.len();
                    push_token(path, &index.to_string());
                    self.walk(item, path, depth + 1);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }

    fn member(&mut self, key: &str, member: &Node<'_>, path: &mut String, depth: usize) {
        if self.collection.raw_payload.iter().any(|p| p == path) {
            return;
        }
        if self.rules.is_forbidden(key) {
            self.findings.push(Finding::new(
                Code::Forbidden,
                path.as_str(),
                format!("forbidden derived field `{key}` outside the raw payload"),
            ));
            return;
        }
        if self.rules.is_merge(key) {
            self.findings.push(Finding::new(
                Code::Merge,
                path.as_str(),
                format!("`{key}` records a merge; a raw document holds one upstream record"),
            ));
            return;
        }
        if self.rules.is_derived(key) {
            self.findings.push(Finding::new(
                Code::Derived,
                path.as_str(),
                format!("derived finding `{key}` outside the raw payload"),
            ));
            return;
        }
        if depth == 0 {
            if let Some(allowed) = &self.collection.top_level {
                if !allowed.iter().any(|a| a == key) {
                    self.findings.push(Finding::new(
                        Code::Unknown,
                        path.as_str(),
                        format!("unknown top-level field `{key}`"),
                    ));
                }
            }
            if let Node::Array(records) = member {
                if self.collection.single_record.iter().any(|p| p == path) {
                    self.findings.push(Finding::new(
                        Code::Merge,
                        path.as_str(),
                        format!(
                            "`{key}` holds {} upstream records; a raw document holds one",
                            records.len()
                        ),
                    ));
                }
            }
        }
        self.walk(member, path, depth + 1);
    }
}

/// ERR_AOC_004 for one field rule.
fn check_field(document: &Node<'_>, rule: &FieldRule, required: bool, findings: &mut Vec<Finding>) {
    let name = rule.path.trim_start_matches('/').replace('/', ".");
    let value = match document.pointer(&rule.path) {
        None if required => {
            findings.push(Finding::new(
                Code::Provenance,
                rule.path.as_str(),
                format!("missing `{name}`"),
            ));
            return;
        }
        None => return,
        Some(value) => value,
    };
    let wrong = |expected: &str| {
        if value.is_null() {
            format!("`{name}` is null; it must be {expected}")
        } else if extjson::is_empty(value) && !matches!(value, Node::Object(_) | Node::Array(_)) {
            format!("`{name}` is empty; it must be {expected}")
        } else {
            format!("`{name}` is {}; it must be {expected}", type_name(value))
        }
    };
    let problem = match rule.kind {
        FieldType::String => match value {
            Node::String(s) if !s.is_empty() => None,
            _ => Some(wrong("a non-empty string")),
        },
        FieldType::Date => match extjson::date_millis(value) {
            Some(_) => None,
            None => Some(match value {
                Node::String(s) => format!("`{name}` is `{}`, not an RFC 3339 date", clip(s)),
                _ => wrong("a date"),
            }),
        },
        FieldType::Sha256 => match value {
            Node::String(s) if is_sha256(s) => None,
            Node::String(s) => Some(format!(
                "`{name}` is `{}`; it must be `sha256:` and 64 lowercase hex digits",
                clip(s)
            )),
            _ => Some(wrong("`sha256:` and 64 lowercase hex digits")),
        },
        FieldType::Boolean => match value {
            Node::Bool(_) => None,
            _ => Some(wrong("true or false")),
        },
        FieldType::Any => match value {
            Node::Null => Some(format!("`{name}` is null")),
            _ => extjson::is_empty(value).then(|| format!("`{name}` is empty")),
        },
        FieldType::Enum => match value {
            Node::String(s) if rule.values.iter().any(|v| v == s) => None,
            Node::String(s) => Some(format!(
                "`{name}` is `{}`; it must be one of {}",
                clip(s),
                rule.values.join(", ")
            )),
            _ => Some(wrong(&format!("one of {}", rule.values.join(", ")))),
        },
        FieldType::Digest => match value {
            Node::String(s) if s.chars().count() >= 32 => None,
            Node::String(s) => Some(format!(
                "`{name}` is `{}`, shorter than 32 characters",
                clip(s)
            )),
            _ => Some(wrong("a string of at least 32 characters")),
        },
        FieldType::Content => match value {
            Node::String(_) => None,
            _ if extjson::binary(value).is_some() => None,
            _ => Some(wrong("a string or binary data")),
        },
        FieldType::StringMap => match value {
            Node::Object(members) => {
                // One violation per member that is not a string, at its own path.
                for (key, member) in members.iter().filter(|(_, v)| !v.is_string()) {
                    let mut path = rule.path.clone();
                    push_token(&mut path, key);
                    findings.push(Finding::new(
                        Code::Provenance,
                        path,
                        format!(
                            "`{name}.{key}` is {}; `{name}` maps names to strings",
                            type_name(member)
                        ),
                    ));
                }
                None
            }
            _ => Some(wrong("an object of strings")),
        },
    };
    if let Some(message) = problem {
        findings.push(Finding::new(Code::Provenance, rule.path.as_str(), message));
    }
}

/// A value cut short for a message.
fn clip(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

/// `sha256:` and 64 lowercase hex digits.
pub fn is_sha256(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// advisory_raw: `content_hash`, signature consistency and the chain facts.
fn check_revision(document: &Node<'_>, checked: &mut Checked) {
    let content_hash = document
        .pointer("/upstream/content_hash")
        .and_then(Node::as_str)
        .filter(|h| is_sha256(h));
    if let (Some(stored), Some(raw)) = (
        content_hash,
        // An empty payload is already missing provenance (ERR_AOC_004).
        document
            .pointer("/content/raw")
            .filter(|r| !extjson::is_empty(r)),
    ) {
        match raw_hash::content_hash(raw) {
            Ok(actual) if actual == stored => {}
            Ok(actual) => checked.findings.push(Finding::new(
                Code::Mismatch,
                "/upstream/content_hash",
                format!("content_hash is {stored} but content.raw hashes to {actual}"),
            )),
            Err(raw_hash::NotCanonical(why)) => checked.findings.push(Finding::new(
                Code::Mismatch,
                "/upstream/content_hash",
                format!("content_hash cannot be recomputed: content.raw {why}"),
            )),
        }
    }
    if let Some(signature) = document.pointer("/upstream/signature") {
        let has = |key: &str| signature.get(key).is_some_and(|v| !extjson::is_empty(v));
        match signature.get("present").and_then(Node::as_bool) {
            Some(true) => {
                for key in ["format", "sig"] {
                    if !has(key) {
                        checked.findings.push(Finding::new(
                            Code::Mismatch,
                            format!("/upstream/signature/{key}"),
                            format!("signature.present is true but there is no signature.{key}"),
                        ));
                    }
                }
            }
            Some(false) if has("sig") => checked.findings.push(Finding::new(
                Code::Mismatch,
                "/upstream/signature/sig",
                "signature.present is false but a signature.sig is stored".to_owned(),
            )),
            _ => {}
        }
    }
    let tenant = non_empty_string(document.pointer("/tenant"));
    let vendor = non_empty_string(document.pointer("/source/vendor"));
    let upstream_id = non_empty_string(document.pointer("/upstream/upstream_id"));
    if let (Some(tenant), Some(vendor), Some(upstream_id), Some(hash)) =
        (tenant, vendor, upstream_id, content_hash)
    {
        let supersedes = match document.get("supersedes") {
            None | Some(Node::Null) => Supersedes::Nothing,
            Some(value) => match extjson::id_key(value) {
                Some(id) => Supersedes::Id(id),
                None => Supersedes::Invalid(type_name(value)),
            },
        };
        let mut prefix = [0u8; 8];
        // is_sha256 guarantees 64 hex digits after the prefix.
        if hex::decode_to_slice(&hash["sha256:".len().."sha256:".len() + 16], &mut prefix).is_ok() {
            checked.identity = Some(IdentityFacts::Revision {
                chain: format!("{tenant}\0{vendor}\0{upstream_id}"),
                content: u64::from_be_bytes(prefix),
                supersedes,
            });
        }
    }
}

/// vex_raw: `digest` of `content`, `_id` equal to `digest`.
fn check_digest(document: &Node<'_>, findings: &mut Vec<Finding>) {
    let Some(digest) = document.get("digest").and_then(Node::as_str) else {
        return;
    };
    let content = document.get("content").and_then(|content| match content {
        Node::String(text) => Some(text.as_bytes().to_vec()),
        other => extjson::binary(other),
    });
    if let Some(bytes) = content {
        let actual = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if !actual.eq_ignore_ascii_case(digest) {
            findings.push(Finding::new(
                Code::Mismatch,
                "/digest",
                format!("digest is {} but content hashes to {actual}", clip(digest)),
            ));
        }
    }
    if let Some(Node::String(id)) = document.get("_id") {
        if id != digest {
            findings.push(Finding::new(
                Code::Mismatch,
                "/_id",
                format!(
                    "_id is `{}` but digest is `{}`; they must be equal",
                    clip(id),
                    clip(digest)
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_parse_in_every_spelling() {
        assert_eq!(Code::parse("ERR_AOC_001"), Some(Code::Forbidden));
        assert_eq!(Code::parse("err_aoc_003"), Some(Code::Revision));
        assert_eq!(Code::parse("004"), Some(Code::Provenance));
        assert_eq!(Code::parse("7"), Some(Code::Unknown));
        assert_eq!(Code::parse("parse"), Some(Code::Parse));
        assert_eq!(Code::parse("008"), None);
        assert_eq!(Code::parse(""), None);
        assert_eq!(Code::parse("0"), None);
    }

    #[test]
    fn sha256_form() {
        assert!(is_sha256(&format!("sha256:{}", "a".repeat(64))));
        assert!(!is_sha256(&format!("sha256:{}", "A".repeat(64))));
        assert!(!is_sha256(&format!("sha256:{}", "a".repeat(63))));
        assert!(!is_sha256(&format!("sha512:{}", "a".repeat(64))));
    }
}
