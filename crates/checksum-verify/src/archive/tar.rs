//! Our own reader of tar headers: ustar, GNU and v7 header blocks, PAX extended headers
//! (`x` and `g`) and GNU long names (`L`, `K`). Written here rather than taken from the
//! `tar` crate because a verifier must see exactly what an extractor would see — a PAX
//! `path` or a GNU long name that overrides the header, a checksum that does not add up —
//! and report it, not smooth it over.

/// Size of a tar block.
pub const BLOCK: usize = 512;

/// Largest extended header (`x`, `g`) or GNU long name (`L`, `K`) read. Real ones are a few
/// hundred bytes; a larger one is a hostile "oversized header".
pub const MAX_META: u64 = 1024 * 1024;

/// PAX keys an entry may carry. Anything else (extended attributes that could set file
/// capabilities on extraction, sparse maps, a `hdrcharset` that changes how names read)
/// makes the entry unsafe.
const ALLOWED_PAX_KEYS: [&str; 11] = [
    "path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "atime", "ctime",
    "comment",
];

/// What a header block says, before extended headers are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `prefix/name` (ustar) or `name`.
    pub name: Vec<u8>,
    /// The whole mode field, file-type bits included when the writer put them there.
    pub mode: u64,
    pub uid: u64,
    pub gid: u64,
    /// Bytes of content that follow the header (before padding).
    pub size: u64,
    pub typeflag: u8,
    pub linkname: Vec<u8>,
}

/// Why a header block cannot be read. Each is fatal: without a trustworthy size, the next
/// header cannot be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// The checksum field does not match the block.
    BadChecksum { stored: Option<u64>, computed: u64 },
    /// A numeric field is not octal or base-256.
    BadNumber { field: &'static str },
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderError::BadChecksum {
                stored: Some(stored),
                computed,
            } => write!(
                f,
                "bad header checksum (stored {stored:o}, computed {computed:o})"
            ),
            HeaderError::BadChecksum {
                stored: None,
                computed,
            } => write!(
                f,
                "bad header checksum (unreadable field, computed {computed:o})"
            ),
            HeaderError::BadNumber { field } => write!(f, "malformed `{field}` field in header"),
        }
    }
}

/// True for the all-zero block that marks the end of an archive.
pub fn is_zero_block(block: &[u8; BLOCK]) -> bool {
    block.iter().all(|&b| b == 0)
}

/// Parses one header block, checking its checksum first.
pub fn parse_header(block: &[u8; BLOCK]) -> Result<Header, HeaderError> {
    check_checksum(block)?;
    let magic = &block[257..265];
    let posix = &magic[..6] == b"ustar\0";
    let mut name = cstr(&block[0..100]).to_vec();
    if posix {
        let prefix = cstr(&block[345..500]);
        if !prefix.is_empty() {
            let mut joined = prefix.to_vec();
            joined.push(b'/');
            joined.extend_from_slice(&name);
            name = joined;
        }
    }
    Ok(Header {
        name,
        mode: number(&block[100..108], "mode")?,
        uid: number(&block[108..116], "uid")?,
        gid: number(&block[116..124], "gid")?,
        size: number(&block[124..136], "size")?,
        typeflag: block[156],
        linkname: cstr(&block[157..257]).to_vec(),
    })
}

/// The checksum is the sum of the block's bytes with the checksum field read as spaces;
/// historic writers summed signed bytes, and GNU tar accepts both, so we do too.
fn check_checksum(block: &[u8; BLOCK]) -> Result<(), HeaderError> {
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    let stored = number(&block[148..156], "chksum").ok();
    let matches = stored.is_some_and(|s| s == unsigned || i64::try_from(s) == Ok(signed));
    if matches {
        Ok(())
    } else {
        Err(HeaderError::BadChecksum {
            stored,
            computed: unsigned,
        })
    }
}

