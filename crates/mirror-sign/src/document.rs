//! Reading the documents `mirror-sign` signs and verifies: a manifest or trust root to wrap in
//! a new envelope, or an envelope to add a signature to, with the payload checked to be the
//! document its payloadType names.

use crate::error::SignError;
use offline_formats::envelope::Envelope;
use offline_formats::jcs;
use offline_formats::manifest::{self, BundleManifest};
use offline_formats::schema::Document as _;
use offline_formats::threshold::check_trust_root;
use offline_formats::trust::{self, TrustRoot};
use serde_json::Value;
use std::path::Path;

pub use tool_cli::MAX_DOCUMENT;

/// What was read on stdin (or from a file).
#[derive(Debug)]
pub enum Input {
    /// A manifest or trust root: its payloadType and canonical (JCS) bytes.
    Document {
        payload_type: &'static str,
        payload: Vec<u8>,
    },
    /// An envelope whose payload is a known document.
    Envelope(Envelope),
}

pub use tool_cli::display_name;

/// Reads a whole document from `path` (`-` is stdin), at most [`MAX_DOCUMENT`] bytes.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, SignError> {
    let name = display_name(path);
    tool_cli::read_document(path).map_err(|e| match e {
        tool_cli::DocumentReadError::Io(e) => SignError::io(&name, e),
        tool_cli::DocumentReadError::TooLarge => SignError::document(
            &name,
            format!(
                "larger than {} MiB: not a document mirror-sign reads",
                MAX_DOCUMENT >> 20
            ),
        ),
        tool_cli::DocumentReadError::Empty => SignError::document(
            &name,
            if path.as_os_str() == "-" {
                "empty input: pipe a manifest or envelope into stdin"
            } else {
                "empty file (a shell redirection `> FILE` empties FILE before the command reads it; write to another file or use -o)"
            },
        ),
    })
}

/// Reads a manifest, trust root or envelope.
pub fn read_input(path: &Path) -> Result<Input, SignError> {
    let name = display_name(path);
    let bytes = read_bytes(path)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| SignError::document(&name, format!("not JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(SignError::document(&name, "not a JSON object"));
    };
    if object.contains_key("payloadType") {
        let envelope =
            Envelope::from_json_slice(&bytes).map_err(|e| SignError::format(&name, e))?;
        check_envelope_payload(&name, &envelope)?;
        return Ok(Input::Envelope(envelope));
    }
    let Some(schema) = object.get("schema").and_then(Value::as_str) else {
        return Err(SignError::document(
            &name,
            "neither a document with a `schema` member nor an envelope with a `payloadType`",
        ));
    };
    let name_part = schema.rsplit_once('/').map_or(schema, |(n, _)| n);
    match name_part {
        "stellaops.bundle" => {
            let manifest =
                BundleManifest::from_json_value(value).map_err(|e| SignError::format(&name, e))?;
            let payload = manifest
                .to_canonical_json()
                .map_err(|e| SignError::format(&name, e))?;
            Ok(Input::Document {
                payload_type: manifest::PAYLOAD_TYPE,
                payload,
            })
        }
        "stellaops.trust" => {
            let root = TrustRoot::from_json_value(value).map_err(|e| SignError::format(&name, e))?;
            check_trust_root(&root).map_err(|e| SignError::format(&name, e))?;
            let payload = jcs::to_canonical_vec(&root).map_err(|e| SignError::format(&name, e))?;
            Ok(Input::Document {
                payload_type: trust::PAYLOAD_TYPE,
                payload,
            })
        }
        _ => Err(SignError::document(
            &name,
            format!(
                "schema `{schema}`: mirror-sign signs bundle manifests (`{}`) and trust roots (`{}`)",
                manifest::SCHEMA,
                trust::SCHEMA
            ),
        )),
    }
}

/// Reads an envelope (refusing a bare manifest) for `approve` and `combine`.
pub fn read_envelope(path: &Path, what: &str) -> Result<Envelope, SignError> {
    match read_input(path)? {
        Input::Envelope(envelope) => Ok(envelope),
        Input::Document { .. } => Err(SignError::document(
            display_name(path),
            format!("is a manifest, not an envelope; {what} needs an envelope (make one with `mirror-sign sign`)"),
        )),
    }
}

/// Checks that an envelope to be signed carries a payloadType this tool signs and that its
/// payload is a valid document of that type: an approver never signs bytes nobody can read.
fn check_envelope_payload(name: &Path, envelope: &Envelope) -> Result<(), SignError> {
    let payload = envelope
        .payload_bytes()
        .map_err(|e| SignError::format(name, e))?;
    match envelope.payload_type.as_str() {
        manifest::PAYLOAD_TYPE => {
            BundleManifest::from_json_slice(&payload)
                .map_err(|e| SignError::document(name, format!("envelope payload: {e}")))?;
        }
        trust::PAYLOAD_TYPE => {
            let root = TrustRoot::from_json_slice(&payload)
                .map_err(|e| SignError::document(name, format!("envelope payload: {e}")))?;
            check_trust_root(&root)
                .map_err(|e| SignError::document(name, format!("envelope payload: {e}")))?;
        }
        other => {
            return Err(SignError::document(
                name,
                format!(
                    "payloadType `{other}`: mirror-sign signs `{}` and `{}` envelopes",
                    manifest::PAYLOAD_TYPE,
                    trust::PAYLOAD_TYPE
                ),
            ))
        }
    }
    Ok(())
}

/// Reads a trust root envelope: its payloadType must be the trust type and its payload a valid
/// trust root.
pub fn read_trust_root(path: &Path) -> Result<(Envelope, TrustRoot), SignError> {
    let name = display_name(path);
    let bytes = read_bytes(path)?;
    trust::parse_signed_root(&bytes).map_err(|e| match e {
        trust::SignedRootError::Payload(e) => SignError::format(&name, e),
        other => SignError::document(&name, other.to_string()),
    })
}
