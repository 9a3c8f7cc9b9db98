//! The key rotation schedule of a trust root (`stellaops.key-status/v1`): each key's age, the
//! date it must be replaced by, and whether it is due. Key custody (REFERENCE): keys live at
//! most 12 months and are flagged 2 months before; keys are revoked, never deleted.

use crate::keys::{fingerprint, parse_public_key_pem};
use crate::schema::Document;
use crate::threshold::check_trust_root;
use crate::timestamp::{format_unix, parse_unix};
use crate::trust::TrustRoot;
use crate::FormatError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Schema identifier of the report written by this build.
pub const SCHEMA: &str = "stellaops.key-status/v1";

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Default longest life of a key: 12 months, counted as 365 days.
pub const DEFAULT_MAX_AGE: i64 = 365 * DAY;

/// Default warning window: 2 months, counted as 60 days.
pub const DEFAULT_WARN: i64 = 60 * DAY;

/// How long keys may live and how early to warn, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyPolicy {
    /// Longest a key may be in use, from its `notBefore`.
    pub max_age_seconds: i64,
    /// How long before a key (or the root) must be replaced to start warning.
    pub warn_seconds: i64,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            max_age_seconds: DEFAULT_MAX_AGE,
            warn_seconds: DEFAULT_WARN,
        }
    }
}

/// The schedule of every key of a trust root at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyStatusReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// True when the root is not expired and every key that is not revoked is `ok` or `warn`.
    pub ok: bool,
    /// The instant judged at, RFC 3339 UTC.
    pub at: String,
    /// The policy applied.
    pub policy: KeyPolicy,
    /// The trust root itself.
    pub root: RootSchedule,
    /// Every key of the root, in root order, revoked ones included.
    pub keys: Vec<KeySchedule>,
}

/// The trust root's own expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootSchedule {
    /// The root's `version`.
    pub version: u64,
    /// The root's `expires`.
    pub expires: String,
    /// Whole days until `expires` (negative once passed).
    pub days_left: i64,
    /// `ok`, `warn` (within the warning window) or `expired`.
    pub status: RootStatus,
}

/// The state of a trust root's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RootStatus {
    /// More than the warning window left.
    Ok,
    /// Within the warning window of `expires`: make and sign the next root.
    Warn,
    /// `expires` has passed: the root verifies nothing.
    Expired,
}

/// One key's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySchedule {
    /// The key's label in the root.
    pub keyid: String,
    /// Who holds it.
    pub owner: String,
    /// `sha256:<hex>` of the raw public key.
    pub fingerprint: String,
    /// Start of its window.
    pub not_before: String,
    /// End of its window.
    pub not_after: String,
    /// When it must be replaced: the earlier of `notAfter` and `notBefore` + the maximum age.
    pub replace_by: String,
    /// Whole days since `notBefore` (negative before it).
    pub age_days: i64,
    /// Whole days until `replaceBy` (negative once passed).
    pub days_left: i64,
    /// The verdict on this key.
    pub status: KeyStatus,
}

/// The verdict on one key, from the most to the least decisive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KeyStatus {
    /// In use, more than the warning window left.
    Ok,
    /// In use, but `replaceBy` is within the warning window: plan its replacement.
    Warn,
    /// Past its `notAfter`: its signatures no longer count.
    Expired,
    /// Revoked (under this or another keyid of the same public key): never counts; kept so
    /// that nobody adds it back.
    Revoked,
    /// Before its `notBefore`: its signatures do not count yet.
    NotYetValid,
    /// Older than the maximum age, though its window is still open: replace it now.
    TooOld,
}

impl KeyStatus {
    /// True for the states that keep a key schedule healthy (`ok`, `warn`), or that do not
    /// matter (`revoked`).
    pub fn is_acceptable(self) -> bool {
        matches!(self, KeyStatus::Ok | KeyStatus::Warn | KeyStatus::Revoked)
    }
}

impl Document for KeyStatusReport {
    const SCHEMA_NAME: &'static str = "stellaops.key-status";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "key status report";
}

/// Whole days from `from` to `to`, rounded towards the past (so "0 days left" means less
/// than one day, and a key one second past its `notAfter` has -1).
fn whole_days(from: i64, to: i64) -> i64 {
    to.saturating_sub(from).div_euclid(DAY)
}

