//! `trust init`, `trust rotate` and `trust verify`: making a trust root for its key holders to
//! sign, and accepting a new root only as the shared rotation rules allow
//! (`offline_formats::rotation`).

use crate::cli::{TrustCommand, TrustInitArgs, TrustRotateArgs, TrustVerifyArgs};
use crate::document::{display_name, read_trust_root};
use crate::error::SignError;
use crate::key_status::{parse_duration, DAY};
use crate::keys::validate_key_id;
use crate::verify::now as parse_now;
use offline_formats::jcs;
use offline_formats::keys::{encode_public_key_pem, fingerprint, parse_public_key_pem};
use offline_formats::rotation::{
    check_rotation, verify_chain, ChainProblemKind, ChainReport, NewRootExpiry, RotationReport,
    SignedRoot,
};
use offline_formats::threshold::check_trust_root;
use offline_formats::timestamp::{format_unix, parse_unix};
use offline_formats::trust::{self, TrustKey, TrustRoot};
use std::collections::BTreeSet;
use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};

/// Default key window: 12 months, counted as 365 days (REFERENCE: key custody).
pub const DEFAULT_KEY_LIFE: i64 = 365 * DAY;

/// Public key files are a few hundred bytes.
const MAX_PUBLIC_KEY_FILE: u64 = 64 * 1024;

