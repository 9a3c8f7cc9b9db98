//! Trust-root rotation: when a new root may replace an old one, and walking a chain of roots
//! from a pinned first one. The rules live here, beside the threshold counting they build on,
//! so that `mirror-sign` and `checksum-verify` accept exactly the same roots.
//!
//! A new root replaces an old one when (DESIGN §3, issue 3 §3):
//! - the old root is signed by a threshold of its own keys (`old-root-invalid` otherwise);
//! - the new root's envelope is signed by a threshold of the **old** root's keys
//!   (`old-threshold-not-met`) **and** by a threshold of the **new** root's own keys
//!   (`new-threshold-not-met`), each counted with [`crate::threshold`]'s rules: distinct
//!   public keys, never signature entries or keyid strings;
//! - its `version` is higher than the old one's (`version-not-higher`); gaps are allowed;
//! - it is not expired (`new-root-expired`), when it is the root that will be used.
//!
//! A root's keys speak for it while it is in force: its signatures are counted as of
//! `min(now, expires)`, the last instant the root was in force (expiry is inclusive, as in
//! [`crate::threshold::CheckedRoot::is_expired`]). So an expired old root can still hand over
//! to its successor, as TUF lets a client rotate past expired intermediate roots: an operator
//! back from a long absence, holding only a pinned root that has since expired, can still walk
//! to the current one. Only the root finally used must be in force now.

use crate::envelope::Envelope;
use crate::keys::{fingerprint, parse_public_key_pem};
use crate::schema::Document;
use crate::threshold::{
    check_trust_root, CheckedRoot, RootSummary, ThresholdReport, MAX_SIGNATURES,
};
use crate::timestamp::format_unix;
use crate::trust::{self, TrustRoot};
use crate::FormatError;
use serde::{Deserialize, Serialize};

/// Schema identifier of the rotation report written by this build.
pub const SCHEMA: &str = "stellaops.rotation-report/v1";

/// Schema identifier of the chain report written by this build.
pub const CHAIN_SCHEMA: &str = "stellaops.trust-chain-report/v1";

/// A trust root envelope whose payload was read and whose rules were checked: the input of
/// every rotation check. Made only by [`SignedRoot::from_envelope`], so a root and the
/// envelope it came from can never disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRoot {
    envelope: Envelope,
    root: TrustRoot,
}

impl SignedRoot {
    /// Reads the trust root carried by `envelope`: the payloadType must be
    /// [`trust::PAYLOAD_TYPE`], the payload a `stellaops.trust/v1` document that passes
    /// [`check_trust_root`], and the envelope must hold at most [`MAX_SIGNATURES`] entries.
    /// Signatures are not checked here.
    pub fn from_envelope(envelope: Envelope) -> Result<Self, FormatError> {
        if envelope.payload_type != trust::PAYLOAD_TYPE {
            return Err(FormatError::InvalidTrustRoot {
                reason: format!(
                    "payloadType `{}` is not a trust root (`{}`)",
                    envelope.payload_type,
                    trust::PAYLOAD_TYPE
                ),
            });
        }
        if envelope.signatures.len() > MAX_SIGNATURES {
            return Err(FormatError::TooManySignatures {
                count: envelope.signatures.len(),
                max: MAX_SIGNATURES,
            });
        }
        let root = TrustRoot::from_json_slice(&envelope.payload_bytes()?)?;
        check_trust_root(&root)?;
        Ok(Self { envelope, root })
    }

    /// The trust root.
    pub fn root(&self) -> &TrustRoot {
        &self.root
    }

    /// The envelope it came in.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    fn checked(&self) -> Result<CheckedRoot<'_>, FormatError> {
        check_trust_root(&self.root)
    }

    fn summary(&self) -> RootSummary {
        RootSummary {
            version: self.root.version,
            expires: self.root.expires.clone(),
        }
    }
}

/// The verdict on replacing one trust root by another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// True exactly when `problems` is empty: the new root is accepted.
    pub ok: bool,
    /// The root being replaced.
    pub from: RootSummary,
    /// The root replacing it.
    pub to: RootSummary,
    /// The new root's envelope counted against the old root's keys.
    pub old_keys: ThresholdReport,
    /// The new root's envelope counted against its own keys.
    pub new_keys: ThresholdReport,
    /// The instant the old root's keys were counted at, when it is not now: the old root had
    /// expired, and its keys speak for it as of its last instant in force. Omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_keys_at: Option<String>,
    /// The same for the new root's keys: only in a chain, where an expired intermediate root is
    /// replaced by a later one. Omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_keys_at: Option<String>,
    /// Why the new root is refused, sorted by kind; omitted when it is accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<RotationProblem>,
}

