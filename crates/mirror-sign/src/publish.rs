//! The commands that publish what a sealed site checks with its own tools (`sums` for
//! signify and sha256sum, `attest` for in-toto verifiers), and the audit-log plumbing every
//! approving command shares.

use crate::audit::{self, AuditEntryInput};
use crate::cli::{AttestArgs, AuditOptions, SumsArgs};
use crate::error::SignError;
use crate::{attest, keys, signify};
use offline_formats::digest::{sha256, sha256_prefixed};
use offline_formats::envelope::Envelope;
use offline_formats::manifest::BundleManifest;
use offline_formats::schema::Document;
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What `mirror-sign sums` wrote.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SumsOutput {
    /// The BSD-tag checksum list.
    pub sums: PathBuf,
    /// The same list with its embedded signify signature.
    pub signature: PathBuf,
    /// Lines in the list (the archive, when named, and every file).
    pub entries: usize,
    /// signify key number of the signing key, hex.
    pub key_number: String,
}

/// Reads a bundle manifest from stdin.
pub fn read_manifest_stdin() -> Result<BundleManifest, SignError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| SignError::io("<stdin>", e))?;
    BundleManifest::from_json_slice(&bytes).map_err(|source| SignError::Format {
        path: PathBuf::from("<stdin>"),
        source,
    })
}

/// `mirror-sign sums`: SHA256SUMS and its signify signature from a manifest.
pub fn sums(args: &SumsArgs, manifest: &BundleManifest) -> Result<SumsOutput, SignError> {
    let key = keys::load_signing_key(&args.sign.key, &args.sign.passphrase)?;
    let keyid = crate::key_id(args.sign.key_id.as_deref(), &args.sign.key)?;
    let text = signify::sums_text(manifest)?;
    let signed =
        signify::sign_embedded(&key, text.as_bytes(), &format!("verify with {keyid}.pub"))?;
    let key_number = hex::encode(signify::key_number(&key.verifying_key()));
    drop(key);
    if !args.out.is_dir() {
        return Err(SignError::Usage(format!(
            "`{}`: folder does not exist (--out)",
            args.out.display()
        )));
    }
    let sums_path = args.out.join("SHA256SUMS");
    let sig_path = args.out.join("SHA256SUMS.sig");
    let digest = attest::manifest_digest(manifest)?;
    record(&args.sign.audit, "sums", &digest, Some(&keyid), "signed")?;
    crate::write_file_atomically(&sums_path, text.as_bytes())?;
    crate::write_file_atomically(&sig_path, &signed)?;
    Ok(SumsOutput {
        sums: sums_path,
        signature: sig_path,
        entries: text.lines().count(),
        key_number,
    })
}

/// `mirror-sign attest`: a signed in-toto Statement for the archive a manifest describes.
pub fn attest(args: &AttestArgs, manifest: &BundleManifest) -> Result<Envelope, SignError> {
    let keyid = crate::key_id(args.sign.key_id.as_deref(), &args.sign.key)?;
    let name = args
        .archive
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| SignError::Usage(format!("`{}`: not a file name", args.archive.display())))?
        .to_owned();
    let file = std::fs::File::open(&args.archive).map_err(|e| SignError::io(&args.archive, e))?;
    let (sha256_hex, size) =
        attest::archive_sha256(file).map_err(|e| SignError::io(&args.archive, e))?;
    attest::check_archive(manifest, &name, &sha256_hex, size)?;
    let digest = attest::manifest_digest(manifest)?;
    let statement = attest::statement(manifest, &digest, &name, &sha256_hex);
    let key = keys::load_signing_key(&args.sign.key, &args.sign.passphrase)?;
    let envelope = attest::attest(&key, &keyid, &statement)?;
    record(&args.sign.audit, "attest", &digest, Some(&keyid), "signed")?;
    Ok(envelope)
}

/// `sha256:<hex>` of an envelope's payload bytes, as the audit log records it.
pub fn payload_digest(envelope: &Envelope) -> Result<String, SignError> {
    let payload = envelope
        .payload_bytes()
        .map_err(|source| SignError::Format {
            path: PathBuf::from("<envelope>"),
            source,
        })?;
    Ok(sha256_prefixed(&sha256(&payload)))
}

/// Appends one line to the audit log when one was asked for (`--audit`/`MIRROR_SIGN_AUDIT`).
pub fn record(
    options: &AuditOptions,
    action: &str,
    payload_digest: &str,
    keyid: Option<&str>,
    result: &str,
) -> Result<(), SignError> {
    let Some(path) = options.audit.as_deref() else {
        return Ok(());
    };
    audit::append(
        path,
        AuditEntryInput {
            time: None,
            actor: options.actor.clone(),
            action: action.to_owned(),
            payload_digest: payload_digest.to_owned(),
            keyid: keyid.map(str::to_owned),
            result: result.to_owned(),
        },
    )?;
    Ok(())
}

/// Records a `verify` (or `status`) verdict in the audit log, when one was asked for.
pub fn record_verdict(
    options: &AuditOptions,
    report: &offline_formats::threshold::ThresholdReport,
) -> Result<(), SignError> {
    let result = if report.ok {
        "threshold-met"
    } else {
        "threshold-not-met"
    };
    record(
        options,
        audit::action::VERIFY,
        &report.payload_digest,
        None,
        result,
    )
}

/// The verdict of `mirror-sign audit verify`, as JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditVerdict {
    /// Always `stellaops.audit-verify/v1`.
    pub schema: &'static str,
    /// True when the chain is intact (and holds the checkpoint, when one was given).
    pub ok: bool,
    /// The log checked.
    pub file: PathBuf,
    /// Lines read, when the chain is intact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<u64>,
    /// `sha256:` of the last line: record it to detect later edits of the tail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// What is wrong, for people, when the chain is broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// `mirror-sign audit verify`: exit 0 intact, 1 tampered, 2 unreadable.
pub fn audit_verify(
    file: &Path,
    checkpoint: Option<&str>,
) -> Result<(AuditVerdict, u8), SignError> {
    let result = match checkpoint {
        Some(checkpoint) => audit::verify_with_checkpoint(file, checkpoint),
        None => audit::verify(file),
    };
    match result {
        Ok(summary) => Ok((
            AuditVerdict {
                schema: "stellaops.audit-verify/v1",
                ok: true,
                file: file.to_owned(),
                lines: Some(summary.lines),
                head: Some(summary.head),
                problem: None,
            },
            0,
        )),
        Err(
            e @ (audit::AuditError::Tampered { .. } | audit::AuditError::CheckpointNotFound { .. }),
        ) => Ok((
            AuditVerdict {
                schema: "stellaops.audit-verify/v1",
                ok: false,
                file: file.to_owned(),
                lines: None,
                head: None,
                problem: Some(e.to_string()),
            },
            1,
        )),
        Err(e) => Err(e.into()),
    }
}
