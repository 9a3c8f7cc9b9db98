//! `keys status`: the key rotation schedule of a trust root, as JSON for CI and as warnings for
//! people, with the shared rules (`offline_formats::key_status`).

use crate::cli::{KeysCommand, KeysStatusArgs};
use crate::document::{display_name, read_bytes};
use crate::error::SignError;
use offline_formats::envelope::Envelope;
use offline_formats::jcs;
use offline_formats::key_status::{key_status, KeyPolicy, KeyStatus, KeyStatusReport, RootStatus};
use offline_formats::rotation::SignedRoot;
use offline_formats::schema::Document as _;
use offline_formats::trust::TrustRoot;
use serde_json::Value;
use std::io::Write;

pub use offline_formats::key_status::DAY;

/// Longest duration accepted (100 years): anything longer is a typo.
const MAX_DURATION: i64 = 100 * 365 * DAY;

/// Parses a duration: a whole number and a unit, `h` (hours), `d` (days), `w` (weeks), `mo`
/// (30-day months) or `y` (365-day years): `365d`, `12mo`, `48h`. Returns seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let unit_seconds = match unit {
        "h" => 3_600,
        "d" => DAY,
        "w" => 7 * DAY,
        "mo" => 30 * DAY,
        "y" => 365 * DAY,
        _ => {
            return Err(format!(
                "`{text}`: expected a whole number and a unit h, d, w, mo (30 days) or y (365 days), e.g. 365d, 12mo, 48h"
            ))
        }
    };
    let seconds = number
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_seconds))
        .filter(|s| (0..=MAX_DURATION).contains(s))
        .ok_or_else(|| format!("`{text}`: expected a whole number of {unit} up to 100 years"))?;
    Ok(seconds)
}

/// Runs a `keys` subcommand; returns its exit code.
pub fn run(
    command: &KeysCommand,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, SignError> {
    match command {
        KeysCommand::Status(args) => {
            let report = status(args)?;
            let bytes =
                jcs::to_pretty_vec(&report).map_err(|e| SignError::Internal(e.to_string()))?;
            let _ = stdout.write_all(&bytes).and_then(|()| stdout.flush());
            for line in messages(&report) {
                let _ = writeln!(stderr, "mirror-sign: {}", crate::sanitize(&line));
            }
            Ok(if report.ok { 0 } else { 1 })
        }
    }
}

/// `mirror-sign keys status`: the schedule of the root at `--trust`.
pub fn status(args: &KeysStatusArgs) -> Result<KeyStatusReport, SignError> {
    let now = crate::verify::now(args.now.as_deref())?;
    if args.max_age == 0 {
        return Err(SignError::Usage("--max-age must be longer than 0".into()));
    }
    let root = read_root(&args.trust)?;
    let policy = KeyPolicy {
        max_age_seconds: args.max_age,
        warn_seconds: args.warn,
    };
    key_status(&root, now, policy).map_err(|e| SignError::format(display_name(&args.trust), e))
}

/// Reads a trust root: a signed envelope, or the bare document `trust init` prints (so a draft
/// can be checked before anyone signs it). Signatures are not checked: this is about dates.
fn read_root(path: &std::path::Path) -> Result<TrustRoot, SignError> {
    let name = display_name(path);
    let bytes = read_bytes(path)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| SignError::document(&name, format!("not JSON: {e}")))?;
    if value.get("payloadType").is_some() {
        let envelope =
            Envelope::from_json_slice(&bytes).map_err(|e| SignError::format(&name, e))?;
        let signed =
            SignedRoot::from_envelope(envelope).map_err(|e| SignError::format(&name, e))?;
        Ok(signed.root().clone())
    } else {
        TrustRoot::from_json_value(value).map_err(|e| SignError::format(&name, e))
    }
}

/// One line for people per key or root that needs attention (`warning: …` or `error: …`).
pub fn messages(report: &KeyStatusReport) -> Vec<String> {
    let mut lines = Vec::new();
    let max_days = report.policy.max_age_seconds / DAY;
    for key in &report.keys {
        let who = format!("key `{}` ({})", key.keyid, key.owner);
        let line = match key.status {
            KeyStatus::Ok | KeyStatus::Revoked => continue,
            KeyStatus::Warn => format!(
                "warning: {who} must be replaced within {} day(s), by {}: make its successor and rotate the root",
                key.days_left.max(0),
                key.replace_by
            ),
            KeyStatus::Expired => format!(
                "error: {who} expired at {}: its signatures no longer count; revoke it and add its successor",
                key.not_after
            ),
            KeyStatus::TooOld => format!(
                "error: {who} is {} days old, more than the {max_days}-day maximum: replace it",
                key.age_days
            ),
            KeyStatus::NotYetValid => format!(
                "error: {who} is not valid before {}: its signatures do not count yet",
                key.not_before
            ),
            _ => format!("error: {who}: status {:?}", key.status),
        };
        lines.push(line);
    }
    match report.root.status {
        RootStatus::Ok => {}
        RootStatus::Warn => lines.push(format!(
            "warning: trust root version {} expires in {} day(s), at {}: make and sign the next root",
            report.root.version,
            report.root.days_left.max(0),
            report.root.expires
        )),
        RootStatus::Expired => lines.push(format!(
            "error: trust root version {} expired at {}: it verifies nothing",
            report.root.version, report.root.expires
        )),
        _ => {}
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_documented_units() {
        assert_eq!(parse_duration("365d"), Ok(365 * DAY));
        assert_eq!(parse_duration("12mo"), Ok(360 * DAY));
        assert_eq!(parse_duration("2mo"), Ok(60 * DAY));
        assert_eq!(parse_duration("48h"), Ok(2 * DAY));
        assert_eq!(parse_duration("2w"), Ok(14 * DAY));
        assert_eq!(parse_duration("1y"), Ok(365 * DAY));
        assert_eq!(parse_duration("0d"), Ok(0));
        for bad in [
            "",
            "d",
            "12",
            "12m",
            "-1d",
            "1.5d",
            " 1d",
            "1d ",
            "101y",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
