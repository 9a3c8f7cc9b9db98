//! Checks on the manifest itself, before any content is read: that it is well formed, that
//! its paths are safe, its Merkle root, and its age.

use crate::error::VerifyError;
use crate::manifest_source::LoadedManifest;
use crate::paths;
use crate::report::Findings;
use offline_formats::digest::{parse_hex32, sha256_prefixed};
use offline_formats::manifest::BundleManifest;
use offline_formats::verify_report::FailureKind;
use offline_formats::{merkle, timestamp};
use std::collections::HashSet;

/// Clock skew tolerated before a bundle counts as stale (REFERENCE: staleness ± 5 s).
pub const STALENESS_TOLERANCE: i64 = 5;

/// Refuses a manifest no producer writes — a digest that is not 64 lowercase hex digits, a
/// mode that is not four octal digits — so that later checks compare like with like.
pub fn validate(loaded: &LoadedManifest) -> Result<(), VerifyError> {
    let bad = |reason: String| VerifyError::document(&loaded.source, reason);
    for (i, file) in loaded.manifest.files.iter().enumerate() {
        let at = || format!("files[{i}] `{}`", paths::display(&file.path));
        parse_hex32(&file.sha256).map_err(|why| bad(format!("{}: sha256: {why}", at())))?;
        parse_hex32(&file.blake3).map_err(|why| bad(format!("{}: blake3: {why}", at())))?;
        if !valid_mode(&file.mode) {
            return Err(bad(format!(
                "{}: mode `{}` is not four octal digits",
                at(),
                file.mode
            )));
        }
    }
    if let Some(archive) = &loaded.manifest.archive {
        parse_hex32(&archive.sha256).map_err(|why| bad(format!("archive: sha256: {why}")))?;
        parse_hex32(&archive.blake3).map_err(|why| bad(format!("archive: blake3: {why}")))?;
    }
    Ok(())
}

fn valid_mode(mode: &str) -> bool {
    mode.len() == 4 && mode.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// Records every listed path that is unsafe (it could never be checked without reading or
/// writing outside the destination) or listed twice; returns, per file, whether it is safe
/// to check.
pub fn check_paths(manifest: &BundleManifest, findings: &mut Findings) -> Vec<bool> {
    let mut seen = HashSet::new();
    manifest
        .files
        .iter()
        .map(|file| {
            if let Err(why) = paths::check(file.path.as_bytes()) {
                findings.fail_because(
                    file.path.clone(),
                    FailureKind::UnsafeEntry,
                    &format!("the manifest lists an unsafe path: {why}"),
                );
                false
            } else if !seen.insert(file.path.as_str()) {
                findings.fail_because(
                    file.path.clone(),
                    FailureKind::UnsafeEntry,
                    "the manifest lists this path twice",
                );
                false
            } else {
                true
            }
        })
        .collect()
}

/// Recomputes the RFC 6962 Merkle root over the manifest's files and compares it with
/// `merkleRoot`.
pub fn check_merkle(loaded: &LoadedManifest, findings: &mut Findings) {
    let leaves: Vec<merkle::Hash> = loaded
        .manifest
        .files
        .iter()
        .map(|f| merkle::manifest_leaf(&f.path, &f.sha256, f.size))
        .collect();
    let computed = sha256_prefixed(&merkle::root(&leaves));
    let recorded = &loaded.manifest.merkle_root;
    if !offline_formats::digest::ct_eq(computed.as_bytes(), recorded.as_bytes()) {
        findings.fail(
            loaded.source.clone(),
            FailureKind::Merkle,
            Some(recorded.clone()),
            Some(computed),
        );
    }
}

/// With `--max-age`, the bundle's `createdAt` must be no older than `max_age` seconds at
/// `now` (with a few seconds' tolerance for clock skew).
pub fn check_staleness(
    loaded: &LoadedManifest,
    now: i64,
    max_age: Option<u64>,
    findings: &mut Findings,
) -> Result<(), VerifyError> {
    let Some(max_age) = max_age else {
        return Ok(());
    };
    let created = timestamp::parse_unix(&loaded.manifest.created_at)
        .map_err(|e| VerifyError::format(&loaded.source, e))?;
    let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
    let age = now.saturating_sub(created);
    if age > max_age.saturating_add(STALENESS_TOLERANCE) {
        let cutoff = timestamp::format_unix(now.saturating_sub(max_age))
            .unwrap_or_else(|_| "the cutoff".to_owned());
        findings.fail(
            loaded.source.clone(),
            FailureKind::Stale,
            Some(format!("createdAt at or after {cutoff}")),
            Some(format!(
                "createdAt {} ({} old)",
                loaded.manifest.created_at,
                human_duration(age)
            )),
        );
    }
    Ok(())
}

/// `3d 4h`, `72h`, `90s`: an age for people.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people() {
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(3600 * 80), "3d 8h");
        assert_eq!(human_duration(3600 * 5 + 60), "5h 1m");
        assert!(valid_mode("0644") && !valid_mode("644") && !valid_mode("0648"));
    }
}
