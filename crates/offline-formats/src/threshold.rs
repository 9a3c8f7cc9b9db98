//! K-of-N verification of a DSSE envelope against a trust root: the one place the counting
//! rules live, so that `mirror-sign` and `checksum-verify` can never disagree.
//!
//! The rules (DESIGN §3, issue 3 §2):
//! - signatures are over `PAE(payloadType, payload)`, and the payloadType must be the one the
//!   caller expects, or no signature counts;
//! - a `sig` must be canonical standard base64 of exactly 64 bytes, verified with
//!   `verify_strict` (no small-order points, no malleable `S`);
//! - a signature counts for the root key whose public key verifies it, whatever its `keyid`
//!   label says — every root key is tried;
//! - the threshold counts **distinct public keys** (raw key bytes), never signature entries or
//!   keyid strings: a key listed twice in a root, or a signature repeated, counts once;
//! - revoked keys, keys outside `[notBefore, notAfter]` and keys not in the root never count;
//!   an expired root verifies nothing.

use crate::digest::{sha256, sha256_prefixed};
use crate::envelope::{pae, Envelope};
use crate::keys::{fingerprint, parse_public_key_pem};
use crate::schema::{check_schema, Document};
use crate::timestamp::parse_unix;
use crate::trust::TrustRoot;
use crate::FormatError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey, SIGNATURE_LENGTH};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Schema identifier of the report written by this build.
pub const SCHEMA: &str = "stellaops.threshold-report/v1";

/// Most signatures a verifier reads from one envelope. Each is tried against every root key, so
/// a crafted envelope with millions of entries must not turn verification into a slow loop;
/// real envelopes carry one per approver.
pub const MAX_SIGNATURES: usize = 1024;

/// The verdict of counting an envelope's signatures against a trust root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// True exactly when `problems` is empty: the threshold is met, the payloadType is the
    /// expected one and the root is in force.
    pub ok: bool,
    /// How many distinct public keys the root requires.
    pub threshold: u32,
    /// How many distinct, valid root keys verified (the length of `signedBy`).
    pub valid: u32,
    /// The envelope's payloadType.
    pub payload_type: String,
    /// `sha256:<hex>` of the payload bytes.
    pub payload_digest: String,
    /// The trust root the envelope was counted against.
    pub root: RootSummary,
    /// Why the verdict is not ok; omitted when it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// The root keys that counted, in root order, one entry per distinct public key.
    #[serde(default)]
    pub signed_by: Vec<Signer>,
    /// Signature entries that did not count, in envelope order, with the reason.
    #[serde(default)]
    pub failed: Vec<FailedSignature>,
    /// Root keys able to count (not revoked, inside their window) that did not sign.
    #[serde(default)]
    pub missing: Vec<MissingKey>,
}

/// Which trust root a report was made against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootSummary {
    /// The root's `version`.
    pub version: u64,
    /// The root's `expires`.
    pub expires: String,
}

/// One reason a verdict is not ok.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// The same for people, naming the values concerned.
    pub message: String,
}

/// Kinds of [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// Fewer distinct valid keys verified than the threshold.
    ThresholdNotMet,
    /// The envelope's payloadType is not the expected one; no signature counted.
    WrongPayloadType,
    /// The trust root's `expires` has passed.
    RootExpired,
    /// The trust root envelope is not signed by a threshold of its own keys.
    RootNotSelfSigned,
}

/// A root key that counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signer {
    /// The key's label in the root (the entry whose label the signature used, if any).
    pub keyid: String,
    /// The key's owner in the root.
    pub owner: String,
    /// `sha256:<hex>` of the raw public key.
    pub fingerprint: String,
}

/// A signature entry that did not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedSignature {
    /// Position of the entry in the envelope's `signatures` (from 0).
    pub index: usize,
    /// The entry's `keyid` label as written in the envelope; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// Why it did not count.
    pub reason: FailureReason,
    /// The root key that verified it, when one did (revoked, outside its window, or already
    /// counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// Why a signature entry did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FailureReason {
    /// `sig` is not canonical standard base64.
    BadBase64,
    /// `sig` does not decode to exactly 64 bytes.
    BadLength,
    /// The keyid names a root key, but no root key verifies the signature (tampered payload,
    /// other payloadType, or another key).
    BadSignature,
    /// No root key verifies the signature and its keyid names none.
    UnknownKey,
    /// A revoked root key verifies it.
    Revoked,
    /// A root key verifies it, but before the key's `notBefore`.
    NotYetValid,
    /// A root key verifies it, but after the key's `notAfter`.
    ExpiredKey,
    /// A key that already counted verifies it again (same key, another entry or keyid).
    DuplicateKey,
    /// The envelope's payloadType is not the expected one.
    WrongPayloadType,
}

