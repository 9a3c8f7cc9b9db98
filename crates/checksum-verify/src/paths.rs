//! Which entry names are safe to extract, stage or open below a destination: the one rule
//! archives, folders, sums files and manifests are all held to.

/// Longest path accepted (Linux `PATH_MAX`).
pub const MAX_PATH: usize = 4096;

/// Checks that `raw` is a relative, `/`-separated UTF-8 path with no `..`, `.` or empty
/// components, no backslash and no control character: a path that names exactly one place
/// below the destination, no other spelling of it, and that every platform reads the same.
/// The rule for bundle entries and manifests. Returns the path as text, or why it is refused.
pub fn check(raw: &[u8]) -> Result<&str, &'static str> {
    let text = check_relative(raw)?;
    if text.contains('\\') {
        return Err("backslash in path (a folder separator on Windows)");
    }
    if text.chars().any(char::is_control) {
        return Err("control character in path");
    }
    Ok(text)
}

/// The rule for the names in a sums file: relative, UTF-8, no `..`, `.` or empty components
/// and no NUL, so that it names one place below the folder checked. Backslashes and newlines
/// are ordinary characters of a Linux file name, and `sha256sum` writes them escaped.
pub fn check_relative(raw: &[u8]) -> Result<&str, &'static str> {
    if raw.is_empty() {
        return Err("empty path");
    }
    if raw.len() > MAX_PATH {
        return Err("path longer than 4096 bytes");
    }
    if raw[0] == b'/' {
        return Err("absolute path");
    }
    // `..` first: it is the reason that matters most to the reader of the report.
    if raw.split(|&b| b == b'/').any(|c| c == b"..") {
        return Err("path escapes the destination (`..`)");
    }
    if raw.contains(&0) {
        return Err("NUL byte in path");
    }
    let text = std::str::from_utf8(raw).map_err(|_| "path is not valid UTF-8")?;
    for component in text.split('/') {
        match component {
            "" => return Err("empty path component (`//` or a trailing `/`)"),
            "." => return Err("`.` path component (another spelling of the same path)"),
            _ => {}
        }
    }
    Ok(text)
}

/// A path for a line on a terminal: every control character (newlines included) escaped, so
/// a hostile name cannot forge a line or move the cursor.
pub fn display(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Bytes that may not be UTF-8, as text for a report: valid UTF-8 as is, other bytes as
/// `\xNN` escapes.
pub fn lossy(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_paths_pass() {
        for ok in [
            "a",
            "a/b.txt",
            "charts/stellaops/Chart.yaml",
            "é/ü",
            "a..b/..c",
            ".hidden",
        ] {
            assert_eq!(check(ok.as_bytes()), Ok(ok), "{ok}");
        }
    }

    #[test]
    fn hostile_and_ambiguous_paths_are_refused() {
        let cases: [(&[u8], &str); 12] = [
            (b"", "empty"),
            (b"/etc/passwd", "absolute"),
            (b"../x", "escapes"),
            (b"a/../../x", "escapes"),
            (b"a/..", "escapes"),
            (b"/..", "absolute"),
            (b"a//b", "empty path component"),
            (b"a/", "empty path component"),
            (b"./a", "`.`"),
            (b"a\\..\\b", "backslash"),
            (b"a\nb", "control"),
            (b"\xff\xfe", "UTF-8"),
        ];
        for (raw, why) in cases {
            let err = check(raw).expect_err(&lossy(raw));
            assert!(err.contains(why), "{}: {err}", lossy(raw));
        }
        assert!(check(&vec![b'a'; MAX_PATH + 1]).is_err());
    }

    #[test]
    fn sums_file_names_may_hold_backslashes_and_newlines_but_not_escape() {
        assert_eq!(check_relative(b"back\\slash"), Ok("back\\slash"));
        assert_eq!(check_relative(b"new\nline"), Ok("new\nline"));
        assert!(check_relative(b"../x").is_err());
        assert!(check_relative(b"a\0b").is_err());
        assert!(check_relative(b"./a").is_err());
    }

    #[test]
    fn display_escapes_newlines_and_escapes() {
        assert_eq!(display("a\nb\x1b[2J"), "a\\nb\\u{1b}[2J");
        assert_eq!(lossy(b"a\xffb"), "a\\xffb");
    }
}
