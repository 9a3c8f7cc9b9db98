//! Where the manifest comes from: a plain file (`--manifest FILE|-`), or a DSSE envelope
//! (`--envelope FILE`) whose signatures must meet the threshold of a trust root (`--trust
//! ROOT`). Signatures are counted by `offline_formats::threshold`, the code `mirror-sign
//! verify` runs, so both tools always agree on whether an envelope is approved.

use crate::error::VerifyError;
use crate::report::Findings;
use offline_formats::digest::{sha256, sha256_prefixed};
use offline_formats::envelope::Envelope;
use offline_formats::manifest::{self, BundleManifest};
use offline_formats::schema::Document as _;
use offline_formats::threshold::{check_trust_root, ProblemKind, ThresholdReport};
use offline_formats::trust::{self, TrustRoot};
use offline_formats::verify_report::FailureKind;
use std::path::{Path, PathBuf};

pub use tool_cli::MAX_DOCUMENT;

/// The options that say where the manifest comes from; `stage` flattens the same struct.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ManifestArgs {
    /// The bundle manifest (with its `archive` member, as bundle-pack prints it); `-` reads stdin.
    #[arg(short, long, value_name = "FILE|-", conflicts_with = "envelope")]
    pub manifest: Option<PathBuf>,

    /// A signed manifest: the DSSE envelope made by `mirror-sign sign` (needs --trust).
    #[arg(long, value_name = "FILE", requires = "trust")]
    pub envelope: Option<PathBuf>,

    /// The trust root envelope the envelope's signatures are counted against.
    #[arg(long, value_name = "ROOT", requires = "envelope")]
    pub trust: Option<PathBuf>,

    /// The payloadType the envelope must carry: `mirror` (bundle manifests), `trust`, or a full media type [default: mirror]
    #[arg(long, value_name = "TYPE")]
    pub payload_type: Option<String>,
}

/// A manifest ready to check against, and how it was obtained.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    /// The manifest.
    pub manifest: BundleManifest,
    /// `sha256:<hex>` of its RFC 8785 canonical bytes.
    pub digest: String,
    /// How the manifest file is named in failures (`<stdin>` for `-`).
    pub source: String,
    /// The signature verdict, when it came from an envelope.
    pub signature: Option<ThresholdReport>,
}

/// The payloadType `--payload-type` names: `mirror` (or `bundle`), `trust`, or a full type.
pub fn expected_payload_type(arg: Option<&str>) -> String {
    match arg {
        None | Some("mirror") | Some("bundle") => manifest::PAYLOAD_TYPE.to_owned(),
        Some("trust") => trust::PAYLOAD_TYPE.to_owned(),
        Some(other) => other.to_owned(),
    }
}

/// Reads the manifest the arguments name, recording signature failures in `findings`.
/// Returns an error when there is no usable manifest at all (no option given, a file that is
/// missing or not a manifest, an unknown schema version, a trust root that breaks its rules).
pub fn load(
    args: &ManifestArgs,
    now: i64,
    findings: &mut Findings,
) -> Result<LoadedManifest, VerifyError> {
    match (&args.manifest, &args.envelope, &args.trust) {
        (Some(path), None, None) => load_plain(path),
        (None, Some(envelope), Some(root)) => {
            load_signed(envelope, root, args.payload_type.as_deref(), now, findings)
        }
        (None, Some(_), None) => Err(VerifyError::Usage(
            "--envelope needs --trust ROOT: signatures mean nothing without the keys they must come from".into(),
        )),
        (None, None, Some(_)) => Err(VerifyError::Usage(
            "--trust needs --envelope FILE (a plain --manifest carries no signature)".into(),
        )),
        (Some(_), Some(_), _) => Err(VerifyError::Usage(
            "give either --manifest or --envelope, not both".into(),
        )),
        (Some(_), None, Some(_)) => Err(VerifyError::Usage(
            "--trust checks an --envelope; a plain --manifest carries no signature".into(),
        )),
        (None, None, None) => Err(VerifyError::Usage(
            "no manifest: give --manifest FILE, or --envelope FILE --trust ROOT".into(),
        )),
    }
}

fn load_plain(path: &Path) -> Result<LoadedManifest, VerifyError> {
    let name = display_name(path);
    let bytes = read_document(path)?;
    let manifest = BundleManifest::from_json_slice(&bytes).map_err(|e| {
        // Only on the error path: say so when it is an envelope given as a manifest.
        let looks_like_envelope = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .is_some_and(|v| v.get("payloadType").is_some());
        if looks_like_envelope {
            VerifyError::document(
                &name,
                "is a DSSE envelope, not a manifest: give it as --envelope FILE with --trust ROOT",
            )
        } else {
            VerifyError::format(&name, e)
        }
    })?;
    finish(manifest, &name, None)
}