impl FailureReason {
    /// A short explanation for people.
    pub fn describe(self) -> &'static str {
        match self {
            FailureReason::BadBase64 => "signature is not canonical standard base64",
            FailureReason::BadLength => "signature is not 64 bytes",
            FailureReason::BadSignature => {
                "does not verify (payload or payloadType changed, or another key signed)"
            }
            FailureReason::UnknownKey => "signed by a key that is not in the trust root",
            FailureReason::Revoked => "signed by a revoked key",
            FailureReason::NotYetValid => "signed by a key before its notBefore",
            FailureReason::ExpiredKey => "signed by a key after its notAfter",
            FailureReason::DuplicateKey => "same key as another signature; counted once",
            FailureReason::WrongPayloadType => "envelope payloadType is not the expected one",
        }
    }
}

/// A root key that could count but did not sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingKey {
    /// The key's label in the root.
    pub keyid: String,
    /// The key's owner in the root.
    pub owner: String,
    /// `sha256:<hex>` of the raw public key.
    pub fingerprint: String,
}

impl Document for ThresholdReport {
    const SCHEMA_NAME: &'static str = "stellaops.threshold-report";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "threshold report";
}

impl ThresholdReport {
    /// Records a problem; the verdict is no longer ok.
    pub fn add_problem(&mut self, kind: ProblemKind, message: impl Into<String>) {
        self.problems.push(Problem {
            kind,
            message: message.into(),
        });
        self.problems.sort_by_key(|p| p.kind);
        self.ok = false;
    }

    /// True when `kind` is among the problems.
    pub fn has_problem(&self, kind: ProblemKind) -> bool {
        self.problems.iter().any(|p| p.kind == kind)
    }
}

/// A trust root whose keys were parsed and whose rules were checked, ready to count signatures.
#[derive(Debug, Clone)]
pub struct CheckedRoot<'a> {
    root: &'a TrustRoot,
    expires: i64,
    keys: Vec<DistinctKey>,
}

/// One distinct public key of a root, with every entry that lists it.
#[derive(Debug, Clone)]
struct DistinctKey {
    key: VerifyingKey,
    fingerprint: String,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Index into the root's `keys`.
    index: usize,
    not_before: i64,
    not_after: i64,
    revoked: bool,
}

/// Whether a distinct key can count at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyState {
    /// Not revoked and inside a window: counts.
    Valid,
    Revoked,
    NotYetValid,
    Expired,
}

/// Parses a trust root's keys and checks the rules its JSON Schema cannot express: `schema`,
/// timestamps, keyids unique and non-empty, every key a non-weak Ed25519 key, each
/// `notBefore` before its `notAfter`, and `threshold` between 1 and the number of distinct
/// non-revoked public keys. The same public key listed under several keyids is allowed (it
/// counts once); a key revoked under any of its keyids is revoked.
pub fn check_trust_root(root: &TrustRoot) -> Result<CheckedRoot<'_>, FormatError> {
    check_schema::<TrustRoot>(&root.schema)?;
    let expires = parse_unix(&root.expires)
        .map_err(|_| invalid_root(format!("expires `{}` is not RFC 3339", root.expires)))?;
    if root.threshold == 0 {
        return Err(invalid_root("threshold must be at least 1".to_owned()));
    }
    if root.keys.is_empty() {
        return Err(invalid_root("no keys".to_owned()));
    }
    let mut keyids = BTreeSet::new();
    let mut keys: Vec<DistinctKey> = Vec::new();
    for (index, entry) in root.keys.iter().enumerate() {
        if entry.keyid.is_empty() {
            return Err(invalid_root(format!("key #{index} has an empty keyid")));
        }
        if !keyids.insert(entry.keyid.as_str()) {
            return Err(invalid_root(format!(
                "keyid `{}` is listed twice",
                entry.keyid
            )));
        }
        let key = parse_public_key_pem(&entry.public_key)
            .map_err(|e| invalid_root(format!("key `{}`: {e}", entry.keyid)))?;
        let not_before = parse_unix(&entry.not_before).map_err(|_| {
            invalid_root(format!(
                "key `{}`: notBefore `{}` is not RFC 3339",
                entry.keyid, entry.not_before
            ))
        })?;
        let not_after = parse_unix(&entry.not_after).map_err(|_| {
            invalid_root(format!(
                "key `{}`: notAfter `{}` is not RFC 3339",
                entry.keyid, entry.not_after
            ))
        })?;
        if not_before >= not_after {
            return Err(invalid_root(format!(
                "key `{}`: notBefore `{}` is not before notAfter `{}`",
                entry.keyid, entry.not_before, entry.not_after
            )));
        }
        let checked = Entry {
            index,
            not_before,
            not_after,
            revoked: entry.revoked,
        };
        match keys.iter_mut().find(|k| k.key.as_bytes() == key.as_bytes()) {
            Some(existing) => existing.entries.push(checked),
            None => keys.push(DistinctKey {
                fingerprint: fingerprint(&key),
                key,
                entries: vec![checked],
            }),
        }
    }
    let usable = keys
        .iter()
        .filter(|k| !k.entries.iter().any(|e| e.revoked))
        .count();
    if usize::try_from(root.threshold).map_or(true, |t| t > usable) {
        return Err(invalid_root(format!(
            "threshold {} is more than its {usable} distinct non-revoked public keys: it could never be met",
            root.threshold
        )));
    }
    Ok(CheckedRoot {
        root,
        expires,
        keys,
    })
}