/// The bytes of a field up to its first NUL.
fn cstr(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// A numeric field: octal digits (leading spaces or NULs, ending at a space or NUL), or
/// GNU base-256 when the first byte has its high bit set. Negative base-256 values, and an
/// empty field, are refused.
fn number(field: &[u8], name: &'static str) -> Result<u64, HeaderError> {
    let bad = HeaderError::BadNumber { field: name };
    if let Some(&first) = field.first() {
        if first & 0x80 != 0 {
            if first != 0x80 {
                return Err(bad); // 0xff: negative
            }
            let mut value: u64 = 0;
            for &b in &field[1..] {
                if value >> 56 != 0 {
                    return Err(bad);
                }
                value = (value << 8) | u64::from(b);
            }
            return Ok(value);
        }
    }
    let start = field
        .iter()
        .position(|&b| b != b' ' && b != 0)
        .unwrap_or(field.len());
    let digits = &field[start..];
    let end = digits
        .iter()
        .position(|&b| b == b' ' || b == 0)
        .unwrap_or(digits.len());
    let (digits, rest) = digits.split_at(end);
    if digits.is_empty() {
        // An all-NUL field reads as 0 in every tar we know of; all-space as well.
        return if field.iter().all(|&b| b == 0 || b == b' ') {
            Ok(0)
        } else {
            Err(bad)
        };
    }
    if rest.iter().any(|&b| b != b' ' && b != 0) {
        return Err(bad);
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) || value >> 61 != 0 {
            return Err(bad);
        }
        value = (value << 3) | u64::from(d - b'0');
    }
    Ok(value)
}

/// Values an extended header or GNU long-name record sets for the next entry (or, for `g`,
/// every following entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub path: Option<Vec<u8>>,
    pub linkpath: Option<Vec<u8>>,
    pub size: Option<u64>,
    pub uid: Option<u64>,
    pub gid: Option<u64>,
    /// Keys outside the allowed set, in the order met.
    pub refused_keys: Vec<String>,
}

impl Overrides {
    /// Applies `other` on top of `self` (later values win).
    pub fn merge(&mut self, other: &Overrides) {
        if other.path.is_some() {
            self.path.clone_from(&other.path);
        }
        if other.linkpath.is_some() {
            self.linkpath.clone_from(&other.linkpath);
        }
        if other.size.is_some() {
            self.size = other.size;
        }
        if other.uid.is_some() {
            self.uid = other.uid;
        }
        if other.gid.is_some() {
            self.gid = other.gid;
        }
        for key in &other.refused_keys {
            if !self.refused_keys.contains(key) {
                self.refused_keys.push(key.clone());
            }
        }
    }
}

/// Parses the records of a PAX extended header: `"<len> <key>=<value>\n"`, where `<len>`
/// counts the whole record in decimal. Trailing NUL bytes after the last record are
/// tolerated (some writers pad). Returns why the data is malformed otherwise.
pub fn parse_pax(data: &[u8]) -> Result<Overrides, String> {
    let mut out = Overrides::default();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let space = rest
            .iter()
            .take(21)
            .position(|&b| b == b' ')
            .ok_or("PAX record without a length")?;
        let len_text = std::str::from_utf8(&rest[..space]).map_err(|_| "PAX record length")?;
        if len_text.is_empty() || !len_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("PAX record length `{len_text}` is not a number"));
        }
        let len: usize = len_text
            .parse()
            .map_err(|_| format!("PAX record length `{len_text}` is too large"))?;
        if len <= space + 1 || len > rest.len() {
            return Err(format!(
                "PAX record length {len} does not fit the header ({} bytes left)",
                rest.len()
            ));
        }
        let record = &rest[space + 1..len];
        rest = &rest[len..];
        let Some((&b'\n', body)) = record.split_last() else {
            return Err("PAX record does not end with a newline".to_owned());
        };
        let eq = body
            .iter()
            .position(|&b| b == b'=')
            .ok_or("PAX record without `=`")?;
        let key = std::str::from_utf8(&body[..eq]).map_err(|_| "PAX key is not UTF-8")?;
        let value = &body[eq + 1..];
        if key.is_empty() {
            return Err("PAX record with an empty key".to_owned());
        }
        let decimal = |what: &str| -> Result<u64, String> {
            std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("PAX `{what}` is not a decimal number"))
        };
        match key {
            "path" => out.path = Some(value.to_vec()),
            "linkpath" => out.linkpath = Some(value.to_vec()),
            "size" => out.size = Some(decimal("size")?),
            "uid" => out.uid = Some(decimal("uid")?),
            "gid" => out.gid = Some(decimal("gid")?),
            k if ALLOWED_PAX_KEYS.contains(&k) => {}
            other => {
                let other = other.to_owned();
                if !out.refused_keys.contains(&other) {
                    out.refused_keys.push(other);
                }
            }
        }
    }
    Ok(out)
}

