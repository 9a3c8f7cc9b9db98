//! Checksum list lines as `sha256sum`, `b3sum` and `signify` write them.

/// One GNU-format line (`<hex>  <path>\n`), as `sha256sum -c` and `b3sum --check` read it.
/// A path holding `\`, a newline or a carriage return is escaped the GNU way: the line
/// starts with `\` and those characters become `\\`, `\n`, `\r`.
pub fn gnu_line(hex_digest: &str, path: &str) -> String {
    if path.contains(['\\', '\n', '\r']) {
        let escaped = path
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{hex_digest}  {escaped}\n")
    } else {
        format!("{hex_digest}  {path}\n")
    }
}

/// One BSD-tag line (`SHA256 (path) = <hex>\n`), the form `signify -C` checks.
pub fn bsd_line(algorithm: &str, hex_digest: &str, path: &str) -> String {
    format!("{algorithm} ({path}) = {hex_digest}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_escaped_lines() {
        assert_eq!(gnu_line("ab", "a/b.txt"), "ab  a/b.txt\n");
        assert_eq!(gnu_line("ab", "a\\b\nc"), "\\ab  a\\\\b\\nc\n");
        assert_eq!(bsd_line("SHA256", "ab", "x"), "SHA256 (x) = ab\n");
    }
}
