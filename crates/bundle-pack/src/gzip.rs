//! Parallel-friendly gzip: the archive is a series of independent gzip members, one per
//! fixed-size slice of the tar stream, so slices compress on any thread and the bytes do
//! not depend on how many threads ran. `gzip`, `tar` and Python read multi-member files.

use libdeflater::{CompressionLvl, Compressor};

/// Fixed gzip header: no name, no comment, mtime 0, no extra flags, OS 255 ("unknown")
/// so that the bytes are the same on every platform.
pub const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
/// Length of the gzip trailer: CRC-32 and length.
const TRAILER_LEN: usize = 8;
/// Largest payload of one stored deflate block.
const STORED_MAX: usize = 65_535;
/// Size of one probe sample.
const PROBE_SAMPLE: usize = 16 * 1024;
/// Number of samples taken across a slice.
const PROBE_SAMPLES: usize = 4;
/// Samples whose bytes look like at least this many equally likely symbols (Rényi
/// entropy of order 2 ≥ log2 of it, about 7.4 bits per byte) are taken as incompressible:
/// random, encrypted or already compressed data. Text and most binaries score far lower.
const PROBE_EFFECTIVE_SYMBOLS: u64 = 169;

/// How slices are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Stored deflate blocks only.
    Store,
    /// Always deflate at this level (1–9), falling back to stored blocks when that is
    /// smaller.
    Fixed(u8),
    /// Level 6 where a quick probe shows the data compresses, stored blocks where not.
    Auto,
}

/// Per-thread compression state (libdeflate compressors are not shared between threads).
pub struct MemberEncoder {
    level: Level,
    compressor: Option<Compressor>,
}

impl std::fmt::Debug for MemberEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberEncoder")
            .field("level", &self.level)
            .finish()
    }
}

impl MemberEncoder {
    /// An encoder for one worker thread.
    pub fn new(level: Level) -> Self {
        let lvl = |n: u8| CompressionLvl::new(i32::from(n)).unwrap_or_default();
        let compressor = match level {
            Level::Store => None,
            Level::Fixed(n) => Some(Compressor::new(lvl(n))),
            Level::Auto => Some(Compressor::new(lvl(6))),
        };
        Self { level, compressor }
    }

    /// Encodes one slice of the tar stream as a complete gzip member appended to `out`.
    #[cfg(test)]
    pub fn encode(&mut self, slice: &[u8], out: &mut Vec<u8>) {
        let mut member = Vec::new();
        match self.deflate_into(slice, &mut member) {
            Some(len) => out.extend_from_slice(&member[..len]),
            None => out.extend_from_slice(&stored_member(slice)),
        }
    }

    /// Deflates `slice` into a whole gzip member at the start of `buffer` when the level and
    /// the probe say it pays, and returns the member's length. Returns `None` when the slice
    /// should be stored instead (the caller can then write it without copying, see
    /// [`StoredMember`]). `buffer` grows to the room it needs and never shrinks, so a buffer
    /// used again is not cleared again.
    pub fn deflate_into(&mut self, slice: &[u8], buffer: &mut Vec<u8>) -> Option<usize> {
        let compress = match self.level {
            Level::Store => false,
            Level::Fixed(_) => true,
            Level::Auto => looks_compressible(slice),
        };
        let compressor = self.compressor.as_mut().filter(|_| compress)?;
        let body = HEADER.len();
        // Room for exactly the stored size: if deflate needs more, it is not worth it.
        let stored = stored_len(slice.len());
        let room = body + stored + TRAILER_LEN;
        if buffer.len() < room {
            buffer.resize(room, 0);
        }
        match compressor.deflate_compress(slice, &mut buffer[body..body + stored]) {
            Ok(n) if n < stored => {
                buffer[..body].copy_from_slice(&HEADER);
                buffer[body + n..body + n + TRAILER_LEN].copy_from_slice(&trailer(slice));
                Some(body + n + TRAILER_LEN)
            }
            _ => None,
        }
    }
}

/// The gzip trailer of a member holding `slice`: CRC-32 and length, little-endian.
pub fn trailer(slice: &[u8]) -> [u8; TRAILER_LEN] {
    let mut out = [0u8; TRAILER_LEN];
    out[..4].copy_from_slice(&crc32(slice).to_le_bytes());
    out[4..].copy_from_slice(&(slice.len() as u32).to_le_bytes());
    out
}

/// A stored gzip member described by its framing, so that a writer can send the slice's
/// own bytes with vectored I/O instead of copying them into a new buffer.
#[derive(Debug)]
pub struct StoredMember {
    block_headers: Vec<[u8; 5]>,
    trailer: [u8; TRAILER_LEN],
}

impl StoredMember {
    /// Framing for `slice` as stored blocks.
    pub fn new(slice: &[u8]) -> Self {
        let count = slice.len().div_ceil(STORED_MAX).max(1);
        let block_headers = (0..count)
            .map(|i| {
                let len = slice.len().saturating_sub(i * STORED_MAX).min(STORED_MAX) as u16;
                let [l0, l1] = len.to_le_bytes();
                let [n0, n1] = (!len).to_le_bytes();
                [u8::from(i + 1 == count), l0, l1, n0, n1]
            })
            .collect();
        Self {
            block_headers,
            trailer: trailer(slice),
        }
    }