/// The name carried by a GNU `L` or `K` record: its data up to the first NUL.
pub fn gnu_long_name(data: &[u8]) -> Vec<u8> {
    cstr(data).to_vec()
}

/// Bytes of padding that follow `size` bytes of content.
pub fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// What kind of entry a typeflag (and the file-type bits some writers put in the mode field)
/// makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `0`, NUL or `7` (contiguous file, a regular file to every extractor).
    Regular,
    Directory,
    /// `1`.
    HardLink,
    /// `2`.
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// Mode bits `0o140000` (no typeflag exists for it).
    Socket,
    /// GNU `S`.
    Sparse,
    /// Anything else (`V` volume label, `M` multi-volume, `D` dump dir, vendor letters).
    Other(u8),
}

impl Kind {
    /// The kind of an entry with this typeflag and mode field.
    pub fn of(typeflag: u8, mode: u64) -> Kind {
        let by_flag = match typeflag {
            b'0' | 0 | b'7' => Kind::Regular,
            b'1' => Kind::HardLink,
            b'2' => Kind::Symlink,
            b'3' => Kind::CharDevice,
            b'4' => Kind::BlockDevice,
            b'5' => Kind::Directory,
            b'6' => Kind::Fifo,
            b'S' => Kind::Sparse,
            other => Kind::Other(other),
        };
        // The mode field's file-type bits, where a writer set them, must agree with the
        // typeflag: a "regular file" whose mode says socket is not one.
        let by_mode = match mode & 0o170_000 {
            0 => None,
            0o100_000 => Some(Kind::Regular),
            0o040_000 => Some(Kind::Directory),
            0o120_000 => Some(Kind::Symlink),
            0o020_000 => Some(Kind::CharDevice),
            0o060_000 => Some(Kind::BlockDevice),
            0o010_000 => Some(Kind::Fifo),
            0o140_000 => Some(Kind::Socket),
            _ => Some(Kind::Other(typeflag)),
        };
        match by_mode {
            Some(m) if m != by_flag && by_flag == Kind::Regular => m,
            _ => by_flag,
        }
    }

    /// Why an entry of this kind is unsafe, or `None` for regular files and directories.
    pub fn danger(self) -> Option<String> {
        Some(match self {
            Kind::Regular | Kind::Directory => return None,
            Kind::HardLink => "hard link".to_owned(),
            Kind::Symlink => "symbolic link".to_owned(),
            Kind::CharDevice => "character device".to_owned(),
            Kind::BlockDevice => "block device".to_owned(),
            Kind::Fifo => "FIFO".to_owned(),
            Kind::Socket => "socket".to_owned(),
            Kind::Sparse => "GNU sparse file".to_owned(),
            Kind::Other(flag) => format!(
                "unsupported entry type `{}`",
                crate::paths::lossy(&[flag]).replace('\0', "\\0")
            ),
        })
    }
}

/// Test helpers that write raw headers, including hostile ones the `tar` crate refuses.
#[cfg(test)]
pub mod write {
    use super::BLOCK;

