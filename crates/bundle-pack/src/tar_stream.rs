//! POSIX tar headers written the deterministic way: ustar, owner 0:0 with empty names,
//! one fixed mtime, normalised modes, and a PAX record only when a path or size needs one.

/// Size of a tar block.
pub const BLOCK: usize = 512;
/// Largest size a ustar header's 11 octal digits hold.
const USTAR_MAX_SIZE: u64 = 0o777_7777_7777;

/// Everything that varies between the entries of a bundle.
#[derive(Debug, Clone, Copy)]
pub struct EntryMeta<'a> {
    /// `/`-separated bundle path, already validated.
    pub path: &'a str,
    /// Content length.
    pub size: u64,
    /// `0o644` or `0o755`.
    pub mode: u32,
    /// Seconds since the epoch, the same for every entry.
    pub mtime: u64,
}

/// Bytes of padding that follow `size` bytes of content.
pub fn padding(size: u64) -> usize {
    let rem = (size % BLOCK as u64) as usize;
    if rem == 0 {
        0
    } else {
        BLOCK - rem
    }
}

/// Appends the header block(s) for one regular-file entry to `out` and returns how many
/// bytes were appended.
pub fn write_header(out: &mut Vec<u8>, meta: &EntryMeta<'_>) -> usize {
    let start = out.len();
    let split = split_ustar_path(meta.path);
    let needs_pax_path = split.is_none();
    let needs_pax_size = meta.size > USTAR_MAX_SIZE;
    let needs_pax_mtime = meta.mtime > USTAR_MAX_SIZE;
    if needs_pax_path || needs_pax_size || needs_pax_mtime {
        let mut records = Vec::new();
        if needs_pax_path {
            records.extend_from_slice(&pax_record("path", meta.path));
        }
        if needs_pax_size {
            records.extend_from_slice(&pax_record("size", &meta.size.to_string()));
        }
        if needs_pax_mtime {
            records.extend_from_slice(&pax_record("mtime", &meta.mtime.to_string()));
        }
        let pax_name = pax_header_name(meta.path);
        let block = header_block(
            (b"", pax_name.as_bytes()),
            records.len() as u64,
            0o644,
            meta.mtime.min(USTAR_MAX_SIZE),
            b'x',
        );
        out.extend_from_slice(&block);
        out.extend_from_slice(&records);
        out.resize(out.len() + padding(records.len() as u64), 0);
    }
    let (prefix, name) = split.unwrap_or_else(|| (b"".as_slice(), truncated_name(meta.path)));
    let size_field = if needs_pax_size { 0 } else { meta.size };
    // With a PAX `mtime` record the ustar field holds the largest value it can; readers
    // take the record.
    out.extend_from_slice(&header_block(
        (prefix, name),
        size_field,
        meta.mode,
        meta.mtime.min(USTAR_MAX_SIZE),
        b'0',
    ));
    out.len() - start
}

/// Exact number of bytes [`write_header`] appends for an entry.
pub fn header_len(meta: &EntryMeta<'_>) -> usize {
    // Most entries need no PAX record: one block, known without writing it.
    if meta.size <= USTAR_MAX_SIZE
        && meta.mtime <= USTAR_MAX_SIZE
        && split_ustar_path(meta.path).is_some()
    {
        return BLOCK;
    }
    let mut scratch = Vec::with_capacity(3 * BLOCK);
    write_header(&mut scratch, meta)
}

/// Two zero blocks end a tar archive.
pub const END_OF_ARCHIVE: [u8; 2 * BLOCK] = [0; 2 * BLOCK];

/// Splits a path into ustar `prefix` (≤ 155 bytes) and `name` (≤ 100 bytes) at a `/`, or
/// returns `None` when no split fits.
fn split_ustar_path(path: &str) -> Option<(&[u8], &[u8])> {
    let bytes = path.as_bytes();
    if bytes.len() <= 100 {
        return Some((b"", bytes));
    }
    if bytes.len() > 256 {
        return None;
    }
    // The name part must be at most 100 bytes, so the split slash is at index ≥ len - 101;
    // prefer the leftmost such slash so the prefix stays short.
    let lowest = bytes.len().saturating_sub(101);
    (lowest..bytes.len())
        .filter(|&i| bytes[i] == b'/')
        .find(|&i| i <= 155 && i > 0 && bytes.len() - i - 1 <= 100 && bytes.len() - i > 1)
        .map(|i| (&bytes[..i], &bytes[i + 1..]))
}

/// The name written in the ustar field when a PAX `path` record carries the real one:
/// the last 100 bytes cut at a character boundary, so old readers still see something
/// meaningful.
fn truncated_name(path: &str) -> &[u8] {
    let mut start = path.len().saturating_sub(100);
    while !path.is_char_boundary(start) {
        start += 1;
    }
    &path.as_bytes()[start..]
}

