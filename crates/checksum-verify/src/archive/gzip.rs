//! Our own gzip framing over a raw-deflate inflater: any number of members (bundle-pack
//! writes one per MiB of tar), each header parsed, each trailer's CRC-32 and length checked,
//! and nothing accepted after the last member. Expansion is watched as it happens so a
//! decompression bomb stops after at most one buffer past the limit.

use flate2::{Decompress, FlushDecompress, Status};

/// Longest file name or comment a gzip header may carry before we call it hostile.
const MAX_HEADER_TEXT: usize = 64 * 1024;
/// Expansion below this many bytes is never a bomb: tiny archives of zeros legitimately
/// reach high ratios (a tar's end blocks alone are 1 KiB of zeros).
pub const RATIO_FLOOR: u64 = 1024 * 1024;

/// How far the stream may expand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Most expanded bytes per compressed byte (`--max-expand`).
    pub max_ratio: f64,
    /// Most expanded bytes in all (`--max-size`, or what the manifest accounts for).
    pub max_size: Option<u64>,
}

/// Why the compressed stream cannot be read on. Each ends the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GzipFault {
    /// The input is empty or does not start with a gzip header.
    NotGzip,
    /// The input ends inside a member.
    Truncated,
    /// The deflate data or a header is corrupt.
    Corrupt(String),
    /// Bytes follow the last member.
    TrailingGarbage { offset: u64 },
    /// The expansion ratio passed `--max-expand`.
    Ratio {
        expanded: u64,
        compressed: u64,
        max_ratio: String,
    },
    /// The expanded size passed the limit.
    Size { limit: u64 },
}

impl std::fmt::Display for GzipFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GzipFault::NotGzip => f.write_str("not a gzip stream"),
            GzipFault::Truncated => f.write_str("truncated archive (the gzip stream ends early)"),
            GzipFault::Corrupt(why) => write!(f, "corrupt gzip stream: {why}"),
            GzipFault::TrailingGarbage { offset } => {
                write!(f, "garbage after the last gzip member (at byte {offset})")
            }
            GzipFault::Ratio {
                expanded,
                compressed,
                max_ratio,
            } => write!(
                f,
                "decompression bomb: {expanded} bytes expanded from {compressed} (more than --max-expand {max_ratio})"
            ),
            GzipFault::Size { limit } => write!(
                f,
                "decompression bomb: expands past {limit} bytes (--max-size, or what the manifest accounts for)"
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a member header (or at the end of the input).
    MemberStart,
    /// Inside a member's deflate data.
    Body,
    /// The input ended cleanly after a member.
    Done,
}

/// Inflates a gzip stream that arrives in chunks.
pub struct GzipReader<I, B> {
    chunks: I,
    current: Option<B>,
    pos: usize,
    inflate: Decompress,
    state: State,
    crc: crc32fast::Hasher,
    member_out: u64,
    /// Compressed bytes consumed (headers and trailers included).
    pub total_in: u64,
    /// Bytes produced.
    pub total_out: u64,
    /// Complete members read.
    pub members: u64,
    limits: Limits,
}

impl<I, B> std::fmt::Debug for GzipReader<I, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GzipReader")
            .field("state", &self.state)
            .field("total_in", &self.total_in)
            .field("total_out", &self.total_out)
            .field("members", &self.members)
            .finish()
    }
}