/// One reason a rotation is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationProblem {
    /// What is wrong.
    pub kind: RotationProblemKind,
    /// The same for people, naming the versions and counts concerned.
    pub message: String,
}

/// Kinds of [`RotationProblem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RotationProblemKind {
    /// The old root is not signed by a threshold of its own keys: it never was a root.
    OldRootInvalid,
    /// Fewer distinct valid keys of the old root signed the new root than the old threshold.
    OldThresholdNotMet,
    /// Fewer distinct valid keys of the new root signed it than its own threshold.
    NewThresholdNotMet,
    /// The new root's `version` is not higher than the old one's (a rollback or a replay).
    VersionNotHigher,
    /// The new root's `expires` has passed.
    NewRootExpired,
}

impl Document for RotationReport {
    const SCHEMA_NAME: &'static str = "stellaops.rotation-report";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "rotation report";
}

impl RotationReport {
    /// Records a problem; the rotation is refused.
    pub fn add_problem(&mut self, kind: RotationProblemKind, message: impl Into<String>) {
        self.problems.push(RotationProblem {
            kind,
            message: message.into(),
        });
        self.problems.sort_by_key(|p| p.kind);
        self.ok = false;
    }

    /// True when `kind` is among the problems.
    pub fn has_problem(&self, kind: RotationProblemKind) -> bool {
        self.problems.iter().any(|p| p.kind == kind)
    }
}

/// Whether [`check_rotation`] judges the new root's own expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewRootExpiry {
    /// The new root is the one to be used: refuse it when expired (`trust rotate`, and the
    /// last root of a chain).
    Refuse,
    /// The new root is an intermediate one that a later root replaces: its keys are counted as
    /// of its last instant in force, and its expiry is not a problem.
    Allow,
}

/// The instant a root's keys are counted at: `now`, or the root's last instant in force when
/// it has expired. Expiry is inclusive, so that instant is `expires` itself.
fn in_force_at(root: &CheckedRoot<'_>, now: i64) -> i64 {
    now.min(root.expires_unix())
}

/// Judges replacing `old` by `new` at `now` (seconds since the epoch). See the module
/// documentation for the rules.
///
/// Returns an error only when an input is unusable, which [`SignedRoot::from_envelope`]
/// already rules out; a verdict, good or bad, is a report.
pub fn check_rotation(
    old: &SignedRoot,
    new: &SignedRoot,
    now: i64,
    expiry: NewRootExpiry,
) -> Result<RotationReport, FormatError> {
    let old_checked = old.checked()?;
    let new_checked = new.checked()?;
    let old_at = in_force_at(&old_checked, now);
    let new_at = match expiry {
        NewRootExpiry::Refuse => now,
        NewRootExpiry::Allow => in_force_at(&new_checked, now),
    };
    let old_self = old_checked.verify(&old.envelope, trust::PAYLOAD_TYPE, old_at)?;
    let old_keys = old_checked.verify(&new.envelope, trust::PAYLOAD_TYPE, old_at)?;
    let new_keys = new_checked.verify(&new.envelope, trust::PAYLOAD_TYPE, new_at)?;

    let mut report = RotationReport {
        schema: SCHEMA.to_owned(),
        ok: true,
        from: old.summary(),
        to: new.summary(),
        old_keys,
        new_keys,
        old_keys_at: (old_at != now).then(|| format_unix(old_at)).transpose()?,
        new_keys_at: (new_at != now).then(|| format_unix(new_at)).transpose()?,
        problems: Vec::new(),
    };
    let (from, to) = (old.root.version, new.root.version);
    if old_self.valid < old_self.threshold {
        report.add_problem(
            RotationProblemKind::OldRootInvalid,
            format!(
                "old root version {from} is signed by {} of the {} of its own keys it requires",
                old_self.valid, old_self.threshold
            ),
        );
    }
    if report.old_keys.valid < report.old_keys.threshold {
        report.add_problem(
            RotationProblemKind::OldThresholdNotMet,
            format!(
                "new root version {to} is signed by {} of the {} keys of old root version {from} it requires",
                report.old_keys.valid, report.old_keys.threshold
            ),
        );
    }
    if report.new_keys.valid < report.new_keys.threshold {
        report.add_problem(
            RotationProblemKind::NewThresholdNotMet,
            format!(
                "new root version {to} is signed by {} of the {} of its own keys it requires",
                report.new_keys.valid, report.new_keys.threshold
            ),
        );
    }
    if to <= from {
        report.add_problem(
            RotationProblemKind::VersionNotHigher,
            format!("new root version {to} is not higher than old root version {from}"),
        );
    }
    if expiry == NewRootExpiry::Refuse && new_checked.is_expired(now) {
        report.add_problem(
            RotationProblemKind::NewRootExpired,
            format!("new root version {to} expired at {}", new.root.expires),
        );
    }
    Ok(report)
}

