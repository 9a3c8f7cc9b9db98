//! Streaming digests: SHA-256 and BLAKE3 in one pass, `sha256:<hex>` strings and
//! constant-time comparison.

use crate::FormatError;
use sha2::{Digest as _, Sha256};
use std::io::{self, Read};
use subtle::ConstantTimeEq;

/// Size of the read buffer used by [`digest_reader`].
const READ_BUFFER: usize = 256 * 1024;

/// SHA-256 and BLAKE3 of one byte stream, with its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digests {
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
    /// BLAKE3 of the bytes.
    pub blake3: [u8; 32],
    /// Number of bytes.
    pub size: u64,
}

impl Digests {
    /// Lowercase hex SHA-256.
    pub fn sha256_hex(&self) -> String {
        lower_hex(&self.sha256)
    }

    /// Lowercase hex BLAKE3.
    pub fn blake3_hex(&self) -> String {
        lower_hex(&self.blake3)
    }
}

/// Lowercase hex of `bytes`, as `hex::encode` gives it, without its per-character
/// iterator: a manifest of many files formats two digests a file, twice per run.
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Computes SHA-256 and BLAKE3 together over bytes fed in pieces.
#[derive(Debug, Clone, Default)]
pub struct DualHasher {
    sha256: Sha256,
    blake3: blake3::Hasher,
    size: u64,
}

impl DualHasher {
    /// A hasher that has seen no bytes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.blake3.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// Bytes fed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Finishes both digests.
    pub fn finalize(self) -> Digests {
        Digests {
            sha256: self.sha256.finalize().into(),
            blake3: *self.blake3.finalize().as_bytes(),
            size: self.size,
        }
    }
}

/// Reads `reader` to the end once, hashing with SHA-256 and BLAKE3 as it goes.
pub fn digest_reader<R: Read>(reader: R) -> io::Result<Digests> {
    let mut hasher = DualHasher::new();
    read_through(reader, |bytes| hasher.update(bytes))?;
    Ok(hasher.finalize())
}

/// Reads `reader` to the end once, hashing with SHA-256 only; returns the digest and the
/// length.
pub fn sha256_reader<R: Read>(reader: R) -> io::Result<([u8; 32], u64)> {
    let mut hasher = Sha256::new();
    let size = read_through(reader, |bytes| hasher.update(bytes))?;
    Ok((hasher.finalize().into(), size))
}

/// Reads `reader` to the end once, hashing with BLAKE3 only; returns the digest and the
/// length.
pub fn blake3_reader<R: Read>(reader: R) -> io::Result<([u8; 32], u64)> {
    let mut hasher = blake3::Hasher::new();
    let size = read_through(reader, |bytes| {
        hasher.update(bytes);
    })?;
    Ok((*hasher.finalize().as_bytes(), size))
}

/// Feeds everything `reader` gives to `consume`, a buffer at a time; returns the length.
fn read_through<R: Read>(mut reader: R, mut consume: impl FnMut(&[u8])) -> io::Result<u64> {
    let mut buffer = vec![0u8; READ_BUFFER];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => return Ok(size),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        consume(&buffer[..n]);
        size += n as u64;
    }
}

/// SHA-256 of a byte slice.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Formats a SHA-256 as `sha256:<lowercase hex>`.
pub fn sha256_prefixed(digest: &[u8; 32]) -> String {
    format!("sha256:{}", hex::encode(digest))
}

/// Parses `sha256:<64 lowercase hex>`.
pub fn parse_sha256_prefixed(value: &str) -> Result<[u8; 32], FormatError> {
    let hex_part = value
        .strip_prefix("sha256:")
        .ok_or_else(|| FormatError::InvalidDigest {
            value: value.to_owned(),
            reason: "expected the `sha256:` prefix",
        })?;
    parse_hex32(hex_part).map_err(|reason| FormatError::InvalidDigest {
        value: value.to_owned(),
        reason,
    })
}

/// Parses 64 lowercase hex digits.
pub fn parse_hex32(value: &str) -> Result<[u8; 32], &'static str> {
    if value.len() != 64 {
        return Err("expected 64 hex digits");
    }
    if value.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err("expected lowercase hex");
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(value, &mut out).map_err(|_| "expected hex digits")?;
    Ok(out)
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_for_abc() {
        let d = digest_reader(&b"abc"[..]).unwrap();
        assert_eq!(
            d.sha256_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            d.blake3_hex(),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
        assert_eq!(d.size, 3);
    }

    #[test]
    fn lower_hex_matches_the_hex_crate() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(lower_hex(&bytes), hex::encode(&bytes));
        assert_eq!(lower_hex(&[]), "");
    }

    #[test]
    fn sha256_reader_agrees_with_the_dual_digest() {
        let data = vec![7u8; 3 * READ_BUFFER + 11];
        let (sha, size) = sha256_reader(&data[..]).unwrap();
        let both = digest_reader(&data[..]).unwrap();
        assert_eq!((sha, size), (both.sha256, both.size));
    }

    #[test]
    fn blake3_reader_agrees_with_the_dual_digest_and_blake3_itself() {
        let data: Vec<u8> = (0..3 * READ_BUFFER + 11).map(|i| (i % 251) as u8).collect();
        let (b3, size) = blake3_reader(&data[..]).unwrap();
        let both = digest_reader(&data[..]).unwrap();
        assert_eq!((b3, size), (both.blake3, both.size));
        assert_eq!(b3, *blake3::hash(&data).as_bytes());
    }

    #[test]
    fn prefixed_round_trip_and_rejections() {
        let d = sha256(b"");
        let s = sha256_prefixed(&d);
        assert_eq!(parse_sha256_prefixed(&s).unwrap(), d);
        assert!(parse_sha256_prefixed(&s.to_uppercase()).is_err());
        assert!(parse_sha256_prefixed(&s[7..]).is_err());
        assert!(parse_sha256_prefixed(&s[..70]).is_err());
        assert!(parse_sha256_prefixed(&format!("{}zz", &s[..69])).is_err());
    }

    #[test]
    fn constant_time_equality() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
