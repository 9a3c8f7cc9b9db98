//! OpenBSD `signify` compatibility: public key files, embedded signatures and a BSD-tag
//! `SHA256SUMS`, so a sealed site with nothing but `signify -C` and `sha256sum` can check a bundle.
//!
//! Formats, as `signify.c` reads and writes them:
//!
//! - public key file: `untrusted comment: <comment>\n` + base64(`"Ed"` ‖ keynum ‖ 32-byte key) + `\n`;
//! - embedded signature (`signify -S -e`): `untrusted comment: <comment>\n` +
//!   base64(`"Ed"` ‖ keynum ‖ 64-byte Ed25519 signature over the message) + `\n` + message;
//! - `signify -C` reads the message as lines `SHA256 (path) = <hex>` and hashes each file
//!   relative to the current directory.
//!
//! The key number ("fingerprint" in `signify.c`) only tells which key a signature claims to be
//! from; `signify` makes it random at key generation. Ours is derived from the public key (see
//! [`key_number`]) so the same key always gets the same number and nothing extra has to be stored.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use offline_formats::digest::{parse_hex32, sha256};
use offline_formats::manifest::BundleManifest;
use offline_formats::sums::bsd_line;
use std::collections::HashSet;

/// Algorithm tag at the start of every signify key and signature.
pub const PKALG: [u8; 2] = *b"Ed";
/// First line prefix of every signify file.
pub const COMMENT_HEADER: &str = "untrusted comment: ";
/// Longest comment written. `signify` refuses to read one of 1024 bytes or more and to write a
/// header line of 1024 bytes or more (1004 bytes of comment); this leaves room for both.
pub const MAX_COMMENT_LEN: usize = 1000;
/// Longest path `signify -C` parses: it reads `(path)` into a 1024-byte buffer.
pub const MAX_PATH_LEN: usize = 1021;

const KEYNUM_LEN: usize = 8;
const PUBLIC_KEY_BYTES: usize = 2 + KEYNUM_LEN + 32;
const SIGNATURE_BYTES: usize = 2 + KEYNUM_LEN + 64;