/// The schedule of every key of `root` at `now` (seconds since the epoch) under `policy`.
/// Signatures are not looked at: this is about dates only.
pub fn key_status(
    root: &TrustRoot,
    now: i64,
    policy: KeyPolicy,
) -> Result<KeyStatusReport, FormatError> {
    let checked = check_trust_root(root)?;
    let expires = checked.expires_unix();
    let root_status = if checked.is_expired(now) {
        RootStatus::Expired
    } else if expires.saturating_sub(now) <= policy.warn_seconds {
        RootStatus::Warn
    } else {
        RootStatus::Ok
    };

    let mut parsed = Vec::with_capacity(root.keys.len());
    for key in &root.keys {
        // check_trust_root parsed every key and time already; the errors cannot happen.
        let fingerprint = fingerprint(&parse_public_key_pem(&key.public_key)?);
        parsed.push((
            fingerprint,
            parse_unix(&key.not_before)?,
            parse_unix(&key.not_after)?,
        ));
    }
    // A key revoked under any keyid is revoked under all, as the threshold counts it.
    let revoked: BTreeSet<&str> = root
        .keys
        .iter()
        .zip(&parsed)
        .filter(|(k, _)| k.revoked)
        .map(|(_, (fp, _, _))| fp.as_str())
        .collect();

    let mut keys = Vec::with_capacity(root.keys.len());
    for (key, (fingerprint, not_before, not_after)) in root.keys.iter().zip(&parsed) {
        let replace_by = (*not_after).min(not_before.saturating_add(policy.max_age_seconds));
        let age = now.saturating_sub(*not_before);
        let status = if revoked.contains(fingerprint.as_str()) {
            KeyStatus::Revoked
        } else if now < *not_before {
            KeyStatus::NotYetValid
        } else if now > *not_after {
            KeyStatus::Expired
        } else if age > policy.max_age_seconds {
            KeyStatus::TooOld
        } else if replace_by.saturating_sub(now) <= policy.warn_seconds {
            KeyStatus::Warn
        } else {
            KeyStatus::Ok
        };
        keys.push(KeySchedule {
            keyid: key.keyid.clone(),
            owner: key.owner.clone(),
            fingerprint: fingerprint.clone(),
            not_before: key.not_before.clone(),
            not_after: key.not_after.clone(),
            replace_by: format_unix(replace_by)?,
            age_days: whole_days(*not_before, now),
            days_left: whole_days(now, replace_by),
            status,
        });
    }
    let ok = root_status != RootStatus::Expired && keys.iter().all(|k| k.status.is_acceptable());
    Ok(KeyStatusReport {
        schema: SCHEMA.to_owned(),
        ok,
        at: format_unix(now)?,
        policy,
        root: RootSchedule {
            version: root.version,
            expires: root.expires.clone(),
            days_left: whole_days(now, expires),
            status: root_status,
        },
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::encode_public_key_pem;
    use crate::trust::{TrustKey, SCHEMA as TRUST_SCHEMA};
    use ed25519_dalek::SigningKey;

    /// 2026-06-01T00:00:00Z.
    const NOW: i64 = 1_780_272_000;

    fn key(keyid: &str, seed: u8, not_before: &str, not_after: &str) -> TrustKey {
        TrustKey {
            keyid: keyid.to_owned(),
            public_key: encode_public_key_pem(&SigningKey::from_bytes(&[seed; 32]).verifying_key()),
            owner: format!("{keyid}@example"),
            not_before: not_before.to_owned(),
            not_after: not_after.to_owned(),
            revoked: false,
        }
    }

    fn root(keys: Vec<TrustKey>) -> TrustRoot {
        TrustRoot {
            schema: TRUST_SCHEMA.to_owned(),
            version: 1,
            expires: "2026-12-31T00:00:00Z".to_owned(),
            threshold: 1,
            keys,
        }
    }

    fn statuses(report: &KeyStatusReport) -> Vec<KeyStatus> {
        report.keys.iter().map(|k| k.status).collect()
    }

    #[test]
    fn each_state_is_told_apart() {
        let mut revoked = key("revoked", 4, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
        revoked.revoked = true;
        let report = key_status(
            &root(vec![
                key("fresh", 1, "2026-05-01T00:00:00Z", "2027-05-01T00:00:00Z"),
                key("due", 2, "2025-08-01T00:00:00Z", "2026-07-15T00:00:00Z"),
                key("expired", 3, "2025-06-01T00:00:00Z", "2026-05-31T23:59:59Z"),
                revoked,
                key("early", 5, "2026-06-02T00:00:00Z", "2027-06-01T00:00:00Z"),
                key("old", 6, "2025-05-01T00:00:00Z", "2027-05-01T00:00:00Z"),
            ]),
            NOW,
            KeyPolicy::default(),
        )
        .unwrap();
        assert_eq!(
            statuses(&report),
            [
                KeyStatus::Ok,
                KeyStatus::Warn,
                KeyStatus::Expired,
                KeyStatus::Revoked,
                KeyStatus::NotYetValid,
                KeyStatus::TooOld,
            ]
        );
        assert!(!report.ok);
        assert_eq!(report.keys[0].age_days, 31);
        assert_eq!(report.keys[0].replace_by, "2027-05-01T00:00:00Z");
        assert_eq!(report.keys[0].days_left, 334);
        assert_eq!(report.keys[1].days_left, 44);
        // One second past notAfter is day -1, not day 0.
        assert_eq!(report.keys[2].days_left, -1);
        assert_eq!(report.keys[4].age_days, -1);
        // A window longer than the maximum age is cut short by it.
        assert_eq!(report.keys[5].replace_by, "2026-05-01T00:00:00Z");
        assert_eq!(report.root.status, RootStatus::Ok);
        assert_eq!(report.root.days_left, 213);
    }

    #[test]
    fn nearing_the_maximum_age_warns_even_with_a_long_window() {
        // 320 days old, window to 2028: within 60 days of the 365-day maximum.
        let report = key_status(
            &root(vec![key(
                "k",
                1,
                "2025-07-16T00:00:00Z",
                "2028-01-01T00:00:00Z",
            )]),
            NOW,
            KeyPolicy::default(),
        )
        .unwrap();
        assert_eq!(statuses(&report), [KeyStatus::Warn]);
        assert!(report.ok, "warn is still ok");
        assert_eq!(report.keys[0].replace_by, "2026-07-16T00:00:00Z");
    }

    #[test]
    fn revoked_keys_do_not_fail_the_schedule_and_revoke_every_keyid_of_their_key() {
        let mut old = key(
            "alice-old",
            1,
            "2024-01-01T00:00:00Z",
            "2024-06-01T00:00:00Z",
        );
        old.revoked = true;
        let report = key_status(
            &root(vec![
                old,
                key("alice", 1, "2026-05-01T00:00:00Z", "2027-05-01T00:00:00Z"),
                key("bob", 2, "2026-05-01T00:00:00Z", "2027-05-01T00:00:00Z"),
            ]),
            NOW,
            KeyPolicy::default(),
        )
        .unwrap();
        assert_eq!(
            statuses(&report),
            [KeyStatus::Revoked, KeyStatus::Revoked, KeyStatus::Ok]
        );
        assert!(report.ok);
    }

    #[test]
    fn an_expired_or_nearly_expired_root_is_flagged() {
        let keys = vec![key("k", 1, "2026-05-01T00:00:00Z", "2027-05-01T00:00:00Z")];
        let mut r = root(keys);
        r.expires = "2026-07-01T00:00:00Z".to_owned();
        let report = key_status(&r, NOW, KeyPolicy::default()).unwrap();
        assert_eq!(report.root.status, RootStatus::Warn);
        assert!(report.ok);
        r.expires = "2026-05-31T00:00:00Z".to_owned();
        let report = key_status(&r, NOW, KeyPolicy::default()).unwrap();
        assert_eq!(report.root.status, RootStatus::Expired);
        assert_eq!(report.root.days_left, -1);
        assert!(!report.ok);
    }

    #[test]
    fn report_round_trips_through_its_reader() {
        let report = key_status(
            &root(vec![key(
                "k",
                1,
                "2026-05-01T00:00:00Z",
                "2027-05-01T00:00:00Z",
            )]),
            NOW,
            KeyPolicy::default(),
        )
        .unwrap();
        let bytes = serde_json::to_vec(&report).unwrap();
        assert_eq!(KeyStatusReport::from_json_slice(&bytes).unwrap(), report);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["keys"][0]["status"], "ok");
        assert_eq!(value["policy"]["maxAgeSeconds"], 365 * 86_400);
    }
}