    /// A header block with the given fields and a correct checksum.
    pub fn header(name: &[u8], size: u64, typeflag: u8, mode: u64) -> [u8; BLOCK] {
        let mut h = [0u8; BLOCK];
        h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
        octal(&mut h[100..108], mode);
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], size);
        octal(&mut h[136..148], 0);
        h[156] = typeflag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        fix_checksum(&mut h);
        h
    }

    /// Recomputes the checksum of a header block.
    pub fn fix_checksum(h: &mut [u8; BLOCK]) {
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        h[148..154].copy_from_slice(format!("{sum:06o}").as_bytes());
        h[154] = 0;
        h[155] = b' ';
    }

    fn octal(field: &mut [u8], value: u64) {
        let width = field.len() - 1;
        field[..width].copy_from_slice(format!("{value:0width$o}").as_bytes());
        field[width] = 0;
    }

    /// One PAX record.
    pub fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
        let body = key.len() + value.len() + 3;
        let mut len = body + 1;
        while len != body + len.to_string().len() {
            len = body + len.to_string().len();
        }
        let mut out = format!("{len} {key}=").into_bytes();
        out.extend_from_slice(value);
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::write::*;
    use super::*;

    #[test]
    fn ustar_header_round_trips() {
        let h = header(b"a/b.txt", 5, b'0', 0o644);
        let parsed = parse_header(&h).unwrap();
        assert_eq!(parsed.name, b"a/b.txt");
        assert_eq!(
            (parsed.size, parsed.mode, parsed.uid, parsed.gid),
            (5, 0o644, 0, 0)
        );
        assert_eq!(Kind::of(parsed.typeflag, parsed.mode), Kind::Regular);
    }

    #[test]
    fn prefix_is_joined_for_posix_headers_only() {
        let mut h = header(b"name", 0, b'0', 0o644);
        h[345..351].copy_from_slice(b"prefix");
        fix_checksum(&mut h);
        assert_eq!(parse_header(&h).unwrap().name, b"prefix/name");
        h[257..265].copy_from_slice(b"ustar  \0");
        fix_checksum(&mut h);
        assert_eq!(parse_header(&h).unwrap().name, b"name");
    }

    #[test]
    fn a_flipped_byte_breaks_the_checksum() {
        let mut h = header(b"a", 5, b'0', 0o644);
        h[0] = b'b';
        assert!(matches!(
            parse_header(&h),
            Err(HeaderError::BadChecksum { .. })
        ));
    }

    #[test]
    fn numbers_octal_and_base256() {
        assert_eq!(number(b"0000644\0", "m"), Ok(0o644));
        assert_eq!(number(b"  644 \0\0", "m"), Ok(0o644));
        assert_eq!(number(b"\0\0\0\0\0\0\0\0", "m"), Ok(0));
        assert!(number(b"0008\0", "m").is_err());
        assert!(number(b"12 3\0", "m").is_err());
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[4..].copy_from_slice(&(1u64 << 40).to_be_bytes());
        assert_eq!(number(&big, "size"), Ok(1 << 40));
        big[0] = 0xff;
        assert!(number(&big, "size").is_err());
    }

    #[test]
    fn pax_records_parse_and_refuse() {
        let mut data = pax_record("path", b"../evil");
        data.extend(pax_record("size", b"12"));
        data.extend(pax_record("SCHILY.xattr.security.capability", b"x"));
        let o = parse_pax(&data).unwrap();
        assert_eq!(o.path.as_deref(), Some(&b"../evil"[..]));
        assert_eq!(o.size, Some(12));
        assert_eq!(o.refused_keys, ["SCHILY.xattr.security.capability"]);
        assert!(parse_pax(b"99 path=x\n").is_err());
        assert!(parse_pax(b"9 path=x!").is_err());
        assert!(parse_pax(b"x path=y\n").is_err());
        assert!(parse_pax(&pax_record("size", b"-1")).is_err());
        assert!(parse_pax(b"\0\0\0").unwrap() == Overrides::default());
    }

    #[test]
    fn kinds_from_typeflag_and_mode_bits() {
        assert_eq!(Kind::of(b'2', 0o777), Kind::Symlink);
        assert_eq!(Kind::of(b'0', 0o140_644), Kind::Socket);
        assert_eq!(Kind::of(b'0', 0o100_644), Kind::Regular);
        assert_eq!(Kind::of(b'6', 0), Kind::Fifo);
        assert!(Kind::of(b'V', 0).danger().unwrap().contains("`V`"));
        assert!(Kind::Regular.danger().is_none());
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
    }
}
