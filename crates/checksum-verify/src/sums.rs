//! Sums files as `sha256sum -c` and `b3sum --check` read them — GNU lines (`<hex>  <path>`,
//! `<hex> *<path>`, a leading `\` for backslash-escaped names) and BSD tag lines
//! (`SHA256 (path) = <hex>`, `BLAKE3 (path) = <hex>`) — checked strictly: a malformed line,
//! a path listed twice or an unsafe path is a failure, and so is a file beside them that no
//! line lists.

use crate::error::VerifyError;
use crate::folder::walk;
use crate::hashing::{compare, hash_files, Algo, Algos, FileJob};
use crate::paths;
use crate::report::Findings;
use offline_formats::verify_report::FailureKind;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// One well-formed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumsLine {
    /// 1-based line number.
    pub line: usize,
    pub path: String,
    pub algo: Algo,
    pub digest: [u8; 32],
}

/// Why a line was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub reason: String,
}

/// Parses a sums file. GNU lines carry no algorithm name, so `gnu_algo` says which 64-digit
/// digest they hold; BSD tag lines name theirs. Blank lines are skipped; a trailing CR is
/// dropped, as GNU coreutils does.
pub fn parse(text: &[u8], gnu_algo: Algo) -> (Vec<SumsLine>, Vec<BadLine>) {
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    let mut pieces: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if pieces.last().is_some_and(|l| l.is_empty()) {
        pieces.pop();
    }
    for (i, raw) in pieces.into_iter().enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(raw, gnu_algo) {
            Ok((path, algo, digest)) => lines.push(SumsLine {
                line,
                path,
                algo,
                digest,
            }),
            Err(reason) => bad.push(BadLine { line, reason }),
        }
    }
    (lines, bad)
}

fn parse_line(raw: &[u8], gnu_algo: Algo) -> Result<(String, Algo, [u8; 32]), String> {
    let (escaped, body) = match raw.strip_prefix(b"\\") {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let text = std::str::from_utf8(body).map_err(|_| "not valid UTF-8".to_owned())?;
    for (tag, algo) in [("SHA256 (", Algo::Sha256), ("BLAKE3 (", Algo::Blake3)] {
        if let Some(rest) = text.strip_prefix(tag) {
            let (path, hex_digest) = rest
                .rsplit_once(") = ")
                .ok_or_else(|| "BSD tag line without `) = `".to_owned())?;
            return Ok((unescape(path, escaped)?, algo, digest(hex_digest)?));
        }
    }
    if let Some((name, _)) = text.split_once(" (").filter(|(n, _)| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    }) {
        return Err(format!(
            "unsupported algorithm `{name}` (SHA256 and BLAKE3 are read)"
        ));
    }
    let (hex_digest, rest) = text
        .split_once(' ')
        .ok_or_else(|| "neither `<hex>  <path>` nor `ALGO (path) = <hex>`".to_owned())?;
    let path = rest
        .strip_prefix(' ')
        .or_else(|| rest.strip_prefix('*'))
        .ok_or_else(|| {
            "expected two spaces, or ` *`, between the digest and the path".to_owned()
        })?;
    Ok((unescape(path, escaped)?, gnu_algo, digest(hex_digest)?))
}

fn digest(hex_digest: &str) -> Result<[u8; 32], String> {
    if hex_digest.len() != 64 {
        return Err(format!(
            "digest has {} hex digits, not 64 (only SHA-256 and BLAKE3 are read)",
            hex_digest.len()
        ));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut out).map_err(|_| "digest is not hex".to_owned())?;
    Ok(out)
}

/// Undoes GNU escaping (`\\`, `\n`, `\r`) on a line that started with `\`.
fn unescape(path: &str, escaped: bool) -> Result<String, String> {
    if !escaped {
        return Ok(path.to_owned());
    }
    let mut out = String::with_capacity(path.len());
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            other => {
                return Err(format!(
                    "unknown escape `\\{}` in an escaped name",
                    other.map(String::from).unwrap_or_default()
                ))
            }
        }
    }
    Ok(out)
}

/// The algorithm of a sums file's GNU lines: `--algo` when it names one, else by the file's
/// name (`B3SUMS`, `*.b3`, anything naming blake3 or b3 is BLAKE3), else SHA-256.
pub fn gnu_algo(sums: &Path, arg: Option<crate::hashing::AlgoArg>) -> Result<Algo, VerifyError> {
    use crate::hashing::AlgoArg;
    match arg {
        Some(AlgoArg::Sha256) => Ok(Algo::Sha256),
        Some(AlgoArg::Blake3) => Ok(Algo::Blake3),
        Some(AlgoArg::Both) => Err(VerifyError::Usage(
            "--algo both: a sums file holds one digest per line; give sha256 or blake3".into(),
        )),
        None => {
            let name = sums
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            Ok(if name.contains("b3") || name.contains("blake3") {
                Algo::Blake3
            } else {
                Algo::Sha256
            })
        }
    }
}

/// How a sums file is checked.
#[derive(Debug, Clone)]
pub struct SumsOptions {
    /// `--sums FILE` (`-` for stdin).
    pub sums: PathBuf,
    /// The folder the paths are relative to.
    pub base: PathBuf,
    pub gnu_algo: Algo,
    pub allow_unlisted: bool,
    pub jobs: usize,
}

