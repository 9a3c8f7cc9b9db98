//! The `advisory_raw` corpus of `bench aoc`: NDJSON as a MongoDB export writes it (Extended
//! JSON v2, relaxed), with a known number of each per-document AOC violation.
//!
//! Every line is one raw document of 1–10 KB holding an OSV, GHSA or CSAF advisory as
//! `content.raw`. About 1 % of the documents carry each kind of violation, exactly one per
//! violating document, so the expected count per code is exact; about 10 % are later revisions
//! of an earlier clean document with a correct `supersedes`. Two exporters' spellings are mixed
//! (mongoexport's compact Go style with `\u003c` escapes, pymongo's `json_util.dumps` with
//! spaces and `\uXXXX` for all non-ASCII; both write an integral double as `5.0`), and members
//! keep their upstream order, so that a checker has to canonicalize `content.raw` (RFC 8785)
//! to verify `content_hash`: hashing the bytes as read would not match.
//!
//! The output depends only on the seed below and this code: no clock, no hash map order.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write as _};
use std::path::Path;

/// Bump whenever the bytes generated change (the `output_is_pinned` test notices): cached
/// corpora are keyed by it.
pub const GENERATOR_VERSION: u32 = 1;
const SEED: u64 = 0xA0C0_BE4C_2024_0001;

/// Every line but those missing `content.raw` (an ERR_AOC_004 variant) is this long at least.
pub const MIN_LINE: usize = 1024;
/// No line is longer than this, newline excluded.
pub const MAX_LINE: usize = 10 * 1024;
/// The range of line sizes aimed at; violations add up to a few hundred bytes.
const TARGET_MIN: usize = 1100;
const TARGET_MAX: usize = 9800;

/// The codes of the per-document rules, in report order.
pub const CODES: [&str; 6] = [
    "ERR_AOC_001",
    "ERR_AOC_002",
    "ERR_AOC_004",
    "ERR_AOC_005",
    "ERR_AOC_006",
    "ERR_AOC_007",
];

/// Derived fields only the policy engine may write (ERR_AOC_001).
pub const FORBIDDEN: [&str; 7] = [
    "severity",
    "cvss",
    "cvss_vector",
    "consensus_provider",
    "reachability",
    "asset_criticality",
    "risk_score",
];

/// The top-level fields of an `advisory_raw` document (anything else is ERR_AOC_007).
#[cfg(test)]
pub const KNOWN_TOP_LEVEL: [&str; 10] = [
    "_id",
    "tenant",
    "source",
    "upstream",
    "content",
    "identifiers",
    "linkset",
    "supersedes",
    "ingested_at",
    "created_at",
];

/// The variant label of the ERR_AOC_005 documents whose hash does not match: the part of the
/// rules jq cannot check.
pub const HASH_MISMATCH: &str = "ERR_AOC_005 content_hash does not match";

/// What went into one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The one violation it carries, if any.
    pub code: Option<&'static str>,
    /// How the violation was made (`ERR_AOC_004 /tenant missing`), or `clean` / `revision`.
    pub variant: &'static str,
    /// A later revision of an earlier document, with `supersedes`.
    pub revision: bool,
    /// It has no `content.raw` (so it may be shorter than [`MIN_LINE`]).
    pub no_raw: bool,
}

/// What a corpus holds: the expected report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub documents: u64,
    pub bytes: u64,
    pub revisions: u64,
    /// Violations per code; every code of [`CODES`] is listed, 0 included.
    pub by_code: BTreeMap<String, u64>,
    /// Violating documents per variant.
    pub variants: BTreeMap<String, u64>,
    /// Shortest and longest line, newline excluded.
    pub min_line: u64,
    pub max_line: u64,
}

impl Tally {
    fn new() -> Self {
        Self {
            by_code: CODES.iter().map(|c| ((*c).to_owned(), 0)).collect(),
            min_line: u64::MAX,
            ..Self::default()
        }
    }

    fn record(&mut self, line_bytes: u64, outcome: &Outcome) {
        self.documents += 1;
        self.bytes += line_bytes + 1;
        self.min_line = self.min_line.min(line_bytes);
        self.max_line = self.max_line.max(line_bytes);
        if outcome.revision {
            self.revisions += 1;
        }
        if let Some(code) = outcome.code {
            *self.by_code.entry(code.to_owned()).or_default() += 1;
            *self.variants.entry(outcome.variant.to_owned()).or_default() += 1;
        }
    }

    /// Documents with a violation (one each).
    pub fn violating(&self) -> u64 {
        self.by_code.values().sum()
    }

    /// The ERR_AOC_005 documents whose content_hash does not match.
    pub fn hash_mismatches(&self) -> u64 {
        self.variants.get(HASH_MISMATCH).copied().unwrap_or(0)
    }

    /// What the jq filter can find per code: all but the hash mismatches.
    pub fn jq_by_code(&self) -> BTreeMap<String, u64> {
        let mut counts = self.by_code.clone();
        if let Some(n) = counts.get_mut("ERR_AOC_005") {
            *n -= self.hash_mismatches();
        }
        counts
    }

    /// Violating documents the jq filter can find.
    pub fn jq_violating(&self) -> u64 {
        self.violating() - self.hash_mismatches()
    }
}

/// Writes documents to `path` until it holds at least `min_bytes`; `progress` is called with
/// the bytes written so far after every document.
pub fn write_corpus(path: &Path, min_bytes: u64, mut progress: impl FnMut(u64)) -> Result<Tally> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut generator = Generator::new();
    let mut tally = Tally::new();
    let mut line = Vec::with_capacity(MAX_LINE + 1);
    while tally.bytes < min_bytes {
        line.clear();
        let outcome = generator.next_document(&mut line)?;
        out.write_all(&line)
            .with_context(|| format!("cannot write {}", path.display()))?;
        tally.record(line.len() as u64 - 1, &outcome);
        progress(tally.bytes);
    }
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    let written = fs::metadata(path)
        .with_context(|| format!("cannot stat {}", path.display()))?
        .len();
    anyhow::ensure!(
        written == tally.bytes,
        "{}: {written} bytes written, {} counted",
        path.display(),
        tally.bytes
    );
    Ok(tally)
}

// ---------------------------------------------------------------------------------------
// Randomness: SplitMix64, enough for test data and the same on every machine.

#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(total as usize) as u32;
        for &(item, weight) in items {
            if roll < weight {
                return item;
            }
            roll -= weight;
        }
        items[items.len() - 1].0
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s.truncate(digits);
        s
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

// ---------------------------------------------------------------------------------------
// An ordered JSON value and the two exporters' spellings of it.

/// A JSON value whose members keep their insertion order, as an exporter writes them.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<V>),
    Obj(Vec<(String, V)>),
}

impl From<&str> for V {
    fn from(s: &str) -> Self {
        V::Str(s.to_owned())
    }
}
impl From<&String> for V {
    fn from(s: &String) -> Self {
        V::Str(s.clone())
    }
}
impl<T: Into<V>> From<Option<T>> for V {
    fn from(value: Option<T>) -> Self {
        value.map_or(V::Null, Into::into)
    }
}
impl From<String> for V {
    fn from(s: String) -> Self {
        V::Str(s)
    }
}
impl From<i64> for V {
    fn from(n: i64) -> Self {
        V::Int(n)
    }
}
impl From<f64> for V {
    fn from(x: f64) -> Self {
        V::Float(x)
    }
}
impl From<bool> for V {
    fn from(b: bool) -> Self {
        V::Bool(b)
    }
}
impl From<Vec<V>> for V {
    fn from(items: Vec<V>) -> Self {
        V::Arr(items)
    }
}

/// `o! { "key": value, … }`: an object whose members keep the order written; each value is
/// anything `V::from` takes.
macro_rules! o {
    ($($key:literal : $value:expr),* $(,)?) => {
        V::Obj(vec![$(($key.to_owned(), V::from($value))),*])
    };
}

/// `a![value, …]`: an array.
macro_rules! a {
    ($($value:expr),* $(,)?) => {
        V::Arr(vec![$(V::from($value)),*])
    };
}

fn strs<S: AsRef<str>>(items: &[S]) -> V {
    V::Arr(items.iter().map(|s| V::from(s.as_ref())).collect())
}