/// Counts the signatures of `envelope` against `root` at `now_unix` (seconds since the
/// epoch), expecting `expected_payload_type`. See the module documentation for the rules.
///
/// Returns an error only when the inputs are unusable (a malformed root, a payload that is not
/// base64, more than [`MAX_SIGNATURES`] entries); a verdict, good or bad, is a report.
pub fn verify_envelope(
    envelope: &Envelope,
    root: &TrustRoot,
    expected_payload_type: &str,
    now_unix: i64,
) -> Result<ThresholdReport, FormatError> {
    check_trust_root(root)?.verify(envelope, expected_payload_type, now_unix)
}

impl CheckedRoot<'_> {
    /// The root this was checked from.
    pub fn root(&self) -> &TrustRoot {
        self.root
    }

    /// The distinct public keys of the root, in root order.
    pub fn distinct_keys(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.keys.iter().map(|k| &k.key)
    }

    /// True when the root's `expires` is before `now_unix`.
    pub fn is_expired(&self, now_unix: i64) -> bool {
        self.expires < now_unix
    }

    /// The root's `expires` as seconds since the epoch: its last instant in force.
    pub fn expires_unix(&self) -> i64 {
        self.expires
    }

    /// Counts the signatures of `envelope`; see [`verify_envelope`].
    pub fn verify(
        &self,
        envelope: &Envelope,
        expected_payload_type: &str,
        now_unix: i64,
    ) -> Result<ThresholdReport, FormatError> {
        if envelope.signatures.len() > MAX_SIGNATURES {
            return Err(FormatError::TooManySignatures {
                count: envelope.signatures.len(),
                max: MAX_SIGNATURES,
            });
        }
        let payload = envelope.payload_bytes()?;
        let mut report = ThresholdReport {
            schema: SCHEMA.to_owned(),
            ok: true,
            threshold: self.root.threshold,
            valid: 0,
            payload_type: envelope.payload_type.clone(),
            payload_digest: sha256_prefixed(&sha256(&payload)),
            root: RootSummary {
                version: self.root.version,
                expires: self.root.expires.clone(),
            },
            problems: Vec::new(),
            signed_by: Vec::new(),
            failed: Vec::new(),
            missing: Vec::new(),
        };
        let type_ok = envelope.payload_type == expected_payload_type;
        let signed = pae(&envelope.payload_type, &payload);
        drop(payload);

        // Which distinct key counted, and under which root entry it is named.
        let mut counted: Vec<Option<usize>> = vec![None; self.keys.len()];
        // Ed25519 signatures are deterministic: the same 64 bytes verify under the same key, so
        // a repeated entry costs one lookup, not another round of verifications.
        let mut verified_by: HashMap<[u8; SIGNATURE_LENGTH], Option<usize>> = HashMap::new();

        for (index, entry) in envelope.signatures.iter().enumerate() {
            let fail = |reason, key: Option<usize>| FailedSignature {
                index,
                keyid: entry.keyid.clone(),
                reason,
                fingerprint: key.map(|k| self.keys[k].fingerprint.clone()),
            };
            if !type_ok {
                report
                    .failed
                    .push(fail(FailureReason::WrongPayloadType, None));
                continue;
            }
            let signature = match decode_signature(&entry.sig) {
                Ok(signature) => signature,
                Err(reason) => {
                    report.failed.push(fail(reason, None));
                    continue;
                }
            };
            let bytes = signature.to_bytes();
            let found = match verified_by.get(&bytes) {
                Some(found) => *found,
                None => {
                    let found = self.find_key(&entry.keyid, &signed, &signature);
                    verified_by.insert(bytes, found);
                    found
                }
            };
            let Some(k) = found else {
                let reason = if self.names_a_key(&entry.keyid) {
                    FailureReason::BadSignature
                } else {
                    FailureReason::UnknownKey
                };
                report.failed.push(fail(reason, None));
                continue;
            };
            match self.keys[k].state(now_unix) {
                KeyState::Revoked => report.failed.push(fail(FailureReason::Revoked, Some(k))),
                KeyState::NotYetValid => report
                    .failed
                    .push(fail(FailureReason::NotYetValid, Some(k))),
                KeyState::Expired => report.failed.push(fail(FailureReason::ExpiredKey, Some(k))),
                KeyState::Valid => {
                    if counted[k].is_some() {
                        report
                            .failed
                            .push(fail(FailureReason::DuplicateKey, Some(k)));
                    } else {
                        counted[k] =
                            Some(self.keys[k].name_entry(self.root, &entry.keyid, now_unix));
                    }
                }
            }
        }

        for (k, key) in self.keys.iter().enumerate() {
            match counted[k] {
                Some(entry) => {
                    let named = &self.root.keys[entry];
                    report.signed_by.push(Signer {
                        keyid: named.keyid.clone(),
                        owner: named.owner.clone(),
                        fingerprint: key.fingerprint.clone(),
                    });
                }
                None if key.state(now_unix) == KeyState::Valid => {
                    let named = &self.root.keys[key.name_entry(self.root, "", now_unix)];
                    report.missing.push(MissingKey {
                        keyid: named.keyid.clone(),
                        owner: named.owner.clone(),
                        fingerprint: key.fingerprint.clone(),
                    });
                }
                None => {}
            }
        }
        report.valid = u32::try_from(report.signed_by.len()).unwrap_or(u32::MAX);

        if !type_ok {
            report.add_problem(
                ProblemKind::WrongPayloadType,
                format!(
                    "payloadType `{}` is not the expected `{expected_payload_type}`: no signature counts",
                    envelope.payload_type
                ),
            );
        }
        if self.is_expired(now_unix) {
            report.add_problem(
                ProblemKind::RootExpired,
                format!(
                    "trust root version {} expired at {}",
                    self.root.version, self.root.expires
                ),
            );
        }
        if report.valid < report.threshold {
            report.add_problem(
                ProblemKind::ThresholdNotMet,
                format!(
                    "threshold not met: {} of the {} required distinct keys signed",
                    report.valid, report.threshold
                ),
            );
        }
        Ok(report)
    }

    /// The distinct key that verifies `signature`, trying the keys labelled `keyid` first (the
    /// usual case, one verification) and then every other key: the label is only a hint.
    fn find_key(&self, keyid: &str, signed: &[u8], signature: &Signature) -> Option<usize> {
        let labelled = |k: &DistinctKey| {
            k.entries
                .iter()
                .any(|e| self.root.keys[e.index].keyid == keyid)
        };
        let first = self.keys.iter().enumerate().filter(|(_, k)| labelled(k));
        let rest = self.keys.iter().enumerate().filter(|(_, k)| !labelled(k));
        first
            .chain(rest)
            .find(|(_, k)| k.key.verify_strict(signed, signature).is_ok())
            .map(|(i, _)| i)
    }

    fn names_a_key(&self, keyid: &str) -> bool {
        !keyid.is_empty() && self.root.keys.iter().any(|k| k.keyid == keyid)
    }
}