/// Checks every line of the sums file against the files below `base`: malformed lines, unsafe
/// and repeated paths, missing files, digests, then files no line lists.
pub fn verify_sums(
    text: &[u8],
    options: &SumsOptions,
    findings: &mut Findings,
) -> Result<(), VerifyError> {
    let sums_name = crate::manifest_source::display_name(&options.sums);
    let label = sums_name.display().to_string();
    let (lines, bad) = parse(text, options.gnu_algo);
    if lines.is_empty() {
        return Err(VerifyError::document(
            &sums_name,
            match bad.first() {
                Some(b) => format!("no well-formed line (line {}: {})", b.line, b.reason),
                None => "no checksum lines".to_owned(),
            },
        ));
    }
    for b in &bad {
        findings.fail_because(
            format!("{label}:{}", b.line),
            FailureKind::Malformed,
            &b.reason,
        );
    }
    if !options.base.is_dir() {
        return Err(VerifyError::document(&options.base, "is not a folder"));
    }
    let tree = walk(&options.base, false)?;
    for (path, why) in &tree.unsafe_entries {
        findings.fail_because(path.clone(), FailureKind::UnsafeEntry, why);
    }

    let mut seen = HashSet::new();
    let mut jobs = Vec::new();
    let mut checks: Vec<(&SumsLine, usize)> = Vec::new();
    for line in &lines {
        if let Err(why) = paths::check_relative(line.path.as_bytes()) {
            findings.fail_because(line.path.clone(), FailureKind::UnsafeEntry, why);
            continue;
        }
        if !seen.insert(line.path.as_str()) {
            findings.fail_because(
                format!("{label}:{}", line.line),
                FailureKind::Malformed,
                &format!("`{}` is listed twice", paths::display(&line.path)),
            );
            continue;
        }
        if !tree.files.contains_key(&line.path) {
            findings.fail(line.path.clone(), FailureKind::Missing, None, None);
            continue;
        }
        checks.push((line, jobs.len()));
        jobs.push(FileJob {
            path: options.base.join(&line.path),
            size_hint: tree.files.get(&line.path).map_or(0, |f| f.size),
        });
    }
    let algos = Algos {
        sha256: lines.iter().any(|l| l.algo == Algo::Sha256),
        blake3: lines.iter().any(|l| l.algo == Algo::Blake3),
    };
    let results = hash_files(&jobs, algos, options.jobs);
    for (line, job) in checks {
        let digests = results[job].as_ref().map_err(|e| {
            VerifyError::io(
                options.base.join(&line.path),
                std::io::Error::new(e.kind(), e.to_string()),
            )
        })?;
        findings.checked(&line.path, digests.size);
        let only = crate::hashing::ContentDigests {
            sha256: digests.sha256.filter(|_| line.algo == Algo::Sha256),
            blake3: digests.blake3.filter(|_| line.algo == Algo::Blake3),
            size: digests.size,
        };
        if let Some(m) = compare(&only, |_| Some(line.digest)) {
            findings.fail(
                line.path.clone(),
                FailureKind::Mismatch,
                Some(m.expected),
                Some(m.actual),
            );
        }
    }

    if !options.allow_unlisted {
        let own = own_files(options);
        for path in tree.files.keys() {
            if !seen.contains(path.as_str()) && !own.contains(path) {
                findings.fail(path.clone(), FailureKind::Unexpected, None, None);
            }
        }
    }
    Ok(())
}

/// The sums file itself and its signature, when they sit in the folder checked: not
/// unexpected files.
fn own_files(options: &SumsOptions) -> HashSet<String> {
    let mut own = HashSet::new();
    let (Ok(base), Ok(sums)) = (
        std::fs::canonicalize(&options.base),
        std::fs::canonicalize(&options.sums),
    ) else {
        return own;
    };
    if let Ok(rel) = sums.strip_prefix(&base) {
        let rel = rel.to_string_lossy().into_owned();
        for suffix in ["", ".sig", ".asc", ".minisig"] {
            own.insert(format!("{rel}{suffix}"));
        }
    }
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn gnu_bsd_binary_and_escaped_lines() {
        let text = format!(
            "{H}  plain name\n{H} *binary\n\\{H}  we\\\\ird\\nname\nSHA256 (bsd (x)) = {H}\r\nBLAKE3 (b3) = {H}\n\n"
        );
        let (lines, bad) = parse(text.as_bytes(), Algo::Sha256);
        assert!(bad.is_empty(), "{bad:?}");
        let got: Vec<(&str, Algo)> = lines.iter().map(|l| (l.path.as_str(), l.algo)).collect();
        assert_eq!(
            got,
            [
                ("plain name", Algo::Sha256),
                ("binary", Algo::Sha256),
                ("we\\ird\nname", Algo::Sha256),
                ("bsd (x)", Algo::Sha256),
                ("b3", Algo::Blake3),
            ]
        );
        assert_eq!(lines[4].line, 5);
    }

    #[test]
    fn malformed_lines_say_why() {
        let text = format!(
            "{H} one-space\nnot a line\nMD5 (x) = abc\n{}  short\n\\{H}  bad\\q\n",
            &H[..10]
        );
        let (lines, bad) = parse(text.as_bytes(), Algo::Sha256);
        assert!(lines.is_empty());
        let reasons: Vec<&str> = bad.iter().map(|b| b.reason.as_str()).collect();
        assert_eq!(bad.len(), 5, "{reasons:?}");
        assert!(reasons[2].contains("`MD5`"), "{reasons:?}");
        assert!(reasons[3].contains("10 hex digits"), "{reasons:?}");
        assert!(reasons[4].contains("escape"), "{reasons:?}");
    }

    #[test]
    fn algorithm_of_gnu_lines() {
        assert_eq!(
            gnu_algo(Path::new("out/B3SUMS"), None).unwrap(),
            Algo::Blake3
        );
        assert_eq!(gnu_algo(Path::new("x.blake3"), None).unwrap(), Algo::Blake3);
        assert_eq!(
            gnu_algo(Path::new("SHA256SUMS"), None).unwrap(),
            Algo::Sha256
        );
        assert!(gnu_algo(Path::new("x"), Some(crate::hashing::AlgoArg::Both)).is_err());
    }
}