/// The verdict on a chain of trust roots walked from a pinned first one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainReport {
    /// Always [`CHAIN_SCHEMA`].
    pub schema: String,
    /// True exactly when `problems` is empty: every step was accepted and the last root is in
    /// force; `trusted` is then that root.
    pub ok: bool,
    /// The pinned first root.
    pub pinned: RootSummary,
    /// The pinned root's envelope counted against its own keys (as of its last instant in
    /// force, when it has expired).
    pub pinned_keys: ThresholdReport,
    /// One rotation report per step walked, in chain order. The walk stops at the first
    /// refused step, so later roots have no report.
    pub steps: Vec<RotationReport>,
    /// The root to use: the last of the chain. Present exactly when `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted: Option<TrustedRoot>,
    /// Why the chain is not trusted, sorted by kind; omitted when it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ChainProblem>,
}

/// One reason a chain is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainProblem {
    /// What is wrong.
    pub kind: ChainProblemKind,
    /// The same for people.
    pub message: String,
    /// For `step-refused`: the position of the refused step in `steps` (from 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
}

/// Kinds of [`ChainProblem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ChainProblemKind {
    /// The pinned root is not signed by a threshold of its own keys; nothing was walked.
    PinnedRootInvalid,
    /// A step was refused (its rotation report says why); the walk stopped there.
    StepRefused,
    /// Every step was accepted, but the last root has expired.
    RootExpired,
}

/// The root a chain ends in, with its keys, for people and scripts that pin it next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedRoot {
    /// The root's `version`.
    pub version: u64,
    /// The root's `expires`.
    pub expires: String,
    /// The root's `threshold`.
    pub threshold: u32,
    /// The root's keys, in root order.
    pub keys: Vec<TrustedKey>,
}

/// One key of a [`TrustedRoot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedKey {
    /// The key's label.
    pub keyid: String,
    /// Who holds it.
    pub owner: String,
    /// `sha256:<hex>` of the raw public key.
    pub fingerprint: String,
    /// Start of its window.
    pub not_before: String,
    /// End of its window.
    pub not_after: String,
    /// True when revoked; omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoked: bool,
}

impl Document for ChainReport {
    const SCHEMA_NAME: &'static str = "stellaops.trust-chain-report";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "trust chain report";
}

impl ChainReport {
    /// Records a problem; the chain is not trusted.
    pub fn add_problem(&mut self, kind: ChainProblemKind, message: String, step: Option<usize>) {
        self.problems.push(ChainProblem {
            kind,
            message,
            step,
        });
        self.problems.sort_by_key(|p| p.kind);
        self.ok = false;
        self.trusted = None;
    }

    /// True when `kind` is among the problems.
    pub fn has_problem(&self, kind: ChainProblemKind) -> bool {
        self.problems.iter().any(|p| p.kind == kind)
    }
}

