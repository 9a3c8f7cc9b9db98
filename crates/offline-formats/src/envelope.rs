//! DSSE v1 envelopes (`{payloadType, payload, signatures[{keyid, sig}]}`) and the
//! pre-authentication encoding (PAE) that signatures are made over.

use crate::FormatError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A DSSE envelope. `payload` and `sig` are standard base64, as the DSSE spec writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    /// Media type of the payload, e.g. [`crate::manifest::PAYLOAD_TYPE`].
    pub payload_type: String,
    /// Base64 of the payload bytes (RFC 8785 canonical JSON for our documents).
    pub payload: String,
    /// Signatures, in the order they were added.
    #[serde(default)]
    pub signatures: Vec<Signature>,
}

/// One signature of an envelope. `keyid` is only a label: the key that counts is the one
/// the verifier finds in its trust root and that actually verifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Label of the key in the trust root.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// Base64 of the signature bytes.
    pub sig: String,
}

impl Envelope {
    /// Wraps payload bytes in an unsigned envelope.
    pub fn new(payload_type: &str, payload: &[u8]) -> Self {
        Self {
            payload_type: payload_type.to_owned(),
            payload: STANDARD.encode(payload),
            signatures: Vec::new(),
        }
    }

    /// Decodes the payload bytes.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, FormatError> {
        STANDARD
            .decode(&self.payload)
            .map_err(|_| FormatError::InvalidBase64 { field: "payload" })
    }

    /// The bytes a signature covers: `PAE(payloadType, payload)`.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, FormatError> {
        Ok(pae(&self.payload_type, &self.payload_bytes()?))
    }

    /// Parses an envelope, rejecting unknown members.
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self, FormatError> {
        serde_json::from_slice(bytes).map_err(|source| FormatError::Json {
            document: "DSSE envelope",
            source,
        })
    }
}

/// DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + body.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // From the DSSE protocol document: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn payload_round_trips() {
        let env = Envelope::new("application/x", b"{\"a\":1}");
        assert_eq!(env.payload_bytes().unwrap(), b"{\"a\":1}");
    }

    #[test]
    fn unknown_members_are_rejected() {
        let err = Envelope::from_json_slice(
            br#"{"payloadType":"x","payload":"","signatures":[],"extra":1}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("extra"), "{err}");
    }
}