/// One step of a path into a [`V`].
#[derive(Debug, Clone, Copy)]
enum Step {
    Key(&'static str),
    Index(usize),
}

impl V {
    fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        match self {
            V::Obj(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn at_mut(&mut self, path: &[Step]) -> Option<&mut V> {
        path.iter().try_fold(self, |v, step| match (step, v) {
            (Step::Key(key), v) => v.get_mut(key),
            (Step::Index(i), V::Arr(items)) => items.get_mut(*i),
            _ => None,
        })
    }

    fn remove(&mut self, key: &str) -> Option<V> {
        match self {
            V::Obj(members) => {
                let at = members.iter().position(|(k, _)| k == key)?;
                Some(members.remove(at).1)
            }
            _ => None,
        }
    }

    /// Replaces the member's value, or appends the member.
    fn set(&mut self, key: &str, value: V) {
        if let Some(slot) = self.get_mut(key) {
            *slot = value;
        } else if let V::Obj(members) = self {
            members.push((key.to_owned(), value));
        }
    }

    /// Inserts a member at a position chosen by `rng` (objects only), after `_id`: MongoDB
    /// keeps `_id` first.
    fn insert_somewhere(&mut self, key: &str, value: V, rng: &mut Rng) {
        if let V::Obj(members) = self {
            let after_id = usize::from(members.first().is_some_and(|(k, _)| k == "_id"));
            let at = after_id + rng.below(members.len() + 1 - after_id);
            members.insert(at, (key.to_owned(), value));
        }
    }

    fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            V::Null => Value::Null,
            V::Bool(b) => Value::Bool(*b),
            V::Int(n) => Value::from(*n),
            V::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
            V::Str(s) => Value::String(s.clone()),
            V::Arr(items) => Value::Array(items.iter().map(V::to_serde).collect()),
            V::Obj(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_serde()))
                    .collect(),
            ),
        }
    }

    fn write(&self, out: &mut Vec<u8>, style: Style) {
        match self {
            V::Null => out.extend_from_slice(b"null"),
            V::Bool(true) => out.extend_from_slice(b"true"),
            V::Bool(false) => out.extend_from_slice(b"false"),
            V::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            // Both exporters keep a double recognisable as one: 5.0, not 5.
            V::Float(x) if x.fract() == 0.0 => {
                out.extend_from_slice(format!("{x:.1}").as_bytes());
            }
            V::Float(x) => out.extend_from_slice(x.to_string().as_bytes()),
            V::Str(s) => write_str(out, s, style),
            V::Arr(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(style.comma());
                    }
                    item.write(out, style);
                }
                out.push(b']');
            }
            V::Obj(members) => {
                out.push(b'{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(style.comma());
                    }
                    write_str(out, key, style);
                    out.extend_from_slice(style.colon());
                    value.write(out, style);
                }
                out.push(b'}');
            }
        }
    }

    fn written_len(&self, style: Style, scratch: &mut Vec<u8>) -> usize {
        scratch.clear();
        self.write(scratch, style);
        scratch.len()
    }
}

/// How the exporter that wrote a line spells JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `mongoexport` (Go): compact, UTF-8 as is, `<`, `>`, `&`, U+2028 and U+2029 escaped.
    Mongoexport,
    /// pymongo's `bson.json_util.dumps`: `", "` and `": "`, every non-ASCII character as
    /// `\uXXXX` (surrogate pairs above U+FFFF).
    JsonUtil,
}

impl Style {
    fn comma(self) -> &'static [u8] {
        match self {
            Style::Mongoexport => b",",
            Style::JsonUtil => b", ",
        }
    }

    fn colon(self) -> &'static [u8] {
        match self {
            Style::Mongoexport => b":",
            Style::JsonUtil => b": ",
        }
    }
}

fn write_str(out: &mut Vec<u8>, s: &str, style: Style) {
    fn escape(out: &mut Vec<u8>, unit: u16) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[usize::from((unit >> shift) & 0xf)]);
        }
    }
    out.push(b'"');
    // Runs of characters written as they are are copied at once.
    let mut copied = 0;
    for (i, c) in s.char_indices() {
        let as_is = match c {
            '"' | '\\' => false,
            c if u32::from(c) < 0x20 => false,
            // Both styles escape these (mongoexport as HTML-safe JSON does, json_util as
            // non-ASCII).
            '\u{2028}' | '\u{2029}' => false,
            '<' | '>' | '&' => style != Style::Mongoexport,
            c => c.is_ascii() || style != Style::JsonUtil,
        };
        if as_is {
            continue;
        }
        out.extend_from_slice(&s.as_bytes()[copied..i]);
        copied = i + c.len_utf8();
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    escape(out, *unit);
                }
            }
        }
    }
    out.extend_from_slice(&s.as_bytes()[copied..]);
    out.push(b'"');
}

/// `sha256:` and the hex SHA-256 of the RFC 8785 canonical form of `raw`.
fn content_hash(raw: &V) -> Result<String> {
    let canonical = offline_formats::jcs::canonicalize_value(&raw.to_serde())
        .context("cannot canonicalize a generated content.raw")?;
    Ok(format!("sha256:{}", hex(&Sha256::digest(&canonical))))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---------------------------------------------------------------------------------------
// Dates.

/// 2024-01-01T00:00:00Z: the first document's ingestion.
const BASE_SECONDS: i64 = 1_704_067_200;
/// Seconds between two documents' ingestion (plus jitter below it).
const SPACING_SECONDS: i64 = 97;
const DAY: i64 = 86_400;

/// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` for milliseconds since the Unix epoch.
fn rfc3339(epoch_ms: i64, with_millis: bool) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let millis = epoch_ms.rem_euclid(1000);
    let (days, rem) = (secs.div_euclid(DAY), secs.rem_euclid(DAY));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if with_millis {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    }
}

fn year_of(epoch_s: i64) -> i64 {
    rfc3339(epoch_s * 1000, false)[..4].parse().unwrap_or(2024)
}

fn ext_date(epoch_ms: i64) -> V {
    o! { "$date": rfc3339(epoch_ms, true) }
}

fn ext_oid(oid: &str) -> V {
    o! { "$oid": oid }
}

// ---------------------------------------------------------------------------------------
// What the advisories are made of.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Osv,
    Ghsa,
    Csaf,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Osv => "OSV",
            Format::Ghsa => "GHSA",
            Format::Csaf => "CSAF",
        }
    }

    fn spec_version(self) -> &'static str {
        match self {
            Format::Osv => "1.6.0",
            Format::Ghsa => "2022-11-28",
            Format::Csaf => "2.0",
        }
    }
}

#[derive(Debug)]
struct Vendor {
    vendor: &'static str,
    connector: &'static str,
    version: &'static str,
    format: Format,
    /// Share of its documents that carry an upstream signature.
    signed: f64,
    sig_format: &'static str,
    /// CSAF publisher name and namespace.
    publisher: (&'static str, &'static str),
}

impl Vendor {
    const fn new(
        vendor: &'static str,
        connector: &'static str,
        version: &'static str,
        format: Format,
    ) -> Self {
        Self {
            vendor,
            connector,
            version,
            format,
            signed: 0.0,
            sig_format: "",
            publisher: ("", ""),
        }
    }

    const fn signed(mut self, share: f64, format: &'static str) -> Self {
        self.signed = share;
        self.sig_format = format;
        self
    }

    const fn publisher(mut self, name: &'static str, namespace: &'static str) -> Self {
        self.publisher = (name, namespace);
        self
    }
}

/// The sources, by weight.
#[rustfmt::skip]
const VENDORS: [(&Vendor, u32); 8] = [
    (&Vendor::new("osv", "osv-gcs-mirror", "2.3.1", Format::Osv), 25),
    (&Vendor::new("ubuntu", "ubuntu-osv", "1.8.0", Format::Osv).signed(0.4, "dsse"), 10),
    (&Vendor::new("golang", "govulndb-osv", "0.9.4", Format::Osv), 10),
    (&Vendor::new("github", "ghsa-rest", "4.2.0", Format::Ghsa).signed(0.1, "jws"), 35),
    (
        &Vendor::new("redhat", "csaf-redhat", "3.1.4", Format::Csaf)
            .signed(0.9, "pgp")
            .publisher("Red Hat Product Security", "https://www.redhat.com"),
        8,
    ),
    (
        &Vendor::new("cisco", "csaf-cisco", "1.2.0", Format::Csaf)
            .signed(0.6, "pgp")
            .publisher("Cisco PSIRT", "https://www.cisco.com"),
        4,
    ),
    (
        &Vendor::new("siemens", "csaf-siemens", "1.0.7", Format::Csaf)
            .signed(0.8, "pgp")
            .publisher("Siemens ProductCERT", "https://www.siemens.com"),
        4,
    ),
    (
        &Vendor::new("suse", "csaf-suse", "2.0.1", Format::Csaf)
            .signed(0.5, "pgp")
            .publisher("SUSE Product Security Team", "https://www.suse.com"),
        4,
    ),
];

const TENANTS: [(&str, u32); 4] = [
    ("tenant-a", 40),
    ("tenant-b", 30),
    ("acme-prod", 20),
    ("globex-eu", 10),
];

#[derive(Debug)]
struct Ecosystem {
    /// OSV's name.
    osv: &'static str,
    /// The GitHub advisory API's name.
    github: &'static str,
    purl_type: &'static str,
    packages: &'static [&'static str],
}

/// Index of Go, the only ecosystem of the `golang` source.
const GO: usize = 3;

