//! Wire formats shared by every Offline Ops tool: the documents that flow between them
//! (bundle manifest, DSSE envelope, trust root, approval, verify, threshold, rotation,
//! trust-chain, key-status and AOC reports, stage receipts and indexes), RFC 8785 canonical
//! JSON, streaming digests, RFC 6962 Merkle trees, Ed25519 public keys, the K-of-N signature
//! counting rules and the trust-root rotation rules.
//!
//! Tools depend on this crate and never on each other, so every tool reads and writes
//! exactly the same bytes.

pub mod aoc_report;
pub mod approval;
pub mod digest;
pub mod envelope;
pub mod error;
pub mod jcs;
pub mod key_status;
pub mod keys;
pub mod manifest;
pub mod merkle;
pub mod rotation;
pub mod schema;
pub mod stage;
pub mod sums;
pub mod threshold;
pub mod timestamp;
pub mod trust;
pub mod verify_report;

pub use error::FormatError;