/// Name of the PAX extended header entry, stable for a given path.
fn pax_header_name(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    let mut name = format!("PaxHeaders/{base}");
    if name.len() > 100 {
        let mut cut = 100;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}

/// One PAX record: `"<len> <key>=<value>\n"` where `<len>` counts the whole record.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    format!("{len} {key}={value}\n").into_bytes()
}

fn header_block(
    (prefix, name): (&[u8], &[u8]),
    size: u64,
    mode: u32,
    mtime: u64,
    typeflag: u8,
) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name);
    octal(&mut h[100..108], u64::from(mode));
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime);
    h[156] = typeflag;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h[329..337], 0);
    octal(&mut h[337..345], 0);
    h[345..345 + prefix.len()].copy_from_slice(prefix);
    // The checksum is computed with its own field as eight spaces.
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let digits = format!("{sum:06o}");
    h[148..154].copy_from_slice(digits.as_bytes());
    h[154] = 0;
    h[155] = b' ';
    h
}

/// Zero-padded octal with a terminating NUL, filling the whole field. Values that do not
/// fit are clamped; callers only pass values that fit (sizes too large go to PAX).
fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let max = (1u64 << (3 * width as u32)) - 1;
    let text = format!("{:0width$o}", value.min(max), width = width);
    field[..width].copy_from_slice(text.as_bytes());
    field[width] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_len_is_what_write_header_writes() {
        let long_name = format!("d/{}", "n".repeat(150));
        let splittable = format!("{}/{}", "p".repeat(120), "n".repeat(90));
        let very_long = "q/".repeat(140);
        for path in [
            "a",
            "x".repeat(100).as_str(),
            &long_name,
            &splittable,
            &very_long,
        ] {
            for size in [0, 5, USTAR_MAX_SIZE, USTAR_MAX_SIZE + 1] {
                for mtime in [0, USTAR_MAX_SIZE, USTAR_MAX_SIZE + 1] {
                    let meta = EntryMeta {
                        path,
                        size,
                        mode: 0o644,
                        mtime,
                    };
                    let mut out = Vec::new();
                    assert_eq!(header_len(&meta), write_header(&mut out, &meta), "{meta:?}");
                }
            }
        }
    }

    fn read_with_tar_crate(bytes: &[u8]) -> Vec<(String, u64, u32, u64, u64)> {
        let mut archive = tar::Archive::new(bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.size(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect()
    }

    fn entry(out: &mut Vec<u8>, path: &str, content: &[u8], mode: u32) {
        write_header(
            out,
            &EntryMeta {
                path,
                size: content.len() as u64,
                mode,
                mtime: 1_700_000_000,
            },
        );
        out.extend_from_slice(content);
        out.resize(out.len() + padding(content.len() as u64), 0);
    }

    #[test]
    fn short_long_and_very_long_paths_read_back() {
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let very_long = format!("{}/x.yaml", "é/".repeat(150));
        let mut out = Vec::new();
        entry(&mut out, "a.txt", b"hello", 0o644);
        entry(&mut out, &long, b"x", 0o755);
        entry(&mut out, &very_long, b"", 0o644);
        out.extend_from_slice(&END_OF_ARCHIVE);
        let got = read_with_tar_crate(&out);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], ("a.txt".into(), 5, 0o644, 0, 1_700_000_000));
        assert_eq!(got[1].0, long);
        assert_eq!(got[1].2, 0o755);
        assert_eq!(got[2].0, very_long);
    }

    #[test]
    fn pax_only_when_needed() {
        let mut out = Vec::new();
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        assert_eq!(write_header(&mut out, &meta(&long)), BLOCK);
        let mut out = Vec::new();
        let unsplittable = "x".repeat(150);
        assert!(write_header(&mut out, &meta(&unsplittable)) > BLOCK);
        assert_eq!(header_len(&meta(&unsplittable)), out.len());
    }

    fn meta(path: &str) -> EntryMeta<'_> {
        EntryMeta {
            path,
            size: 0,
            mode: 0o644,
            mtime: 0,
        }
    }

    #[test]
    fn mtime_beyond_ustar_goes_to_pax() {
        let mut out = Vec::new();
        let far = USTAR_MAX_SIZE + 1;
        write_header(
            &mut out,
            &EntryMeta {
                path: "a",
                size: 0,
                mode: 0o644,
                mtime: far,
            },
        );
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains(&format!(" mtime={far}\n")), "{text}");
    }

    #[test]
    fn pax_record_length_counts_itself() {
        for n in [1usize, 5, 90, 94, 95, 96, 990, 995, 996, 1000] {
            let rec = pax_record("path", &"p".repeat(n));
            let (len, _) = std::str::from_utf8(&rec).unwrap().split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), rec.len(), "n={n}");
        }
    }

    #[test]
    fn huge_size_goes_to_pax() {
        let mut out = Vec::new();
        let n = write_header(
            &mut out,
            &EntryMeta {
                path: "big.img",
                size: USTAR_MAX_SIZE + 1,
                mode: 0o644,
                mtime: 0,
            },
        );
        assert!(n > BLOCK);
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains(&format!("size={}", USTAR_MAX_SIZE + 1)));
    }
}