#[rustfmt::skip]
const ECOSYSTEMS: [Ecosystem; 8] = [
    Ecosystem { osv: "PyPI", github: "pip", purl_type: "pypi", packages: &[
        "django", "requests", "jinja2", "pillow", "cryptography", "urllib3", "pyyaml", "aiohttp",
    ] },
    Ecosystem { osv: "npm", github: "npm", purl_type: "npm", packages: &[
        "lodash", "express", "axios", "minimist", "@babel/traverse", "next", "ws", "@xmldom/xmldom",
    ] },
    Ecosystem { osv: "Maven", github: "maven", purl_type: "maven", packages: &[
        "org.apache.logging.log4j:log4j-core", "com.fasterxml.jackson.core:jackson-databind",
        "org.springframework:spring-web", "io.netty:netty-codec-http2",
        "org.apache.commons:commons-text",
    ] },
    Ecosystem { osv: "Go", github: "go", purl_type: "golang", packages: &[
        "golang.org/x/net", "github.com/gin-gonic/gin", "google.golang.org/grpc",
        "github.com/docker/docker", "golang.org/x/crypto",
    ] },
    Ecosystem { osv: "crates.io", github: "rust", purl_type: "cargo", packages: &[
        "hyper", "openssl", "tokio", "h2", "rustls-webpki", "time",
    ] },
    Ecosystem { osv: "RubyGems", github: "rubygems", purl_type: "gem", packages: &[
        "rails", "nokogiri", "rack", "actionpack",
    ] },
    Ecosystem { osv: "NuGet", github: "nuget", purl_type: "nuget", packages: &[
        "Newtonsoft.Json", "System.Text.Encodings.Web", "Microsoft.Data.SqlClient",
    ] },
    Ecosystem { osv: "Packagist", github: "composer", purl_type: "composer", packages: &[
        "symfony/http-kernel", "laravel/framework", "guzzlehttp/psr7",
    ] },
];

#[rustfmt::skip]
const UBUNTU_PACKAGES: [&str; 8] = [
    "openssl", "curl", "glibc", "linux", "sudo", "libxml2", "openssh", "python3.10",
];
#[rustfmt::skip]
const CSAF_PACKAGES: [&str; 10] = [
    "openssl", "curl", "nginx", "httpd", "kernel", "glibc", "python3.11", "libxml2", "postgresql",
    "git",
];
const CWES: [(&str, &str); 8] = [
    (
        "CWE-79",
        "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
    ),
    ("CWE-787", "Out-of-bounds Write"),
    (
        "CWE-22",
        "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
    ),
    ("CWE-400", "Uncontrolled Resource Consumption"),
    ("CWE-502", "Deserialization of Untrusted Data"),
    ("CWE-918", "Server-Side Request Forgery (SSRF)"),
    (
        "CWE-89",
        "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
    ),
    ("CWE-1333", "Inefficient Regular Expression Complexity"),
];
#[rustfmt::skip]
const PEOPLE: [&str; 10] = [
    "Jürgen Groß", "Zoë Ångström", "Łukasz Wójcik", "田中 太郎", "Ørjan Søreide", "José Núñez",
    "Дмитрий Иванов", "Amélie Lefèvre", "Alex \"0xdeadbeef\" Chen", "Siobhán O'Connor",
];
const HANDLES: [&str; 6] = [
    "jgross", "zoe-a", "lwojcik", "ttanaka", "osoreide", "jnunez",
];

/// Sentences of advisory prose: markdown, quotes, backslashes, HTML, control characters,
/// U+2028, several scripts and an emoji above U+FFFF. `{pkg}` and `{fixed}` are filled in.
const SENTENCES: [&str; 24] = [
    "A crafted request with an overly long `Content-Length` header can exhaust memory in {pkg} before version {fixed}.",
    "The function `parse_header()` does not validate \"quoted-string\" values, which allows HTTP response splitting via \\r\\n sequences.",
    "On Windows, paths such as `C:\\Program Files\\{pkg}\\config.ini` are resolved without canonicalization.",
    "Untrusted input reaches <script> contexts & attribute values without escaping, leading to cross-site scripting.",
    "Die Sicherheitslücke ermöglicht es einem entfernten Angreifer, beliebigen Code auszuführen.",
    "Cette vulnérabilité permet à un attaquant non authentifié de contourner l'authentification.",
    "この脆弱性により、リモートの攻撃者が任意のコードを実行できる可能性があります。",
    "Уязвимость позволяет удалённому злоумышленнику вызвать отказ в обслуживании.",
    "Thanks to the reporters for a clear write-up and a proof of concept 🙏.",
    "\n\n### Impact\nApplications that pass user-controlled archives to {pkg} are affected.",
    "\n\n### Patches\nUpgrade to {fixed} or later; no configuration change is needed.\n",
    "\n\n```\n\tcurl -H 'X-Forwarded-For: 127.0.0.1' http://localhost:8080/admin\n```\n",
    "Log lines that contain \u{1b}[31mANSI escape sequences\u{1b}[0m are written to the terminal unsanitized.",
    "Line separators (\u{2028}) inside JSONP callbacks break out of the string context.",
    "The maximum decompression ratio is not enforced (≈ 100 MB per 100 KB of input).",
    "An attacker who controls the `Host` header can poison the password-reset link.",
    "Deserializing a YAML document with the `!!python/object` tag instantiates arbitrary classes.",
    "The regular expression `^(a+)+$` used to validate e-mail addresses backtracks catastrophically.",
    "Symlinks inside a tar archive are followed when extracting, so files outside the target directory can be overwritten.",
    "Since {pkg} does not bound the HPACK dynamic table, a peer can force quadratic CPU usage.",
    "\n\n### Workarounds\n* Disable the `allow_redirects` option.\n* Put a proxy in front that strips `Transfer-Encoding: chunked`.",
    "Numbers such as 1e999 or -0 are accepted where the schema expects an integer.",
    "SQL fragments in the `order` parameter are concatenated into the query; e.g. `name; DROP TABLE users--`.",
    "Reported by security@example.org (PGP key 0x1234ABCD) — see the ‘Security’ tab.",
];

const REFERENCE_TYPES: [&str; 5] = ["ADVISORY", "WEB", "PACKAGE", "FIX", "REPORT"];

const GHSA_ALPHABET: &[u8; 20] = b"23456789cfghjmpqrvwx";

/// A GHSA id unique to `n` (a bijection of `0..20^12`).
fn ghsa_id(n: u64) -> String {
    const SPACE: u128 = 4_096_000_000_000_000; // 20^12
    let mut x = (u128::from(n) * 25_214_903_917 + 0x1234_5678_9abc) % SPACE;
    let mut chars = [0u8; 12];
    for c in chars.iter_mut().rev() {
        *c = GHSA_ALPHABET[(x % 20) as usize];
        x /= 20;
    }
    let s: String = chars.iter().map(|&b| char::from(b)).collect();
    format!("GHSA-{}-{}-{}", &s[..4], &s[4..8], &s[8..])
}

#[derive(Debug, Clone)]
struct Package {
    ecosystem: String,
    name: String,
    purl: String,
    introduced: String,
    fixed: String,
}

/// What stays the same across the revisions of one upstream advisory.
#[derive(Debug, Clone)]
struct Identity {
    tenant: &'static str,
    vendor: &'static Vendor,
    upstream_id: String,
    cves: Vec<String>,
    ghsas: Vec<String>,
    packages: Vec<Package>,
    cwe: (&'static str, &'static str),
    published_s: i64,
    title: String,
}

impl Identity {
    fn aliases(&self) -> Vec<String> {
        let mut all = vec![self.upstream_id.clone()];
        for id in self.cves.iter().chain(&self.ghsas) {
            if !all.contains(id) {
                all.push(id.clone());
            }
        }
        all
    }
}

/// The latest revision of a clean document, which a later revision may supersede.
#[derive(Debug, Clone)]
struct Lineage {
    identity: Identity,
    oid: String,
    version: u32,
}

/// What a document is made to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Clean,
    Revision,
    Forbidden,
    MergedFrom,
    Missing,
    HashMismatch,
    SignatureWithoutSig,
    Effective,
    UnknownField,
}

/// Lineages kept for later revisions: enough that revisions spread over the corpus.
const LINEAGE_POOL: usize = 4096;

/// Makes documents one after another.
#[derive(Debug)]
pub struct Generator {
    rng: Rng,
    index: u64,
    lineages: Vec<Lineage>,
    scratch: Vec<u8>,
}

impl Default for Generator {
    fn default() -> Self {
        Self::new()
    }
}

