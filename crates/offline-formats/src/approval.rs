//! Detached approval (`stellaops.approval/v1`): one approver's signature over an envelope's
//! payload, made on their own machine and carried back to be combined into the envelope.

use crate::digest::{sha256, sha256_prefixed};
use crate::envelope::{Envelope, Signature};
use crate::schema::Document;
use crate::FormatError;
use serde::{Deserialize, Serialize};

/// Schema identifier written by this build.
pub const SCHEMA: &str = "stellaops.approval/v1";

/// A detached signature over `PAE(payloadType, payload)` of the envelope named by
/// `payloadDigest`. It carries no public key: the signature is only checked when the combined
/// envelope is verified against a trust root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Approval {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The envelope's payloadType (part of the signed bytes).
    pub payload_type: String,
    /// `sha256:<hex>` of the payload bytes the signature covers.
    pub payload_digest: String,
    /// Label of the signing key in the trust root.
    pub keyid: String,
    /// Standard base64 of the Ed25519 signature.
    pub sig: String,
}

impl Document for Approval {
    const SCHEMA_NAME: &'static str = "stellaops.approval";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "approval";
}

impl Approval {
    /// An approval of `envelope`'s payload with an already made signature.
    pub fn for_envelope(
        envelope: &Envelope,
        keyid: &str,
        sig: String,
    ) -> Result<Self, FormatError> {
        Ok(Self {
            schema: SCHEMA.to_owned(),
            payload_type: envelope.payload_type.clone(),
            payload_digest: payload_digest(envelope)?,
            keyid: keyid.to_owned(),
            sig,
        })
    }

    /// The envelope signature entry this approval becomes.
    pub fn signature(&self) -> Signature {
        Signature {
            keyid: self.keyid.clone(),
            sig: self.sig.clone(),
        }
    }
}

/// `sha256:<hex>` of an envelope's payload bytes.
pub fn payload_digest(envelope: &Envelope) -> Result<String, FormatError> {
    Ok(sha256_prefixed(&sha256(&envelope.payload_bytes()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_names_the_payload_and_round_trips() {
        let env = Envelope::new("application/x", b"{}");
        let approval = Approval::for_envelope(&env, "alice", "c2ln".to_owned()).unwrap();
        assert_eq!(
            approval.payload_digest,
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let bytes = serde_json::to_vec(&approval).unwrap();
        assert_eq!(Approval::from_json_slice(&bytes).unwrap(), approval);
        assert_eq!(approval.signature().keyid, "alice");
        let err = Approval::from_json_slice(
            br#"{"schema":"stellaops.approval/v1","payloadType":"a","payloadDigest":"b","keyid":"c","sig":"d","publicKey":"e"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("publicKey"), "{err}");
    }
}
