//! Private and public key files: generating a key pair, reading a private key (refusing one
//! others can read, decrypting an encrypted one), and passphrases. Secret bytes live in
//! `Zeroizing` buffers or in `SigningKey`, which wipes itself when dropped.

use crate::cli::{KeygenArgs, PassphraseArgs};
use crate::error::SignError;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::{SigningKey, VerifyingKey};
use offline_formats::keys::{
    encode_public_key_pem, fingerprint, parse_public_key_pem, ED25519_OID,
};
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo, SecretDocument};
use rand_core::{OsRng, RngCore as _};
use serde::Serialize;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::ffi::OsStringExt as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::Path;
use zeroize::Zeroizing;

/// Environment variable read for a passphrase when no flag names one.
pub const PASSPHRASE_ENV: &str = "MIRROR_SIGN_PASSPHRASE";

/// PBKDF2-HMAC-SHA256 rounds for new encrypted keys (OWASP 2023 guidance). PBKDF2 rather than
/// scrypt because OpenSSL refuses scrypt parameters above its 32 MiB default memory limit, and
/// an encrypted key that `openssl pkey` cannot read would lock users into this tool.
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Key files are a few hundred bytes; anything much larger is not a key.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Longest passphrase read from a file.
const MAX_PASSPHRASE: u64 = 4096;

/// PKCS#8 v1 (RFC 8410 §7) prefix of an Ed25519 private key: the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// What `keygen` prints on stdout.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeygenOutput {
    /// The key's label.
    pub keyid: String,
    /// PEM SubjectPublicKeyInfo.
    pub public_key: String,
    /// `sha256:<hex>` of the raw public key.
    pub fingerprint: String,
    /// Where the private key was written.
    pub private_key_file: String,
    /// Where the public key was written.
    pub public_key_file: String,
    /// Whether the private key is passphrase-encrypted.
    pub encrypted: bool,
}

/// A passphrase, wiped when dropped.
pub type Passphrase = Zeroizing<Vec<u8>>;

/// Reads the passphrase named by the flags, else `MIRROR_SIGN_PASSPHRASE` when it is set and
/// not empty; `None` when there is none.
pub fn passphrase(args: &PassphraseArgs) -> Result<Option<Passphrase>, SignError> {
    if let Some(path) = &args.passphrase_file {
        let file = File::open(path).map_err(|e| SignError::io(path, e))?;
        let mut bytes = Zeroizing::new(Vec::new());
        file.take(MAX_PASSPHRASE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| SignError::io(path, e))?;
        if bytes.len() as u64 > MAX_PASSPHRASE {
            return Err(SignError::Passphrase(format!(
                "`{}`: passphrase file is longer than {MAX_PASSPHRASE} bytes",
                path.display()
            )));
        }
        // The first line is the passphrase, as `openssl -passin file:` reads it.
        let end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(bytes.len());
        let mut end = end;
        if end > 0 && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        let line = Zeroizing::new(bytes[..end].to_vec());
        if line.is_empty() {
            return Err(SignError::Passphrase(format!(
                "`{}`: passphrase file is empty",
                path.display()
            )));
        }
        return Ok(Some(line));
    }
    if let Some(var) = &args.passphrase_env {
        return match std::env::var_os(var) {
            Some(value) if !value.is_empty() => Ok(Some(os_to_secret(value))),
            Some(_) => Err(SignError::Passphrase(format!(
                "environment variable `{var}` is empty"
            ))),
            None => Err(SignError::Passphrase(format!(
                "environment variable `{var}` is not set"
            ))),
        };
    }
    match std::env::var_os(PASSPHRASE_ENV) {
        Some(value) if !value.is_empty() => Ok(Some(os_to_secret(value))),
        _ => Ok(None),
    }
}

fn os_to_secret(value: OsString) -> Passphrase {
    Zeroizing::new(value.into_vec())
}