impl Generator {
    pub fn new() -> Self {
        Self {
            rng: Rng(SEED),
            index: 0,
            lineages: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn plan(&mut self) -> Plan {
        let roll = self.rng.unit();
        match roll {
            _ if roll < 0.010 => Plan::Forbidden,
            _ if roll < 0.020 => Plan::MergedFrom,
            _ if roll < 0.030 => Plan::Missing,
            _ if roll < 0.035 => Plan::HashMismatch,
            _ if roll < 0.040 => Plan::SignatureWithoutSig,
            _ if roll < 0.050 => Plan::Effective,
            _ if roll < 0.060 => Plan::UnknownField,
            _ if roll < 0.160 && !self.lineages.is_empty() => Plan::Revision,
            _ => Plan::Clean,
        }
    }

    /// Appends the next document, one line with its `\n`, to `out`.
    pub fn next_document(&mut self, out: &mut Vec<u8>) -> Result<Outcome> {
        let index = self.index;
        self.index += 1;
        let plan = self.plan();
        let style = if self.rng.chance(0.2) {
            Style::JsonUtil
        } else {
            Style::Mongoexport
        };
        let now_s =
            BASE_SECONDS + index as i64 * SPACING_SECONDS + self.rng.range(0, SPACING_SECONDS - 1);
        let (identity, version, supersedes) = if plan == Plan::Revision {
            let slot = self.rng.below(self.lineages.len());
            let previous = &self.lineages[slot];
            (
                previous.identity.clone(),
                previous.version + 1,
                Some((slot, previous.oid.clone())),
            )
        } else {
            (self.identity(index, now_s), 1, None)
        };
        // The ObjectId: seconds, then a per-process random part, then a counter.
        let oid = format!("{:08x}a0c0be4c1e{:06x}", now_s as u32, index & 0xff_ffff);
        let modified_s = if version == 1 {
            (identity.published_s + self.rng.range(0, 30 * DAY)).min(now_s - 3600)
        } else {
            now_s - self.rng.range(3600, 2 * DAY)
        };
        let raw = match identity.vendor.format {
            Format::Osv => self.osv(&identity, modified_s),
            Format::Ghsa => self.ghsa(&identity, modified_s),
            Format::Csaf => self.csaf(&identity, modified_s, version),
        };
        let document_version = match identity.vendor.format {
            Format::Csaf => version.to_string(),
            _ => rfc3339(modified_s * 1000, false),
        };
        let mut doc = self.envelope(
            &identity,
            &oid,
            raw,
            now_s,
            document_version,
            supersedes.as_ref().map(|(_, prev)| prev.as_str()),
        );
        // Skewed towards small documents, as feeds are; u·√u rather than powf(1.5), which is
        // not correctly rounded everywhere, so that the bytes are the same on every machine.
        let u = self.rng.unit();
        let target = TARGET_MIN + ((TARGET_MAX - TARGET_MIN) as f64 * u * u.sqrt()) as usize;
        self.grow(&mut doc, identity.vendor, target, style);

        let hash = match doc.at_mut(&[Step::Key("content"), Step::Key("raw")]) {
            Some(raw) => content_hash(raw)?,
            None => anyhow::bail!("generated document {index} has no content.raw"),
        };
        if let Some(slot) = doc.at_mut(&[Step::Key("upstream"), Step::Key("content_hash")]) {
            *slot = hash.into();
        }
        let outcome = self.inject(plan, &mut doc);

        let start = out.len();
        doc.write(out, style);
        let len = out.len() - start;
        if len > MAX_LINE || (len < MIN_LINE && !outcome.no_raw) {
            anyhow::bail!("generated document {index} is {len} bytes, not 1-10 KB");
        }
        out.push(b'\n');

        if outcome.code.is_none() {
            let lineage = Lineage {
                identity,
                oid,
                version,
            };
            match supersedes {
                Some((slot, _)) => self.lineages[slot] = lineage,
                None if self.lineages.len() < LINEAGE_POOL => self.lineages.push(lineage),
                None => {
                    let slot = self.rng.below(LINEAGE_POOL);
                    self.lineages[slot] = lineage;
                }
            }
        }
        Ok(outcome)
    }

    fn identity(&mut self, index: u64, now_s: i64) -> Identity {
        let rng = &mut self.rng;
        let tenant = rng.weighted(&TENANTS);
        let vendor = rng.weighted(&VENDORS);
        let published_s = now_s - rng.range(DAY, 700 * DAY);
        let year = year_of(published_s);
        let cves: Vec<String> = (0..rng.weighted(&[(1, 85), (2, 12), (0, 3)]))
            .map(|_| format!("CVE-{year}-{}", rng.range(1000, 59_999)))
            .collect();
        let serial = 1000 + index;
        let mut ghsas = Vec::new();
        let upstream_id = match (vendor.vendor, vendor.format) {
            ("ubuntu", _) => format!("USN-{serial}-1"),
            ("golang", _) => format!("GO-{year}-{serial:04}"),
            ("redhat", _) => format!("RHSA-{year}:{serial:04}"),
            ("cisco", _) => format!(
                "cisco-sa-{}-{serial:06x}{}",
                rng.pick(&["iosxe", "asa", "webex", "nxos"]),
                rng.hex(2)
            ),
            ("siemens", _) => format!("SSA-{serial:06}"),
            ("suse", _) => format!("SUSE-SU-{year}:{serial:04}-1"),
            (_, Format::Ghsa) => {
                ghsas.push(ghsa_id(index));
                ghsa_id(index)
            }
            _ => match rng.below(3) {
                0 => format!("PYSEC-{year}-{serial}"),
                1 => format!("RUSTSEC-{year}-{serial:04}"),
                _ => {
                    ghsas.push(ghsa_id(index));
                    ghsa_id(index)
                }
            },
        };
        let count = rng.weighted(&[(1, 70), (2, 20), (3, 10)]);
        let mut packages: Vec<Package> = Vec::new();
        for _ in 0..count {
            let candidate = package(rng, vendor);
            if packages.iter().all(|p| p.purl != candidate.purl) {
                packages.push(candidate);
            }
        }
        let cwe = rng.pick(&CWES);
        let title = format!(
            "{} in {}",
            cwe.1.split(" (").next().unwrap_or(cwe.1),
            packages[0].name
        );
        Identity {
            tenant,
            vendor,
            upstream_id,
            cves,
            ghsas,
            packages,
            cwe,
            published_s,
            title,
        }
    }

    fn text(&mut self, sentences: usize, identity: &Identity) -> String {
        let pkg = &identity.packages[0];
        let mut text = String::new();
        for i in 0..sentences {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(
                &self
                    .rng
                    .pick(&SENTENCES)
                    .replace("{pkg}", &pkg.name)
                    .replace("{fixed}", &pkg.fixed),
            );
        }
        text
    }

    fn cvss(&mut self) -> (String, f64) {
        let rng = &mut self.rng;
        let vector = format!(
            "CVSS:3.1/AV:{}/AC:{}/PR:{}/UI:{}/S:{}/C:{}/I:{}/A:{}",
            rng.pick(&["N", "A", "L", "P"]),
            rng.pick(&["L", "H"]),
            rng.pick(&["N", "L", "H"]),
            rng.pick(&["N", "R"]),
            rng.pick(&["U", "C"]),
            rng.pick(&["H", "L", "N"]),
            rng.pick(&["H", "L", "N"]),
            rng.pick(&["H", "L", "N"]),
        );
        // One decimal, so about one score in ten is integral (written 5.0).
        let score = rng.range(31, 98) as f64 / 10.0;
        (vector, score)
    }

    fn references(&mut self, identity: &Identity) -> Vec<(&'static str, String)> {
        let pkg = &identity.packages[0];
        let mut refs = Vec::new();
        for cve in &identity.cves {
            refs.push((
                "ADVISORY",
                format!("https://nvd.nist.gov/vuln/detail/{cve}"),
            ));
        }
        for i in 0..self.rng.range(1, 4) {
            let kind = self.rng.pick(&REFERENCE_TYPES);
            let url = match kind {
                "FIX" => format!(
                    "https://github.com/example/{}/commit/{}",
                    slug(&pkg.name),
                    self.rng.hex(40)
                ),
                "PACKAGE" => format!(
                    "https://packages.example.org/{}/{}",
                    pkg.ecosystem, pkg.name
                ),
                "REPORT" => format!(
                    "https://github.com/example/{}/issues/{}",
                    slug(&pkg.name),
                    self.rng.range(10, 40_000)
                ),
                _ => format!(
                    "https://security.example.org/advisories/{}?lang=en&ref={}-{i}",
                    identity.upstream_id,
                    kind.to_lowercase()
                ),
            };
            refs.push((kind, url));
        }
        refs
    }

    fn osv(&mut self, identity: &Identity, modified_s: i64) -> V {
        let (vector, _) = self.cvss();
        let references = self.references(identity);
        let mut affected = Vec::new();
        for pkg in &identity.packages {
            let mut versions = vec![V::from(&pkg.introduced)];
            versions.extend((1..self.rng.range(1, 3)).map(|i| V::from(bump(&pkg.introduced, i))));
            let mut entry = o! {
                "package": o! { "ecosystem": &pkg.ecosystem, "name": &pkg.name, "purl": &pkg.purl },
                "ranges": a![o! {
                    "type": self.rng.pick(&["ECOSYSTEM", "SEMVER"]),
                    "events": a![o! { "introduced": &pkg.introduced }, o! { "fixed": &pkg.fixed }],
                }],
                "versions": versions,
            };
            if pkg.ecosystem == "Go" {
                let symbols = a!["Server.ServeHTTP", "ParseRequest", "(*Decoder).Decode"];
                entry.set(
                    "ecosystem_specific",
                    o! { "imports": a![o! { "path": &pkg.name, "symbols": symbols }] },
                );
            }
            let source = format!(
                "https://osv-vulnerabilities.storage.googleapis.com/{}/{}.json",
                pkg.ecosystem, identity.upstream_id
            );
            entry.set("database_specific", o! { "source": source });
            affected.push(entry);
        }
        let mut database_specific = o! {
            "cwe_ids": a![identity.cwe.0],
            "severity": self.rng.pick(&["LOW", "MODERATE", "HIGH", "CRITICAL"]),
            "github_reviewed": self.rng.chance(0.8),
            "github_reviewed_at": rfc3339(modified_s * 1000, false),
            "nvd_published_at": V::Null,
        };
        // Upstream feeds may use the AOC's derived names themselves: content.raw is exempt.
        if self.rng.chance(0.05) {
            database_specific.set("cvss_vector", V::from(&vector));
            database_specific.set("effective_severity", "HIGH".into());
            database_specific.set("risk_score", V::Float(7.0));
            database_specific.set("merged_from", a![&identity.upstream_id]);
        }
        let references: Vec<V> = references
            .iter()
            .map(|(kind, url)| o! { "type": *kind, "url": url })
            .collect();
        let mut raw = o! {
            "schema_version": "1.6.0",
            "id": &identity.upstream_id,
            "modified": rfc3339(modified_s * 1000 + self.rng.range(0, 999), true),
            "published": rfc3339(identity.published_s * 1000, false),
            "aliases": strs(&identity.aliases()[1..]),
            "summary": &identity.title,
            "details": self.text(3, identity),
            "affected": affected,
            "references": references,
        };
        if self.rng.chance(0.7) {
            raw.set("severity", a![o! { "type": "CVSS_V3", "score": vector }]);
        }
        if self.rng.chance(0.5) {
            let credit = o! {
                "name": self.rng.pick(&PEOPLE),
                "contact": a![format!("https://github.com/{}", self.rng.pick(&HANDLES))],
                "type": "FINDER",
            };
            raw.set("credits", a![credit]);
        }
        raw.set("database_specific", database_specific);
        raw
    }

    fn ghsa(&mut self, identity: &Identity, modified_s: i64) -> V {
        let (vector, score) = self.cvss();
        let id = &identity.upstream_id;
        let references = self.references(identity);
        let vulnerabilities: Vec<V> = identity
            .packages
            .iter()
            .map(|pkg| {
                o! {
                    "package": o! {
                        "ecosystem": github_ecosystem(&pkg.ecosystem),
                        "name": &pkg.name,
                    },
                    "vulnerable_version_range": format!(">= {}, < {}", pkg.introduced, pkg.fixed),
                    "first_patched_version": &pkg.fixed,
                    "vulnerable_functions": a![],
                }
            })
            .collect();
        let identifiers: Vec<V> = std::iter::once(("GHSA", id))
            .chain(identity.cves.iter().map(|cve| ("CVE", cve)))
            .map(|(kind, value)| o! { "value": value, "type": kind })
            .collect();
        let urls: Vec<&String> = references.iter().map(|(_, url)| url).collect();
        let who = self.rng.below(HANDLES.len());
        let cvss = o! { "vector_string": &vector, "score": score };
        o! {
            "ghsa_id": id,
            "cve_id": identity.cves.first(),
            "url": format!("https://api.github.com/advisories/{id}"),
            "html_url": format!("https://github.com/advisories/{id}"),
            "summary": &identity.title,
            "description": self.text(4, identity),
            "type": "reviewed",
            "severity": severity_of(score).to_lowercase(),
            "repository_advisory_url": V::Null,
            "source_code_location":
                format!("https://github.com/example/{}", slug(&identity.packages[0].name)),
            "identifiers": identifiers,
            "references": strs(&urls),
            "published_at": rfc3339(identity.published_s * 1000, false),
            "updated_at": rfc3339(modified_s * 1000, false),
            "github_reviewed_at": rfc3339(modified_s * 1000, false),
            "nvd_published_at": V::Null,
            "withdrawn_at": V::Null,
            "vulnerabilities": vulnerabilities,
            "cvss": cvss.clone(),
            "cvss_severities": o! {
                "cvss_v3": cvss,
                "cvss_v4": o! { "vector_string": V::Null, "score": 0.0 },
            },
            "cwes": a![o! { "cwe_id": identity.cwe.0, "name": identity.cwe.1 }],
            "credits": a![o! {
                "user": o! {
                    "login": HANDLES[who],
                    "id": self.rng.range(10_000, 150_000_000),
                    "avatar_url":
                        format!("https://avatars.githubusercontent.com/u/{}?v=4", 1000 + who),
                    "html_url": format!("https://github.com/{}", HANDLES[who]),
                    "type": "User",
                    "site_admin": false,
                },
                "type": self.rng.pick(&["reporter", "finder", "analyst"]),
            }],
            "epss": o! {
                "percentage": self.rng.range(40, 97_000) as f64 / 100_000.0,
                "percentile": self.rng.range(1000, 99_999) as f64 / 100_000.0,
            },
        }
    }

    fn csaf(&mut self, identity: &Identity, modified_s: i64, version: u32) -> V {
        let vendor = identity.vendor;
        let (publisher, namespace) = vendor.publisher;
        let (vector, score) = self.cvss();
        let id = &identity.upstream_id;
        let release = rfc3339(modified_s * 1000, false);
        let published = rfc3339(identity.published_s * 1000, false);
        let product_ids: Vec<String> = identity
            .packages
            .iter()
            .map(|p| format!("{}-{}.x86_64", p.name, p.fixed))
            .collect();
        let products: Vec<V> = identity
            .packages
            .iter()
            .zip(&product_ids)
            .map(|(p, product_id)| csaf_product(product_id, &p.purl))
            .collect();
        let revision_history: Vec<V> = (1..=version)
            .map(|n| {
                o! {
                    "date": &release,
                    "number": n.to_string(),
                    "summary": if n == 1 { "Initial version" } else { "Updated packages" },
                }
            })
            .collect();
        let references: Vec<V> = self
            .references(identity)
            .into_iter()
            .enumerate()
            .map(|(i, (_, url))| {
                o! {
                    "category": if i == 0 { "self" } else { "external" },
                    "summary": format!("{id} reference {i}"),
                    "url": url,
                }
            })
            .collect();
        let platform = format!("{publisher} Platform 9");
        let copyright = format!(
            "Copyright © {} {publisher}. All rights reserved.",
            year_of(modified_s)
        );
        let authority = format!(
            "{publisher} is responsible for vulnerability handling across all {} products.",
            vendor.vendor
        );
        let document = o! {
            "aggregate_severity": o! {
                "namespace": format!("{namespace}/security/classification/"),
                "text": severity_of(score),
            },
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "distribution": o! {
                "text": copyright,
                "tlp": o! { "label": "WHITE", "url": "https://www.first.org/tlp/" },
            },
            "lang": "en",
            "notes": a![
                o! { "category": "summary", "text": self.text(1, identity), "title": "Topic" },
                o! { "category": "general", "text": self.text(2, identity), "title": "Details" },
                o! {
                    "category": "legal_disclaimer",
                    "text": "This content is licensed under CC BY 4.0 — «as is», without warranty.",
                    "title": "Terms of Use",
                },
            ],
            "publisher": o! {
                "category": "vendor",
                "contact_details": format!("psirt@{}.example", vendor.vendor),
                "issuing_authority": authority,
                "name": publisher,
                "namespace": namespace,
            },
            "references": references,
            "title": format!("{}: {}", severity_of(score), identity.title),
            "tracking": o! {
                "current_release_date": &release,
                "generator": o! {
                    "date": &release,
                    "engine": o! { "name": "Secvisogram", "version": "1.12.1" },
                },
                "id": id,
                "initial_release_date": &published,
                "revision_history": revision_history,
                "status": "final",
                "version": version.to_string(),
            },
        };
        // Later products go into the architecture branch: see `grow`.
        let product_tree = o! {
            "branches": a![o! {
                "category": "vendor",
                "name": publisher,
                "branches": a![
                    o! {
                        "category": "product_name",
                        "name": &platform,
                        "product": o! {
                            "name": &platform,
                            "product_id": format!("{}-PLATFORM-9", vendor.vendor.to_uppercase()),
                            "product_identification_helper":
                                o! { "cpe": format!("cpe:/o:{}:platform:9", vendor.vendor) },
                        },
                    },
                    o! { "category": "architecture", "name": "x86_64", "branches": products },
                ],
            }],
        };
        let mut vulnerabilities = Vec::new();
        for cve in &identity.cves {
            vulnerabilities.push(o! {
                "cve": cve,
                "cwe": o! { "id": identity.cwe.0, "name": identity.cwe.1 },
                "discovery_date": &published,
                "ids": a![o! {
                    "system_name": "Bugzilla ID",
                    "text": self.rng.range(2_000_000, 2_400_000).to_string(),
                }],
                "notes": a![o! {
                    "category": "description",
                    "text": self.text(2, identity),
                    "title": "Vulnerability description",
                }],
                "product_status": o! { "fixed": strs(&product_ids) },
                "remediations": a![o! {
                    "category": "vendor_fix",
                    "date": &release,
                    "details": "Before applying this update, make sure all previously released \
                                errata relevant to your system have been applied.",
                    "product_ids": strs(&product_ids),
                    "url": format!("{namespace}/errata/{id}"),
                }],
                "scores": a![o! {
                    "cvss_v3": o! {
                        "attackVector": "NETWORK",
                        "baseScore": score,
                        "baseSeverity": severity_of(score).to_uppercase(),
                        "vectorString": &vector,
                        "version": "3.1",
                    },
                    "products": strs(&product_ids),
                }],
                "threats": a![o! { "category": "impact", "details": severity_of(score) }],
                "title": &identity.title,
            });
        }
        o! {
            "document": document,
            "product_tree": product_tree,
            "vulnerabilities": vulnerabilities,
        }
    }

    fn envelope(
        &mut self,
        identity: &Identity,
        oid: &str,
        raw: V,
        now_s: i64,
        document_version: String,
        supersedes: Option<&str>,
    ) -> V {
        let vendor = identity.vendor;
        let ingested_ms = now_s * 1000 + self.rng.range(0, 999);
        let retrieved_ms = ingested_ms - self.rng.range(60_000, 7_200_000);
        let signature = if self.rng.chance(vendor.signed) {
            let len = self.rng.range(64, 560) as usize;
            o! {
                "present": true,
                "format": vendor.sig_format,
                "key_id": self.rng.hex(16).to_uppercase(),
                "sig": base64(&self.rng.bytes(len)),
            }
        } else if self.rng.chance(0.5) {
            o! { "present": false }
        } else {
            o! { "present": false, "format": V::Null, "key_id": V::Null, "sig": V::Null }
        };
        let purls: Vec<&str> = identity.packages.iter().map(|p| p.purl.as_str()).collect();
        let cpes: Vec<String> = match vendor.format {
            Format::Csaf => vec![format!("cpe:/o:{}:platform:9", vendor.vendor)],
            _ if self.rng.chance(0.2) => {
                let product = identity.packages[0].name.replace(['/', ':', '@'], "_");
                vec![format!("cpe:2.3:a:{product}:{product}:*:*:*:*:*:*:*:*")]
            }
            _ => Vec::new(),
        };
        let (references, reconciled_from) =
            linkset_sources(&raw, vendor.format, identity.packages.len());
        o! {
            "_id": ext_oid(oid),
            "tenant": identity.tenant,
            "source": o! {
                "vendor": vendor.vendor,
                "connector": vendor.connector,
                "version": vendor.version,
            },
            "upstream": o! {
                "upstream_id": &identity.upstream_id,
                "document_version": document_version,
                "retrieved_at": ext_date(retrieved_ms),
                // A placeholder of the final length, so that sizes hold while growing.
                "content_hash": format!("sha256:{}", "0".repeat(64)),
                "signature": signature,
            },
            "content": o! {
                "format": vendor.format.name(),
                "spec_version": vendor.format.spec_version(),
                "raw": raw,
            },
            "identifiers": o! {
                "cve": strs(&identity.cves),
                "ghsa": strs(&identity.ghsas),
                "aliases": strs(&identity.aliases()),
            },
            "linkset": o! {
                "purls": strs(&purls),
                "cpes": strs(&cpes),
                "references": references,
                "reconciled_from": strs(&reconciled_from),
            },
            "supersedes": supersedes.map(ext_oid),
            "ingested_at": ext_date(ingested_ms),
            "created_at": ext_date(ingested_ms + self.rng.range(1, 40)),
        }
    }

    /// Adds upstream content (affected versions, prose, products, references) until the line
    /// would pass `target` bytes: each addition's size is known exactly, so the whole document
    /// is written only once here.
    fn grow(&mut self, doc: &mut V, vendor: &Vendor, target: usize, style: Style) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut size = doc.written_len(style, &mut scratch);
        const RAW: [Step; 2] = [Step::Key("content"), Step::Key("raw")];
        let mut counter = 0;
        loop {
            counter += 1;
            // A growth: push an item onto an array, or append to a string.
            let (path, item): (&[Step], V) = match (vendor.format, self.rng.below(10)) {
                (Format::Osv, 0..=6) => (
                    &[Step::Key("affected"), Step::Index(0), Step::Key("versions")],
                    V::Str(format!(
                        "{}.{}.{}",
                        1 + counter / 400,
                        counter / 20 % 20,
                        counter % 20
                    )),
                ),
                (Format::Osv, _) => (&[Step::Key("details")], V::Str(String::new())),
                (Format::Ghsa, 0..=4) => (&[Step::Key("description")], V::Str(String::new())),
                (Format::Ghsa, _) => (
                    &[Step::Key("references")],
                    V::Str(format!(
                        "https://github.com/example/advisories/pull/{}",
                        self.rng.range(1, 99_999)
                    )),
                ),
                (Format::Csaf, 0..=6) => (
                    &[
                        Step::Key("product_tree"),
                        Step::Key("branches"),
                        Step::Index(0),
                        Step::Key("branches"),
                        Step::Index(1),
                        Step::Key("branches"),
                    ],
                    {
                        let name = self.rng.pick(&CSAF_PACKAGES);
                        let release = format!(
                            "{}.{}.{}-{}.el9_{}",
                            self.rng.range(1, 3),
                            self.rng.range(0, 30),
                            self.rng.range(0, 20),
                            self.rng.range(1, 40),
                            self.rng.range(0, 4)
                        );
                        csaf_product(
                            &format!("{name}-{release}.x86_64"),
                            &format!("pkg:rpm/{}/{name}@{release}?arch=x86_64", vendor.vendor),
                        )
                    },
                ),
                (Format::Csaf, _) => (
                    &[
                        Step::Key("document"),
                        Step::Key("notes"),
                        Step::Index(1),
                        Step::Key("text"),
                    ],
                    V::Str(String::new()),
                ),
            };
            let mut full = RAW.to_vec();
            full.extend_from_slice(path);
            let Some(at) = doc.at_mut(&full) else { break };
            let (delta, addition) = match (at, item) {
                (V::Str(_), V::Str(s)) if s.is_empty() => {
                    // Prose: one more sentence; escaping is per character, so the string's
                    // growth is the sentence's own escaped length.
                    let sentence = format!(" {}", self.rng.pick(&SENTENCES));
                    let len = V::Str(sentence.clone()).written_len(style, &mut scratch) - 2;
                    (len, V::Str(sentence))
                }
                (V::Arr(items), item) => {
                    let sep = if items.is_empty() {
                        0
                    } else {
                        style.comma().len()
                    };
                    (sep + item.written_len(style, &mut scratch), item)
                }
                _ => break,
            };
            if size + delta > target {
                break;
            }
            match (doc.at_mut(&full), addition) {
                (Some(V::Str(s)), V::Str(more)) => s.push_str(&more),
                (Some(V::Arr(items)), item) => items.push(item),
                _ => break,
            }
            size += delta;
        }
        self.scratch = scratch;
    }

    /// Makes `doc` violate the rules as `plan` says, exactly once.
    fn inject(&mut self, plan: Plan, doc: &mut V) -> Outcome {
        let rng = &mut self.rng;
        let clean = Outcome {
            code: None,
            variant: "clean",
            revision: false,
            no_raw: false,
        };
        let violation = |code, variant| Outcome {
            code: Some(code),
            variant,
            ..clean
        };
        match plan {
            Plan::Clean => clean,
            Plan::Revision => Outcome {
                variant: "revision",
                revision: true,
                ..clean
            },
            Plan::Forbidden => {
                let name = rng.pick(&FORBIDDEN);
                let value = forbidden_value(name);
                let variant = place(
                    doc,
                    rng,
                    name,
                    value,
                    &[
                        ("ERR_AOC_001 at top level", 40),
                        ("ERR_AOC_001 under linkset", 20),
                        ("ERR_AOC_001 in linkset.references[]", 15),
                        ("ERR_AOC_001 under upstream", 15),
                        ("ERR_AOC_001 under source", 10),
                    ],
                );
                violation("ERR_AOC_001", variant)
            }
            Plan::MergedFrom => {
                let from = V::Arr(vec![ext_oid(&rng.hex(24)), ext_oid(&rng.hex(24))]);
                let variant = place(
                    doc,
                    rng,
                    "merged_from",
                    from,
                    &[
                        ("ERR_AOC_002 at top level", 60),
                        ("ERR_AOC_002 under linkset", 40),
                    ],
                );
                violation("ERR_AOC_002", variant)
            }
            Plan::Effective => {
                let name = rng.pick(&[
                    "effective_severity",
                    "effective_status",
                    "effective_range",
                    "effective_score",
                    "effective_fixed_version",
                ]);
                let value = match name {
                    "effective_score" => V::Float(8.1),
                    "effective_range" => ">= 1.0.0, < 1.4.2".into(),
                    _ => "affected".into(),
                };
                let variant = place(
                    doc,
                    rng,
                    name,
                    value,
                    &[
                        ("ERR_AOC_006 at top level", 50),
                        ("ERR_AOC_006 under linkset", 25),
                        ("ERR_AOC_006 under upstream", 25),
                    ],
                );
                violation("ERR_AOC_006", variant)
            }
            Plan::UnknownField => {
                let (name, value) = rng.pick(&[
                    ("ui_hints", "collapsed"),
                    ("import_batch", "2024-05-nightly-7"),
                    ("legacy_flags", "x-migrated"),
                    ("normalized_title", "memory exhaustion"),
                ]);
                doc.insert_somewhere(name, value.into(), rng);
                violation("ERR_AOC_007", "ERR_AOC_007 unknown top-level field")
            }
            Plan::HashMismatch => {
                if let Some(slot) = doc.at_mut(&[Step::Key("upstream"), Step::Key("content_hash")])
                {
                    *slot = format!("sha256:{}", rng.hex(64)).into();
                }
                violation("ERR_AOC_005", HASH_MISMATCH)
            }
            Plan::SignatureWithoutSig => {
                let mut signature = o! {
                    "present": true,
                    "format": rng.pick(&["pgp", "dsse", "jws"]),
                    "key_id": rng.hex(16).to_uppercase(),
                };
                let variant = if rng.chance(0.5) {
                    signature.set("sig", V::Null);
                    "ERR_AOC_005 signature.present true, sig null"
                } else {
                    "ERR_AOC_005 signature.present true, no sig"
                };
                if let Some(upstream) = doc.get_mut("upstream") {
                    upstream.set("signature", signature);
                }
                violation("ERR_AOC_005", variant)
            }
            Plan::Missing => {
                let (path, how, variant) = rng.pick(&MISSING);
                let Some((&key, parent)) = path.split_last() else {
                    return clean;
                };
                if key == "present" {
                    // No signature left to check either: only `present` is missing.
                    if let Some(upstream) = doc.get_mut("upstream") {
                        upstream.set("signature", o! { "format": V::Null, "sig": V::Null });
                    }
                }
                let parent: Vec<Step> = parent.iter().map(|&k| Step::Key(k)).collect();
                if let Some(parent) = doc.at_mut(&parent) {
                    match how {
                        Missing::Remove => {
                            parent.remove(key);
                        }
                        Missing::Empty => parent.set(key, "".into()),
                        Missing::Malformed => {
                            parent.set(key, format!("sha256:{}", rng.hex(40)).into());
                        }
                    }
                }
                Outcome {
                    no_raw: key == "raw",
                    ..violation("ERR_AOC_004", variant)
                }
            }
        }
    }
}

/// How a required field is spoilt (ERR_AOC_004).
#[derive(Debug, Clone, Copy)]
enum Missing {
    Remove,
    Empty,
    /// Not `sha256:` and 64 hex digits (a SHA-1's 40).
    Malformed,
}

/// The ERR_AOC_004 variants, equally likely: the field, how it is spoilt, the label.
#[rustfmt::skip]
const MISSING: [(&[&str], Missing, &str); 14] = [
    (&["tenant"], Missing::Remove, "ERR_AOC_004 tenant missing"),
    (&["tenant"], Missing::Empty, "ERR_AOC_004 tenant empty"),
    (&["source", "vendor"], Missing::Remove, "ERR_AOC_004 source.vendor missing"),
    (&["source", "vendor"], Missing::Empty, "ERR_AOC_004 source.vendor empty"),
    (&["upstream", "upstream_id"], Missing::Remove, "ERR_AOC_004 upstream.upstream_id missing"),
    (&["upstream", "upstream_id"], Missing::Empty, "ERR_AOC_004 upstream.upstream_id empty"),
    (&["upstream", "retrieved_at"], Missing::Remove, "ERR_AOC_004 upstream.retrieved_at missing"),
    (&["upstream", "content_hash"], Missing::Remove, "ERR_AOC_004 upstream.content_hash missing"),
    (&["upstream", "content_hash"], Missing::Empty, "ERR_AOC_004 upstream.content_hash empty"),
    (
        &["upstream", "content_hash"],
        Missing::Malformed,
        "ERR_AOC_004 upstream.content_hash not sha256:<64 hex>",
    ),
    (
        &["upstream", "signature", "present"],
        Missing::Remove,
        "ERR_AOC_004 upstream.signature.present missing",
    ),
    (&["content", "format"], Missing::Remove, "ERR_AOC_004 content.format missing"),
    (&["content", "format"], Missing::Empty, "ERR_AOC_004 content.format empty"),
    (&["content", "raw"], Missing::Remove, "ERR_AOC_004 content.raw missing"),
];

/// Puts `name: value` at one of the places outside `content` that `places` name, by weight.
fn place(
    doc: &mut V,
    rng: &mut Rng,
    name: &str,
    value: V,
    places: &[(&'static str, u32)],
) -> &'static str {
    let variant = rng.weighted(places);
    let target = if variant.ends_with("top level") {
        Some(&mut *doc)
    } else if variant.ends_with("under linkset") {
        doc.get_mut("linkset")
    } else if variant.ends_with("linkset.references[]") {
        let refs = doc.at_mut(&[Step::Key("linkset"), Step::Key("references")]);
        match refs {
            Some(V::Arr(items)) if !items.is_empty() => {
                let at = rng.below(items.len());
                items.get_mut(at)
            }
            _ => None,
        }
    } else if variant.ends_with("under upstream") {
        doc.get_mut("upstream")
    } else {
        doc.get_mut("source")
    };
    if let Some(target) = target {
        target.insert_somewhere(name, value, rng);
    }
    variant
}

fn forbidden_value(name: &str) -> V {
    match name {
        "severity" => "HIGH".into(),
        "cvss" => V::Float(7.5),
        "cvss_vector" => "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
        "consensus_provider" => "redhat".into(),
        "reachability" => "reachable".into(),
        "asset_criticality" => "high".into(),
        _ => V::Float(87.5),
    }
}

fn package(rng: &mut Rng, vendor: &Vendor) -> Package {
    let (ecosystem, name, purl) = match vendor.vendor {
        "ubuntu" => {
            let name = rng.pick(&UBUNTU_PACKAGES);
            (
                "Ubuntu:22.04:LTS".to_owned(),
                name.to_owned(),
                format!("pkg:deb/ubuntu/{name}?distro=jammy"),
            )
        }
        _ if vendor.format == Format::Csaf => {
            let name = rng.pick(&CSAF_PACKAGES);
            (
                "rpm".to_owned(),
                name.to_owned(),
                format!("pkg:rpm/{}/{name}?arch=x86_64", vendor.vendor),
            )
        }
        _ => {
            let eco = if vendor.vendor == "golang" {
                &ECOSYSTEMS[GO]
            } else {
                &ECOSYSTEMS[rng.below(ECOSYSTEMS.len())]
            };
            let name = rng.pick(eco.packages);
            let path = match eco.purl_type {
                "maven" => name.replace(':', "/"),
                "npm" => name.replace('@', "%40"),
                _ => name.to_owned(),
            };
            (
                eco.osv.to_owned(),
                name.to_owned(),
                format!("pkg:{}/{path}", eco.purl_type),
            )
        }
    };
    let (major, minor) = (rng.range(0, 6), rng.range(0, 30));
    Package {
        ecosystem,
        name,
        purl,
        introduced: format!("{major}.{minor}.0"),
        fixed: format!("{major}.{minor}.{}", rng.range(1, 20)),
    }
}

fn github_ecosystem(osv: &str) -> &'static str {
    ECOSYSTEMS
        .iter()
        .find(|e| e.osv == osv)
        .map_or("other", |e| e.github)
}

fn bump(version: &str, by: i64) -> String {
    match version.rsplit_once('.') {
        Some((head, patch)) => format!("{head}.{}", patch.parse::<i64>().unwrap_or(0) + by),
        None => version.to_owned(),
    }
}

fn severity_of(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "Critical",
        s if s >= 7.0 => "Important",
        s if s >= 4.0 => "Moderate",
        _ => "Low",
    }
}

