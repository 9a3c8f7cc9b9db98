//! Wire formats shared by every Offline Ops tool: the documents that flow between them
//! (bundle manifest, DSSE envelope, trust root, verify report, AOC report), RFC 8785
//! canonical JSON, streaming digests and RFC 6962 Merkle trees.
//!
//! Tools depend on this crate and never on each other, so every tool reads and writes
//! exactly the same bytes.

pub mod aoc_report;
pub mod digest;
pub mod envelope;
pub mod error;
pub mod jcs;
pub mod manifest;
pub mod merkle;
pub mod schema;
pub mod sums;
pub mod timestamp;
pub mod trust;
pub mod verify_report;

pub use error::FormatError;