/// A keyid that is safe as a file name and as a label: ASCII letters, digits, `.`, `_`, `-`,
/// starting with a letter or digit, at most 128 characters.
pub fn validate_key_id(keyid: &str) -> Result<(), SignError> {
    let ok = !keyid.is_empty()
        && keyid.len() <= 128
        && keyid
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && keyid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(SignError::Usage(format!(
            "key id `{keyid}`: use 1 to 128 ASCII letters, digits, `.`, `_` or `-`, starting with a letter or digit"
        )))
    }
}

/// `mirror-sign keygen`: writes `DIR/ID.key` (mode 0600) and `DIR/ID.pub`, refusing to
/// overwrite either.
pub fn keygen(args: &KeygenArgs) -> Result<KeygenOutput, SignError> {
    validate_key_id(&args.key_id)?;
    let passphrase = passphrase(&args.passphrase)?;
    let private_path = args.out.join(format!("{}.key", args.key_id));
    let public_path = args.out.join(format!("{}.pub", args.key_id));
    for path in [&private_path, &public_path] {
        if fs::symlink_metadata(path).is_ok() {
            return Err(SignError::Exists { path: path.clone() });
        }
    }
    match fs::metadata(&args.out) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(SignError::Usage(format!(
                "`{}`: is not a folder",
                args.out.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&args.out)
            .map_err(|e| SignError::io(&args.out, e))?,
        Err(e) => return Err(SignError::io(&args.out, e)),
    }

    let mut seed = Zeroizing::new([0u8; 32]);
    fill_random(seed.as_mut())?;
    let signing = SigningKey::from_bytes(&seed);
    drop(seed);
    let verifying = signing.verifying_key();
    let private_pem = encode_private_key_pem(&signing, passphrase.as_ref().map(|p| p.as_slice()))?;
    drop(signing);
    let public_pem = encode_public_key_pem(&verifying);

    write_new(&private_path, private_pem.as_bytes(), 0o600)?;
    if let Err(e) = write_new(&public_path, public_pem.as_bytes(), 0o644) {
        // Leave nothing half made: a private key without its public half is a trap.
        let _ = fs::remove_file(&private_path);
        return Err(e);
    }
    if let Ok(dir) = File::open(&args.out) {
        let _ = dir.sync_all();
    }
    Ok(KeygenOutput {
        keyid: args.key_id.clone(),
        public_key: public_pem,
        fingerprint: fingerprint(&verifying),
        private_key_file: private_path.display().to_string(),
        public_key_file: public_path.display().to_string(),
        encrypted: passphrase.is_some(),
    })
}

fn fill_random(out: &mut [u8]) -> Result<(), SignError> {
    OsRng
        .try_fill_bytes(out)
        .map_err(|e| SignError::Random(e.to_string()))
}

/// Creates `path` with `mode` (never an existing file: `create_new`), writes `bytes` and syncs.
/// The mode is set when the file is created, so a private key is never readable by others, not
/// even for an instant. On failure the new file is removed.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SignError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                SignError::Exists {
                    path: path.to_owned(),
                }
            } else {
                SignError::io(path, e)
            }
        })?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(SignError::io(path, e));
    }
    Ok(())
}

/// PKCS#8 PEM of a private key: `PRIVATE KEY` (RFC 8410 v1, as `openssl genpkey` writes it), or
/// `ENCRYPTED PRIVATE KEY` (PBES2: PBKDF2-SHA256 and AES-256-CBC) with a passphrase.
pub fn encode_private_key_pem(
    key: &SigningKey,
    passphrase: Option<&[u8]>,
) -> Result<Zeroizing<String>, SignError> {
    let mut der = Zeroizing::new(Vec::with_capacity(48));
    der.extend_from_slice(&PKCS8_ED25519_PREFIX);
    der.extend_from_slice(key.as_bytes());
    let internal = |e: &dyn std::fmt::Display| SignError::Internal(format!("PKCS#8: {e}"));
    let (label, document) = match passphrase {
        None => (
            "PRIVATE KEY",
            SecretDocument::try_from(der.as_slice()).map_err(|e| internal(&e))?,
        ),
        Some(passphrase) => {
            let mut salt = [0u8; 16];
            let mut iv = [0u8; 16];
            fill_random(&mut salt)?;
            fill_random(&mut iv)?;
            let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(
                PBKDF2_ITERATIONS,
                &salt,
                &iv,
            )
            .map_err(|e| internal(&e))?;
            let info = PrivateKeyInfo::try_from(der.as_slice()).map_err(|e| internal(&e))?;
            (
                "ENCRYPTED PRIVATE KEY",
                info.encrypt_with_params(params, passphrase)
                    .map_err(|e| internal(&e))?,
            )
        }
    };
    document
        .to_pem(label, LineEnding::LF)
        .map_err(|e| internal(&e))
}