fn csaf_product(product_id: &str, purl: &str) -> V {
    o! {
        "category": "product_version",
        "name": product_id,
        "product": o! {
            "name": product_id,
            "product_id": product_id,
            "product_identification_helper": o! { "purl": purl },
        },
    }
}

fn slug(name: &str) -> String {
    name.replace(['/', ':', '@'], "-")
}

/// `linkset.references` and `linkset.reconciled_from` as an ingester derives them from raw:
/// the first few upstream references, and JSON Pointers to where each came from.
fn linkset_sources(raw: &V, format: Format, packages: usize) -> (Vec<V>, Vec<String>) {
    let (pointer, items) = match format {
        Format::Osv | Format::Ghsa => ("/references", member(raw, "references")),
        Format::Csaf => (
            "/document/references",
            member(raw, "document").and_then(|d| member(d, "references")),
        ),
    };
    let items: &[V] = match items {
        Some(V::Arr(items)) => items,
        _ => &[],
    };
    let mut refs = Vec::new();
    let mut from = Vec::new();
    for (i, item) in items.iter().take(4).enumerate() {
        let (kind, url, at) = match item {
            V::Str(url) => ("web".to_owned(), url.as_str(), format!("{pointer}/{i}")),
            _ => {
                let kind = member(item, "type").or_else(|| member(item, "category"));
                let url = match member(item, "url") {
                    Some(V::Str(url)) => url.as_str(),
                    _ => continue,
                };
                let kind = match kind {
                    Some(V::Str(kind)) => kind.to_lowercase(),
                    _ => "web".to_owned(),
                };
                (kind, url, format!("{pointer}/{i}/url"))
            }
        };
        refs.push(o! { "type": kind, "url": url });
        from.push(at);
    }
    for i in 0..packages {
        from.push(match format {
            Format::Osv => format!("/affected/{i}/package/purl"),
            Format::Ghsa => format!("/vulnerabilities/{i}/package"),
            Format::Csaf => format!(
                "/product_tree/branches/0/branches/1/branches/{i}/product/product_identification_helper/purl"
            ),
        });
    }
    (refs, from)
}

