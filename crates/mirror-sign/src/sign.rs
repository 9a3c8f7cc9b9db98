//! Signing: a new envelope from a manifest, one more signature on an envelope, detached
//! approvals, and combining approvals into an envelope.

use crate::document::{display_name, read_envelope, Input};
use crate::error::SignError;
use ed25519_dalek::{Signer as _, SigningKey};
use offline_formats::approval::{payload_digest, Approval};
use offline_formats::envelope::{Envelope, Signature};
use offline_formats::schema::Document as _;
use offline_formats::threshold::{
    decode_signature, encode_signature, signature_verifies, FailureReason, MAX_SIGNATURES,
};
use std::path::Path;

/// What `sign` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Signed {
    /// A new envelope was made with this one signature.
    NewEnvelope,
    /// A signature was added to the envelope.
    Added,
    /// The key had already signed the envelope; nothing changed.
    AlreadySigned,
}

/// Signs `input` with `key`, labelling the signature `keyid`.
pub fn sign(input: Input, key: &SigningKey, keyid: &str) -> Result<(Envelope, Signed), SignError> {
    let (mut envelope, outcome) = match input {
        Input::Document {
            payload_type,
            payload,
        } => (Envelope::new(payload_type, &payload), Signed::NewEnvelope),
        Input::Envelope(envelope) => (envelope, Signed::Added),
    };
    let signed = envelope
        .signed_bytes()
        .map_err(|e| SignError::format("<stdin>", e))?;
    let verifying = key.verifying_key();
    if envelope
        .signatures
        .iter()
        .any(|s| signature_verifies(&verifying, &signed, &s.sig))
    {
        return Ok((envelope, Signed::AlreadySigned));
    }
    if envelope.signatures.len() >= MAX_SIGNATURES {
        return Err(SignError::document(
            "<stdin>",
            format!(
                "envelope already holds {MAX_SIGNATURES} signatures, the most a verifier reads"
            ),
        ));
    }
    envelope.signatures.push(Signature {
        keyid: keyid.to_owned(),
        sig: encode_signature(&key.sign(&signed)),
    });
    Ok((envelope, outcome))
}

/// A detached approval of `envelope`'s payload.
pub fn approve(envelope: &Envelope, key: &SigningKey, keyid: &str) -> Result<Approval, SignError> {
    let signed = envelope
        .signed_bytes()
        .map_err(|e| SignError::format("<stdin>", e))?;
    Approval::for_envelope(envelope, keyid, encode_signature(&key.sign(&signed)))
        .map_err(|e| SignError::format("<stdin>", e))
}

/// What `combine` did with one approval.
#[derive(Debug, PartialEq, Eq)]
pub enum Combined {
    /// Its signature was added.
    Added,
    /// The envelope already held the same signature.
    AlreadyPresent,
}

/// Adds the signature of each approval file to the envelope at `envelope_path`. Every approval
/// is checked before any is added: one made over another payload or payloadType refuses the
/// whole command, naming the file.
pub fn combine(
    envelope_path: &Path,
    approvals: &[impl AsRef<Path>],
) -> Result<(Envelope, Vec<Combined>), SignError> {
    let mut envelope = read_envelope(envelope_path, "combine")?;
    let digest = payload_digest(&envelope).map_err(|e| SignError::format(envelope_path, e))?;
    let mut read = Vec::with_capacity(approvals.len());
    for path in approvals {
        let path = path.as_ref();
        let name = display_name(path);
        let bytes = crate::document::read_bytes(path)?;
        let approval =
            Approval::from_json_slice(&bytes).map_err(|e| SignError::format(&name, e))?;
        if approval.payload_type != envelope.payload_type {
            return Err(SignError::document(
                &name,
                format!(
                    "approval is for payloadType `{}`, the envelope's is `{}`",
                    approval.payload_type, envelope.payload_type
                ),
            ));
        }
        if approval.payload_digest != digest {
            return Err(SignError::document(
                &name,
                format!(
                    "approval is over another payload ({}), not this envelope's ({digest})",
                    approval.payload_digest
                ),
            ));
        }
        if approval.keyid.is_empty() {
            return Err(SignError::document(&name, "approval has an empty keyid"));
        }
        if let Err(reason) = decode_signature(&approval.sig) {
            let what = match reason {
                FailureReason::BadLength => "is not 64 bytes",
                _ => "is not canonical standard base64",
            };
            return Err(SignError::document(
                &name,
                format!("approval signature {what}"),
            ));
        }
        read.push(approval);
    }
    let mut outcomes = Vec::with_capacity(read.len());
    for approval in read {
        if envelope.signatures.iter().any(|s| s.sig == approval.sig) {
            outcomes.push(Combined::AlreadyPresent);
            continue;
        }
        if envelope.signatures.len() >= MAX_SIGNATURES {
            return Err(SignError::document(
                display_name(envelope_path),
                format!("would hold more than {MAX_SIGNATURES} signatures"),
            ));
        }
        envelope.signatures.push(approval.signature());
        outcomes.push(Combined::Added);
    }
    Ok((envelope, outcomes))
}