/// Walks `chain` at `now`: `chain[0]` is the pinned root, trusted because it is pinned (it
/// must still be signed by a threshold of its own keys); each next root must be accepted by
/// [`check_rotation`] from the one before it. Versions must rise at every step and may skip
/// numbers. Intermediate roots may have expired (a later root replaces them); the last root
/// must be in force at `now`. The walk stops at the first refused step.
///
/// Returns an error when `chain` is empty, or when an input is unusable, which
/// [`SignedRoot::from_envelope`] already rules out.
pub fn verify_chain(chain: &[SignedRoot], now: i64) -> Result<ChainReport, FormatError> {
    let Some((pinned, rest)) = chain.split_first() else {
        return Err(FormatError::InvalidTrustRoot {
            reason: "no pinned root to start the chain from".to_owned(),
        });
    };
    let pinned_checked = pinned.checked()?;
    let pinned_keys = pinned_checked.verify(
        &pinned.envelope,
        trust::PAYLOAD_TYPE,
        in_force_at(&pinned_checked, now),
    )?;
    let mut report = ChainReport {
        schema: CHAIN_SCHEMA.to_owned(),
        ok: true,
        pinned: pinned.summary(),
        pinned_keys,
        steps: Vec::new(),
        trusted: None,
        problems: Vec::new(),
    };
    if report.pinned_keys.valid < report.pinned_keys.threshold {
        let message = format!(
            "pinned root version {} is signed by {} of the {} of its own keys it requires",
            pinned.root.version, report.pinned_keys.valid, report.pinned_keys.threshold
        );
        report.add_problem(ChainProblemKind::PinnedRootInvalid, message, None);
        return Ok(report);
    }
    let mut current = pinned;
    for (index, next) in rest.iter().enumerate() {
        let step = check_rotation(current, next, now, NewRootExpiry::Allow)?;
        let refused = !step.ok;
        let why: Vec<&str> = step.problems.iter().map(|p| p.message.as_str()).collect();
        let message = format!(
            "step {} (root version {} to {}) refused: {}",
            index + 1,
            current.root.version,
            next.root.version,
            why.join("; ")
        );
        report.steps.push(step);
        if refused {
            report.add_problem(ChainProblemKind::StepRefused, message, Some(index));
            return Ok(report);
        }
        current = next;
    }
    if current.checked()?.is_expired(now) {
        let message = format!(
            "trust root version {} expired at {}",
            current.root.version, current.root.expires
        );
        report.add_problem(ChainProblemKind::RootExpired, message, None);
        return Ok(report);
    }
    report.trusted = Some(trusted_root(&current.root)?);
    Ok(report)
}