impl DistinctKey {
    fn state(&self, now: i64) -> KeyState {
        if self.entries.iter().any(|e| e.revoked) {
            KeyState::Revoked
        } else if self
            .entries
            .iter()
            .any(|e| e.not_before <= now && now <= e.not_after)
        {
            KeyState::Valid
        } else if self.entries.iter().any(|e| now < e.not_before) {
            KeyState::NotYetValid
        } else {
            KeyState::Expired
        }
    }

    /// The root entry to name this key by: the in-window entry labelled `keyid` if there is
    /// one, else the first in-window entry, else the first entry.
    fn name_entry(&self, root: &TrustRoot, keyid: &str, now: i64) -> usize {
        let in_window = |e: &&Entry| e.not_before <= now && now <= e.not_after;
        self.entries
            .iter()
            .filter(in_window)
            .find(|e| root.keys[e.index].keyid == keyid)
            .or_else(|| self.entries.iter().find(in_window))
            .or_else(|| self.entries.first())
            .map_or(0, |e| e.index)
    }
}

/// Decodes a `sig`: canonical standard base64 (decoding and re-encoding gives the same text,
/// so no trailing-bit or padding variants of one signature exist) of exactly 64 bytes.
pub fn decode_signature(sig: &str) -> Result<Signature, FailureReason> {
    let bytes = STANDARD.decode(sig).map_err(|_| FailureReason::BadBase64)?;
    if STANDARD.encode(&bytes) != sig {
        return Err(FailureReason::BadBase64);
    }
    let bytes: [u8; SIGNATURE_LENGTH] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| FailureReason::BadLength)?;
    Ok(Signature::from_bytes(&bytes))
}

