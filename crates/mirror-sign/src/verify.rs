//! `verify` and `status`: check the trust root against itself, then count the envelope's
//! signatures against it with the shared rules (`offline_formats::threshold`).

use crate::cli::VerifyArgs;
use crate::document::{display_name, read_bytes, read_trust_root};
use crate::error::SignError;
use offline_formats::envelope::Envelope;
use offline_formats::threshold::{check_trust_root, ProblemKind, ThresholdReport};
use offline_formats::{manifest, timestamp, trust};
use std::fmt::Write as _;

/// The payloadType `--payload-type` names: `mirror`, `trust` or a full media type.
pub fn expected_payload_type(arg: Option<&str>) -> String {
    match arg {
        None | Some("mirror") | Some("bundle") => manifest::PAYLOAD_TYPE.to_owned(),
        Some("trust") => trust::PAYLOAD_TYPE.to_owned(),
        Some(other) => other.to_owned(),
    }
}

/// `--now`, or the clock.
pub fn now(arg: Option<&str>) -> Result<i64, SignError> {
    match arg {
        Some(text) => {
            timestamp::parse_unix(text).map_err(|e| SignError::Usage(format!("--now: {e}")))
        }
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| SignError::Internal(format!("clock before 1970: {e}")))
            .and_then(|d| {
                i64::try_from(d.as_secs())
                    .map_err(|_| SignError::Internal("clock past the year 2^63".into()))
            }),
    }
}

/// The verdict on an envelope, and the size of the root it was judged against.
#[derive(Debug)]
pub struct Verdict {
    /// The report, with `root-not-self-signed` added when the trust root itself is not signed
    /// by a threshold of its own keys.
    pub report: ThresholdReport,
    /// How many distinct public keys the root lists (revoked or not).
    pub root_keys: usize,
}

/// Checks the trust root against itself, then counts the envelope's signatures against it.
pub fn verify(args: &VerifyArgs) -> Result<Verdict, SignError> {
    let now = now(args.now.as_deref())?;
    let root_name = display_name(&args.trust);
    let (root_envelope, root) = read_trust_root(&args.trust)?;
    let checked = check_trust_root(&root).map_err(|e| SignError::format(&root_name, e))?;
    let root_report = checked
        .verify(&root_envelope, trust::PAYLOAD_TYPE, now)
        .map_err(|e| SignError::format(&root_name, e))?;

    let name = display_name(&args.envelope);
    let bytes = read_bytes(&args.envelope)?;
    let envelope = Envelope::from_json_slice(&bytes).map_err(|e| SignError::format(&name, e))?;
    let expected = expected_payload_type(args.payload_type.as_deref());
    let mut report = checked
        .verify(&envelope, &expected, now)
        .map_err(|e| SignError::format(&name, e))?;
    // An expired root is already refused as such; its keys' windows usually ended with it, and
    // "not self-signed" would only repeat the same cause in less clear words.
    if root_report.valid < root_report.threshold && !checked.is_expired(now) {
        report.add_problem(
            ProblemKind::RootNotSelfSigned,
            format!(
                "trust root version {} is signed by {} of the {} of its own keys it requires",
                root.version, root_report.valid, root_report.threshold
            ),
        );
    }
    Ok(Verdict {
        report,
        root_keys: checked.distinct_keys().count(),
    })
}

/// Exit code of a verdict.
pub fn exit_code(report: &ThresholdReport) -> u8 {
    if report.ok {
        0
    } else {
        1
    }
}

/// The report for people.
pub fn render_status(report: &ThresholdReport, root_keys: usize) -> String {
    let clean = |s: &str| crate::sanitize(s);
    let mut out = String::new();
    let _ = writeln!(out, "payload:    {}", report.payload_digest);
    let _ = writeln!(out, "type:       {}", clean(&report.payload_type));
    let _ = writeln!(
        out,
        "trust root: version {}, expires {}",
        report.root.version, report.root.expires
    );
    let _ = writeln!(out, "signed by ({}):", report.signed_by.len());
    for s in &report.signed_by {
        let _ = writeln!(
            out,
            "  ok       {} ({}) {}",
            clean(&s.keyid),
            clean(&s.owner),
            s.fingerprint
        );
    }
    if !report.failed.is_empty() {
        let _ = writeln!(out, "not counted ({}):", report.failed.len());
        for f in &report.failed {
            let label = if f.keyid.is_empty() {
                "(no keyid)".to_owned()
            } else {
                clean(&f.keyid)
            };
            let _ = writeln!(
                out,
                "  FAILED   signature #{} {label}: {}{}",
                f.index,
                f.reason.describe(),
                f.fingerprint
                    .as_ref()
                    .map(|fp| format!(" ({fp})"))
                    .unwrap_or_default()
            );
        }
    }
    if !report.missing.is_empty() {
        let _ = writeln!(out, "missing ({}):", report.missing.len());
        for m in &report.missing {
            let _ = writeln!(
                out,
                "  missing  {} ({}) {}",
                clean(&m.keyid),
                clean(&m.owner),
                m.fingerprint
            );
        }
    }
    for p in &report.problems {
        if p.kind != ProblemKind::ThresholdNotMet {
            let _ = writeln!(out, "problem:    {}", clean(&p.message));
        }
    }
    let _ = writeln!(
        out,
        "{} of {} required, {} signed: {}",
        report.threshold,
        root_keys,
        report.valid,
        if report.ok { "OK" } else { "FAILED" }
    );
    out
}