impl<I, B> GzipReader<I, B>
where
    I: Iterator<Item = B>,
    B: AsRef<[u8]>,
{
    /// A reader over the compressed chunks `chunks`.
    pub fn new(chunks: I, limits: Limits) -> Self {
        Self {
            chunks,
            current: None,
            pos: 0,
            inflate: Decompress::new(false),
            state: State::MemberStart,
            crc: crc32fast::Hasher::new(),
            member_out: 0,
            total_in: 0,
            total_out: 0,
            members: 0,
            limits,
        }
    }

    /// Fills `out` with expanded bytes; returns 0 only at the clean end of the stream (every
    /// member complete and checked, nothing after the last).
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, GzipFault> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.state {
                State::Done => return Ok(0),
                State::MemberStart => {
                    if !self.has_input() {
                        if self.members == 0 {
                            return Err(GzipFault::NotGzip);
                        }
                        self.state = State::Done;
                        return Ok(0);
                    }
                    self.read_member_header()?;
                    self.state = State::Body;
                }
                State::Body => {
                    let n = self.inflate_some(out)?;
                    if n > 0 {
                        self.check_limits()?;
                        return Ok(n);
                    }
                }
            }
        }
    }

    /// Inflates into `out`; returns how many bytes were produced (0 when a member ended or
    /// more input was needed).
    fn inflate_some(&mut self, out: &mut [u8]) -> Result<usize, GzipFault> {
        if !self.has_input() {
            return Err(GzipFault::Truncated);
        }
        let Some(chunk) = &self.current else {
            return Err(GzipFault::Truncated);
        };
        let input = &chunk.as_ref()[self.pos..];
        let (in_before, out_before) = (self.inflate.total_in(), self.inflate.total_out());
        let status = self
            .inflate
            .decompress(input, out, FlushDecompress::None)
            .map_err(|e| GzipFault::Corrupt(e.to_string()))?;
        let used = (self.inflate.total_in() - in_before) as usize;
        let produced = (self.inflate.total_out() - out_before) as usize;
        self.pos += used;
        self.total_in += used as u64;
        self.total_out += produced as u64;
        self.member_out += produced as u64;
        self.crc.update(&out[..produced]);
        match status {
            Status::StreamEnd => {
                self.read_trailer()?;
                self.inflate.reset(false);
                self.state = State::MemberStart;
            }
            Status::Ok | Status::BufError => {
                if used == 0 && produced == 0 && self.pos < chunk.as_ref().len() {
                    return Err(GzipFault::Corrupt("the inflater made no progress".into()));
                }
            }
        }
        Ok(produced)
    }

    fn check_limits(&self) -> Result<(), GzipFault> {
        if let Some(limit) = self.limits.max_size {
            if self.total_out > limit {
                return Err(GzipFault::Size { limit });
            }
        }
        if self.total_out > RATIO_FLOOR
            && self.total_out as f64 > self.limits.max_ratio * self.total_in.max(1) as f64
        {
            return Err(GzipFault::Ratio {
                expanded: self.total_out,
                compressed: self.total_in,
                max_ratio: format!("{}", self.limits.max_ratio),
            });
        }
        Ok(())
    }

    /// True when at least one more compressed byte is available (pulling chunks as needed).
    fn has_input(&mut self) -> bool {
        loop {
            if let Some(chunk) = &self.current {
                if self.pos < chunk.as_ref().len() {
                    return true;
                }
            }
            match self.chunks.next() {
                Some(chunk) => {
                    self.current = Some(chunk);
                    self.pos = 0;
                }
                None => {
                    self.current = None;
                    return false;
                }
            }
        }
    }

    fn byte(&mut self) -> Result<u8, GzipFault> {
        if !self.has_input() {
            return Err(GzipFault::Truncated);
        }
        let Some(chunk) = &self.current else {
            return Err(GzipFault::Truncated);
        };
        let b = chunk.as_ref()[self.pos];
        self.pos += 1;
        self.total_in += 1;
        Ok(b)
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], GzipFault> {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.byte()?;
        }
        Ok(out)
    }

    /// RFC 1952 §2.3 member header.
    fn read_member_header(&mut self) -> Result<(), GzipFault> {
        let offset = self.total_in;
        let first = self.byte()?;
        let second = self.byte().map_err(|_| self.not_a_member(offset))?;
        if [first, second] != [0x1f, 0x8b] {
            return Err(self.not_a_member(offset));
        }
        let [method, flags] = self.bytes::<2>()?;
        if method != 8 {
            return Err(GzipFault::Corrupt(format!(
                "compression method {method} (only deflate, 8, exists)"
            )));
        }
        if flags & 0xe0 != 0 {
            return Err(GzipFault::Corrupt(format!(
                "reserved header flags {flags:#04x}"
            )));
        }
        let _mtime_xfl_os = self.bytes::<6>()?;
        if flags & 0x04 != 0 {
            let len = u16::from_le_bytes(self.bytes::<2>()?);
            for _ in 0..len {
                self.byte()?;
            }
        }
        for (bit, what) in [(0x08, "file name"), (0x10, "comment")] {
            if flags & bit != 0 {
                let mut n = 0usize;
                while self.byte()? != 0 {
                    n += 1;
                    if n > MAX_HEADER_TEXT {
                        return Err(GzipFault::Corrupt(format!(
                            "header {what} longer than {MAX_HEADER_TEXT} bytes"
                        )));
                    }
                }
            }
        }
        if flags & 0x02 != 0 {
            self.bytes::<2>()?;
        }
        self.crc = crc32fast::Hasher::new();
        self.member_out = 0;
        Ok(())
    }

    /// What to call bytes at `offset` that are not a member header.
    fn not_a_member(&self, offset: u64) -> GzipFault {
        if self.members == 0 {
            GzipFault::NotGzip
        } else {
            GzipFault::TrailingGarbage { offset }
        }
    }

    /// RFC 1952 §2.3.1 trailer: CRC-32 and length modulo 2^32 of the member's data.
    fn read_trailer(&mut self) -> Result<(), GzipFault> {
        let trailer = self.bytes::<8>()?;
        let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let isize = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        let computed = std::mem::take(&mut self.crc).finalize();
        if crc != computed {
            return Err(GzipFault::Corrupt(format!(
                "member {} CRC-32 {crc:08x} does not match its data ({computed:08x})",
                self.members + 1
            )));
        }
        if u64::from(isize) != self.member_out & 0xffff_ffff {
            return Err(GzipFault::Corrupt(format!(
                "member {} length {isize} does not match its data ({})",
                self.members + 1,
                self.member_out
            )));
        }
        self.members += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::new(6));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    const OPEN: Limits = Limits {
        max_ratio: 1000.0,
        max_size: None,
    };

    fn inflate(input: &[u8], piece: usize, limits: Limits) -> Result<Vec<u8>, GzipFault> {
        let chunks: Vec<Vec<u8>> = input.chunks(piece.max(1)).map(<[u8]>::to_vec).collect();
        let mut r = GzipReader::new(chunks.into_iter(), limits);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 777];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn multi_member_streams_in_any_chunking() {
        let mut input = gz(b"hello ");
        input.extend(gz(&b"world ".repeat(1000)));
        input.extend(gz(b""));
        let want = [&b"hello "[..], &b"world ".repeat(1000)].concat();
        for piece in [1, 3, 10, 100, 100_000] {
            assert_eq!(inflate(&input, piece, OPEN).unwrap(), want, "piece {piece}");
        }
    }

    #[test]
    fn truncation_garbage_and_corruption_are_faults() {
        let input = gz(&b"data ".repeat(1000));
        for cut in [1, 5, 10, input.len() / 2, input.len() - 1] {
            let got = inflate(&input[..cut], 64, OPEN);
            assert!(
                matches!(got, Err(GzipFault::Truncated | GzipFault::NotGzip)),
                "cut {cut}: {got:?}"
            );
        }
        let mut garbage = input.clone();
        garbage.extend_from_slice(b"\0\0");
        assert_eq!(
            inflate(&garbage, 64, OPEN),
            Err(GzipFault::TrailingGarbage {
                offset: input.len() as u64
            })
        );
        let mut bad_crc = input.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 1;
        assert!(matches!(
            inflate(&bad_crc, 64, OPEN),
            Err(GzipFault::Corrupt(_))
        ));
        assert_eq!(inflate(b"", 64, OPEN), Err(GzipFault::NotGzip));
        assert_eq!(inflate(b"PK\x03\x04", 64, OPEN), Err(GzipFault::NotGzip));
    }

    #[test]
    fn bombs_stop_at_the_limits() {
        let zeros = gz(&vec![0u8; 8 << 20]);
        let ratio = inflate(
            &zeros,
            4096,
            Limits {
                max_ratio: 100.0,
                max_size: None,
            },
        );
        assert!(matches!(ratio, Err(GzipFault::Ratio { .. })), "{ratio:?}");
        let size = inflate(
            &zeros,
            4096,
            Limits {
                max_ratio: 1e9,
                max_size: Some(1 << 20),
            },
        );
        assert_eq!(size, Err(GzipFault::Size { limit: 1 << 20 }));
        // Zeros deflate about 1030:1, just past the default ratio.
        assert!(matches!(
            inflate(&zeros, 4096, OPEN),
            Err(GzipFault::Ratio { .. })
        ));
        let generous = Limits {
            max_ratio: 2000.0,
            max_size: None,
        };
        assert_eq!(inflate(&zeros, 4096, generous).unwrap().len(), 8 << 20);
    }
}