/// Encodes a signature as an envelope's `sig` (standard base64).
pub fn encode_signature(signature: &Signature) -> String {
    STANDARD.encode(signature.to_bytes())
}

/// True when `key` strictly verifies `sig` (an envelope `sig` string) over `signed_bytes`.
pub fn signature_verifies(key: &VerifyingKey, signed_bytes: &[u8], sig: &str) -> bool {
    decode_signature(sig).is_ok_and(|s| key.verify_strict(signed_bytes, &s).is_ok())
}

fn invalid_root(reason: String) -> FormatError {
    FormatError::InvalidTrustRoot { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Signature as EnvSignature;
    use crate::keys::encode_public_key_pem;
    use crate::manifest::PAYLOAD_TYPE;
    use crate::trust::{TrustKey, SCHEMA as TRUST_SCHEMA};
    use ed25519_dalek::{Signer as _, SigningKey};
    use proptest::prelude::*;

    /// 2026-06-01T00:00:00Z.
    const NOW: i64 = 1_780_272_000;
    const PAYLOAD: &[u8] = br#"{"bundleId":"b","schema":"stellaops.bundle/v1"}"#;

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn entry(keyid: &str, seed: u8) -> TrustKey {
        TrustKey {
            keyid: keyid.to_owned(),
            public_key: encode_public_key_pem(&signing_key(seed).verifying_key()),
            owner: format!("owner of {keyid}"),
            not_before: "2026-01-01T00:00:00Z".to_owned(),
            not_after: "2027-01-01T00:00:00Z".to_owned(),
            revoked: false,
        }
    }

    fn root(threshold: u32, keys: Vec<TrustKey>) -> TrustRoot {
        TrustRoot {
            schema: TRUST_SCHEMA.to_owned(),
            version: 1,
            expires: "2026-12-31T00:00:00Z".to_owned(),
            threshold,
            keys,
        }
    }

    /// alice = 1, bob = 2, carol = 3; 2 of 3.
    fn root_2_of_3() -> TrustRoot {
        root(
            2,
            vec![entry("alice", 1), entry("bob", 2), entry("carol", 3)],
        )
    }

    fn sig_entry(keyid: &str, seed: u8, payload_type: &str, payload: &[u8]) -> EnvSignature {
        let signature = signing_key(seed).sign(&pae(payload_type, payload));
        EnvSignature {
            keyid: keyid.to_owned(),
            sig: encode_signature(&signature),
        }
    }

    fn envelope(signers: &[(&str, u8)]) -> Envelope {
        let mut env = Envelope::new(PAYLOAD_TYPE, PAYLOAD);
        env.signatures = signers
            .iter()
            .map(|(keyid, seed)| sig_entry(keyid, *seed, PAYLOAD_TYPE, PAYLOAD))
            .collect();
        env
    }

    fn verify(env: &Envelope, root: &TrustRoot) -> ThresholdReport {
        verify_envelope(env, root, PAYLOAD_TYPE, NOW).unwrap_or_else(|e| panic!("{e}"))
    }

    fn reasons(report: &ThresholdReport) -> Vec<FailureReason> {
        report.failed.iter().map(|f| f.reason).collect()
    }

    #[test]
    fn two_of_three_is_met_by_any_two_and_failed_by_any_one() {
        let root = root_2_of_3();
        let people = [("alice", 1), ("bob", 2), ("carol", 3)];
        for i in 0..3 {
            for j in 0..3 {
                if i == j {
                    continue;
                }
                let report = verify(&envelope(&[people[i], people[j]]), &root);
                assert!(report.ok, "{i},{j}: {report:?}");
                assert_eq!(report.valid, 2);
                assert_eq!(report.missing.len(), 1);
                assert_eq!(report.missing[0].keyid, people[3 - i - j].0);
            }
            let report = verify(&envelope(&[people[i]]), &root);
            assert!(!report.ok);
            assert_eq!(report.valid, 1);
            assert!(report.has_problem(ProblemKind::ThresholdNotMet));
            assert_eq!(report.missing.len(), 2);
        }
        let all = verify(&envelope(&people), &root);
        assert!(all.ok && all.valid == 3 && all.missing.is_empty());
        let none = verify(&envelope(&[]), &root);
        assert!(!none.ok && none.valid == 0 && none.missing.len() == 3);
    }

    #[test]
    fn the_same_key_twice_counts_once() {
        let root = root_2_of_3();
        // The same signature entry repeated.
        let report = verify(&envelope(&[("alice", 1), ("alice", 1)]), &root);
        assert_eq!(report.valid, 1);
        assert!(!report.ok);
        assert_eq!(reasons(&report), [FailureReason::DuplicateKey]);
        // The same key under another keyid label (one that names bob's entry, and one that
        // names nothing).
        for label in ["bob", "alice-again", ""] {
            let report = verify(&envelope(&[("alice", 1), (label, 1)]), &root);
            assert_eq!(report.valid, 1, "{label}");
            assert!(!report.ok, "{label}");
            assert_eq!(report.signed_by[0].keyid, "alice");
        }
    }

    #[test]
    fn a_key_listed_twice_in_the_root_counts_once() {
        // alice's key under two keyids; threshold 2 of the 2 distinct keys.
        let root = root(
            2,
            vec![entry("alice", 1), entry("alice-laptop", 1), entry("bob", 2)],
        );
        let report = verify(&envelope(&[("alice", 1), ("alice-laptop", 1)]), &root);
        assert_eq!(report.valid, 1);
        assert!(!report.ok);
        assert_eq!(report.signed_by.len(), 1);
        assert_eq!(reasons(&report), [FailureReason::DuplicateKey]);
        assert_eq!(
            report
                .missing
                .iter()
                .map(|m| m.keyid.as_str())
                .collect::<Vec<_>>(),
            ["bob"],
            "the duplicated key is not listed as missing under its second keyid"
        );
        let report = verify(&envelope(&[("alice-laptop", 1), ("bob", 2)]), &root);
        assert!(report.ok);
        assert_eq!(report.signed_by[0].keyid, "alice-laptop");

        // Counting listings, the root would hold 3 keys; it holds 2, so 3-of-N is refused.
        let err = check_trust_root(&TrustRoot {
            threshold: 3,
            ..root.clone()
        })
        .unwrap_err();
        assert!(err.to_string().contains("2 distinct"), "{err}");
    }

    #[test]
    fn a_key_revoked_under_one_keyid_is_revoked_under_all() {
        let mut revoked = entry("alice-old", 1);
        revoked.revoked = true;
        let root = root(1, vec![entry("alice", 1), revoked, entry("bob", 2)]);
        let report = verify(&envelope(&[("alice", 1)]), &root);
        assert_eq!(report.valid, 0);
        assert_eq!(reasons(&report), [FailureReason::Revoked]);
    }

    #[test]
    fn the_keyid_is_only_a_label() {
        let root = root_2_of_3();
        // Signatures by alice and bob with their labels swapped still count as both.
        let report = verify(&envelope(&[("bob", 1), ("alice", 2)]), &root);
        assert!(report.ok);
        assert_eq!(report.valid, 2);
    }

    #[test]
    fn another_payload_type_fails() {
        let root = root_2_of_3();
        // An envelope of another type, checked as a bundle: nothing counts.
        let mut env = envelope(&[]);
        env.payload_type = "application/vnd.in-toto+json".to_owned();
        env.signatures = vec![
            sig_entry("alice", 1, &env.payload_type, PAYLOAD),
            sig_entry("bob", 2, &env.payload_type, PAYLOAD),
        ];
        let report = verify(&env, &root);
        assert!(!report.ok);
        assert_eq!(report.valid, 0);
        assert!(report.has_problem(ProblemKind::WrongPayloadType));
        assert_eq!(
            reasons(&report),
            [
                FailureReason::WrongPayloadType,
                FailureReason::WrongPayloadType
            ]
        );
        // Signatures made over another payloadType, put in a bundle envelope.
        let mut env = envelope(&[]);
        env.signatures = vec![
            sig_entry("alice", 1, crate::trust::PAYLOAD_TYPE, PAYLOAD),
            sig_entry("bob", 2, crate::trust::PAYLOAD_TYPE, PAYLOAD),
        ];
        let report = verify(&env, &root);
        assert_eq!(report.valid, 0);
        assert_eq!(
            reasons(&report),
            [FailureReason::BadSignature, FailureReason::BadSignature]
        );
    }

    #[test]
    fn a_changed_payload_fails() {
        let root = root_2_of_3();
        let good = envelope(&[("alice", 1), ("bob", 2)]);
        assert!(verify(&good, &root).ok);
        let mut changed = good.clone();
        changed.payload = Envelope::new(
            PAYLOAD_TYPE,
            br#"{"bundleId":"c","schema":"stellaops.bundle/v1"}"#,
        )
        .payload;
        let report = verify(&changed, &root);
        assert!(!report.ok);
        assert_eq!(report.valid, 0);
        assert_eq!(
            reasons(&report),
            [FailureReason::BadSignature, FailureReason::BadSignature]
        );
        assert_ne!(report.payload_digest, verify(&good, &root).payload_digest);
    }

    #[test]
    fn revoked_expired_not_yet_valid_and_unknown_keys_do_not_count() {
        let mut revoked = entry("revoked", 4);
        revoked.revoked = true;
        let mut expired = entry("expired", 5);
        expired.not_before = "2025-01-01T00:00:00Z".to_owned();
        expired.not_after = "2026-05-31T23:59:59Z".to_owned();
        let mut early = entry("early", 6);
        early.not_before = "2026-06-01T00:00:01Z".to_owned();
        let root = root(1, vec![entry("alice", 1), revoked, expired, early]);
        let env = envelope(&[
            ("revoked", 4),
            ("expired", 5),
            ("early", 6),
            ("stranger", 9),
            ("alice", 9),
        ]);
        let report = verify(&env, &root);
        assert_eq!(report.valid, 0);
        assert!(!report.ok);
        assert_eq!(
            reasons(&report),
            [
                FailureReason::Revoked,
                FailureReason::ExpiredKey,
                FailureReason::NotYetValid,
                FailureReason::UnknownKey,
                FailureReason::BadSignature,
            ]
        );
        assert!(report.failed[0].fingerprint.is_some());
        assert!(report.failed[3].fingerprint.is_none());
        // Only alice can still count, so only alice is missing.
        assert_eq!(report.missing.len(), 1);
        assert_eq!(report.missing[0].keyid, "alice");

        // The window is inclusive at both ends.
        let at_end = verify_envelope(
            &envelope(&[("expired", 5)]),
            &root,
            PAYLOAD_TYPE,
            parse_unix("2026-05-31T23:59:59Z").unwrap(),
        )
        .unwrap();
        assert_eq!(at_end.valid, 1);
        let at_start = verify_envelope(
            &envelope(&[("early", 6)]),
            &root,
            PAYLOAD_TYPE,
            parse_unix("2026-06-01T00:00:01Z").unwrap(),
        )
        .unwrap();
        assert_eq!(at_start.valid, 1);
    }

    #[test]
    fn an_expired_root_fails_even_with_every_signature() {
        let root = root_2_of_3();
        let env = envelope(&[("alice", 1), ("bob", 2), ("carol", 3)]);
        let after = parse_unix("2026-12-31T00:00:01Z").unwrap();
        let report = verify_envelope(&env, &root, PAYLOAD_TYPE, after).unwrap();
        assert!(!report.ok);
        assert!(report.has_problem(ProblemKind::RootExpired));
        let at = parse_unix("2026-12-31T00:00:00Z").unwrap();
        assert!(verify_envelope(&env, &root, PAYLOAD_TYPE, at).unwrap().ok);
    }

    #[test]
    fn non_canonical_base64_and_wrong_lengths_are_rejected() {
        let root = root(1, vec![entry("alice", 1)]);
        let good = envelope(&[("alice", 1)]);
        assert!(verify(&good, &root).ok);
        let sig = good.signatures[0].sig.clone();
        assert_eq!(sig.len(), 88);
        assert!(sig.ends_with("=="));
        // The last data character carries 4 unused bits; flipping one keeps the same bytes
        // for a lenient decoder.
        let last = sig.as_bytes()[85];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let pos = alphabet.iter().position(|&c| c == last).unwrap();
        let twin = alphabet[pos ^ 1] as char;
        let trailing_bits = format!("{}{twin}==", &sig[..85]);
        let variants = [
            (trailing_bits, FailureReason::BadBase64),
            (
                sig.trim_end_matches('=').to_owned(),
                FailureReason::BadBase64,
            ),
            (format!("{sig}\n"), FailureReason::BadBase64),
            (format!(" {sig}"), FailureReason::BadBase64),
            (
                sig.replace('+', "-").replace('/', "_"),
                FailureReason::BadBase64,
            ),
            (String::new(), FailureReason::BadLength),
            (STANDARD.encode([0u8; 63]), FailureReason::BadLength),
            (STANDARD.encode([0u8; 65]), FailureReason::BadLength),
            (
                STANDARD.encode([&STANDARD.decode(&sig).unwrap()[..], &[0u8]].concat()),
                FailureReason::BadLength,
            ),
        ];
        for (variant, expected) in variants {
            if variant == sig {
                continue; // sig had no `+` or `/` to turn into URL-safe characters
            }
            let mut env = good.clone();
            env.signatures[0].sig = variant.clone();
            let report = verify(&env, &root);
            assert_eq!(report.valid, 0, "{variant:?}");
            assert_eq!(reasons(&report), [expected], "{variant:?}");
        }
    }

    #[test]
    fn a_small_order_key_in_a_root_is_rejected() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        use base64::Engine as _;
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(&identity);
        let mut weak = entry("weak", 0);
        weak.public_key = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        );
        let root = root(1, vec![entry("alice", 1), weak]);
        let err = verify_envelope(&envelope(&[("alice", 1)]), &root, PAYLOAD_TYPE, NOW)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`weak`") && err.contains("small-order"),
            "{err}"
        );
    }

    #[test]
    fn a_small_order_signature_never_verifies() {
        // With the identity point as R and S = 0, a lenient verifier accepts this signature for
        // every message under a weak key; verify_strict refuses it for any key.
        let mut forged = [0u8; 64];
        forged[0] = 1;
        let root = root(1, vec![entry("alice", 1)]);
        let mut env = envelope(&[]);
        env.signatures = vec![EnvSignature {
            keyid: "alice".to_owned(),
            sig: STANDARD.encode(forged),
        }];
        let report = verify(&env, &root);
        assert_eq!(reasons(&report), [FailureReason::BadSignature]);
    }

    #[test]
    fn malformed_roots_are_refused() {
        let good = root_2_of_3();
        assert!(check_trust_root(&good).is_ok());
        let with = |edit: &dyn Fn(&mut TrustRoot)| {
            let mut root = good.clone();
            edit(&mut root);
            root
        };
        let cases: Vec<(TrustRoot, &str)> = vec![
            (with(&|r| r.threshold = 0), "at least 1"),
            (with(&|r| r.threshold = 4), "never be met"),
            (with(&|r| r.keys.clear()), "no keys"),
            (with(&|r| r.expires = "soon".into()), "soon"),
            (with(&|r| r.schema = "stellaops.trust/v2".into()), "v2"),
            (with(&|r| r.keys[1].keyid = "alice".into()), "listed twice"),
            (
                with(&|r| r.keys[0].not_after = r.keys[0].not_before.clone()),
                "not before",
            ),
            (
                with(&|r| {
                    r.keys[0].revoked = true;
                    r.keys[1].revoked = true;
                }),
                "1 distinct non-revoked",
            ),
            (with(&|r| r.keys[2].public_key = "carol".into()), "`carol`"),
            (with(&|r| r.keys[2].keyid.clear()), "empty keyid"),
        ];
        for (root, needle) in cases {
            let err = check_trust_root(&root).unwrap_err().to_string();
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }

    #[test]
    fn too_many_signatures_are_refused() {
        let root = root(1, vec![entry("alice", 1)]);
        let mut env = envelope(&[("alice", 1)]);
        env.signatures = vec![env.signatures[0].clone(); MAX_SIGNATURES + 1];
        assert!(matches!(
            verify_envelope(&env, &root, PAYLOAD_TYPE, NOW),
            Err(FormatError::TooManySignatures { .. })
        ));
        env.signatures.truncate(MAX_SIGNATURES);
        assert_eq!(verify(&env, &root).valid, 1);
    }

    #[test]
    fn report_round_trips_through_its_reader() {
        let report = verify(&envelope(&[("alice", 1), ("x", 9)]), &root_2_of_3());
        let bytes = serde_json::to_vec(&report).unwrap();
        assert_eq!(ThresholdReport::from_json_slice(&bytes).unwrap(), report);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["schema"], SCHEMA);
        assert_eq!(value["failed"][0]["reason"], "unknown-key");
        assert_eq!(value["problems"][0]["kind"], "threshold-not-met");
        assert_eq!(
            value["payloadDigest"],
            sha256_prefixed(&sha256(PAYLOAD)).as_str()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any multiset of signatures by any subset of five root keys, under any labels, in any
        /// order, counts exactly the distinct signers; keys outside the root never count.
        #[test]
        fn valid_counts_distinct_signers(
            picks in proptest::collection::vec((0u8..7, 0usize..7), 0..16),
            threshold in 1u32..=5,
        ) {
            let labels = ["k1", "k2", "k3", "k4", "k5", "other", ""];
            let keys: Vec<TrustKey> = (1..=5).map(|s| entry(labels[s as usize - 1], s)).collect();
            let root = root(threshold, keys);
            // Seeds 1..=5 are in the root, 6 and 7 are strangers.
            let signers: Vec<(&str, u8)> =
                picks.iter().map(|&(seed, label)| (labels[label], seed + 1)).collect();
            let report = verify(&envelope(&signers), &root);
            let distinct: BTreeSet<u8> =
                signers.iter().map(|&(_, s)| s).filter(|&s| s <= 5).collect();
            prop_assert_eq!(report.valid as usize, distinct.len());
            prop_assert_eq!(report.signed_by.len(), distinct.len());
            prop_assert_eq!(report.missing.len(), 5 - distinct.len());
            prop_assert_eq!(report.failed.len(), signers.len() - distinct.len());
            prop_assert_eq!(report.ok, distinct.len() >= threshold as usize);
        }
    }
}