/// The summary of a root for [`ChainReport::trusted`].
pub fn trusted_root(root: &TrustRoot) -> Result<TrustedRoot, FormatError> {
    let keys = root
        .keys
        .iter()
        .map(|k| {
            Ok(TrustedKey {
                keyid: k.keyid.clone(),
                owner: k.owner.clone(),
                fingerprint: fingerprint(&parse_public_key_pem(&k.public_key)?),
                not_before: k.not_before.clone(),
                not_after: k.not_after.clone(),
                revoked: k.revoked,
            })
        })
        .collect::<Result<Vec<_>, FormatError>>()?;
    Ok(TrustedRoot {
        version: root.version,
        expires: root.expires.clone(),
        threshold: root.threshold,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Signature;
    use crate::keys::encode_public_key_pem;
    use crate::threshold::{encode_signature, ProblemKind};
    use crate::timestamp::parse_unix;
    use crate::trust::{TrustKey, SCHEMA as TRUST_SCHEMA};
    use ed25519_dalek::{Signer as _, SigningKey};

    /// 2026-06-01T00:00:00Z.
    const NOW: i64 = 1_780_272_000;

    fn key(keyid: &str, seed: u8) -> TrustKey {
        TrustKey {
            keyid: keyid.to_owned(),
            public_key: encode_public_key_pem(&SigningKey::from_bytes(&[seed; 32]).verifying_key()),
            owner: format!("{keyid}@example"),
            not_before: "2026-01-01T00:00:00Z".to_owned(),
            not_after: "2027-01-01T00:00:00Z".to_owned(),
            revoked: false,
        }
    }

    /// A 2-of-N root of the given (keyid, seed) keys.
    fn root(version: u64, keys: &[(&str, u8)]) -> TrustRoot {
        TrustRoot {
            schema: TRUST_SCHEMA.to_owned(),
            version,
            expires: "2026-12-31T00:00:00Z".to_owned(),
            threshold: 2,
            keys: keys.iter().map(|&(id, seed)| key(id, seed)).collect(),
        }
    }

    fn signed(root: &TrustRoot, signers: &[u8]) -> SignedRoot {
        let payload = crate::jcs::to_canonical_vec(root).unwrap();
        let mut envelope = Envelope::new(trust::PAYLOAD_TYPE, &payload);
        let bytes = envelope.signed_bytes().unwrap();
        envelope.signatures = signers
            .iter()
            .map(|&seed| Signature {
                keyid: format!("k{seed}"),
                sig: encode_signature(&SigningKey::from_bytes(&[seed; 32]).sign(&bytes)),
            })
            .collect();
        SignedRoot::from_envelope(envelope).unwrap()
    }

    fn old() -> SignedRoot {
        signed(&root(1, &[("a", 1), ("b", 2), ("c", 3)]), &[1, 2])
    }

    fn new_root() -> TrustRoot {
        // c leaves, d and e join.
        root(2, &[("a", 1), ("d", 4), ("e", 5)])
    }

    fn kinds(report: &RotationReport) -> Vec<RotationProblemKind> {
        report.problems.iter().map(|p| p.kind).collect()
    }

    fn rotate(new: &SignedRoot) -> RotationReport {
        check_rotation(&old(), new, NOW, NewRootExpiry::Refuse).unwrap()
    }

    #[test]
    fn a_threshold_of_old_and_of_new_keys_is_accepted() {
        // a is in both roots and counts in both thresholds; b is old only, d new only.
        let report = rotate(&signed(&new_root(), &[1, 2, 4]));
        assert!(report.ok, "{:?}", report.problems);
        assert_eq!((report.old_keys.valid, report.new_keys.valid), (2, 2));
        assert_eq!((report.from.version, report.to.version), (1, 2));
        assert_eq!(report.old_keys.root.version, 1);
        assert_eq!(report.new_keys.root.version, 2);
        assert!(report.old_keys_at.is_none() && report.new_keys_at.is_none());
    }

    #[test]
    fn each_missing_half_is_refused() {
        let only_old = rotate(&signed(&new_root(), &[2, 3]));
        assert_eq!(kinds(&only_old), [RotationProblemKind::NewThresholdNotMet]);
        let only_new = rotate(&signed(&new_root(), &[4, 5]));
        assert_eq!(kinds(&only_new), [RotationProblemKind::OldThresholdNotMet]);
        assert!(!only_new.ok);
    }

    #[test]
    fn one_key_twice_counts_once_in_each_threshold() {
        // a signs twice, and a is listed under two keyids in the new root.
        let mut doubled = new_root();
        doubled.keys.push(key("a-laptop", 1));
        let mut new = signed(&doubled, &[1, 1]);
        let extra = new.envelope.signatures[0].clone();
        new.envelope.signatures.push(Signature {
            keyid: "a-laptop".to_owned(),
            sig: extra.sig,
        });
        let report = rotate(&new);
        assert_eq!((report.old_keys.valid, report.new_keys.valid), (1, 1));
        assert_eq!(
            kinds(&report),
            [
                RotationProblemKind::OldThresholdNotMet,
                RotationProblemKind::NewThresholdNotMet
            ]
        );
    }

    #[test]
    fn the_version_must_rise() {
        for version in [0, 1] {
            let mut r = new_root();
            r.version = version;
            let report = rotate(&signed(&r, &[1, 2, 4]));
            assert_eq!(kinds(&report), [RotationProblemKind::VersionNotHigher]);
        }
        let mut skip = new_root();
        skip.version = 9;
        assert!(rotate(&signed(&skip, &[1, 2, 4])).ok, "gaps are allowed");
    }

    #[test]
    fn an_expired_new_root_is_refused_unless_a_later_root_replaces_it() {
        let mut r = new_root();
        r.expires = "2026-05-31T23:59:59Z".to_owned();
        let new = signed(&r, &[1, 2, 4]);
        let report = rotate(&new);
        assert_eq!(kinds(&report), [RotationProblemKind::NewRootExpired]);
        // Counted at now, its keys' threshold report also says the root expired.
        assert!(report.new_keys.has_problem(ProblemKind::RootExpired));
        let report = check_rotation(&old(), &new, NOW, NewRootExpiry::Allow).unwrap();
        assert!(report.ok);
        assert_eq!(report.new_keys_at.as_deref(), Some("2026-05-31T23:59:59Z"));
    }

    #[test]
    fn an_old_root_not_signed_by_its_own_threshold_is_refused() {
        let unsigned_old = signed(&root(1, &[("a", 1), ("b", 2), ("c", 3)]), &[1]);
        let report = check_rotation(
            &unsigned_old,
            &signed(&new_root(), &[1, 2, 4]),
            NOW,
            NewRootExpiry::Refuse,
        )
        .unwrap();
        assert_eq!(kinds(&report), [RotationProblemKind::OldRootInvalid]);
    }

    #[test]
    fn an_expired_old_root_counts_its_keys_as_of_its_last_instant() {
        // The old root and its keys ended on 2026-03-01; the new one is in force.
        let mut o = root(1, &[("a", 1), ("b", 2), ("c", 3)]);
        o.expires = "2026-03-01T00:00:00Z".to_owned();
        for k in &mut o.keys {
            k.not_after = "2026-03-01T00:00:00Z".to_owned();
        }
        let o = signed(&o, &[1, 2]);
        let mut n = new_root();
        n.keys[0].keyid = "a2".to_owned();
        let n = signed(&n, &[1, 2, 4]);
        let report = check_rotation(&o, &n, NOW, NewRootExpiry::Refuse).unwrap();
        assert!(report.ok, "{:?}", report.problems);
        assert_eq!(report.old_keys_at.as_deref(), Some("2026-03-01T00:00:00Z"));
        // One second later every old key had expired, so nothing would have counted.
        let late = parse_unix("2026-03-01T00:00:01Z").unwrap();
        let checked = check_trust_root(o.root()).unwrap();
        let at_now = checked
            .verify(n.envelope(), trust::PAYLOAD_TYPE, late)
            .unwrap();
        assert_eq!(at_now.valid, 0);
    }

    #[test]
    fn from_envelope_refuses_other_payload_types() {
        let payload = crate::jcs::to_canonical_vec(&new_root()).unwrap();
        let envelope = Envelope::new(crate::manifest::PAYLOAD_TYPE, &payload);
        let err = SignedRoot::from_envelope(envelope).unwrap_err();
        assert!(err.to_string().contains("not a trust root"), "{err}");
    }

    fn chain_kinds(report: &ChainReport) -> Vec<ChainProblemKind> {
        report.problems.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn a_chain_walks_to_its_last_root() {
        let r2 = signed(&new_root(), &[1, 2, 4]);
        let r3 = signed(&root(5, &[("d", 4), ("e", 5), ("f", 6)]), &[4, 5, 6]);
        let report = verify_chain(&[old(), r2.clone(), r3.clone()], NOW).unwrap();
        assert!(report.ok, "{:?}", report.problems);
        assert_eq!(report.steps.len(), 2);
        let trusted = report.trusted.as_ref().unwrap();
        assert_eq!(trusted.version, 5);
        assert_eq!(trusted.keys.len(), 3);

        // Only the pinned root: trusted as pinned when self-signed.
        let alone = verify_chain(&[old()], NOW).unwrap();
        assert!(alone.ok && alone.steps.is_empty());
        assert_eq!(alone.trusted.unwrap().version, 1);

        // Going back in version breaks the chain at that step and stops the walk.
        let back = signed(&root(1, &[("d", 4), ("e", 5)]), &[4, 5]);
        let report = verify_chain(&[old(), r2, back, r3], NOW).unwrap();
        assert_eq!(chain_kinds(&report), [ChainProblemKind::StepRefused]);
        assert_eq!(report.steps.len(), 2);
        assert_eq!(report.problems[0].step, Some(1));
        assert!(report.trusted.is_none());
        assert!(report.steps[1].has_problem(RotationProblemKind::VersionNotHigher));
    }

    #[test]
    fn a_chain_needs_a_self_signed_pinned_root_and_a_live_last_root() {
        let unsigned = signed(&root(1, &[("a", 1), ("b", 2)]), &[1]);
        let report = verify_chain(&[unsigned, old()], NOW).unwrap();
        assert_eq!(chain_kinds(&report), [ChainProblemKind::PinnedRootInvalid]);
        assert!(report.steps.is_empty());

        let r2 = signed(&new_root(), &[1, 2, 4]);
        let after = parse_unix("2026-12-31T00:00:01Z").unwrap();
        let report = verify_chain(&[old(), r2], after).unwrap();
        assert_eq!(chain_kinds(&report), [ChainProblemKind::RootExpired]);
        assert!(report.steps[0].ok, "the step itself was sound");
        assert!(verify_chain(&[], NOW).is_err());
    }

    #[test]
    fn reports_round_trip_through_their_readers() {
        let report = rotate(&signed(&new_root(), &[4]));
        let bytes = serde_json::to_vec(&report).unwrap();
        assert_eq!(RotationReport::from_json_slice(&bytes).unwrap(), report);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["problems"][0]["kind"], "old-threshold-not-met");
        assert_eq!(value["oldKeys"]["schema"], crate::threshold::SCHEMA);

        let chain = verify_chain(&[old(), signed(&new_root(), &[1, 2, 4])], NOW).unwrap();
        let bytes = serde_json::to_vec(&chain).unwrap();
        assert_eq!(ChainReport::from_json_slice(&bytes).unwrap(), chain);
    }
}