    /// The member as I/O slices: header, (block header, block)…, trailer. `slice` must be
    /// the one given to [`StoredMember::new`].
    pub fn io_slices<'a>(&'a self, slice: &'a [u8]) -> Vec<std::io::IoSlice<'a>> {
        let mut parts = Vec::with_capacity(2 * self.block_headers.len() + 2);
        parts.push(std::io::IoSlice::new(&HEADER));
        let mut blocks = slice.chunks(STORED_MAX);
        for header in &self.block_headers {
            parts.push(std::io::IoSlice::new(header));
            if let Some(block) = blocks.next() {
                parts.push(std::io::IoSlice::new(block));
            }
        }
        parts.push(std::io::IoSlice::new(&self.trailer));
        parts
    }
}

/// The `auto` probe: a byte histogram over a few samples spread across the slice. It is
/// integer-only, so the choice (and so the output) is the same on every machine, and it
/// costs a few microseconds where a trial compression would cost milliseconds.
pub fn looks_compressible(slice: &[u8]) -> bool {
    if slice.len() <= PROBE_SAMPLE * PROBE_SAMPLES {
        return true;
    }
    let stride = (slice.len() - PROBE_SAMPLE) / (PROBE_SAMPLES - 1);
    let mut counts = [0u64; 256];
    for i in 0..PROBE_SAMPLES {
        for &byte in &slice[i * stride..i * stride + PROBE_SAMPLE] {
            counts[usize::from(byte)] += 1;
        }
    }
    let n = (PROBE_SAMPLE * PROBE_SAMPLES) as u64;
    let collisions: u64 = counts.iter().map(|c| c * c).sum();
    // n² / Σc² is the effective number of symbols; compressible when it is small.
    collisions * PROBE_EFFECTIVE_SYMBOLS > n * n
}

/// CRC-32 (gzip's) of a slice.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(bytes);
    hasher.finalize()
}

/// Length of `len` bytes written as stored deflate blocks (5 bytes of framing per block;
/// an empty input still needs one empty final block).
pub fn stored_len(len: usize) -> usize {
    len + 5 * len.div_ceil(STORED_MAX).max(1)
}

/// Exact length of a gzip member that holds `len` bytes in stored blocks.
pub fn stored_member_len(len: usize) -> usize {
    HEADER.len() + stored_len(len) + TRAILER_LEN
}

/// A whole gzip member made of stored blocks, copied into one buffer (tests read it back).
#[cfg(test)]
pub fn stored_member(bytes: &[u8]) -> Vec<u8> {
    let framing = StoredMember::new(bytes);
    framing
        .io_slices(bytes)
        .iter()
        .flat_map(|part| part.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    use crate::test_data::noise;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn members_concatenate_and_round_trip() {
        let text = b"apiVersion: v1\nkind: ConfigMap\n".repeat(40_000);
        let random = noise(300_000, 7);
        for level in [Level::Store, Level::Fixed(1), Level::Fixed(9), Level::Auto] {
            let mut enc = MemberEncoder::new(level);
            let mut out = Vec::new();
            enc.encode(&text, &mut out);
            enc.encode(&random, &mut out);
            enc.encode(b"", &mut out);
            let mut expected = text.clone();
            expected.extend_from_slice(&random);
            assert_eq!(gunzip(&out), expected, "{level:?}");
        }
    }

    #[test]
    fn a_reused_buffer_gives_the_same_member_as_a_fresh_one() {
        let text = b"apiVersion: apps/v1\nkind: Deployment\n".repeat(30_000);
        let mut fresh = Vec::new();
        let fresh_len = MemberEncoder::new(Level::Auto)
            .deflate_into(&text, &mut fresh)
            .unwrap();
        // A buffer left longer and dirty by an earlier, larger slice.
        let mut reused = vec![0xAA; 3 << 20];
        let reused_len = MemberEncoder::new(Level::Auto)
            .deflate_into(&text, &mut reused)
            .unwrap();
        assert_eq!(reused.len(), 3 << 20, "the buffer is not shrunk");
        assert_eq!(&reused[..reused_len], &fresh[..fresh_len]);
        assert_eq!(gunzip(&reused[..reused_len]), text);
    }

    #[test]
    fn auto_stores_noise_and_compresses_text() {
        let mut enc = MemberEncoder::new(Level::Auto);
        let random = noise(1 << 20, 3);
        let mut out = Vec::new();
        enc.encode(&random, &mut out);
        assert_eq!(out.len(), stored_member_len(random.len()));
        let text = b"kind: Deployment\nmetadata:\n  name: scanner\n".repeat(20_000);
        let mut out = Vec::new();
        enc.encode(&text, &mut out);
        assert!(out.len() < text.len() / 10);
    }

    #[test]
    fn stored_member_has_the_predicted_length() {
        for len in [0usize, 1, 65_535, 65_536, 200_000] {
            let bytes = noise(len, 11);
            let member = stored_member(&bytes);
            assert_eq!(member.len(), stored_member_len(len));
            assert_eq!(gunzip(&member), bytes);
        }
    }
}