fn load_signed(
    envelope_path: &Path,
    root_path: &Path,
    payload_type: Option<&str>,
    now: i64,
    findings: &mut Findings,
) -> Result<LoadedManifest, VerifyError> {
    let root_name = display_name(root_path);
    let (root_envelope, root) = read_trust_root(root_path)?;
    let checked = check_trust_root(&root).map_err(|e| VerifyError::format(&root_name, e))?;
    let root_report = checked
        .verify(&root_envelope, trust::PAYLOAD_TYPE, now)
        .map_err(|e| VerifyError::format(&root_name, e))?;

    let name = display_name(envelope_path);
    let bytes = read_document(envelope_path)?;
    let envelope = Envelope::from_json_slice(&bytes).map_err(|e| VerifyError::format(&name, e))?;
    let expected = expected_payload_type(payload_type);
    let report = checked
        .verify(&envelope, &expected, now)
        .map_err(|e| VerifyError::format(&name, e))?;
    let payload = envelope
        .payload_bytes()
        .map_err(|e| VerifyError::format(&name, e))?;
    let manifest = BundleManifest::from_json_slice(&payload).map_err(|e| {
        VerifyError::document(
            &name,
            format!("envelope payload is not a bundle manifest: {e}"),
        )
    })?;

    let envelope_label = name.display().to_string();
    let root_label = root_name.display().to_string();
    for problem in &report.problems {
        match problem.kind {
            ProblemKind::ThresholdNotMet => findings.fail(
                envelope_label.clone(),
                FailureKind::Signature,
                Some(format!("{} distinct keys", report.threshold)),
                Some(format!("{} distinct keys", report.valid)),
            ),
            ProblemKind::WrongPayloadType => findings.fail(
                envelope_label.clone(),
                FailureKind::Signature,
                Some(format!("payloadType {expected}")),
                Some(format!("payloadType {}", envelope.payload_type)),
            ),
            ProblemKind::RootExpired => findings.fail(
                root_label.clone(),
                FailureKind::Stale,
                Some(format!(
                    "trust root in force at {}",
                    offline_formats::timestamp::format_unix(now)
                        .unwrap_or_else(|_| now.to_string())
                )),
                Some(format!("expired at {}", root.expires)),
            ),
            _ => findings.fail_because(
                envelope_label.clone(),
                FailureKind::Signature,
                &problem.message,
            ),
        }
    }
    // An expired root is already refused as such; its keys' windows usually ended with it, and
    // "not self-signed" would only repeat the same cause in other words (as mirror-sign does).
    if root_report.valid < root_report.threshold && !checked.is_expired(now) {
        findings.fail(
            root_label,
            FailureKind::Signature,
            Some(format!(
                "trust root signed by {} of its own keys",
                root_report.threshold
            )),
            Some(format!("signed by {}", root_report.valid)),
        );
    }
    finish(manifest, &name, Some(report))
}

fn finish(
    manifest: BundleManifest,
    name: &Path,
    signature: Option<ThresholdReport>,
) -> Result<LoadedManifest, VerifyError> {
    let canonical = manifest
        .to_canonical_json()
        .map_err(|e| VerifyError::format(name, e))?;
    Ok(LoadedManifest {
        digest: sha256_prefixed(&sha256(&canonical)),
        manifest,
        source: name.display().to_string(),
        signature,
    })
}

pub use tool_cli::display_name;

/// Reads a whole document from `path` (`-` is stdin), at most [`MAX_DOCUMENT`] bytes.
pub fn read_document(path: &Path) -> Result<Vec<u8>, VerifyError> {
    let name = display_name(path);
    tool_cli::read_document(path).map_err(|e| match e {
        tool_cli::DocumentReadError::Io(e) => VerifyError::io(&name, e),
        tool_cli::DocumentReadError::TooLarge => VerifyError::document(
            &name,
            format!(
                "larger than {} MiB: not a document this tool reads",
                MAX_DOCUMENT >> 20
            ),
        ),
        tool_cli::DocumentReadError::Empty => VerifyError::document(&name, "empty"),
    })
}

/// Reads a trust root envelope: its payloadType must be the trust type and its payload a
/// trust root of a version this build reads.
fn read_trust_root(path: &Path) -> Result<(Envelope, TrustRoot), VerifyError> {
    let name = display_name(path);
    let bytes = read_document(path)?;
    trust::parse_signed_root(&bytes).map_err(|e| match e {
        trust::SignedRootError::Payload(e) => VerifyError::format(&name, e),
        other => VerifyError::document(&name, other.to_string()),
    })
}