fn member<'a>(v: &'a V, key: &str) -> Option<&'a V> {
    match v {
        V::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::{HashMap, HashSet};

    /// The rules, checked independently of the generator's bookkeeping (and with the hash,
    /// which jq cannot do): every code found, one entry per violation.
    fn violations(doc: &Value) -> Vec<&'static str> {
        fn keys_outside_content(v: &Value, top: bool, out: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    for (k, child) in map {
                        if top && k == "content" {
                            continue;
                        }
                        out.push(k.clone());
                        keys_outside_content(child, false, out);
                    }
                }
                Value::Array(items) => items
                    .iter()
                    .for_each(|i| keys_outside_content(i, false, out)),
                _ => {}
            }
        }
        let nonempty = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
        let mut found = Vec::new();
        let mut keys = Vec::new();
        keys_outside_content(doc, true, &mut keys);
        for key in &keys {
            if FORBIDDEN.contains(&key.as_str()) {
                found.push("ERR_AOC_001");
            } else if key == "merged_from" {
                found.push("ERR_AOC_002");
            } else if key.starts_with("effective_") {
                found.push("ERR_AOC_006");
            }
        }
        let hash = &doc["upstream"]["content_hash"];
        let hash_ok = hash.as_str().is_some_and(|h| {
            h.len() == 71
                && h.starts_with("sha256:")
                && h[7..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        let raw = &doc["content"]["raw"];
        let required = [
            nonempty(&doc["tenant"]),
            nonempty(&doc["source"]["vendor"]),
            nonempty(&doc["upstream"]["upstream_id"]),
            nonempty(&doc["upstream"]["retrieved_at"]["$date"]),
            hash_ok,
            doc["upstream"]["signature"]["present"].is_boolean(),
            nonempty(&doc["content"]["format"]),
            raw.as_object().is_some_and(|m| !m.is_empty()),
        ];
        found.extend(required.iter().filter(|ok| !**ok).map(|_| "ERR_AOC_004"));
        if hash_ok && raw.is_object() {
            let canonical = offline_formats::jcs::canonicalize_value(raw).unwrap();
            let actual = format!("sha256:{}", hex(&Sha256::digest(&canonical)));
            if hash.as_str() != Some(actual.as_str()) {
                found.push("ERR_AOC_005");
            }
        }
        let signature = &doc["upstream"]["signature"];
        if signature["present"] == Value::Bool(true) && !nonempty(&signature["sig"]) {
            found.push("ERR_AOC_005");
        }
        for key in doc.as_object().unwrap().keys() {
            let named = KNOWN_TOP_LEVEL.contains(&key.as_str())
                || FORBIDDEN.contains(&key.as_str())
                || key == "merged_from"
                || key.starts_with("effective_");
            if !named {
                found.push("ERR_AOC_007");
            }
        }
        found
    }

    fn generate(n: usize) -> (Vec<u8>, Vec<Outcome>) {
        let mut generator = Generator::new();
        let mut out = Vec::new();
        let outcomes = (0..n)
            .map(|_| generator.next_document(&mut out).unwrap())
            .collect();
        (out, outcomes)
    }

    #[test]
    fn every_document_carries_exactly_its_planned_violation() {
        let (out, outcomes) = generate(6000);
        let text = std::str::from_utf8(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), outcomes.len());
        let mut seen_codes = HashSet::new();
        for (i, (line, outcome)) in lines.iter().zip(&outcomes).enumerate() {
            let doc: Value = serde_json::from_str(line).unwrap();
            let found = violations(&doc);
            let expected: Vec<&str> = outcome.code.into_iter().collect();
            assert_eq!(
                found, expected,
                "document {i} ({}): {line}",
                outcome.variant
            );
            seen_codes.extend(outcome.code);
        }
        assert_eq!(seen_codes.len(), CODES.len(), "every code appears");
    }

    #[test]
    fn lines_are_1_to_10_kb_and_spelled_by_both_exporters() {
        let (out, outcomes) = generate(3000);
        let text = std::str::from_utf8(&out).unwrap();
        let (mut go, mut python) = (0, 0);
        for (line, outcome) in text.lines().zip(&outcomes) {
            assert!(line.len() <= MAX_LINE, "{} bytes", line.len());
            if !outcome.no_raw {
                assert!(line.len() >= MIN_LINE, "{} bytes: {line}", line.len());
            }
            if line.starts_with("{\"_id\":{\"$oid\":") {
                go += 1;
            } else if line.starts_with("{\"_id\": {\"$oid\": ") {
                python += 1;
            }
        }
        assert_eq!(go + python, outcomes.len());
        assert!(
            python > 300 && go > 2000,
            "{go} mongoexport, {python} json_util"
        );
        // Non-ASCII both raw and escaped (surrogate pairs too), HTML escapes, integral doubles.
        for needle in [
            "ü",
            "\\u00fc",
            "\\ud83d\\ude4f",
            "\\u003c",
            "\\u2028",
            ":7.0",
            "\\u001b",
        ] {
            assert!(text.contains(needle), "no `{needle}` in the corpus");
        }
    }

    #[test]
    fn revisions_supersede_an_earlier_clean_document_of_the_same_advisory() {
        let (out, outcomes) = generate(4000);
        let text = std::str::from_utf8(&out).unwrap();
        let mut by_id: HashMap<String, Value> = HashMap::new();
        let mut unique_keys = HashSet::new();
        let mut revisions = 0;
        for (line, outcome) in text.lines().zip(&outcomes) {
            let doc: Value = serde_json::from_str(line).unwrap();
            let id = doc["_id"]["$oid"].as_str().unwrap().to_owned();
            let key = (
                doc["tenant"].clone(),
                doc["source"]["vendor"].clone(),
                doc["upstream"]["upstream_id"].clone(),
                doc["upstream"]["content_hash"].clone(),
            );
            assert!(
                unique_keys.insert(key.to_string_key()),
                "duplicate key in {id}"
            );
            if outcome.revision {
                revisions += 1;
                let previous_id = doc["supersedes"]["$oid"].as_str().unwrap();
                let previous = &by_id[previous_id];
                assert!(violations(previous).is_empty());
                for pointer in ["/tenant", "/source/vendor", "/upstream/upstream_id"] {
                    assert_eq!(doc.pointer(pointer), previous.pointer(pointer));
                }
                assert_ne!(
                    doc["upstream"]["content_hash"],
                    previous["upstream"]["content_hash"]
                );
            } else {
                assert!(doc["supersedes"].is_null());
            }
            assert!(by_id.insert(id, doc).is_none(), "duplicate _id");
        }
        let share = revisions as f64 / outcomes.len() as f64;
        assert!((0.07..0.13).contains(&share), "{share}");
    }

    trait StringKey {
        fn to_string_key(&self) -> String;
    }
    impl StringKey for (Value, Value, Value, Value) {
        fn to_string_key(&self) -> String {
            format!("{}|{}|{}|{}", self.0, self.1, self.2, self.3)
        }
    }

    #[test]
    fn tally_counts_what_was_written() {
        let dir = tempfile_dir();
        let path = dir.join("corpus.ndjson");
        let tally = write_corpus(&path, 2 << 20, |_| {}).unwrap();
        let (out, outcomes) = generate(tally.documents as usize);
        assert_eq!(fs::read(&path).unwrap(), out);
        assert!(tally.bytes >= 2 << 20);
        assert_eq!(
            tally.violating(),
            outcomes.iter().filter(|o| o.code.is_some()).count() as u64
        );
        for code in CODES {
            let n = outcomes.iter().filter(|o| o.code == Some(code)).count() as u64;
            assert_eq!(tally.by_code[code], n, "{code}");
        }
        assert_eq!(
            tally.jq_violating() + tally.hash_mismatches(),
            tally.violating()
        );
        assert!(tally.hash_mismatches() > 0);
        fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-aoc-gen-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The first documents, pinned: when this fails the generated bytes changed, so bump
    /// [`GENERATOR_VERSION`] (cached corpora are keyed by it) and update the digest.
    #[test]
    fn output_is_pinned_to_the_generator_version() {
        let (out, _) = generate(500);
        assert_eq!(GENERATOR_VERSION, 1);
        assert_eq!(
            hex(&Sha256::digest(&out)),
            "7262775b63291a6bc592126cc629ff4b7faaa092ce948a65a11429a8e4910f07"
        );
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0, false), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(BASE_SECONDS * 1000 + 5, true),
            "2024-01-01T00:00:00.005Z"
        );
        assert_eq!(rfc3339(951_825_600_000, false), "2000-02-29T12:00:00Z");
        assert_eq!(rfc3339(4_102_444_799_999, true), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn ghsa_ids_are_distinct_and_well_formed() {
        let ids: HashSet<String> = (0..10_000).map(ghsa_id).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 19 && id.starts_with("GHSA-")));
    }

    #[test]
    fn writer_spells_json_as_each_exporter_does() {
        let v = o! { "a": "<é😀\u{1}\u{2028}\"\\>", "b": a![5.0, 0.25, -3] };
        let mut out = Vec::new();
        v.write(&mut out, Style::Mongoexport);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":"\u003cé😀\u0001\u2028\"\\\u003e","b":[5.0,0.25,-3]}"#
        );
        let mut out = Vec::new();
        v.write(&mut out, Style::JsonUtil);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a": "<\u00e9\ud83d\ude00\u0001\u2028\"\\>", "b": [5.0, 0.25, -3]}"#
        );
    }
}
