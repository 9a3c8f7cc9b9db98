//! Trust root (`stellaops.trust/v1`): the keys allowed to approve, and how many must.

use crate::schema::Document;
use serde::{Deserialize, Serialize};

/// Schema identifier written by this build.
pub const SCHEMA: &str = "stellaops.trust/v1";
/// DSSE payload type of a signed trust root.
pub const PAYLOAD_TYPE: &str = "application/vnd.stellaops.trust+json;version=1";

/// A trust root. It is itself carried in a DSSE envelope signed by a threshold of its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustRoot {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Rises with every rotation.
    pub version: u64,
    /// RFC 3339 UTC; the root is refused after this instant.
    pub expires: String,
    /// How many distinct public keys must verify.
    pub threshold: u32,
    /// The keys, with their owners and validity windows.
    pub keys: Vec<TrustKey>,
}

/// One key of a trust root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustKey {
    /// Label used in signatures' `keyid`.
    pub keyid: String,
    /// PEM SPKI of the Ed25519 public key.
    pub public_key: String,
    /// Person or role that holds the private key.
    pub owner: String,
    /// RFC 3339 UTC start of validity.
    pub not_before: String,
    /// RFC 3339 UTC end of validity.
    pub not_after: String,
    /// A revoked key never counts; keys are revoked, never deleted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub revoked: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Document for TrustRoot {
    const SCHEMA_NAME: &'static str = "stellaops.trust";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "trust root";
}

/// Why bytes are not a signed trust root.
#[derive(Debug, thiserror::Error)]
pub enum SignedRootError {
    /// Not a DSSE envelope at all.
    #[error("not a trust root envelope (sign the trust root with `mirror-sign sign`): {0}")]
    NotEnvelope(crate::FormatError),
    /// An envelope of another payload type.
    #[error("payloadType `{0}` is not a trust root (`{PAYLOAD_TYPE}`)")]
    WrongPayloadType(String),
    /// The payload is not a trust root of a version this build reads.
    #[error(transparent)]
    Payload(crate::FormatError),
}

/// Reads a signed trust root: a DSSE envelope whose payloadType is [`PAYLOAD_TYPE`] and whose
/// payload is a trust root of a version this build reads. The signatures are not checked here
/// (see [`crate::threshold::check_trust_root`]).
pub fn parse_signed_root(
    bytes: &[u8],
) -> Result<(crate::envelope::Envelope, TrustRoot), SignedRootError> {
    let envelope =
        crate::envelope::Envelope::from_json_slice(bytes).map_err(SignedRootError::NotEnvelope)?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(SignedRootError::WrongPayloadType(envelope.payload_type));
    }
    let payload = envelope.payload_bytes().map_err(SignedRootError::Payload)?;
    let root = TrustRoot::from_json_slice(&payload).map_err(SignedRootError::Payload)?;
    Ok((envelope, root))
}