/// Reads a key file into a wiped buffer. A private key file must not be accessible by group or
/// others; the check is on the open file, so the file cannot be swapped in between.
fn read_key_file(path: &Path) -> Result<(Zeroizing<String>, u32), SignError> {
    let file = File::open(path).map_err(|e| SignError::io(path, e))?;
    let meta = file.metadata().map_err(|e| SignError::io(path, e))?;
    if !meta.is_file() {
        return Err(SignError::KeyFile {
            path: path.to_owned(),
            reason: "is not a regular file".to_owned(),
        });
    }
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| SignError::io(path, e))?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(SignError::KeyFile {
            path: path.to_owned(),
            reason: format!("larger than {MAX_KEY_FILE} bytes: not a key file"),
        });
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| SignError::KeyFile {
        path: path.to_owned(),
        reason: "not a PEM file (not UTF-8 text)".to_owned(),
    })?;
    Ok((Zeroizing::new(text.to_owned()), meta.mode() & 0o7777))
}

/// The PEM label of a key file's text, or an error naming the file.
fn pem_label(path: &Path, text: &str) -> Result<String, SignError> {
    let not_pem = || SignError::KeyFile {
        path: path.to_owned(),
        reason: "not a PEM key file (expected `-----BEGIN PRIVATE KEY-----`)".to_owned(),
    };
    let first = text.trim_start().lines().next().ok_or_else(not_pem)?;
    first
        .trim_end()
        .strip_prefix("-----BEGIN ")
        .and_then(|rest| rest.strip_suffix("-----"))
        .map(str::to_owned)
        .ok_or_else(not_pem)
}

/// Reads a private key: refuses a file accessible by group or others, decrypts an encrypted one
/// with the passphrase named by `args`.
pub fn load_signing_key(path: &Path, args: &PassphraseArgs) -> Result<SigningKey, SignError> {
    let (text, mode) = read_key_file(path)?;
    let label = pem_label(path, &text)?;
    match label.as_str() {
        "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {}
        "PUBLIC KEY" => {
            return Err(SignError::KeyFile {
                path: path.to_owned(),
                reason: "is a public key; signing needs the private key (`.key`)".to_owned(),
            })
        }
        other => {
            return Err(SignError::KeyFile {
                path: path.to_owned(),
                reason: format!(
                    "PEM `{other}` is not a PKCS#8 Ed25519 key (expected `PRIVATE KEY` or `ENCRYPTED PRIVATE KEY`)"
                ),
            })
        }
    }
    check_private_mode(path, mode)?;
    decode_private_key(path, &text, args)
}