/// Why a signify file could not be written, read or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignifyError {
    /// A comment that `signify` could not read back, or that would break the file format.
    #[error("signify comment {comment:?}: {reason}")]
    InvalidComment {
        comment: String,
        reason: &'static str,
    },
    /// A manifest path that `signify -C` cannot check.
    #[error("`{path}`: cannot be listed for `signify -C`: {reason}")]
    UnsupportedPath { path: String, reason: &'static str },
    /// The same name twice in the sums (also: a file named like the archive).
    #[error("`{path}`: listed twice in the sums (a bundle file named like the archive?)")]
    DuplicatePath { path: String },
    /// A manifest digest that is not 64 lowercase hex digits.
    #[error("`{path}`: invalid sha256 `{value}` in the manifest: {reason}")]
    InvalidDigest {
        path: String,
        value: String,
        reason: &'static str,
    },
    /// The file does not have the `untrusted comment:` line, the base64 line or their newlines.
    #[error("signify {what}: {reason}")]
    Malformed {
        what: &'static str,
        reason: &'static str,
    },
    /// The base64 line does not decode (strictly: canonical padding and trailing bits).
    #[error("signify {what}: invalid base64 on line 2")]
    InvalidBase64 { what: &'static str },
    /// The decoded key or signature has the wrong length.
    #[error("signify {what}: {found} bytes after base64 decoding, expected {expected}")]
    WrongLength {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// Not an Ed25519 key or signature (`signify` only knows `Ed`).
    #[error("signify {what}: unsupported algorithm `{found}`, expected `Ed`")]
    UnsupportedAlgorithm { what: &'static str, found: String },
    /// The public key bytes are not a usable Ed25519 key (not a point, or of small order).
    #[error("signify public key: {reason}")]
    InvalidPublicKey { reason: &'static str },
    /// The signature names another key number than the key it is checked against.
    #[error("signature is from key number {found}, not {expected}: checked against the wrong key")]
    WrongKey { expected: String, found: String },
    /// The Ed25519 signature does not verify over the message.
    #[error("signature verification failed: the message or the signature was changed")]
    BadSignature,
}

/// The key number of a public key: the first 8 bytes of SHA-256 of its 32 bytes.
///
/// `signify -G` picks 8 random bytes instead; both are only a hint telling which key a signature
/// is from (`signify` refuses a signature whose number differs from the key's). Deriving it makes
/// `mirror-sign pub --format signify` print the same file for the same key every time.
pub fn key_number(key: &VerifyingKey) -> [u8; 8] {
    let digest = sha256(key.as_bytes());
    let mut keynum = [0u8; KEYNUM_LEN];
    keynum.copy_from_slice(&digest[..KEYNUM_LEN]);
    keynum
}

/// The public key file `signify -p key.pub` reads, with [`key_number`] as its key number.
pub fn public_key_file(key: &VerifyingKey, comment: &str) -> Result<String, SignifyError> {
    check_comment(comment)?;
    let mut bytes = Vec::with_capacity(PUBLIC_KEY_BYTES);
    bytes.extend_from_slice(&PKALG);
    bytes.extend_from_slice(&key_number(key));
    bytes.extend_from_slice(key.as_bytes());
    Ok(format!(
        "{COMMENT_HEADER}{comment}\n{}\n",
        STANDARD.encode(bytes)
    ))
}

/// Reads a signify public key file (ours or one made by `signify -G`): the key and its key
/// number. Rejects anything after the key line, keys that are not curve points and keys of
/// small order (they would verify forged signatures).
pub fn parse_public_key_file(text: &str) -> Result<(VerifyingKey, [u8; 8]), SignifyError> {
    const WHAT: &str = "public key file";
    let (bytes, consumed) = parse_block::<PUBLIC_KEY_BYTES>(text.as_bytes(), WHAT)?;
    if consumed != text.len() {
        return Err(SignifyError::Malformed {
            what: WHAT,
            reason: "unexpected text after the key line",
        });
    }
    let mut keynum = [0u8; KEYNUM_LEN];
    keynum.copy_from_slice(&bytes[2..2 + KEYNUM_LEN]);
    let mut public = [0u8; 32];
    public.copy_from_slice(&bytes[2 + KEYNUM_LEN..]);
    let key = VerifyingKey::from_bytes(&public).map_err(|_| SignifyError::InvalidPublicKey {
        reason: "not a point on the Ed25519 curve",
    })?;
    if key.is_weak() {
        return Err(SignifyError::InvalidPublicKey {
            reason: "a key of small order, which verifies forged signatures",
        });
    }
    Ok((key, keynum))
}

/// The `SHA256SUMS` text `signify -C` checks: one BSD-tag line `SHA256 (path) = <hex>` per file.
///
/// When the manifest names its archive, the archive's line comes first, under its file name, so
/// `signify -C -x SHA256SUMS.sig bundle.tar.gz` beside the archive checks it before anything is
/// extracted, and the same command without a file name checks everything once the archive has
/// been extracted next to itself. Bundle files follow in manifest order (sorted by path bytes).
///
/// Refuses paths `signify -C` cannot parse (`)`, whitespace, control characters, over
/// [`MAX_PATH_LEN`] bytes), paths that would make it read outside the directory (absolute,
/// `..`), and the same name twice; GNU `sha256sum -c` reads these lines too.
pub fn sums_text(manifest: &BundleManifest) -> Result<String, SignifyError> {
    // `SHA256 (` + ` = ` + 64 hex + newline is 76 bytes; paths are mostly short.
    let mut out = String::with_capacity((manifest.files.len() + 1) * 128);
    let mut seen: HashSet<&str> = HashSet::with_capacity(manifest.files.len() + 1);
    let archive = manifest
        .archive
        .iter()
        .map(|a| (a.name.as_str(), a.sha256.as_str(), true));
    let files = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.sha256.as_str(), false));
    for (path, digest, is_archive) in archive.chain(files) {
        check_sums_path(path)?;
        if is_archive && path.contains('/') {
            return Err(SignifyError::UnsupportedPath {
                path: path.to_owned(),
                reason: "the archive name must be a file name, without folders",
            });
        }
        parse_hex32(digest).map_err(|reason| SignifyError::InvalidDigest {
            path: path.to_owned(),
            value: digest.to_owned(),
            reason,
        })?;
        if !seen.insert(path) {
            return Err(SignifyError::DuplicatePath {
                path: path.to_owned(),
            });
        }
        out.push_str(&bsd_line("SHA256", digest, path));
    }
    Ok(out)
}

/// An embedded signature as `signify -S -e` writes it: comment line, signature line, message.
/// The result is bytes because the message may be any bytes.
pub fn sign_embedded(
    key: &SigningKey,
    message: &[u8],
    comment: &str,
) -> Result<Vec<u8>, SignifyError> {
    check_comment(comment)?;
    let signature = key.sign(message);
    let mut bytes = Vec::with_capacity(SIGNATURE_BYTES);
    bytes.extend_from_slice(&PKALG);
    bytes.extend_from_slice(&key_number(&key.verifying_key()));
    bytes.extend_from_slice(&signature.to_bytes());
    let b64 = STANDARD.encode(bytes);
    let mut out =
        Vec::with_capacity(COMMENT_HEADER.len() + comment.len() + b64.len() + 2 + message.len());
    out.extend_from_slice(COMMENT_HEADER.as_bytes());
    out.extend_from_slice(comment.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(b64.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(message);
    Ok(out)
}

/// Verifies an embedded signature made with `key` (key number from [`key_number`]) and returns
/// the signed message. For a key from a `signify -G` file use [`verify_embedded_with_keynum`].
pub fn verify_embedded(key: &VerifyingKey, signed: &[u8]) -> Result<Vec<u8>, SignifyError> {
    verify_embedded_with_keynum(key, &key_number(key), signed)
}

/// Verifies an embedded signature against a key and the key number its public key file gives
/// (as [`parse_public_key_file`] returns them) and returns the signed message. Like `signify`,
/// refuses a signature that names another key number; the signature itself is checked with
/// strict Ed25519 verification (canonical `S`, no small-order key or `R`).
pub fn verify_embedded_with_keynum(
    key: &VerifyingKey,
    keynum: &[u8; 8],
    signed: &[u8],
) -> Result<Vec<u8>, SignifyError> {
    let (bytes, consumed) = parse_block::<SIGNATURE_BYTES>(signed, "signature")?;
    let found = &bytes[2..2 + KEYNUM_LEN];
    if found != keynum {
        return Err(SignifyError::WrongKey {
            expected: hex::encode(keynum),
            found: hex::encode(found),
        });
    }
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&bytes[2 + KEYNUM_LEN..]);
    let message = &signed[consumed..];
    key.verify_strict(message, &Signature::from_bytes(&sig))
        .map_err(|_| SignifyError::BadSignature)?;
    Ok(message.to_vec())
}

/// Parses `untrusted comment: …\n<base64>\n` at the start of `input` as `signify.c`'s
/// `parseb64file` does, but with strict base64; returns the decoded bytes and the length of
/// the two lines.
fn parse_block<const N: usize>(
    input: &[u8],
    what: &'static str,
) -> Result<([u8; N], usize), SignifyError> {
    let comment_end = input
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(SignifyError::Malformed {
            what,
            reason: "no newline after the comment line",
        })?;
    let comment = &input[..comment_end];
    let Some(text) = comment.strip_prefix(COMMENT_HEADER.as_bytes()) else {
        return Err(SignifyError::Malformed {
            what,
            reason: "the first line does not start with `untrusted comment: `",
        });
    };
    if text.is_empty() {
        return Err(SignifyError::Malformed {
            what,
            reason: "the comment is empty, which signify refuses",
        });
    }
    if text.len() >= 1024 {
        return Err(SignifyError::Malformed {
            what,
            reason: "the comment is 1024 bytes or longer, which signify refuses",
        });
    }
    let rest = &input[comment_end + 1..];
    let b64_end = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(SignifyError::Malformed {
            what,
            reason: "no newline after the base64 line",
        })?;
    let decoded = STANDARD
        .decode(&rest[..b64_end])
        .map_err(|_| SignifyError::InvalidBase64 { what })?;
    let bytes: [u8; N] = decoded
        .as_slice()
        .try_into()
        .map_err(|_| SignifyError::WrongLength {
            what,
            expected: N,
            found: decoded.len(),
        })?;
    if bytes[..2] != PKALG {
        return Err(SignifyError::UnsupportedAlgorithm {
            what,
            found: String::from_utf8_lossy(&bytes[..2]).into_owned(),
        });
    }
    Ok((bytes, comment_end + 1 + b64_end + 1))
}

fn check_comment(comment: &str) -> Result<(), SignifyError> {
    let reason = if comment.is_empty() {
        "empty (signify refuses an empty comment)"
    } else if comment.len() > MAX_COMMENT_LEN {
        "longer than 1000 bytes"
    } else if comment.chars().any(char::is_control) {
        "contains a newline or another control character"
    } else {
        return Ok(());
    };
    Err(SignifyError::InvalidComment {
        comment: comment.to_owned(),
        reason,
    })
}

fn check_sums_path(path: &str) -> Result<(), SignifyError> {
    let reason = if path.is_empty() {
        "empty path"
    } else if path.len() > MAX_PATH_LEN {
        "longer than the 1021 bytes signify reads"
    } else if path.contains(')') {
        "contains `)`, which signify's checksum line parser stops at"
    } else if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "contains whitespace or a control character, which signify's checksum line parser cannot read"
    } else if path.starts_with('/') {
        "absolute path: signify would read it outside the bundle"
    } else if path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        "empty, `.` or `..` path component: signify would read outside the bundle"
    } else {
        return Ok(());
    };
    Err(SignifyError::UnsupportedPath {
        path: path.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use offline_formats::manifest::{ArchiveInfo, FileEntry, SCHEMA};

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn file(path: &str, fill: char) -> FileEntry {
        FileEntry {
            path: path.to_owned(),
            size: 1,
            sha256: fill.to_string().repeat(64),
            blake3: "0".repeat(64),
            mode: "0644".to_owned(),
            media_type: "text/plain".to_owned(),
        }
    }

    fn manifest(files: Vec<FileEntry>, archive: Option<&str>) -> BundleManifest {
        BundleManifest {
            schema: SCHEMA.to_owned(),
            bundle_id: "b".to_owned(),
            kind: "bootstrap".to_owned(),
            mirror_generation: 1,
            created_at: "2026-01-01T00:00:00Z".to_owned(),
            producer: "test".to_owned(),
            files,
            merkle_root: format!("sha256:{}", "0".repeat(64)),
            archive: archive.map(|name| ArchiveInfo {
                name: name.to_owned(),
                size: 3,
                sha256: "c".repeat(64),
                blake3: "d".repeat(64),
                compression: "gzip".to_owned(),
            }),
        }
    }

    #[test]
    fn key_number_is_the_start_of_the_keys_sha256() {
        let vk = key(1).verifying_key();
        let digest = sha256(vk.as_bytes());
        assert_eq!(key_number(&vk), digest[..8]);
        assert_eq!(key_number(&vk), key_number(&key(1).verifying_key()));
        assert_ne!(key_number(&vk), key_number(&key(2).verifying_key()));
    }

    #[test]
    fn public_key_file_layout_and_round_trip() {
        let vk = key(3).verifying_key();
        let text = public_key_file(&vk, "alice public key").unwrap();
        let (first, rest) = text.split_once('\n').unwrap();
        assert_eq!(first, "untrusted comment: alice public key");
        let line = rest.strip_suffix('\n').unwrap();
        assert_eq!(line.len(), 56, "42 bytes of base64");
        let raw = STANDARD.decode(line).unwrap();
        assert_eq!(&raw[..2], b"Ed");
        assert_eq!(&raw[2..10], key_number(&vk));
        assert_eq!(&raw[10..], vk.as_bytes());
        assert_eq!(parse_public_key_file(&text).unwrap(), (vk, key_number(&vk)));
    }

    #[test]
    fn bad_comments_are_refused() {
        let vk = key(3).verifying_key();
        for comment in ["", "a\nb", "a\rb", "nul\0", &"x".repeat(1001)] {
            assert!(
                matches!(
                    public_key_file(&vk, comment),
                    Err(SignifyError::InvalidComment { .. })
                ),
                "{comment:?}"
            );
            assert!(sign_embedded(&key(3), b"m", comment).is_err());
        }
        assert!(public_key_file(&vk, &"x".repeat(1000)).is_ok());
    }

    #[test]
    fn sums_list_the_archive_first_then_the_files_in_manifest_order() {
        let m = manifest(
            vec![file("a.txt", 'a'), file("charts/(b.yaml", 'b')],
            Some("bundle.tar.gz"),
        );
        assert_eq!(
            sums_text(&m).unwrap(),
            format!(
                "SHA256 (bundle.tar.gz) = {}\nSHA256 (a.txt) = {}\nSHA256 (charts/(b.yaml) = {}\n",
                "c".repeat(64),
                "a".repeat(64),
                "b".repeat(64)
            )
        );
        let without = manifest(vec![file("a.txt", 'a')], None);
        assert_eq!(
            sums_text(&without).unwrap(),
            format!("SHA256 (a.txt) = {}\n", "a".repeat(64))
        );
        assert_eq!(sums_text(&manifest(vec![], None)).unwrap(), "");
    }

    #[test]
    fn sums_refuse_what_signify_cannot_check() {
        for path in [
            "a)b",
            "a b",
            "tab\there",
            "new\nline",
            "/etc/passwd",
            "../up",
            "a/../b",
            "a//b",
            "./a",
            "",
            &"x".repeat(1022),
        ] {
            let err = sums_text(&manifest(vec![file(path, 'a')], None)).unwrap_err();
            assert!(
                matches!(&err, SignifyError::UnsupportedPath { path: p, .. } if p == path),
                "{path:?}: {err}"
            );
        }
        assert!(sums_text(&manifest(vec![file(&"x".repeat(1021), 'a')], None)).is_ok());
        let err = sums_text(&manifest(vec![], Some("dir/b.tar.gz"))).unwrap_err();
        assert!(matches!(err, SignifyError::UnsupportedPath { .. }), "{err}");
    }

    #[test]
    fn sums_refuse_bad_digests_and_duplicates() {
        let mut upper = file("a", 'a');
        upper.sha256 = "A".repeat(64);
        let err = sums_text(&manifest(vec![upper], None)).unwrap_err();
        assert!(matches!(err, SignifyError::InvalidDigest { .. }), "{err}");
        let mut short = file("a", 'a');
        short.sha256 = "a".repeat(63);
        assert!(sums_text(&manifest(vec![short], None)).is_err());

        let err = sums_text(&manifest(vec![file("b.tar.gz", 'a')], Some("b.tar.gz"))).unwrap_err();
        assert!(
            matches!(&err, SignifyError::DuplicatePath { path } if path == "b.tar.gz"),
            "{err}"
        );
        let err = sums_text(&manifest(vec![file("a", 'a'), file("a", 'b')], None)).unwrap_err();
        assert!(matches!(err, SignifyError::DuplicatePath { .. }), "{err}");
    }

    #[test]
    fn embedded_signature_layout_and_round_trip() {
        let sk = key(5);
        let signed = sign_embedded(&sk, b"SHA256 (a) = 00\n", "verify with alice.pub").unwrap();
        let text = String::from_utf8(signed.clone()).unwrap();
        let mut lines = text.splitn(3, '\n');
        assert_eq!(
            lines.next().unwrap(),
            "untrusted comment: verify with alice.pub"
        );
        let raw = STANDARD.decode(lines.next().unwrap()).unwrap();
        assert_eq!(raw.len(), 74);
        assert_eq!(&raw[..2], b"Ed");
        assert_eq!(&raw[2..10], key_number(&sk.verifying_key()));
        assert_eq!(lines.next().unwrap(), "SHA256 (a) = 00\n");
        assert_eq!(
            verify_embedded(&sk.verifying_key(), &signed).unwrap(),
            b"SHA256 (a) = 00\n"
        );
        // Any bytes, including none, can be signed.
        let binary = sign_embedded(&sk, &[0, 0xff, b'\n'], "c").unwrap();
        assert_eq!(
            verify_embedded(&sk.verifying_key(), &binary).unwrap(),
            [0, 0xff, b'\n']
        );
        let empty = sign_embedded(&sk, b"", "c").unwrap();
        assert_eq!(verify_embedded(&sk.verifying_key(), &empty).unwrap(), b"");
    }

    #[test]
    fn changed_message_or_signature_fails() {
        let sk = key(5);
        let signed = sign_embedded(&sk, b"hello\n", "c").unwrap();
        let mut changed = signed.clone();
        *changed.last_mut().unwrap() = b'!';
        assert!(matches!(
            verify_embedded(&sk.verifying_key(), &changed),
            Err(SignifyError::BadSignature)
        ));
        let mut appended = signed.clone();
        appended.extend_from_slice(b"more\n");
        assert!(matches!(
            verify_embedded(&sk.verifying_key(), &appended),
            Err(SignifyError::BadSignature)
        ));

        // Flip one bit of the Ed25519 signature itself, keeping the key number.
        let text = String::from_utf8(signed).unwrap();
        let (comment, rest) = text.split_once('\n').unwrap();
        let (b64, message) = rest.split_once('\n').unwrap();
        let mut raw = STANDARD.decode(b64).unwrap();
        raw[40] ^= 1;
        let forged = format!("{comment}\n{}\n{message}", STANDARD.encode(&raw));
        assert!(matches!(
            verify_embedded(&sk.verifying_key(), forged.as_bytes()),
            Err(SignifyError::BadSignature)
        ));
    }

    #[test]
    fn another_key_is_refused_by_key_number_then_by_signature() {
        let signed = sign_embedded(&key(5), b"m", "c").unwrap();
        let other = key(6).verifying_key();
        assert!(matches!(
            verify_embedded(&other, &signed),
            Err(SignifyError::WrongKey { .. })
        ));
        // Even when the key number is made to match, the signature does not verify.
        let keynum = key_number(&key(5).verifying_key());
        assert!(matches!(
            verify_embedded_with_keynum(&other, &keynum, &signed),
            Err(SignifyError::BadSignature)
        ));
    }

    #[test]
    fn malformed_files_are_refused() {
        let vk = key(7).verifying_key();
        let good = public_key_file(&vk, "k").unwrap();
        let b64 = good.lines().nth(1).unwrap().to_owned();
        let cases: Vec<(String, &str)> = vec![
            (format!("comment: k\n{b64}\n"), "first line"),
            (format!("untrusted comment: \n{b64}\n"), "empty"),
            (
                format!("untrusted comment: k\n{b64}"),
                "no newline after the base64",
            ),
            (
                "untrusted comment: k".to_owned(),
                "no newline after the comment",
            ),
            (
                format!("untrusted comment: k\n{b64}\nextra\n"),
                "after the key line",
            ),
            (
                format!("untrusted comment: {}\n{b64}\n", "x".repeat(1024)),
                "1024",
            ),
            (
                format!("untrusted comment: k\n{}\n", &b64[..52]),
                "bytes after base64",
            ),
            (format!("untrusted comment: k\n{b64}=\n"), "invalid base64"),
            (format!("untrusted comment: k\n {b64}\n"), "invalid base64"),
        ];
        for (text, expected) in cases {
            let err = parse_public_key_file(&text).unwrap_err();
            assert!(err.to_string().contains(expected), "{text:?}: {err}");
        }

        // Another algorithm tag.
        let mut raw = STANDARD.decode(&b64).unwrap();
        raw[1] = b'x';
        let text = format!("untrusted comment: k\n{}\n", STANDARD.encode(&raw));
        assert!(matches!(
            parse_public_key_file(&text),
            Err(SignifyError::UnsupportedAlgorithm { .. })
        ));

        // Non-canonical base64: the last character carries non-zero unused bits.
        let sig = sign_embedded(&key(7), b"m", "c").unwrap();
        let text = String::from_utf8(sig).unwrap();
        let (comment, rest) = text.split_once('\n').unwrap();
        let (line, message) = rest.split_once('\n').unwrap();
        assert!(line.ends_with('='));
        let mut chars: Vec<char> = line.chars().collect();
        let last = chars.len() - 2;
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let index = alphabet.find(chars[last]).unwrap();
        chars[last] = alphabet.chars().nth(index ^ 1).unwrap();
        let odd: String = chars.into_iter().collect();
        let forged = format!("{comment}\n{odd}\n{message}");
        assert!(matches!(
            verify_embedded(&vk, forged.as_bytes()),
            Err(SignifyError::InvalidBase64 { .. })
        ));
    }

    #[test]
    fn small_order_and_invalid_public_keys_are_refused() {
        // The identity point (y = 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        // y = 2 is not on the curve.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        for public in [identity, off_curve] {
            let mut raw = b"Ed".to_vec();
            raw.extend_from_slice(&[0; 8]);
            raw.extend_from_slice(&public);
            let text = format!("untrusted comment: k\n{}\n", STANDARD.encode(&raw));
            assert!(matches!(
                parse_public_key_file(&text),
                Err(SignifyError::InvalidPublicKey { .. })
            ));
        }
    }
}