/// Runs a `trust` subcommand; returns its exit code.
pub fn run(
    command: &TrustCommand,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, SignError> {
    match command {
        TrustCommand::Init(args) => {
            let made = init(args)?;
            for note in &made.notes {
                let _ = writeln!(stderr, "mirror-sign: {}", crate::sanitize(note));
            }
            write_json(stdout, &made.root)?;
            Ok(0)
        }
        TrustCommand::Rotate(args) => {
            let report = rotate(args)?;
            crate::publish::record(
                &args.audit,
                crate::audit::action::TRUST_ROTATE,
                &report.new_keys.payload_digest,
                None,
                &format!(
                    "{} version {} to {}",
                    if report.ok { "accepted" } else { "refused" },
                    report.from.version,
                    report.to.version
                ),
            )?;
            write_json(stdout, &report)?;
            if let Some(at) = &report.old_keys_at {
                let _ = writeln!(
                    stderr,
                    "mirror-sign: note: old root version {} expired at {at}; its keys were counted as of that instant",
                    report.from.version
                );
            }
            for problem in &report.problems {
                let _ = writeln!(
                    stderr,
                    "mirror-sign: error: {}",
                    crate::sanitize(&problem.message)
                );
            }
            if report.ok {
                let _ = writeln!(
                    stderr,
                    "mirror-sign: accepted: root version {} (expires {}) replaces version {}",
                    report.to.version, report.to.expires, report.from.version
                );
                Ok(0)
            } else {
                Ok(1)
            }
        }
        TrustCommand::Verify(args) => {
            let report = verify(args)?;
            write_json(stdout, &report)?;
            let files: Vec<&Path> = std::iter::once(args.pinned.as_path())
                .chain(args.roots.iter().map(PathBuf::as_path))
                .collect();
            for problem in &report.problems {
                // A refused step is named by the file of the root it refused.
                let file = match (problem.kind, problem.step) {
                    (ChainProblemKind::StepRefused, Some(step)) => files.get(step + 1),
                    (ChainProblemKind::PinnedRootInvalid, _) => files.first(),
                    _ => files.last(),
                };
                let prefix = file
                    .map(|f| format!("`{}`: ", display_name(f).display()))
                    .unwrap_or_default();
                let _ = writeln!(
                    stderr,
                    "mirror-sign: error: {}",
                    crate::sanitize(&format!("{prefix}{}", problem.message))
                );
            }
            match &report.trusted {
                Some(root) if report.ok => {
                    let _ = writeln!(
                        stderr,
                        "mirror-sign: trusted: root version {} (expires {}), {} of {} keys, after {} step(s) from pinned version {}",
                        root.version,
                        root.expires,
                        root.threshold,
                        root.keys
                            .iter()
                            .filter(|k| !k.revoked)
                            .map(|k| k.fingerprint.as_str())
                            .collect::<BTreeSet<_>>()
                            .len(),
                        report.steps.len(),
                        report.pinned.version
                    );
                    Ok(0)
                }
                _ => Ok(1),
            }
        }
    }
}

/// What `trust init` made: the root, and notes for people.
#[derive(Debug)]
pub struct Initialized {
    /// The unsigned trust root.
    pub root: TrustRoot,
    /// Warnings and notes for stderr (`warning: …`, `note: …`).
    pub notes: Vec<String>,
}

/// `mirror-sign trust init`: an unsigned trust root from public key files, or the next root
/// after `--from`, checked with the same rules as every verifier.
pub fn init(args: &TrustInitArgs) -> Result<Initialized, SignError> {
    let mut notes = Vec::new();
    let not_before = match &args.not_before {
        Some(text) => parse_time("--not-before", text)?,
        None => default_not_before(args.now.as_deref(), &mut notes)?,
    };
    let not_after = match &args.not_after {
        Some(text) => parse_time_or_duration("--not-after", text, not_before)?,
        None => not_before.saturating_add(DEFAULT_KEY_LIFE),
    };
    if not_after <= not_before {
        return Err(SignError::Usage(format!(
            "--not-after {} is not after --not-before {}",
            format_time(not_after)?,
            format_time(not_before)?
        )));
    }
    let expires = parse_time_or_duration("--expires", &args.expires, not_before)?;
    if expires <= not_before {
        return Err(SignError::Usage(format!(
            "--expires {} is not after the keys' notBefore {}: the root could never be used",
            format_time(expires)?,
            format_time(not_before)?
        )));
    }

    let (mut keys, version, threshold, previous) = match &args.from {
        Some(path) => {
            let old = read_signed_root(path)?;
            let root = old.root().clone();
            notes.push(format!(
                "note: starting from root version {} of `{}`; its signatures are not checked here (`trust rotate` checks them)",
                root.version,
                display_name(path).display()
            ));
            let version = match args.version {
                Some(v) => v,
                None => root.version.checked_add(1).ok_or_else(|| {
                    SignError::Usage("the --from root's version is the largest there is".into())
                })?,
            };
            (
                root.keys,
                version,
                args.threshold.unwrap_or(root.threshold),
                Some(root.version),
            )
        }
        None => {
            let threshold = args.threshold.ok_or_else(|| {
                SignError::Usage(
                    "--threshold K is required (or --from ROOT to keep its threshold)".into(),
                )
            })?;
            (Vec::new(), args.version.unwrap_or(1), threshold, None)
        }
    };
    if version == 0 {
        return Err(SignError::Usage("--version must be at least 1".into()));
    }
    if let Some(old) = previous {
        if version <= old {
            return Err(SignError::Usage(format!(
                "--version {version} is not higher than the --from root's {old}: `trust rotate` would refuse it"
            )));
        }
    }
    if keys.is_empty() && args.keys.is_empty() {
        return Err(SignError::Usage(
            "give at least one --key PUB (or --from ROOT)".into(),
        ));
    }

    // Where each keyid came from, for messages.
    let mut origin: Vec<String> = keys.iter().map(|_| "the --from root".to_owned()).collect();
    let mut fingerprints: Vec<String> = keys
        .iter()
        .map(|k| {
            parse_public_key_pem(&k.public_key)
                .map(|key| fingerprint(&key))
                .map_err(|e| SignError::Internal(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    for spec in &args.keys {
        let (keyid, path) = parse_key_spec(spec)?;
        validate_key_id(&keyid)?;
        let key = read_public_key(&path)?;
        let source = format!("`{}`", path.display());
        if let Some(i) = keys.iter().position(|k| k.keyid == keyid) {
            return Err(SignError::Usage(format!(
                "keyid `{keyid}` is given twice ({} and {source}); name one with --key ID=PATH",
                origin[i]
            )));
        }
        let print = fingerprint(&key);
        if let Some(i) = fingerprints.iter().position(|f| *f == print) {
            return Err(SignError::Usage(format!(
                "{source} is the same public key ({print}) as keyid `{}` from {}: a key counts once, list it once",
                keys[i].keyid, origin[i]
            )));
        }
        keys.push(TrustKey {
            keyid: keyid.clone(),
            public_key: encode_public_key_pem(&key),
            owner: keyid,
            not_before: format_time(not_before)?,
            not_after: format_time(not_after)?,
            revoked: false,
        });
        origin.push(source);
        fingerprints.push(print);
    }

    let mut owned = BTreeSet::new();
    for spec in &args.owners {
        let Some((keyid, owner)) = spec.split_once('=') else {
            return Err(SignError::Usage(format!(
                "--owner `{spec}`: expected ID=NAME, e.g. alice=alice@release.example"
            )));
        };
        if owner.trim().is_empty() || owner.chars().any(char::is_control) {
            return Err(SignError::Usage(format!(
                "--owner `{spec}`: the name must be non-empty, without control characters"
            )));
        }
        if !owned.insert(keyid) {
            return Err(SignError::Usage(format!(
                "--owner: keyid `{keyid}` is given an owner twice"
            )));
        }
        let key = keys.iter_mut().find(|k| k.keyid == keyid).ok_or_else(|| {
            SignError::Usage(format!("--owner `{spec}`: no key has keyid `{keyid}`"))
        })?;
        key.owner = owner.to_owned();
    }
    for keyid in &args.revoke {
        let key = keys.iter_mut().find(|k| k.keyid == *keyid).ok_or_else(|| {
            SignError::Usage(format!("--revoke `{keyid}`: no key has this keyid"))
        })?;
        key.revoked = true;
    }
    if threshold == 0 {
        return Err(SignError::Usage("--threshold must be at least 1".into()));
    }
    let usable: BTreeSet<&str> = keys
        .iter()
        .zip(&fingerprints)
        .filter(|(k, _)| !k.revoked)
        .map(|(_, f)| f.as_str())
        .collect();
    if usize::try_from(threshold).map_or(true, |t| t > usable.len()) {
        return Err(SignError::Usage(format!(
            "--threshold {threshold} is more than the {} distinct non-revoked keys given: it could never be met",
            usable.len()
        )));
    }
    // Sorted by keyid, so that the document does not depend on the order of the flags: an
    // approver who runs the same `trust init` gets the same bytes and payload digest.
    keys.sort_by(|a, b| a.keyid.as_bytes().cmp(b.keyid.as_bytes()));
    let root = TrustRoot {
        schema: trust::SCHEMA.to_owned(),
        version,
        expires: format_time(expires)?,
        threshold,
        keys,
    };
    check_trust_root(&root).map_err(|e| SignError::Usage(e.to_string()))?;
    schedule_warnings(&root, expires, not_before, not_after, &mut notes)?;
    Ok(Initialized { root, notes })
}

/// Warnings about dates that make a valid root a poor one.
fn schedule_warnings(
    root: &TrustRoot,
    expires: i64,
    not_before: i64,
    not_after: i64,
    notes: &mut Vec<String>,
) -> Result<(), SignError> {
    if not_after - not_before > DEFAULT_KEY_LIFE {
        notes.push(format!(
            "warning: the new keys' window is {} days, longer than the 12-month maximum; `keys status` calls them too-old after 365 days",
            (not_after - not_before) / DAY
        ));
    }
    let mut in_window_at_expiry = BTreeSet::new();
    for key in &root.keys {
        let nb = parse_unix(&key.not_before).map_err(|e| SignError::Internal(e.to_string()))?;
        let na = parse_unix(&key.not_after).map_err(|e| SignError::Internal(e.to_string()))?;
        if !key.revoked && na < not_before {
            notes.push(format!(
                "warning: key `{}` expired at {}; mark it revoked (--revoke {}) so it is kept but never counts",
                key.keyid, key.not_after, key.keyid
            ));
        }
        if !key.revoked && nb <= expires && expires <= na {
            let print = parse_public_key_pem(&key.public_key)
                .map(|k| fingerprint(&k))
                .map_err(|e| SignError::Internal(e.to_string()))?;
            in_window_at_expiry.insert(print);
        }
    }
    if in_window_at_expiry.len() < root.threshold as usize {
        notes.push(format!(
            "warning: when the root expires ({}), only {} key(s) are still in their window, fewer than the threshold {}: the root stops approving anything before it expires; rotate before the keys' notAfter",
            root.expires,
            in_window_at_expiry.len(),
            root.threshold
        ));
    }
    Ok(())
}

/// `--not-before` when not given: `--now`, else `SOURCE_DATE_EPOCH`, else the clock. The clock
/// is the only wall-clock default of `trust init`, and it is a timestamp written into the
/// document, never a verdict; a note says so, and how to pin it.
fn default_not_before(now: Option<&str>, notes: &mut Vec<String>) -> Result<i64, SignError> {
    if let Some(text) = now {
        return parse_time("--now", text);
    }
    if let Some(seconds) = source_date_epoch()? {
        return Ok(seconds);
    }
    let clock = parse_now(None)?;
    notes.push(format!(
        "note: notBefore is the current time, {}; give --not-before or set SOURCE_DATE_EPOCH to make the same document again",
        format_time(clock)?
    ));
    Ok(clock)
}

/// `SOURCE_DATE_EPOCH` (reproducible-builds.org), if set and not empty.
fn source_date_epoch() -> Result<Option<i64>, SignError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) if !text.trim().is_empty() => {
            let bad = || {
                SignError::Usage(format!(
                    "SOURCE_DATE_EPOCH `{text}` is not a non-negative integer of seconds before the year 10000"
                ))
            };
            let seconds = text.trim().parse::<i64>().map_err(|_| bad())?;
            if seconds < 0 || format_unix(seconds).is_err() {
                return Err(bad());
            }
            Ok(Some(seconds))
        }
        _ => Ok(None),
    }
}

fn parse_time(flag: &str, text: &str) -> Result<i64, SignError> {
    let seconds = parse_unix(text).map_err(|_| {
        SignError::Usage(format!(
            "{flag} `{text}`: expected an RFC 3339 time, e.g. 2027-06-01T00:00:00Z"
        ))
    })?;
    format_time(seconds)?;
    Ok(seconds)
}

/// An RFC 3339 time, or a duration (`365d`, `12mo`) after `base`.
fn parse_time_or_duration(flag: &str, text: &str, base: i64) -> Result<i64, SignError> {
    if let Ok(seconds) = parse_unix(text) {
        format_time(seconds)?;
        return Ok(seconds);
    }
    let duration = parse_duration(text).map_err(|_| {
        SignError::Usage(format!(
            "{flag} `{text}`: expected an RFC 3339 time (2027-06-01T00:00:00Z) or a duration after --not-before (365d, 12mo, 48h)"
        ))
    })?;
    let seconds = base.saturating_add(duration);
    format_time(seconds)
        .map_err(|_| SignError::Usage(format!("{flag} `{text}`: past the year 9999")))?;
    Ok(seconds)
}

fn format_time(seconds: i64) -> Result<String, SignError> {
    format_unix(seconds).map_err(|_| {
        SignError::Usage(format!(
            "time {seconds} is outside the years 0000 to 9999 an RFC 3339 time can hold"
        ))
    })
}

/// `--key [ID=]PATH`: the keyid before the first `=` when it is a valid keyid, else the file
/// name without extension. A file whose name has `=` in it is given as `./name`.
fn parse_key_spec(spec: &str) -> Result<(String, PathBuf), SignError> {
    if let Some((keyid, path)) = spec.split_once('=') {
        if validate_key_id(keyid).is_ok() {
            if path.is_empty() {
                return Err(SignError::Usage(format!(
                    "--key `{spec}`: no file after `{keyid}=`"
                )));
            }
            return Ok((keyid.to_owned(), PathBuf::from(path)));
        }
    }
    let path = PathBuf::from(spec);
    let keyid = crate::keys::default_key_id(&path)?;
    validate_key_id(&keyid).map_err(|_| {
        SignError::Usage(format!(
            "--key `{spec}`: the file name `{keyid}` is not a usable keyid; give --key ID={spec}"
        ))
    })?;
    Ok((keyid, path))
}

/// Reads a public key file (PEM SPKI). A private key is refused: `trust init` runs where only
/// public keys need to be.
fn read_public_key(path: &Path) -> Result<ed25519_dalek::VerifyingKey, SignError> {
    let file = std::fs::File::open(path).map_err(|e| SignError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_PUBLIC_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| SignError::io(path, e))?;
    let bad = |reason: String| SignError::KeyFile {
        path: path.to_owned(),
        reason,
    };
    if bytes.len() as u64 > MAX_PUBLIC_KEY_FILE {
        return Err(bad(format!(
            "larger than {MAX_PUBLIC_KEY_FILE} bytes: not a public key file"
        )));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| bad("not a PEM public key (not UTF-8 text)".to_owned()))?;
    let key = parse_public_key_pem(text).map_err(|e| bad(e.to_string()));
    // Whatever the outcome, do not keep a private key pasted by mistake around.
    drop(zeroize::Zeroizing::new(bytes));
    key
}

/// Reads a signed trust root and checks its rules (not its signatures).
pub fn read_signed_root(path: &Path) -> Result<SignedRoot, SignError> {
    let (envelope, _) = read_trust_root(path)?;
    SignedRoot::from_envelope(envelope).map_err(|e| SignError::format(display_name(path), e))
}

/// `mirror-sign trust rotate`: the verdict on replacing `--from` by `--to`.
pub fn rotate(args: &TrustRotateArgs) -> Result<RotationReport, SignError> {
    let now = parse_now(args.now.as_deref())?;
    let old = read_signed_root(&args.from)?;
    let new = read_signed_root(&args.to)?;
    check_rotation(&old, &new, now, NewRootExpiry::Refuse)
        .map_err(|e| SignError::Internal(e.to_string()))
}

/// `mirror-sign trust verify`: the verdict on the chain from `--pinned` through each root.
pub fn verify(args: &TrustVerifyArgs) -> Result<ChainReport, SignError> {
    let now = parse_now(args.now.as_deref())?;
    let mut chain = Vec::with_capacity(args.roots.len() + 1);
    chain.push(read_signed_root(&args.pinned)?);
    for path in &args.roots {
        chain.push(read_signed_root(path)?);
    }
    verify_chain(&chain, now).map_err(|e| SignError::Internal(e.to_string()))
}

fn write_json<T: serde::Serialize>(stdout: &mut dyn Write, value: &T) -> Result<(), SignError> {
    let bytes = jcs::to_pretty_vec(value).map_err(|e| SignError::Internal(e.to_string()))?;
    // A closed pipe is not an error: the reader stopped listening.
    let _ = stdout.write_all(&bytes).and_then(|()| stdout.flush());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_specs_take_an_optional_keyid() {
        assert_eq!(
            parse_key_spec("keys/alice.pub").unwrap(),
            ("alice".to_owned(), PathBuf::from("keys/alice.pub"))
        );
        assert_eq!(
            parse_key_spec("alice-2027=keys/alice.pub").unwrap(),
            ("alice-2027".to_owned(), PathBuf::from("keys/alice.pub"))
        );
        // Not a keyid before `=`: the whole text is the path, and `a=b` is no keyid either.
        let err = parse_key_spec("./a=b.pub").unwrap_err().to_string();
        assert!(err.contains("give --key ID=./a=b.pub"), "{err}");
        assert_eq!(
            parse_key_spec("k=./a=b.pub").unwrap(),
            ("k".to_owned(), PathBuf::from("./a=b.pub"))
        );
        assert!(parse_key_spec("alice=").is_err());
    }

    #[test]
    fn times_are_rfc_3339_or_durations_after_the_base() {
        let base = parse_unix("2026-06-01T00:00:00Z").unwrap();
        assert_eq!(
            parse_time_or_duration("--expires", "365d", base).unwrap(),
            parse_unix("2027-06-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_time_or_duration("--expires", "2027-01-01T02:00:00+02:00", base).unwrap(),
            parse_unix("2027-01-01T00:00:00Z").unwrap()
        );
        let err = parse_time_or_duration("--expires", "next year", base).unwrap_err();
        assert!(err.to_string().contains("--expires `next year`"), "{err}");
        assert!(parse_time("--now", "365d").is_err());
    }
}