fn check_private_mode(path: &Path, mode: u32) -> Result<(), SignError> {
    if mode & 0o077 != 0 {
        return Err(SignError::KeyPermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

fn decode_private_key(
    path: &Path,
    text: &str,
    args: &PassphraseArgs,
) -> Result<SigningKey, SignError> {
    let bad = |reason: String| SignError::KeyFile {
        path: path.to_owned(),
        reason,
    };
    let (label, document) = SecretDocument::from_pem(text.trim())
        .map_err(|e| bad(format!("not a valid PEM key file: {e}")))?;
    let plain = if label == "ENCRYPTED PRIVATE KEY" {
        let passphrase = passphrase(args)?.ok_or_else(|| SignError::PassphraseNeeded {
            path: path.to_owned(),
        })?;
        let encrypted = EncryptedPrivateKeyInfo::try_from(document.as_bytes())
            .map_err(|e| bad(format!("not an encrypted PKCS#8 key: {e}")))?;
        encrypted
            .decrypt(passphrase.as_slice())
            .map_err(|_| SignError::WrongPassphrase {
                path: path.to_owned(),
            })?
    } else {
        document
    };
    let info = PrivateKeyInfo::try_from(plain.as_bytes()).map_err(|_| {
        if label == "ENCRYPTED PRIVATE KEY" {
            SignError::WrongPassphrase {
                path: path.to_owned(),
            }
        } else {
            bad("not a PKCS#8 private key".to_owned())
        }
    })?;
    if info.algorithm.oid != ED25519_OID {
        return Err(bad(format!(
            "algorithm {} is not Ed25519 ({ED25519_OID})",
            info.algorithm.oid
        )));
    }
    if info.algorithm.parameters.is_some() {
        return Err(bad(
            "Ed25519 algorithm identifier must not carry parameters".to_owned(),
        ));
    }
    // RFC 8410 §7: the private key is an OCTET STRING holding the 32-byte seed.
    let seed: &[u8; 32] = info
        .private_key
        .strip_prefix(&[0x04, 0x20])
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| bad("Ed25519 private key is not a 32-byte seed".to_owned()))?;
    let key = SigningKey::from_bytes(seed);
    if let Some(public) = info.public_key {
        if public != key.verifying_key().as_bytes() {
            return Err(bad(
                "the public key stored in the file does not belong to its private key".to_owned(),
            ));
        }
    }
    Ok(key)
}

/// The public key of a key file: a private key (checked and decrypted as for signing) or a
/// public key (`.pub`).
pub fn load_public_key(path: &Path, args: &PassphraseArgs) -> Result<VerifyingKey, SignError> {
    let (text, _) = read_key_file(path)?;
    if pem_label(path, &text)? == "PUBLIC KEY" {
        return parse_public_key_pem(&text).map_err(|e| SignError::KeyFile {
            path: path.to_owned(),
            reason: e.to_string(),
        });
    }
    Ok(load_signing_key(path, args)?.verifying_key())
}

/// The default keyid of a key file: its name without the extension (`keys/alice.key` →
/// `alice`).
pub fn default_key_id(path: &Path) -> Result<String, SignError> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            SignError::Usage(format!(
                "`{}`: cannot make a keyid from this file name; give --key-id",
                path.display()
            ))
        })
}

/// Lowercase hex of the raw public key (`pub --format raw`).
pub fn raw_public_key(key: &VerifyingKey) -> String {
    offline_formats::keys::raw_hex(key)
}

/// The PEM form of a public key, for `pub --format pem`.
pub fn pem_public_key(key: &VerifyingKey) -> String {
    encode_public_key_pem(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unencrypted_pem_is_rfc_8410_and_round_trips() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let pem = encode_private_key_pem(&key, None).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"));
        let back = decode_private_key(Path::new("k"), &pem, &PassphraseArgs::default()).unwrap();
        assert_eq!(back.to_bytes(), key.to_bytes());
    }

    #[test]
    fn key_ids_are_file_name_safe() {
        for good in ["alice", "alice-2026", "a.b_c", "7"] {
            assert!(validate_key_id(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".alice",
            "-x",
            "a/b",
            "..",
            "a b",
            "é",
            &"a".repeat(129),
        ] {
            assert!(validate_key_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pem_labels_are_read_from_the_first_line() {
        let p = Path::new("k");
        assert_eq!(
            pem_label(p, "\n-----BEGIN PRIVATE KEY-----\nx").unwrap(),
            "PRIVATE KEY"
        );
        assert!(pem_label(p, "ssh-ed25519 AAAA").is_err());
        assert!(pem_label(p, "").is_err());
    }
}
